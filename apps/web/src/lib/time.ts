import { i18n } from '../i18n';

/** The zone the viewer reads times in: their own preference once known, the browser's until then. */
let viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function setViewerZone(zone: string | undefined | null): void {
  if (zone) viewerZone = zone;
}

export function getViewerZone(): string {
  return viewerZone;
}

const locale = () => (i18n.language === 'en' ? 'en-GB' : 'zh-CN');

function format(value: string | number | Date | null | undefined, options: Intl.DateTimeFormatOptions): string {
  if (value === null || value === undefined || value === '') return '—';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), { timeZone: viewerZone, ...options }).format(date);
}

export const formatDateTime = (v: string | number | Date | null | undefined) =>
  format(v, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
/** The same instant as wall-clock time in another zone (an SOP's), whatever the viewer's. */
export const formatDateTimeIn = (v: string | number | Date | null | undefined, timeZone: string) =>
  format(v, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false, timeZone });
export const formatDate = (v: string | number | Date | null | undefined) => format(v, { year: 'numeric', month: '2-digit', day: '2-digit' });
export const formatTime = (v: string | number | Date | null | undefined) => format(v, { hour: '2-digit', minute: '2-digit', hour12: false });

/** "in 25 min", "3 h ago": for due hints. */
export function formatRelative(value: string | number | Date, now = Date.now()): string {
  const ms = new Date(value).getTime() - now;
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const abs = Math.abs(ms);
  if (abs < 3_600_000) return rtf.format(Math.round(ms / 60_000), 'minute');
  if (abs < 86_400_000) return rtf.format(Math.round(ms / 3_600_000), 'hour');
  return rtf.format(Math.round(ms / 86_400_000), 'day');
}

import type { TFunction } from 'i18next';
import { formatDate, formatTime, getViewerZone } from '../../lib/time';
import type { Task } from './inbox-data';

export type Urgency = 'warn' | 'soon' | 'calm';

const dayKey = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: getViewerZone() }).format(d);

/** "10:30", "tomorrow 10:30" or "2026-12-06 10:30", in the viewer's zone. */
export function when(value: string | Date, t: TFunction): string {
  const d = new Date(value);
  const now = new Date();
  if (dayKey(d) === dayKey(now)) return formatTime(d);
  if (dayKey(d) === dayKey(new Date(now.getTime() + 86_400_000))) return `${t('common:tomorrow')} ${formatTime(d)}`;
  return `${formatDate(d)} ${formatTime(d)}`;
}

function span(ms: number, t: TFunction): string {
  const min = Math.max(1, Math.round(Math.abs(ms) / 60_000));
  if (min < 60) return t('due.minutes', { n: min });
  if (min < 48 * 60) return min % 60 ? t('due.hoursMinutes', { h: Math.floor(min / 60), m: min % 60 }) : t('due.hours', { h: min / 60 });
  return t('due.days', { n: Math.round(min / 1440) });
}

/** What a person needs to know about a task's time, and how urgent it is. */
export function dueHint(task: Task, t: TFunction, now = Date.now()): { text: string; urgency: Urgency } {
  if (task.status !== 'pending') {
    const at = task.finishedAt ? t('due.finishedAt', { t: when(task.finishedAt, t) }) : '';
    const timing = task.onTime === true ? ` · ${t('due.onTime')}` : task.onTime === false ? ` · ${t('due.late')}` : '';
    return { text: `${at}${timing}`, urgency: task.onTime === false ? 'warn' : 'calm' };
  }
  const from = Date.parse(task.dueAt);
  const until = Date.parse(task.dueUntil);
  if (until < now) return { text: t('due.overdueBy', { d: span(now - until, t) }), urgency: 'warn' };
  if (task.snoozedUntil && Date.parse(task.snoozedUntil) > now) return { text: t('due.snoozedUntil', { t: when(task.snoozedUntil, t) }), urgency: 'calm' };
  if (from > now) return { text: from - now < 6 * 3_600_000 ? t('due.opensIn', { d: span(from - now, t) }) : t('due.startsAt', { t: when(task.dueAt, t) }), urgency: 'calm' };
  return { text: t('due.closesIn', { d: span(until - now, t) }), urgency: until - now <= 3_600_000 ? 'soon' : 'calm' };
}

/** "10:00 – 12:00", with days when the window spans them. */
export function windowText(task: Task, t: TFunction): string {
  const from = new Date(task.dueAt);
  const until = new Date(task.dueUntil);
  return dayKey(from) === dayKey(until) ? `${when(from, t)} – ${formatTime(until)}` : `${when(from, t)} – ${when(until, t)}`;
}

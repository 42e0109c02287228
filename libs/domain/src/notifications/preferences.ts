import { IANAZone } from 'luxon';
import { z } from 'zod';
import { AppError, type ErrorDetail } from '../errors';

export const NOTIFICATION_KINDS = ['digest', 'due_soon', 'escalation', 'material_opened'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** in_app is always on; the others deliver to the user's email or to their registered robots of that kind. */
export const NOTIFY_CHANNELS = ['in_app', 'email', 'wecom', 'dingtalk', 'feishu', 'webhook'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];
export const TARGET_KINDS = ['wecom', 'dingtalk', 'feishu', 'webhook'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];
export const LOCALES = ['zh', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export interface NotificationPreferences {
  locale: Locale;
  timezone: string;
  channels: NotifyChannel[];
  digestTime: string;
  quietHours: { start: string; end: string } | null;
  dueSoonMinutes: number;
  kinds: Record<NotificationKind, boolean>;
}

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const time = z.string({ error: 'must be a time HH:MM' }).regex(HH_MM, 'must be a time HH:MM (00:00 to 23:59)');

const preferencesSchema = z.strictObject({
  locale: z.enum(LOCALES, { error: `must be one of ${LOCALES.join(', ')}` }),
  timezone: z.string({ error: 'must be an IANA time zone' }).refine((tz) => IANAZone.isValidZone(tz), 'must be an IANA time zone, e.g. Asia/Shanghai'),
  channels: z.array(z.enum(NOTIFY_CHANNELS, { error: `unknown channel: must be one of ${NOTIFY_CHANNELS.join(', ')}` })).max(NOTIFY_CHANNELS.length),
  digestTime: time,
  quietHours: z.strictObject({ start: time, end: time })
    .refine((q) => q.start !== q.end, 'start and end must differ (omit quietHours for none)').nullable(),
  dueSoonMinutes: z.number({ error: 'must be a number of minutes' }).int('must be whole minutes').min(1).max(24 * 60),
  kinds: z.strictObject(Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, z.boolean({ error: 'must be true or false' })])) as Record<NotificationKind, z.ZodBoolean>).partial(),
}).partial();

const path = (parts: readonly PropertyKey[]) =>
  parts.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), '');

export const preferencesInvalid = (details: ErrorDetail[]): AppError =>
  new AppError('PREFERENCES_INVALID', 422, details.map((d) => `${d.path}: ${d.problem}`).join('; '), details);

/**
 * Merges a change into the current preferences: fields left out keep their value, in_app stays on. Throws
 * 422 PREFERENCES_INVALID naming each bad field (a bad zone, a time that is not HH:MM, an unknown channel...).
 */
export function mergePreferences(current: NotificationPreferences, change: unknown): NotificationPreferences {
  const parsed = preferencesSchema.safeParse(change ?? {});
  if (!parsed.success) throw preferencesInvalid(parsed.error.issues.map((i) => ({ path: path(i.path), problem: i.message })));
  const c = parsed.data;
  return {
    locale: c.locale ?? current.locale,
    timezone: c.timezone ?? current.timezone,
    channels: c.channels ? ['in_app', ...NOTIFY_CHANNELS.filter((ch) => ch !== 'in_app' && c.channels!.includes(ch))] : current.channels,
    digestTime: c.digestTime ?? current.digestTime,
    quietHours: c.quietHours === undefined ? current.quietHours : c.quietHours,
    dueSoonMinutes: c.dueSoonMinutes ?? current.dueSoonMinutes,
    kinds: { ...current.kinds, ...c.kinds },
  };
}

/** A robot's or webhook's address: https, except plain http to hosts the deployment allows (local test servers). */
export function targetUrlProblem(url: string, insecureHosts: readonly string[]): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol === 'https:') return null;
  if (parsed.protocol === 'http:' && insecureHosts.includes(parsed.hostname)) return null;
  return 'must be an https:// URL';
}

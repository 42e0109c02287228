import { IANAZone } from 'luxon';
import { z } from 'zod';
import { AppError, type ErrorDetail } from '../errors';

export const NOTIFICATION_KINDS = ['digest', 'due_soon', 'escalation', 'material_opened', 'manager_digest'] as const;
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

/**
 * A robot's or webhook's address: https to a public host, except hosts the deployment allows (local test
 * servers, which may also use plain http). The worker POSTs to it, so loopback, private, link-local (cloud
 * metadata) and other internal addresses are refused: a user must not make the server call its own network.
 */
export function targetUrlProblem(url: string, insecureHosts: readonly string[]): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  const allowed = insecureHosts.includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && allowed)) return 'must be an https:// URL';
  if (parsed.username || parsed.password) return 'must not carry a user name or password';
  if (!allowed && isInternalHost(parsed.hostname)) return 'must be a public host, not a loopback, private or link-local address';
  return null;
}

/** Names and address literals (as the URL parser normalizes them) that reach the server's own or a private network. */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (!host || host === 'localhost' || /\.(localhost|local|internal|localdomain|home\.arpa)$/.test(host) || !host.includes('.') && !host.startsWith('[')) {
    return true;
  }
  const v4 = ipv4(host);
  if (v4) return internalV4(v4);
  if (host.startsWith('[') && host.endsWith(']')) return internalV6(host.slice(1, -1));
  return false;
}

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : null;
}

function internalV4([a, b]: number[]): boolean {
  return a === 0 || a === 10 || a === 127 || a >= 224 // this network, private, loopback, multicast and reserved
    || (a === 100 && b >= 64 && b <= 127) // carrier-grade NAT
    || (a === 169 && b === 254) // link-local, cloud metadata
    || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) // private
    || (a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19)); // IETF protocol assignments, benchmarking
}

function internalV6(addr: string): boolean {
  const a = addr.toLowerCase();
  if (a === '::' || a === '::1') return true;
  // IPv4-mapped as a resolver writes it (::ffff:127.0.0.1)
  const dotted = /^::(ffff:)?(\d{1,3}(\.\d{1,3}){3})$/.exec(a);
  if (dotted) return internalV4(dotted[2].split('.').map(Number));
  // IPv4-mapped or -compatible (the URL parser writes the IPv4 part as hex groups: ::ffff:7f00:1)
  const mapped = /^::(ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (mapped) {
    const hi = parseInt(mapped[2], 16);
    const lo = parseInt(mapped[3], 16);
    return internalV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  const first = parseInt(a.split(':')[0] || '0', 16);
  return (first & 0xfe00) === 0xfc00 // unique local fc00::/7
    || (first & 0xffc0) === 0xfe80 // link-local fe80::/10
    || (first & 0xff00) === 0xff00 // multicast
    || a.startsWith('64:ff9b:'); // NAT64 of an IPv4 address
}

import { z } from 'zod';

/**
 * Environment settings, validated once at start-up by the API and the worker with the same rules, so a
 * setting means the same in both processes (one default for TEMPORAL_ADDRESS, one parser for numbers).
 */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Empty means unset, so compose files can pass ${VAR:-} through. */
const optional = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const onOff = z.enum(['on', 'off']).default('on');
/**
 * A namespace-wide Schedule's interval: `on` (the default, `fallback`), `off` (the Schedule is left alone), or how
 * often as minutes or hours (`5m`, `1h`), 1 minute to 24 hours. Parsed to a Temporal duration or 'off'.
 */
const every = (fallback: `${number}m`) => z.preprocess((v) => (v === '' ? undefined : v), z.string().default('on')).transform((v, ctx) => {
  const value = v.trim().toLowerCase();
  if (value === 'off') return 'off' as const;
  if (value === 'on') return fallback;
  const m = /^(\d{1,4})(m|h)$/.exec(value);
  const minutes = m ? Number(m[1]) * (m[2] === 'h' ? 60 : 1) : 0;
  if (minutes < 1 || minutes > 1440) {
    ctx.addIssue({ code: 'custom', message: 'must be on, off, or an interval of 1m to 24h such as 15m or 1h' });
    return z.NEVER;
  }
  return `${minutes}m` as `${number}m`;
});

/** `id:secret` pairs, comma-separated; the first signs or seals, every one verifies or opens (so a key can be rotated in). */
export const signingKeys = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().optional().transform((v, ctx) => {
    if (v === undefined) return undefined;
    const keys = v.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => {
      const at = pair.indexOf(':');
      return { id: pair.slice(0, at), secret: pair.slice(at + 1) };
    });
    for (const k of keys) {
      if (!/^[A-Za-z0-9]{1,8}$/.test(k.id)) ctx.addIssue({ code: 'custom', message: `"${k.id}": a key id must be 1 to 8 letters or digits, as in k2:<secret>` });
      else if (k.secret.length < 32) ctx.addIssue({ code: 'custom', message: `key ${k.id}: the secret must be at least 32 characters` });
    }
    if (!keys.length) ctx.addIssue({ code: 'custom', message: 'must list at least one id:secret' });
    return keys;
  }),
);

/** What both processes read. */
export const SHARED_SETTINGS = {
  DATABASE_URL: z.string().url().refine((v) => /^postgres(ql)?:/.test(v), 'must be a postgres:// URL'),
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('sop-engine'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** json for machines (the default); pretty for people reading a local console (the run command sets it) */
  LOG_FORMAT: z.enum(LOG_FORMATS).default('json'),
  /** Hosts a robot or webhook target may reach over plain http (local test servers); https everywhere else. */
  NOTIFY_INSECURE_TARGET_HOSTS: z.string().default('').transform((v) => v.split(',').map((h) => h.trim()).filter(Boolean)),
  /**
   * Keys a tenant's WeCom secrets are sealed with at rest (`id:secret`, first seals). The API seals, the worker
   * opens (sync, app messages): both need the same keys. Unset outside production: the API derives one from
   * JWT_SECRET and the local run passes that to the worker.
   */
  WECOM_SECRET_KEYS: signingKeys,
  /** WeCom's server API (a local stand-in in tests). */
  WECOM_API_BASE: z.string().url().default('https://qyapi.weixin.qq.com').transform((v) => v.replace(/\/$/, '')),
  /** WeCom's OAuth authorize page (网页授权登录) that the app's cards go through (a local stand-in in tests). */
  WECOM_OAUTH_BASE: z.string().url().default('https://open.weixin.qq.com').transform((v) => v.replace(/\/$/, '')),
};

/**
 * The worker's own: links in reminders and the namespace-wide Schedules it keeps (reminder email,
 * SMTP_URL, MAIL_FROM and SMTP_POOL, is read by @sop/notify, its one user).
 */
export const WORKER_SETTINGS = z.object({
  ...SHARED_SETTINGS,
  APP_URL: optional(z.string().url()),
  SILENCE_SWEEP_SCHEDULE: onOff,
  REMINDER_SWEEP_SCHEDULE: onOff,
  WECOM_SYNC_SCHEDULE: onOff,
  /** the incremental WeCom sync of every connected organization: every 15 minutes by default */
  WECOM_INCREMENTAL_SCHEDULE: every('15m'),
  WECOM_MASS_SEND_SCHEDULE: onOff,
  /**
   * The worker's Unix niceness (0-19; 10 by default): where it shares CPUs with the API, the API's answers (WeCom's
   * callbacks within WeCom's time limit, the inbox) go first and the worker's batch work takes the rest.
   */
  WORKER_NICE: z.coerce.number().int().min(0, 'must be 0 to 19').max(19, 'must be 0 to 19').default(10),
});
export type WorkerSettings = z.infer<typeof WORKER_SETTINGS>;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** The settings, or a SettingsError naming every bad one ("is required" for the missing). */
export function parseSettings<T extends z.ZodTypeAny>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new SettingsError(parsed.error.issues.map((i) => {
    const name = String(i.path[0]);
    return `${name}: ${i.code === 'invalid_type' && env[name] === undefined ? 'is required' : i.message}`;
  }));
}

/**
 * A tenant's own settings (rows in `tenants`, changed at `/api/settings/task-results`), with their defaults and
 * bounds in one place for the API's validation and the engine (the migration that made the columns repeats the
 * defaults: a migration never changes).
 */
export const TENANT_SETTINGS = {
  /** the zone of dashboard days and weeks (rollups are kept per day in it) */
  timezone: { default: 'Asia/Shanghai' },
  /** a pending task whose window closed more than this long ago becomes `expired` (the sweep, every minute) */
  taskExpiryGraceHours: { default: 24, min: 0, max: 720 },
  /** a response counts for the latest done task of its contact up to this many days before it */
  attributionWindowDays: { default: 7, min: 1, max: 90 },
} as const;

export const TENANT_SETTINGS_SCHEMA = z.strictObject({
  timezone: z.string().min(1).refine((zone) => {
    try { new Intl.DateTimeFormat('en', { timeZone: zone }); return true; } catch { return false; }
  }, 'must be an IANA time zone such as Asia/Shanghai'),
  taskExpiryGraceHours: z.number().int().min(TENANT_SETTINGS.taskExpiryGraceHours.min).max(TENANT_SETTINGS.taskExpiryGraceHours.max),
  attributionWindowDays: z.number().int().min(TENANT_SETTINGS.attributionWindowDays.min).max(TENANT_SETTINGS.attributionWindowDays.max),
});
export type TenantSettings = z.infer<typeof TENANT_SETTINGS_SCHEMA>;

import { z } from 'zod';
import { createHmac } from 'node:crypto';
import { type LogFormat, parseSettings, SettingsError, SHARED_SETTINGS, signingKeys } from '@sop/domain';

/** Every setting the API reads, validated once at start-up (the shared ones by the worker's rules too). */
const optionalSecret = (min: number) => z.preprocess((v) => (v === '' ? undefined : v), z.string().min(min, `must be at least ${min} characters`).optional());

/** Required in production (NODE_ENV=production): no fallback to JWT_SECRET, no open /metrics. */
const PRODUCTION_SECRETS = ['METRICS_TOKEN', 'EVENT_SIGNING_KEYS', 'LINK_SIGNING_KEYS', 'WECOM_SECRET_KEYS'] as const;

const schema = z.object({
  ...SHARED_SETTINGS,
  NODE_ENV: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(12 * 3600),
  /** How long an API process trusts its last read of a user's role and state (0: read on every request). */
  PRINCIPAL_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Login and signup attempts per client address and email. */
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  /** Login attempts per client address, whatever the email (password spraying). */
  LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().positive().default(30),
  /** Join-page forms (a channel code's public page) one client address may send a minute. */
  JOIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().positive().default(30),
  /** Organizations one client address may sign up. */
  SIGNUP_RATE_LIMIT_PER_ADDRESS_PER_HOUR: z.coerce.number().int().positive().default(5),
  /** Longest a segment preview, count or members page may run before it is stopped (422 SEGMENT_TOO_EXPENSIVE). */
  SEGMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** Largest Postgres plan cost (EXPLAIN's total cost) a new or changed segment rule may have. */
  SEGMENT_COST_BUDGET: z.coerce.number().positive().default(1_000_000),
  /** Longest a preview spends on an exact count before it answers an estimate from a sample instead. */
  SEGMENT_EXACT_COUNT_MS: z.coerce.number().int().min(10).default(100),
  /** Planned cost (EXPLAIN's units) above which a preview does not try the exact count and answers an estimate. */
  SEGMENT_EXACT_COUNT_COST: z.coerce.number().positive().default(100_000),
  /** About how many contacts (of every organization) a preview's estimate reads: the sample's size. */
  SEGMENT_SAMPLE_ROWS: z.coerce.number().int().min(1000).default(100_000),
  // Empty means unset, so compose files can pass ${METRICS_TOKEN:-} through.
  METRICS_TOKEN: optionalSecret(16),
  /** Which proxies may set X-Forwarded-For (Express trust proxy): client addresses feed the login rate limit. */
  TRUST_PROXY: z.string().min(1).default('loopback'),
  /** Server keys the events API's per-key signing secrets derive from (`id:secret`, first for new keys). */
  EVENT_SIGNING_KEYS: signingKeys,
  /** The single server key of before EVENT_SIGNING_KEYS: still verifies the API keys made under it. */
  EVENT_SIGNING_SECRET: optionalSecret(32),
  /** Keys tracked links are signed with (`id:secret`, first signs); unset: one key derived from JWT_SECRET. */
  LINK_SIGNING_KEYS: signingKeys,
  /**
   * The app's public address (the worker's setting of the same name): WeCom sign-in builds its callback address and
   * its cookies' Secure flag from it, never from the request's Host or protocol (a proxy's TLS, a forged Host).
   */
  APP_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().transform((v) => v.replace(/\/+$/, '')).optional()),
}).superRefine((c, ctx) => {
  if (c.NODE_ENV !== 'production') return;
  for (const name of PRODUCTION_SECRETS) {
    // the older single secret alone still stands in for EVENT_SIGNING_KEYS (never JWT_SECRET)
    if (c[name] === undefined && !(name === 'EVENT_SIGNING_KEYS' && c.EVENT_SIGNING_SECRET)) ctx.addIssue({ code: 'custom', path: [name], message: 'is required in production (NODE_ENV=production)' });
  }
});

export interface AppConfig {
  databaseUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  port: number;
  jwt: { secret: string; ttlSeconds: number };
  principalCacheMs: number;
  loginRateLimitPerMinute: number;
  loginRateLimitPerAddressPerMinute: number;
  signupRateLimitPerAddressPerHour: number;
  joinRateLimitPerAddressPerMinute: number;
  segments: { timeoutMs: number; costBudget: number; exactCountMs: number; exactCountCost: number; sampleRows: number };
  logLevel: string;
  logFormat: LogFormat;
  metricsToken?: string;
  trustProxy: string;
  notifyInsecureTargetHosts: string[];
  eventSigningSecret?: string;
  eventSigningKeys?: { id: string; secret: string }[];
  linkSigningKeys?: { id: string; secret: string }[];
  /** APP_URL without a trailing slash; `production` is NODE_ENV=production */
  appUrl?: string;
  production: boolean;
  /** secretKeys: WECOM_SECRET_KEYS, or outside production the local key derived from JWT_SECRET */
  wecom: { secretKeys: { id: string; secret: string }[]; apiBase: string; oauthBase: string };
}

/** A setting is missing or wrong: the message names each one. */
export { SettingsError as ConfigError };

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const c = parseSettings(schema, env);
  return {
    databaseUrl: c.DATABASE_URL,
    temporal: { address: c.TEMPORAL_ADDRESS, namespace: c.TEMPORAL_NAMESPACE, taskQueue: c.TEMPORAL_TASK_QUEUE },
    port: c.PORT,
    jwt: { secret: c.JWT_SECRET, ttlSeconds: c.JWT_TTL_SECONDS },
    principalCacheMs: c.PRINCIPAL_CACHE_MS,
    loginRateLimitPerMinute: c.LOGIN_RATE_LIMIT_PER_MINUTE,
    loginRateLimitPerAddressPerMinute: c.LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
    signupRateLimitPerAddressPerHour: c.SIGNUP_RATE_LIMIT_PER_ADDRESS_PER_HOUR,
    joinRateLimitPerAddressPerMinute: c.JOIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
    segments: {
      timeoutMs: c.SEGMENT_TIMEOUT_MS, costBudget: c.SEGMENT_COST_BUDGET,
      exactCountMs: c.SEGMENT_EXACT_COUNT_MS, exactCountCost: c.SEGMENT_EXACT_COUNT_COST, sampleRows: c.SEGMENT_SAMPLE_ROWS,
    },
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    metricsToken: c.METRICS_TOKEN,
    trustProxy: c.TRUST_PROXY,
    notifyInsecureTargetHosts: c.NOTIFY_INSECURE_TARGET_HOSTS,
    eventSigningSecret: c.EVENT_SIGNING_SECRET,
    eventSigningKeys: c.EVENT_SIGNING_KEYS,
    linkSigningKeys: c.LINK_SIGNING_KEYS,
    appUrl: c.APP_URL,
    production: c.NODE_ENV === 'production',
    wecom: { secretKeys: c.WECOM_SECRET_KEYS ?? [localWecomKey(c.JWT_SECRET)], apiBase: c.WECOM_API_BASE, oauthBase: c.WECOM_OAUTH_BASE },
  };
}

/** The local run's WeCom sealing key (never in production, which requires WECOM_SECRET_KEYS): the worker gets the same. */
export function localWecomKey(jwtSecret: string): { id: string; secret: string } {
  return { id: 'local', secret: createHmac('sha256', jwtSecret).update('wecom-secrets').digest('hex') };
}

export const APP_CONFIG = Symbol('APP_CONFIG');

import { z } from 'zod';

/** Every setting the API reads, validated once at start-up. */
const schema = z.object({
  DATABASE_URL: z.string().url().refine((v) => /^postgres(ql)?:/.test(v), 'must be a postgres:// URL'),
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('sop-engine'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(12 * 3600),
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Empty means unset, so compose files can pass ${METRICS_TOKEN:-} through.
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters').optional()),
  /** Which proxies may set X-Forwarded-For (Express trust proxy): client addresses feed the login rate limit. */
  TRUST_PROXY: z.string().min(1).default('loopback'),
  /** Hosts a robot or webhook target may reach over plain http (local test servers); https everywhere else. */
  NOTIFY_INSECURE_TARGET_HOSTS: z.string().default(''),
  /** Server key the events API's per-key signing secrets derive from; unset: derived from JWT_SECRET. */
  EVENT_SIGNING_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'must be at least 32 characters').optional()),
});

export interface AppConfig {
  databaseUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  port: number;
  jwt: { secret: string; ttlSeconds: number };
  loginRateLimitPerMinute: number;
  logLevel: string;
  metricsToken?: string;
  trustProxy: string;
  notifyInsecureTargetHosts: string[];
  eventSigningSecret?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.code === 'invalid_type' && env[String(i.path[0])] === undefined ? 'is required' : i.message}`),
    );
  }
  const c = parsed.data;
  return {
    databaseUrl: c.DATABASE_URL,
    temporal: { address: c.TEMPORAL_ADDRESS, namespace: c.TEMPORAL_NAMESPACE, taskQueue: c.TEMPORAL_TASK_QUEUE },
    port: c.PORT,
    jwt: { secret: c.JWT_SECRET, ttlSeconds: c.JWT_TTL_SECONDS },
    loginRateLimitPerMinute: c.LOGIN_RATE_LIMIT_PER_MINUTE,
    logLevel: c.LOG_LEVEL,
    metricsToken: c.METRICS_TOKEN,
    trustProxy: c.TRUST_PROXY,
    notifyInsecureTargetHosts: c.NOTIFY_INSECURE_TARGET_HOSTS.split(',').map((h) => h.trim()).filter(Boolean),
    eventSigningSecret: c.EVENT_SIGNING_SECRET,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');

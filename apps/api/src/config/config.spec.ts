import { parseSettings, WORKER_SETTINGS } from '@sop/domain';
import { ConfigError, loadConfig } from './config';

const valid = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', JWT_SECRET: 'x'.repeat(32) };

describe('loadConfig', () => {
  it('applies defaults to a minimal valid environment', () => {
    const c = loadConfig(valid);
    expect(c.port).toBe(3000);
    expect(c.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'sop-engine' });
  });

  it('names every bad setting and its problem', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://x', JWT_SECRET: 'short', PORT: 'eighty' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^DATABASE_URL: must be a postgres:\/\/ URL$/m);
    expect(problems).toMatch(/^JWT_SECRET: must be at least 32 characters$/m);
    expect(problems).toMatch(/^PORT: /m);
  });

  it('refuses to start in production without the metrics token and the event and link signing keys (no fallback to JWT_SECRET)', () => {
    expect(() => loadConfig({ ...valid, NODE_ENV: 'production' })).toThrow(
      /METRICS_TOKEN: is required in production[\s\S]*EVENT_SIGNING_KEYS: is required in production[\s\S]*LINK_SIGNING_KEYS: is required in production[\s\S]*WECOM_SECRET_KEYS: is required in production/,
    );
    const prod = loadConfig({
      ...valid, NODE_ENV: 'production', METRICS_TOKEN: 'm'.repeat(16), EVENT_SIGNING_SECRET: 'e'.repeat(32),
      LINK_SIGNING_KEYS: `k2:${'b'.repeat(32)}, k1:${'a'.repeat(32)}`, WECOM_SECRET_KEYS: `w1:${'w'.repeat(32)}`,
    });
    expect(prod.linkSigningKeys).toEqual([{ id: 'k2', secret: 'b'.repeat(32) }, { id: 'k1', secret: 'a'.repeat(32) }]);
    // the rotatable EVENT_SIGNING_KEYS stands in for the single secret of before
    const keyed = loadConfig({
      ...valid, NODE_ENV: 'production', METRICS_TOKEN: 'm'.repeat(16), EVENT_SIGNING_KEYS: `e2:${'c'.repeat(32)}`,
      LINK_SIGNING_KEYS: `k1:${'a'.repeat(32)}`, WECOM_SECRET_KEYS: `w1:${'w'.repeat(32)}`,
    });
    expect(keyed.eventSigningKeys).toEqual([{ id: 'e2', secret: 'c'.repeat(32) }]);
    expect(() => loadConfig({ ...valid, LINK_SIGNING_KEYS: 'k-1:short' })).toThrow(/LINK_SIGNING_KEYS: "k-1": a key id must be/);
    expect(() => loadConfig({ ...valid, LINK_SIGNING_KEYS: 'k1:short' })).toThrow(/LINK_SIGNING_KEYS: key k1: the secret must be at least 32/);
    // the local run keeps /metrics open and derives the keys
    expect(loadConfig(valid).metricsToken).toBeUndefined();
  });

  it('says a missing setting is required', () => {
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32) })).toThrow(/DATABASE_URL: is required/);
  });
});

describe('the worker reads the same settings by the same rules', () => {
  it('shares defaults and refusals with the API', () => {
    const env = { DATABASE_URL: 'postgres://u:p@db:5432/sop' };
    const worker = parseSettings(WORKER_SETTINGS, env);
    const api = loadConfig({ ...env, JWT_SECRET: 'x'.repeat(32) });
    expect(worker.TEMPORAL_ADDRESS).toBe(api.temporal.address);
    expect([worker.TEMPORAL_NAMESPACE, worker.TEMPORAL_TASK_QUEUE]).toEqual([api.temporal.namespace, api.temporal.taskQueue]);
    expect(() => parseSettings(WORKER_SETTINGS, { ...env, TEMPORAL_ADDRESS: 'nohost' })).toThrow('TEMPORAL_ADDRESS: must be host:port');
    expect(() => parseSettings(WORKER_SETTINGS, { ...env, REMINDER_SWEEP_SCHEDULE: 'maybe' })).toThrow(/REMINDER_SWEEP_SCHEDULE/);
    expect(() => parseSettings(WORKER_SETTINGS, {})).toThrow('DATABASE_URL: is required');
    // the incremental WeCom sync's interval: on (15 minutes), off, or minutes and hours within a day
    const every = (v?: string) => parseSettings(WORKER_SETTINGS, { ...env, WECOM_INCREMENTAL_SCHEDULE: v }).WECOM_INCREMENTAL_SCHEDULE;
    expect([every(), every(''), every('on'), every('off'), every('5m'), every('2h'), every('24h')]).toEqual(['15m', '15m', '15m', 'off', '5m', '120m', '1440m']);
    for (const bad of ['0m', '25h', 'sometimes', '15', '1d']) {
      expect(() => every(bad)).toThrow('WECOM_INCREMENTAL_SCHEDULE: must be on, off, or an interval of 1m to 24h such as 15m or 1h');
    }
    expect(parseSettings(WORKER_SETTINGS, { ...env, NOTIFY_INSECURE_TARGET_HOSTS: ' a, b ,' }).NOTIFY_INSECURE_TARGET_HOSTS).toEqual(['a', 'b']);
    expect([parseSettings(WORKER_SETTINGS, env).WORKER_NICE, parseSettings(WORKER_SETTINGS, { ...env, WORKER_NICE: '0' }).WORKER_NICE]).toEqual([10, 0]);
    expect(() => parseSettings(WORKER_SETTINGS, { ...env, WORKER_NICE: '20' })).toThrow('WORKER_NICE: must be 0 to 19');
  });
});

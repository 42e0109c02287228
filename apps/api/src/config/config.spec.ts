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

  it('says a missing setting is required', () => {
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32) })).toThrow(/DATABASE_URL: is required/);
  });
});

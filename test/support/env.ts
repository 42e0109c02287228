import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const WORKFLOW_BUNDLE = join(ROOT, '.data', 'workflow-bundle.js');
export const HISTORIES_DIR = join(ROOT, 'test', 'replay', 'histories');

/** Settings the test command (tools/test.mjs) provisions; running Jest alone gets a clear error. */
export function testEnv(name: 'DATABASE_URL' | 'TEMPORAL_ADDRESS'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with "npm test", which starts Postgres and Temporal.`);
  return value;
}

/**
 * `url` with the sessions it opens named `name` in pg_stat_activity (the URL's application_name wins over a pool's
 * own). Every test file shares one Postgres: a test that looks at sessions by what they run would also count another
 * file's (an export, an import, a worker's page at the same moment); looked at by this name, it sees only its own.
 * Postgres keeps 63 bytes of it.
 */
export function withApplicationName(url: string, name: string): string {
  const named = new URL(url);
  named.searchParams.set('application_name', name);
  return named.toString();
}

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

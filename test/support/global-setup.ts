import { runMigrations } from '@sop/db';
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, testEnv, WORKFLOW_BUNDLE } from './env';

/** Once per run: migrate the test database from empty and bundle the workflows for every worker. */
export default async function globalSetup(): Promise<void> {
  const ran = await runMigrations(testEnv('DATABASE_URL'));
  console.log(`\n[setup] migrations applied: ${ran.join(', ') || 'none pending'}`);
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: join(ROOT, 'workflows/src/index.ts'), logger: quietLogger });
  mkdirSync(dirname(WORKFLOW_BUNDLE), { recursive: true });
  writeFileSync(WORKFLOW_BUNDLE, code);
  console.log(`[setup] workflows bundled in ${Date.now() - started} ms`);
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '@sop/worker';
import { Worker } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { testEnv, WORKFLOW_BUNDLE } from './env';

/**
 * The time-skipping test server (Java, fetched by the test command) when available; otherwise
 * the dev server in normal time, so workflow tests still run, slower, against a real server.
 */
export async function workflowTestEnv(): Promise<{ env: TestWorkflowEnvironment; timeSkipping: boolean }> {
  const path = process.env.TEMPORAL_TEST_SERVER;
  if (path) {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    return { env, timeSkipping: true };
  }
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: testEnv('TEMPORAL_ADDRESS') });
  return { env, timeSkipping: false };
}

/**
 * Tests that need skipped time (a week in seconds): they run when the test command found the
 * time-skipping server, and are reported as skipped, not passed, when it did not.
 */
export const itWithTimeSkipping: jest.It = process.env.TEMPORAL_TEST_SERVER ? it : it.skip;

/**
 * The workflow environment for a test file (started in beforeAll, torn down in afterAll), and workers on it
 * that run the engine's real activities over the given database.
 */
export function useWorkflowEnv(): {
  env: () => TestWorkflowEnvironment;
  worker: (db: DataSource, taskQueue: string, activities?: ReturnType<typeof createActivities>) => Promise<Worker>;
} {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    ({ env } = await workflowTestEnv());
  }, 120_000);
  afterAll(() => env?.teardown());
  return {
    env: () => env,
    worker: (db, taskQueue, activities = createActivities(db, 'time-skipping-worker')) => Worker.create({
      connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities,
      workflowBundle: { codePath: WORKFLOW_BUNDLE }, shutdownGraceTime: '1s',
    }),
  };
}

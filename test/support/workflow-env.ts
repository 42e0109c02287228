import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '@sop/worker';
import { Worker } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { WORKFLOW_BUNDLE } from './env';

/**
 * The time-skipping test server (Java), which the test command provisions; without it the test fails
 * and says so (a workflow test that could skip would prove nothing in CI).
 */
export async function workflowTestEnv(): Promise<{ env: TestWorkflowEnvironment }> {
  const path = process.env.TEMPORAL_TEST_SERVER;
  if (!path) throw new Error('TEMPORAL_TEST_SERVER is not set: run the tests with "npm test", which provisions the time-skipping server.');
  // The SDK gives the JVM 5 s to listen; on a loaded 2-core machine a cold start can miss that, and the next
  // start (class files now in the page cache) does not: a few tries, then the last failure is the test's.
  for (let attempt = 1; ; attempt++) {
    try {
      return { env: await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } }) };
    } catch (err) {
      if (attempt >= 4 || !/did not start within/.test(String(err))) throw err;
    }
  }
}

/**
 * Skips `ms` of server time in steps of at most `step`, one short call each. A week skipped in one call is one gRPC
 * call that sends nothing back until the skipped passes are done: minutes on a loaded machine. The client pings its
 * connection every 30 s (the SDK's keepalive, not configurable for this environment: sdk-typescript#2185) and the
 * Java test server counts pings over a quiet call as strikes and answers GOAWAY ("rejected by server because of excess
 * pings" in the log). Both full runs whose log showed it, at loads of 10 and more, had sop-dispatcher-continue hang to
 * its 600 s timeout inside such a sleep. Each step's answer is data on the connection, which resets the server's count.
 */
export async function sleepInSteps(env: TestWorkflowEnvironment, ms: number, step = 6 * 3_600_000): Promise<void> {
  for (let left = ms; left > 0; left -= step) await env.sleep(Math.min(step, left));
}

/** Tests that need skipped time (a week in seconds); kept as a name so such tests read as what they are. */
export const itWithTimeSkipping: jest.It = it;

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

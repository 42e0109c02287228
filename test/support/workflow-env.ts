import { TestWorkflowEnvironment } from '@temporalio/testing';
import { testEnv } from './env';

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

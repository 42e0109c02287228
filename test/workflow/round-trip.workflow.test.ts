import { roundTripWorkflow, type RoundTripActivities } from '@sop/workflows';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { WORKFLOW_BUNDLE } from '../support/env';
import { workflowTestEnv } from '../support/workflow-env';

describe('roundTripWorkflow (time-skipping server, stub activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    ({ env } = await workflowTestEnv());
  }, 120_000);
  afterAll(() => env?.teardown());

  it('retries a failing activity with backoff until it succeeds', async () => {
    const calls: string[] = [];
    const activities: RoundTripActivities = {
      async completeRoundTrip({ roundTripId }) {
        calls.push(roundTripId);
        if (calls.length < 3) throw new Error('database briefly unavailable');
        return { workerIdentity: 'stub' };
      },
    };
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities,
      workflowBundle: { codePath: WORKFLOW_BUNDLE },
    });
    const input = { tenantId: randomUUID(), roundTripId: randomUUID() };
    const result = await worker.runUntil(
      env.client.workflow.execute(roundTripWorkflow, { taskQueue, workflowId: `wf-${input.roundTripId}`, args: [input] }),
    );
    expect(result).toEqual({ workerIdentity: 'stub' });
    expect(calls).toEqual([input.roundTripId, input.roundTripId, input.roundTripId]);
    expect(env.supportsTimeSkipping).toBe(true);
  });
});

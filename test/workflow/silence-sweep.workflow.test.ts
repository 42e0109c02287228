import { silenceSweepWorkflow, type SilenceSweepActivities } from '@sop/workflows';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { WORKFLOW_BUNDLE } from '../support/env';
import { workflowTestEnv } from '../support/workflow-env';

describe('silenceSweepWorkflow (time-skipping server, stub activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    ({ env } = await workflowTestEnv());
  }, 120_000);
  afterAll(() => env?.teardown());

  it('retries a failed sweep after its backoff and returns what the sweep did', async () => {
    let calls = 0;
    const activities: SilenceSweepActivities = {
      async sweepSilence() {
        if (++calls === 1) throw new Error('database restarting');
        return { tenants: 2, contacts: 7 };
      },
    };
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities,
      workflowBundle: { codePath: WORKFLOW_BUNDLE },
    });
    const result = await worker.runUntil(env.client.workflow.execute(silenceSweepWorkflow, { taskQueue, workflowId: `sweep-${randomUUID()}` }));
    expect(result).toEqual({ tenants: 2, contacts: 7 });
    expect(calls).toBe(2);
  });
});

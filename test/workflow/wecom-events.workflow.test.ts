import { wakeSignal, wecomEventsWorkflow, type WecomEventsActivities } from '@sop/workflows';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { saveHistory } from '../support/histories';
import { WORKFLOW_BUNDLE } from '../support/env';
import { workflowTestEnv } from '../support/workflow-env';

describe('wecomEventsWorkflow (time-skipping server, stub activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    ({ env } = await workflowTestEnv());
  }, 120_000);
  afterAll(() => env?.teardown());

  it('runs batches while more wait, runs again for a wake that came during a batch, retries a failed batch, and finishes when idle', async () => {
    // The stub stands for the table: `waiting` events, taken `batchSize` at a time.
    const state = { waiting: 5, calls: 0, failOnce: true, signalDuringCall: 3 };
    const taskQueue = `wf-${randomUUID()}`;
    const workflowId = `wecom-events/${randomUUID()}`;
    const activities: WecomEventsActivities = {
      async applyWecomEvents({ batchSize = 200 }) {
        state.calls++;
        if (state.failOnce && state.calls === 2) {
          state.failOnce = false;
          throw new Error('WeCom answered errcode 45009');
        }
        if (state.calls === state.signalDuringCall) {
          state.waiting += 1; // an event kept while this batch ran; its callback wakes the workflow
          await env.client.workflow.getHandle(workflowId).signal(wakeSignal);
          return { applied: 0, failed: 0, more: false };
        }
        const applied = Math.min(batchSize, state.waiting);
        state.waiting -= applied;
        return { applied, failed: 0, more: applied === batchSize };
      },
    };
    const worker = await Worker.create({
      connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities, workflowBundle: { codePath: WORKFLOW_BUNDLE },
    });
    const result = await worker.runUntil(env.client.workflow.execute(wecomEventsWorkflow, {
      taskQueue, workflowId, args: [{ tenantId: 't1', batchSize: 2, idleMs: 60_000 }],
    }));
    expect(state.waiting).toBe(0);
    expect(result).toEqual({ applied: 6 });
    if (process.env.RECORD_HISTORIES) saveHistory('wecomEventsWorkflow', await env.client.workflow.getHandle(workflowId).fetchHistory());
  });
});

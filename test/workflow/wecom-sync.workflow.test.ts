import { workflowIds } from '@sop/temporal';
import {
  wecomIncrementalSyncWorkflow, wecomNightlySyncWorkflow, wecomSyncRequestSignal, wecomSyncStatusQuery, wecomSyncWorkflow, type WecomNightlyActivities,
  type WecomSyncActivities, type WecomSyncAllInput,
} from '@sop/workflows';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { WORKFLOW_BUNDLE } from '../support/env';
import { saveHistory } from '../support/histories';
import { workflowTestEnv } from '../support/workflow-env';

const wecomSyncWorkflowId = workflowIds.wecomSync;

/**
 * The WeCom sync's orchestration: pages until done, a refusal ends the run failed, the nightly start skips a running
 * full sync and queues a full one after a running incremental sync; the incremental path and its Schedule's workflow.
 */
describe('wecomSyncWorkflow and wecomNightlySyncWorkflow (time-skipping server, stub activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    ({ env } = await workflowTestEnv());
  }, 120_000);
  afterAll(() => env?.teardown());

  /** Activities that record what they were asked; contacts take three calls, groups two. */
  const stubs = (overrides: Partial<WecomSyncActivities & WecomNightlyActivities> = {}) => {
    const log: string[] = [];
    let contactCalls = 0;
    let groupCalls = 0;
    const activities: WecomSyncActivities & WecomNightlyActivities = {
      listWecomTenants: async () => [],
      openWecomSync: async (tenantId) => { log.push(`open ${tenantId}`); return `run-${tenantId}`; },
      openWecomSyncRun: async (tenantId, kind) => {
        log.push(kind === 'full' ? `open ${tenantId}` : `open ${tenantId} ${kind}`);
        return { runId: `run-${tenantId}${kind === 'full' ? '' : `-${kind}`}`, kind };
      },
      syncWecomDirtyContacts: async () => { log.push('dirty contacts'); return { done: ++contactCalls >= 2 }; },
      syncWecomDirtyGroups: async () => { log.push('dirty groups'); return { done: true }; },
      syncWecomMembers: async () => { log.push('members'); return 2; },
      syncWecomTags: async () => { log.push('tags'); return 3; },
      syncWecomContacts: async () => { log.push('contacts'); return { done: ++contactCalls >= 3 }; },
      syncWecomGroups: async () => { log.push('groups'); return { done: ++groupCalls >= 2 }; },
      finishWecomSync: async (tenantId, runId, error) => { log.push(`finish ${runId} ${error ?? 'ok'}`); },
      ...overrides,
    };
    return { log, activities };
  };
  /** Runs `body` with a worker of `activities` on a fresh task queue. */
  const withWorker = async <T>(activities: object, body: (taskQueue: string) => Promise<T>): Promise<T> => {
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities, workflowBundle: { codePath: WORKFLOW_BUNDLE },
    });
    return worker.runUntil(body(taskQueue));
  };
  const startSync = (taskQueue: string, tenantId: string, kind?: 'incremental') => env.client.workflow.start(wecomSyncWorkflow, {
    taskQueue, workflowId: wecomSyncWorkflowId(tenantId), args: [kind ? { tenantId, kind } : { tenantId }],
  });
  /** A step that holds until `release()`. */
  const gate = () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    return { held, release };
  };
  /**
   * Two organizations; the busy one's full sync is started and holds in its first step while `starter` (the nightly
   * or the incremental Schedule's workflow) starts the syncs of all, then is released. What each answered, in order.
   */
  const startAllWhileOneRuns = async (starter: typeof wecomNightlySyncWorkflow | typeof wecomIncrementalSyncWorkflow, history: string) => {
    const busy = `busy-${randomUUID()}`;
    const idle = `idle-${randomUUID()}`;
    const { held, release } = gate();
    const { log, activities } = stubs({
      listWecomTenants: async () => [busy, idle],
      // the busy organization's sync holds in its first step until the start of all has come and gone
      syncWecomMembers: async (tenantId) => { if (tenantId === busy) await held; return 1; },
    });
    return withWorker(activities, async (taskQueue) => {
      const running = await startSync(taskQueue, busy);
      const id = `${history}-${randomUUID()}`;
      const started = await env.client.workflow.execute(starter, { taskQueue, workflowId: id });
      if (process.env.RECORD_HISTORIES) saveHistory(history, await env.client.workflow.getHandle(id).fetchHistory());
      const idleResult = await env.client.workflow.getHandle(wecomSyncWorkflowId(idle)).result();
      release();
      return { busy, idle, log, started, idleResult, busyResult: await running.result() };
    });
  };

  it('walks members, tags, contact pages and group pages until each is done, then finishes the run', async () => {
    const { log, activities } = stubs();
    const result = await withWorker(activities, async (taskQueue) => (await startSync(taskQueue, 't1')).result());
    expect(result).toEqual({ runId: 'run-t1', status: 'succeeded' });
    expect(log).toEqual(['open t1', 'members', 'tags', 'contacts', 'contacts', 'contacts', 'groups', 'groups', 'finish run-t1 ok']);
  });

  it('ends the run failed with WeCom\'s refusal when an activity fails for good', async () => {
    const { log, activities } = stubs({
      syncWecomTags: async () => { throw ApplicationFailure.nonRetryable('WeCom /cgi-bin/externalcontact/get_corp_tag_list answered errcode 48002: api forbidden', 'WecomRefused'); },
    });
    const result = await withWorker(activities, async (taskQueue) => (await startSync(taskQueue, 't2')).result());
    expect(result).toEqual({ runId: 'run-t2', status: 'failed' });
    expect(log.at(-1)).toBe('finish run-t2 tags: WeCom /cgi-bin/externalcontact/get_corp_tag_list answered errcode 48002: api forbidden');
  });

  it('starts a sync of every connected organization, skipping one whose sync already runs', async () => {
    const { busy, idle, log, started, idleResult, busyResult } = await startAllWhileOneRuns(wecomNightlySyncWorkflow, 'wecomNightlySyncWorkflow');
    expect(started).toEqual({ started: 1, running: 1 });
    expect(idleResult).toEqual({ runId: `run-${idle}`, status: 'succeeded' });
    expect(busyResult).toEqual({ runId: `run-${busy}`, status: 'succeeded' });
    expect(log.filter((l) => l.startsWith('open'))).toEqual(expect.arrayContaining([`open ${busy}`, `open ${idle}`]));
    expect(log.filter((l) => l === `open ${busy}`)).toHaveLength(1);
  });

  it('an incremental run reads the dirty contacts and groups; a full sync asked meanwhile follows it as the same workflow', async () => {
    const { held, release } = gate();
    const { log, activities } = stubs({
      syncWecomMembers: async () => { log.push('members'); await held; return 2; },
    });
    const tenantId = `t3-${randomUUID()}`;
    const workflowId = wecomSyncWorkflowId(tenantId);
    await withWorker(activities, async (taskQueue) => {
      const handle = await startSync(taskQueue, tenantId, 'incremental');
      await waitFor(() => log.includes('members'));
      expect(await handle.query(wecomSyncStatusQuery)).toEqual({ runId: `run-${tenantId}-incremental`, phase: 'members', kind: 'incremental' });
      // an incremental request is this run already; a full one follows it
      await handle.signal(wecomSyncRequestSignal, { kind: 'incremental' });
      await handle.signal(wecomSyncRequestSignal, { kind: 'full' });
      release();
      const first = handle.result().catch((err: unknown) => err);
      // the same workflow id continues as the full sync (its result is the full run's)
      expect(await env.client.workflow.getHandle(workflowId).result()).toEqual({ runId: `run-${tenantId}`, status: 'succeeded' });
      await first;
      if (process.env.RECORD_HISTORIES) saveHistory('wecomSyncWorkflow-continued', await env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory());
    });
    expect(log.slice(0, 7)).toEqual([`open ${tenantId} incremental`, 'members', 'tags', 'dirty contacts', 'dirty contacts', 'dirty groups', `finish run-${tenantId}-incremental ok`]);
    expect(log.slice(7, 10)).toEqual([`open ${tenantId}`, 'members', 'tags']);
    expect(log.at(-1)).toBe(`finish run-${tenantId} ok`);
  });

  it('requests signalled while a run finishes belong to the next row: a full sync asked after it follows that run', async () => {
    const { held, release } = gate();
    const tenantId = `t4-${randomUUID()}`;
    const { log, activities } = stubs({
      // the full run's row is finished (the API makes a new row from now on) and its workflow has not ended yet
      finishWecomSync: async (_tenant, runId, error) => { log.push(`finish ${runId} ${error ?? 'ok'}`); if (runId === `run-${tenantId}`) await held; },
    });
    const workflowId = wecomSyncWorkflowId(tenantId);
    await withWorker(activities, async (taskQueue) => {
      const handle = await startSync(taskQueue, tenantId);
      await waitFor(() => log.includes(`finish run-${tenantId} ok`));
      // as the API signals them: the incremental row it made, a request that joined that row, a full one queued after it
      await handle.signal(wecomSyncRequestSignal, { kind: 'incremental', runId: 'row-2' });
      await handle.signal(wecomSyncRequestSignal, { kind: 'incremental' });
      await handle.signal(wecomSyncRequestSignal, { kind: 'full' });
      release();
      expect(await env.client.workflow.getHandle(workflowId).result()).toEqual({ runId: `run-${tenantId}`, status: 'succeeded' });
      if (process.env.RECORD_HISTORIES) saveHistory('wecomSyncWorkflow-next-row-queued', await env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory());
    });
    expect(log.filter((l) => l.startsWith('open') || l.startsWith('finish'))).toEqual([
      `open ${tenantId}`, `finish run-${tenantId} ok`,
      `open ${tenantId} incremental`, `finish run-${tenantId}-incremental ok`,
      `open ${tenantId}`, `finish run-${tenantId} ok`,
    ]);
  });

  it('the incremental Schedule\'s workflow starts an incremental sync of every organization, skipping one whose sync runs', async () => {
    const { busy, idle, log, started, idleResult, busyResult } = await startAllWhileOneRuns(wecomIncrementalSyncWorkflow, 'wecomIncrementalSyncWorkflow');
    expect(started).toEqual({ started: 1, running: 1 });
    expect(idleResult).toEqual({ runId: `run-${idle}-incremental`, status: 'succeeded' });
    // the running full sync took no request from it and ran once
    expect(busyResult).toEqual({ runId: `run-${busy}`, status: 'succeeded' });
    expect(log.filter((l) => l.startsWith(`open ${busy}`))).toEqual([`open ${busy}`]);
    expect(log).toContain(`open ${idle} incremental`);
  });

  it('the nightly and incremental starts ask for the organizations they are given (tests), or every one without input', async () => {
    const tenantId = `scoped-${randomUUID()}`;
    const asked: unknown[] = [];
    const { log, activities } = stubs({
      // the worker's listWecomTenants filters the connected organizations by the list; here, the list itself
      listWecomTenants: async (input) => { asked.push(input); return input?.tenantIds ?? []; },
    });
    await withWorker(activities, async (taskQueue) => {
      for (const starter of [wecomNightlySyncWorkflow, wecomIncrementalSyncWorkflow]) {
        const input: WecomSyncAllInput = { tenantIds: [tenantId] };
        expect(await env.client.workflow.execute(starter, { taskQueue, workflowId: `scoped-${randomUUID()}`, args: [input] })).toEqual({ started: 1, running: 0 });
        await env.client.workflow.getHandle(wecomSyncWorkflowId(tenantId)).result();
        expect(await env.client.workflow.execute(starter, { taskQueue, workflowId: `all-${randomUUID()}` })).toEqual({ started: 0, running: 0 });
      }
    });
    expect(asked).toEqual([{ tenantIds: [tenantId] }, {}, { tenantIds: [tenantId] }, {}]);
    expect(log.filter((l) => l.startsWith('open'))).toEqual([`open ${tenantId}`, `open ${tenantId} incremental`]);
  });

  it('the nightly start queues a full sync after an organization\'s running incremental sync', async () => {
    const tenantId = `inc-${randomUUID()}`;
    const { held, release } = gate();
    const { log, activities } = stubs({
      listWecomTenants: async () => [tenantId],
      syncWecomMembers: async () => { log.push('members'); await held; return 1; },
    });
    await withWorker(activities, async (taskQueue) => {
      await startSync(taskQueue, tenantId, 'incremental');
      await waitFor(() => log.includes('members'));
      const id = `nightly-${randomUUID()}`;
      expect(await env.client.workflow.execute(wecomNightlySyncWorkflow, { taskQueue, workflowId: id })).toEqual({ started: 0, running: 1 });
      if (process.env.RECORD_HISTORIES) saveHistory('wecomNightlySyncWorkflow-queued', await env.client.workflow.getHandle(id).fetchHistory());
      release();
      expect(await env.client.workflow.getHandle(wecomSyncWorkflowId(tenantId)).result()).toEqual({ runId: `run-${tenantId}`, status: 'succeeded' });
    });
    expect(log.filter((l) => l.startsWith('open'))).toEqual([`open ${tenantId} incremental`, `open ${tenantId}`]);
  });
});

/** Polls a condition of the stubs' log (real time: the stubs run on this process). */
async function waitFor(ok: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

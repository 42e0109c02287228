import { workflowIds } from '@sop/temporal';
import { wecomNightlySyncWorkflow, wecomSyncWorkflow, type WecomNightlyActivities, type WecomSyncActivities } from '@sop/workflows';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { WORKFLOW_BUNDLE } from '../support/env';
import { saveHistory } from '../support/histories';
import { workflowTestEnv } from '../support/workflow-env';

const wecomSyncWorkflowId = workflowIds.wecomSync;

/** The WeCom sync's orchestration: pages until done, a refusal ends the run failed, the nightly start skips a running sync. */
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
      syncWecomMembers: async () => { log.push('members'); return 2; },
      syncWecomTags: async () => { log.push('tags'); return 3; },
      syncWecomContacts: async () => { log.push('contacts'); return { done: ++contactCalls >= 3 }; },
      syncWecomGroups: async () => { log.push('groups'); return { done: ++groupCalls >= 2 }; },
      finishWecomSync: async (tenantId, runId, error) => { log.push(`finish ${runId} ${error ?? 'ok'}`); },
      ...overrides,
    };
    return { log, activities };
  };
  const worker = (taskQueue: string, activities: object) => Worker.create({
    connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities, workflowBundle: { codePath: WORKFLOW_BUNDLE },
  });

  it('walks members, tags, contact pages and group pages until each is done, then finishes the run', async () => {
    const { log, activities } = stubs();
    const taskQueue = `wf-${randomUUID()}`;
    const result = await (await worker(taskQueue, activities)).runUntil(
      env.client.workflow.execute(wecomSyncWorkflow, { taskQueue, workflowId: wecomSyncWorkflowId('t1'), args: [{ tenantId: 't1' }] }),
    );
    expect(result).toEqual({ runId: 'run-t1', status: 'succeeded' });
    expect(log).toEqual(['open t1', 'members', 'tags', 'contacts', 'contacts', 'contacts', 'groups', 'groups', 'finish run-t1 ok']);
  });

  it('ends the run failed with WeCom\'s refusal when an activity fails for good', async () => {
    const { log, activities } = stubs({
      syncWecomTags: async () => { throw ApplicationFailure.nonRetryable('WeCom /cgi-bin/externalcontact/get_corp_tag_list answered errcode 48002: api forbidden', 'WecomRefused'); },
    });
    const taskQueue = `wf-${randomUUID()}`;
    const result = await (await worker(taskQueue, activities)).runUntil(
      env.client.workflow.execute(wecomSyncWorkflow, { taskQueue, workflowId: wecomSyncWorkflowId('t2'), args: [{ tenantId: 't2' }] }),
    );
    expect(result).toEqual({ runId: 'run-t2', status: 'failed' });
    expect(log.at(-1)).toBe('finish run-t2 tags: WeCom /cgi-bin/externalcontact/get_corp_tag_list answered errcode 48002: api forbidden');
  });

  it('starts a sync of every connected organization, skipping one whose sync already runs', async () => {
    const busy = `busy-${randomUUID()}`;
    const idle = `idle-${randomUUID()}`;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const { log, activities } = stubs({
      listWecomTenants: async () => [busy, idle],
      // the busy organization's sync holds in its first step until the nightly start has come and gone
      syncWecomMembers: async (tenantId) => { if (tenantId === busy) await held; return 1; },
    });
    const taskQueue = `wf-${randomUUID()}`;
    const w = await worker(taskQueue, activities);
    await w.runUntil(async () => {
      const running = await env.client.workflow.start(wecomSyncWorkflow, { taskQueue, workflowId: wecomSyncWorkflowId(busy), args: [{ tenantId: busy }] });
      const nightlyId = `nightly-${randomUUID()}`;
      const nightly = await env.client.workflow.execute(wecomNightlySyncWorkflow, { taskQueue, workflowId: nightlyId });
      expect(nightly).toEqual({ started: 1, running: 1 });
      if (process.env.RECORD_HISTORIES) saveHistory('wecomNightlySyncWorkflow', await env.client.workflow.getHandle(nightlyId).fetchHistory());
      expect(await env.client.workflow.getHandle(wecomSyncWorkflowId(idle)).result()).toEqual({ runId: `run-${idle}`, status: 'succeeded' });
      release();
      expect(await running.result()).toEqual({ runId: `run-${busy}`, status: 'succeeded' });
    });
    expect(log.filter((l) => l.startsWith('open'))).toEqual(expect.arrayContaining([`open ${busy}`, `open ${idle}`]));
    expect(log.filter((l) => l === `open ${busy}`)).toHaveLength(1);
  });
});

import { archiveSignal, PASSES_PER_RUN, sopDispatcherWorkflow } from '@sop/workflows';
import { DateTime } from 'luxon';
import { randomUUID } from 'node:crypto';
import { createTagSystem } from '../support/fixtures';
import { saveHistory } from '../support/histories';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';
import { itWithTimeSkipping, sleepInSteps, useWorkflowEnv } from '../support/workflow-env';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OFFSETS = [0, 3, 6, 9];
/** A template that passes the designer's checks but fails at run time (Liquid's memory limit), as in sop-held. */
const FAILING = 'Hi {{ contact.name }}{% for i in (1..5000000) %}x{% endfor %}';

/** The dispatcher's runs with real activities on real Postgres, on the time-skipping server. */
describe('sopDispatcherWorkflow across continue-as-new (time-skipping server, real activities)', () => {
  const ctx = useStack();
  const wf = useWorkflowEnv();

  itWithTimeSkipping('continues as new in the middle of a journey: enrollments keep their schedule, no task is lost or made twice', async () => {
    const env = wf.env();
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const contact = async (name: string, tagIds: string[]) => (await t.admin.post('/api/contacts', {
      externalId: name, name, ownerId: owner.id, timezone: 'UTC', tags: tagIds,
    })).body.id as string;
    const early = [await contact('early-1', [tags.intentHigh.id]), await contact('early-2', [tags.intentHigh.id])];
    const late = [await contact('late-1', []), await contact('late-2', [])];
    const sop = (await t.admin.post('/api/sops', { name: 'Long journey', definition: {
      kind: 'journey', timezone: 'UTC', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: OFFSETS.map((offsetDays) => ({ name: `Day ${offsetDays}`, offsetDays, window: { start: '00:00', end: '23:59' },
        channel: 'wecom_chat', content: { template: `Day ${offsetDays} for {{ contact.name }}` }, executor: { rule: 'contactOwner' } })),
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);

    const tasks = () => ctx.stack.db.query(
      `SELECT e.contact_id, e.entered_at, t.step_index, t.due_at FROM tasks t JOIN enrollments e ON e.id = t.enrollment_id
        WHERE t.sop_id = $1 ORDER BY e.contact_id, t.step_index`, [sop.id],
    ) as Promise<{ contact_id: string; entered_at: Date; step_index: number; due_at: Date }[]>;
    const taskQueue = `wf-${randomUUID()}`;
    const workflowId = `dispatcher-${randomUUID()}`;
    const worker = await wf.worker(ctx.stack.db, taskQueue);
    await worker.runUntil(async () => {
      // An idle poll of an hour: a pass an hour at least, so the run reaches PASSES_PER_RUN after about a week.
      const first = await env.client.workflow.start(sopDispatcherWorkflow, {
        taskQueue, workflowId, args: [{ sopId: sop.id, idlePollMs: HOUR, parallelPages: 1 }],
      });
      const firstRun = env.client.workflow.getHandle(workflowId, first.firstExecutionRunId);
      // Day 4: the late contacts enter the segment, so at the continue-as-new the two groups are at different steps.
      await sleepInSteps(env, 4 * DAY);
      for (const id of late) expect((await t.admin.post(`/api/contacts/${id}/tags`, { add: [tags.intentHigh.id] })).status).toBe(200);
      let days = 4;
      while ((await firstRun.describe()).status.name !== 'CONTINUED_AS_NEW') {
        expect(days).toBeLessThan(PASSES_PER_RUN / 24 + 2);
        await env.sleep(HOUR * 6);
        days += 0.25;
      }
      // Mid-journey at the continue-as-new: every enrollment is active with steps still to come.
      const atContinue = await ctx.stack.db.query(
        `SELECT next_step, status FROM enrollments WHERE sop_id = $1 ORDER BY next_step`, [sop.id]);
      expect(atContinue).toHaveLength(4);
      for (const e of atContinue) {
        expect(e.status).toBe('active');
        expect(e.next_step).toBeGreaterThanOrEqual(1);
        expect(e.next_step).toBeLessThan(OFFSETS.length);
      }
      const tasksAtContinue = (await tasks()).length;

      // The next run finishes every journey: each enrollment's four steps, once each, on its own schedule.
      await sleepInSteps(env, 14 * DAY);
      const all = await tasks();
      expect(all.length).toBeGreaterThan(tasksAtContinue);
      expect(all).toHaveLength(4 * OFFSETS.length);
      for (const id of [...early, ...late]) {
        const mine = all.filter((r) => r.contact_id === id);
        expect(mine.map((r) => r.step_index)).toEqual([0, 1, 2, 3]);
        const entered = DateTime.fromJSDate(mine[0].entered_at, { zone: 'UTC' }).startOf('day');
        for (const r of mine.slice(1)) {
          expect(DateTime.fromJSDate(r.due_at, { zone: 'UTC' }).toISODate()).toBe(entered.plus({ days: OFFSETS[r.step_index] }).toISODate());
        }
      }
      const enrolled = await ctx.stack.db.query(`SELECT contact_id, status FROM enrollments WHERE sop_id = $1`, [sop.id]);
      expect(enrolled).toHaveLength(4);
      expect(enrolled.every((e: { status: string }) => e.status === 'completed')).toBe(true);
      // The late contacts entered days after the early ones: the continue-as-new lost neither group's place.
      const enteredDay = (id: string) => DateTime.fromJSDate(all.find((r) => r.contact_id === id)!.entered_at).toMillis();
      expect(enteredDay(late[0]) - enteredDay(early[0])).toBeGreaterThanOrEqual(4 * DAY);

      const latest = env.client.workflow.getHandle(workflowId);
      expect((await latest.describe()).runId).not.toBe(first.firstExecutionRunId);
      await t.admin.post(`/api/sops/${sop.id}/archive`);
      await latest.signal(archiveSignal);
      expect(await latest.result()).toEqual({ archived: true });
      if (process.env.RECORD_HISTORIES) {
        saveHistory('sopDispatcherWorkflow-continued', await firstRun.fetchHistory());
        saveHistory('sopDispatcherWorkflow-after-continue', await latest.fetchHistory());
      }
    });
  }, 600_000);

  itWithTimeSkipping('holds the tasks of a step whose template fails to render, and carries on with the next step', async () => {
    const env = wf.env();
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    for (const n of [1, 2, 3]) await t.admin.post('/api/contacts', { externalId: `h${n}`, name: `客户${n}`, ownerId: owner.id, tags: [tags.intentHigh.id] });
    const step = (name: string, offsetDays: number, template: string) => ({ name, offsetDays, window: { start: '00:00', end: '23:59' },
      channel: 'phone_call', content: { template }, executor: { rule: 'contactOwner' } });
    const sop = (await t.admin.post('/api/sops', { name: 'Broken', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [step('Call', 0, FAILING), step('Follow up', 1, 'Hello {{ contact.name }}')], policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await wf.worker(ctx.stack.db, taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(sopDispatcherWorkflow, {
        taskQueue, workflowId: `dispatcher-${randomUUID()}`, args: [{ sopId: sop.id, idlePollMs: DAY, pageSize: 2 }],
      });
      await sleepInSteps(env, 3 * DAY);
      const rows = await ctx.stack.db.query(
        `SELECT step_index, status, count(*)::int AS n FROM tasks WHERE sop_id = $1 GROUP BY 1, 2 ORDER BY 1`, [sop.id]);
      expect(rows).toEqual([{ step_index: 0, status: 'held', n: 3 }, { step_index: 1, status: 'pending', n: 3 }]);
      await t.admin.post(`/api/sops/${sop.id}/archive`);
      await handle.signal(archiveSignal);
      expect(await handle.result()).toEqual({ archived: true });
      if (process.env.RECORD_HISTORIES) saveHistory('sopDispatcherWorkflow-held', await handle.fetchHistory());
    });
  }, 180_000);
});

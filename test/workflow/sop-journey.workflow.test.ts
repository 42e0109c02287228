import { archiveSignal, pauseSignal, resumeSignal, sopDispatcherWorkflow } from '@sop/workflows';
import { DateTime } from 'luxon';
import { randomUUID } from 'node:crypto';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';
import { itWithTimeSkipping, sleepInSteps, useWorkflowEnv } from '../support/workflow-env';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONE = 'America/New_York';

/**
 * The dispatcher with its real activities on real Postgres, on the time-skipping server: a week of
 * journey passes in seconds. The workflow hands its clock to the activities, so "now" is skipped time.
 */
describe('sopDispatcherWorkflow: a journey across a week (time-skipping server, real activities)', () => {
  const ctx = useStack();
  const wf = useWorkflowEnv();

  itWithTimeSkipping('skips a holiday, works a make-up day, keeps quiet hours in the contact zone, and loses nothing across pause and resume', async () => {
    const env = wf.env();
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const contact = (await t.admin.post('/api/contacts', {
      externalId: 'ny', name: 'Ana', ownerId: owner.id, timezone: ZONE, tags: [tags.intentHigh.id],
    })).body;

    // The days around "now" (skipped time starts at the real clock), set explicitly so the test holds on any date:
    // day 2 is a holiday; the first Saturday from day 5 on (day S) is a make-up working day for the holiday on the
    // Friday before it; the Sunday after rests; every other day works.
    const start = DateTime.fromMillis(await env.currentTimeMs(), { zone: ZONE });
    const day = (n: number) => start.startOf('day').plus({ days: n });
    let S = 5;
    while (day(S).weekday !== 6) S++;
    for (let n = 0; n <= S + 1; n++) {
      const working = n !== 2 && n !== S - 1 && n !== S + 1;
      const name = n === 2 || n === S - 1 ? 'Holiday 假日' : n === S ? 'Make-up Saturday 调休上班' : '';
      await t.admin.put(`/api/calendar/days/${day(n).toISODate()}`, { working, name });
    }
    const definition = {
      kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id },
      entry: { includeExistingMembers: true },
      steps: [0, 2, S - 1].map((offsetDays) => ({
        name: `Day ${offsetDays}`, offsetDays, window: { start: '09:00', end: '11:00' }, channel: 'wecom_chat',
        content: { template: `Day ${offsetDays} for {{ contact.name }}` }, executor: { rule: 'contactOwner' },
      })),
      policies: { businessDaysOnly: true, quietHours: { start: '21:00', end: '09:30' } },
    };
    const sop = (await t.admin.post('/api/sops', { name: 'Week journey', definition })).body;
    // Activation through the API starts a dispatcher on the dev server, which has no worker for it here; this
    // test drives its own dispatcher on the time-skipping server over the same rows.
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);

    const taskQueue = `wf-${randomUUID()}`;
    const worker = await wf.worker(ctx.stack.db, taskQueue);
    const tasks = () => ctx.stack.db.query(
      `SELECT step_index, content, due_at, due_until FROM tasks WHERE sop_id = $1 ORDER BY step_index`, [sop.id],
    ) as Promise<{ step_index: number; content: string; due_at: Date; due_until: Date }[]>;
    const at = (d: DateTime, clock: string) => d.set({ hour: Number(clock.slice(0, 2)), minute: Number(clock.slice(3)) }).toJSDate();

    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(sopDispatcherWorkflow, {
        taskQueue, workflowId: `dispatcher-${randomUUID()}`, args: [{ sopId: sop.id, idlePollMs: DAY }],
      });
      // Day 0's window (09:30-11:00 after quiet hours) is still open or over; if over, the first task moves to day 1.
      const firstDay = start.toJSDate() < at(day(0), '11:00') ? day(0) : day(1);
      await env.sleep(HOUR);
      const untilFirst = at(firstDay, '09:30').getTime() - (await env.currentTimeMs());
      if (untilFirst > 0) await env.sleep(untilFirst + HOUR);
      expect((await tasks()).map((r) => r.step_index)).toEqual([0]);
      const [first] = await tasks();
      expect(first.content).toBe('Day 0 for Ana');
      expect(first.due_until).toEqual(at(firstDay, '11:00'));
      const [{ entered_at: entered }] = await ctx.stack.db.query(`SELECT entered_at FROM enrollments WHERE sop_id = $1`, [sop.id]);
      expect(first.due_at).toEqual(new Date(Math.max(at(firstDay, '09:30').getTime(), entered.getTime()))); // an open window starts at entry

      // Paused before day 3 (the holiday moved day 2 there): nothing is created while paused.
      await t.admin.post(`/api/sops/${sop.id}/pause`);
      await handle.signal(pauseSignal);
      await env.sleep(at(day(3), '12:00').getTime() - (await env.currentTimeMs()));
      expect((await tasks()).map((r) => r.step_index)).toEqual([0]);

      // Resumed late: the missed step is created once, with its own window (day 3, not the holiday).
      await t.admin.post(`/api/sops/${sop.id}/resume`);
      await handle.signal(resumeSignal);
      await env.sleep(HOUR);
      const afterResume = await tasks();
      expect(afterResume.map((r) => r.step_index)).toEqual([0, 1]);
      expect([afterResume[1].due_at, afterResume[1].due_until]).toEqual([at(day(3), '09:30'), at(day(3), '11:00')]);

      // The last step's day (the Friday before day S) is a holiday, so it falls on the make-up Saturday; then the
      // enrollment completes.
      await env.sleep(at(day(S + 1), '00:00').getTime() - (await env.currentTimeMs()));
      const all = await tasks();
      expect(all.map((r) => r.step_index)).toEqual([0, 1, 2]);
      expect(DateTime.fromJSDate(all[2].due_at, { zone: ZONE }).weekday).toBe(6);
      expect([all[2].due_at, all[2].due_until]).toEqual([at(day(S), '09:30'), at(day(S), '11:00')]);
      const [enrollment] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1`, [sop.id]);
      expect(enrollment).toEqual({ status: 'completed', close_reason: 'finished' });
      expect(contact.timezone).toBe(ZONE);

      await handle.signal(archiveSignal);
      expect(await handle.result()).toEqual({ archived: true });
    });
  });

  itWithTimeSkipping('exits on reply: the pending task is cancelled and the remaining steps never come', async () => {
    const env = wf.env();
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const contact = (await t.admin.post('/api/contacts', { externalId: 'r', name: 'Rui', ownerId: owner.id, tags: [tags.intentHigh.id] })).body;
    const sop = (await t.admin.post('/api/sops', { name: 'Nurture', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [0, 2, 4].map((offsetDays) => ({ name: `Day ${offsetDays}`, offsetDays, window: { start: '00:00', end: '23:59' },
        channel: 'wecom_chat', content: { template: 'Hi {{ contact.name }}' }, executor: { rule: 'contactOwner' } })),
      policies: { businessDaysOnly: false, exitOn: [{ on: 'replied' }] },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await wf.worker(ctx.stack.db, taskQueue);
    const tasks = () => ctx.stack.db.query(`SELECT step_index, status, cancel_reason FROM tasks WHERE sop_id = $1 ORDER BY step_index`, [sop.id]);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(sopDispatcherWorkflow, {
        taskQueue, workflowId: `dispatcher-${randomUUID()}`, args: [{ sopId: sop.id, idlePollMs: DAY }],
      });
      await env.sleep(HOUR);
      expect(await tasks()).toEqual([{ step_index: 0, status: 'pending', cancel_reason: null }]);
      // The customer replies (the response ingest sets this; here the API does); the relay would wake the dispatcher.
      await t.admin.patch(`/api/contacts/${contact.id}`, { lastRespondedAt: new Date(await env.currentTimeMs()).toISOString() });
      await handle.signal('wake');
      await env.sleep(HOUR);
      expect(await tasks()).toEqual([{ step_index: 0, status: 'cancelled', cancel_reason: 'replied' }]);
      await sleepInSteps(env, 6 * DAY);
      expect(await tasks()).toHaveLength(1);
      const [enrollment] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1`, [sop.id]);
      expect(enrollment).toEqual({ status: 'exited', close_reason: 'replied' });
      await handle.signal(archiveSignal);
      await handle.result();
    });
  });
});

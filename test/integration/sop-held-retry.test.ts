import { materializeOccurrencePage, retryHeldTasks } from '@sop/engine';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { testEnv } from '../support/env';
import { createTagSystem } from '../support/fixtures';
import { saveHistory } from '../support/histories';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A recurring or broadcast task that no day within a week had room for is held ("no room within 7 days: …") and
 * comes back when room appears (issue 14 item 2): the reminder sweep re-runs its placement, once an hour, until the
 * week after its first due time ends. Placed exactly once, never over the limit, however many sweeps run at once.
 */
describe('Tasks held for want of room come back when room appears (real Postgres, real Temporal, worker)', () => {
  const ctx = useStack({ worker: true });
  const db = () => ctx.stack.db;

  const step = { name: 'Report', dueWithinMinutes: 60, channel: 'wecom_chat', content: { template: 'Hi {{ contact.name }}, {{ executor.name }} here' },
    executor: { rule: 'contactOwner' } };
  const daily = (segmentId: string, policies: Record<string, unknown>) => ({
    kind: 'recurring', timezone: 'Asia/Shanghai', audience: { segmentId }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=10;BYMINUTE=0' }, steps: [step], policies,
  });

  const tenantOf = async (sopId: string): Promise<string> => (await db().query(`SELECT tenant_id FROM sops WHERE id = $1`, [sopId]))[0].tenant_id;

  it('places a task held for a full week once a day has room: exactly once, never over the capacity; past its week it stays held', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    for (const i of [0, 1, 2]) {
      const res = await t.admin.post('/api/contacts', { externalId: `c${i}`, name: `客户${i}`, ownerId: owner.id, tags: [tags.intentHigh.id], timezone: 'Asia/Shanghai' });
      expect(res.status).toBe(201);
    }
    const activate = async (name: string, definition: unknown) => {
      const res = await t.admin.post('/api/sops', { name, definition });
      expect(res.status).toBe(201);
      expect((await t.admin.post(`/api/sops/${res.body.id}/activate`)).status).toBe(200);
      return res.body.id as string;
    };
    const CAPACITY = 3;
    const filler = await activate('Filler', daily(segment.id, { businessDaysOnly: false }));
    const main = await activate('Main', daily(segment.id, { businessDaysOnly: false, executorDailyCapacity: CAPACITY, overflow: 'defer' }));
    let wednesday = DateTime.now().setZone('Asia/Shanghai').plus({ days: 1 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    while (wednesday.weekday !== 3) wednesday = wednesday.plus({ days: 1 });
    const occurrence = wednesday.toJSDate();
    const at = (ms: number) => new Date(occurrence.getTime() + ms);
    const fire = (sopId: string, when: Date) => materializeOccurrencePage(db(), { sopId, occurrence: when, after: null, limit: 100 });

    // The owner's next eight days are full (three Filler tasks a day); Main's three tasks find no room within the week.
    for (let day = 0; day <= 7; day++) expect(await fire(filler, wednesday.plus({ days: day }).toJSDate())).toMatchObject({ tasks: 3 });
    expect(await fire(main, occurrence)).toMatchObject({ tasks: 3 });
    const mainTasks = () => db().query(
      `SELECT id, status, held_reason, executor_id, due_at, due_until, content FROM tasks WHERE sop_id = $1 ORDER BY id`, [main]);
    expect(await mainTasks()).toEqual(Array.from({ length: 3 }, () =>
      expect.objectContaining({ status: 'held', held_reason: 'no room within 7 days: executor capacity', due_at: occurrence })));
    // Ops and admins are told once for the version and reason, in words that say why and what makes room.
    const notices = (await t.admin.get('/api/notifications')).body.items.filter((x: { kind: string }) => x.kind === 'task_held');
    expect(notices).toEqual([expect.objectContaining({ title: 'SOP「Main」有任务因名额已满被暂扣', link: `/sops/${main}`,
      body: expect.stringContaining('7 天内没有空位：执行人每日容量'), data: expect.objectContaining({ reason: 'no room within 7 days: executor capacity' }) })]);
    expect(notices[0].body).toMatch(/有空位时会自动派发/);
    expect(await fire(main, occurrence)).toMatchObject({ tasks: 0 }); // the page again: nobody told twice
    expect((await t.admin.get('/api/notifications')).body.items.filter((x: { kind: string }) => x.kind === 'task_held')).toHaveLength(1);
    const retries = () => db().query(`SELECT task_id, retry_at, until FROM task_hold_retries WHERE sop_id = $1 ORDER BY task_id`, [main]);
    expect(await retries()).toEqual(Array.from({ length: 3 }, () => ({ task_id: expect.any(String), retry_at: at(HOUR), until: at(7 * DAY) })));

    // Not yet due: nothing tried. Due, still no room: tried again an hour later.
    const tenants = [await tenantOf(main)];
    expect(await retryHeldTasks(db(), at(30 * 60_000), tenants)).toEqual({ placed: 0, stillHeld: 0, givenUp: 0 });
    expect(await retryHeldTasks(db(), at(HOUR), tenants)).toEqual({ placed: 0, stillHeld: 3, givenUp: 0 });
    expect((await retries()).map((r: { retry_at: Date }) => r.retry_at)).toEqual([at(2 * HOUR), at(2 * HOUR), at(2 * HOUR)]);

    // Room appears: the owner skips one Filler task on Saturday (skipped tasks do not count against the capacity).
    const saturday = wednesday.plus({ days: 3 });
    const [skippable] = await db().query(`SELECT id FROM tasks WHERE sop_id = $1 AND due_at = $2 ORDER BY id LIMIT 1`, [filler, saturday.toJSDate()]);
    expect((await owner.client.post(`/api/inbox/tasks/${skippable.id}/skip`, { reason: '客户出差' })).status).toBe(200);

    // The reminder sweep (the real workflow) and two more sweeps in pages of one, all at once: one task placed, once.
    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    const workflowId = `reminder-sweep-held-${ctx.stack.taskQueue}`;
    const now = at(2 * HOUR + 60_000);
    try {
      const client = new Client({ connection });
      const [swept, ...runs] = await Promise.all([
        client.workflow.execute('reminderSweepWorkflow', { taskQueue: ctx.stack.taskQueue, workflowId, args: [{ now: now.getTime(), tenantIds: tenants }] }),
        retryHeldTasks(db(), now, tenants, 1),
        retryHeldTasks(db(), now, tenants, 1),
      ]);
      expect(swept).toHaveProperty('held');
      const placed = [swept.held, ...runs].reduce((sum, r) => sum + r.placed, 0);
      expect(placed).toBe(1);
      if (process.env.RECORD_HISTORIES) saveHistory('reminderSweepWorkflow-held-retry', await client.workflow.getHandle(workflowId).fetchHistory());
    } finally {
      await connection.close();
    }
    const after = await mainTasks();
    const released = after.filter((r: { status: string }) => r.status === 'pending');
    expect(released).toHaveLength(1);
    // On Saturday at the window's start (the occurrence's time of day), for an hour, rendered for its executor.
    expect(released[0]).toMatchObject({ executor_id: owner.id, due_at: saturday.toJSDate(), due_until: saturday.plus({ hours: 1 }).toJSDate() });
    expect(released[0].content).toMatch(/^Hi 客户\d, Test employee here$/);
    expect(after.filter((r: { status: string }) => r.status === 'held')).toHaveLength(2);
    const [event] = await db().query(`SELECT detail FROM task_events WHERE task_id = $1 AND action = 'released'`, [released[0].id]);
    expect(event.detail).toMatchObject({ heldReason: 'no room within 7 days: executor capacity', to: expect.any(String) });
    const perDay = await db().query(
      `SELECT to_char(due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, count(*)::int AS n FROM tasks
        WHERE executor_id = $1 AND status IN ('pending', 'done', 'expired') GROUP BY 1 ORDER BY 1`, [owner.id]);
    expect(perDay).toHaveLength(8);
    expect(perDay.every((d: { n: number }) => d.n === CAPACITY)).toBe(true); // full again, never over
    expect((await retries()).map((r: { task_id: string }) => r.task_id)).toEqual(
      after.filter((r: { status: string }) => r.status === 'held').map((r: { id: string }) => r.id));

    // Later sweeps place nothing more while no room appears; past the week the held tasks stay held, not tried again.
    expect(await retryHeldTasks(db(), at(4 * HOUR), tenants)).toEqual({ placed: 0, stillHeld: 2, givenUp: 0 });
    expect(await retryHeldTasks(db(), at(7 * DAY + 60_000), tenants)).toEqual({ placed: 0, stillHeld: 0, givenUp: 2 });
    expect(await retries()).toEqual([]);
    expect((await mainTasks()).map((r: { status: string }) => r.status).sort()).toEqual(['held', 'held', 'pending']);
  }, 120_000);

  it('places a held task from now on: today\'s window when still open, and never for a paused or archived SOP', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const contact = (await t.admin.post('/api/contacts', { externalId: 'c0', name: '客户', ownerId: owner.id, tags: [tags.intentHigh.id], timezone: 'Asia/Shanghai' })).body;
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 1, perWeek: 1 })).status).toBe(200);
    const activate = async (name: string, definition: unknown) => {
      const res = await t.admin.post('/api/sops', { name, definition });
      expect(res.status).toBe(201);
      expect((await t.admin.post(`/api/sops/${res.body.id}/activate`)).status).toBe(200);
      return res.body.id as string;
    };
    const weekly = (name: string) => activate(name, { ...daily(segment.id, { businessDaysOnly: false }), schedule: { rrule: 'FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0' } });
    const first = await weekly('First');
    const second = await weekly('Second');
    const third = await weekly('Third');
    let monday = DateTime.now().setZone('Asia/Shanghai').plus({ days: 1 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    while (monday.weekday !== 1) monday = monday.plus({ days: 1 });
    const fire = (sopId: string) => materializeOccurrencePage(db(), { sopId, occurrence: monday.toJSDate(), after: null, limit: 100 });
    // A cap of one a week: the first takes this week, the second next Monday, the third finds no room within 7 days.
    for (const sop of [first, second, third]) await fire(sop);
    const statusOf = async (sop: string) => (await db().query(`SELECT id, status, due_at FROM tasks WHERE sop_id = $1`, [sop]))[0];
    expect(await statusOf(third)).toMatchObject({ status: 'held' });

    // Paused: not tried, tried again later. The first SOP archived: its pending task is cancelled, room this week.
    expect((await t.admin.post(`/api/sops/${third}/pause`)).status).toBe(200);
    expect((await t.admin.post(`/api/sops/${first}/archive`)).status).toBe(200);
    const tenants = [await tenantOf(third)];
    const at = (hours: number) => monday.plus({ hours }).toJSDate();
    expect(await retryHeldTasks(db(), at(1), tenants)).toEqual({ placed: 0, stillHeld: 0, givenUp: 0 });
    expect(await statusOf(third)).toMatchObject({ status: 'held' });
    // Resumed: placed at the next sweep past its retry, at once, inside Monday's still open window (10:00 to 11:00).
    expect((await t.admin.post(`/api/sops/${third}/resume`)).status).toBe(200);
    expect(await retryHeldTasks(db(), new Date(at(2).getTime() - 20 * 60_000), tenants)).toEqual({ placed: 0, stillHeld: 0, givenUp: 0 });
    const inWindow = monday.plus({ minutes: 50 }).toJSDate();
    await db().query(`UPDATE task_hold_retries SET retry_at = $2 WHERE sop_id = $1`, [third, inWindow]); // tried inside the window
    expect(await retryHeldTasks(db(), inWindow, tenants)).toEqual({ placed: 1, stillHeld: 0, givenUp: 0 });
    expect(await statusOf(third)).toMatchObject({ status: 'pending', due_at: inWindow });
    const weeks = await db().query(
      `SELECT to_char(due_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-IW') AS week, count(*)::int AS n FROM tasks
        WHERE contact_id = $1 AND status IN ('pending', 'done', 'expired') GROUP BY 1`, [contact.id]);
    expect(weeks.every((w: { n: number }) => w.n === 1)).toBe(true);

    // An archived SOP's held task is never placed: its retry goes, the task stays held.
    expect((await fire(second)).tasks).toBe(0); // a repeat adds nothing
    await db().query(`UPDATE tasks SET status = 'held', held_reason = 'no room within 7 days: contact cap' WHERE sop_id = $1`, [second]);
    const [held] = await db().query(`SELECT id FROM tasks WHERE sop_id = $1`, [second]);
    await db().query(`INSERT INTO task_hold_retries (task_id, tenant_id, sop_id, retry_at, until) VALUES ($1, $2, $3, $4, $5)`,
      [held.id, tenants[0], second, at(1), at(24 * 7)]);
    expect((await t.admin.post(`/api/sops/${second}/archive`)).status).toBe(200);
    expect(await retryHeldTasks(db(), at(3), tenants)).toEqual({ placed: 0, stillHeld: 0, givenUp: 0 });
    expect(await statusOf(second)).toMatchObject({ status: 'held' });
    expect((await db().query(`SELECT 1 FROM task_hold_retries WHERE sop_id = $1`, [second]))).toHaveLength(0);
  }, 120_000);
});

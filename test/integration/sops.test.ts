import { workflowIds } from '@sop/temporal';
import { startWakeRelay } from '@sop/worker';
import { Client, Connection } from '@temporalio/client';
import { zoneWithOpenWindow } from '../support/clock';
import { testEnv } from '../support/env';
import { createTagSystem } from '../support/fixtures';
import { saveHistory } from '../support/histories';
import { addUser, signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';
import { waitUntil } from '../support/poll';


const allDay = { start: '00:00', end: '23:59' };

describe('SOPs: define, activate and dispatch journeys (real Postgres and Temporal)', () => {
  const ctx = useStack({ worker: true });
  let client: Client;
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    client = new Client({ connection });
  });
  afterAll(() => connection?.close());

  async function setup(t: TenantFixture) {
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    return { tags, owner, segment };
  }

  const journey = (segmentId: string, extra: Record<string, unknown> = {}) => ({
    kind: 'journey',
    audience: { segmentId },
    entry: { includeExistingMembers: true, reentry: 'never' },
    steps: [
      { name: 'Welcome', offsetDays: 0, window: allDay, channel: 'wecom_chat',
        content: { template: '{{ contact.name }}，您好！我是{{ owner.name }}。', materials: [{ title: 'Coupon', url: 'https://example.com/c' }] },
        executor: { rule: 'contactOwner' } },
      { name: 'Follow up', offsetDays: 3, window: { start: '14:00', end: '17:00' }, channel: 'phone_call',
        content: { template: 'Call {{ contact.name }} about Product B' }, executor: { rule: 'contactOwner' } },
    ],
    policies: { businessDaysOnly: false, exitOn: [{ on: 'leftSegment' }] },
    ...extra,
  });

  const tasksOf = (sopId: string) => ctx.stack.db.query(
    `SELECT contact_id, executor_id, step_index, channel, content, materials, status, cancel_reason, due_at, due_until
       FROM tasks WHERE sop_id = $1 ORDER BY step_index, contact_id`, [sopId]);

  it('refuses bad definitions with 422 naming each JSON path, on save and again on activation', async () => {
    const t = await signupTenant(ctx.http);
    const { segment } = await setup(t);
    const bad = await t.admin.post('/api/sops', { name: 'Bad', definition: journey('6f1c7a52-1111-4111-8111-111111111111', {
      steps: [{ name: 'x', offsetDays: 0, window: { start: '12:00', end: '09:00' }, channel: 'wecom_chat',
        content: { template: 'Hi {{ contact.nickname }}' }, executor: { rule: 'user', userId: '6f1c7a52-2222-4222-8222-222222222222' } }],
    }) });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('SOP_INVALID');
    expect(bad.body.details.map((d: { path: string }) => d.path)).toEqual([
      'definition.audience.segmentId', 'definition.steps[0].window', 'definition.steps[0].executor.userId', 'definition.steps[0].content.template',
    ]);
    const every = await t.admin.post('/api/sops', { name: 'Every second', definition: { ...journey(segment.id), kind: 'recurring',
      schedule: { rrule: 'FREQ=SECONDLY' } } });
    expect(every.status).toBe(422);
    expect(every.body.details).toContainEqual({ path: 'definition.schedule.rrule', problem: expect.stringContaining('at most hourly') });
    expect((await t.admin.get('/api/sops')).body).toEqual([]); // nothing half-saved

    // Saved while valid, then its segment's tag system changes under it: activation checks again.
    const user = await addUser(t, ctx.http, 'employee');
    const draft = (await t.admin.post('/api/sops', { name: 'Draft', definition: journey(segment.id, {
      steps: [{ name: 'x', offsetDays: 0, window: allDay, channel: 'sms', content: { template: 'hi' }, executor: { rule: 'user', userId: user.id } }],
    }) })).body;
    await t.admin.patch(`/api/users/${user.id}`, { disabled: true });
    const activation = await t.admin.post(`/api/sops/${draft.id}/activate`);
    expect(activation.status).toBe(422);
    expect(activation.body.details).toEqual([{ path: 'definition.steps[0].executor.userId', problem: `unknown or disabled user ${user.id}` }]);
    expect((await t.admin.get(`/api/sops/${draft.id}`)).body).toMatchObject({ status: 'draft', currentVersion: null });
  });

  it('only admins and ops design SOPs; managers may read them', async () => {
    const t = await signupTenant(ctx.http);
    const { segment } = await setup(t);
    const employee = await addUser(t, ctx.http, 'employee');
    const manager = await addUser(t, ctx.http, 'manager');
    expect((await employee.client.post('/api/sops', { name: 'x', definition: journey(segment.id) })).status).toBe(403);
    expect((await manager.client.post('/api/sops', { name: 'x', definition: journey(segment.id) })).status).toBe(403);
    const sop = (await t.admin.post('/api/sops', { name: 'x', definition: journey(segment.id) })).body;
    expect((await manager.client.get(`/api/sops/${sop.id}`)).status).toBe(200);
    expect((await employee.client.get(`/api/sops/${sop.id}`)).status).toBe(403);
    const other = await signupTenant(ctx.http);
    expect((await other.admin.get(`/api/sops/${sop.id}`)).status).toBe(404);
    expect((await other.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(404);
  });

  it('activates a journey: existing members enroll, tasks are rendered for the contact owner, versions are immutable', async () => {
    const t = await signupTenant(ctx.http);
    const { tags, owner, segment } = await setup(t);
    const wang = (await t.admin.post('/api/contacts', { externalId: 'wang', name: '王芳', ownerId: owner.id, tags: [tags.intentHigh.id],
      timezone: zoneWithOpenWindow() })).body; // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    const sop = (await t.admin.post('/api/sops', { name: 'Welcome journey 欢迎旅程', definition: journey(segment.id) })).body;
    expect(sop).toMatchObject({ status: 'draft', kind: 'journey', currentVersion: null });

    const forecast = (await t.admin.get(`/api/sops/${sop.id}/forecast`)).body;
    expect(forecast).toMatchObject({ reach: 1, entering: 1 });
    expect(forecast.days).toEqual([
      expect.objectContaining({ executorId: owner.id, tasks: 1, date: forecast.from }),
      expect.objectContaining({ executorId: owner.id, tasks: 1 }),
    ]);

    const activated = await t.admin.post(`/api/sops/${sop.id}/activate`);
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ status: 'active', currentVersion: 1 });
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).body).toMatchObject({ status: 'active', currentVersion: 1 });

    const [task] = await waitUntil(() => tasksOf(sop.id), (rows) => rows.length === 1, 'the welcome task');
    expect(task).toMatchObject({
      contact_id: wang.id, executor_id: owner.id, step_index: 0, channel: 'wecom_chat', status: 'pending',
      content: '王芳，您好！我是Test employee。', materials: [{ title: 'Coupon', url: 'https://example.com/c', tagIds: [] }],
    });
    const [enrollment] = await ctx.stack.db.query(`SELECT next_step, next_due_at, status FROM enrollments WHERE sop_id = $1`, [sop.id]);
    expect(enrollment).toMatchObject({ next_step: 1, status: 'active' });
    expect(enrollment.next_due_at.getTime()).toBeGreaterThan(Date.now() + 2 * 86_400_000);

    // Editing the active SOP publishes version 2; the enrollment stays on version 1.
    const edited = await t.admin.patch(`/api/sops/${sop.id}`, { definition: journey(segment.id, { policies: { businessDaysOnly: true } }) });
    expect(edited.body).toMatchObject({ status: 'active', currentVersion: 2 });
    const detail = (await t.admin.get(`/api/sops/${sop.id}`)).body;
    expect(detail.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(detail.enrollments).toEqual({ active: 1, completed: 0, exited: 0 });
    const [{ version }] = await ctx.stack.db.query(
      `SELECT v.version FROM enrollments e JOIN sop_versions v ON v.id = e.sop_version_id WHERE e.sop_id = $1`, [sop.id]);
    expect(version).toBe(1);

    // On purpose, open enrollments move to the current version.
    expect((await t.admin.post(`/api/sops/${sop.id}/migrate-enrollments`, {})).body).toEqual({ migrated: 1, toVersion: 2 });
    expect((await t.admin.post(`/api/sops/${sop.id}/migrate-enrollments`, { fromVersion: 1 })).body).toEqual({ migrated: 0, toVersion: 2 });
    expect((await t.admin.post(`/api/sops/${sop.id}/migrate-enrollments`, { fromVersion: 0 })).status).toBe(400);
    const [{ version: migratedTo }] = await ctx.stack.db.query(
      `SELECT v.version FROM enrollments e JOIN sop_versions v ON v.id = e.sop_version_id WHERE e.sop_id = $1`, [sop.id]);
    expect(migratedTo).toBe(2);

    // What a published SOP refers to cannot be deleted; a published SOP cannot be deleted either.
    expect((await t.admin.delete(`/api/segments/${segment.id}`)).body)
      .toMatchObject({ code: 'SEGMENT_IN_USE', details: [{ path: `sops/${sop.id}`, kind: 'sop', name: sop.name }] });
    expect((await t.admin.delete(`/api/sops/${sop.id}`)).body).toMatchObject({ code: 'SOP_PUBLISHED' });
  });

  it('enrolls new entrants as they enter (the wake relay follows the outbox), exits leavers, pauses, resumes and archives', async () => {
    const t = await signupTenant(ctx.http);
    const { tags, owner, segment } = await setup(t);
    const sop = (await t.admin.post('/api/sops', { name: 'Journey', definition: journey(segment.id) })).body;
    await t.admin.post(`/api/sops/${sop.id}/activate`);
    const handle = client.workflow.getHandle(workflowIds.sopDispatcher(sop.id));
    const relay = await startWakeRelay(ctx.stack.db, client, { intervalMs: 100 });

    try {
      const entered = Date.now();
      const li = (await t.admin.post('/api/contacts', { externalId: 'li', name: '李雷', ownerId: owner.id, tags: [tags.intentHigh.id],
        timezone: zoneWithOpenWindow() })).body; // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
      await waitUntil(() => tasksOf(sop.id), (rows) => rows.length === 1, 'a task for the new entrant', 10_000);
      expect(Date.now() - entered).toBeLessThan(5000); // woken, not the 5-minute poll

      // Li leaves the segment: the enrollment closes with the reason and the pending task is cancelled.
      await t.admin.post(`/api/contacts/${li.id}/tags`, { remove: [tags.intentHigh.id] });
      const [cancelled] = await waitUntil(() => tasksOf(sop.id), (rows) => rows[0]?.status === 'cancelled', 'the cancelled task');
      expect(cancelled.cancel_reason).toBe('left the segment');
      const [closed] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1`, [sop.id]);
      expect(closed).toEqual({ status: 'exited', close_reason: 'left the segment' });

      // Paused: a new entrant waits; resumed: its task is created, once.
      expect((await t.admin.post(`/api/sops/${sop.id}/pause`)).body.status).toBe('paused');
      expect((await t.admin.post(`/api/sops/${sop.id}/pause`)).body.status).toBe('paused');
      await waitUntil(() => handle.query<{ state: string }>('status'), (s) => s.state === 'paused', 'the paused dispatcher');
      const han = (await t.admin.post('/api/contacts', { externalId: 'han', name: '韩梅梅', ownerId: owner.id, tags: [tags.intentHigh.id],
        timezone: zoneWithOpenWindow() })).body; // as Li
      await handle.signal('wake');
      await new Promise((r) => setTimeout(r, 1000));
      expect((await tasksOf(sop.id)).filter((r: { contact_id: string }) => r.contact_id === han.id)).toEqual([]);
      expect((await t.admin.post(`/api/sops/${sop.id}/resume`)).body.status).toBe('active');
      await waitUntil(() => tasksOf(sop.id), (rows) => rows.some((r: { contact_id: string }) => r.contact_id === han.id), "han's task");
      expect((await tasksOf(sop.id)).filter((r: { contact_id: string }) => r.contact_id === han.id)).toHaveLength(1);

      // Archived: pending tasks are cancelled and the dispatcher ends.
      const archived = await t.admin.post(`/api/sops/${sop.id}/archive`);
      expect(archived.body.status).toBe('archived');
      expect(await handle.result()).toEqual({ archived: true });
      expect((await tasksOf(sop.id)).map((r: { status: string }) => r.status)).toEqual(['cancelled', 'cancelled']);
      expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(409);
      if (process.env.RECORD_HISTORIES) saveHistory('sopDispatcherWorkflow', await handle.fetchHistory());
    } finally {
      await relay.stop();
    }
  });

  it('serves the business calendar: shipped holidays and make-up days, with tenant corrections on top', async () => {
    const t = await signupTenant(ctx.http);
    const employee = await addUser(t, ctx.http, 'employee');
    const days = (await employee.client.get('/api/calendar/days?from=2026-09-30&to=2026-10-11')).body;
    expect(days).toHaveLength(12);
    expect(days[1]).toEqual({ date: '2026-10-01', working: false, name: 'National Day / 国庆节', source: 'cn' });
    expect(days[10]).toMatchObject({ date: '2026-10-10', working: true, source: 'cn' }); // make-up Saturday

    expect((await employee.client.put('/api/calendar/days/2026-10-09', { working: false })).status).toBe(403);
    const closed = await t.admin.put('/api/calendar/days/2026-10-09', { working: false, name: 'Store anniversary 店庆' });
    expect(closed.body).toEqual({ date: '2026-10-09', working: false, name: 'Store anniversary 店庆', source: 'tenant' });
    expect((await t.admin.put('/api/calendar/days/2026-10-09', { working: false, name: 'Store anniversary 店庆' })).body).toEqual(closed.body);
    expect((await t.admin.get('/api/calendar/days?from=2026-10-09&to=2026-10-09')).body[0].source).toBe('tenant');
    const other = await signupTenant(ctx.http);
    expect((await other.admin.get('/api/calendar/days?from=2026-10-09&to=2026-10-09')).body[0].source).toBe('cn');
    expect((await t.admin.delete('/api/calendar/days/2026-10-09')).body).toMatchObject({ working: true, source: 'cn' });

    const bad = await t.admin.put('/api/calendar/days/2026-02-30', { working: true });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ path: 'date', problem: 'must be a real date as YYYY-MM-DD' }]);
    const tooLong = await t.admin.get('/api/calendar/days?from=2026-01-01&to=2027-06-01');
    expect(tooLong.body.details).toEqual([{ path: 'to', problem: 'at most 366 days after from' }]);
    expect((await t.admin.get('/api/calendar/days?from=yesterday&to=2026-01-01')).body.details[0].path).toBe('from');
  });

  it('runs a recurring morning report on a Temporal Schedule: one task per group per occurrence', async () => {
    const t = await signupTenant(ctx.http);
    const { owner } = await setup(t);
    const vip1 = (await t.admin.post('/api/groups', { name: 'VIP 群 1', ownerId: owner.id })).body;
    await t.admin.post('/api/groups', { name: 'VIP 群 2', ownerId: owner.id });
    const report = (await t.admin.post('/api/sops', { name: 'Morning report 早报', definition: {
      kind: 'recurring', audience: { groups: {} }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' },
      steps: [{ name: 'Post the report', dueWithinMinutes: 60, channel: 'group_chat', content: { template: '{{ group.name }} 早报' },
        executor: { rule: 'groupOwner' } }],
      policies: { businessDaysOnly: false, executorDailyCapacity: 1 },
    } })).body;
    const forecast = (await t.admin.get(`/api/sops/${report.id}/forecast`)).body;
    expect(forecast.reach).toBe(2);
    // the SOP list counts the same audience (`{ groups: {} }`: every group), and the firing below makes 2 tasks
    const listed = (await t.admin.get('/api/sops')).body.find((s: { id: string }) => s.id === report.id);
    expect(listed.summary.audience).toBe(2);
    expect(forecast.days.length).toBeGreaterThanOrEqual(29);
    expect(forecast.days[1]).toMatchObject({ executorId: owner.id, tasks: 2, overCapacity: true });

    expect((await t.admin.post(`/api/sops/${report.id}/activate`)).body.status).toBe('active');
    const schedule = client.schedule.getHandle(workflowIds.sopSchedule(report.id));
    const described = await schedule.describe();
    expect(described.spec.timezone).toBe('Asia/Shanghai');
    expect(described.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 8, end: 8, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sopOccurrenceWorkflow' });

    // A firing, and the same firing again (as after a restart): each group gets its one task.
    const occurrence = described.info.nextActionTimes[0].getTime();
    for (const run of [1, 2]) {
      const result = await client.workflow.execute('sopOccurrenceWorkflow', {
        taskQueue: ctx.stack.taskQueue, workflowId: `occurrence-${report.id}-${run}`, args: [{ sopId: report.id, occurrence }],
      });
      expect(result).toEqual({ occurrence, tasks: run === 1 ? 2 : 0 });
    }
    const tasks = await ctx.stack.db.query(`SELECT group_id, executor_id, content, due_at, due_until FROM tasks WHERE sop_id = $1 ORDER BY content`, [report.id]);
    expect(tasks).toHaveLength(2);
    expect(tasks[0]).toMatchObject({ group_id: vip1.id, executor_id: owner.id, content: 'VIP 群 1 早报' });
    expect(tasks[0].due_until.getTime() - tasks[0].due_at.getTime()).toBe(3_600_000);
    // Capacity 1 a day: the owner's second report of that occurrence moves to the next day.
    expect(tasks.map((r: { due_at: Date }) => r.due_at.getTime() - occurrence).sort()).toEqual([0, 86_400_000]);
    const skipped = await client.workflow.execute('sopOccurrenceWorkflow', {
      taskQueue: ctx.stack.taskQueue, workflowId: `occurrence-${report.id}-odd`, args: [{ sopId: report.id, occurrence: occurrence + 60_000 }],
    });
    expect(skipped).toMatchObject({ tasks: 0, skipped: 'not an occurrence of the rule' });
    if (process.env.RECORD_HISTORIES) saveHistory('sopOccurrenceWorkflow', await client.workflow.getHandle(`occurrence-${report.id}-1`).fetchHistory());

    await t.admin.post(`/api/sops/${report.id}/pause`);
    expect((await schedule.describe()).state.paused).toBe(true);
    await t.admin.post(`/api/sops/${report.id}/resume`);
    expect((await schedule.describe()).state.paused).toBe(false);
    await t.admin.patch(`/api/sops/${report.id}`, { definition: { ...report.definition, schedule: { rrule: 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=19;BYMINUTE=0' } } });
    expect((await schedule.describe()).spec.calendars?.[0]).toMatchObject({ dayOfWeek: [{ start: 'FRIDAY', end: 'FRIDAY', step: 1 }] });
    await t.admin.post(`/api/sops/${report.id}/archive`);
    await expect(schedule.describe()).rejects.toThrow();
  });

  it('sends a broadcast once at its time to a snapshot of the segment, and refuses edits after activation', async () => {
    const t = await signupTenant(ctx.http);
    const { tags, owner, segment } = await setup(t);
    for (const n of [1, 2, 3]) await t.admin.post('/api/contacts', { externalId: `b${n}`, name: `客户${n}`, ownerId: owner.id, tags: [tags.intentHigh.id] });
    const sendAt = new Date(Date.now() + 1500).toISOString();
    const broadcast = (await t.admin.post('/api/sops', { name: 'Double 11 双十一', definition: {
      kind: 'broadcast', audience: { segmentId: segment.id }, sendAt,
      steps: [{ name: 'Announce', dueWithinMinutes: 240, channel: 'wecom_chat', content: { template: '{{ contact.name }}：双十一活动开始了' },
        executor: { rule: 'contactOwner' } }],
    } })).body;
    expect((await t.admin.post(`/api/sops/${broadcast.id}/activate`)).body.status).toBe('active');
    expect((await t.admin.patch(`/api/sops/${broadcast.id}`, { definition: broadcast.definition })).body.code).toBe('BROADCAST_PUBLISHED');
    const handle = client.workflow.getHandle(workflowIds.sopBroadcast(broadcast.id));
    expect(await handle.result()).toEqual({ tasks: 3, cancelled: false });
    const tasks = await ctx.stack.db.query(`SELECT content, due_at, occurrence FROM tasks WHERE sop_id = $1 ORDER BY content`, [broadcast.id]);
    expect(tasks.map((r: { content: string }) => r.content)).toEqual(['客户1：双十一活动开始了', '客户2：双十一活动开始了', '客户3：双十一活动开始了']);
    expect(tasks[0].occurrence).toEqual(new Date(sendAt));
    if (process.env.RECORD_HISTORIES) saveHistory('sopBroadcastWorkflow', await handle.fetchHistory());
  });
});

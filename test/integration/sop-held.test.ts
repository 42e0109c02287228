import { enrollEntrants, materializeDuePage, materializeOccurrencePage, snapshotBroadcast } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

/** A template that passes the designer's checks but fails at run time (Liquid's memory limit). */
const FAILING = 'Hi {{ contact.name }}{% for i in (1..5000000) %}x{% endfor %}';

describe('A failed render never reaches an employee (real Postgres)', () => {
  const ctx = useStack();

  it('holds the task with the reason, shows it on the SOP, tells ops once per version and reason', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const employee = await addUser(t, ctx.http, 'employee');
    const ops = await addUser(t, ctx.http, 'ops');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const step = (name: string, template: string) => ({ name, offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
      content: { template }, executor: { rule: 'contactOwner' } });
    const created = await t.admin.post('/api/sops', { name: 'Broken', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [step('Call', FAILING), step('Follow up', 'Hello {{ contact.name }}')], policies: { businessDaysOnly: false },
    } });
    expect(created.status).toBe(201);
    const sop = created.body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    for (const n of [1, 2, 3]) {
      await t.admin.post('/api/contacts', { externalId: `c${n}`, name: `客户${n}`, ownerId: employee.id, tags: [tags.intentHigh.id],
        timezone: zoneWithOpenWindow() }); // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    }

    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    // Pages of two: the held tasks come from several pages, and ops are still told once.
    for (let page = 0; page < 10 && (await materializeDuePage(ctx.stack.db, sop.id, new Date(), 2)).more; page++);
    const tasks = await ctx.stack.db.query(`SELECT status, content, held_reason FROM tasks WHERE sop_id = $1 AND step_index = 0`, [sop.id]);
    expect(tasks).toHaveLength(3);
    for (const task of tasks) {
      expect(task).toEqual({ status: 'held', content: '', held_reason: expect.stringMatching(/^the template could not be rendered: .*limit/) });
    }

    // The executor sees none of them; the next step's tasks (a template that renders) reach them as usual.
    const seen: { stepIndex: number; content: string }[] = [];
    for (const list of ['today', 'overdue', 'upcoming', 'done']) {
      const res = await employee.client.get(`/api/inbox/tasks?list=${list}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
    }
    const [{ pending }] = await ctx.stack.db.query(`SELECT count(*)::int AS pending FROM tasks WHERE sop_id = $1 AND status = 'pending'`, [sop.id]);
    expect(pending).toBeGreaterThan(0);
    expect(seen).toHaveLength(pending);
    expect(seen.every((x) => x.stepIndex === 1)).toBe(true);
    expect(seen.every((x) => /^Hello 客户\d$/.test(x.content))).toBe(true);

    // The SOP's page: held by version and reason.
    const progress = (await t.admin.get(`/api/sops/${sop.id}/progress`)).body;
    expect(progress.held).toEqual([{ reason: tasks[0].held_reason, version: 1, tasks: 3 }]);
    // Counted in its step as the dashboard's funnel counts it: all three reached the first step, whose tasks are held.
    expect(progress.steps[0]).toMatchObject({ entered: 3, tasksCreated: 3, tasks: { pending: 0, held: 3 } });
    expect((await ops.client.get(`/api/dashboards/sops/${sop.id}`)).body.funnel[0]).toMatchObject({ stepIndex: 0, entered: 3, created: 3 });

    // Ops and admins told once (one version, one reason), employees not.
    for (const [who, n] of [[t.admin, 1], [ops.client, 1], [employee.client, 0]] as const) {
      const items = (await who.get('/api/notifications')).body.items.filter((x: { kind: string }) => x.kind === 'task_held');
      expect(items).toHaveLength(n);
      if (n) expect(items[0]).toMatchObject({ link: `/sops/${sop.id}`, body: expect.stringContaining(tasks[0].held_reason) });
    }
  });

  it('holds a broadcast\'s tasks the same way, and tells ops once for that SOP', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const employee = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    for (const n of [1, 2]) await t.admin.post('/api/contacts', { externalId: `b${n}`, name: `客户${n}`, ownerId: employee.id, tags: [tags.intentHigh.id] });
    const created = await t.admin.post('/api/sops', { name: 'Broken broadcast', definition: {
      kind: 'broadcast', audience: { segmentId: segment.id }, sendAt: new Date(Date.now() + 3600_000).toISOString(),
      steps: [{ name: 'Announce', dueWithinMinutes: 240, channel: 'wecom_chat', executor: { rule: 'contactOwner' }, content: { template: FAILING } }],
    } });
    expect(created.status).toBe(201);
    const sop = created.body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await snapshotBroadcast(ctx.stack.db, sop.id);
    const occurrence = new Date();
    for (const limit of [1, 100]) await materializeOccurrencePage(ctx.stack.db, { sopId: sop.id, occurrence, after: null, limit }); // the first page again, then all
    const tasks = await ctx.stack.db.query(`SELECT status, content FROM tasks WHERE sop_id = $1`, [sop.id]);
    expect(tasks).toEqual([{ status: 'held', content: '' }, { status: 'held', content: '' }]);
    expect((await t.admin.get(`/api/sops/${sop.id}/progress`)).body.held).toEqual([{ reason: expect.stringContaining('could not be rendered'), version: 1, tasks: 2 }]);
    const notices = (await t.admin.get('/api/notifications')).body.items.filter((x: { kind: string }) => x.kind === 'task_held');
    expect(notices).toHaveLength(1);
    expect((await employee.client.get('/api/inbox/tasks?list=upcoming')).body.items).toEqual([]);
  });
});

import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { DateTime } from 'luxon';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';

const DAY = 86_400_000;
/**
 * The customers' zone: one where the step's all-day window (00:00-23:59) is open now and for hours yet
 * (test/support/clock.ts), so the tasks the tests expect today are made today whatever the hour of the run.
 */
const ZONE = zoneWithOpenWindow();

/**
 * Contact caps across SOPs and executor capacity, on real Postgres. The engine functions are called
 * directly with a chosen clock (the dispatcher workflow passes its own the same way).
 */
describe('SOP limits: contact caps across SOPs and executor capacity (real Postgres)', () => {
  const ctx = useStack();

  const journey = (segmentId: string, policies: Record<string, unknown>) => ({
    kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId }, entry: { includeExistingMembers: true },
    steps: [{ name: 'Reach out', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: 'Hi {{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
    policies: { businessDaysOnly: false, ...policies },
  });

  async function world(t: TenantFixture, contacts: number, ownerExtra: Record<string, unknown> = {}) {
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee', ownerExtra);
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const ids: string[] = [];
    for (let i = 0; i < contacts; i++) {
      ids.push((await t.admin.post('/api/contacts', { externalId: `c${i}`, name: `客户${i}`, ownerId: owner.id, tags: [tags.intentHigh.id], timezone: ZONE })).body.id);
    }
    return { owner, segment, ids, tags };
  }

  async function activeSop(t: TenantFixture, name: string, definition: unknown): Promise<string> {
    const sop = (await t.admin.post('/api/sops', { name, definition })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    return sop.id;
  }

  const tasksOf = (sopId: string) => ctx.stack.db.query(
    `SELECT contact_id, executor_id, due_at FROM tasks WHERE sop_id = $1 ORDER BY contact_id`, [sopId]);

  it('lets a higher-priority SOP take a capped contact day; the lower-priority task yields to the next day', async () => {
    const t = await signupTenant(ctx.http);
    const { segment, ids: [contact] } = await world(t, 1);
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 1, perWeek: 3 })).body).toEqual({ perDay: 1, perWeek: 3 });
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 0 })).status).toBe(400);
    const nurture = await activeSop(t, 'Nurture', journey(segment.id, { priority: 30 }));
    const vip = await activeSop(t, 'VIP', journey(segment.id, { priority: 80 }));
    const now = new Date();
    for (const sop of [nurture, vip]) await enrollEntrants(ctx.stack.db, sop, now);

    expect(await materializeDuePage(ctx.stack.db, nurture, now, 100)).toMatchObject({ tasks: 1 });
    expect(await materializeDuePage(ctx.stack.db, vip, now, 100)).toMatchObject({ tasks: 1 });
    expect(await tasksOf(nurture)).toEqual([]); // yielded
    expect(await tasksOf(vip)).toHaveLength(1);
    // the next day in the contact's zone, where caps count days
    const tomorrow = DateTime.fromJSDate(now, { zone: ZONE }).plus({ days: 1 }).startOf('day').toJSDate();
    const [rewound] = await ctx.stack.db.query(`SELECT next_step, next_due_at, status FROM enrollments WHERE sop_id = $1`, [nurture]);
    expect(rewound).toEqual({ next_step: 0, next_due_at: tomorrow, status: 'active' });

    // Today stays capped for the nurture SOP; tomorrow its task comes, in tomorrow's window.
    expect(await materializeDuePage(ctx.stack.db, nurture, now, 100)).toMatchObject({ tasks: 0 });
    const later = new Date(tomorrow.getTime() + 10 * 3_600_000);
    expect(await materializeDuePage(ctx.stack.db, nurture, later, 100)).toMatchObject({ tasks: 1 });
    const [moved] = await tasksOf(nurture);
    expect(moved).toMatchObject({ contact_id: contact, due_at: tomorrow });

    // A third SOP of lower priority finds the day full and nothing it may take: it waits.
    const third = await activeSop(t, 'Low', journey(segment.id, { priority: 10 }));
    await enrollEntrants(ctx.stack.db, third, later);
    expect(await materializeDuePage(ctx.stack.db, third, later, 100)).toMatchObject({ tasks: 0, deferred: 1 });
    expect(await tasksOf(vip)).toHaveLength(1);
  });

  it('defers what exceeds an executor\'s daily capacity to the next day', async () => {
    const t = await signupTenant(ctx.http);
    const { segment, owner } = await world(t, 3);
    const sop = await activeSop(t, 'Capacity 2', journey(segment.id, { executorDailyCapacity: 2, overflow: 'defer' }));
    const now = new Date();
    await enrollEntrants(ctx.stack.db, sop, now);
    expect(await materializeDuePage(ctx.stack.db, sop, now, 100)).toMatchObject({ tasks: 2, deferred: 1 });
    expect((await tasksOf(sop)).map((r: { executor_id: string }) => r.executor_id)).toEqual([owner.id, owner.id]);
    expect(await materializeDuePage(ctx.stack.db, sop, new Date(now.getTime() + DAY), 100)).toMatchObject({ tasks: 1 });
  });

  it("flags the forecast's day over capacity as dispatch counts it: done and expired tasks keep their place, cancelled ones free it", async () => {
    const t = await signupTenant(ctx.http);
    const { segment, owner, ids } = await world(t, 2);
    // the owner's day already holds three tasks of another SOP: one done, one expired, one cancelled
    const other = (await t.admin.post('/api/sops', { name: 'Other', definition: journey(segment.id, {}) })).body;
    const [version] = await ctx.stack.db.query(
      `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) SELECT tenant_id, id, 1, definition, segment_ids FROM sops WHERE id = $1
       RETURNING id, tenant_id`, [other.id]);
    const now = new Date();
    for (const status of ['done', 'expired', 'cancelled']) {
      await ctx.stack.db.query(
        `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, contact_id, executor_id, channel, content, due_at, due_until, status, finished_at)
         VALUES ($1, $2, $3, 0, $4, $5, 'wecom_chat', 'Hi', $6, $7, $8, $6)`,
        [version.tenant_id, other.id, version.id, ids[0], owner.id, now, new Date(now.getTime() + 3_600_000), status]);
    }
    const sop = await activeSop(t, 'Capacity 3', journey(segment.id, { executorDailyCapacity: 3, overflow: 'defer' }));
    const forecast = (await t.admin.get(`/api/sops/${sop}/forecast`)).body;
    // two tasks today on top of the two that keep their place (done and expired; not the cancelled one): 4 > 3
    expect(forecast.days).toEqual([expect.objectContaining({ date: forecast.from, executorId: owner.id, tasks: 2, overCapacity: true })]);
    expect(forecast.overCapacityDays).toEqual([forecast.from]);
    // dispatch counts the day the same way: room for one task, the other waits
    await enrollEntrants(ctx.stack.db, sop, now);
    expect(await materializeDuePage(ctx.stack.db, sop, now, 100)).toMatchObject({ tasks: 1, deferred: 1 });
  });

  it('reassigns what exceeds capacity to the teammate with most room', async () => {
    const t = await signupTenant(ctx.http);
    const team = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const { segment, owner } = await world(t, 3, { teamId: team.id });
    const mate = await addUser(t, ctx.http, 'employee', { teamId: team.id });
    const sop = await activeSop(t, 'Capacity 2, reassign', journey(segment.id, { executorDailyCapacity: 2, overflow: 'reassign' }));
    const now = new Date();
    await enrollEntrants(ctx.stack.db, sop, now);
    expect(await materializeDuePage(ctx.stack.db, sop, now, 100)).toMatchObject({ tasks: 3, deferred: 0 });
    const executors = (await tasksOf(sop)).map((r: { executor_id: string }) => r.executor_id).sort();
    expect(executors).toEqual([owner.id, owner.id, mate.id].sort());
  });

  it('enrolls only new entrants unless the journey says to include existing members', async () => {
    const t = await signupTenant(ctx.http);
    const { segment, owner, tags } = await world(t, 2);
    const high = tags.intentHigh;
    const newOnly = await activeSop(t, 'New members only', { ...journey(segment.id, {}), entry: { includeExistingMembers: false } });
    const everyone = await activeSop(t, 'Everyone', journey(segment.id, {}));
    expect(await enrollEntrants(ctx.stack.db, newOnly, new Date())).toBe(0);
    expect(await enrollEntrants(ctx.stack.db, everyone, new Date())).toBe(2);
    await t.admin.post('/api/contacts', { externalId: 'late', name: '新客', ownerId: owner.id, tags: [high.id], timezone: ZONE });
    expect(await enrollEntrants(ctx.stack.db, newOnly, new Date())).toBe(1);
    expect(await enrollEntrants(ctx.stack.db, everyone, new Date())).toBe(1);
  });
});

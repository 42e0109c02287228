import { enrollEntrants, holdRecipients, materializeDuePage, moveTasks } from '@sop/engine';
import { startHandoverOwnersRelay, startWakeRelay } from '@sop/worker';
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { zoneWithOpenWindow } from '../support/clock';
import { testEnv } from '../support/env';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';
import { waitUntil } from '../support/poll';


const CONTACTS = 300;

describe('handover and leaves (real Postgres and Temporal)', () => {
  const ctx = useStack({ worker: true });
  let client: Client;
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    client = new Client({ connection });
  });
  afterAll(() => connection?.close());

  /** Two teams with managers; e1 owns 300 contacts and 4 groups and has a pending journey task per contact. */
  async function world({ contacts = CONTACTS } = {}) {
    const t = await signupTenant(ctx.http);
    const store = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const other = (await t.admin.post('/api/teams', { name: 'Other 其他' })).body;
    const manager = await addUser(t, ctx.http, 'manager', { teamId: store.id });
    const outsider = await addUser(t, ctx.http, 'manager', { teamId: other.id });
    await t.admin.patch(`/api/teams/${store.id}`, { managerId: manager.id });
    await t.admin.patch(`/api/teams/${other.id}`, { managerId: outsider.id });
    const e1 = await addUser(t, ctx.http, 'employee', { teamId: store.id });
    const e2 = await addUser(t, ctx.http, 'employee', { teamId: store.id });
    const e3 = await addUser(t, ctx.http, 'employee', { teamId: store.id });
    const x = await addUser(t, ctx.http, 'employee', { teamId: other.id });
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM users WHERE id = $1`, [e1.id]);
    const ids: string[] = (await ctx.stack.db.query(
      `INSERT INTO contacts (tenant_id, external_id, name, owner_id, timezone) SELECT $1, 'c' || g, '客户' || g, $2, $4 FROM generate_series(1, $3) g RETURNING id`,
      [tenantId, e1.id, contacts, zoneWithOpenWindow()])).map((r: { id: string }) => r.id); // in a zone where the step's all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    const groups = [];
    for (const n of [1, 2, 3, 4]) groups.push((await t.admin.post('/api/groups', { name: `群 ${n}`, ownerId: e1.id })).body);
    // Saving a segment populates it: owner-based ones, and everyone (the journey's audience, which an owner change cannot leave).
    const segment = async (name: string, rule: unknown) => (await t.admin.post('/api/segments', { name, rule })).body;
    const ofE1 = await segment('Owned by e1', { owner: { users: [e1.id] } });
    const ofE2 = await segment('Owned by e2', { owner: { users: [e2.id] } });
    const everyone = await segment('Everyone', { metric: { name: 'orderCount', op: 'gte', value: 0 } });
    const sop = (await t.admin.post('/api/sops', { name: 'Follow up 跟进', definition: {
      kind: 'journey', audience: { segmentId: everyone.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Call', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
        content: { template: '给{{ contact.name }}打电话' }, executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false, exitOn: [] },
    } })).body;
    await t.admin.post(`/api/sops/${sop.id}/activate`);
    // The worker's dispatcher does the same at the same time; both are idempotent, and rows one holds the other skips.
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    while ((await materializeDuePage(ctx.stack.db, sop.id, new Date(), 1000)).more);
    await waitUntil(() => pending(e1.id), (n) => n === contacts, `${contacts} tasks for e1`);
    return { t, tenantId, store, other, manager, outsider, e1, e2, e3, x, ids, groups, ofE1, ofE2, everyone, sop };
  }

  const pending = async (executorId: string) =>
    (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tasks WHERE executor_id = $1 AND status = 'pending'`, [executorId]))[0].n;
  const members = async (segmentId: string) =>
    (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM segment_memberships WHERE segment_id = $1 AND exited_at IS NULL`, [segmentId]))[0].n;
  const segmentsPending = async (handoverId: string) =>
    (await ctx.stack.db.query(`SELECT segments_pending FROM handovers WHERE id = $1`, [handoverId]))[0].segments_pending as boolean;
  /** Owner segments follow just after the handover's commit (the API starts that without waiting for it). */
  const followed = (handoverId: string) => waitUntil(() => segmentsPending(handoverId), (p) => p === false, `owner segments of ${handoverId}`);
  const historyOf = async (handoverId: string) => ctx.stack.db.query(
    `SELECT task_id::text, action, actor_id, detail FROM task_events WHERE detail->>'handoverId' = $1 ORDER BY task_id`, [handoverId]);

  it('moves contacts, groups and open tasks to one user with one audit record; a repeat moves nothing; owner segments follow', async () => {
    const w = await world();
    // A computed tag read from the owner, and a segment of that tag: both must follow the owner change too.
    const book = (await w.t.admin.post('/api/tag-groups', { name: 'Book 客户归属', exclusive: true })).body;
    const e2Book = (await w.t.admin.post('/api/tags', { groupId: book.id, name: "e2's book", kind: 'computed' })).body;
    expect((await w.t.admin.post('/api/computed-tags', { name: 'Book', groupId: book.id,
      cases: [{ tagId: e2Book.id, when: { owner: { users: [w.e2.id] } } }] })).status).toBe(201);
    const tagged = (await w.t.admin.post('/api/segments', { name: "Tagged e2's book", rule: { tag: e2Book.id } })).body;
    expect(await members(tagged.id)).toBe(0);
    const id = randomUUID();
    const body = { id, fromUserId: w.e1.id, toUserId: w.e2.id, reason: '离职交接 Left the company' };
    const first = await w.t.admin.post('/api/handovers', body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id, kind: 'handover', fromUserId: w.e1.id, toUserId: w.e2.id, toTeamId: null, scope: ['contacts', 'groups', 'tasks'],
      reason: '离职交接 Left the company', moved: { contacts: CONTACTS, groups: 4, tasks: CONTACTS, tasksDeferred: 0 },
    });
    const [owners] = await ctx.stack.db.query(
      `SELECT count(*) FILTER (WHERE owner_id = $2)::int AS e2, count(*) FILTER (WHERE owner_id = $3)::int AS e1 FROM contacts WHERE tenant_id = $1`,
      [w.tenantId, w.e2.id, w.e1.id]);
    expect(owners).toEqual({ e2: CONTACTS, e1: 0 });
    expect((await w.t.admin.get('/api/groups')).body.items.map((g: { ownerId: string }) => g.ownerId)).toEqual(Array(4).fill(w.e2.id));
    expect([await pending(w.e1.id), await pending(w.e2.id)]).toEqual([0, CONTACTS]);

    // One 'reassigned' history row per task, by the admin, naming the handover; the inbox shows it.
    const history = await historyOf(id);
    expect(history).toHaveLength(CONTACTS);
    expect(new Set(history.map((h: { task_id: string }) => h.task_id)).size).toBe(CONTACTS);
    expect(history[0]).toMatchObject({ action: 'reassigned', detail: { from: w.e1.id, to: w.e2.id, handoverId: id } });
    const detail = (await w.e2.client.get(`/api/inbox/tasks/${history[0].task_id}`)).body;
    expect(detail.history.map((h: { action: string }) => h.action)).toEqual(['reassigned']);

    // Owner-based segments follow just after the commit, announced through the outbox: contact.updated for every moved
    // contact, then entries and exits.
    await followed(id);
    expect([await members(w.ofE1.id), await members(w.ofE2.id), await members(w.everyone.id)]).toEqual([0, CONTACTS, CONTACTS]);
    expect(await members(tagged.id)).toBe(CONTACTS);
    const [announced] = await ctx.stack.db.query(
      `SELECT count(DISTINCT c)::int AS contacts, count(DISTINCT d.id)::int AS events FROM domain_events d
        CROSS JOIN jsonb_array_elements_text(d.payload->'contactIds') c WHERE d.type = 'contact.updated' AND d.payload->>'handoverId' = $1`, [id]);
    expect(announced).toEqual({ contacts: CONTACTS, events: 1 });
    const [segmentEvents] = await ctx.stack.db.query(
      `SELECT count(*) FILTER (WHERE type = 'segment.entered' AND payload->>'segmentId' = $2)::int AS entered,
              count(*) FILTER (WHERE type = 'segment.exited' AND payload->>'segmentId' = $3)::int AS exited
         FROM domain_events WHERE tenant_id = $1`, [w.tenantId, w.ofE2.id, w.ofE1.id]);
    expect(segmentEvents).toEqual({ entered: 1, exited: 1 });

    // Had the API stopped before evaluating them, the worker's relay would: the contacts come from the handover's
    // outbox events. (Put back as the commit left it: the flag set, e2's memberships not yet entered.)
    await ctx.stack.db.query(`UPDATE handovers SET segments_pending = true WHERE id = $1`, [id]);
    await ctx.stack.db.query(`UPDATE segment_memberships SET exited_at = now() WHERE segment_id = ANY($1::uuid[]) AND exited_at IS NULL`, [[w.ofE2.id]]);
    const young = await startHandoverOwnersRelay(ctx.stack.db, { intervalMs: 50 }); // within its grace: left to the API
    await new Promise((r) => setTimeout(r, 300));
    await young.stop();
    expect([await segmentsPending(id), await members(w.ofE2.id)]).toEqual([true, 0]);
    const seen: { handoverId: string; contacts: number }[] = [];
    const relay = await startHandoverOwnersRelay(ctx.stack.db, { intervalMs: 50, graceMs: 0, onFollowed: (d) => seen.push(d) });
    try {
      await followed(id);
    } finally {
      await relay.stop();
    }
    // The relay takes any organization's pending handover, and with no grace also another test file's between its
    // commit and its API's own evaluation: among what it followed, this handover once, with every moved contact.
    expect(seen.filter((d) => d.handoverId === id)).toEqual([{ handoverId: id, contacts: CONTACTS }]);
    expect([await members(w.ofE1.id), await members(w.ofE2.id), await members(tagged.id)]).toEqual([0, CONTACTS, CONTACTS]);

    // The same id again: the first result, 200, and nothing moves or is recorded again.
    const events = async () => (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1`, [w.tenantId]))[0].n;
    const before = await events();
    const again = await w.t.admin.post('/api/handovers', body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await historyOf(id)).toHaveLength(CONTACTS);
    expect(await events()).toBe(before);
    expect((await w.t.admin.post('/api/handovers', { ...body, toUserId: w.e3.id })).body).toMatchObject({ code: 'HANDOVER_ID_REUSED', details: [{ path: 'id' }] });

    // An Idempotency-Key works the same way; e1 has nothing left, so the first run moves nothing either.
    const key = `handover-${randomUUID()}`;
    const keyed = await w.t.admin.request('POST', '/api/handovers', { fromUserId: w.e1.id, toUserId: w.e3.id }, { 'idempotency-key': key });
    expect(keyed.status).toBe(201);
    expect(keyed.body.moved).toEqual({ contacts: 0, groups: 0, tasks: 0, tasksDeferred: 0 });
    expect((await w.t.admin.request('POST', '/api/handovers', { fromUserId: w.e1.id, toUserId: w.e3.id }, { 'idempotency-key': key })).body.id).toBe(keyed.body.id);

    // Listed newest first in keyset pages, and readable one by one.
    const page1 = (await w.t.admin.get('/api/handovers?limit=1')).body;
    expect(page1.items.map((h: { id: string }) => h.id)).toEqual([keyed.body.id]);
    const page2 = (await w.t.admin.get(`/api/handovers?limit=1&cursor=${page1.nextCursor}`)).body;
    expect(page2).toMatchObject({ items: [{ id }], nextCursor: null });
    expect((await w.t.admin.get(`/api/handovers?userId=${w.e3.id}`)).body.items.map((h: { id: string }) => h.id)).toEqual([keyed.body.id]);
    expect((await w.t.admin.get(`/api/handovers/${id}`)).body).toEqual(first.body);
    expect((await (await signupTenant(ctx.http)).admin.get(`/api/handovers/${id}`)).status).toBe(404);
  });

  it("spreads evenly over a team's active members, a contact's tasks with the contact; only what the scope names", async () => {
    const w = await world();
    await w.t.admin.delete(`/api/users/${w.e3.id}`); // disabled: takes no work
    const res = await w.manager.client.post('/api/handovers', { fromUserId: w.e1.id, toTeamId: w.store.id, scope: ['tasks', 'contacts'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ toTeamId: w.store.id, toUserId: null, scope: ['contacts', 'tasks'], moved: { contacts: CONTACTS, groups: 0, tasks: CONTACTS } });
    const spread: { owner_id: string; n: number }[] = await ctx.stack.db.query(
      `SELECT owner_id, count(*)::int AS n FROM contacts WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1`, [w.tenantId]);
    // The store's active members other than e1: its manager and e2 (e3 is disabled).
    expect(spread.map((s) => s.owner_id).sort()).toEqual([w.manager.id, w.e2.id].sort());
    for (const s of spread) expect(Math.abs(s.n - CONTACTS / 2)).toBeLessThan(CONTACTS * 0.15);
    const [{ astray }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS astray FROM tasks t JOIN contacts c ON c.id = t.contact_id WHERE t.tenant_id = $1 AND t.executor_id IS DISTINCT FROM c.owner_id`,
      [w.tenantId]);
    expect(astray).toBe(0);
    expect((await historyOf(res.body.id)).filter((h: { detail: { to: string } }) => h.detail.to === w.manager.id)).toHaveLength(
      spread.find((s) => s.owner_id === w.manager.id)!.n);
    // Groups were not in the scope: they stay with e1.
    expect((await w.t.admin.get('/api/groups')).body.items.map((g: { ownerId: string }) => g.ownerId)).toEqual(Array(4).fill(w.e1.id));
  });

  it('refuses clearly: roles, managers outside their teams, disabled or unknown targets, the same user', async () => {
    const w = await world({ contacts: 3 });
    const b = await signupTenant(ctx.http);
    const stranger = await addUser(b, ctx.http, 'employee');
    const post = (who: typeof w.t.admin, body: Record<string, unknown>) => who.post('/api/handovers', body);
    const from = { fromUserId: w.e1.id };

    expect((await post(w.e1.client, { ...from, toUserId: w.e2.id })).body).toMatchObject({ code: 'ROLE_FORBIDDEN' });
    expect((await w.e1.client.get('/api/handovers')).status).toBe(403);
    const outside = await post(w.outsider.client, { ...from, toUserId: w.e2.id });
    expect(outside.status).toBe(403);
    expect(outside.body).toMatchObject({ code: 'OUTSIDE_YOUR_TEAM', details: [{ path: 'fromUserId' }] });
    expect((await post(w.manager.client, { ...from, toUserId: w.x.id })).body).toMatchObject({ code: 'OUTSIDE_YOUR_TEAM', details: [{ path: 'toUserId' }] });
    expect((await post(w.manager.client, { ...from, toTeamId: w.other.id })).body).toMatchObject({ code: 'OUTSIDE_YOUR_TEAM', details: [{ path: 'toTeamId' }] });

    const refused = async (body: Record<string, unknown>, status: number, code: string, path: string) => {
      const res = await post(w.t.admin, body);
      expect([res.status, res.body.code, res.body.details?.[0]?.path]).toEqual([status, code, path]);
    };
    await refused({ ...from, toUserId: w.e1.id }, 422, 'SAME_USER', 'toUserId');
    await refused({ ...from, toUserId: stranger.id }, 422, 'USER_NOT_FOUND', 'toUserId');
    await refused({ fromUserId: stranger.id, toUserId: w.e2.id }, 422, 'USER_NOT_FOUND', 'fromUserId');
    await refused({ ...from, toTeamId: randomUUID() }, 422, 'TEAM_NOT_FOUND', 'toTeamId');
    await refused({ ...from }, 400, 'VALIDATION_FAILED', 'toUserId');
    await refused({ ...from, toUserId: w.e2.id, toTeamId: w.store.id }, 400, 'VALIDATION_FAILED', 'toUserId');
    await refused({ ...from, toUserId: w.e2.id, scope: ['contacts', 'pets'] }, 400, 'VALIDATION_FAILED', 'scope');
    await refused({ fromUserId: 'e1', toUserId: w.e2.id }, 400, 'VALIDATION_FAILED', 'fromUserId');
    await w.t.admin.delete(`/api/users/${w.e2.id}`);
    await refused({ ...from, toUserId: w.e2.id }, 422, 'TARGET_DISABLED', 'toUserId');
    // Nothing moved through any refusal; the team's manager may hand over a member to a teammate.
    expect(await pending(w.e1.id)).toBe(3);
    expect((await post(w.manager.client, { ...from, toUserId: w.e3.id })).body.moved).toMatchObject({ contacts: 3, tasks: 3 });
    expect((await w.outsider.client.get(`/api/handovers`)).body.items).toEqual([]);
    expect((await w.manager.client.get(`/api/handovers`)).body.items).toHaveLength(1);
  });

  it("turns the moves' per-row foreign-key checks off only with every recipient held, and keeps them otherwise", async () => {
    const w = await world({ contacts: 3 });
    const other = await signupTenant(ctx.http); // a user of another organization is no recipient here
    const [{ id: stranger }] = await ctx.stack.db.query(`SELECT id FROM users WHERE email = $1`, [other.email]);
    const role = async (m: { query: (sql: string) => Promise<{ r: string }[]> }) => (await m.query(`SELECT current_setting('session_replication_role') AS r`))[0].r;
    const m = ctx.stack.db.createQueryRunner();
    const probe = ctx.stack.db.createQueryRunner();
    await m.connect();
    await probe.connect();
    try {
      // The recipients held: checks off, and their user rows locked as a foreign-key check locks them (no one may
      // delete them or change their key until the handover ends).
      await m.startTransaction();
      expect(await holdRecipients(m, { tenantId: w.tenantId, toUserIds: [w.e2.id, w.e3.id] })).toBe(true);
      expect(await role(m)).toBe('replica');
      await expect(probe.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE NOWAIT`, [w.e3.id])).rejects.toThrow(/could not obtain lock/);
      await m.rollbackTransaction();
      // One of them not in the organization: nothing is turned off, and the per-row check refuses that move as before.
      await m.startTransaction();
      expect(await holdRecipients(m, { tenantId: w.tenantId, toUserIds: [w.e2.id, stranger] })).toBe(false);
      expect(await role(m)).toBe('origin');
      await expect(moveTasks(m, { tenantId: w.tenantId, fromUserId: w.e1.id, toUserIds: [stranger], handoverId: randomUUID(), actorId: null }))
        .rejects.toThrow(/tasks_executor_fk/);
      await m.rollbackTransaction();
    } finally {
      if (m.isTransactionActive) await m.rollbackTransaction();
      await m.release();
      await probe.release();
    }
  });

  it('leave with reassign: tasks due during it go to the substitute now, and so does a task the engine creates during it', async () => {
    const w = await world({ contacts: 5 });
    const relay = await startWakeRelay(ctx.stack.db, client, { intervalMs: 100 });
    try {
      const startsAt = new Date(Date.now() - 3_600_000).toISOString();
      const endsAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
      const leave = await w.t.admin.post(`/api/users/${w.e1.id}/leaves`, { startsAt, endsAt, policy: 'reassign', toUserId: w.e2.id, reason: '年假' });
      expect(leave.status).toBe(201);
      expect(leave.body).toMatchObject({ userId: w.e1.id, policy: 'reassign', toUserId: w.e2.id, handover: { kind: 'leave', moved: { tasks: 5 } } });
      expect([await pending(w.e1.id), await pending(w.e2.id)]).toEqual([0, 5]);
      expect((await w.t.admin.post(`/api/users/${w.e1.id}/leaves`, { id: leave.body.id, startsAt, endsAt, policy: 'reassign', toUserId: w.e2.id })).status).toBe(200);
      const reused = await w.t.admin.post(`/api/users/${w.e1.id}/leaves`, { id: leave.body.id, startsAt, endsAt, policy: 'defer' });
      expect([reused.status, reused.body.code]).toEqual([409, 'LEAVE_ID_REUSED']);
      expect((await w.t.admin.get('/api/handovers')).body.items).toMatchObject([{ kind: 'leave', leaveId: leave.body.id, moved: { tasks: 5 } }]);

      // A new customer of e1's enters the journey while e1 is away: the dispatcher gives the task to e2.
      const han = (await w.t.admin.post('/api/contacts', { externalId: 'han', name: '韩梅梅', ownerId: w.e1.id, timezone: zoneWithOpenWindow() })).body;
      const [task] = await waitUntil(() => ctx.stack.db.query(`SELECT executor_id FROM tasks WHERE contact_id = $1`, [han.id]),
        (rows) => rows.length === 1, "the new customer's task");
      expect(task.executor_id).toBe(w.e2.id);

      // Refusals: an overlapping leave, a period that ends first, a manager outside the team, another tenant's user.
      expect((await w.t.admin.post(`/api/users/${w.e1.id}/leaves`, { startsAt, endsAt, policy: 'defer' })).body).toMatchObject({ code: 'LEAVE_OVERLAPS' });
      expect((await w.t.admin.post(`/api/users/${w.e3.id}/leaves`, { startsAt: endsAt, endsAt: startsAt, policy: 'defer' })).body)
        .toMatchObject({ code: 'LEAVE_PERIOD_INVALID', details: [{ path: 'endsAt' }] });
      expect((await w.t.admin.post(`/api/users/${w.e3.id}/leaves`, { startsAt, endsAt, policy: 'defer', toUserId: w.e2.id })).status).toBe(400);
      expect((await w.t.admin.post(`/api/users/${w.e3.id}/leaves`, { startsAt, endsAt, policy: 'reassign' })).status).toBe(400);
      expect((await w.outsider.client.get(`/api/users/${w.e1.id}/leaves`)).status).toBe(403);
      expect((await w.e2.client.get(`/api/users/${w.e1.id}/leaves`)).status).toBe(403);
      expect((await (await signupTenant(ctx.http)).admin.get(`/api/users/${w.e1.id}/leaves`)).status).toBe(404);
      expect((await w.manager.client.get(`/api/users/${w.e1.id}/leaves`)).body.items).toHaveLength(1);

      // Deleted: work created from now on is e1's again.
      expect((await w.manager.client.delete(`/api/users/${w.e1.id}/leaves/${leave.body.id}`)).status).toBe(204);
      expect((await w.manager.client.delete(`/api/users/${w.e1.id}/leaves/${leave.body.id}`)).status).toBe(404);
      const lu = (await w.t.admin.post('/api/contacts', { externalId: 'lu', name: '路人', ownerId: w.e1.id, timezone: zoneWithOpenWindow() })).body;
      const [back] = await waitUntil(() => ctx.stack.db.query(`SELECT executor_id FROM tasks WHERE contact_id = $1`, [lu.id]),
        (rows) => rows.length === 1, "the next customer's task");
      expect(back.executor_id).toBe(w.e1.id);
    } finally {
      await relay.stop();
    }
  });

  it('leave with defer: tasks due during it wait for the return, and a task the engine would create during it comes at the return', async () => {
    const w = await world({ contacts: 4 });
    const relay = await startWakeRelay(ctx.stack.db, client, { intervalMs: 100 });
    try {
      const endsAt = new Date(Date.now() + 2 * 86_400_000);
      const leave = await w.manager.client.post(`/api/users/${w.e1.id}/leaves`, {
        startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: endsAt.toISOString(), policy: 'defer' });
      expect(leave.status).toBe(201);
      expect(leave.body.handover).toMatchObject({ kind: 'leave', actorId: w.manager.id, moved: { tasks: 0, tasksDeferred: 4 } });
      const tasks = await ctx.stack.db.query(
        `SELECT t.id::text, t.executor_id, t.due_at, t.due_until - t.due_at AS length FROM tasks t WHERE t.tenant_id = $1`, [w.tenantId]);
      expect(tasks.every((t: { executor_id: string; due_at: Date }) => t.executor_id === w.e1.id && t.due_at.getTime() === endsAt.getTime())).toBe(true);
      const [deferred] = await ctx.stack.db.query(`SELECT action, detail FROM task_events WHERE task_id = $1`, [tasks[0].id]);
      expect(deferred.action).toBe('deferred');
      expect(new Date(deferred.detail.to)).toEqual(endsAt);

      // A new customer of e1's enters during the leave: no task yet; the enrollment waits for the return.
      const han = (await w.t.admin.post('/api/contacts', { externalId: 'han', name: '韩梅梅', ownerId: w.e1.id, timezone: zoneWithOpenWindow() })).body;
      const [enrollment] = await waitUntil(
        () => ctx.stack.db.query(`SELECT next_due_at FROM enrollments WHERE contact_id = $1`, [han.id]),
        (rows) => rows[0]?.next_due_at?.getTime() === endsAt.getTime(), 'the enrollment deferred to the return');
      expect(enrollment.next_due_at).toEqual(endsAt);
      expect(await ctx.stack.db.query(`SELECT 1 FROM tasks WHERE contact_id = $1`, [han.id])).toEqual([]);

      // At the return (the engine's clock one minute after it), the task is e1's, due from the return on.
      await materializeDuePage(ctx.stack.db, w.sop.id, new Date(endsAt.getTime() + 60_000), 100);
      const [task] = await ctx.stack.db.query(`SELECT executor_id, due_at FROM tasks WHERE contact_id = $1`, [han.id]);
      expect(task.executor_id).toBe(w.e1.id);
      expect(task.due_at.getTime()).toBeGreaterThanOrEqual(endsAt.getTime());
    } finally {
      await relay.stop();
    }
  });
});

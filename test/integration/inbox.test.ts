import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { AS_CUSTOMER, addUser, type Http, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const HOUR = 3_600_000;

describe('the employee inbox (real Postgres)', () => {
  const ctx = useStack();

  /** `ownerless`: a fourth contact, owned by nobody, whose follow-up nobody could be found for (an unassigned task). */
  async function world({ ownerless = false } = {}) {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const store = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const other = (await t.admin.post('/api/teams', { name: 'Other 其他' })).body;
    const manager = await addUser(t, ctx.http, 'manager', { teamId: store.id });
    const outsider = await addUser(t, ctx.http, 'manager', { teamId: other.id });
    await t.admin.patch(`/api/teams/${store.id}`, { managerId: manager.id });
    await t.admin.patch(`/api/teams/${other.id}`, { managerId: outsider.id });
    const e1 = await addUser(t, ctx.http, 'employee', { teamId: store.id });
    const e2 = await addUser(t, ctx.http, 'employee', { teamId: store.id });
    const e3 = await addUser(t, ctx.http, 'employee', { teamId: other.id });
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const contacts = [];
    for (const n of [1, 2, 3]) {
      contacts.push((await t.admin.post('/api/contacts', { externalId: `c${n}`, name: `客户${n}`, ownerId: e1.id, tags: [tags.intentHigh.id],
        timezone: zoneWithOpenWindow() })).body); // in a zone where the step's all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    }
    if (ownerless) await t.admin.post('/api/contacts', { externalId: 'c0', name: '无人跟进', tags: [tags.intentHigh.id], timezone: zoneWithOpenWindow() });
    const sop = (await t.admin.post('/api/sops', { name: 'Follow up 跟进', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Call', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
        content: { template: '给{{ contact.name }}打电话' }, executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false, exitOn: [{ on: 'replied' }] },
    } })).body;
    await t.admin.post(`/api/sops/${sop.id}/activate`);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    return { t, manager, outsider, e1, e2, e3, contacts, sop, tags, segment };
  }

  it('lists an employee\'s own tasks by list with counts and keyset pages; others see 404 or 403', async () => {
    const { t, manager, outsider, e1, e2, sop } = await world();
    const counts = (await e1.client.get('/api/inbox/counts')).body;
    // Tasks are due by the end of the contact's day (Asia/Shanghai): today there, unless that day ended already.
    expect(counts.today + counts.overdue).toBe(3);
    const list = counts.today ? 'today' : 'overdue';
    const first = (await e1.client.get(`/api/inbox/tasks?list=${list}&limit=2`)).body;
    expect(first.items).toHaveLength(2);
    const second = (await e1.client.get(`/api/inbox/tasks?list=${list}&limit=2&cursor=${first.nextCursor}`)).body;
    expect(second).toMatchObject({ nextCursor: null });
    const all = [...first.items, ...second.items];
    expect(new Set(all.map((x: { id: string }) => x.id)).size).toBe(3);
    expect(all[0]).toMatchObject({ sopId: sop.id, sopName: 'Follow up 跟进', channel: 'phone_call', status: 'pending', executorId: e1.id });
    expect(all.map((x: { content: string }) => x.content).sort()).toEqual(['给客户1打电话', '给客户2打电话', '给客户3打电话']);

    for (const l of ['today', 'overdue', 'upcoming', 'done']) {
      expect((await e1.client.get(`/api/inbox/tasks?list=${l}`)).status).toBe(200);
      expect((await manager.client.get(`/api/inbox/tasks?list=${l}&executorId=${e1.id.toUpperCase()}`)).status).toBe(200);
      expect((await t.admin.get(`/api/inbox/tasks?list=${l}&limit=1`)).status).toBe(200);
    }
    expect((await e1.client.get('/api/inbox/tasks?list=done')).body.items).toEqual([]);
    expect((await e2.client.get(`/api/inbox/tasks?list=${list}`)).body.items).toEqual([]);
    expect((await e2.client.get(`/api/inbox/tasks/${all[0].id}`)).status).toBe(404);
    expect((await e2.client.get(`/api/inbox/tasks?executorId=${e1.id}`)).status).toBe(403);
    expect((await manager.client.get(`/api/inbox/tasks?list=${list}&executorId=${e1.id}`)).body.items).toHaveLength(3);
    expect((await manager.client.get(`/api/inbox/tasks/${all[0].id}`)).status).toBe(200);
    expect((await outsider.client.get(`/api/inbox/tasks/${all[0].id}`)).status).toBe(403);
    expect((await t.admin.get('/api/inbox/tasks/999999999')).status).toBe(404);
    expect((await e1.client.get('/api/inbox/tasks/not-a-task')).status).toBe(404);
    expect((await (await signupTenant(ctx.http)).admin.get(`/api/inbox/tasks/${all[0].id}`)).status).toBe(404);
  });

  it("counts what each list shows under the list's filters (SOP, channel, contact, group), checked like the list's", async () => {
    const { t, e1, e2, contacts, sop } = await world();
    const coupon = (await t.admin.post('/api/sops', { name: 'Coupon 优惠券', definition: {
      ...sop.definition, steps: [{ ...sop.definition.steps[0], name: 'Send the coupon', channel: 'wecom_chat' }],
    } })).body;
    await t.admin.post(`/api/sops/${coupon.id}/activate`);
    await enrollEntrants(ctx.stack.db, coupon.id, new Date());
    await materializeDuePage(ctx.stack.db, coupon.id, new Date(), 100);
    // e1's three follow-up calls overdue and three coupons upcoming, whatever the hour the test runs.
    const now = Date.now();
    await ctx.stack.db.query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE sop_id = $1`, [sop.id, new Date(now - 26 * HOUR), new Date(now - 2 * HOUR)]);
    await ctx.stack.db.query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE sop_id = $1`, [coupon.id, new Date(now + 48 * HOUR), new Date(now + 50 * HOUR)]);
    const counts = async (query = '') => (await e1.client.get(`/api/inbox/counts?tz=Asia/Shanghai${query}`)).body;
    const listed = async (list: string, query: string) => (await e1.client.get(`/api/inbox/tasks?list=${list}&tz=Asia/Shanghai${query}`)).body.items.length;
    expect(await counts()).toEqual({ today: 0, overdue: 3, upcoming: 3, done: 0 });

    const filtered: [string, { today: number; overdue: number; upcoming: number; done: number }][] = [
      [`&sopId=${sop.id}`, { today: 0, overdue: 3, upcoming: 0, done: 0 }],
      [`&sopId=${coupon.id.toUpperCase()}`, { today: 0, overdue: 0, upcoming: 3, done: 0 }],
      ['&channel=phone_call', { today: 0, overdue: 3, upcoming: 0, done: 0 }],
      ['&channel=wecom_chat', { today: 0, overdue: 0, upcoming: 3, done: 0 }],
      [`&contactId=${contacts[0].id}`, { today: 0, overdue: 1, upcoming: 1, done: 0 }],
      [`&contactId=${contacts[0].id}&channel=wecom_chat`, { today: 0, overdue: 0, upcoming: 1, done: 0 }],
      [`&groupId=${randomUUID()}`, { today: 0, overdue: 0, upcoming: 0, done: 0 }], // these tasks are for contacts, not groups
      [`&executorId=${e1.id}&sopId=${sop.id}`, { today: 0, overdue: 3, upcoming: 0, done: 0 }],
    ];
    for (const [query, expected] of filtered) {
      expect([query, await counts(query)]).toEqual([query, expected]);
      // each badge is the length of the list it stands above, under the same filters
      for (const list of ['today', 'overdue', 'upcoming'] as const) expect([query, list, await listed(list, query)]).toEqual([query, list, expected[list]]);
    }

    // Done today follows the filters too.
    const [{ id: called }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [sop.id, contacts[0].id]);
    expect((await e1.client.post(`/api/inbox/tasks/${called}/complete`, { outcome: 'sent' })).status).toBe(200);
    expect(await counts(`&sopId=${sop.id}`)).toEqual({ today: 0, overdue: 2, upcoming: 0, done: 1 });
    expect(await counts(`&sopId=${coupon.id}`)).toEqual({ today: 0, overdue: 0, upcoming: 3, done: 0 });
    expect(await counts('&channel=phone_call')).toEqual({ today: 0, overdue: 2, upcoming: 0, done: 1 });

    // Checked at the edge as the list's filters are.
    for (const bad of ['&sopId=not-a-uuid', '&contactId=42', '&groupId=x', `&channel=${'x'.repeat(41)}`, '&colour=red']) {
      const res = await e1.client.get(`/api/inbox/counts?tz=Asia/Shanghai${bad}`);
      expect([bad, res.status, res.body.code]).toEqual([bad, 400, 'VALIDATION_FAILED']);
    }
    expect((await e2.client.get(`/api/inbox/counts?sopId=${sop.id}`)).body).toEqual({ today: 0, overdue: 0, upcoming: 0, done: 0 });
    expect((await e2.client.get(`/api/inbox/counts?executorId=${e1.id}&sopId=${sop.id}`)).body.code).toBe('NOT_YOUR_TASKS');
  });

  it("gives a manager's team inbox the tasks nobody could be found for (lists, counts, SOP choices), not one person's inbox", async () => {
    const { t, manager, outsider, e1, e2, sop } = await world({ ownerless: true });
    const elsewhere = await world({ ownerless: true }); // another organization, with an unassigned task of its own
    const [{ id: unassigned }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND executor_id IS NULL`, [sop.id]);
    const [{ id: theirs }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND executor_id IS NULL`, [elsewhere.sop.id]);
    // All overdue (e1's three follow-ups and the unassigned one, in both organizations), whatever the hour the test runs.
    const now = Date.now();
    await ctx.stack.db.query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE sop_id = ANY($1::uuid[])`,
      [[sop.id, elsewhere.sop.id], new Date(now - 26 * HOUR), new Date(now - 2 * HOUR)]);
    const counts = async (who: { client: Http } | Http, query = '') =>
      (await ('client' in who ? who.client : who).get(`/api/inbox/counts?tz=Asia/Shanghai${query}`)).body;
    const overdue = async (who: { client: Http }, query = '') =>
      (await who.client.get(`/api/inbox/tasks?list=overdue${query}`)).body.items.map((x: { id: string; executorId: string | null }) => [x.id, x.executorId]);
    const OVERDUE = (n: number) => ({ today: 0, overdue: n, upcoming: 0, done: 0 });

    // The team inbox: e1's three and the unassigned one, in the list, its counts and its SOP choices.
    expect(await counts(manager)).toEqual(OVERDUE(4));
    const listed = await overdue(manager);
    expect(listed).toHaveLength(4);
    expect(listed.filter(([, executorId]: [string, string | null]) => executorId === null)).toEqual([[unassigned, null]]);
    expect(await counts(manager, `&sopId=${sop.id}&channel=phone_call`)).toEqual(OVERDUE(4));
    expect((await manager.client.get('/api/inbox/sops')).body).toEqual([{ id: sop.id, name: sop.name, pending: 4 }]);
    // One person's inbox, the manager's own included ("My tasks"): not the unassigned task.
    expect(await counts(manager, `&executorId=${e1.id}`)).toEqual(OVERDUE(3));
    expect((await overdue(manager, `&executorId=${e1.id}`)).map(([id]: [string]) => id)).not.toContain(unassigned);
    expect(await counts(manager, `&executorId=${manager.id}`)).toEqual(OVERDUE(0));
    expect(await overdue(manager, `&executorId=${manager.id}`)).toEqual([]);
    expect((await manager.client.get(`/api/inbox/sops?executorId=${e1.id}`)).body).toEqual([{ id: sop.id, name: sop.name, pending: 3 }]);
    // Any manager of the organization may assign it (taskAccess): the other team's manager sees it, and no task of e1's.
    expect(await counts(outsider)).toEqual(OVERDUE(1));
    expect(await overdue(outsider)).toEqual([[unassigned, null]]);
    // Employees: their own tasks only. Admins: the whole organization.
    expect(await counts(e1)).toEqual(OVERDUE(3));
    expect(await counts(e2)).toEqual(OVERDUE(0));
    expect(await overdue(e2)).toEqual([]);
    expect((await e2.client.get('/api/inbox/sops')).body).toEqual([]);
    expect(await counts(t.admin)).toEqual(OVERDUE(4));
    // Each organization's manager sees only its own unassigned task.
    expect(await counts(elsewhere.manager)).toEqual(OVERDUE(4));
    expect((await overdue(elsewhere.manager)).map(([id]: [string]) => id)).toContain(theirs);
    expect((await overdue(elsewhere.manager)).map(([id]: [string]) => id)).not.toContain(unassigned);

    // Assigned by the manager to e2, it is no longer unassigned: e2's, still in the team's, gone from the other team's.
    expect((await manager.client.post(`/api/inbox/tasks/${unassigned}/reassign`, { executorId: e2.id })).body).toMatchObject({ executorId: e2.id });
    expect(await counts(manager)).toEqual(OVERDUE(4));
    expect(await counts(e2)).toEqual(OVERDUE(1));
    expect(await counts(outsider)).toEqual(OVERDUE(0));
  });

  it('completes, skips, snoozes and reassigns idempotently; a reply updates the contact times and announces them', async () => {
    const { t, e1, e2, e3, contacts, sop } = await world();
    const taskOf = async (contactId: string) => (await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [sop.id, contactId]))[0].id;
    const replied = await taskOf(contacts[0].id);

    expect((await e1.client.post(`/api/inbox/tasks/${replied}/complete`, { outcome: 'maybe' })).body).toMatchObject({ code: 'INVALID_OUTCOME', details: [{ path: 'outcome' }] });
    const done = await e1.client.post(`/api/inbox/tasks/${replied}/complete`, { outcome: 'replied', note: '客户说下周到店' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'done', outcome: 'replied', note: '客户说下周到店', onTime: true });
    expect((await e1.client.post(`/api/inbox/tasks/${replied}/complete`, { outcome: 'replied' })).body).toMatchObject({ status: 'done', note: '客户说下周到店' });
    expect((await e1.client.post(`/api/inbox/tasks/${replied}/skip`, { reason: 'late' })).body.code).toBe('TASK_NOT_PENDING');
    const detail = (await e1.client.get(`/api/inbox/tasks/${replied}`)).body;
    expect(detail.history.map((h: { action: string }) => h.action)).toEqual(['completed']);
    expect(detail.contactTags).toEqual(['High 高']);
    const [contact] = await ctx.stack.db.query(`SELECT last_contacted_at, last_responded_at FROM contacts WHERE id = $1`, [contacts[0].id]);
    expect(contact.last_responded_at).not.toBeNull();
    const [{ n }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM domain_events WHERE type = 'contact.updated' AND payload->'contactIds' ? $1`, [contacts[0].id]);
    expect(n).toBe(1);

    const skipped = await taskOf(contacts[1].id);
    expect((await e1.client.post(`/api/inbox/tasks/${skipped}/skip`, { reason: '  ' })).status).toBe(400);
    expect((await e1.client.post(`/api/inbox/tasks/${skipped}/skip`, { reason: 'Wrong number' })).body.status).toBe('skipped');

    const later = await taskOf(contacts[2].id);
    expect((await e1.client.post(`/api/inbox/tasks/${later}/snooze`, { until: '2020-01-01T00:00:00Z' })).status).toBe(422);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await e1.client.post(`/api/inbox/tasks/${later}/snooze`, { until })).body.snoozedUntil).toBe(until);
    expect((await e1.client.post(`/api/inbox/tasks/${later}/snooze`, { until })).status).toBe(200);
    const upcoming = (await e1.client.get('/api/inbox/tasks?list=upcoming')).body.items.map((x: { id: string }) => x.id);
    expect(upcoming).toEqual([later]);

    expect((await e1.client.post(`/api/inbox/tasks/${later}/reassign`, { executorId: e3.id })).status).toBe(403);
    expect((await e1.client.post(`/api/inbox/tasks/${later}/reassign`, { executorId: e2.id })).body.executorId).toBe(e2.id);
    expect((await e1.client.get(`/api/inbox/tasks/${later}`)).status).toBe(404); // now e2's
    const history = (await e2.client.get(`/api/inbox/tasks/${later}`)).body.history;
    expect(history.map((h: { action: string }) => h.action)).toEqual(['snoozed', 'reassigned']);
    expect(history[1].detail).toEqual({ from: e1.id, to: e2.id });

    const doneList = (await e1.client.get('/api/inbox/tasks?list=done')).body.items.map((x: { id: string; status: string }) => [x.id, x.status]);
    expect(doneList).toEqual([[skipped, 'skipped'], [replied, 'done']]); // most recently finished first

    // In bulk: the replied task is already done (the same outcome would repeat it; 'sent' is another), the skipped one is closed.
    const bulk = (await t.admin.post('/api/inbox/tasks/complete', { taskIds: [later, replied, skipped, later], outcome: 'sent' })).body;
    expect(bulk.done.map((x: { id: string }) => x.id)).toEqual([later]);
    expect(bulk.refused).toEqual([
      { taskId: replied, problem: 'This task is done; it cannot be completed.' },
      { taskId: skipped, problem: 'This task is skipped; it cannot be completed.' },
    ]);
    expect((await t.admin.get('/api/inbox/counts')).body).toMatchObject({ done: 3 });
  });

  it('gives each task a tracked link: it redirects, tags the contact once a day, and unknown tokens are a bare 404', async () => {
    const { t, e1, contacts, tags, segment } = await world();
    const sop = (await t.admin.post('/api/sops', { name: 'Coupon 优惠券', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Send the coupon', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: '{{ contact.name }}，送您一张券', materials: [
          { title: 'Coupon', url: 'https://shop.example/coupon?id=7', tagIds: [tags.productB.id] },
          { title: 'Catalogue', url: 'https://shop.example/catalogue' },
        ] },
        executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false },
    } })).body;
    await t.admin.post(`/api/sops/${sop.id}/activate`);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const [{ id }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [sop.id, contacts[0].id]);
    const detail = (await e1.client.get(`/api/inbox/tasks/${id}`)).body;
    const path: string = detail.materials[0].trackedPath;
    expect(path).toMatch(new RegExp(`^/r/${id}-0-[A-Za-z0-9]{1,8}\\.[A-Za-z0-9_-]{22}$`));

    const open = () => fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER);
    for (const _ of [1, 2]) {
      const res = await open();
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('https://shop.example/coupon?id=7');
    }
    const events = await ctx.stack.db.query(
      `SELECT e.action, e.actor_type FROM tag_events e WHERE e.contact_id = $1 AND e.tag_id = $2`, [contacts[0].id, tags.productB.id]);
    expect(events).toEqual([{ action: 'added', actor_type: 'response' }]);
    const [opens] = await ctx.stack.db.query(`SELECT opens FROM link_opens WHERE task_id = $1`, [id]);
    expect(opens.opens).toBe(2);
    const [{ n }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM domain_events WHERE type = 'material.opened' AND payload->>'taskId' = $1`, [id]);
    expect(n).toBe(1);

    // The same coupon from a second SOP's task: its link works, but the contact opened that material today already.
    const again = (await t.admin.post('/api/sops', { name: 'Coupon again 再发一次', definition: {
      ...sop.definition, steps: [{ ...sop.definition.steps[0], name: 'Send it again' }],
    } })).body;
    await t.admin.post(`/api/sops/${again.id}/activate`);
    await enrollEntrants(ctx.stack.db, again.id, new Date());
    await materializeDuePage(ctx.stack.db, again.id, new Date(), 100);
    const [{ id: againId }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [again.id, contacts[0].id]);
    const againPath: string = (await e1.client.get(`/api/inbox/tasks/${againId}`)).body.materials[0].trackedPath;
    expect((await fetch(`${ctx.stack.baseUrl}${againPath}`, AS_CUSTOMER)).status).toBe(302);
    const [{ responses }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS responses FROM responses WHERE contact_id = $1 AND kind = 'opened'`, [contacts[0].id]);
    expect(responses).toBe(1);
    expect(await ctx.stack.db.query(`SELECT opens FROM link_opens WHERE task_id = $1`, [againId])).toEqual([{ opens: 1 }]);

    const second: string = detail.materials[1].trackedPath;
    expect((await fetch(`${ctx.stack.baseUrl}${second}`, AS_CUSTOMER)).headers.get('location')).toBe('https://shop.example/catalogue');
    const forged = path.slice(0, -1) + (path.endsWith('A') ? 'B' : 'A');
    const otherIndex = `/r/${id}-1-${path.slice(`/r/${id}-0-`.length)}`; // material 1 with material 0's signature
    for (const bad of [forged, otherIndex, '/r/nothing-here', `/r/999999999-0-${'a'.repeat(22)}`]) {
      const res = await fetch(`${ctx.stack.baseUrl}${bad}`, AS_CUSTOMER);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('shop.example');
    }
  });
});

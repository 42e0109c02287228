import { ageSpend30d } from '@sop/engine';
import { eventKey, sendEvents, sign } from '../support/events';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const DAY = 86_400_000;

describe('the events API (real Postgres)', () => {
  const ctx = useStack();

  async function world() {
    const t = await signupTenant(ctx.http);
    const key = await eventKey(t);
    const contact = (await t.admin.post('/api/contacts', { externalId: 'wx_8812', name: '王女士' })).body;
    const tenantId = await tenantOf(contact.id);
    const stored = async () => {
      const [row] = await ctx.stack.db.query(
        `SELECT (SELECT count(*)::int FROM ingested_events WHERE tenant_id = $1) AS events,
                (SELECT count(*)::int FROM responses WHERE tenant_id = $1) AS responses,
                (SELECT count(*)::int FROM purchases WHERE tenant_id = $1) AS purchases`, [tenantId]);
      return row;
    };
    const metrics = async () => (await ctx.stack.db.query(
      `SELECT order_count, total_spend::float8 AS total, spend_30d::float8 AS spend30, last_order_at, last_responded_at, attributes
         FROM contacts WHERE id = $1`, [contact.id]))[0];
    return { t, key, contact, tenantId, stored, metrics };
  }

  const tenantOf = async (contactId: string) => (await ctx.stack.db.query(`SELECT tenant_id FROM contacts WHERE id = $1`, [contactId]))[0].tenant_id;

  it('answers 401 and keeps nothing for a missing, bad, stale or foreign signature, or without an API key', async () => {
    const { t, key, stored, metrics } = await world();
    const purchase = { id: 'evt-1', type: 'purchase', externalId: 'wx_8812', data: { orderId: 'SO-1', amount: 100, currency: 'CNY' } };
    const now = Math.floor(Date.now() / 1000);
    const other = await eventKey(t);
    const attempts = [
      ['SIGNATURE_MISSING', { headers: { 'x-sop-signature': undefined } }],
      ['SIGNATURE_MISSING', { headers: { 'x-sop-timestamp': undefined } }],
      ['SIGNATURE_INVALID', { headers: { 'x-sop-signature': 'v1=' + '0'.repeat(64) } }],
      ['SIGNATURE_INVALID', { headers: { 'x-sop-signature': sign(other.signingSecret, now, JSON.stringify(purchase)) } }],
      ['SIGNATURE_INVALID', { headers: { 'x-sop-signature': sign(key.signingSecret, now, JSON.stringify({ ...purchase, id: 'evt-2' })) } }],
      ['SIGNATURE_STALE', { timestamp: now - 330 }],
      ['SIGNATURE_STALE', { timestamp: now + 330 }],
      ['SIGNATURE_STALE', { headers: { 'x-sop-timestamp': 'yesterday' } }],
      ['UNAUTHENTICATED', { headers: { 'x-api-key': undefined } }],
    ] as const;
    for (const [code, options] of attempts) {
      const res = await sendEvents(ctx.http, key, purchase, options);
      expect([res.status, res.body.code]).toEqual([401, code]);
    }
    // A person's token is not an integration: events need a key and its signing secret.
    const asAdmin = await t.admin.request('POST', '/api/events', JSON.stringify(purchase),
      { 'x-sop-timestamp': String(now), 'x-sop-signature': sign(key.signingSecret, now, JSON.stringify(purchase)) });
    expect([asAdmin.status, asAdmin.body.code]).toEqual([401, 'API_KEY_REQUIRED']);
    const employeeKey = await eventKey(t, 'employee');
    expect((await sendEvents(ctx.http, employeeKey, purchase)).status).toBe(403);
    expect(await stored()).toEqual({ events: 0, responses: 0, purchases: 0 });
    expect((await metrics()).order_count).toBe(0);

    const ok = await sendEvents(ctx.http, key, purchase);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ accepted: 1, duplicates: 0, rejected: 0, results: [{ index: 0, id: 'evt-1', status: 'accepted' }] });
    expect(JSON.stringify(await ctx.stack.db.query(`SELECT * FROM api_keys WHERE id = $1`, [key.id]))).not.toContain(key.signingSecret.slice(6));
  });

  it('keeps the good events of a batch, names the bad ones, counts an order once and never applies an event id twice', async () => {
    const { t, key, contact, tenantId, metrics } = await world();
    const spend = (await t.admin.post('/api/tag-groups', { name: 'Spend tier 消费分层', exclusive: true })).body;
    const vip = (await t.admin.post('/api/tags', { groupId: spend.id, name: 'VIP', kind: 'computed' })).body;
    const regular = (await t.admin.post('/api/tags', { groupId: spend.id, name: 'Regular 普通', kind: 'computed' })).body;
    expect((await t.admin.post('/api/computed-tags', { name: '30-day spend tiers', groupId: spend.id, cases: [
      { tagId: vip.id, when: { metric: { name: 'spend30d', op: 'gte', value: 500 } } },
      { tagId: regular.id, when: { metric: { name: 'orderCount', op: 'gte', value: 1 } } },
    ] })).status).toBe(201);
    const tags = async () => (await t.admin.get(`/api/contacts/${contact.id}`)).body.tags.map((x: { name: string }) => x.name);
    const longAgo = new Date(Date.now() - 40 * DAY).toISOString();
    const batch = { events: [
      { id: 'o-1', type: 'purchase', externalId: 'wx_8812', data: { orderId: 'SO-1', amount: 300, currency: 'CNY' } },
      { id: 'o-2', type: 'purchase', externalId: 'wx_8812', data: { orderId: 'SO-2', amount: -5, currency: 'CNY' } },
      { id: 'o-3', type: 'refund', externalId: 'wx_8812' },
      { id: 'o-4', type: 'purchase', externalId: 'nobody', data: { orderId: 'SO-4', amount: 10, currency: 'CNY' } },
      { id: 'o-1', type: 'purchase', externalId: 'wx_8812', data: { orderId: 'SO-1', amount: 300, currency: 'CNY' } },
      { id: 'o-5', type: 'purchase', externalId: 'wx_8812', data: { orderId: 'SO-1', amount: 300, currency: 'CNY' } },
      { id: 'o-6', type: 'purchase', externalId: 'wx_8812', occurredAt: longAgo, data: { orderId: 'SO-OLD', amount: 1000, currency: 'CNY' } },
      { id: 'o-7', type: 'purchase', externalId: 'wx_8812', data: { orderId: 'SO-7', amount: 250.5, currency: 'cny', extra: 1 } },
      { type: 'reply', externalId: 'wx_8812' },
    ] };
    const res = await sendEvents(ctx.http, key, batch);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 2, rejected: 5 });
    const byIndex = res.body.results.map((r: { status: string; problems?: { path: string }[] }) => [r.status, r.problems?.map((p) => p.path) ?? []]);
    expect(byIndex).toEqual([
      ['accepted', []],
      ['rejected', ['data.amount']],
      ['rejected', ['type']],
      ['rejected', ['externalId']],
      ['duplicate', []],
      ['duplicate', []],
      ['accepted', []],
      ['rejected', expect.arrayContaining(['data.currency', 'data'])],
      ['rejected', ['id']],
    ]);
    expect(res.body.results[5].reason).toBe('this order was recorded before');
    const after = await metrics();
    expect(after).toMatchObject({ order_count: 2, total: 1300, spend30: 300 });
    expect(after.last_order_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await tags()).toEqual(['Regular 普通']);

    const replay = await sendEvents(ctx.http, key, batch);
    expect(replay.body).toMatchObject({ accepted: 0, duplicates: 4, rejected: 5 });
    expect(await metrics()).toMatchObject({ order_count: 2, total: 1300, spend30: 300 });

    // A fix of the refused ones is accepted; the 30-day spend crosses 500 and the computed tier follows.
    const fixed = await sendEvents(ctx.http, key, { id: 'o-7', type: 'purchase', externalId: 'wx_8812', data: { orderId: 'SO-7', amount: 250.5, currency: 'CNY' } });
    expect(fixed.body.results[0].status).toBe('accepted');
    expect(await metrics()).toMatchObject({ order_count: 3, total: 1550.5, spend30: 550.5 });
    expect(await tags()).toEqual(['VIP']);
    const spendEvents = async () => (await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM domain_events WHERE type = 'contact.updated' AND payload->'contactIds' ? $1 AND payload->'fields' ? 'spend30d'`,
      [contact.id]))[0].n;
    expect(await spendEvents()).toBe(3);

    // Thirty days on, the periodic sweep takes the purchases out of the 30-day spend (once) and the tier drops.
    // The sweep is given this organization only (unscoped, it ages every organization's purchases that are 30 days
    // old, the other test files' too), and this organization's purchases are made 31 days old: the sweep runs at the
    // real time.
    const age = (days: number) =>
      ctx.stack.db.query(`UPDATE purchases SET ordered_at = ordered_at - make_interval(days => $2) WHERE tenant_id = $1`, [tenantId, days]);
    await age(31);
    await ageSpend30d(ctx.stack.db, new Date(), [tenantId]);
    expect(await metrics()).toMatchObject({ order_count: 3, total: 1550.5, spend30: 0 });
    expect(await tags()).toEqual(['Regular 普通']);
    const announced = await spendEvents();
    expect(announced).toBeGreaterThan(3);
    await age(1);
    await ageSpend30d(ctx.stack.db, new Date(), [tenantId]);
    expect((await metrics()).spend30).toBe(0);
    expect(await spendEvents()).toBe(announced); // taken out once: nothing more to announce
    const timeline = (await t.admin.get(`/api/contacts/${contact.id}/timeline`)).body;
    expect(timeline.filter((e: { type: string }) => e.type === 'response.bought')).toHaveLength(3);
  });

  it('takes one event alone or a bare array, refuses an empty or oversized batch and a body that is not JSON', async () => {
    const { key } = await world();
    const one = { id: 'c-1', type: 'custom', name: 'quiz.finished', externalId: 'wx_8812', data: { score: 7 } };
    expect((await sendEvents(ctx.http, key, one)).body).toMatchObject({ accepted: 1 });
    expect((await sendEvents(ctx.http, key, [one, { ...one, id: 'c-2' }])).body).toMatchObject({ accepted: 1, duplicates: 1 });
    expect((await sendEvents(ctx.http, key, { events: [] })).body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'events' }] });
    const tooMany = await sendEvents(ctx.http, key, { events: Array.from({ length: 501 }, (_, i) => ({ ...one, id: `x-${i}` })) });
    expect([tooMany.status, tooMany.body.details[0].problem]).toEqual([400, 'at most 500 events per request (got 501)']);
    const raw = '{"events": [';
    const now = Math.floor(Date.now() / 1000);
    const bad = await ctx.http.request('POST', '/api/events', raw, { 'x-api-key': key.key, 'x-sop-timestamp': String(now), 'x-sop-signature': sign(key.signingSecret, now, raw) });
    expect([bad.status, bad.body.code]).toEqual([400, 'MALFORMED_JSON']);
  });

  it('refuses an event holding a NUL character alone, keeping the rest of the batch (Postgres cannot store it)', async () => {
    const { key, stored } = await world();
    const reply = { id: 'n-1', type: 'reply', externalId: 'wx_8812', data: { text: 'hello' } };
    const res = await sendEvents(ctx.http, key, [reply, { ...reply, id: 'n-2', data: { text: 'a\u0000b' } }, { ...reply, id: 'n\u00003' }]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, rejected: 2 });
    expect(res.body.results[1].problems).toEqual([{ path: 'data.text', problem: 'must not contain the NUL character (\\u0000)' }]);
    expect(await stored()).toMatchObject({ events: 1, responses: 1 });
  });

  it('applies replies, group joins and leaves, unsubscribes and arrivals through a channel code', async () => {
    const { t, key, contact, metrics } = await world();
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const code = (await t.admin.post('/api/source-codes', { code: 'XHS-DOUBLE11', name: '小红书双11', tagIds: [tags.productB.id], ownerId: owner.id })).body;
    const group = (await t.admin.post('/api/groups', { name: 'VIP 群' })).body;
    const subscribed = (await t.admin.post('/api/segments', { name: 'Reachable', rule: { not: { attribute: { key: 'unsubscribed', op: 'eq', value: true } } } })).body;
    const inGroup = (await t.admin.post('/api/segments', { name: 'In the VIP group', rule: { group: { any: [group.id] } } })).body;
    const members = async (segmentId: string) => (await ctx.stack.db.query(
      `SELECT contact_id FROM segment_memberships WHERE segment_id = $1 AND exited_at IS NULL`, [segmentId])).map((r: { contact_id: string }) => r.contact_id);
    expect(await members(subscribed.id)).toContain(contact.id);

    const repliedAt = new Date(Date.now() - 60_000).toISOString();
    const res = await sendEvents(ctx.http, key, { events: [
      { id: 'r-1', type: 'reply', externalId: 'wx_8812', occurredAt: repliedAt, data: { channel: 'wecom', text: '好的' } },
      { id: 'g-1', type: 'group.joined', externalId: 'wx_8812', data: { groupId: group.id } },
      { id: 'g-2', type: 'group.joined', externalId: 'wx_8812', data: { groupId: '00000000-0000-4000-8000-000000000000' } },
      { id: 'j-1', type: 'contact.joined', externalId: 'xhs_77', data: { code: 'XHS-DOUBLE11', name: '李先生' } },
      { id: 'j-2', type: 'contact.joined', externalId: 'xhs_78', data: { code: 'NO-SUCH-CODE' } },
      { id: 'j-3', type: 'contact.joined', externalId: 'xhs_77', data: { code: 'XHS-DOUBLE11' } },
    ] });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted', 'rejected', 'accepted', 'rejected', 'accepted']);
    expect(res.body.results[2].problems).toEqual([{ path: 'data.groupId', problem: 'no such customer group' }]);
    expect(res.body.results[4].problems).toEqual([{ path: 'data.code', problem: 'no such source code' }]);
    expect((await metrics()).last_responded_at.toISOString()).toBe(repliedAt);
    expect(await members(inGroup.id)).toEqual([contact.id]);
    const joined = (await t.admin.get('/api/contacts?q=xhs_77')).body.items[0];
    expect(joined).toMatchObject({ name: '李先生', ownerId: owner.id, tags: [expect.objectContaining({ id: tags.productB.id })] });
    const [{ n }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM domain_events WHERE type = 'contact.joined' AND payload->>'contactId' = $1`, [joined.id]);
    expect(n).toBe(1);
    expect((await ctx.stack.db.query(`SELECT kind, data FROM responses WHERE contact_id = $1 ORDER BY id`, [joined.id])))
      .toEqual([{ kind: 'joined', data: { code: code.code, created: true } }, { kind: 'joined', data: { code: code.code, created: false } }]);

    const later = await sendEvents(ctx.http, key, { events: [
      { id: 'g-3', type: 'group.left', externalId: 'wx_8812', data: { groupId: group.id } },
      { id: 'u-1', type: 'unsubscribed', externalId: 'wx_8812', data: { channel: 'sms' } },
    ] });
    expect(later.body.accepted).toBe(2);
    expect(await members(inGroup.id)).toEqual([]);
    expect((await metrics()).attributes).toMatchObject({ unsubscribed: true, unsubscribedAt: expect.any(String) });
    expect(await members(subscribed.id)).not.toContain(contact.id);
    const kinds = (await t.admin.get(`/api/contacts/${contact.id}/timeline`)).body.map((e: { type: string }) => e.type);
    expect(kinds).toEqual(['response.unsubscribed', 'response.left_group', 'response.joined_group', 'response.replied']);
  });
});

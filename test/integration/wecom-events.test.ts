import { randomBytes } from 'node:crypto';
import { createActivities } from '@sop/worker';
import type { WecomEventsActivities } from '@sop/workflows';
import { WecomAccess } from '@sop/wecom';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DataSource, type Logger } from 'typeorm';
import { addUser, signupTenant, type TenantFixture } from '../support/http';
import { waitUntil } from '../support/poll';
import { useStack } from '../support/stack';
import { chatEvent, contactEvent, serveCustomerRoutes, tagEvent, type WecomCustomers } from '../support/wecom-events';
import { newCorp, useWecomServer, WecomServer, type WecomCorp } from '../support/wecom-server';

/**
 * Issue 16, the callback's events applied: delivered through the real callback (encrypted and signed with WeCom's
 * official @wecom/crypto by the local WeCom), applied by the tenant's events workflow on a real Temporal worker
 * into real Postgres, with what they need fetched from the local WeCom.
 */
describe('WeCom callback events applied (real Postgres, Temporal and a local WeCom)', () => {
  // known keys, so the test can open connections as the worker does (random per run)
  const sealing = { id: 'evtest', secret: randomBytes(32).toString('hex') };
  const env: Record<string, string> = { WECOM_SECRET_KEYS: `${sealing.id}:${sealing.secret}` };
  const local = useWecomServer(env);
  const ctx = useStack({ env, worker: true });
  let customers: (corp: WecomCorp) => WecomCustomers;
  beforeAll(() => {
    customers = serveCustomerRoutes(local());
  });

  type WecomEventsApplied = Awaited<ReturnType<WecomEventsActivities['applyWecomEvents']>>;

  interface Connected { t: TenantFixture; tenantId: string; corp: WecomCorp; data: WecomCustomers; deliver: (xml: string) => Promise<number> }
  const connected = async (): Promise<Connected> => {
    const t = await signupTenant(ctx.http, 'WeCom Events');
    const corp = local().add(newCorp());
    const res = await t.admin.put('/api/wecom/connection', { ...corp });
    expect(res.status).toBe(200);
    const path = new URL(res.body.callbackUrl).pathname;
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]);
    const deliver = async (xml: string) => {
      const { query, body } = WecomServer.delivery(corp, xml);
      const ack = await ctx.http.request('POST', `${path}?${query}`, body, { 'content-type': 'text/xml' });
      expect([ack.status, ack.body]).toEqual([200, 'success']);
      return Date.now();
    };
    return { t, tenantId, corp, data: customers(corp), deliver };
  };
  /** A row of wecom_callback_events as `processed` reads it, once applied. */
  interface AppliedEvent { id: string; change_type: string | null; processed_at: Date; outcome: string | null; error: string | null }
  const processed = (tenantId: string, what = 'every event applied') => waitUntil(
    () => ctx.stack.db.query(`SELECT id::text, change_type, processed_at, outcome, error FROM wecom_callback_events e WHERE e.tenant_id = $1 ORDER BY e.id`, [tenantId]),
    (rows: (Omit<AppliedEvent, 'processed_at'> & { processed_at: Date | null })[]): rows is AppliedEvent[] =>
      rows.length > 0 && rows.every((r) => r.processed_at), what, 15_000);
  const contact = async (tenantId: string, externalUserId: string) => {
    const [row] = await ctx.stack.db.query(
      `SELECT c.id, c.name, c.owner_id, c.external_id, coalesce(array_agg(t.name ORDER BY t.name) FILTER (WHERE t.id IS NOT NULL), '{}') AS tags
         FROM contacts c LEFT JOIN contact_tags ct ON ct.contact_id = c.id LEFT JOIN tags t ON t.id = ct.tag_id
        WHERE c.tenant_id = $1 AND c.wecom_external_user_id = $2 GROUP BY c.id`, [tenantId, externalUserId]);
    return row;
  };
  const responses = async (contactId: string) =>
    (await ctx.stack.db.query(`SELECT kind, source, data FROM responses WHERE contact_id = $1 ORDER BY occurred_at, id`, [contactId]));
  const member = (tenantId: string, wecomUserId: string, userId: string | null) =>
    ctx.stack.db.query(`INSERT INTO wecom_users (tenant_id, wecom_user_id, name, user_id, matched_by) VALUES ($1, $2, $2, $3, $4)`,
      [tenantId, wecomUserId, userId, userId ? 'hand' : null]);
  const person = (externalUserId: string, name: string, follow: { userid: string; state?: string; tags?: string[] }[]) => ({
    external_contact: { external_userid: externalUserId, name, type: 1 },
    follow_user: follow.map((f) => ({
      userid: f.userid, state: f.state, createtime: 1700000000,
      tags: (f.tags ?? []).map((id) => ({ group_name: '意向', tag_name: id, tag_id: id, type: 1 })),
    })),
  });

  it('follows corp tags: a group created, a tag renamed, reordered, deleted (unlinked, kept)', async () => {
    const { tenantId, corp, data, deliver } = await connected();
    data.tagGroups = [{ group_id: 'etGROUP1', group_name: '意向', create_time: 1, order: 1, tag: [
      { id: 'etHIGH', name: '高意向', create_time: 1, order: 1 }, { id: 'etLOW', name: '低意向', create_time: 1, order: 2 }] }];
    await deliver(tagEvent(corp, 'create', 'etGROUP1', 'tag_group'));
    await processed(tenantId);
    const tags = () => ctx.stack.db.query(
      `SELECT g.name AS "group", g.wecom_group_id, t.name, t.wecom_tag_id, t.wecom_order FROM tags t JOIN tag_groups g ON g.id = t.group_id
        WHERE t.tenant_id = $1 AND g.name <> '企业微信' ORDER BY t.name`, [tenantId]);
    expect(await tags()).toEqual([
      { group: '意向', wecom_group_id: 'etGROUP1', name: '低意向', wecom_tag_id: 'etLOW', wecom_order: 2 },
      { group: '意向', wecom_group_id: 'etGROUP1', name: '高意向', wecom_tag_id: 'etHIGH', wecom_order: 1 },
    ]);
    data.tagGroups[0].tag[0].name = '很高意向';
    data.tagGroups[0].tag[0].order = 3;
    await deliver(tagEvent(corp, 'update', 'etHIGH', 'tag'));
    data.tagGroups[0].tag[1].order = 0;
    await deliver(tagEvent(corp, 'shuffle', 'etGROUP1'));
    await deliver(tagEvent(corp, 'create', 'etRULE', 'tag', 7)); // a rule-group (strategy) tag: not followed
    await processed(tenantId);
    expect(await tags()).toEqual([
      { group: '意向', wecom_group_id: 'etGROUP1', name: '低意向', wecom_tag_id: 'etLOW', wecom_order: 0 },
      { group: '意向', wecom_group_id: 'etGROUP1', name: '很高意向', wecom_tag_id: 'etHIGH', wecom_order: 3 },
    ]);
    await deliver(tagEvent(corp, 'delete', 'etLOW', 'tag'));
    const rows = await processed(tenantId);
    expect((await tags()).map((t: { name: string; wecom_tag_id: string | null }) => [t.name, t.wecom_tag_id])).toEqual([['低意向', null], ['很高意向', 'etHIGH']]);
    expect(rows.map((r: { error: string | null }) => r.error)).toEqual([null, null, null, null, null]);
    expect(rows[3].outcome).toMatch(/strategy/);
  });

  it('adds a contact through its channel code within seconds, once, with the member as owner and its corp tags; edits follow', async () => {
    const { t, tenantId, corp, data, deliver } = await connected();
    const employee = await addUser(t, ctx.http, 'employee');
    await member(tenantId, 'zhangsan', employee.id);
    data.tagGroups = [{ group_id: 'etG', group_name: '意向', create_time: 1, order: 1, tag: [
      { id: 'etA', name: '高意向', create_time: 1, order: 1 }, { id: 'etB', name: '老客', create_time: 1, order: 2 }] }];
    await deliver(tagEvent(corp, 'create', 'etG', 'tag_group'));
    await processed(tenantId);
    const group = (await t.admin.post('/api/tag-groups', { name: 'Channel' })).body;
    const fair = (await t.admin.post('/api/tags', { groupId: group.id, name: 'Spring fair', kind: 'source' })).body;
    expect((await t.admin.post('/api/source-codes', { code: 'spring-fair', name: 'Spring fair', tagIds: [fair.id] })).status).toBe(201);

    data.contacts.set('wmCUST1', person('wmCUST1', '陈静', [{ userid: 'zhangsan', state: 'spring-fair', tags: ['etA', 'etB'] }]));
    const added = contactEvent(corp, 'add_external_contact', 'zhangsan', 'wmCUST1', { State: 'spring-fair', WelcomeCode: 'WELCOME1' });
    const ackAt = await deliver(added);
    const rows = await processed(tenantId);
    const latency = new Date(rows[rows.length - 1].processed_at).getTime() - ackAt;
    expect(latency).toBeLessThan(5000);
    const c = await contact(tenantId, 'wmCUST1');
    expect(c).toMatchObject({ name: '陈静', owner_id: employee.id, external_id: 'wecom:wmCUST1', tags: ['Spring fair', '老客', '高意向'] });
    expect((await responses(c.id)).map((r: { kind: string; source: string }) => [r.kind, r.source])).toEqual([['joined', 'event']]);

    // WeCom's retry of the same delivery, and another wake: applied once
    await deliver(added);
    await deliver(tagEvent(corp, 'update', 'etA', 'tag'));
    await processed(tenantId);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1 AND wecom_external_user_id IS NOT NULL`, [tenantId]))[0].n).toBe(1);
    expect(await responses(c.id)).toHaveLength(1);

    // edited in WeCom: renamed, one corp tag taken off (our other tags stay)
    data.contacts.set('wmCUST1', person('wmCUST1', '陈静静', [{ userid: 'zhangsan', state: 'spring-fair', tags: ['etA'] }]));
    await deliver(contactEvent(corp, 'edit_external_contact', 'zhangsan', 'wmCUST1'));
    await processed(tenantId);
    expect(await contact(tenantId, 'wmCUST1')).toMatchObject({ name: '陈静静', tags: ['Spring fair', '高意向'] });
  });

  it('records unknown members and contacts without stopping, and what deletions either way do', async () => {
    const { t, tenantId, corp, data, deliver } = await connected();
    const employee = await addUser(t, ctx.http, 'employee');
    await member(tenantId, 'lisi', employee.id);
    data.contacts.set('wmA', person('wmA', '王芳', [{ userid: 'nobody' }]));
    data.contacts.set('wmB', person('wmB', '刘洋', [{ userid: 'lisi' }]));
    await deliver(contactEvent(corp, 'add_external_contact', 'nobody', 'wmA'));
    await deliver(contactEvent(corp, 'add_half_external_contact', 'lisi', 'wmB'));
    await deliver(contactEvent(corp, 'add_external_contact', 'lisi', 'wmGONE')); // WeCom: no such relationship
    await deliver(contactEvent(corp, 'del_follow_user', 'lisi', 'wmUNKNOWN'));
    const rows = await processed(tenantId);
    expect(rows[0].outcome).toMatch(/member nobody is unknown/);
    expect(rows[2].error).toMatch(/84061/);
    expect(rows[3].outcome).toMatch(/unknown contact/);
    expect(await contact(tenantId, 'wmA')).toMatchObject({ name: '王芳', owner_id: null });
    const b = await contact(tenantId, 'wmB');
    expect(b.owner_id).toBe(employee.id);

    // the customer deleted the employee: a response and the behaviour tag
    await deliver(contactEvent(corp, 'del_follow_user', 'lisi', 'wmB'));
    // the employee deleted the customer: the contact stays, without that owner
    await deliver(contactEvent(corp, 'del_external_contact', 'lisi', 'wmB'));
    await processed(tenantId);
    expect(await contact(tenantId, 'wmB')).toMatchObject({ owner_id: null, tags: ['删除了员工'] });
    expect((await responses(b.id)).map((r: { kind: string; data: { deletedMember?: string } }) => [r.kind, r.data.deletedMember])).toEqual([['unsubscribed', 'lisi']]);

    const status = (await t.admin.get('/api/wecom/connection')).body;
    expect(status).toMatchObject({ eventsWaiting: 0, lastEventError: { message: expect.stringMatching(/84061/) } });
    expect(status.lastProcessedAt).toBeTruthy();
  });

  it('follows customer groups: created with members, members joining and leaving as responses, renamed, dismissed', async () => {
    const { t, tenantId, corp, data, deliver } = await connected();
    const owner = await addUser(t, ctx.http, 'employee');
    await member(tenantId, 'wangwu', owner.id);
    for (const id of ['wmX', 'wmY', 'wmZ']) data.contacts.set(id, person(id, id, [{ userid: 'wangwu' }]));
    for (const id of ['wmX', 'wmY', 'wmZ']) await deliver(contactEvent(corp, 'add_external_contact', 'wangwu', id));
    const chat = {
      chat_id: 'wrCHAT1', name: '春季客户群', owner: 'wangwu', create_time: 1,
      member_list: [{ userid: 'wangwu', type: 1, join_time: 1, join_scene: 1 }, { userid: 'wmX', type: 2, join_time: 1, join_scene: 1 },
        { userid: 'wmY', type: 2, join_time: 1, join_scene: 1 }, { userid: 'wmSTRANGER', type: 2, join_time: 1, join_scene: 1 }],
    };
    data.chats.set('wrCHAT1', chat);
    await deliver(chatEvent(corp, 'create', 'wrCHAT1'));
    await processed(tenantId);
    const group = async () => (await ctx.stack.db.query(
      `SELECT g.id, g.name, g.owner_id, g.wecom_dismissed_at, coalesce(array_agg(c.wecom_external_user_id ORDER BY c.wecom_external_user_id) FILTER (WHERE c.id IS NOT NULL), '{}') AS members
         FROM customer_groups g LEFT JOIN group_members m ON m.group_id = g.id LEFT JOIN contacts c ON c.id = m.contact_id
        WHERE g.tenant_id = $1 AND g.wecom_chat_id = 'wrCHAT1' GROUP BY g.id`, [tenantId]))[0];
    expect(await group()).toMatchObject({ name: '春季客户群', owner_id: owner.id, members: ['wmX', 'wmY'], wecom_dismissed_at: null });

    chat.member_list.push({ userid: 'wmZ', type: 2, join_time: 2, join_scene: 3 });
    await deliver(chatEvent(corp, 'update', 'wrCHAT1', { detail: 'add_member', members: ['wmZ'], joinScene: 3 }));
    await deliver(chatEvent(corp, 'update', 'wrCHAT1', { detail: 'del_member', members: ['wmX', 'wmSTRANGER'], quitScene: 0 }));
    chat.name = '春季老客户群';
    await deliver(chatEvent(corp, 'update', 'wrCHAT1', { detail: 'change_name' }));
    await processed(tenantId);
    const g = await group();
    expect(g).toMatchObject({ name: '春季老客户群', members: ['wmY', 'wmZ'] });
    const kinds = async (id: string) => (await responses((await contact(tenantId, id)).id)).map((r: { kind: string; data: { groupId: string } }) => [r.kind, r.data.groupId]);
    expect(await kinds('wmX')).toEqual([['joined_group', g.id], ['left_group', g.id]]);
    expect(await kinds('wmZ')).toEqual([['joined_group', g.id]]);

    data.chats.delete('wrCHAT1');
    await deliver(chatEvent(corp, 'dismiss', 'wrCHAT1'));
    const rows = await processed(tenantId);
    expect(await group()).toMatchObject({ members: [], wecom_dismissed_at: expect.any(Date) });
    expect(rows.every((r: { error: string | null }) => r.error === null)).toBe(true);
  });

  it('records an event that fails as its error and keeps the events around it in the same batch', async () => {
    const { t, tenantId, data } = await connected();
    const employee = await addUser(t, ctx.http, 'employee');
    await member(tenantId, 'sunqi', employee.id);
    for (const id of ['wmF1', 'wmF2']) data.contacts.set(id, person(id, id, [{ userid: 'sunqi' }]));
    // our group "意向" is linked to one WeCom group already: a second WeCom group of that name cannot be linked
    await ctx.stack.db.query(`INSERT INTO tag_groups (tenant_id, name, wecom_group_id) VALUES ($1, '意向', 'etGROUPX')`, [tenantId]);
    data.tagGroups = [{ group_id: 'etGROUPY', group_name: '意向', create_time: 1, order: 1, tag: [] }];
    const keep = (digest: string, payload: Record<string, unknown>) => ctx.stack.db.query(
      `INSERT INTO wecom_callback_events (tenant_id, digest, event, change_type, payload) VALUES ($1, $2, $3, $4, $5)`,
      [tenantId, digest, payload.Event, payload.ChangeType, payload]);
    await keep('fail-1', { Event: 'change_external_contact', ChangeType: 'add_external_contact', UserID: 'sunqi', ExternalUserID: 'wmF1' });
    await keep('fail-2', { Event: 'change_external_tag', ChangeType: 'create', TagType: 'tag_group', Id: 'etGROUPY' });
    await keep('fail-3', { Event: 'change_external_contact', ChangeType: 'add_external_contact', UserID: 'sunqi', ExternalUserID: 'wmF2' });
    const activities = createActivities(ctx.stack.db, 'fail-test', undefined, new WecomAccess({ secretKeys: [sealing], apiBase: local().baseUrl }));
    const result = await new MockActivityEnvironment().run(activities.applyWecomEvents, { tenantId, batchSize: 10 });
    expect(result).toMatchObject({ applied: 2, failed: 1 });
    const rows = await processed(tenantId);
    expect(rows.map((r: { error: string | null }) => r.error)).toEqual([null, expect.stringMatching(/held by another WeCom tag group/), null]);
    expect(rows[0].outcome).toMatch(/created/);
    expect(await contact(tenantId, 'wmF1')).toMatchObject({ owner_id: employee.id });
    expect(await contact(tenantId, 'wmF2')).toMatchObject({ owner_id: employee.id });
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tag_groups WHERE tenant_id = $1 AND name = '意向'`, [tenantId]))[0].n).toBe(1);
  });

  it('applies a batch of contacts added and edited in a few statements, each contact\'s events in their order', async () => {
    const { t, tenantId, data } = await connected();
    const [first, second] = [await addUser(t, ctx.http, 'employee'), await addUser(t, ctx.http, 'employee')];
    await member(tenantId, 'qianba', first.id);
    await member(tenantId, 'zhoujiu', second.id);
    const keep = (n: number, changeType: string, userId: string, externalUserId: string) => ctx.stack.db.query(
      `INSERT INTO wecom_callback_events (tenant_id, digest, event, change_type, payload) VALUES ($1, $2, 'change_external_contact', $3, $4)`,
      [tenantId, `set-${n}`, changeType, { Event: 'change_external_contact', ChangeType: changeType, UserID: userId, ExternalUserID: externalUserId }]);
    // 40 new contacts; then wmS0 edited (its new name), wmS1 deleted by its owner and added by another employee
    for (let i = 0; i < 40; i++) data.contacts.set(`wmS${i}`, person(`wmS${i}`, `客户${i}`, [{ userid: 'qianba' }]));
    for (let i = 0; i < 40; i++) {
      if (i === 20) await keep(100, 'add_external_contact', 'qianba', 'wmGONE'); // WeCom: no such relationship, recorded as its error
      await keep(i, 'add_external_contact', 'qianba', `wmS${i}`);
    }
    await keep(40, 'edit_external_contact', 'qianba', 'wmS0');
    await keep(41, 'del_external_contact', 'qianba', 'wmS1');
    await keep(42, 'add_external_contact', 'zhoujiu', 'wmS1');
    data.contacts.set('wmS0', person('wmS0', '客户零', [{ userid: 'qianba' }]));
    data.contacts.set('wmS1', person('wmS1', '客户一', [{ userid: 'qianba' }, { userid: 'zhoujiu' }]));
    // the statements the batch sends, counted on a data source of its own
    let statements = 0;
    const counting: Logger = { logQuery: () => void statements++, logQueryError: () => {}, logQuerySlow: () => {}, logSchemaBuild: () => {}, logMigration: () => {}, log: () => {} };
    const db = await new DataSource({ ...ctx.stack.db.options, logger: counting }).initialize();
    try {
      const activities = createActivities(db, 'set-test', undefined, new WecomAccess({ secretKeys: [sealing], apiBase: local().baseUrl }));
      const result = await new MockActivityEnvironment().run(activities.applyWecomEvents, { tenantId, batchSize: 50 });
      expect(result).toMatchObject({ applied: 43, failed: 1 });
    } finally {
      await db.destroy();
    }
    // one at a time, 44 events took two statements or more each
    expect(statements).toBeLessThan(30);
    const rows = await processed(tenantId);
    expect(rows.map((r: { error: string | null }) => r.error)).toEqual([...Array(20).fill(null), expect.stringMatching(/84061/), ...Array(23).fill(null)]);
    expect(rows.slice(0, 41).filter((r: { outcome: string | null }) => /created/.test(r.outcome ?? ''))).toHaveLength(40);
    expect(rows[41].outcome).toMatch(/updated/);
    expect(rows[42].outcome).toMatch(/owner cleared/);
    expect(rows[43].outcome).toMatch(/updated/);
    expect(await contact(tenantId, 'wmS0')).toMatchObject({ name: '客户零', owner_id: first.id });
    expect(await contact(tenantId, 'wmS1')).toMatchObject({ name: '客户一', owner_id: second.id });
    expect(await contact(tenantId, 'wmS39')).toMatchObject({ name: '客户39', owner_id: first.id });
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(40);
    expect((await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM wecom_follows WHERE tenant_id = $1 AND external_user_id = 'wmS1'`, [tenantId]))[0].n).toBe(2);
  });

  it('applies each event once when two attempts race, and goes on after WeCom rate-limits mid-batch', async () => {
    const { t, tenantId, corp, data, deliver } = await connected();
    const employee = await addUser(t, ctx.http, 'employee');
    await member(tenantId, 'zhaoliu', employee.id);
    for (const id of ['wmR1', 'wmR2', 'wmR3']) data.contacts.set(id, person(id, id, [{ userid: 'zhaoliu' }]));
    // Kept as the callback keeps them but without its wake signal: two attempts of the activity (a retry racing
    // the attempt it replaces) apply them at once, on the side.
    const keep = (changeType: string, externalUserId: string, digest: string) => ctx.stack.db.query(
      `INSERT INTO wecom_callback_events (tenant_id, digest, event, change_type, payload) VALUES ($1, $2, 'change_external_contact', $3, $4)`,
      [tenantId, digest, changeType, { Event: 'change_external_contact', ChangeType: changeType, UserID: 'zhaoliu', ExternalUserID: externalUserId }]);
    for (const i of [1, 2, 3]) await keep('add_external_contact', `wmR${i}`, `race-add-${i}`);
    await keep('del_follow_user', 'wmR1', 'race-del');
    const activities = createActivities(ctx.stack.db, 'race-test', undefined, new WecomAccess({ secretKeys: [sealing], apiBase: local().baseUrl }));
    const attempt = (): Promise<WecomEventsApplied> => new MockActivityEnvironment().run(activities.applyWecomEvents, { tenantId, batchSize: 2 });
    const results = await Promise.all([attempt(), attempt()]);
    await Promise.all([attempt(), attempt()]);
    expect(results.reduce((n, r) => n + r.applied, 0)).toBeGreaterThanOrEqual(2);
    const rows = await processed(tenantId);
    expect(rows.map((r: { error: string | null }) => r.error)).toEqual([null, null, null, null]);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(3);
    expect(await responses((await contact(tenantId, 'wmR1')).id)).toHaveLength(1);

    // WeCom answers "api freq out of limit" past the client's own retries: the events before it are applied,
    // the activity is retried by Temporal, and the rest follow, each once
    data.contacts.set('wmR4', person('wmR4', 'wmR4', [{ userid: 'zhaoliu' }]));
    local().failNext('/cgi-bin/externalcontact/get', 45009, 9); // both fetches of the batch, 4 tries each, then one more
    await deliver(contactEvent(corp, 'del_external_contact', 'zhaoliu', 'wmR2'));
    await deliver(contactEvent(corp, 'add_external_contact', 'zhaoliu', 'wmR4'));
    await deliver(contactEvent(corp, 'edit_external_contact', 'zhaoliu', 'wmR3'));
    const after = await processed(tenantId, 'the rate-limited events applied after a retry');
    expect(after.slice(4).map((r: { error: string | null }) => r.error)).toEqual([null, null, null]);
    expect(await contact(tenantId, 'wmR2')).toMatchObject({ owner_id: null });
    expect(await contact(tenantId, 'wmR4')).toMatchObject({ owner_id: employee.id });
  });
});

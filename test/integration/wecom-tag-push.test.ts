import { randomBytes } from 'node:crypto';
import { signupTenant, type TenantFixture } from '../support/http';
import { eventually, waitUntil } from '../support/poll';
import { useStack } from '../support/stack';
import { serveDirectory, WecomDirectory } from '../support/wecom-directory';
import { contactEvent, tagEvent } from '../support/wecom-events';
import { newCorp, useWecomServer, WecomServer, type WecomCorp, type WecomRoute } from '../support/wecom-server';

/**
 * Issue 16 item 3, tags both ways: tags changed in our product are marked in the local WeCom (mark_tag), tag
 * definitions in WeCom-linked groups are created, renamed and deleted there, and WeCom's callbacks for our own
 * changes change nothing here (no echo). Real Postgres, Temporal worker and relay; WeCom is the local stand-in.
 */
describe('our tags to WeCom (real Postgres and Temporal, a local WeCom)', () => {
  const sealing = { id: 'pushtest', secret: randomBytes(32).toString('hex') };
  const env: Record<string, string> = { WECOM_SECRET_KEYS: `${sealing.id}:${sealing.secret}` };
  const local = useWecomServer(env);
  const ctx = useStack({ env, worker: true });
  const directories = new Map<string, WecomDirectory>();
  beforeAll(() => {
    serveDirectory(local(), directories);
  });

  interface Setup { t: TenantFixture; tenantId: string; corp: WecomCorp; dir: WecomDirectory; deliver: (xml: string) => Promise<void>; contactId: string; tag: (name: string) => Promise<string> }

  /** A connected organization, synced once: members zhangsan and lisi follow wmC1, who has 高意向 from zhangsan. */
  const setup = async (label: string): Promise<Setup> => {
    const t = await signupTenant(ctx.http, label);
    const corp = local().add(newCorp());
    const dir = new WecomDirectory();
    directories.set(corp.corpId, dir);
    dir.member({ userid: 'zhangsan', name: '张三' }).member({ userid: 'lisi', name: '李四' });
    dir.tagGroup({ group_id: 'etG', group_name: '意向', order: 1, tags: [{ id: 'etHigh', name: '高意向', order: 1 }, { id: 'etLow', name: '低意向', order: 2 }] });
    dir.contact({ external_userid: 'wmC1', name: '陈静', follows: [{ userid: 'zhangsan', createtime: 1000, tags: ['etHigh'] }, { userid: 'lisi', createtime: 2000 }] });
    const res = await t.admin.put('/api/wecom/connection', corp);
    expect(res.status).toBe(200);
    const path = new URL(res.body.callbackUrl).pathname;
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]);
    const started = await t.admin.post('/api/wecom/sync', {});
    expect(started.status).toBe(202);
    await waitUntil(async () => (await t.admin.get('/api/wecom/sync-runs')).body.items[0], (r) => r?.status === 'succeeded', 'the sync', 30_000, 100);
    const [{ id: contactId }] = await ctx.stack.db.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND wecom_external_user_id = 'wmC1'`, [tenantId]);
    const deliver = async (xml: string) => {
      const { query, body } = WecomServer.delivery(corp, xml);
      const ack = await ctx.http.request('POST', `${path}?${query}`, body, { 'content-type': 'text/xml' });
      expect([ack.status, ack.body]).toEqual([200, 'success']);
    };
    const tag = async (name: string) => (await ctx.stack.db.query(`SELECT id FROM tags WHERE tenant_id = $1 AND name = $2`, [tenantId, name]))[0].id;
    return { t, tenantId, corp, dir, deliver, contactId, tag };
  };

  const follows = (dir: WecomDirectory, externalUserId = 'wmC1') =>
    Object.fromEntries(dir.contacts.get(externalUserId)!.follows.map((f) => [f.userid, [...(f.tags ?? [])].sort()]));
  const ourTags = async (contactId: string) => (await ctx.stack.db.query(
    `SELECT coalesce(array_agg(t.name ORDER BY t.name), '{}') AS tags FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = $1`, [contactId]))[0].tags;
  const marks = (corp: WecomCorp) => local().log.filter((c) => c.corpId === corp.corpId && c.path === '/cgi-bin/externalcontact/mark_tag').map((c) => c.body);
  const tagEvents = async (contactId: string) => (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tag_events WHERE contact_id = $1`, [contactId]))[0].n;
  const queueEmpty = (tenantId: string) => waitUntil(
    () => ctx.stack.db.query(`SELECT (SELECT count(*) FROM wecom_tag_pushes WHERE tenant_id = $1 AND error IS NULL)::int + (SELECT count(*) FROM wecom_corp_tag_ops WHERE tenant_id = $1 AND done_at IS NULL)::int AS n`, [tenantId]),
    (rows: { n: number }[]) => rows[0].n === 0, 'the push queues to empty', 15_000, 100);
  const eventsApplied = (tenantId: string) => waitUntil(
    () => ctx.stack.db.query(`SELECT count(*)::int AS n FROM wecom_callback_events WHERE tenant_id = $1 AND processed_at IS NULL`, [tenantId]),
    (rows: { n: number }[]) => rows[0].n === 0, 'every callback applied', 15_000, 100);

  it('marks tags added and removed here in WeCom, takes tags added in WeCom, and the echo of our own change changes nothing', async () => {
    const { t, tenantId, corp, dir, deliver, contactId, tag } = await setup('WeCom Push Both Ways');
    expect(await ourTags(contactId)).toEqual(['高意向']);
    const low = await tag('低意向');
    const high = await tag('高意向');

    // ours → WeCom: added on a follow (the earliest: the contact has no owner), within seconds
    const at = Date.now();
    expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { add: [low] })).status).toBe(200);
    await eventually(async () => expect(follows(dir)).toEqual({ zhangsan: ['etHigh', 'etLow'], lisi: [] }), 10_000);
    expect(Date.now() - at).toBeLessThan(10_000);
    expect(marks(corp)).toEqual([{ userid: 'zhangsan', external_userid: 'wmC1', add_tag: ['etLow'] }]);
    await queueEmpty(tenantId);

    // WeCom's callback for our own mark_tag: applied, changes nothing, sends nothing back
    const before = await tagEvents(contactId);
    await deliver(contactEvent(corp, 'edit_external_contact', 'zhangsan', 'wmC1'));
    await eventsApplied(tenantId);
    await new Promise((r) => setTimeout(r, 1500)); // a relay pass or three: nothing may be queued or sent
    expect(await tagEvents(contactId)).toBe(before);
    expect(marks(corp)).toHaveLength(1);
    expect(await ourTags(contactId)).toEqual(['低意向', '高意向']);

    // ours → WeCom: removed from every follower that has it (lisi given it in WeCom first)
    dir.contacts.get('wmC1')!.follows[1].tags = ['etHigh'];
    await deliver(contactEvent(corp, 'edit_external_contact', 'lisi', 'wmC1'));
    await eventsApplied(tenantId);
    expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { remove: [high] })).status).toBe(200);
    await eventually(async () => expect(follows(dir)).toEqual({ zhangsan: ['etLow'], lisi: [] }), 10_000);
    expect(marks(corp).slice(1).sort((a, b) => String(a.userid).localeCompare(String(b.userid)))).toEqual([
      { userid: 'lisi', external_userid: 'wmC1', remove_tag: ['etHigh'] },
      { userid: 'zhangsan', external_userid: 'wmC1', remove_tag: ['etHigh'] },
    ]);

    // WeCom → ours: a tag added in WeCom appears here, and is not sent back
    await queueEmpty(tenantId);
    dir.contacts.get('wmC1')!.follows[1].tags = ['etHigh'];
    // the same event as above: in the same second it would be the same text, which is kept once (a redelivery)
    await new Promise((r) => setTimeout(r, 1100));
    await deliver(contactEvent(corp, 'edit_external_contact', 'lisi', 'wmC1'));
    await eventsApplied(tenantId);
    expect(await ourTags(contactId)).toEqual(['低意向', '高意向']);
    await new Promise((r) => setTimeout(r, 1500));
    expect(marks(corp)).toHaveLength(3);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM wecom_tag_pushes WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(0);
  });

  it('follows other paths that write tags (bulk tags): one mark_tag for an add and a remove together', async () => {
    const { t, tenantId, corp, dir, contactId, tag } = await setup('WeCom Push Paths');
    const low = await tag('低意向');
    const high = await tag('高意向');
    const bulk = await t.admin.post('/api/contacts/bulk-tags', { contactIds: [contactId], add: [low], remove: [high] });
    expect(bulk.status).toBeLessThan(300);
    await eventually(async () => expect(follows(dir)).toEqual({ zhangsan: ['etLow'], lisi: [] }), 10_000);
    await queueEmpty(tenantId);
    expect(marks(corp)).toEqual([{ userid: 'zhangsan', external_userid: 'wmC1', add_tag: ['etLow'], remove_tag: ['etHigh'] }]);
  });

  it('records WeCom\'s refusals on the status (84061, 40068) without retrying them, and a rate limit is retried to one effect', async () => {
    const { t, tenantId, corp, dir, contactId, tag } = await setup('WeCom Push Errors');
    const low = await tag('低意向');

    // rate-limited past the client's own retries: Temporal retries the activity; WeCom ends with the tag once
    local().failNext('/cgi-bin/externalcontact/mark_tag', 45009, 5);
    expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { add: [low] })).status).toBe(200);
    await eventually(async () => expect(follows(dir).zhangsan).toEqual(['etHigh', 'etLow']), 20_000);
    await queueEmpty(tenantId);
    // answered calls: one (the five refused before it are not in the log); asked: six or more
    expect(marks(corp)).toEqual([{ userid: 'zhangsan', external_userid: 'wmC1', add_tag: ['etLow'] }]);
    expect(local().calls.get('/cgi-bin/externalcontact/mark_tag')).toBeGreaterThanOrEqual(6);

    // the relationship is gone in WeCom (no callback yet): 84061 kept on the contact's push and on the status
    dir.contacts.get('wmC1')!.follows = [];
    expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { remove: [low] })).status).toBe(200);
    const failed = await waitUntil(() => ctx.stack.db.query(`SELECT error FROM wecom_tag_pushes WHERE tenant_id = $1`, [tenantId]),
      (rows: { error: string | null }[]) => Boolean(rows[0]?.error), 'the refusal recorded', 15_000, 100);
    expect(failed[0].error).toMatch(/84061/);
    const status = (await t.admin.get('/api/wecom/connection')).body;
    expect(status).toMatchObject({ tagPushesFailed: 1, lastTagPushError: { kind: 'contact_tags', id: contactId } });
    expect(status.lastTagPushError.message).toMatch(/84061/);
    const sent = marks(corp).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(marks(corp)).toHaveLength(sent); // not retried

    // a tag linked to a corp tag WeCom no longer knows (deleted there, its callback not seen): 40068 recorded
    dir.contacts.get('wmC1')!.follows = [{ userid: 'zhangsan', createtime: 1000, tags: ['etHigh', 'etLow'] }];
    const [group] = await ctx.stack.db.query(`SELECT id FROM tag_groups WHERE tenant_id = $1 AND wecom_group_id = 'etG'`, [tenantId]);
    const [gone] = await ctx.stack.db.query(`INSERT INTO tags (tenant_id, group_id, name, kind, wecom_tag_id) VALUES ($1, $2, '已删除', 'manual', 'etGone') RETURNING id`, [tenantId, group.id]);
    expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { add: [gone.id] })).status).toBe(200);
    await waitUntil(() => ctx.stack.db.query(`SELECT error FROM wecom_tag_pushes WHERE tenant_id = $1`, [tenantId]),
      (rows: { error: string | null }[]) => /40068/.test(rows[0]?.error ?? ''), 'the 40068 refusal recorded', 15_000, 100);
  });

  it('creates, renames and deletes tags of a WeCom-linked group in WeCom; pushes a group when asked; WeCom\'s echo changes nothing', async () => {
    const { t, tenantId, corp, dir, deliver, contactId } = await setup('WeCom Push Definitions');
    const [{ id: groupId }] = await ctx.stack.db.query(`SELECT id FROM tag_groups WHERE tenant_id = $1 AND wecom_group_id = 'etG'`, [tenantId]);

    const created = await t.admin.post('/api/tags', { groupId, name: '中意向' });
    expect(created.status).toBe(201);
    // a contact tagged before WeCom has it: marked once the tag is created and linked
    expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { add: [created.body.id] })).status).toBe(200);
    const wecomId = (await waitUntil(() => ctx.stack.db.query(`SELECT wecom_tag_id FROM tags WHERE id = $1`, [created.body.id]),
      (rows: { wecom_tag_id: string | null }[]): rows is [{ wecom_tag_id: string }] => Boolean(rows[0].wecom_tag_id), 'the tag linked', 15_000, 100))[0].wecom_tag_id;
    expect(dir.tagGroups[0].tags.find((x) => x.id === wecomId)?.name).toBe('中意向');
    await eventually(async () => expect(follows(dir).zhangsan).toEqual(['etHigh', wecomId].sort()), 10_000);

    // WeCom's callback for the tag we created: nothing created twice, nothing sent back
    await queueEmpty(tenantId);
    const calls = local().log.length;
    await deliver(tagEvent(corp, 'create', wecomId, 'tag'));
    await eventsApplied(tenantId);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tags WHERE tenant_id = $1 AND name = '中意向'`, [tenantId]))[0].n).toBe(1);
    expect(local().log.slice(calls).map((c) => c.path)).toEqual(['/cgi-bin/externalcontact/get_corp_tag_list']); // the callback's own fetch

    // renamed here → edit_corp_tag; its echo renames nothing back
    expect((await t.admin.patch(`/api/tags/${created.body.id}`, { name: '中等意向' })).status).toBe(200);
    await eventually(async () => expect(dir.tagGroups[0].tags.find((x) => x.id === wecomId)?.name).toBe('中等意向'), 10_000);
    await queueEmpty(tenantId);
    await deliver(tagEvent(corp, 'update', wecomId, 'tag'));
    await eventsApplied(tenantId);
    await new Promise((r) => setTimeout(r, 1000));
    expect(local().log.filter((c) => c.corpId === corp.corpId && c.path === '/cgi-bin/externalcontact/edit_corp_tag')).toHaveLength(1);

    // deleted here → del_corp_tag
    expect((await t.admin.delete(`/api/tags/${created.body.id}`)).status).toBeLessThan(300);
    await eventually(async () => expect(dir.tagGroups[0].tags.map((x) => x.id)).toEqual(['etHigh', 'etLow']), 10_000);

    // a group of ours is pushed only when an admin asks
    const own = (await t.admin.post('/api/tag-groups', { name: '渠道' })).body;
    const fair = (await t.admin.post('/api/tags', { groupId: own.id, name: '展会' })).body;
    await queueEmpty(tenantId);
    expect(dir.tagGroups.map((g) => g.group_name)).toEqual(['意向']);
    const empty = (await t.admin.post('/api/tag-groups', { name: '空组' })).body;
    expect((await t.admin.post(`/api/wecom/tag-groups/${empty.id}/push`, {})).body.code).toBe('WECOM_TAG_GROUP_EMPTY');
    const pushed = await t.admin.post(`/api/wecom/tag-groups/${own.id}/push`, {});
    expect(pushed.status).toBe(200);
    expect(pushed.body).toEqual({ groupId: own.id, queued: true });
    await eventually(async () => expect(dir.tagGroups.find((g) => g.group_name === '渠道')?.tags.map((x) => x.name)).toEqual(['展会']), 10_000);
    await queueEmpty(tenantId);
    const linked = (await ctx.stack.db.query(`SELECT t.wecom_tag_id, g.wecom_group_id FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.id = $1`, [fair.id]))[0];
    expect(linked.wecom_group_id).toBe(dir.tagGroups.find((g) => g.group_name === '渠道')!.group_id);
    expect(linked.wecom_tag_id).toBe(dir.tagGroups.find((g) => g.group_name === '渠道')!.tags[0].id);
    expect((await t.admin.post(`/api/wecom/tag-groups/${own.id}/push`, {})).body).toEqual({ groupId: own.id, queued: false });
    const ops = await ctx.stack.db.query(`SELECT kind, error FROM wecom_corp_tag_ops WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
    expect(ops).toEqual([
      { kind: 'create_tag', error: null }, { kind: 'rename_tag', error: null }, { kind: 'delete_tag', error: null }, { kind: 'create_group', error: null },
    ]);
  });
  it('a tag removed here is not re-added by a WeCom edit event read while its push still waits (WeCom\'s state predates it)', async () => {
    const { t, tenantId, corp, dir, deliver, contactId, tag } = await setup('WeCom Push Pending Edit');
    const high = await tag('高意向');
    // WeCom refuses mark_tag for a while (rate limit past the client's retries): the removal stays queued
    local().failNext('/cgi-bin/externalcontact/mark_tag', 45009, 1000);
    try {
      expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { remove: [high] })).status).toBe(200);
      // an edit callback arrives meanwhile; WeCom still shows 高意向 on zhangsan's follow
      await deliver(contactEvent(corp, 'edit_external_contact', 'zhangsan', 'wmC1'));
      await eventsApplied(tenantId);
      expect(await ourTags(contactId)).toEqual([]);
      const [push] = await ctx.stack.db.query(`SELECT error FROM wecom_tag_pushes WHERE tenant_id = $1 AND contact_id = $2`, [tenantId, contactId]);
      expect(push).toEqual({ error: null }); // still waiting
    } finally {
      local().failNext('/cgi-bin/externalcontact/mark_tag', 45009, 0);
    }
    // the push goes: WeCom agrees with us, and nothing came back meanwhile
    await eventually(async () => expect(follows(dir).zhangsan).toEqual([]), 90_000);
    await queueEmpty(tenantId);
    expect(await ourTags(contactId)).toEqual([]);
  }, 150_000);

  it('keeps a rename made here while it waits to be sent, through WeCom\'s tag callback and the sync', async () => {
    const { t, tenantId, corp, dir, deliver, tag } = await setup('WeCom Push Pending Rename');
    const high = await tag('高意向');
    local().failNext('/cgi-bin/externalcontact/edit_corp_tag', 45009, 1000);
    try {
      expect((await t.admin.patch(`/api/tags/${high}`, { name: '很高意向' })).status).toBe(200);
      // WeCom's callback about that tag (any change there) reads WeCom's name, still the old one
      await deliver(tagEvent(corp, 'update', 'etHigh', 'tag'));
      await eventsApplied(tenantId);
      const name = async () => (await ctx.stack.db.query(`SELECT name FROM tags WHERE id = $1`, [high]))[0].name;
      expect(await name()).toBe('很高意向');
      // a full sync meanwhile reads the old name too
      expect((await t.admin.post('/api/wecom/sync', {})).status).toBe(202);
      await waitUntil(async () => (await t.admin.get('/api/wecom/sync-runs')).body.items[0], (r) => r?.status === 'succeeded', 'the sync', 30_000, 100);
      expect(await name()).toBe('很高意向');
      expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM wecom_corp_tag_ops WHERE tenant_id = $1 AND done_at IS NULL`, [tenantId]))[0].n).toBe(1);
    } finally {
      local().failNext('/cgi-bin/externalcontact/edit_corp_tag', 45009, 0);
    }
    await eventually(async () => expect(dir.tagGroups[0].tags.find((x) => x.id === 'etHigh')?.name).toBe('很高意向'), 90_000);
  }, 150_000);

  it('a contact\'s push failing with an error that is not WeCom\'s is tried 5 times, given up (shown on the status) until its tags change again', async () => {
    const { t, tenantId, corp, dir, contactId, tag } = await setup('WeCom Push Broken Contact');
    const low = await tag('低意向');
    // a customer no sync has read the follows of (arrived by callback): the push asks WeCom for them
    dir.contact({ external_userid: 'wmC2', name: '王芳', follows: [{ userid: 'lisi', createtime: 3000 }] });
    const [other] = await ctx.stack.db.query(
      `INSERT INTO contacts (tenant_id, external_id, name, wecom_external_user_id) VALUES ($1, 'wecom:wmC2', '王芳', 'wmC2') RETURNING id`, [tenantId]);
    const path = '/cgi-bin/externalcontact/get';
    const original = local().routeOf(path)!;
    // WeCom answers "ok" with a follow_user we cannot use: an error of ours, not one of WeCom's errcodes
    const broken: WecomRoute = (call) => call.corp.corpId === corp.corpId && call.query.get('external_userid') === 'wmC2'
      ? { errcode: 0, errmsg: 'ok', external_contact: { external_userid: 'wmC2', name: '王芳' }, follow_user: 'lisi' } : original(call);
    const asked = () => local().log.filter((c) => c.corpId === corp.corpId && c.path === path).length;
    local().route(path, broken);
    try {
      expect((await t.admin.post(`/api/contacts/${other.id}/tags`, { add: [low] })).status).toBe(200);
      // another contact's push still goes meanwhile
      expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { add: [low] })).status).toBe(200);
      await eventually(async () => expect(follows(dir).zhangsan).toEqual(['etHigh', 'etLow']), 30_000);
      const [push] = await waitUntil(
        () => ctx.stack.db.query(`SELECT attempts, error, last_error, given_up FROM wecom_tag_pushes WHERE tenant_id = $1 AND contact_id = $2`, [tenantId, other.id]),
        (rows: { attempts: number; error: string | null; last_error: string | null; given_up: boolean }[]) => Boolean(rows[0]?.given_up), 'the push given up', 90_000, 200);
      expect(push.attempts).toBe(5);
      expect(push.last_error).toMatch(/no usable follow_user/);
      expect(push.error).toMatch(/no usable follow_user.*gave up after 5 attempts/);
      expect(asked()).toBe(5);
      const status = (await t.admin.get('/api/wecom/connection')).body;
      expect(status).toMatchObject({ tagPushesGivenUp: 1, tagPushesFailed: 1, tagPushesWaiting: 0, lastTagPushGivenUp: { kind: 'contact_tags', id: other.id } });
      expect(status.lastTagPushGivenUp.message).toMatch(/gave up after 5 attempts/);
      await new Promise((r) => setTimeout(r, 2500)); // relay passes: nothing retried any more
      expect(asked()).toBe(5);
      expect(dir.contacts.get('wmC2')!.follows[0].tags ?? []).toEqual([]);
    } finally {
      local().route(path, original);
    }
    // the contact's tags change again: the count starts again, and the push goes
    expect((await t.admin.post(`/api/contacts/${other.id}/tags`, { add: [await tag('高意向')] })).status).toBe(200);
    await eventually(async () => expect(follows(dir, 'wmC2').lisi).toEqual(['etHigh', 'etLow']), 30_000);
    await queueEmpty(tenantId);
    expect((await t.admin.get('/api/wecom/connection')).body).toMatchObject({ tagPushesGivenUp: 0, tagPushesFailed: 0, lastTagPushGivenUp: null });
  }, 180_000);

  it('a tag operation failing with an error that is not WeCom\'s is retried a few times, then recorded as failed, and the queue moves on', async () => {
    const { t, tenantId, corp, dir, contactId, tag } = await setup('WeCom Push Broken Op');
    const [{ id: groupId }] = await ctx.stack.db.query(`SELECT id FROM tag_groups WHERE tenant_id = $1 AND wecom_group_id = 'etG'`, [tenantId]);
    const path = '/cgi-bin/externalcontact/add_corp_tag';
    const original = local().routeOf(path)!;
    // WeCom answers "ok" without the tag (our code cannot use it): an error of ours, not one of WeCom's errcodes
    const broken: WecomRoute = (call) => call.corp.corpId === corp.corpId ? { errcode: 0, errmsg: 'ok', tag_group: { group_id: 'etG', tag: [] } } : original(call);
    local().route(path, broken);
    try {
      expect((await t.admin.post('/api/tags', { groupId, name: '中意向' })).status).toBe(201);
      // a contact's tag change queued after it still reaches WeCom
      expect((await t.admin.post(`/api/contacts/${contactId}/tags`, { add: [await tag('低意向')] })).status).toBe(200);
      await eventually(async () => expect(follows(dir).zhangsan).toEqual(['etHigh', 'etLow']), 60_000);
      const [op] = await waitUntil(
        () => ctx.stack.db.query(`SELECT kind, done_at, error, attempts FROM wecom_corp_tag_ops WHERE tenant_id = $1 AND kind = 'create_tag'`, [tenantId]),
        (rows: { kind: string; done_at: Date | null; error: string | null; attempts: number }[]) => Boolean(rows[0]?.done_at), 'the operation given up', 90_000, 200);
      expect(op.error).toMatch(/answered no tag/);
      expect(op.attempts).toBeGreaterThanOrEqual(3); // retried, in case it was passing
      expect(op.attempts).toBeLessThanOrEqual(6);
      const tries = local().log.filter((c) => c.corpId === corp.corpId && c.path === path).length;
      expect(tries).toBe(op.attempts);
      await queueEmpty(tenantId);
      const status = (await t.admin.get('/api/wecom/connection')).body;
      expect(status.lastTagPushError).toMatchObject({ kind: 'create_tag' });
      expect(status.lastTagPushError.message).toMatch(/answered no tag/);
      await new Promise((r) => setTimeout(r, 1500));
      expect(local().log.filter((c) => c.corpId === corp.corpId && c.path === path)).toHaveLength(tries); // not retried any more
    } finally {
      local().route(path, original);
    }
  }, 150_000);
});

import { loadConfig, localWecomKey } from '@sop/api';
import { createEngineWorker } from '@sop/worker';
import { WecomAccess } from '@sop/wecom';
import type { wecomIncrementalSyncWorkflow, WecomSyncAllInput } from '@sop/workflows';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import {
  ensureWecomIncrementalSyncSchedule, ensureWecomNightlySyncSchedule, WECOM_INCREMENTAL_SYNC_SCHEDULE, WECOM_NIGHTLY_SYNC_SCHEDULE, workflowIds,
} from '@sop/temporal';
import { msToNumber } from '@temporalio/common';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { testEnv, WORKFLOW_BUNDLE } from '../support/env';
import { saveHistory } from '../support/histories';
import { withSchedule } from '../support/schedules';
import { addUser, signupTenant, type TenantFixture } from '../support/http';
import { waitUntil } from '../support/poll';
import { useStack } from '../support/stack';
import { serveDirectory, WecomDirectory, type DirContact } from '../support/wecom-directory';
import { contactEvent } from '../support/wecom-events';
import { newCorp, useWecomServer, WecomServer, type WecomCorp, type WecomRoute } from '../support/wecom-server';

/**
 * Issue 16, the full and incremental syncs (a Temporal workflow per tenant) against a local WeCom serving a corporation's
 * directory: members matched to users, corp tags, contacts with owners and tags, groups with members; run twice;
 * an expired token and a rate limit mid-sync; a worker stopped during the contact pages and another resuming; an
 * incremental sync reading only the members and groups that changed; the two kinds never overlapping; their Schedules.
 */
describe('the WeCom full sync (real Postgres and Temporal, a local WeCom)', () => {
  const JWT_SECRET = randomBytes(32).toString('hex');
  const env: Record<string, string> = { JWT_SECRET };
  const local = useWecomServer(env);
  const ctx = useStack({ env });
  const directories = new Map<string, WecomDirectory>();
  let routes: Map<string, WecomRoute>;
  const workers: { worker: Worker; running: Promise<void>; connection: NativeConnection }[] = [];
  const BATCH = '/cgi-bin/externalcontact/batch/get_by_user';

  beforeAll(() => {
    routes = serveDirectory(local(), directories);
  });
  afterEach(() => local().reset());
  afterAll(async () => {
    for (const w of workers) await stopWorker(w);
  });

  /** A worker on the stack's task queue, as the stack would start it, with WeCom clients of its own (a process of its own). */
  async function startWorker(name: string) {
    const config = loadConfig({ DATABASE_URL: testEnv('DATABASE_URL'), TEMPORAL_ADDRESS: testEnv('TEMPORAL_ADDRESS'), JWT_SECRET, LOG_LEVEL: 'silent' });
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const worker = await createEngineWorker({
      connection, namespace: config.temporal.namespace, db: ctx.stack.db, taskQueue: ctx.stack.taskQueue, identity: `wecom-sync-${name}`,
      workflowBundle: { codePath: WORKFLOW_BUNDLE },
      wecom: new WecomAccess({ secretKeys: [localWecomKey(JWT_SECRET)], apiBase: local().baseUrl, retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 } }),
    });
    const w = { worker, running: worker.run(), connection };
    workers.push(w);
    return w;
  }
  async function stopWorker(w: (typeof workers)[number]) {
    if (!workers.includes(w)) return;
    workers.splice(workers.indexOf(w), 1);
    w.worker.shutdown();
    await w.running;
    await w.connection.close();
  }

  const withClient = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    try {
      return await work(new Client({ connection }));
    } finally {
      await connection.close();
    }
  };
  const record = (name: string, tenantId: string) =>
    withClient(async (client) => saveHistory(name, await client.workflow.getHandle(workflowIds.wecomSync(tenantId)).fetchHistory()));

  const connect = async (label: string): Promise<{ t: TenantFixture; corp: WecomCorp; dir: WecomDirectory; tenantId: string; deliver: (xml: string) => Promise<void> }> => {
    const t = await signupTenant(ctx.http, label);
    const corp = local().add(newCorp());
    const dir = new WecomDirectory();
    directories.set(corp.corpId, dir);
    const res = await t.admin.put('/api/wecom/connection', corp);
    expect(res.status).toBe(200);
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]);
    // WeCom's callback for this corporation (encrypted and signed by WeCom's official code)
    const deliver = async (xml: string) => {
      const { query, body } = WecomServer.delivery(corp, xml);
      const ack = await ctx.http.request('POST', `${new URL(res.body.callbackUrl).pathname}?${query}`, body, { 'content-type': 'text/xml' });
      expect([ack.status, ack.body]).toEqual([200, 'success']);
    };
    return { t, corp, dir, tenantId, deliver };
  };
  const syncAndWait = async (t: TenantFixture, ms = 60_000, kind?: 'full' | 'incremental') => {
    const started = await t.admin.post('/api/wecom/sync', kind ? { kind } : {});
    expect(started.status).toBe(202);
    return waitUntil(
      async () => (await t.admin.get('/api/wecom/sync-runs')).body.items.find((r: { id: string }) => r.id === started.body.id),
      (r) => r?.status !== 'running', `sync run ${started.body.id}`, ms, 200,
    );
  };
  /** Wraps a route of the local WeCom so a test can act at its n-th call. */
  const onCall = (path: string, original: WecomRoute, act: (n: number) => void) => {
    let n = 0;
    local().route(path, (call) => {
      act(++n);
      return original(call);
    });
  };
  const contactsOf = (tenantId: string) => ctx.stack.db.query(
    `SELECT c.wecom_external_user_id AS w, c.name, c.owner_id,
            coalesce((SELECT array_agg(t.name ORDER BY t.name) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id), '{}') AS tags
       FROM contacts c WHERE c.tenant_id = $1 ORDER BY c.wecom_external_user_id`, [tenantId]);

  it('lands a small corporation exactly, and a second run applies changes without duplicates', async () => {
    const { t, dir, tenantId } = await connect('WeCom Sync');
    const alice = await addUser(t, ctx.http, 'employee');
    const bob = await addUser(t, ctx.http, 'employee');
    const carol = await addUser(t, ctx.http, 'employee');
    dir.member({ userid: 'zhangsan', name: '张三', email: alice.email.toUpperCase() })
      .member({ userid: 'lisi', name: '李四' }) // email withheld by WeCom: stays unmatched
      .member({ userid: 'wangwu', name: '王五', email: bob.email })
      .member({ userid: 'zhaoliu', name: '赵六', email: carol.email, followsCustomers: false });
    dir.tagGroup({ group_id: 'etG1', group_name: '客户等级', order: 2, tags: [{ id: 'etA', name: 'A', order: 1 }, { id: 'etB', name: 'B', order: 2 }] })
      .tagGroup({ group_id: 'etG2', group_name: '兴趣', order: 1, tags: [{ id: 'etPhone', name: '手机', order: 1 }] });
    dir.contact({ external_userid: 'wmC1', name: '客户一', follows: [{ userid: 'zhangsan', createtime: 1000, tags: ['etA'] }, { userid: 'lisi', createtime: 500, tags: ['etPhone'] }] })
      .contact({ external_userid: 'wmC2', name: '客户二', follows: [{ userid: 'lisi', createtime: 600 }] })
      .contact({ external_userid: 'wmC3', name: '客户三', follows: [{ userid: 'zhangsan', createtime: 2000 }, { userid: 'wangwu', createtime: 1500, tags: ['etB'] }] });
    for (let i = 0; i < 230; i++) dir.contact({ external_userid: `wmBulk${String(i).padStart(4, '0')}`, name: `批量${i}`, follows: [{ userid: 'zhangsan', createtime: 3000 + i }] });
    dir.chat({ chat_id: 'wrChat1', name: '一群', owner: 'zhangsan', members: [{ userid: 'zhangsan', type: 1 }, { userid: 'wmC1', type: 2 }, { userid: 'wmC3', type: 2 }, { userid: 'wmStranger', type: 2 }] })
      .chat({ chat_id: 'wrChat2', name: '二群', owner: 'wangwu', members: [{ userid: 'wmC2', type: 2 }] });

    await startWorker('a');
    const first = await syncAndWait(t);
    expect(first).toMatchObject({ status: 'succeeded', error: null, counts: { members: 4, tagGroups: 2, tags: 3, contactPairs: 235, contactsCreated: 233, groups: 2 } });
    if (process.env.RECORD_HISTORIES) await record('wecomSyncWorkflow', tenantId);

    // members: matched by email case-insensitively; none without an email
    const members = (await t.admin.get('/api/wecom/members')).body.items;
    const byId = Object.fromEntries(members.map((m: { wecomUserId: string }) => [m.wecomUserId, m]));
    expect(byId.zhangsan).toMatchObject({ name: '张三', userId: alice.id, matchedBy: 'email', active: true });
    expect(byId.lisi).toMatchObject({ email: null, userId: null, matchedBy: null });
    expect(byId.wangwu).toMatchObject({ userId: bob.id, matchedBy: 'email' });
    expect(byId.zhaoliu).toMatchObject({ userId: carol.id });

    // tags: manual, keyed by WeCom's ids, with WeCom's order
    const tags = await ctx.stack.db.query(
      `SELECT g.name AS g, g.wecom_group_id, g.wecom_order AS go, t.name, t.kind, t.wecom_tag_id, t.wecom_order AS o
         FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.tenant_id = $1 ORDER BY t.wecom_tag_id`, [tenantId]);
    expect(tags).toEqual([
      { g: '客户等级', wecom_group_id: 'etG1', go: 2, name: 'A', kind: 'manual', wecom_tag_id: 'etA', o: 1 },
      { g: '客户等级', wecom_group_id: 'etG1', go: 2, name: 'B', kind: 'manual', wecom_tag_id: 'etB', o: 2 },
      { g: '兴趣', wecom_group_id: 'etG2', go: 1, name: '手机', kind: 'manual', wecom_tag_id: 'etPhone', o: 1 },
    ]);

    // contacts: owner = the matched member who added it first (lisi is earlier on wmC1 but matched to no one)
    const contacts = await contactsOf(tenantId);
    expect(contacts).toHaveLength(233);
    const c = Object.fromEntries(contacts.map((x: { w: string }) => [x.w, x]));
    expect(c.wmC1).toEqual({ w: 'wmC1', name: '客户一', owner_id: alice.id, tags: ['A', '手机'] });
    expect(c.wmC2).toEqual({ w: 'wmC2', name: '客户二', owner_id: null, tags: [] });
    expect(c.wmC3).toEqual({ w: 'wmC3', name: '客户三', owner_id: bob.id, tags: ['B'] });
    expect(c.wmBulk0000).toMatchObject({ owner_id: alice.id, tags: [] });
    const [{ n: events }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tag_events WHERE tenant_id = $1 AND actor_type = 'system' AND reason = 'WeCom sync'`, [tenantId]);
    expect(events).toBe(3);

    // groups: owner matched, members = the external members that are our contacts
    const groups = async () => ctx.stack.db.query(
      `SELECT g.wecom_chat_id AS chat, g.name, g.owner_id, coalesce((SELECT array_agg(c.wecom_external_user_id ORDER BY c.wecom_external_user_id) FROM group_members gm JOIN contacts c ON c.id = gm.contact_id WHERE gm.group_id = g.id), '{}') AS members
         FROM customer_groups g WHERE g.tenant_id = $1 ORDER BY 1`, [tenantId]);
    expect(await groups()).toEqual([
      { chat: 'wrChat1', name: '一群', owner_id: alice.id, members: ['wmC1', 'wmC3'] },
      { chat: 'wrChat2', name: '二群', owner_id: bob.id, members: ['wmC2'] },
    ]);

    // a segment on a WeCom tag follows the next sync's changes
    const tagA = (await ctx.stack.db.query(`SELECT id FROM tags WHERE tenant_id = $1 AND wecom_tag_id = 'etA'`, [tenantId]))[0].id;
    const seg = (await t.admin.post('/api/segments', { name: 'WeCom A', rule: { tag: tagA } })).body;
    const inSegment = async () => (await ctx.stack.db.query(
      `SELECT coalesce(array_agg(c.wecom_external_user_id ORDER BY c.wecom_external_user_id), '{}') AS ids FROM segment_memberships m JOIN contacts c ON c.id = m.contact_id WHERE m.segment_id = $1 AND m.exited_at IS NULL`, [seg.id]))[0].ids;
    expect(await inSegment()).toEqual(['wmC1']);

    // changes in WeCom: a hand match, a renamed and reordered tag, a deleted tag group, tags moved, a follow
    // gone, a new contact, a member who left, a customer who left a group
    const hand = await t.admin.put('/api/wecom/members/zhangsan', { userId: carol.id });
    expect(hand.body).toMatchObject({ userId: carol.id, matchedBy: 'hand' });
    expect((await t.admin.put('/api/wecom/members/zhangsan', {})).status).toBe(400);
    expect((await t.admin.put('/api/wecom/members/nobody', { userId: carol.id })).status).toBe(404);
    expect((await t.admin.put('/api/wecom/members/lisi', { userId: '00000000-0000-4000-8000-000000000000' })).body.code).toBe('WECOM_USER_NOT_FOUND');
    dir.tagGroup({ group_id: 'etG1', group_name: '客户等级', order: 3, tags: [{ id: 'etA', name: 'A', order: 1 }, { id: 'etB', name: 'B+', order: 0 }] });
    dir.tagGroups = dir.tagGroups.filter((g) => g.group_id !== 'etG2');
    dir.contacts.get('wmC1')!.follows[0].tags = [];
    dir.contacts.get('wmC3')!.follows[0].tags = ['etA'];
    dir.contacts.get('wmC2')!.follows = [{ userid: 'zhangsan', createtime: 700 }];
    dir.contact({ external_userid: 'wmC4', name: '客户四', follows: [{ userid: 'wangwu', createtime: 4000, tags: ['etA', 'etB'] }] });
    dir.members.delete('zhaoliu');
    dir.chats.get('wrChat1')!.members = dir.chats.get('wrChat1')!.members.filter((m) => m.userid !== 'wmC3');
    dir.chats.delete('wrChat2'); // dismissed in WeCom, and its dismiss callback never came

    const second = await syncAndWait(t);
    expect(second).toMatchObject({ status: 'succeeded', counts: { members: 3, contactsCreated: 1, groupsDismissed: 1 } });
    // the group WeCom no longer lists is kept, marked dismissed and emptied; the listed one is not marked
    expect(await ctx.stack.db.query(
      `SELECT wecom_chat_id AS chat, wecom_dismissed_at IS NOT NULL AS dismissed FROM customer_groups WHERE tenant_id = $1 ORDER BY 1`, [tenantId],
    )).toEqual([{ chat: 'wrChat1', dismissed: false }, { chat: 'wrChat2', dismissed: true }]);
    expect((await groups())[1]).toMatchObject({ chat: 'wrChat2', members: [] });
    const after = Object.fromEntries((await contactsOf(tenantId)).map((x: { w: string }) => [x.w, x]));
    expect(Object.keys(after)).toHaveLength(234);
    // wmC1: zhangsan (now carol by hand) took etA off; 手机 stays, unlinked with its deleted WeCom group
    expect(after.wmC1).toEqual({ w: 'wmC1', name: '客户一', owner_id: carol.id, tags: ['手机'] });
    expect(after.wmC2).toEqual({ w: 'wmC2', name: '客户二', owner_id: carol.id, tags: [] });
    expect(after.wmC3).toEqual({ w: 'wmC3', name: '客户三', owner_id: bob.id, tags: ['A', 'B+'] });
    expect(after.wmC4).toEqual({ w: 'wmC4', name: '客户四', owner_id: bob.id, tags: ['A', 'B+'] });
    expect(await ctx.stack.db.query(`SELECT name, wecom_tag_id, wecom_order FROM tags WHERE tenant_id = $1 ORDER BY name`, [tenantId])).toEqual([
      { name: 'A', wecom_tag_id: 'etA', wecom_order: 1 }, { name: 'B+', wecom_tag_id: 'etB', wecom_order: 0 }, { name: '手机', wecom_tag_id: null, wecom_order: null },
    ]);
    expect(await ctx.stack.db.query(`SELECT count(*)::int AS n FROM wecom_follows WHERE tenant_id = $1 AND external_user_id = 'wmC2'`, [tenantId])).toEqual([{ n: 1 }]);
    expect(await inSegment()).toEqual(['wmC3', 'wmC4']);
    expect((await groups())[0].members).toEqual(['wmC1']);
    const again = Object.fromEntries((await t.admin.get('/api/wecom/members')).body.items.map((m: { wecomUserId: string }) => [m.wecomUserId, m]));
    expect(again.zhangsan).toMatchObject({ userId: carol.id, matchedBy: 'hand' });
    expect(again.zhaoliu).toMatchObject({ active: false });
    const connection = (await t.admin.get('/api/wecom/connection')).body;
    expect(connection.lastSync).toMatchObject({ id: second.id, status: 'succeeded' });
    expect(connection.lastSyncAt).not.toBeNull();

    // admins only
    const ops = await addUser(t, ctx.http, 'ops');
    expect((await ops.client.post('/api/wecom/sync', {})).status).toBe(403);
    expect((await ops.client.get('/api/wecom/members')).status).toBe(403);
  });

  it('renews an expired token and waits out rate limits mid-sync; a refusal ends the run as failed', async () => {
    const { t, dir, tenantId } = await connect('WeCom Limits');
    dir.member({ userid: 'm1', name: 'M1' });
    for (let i = 0; i < 450; i++) dir.contact({ external_userid: `wmL${String(i).padStart(4, '0')}`, name: `L${i}`, follows: [{ userid: 'm1', createtime: i }] });
    const server = local();
    const batch = routes.get(BATCH)!;
    onCall(BATCH, batch, (n) => {
      if (n === 2) server.expireTokens(); // the next call sees 42001
      if (n === 4) server.failNext(BATCH, 45009, 5); // more than the client's 4 attempts: Temporal retries the activity
    });
    if (!workers.length) await startWorker('b');
    const run = await syncAndWait(t, 90_000);
    expect(run).toMatchObject({ status: 'succeeded', counts: { contactPairs: 450, contactsCreated: 450 } });
    expect((await contactsOf(tenantId))).toHaveLength(450);
    // the app's token, the customer-contact token, and its renewal after the expiry
    expect(server.calls.get('/cgi-bin/gettoken')).toBeGreaterThanOrEqual(3);
    server.route(BATCH, batch);

    // WeCom refuses for good (not a rate limit): the run fails with WeCom's answer, on the run and the connection
    server.failNext('/cgi-bin/externalcontact/get_corp_tag_list', 48002, 1);
    const failed = await syncAndWait(t);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('48002');
    if (process.env.RECORD_HISTORIES) await record('wecomSyncWorkflow-failed', tenantId);
    const connection = (await t.admin.get('/api/wecom/connection')).body;
    expect(connection.lastError).toContain('48002');
    expect(connection.lastSync).toMatchObject({ status: 'failed' });
  });

  it('resumes from the saved cursor on another worker when the first stops mid-contacts, without duplicates', async () => {
    for (const w of [...workers]) await stopWorker(w);
    const { t, dir, tenantId } = await connect('WeCom Resume');
    dir.member({ userid: 'r1', name: 'R1' }).member({ userid: 'r2', name: 'R2' });
    dir.tagGroup({ group_id: 'etR', group_name: '来源', order: 1, tags: [{ id: 'etR1', name: '展会', order: 1 }] });
    const all: DirContact[] = [];
    for (let i = 0; i < 6000; i++) {
      const contact = { external_userid: `wmR${String(i).padStart(5, '0')}`, name: `R${i}`, follows: [{ userid: i % 2 ? 'r1' : 'r2', createtime: i, tags: ['etR1'] }] };
      all.push(contact);
      dir.contact(contact);
    }
    const first = await startWorker('first');
    const started = await t.admin.post('/api/wecom/sync', {});
    expect(started.status).toBe(202);
    // join: a second start while it runs answers the same run
    const joined = await t.admin.post('/api/wecom/sync', {});
    expect([joined.body.id, joined.headers.get('x-sync-joined')]).toEqual([started.body.id, 'true']);
    // pages are written 2,000 pairs at a time: stop once the first write is in
    await waitUntil(async () => (await contactsOf(tenantId)).length, (n) => n > 0, 'the first contacts', 60_000, 10);
    await stopWorker(first);
    const [mid] = await ctx.stack.db.query(`SELECT status, cursor, counts FROM wecom_sync_runs WHERE id = $1`, [started.body.id]);
    expect(mid.status).toBe('running');
    expect(mid.cursor.contacts?.done).not.toBe(true);
    const before = (await contactsOf(tenantId)).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(6000);
    const pagesBefore = local().calls.get(BATCH)!;

    await startWorker('second');
    const run = await waitUntil(
      async () => (await t.admin.get('/api/wecom/sync-runs')).body.items[0], (r) => r.status !== 'running', 'the resumed run', 90_000, 200,
    );
    expect(run).toMatchObject({ id: started.body.id, status: 'succeeded', counts: { contactPairs: 6000, contactsCreated: 6000 } });
    const contacts = await contactsOf(tenantId);
    expect(contacts).toHaveLength(6000);
    expect(contacts.every((c: { tags: string[] }) => c.tags.join() === '展会')).toBe(true);
    const [{ n: events }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tag_events WHERE tenant_id = $1`, [tenantId]);
    expect(events).toBe(6000);
    // read again: at most the pages read since the last write (20 pages of 100 make a write)
    expect(local().calls.get(BATCH)! - pagesBefore).toBeLessThanOrEqual(60 - Math.floor(before / 100));
    expect(local().calls.get(BATCH)!).toBeLessThanOrEqual(60 + 20);
    expect(await ctx.stack.db.query(`SELECT count(*)::int AS n FROM wecom_sync_runs WHERE tenant_id = $1`, [tenantId])).toEqual([{ n: 1 }]);
  });

  it('keeps one nightly Schedule for the full sync, at 03:00 China time', async () => {
    await withClient((client) => withSchedule(client, WECOM_NIGHTLY_SYNC_SCHEDULE, async () => {
      expect(await ensureWecomNightlySyncSchedule(client, ctx.stack.taskQueue)).toBe('created');
      expect(await ensureWecomNightlySyncSchedule(client, ctx.stack.taskQueue)).toBe('exists');
      const schedule = await client.schedule.getHandle(WECOM_NIGHTLY_SYNC_SCHEDULE).describe();
      expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'wecomNightlySyncWorkflow' });
      expect(schedule.spec.timezone).toBe('Asia/Shanghai');
      expect(schedule.spec.calendars?.[0].hour?.[0]).toMatchObject({ start: 3 });
    }));
  });

  const followsOf = async (tenantId: string): Promise<Record<string, string[]>> => Object.fromEntries((await ctx.stack.db.query(
    `SELECT external_user_id AS e, array_agg(wecom_user_id ORDER BY wecom_user_id) AS members FROM wecom_follows WHERE tenant_id = $1 GROUP BY 1`, [tenantId],
  )).map((r: { e: string; members: string[] }) => [r.e, r.members]));
  const groupMembers = async (tenantId: string): Promise<Record<string, string[]>> => Object.fromEntries((await ctx.stack.db.query(
    `SELECT g.wecom_chat_id AS chat, coalesce((SELECT array_agg(c.wecom_external_user_id ORDER BY 1) FROM group_members gm JOIN contacts c ON c.id = gm.contact_id WHERE gm.group_id = g.id), '{}') AS members
       FROM customer_groups g WHERE g.tenant_id = $1`, [tenantId],
  )).map((r: { chat: string; members: string[] }) => [r.chat, r.members]));
  const eventsApplied = (tenantId: string) => waitUntil(
    () => ctx.stack.db.query(`SELECT processed_at, error FROM wecom_callback_events WHERE tenant_id = $1`, [tenantId]),
    (rows: { processed_at: Date | null }[]) => rows.length > 0 && rows.every((r) => r.processed_at), 'the callbacks applied', 30_000, 100);

  it('an incremental sync reads again only the members and groups that changed, and applies what the callbacks missed', async () => {
    const { t, corp, dir, tenantId, deliver } = await connect('WeCom Incremental');
    const alice = await addUser(t, ctx.http, 'employee');
    const bob = await addUser(t, ctx.http, 'employee');
    dir.member({ userid: 'li', name: '李', email: alice.email }).member({ userid: 'wang', name: '王', email: bob.email }).member({ userid: 'zhao', name: '赵' });
    dir.tagGroup({ group_id: 'etG', group_name: '等级', order: 1, tags: [{ id: 'etA', name: 'A', order: 1 }, { id: 'etB', name: 'B', order: 2 }] });
    dir.contact({ external_userid: 'wmX', name: 'X', follows: [{ userid: 'li', createtime: 100, tags: ['etA'] }] })
      // followed by li (who will be dirty) first and wang (clean): li's follow goes, wang's stays
      .contact({ external_userid: 'wmShared', name: 'Shared', follows: [{ userid: 'li', createtime: 100, tags: ['etA'] }, { userid: 'wang', createtime: 200, tags: ['etB'] }] })
      .contact({ external_userid: 'wmGone', name: 'Gone', follows: [{ userid: 'li', createtime: 100, tags: ['etA'] }] })
      .contact({ external_userid: 'wmClean', name: 'Clean', follows: [{ userid: 'wang', createtime: 100, tags: ['etB'] }] })
      .contact({ external_userid: 'wmCleanGone', name: 'CleanGone', follows: [{ userid: 'wang', createtime: 100 }] })
      .contact({ external_userid: 'wmZ', name: 'Z', follows: [{ userid: 'zhao', createtime: 100 }] })
      // followed by two clean members; wang's follow (the tag) goes unseen by callbacks: the full sync drops it
      .contact({ external_userid: 'wmCleanShared', name: 'CleanShared', follows: [{ userid: 'wang', createtime: 50, tags: ['etA'] }, { userid: 'zhao', createtime: 60 }] });
    dir.chat({ chat_id: 'wrOld', name: '老群', owner: 'wang', members: [{ userid: 'wmClean', type: 2 }] })
      .chat({ chat_id: 'wrGone', name: '散群', owner: 'wang', members: [{ userid: 'wmZ', type: 2 }] });
    if (!workers.length) await startWorker('incremental');
    expect(await syncAndWait(t)).toMatchObject({ kind: 'full', status: 'succeeded', counts: { contactPairs: 9 } });

    // changes in WeCom that no callback tells of...
    dir.contacts.get('wmX')!.follows[0].tags = ['etB'];
    dir.contacts.get('wmShared')!.follows = dir.contacts.get('wmShared')!.follows.filter((f) => f.userid !== 'li');
    dir.contacts.delete('wmGone');
    dir.contacts.get('wmClean')!.follows[0].tags = [];
    dir.contacts.delete('wmCleanGone');
    dir.contacts.get('wmCleanShared')!.follows.shift();
    dir.member({ userid: 'sun', name: '孙' });
    dir.contact({ external_userid: 'wmS', name: 'S', follows: [{ userid: 'sun', createtime: 300 }] });
    dir.chat({ chat_id: 'wrNew', name: '新群', owner: 'li', members: [{ userid: 'wmX', type: 2 }] });
    dir.chats.get('wrOld')!.members.push({ userid: 'wmZ', type: 2 });
    dir.chats.delete('wrGone'); // dismissed; its callback never came
    // ...and one that a callback names: li added wmY, which makes li's customers worth reading again
    dir.contact({ external_userid: 'wmY', name: 'Y', follows: [{ userid: 'li', createtime: 400, tags: ['etA'] }] });
    await deliver(contactEvent(corp, 'add_external_contact', 'li', 'wmY'));
    await eventsApplied(tenantId);
    expect((await contactsOf(tenantId)).find((c: { w: string }) => c.w === 'wmY')).toMatchObject({ owner_id: alice.id, tags: ['A'] });

    const from = local().log.length;
    const run = await syncAndWait(t, 60_000, 'incremental');
    expect(run).toMatchObject({
      kind: 'incremental', status: 'succeeded', error: null,
      counts: { members: 4, dirtyMembers: 2, contactPairs: 3, contactsCreated: 1, followsGone: 2, dirtyChats: 1, groups: 1, groupsDismissed: 1 },
    });
    if (process.env.RECORD_HISTORIES) await record('wecomSyncWorkflow-incremental', tenantId);
    // only li (named by the callback) and sun (new in the member step) were read; only the chat WeCom lists and we lacked
    const calls = local().log.slice(from);
    expect([...new Set(calls.filter((c) => c.path === BATCH).flatMap((c) => c.body.userid_list as string[]))].sort()).toEqual(['li', 'sun']);
    expect(calls.filter((c) => c.path === '/cgi-bin/externalcontact/groupchat/get').map((c) => c.body.chat_id)).toEqual(['wrNew']);

    const c = Object.fromEntries((await contactsOf(tenantId)).map((x: { w: string }) => [x.w, x]));
    expect(c.wmX).toMatchObject({ owner_id: alice.id, tags: ['B'] }); // the change no callback told of
    expect(c.wmShared).toMatchObject({ owner_id: bob.id, tags: ['B'] }); // li's follow gone, wang's kept
    expect(c.wmGone).toMatchObject({ tags: [] }); // li's follow gone; the contact is kept
    expect(c.wmS).toMatchObject({ name: 'S', owner_id: null, tags: [] });
    expect(c.wmClean).toMatchObject({ tags: ['B'] }); // wang is clean: not read
    expect(c.wmCleanShared).toMatchObject({ owner_id: bob.id, tags: ['A'] });
    const follows = await followsOf(tenantId);
    expect(follows).toMatchObject({ wmShared: ['wang'], wmX: ['li'], wmY: ['li'], wmS: ['sun'], wmCleanGone: ['wang'] });
    expect(follows.wmGone).toBeUndefined();
    expect(await groupMembers(tenantId)).toEqual({ wrOld: ['wmClean'], wrNew: ['wmX'], wrGone: [] });
    expect((await t.admin.get('/api/wecom/connection')).body.lastSync).toMatchObject({ id: run.id, kind: 'incremental' });

    // the nightly full sync repairs the rest; a follow a callback adds while it runs, after the contacts were read
    // (here: as the group step begins), is kept, not dropped as unseen
    const LIST_CHATS = '/cgi-bin/externalcontact/groupchat/list';
    const listChats = local().routeOf(LIST_CHATS)!;
    local().route(LIST_CHATS, async (call) => {
      local().route(LIST_CHATS, listChats);
      dir.contact({ external_userid: 'wmLate', name: 'Late', follows: [{ userid: 'wang', createtime: 500, tags: ['etA'] }] });
      await deliver(contactEvent(corp, 'add_external_contact', 'wang', 'wmLate'));
      await eventsApplied(tenantId);
      return listChats(call);
    });
    expect(await syncAndWait(t)).toMatchObject({ kind: 'full', status: 'succeeded' });
    expect((await followsOf(tenantId)).wmLate).toEqual(['wang']);
    expect((await contactsOf(tenantId)).find((c: { w: string }) => c.w === 'wmLate')).toMatchObject({ owner_id: bob.id, tags: ['A'] });
    const after = Object.fromEntries((await contactsOf(tenantId)).map((x: { w: string }) => [x.w, x]));
    expect(after.wmClean).toMatchObject({ tags: [] });
    // the follow the full sync dropped takes its tag with it (the owner stays: zhao is matched to no user)
    expect(after.wmCleanShared).toMatchObject({ owner_id: bob.id, tags: [] });
    expect((await followsOf(tenantId)).wmCleanShared).toEqual(['zhao']);
    expect((await followsOf(tenantId)).wmCleanGone).toBeUndefined();
    expect((await groupMembers(tenantId)).wrOld).toEqual(['wmClean', 'wmZ']);
  });

  it('runs one sync per organization: an incremental one joins a full one, a full one asked during an incremental one follows it', async () => {
    const { t, dir } = await connect('WeCom Kinds');
    dir.member({ userid: 'k1', name: 'K1' });
    dir.contact({ external_userid: 'wmK1', name: 'K1', follows: [{ userid: 'k1', createtime: 1 }] });
    if (!workers.length) await startWorker('kinds');
    expect((await t.admin.post('/api/wecom/sync', { kind: 'partial' })).body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'kind' }] });
    // nothing to be incremental to yet: the first sync is full
    expect(await syncAndWait(t, 60_000, 'incremental')).toMatchObject({ kind: 'full', status: 'succeeded' });

    // rate limits past the client's retries hold the incremental sync's tag step (Temporal retries it after 5 s)
    const TAGS = '/cgi-bin/externalcontact/get_corp_tag_list';
    local().failNext(TAGS, 45009, 5);
    const inc = await t.admin.post('/api/wecom/sync', { kind: 'incremental' });
    expect([inc.status, inc.body.kind, inc.headers.get('x-sync-joined')]).toEqual([202, 'incremental', 'false']);
    const again = await t.admin.post('/api/wecom/sync', { kind: 'incremental' });
    expect([again.body.id, again.headers.get('x-sync-joined'), again.headers.get('x-sync-queued')]).toEqual([inc.body.id, 'true', null]);
    const full = await t.admin.post('/api/wecom/sync', { kind: 'full' });
    expect([full.status, full.body.id, full.headers.get('x-sync-joined'), full.headers.get('x-sync-queued')]).toEqual([202, inc.body.id, 'true', 'full']);
    type Run = { id: string; kind: string; status: string; startedAt: string; finishedAt: string };
    const runs: Run[] = await waitUntil(
      async () => (await t.admin.get('/api/wecom/sync-runs')).body.items,
      (items: Run[]) => items.length === 3 && items.every((r) => r.status !== 'running'), 'the queued full sync', 90_000, 200,
    );
    expect(runs.map((r) => [r.kind, r.status])).toEqual([['full', 'succeeded'], ['incremental', 'succeeded'], ['full', 'succeeded']]);
    expect(Date.parse(runs[0].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[1].finishedAt)); // after it, never beside it

    // an incremental sync asked during a full one joins it
    local().failNext(TAGS, 45009, 5);
    const f2 = await t.admin.post('/api/wecom/sync', {});
    const i2 = await t.admin.post('/api/wecom/sync', { kind: 'incremental' });
    expect([i2.body.id, i2.body.kind, i2.headers.get('x-sync-joined'), i2.headers.get('x-sync-queued')]).toEqual([f2.body.id, 'full', 'true', null]);
    const last: Run[] = await waitUntil(
      async () => (await t.admin.get('/api/wecom/sync-runs')).body.items,
      (items: Run[]) => items.every((r) => r.status !== 'running'), 'the full sync', 90_000, 200,
    );
    expect(last.map((r) => [r.kind, r.status])).toEqual([['full', 'succeeded'], ['full', 'succeeded'], ['incremental', 'succeeded'], ['full', 'succeeded']]);
  }, 240_000); // its waits add up to more than the default minute on a loaded machine (four syncs, two held 5 s by rate limits)

  it('keeps one incremental Schedule (every 15 minutes unless set otherwise) whose firing syncs the connected organizations incrementally', async () => {
    const { t, dir, tenantId } = await connect('WeCom Scheduled');
    // connected too, but not among the organizations this test's firing is given
    const other = await connect('WeCom Not Scheduled');
    dir.member({ userid: 's1', name: 'S1' });
    if (!workers.length) await startWorker('scheduled');
    expect(await syncAndWait(t)).toMatchObject({ kind: 'full', status: 'succeeded' });
    await withClient((client) => withSchedule(client, WECOM_INCREMENTAL_SYNC_SCHEDULE, async () => {
      const handle = client.schedule.getHandle(WECOM_INCREMENTAL_SYNC_SCHEDULE);
      expect(await ensureWecomIncrementalSyncSchedule(client, ctx.stack.taskQueue)).toBe('created');
      expect(await ensureWecomIncrementalSyncSchedule(client, ctx.stack.taskQueue, '15m')).toBe('exists');
      const schedule = await handle.describe();
      // the production Schedule gives its workflow no input: every connected organization
      expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'wecomIncrementalSyncWorkflow', args: [] });
      expect(msToNumber(schedule.spec.intervals![0].every)).toBe(15 * 60_000);
      // This test's firing syncs its own organization only: every connected organization of the namespace would take in
      // the other test files' organizations too, whose secrets this file's worker cannot open (their runs would fail
      // after minutes of retries, and their own sync requests would join those runs).
      const input: WecomSyncAllInput = { tenantIds: [tenantId] };
      await handle.update((previous) => ({ ...previous, action: { ...previous.action, args: [input] } }));
      // WECOM_INCREMENTAL_SCHEDULE=5m at the next worker start (the interval changes, the input stays)
      expect(await ensureWecomIncrementalSyncSchedule(client, ctx.stack.taskQueue, '5m')).toBe('updated');
      expect(msToNumber((await handle.describe()).spec.intervals![0].every)).toBe(5 * 60_000);
      expect((await handle.describe()).action.args).toEqual([input]);
      await handle.trigger();
      const [fired] = await waitUntil(
        async () => (await handle.describe()).info.recentActions, (actions) => actions.length > 0, 'the triggered firing', 30_000, 200,
      );
      const firing = client.workflow.getHandle<typeof wecomIncrementalSyncWorkflow>(fired.action.workflow.workflowId);
      expect(await firing.result()).toEqual({ started: 1, running: 0 });
      if (process.env.RECORD_HISTORIES) saveHistory('wecomIncrementalSyncWorkflow-scoped', await firing.fetchHistory());
      const run = await waitUntil(
        async () => (await ctx.stack.db.query(`SELECT kind, status FROM wecom_sync_runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`, [tenantId]))[0],
        (r: { kind: string; status: string }) => r.kind === 'incremental' && r.status !== 'running', 'the scheduled incremental sync', 60_000, 200,
      );
      expect(run).toEqual({ kind: 'incremental', status: 'succeeded' });
      // the organization left out was not synced: no sync workflow, no sync-run row
      await expect(client.workflow.getHandle(workflowIds.wecomSync(other.tenantId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      expect(await ctx.stack.db.query(`SELECT id FROM wecom_sync_runs WHERE tenant_id = $1`, [other.tenantId])).toEqual([]);
    }));
  });
});

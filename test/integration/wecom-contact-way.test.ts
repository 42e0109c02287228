import { randomBytes } from 'node:crypto';
import { addUser, signupTenant } from '../support/http';
import { waitUntil } from '../support/poll';
import { useStack } from '../support/stack';
import { serveDirectory, WecomDirectory } from '../support/wecom-directory';
import { contactEvent } from '../support/wecom-events';
import { newCorp, useWecomServer, WecomServer } from '../support/wecom-server';

/**
 * Issue 16 item 4, channel codes as WeCom "contact me" QR codes: created, changed and deleted in the local WeCom
 * with the code, refused before WeCom when the code is too long for WeCom's state, and a scan of the QR code
 * arriving through the existing add-contact callback: the contact tagged and owned within seconds.
 */
describe('source codes as WeCom contact-way QR codes (real Postgres and Temporal, a local WeCom)', () => {
  const sealing = { id: 'waytest', secret: randomBytes(32).toString('hex') };
  const env: Record<string, string> = { WECOM_SECRET_KEYS: `${sealing.id}:${sealing.secret}` };
  const local = useWecomServer(env);
  const ctx = useStack({ env, worker: true });
  const directories = new Map<string, WecomDirectory>();
  beforeAll(() => {
    serveDirectory(local(), directories);
  });

  const setup = async (label: string) => {
    const t = await signupTenant(ctx.http, label);
    const corp = local().add(newCorp());
    const dir = new WecomDirectory();
    directories.set(corp.corpId, dir);
    dir.member({ userid: 'zhangsan', name: '张三' }).member({ userid: 'lisi', name: '李四' });
    const res = await t.admin.put('/api/wecom/connection', corp);
    expect(res.status).toBe(200);
    const path = new URL(res.body.callbackUrl).pathname;
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]);
    const alice = await addUser(t, ctx.http, 'employee');
    const bob = await addUser(t, ctx.http, 'employee');
    const carol = await addUser(t, ctx.http, 'employee'); // no WeCom member
    await ctx.stack.db.query(`INSERT INTO wecom_users (tenant_id, wecom_user_id, name, user_id, matched_by) VALUES ($1, 'zhangsan', '张三', $2, 'hand'), ($1, 'lisi', '李四', $3, 'hand')`,
      [tenantId, alice.id, bob.id]);
    const deliver = async (xml: string) => {
      const { query, body } = WecomServer.delivery(corp, xml);
      const ack = await ctx.http.request('POST', `${path}?${query}`, body, { 'content-type': 'text/xml' });
      expect([ack.status, ack.body]).toEqual([200, 'success']);
    };
    const calls = (p: string) => local().log.filter((c) => c.corpId === corp.corpId && c.path === `/cgi-bin/externalcontact/${p}`).map((c) => c.body);
    return { t, tenantId, corp, dir, deliver, calls, alice, bob, carol };
  };

  it('creates the QR code with the code, a scan arrives tagged and owned within seconds; edits and deletion follow in WeCom', async () => {
    const { t, tenantId, corp, dir, deliver, calls, alice, bob } = await setup('WeCom Contact Way');
    const group = (await t.admin.post('/api/tag-groups', { name: '渠道' })).body;
    const fair = (await t.admin.post('/api/tags', { groupId: group.id, name: '春季展会', kind: 'source' })).body;

    const created = await t.admin.post('/api/source-codes', { code: 'spring-fair', name: '春季展会', tagIds: [fair.id], wecomContactWay: { userIds: [alice.id] } });
    expect(created.status).toBe(201);
    expect(calls('add_contact_way')).toEqual([{ type: 1, scene: 2, state: 'spring-fair', user: ['zhangsan'], skip_verify: true }]);
    const way = created.body.wecomContactWay;
    expect(way).toMatchObject({ userIds: [alice.id], wecomUserIds: ['zhangsan'] });
    expect(way.configId).toBe([...dir.contactWays.keys()][0]);
    expect(way.qrCode).toBe(dir.contactWays.get(way.configId)!.qr_code);
    // the QR image WeCom hosts
    await waitUntil(async () => (await fetch(way.qrCode)).headers.get('content-type'), (type) => type === 'image/png', 'the QR image', 5000, 50);
    expect((await t.admin.get(`/api/source-codes/${created.body.id}`)).body.wecomContactWay).toEqual(way);

    // a customer scans it: WeCom records the follow with the state and calls back
    const scan = dir.scan(way.configId, 'wmSCAN1', '林小姐');
    expect(scan).toEqual({ userid: 'zhangsan', state: 'spring-fair' });
    const at = Date.now();
    await deliver(contactEvent(corp, 'add_external_contact', scan.userid, 'wmSCAN1', { State: scan.state }));
    const contact = await waitUntil(
      () => ctx.stack.db.query(
        `SELECT c.id, c.name, c.owner_id, coalesce(array_agg(t.name) FILTER (WHERE t.id IS NOT NULL), '{}') AS tags
           FROM contacts c LEFT JOIN contact_tags ct ON ct.contact_id = c.id LEFT JOIN tags t ON t.id = ct.tag_id
          WHERE c.tenant_id = $1 AND c.wecom_external_user_id = 'wmSCAN1' GROUP BY c.id`, [tenantId]),
      (rows: unknown[]) => rows.length === 1, 'the scanned contact', 10_000, 50);
    expect(Date.now() - at).toBeLessThan(5000);
    expect(contact[0]).toMatchObject({ name: '林小姐', owner_id: alice.id, tags: ['春季展会'] });

    // edited: another employee (one → several: WeCom cannot change the type, so a new QR code replaces the old)
    const two = await t.admin.patch(`/api/source-codes/${created.body.id}`, { wecomContactWay: { userIds: [alice.id, bob.id] } });
    expect(two.status).toBe(200);
    expect(two.body.wecomContactWay).toMatchObject({ wecomUserIds: ['zhangsan', 'lisi'] });
    expect(two.body.wecomContactWay.configId).not.toBe(way.configId);
    expect([...dir.contactWays.keys()]).toEqual([two.body.wecomContactWay.configId]);
    expect(dir.contactWays.get(two.body.wecomContactWay.configId)).toMatchObject({ type: 2, state: 'spring-fair', user: ['zhangsan', 'lisi'] });
    // renamed code: update_contact_way changes the state
    const renamed = await t.admin.patch(`/api/source-codes/${created.body.id}`, { code: 'spring-fair-2' });
    expect(renamed.status).toBe(200);
    expect(calls('update_contact_way').at(-1)).toEqual({ config_id: two.body.wecomContactWay.configId, state: 'spring-fair-2', user: ['zhangsan', 'lisi'] });
    expect(dir.contactWays.get(two.body.wecomContactWay.configId)!.state).toBe('spring-fair-2');
    // several → several: updated in place
    const swapped = await t.admin.patch(`/api/source-codes/${created.body.id}`, { wecomContactWay: { userIds: [bob.id, alice.id] } });
    expect(swapped.body.wecomContactWay.configId).toBe(two.body.wecomContactWay.configId);
    expect(dir.contactWays.get(two.body.wecomContactWay.configId)!.user).toEqual(['lisi', 'zhangsan']);

    // deleted with the code
    expect((await t.admin.delete(`/api/source-codes/${created.body.id}`)).status).toBe(204);
    expect(calls('del_contact_way')).toEqual([{ config_id: way.configId }, { config_id: two.body.wecomContactWay.configId }]);
    expect(dir.contactWays.size).toBe(0);

    // taken off a code (null), the code stays
    const plain = await t.admin.post('/api/source-codes', { code: 'store-a', name: 'Store A', wecomContactWay: { userIds: [bob.id] } });
    const off = await t.admin.patch(`/api/source-codes/${plain.body.id}`, { wecomContactWay: null });
    expect(off.status).toBe(200);
    expect(off.body.wecomContactWay).toBeNull();
    expect(dir.contactWays.size).toBe(0);

    // WeCom disconnected: the code's configuration is deleted in WeCom, and the code can still be renamed and deleted
    const kept = await t.admin.post('/api/source-codes', { code: 'store-b', name: 'Store B', wecomContactWay: { userIds: [bob.id] } });
    expect(kept.status).toBe(201);
    expect(dir.contactWays.size).toBe(1);
    expect((await t.admin.delete('/api/wecom/connection')).status).toBe(204);
    expect(dir.contactWays.size).toBe(0);
    expect(calls('del_contact_way').at(-1)).toEqual({ config_id: kept.body.wecomContactWay.configId });
    expect((await t.admin.get(`/api/source-codes/${kept.body.id}`)).body).toMatchObject({ wecomContactWay: null, wecomLeftover: null });
    const keptRenamed = await t.admin.patch(`/api/source-codes/${kept.body.id}`, { name: 'Store B 门店' });
    expect([keptRenamed.status, keptRenamed.body.wecomContactWay]).toEqual([200, null]);
    expect((await t.admin.delete(`/api/source-codes/${kept.body.id}`)).status).toBe(204);
  });

  it('two edits of a code at once leave WeCom exactly one contact-me configuration for it (the second sees the first\'s)', async () => {
    const { t, dir, calls, alice, bob } = await setup('WeCom Contact Way Race');
    const plain = await t.admin.post('/api/source-codes', { code: 'race-a', name: 'Race A' });
    expect(plain.status).toBe(201);
    // both ask for a QR code at once: without serializing, each saw no configuration and made one (one orphaned in WeCom)
    const [first, second] = await Promise.all([
      t.admin.patch(`/api/source-codes/${plain.body.id}`, { wecomContactWay: { userIds: [alice.id, bob.id] } }),
      t.admin.patch(`/api/source-codes/${plain.body.id}`, { wecomContactWay: { userIds: [bob.id, alice.id] } }),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const forCode = [...dir.contactWays.values()].filter((w) => w.state === 'race-a');
    expect(forCode).toHaveLength(1);
    expect(calls('add_contact_way')).toHaveLength(1);
    const saved = (await t.admin.get(`/api/source-codes/${plain.body.id}`)).body.wecomContactWay;
    expect(saved.configId).toBe(forCode[0].config_id);
  });

  it('refuses a code too long for WeCom\'s state, an employee who is no WeCom member, and WeCom\'s refusals, saving nothing', async () => {
    const { t, tenantId, dir, calls, alice, carol } = await setup('WeCom Contact Way Refusals');
    const long = 'x'.repeat(31);
    const tooLong = await t.admin.post('/api/source-codes', { code: long, name: 'Long', wecomContactWay: { userIds: [alice.id] } });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.details).toEqual([expect.objectContaining({ path: 'code' })]);
    // without a QR code, 64 characters are still fine
    expect((await t.admin.post('/api/source-codes', { code: long, name: 'Long' })).status).toBe(201);
    const existing = (await t.admin.get('/api/source-codes')).body.find((c: { code: string }) => c.code === long);
    const later = await t.admin.patch(`/api/source-codes/${existing.id}`, { wecomContactWay: { userIds: [alice.id] } });
    expect(later.status).toBe(422);
    expect(later.body.details[0].path).toBe('code');

    const notMember = await t.admin.post('/api/source-codes', { code: 'no-member', name: 'No member', wecomContactWay: { userIds: [alice.id, carol.id] } });
    expect(notMember.status).toBe(422);
    expect(notMember.body).toMatchObject({ code: 'WECOM_CONTACT_WAY_REFUSED', details: [{ path: 'wecomContactWay.userIds[1]' }] });

    // WeCom refuses (the member left WeCom since the last sync): nothing saved
    dir.members.delete('zhangsan');
    const refused = await t.admin.post('/api/source-codes', { code: 'refused', name: 'Refused', wecomContactWay: { userIds: [alice.id] } });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'WECOM_CONTACT_WAY_REFUSED', details: [{ path: 'wecomContactWay.userIds' }] });
    expect(refused.body.details[0].problem).toMatch(/60111/);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM source_codes WHERE tenant_id = $1 AND code IN ('refused', 'no-member')`, [tenantId]))[0].n).toBe(0);
    expect(calls('add_contact_way')).toHaveLength(1);
  });

  it('disconnecting deletes the codes\' configurations in WeCom; one WeCom refuses is kept as the code\'s leftover, shown, retried once reconnected', async () => {
    const { t, tenantId, corp, dir, calls, alice, bob } = await setup('WeCom Contact Way Disconnect');
    const a = (await t.admin.post('/api/source-codes', { code: 'poster-a', name: 'A', wecomContactWay: { userIds: [alice.id] } })).body;
    const b = (await t.admin.post('/api/source-codes', { code: 'poster-b', name: 'B', wecomContactWay: { userIds: [bob.id] } })).body;
    const c = (await t.admin.post('/api/source-codes', { code: 'poster-c', name: 'C', wecomContactWay: { userIds: [alice.id, bob.id] } })).body;
    const refusedId = b.wecomContactWay.configId;
    const path = '/cgi-bin/externalcontact/del_contact_way';
    const original = local().routeOf(path)!;
    // WeCom refuses b's deletion (the calling IP is not trusted, say): 60020
    local().route(path, (call) => call.body.config_id === refusedId ? { errcode: 60020, errmsg: 'not allow to access from your ip' } : original(call));
    try {
      expect((await t.admin.delete('/api/wecom/connection')).status).toBe(204);
      expect([...dir.contactWays.keys()]).toEqual([refusedId]);
      expect(calls('del_contact_way').map((x) => x.config_id).sort()).toEqual([a, b, c].map((x) => x.wecomContactWay.configId).sort());
      const shown = (await t.admin.get(`/api/source-codes/${b.id}`)).body;
      expect(shown.wecomContactWay).toBeNull();
      expect(shown.wecomLeftover).toMatchObject({ configIds: [refusedId], corpId: corp.corpId, reason: 'disconnected' });
      expect(shown.wecomLeftover.error).toMatch(/60020/);
      const listed = (await t.admin.get('/api/source-codes')).body as { id: string; wecomLeftover: unknown }[];
      expect(listed.filter((x) => x.wecomLeftover).map((x) => x.id)).toEqual([b.id]);

      // not connected: neither a retry nor deleting the code can reach WeCom; both say so, and nothing is lost
      const retry = await t.admin.delete(`/api/source-codes/${b.id}/wecom-leftover`);
      expect(retry.status).toBe(422);
      expect(retry.body).toMatchObject({ code: 'WECOM_CONTACT_WAY_REFUSED', details: [{ path: 'wecomLeftover' }] });
      expect(retry.body.details[0].problem).toMatch(new RegExp(`not connected.*${corp.corpId}`));
      expect((await t.admin.delete(`/api/source-codes/${b.id}`)).status).toBe(422);
      expect((await t.admin.get(`/api/source-codes/${b.id}`)).body.wecomLeftover.configIds).toEqual([refusedId]);

      // connected again: the retry asks WeCom, which still refuses; the new error is kept
      expect((await t.admin.put('/api/wecom/connection', corp)).status).toBe(200);
      const again = await t.admin.delete(`/api/source-codes/${b.id}/wecom-leftover`);
      expect(again.status).toBe(422);
      expect(again.body.details[0].problem).toMatch(/60020/);
      const [row] = await ctx.stack.db.query(`SELECT attempts FROM wecom_contact_way_leftovers WHERE tenant_id = $1 AND config_id = $2`, [tenantId, refusedId]);
      expect(row.attempts).toBe(3);
    } finally {
      local().route(path, original);
    }
    // WeCom accepts: deleted there and forgotten here; asking again changes nothing
    expect((await t.admin.delete(`/api/source-codes/${b.id}/wecom-leftover`)).status).toBe(204);
    expect(dir.contactWays.size).toBe(0);
    expect((await t.admin.get(`/api/source-codes/${b.id}`)).body.wecomLeftover).toBeNull();
    const deletes = calls('del_contact_way').length;
    expect((await t.admin.delete(`/api/source-codes/${b.id}/wecom-leftover`)).status).toBe(204);
    expect(calls('del_contact_way')).toHaveLength(deletes);
  });

  it('a QR code taken off or replaced while WeCom is out of reach is kept as a leftover; deleting the code waits for it; it can be forgotten', async () => {
    const { t, tenantId, dir, alice, bob } = await setup('WeCom Contact Way Leftovers');
    const path = '/cgi-bin/externalcontact/del_contact_way';
    const off = (await t.admin.post('/api/source-codes', { code: 'off', name: 'Off', wecomContactWay: { userIds: [alice.id] } })).body;
    const swap = (await t.admin.post('/api/source-codes', { code: 'swap', name: 'Swap', wecomContactWay: { userIds: [alice.id] } })).body;
    local().dropNext(path, 1000);
    try {
      const taken = await t.admin.patch(`/api/source-codes/${off.id}`, { wecomContactWay: null });
      expect(taken.status).toBe(200);
      expect(taken.body.wecomContactWay).toBeNull();
      expect(taken.body.wecomLeftover).toMatchObject({ configIds: [off.wecomContactWay.configId], reason: 'removed' });
      expect(taken.body.wecomLeftover.error).toMatch(/could not be reached/);
      // one member → two: a new configuration, the old one left over (the edit is not undone: that would orphan the new one)
      const swapped = await t.admin.patch(`/api/source-codes/${swap.id}`, { wecomContactWay: { userIds: [alice.id, bob.id] } });
      expect(swapped.status).toBe(200);
      expect(swapped.body.wecomContactWay.configId).not.toBe(swap.wecomContactWay.configId);
      expect(swapped.body.wecomLeftover).toMatchObject({ configIds: [swap.wecomContactWay.configId], reason: 'replaced' });
      expect(dir.contactWays.size).toBe(3);
      // deleting a code whose leftover cannot be deleted: 503, nothing deleted
      const gone = await t.admin.delete(`/api/source-codes/${off.id}`);
      expect(gone.status).toBe(503);
      expect(gone.body.code).toBe('WECOM_UNREACHABLE');
      const retry = await t.admin.delete(`/api/source-codes/${swap.id}/wecom-leftover`);
      expect([retry.status, retry.body.code]).toEqual([503, 'WECOM_UNREACHABLE']);
      expect((await t.admin.get(`/api/source-codes/${off.id}`)).body.wecomLeftover.configIds).toEqual([off.wecomContactWay.configId]);
    } finally {
      local().dropNext(path, 0);
    }
    // the edge: forget takes true or false only; employees may not; another organization sees no such code
    expect((await t.admin.delete(`/api/source-codes/${off.id}/wecom-leftover?forget=yes`)).status).toBe(400);
    const employee = await addUser(t, ctx.http, 'employee');
    expect((await employee.client.delete(`/api/source-codes/${off.id}/wecom-leftover`)).status).toBe(403);
    const other = await signupTenant(ctx.http, 'WeCom Contact Way Other');
    expect((await other.admin.delete(`/api/source-codes/${off.id}/wecom-leftover?forget=true`)).status).toBe(404);
    // forgotten here, left in WeCom (the admin deletes it there by other means)
    expect((await t.admin.delete(`/api/source-codes/${off.id}/wecom-leftover?forget=true`)).status).toBe(204);
    expect((await t.admin.get(`/api/source-codes/${off.id}`)).body.wecomLeftover).toBeNull();
    expect(dir.contactWays.has(off.wecomContactWay.configId)).toBe(true);
    // deleted in WeCom by hand meanwhile: WeCom not knowing it (40058) counts as deleted when the code goes
    dir.contactWays.delete(swap.wecomContactWay.configId);
    expect((await t.admin.delete(`/api/source-codes/${swap.id}`)).status).toBe(204);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM wecom_contact_way_leftovers WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(0);
    expect([...dir.contactWays.keys()]).toEqual([off.wecomContactWay.configId]);
  });

  it('serves the QR image as a download: an attachment of the image\'s type; 404 without a QR code, 503 when WeCom\'s host fails', async () => {
    const { t, alice } = await setup('WeCom Contact Way QR Download');
    const code = (await t.admin.post('/api/source-codes', { code: 'qr-dl', name: 'QR', wecomContactWay: { userIds: [alice.id] } })).body;
    const name = `${code.wecomContactWay.configId}.png`;
    await waitUntil(async () => local().images.get(name), (png) => Boolean(png), 'the QR image drawn', 5000, 50);
    const path = `/api/source-codes/${code.id}/wecom-qr`;
    const answer = await ctx.http.request('GET', path, undefined, t.admin.headers); // checked against the OpenAPI document
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/png');
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="qr-dl-wecom.png"');
    const bytes = Buffer.from(await (await fetch(`${ctx.http.baseUrl}${path}`, { headers: t.admin.headers })).arrayBuffer());
    expect(bytes.equals(local().images.get(name)!)).toBe(true);

    const plain = (await t.admin.post('/api/source-codes', { code: 'no-qr', name: 'No QR' })).body;
    expect((await t.admin.get(`/api/source-codes/${plain.id}/wecom-qr`)).body.code).toBe('WECOM_QR_NOT_FOUND');
    for (const trouble of ['error', 'huge', 'html'] as const) {
      local().imageTrouble.set(name, trouble);
      const failed = await t.admin.get(path);
      expect([trouble, failed.status, failed.body.code]).toEqual([trouble, 503, 'WECOM_QR_UNAVAILABLE']);
    }
    local().imageTrouble.delete(name);
    const employee = await addUser(t, ctx.http, 'employee');
    expect((await employee.client.get(path)).status).toBe(403);
    const other = await signupTenant(ctx.http, 'WeCom QR Other');
    expect((await other.admin.get(path)).status).toBe(404);
  });
});

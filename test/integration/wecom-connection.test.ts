import { randomBytes } from 'node:crypto';
import { addUser, Http, signupTenant, type TenantFixture } from '../support/http';
import { Stack, useStack } from '../support/stack';
import { newCorp, useWecomServer, WecomServer, type WecomCorp } from '../support/wecom-server';
import { WecomRepository } from '../../apps/api/src/modules/wecom/wecom.repository';
import { AccessGuard } from '../../apps/api/src/modules/auth/access.guard';
import { PinoLogger } from 'nestjs-pino';

/**
 * Issue 16, the connection and the callback, against a local WeCom (its server API answering with WeCom's
 * documented error codes; callbacks encrypted and signed with WeCom's official @wecom/crypto).
 */
describe('the WeCom connection and its callback (real Postgres, a local WeCom)', () => {
  const env: Record<string, string> = {};
  const local = useWecomServer(env);
  const ctx = useStack({ env });

  const details = (corp: WecomCorp) => ({ ...corp });
  const connected = async (): Promise<{ t: TenantFixture; corp: WecomCorp; callbackPath: string }> => {
    const t = await signupTenant(ctx.http, 'WeCom Org');
    const corp = local().add(newCorp());
    const res = await t.admin.put('/api/wecom/connection', details(corp));
    expect(res.status).toBe(200);
    return { t, corp, callbackPath: new URL(res.body.callbackUrl).pathname };
  };
  const deliver = (path: string, corp: WecomCorp, message: string, options?: Parameters<typeof WecomServer.delivery>[2]) => {
    const { query, body } = WecomServer.delivery(corp, message, options);
    return ctx.http.request('POST', `${path}?${query}`, body, { 'content-type': 'text/xml' });
  };
  const contactAdded = (corp: WecomCorp, externalUserId: string) =>
    `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime>`
    + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>`
    + `<UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[${externalUserId}]]></ExternalUserID><State><![CDATA[spring-fair]]></State>`
    + `<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>`;

  it('checks the details with WeCom before saving, names the field it refuses, never returns or stores a secret in clear', async () => {
    const t = await signupTenant(ctx.http, 'WeCom Checks');
    const corp = local().add(newCorp());
    const refusal = async (body: Record<string, unknown>) => {
      const res = await t.admin.put('/api/wecom/connection', body);
      return [res.status, res.body.code, (res.body.details ?? []).map((d: { path: string }) => d.path).sort().join(',')];
    };
    expect(await refusal({ corpId: corp.corpId, agentId: corp.agentId })).toEqual([422, 'WECOM_CHECK_FAILED', 'agentSecret,callbackToken,contactSecret,encodingAesKey']);
    expect(await refusal({ ...details(corp), corpId: 'wwunknown1' })).toEqual([422, 'WECOM_CHECK_FAILED', 'corpId']);
    expect(await refusal({ ...details(corp), contactSecret: 'not-the-secret-at-all' })).toEqual([422, 'WECOM_CHECK_FAILED', 'contactSecret']);
    expect(await refusal({ ...details(corp), agentSecret: 'not-the-secret-at-all' })).toEqual([422, 'WECOM_CHECK_FAILED', 'agentSecret']);
    expect(await refusal({ ...details(corp), agentId: '999' })).toEqual([422, 'WECOM_CHECK_FAILED', 'agentId']);
    expect(await refusal({ ...details(corp), encodingAesKey: 'short' })).toEqual([400, 'VALIDATION_FAILED', 'encodingAesKey']);
    expect((await t.admin.get('/api/wecom/connection')).body.code).toBe('WECOM_NOT_CONNECTED');

    const saved = await t.admin.put('/api/wecom/connection', details(corp));
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      corpId: corp.corpId, agentId: corp.agentId, lastCallbackAt: null, eventsLastDay: 0,
      secrets: { contactSecret: `…${corp.contactSecret.slice(-4)}`, agentSecret: `…${corp.agentSecret.slice(-4)}`, callbackToken: '••••', encodingAesKey: '••••' },
    });
    expect(saved.body.callbackUrl).toMatch(/\/api\/wecom\/callback\/[A-Za-z0-9_-]{32}$/);
    const stored = JSON.stringify(await ctx.stack.db.query(`SELECT * FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]));
    for (const secret of [corp.contactSecret, corp.agentSecret, corp.callbackToken, corp.encodingAesKey]) {
      expect(JSON.stringify(saved.body)).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    // a change of ids alone keeps the saved secrets and the callback address
    const again = await t.admin.put('/api/wecom/connection', { corpId: corp.corpId, agentId: corp.agentId });
    expect(again.status).toBe(200);
    expect(again.body.callbackUrl).toBe(saved.body.callbackUrl);

    // secrets sealed with a key since dropped from WECOM_SECRET_KEYS: named at their fields, re-entered, saved
    await ctx.stack.db.query(`UPDATE wecom_connections SET contact_secret = 'v1.gone.AA.BB.CC', callback_token = 'v1.gone.AA.BB.CC' WHERE corp_id = $1`, [corp.corpId]);
    const callbackPath = new URL(saved.body.callbackUrl).pathname;
    const unreadable = await deliver(callbackPath, corp, contactAdded(corp, 'wmRETIRED'));
    expect([unreadable.status, unreadable.body.code]).toEqual([503, 'WECOM_SECRETS_UNREADABLE']);
    const retired = await t.admin.put('/api/wecom/connection', { corpId: corp.corpId, agentId: corp.agentId });
    expect([retired.status, retired.body.details]).toEqual([422, [
      { path: 'contactSecret', problem: 'was sealed with a key no longer in WECOM_SECRET_KEYS: enter it again' },
      { path: 'callbackToken', problem: 'was sealed with a key no longer in WECOM_SECRET_KEYS: enter it again' },
    ]]);
    expect((await t.admin.put('/api/wecom/connection', { corpId: corp.corpId, agentId: corp.agentId, contactSecret: corp.contactSecret, callbackToken: corp.callbackToken })).status).toBe(200);

    // admins only; another organization sees nothing of it
    const ops = await addUser(t, ctx.http, 'ops');
    expect((await ops.client.get('/api/wecom/connection')).status).toBe(403);
    expect((await ops.client.put('/api/wecom/connection', details(corp))).status).toBe(403);
    const other = await signupTenant(ctx.http, 'Other');
    expect((await other.admin.get('/api/wecom/connection')).status).toBe(404);
  });

  it('answers 503 and saves nothing when WeCom cannot be reached', async () => {
    const offline = await Stack.start({ env: { WECOM_API_BASE: `http://127.0.0.1:9` } });
    try {
      const t = await signupTenant(new Http(offline.baseUrl), 'Offline');
      const res = await t.admin.put('/api/wecom/connection', newCorp());
      expect([res.status, res.body.code]).toEqual([503, 'WECOM_UNREACHABLE']);
      expect((await t.admin.get('/api/wecom/connection')).status).toBe(404);
    } finally {
      await offline.stop();
    }
  });

  it('passes WeCom\'s URL handshake and refuses a wrong signature, a stale timestamp or an unknown address', async () => {
    const { corp, callbackPath } = await connected();
    const echostr = `echo-${randomBytes(8).toString('hex')}`;
    const handshake = (c: WecomCorp, options?: Parameters<typeof WecomServer.delivery>[2], path = callbackPath) => {
      const { query, encrypted } = WecomServer.delivery(c, echostr, options);
      query.set('echostr', encrypted);
      return ctx.http.request('GET', `${path}?${query}`);
    };
    const ok = await handshake(corp);
    expect([ok.status, ok.body]).toEqual([200, echostr]);
    expect((await handshake({ ...corp, callbackToken: 'wrongtoken' })).body.code).toBe('WECOM_SIGNATURE_INVALID');
    expect((await handshake(corp, { timestamp: Math.floor(Date.now() / 1000) - 600 })).body.code).toBe('WECOM_TIMESTAMP_STALE');
    // signed with the right token but encrypted for another corporation: not ours
    const stranger = { ...newCorp(), callbackToken: corp.callbackToken };
    expect((await handshake(stranger)).body.code).toBe('WECOM_PAYLOAD_INVALID');
    expect((await handshake(corp, undefined, '/api/wecom/callback/nosuchcallbackaddressatallxxxxxx')).status).toBe(404);
  });

  it('keeps each delivered event once under WeCom\'s retries and replays, and says when the last one came', async () => {
    const { t, corp, callbackPath } = await connected();
    const first = contactAdded(corp, 'wmEXT001');
    const res = await deliver(callbackPath, corp, first);
    expect([res.status, res.body]).toEqual([200, 'success']);
    // WeCom retries a delivery it saw no answer for (same event, new nonce), or someone replays the request
    expect((await deliver(callbackPath, corp, first)).body).toBe('success');
    const { query, body } = WecomServer.delivery(corp, first);
    for (let i = 0; i < 2; i++) expect((await ctx.http.request('POST', `${callbackPath}?${query}`, body, { 'content-type': 'text/xml' })).body).toBe('success');
    expect((await deliver(callbackPath, corp, contactAdded(corp, 'wmEXT002'))).body).toBe('success');
    const rows = await ctx.stack.db.query(
      `SELECT event, change_type, payload->>'ExternalUserID' AS external, payload->>'State' AS state FROM wecom_callback_events e
         JOIN wecom_connections c USING (tenant_id) WHERE c.corp_id = $1 ORDER BY e.id`, [corp.corpId]);
    expect(rows).toEqual([
      { event: 'change_external_contact', change_type: 'add_external_contact', external: 'wmEXT001', state: 'spring-fair' },
      { event: 'change_external_contact', change_type: 'add_external_contact', external: 'wmEXT002', state: 'spring-fair' },
    ]);
    const status = (await t.admin.get('/api/wecom/connection')).body;
    expect(status.eventsLastDay).toBe(2);
    expect(status.lastCallbackAt).not.toBeNull();

    // a body that is not WeCom's XML, or with a tampered ciphertext, keeps nothing
    const bad = await ctx.http.request('POST', `${callbackPath}?${WecomServer.delivery(corp, first).query}`, 'not xml', { 'content-type': 'text/xml' });
    expect([bad.status, bad.body.code]).toEqual([400, 'WECOM_PAYLOAD_INVALID']);
    const entities = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>';
    const bomb = await ctx.http.request('POST', `${callbackPath}?${WecomServer.delivery(corp, first).query}`, entities, { 'content-type': 'text/xml' });
    expect([bomb.status, bomb.body.code]).toEqual([400, 'WECOM_PAYLOAD_INVALID']);
    const tampered = WecomServer.delivery(corp, contactAdded(corp, 'wmEXT003'));
    const swapped = tampered.body.replace(tampered.encrypted, WecomServer.delivery(corp, contactAdded(corp, 'wmEXT004')).encrypted);
    expect((await ctx.http.request('POST', `${callbackPath}?${tampered.query}`, swapped, { 'content-type': 'text/xml' })).body.code).toBe('WECOM_SIGNATURE_INVALID');

    // a burst of deliveries at once (the API writes them many per statement): each event kept once, a
    // redelivery racing its original adds nothing, and one event Postgres cannot store is refused alone
    const burst = Array.from({ length: 60 }, (_, i) => contactAdded(corp, `wmBURST${i}`));
    const unstorable = contactAdded(corp, 'wmNUL\u0000');
    const answers = await Promise.all([...burst, ...burst.slice(0, 20), unstorable].map((m) => deliver(callbackPath, corp, m)));
    expect(answers.slice(0, 80).map((a) => a.body)).toEqual(Array(80).fill('success'));
    expect([answers[80].status, answers[80].body.code, answers[80].body.message]).toEqual([400, 'WECOM_PAYLOAD_INVALID', expect.stringContaining('ExternalUserID')]);
    const burstKept = await ctx.stack.db.query(
      `SELECT payload->>'ExternalUserID' AS external, count(*)::int AS n FROM wecom_callback_events e JOIN wecom_connections c USING (tenant_id)
        WHERE c.corp_id = $1 AND payload->>'ExternalUserID' LIKE 'wmBURST%' GROUP BY 1`, [corp.corpId]);
    expect(burstKept).toHaveLength(60);
    expect(burstKept.every((r: { n: number }) => r.n === 1)).toBe(true);

    // disconnected: the address answers nothing any more
    expect((await t.admin.delete('/api/wecom/connection')).status).toBe(204);
    expect((await t.admin.delete('/api/wecom/connection')).status).toBe(204);
    expect((await deliver(callbackPath, corp, first)).status).toBe(404);
  });

  it('serves a delivery outside Nest\'s guards, pipes and logging middleware, with the same answers, request id, metric and access line', async () => {
    const { corp, callbackPath } = await connected();
    const guard = jest.spyOn(AccessGuard.prototype, 'canActivate');
    // the access lines, as if the log level were on (the tests log nothing)
    const root = PinoLogger.root;
    const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
    const spies = [
      jest.spyOn(root, 'isLevelEnabled').mockReturnValue(true),
      ...(['info', 'warn', 'error'] as const).map((level) => jest.spyOn(root, level).mockImplementation(((fields: Record<string, unknown>, msg: string) => {
        if (typeof msg === 'string' && msg.startsWith('POST /api/wecom/callback/')) lines.push({ level, msg, fields });
      }) as never)),
    ];
    try {
      const ok = await deliver(callbackPath, corp, contactAdded(corp, 'wmDIRECT'));
      expect([ok.status, ok.body, ok.headers.get('content-type')]).toEqual([200, 'success', 'text/plain']);
      expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const refused = await deliver(callbackPath, { ...corp, callbackToken: 'wrongtoken' }, contactAdded(corp, 'wmDIRECT2'), undefined);
      expect([refused.status, refused.body.code, refused.body.message]).toEqual([401, 'WECOM_SIGNATURE_INVALID', expect.stringContaining('msg_signature')]);
      expect(refused.body.requestId).toBe(refused.headers.get('x-request-id'));
      const unknown = await deliver('/api/wecom/callback/nosuchcallbackaddressatallxxxxxx', corp, contactAdded(corp, 'wmDIRECT3'));
      expect([unknown.status, unknown.body.code]).toEqual([404, 'WECOM_CALLBACK_NOT_FOUND']);
      const tooLarge = await ctx.http.request('POST', `${callbackPath}?${WecomServer.delivery(corp, 'x').query}`, 'x'.repeat(65 * 1024), { 'content-type': 'text/xml' });
      expect([tooLarge.status, tooLarge.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

      // none of Nest's per-request work: the global guard never ran for them
      expect(guard).not.toHaveBeenCalled();
      // the access line other routes get from pino-http, once each, at the level of the answer
      expect(lines.map((l) => [l.level, l.msg.replace(/\?.*? /, ' ')])).toEqual([
        ['info', expect.stringMatching(/^POST \/api\/wecom\/callback\/[\w-]{32} 200 \d+ms$/)],
        ['warn', expect.stringMatching(/^POST \/api\/wecom\/callback\/[\w-]{32} 401 \d+ms$/)],
        ['warn', expect.stringMatching(/^POST \/api\/wecom\/callback\/nosuch\w+ 404 \d+ms$/)],
        ['warn', expect.stringMatching(/^POST \/api\/wecom\/callback\/[\w-]{32} 413 \d+ms$/)],
      ]);
      expect(lines[0].fields).toMatchObject({ req: expect.objectContaining({ id: ok.headers.get('x-request-id') }), responseTime: expect.any(Number) });
      expect(lines[0].fields.req).not.toHaveProperty('allLogs'); // pino-http's middleware skipped it (it would write a second line)
      // the request-duration metric under the route's pattern
      const metrics = (await ctx.http.get('/metrics')).body as string;
      const counted = metrics.split('\n').filter((l) => l.startsWith('sop_api_http_request_duration_seconds_count{')
        && ['method="POST"', 'route="/api/wecom/callback/:callbackId"', 'status="200"'].every((label) => l.includes(label)));
      expect(counted).toEqual([expect.stringMatching(/ [1-9]\d*$/)]);
    } finally {
      guard.mockRestore();
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('reads a callback address\'s connection once for callbacks arriving together, and never keeps one read before its secrets changed', async () => {
    const { t, corp, callbackPath } = await connected();
    // the real repository (real Postgres), watched: how many times the callback path reads the connection
    const repo = ctx.stack.app.get(WecomRepository);
    const read = repo.byCallbackId.bind(repo);
    let gate: Promise<void> | null = null;
    const reads = jest.spyOn(repo, 'byCallbackId').mockImplementation(async (id: string) => {
      const row = await read(id);
      if (gate) await gate; // holds a read that has seen the row, to change the secrets meanwhile
      return row;
    });
    try {
      // a burst at an address not read yet: one read, not one per callback
      const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => deliver(callbackPath, corp, contactAdded(corp, `wmONCE${i}`))));
      expect(burst.map((a) => a.body)).toEqual(Array(30).fill('success'));
      expect(reads).toHaveBeenCalledTimes(1);

      // the connection's row locked elsewhere (a save, a status write) when last_callback_at is due to move: the
      // callback is kept and answered without waiting for that lock (the timestamp moves with a later callback)
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const runner = ctx.stack.db.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(`SELECT 1 FROM wecom_connections WHERE corp_id = $1 FOR UPDATE`, [corp.corpId]);
        const answer = await Promise.race([
          deliver(callbackPath, corp, contactAdded(corp, 'wmLOCKED')).then((a) => a.body),
          new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000)),
        ]);
        expect(answer).toBe('success');
      } finally {
        await runner.rollbackTransaction().catch(() => undefined);
        await runner.release();
      }

      // the callback token changes while a read of the old one is in flight (a callback after the cached entry was
      // forgotten): that read answers its own callback, but the new token is what the next callback is checked with
      await t.admin.put('/api/wecom/connection', { corpId: corp.corpId, agentId: corp.agentId }); // forgets the entry
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      const before = deliver(callbackPath, corp, contactAdded(corp, 'wmBEFORE'));
      await new Promise((resolve) => setTimeout(resolve, 200)); // the read has seen the old token and waits
      const changed = { ...corp, callbackToken: randomBytes(12).toString('hex') };
      expect((await t.admin.put('/api/wecom/connection', { corpId: corp.corpId, agentId: corp.agentId, callbackToken: changed.callbackToken })).status).toBe(200);
      open();
      gate = null;
      expect((await before).body).toBe('success');
      const after = await deliver(callbackPath, changed, contactAdded(changed, 'wmAFTER'));
      expect([after.status, after.body]).toEqual([200, 'success']);
      expect((await deliver(callbackPath, corp, contactAdded(corp, 'wmOLDTOKEN'))).body.code).toBe('WECOM_SIGNATURE_INVALID');

      // disconnected: forgotten at once, the address answers nothing
      expect((await t.admin.delete('/api/wecom/connection')).status).toBe(204);
      expect((await deliver(callbackPath, changed, contactAdded(changed, 'wmGONE'))).status).toBe(404);
    } finally {
      reads.mockRestore();
    }
  });
});

import { createApp, loadConfig, localWecomKey } from '@sop/api';
import { request as httpRequest } from 'node:http';
import { enrollEntrants, materializeDuePage, planReminders } from '@sop/engine';
import { deliverDueReminders } from '@sop/worker';
import { WecomAccess } from '@sop/wecom';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { zoneWithOpenWindow } from '../support/clock';
import { testEnv } from '../support/env';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';
import { WecomApp } from '../support/wecom-app';
import { newCorp, useWecomServer, type WecomCorp } from '../support/wecom-server';

const MIN = 60_000;

/**
 * Issue 16, tasks reach employees in WeCom: reminders as the app's text cards (once, after quiet hours, failures
 * recorded) and the card's sign-in through WeCom OAuth, against a local WeCom (real Postgres; the API over HTTP).
 */
describe('WeCom app messages and sign-in inside WeCom (real Postgres, a local WeCom)', () => {
  const JWT_SECRET = randomBytes(32).toString('hex');
  const env: Record<string, string> = { JWT_SECRET };
  const local = useWecomServer(env);
  const ctx = useStack({ env, worker: true });
  let app: WecomApp;
  let wecom: WecomAccess;

  beforeAll(() => {
    app = new WecomApp(local());
    wecom = new WecomAccess({ secretKeys: [localWecomKey(JWT_SECRET)], apiBase: local().baseUrl, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
  });
  afterEach(() => local().reset());

  /** A connected organization, an employee matched to member `userid` with one pending task, and its reminder tools. */
  async function world(userid: string, { member = true, locale = 'en' }: { member?: boolean; locale?: 'zh' | 'en' } = {}) {
    const t = await signupTenant(ctx.http, 'WeCom reach');
    const corp: WecomCorp = local().add(newCorp());
    if (member) app.addMembers(corp, userid);
    expect((await t.admin.put('/api/wecom/connection', corp)).status).toBe(200);
    const e1 = await addUser(t, ctx.http, 'employee');
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM users WHERE id = $1`, [e1.id]);
    await ctx.stack.db.query(
      `INSERT INTO wecom_users (tenant_id, wecom_user_id, name, user_id, matched_by) VALUES ($1, $2, '张三', $3, 'hand')`, [tenantId, userid, e1.id]);
    expect((await e1.client.put('/api/me/notification-preferences', { locale, timezone: 'Asia/Shanghai', channels: [] })).status).toBe(200);
    const { tags } = await createTagSystem(t.admin);
    // in a zone where the step's all-day window (00:00-23:59) is open for hours yet, so the task is made now
    await t.admin.post('/api/contacts', { externalId: 'c1', name: '王女士', ownerId: e1.id, tags: [tags.intentHigh.id], timezone: zoneWithOpenWindow() });
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const sop = (await t.admin.post('/api/sops', { name: 'Follow up 跟进', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Call 电话', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
        content: { template: '给{{ contact.name }}打电话' }, executor: { rule: 'contactOwner' }, reminder: { dueSoonMinutes: 20 } }],
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const [{ id: taskId }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1`, [sop.id]);
    /** the task's window closes at `closes`; the due-soon moment is 20 minutes before */
    const closes = async (at: Date) => ctx.stack.db.query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE id = $1`, [taskId, new Date(at.getTime() - 120 * MIN), at]);
    const plan = (now: Date) => planReminders(ctx.stack.db, now, [tenantId]);
    const deliver = (now: Date) => deliverDueReminders(ctx.stack.db, ctx.stack.notifier, { now, onlyTenants: [tenantId], appUrl: ctx.stack.baseUrl, wecom });
    const deliveries = () => ctx.stack.db.query(
      `SELECT d.channel, d.status, d.attempts, d.next_attempt_at, d.last_error FROM notification_deliveries d
         JOIN notifications n ON n.id = d.notification_id WHERE n.user_id = $1 ORDER BY d.id`, [e1.id]);
    return { t, corp, e1, tenantId, taskId, closes, plan, deliver, deliveries };
  }

  it('sends a due reminder to the employee\'s WeCom as one text card, in their language, and a repeated or retried delivery sends nothing more', async () => {
    const w = await world('zhangsan');
    const closes = new Date('2030-03-04T10:00:00Z');
    await w.closes(closes);
    const nudge = new Date(closes.getTime() - 19 * MIN);
    expect(await w.plan(nudge)).toMatchObject({ dueSoon: 1, deliveries: 1 });
    expect(await w.plan(nudge)).toMatchObject({ dueSoon: 0, deliveries: 0 });

    // WeCom's rate limit past the client's retries: the delivery is retried later, not failed
    local().failNext('/cgi-bin/message/send', 45009, 2);
    expect(await w.deliver(nudge)).toMatchObject({ sent: 0, retried: 1 });
    expect(app.messagesTo('zhangsan')).toHaveLength(0);
    const [retry] = await w.deliveries();
    expect(retry).toMatchObject({ channel: 'wecom_app', status: 'pending', attempts: 1 });
    expect(retry.last_error).toContain('45009');

    const later = new Date(nudge.getTime() + MIN);
    expect(await w.deliver(later)).toMatchObject({ sent: 1 });
    expect(await w.deliver(later)).toMatchObject({ sent: 0, retried: 0, failed: 0 });
    expect(await w.deliver(new Date(later.getTime() + 10 * MIN))).toMatchObject({ sent: 0 });
    const sent = app.messagesTo('zhangsan');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ corpId: w.corp.corpId, agentid: Number(w.corp.agentId), msgtype: 'textcard' });
    expect(sent[0].textcard).toEqual({
      title: 'Due soon: 王女士',
      description: 'Follow up 跟进 "Call 电话" closes at 03-04 18:00: please finish it soon.',
      url: `${ctx.stack.baseUrl}/api/wecom/oauth/${w.tenantId}?next=${encodeURIComponent(`/inbox?task=${w.taskId}`)}`,
      btntxt: 'Open',
    });
    expect(await w.deliveries()).toEqual([expect.objectContaining({ channel: 'wecom_app', status: 'sent', attempts: 2 })]);
  });

  it('sends the morning digest as a card too, its lines broken with <br>', async () => {
    const w = await world('digestuser');
    await w.closes(new Date('2030-03-09T04:00:00Z')); // 10:00 to 12:00 in Shanghai
    // 08:30 in Shanghai, the default digest time
    expect(await w.plan(new Date('2030-03-09T00:31:00Z'))).toMatchObject({ digests: 1, deliveries: 1 });
    expect(await w.deliver(new Date('2030-03-09T00:31:00Z'))).toMatchObject({ sent: 1 });
    const [card] = app.messagesTo('digestuser');
    expect(card.textcard.title).toBe('Today: 1 tasks');
    expect(card.textcard.description).toContain('Follow up 跟进: 1 (王女士)');
    expect(card.textcard.url).toContain(`/api/wecom/oauth/${w.tenantId}?next=`);
  });

  it('holds the card until the employee\'s quiet hours end, in Chinese for a Chinese-speaking employee', async () => {
    const w = await world('lisi', { locale: 'zh' });
    expect((await w.e1.client.put('/api/me/notification-preferences', { quietHours: { start: '22:00', end: '08:00' } })).status).toBe(200);
    // the window closes at 01:00 Shanghai: the nudge at 00:40 falls in quiet hours
    const closes = new Date('2030-03-04T17:00:00Z');
    await w.closes(closes);
    const nudge = new Date(closes.getTime() - 19 * MIN);
    expect(await w.plan(nudge)).toMatchObject({ dueSoon: 1, deliveries: 1 });
    const [held] = await w.deliveries();
    expect(held.next_attempt_at.toISOString()).toBe('2030-03-05T00:00:00.000Z'); // 08:00 in Shanghai
    expect(await w.deliver(nudge)).toMatchObject({ sent: 0 });
    expect(await w.deliver(new Date('2030-03-04T23:59:00Z'))).toMatchObject({ sent: 0 });
    expect(app.messagesTo('lisi')).toHaveLength(0);
    expect(await w.deliver(new Date('2030-03-05T00:00:00Z'))).toMatchObject({ sent: 1 });
    const [card] = app.messagesTo('lisi');
    expect(card.textcard.title).toBe('任务即将截止：王女士');
    expect(card.textcard.btntxt).toBe('查看任务');
  });

  it('records WeCom\'s refusals on the delivery: a member outside the app\'s visible range (invaliduser) and an unknown member (81013) fail at once', async () => {
    const hidden = await world('wangwu');
    app.hide(hidden.corp, 'wangwu');
    const unknown = await world('zhaoliu', { member: false });
    for (const w of [hidden, unknown]) {
      const closes = new Date('2030-03-06T10:00:00Z');
      await w.closes(closes);
      const nudge = new Date(closes.getTime() - 19 * MIN);
      await w.plan(nudge);
      expect(await w.deliver(nudge)).toMatchObject({ sent: 0, retried: 0, failed: 1 });
      expect(await w.deliver(new Date(nudge.getTime() + 60 * MIN))).toMatchObject({ sent: 0, retried: 0, failed: 0 });
    }
    const [h] = await hidden.deliveries();
    expect(h).toMatchObject({ channel: 'wecom_app', status: 'failed', attempts: 1 });
    expect(h.last_error).toContain('invaliduser');
    const [u] = await unknown.deliveries();
    expect(u).toMatchObject({ channel: 'wecom_app', status: 'failed', attempts: 1 });
    expect(u.last_error).toContain('81013');
    expect(app.sent.filter((m) => m.corpId === hidden.corp.corpId || m.corpId === unknown.corp.corpId)).toHaveLength(0);
  });

  it('sends no card to an employee matched to no member, or in an organization without a WeCom connection', async () => {
    const closes = new Date('2030-03-07T10:00:00Z');
    const unmatched = await world('qianqi');
    await ctx.stack.db.query(`UPDATE wecom_users SET user_id = NULL WHERE tenant_id = $1`, [unmatched.tenantId]);
    const disconnected = await world('qianqi');
    expect((await disconnected.t.admin.delete('/api/wecom/connection')).status).toBe(204);
    for (const w of [unmatched, disconnected]) {
      await w.closes(closes);
      expect(await w.plan(new Date(closes.getTime() - 19 * MIN))).toMatchObject({ dueSoon: 1, deliveries: 0 });
    }
  });

  it('sends the card from reminderSweepWorkflow run by the worker (its WeCom access and APP_URL)', async () => {
    const w = await world('zhengshiyi');
    const closes = new Date('2030-03-08T10:00:00Z');
    await w.closes(closes);
    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    try {
      const client = new Client({ connection });
      const run = (workflowId: string) => client.workflow.execute('reminderSweepWorkflow', {
        taskQueue: ctx.stack.taskQueue, workflowId, args: [{ now: closes.getTime() - 19 * MIN, tenantIds: [w.tenantId] }],
      });
      expect(await run(`wecom-reach-sweep-${w.tenantId}`)).toMatchObject({ dueSoon: 1, deliveries: 1, sent: 1 });
      // the sweep again (the Schedule firing twice for one minute): nothing planned, nothing sent again
      expect(await run(`wecom-reach-sweep-again-${w.tenantId}`)).toMatchObject({ dueSoon: 0, deliveries: 0, sent: 0 });
    } finally {
      await connection.close();
    }
    const cards = app.messagesTo('zhengshiyi');
    expect(cards).toHaveLength(1);
    expect(cards[0].textcard.url).toBe(`${ctx.stack.baseUrl}/api/wecom/oauth/${w.tenantId}?next=${encodeURIComponent(`/inbox?task=${w.taskId}`)}`);
  });

  describe('sign-in through WeCom OAuth', () => {
    const get = (path: string, cookie?: string) => fetch(path.startsWith('http') ? path : `${ctx.stack.baseUrl}${path}`, {
      redirect: 'manual', headers: cookie ? { cookie } : {},
    });
    /** Opens the card's url: the start's redirect, its cookie, and the local authorize page's continue link. */
    async function openCard(tenantId: string, next = '/inbox?task=42') {
      const start = await get(`/api/wecom/oauth/${tenantId}?next=${encodeURIComponent(next)}`);
      expect(start.status).toBe(302);
      const location = new URL(start.headers.get('location')!);
      const cookie = start.headers.get('set-cookie')!.split(';')[0];
      const page = await (await get(location.toString())).text();
      const href = /id="wecom-continue" href="([^"]+)"/.exec(page)?.[1]?.replace(/&#38;/g, '&');
      return { location, cookie, callback: href ? new URL(href) : null, page };
    }

    it('turns the code into the matched user\'s session and lands on the card\'s page; the code works once', async () => {
      const w = await world('sunba');
      app.viewer(w.corp, { userid: 'sunba' });
      const { location, cookie, callback } = await openCard(w.tenantId);
      expect(`${location.origin}${location.pathname}`).toBe(`${local().baseUrl}/connect/oauth2/authorize`);
      expect(location.hash).toBe('#wechat_redirect');
      expect(Object.fromEntries(location.searchParams)).toMatchObject({
        appid: w.corp.corpId, agentid: w.corp.agentId, response_type: 'code', scope: 'snsapi_base', redirect_uri: `${ctx.stack.baseUrl}/api/wecom/oauth/callback`,
      });
      expect(cookie).toMatch(/^sop_wecom_oauth=/);
      const done = await get(callback!.toString(), cookie);
      expect(done.status).toBe(302);
      const landed = new URL(done.headers.get('location')!, ctx.stack.baseUrl);
      expect(landed.pathname + landed.search).toBe('/inbox?task=42');
      const token = new URLSearchParams(landed.hash.slice(1)).get('access_token')!;
      const me = await ctx.http.as(token).get('/api/auth/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ userId: w.e1.id, role: 'employee' });

      // the same code again (a reload, a replay): WeCom answers 40029 and no session is made
      const again = await get(callback!.toString(), cookie);
      expect(again.status).toBe(200); // a page for the person, like the join page's; no redirect, no token
      const page = await again.text();
      expect(page).toContain('data-reason="code_invalid"');
      expect(page).toContain('授权码无效');
      expect(page).toContain('authorization code is invalid');
      expect(again.headers.get('location')).toBeNull();
    });

    it('refuses a forged state, a state without its cookie, an expired code, a WeChat user, an unmatched member and an unconnected organization', async () => {
      const w = await world('zhoujiu');
      app.viewer(w.corp, { userid: 'zhoujiu' });
      const refused = async (res: Response, reason: string) => {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/html');
        expect(res.headers.get('location')).toBeNull();
        expect(await res.text()).toContain(`data-reason="${reason}"`);
      };

      const forged = await openCard(w.tenantId);
      const state = forged.callback!.searchParams.get('state')!;
      const [body, mac] = state.split('.');
      const otherTenant = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), p: '/admin/users' })).toString('base64url');
      forged.callback!.searchParams.set('state', `${otherTenant}.${mac}`);
      await refused(await get(forged.callback!.toString(), forged.cookie), 'state_invalid');

      const noCookie = await openCard(w.tenantId);
      await refused(await get(noCookie.callback!.toString()), 'state_invalid');
      // a cookie from another sign-in does not fit this state
      await refused(await get(noCookie.callback!.toString(), forged.cookie), 'state_invalid');

      const expired = await openCard(w.tenantId);
      app.expireCode(expired.callback!.searchParams.get('code')!);
      await refused(await get(expired.callback!.toString(), expired.cookie), 'code_invalid');

      app.viewer(w.corp, { openid: 'oWeChatOutsider' });
      const outsider = await openCard(w.tenantId);
      await refused(await get(outsider.callback!.toString(), outsider.cookie), 'not_member');

      app.viewer(w.corp, { userid: 'unmatched' });
      const unmatched = await openCard(w.tenantId);
      await refused(await get(unmatched.callback!.toString(), unmatched.cookie), 'not_matched');

      app.viewer(w.corp, { userid: 'zhoujiu' });
      await ctx.stack.db.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [w.e1.id]);
      const stillDisabled = await openCard(w.tenantId);
      await refused(await get(stillDisabled.callback!.toString(), stillDisabled.cookie), 'not_matched');

      const unconnected = await signupTenant(ctx.http, 'No WeCom');
      const me = await unconnected.admin.get('/api/auth/me');
      for (const tenant of [me.body.tenantId, 'not-a-uuid']) {
        const res = await get(`/api/wecom/oauth/${tenant}`);
        expect(res.status).toBe(404);
        expect(((await res.json()) as { code: string }).code).toBe('WECOM_NOT_CONNECTED');
        expect(res.headers.get('set-cookie')).toBeNull();
      }
      // disconnected between the start and WeCom's return: refused on the way back
      const late = await openCard(w.tenantId);
      expect((await w.t.admin.delete('/api/wecom/connection')).status).toBe(204);
      await refused(await get(late.callback!.toString(), late.cookie), 'not_connected');
    });

    it('builds the callback address and the cookies\' Secure flag from APP_URL, not from the request\'s Host or protocol', async () => {
      // an API behind a TLS proxy (TRUST_PROXY unset: it sees plain http) whose public address is APP_URL
      const behindProxy = await createApp(loadConfig({
        DATABASE_URL: testEnv('DATABASE_URL'), TEMPORAL_ADDRESS: testEnv('TEMPORAL_ADDRESS'), TEMPORAL_TASK_QUEUE: ctx.stack.taskQueue,
        LOG_LEVEL: 'silent', PORT: '0', ...env, APP_URL: 'https://sop.example.com',
      }));
      await behindProxy.listen(0, '127.0.0.1');
      try {
        const base = (await behindProxy.getUrl()).replace('[::1]', '127.0.0.1');
        const w = await world('zhengshi');
        app.viewer(w.corp, { userid: 'zhengshi' });
        // a forged Host header must not steer WeCom's redirect_uri
        const start = await new Promise<{ status: number; location: string; cookie: string }>((resolve, reject) => {
          const url = new URL(`${base}/api/wecom/oauth/${w.tenantId}?next=%2Finbox`);
          httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers: { host: 'evil.example' } }, (res) => {
            res.resume();
            resolve({ status: res.statusCode!, location: String(res.headers.location), cookie: (res.headers['set-cookie'] ?? []).join('\n') });
          }).on('error', reject).end();
        });
        expect(start.status).toBe(302);
        const location = new URL(start.location);
        expect(location.searchParams.get('redirect_uri')).toBe('https://sop.example.com/api/wecom/oauth/callback');
        expect(start.cookie).toMatch(/^sop_wecom_oauth=[^;]+;.*; Secure/);
        // WeCom sends the browser back to APP_URL (here: the same API): the hand-off cookie is Secure too
        const page = await (await get(location.toString())).text();
        const href = new URL(/id="wecom-continue" href="([^"]+)"/.exec(page)![1].replace(/&#38;/g, '&'));
        expect(href.origin).toBe('https://sop.example.com');
        const done = await get(`${base}${href.pathname}${href.search}`, start.cookie.split(';')[0]);
        expect(done.status).toBe(302);
        expect(done.headers.get('set-cookie')).toMatch(/sop_wecom_handoff=[^;]+;.*; Secure/);
      } finally {
        await behindProxy.close();
      }
    });

    it('sends the browser only to paths of the app after sign-in', async () => {
      const w = await world('wushi');
      app.viewer(w.corp, { userid: 'wushi' });
      for (const next of ['//evil.example/x', 'https://evil.example', '/\\evil.example']) {
        const { callback, cookie } = await openCard(w.tenantId, next);
        const done = await get(callback!.toString(), cookie);
        expect(done.status).toBe(302);
        expect(done.headers.get('location')).toMatch(/^\/inbox#access_token=/);
      }
    });
  });
});

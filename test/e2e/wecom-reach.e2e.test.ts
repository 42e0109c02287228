import { localWecomKey } from '@sop/api';
import { enrollEntrants, materializeDuePage, planReminders } from '@sop/engine';
import { deliverDueReminders } from '@sop/worker';
import { WecomAccess } from '@sop/wecom';
import { randomBytes } from 'node:crypto';
import { zoneWithOpenWindow } from '../support/clock';
import { screenshot, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { WecomApp } from '../support/wecom-app';
import { newCorp, useWecomServer } from '../support/wecom-server';

const MIN = 60_000;

/**
 * Issue 16: an employee gets a reminder as the WeCom app's card, opens it on a phone inside WeCom (the local
 * WeCom's authorize page), and lands signed in on the inbox with the task open, without a password.
 */
describe('a WeCom reminder card opens the inbox signed in (Chromium, phone)', () => {
  const JWT_SECRET = randomBytes(32).toString('hex');
  const env: Record<string, string> = { JWT_SECRET };
  const local = useWecomServer(env);
  const ctx = useConsoleStack({ env });
  jest.setTimeout(120_000);

  it('sends the card, goes through WeCom\'s authorize page and shows the task in the inbox', async () => {
    const app = new WecomApp(local());
    const t = await signupTenant(ctx.http, 'WeCom Reach');
    const corp = local().add(newCorp());
    app.addMembers(corp, 'wangfang');
    app.viewer(corp, { userid: 'wangfang' });
    expect((await t.admin.put('/api/wecom/connection', corp)).status).toBe(200);
    const employee = await addUser(t, ctx.http, 'employee');
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM users WHERE id = $1`, [employee.id]);
    await ctx.stack.db.query(
      `INSERT INTO wecom_users (tenant_id, wecom_user_id, name, user_id, matched_by) VALUES ($1, 'wangfang', '王芳', $2, 'hand')`, [tenantId, employee.id]);
    // the daily digest off: a run at the digest's own time of day (08:30 in Shanghai) would send it beside the card
    expect((await employee.client.put('/api/me/notification-preferences', {
      locale: 'zh', timezone: 'Asia/Shanghai', channels: [], kinds: { digest: false } })).status).toBe(200);

    const { tags } = await createTagSystem(t.admin);
    // in a zone where the step's all-day window (00:00-23:59) is open for hours yet, so the task is made now
    await t.admin.post('/api/contacts', { externalId: 'c1', name: '林小姐', ownerId: employee.id, tags: [tags.intentHigh.id], timezone: zoneWithOpenWindow() });
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const sop = (await t.admin.post('/api/sops', { name: 'New arrivals 新品', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Coupon 发券', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: '{{ contact.name }}，您好！本周新品到店。' }, executor: { rule: 'contactOwner' }, reminder: { dueSoonMinutes: 20 } }],
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const now = new Date();
    // the window closes in 19 minutes: its due-soon moment (20 minutes before) was a minute ago
    await ctx.stack.db.query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE sop_id = $1`, [sop.id, new Date(now.getTime() - 60 * MIN), new Date(now.getTime() + 19 * MIN)]);
    expect(await planReminders(ctx.stack.db, now, [tenantId])).toMatchObject({ dueSoon: 1 });
    const wecom = new WecomAccess({ secretKeys: [localWecomKey(JWT_SECRET)], apiBase: local().baseUrl });
    expect(await deliverDueReminders(ctx.stack.db, ctx.stack.notifier, { now, onlyTenants: [tenantId], appUrl: ctx.stack.baseUrl, wecom })).toMatchObject({ sent: 1 });
    const [card] = app.messagesTo('wangfang');
    expect(card.textcard.title).toBe('任务即将截止：林小姐');

    // the phone inside WeCom opens the card: WeCom's authorize page, then the inbox, signed in
    const context = await ctx.browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await page.goto(card.textcard.url);
    await page.locator('#wecom-viewer', { hasText: 'wangfang' }).waitFor();
    await screenshot(page, 'wecom-authorize-phone');
    await page.locator('#wecom-continue').click();
    await page.locator('#task-panel-title', { hasText: '林小姐' }).waitFor();
    await page.getByText('林小姐，您好！本周新品到店。').first().waitFor();
    expect(new URL(page.url()).hash).toBe('');
    expect(new URL(page.url()).pathname).toBe('/inbox');
    const token = await page.evaluate(() => localStorage.getItem('sop.accessToken'));
    expect((await ctx.http.as(token!).get('/api/auth/me')).body).toMatchObject({ userId: employee.id });
    await screenshot(page, 'wecom-card-inbox-phone-zh');

    // the same card opened in a browser that is not signed in to WeCom as a member: a readable refusal, no session
    const outsider = await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 375, height: 812 }, isMobile: true });
    app.viewer(corp, { openid: 'oWeChatVisitor' });
    const other = await outsider.newPage();
    await other.goto(card.textcard.url);
    await other.locator('#wecom-continue').click();
    await other.getByText('你不是该企业的企业微信成员').waitFor();
    await other.getByText('You are not a member of this organization\'s WeCom').waitFor();
    expect(await other.evaluate(() => localStorage.getItem('sop.accessToken'))).toBeNull();
    await screenshot(other, 'wecom-signin-refused-phone');
    // a link that carries someone else's token in its fragment (login CSRF: the reader would work in the sender's
    // organization) is not taken: no WeCom sign-in in this browser set the cookie with its digest
    const planted = t.admin.headers.authorization.replace(/^Bearer /, '');
    await other.goto(`${ctx.stack.baseUrl}/inbox#access_token=${encodeURIComponent(planted)}`);
    await other.waitForFunction(() => window.location.hash === '');
    expect(await other.evaluate(() => localStorage.getItem('sop.accessToken'))).toBeNull();
    await outsider.close();
    await context.close();
  });
});

import { randomBytes } from 'node:crypto';
import { choose, screenshot, signIn, switchLang, useConsoleStack } from '../support/console';
import { addUser, signupTenant } from '../support/http';
import { serveDirectory, WecomDirectory } from '../support/wecom-directory';
import { newCorp, useWecomServer } from '../support/wecom-server';

/**
 * Issue 16 item 4 in the console: a channel code that is also a WeCom "contact me" QR code, its employees chosen,
 * WeCom's 30-character state checked as typed, and the QR image WeCom hosts (the local WeCom serves one) shown
 * with a download button.
 */
describe('channel codes as WeCom QR codes (Chromium)', () => {
  const env: Record<string, string> = { WECOM_SECRET_KEYS: `e2eqr:${randomBytes(32).toString('hex')}` };
  const local = useWecomServer(env);
  const ctx = useConsoleStack({ env });
  const directories = new Map<string, WecomDirectory>();
  beforeAll(() => {
    serveDirectory(local(), directories);
  });
  jest.setTimeout(120_000);

  it('creates a code with a WeCom QR code for a chosen employee and shows the image WeCom hosts', async () => {
    const t = await signupTenant(ctx.http, 'WeCom QR Console');
    const corp = local().add(newCorp());
    const dir = new WecomDirectory().member({ userid: 'zhangsan', name: '张三' });
    directories.set(corp.corpId, dir);
    expect((await t.admin.put('/api/wecom/connection', corp)).status).toBe(200);
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]);
    const employee = await addUser(t, ctx.http, 'employee', { name: '王小明' });
    await ctx.stack.db.query(`INSERT INTO wecom_users (tenant_id, wecom_user_id, name, user_id, matched_by) VALUES ($1, 'zhangsan', '张三', $2, 'hand')`, [tenantId, employee.id]);

    const context = await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, t.email, t.password);
    await switchLang(page, 'zh');
    await page.goto(`${ctx.stack.baseUrl}/channel-codes`);
    await page.getByRole('button', { name: /新建渠道码/ }).first().click();
    const form = page.getByTestId('code-form');
    await form.getByLabel('名称').fill('门店海报');
    await form.getByTestId('wecom-qr-switch').click();
    // WeCom's limit on state, checked as typed
    await form.getByLabel('渠道码').fill('STORE-POSTER-2026-SHANGHAI-PUDONG');
    await form.getByText('企业微信二维码的渠道码最多 30 个字符').waitFor();
    await form.getByLabel('渠道码').fill('STORE-POSTER-2026');
    await choose(page, form.getByTestId('wecom-users'), '王小明');
    await page.locator('.ant-modal-title').first().click(); // closes the list
    await page.getByTestId('save-code').click();

    const modal = page.getByTestId('qr-modal');
    const image = modal.getByTestId('wecom-qr-image');
    await image.waitFor();
    const [code] = (await t.admin.get('/api/source-codes')).body;
    expect(code.wecomContactWay).toMatchObject({ userIds: [employee.id], wecomUserIds: ['zhangsan'] });
    expect(dir.contactWays.get(code.wecomContactWay.configId)).toMatchObject({ type: 1, scene: 2, state: 'STORE-POSTER-2026', user: ['zhangsan'] });
    expect(await image.getAttribute('src')).toBe(code.wecomContactWay.qrCode);
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="wecom-qr-image"]');
      return Boolean(img && img.complete && img.naturalWidth > 0);
    });
    expect(await modal.getByTestId('wecom-qr-download').getAttribute('href')).toBe(code.wecomContactWay.qrCode);
    await modal.getByText('添加成员：zhangsan').waitFor();
    await screenshot(page, 'channel-codes-wecom-qr-zh');
    await modal.locator('.ant-modal-footer button').click();

    await page.locator('.ant-table-row', { hasText: 'STORE-POSTER-2026' }).getByText('企业微信').waitFor();
    await switchLang(page, 'en');
    await page.locator('.ant-table-row', { hasText: 'STORE-POSTER-2026' }).getByText('WeCom').waitFor();
    await page.locator('.ant-table-row', { hasText: 'STORE-POSTER-2026' }).getByText('门店海报').click();
    await page.getByTestId('qr-modal').getByText('WeCom "contact me" QR code').waitFor();
    await screenshot(page, 'channel-codes-wecom-qr-en');
    await context.close();
  });
});

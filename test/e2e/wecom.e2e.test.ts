import { checkPageInBothLanguages, screenshot, signIn, switchLang, useConsoleStack } from '../support/console';
import { signupTenant } from '../support/http';
import { eventually } from '../support/poll';
import { newCorp, useWecomServer, WecomServer } from '../support/wecom-server';

/** Issue 16: an admin connects WeCom in the console, against a local WeCom that checks the details as WeCom does. */
describe('the WeCom connection page (Chromium)', () => {
  const env: Record<string, string> = {};
  const local = useWecomServer(env);
  const ctx = useConsoleStack({ env });
  jest.setTimeout(120_000);

  it('shows WeCom\'s refusal at its field, connects, shows the callback address and what arrived, disconnects', async () => {
    const t = await signupTenant(ctx.http, 'WeCom Console');
    const corp = local().add(newCorp());
    const context = await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, t.email, t.password);
    await switchLang(page, 'zh');
    await page.getByRole('navigation').first().getByText('企业微信').click();
    await page.getByTestId('wecom-not-connected').waitFor();

    const fill = async (label: string, value: string) => page.getByLabel(label, { exact: true }).fill(value);
    await fill('企业 ID（CorpID）', corp.corpId);
    await fill('自建应用 AgentId', corp.agentId);
    await fill('客户联系 Secret', 'not-the-contact-secret');
    await fill('自建应用 Secret', corp.agentSecret);
    await fill('回调 Token', corp.callbackToken);
    await fill('回调 EncodingAESKey', corp.encodingAesKey);
    await page.getByTestId('wecom-save').click();
    // WeCom's refusal, in Chinese, at the field it names; nothing saved
    await page.locator('.ant-form-item', { hasText: '客户联系 Secret' }).locator('.ant-form-item-explain-error')
      .filter({ hasText: '企业微信拒绝了它（错误码 40001' }).waitFor();
    expect((await t.admin.get('/api/wecom/connection')).status).toBe(404);

    await fill('客户联系 Secret', corp.contactSecret);
    await page.getByTestId('wecom-save').click();
    const callbackUrl = page.getByTestId('wecom-callback-url');
    await callbackUrl.waitFor();
    const url = await callbackUrl.inputValue();
    expect(url).toMatch(/\/api\/wecom\/callback\/[A-Za-z0-9_-]{32}$/);
    // the secrets are gone from the page: only their last 4 characters, as placeholders (the fields are optional now)
    await eventually(async () => expect(await page.locator('#contactSecret').getAttribute('placeholder')).toContain(`…${corp.contactSecret.slice(-4)}`));
    expect(await page.content()).not.toContain(corp.contactSecret);
    await screenshot(page, 'wecom-connected-zh');

    // WeCom calls the address: the page says so
    const { query, body } = WecomServer.delivery(corp, `<xml><ToUserName>${corp.corpId}</ToUserName><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><ExternalUserID>wmE1</ExternalUserID></xml>`);
    expect((await ctx.http.request('POST', `${new URL(url).pathname}?${query}`, body, { 'content-type': 'text/xml' })).body).toBe('success');
    await eventually(async () => {
      await page.reload();
      await page.getByTestId('wecom-status').getByText('近 24 小时事件').waitFor();
      expect(await page.getByTestId('wecom-status').locator('.ant-descriptions-item', { hasText: '近 24 小时事件' }).locator('.ant-descriptions-item-content').textContent()).toBe('1');
    }, 20_000);
    // this stack runs no worker: the event waits, and the page says so (applying it is wecom-events.test.ts)
    expect(await page.getByTestId('wecom-status').locator('.ant-descriptions-item', { hasText: '待处理事件' }).locator('.ant-descriptions-item-content').textContent()).toBe('1');
    expect(await page.getByTestId('wecom-status').locator('.ant-descriptions-item', { hasText: '最近处理' }).locator('.ant-descriptions-item-content').textContent()).toBe('尚未处理');
    await checkPageInBothLanguages(page, 'wecom', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? '企业微信' : 'WeCom' }).waitFor();
    });

    await switchLang(page, 'en');
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.locator('.ant-popconfirm .ant-btn-primary').click();
    await page.getByTestId('wecom-not-connected').waitFor();
    expect((await t.admin.get('/api/wecom/connection')).status).toBe(404);
    await context.close();
  });
});

import { randomUUID } from 'node:crypto';
import { accessibilityProblems, choose, missingTranslations, screenshot, signIn, switchLang, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { signupTenant } from '../support/http';
import { eventually } from '../support/poll';

/** Issue 16 item 5: the designer's "hand to WeCom" option on WeCom channels, with WeCom's monthly limit beside it, in both languages. */
describe('the WeCom mass-send option in the SOP designer (Chromium)', () => {
  jest.setTimeout(120_000);
  const ctx = useConsoleStack();

  it('shows the option on WeCom channels only, says the 4-a-month limit, and saves it', async () => {
    const t = await signupTenant(ctx.http, 'Mass send designer');
    const { tags } = await createTagSystem(t.admin);
    const segment = (await t.admin.post('/api/segments', { name: '高意向客户', rule: { tag: tags.intentHigh.id } })).body;
    const poster = (await t.admin.post('/api/materials', { kind: 'image', title: '新品海报', url: 'https://img.example/poster.png' })).body;
    const sop = (await t.admin.post('/api/sops', { name: '新品通知', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, policies: { businessDaysOnly: false },
      steps: [{ name: '私聊', offsetDays: 0, window: { start: '10:00', end: '12:00' }, channel: 'sms', executor: { rule: 'contactOwner' },
        content: { template: '本周新品上架', materials: [
          { materialId: poster.id, title: poster.title, url: poster.url }, { title: '新品页', url: 'https://shop.example/new' }] } }],
    } })).body;
    const email = `ops-${randomUUID()}@test.example`;
    expect((await t.admin.post('/api/users', { email, name: '运营 小王', role: 'ops', password: 'ops-password-1' })).status).toBe(201);
    const page = await (await ctx.browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1440, height: 1000 } })).newPage();
    await signIn(page, ctx.stack.baseUrl, email, 'ops-password-1');
    await page.goto(`${ctx.stack.baseUrl}/sops/${sop.id}`);

    const option = page.getByTestId('mass-send-0');
    await page.getByTestId('step-0').waitFor();
    expect(await option.count()).toBe(0); // SMS: WeCom cannot take it
    await choose(page, page.getByTestId('step-channel-0'), '企微私聊');
    await option.filter({ hasText: '每位客户每月最多收到 4 条企业群发' }).waitFor();
    expect(await page.getByTestId('material-wecom-0-0').count()).toBe(0); // not handed to WeCom yet: nothing to say
    await option.locator('.ant-switch').click();
    for (const lang of ['en', 'zh'] as const) {
      await switchLang(page, lang);
      await option.filter({ hasText: lang === 'en' ? 'a customer receives at most 4 mass-sends a month' : '每位客户每月最多收到 4 条企业群发' }).waitFor();
      // which material WeCom gets as an image (the library's image) and which as the template's tracked link
      await page.getByTestId('material-wecom-0-0').filter({ hasText: lang === 'en' ? 'Goes as an image' : '作为图片发送' }).waitFor();
      await page.getByTestId('material-wecom-0-1').filter({ hasText: lang === 'en' ? 'Goes as a tracked link' : '作为追踪链接发送' }).waitFor();
      expect(await missingTranslations(page)).toEqual([]);
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, `sop-mass-send-${lang}`);
    }
    await page.getByTestId('sop-save').click();
    await eventually(async () => expect((await t.admin.get(`/api/sops/${sop.id}`)).body.definition.steps[0]).toMatchObject({ channel: 'wecom_chat', wecomMassSend: true }));

    // Moments: the option says what the employee confirms, without the 1:1 limit.
    await choose(page, page.getByTestId('step-channel-0'), '朋友圈');
    await option.filter({ hasText: '交给企业微信朋友圈' }).filter({ hasNotText: '每月最多' }).waitFor();
    await page.context().close();
  });
});

import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import { checkPageInBothLanguages, choose, confirmModal, screenshot, SHOTS, signIn, switchLang, useConsoleStack, visibleModal } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { addUser, Http, signupTenant, type TenantFixture } from '../support/http';
import { eventually } from '../support/poll';

/** Issue 12: the material library in the console, picking a material in a step, and where a running SOP's contacts are. */
describe('the material library in a real browser (Chromium)', () => {
  jest.setTimeout(240_000);
  const ctx = useConsoleStack({ worker: true });

  /** An ops user who reads times in London while the SOPs keep Shanghai time. */
  async function opsPage(t: TenantFixture): Promise<Page> {
    const email = `ops-${randomUUID()}@test.example`;
    expect((await t.admin.post('/api/users', { email, name: '运营 小李', role: 'ops', password: 'ops-password-1' })).status).toBe(201);
    const login = await ctx.http.post('/api/auth/login', { email, password: 'ops-password-1' });
    const ops = new Http(ctx.stack.baseUrl).as(login.body.accessToken);
    expect((await ops.put('/api/me/notification-preferences', { timezone: 'Europe/London' })).status).toBe(200);
    const context = await ctx.browser.newContext({ locale: 'zh-CN', timezoneId: 'Europe/London', viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, email, 'ops-password-1');
    return page;
  }

  it('adds a material, picks it in a step, shows its use, republishes on an edit, and shows where contacts are, with both zones', async () => {
    const t = await signupTenant(ctx.http, 'Library Org');
    const { tags } = await createTagSystem(t.admin);
    const employee = await addUser(t, ctx.http, 'employee', { name: '王芳' });
    for (const [i, name] of ['张伟', '李娜'].entries()) {
      await t.admin.post('/api/contacts', { externalId: `m${i}`, name, ownerId: employee.id, tags: [tags.intentHigh.id] });
    }
    await t.admin.post('/api/segments', { name: '高意向客户', rule: { tag: tags.intentHigh.id } });
    await t.admin.post('/api/materials', { kind: 'article', title: '品牌故事 Brand story', url: 'https://shop.example/story', folder: '品牌 Brand' });
    const page = await opsPage(t);

    // The library: add a coupon in a new folder, with the tag it gives.
    await page.goto(`${ctx.stack.baseUrl}/materials`);
    await page.getByTestId('new-material').click();
    await choose(page, page.getByTestId('material-kind'), '优惠券');
    await page.getByTestId('material-title').fill('新品券');
    await page.getByTestId('material-url').fill('http://shop.example/coupon');
    await page.getByTestId('material-folder').locator('input').fill('促销');
    await choose(page, page.getByTestId('material-tags'), 'Product B');
    await page.keyboard.press('Escape');
    await page.getByTestId('material-save').click();
    await page.locator('.ant-form-item-explain-error').filter({ hasText: 'https' }).waitFor(); // the API's URL rule, at the field
    await page.getByTestId('material-url').fill('https://shop.example/coupon');
    await page.getByTestId('material-save').click();
    await page.getByTestId('material-row-新品券').waitFor();
    const [coupon] = (await t.admin.get('/api/materials?q=新品券')).body.items;
    expect(coupon).toMatchObject({ kind: 'coupon', folder: '促销', url: 'https://shop.example/coupon', tagIds: [tags.productB.id] });
    await page.getByTestId('material-search').locator('input').fill('品牌');
    await page.getByTestId('material-search').locator('input').press('Enter');
    await eventually(async () => expect(await page.getByTestId('material-row-新品券').count()).toBe(0));
    await page.getByTestId('material-row-品牌故事 Brand story').waitFor();
    await page.getByTestId('material-search').locator('input').fill('');
    await page.getByTestId('material-search').locator('input').press('Enter');
    await checkPageInBothLanguages(page, 'material-library', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? '素材库' : 'Material library' }).waitFor();
      await page.getByTestId('material-row-新品券').waitFor();
    });
    await switchLang(page, 'zh');

    // The welcome journey's first step picks the coupon from the library instead of a pasted URL.
    await page.goto(`${ctx.stack.baseUrl}/sops/new?template=welcome`);
    await page.getByTestId('step-2').waitFor();
    await choose(page, page.getByTestId('audience-segment'), '高意向客户');
    await page.getByTestId('pick-material-0').click();
    await visibleModal(page).getByTestId('pick-新品券').click();
    await page.getByTestId('material-0-0').filter({ hasText: '新品券' }).waitFor();
    await page.locator('.ant-form-item', { hasText: '启动时现有成员也进入' }).locator('.ant-switch').click(); // the two contacts enter
    await page.getByTestId('sop-check').filter({ hasText: '检查通过' }).waitFor();
    await page.getByTestId('sop-save').click();
    await page.waitForURL(/\/sops\/[0-9a-f-]{36}$/);
    const sopId = page.url().split('/').pop()!;
    const saved = (await t.admin.get(`/api/sops/${sopId}`)).body;
    expect(saved.definition.steps[0].content.materials).toEqual([
      { materialId: coupon.id, title: '新品券', url: 'https://shop.example/coupon', tagIds: [tags.productB.id] }]);
    expect((await t.admin.post(`/api/sops/${sopId}/activate`)).status).toBe(200);

    // The running SOP's page: where its contacts are, and its times in Shanghai and in London.
    await page.reload();
    await page.getByTestId('sop-progress').waitFor();
    // The worker enrolls the two contacts and makes their day-0 tasks; the page shows them once reloaded after that
    // (a reload in a loop with a 3 s wait for the page ran out of tries at a load of 10).
    await eventually(async () => expect((await t.admin.get(`/api/sops/${sopId}/progress`)).body.steps[0].entered).toBe(2), 60_000);
    await page.reload();
    await page.getByTestId('progress-step-0').filter({ hasText: '1. ' }).waitFor();
    await page.getByTestId('sop-progress').filter({ hasText: '进行中 2' }).waitFor();
    await page.getByTestId('version-times').getByTestId('viewer-time').filter({ hasText: 'Europe/London' }).first().waitFor();
    await page.getByTestId('version-times').filter({ hasText: 'Asia/Shanghai' }).waitFor();
    await screenshot(page, 'sop-designer-materials-zh');
    await page.getByTestId('step-0').screenshot({ path: join(SHOTS, 'sop-step-material-zh.png') });
    await page.getByTestId('sop-progress').screenshot({ path: join(SHOTS, 'sop-progress-zh.png') });

    // The material shows where it is used; editing it asks whether to publish a new version of the running SOP.
    await page.goto(`${ctx.stack.baseUrl}/materials`);
    await page.getByTestId('material-row-新品券').click();
    const detail = page.getByTestId('material-detail');
    await detail.getByTestId('material-usage').filter({ hasText: '新客欢迎' }).filter({ hasText: 'v1' }).waitFor();
    await page.getByTestId('material-edit').click();
    await page.getByTestId('material-url').fill('https://shop.example/coupon-2');
    await page.getByTestId('material-save').click();
    await confirmModal(page, page.getByTestId('republish-question').filter({ hasText: '新客欢迎' }));
    // the republication goes through Temporal (the running SOP takes its new version): seconds on a busy machine
    await eventually(async () => expect((await t.admin.get(`/api/sops/${sopId}`)).body.currentVersion).toBe(2), 30_000);
    const v2 = (await t.admin.get(`/api/sops/${sopId}/versions/2`)).body.definition.steps[0].content.materials[0];
    expect(v2.url).toBe('https://shop.example/coupon-2');
    await page.getByTestId('material-row-新品券').click();
    await page.getByTestId('material-usage').filter({ hasText: 'v2' }).waitFor();
    await page.waitForFunction(() => document.getAnimations().length === 0); // the drawer has slid in
    await screenshot(page, 'material-detail-zh');

    // In English too.
    await page.keyboard.press('Escape'); // the drawer covers the header's language switch
    await page.getByTestId('material-detail').waitFor({ state: 'detached' });
    await switchLang(page, 'en');
    await page.getByTestId('material-row-新品券').click();
    await page.getByTestId('material-usage').filter({ hasText: 'working copy' }).waitFor();
    await page.keyboard.press('Escape');
    await page.goto(`${ctx.stack.baseUrl}/sops/${sopId}`);
    await page.getByTestId('sop-progress').filter({ hasText: '2 in progress' }).waitFor();
    await page.getByTestId('version-times').filter({ hasText: 'your zone Europe/London' }).first().waitFor();
    await page.getByTestId('material-0-0').filter({ hasText: 'Library' }).waitFor();
    await switchLang(page, 'zh');
  });
});

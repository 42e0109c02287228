import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { checkPageInBothLanguages, choose, screenshot, signIn, switchLang } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { Http, signupTenant, type TenantFixture } from '../support/http';
import { Stack } from '../support/stack';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * An operations manager brings customers in: imports a CSV (watching it run, reading the refused rows),
 * makes a channel code with its QR code (and a customer arrives through its link), and sets up a computed
 * tag rule and a response rule, each refusal of the API shown where it belongs. Checked in the page and
 * through the API, in Chinese and English.
 */
describe('import, channel codes, computed tags and response rules in a real browser (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  let http: Http;
  let t: TenantFixture;
  let tags: Awaited<ReturnType<typeof createTagSystem>>['tags'];
  let spendTiers: { id: string; name: string; tags: { id: string; name: string }[] };
  let ops: { id: string; email: string; password: string };
  let owner: { id: string; name: string; email: string };
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    stack = await Stack.start();
    browser = await launchBrowser();
    http = new Http(stack.baseUrl);
    t = await signupTenant(http, '鲜花小铺 Flower Shop');
    ({ tags } = await createTagSystem(t.admin));
    const group = (await t.admin.post('/api/tag-groups', { name: '消费分层', exclusive: true })).body;
    const tier = async (name: string) => (await t.admin.post('/api/tags', { groupId: group.id, name, kind: 'computed' })).body;
    spendTiers = { ...group, tags: [await tier('高消费'), await tier('中消费'), await tier('低消费')] };
    const person = async (role: string, name: string) => {
      const email = `${role}-${randomUUID()}@test.example`;
      const password = `pw-${randomUUID()}`;
      const res = await t.admin.post('/api/users', { email, name, role, password });
      expect(res.status).toBe(201);
      return { id: res.body.id as string, email, password, name };
    };
    ops = await person('ops', '运营 小周');
    owner = await person('employee', '王小明');
    context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    await signIn(page, stack.baseUrl, ops.email, ops.password);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.stop();
  });

  /** Picks an option in the dropdown that is open now. */
  const pick = (text: string | RegExp) => page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: text }).first().click();
  const saved = async (file: Promise<import('playwright-core').Download>) => readFileSync((await (await file).path())!);

  it('imports a CSV dropped in the page: progress to the end, counts, the 3 refused rows with row and reason, downloadable', async () => {
    const existing = await t.admin.post('/api/contacts', { externalId: 'wx_old_0001', name: '老客户' });
    expect(existing.status).toBe(201);
    const header = 'external_id,name,phone,email,owner_email,tags,order_count,spend_30d,last_order_at,attr.city';
    const good = Array.from({ length: 1500 }, (_, i) => `wx_bulk_${i},客户${i},1380000${String(i).padStart(4, '0')},,,,${i % 5},${(i % 7) * 200},2026-10-0${1 + (i % 9)},上海`);
    const lines = [
      header,
      `wx_zhangwei,张伟,13800138000,zhangwei@example.com,${owner.email},Purchase intent 购买意向:High 高|Product A,3,1288.50,2026-11-11T20:15:00+08:00,上海`, // row 2
      'wx_lina,李娜,13900139000,lina@example,,,1,0,,北京', // row 3: bad email
      'wx_old_0001,老客户 陈静,,,,Product B,2,300,2026-09-02,杭州', // row 4: updates the existing contact
      'wx_liuyang,刘洋,,,,Product Z,0,0,,深圳', // row 5: unknown tag
      ...good, // rows 6-1505
      'wx_yangl,杨磊,,,,,-2,0,,广州', // row 1506: negative order count
    ];
    await page.goto(`${stack.baseUrl}/imports`);
    await page.getByRole('heading', { name: '导入客户' }).waitFor();
    // Record every percentage the bar shows, from the moment the file is dropped.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __progress: string[] }).__progress = seen;
      new MutationObserver(() => {
        const now = document.querySelector('[data-testid=import-progress][role=progressbar]')?.getAttribute('aria-valuenow');
        if (now && seen[seen.length - 1] !== now) seen.push(now);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.locator('input[type=file]').setInputFiles({ name: '双11客户名单.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
    await page.getByTestId('import-status').filter({ hasText: '导入完成' }).waitFor({ timeout: 60_000 });
    const progress = await page.evaluate(() => (window as unknown as { __progress: string[] }).__progress);
    expect(progress[0]).toBe('0');
    expect(progress[progress.length - 1]).toBe('100');
    await expect(page.getByTestId('import-status').textContent()).resolves.toContain('3 行有问题未导入');
    const stat = (id: string) => page.getByTestId(id).locator('.ant-statistic-content-value').textContent();
    expect(await stat('count-created')).toBe('1,501');
    expect(await stat('count-updated')).toBe('1');
    expect(await stat('count-failed')).toBe('3');

    const errorRows = await page.getByTestId('import-errors').locator('tbody tr.ant-table-row').allTextContents();
    expect(errorRows).toHaveLength(3);
    expect(errorRows[0]).toMatch(/^3email · 邮箱不是有效的邮箱地址$/);
    expect(errorRows[1]).toMatch(/^5tags · 标签标签“Product Z”不存在/);
    expect(errorRows[2]).toMatch(/^1506order_count · 订单数必须是大于等于 0 的整数$/);

    // What the API holds: the good rows with their tags and owner, the update, and none of the refused rows.
    const one = async (q: string) => (await t.admin.get(`/api/contacts?q=${encodeURIComponent(q)}`)).body.items;
    const [zhang] = await one('wx_zhangwei');
    expect(zhang).toMatchObject({ name: '张伟', ownerId: owner.id, orderCount: 3, spend30d: 1288.5, attributes: { city: '上海' } });
    expect(zhang.tags.map((x: { id: string }) => x.id).sort()).toEqual([tags.intentHigh.id, tags.productA.id].sort());
    expect((await one('wx_old_0001'))[0]).toMatchObject({ id: existing.body.id, name: '老客户 陈静', orderCount: 2 });
    expect(await one('wx_bulk_1499')).toHaveLength(1);
    for (const refused of ['wx_lina', 'wx_liuyang', 'wx_yangl']) expect(await one(refused)).toEqual([]);
    const imports = (await t.admin.get('/api/imports')).body;
    expect(imports[0]).toMatchObject({ fileName: '双11客户名单.csv', status: 'completed', createdRows: 1501, updatedRows: 1, errorRows: 3, createdByName: '运营 小周' });

    // The problems as a CSV Excel opens with Chinese intact.
    const problems = await saved(Promise.all([page.waitForEvent('download'), page.getByTestId('download-errors').click()]).then(([d]) => d));
    expect([...problems.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const problemLines = problems.toString('utf8').slice(1).trim().split('\r\n');
    expect(problemLines[0]).toBe('行号,列,原因');
    expect(problemLines.slice(1).map((l) => l.split(',')[0])).toEqual(['3', '5', '1506']);
    expect(problemLines[2]).toContain('Product Z');

    // The recent list names the file; the sample is this organization's own and imports as it is.
    await page.locator('.ant-card', { hasText: '最近导入' }).getByText('双11客户名单.csv').waitFor();
    const [sampleDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-sample').click()]);
    expect(sampleDownload.suggestedFilename()).toBe('客户导入模板.csv');
    const sample = readFileSync((await sampleDownload.path())!, 'utf8');
    const sampleLines = sample.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(sampleLines[0]).toBe('external_id,name,phone,email,owner_email,timezone,tags,order_count,total_spend,spend_30d,last_order_at,last_contacted_at,last_responded_at,attr.city,attr.member_level');
    expect(sampleLines[1]).toContain('张伟');
    expect(sampleLines[1]).toContain(ops.email);
    const sampleImport = await t.admin.request('POST', '/api/imports/contacts', sample, { 'content-type': 'text/csv' });
    expect(sampleImport.body).toMatchObject({ status: 'completed', importedRows: 3, errorRows: 0 });

    await checkPageInBothLanguages(page, 'import', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? '问题明细' : 'Row problems' }).waitFor();
    });
    await switchLang(page, 'zh');
  }, 120_000);

  it('creates a channel code with a tag and an owner, shows its QR code and join link, and a customer arrives through it', async () => {
    await page.goto(`${stack.baseUrl}/channel-codes`);
    await page.getByText('还没有渠道码').waitFor();
    await page.getByRole('button', { name: /新建渠道码/ }).first().click();
    const form = page.getByTestId('code-form');
    await form.getByLabel('名称').fill('小红书双11广告');
    await form.getByLabel('渠道码').fill('XHS 双11');
    await form.getByText('只能用字母、数字、_ . -，最多 64 个字符').waitFor(); // checked as typed
    await form.getByLabel('渠道码').fill('XHS-2026-DOUBLE11');
    await form.getByLabel('到达时打标签').click();
    // picked again until it shows as chosen: under load a click while the list still opens can miss (seen once)
    const chosen = page.locator('.ant-select-dropdown:visible .ant-select-item-option-selected', { hasText: 'Product A' });
    for (let tries = 0; tries < 3 && !(await chosen.isVisible()); tries++) {
      await pick('Product A');
      await chosen.waitFor({ timeout: 5000 }).catch(() => undefined);
    }
    await chosen.waitFor();
    await page.locator('.ant-modal-title').click(); // closes the list
    await form.getByLabel('新客户负责人').click();
    await form.getByLabel('新客户负责人').fill('王小明');
    await pick('王小明');
    await page.getByTestId('save-code').click();

    // Saved, and its QR code opens at once: a real PNG of the API's join link.
    const modal = page.getByTestId('qr-modal');
    await modal.getByTestId('qr-image').waitFor();
    const [code] = (await t.admin.get('/api/source-codes')).body;
    expect(code).toMatchObject({ code: 'XHS-2026-DOUBLE11', name: '小红书双11广告', tagIds: [tags.productA.id], ownerId: owner.id });
    expect(code.joinUrl).toBe(`${stack.baseUrl}/j/${code.id}`);
    expect(await modal.getByTestId('join-link').textContent()).toBe(code.joinUrl);
    const src = (await modal.getByTestId('qr-image').getAttribute('src'))!;
    expect(src.startsWith('data:image/png;base64,')).toBe(true);
    const png = Buffer.from(src.slice('data:image/png;base64,'.length), 'base64');
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.length).toBeGreaterThan(2000);
    expect(await modal.getByTestId('qr-image').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640);
    const [pngDownload] = await Promise.all([page.waitForEvent('download'), modal.getByTestId('qr-download').click()]);
    expect(pngDownload.suggestedFilename()).toBe('XHS-2026-DOUBLE11.png');
    expect(readFileSync((await pngDownload.path())!).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    await screenshot(page, 'channel-codes-qr-zh');
    await modal.locator('.ant-modal-footer button').click();

    // The link's page on a phone: the customer leaves a number and arrives tagged and owned.
    const phone = await browser.newContext({ locale: 'zh-CN', viewport: { width: 375, height: 740 } });
    const customer = await phone.newPage();
    await customer.goto(code.joinUrl);
    await customer.getByLabel('称呼（选填）').fill('林小姐');
    await customer.getByLabel('手机号').fill('139 1234 5678');
    await customer.getByLabel(/我同意/).check();
    await screenshot(customer, 'channel-code-join-page-zh');
    await customer.getByRole('button', { name: '提交' }).click();
    await customer.getByRole('heading', { name: '提交成功' }).waitFor();
    await phone.close();
    const [arrived] = (await t.admin.get('/api/contacts?q=phone:13912345678')).body.items;
    expect(arrived).toMatchObject({ name: '林小姐', ownerId: owner.id });
    expect(arrived.tags.map((x: { id: string }) => x.id)).toEqual([tags.productA.id]);

    await page.reload(); // without the notices
    await page.locator('.ant-table-row', { hasText: 'XHS-2026-DOUBLE11' }).filter({ hasText: '王小明' }).filter({ hasText: 'Product A' }).waitFor();
    await checkPageInBothLanguages(page, 'channel-codes', async (lang) => {
      await page.getByRole('columnheader', { name: lang === 'zh' ? '到达时打标签' : 'Tags on arrival' }).waitFor();
      await page.locator('.ant-table-row img').first().waitFor();
    });
    await switchLang(page, 'zh');
  }, 120_000);

  it('builds a computed tag rule in tiers without JSON; a condition the API refuses is shown at that condition', async () => {
    await page.goto(`${stack.baseUrl}/computed-tags`);
    await page.getByText('还没有计算标签规则').waitFor();
    await page.getByRole('button', { name: /新建计算规则/ }).first().click();
    const drawer = page.locator('.ant-drawer-section');
    await drawer.getByLabel('规则名称').fill('近30天消费分层');
    await drawer.getByLabel('标签分组').click();
    await pick('消费分层');
    await drawer.getByRole('button', { name: '近30天消费分层' }).click(); // the template: three tiers on the group's tags in order
    await expect(drawer.locator('[data-testid^=case-]').count()).resolves.toBe(3);

    // A mistake: the first tier also asks for a city "less than" a word.
    const first = drawer.getByTestId('case-0');
    await first.getByRole('button', { name: /添加条件$/ }).click();
    const attribute = first.locator('.rule-row').last();
    await attribute.locator('.rule-kind').click();
    await pick('客户属性');
    await attribute.getByLabel('属性名，如 city').fill('city');
    await attribute.locator('.ant-select').nth(1).click();
    await pick(/^小于$/);
    await attribute.getByLabel('值').fill('上海');
    await page.getByTestId('save-computed').click();
    await attribute.locator('.rule-problem').first().waitFor();
    await expect(attribute.locator('.rule-problem').first().textContent()).resolves.toBe('必须是数字');
    expect((await t.admin.get('/api/computed-tags')).body).toEqual([]);
    await screenshot(page, 'computed-tags-refused-zh');

    await attribute.getByRole('button', { name: '删除' }).click();
    await page.getByTestId('save-computed').click();
    await page.getByText(/规则已保存，\d+ 位客户的标签随之更新/).waitFor();
    const [rule] = (await t.admin.get('/api/computed-tags')).body;
    expect(rule).toMatchObject({ name: '近30天消费分层', groupId: spendTiers.id });
    expect(rule.cases).toEqual([
      { tagId: spendTiers.tags[0].id, when: { all: [{ metric: { name: 'spend30d', op: 'gte', value: 1000 } }] } },
      { tagId: spendTiers.tags[1].id, when: { all: [{ metric: { name: 'spend30d', op: 'gte', value: 300 } }] } },
      { tagId: spendTiers.tags[2].id, when: { all: [{ metric: { name: 'spend30d', op: 'gt', value: 0 } }] } },
    ]);
    // Applied to everyone at once: 张伟 spent 1288.50 in 30 days, so is 高消费.
    const [zhang] = (await t.admin.get('/api/contacts?q=wx_zhangwei')).body.items;
    expect(zhang.tags.map((x: { name: string }) => x.name)).toContain('高消费');

    await page.reload(); // without the notices
    await page.locator('.ant-table-row', { hasText: '近30天消费分层' }).waitFor();
    await checkPageInBothLanguages(page, 'computed-tags', async (lang) => {
      await page.getByText(lang === 'zh' ? '近 30 天消费 ≥ 1000' : 'Spend (30 days) ≥ 1000').waitFor();
    });
    await switchLang(page, 'zh');
  }, 120_000);

  it('creates a response rule; two tags of one exclusive group are refused by the API at the tags field', async () => {
    await page.goto(`${stack.baseUrl}/response-rules`);
    await page.getByText('还没有响应规则').waitFor();
    await page.getByRole('button', { name: /新建响应规则/ }).first().click();
    const drawer = page.locator('.ant-drawer-section');
    await drawer.getByLabel('规则名称').fill('有意向客户打高意向');
    // each pick is checked to have taken (a click while a list still opens can miss under load)
    await choose(page, drawer.getByLabel('跟进结果'), '有兴趣');
    const add = drawer.getByLabel('打上标签');
    await choose(page, add, 'High 高');
    await choose(page, add, 'Low 低');
    await page.locator('.ant-drawer-title').click(); // closes the list
    await page.getByTestId('save-response-rule').click();
    const addField = drawer.locator('.ant-form-item', { has: page.getByText('打上标签', { exact: true }) });
    await addField.getByText('互斥分组“Purchase intent 购买意向”只能打一个标签').waitFor();
    expect((await t.admin.get('/api/response-rules')).body).toEqual([]);
    await screenshot(page, 'response-rules-refused-zh');

    // Fixed: Low comes off, Product B is removed instead; the weight scores the intent.
    await addField.locator('.ant-tag', { hasText: 'Low 低' }).locator('.ant-tag-close-icon').click();
    await drawer.getByLabel('去掉标签').fill('Product B');
    await page.keyboard.press('Enter');
    await drawer.getByLabel('权重').fill('80');
    await page.getByTestId('save-response-rule').click();
    await page.getByText('规则已保存').waitFor();
    const [rule] = (await t.admin.get('/api/response-rules')).body;
    expect(rule).toMatchObject({
      name: '有意向客户打高意向', enabled: true,
      when: { kind: 'outcome', outcome: 'interested' },
      then: { addTagIds: [tags.intentHigh.id], removeTagIds: [tags.productB.id], weight: 80 },
    });

    await page.reload(); // without the notices
    await page.locator('.ant-table-row', { hasText: '有意向客户打高意向' }).waitFor();
    await checkPageInBothLanguages(page, 'response-rules', async (lang) => {
      await page.getByText(lang === 'zh' ? '员工记录跟进结果' : 'An employee records an outcome').waitFor();
    });
  }, 120_000);
});

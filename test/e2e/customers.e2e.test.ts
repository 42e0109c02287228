import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { checkPageInBothLanguages, choose, confirmPopconfirm, pick, signIn, switchLang, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { Http, signupTenant, type TenantFixture } from '../support/http';
import { eventually } from '../support/poll';

/** The customer side for operations: tags, contacts and their page, customer groups, computed tags and response rules. */
describe('the customer screens in a real browser (Chromium)', () => {
  const ctx = useConsoleStack();

  const modal = (page: Page) => page.locator('.ant-modal:visible');
  async function opsSession(t: TenantFixture) {
    const email = `ops-${randomUUID()}@test.example`;
    expect((await t.admin.post('/api/users', { email, name: '运营 小王', role: 'ops', password: 'ops-password-1' })).status).toBe(201);
    const context = await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, email, 'ops-password-1');
    return { page, context };
  }

  it('builds the tag system, refuses to delete a tag a segment uses (naming it), searches, filters and bulk-tags contacts, edits a contact', async () => {
    const t = await signupTenant(new Http(ctx.stack.baseUrl), 'Customers Org');
    const { tags } = await createTagSystem(t.admin);
    const people = [['张伟', '13900000001', [tags.intentHigh.id]], ['李娜', '13900000002', [tags.productA.id]], ['王芳', '13900000003', []]] as const;
    const ids: Record<string, string> = {};
    for (const [i, [name, phone, tagIds]] of people.entries()) {
      ids[name] = (await t.admin.post('/api/contacts', { externalId: `cu${i}`, name, phone, tags: tagIds, attributes: { city: '上海' } })).body.id;
    }
    await t.admin.post('/api/segments', { name: '高意向客户', rule: { tag: tags.intentHigh.id } });
    const { page, context } = await opsSession(t);

    // Tags: a new group and a tag in it; a tag a segment uses cannot be deleted, and the refusal says which.
    await page.goto(`${ctx.stack.baseUrl}/tags`);
    await page.getByRole('button', { name: /新建标签组/ }).click();
    await modal(page).getByLabel('标签组名称').fill('生命周期');
    await modal(page).locator('.ant-modal-footer .ant-btn-primary').click();
    const lifecycle = page.locator('[data-tag-group="生命周期"]');
    await lifecycle.getByRole('button', { name: /添加标签/ }).click();
    await modal(page).getByLabel('标签名称').fill('新客');
    await modal(page).locator('.ant-modal-footer .ant-btn-primary').click();
    await lifecycle.locator('[data-tag="新客"]').waitFor();
    expect((await t.admin.get('/api/tag-groups')).body.find((g: { name: string }) => g.name === '生命周期').tags.map((x: { name: string }) => x.name)).toEqual(['新客']);
    const refused = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes('/api/tags/'), { timeout: 70_000 });
    await confirmPopconfirm(page, page.locator('[data-tag="High 高"]').getByRole('button'), '删除标签“High 高”？');
    expect((await refused).status()).toBe(409);
    // the refusal in the console's language only: the segment by its Chinese kind word and name, no API English
    const refusal = page.locator('.ant-message-notice', { hasText: '高意向客户' });
    await refusal.waitFor();
    expect((await refusal.innerText()).trim()).toBe('不能删除：分群「高意向客户」正在使用它');
    // gone before the page is shown in both languages, so the English screenshot holds no Chinese toast
    await refusal.waitFor({ state: 'detached', timeout: 15_000 });
    await checkPageInBothLanguages(page, 'tags', async () => { await lifecycle.waitFor(); });
    await switchLang(page, 'zh');

    // Contacts: search by phone and by external id; filter by a tag; bulk-tag a selection.
    await page.goto(`${ctx.stack.baseUrl}/contacts`);
    const names = () => page.locator('.ant-table-tbody tr.ant-table-row td:nth-child(2)').allTextContents();
    await eventually(async () => expect((await names()).sort()).toEqual(['张伟', '李娜', '王芳'].sort()));
    await page.getByTestId('contact-search').locator('input').fill('13900000002');
    await page.getByTestId('contact-search').locator('input').press('Enter');
    await eventually(async () => expect(await names()).toEqual(['李娜']));
    await page.getByTestId('contact-search').locator('input').fill('cu2');
    await page.getByTestId('contact-search').locator('input').press('Enter');
    await eventually(async () => expect(await names()).toEqual(['王芳']));
    await page.getByTestId('contact-search').locator('input').fill('');
    await page.getByTestId('contact-search').locator('input').press('Enter');
    await choose(page, page.getByTestId('contact-tag-filter'), 'Product A');
    await page.keyboard.press('Escape');
    await eventually(async () => expect(await names()).toEqual(['李娜']));
    await page.getByTestId('contact-tag-filter').locator('.ant-select-clear').click({ force: true });
    await eventually(async () => expect((await names()).length).toBe(3));
    await page.getByRole('row', { name: /王芳/ }).getByRole('checkbox').check();
    await page.getByRole('row', { name: /张伟/ }).getByRole('checkbox').check();
    await choose(page, page.getByTestId('bulk-add'), 'Product B');
    await page.keyboard.press('Escape');
    await page.getByTestId('bulk-apply').click();
    await eventually(async () => {
      const tagged = (await t.admin.get(`/api/contacts?tagIds=${tags.productB.id}`)).body.items.map((c: { name: string }) => c.name).sort();
      expect(tagged).toEqual(['张伟', '王芳'].sort());
    });
    await checkPageInBothLanguages(page, 'contacts', async () => { await page.getByRole('link', { name: '李娜' }).waitFor(); });
    await switchLang(page, 'zh');

    // A contact's page: add a tag; the timeline shows it.
    await page.getByRole('link', { name: '李娜' }).click();
    await page.getByRole('heading', { name: '李娜' }).waitFor();
    await page.getByRole('button', { name: '编辑标签' }).click();
    await choose(page, page.getByTestId('contact-tags-edit'), 'High 高');
    await page.keyboard.press('Escape');
    await page.getByTestId('contact-tags-save').click();
    await page.getByTestId('contact-timeline').locator('.ant-timeline-item', { hasText: '打上标签 · High 高' }).waitFor();
    const li = (await t.admin.get(`/api/contacts/${ids['李娜']}`)).body;
    expect(li.tags.map((x: { name: string }) => x.name).sort()).toEqual(['High 高', 'Product A']);
    await checkPageInBothLanguages(page, 'contact', async () => { await page.getByTestId('contact-timeline').waitFor(); });
    await context.close();
  });

  it('creates a customer group and adds a member; saves a computed tag and a response rule, refusing a bad one at its field', async () => {
    const t = await signupTenant(new Http(ctx.stack.baseUrl), 'Rules Org');
    const { tags } = await createTagSystem(t.admin);
    const zhang = (await t.admin.post('/api/contacts', { externalId: 'g1', name: '张伟', phone: '13700000001' })).body;
    const value = (await t.admin.post('/api/tag-groups', { name: '客户价值', exclusive: true })).body;
    const high = (await t.admin.post('/api/tags', { groupId: value.id, name: '高价值', kind: 'computed' })).body;
    const { page, context } = await opsSession(t);

    await page.goto(`${ctx.stack.baseUrl}/groups`);
    await page.getByRole('button', { name: /新建客户群/ }).click();
    await modal(page).getByLabel('群名称').fill('南京路店 VIP 群');
    await modal(page).locator('.ant-modal-footer .ant-btn-primary').click();
    await page.getByRole('button', { name: '南京路店 VIP 群' }).click();
    await page.getByTestId('group-add-member').click();
    await page.keyboard.type('张伟');
    await pick(page, '张伟');
    await page.locator('.ant-drawer').locator('.ant-list-item', { hasText: '张伟' }).waitFor();
    const group = (await t.admin.get('/api/groups')).body.items[0];
    expect(group).toMatchObject({ name: '南京路店 VIP 群', memberCount: 1 });
    expect((await t.admin.post('/api/segments/preview', { rule: { group: { any: [group.id] } } })).body.sample[0].id).toBe(zhang.id);
    // Close the members drawer with its own button (Escape may only close the member picker's list).
    await page.locator('.ant-drawer .ant-drawer-close').click();
    await page.locator('.ant-drawer-open').waitFor({ state: 'hidden' });
    await checkPageInBothLanguages(page, 'groups', async () => { await page.getByRole('button', { name: '南京路店 VIP 群' }).waitFor(); });
    await switchLang(page, 'zh');

    // Computed tag: total spend at least 0 → 高价值 (everyone), saved without writing JSON.
    await page.goto(`${ctx.stack.baseUrl}/computed-tags`);
    await page.getByRole('button', { name: /新建计算规则/ }).first().click();
    const drawer = page.locator('.ant-drawer-section');
    await drawer.getByLabel('规则名称').fill('消费分层');
    await choose(page, drawer.getByLabel('标签分组'), '客户价值');
    await choose(page, drawer.getByLabel('打标签'), '高价值');
    await drawer.getByTestId('case-0').getByLabel('值').fill('0'); // spend (30 days) ≥ 0: everyone
    await page.getByTestId('save-computed').click();
    await page.getByRole('cell', { name: '消费分层' }).waitFor();
    await eventually(async () => expect((await t.admin.get(`/api/contacts/${zhang.id}`)).body.tags.map((x: { id: string }) => x.id)).toContain(high.id));
    await checkPageInBothLanguages(page, 'customers-computed-tags', async () => { await page.getByRole('cell', { name: '消费分层' }).waitFor(); });
    await switchLang(page, 'zh');

    // Response rule: "interested" → High; first without a name (refused in the form), then saved.
    await page.goto(`${ctx.stack.baseUrl}/response-rules`);
    await page.getByRole('button', { name: /新建响应规则/ }).first().click();
    const ruleDrawer = page.locator('.ant-drawer-section');
    await page.getByTestId('save-response-rule').click();
    await ruleDrawer.locator('.ant-form-item-explain-error', { hasText: '请输入规则名称' }).waitFor();
    await ruleDrawer.getByLabel('规则名称').fill('有兴趣 → 高意向');
    await choose(page, ruleDrawer.getByLabel('跟进结果'), '有兴趣');
    await choose(page, ruleDrawer.getByLabel('打上标签'), 'High 高');
    await ruleDrawer.locator('.ant-drawer-title').click(); // closes the list
    await page.getByTestId('save-response-rule').click();
    await page.getByRole('cell', { name: '有兴趣 → 高意向', exact: true }).waitFor();
    const rule = (await t.admin.get('/api/response-rules')).body[0];
    expect(rule).toMatchObject({ name: '有兴趣 → 高意向', enabled: true, when: { kind: 'outcome', outcome: 'interested' }, then: { addTagIds: [tags.intentHigh.id] } });
    await checkPageInBothLanguages(page, 'customers-response-rules', async () => { await page.getByRole('cell', { name: '有兴趣 → 高意向', exact: true }).waitFor(); });
    await context.close();
  });
});

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { checkPageInBothLanguages, choose, pick, screenshot, signIn, switchLang, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { Http, signupTenant } from '../support/http';
import { eventually } from '../support/poll';

/** An operations manager builds a segment in the rule editor, watching the live count, then saves and exports it. */
describe('the segment builder in a real browser (Chromium)', () => {
  const ctx = useConsoleStack();

  const count = (page: Page) => page.getByTestId('segment-count').locator('.ant-statistic-content-value').textContent();

  it('shows the count change as predicates are added, a refusal at its predicate, saves, lists and exports the members', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Segment Org');
    const { tags } = await createTagSystem(t.admin);
    const people = [
      ['张伟', [tags.intentHigh.id, tags.productA.id], 1200], ['李娜', [tags.intentHigh.id], 80], ['王芳', [tags.intentHigh.id, tags.productB.id], 300],
      ['刘洋', [tags.intentLow.id, tags.productA.id], 0], ['陈静', [tags.intentLow.id], 50], ['杨磊', [tags.productA.id], 0],
    ] as const;
    for (const [i, [name, tagIds, spend]] of people.entries()) {
      const c = await t.admin.post('/api/contacts', { externalId: `c${i}`, name, tags: tagIds, attributes: { city: i % 2 ? '上海' : '北京' } });
      expect(c.status).toBe(201);
      if (spend) await ctx.stack.db.query(`UPDATE contacts SET total_spend = $2 WHERE id = $1`, [c.body.id, spend]);
    }
    const email = `ops-${randomUUID()}@test.example`;
    expect((await t.admin.post('/api/users', { email, name: '运营 小周', role: 'ops', password: 'ops-password-1' })).status).toBe(201);
    const context = await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, email, 'ops-password-1');
    await page.goto(`${ctx.stack.baseUrl}/segments/new`);

    // One predicate: has tag High; the count is the API's own preview of the same rule.
    await page.locator('.rule-row .ant-select').nth(1).click();
    await pick(page, 'High 高');
    const preview = async (rule: unknown) => (await t.admin.post('/api/segments/preview', { rule })).body.count;
    await eventually(async () => expect(await count(page)).toBe('3'));
    expect(await preview({ all: [{ tag: tags.intentHigh.id }] })).toBe(3);

    // A second predicate narrows it: total spend at least 100.
    await page.getByRole('button', { name: /添加条件$/ }).last().click();
    const second = page.locator('.rule-row').nth(1);
    await second.locator('.rule-kind').click();
    await pick(page, '消费指标');
    await second.getByLabel('值').fill('100');
    await eventually(async () => expect(await count(page)).toBe('2'));

    // A nested group widens it: High, spend ≥ 100 or Product A → all but 陈静.
    await page.locator('.rule-group-head .ant-select').first().click();
    await pick(page, '满足任一条件');
    await eventually(async () => expect(await count(page)).toBe('3')); // High or spend ≥ 100: 张伟, 李娜, 王芳
    await page.getByRole('button', { name: /添加条件组/ }).last().click();
    const group = page.locator('.rule-group .rule-group').first();
    await choose(page, group.locator('.rule-row .ant-select').nth(1), 'Product A');
    await eventually(async () => expect(await count(page)).toBe('5'));
    expect(await preview({ any: [{ tag: tags.intentHigh.id }, { metric: { name: 'totalSpend', op: 'gte', value: 100 } }, { any: [{ tag: tags.productA.id }] }] })).toBe(5);
    await page.locator('.segment-preview .ant-table-row', { hasText: '张伟' }).waitFor();

    // Exclude the group: High, spend ≥ 100, or no Product A → 张伟, 李娜, 王芳, 陈静.
    await group.getByRole('switch').first().click();
    await eventually(async () => expect(await count(page)).toBe('4'));

    // A value the API refuses is shown at its predicate: an attribute compared with a number by "less than" text.
    await page.getByRole('button', { name: /添加条件$/ }).first().click();
    const attribute = page.locator('.rule-row').last();
    // each pick is checked to have taken (a click while a list still opens can miss under load)
    await choose(page, attribute.locator('.rule-kind'), '客户属性');
    await attribute.getByLabel('属性名，如 city').fill('city');
    await choose(page, attribute.locator('.ant-select').nth(1), /^小于$/);
    await attribute.getByLabel('值').fill('上海');
    await attribute.locator('.rule-problem').first().waitFor();
    await expect(attribute.locator('.rule-problem').first().textContent()).resolves.toBe('必须是数字'); // in the viewer's words, at its row
    await attribute.getByRole('button', { name: '删除' }).click();
    await eventually(async () => expect(await count(page)).toBe('4'));

    await checkPageInBothLanguages(page, 'segment-editor', async (lang) => {
      await page.getByText(lang === 'zh' ? '实时预览' : 'Live preview').waitFor();
    });
    await switchLang(page, 'zh');

    // Save: the API holds the rule as built; the members list and the CSV follow.
    await page.getByLabel('分群名称').fill('高意向或高消费，非 A 产品');
    await page.getByTestId('save-segment').click();
    await page.waitForURL(/\/segments\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const saved = (await t.admin.get(`/api/segments/${id}`)).body;
    expect(saved.rule).toEqual({ any: [{ tag: tags.intentHigh.id }, { metric: { name: 'totalSpend', op: 'gte', value: 100 } }, { not: { any: [{ tag: tags.productA.id }] } }] });
    await page.locator('.ant-card', { hasText: '分群成员' }).locator('.ant-table-row').first().waitFor();
    await screenshot(page, 'segment-editor-saved-zh');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const names = csv.trim().split('\n').slice(1).map((line) => line.split(',')[2]).sort();
    const expected = (await t.admin.get(`/api/segments/${id}/members?limit=50`)).body.items.map((m: { name: string }) => m.name).sort();
    expect(names).toEqual(expected);
    expect(names.length).toBeGreaterThan(0);

    // The list shows it; both languages.
    await page.goto(`${ctx.stack.baseUrl}/segments`);
    await checkPageInBothLanguages(page, 'segments', async () => {
      await page.getByRole('link', { name: '高意向或高消费，非 A 产品' }).waitFor();
    });
    await context.close();
  });
});

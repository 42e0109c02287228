import type { Page } from 'playwright-core';
import { checkPageInBothLanguages, choose, signIn, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { Http, signupTenant } from '../support/http';

/**
 * Issue 14: a large organization's live count is an estimate, and the console says so: "约 20,000" / "about 20,000",
 * with the margin beside it. Here every preview is past the exact count's cost (SEGMENT_EXACT_COUNT_COST of 1), and
 * the organization has enough contacts in the sample to be estimated.
 */
describe('an estimated segment count in a real browser (Chromium)', () => {
  const ctx = useConsoleStack({ env: { SEGMENT_EXACT_COUNT_COST: '1', SEGMENT_SAMPLE_ROWS: '30000' } });

  const value = async (page: Page) => Number((await page.getByTestId('segment-count').locator('.ant-statistic-content-value').textContent())!.replace(/,/g, ''));

  it('shows the estimate as such in both languages, with its margin', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Estimate Org');
    const { tags } = await createTagSystem(t.admin);
    const { tenantId } = (await t.admin.get('/api/auth/me')).body;
    const [{ num }] = await ctx.stack.db.query(`SELECT num FROM tags WHERE id = $1`, [tags.intentHigh.id]);
    // 60,000 contacts, one in three with High intent (the preview reads tag_nums)
    await ctx.stack.db.query(
      `INSERT INTO contacts (tenant_id, external_id, name, tag_nums)
       SELECT $1, 'e' || g, '客户 ' || g, CASE WHEN g % 3 = 0 THEN ARRAY[$2::int] ELSE '{}' END FROM generate_series(1, 60000) g`,
      [tenantId, num],
    );
    await ctx.stack.db.query('ANALYZE contacts');
    const exact = 20_000;

    const context = await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, t.email, t.password);
    await page.goto(`${ctx.stack.baseUrl}/segments/new`);
    await choose(page, page.locator('.rule-row .ant-select').nth(1), 'High 高');
    await page.getByTestId('segment-count-about').waitFor();

    const api = (await t.admin.post('/api/segments/preview', { rule: { all: [{ tag: tags.intentHigh.id }] } })).body;
    expect(api).toMatchObject({ estimated: true });
    expect(Math.abs(api.count - exact)).toBeLessThanOrEqual(api.margin);
    expect(await value(page)).toBe(api.count);
    const margin = api.margin.toLocaleString('en-US');
    await checkPageInBothLanguages(page, 'segment-editor-estimate', async (lang) => {
      await page.getByTestId('segment-count-about').getByText(lang === 'zh' ? '约' : 'about', { exact: true }).waitFor();
      await page.getByTestId('segment-count-estimate').getByText(lang === 'zh' ? `抽样估算，误差 ±${margin}` : `estimated from a sample, ±${margin}`).waitFor();
      await page.getByText(lang === 'zh' ? '其中 10 位客户' : '10 of them').waitFor();
    });
    await context.close();
  });
});

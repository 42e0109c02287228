import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { zoneWithOpenWindow } from '../support/clock';
import { checkPageInBothLanguages, choose, optionsOf, pick, signIn as signInAt, switchLang, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { type Http, signupTenant } from '../support/http';

/**
 * Issue 13's last screens in a real browser: the dashboard's cuts (a manager's team cuts, ops' SOP cuts) and,
 * for ops, every SOP's results with a link to its results card. What the page shows is what the API answers.
 */
describe('dashboard cuts and SOP results in a real browser (Chromium)', () => {
  const ctx = useConsoleStack();

  async function person(admin: Http, role: string, name: string, teamId?: string) {
    const email = `${role}-${randomUUID()}@test.example`;
    const password = `pw-${randomUUID()}`;
    const res = await admin.post('/api/users', { email, name, role, password, teamId });
    if (res.status !== 201) throw new Error(`create user: ${res.status} ${JSON.stringify(res.body)}`);
    const login = await ctx.http.post('/api/auth/login', { email, password });
    return { id: res.body.id as string, email, password, name, client: ctx.http.as(login.body.accessToken) };
  }

  /** A team with a manager and an employee who owns eight contacts of a journey SOP with variants A and B; three tasks done. */
  async function world() {
    const t = await signupTenant(ctx.http, 'Cuts Org');
    const { tags } = await createTagSystem(t.admin);
    const team = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const manager = await person(t.admin, 'manager', 'Manager Li 李经理', team.id);
    await t.admin.patch(`/api/teams/${team.id}`, { managerId: manager.id });
    const employee = await person(t.admin, 'employee', 'Wang Fang 王芳', team.id);
    const ops = await person(t.admin, 'ops', 'Ops Zhou 周运营');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
      await t.admin.post('/api/contacts', { externalId: `c${n}`, name: `客户${n}`, ownerId: employee.id, tags: [tags.intentHigh.id],
        timezone: zoneWithOpenWindow() }); // in a zone where the step's all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    }
    const sop = (await t.admin.post('/api/sops', { name: 'New arrivals 新品', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Coupon 优惠券', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: '{{ contact.name }}，您好！', variants: [{ name: 'A', weight: 1, template: 'A：{{ contact.name }}' }, { name: 'B', weight: 1, template: 'B：{{ contact.name }}' }] },
        executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    // odd contacts see A, even ones B: the engine's pick is a hash of the enrollment, so eight contacts all drew
    // one variant now and then (1 run in 128), and the cut by variant had one row
    await ctx.stack.db.query(
      `UPDATE tasks t SET variant = CASE WHEN substr(c.external_id, 2)::int % 2 = 1 THEN 'A' ELSE 'B' END FROM contacts c
        WHERE c.id = t.contact_id AND t.sop_id = $1`, [sop.id]);
    const tasks = await ctx.stack.db.query(`SELECT t.id::text FROM tasks t WHERE t.sop_id = $1 ORDER BY t.id LIMIT 3`, [sop.id]);
    for (const task of tasks) expect((await employee.client.post(`/api/inbox/tasks/${task.id}/complete`, { outcome: 'sent' })).status).toBe(200);
    return { t, team, manager, employee, ops, sop };
  }

  async function open(context: BrowserContext, who: { email: string; password: string }, path: string): Promise<Page> {
    const page = await context.newPage();
    await signInAt(page, ctx.stack.baseUrl, who.email, who.password);
    await page.goto(`${ctx.stack.baseUrl}${path}`);
    return page;
  }
  const cell = (page: Page, rowText: string, column: number) =>
    page.getByTestId('cuts-table').locator('.ant-table-row', { hasText: rowText }).locator('td').nth(column);

  it("gives a manager their team's cuts by employee and by day, with a chart and CSV and Excel exports in Chinese", async () => {
    const { manager, employee } = await world();
    const context = await ctx.browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 900 }, acceptDownloads: true });
    const page = await open(context, manager, '/dashboard?tab=cuts');
    const api = (await manager.client.get('/api/dashboards/cuts?by=employee')).body;
    const mine = api.rows.find((r: { key: string }) => r.key === employee.id);
    expect(mine).toMatchObject({ created: 8, done: 3 });
    // the employee's row: tasks (column 1) and done (column 2) as the API counts them
    await eventuallyText(cell(page, 'Wang Fang 王芳', 1), '8');
    await eventuallyText(cell(page, 'Wang Fang 王芳', 2), '3');
    await page.getByTestId('cuts-chart').waitFor();
    await checkPageInBothLanguages(page, 'dashboard-cuts', async (lang) => {
      await page.getByRole('tab', { name: lang === 'zh' ? '多维分析' : 'Cuts' }).waitFor();
      await page.getByTestId('cuts-table').locator('th', { hasText: lang === 'zh' ? '完成率' : 'Completion' }).waitFor();
    });
    await switchLang(page, 'zh');

    // a manager cuts by team, employee or time only
    const dimension = page.getByRole('combobox', { name: '分析维度' });
    expect(await optionsOf(page, dimension)).toEqual(['团队', '员工', '时间']);
    await choose(page, dimension, '时间');
    await page.getByTestId('trend-chart').waitFor();
    const today = (await manager.client.get('/api/dashboards/cuts?by=day')).body.rows.at(-1);
    expect(today.created).toBe(8);
    await eventuallyText(cell(page, today.key, 1), '8');

    // exports: CSV with Chinese headers, and a real .xlsx
    await page.getByTestId('export-cuts').hover();
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByText('导出 CSV').click()]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    expect(readFileSync((await csv.path())!, 'utf8').replace(/^\ufeff/, '').split('\r\n')[0]).toMatch(/^维度,名称,创建任务,已完成/);
    await page.mouse.move(5, 5);
    await page.locator('.ant-dropdown-menu').waitFor({ state: 'hidden' });
    await page.getByTestId('export-cuts').hover();
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByText('导出 Excel').click()]);
    expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
    expect(readFileSync((await xlsx.path())!).subarray(0, 2).toString()).toBe('PK');
    await context.close();
  });

  it("shows ops every SOP's results, linking to its results card, and cuts by variant", async () => {
    const { ops, sop } = await world();
    const context = await ctx.browser.newContext({ locale: 'en-US', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 900 } });
    const page = await open(context, ops, '/dashboard?tab=sops');
    const list = (await ops.client.get('/api/dashboards/sops')).body.items;
    expect(list).toEqual([expect.objectContaining({ sopId: sop.id, created: 8, done: 3 })]);
    const row = page.getByTestId('sop-results-table').locator('.ant-table-row', { hasText: 'New arrivals 新品' });
    await row.waitFor();
    await eventuallyText(row.locator('td').nth(2), '8');
    await eventuallyText(row.locator('td').nth(3), '3');
    await checkPageInBothLanguages(page, 'dashboard-sops', async (lang) => {
      await page.getByTestId('sop-results-table').locator('th', { hasText: lang === 'zh' ? '响应率' : 'Response rate' }).waitFor();
    });
    await switchLang(page, 'en');

    // a rate's definition: reached with Tab from its sortable header, shown on focus; a click on it does not sort
    const table = page.getByTestId('sop-results-table');
    const header = table.locator('th', { hasText: 'Completion' });
    const hint = header.getByTestId('measure-hint');
    const definition = 'Done ÷ tasks whose window has closed';
    await header.focus();
    await page.keyboard.press('Tab');
    expect(await hint.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await hint.getAttribute('aria-label')).toContain(definition);
    await page.getByRole('tooltip').filter({ hasText: definition }).waitFor();
    await page.keyboard.press('Enter');
    await hint.click();
    // still sorted by tasks alone, as the page opened
    expect(await table.locator('th[aria-sort]').count()).toBe(1);
    expect(await table.locator('th[aria-sort="descending"]', { hasText: 'Tasks' }).count()).toBe(1);
    // the definition closed (it would cover the header), the header itself, off the icon, still sorts
    await hint.evaluate((el) => (el as HTMLElement).blur());
    await page.mouse.move(0, 0);
    await page.getByRole('tooltip').filter({ hasText: definition }).waitFor({ state: 'hidden' });
    await header.click({ position: { x: 4, y: 4 } });
    await table.locator('th[aria-sort="ascending"]', { hasText: 'Completion' }).waitFor();

    // cuts by A/B variant: one row per variant, their tasks adding up to the SOP's
    await page.getByRole('tab', { name: 'Cuts' }).click();
    await page.getByRole('combobox', { name: 'Cut by' }).click();
    await pick(page, 'A/B variant');
    const variants = (await ops.client.get('/api/dashboards/cuts?by=variant')).body.rows;
    expect(variants.map((r: { label: string }) => r.label).sort()).toEqual(['New arrivals 新品 · Coupon 优惠券 · A', 'New arrivals 新品 · Coupon 优惠券 · B']);
    expect(variants.reduce((s: number, r: { created: number }) => s + r.created, 0)).toBe(8);
    for (const v of variants) await eventuallyText(cell(page, v.label, 1), String(v.created));

    // the SOP's link opens its results card
    await page.getByRole('tab', { name: 'SOP results' }).click();
    await page.getByTestId('sop-results-link').filter({ hasText: 'New arrivals 新品' }).click();
    await page.waitForURL(new RegExp(`/sops/${sop.id}#sop-results$`));
    await page.getByTestId('sop-results').waitFor();
    await context.close();
  });
});

/** Waits until the locator's text is exactly `text`. */
async function eventuallyText(locator: ReturnType<Page['locator']>, text: string): Promise<void> {
  await locator.filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor();
}

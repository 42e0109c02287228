import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { accessibilityProblems, missingTranslations, screenshot, signIn, switchLang, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';

/** Issue 14: a step whose content cannot be rendered holds its tasks, and the SOP's page says so, in both languages. */
describe("held tasks on the SOP's page in a real browser (Chromium)", () => {
  jest.setTimeout(120_000);
  const ctx = useConsoleStack();

  it('shows how many tasks are held and why', async () => {
    const t = await signupTenant(ctx.http, 'Held Org');
    const { tags } = await createTagSystem(t.admin);
    const employee = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: '高意向客户', rule: { tag: tags.intentHigh.id } })).body;
    const sop = (await t.admin.post('/api/sops', { name: '内容出错的旅程', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true }, policies: { businessDaysOnly: false },
      steps: [{ name: '电话', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call', executor: { rule: 'contactOwner' },
        content: { template: '{{ contact.name }}{% for i in (1..5000000) %}x{% endfor %}' } }],
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    for (const n of [1, 2]) {
      await t.admin.post('/api/contacts', { externalId: `h${n}`, name: `客户${n}`, ownerId: employee.id, tags: [tags.intentHigh.id],
        timezone: zoneWithOpenWindow() }); // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    }
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);

    const page = await (await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 1000 } })).newPage();
    await signIn(page, ctx.stack.baseUrl, t.email, t.password);
    await page.goto(`${ctx.stack.baseUrl}/sops/${sop.id}`);
    // Both languages, with the page-wide accessibility check.
    for (const lang of ['zh', 'en'] as const) {
      await switchLang(page, lang);
      const held = page.getByTestId('sop-held');
      await held.filter({ hasText: lang === 'zh' ? '2 个任务已暂扣' : '2 tasks are held' }).waitFor();
      // the engine's reason (Liquid's memory limit at the loop) in the viewer's words, not as the engine recorded it
      await held.filter({ hasText: lang === 'zh' ? '2 个任务（v1）：模板超出内存限制（第 1 行第 19 列）' : '2 tasks (v1): the template ran out of memory (line 1, column 19)' }).waitFor();
      expect(await held.textContent()).not.toMatch(/could not be rendered: |memory alloc|line:1/);
      // the step's row counts them, so the table shows who reached it
      expect(await page.getByTestId('progress-held-0').textContent()).toBe('2');
      expect(await page.getByTestId('progress-step-0').locator('td').nth(1).textContent()).toBe('2');
      expect(await missingTranslations(page)).toEqual([]);
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, `sop-held-${lang}`);
    }
  });
});

import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { zoneWithOpenWindow } from '../support/clock';
import { checkPageInBothLanguages, screenshot, signIn as signInAt, switchLang, useConsoleStack } from '../support/console';
import { createTagSystem } from '../support/fixtures';
import { AS_CUSTOMER, Http, signupTenant } from '../support/http';
import { eventually, waitUntil } from '../support/poll';

const MIN = 60_000;

/**
 * The employee's day in the console, in a real browser: the inbox lists what the API and the database hold,
 * and every action taken in the page is checked in the page and in Postgres.
 */
describe('the employee inbox in a real browser (Chromium)', () => {
  const ctx = useConsoleStack();

  /** A person with a password the browser can type. */
  async function person(admin: Http, role: string, name: string, teamId?: string) {
    const email = `${role}-${randomUUID()}@test.example`;
    const password = `pw-${randomUUID()}`;
    const res = await admin.post('/api/users', { email, name, role, password, teamId });
    if (res.status !== 201) throw new Error(`create user: ${res.status} ${JSON.stringify(res.body)}`);
    const login = await ctx.http.post('/api/auth/login', { email, password });
    return { id: res.body.id as string, email, password, name, client: ctx.http.as(login.body.accessToken) };
  }

  /**
   * A tenant whose employee owns eight contacts in a journey SOP: six tasks today (closing 25 min to 6 h from
   * now, in that order), one overdue and one upcoming, with a coupon material on each.
   */
  async function world() {
    const t = await signupTenant(ctx.http, 'Inbox Org');
    const { tags } = await createTagSystem(t.admin);
    const team = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const manager = await person(t.admin, 'manager', 'Manager Li 李经理', team.id);
    await t.admin.patch(`/api/teams/${team.id}`, { managerId: manager.id });
    const employee = await person(t.admin, 'employee', 'Wang Fang 王芳', team.id);
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const contacts: { id: string; name: string }[] = [];
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const c = await t.admin.post('/api/contacts', { externalId: `c${n}`, name: `客户${n}`, ownerId: employee.id, tags: [tags.intentHigh.id, tags.productA.id],
        timezone: zoneWithOpenWindow() }); // in a zone where the step's all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
      contacts.push(c.body);
    }
    const sop = (await t.admin.post('/api/sops', { name: 'New arrivals 新品', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Coupon', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: '{{ contact.name }}，您好！本周新品到店，送您一张券。', materials: [{ title: 'Coupon 优惠券', url: 'https://shop.example/coupon?id=7' }] },
        executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const tasks: Record<string, string> = {};
    for (const c of contacts) {
      tasks[c.name] = (await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [sop.id, c.id]))[0].id;
    }
    // Windows relative to now, so the hints and lists do not depend on the hour the test runs.
    const now = Date.now();
    const windows: [string, number, number][] = [
      ['客户1', -30 * MIN, 25 * MIN], ['客户2', -60 * MIN, 120 * MIN], ['客户3', -60 * MIN, 180 * MIN], ['客户4', -60 * MIN, 240 * MIN],
      ['客户5', -60 * MIN, 300 * MIN], ['客户6', -60 * MIN, 360 * MIN], ['客户7', -26 * 60 * MIN, -120 * MIN], ['客户8', 48 * 60 * MIN, 50 * 60 * MIN],
    ];
    for (const [name, from, until] of windows) {
      await ctx.stack.db.query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE id = $1`, [tasks[name], new Date(now + from), new Date(now + until)]);
    }
    return { t, manager, employee, sop, tasks };
  }

  async function signIn(context: BrowserContext, who: { email: string; password: string }): Promise<Page> {
    const page = await context.newPage();
    await signInAt(page, ctx.stack.baseUrl, who.email, who.password);
    return page;
  }

  const row = (page: Page, name: string) => page.locator('[data-task-id]', { has: page.locator('.task-row-who', { hasText: new RegExp(`^${name}$`) }) });
  const names = (page: Page) => page.locator('[data-task-id] .task-row-who').allTextContents();
  const counts = async (page: Page) => Object.fromEntries(await Promise.all(['today', 'overdue', 'upcoming'].map(async (l) =>
    [l, Number(await page.locator(`[data-list=${l}] .ant-badge`).first().textContent())])));
  const list = (page: Page, l: string) => page.locator(`[data-list=${l}]`).click();
  const panelTitle = (page: Page) => page.locator('#task-panel-title');
  const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());
  const taskRow = async (id: string) => (await ctx.stack.db.query(
    `SELECT status, outcome, note, skip_reason, snoozed_until, executor_id FROM tasks WHERE id = $1`, [id]))[0];

  it("lists today's tasks with counts; copies, completes, skips, snoozes, reassigns and bulk-completes, as the server records", async () => {
    const { employee, manager, tasks, t } = await world();
    const teammate = await person(t.admin, 'employee', 'Li Na 李娜', (await t.admin.get(`/api/users/${employee.id}`)).body.teamId);
    const context = await ctx.browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.stack.baseUrl });
    const page = await signIn(context, employee);
    await page.waitForURL(/\/inbox$/);

    // Today: counts per list, the closing window first, hints in the viewer's zone.
    await eventually(async () => expect(await counts(page)).toEqual({ today: 6, overdue: 1, upcoming: 1 }));
    // the list is its own request: under load its rows can come after the counts
    await eventually(async () => expect(await names(page)).toEqual(['客户1', '客户2', '客户3', '客户4', '客户5', '客户6']));
    await expect(row(page, '客户1').locator('.task-row-due').textContent()).resolves.toMatch(/^还剩 2[45] 分钟截止$/);
    await expect(row(page, '客户1').locator('.task-row-due').getAttribute('class')).resolves.toContain('task-due-soon');
    await list(page, 'overdue');
    await expect(row(page, '客户7').locator('.task-row-due').textContent()).resolves.toMatch(/^已逾期 2 小时( 1 分钟)?$/);
    await expect(row(page, '客户7').locator('.task-row-due').getAttribute('class')).resolves.toContain('task-due-warn');
    await list(page, 'upcoming');
    await row(page, '客户8').waitFor();
    await list(page, 'today');
    await row(page, '客户1').waitFor();
    await checkPageInBothLanguages(page, 'inbox', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? '我的任务' : 'My tasks' }).waitFor();
    });
    await switchLang(page, 'zh');

    // Open a task: its message, its tracked link, the contact's tags; copy both.
    await row(page, '客户1').click();
    await panelTitle(page).filter({ hasText: '客户1' }).waitFor();
    const detail = (await employee.client.get(`/api/inbox/tasks/${tasks['客户1']}`)).body;
    await expect(page.getByTestId('task-message').textContent()).resolves.toBe('客户1，您好！本周新品到店，送您一张券。');
    await page.locator('.task-panel .ant-tag', { hasText: 'Product A' }).waitFor();
    await page.getByTestId('copy-message').click();
    await eventually(async () => expect(await clipboard(page)).toBe('客户1，您好！本周新品到店，送您一张券。'));
    await page.locator(`[data-tracked-url="${ctx.stack.baseUrl}${detail.materials[0].trackedPath}"]`).click();
    await eventually(async () => expect(await clipboard(page)).toBe(`${ctx.stack.baseUrl}${detail.materials[0].trackedPath}`));
    await screenshot(page, 'inbox-task-zh');

    // Complete with an outcome and a note: it leaves Today, counts follow, the panel moves on.
    await page.locator('.task-outcomes label', { hasText: '有兴趣' }).click();
    await page.getByLabel('备注（可选）').fill('客户说周末到店');
    await page.getByTestId('complete-btn').click();
    await panelTitle(page).filter({ hasText: '客户2' }).waitFor();
    await eventually(async () => expect(await row(page, '客户1').count()).toBe(0));
    await eventually(async () => expect(await counts(page)).toMatchObject({ today: 5 }));
    await expect(taskRow(tasks['客户1'])).resolves.toMatchObject({ status: 'done', outcome: 'interested', note: '客户说周末到店' });

    // Skip with a reason.
    await page.locator('.task-actions .ant-segmented-item', { hasText: '跳过' }).click();
    await page.getByLabel('原因').fill('客户这周出差');
    await page.getByTestId('skip-btn').click();
    await panelTitle(page).filter({ hasText: '客户3' }).waitFor();
    await expect(taskRow(tasks['客户2'])).resolves.toMatchObject({ status: 'skipped', skip_reason: '客户这周出差' });

    // Snooze for an hour: it waits in Upcoming.
    await page.locator('.task-actions .ant-segmented-item', { hasText: '推迟' }).click();
    const before = Date.now();
    await page.getByTestId('snooze-1h').click();
    await panelTitle(page).filter({ hasText: '客户4' }).waitFor();
    const snoozed = await taskRow(tasks['客户3']);
    expect(snoozed.status).toBe('pending');
    expect(snoozed.snoozed_until.getTime()).toBeGreaterThanOrEqual(before + 59 * MIN);
    await eventually(async () => expect(await counts(page)).toEqual({ today: 3, overdue: 1, upcoming: 2 }));

    // Reassign to a teammate: the task is theirs now.
    await page.locator('.task-actions .ant-segmented-item', { hasText: '转交' }).click();
    await page.getByTestId('reassign-select').click();
    await page.locator('.ant-select-item-option:visible', { hasText: 'Li Na 李娜' }).click();
    await page.getByTestId('reassign-btn').click();
    await eventually(async () => expect((await taskRow(tasks['客户4'])).executor_id).toBe(teammate.id));
    await eventually(async () => expect(await row(page, '客户4').count()).toBe(0));

    // Keyboard: Esc closes, j/k move, c copies, Enter completes as sent, x selects.
    await page.keyboard.press('Escape');
    await panelTitle(page).waitFor({ state: 'detached' });
    await page.keyboard.press('k');
    await expect(row(page, '客户5').getAttribute('aria-current')).resolves.toBe('true');
    await page.keyboard.press('j');
    await expect(row(page, '客户6').getAttribute('aria-current')).resolves.toBe('true');
    await page.keyboard.press('k');
    await page.keyboard.press('c');
    await eventually(async () => expect(await clipboard(page)).toBe('客户5，您好！本周新品到店，送您一张券。'));
    await page.keyboard.press('Enter');
    await eventually(async () => expect(await row(page, '客户5').count()).toBe(0));
    await expect(taskRow(tasks['客户5'])).resolves.toMatchObject({ status: 'done', outcome: 'sent' });

    // Bulk: select with x, complete the selection; the empty state says what to do.
    await row(page, '客户6').waitFor();
    await page.keyboard.press('x');
    await page.getByTestId('bulk-bar').filter({ hasText: '已选 1 项' }).waitFor();
    await page.getByTestId('bulk-complete').click();
    await page.getByTestId('inbox-empty').filter({ hasText: '今天没有待办任务' }).waitFor();
    await expect(taskRow(tasks['客户6'])).resolves.toMatchObject({ status: 'done', outcome: 'sent' });
    await eventually(async () => expect(await counts(page)).toEqual({ today: 0, overdue: 1, upcoming: 2 }));
    expect((await employee.client.get('/api/inbox/counts?tz=Asia/Shanghai')).body).toMatchObject({ today: 0, overdue: 1, upcoming: 2 });

    // Done: the finished task keeps its story (outcome as a response, the history).
    await list(page, 'done');
    await row(page, '客户1').click();
    await page.locator('.task-panel', { hasText: '完成 · 有兴趣 · 客户说周末到店' }).waitFor();
    await page.locator('.task-panel', { hasText: '员工记录 · 有兴趣' }).waitFor();
    expect(manager.id).toBeTruthy();
    await context.close();
  });

  it('works on a 375 px phone: the list fits, a task opens full screen, copies and completes', async () => {
    const { employee, tasks } = await world();
    const context = await ctx.browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.stack.baseUrl });
    const page = await signIn(context, employee);
    await row(page, '客户1').waitFor();
    await page.getByTestId('my-week').filter({ hasText: '我的本周' }).waitFor(); // their week, above the lists
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await checkPageInBothLanguages(page, 'inbox-phone', async () => { await row(page, '客户1').waitFor(); });
    await switchLang(page, 'zh');
    await row(page, '客户2').locator('.task-row-who').click();
    await panelTitle(page).filter({ hasText: '客户2' }).waitFor();
    const box = await page.getByRole('dialog').boundingBox();
    expect([box?.x, box?.width]).toEqual([0, 375]);
    await page.getByTestId('copy-message').click();
    await eventually(async () => expect(await clipboard(page)).toBe('客户2，您好！本周新品到店，送您一张券。'));
    await screenshot(page, 'inbox-phone-task-zh');
    await page.getByTestId('complete-btn').click();
    await eventually(async () => expect(await taskRow(tasks['客户2'])).toMatchObject({ status: 'done', outcome: 'sent' }));
    await context.close();
  });

  it('rings the bell live when a customer opens a tracked link; marks read; a notification opens its task', async () => {
    const { employee, tasks } = await world();
    const context = await ctx.browser.newContext({ locale: 'en-US', timezoneId: 'Asia/Shanghai' });
    const page = await signIn(context, employee);
    await page.waitForFunction(() => document.body.dataset.notificationStream === 'open');
    await expect(page.getByTestId('bell').getAttribute('aria-label')).resolves.toMatch(/^(Notifications|通知)$/);

    // Two customers open their coupon links: the executor hears of each without reloading.
    for (const name of ['客户1', '客户2']) {
      const path = (await employee.client.get(`/api/inbox/tasks/${tasks[name]}`)).body.materials[0].trackedPath;
      expect((await fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER)).status).toBe(302);
    }
    await eventually(async () => expect(await page.getByTestId('bell').getAttribute('aria-label')).toMatch(/(2 unread|2 条未读)$/));
    await page.getByTestId('bell').click();
    await eventually(async () => expect(await page.locator('.bell-item-unread').count()).toBe(2));
    await expect(page.locator('.bell-item').first().textContent()).resolves.toContain('Coupon 优惠券');

    // One read, then all read: the badge follows, and so does the database.
    // A full run once saw this click go nowhere (the list re-rendering under it): click again only when, 3 s
    // later, the database still has both unread, so a slow answer is never clicked twice.
    const unreadNow = async () => (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL`, [employee.id]))[0].n;
    for (let attempt = 0; attempt < 3 && (await unreadNow()) === 2; attempt++) {
      await page.locator('.bell-item-unread').first().getByRole('button', { name: /Mark read|标为已读/ }).click();
      await waitUntil(unreadNow, (n: number) => n === 1, 'one notification read', 3000, 100).catch(() => undefined);
    }
    await eventually(async () => expect(await page.getByTestId('bell').getAttribute('aria-label')).toMatch(/(1 unread|1 条未读)$/));
    await page.getByRole('button', { name: /Mark all read|全部已读/ }).click();
    await eventually(async () => expect(await page.getByTestId('bell').getAttribute('aria-label')).toMatch(/^(Notifications|通知)$/));
    const [{ unread }] = await ctx.stack.db.query(`SELECT count(*)::int AS unread FROM notifications WHERE user_id = $1 AND read_at IS NULL`, [employee.id]);
    expect(unread).toBe(0);
    await screenshot(page, 'inbox-bell');

    // A notification leads to its task, whose customer's last responses show the open.
    await page.locator('.bell-item-open').last().click();
    await panelTitle(page).filter({ hasText: /^客户[12]$/ }).waitFor();
    await page.locator('.task-panel', { hasText: /Opened a material · Coupon 优惠券|打开了素材 · Coupon 优惠券/ }).waitFor();

    // A link in an email sent before the console had routes still opens its task.
    await page.goto(`${ctx.stack.baseUrl}/#/inbox/tasks/${tasks['客户3']}`);
    await panelTitle(page).filter({ hasText: '客户3' }).waitFor();
    expect(new URL(page.url()).hash).toBe('');
    await context.close();
  });

  it("shows a manager the team's tasks overdue first, filters by employee and SOP and reassigns within the team", async () => {
    const { manager, employee, tasks, t, sop } = await world();
    const teamId = (await t.admin.get(`/api/users/${employee.id}`)).body.teamId;
    const teammate = await person(t.admin, 'employee', 'Zhao Lei 赵磊', teamId);
    const context = await ctx.browser.newContext({ locale: 'en-US', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 900 } });
    const page = await signIn(context, manager);
    await page.waitForURL(/\/dashboard$/); // a manager's first screen
    await page.goto(`${ctx.stack.baseUrl}/team`);
    await row(page, '客户7').waitFor(); // overdue first
    await expect(row(page, '客户7').locator('.task-row-meta').textContent()).resolves.toContain('Wang Fang 王芳');
    await checkPageInBothLanguages(page, 'team-inbox', async () => { await row(page, '客户7').waitFor(); });

    // Filter by employee: the teammate has none yet.
    await page.getByRole('button', { name: /Filter|筛选/ }).click();
    await page.locator('#filter-executor').click();
    await page.locator('.ant-select-item-option:visible', { hasText: 'Zhao Lei 赵磊' }).click();
    await page.getByTestId('inbox-empty').waitFor();
    await page.getByRole('button', { name: /Clear filters|清除筛选/ }).click();
    await row(page, '客户7').waitFor();

    // Filter by channel: none of the team's tasks is a phone call, and the counts above the lists say so too.
    await page.locator('#filter-channel').click();
    await page.locator('.ant-select-item-option:visible', { hasText: /^(Phone call|电话)$/ }).click();
    await page.getByTestId('inbox-empty').waitFor();
    await eventually(async () => expect(await counts(page)).toEqual({ today: 0, overdue: 0, upcoming: 0 }));
    await page.getByRole('button', { name: /Clear filters|清除筛选/ }).click();
    await row(page, '客户7').waitFor();

    // Filter by SOP: its choices are the SOPs with pending tasks here, which an employee may ask for too.
    const theirs = (await employee.client.get('/api/inbox/sops')).body;
    expect(theirs).toEqual([{ id: sop.id, name: sop.name, pending: 8 }]);
    expect((await teammate.client.get('/api/inbox/sops')).body).toEqual([]);
    expect((await teammate.client.get(`/api/inbox/sops?executorId=${employee.id}`)).status).toBe(403);
    await page.locator('#filter-sop').click();
    await page.locator('.ant-select-item-option:visible', { hasText: `${sop.name} (8)` }).click();
    await row(page, '客户7').waitFor();
    await page.getByRole('button', { name: /Clear filters|清除筛选/ }).click();

    // Reassign the overdue task to the teammate.
    await row(page, '客户7').click();
    await page.locator('.task-actions .ant-segmented-item').nth(3).click();
    await page.getByTestId('reassign-select').click();
    await page.locator('.ant-select-item-option:visible', { hasText: 'Zhao Lei 赵磊' }).click();
    await page.getByTestId('reassign-btn').click();
    await eventually(async () => expect((await taskRow(tasks['客户7'])).executor_id).toBe(teammate.id));
    await eventually(async () => expect(await row(page, '客户7').locator('.task-row-meta').textContent()).toContain('Zhao Lei 赵磊'));
    await context.close();
  });

  it("shows a manager how the team did, who is behind, drills into their overdue tasks and exports the table", async () => {
    const { manager, employee } = await world();
    const context = await ctx.browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 900 }, acceptDownloads: true });
    const page = await signIn(context, manager);
    await page.waitForURL(/\/dashboard$/);
    // The API's own figures are what the page shows.
    const board = (await manager.client.get('/api/dashboards/employees')).body;
    const mine = board.items.find((r: { userId: string }) => r.userId === employee.id);
    expect(mine).toMatchObject({ overdueNow: 1, created: expect.any(Number) });
    const staff = page.locator('.ant-table-row', { hasText: 'Wang Fang 王芳' });
    await staff.getByTestId('drill-overdue').filter({ hasText: '1' }).waitFor();
    await page.locator('[data-measure="overdueNow"] .ant-statistic-content-value', { hasText: '1' }).waitFor();
    await page.getByTestId('trend-chart').waitFor();
    await checkPageInBothLanguages(page, 'dashboard', async (lang) => {
      await page.locator('[data-measure="completionRate"]', { hasText: lang === 'zh' ? '完成率' : 'Completion' }).waitFor();
    });
    await switchLang(page, 'zh');

    // Export the employees table as Excel: a real .xlsx (a zip) with the Chinese headers.
    await page.getByTestId('export-employees').hover();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByText('导出 Excel').click()]);
    expect(download.suggestedFilename()).toMatch(/\.xlsx$/);
    const file = await download.path();
    expect((await import('node:fs')).readFileSync(file!).subarray(0, 2).toString()).toBe('PK');

    // Drill down: the employee's overdue task in the team inbox, where it can be reassigned.
    await page.mouse.move(5, 5); // the export menu closes once the pointer leaves it
    await page.locator('.ant-dropdown-menu').waitFor({ state: 'hidden' });
    await staff.getByTestId('drill-overdue').click();
    await page.waitForURL(/\/team$/);
    await row(page, '客户7').waitFor();
    expect(await names(page)).toEqual(['客户7']);
    await context.close();
  });
});

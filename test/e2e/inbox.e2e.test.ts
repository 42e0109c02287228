import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { ROOT } from '../support/env';
import { createTagSystem } from '../support/fixtures';
import { Http, signupTenant } from '../support/http';
import { Stack } from '../support/stack';

const MIN = 60_000;
const SHOTS = join(ROOT, '.data/screenshots');

/**
 * The employee's day in a real browser: the inbox lists what the API and the database hold, and every
 * action taken in the page is checked in the page and in Postgres.
 */
describe('the employee inbox in a real browser (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  let http: Http;

  beforeAll(async () => {
    stack = await Stack.start();
    browser = await launchBrowser();
    http = new Http(stack.baseUrl);
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A person with a password the browser can type. */
  async function person(admin: Http, role: string, name: string, teamId?: string) {
    const email = `${role}-${randomUUID()}@test.example`;
    const password = `pw-${randomUUID()}`;
    const res = await admin.post('/api/users', { email, name, role, password, teamId });
    if (res.status !== 201) throw new Error(`create user: ${res.status} ${JSON.stringify(res.body)}`);
    const login = await http.post('/api/auth/login', { email, password });
    return { id: res.body.id as string, email, password, name, client: http.as(login.body.accessToken) };
  }

  /**
   * A tenant whose employee owns eight contacts in a journey SOP: six tasks today (closing 25 min to 6 h from
   * now, in that order), one overdue and one upcoming, with a coupon material on each.
   */
  async function world() {
    const t = await signupTenant(http, 'Inbox Org');
    const { tags } = await createTagSystem(t.admin);
    const team = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const manager = await person(t.admin, 'manager', 'Manager Li 李经理', team.id);
    await t.admin.patch(`/api/teams/${team.id}`, { managerId: manager.id });
    const employee = await person(t.admin, 'employee', 'Wang Fang 王芳', team.id);
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const contacts: { id: string; name: string }[] = [];
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const c = await t.admin.post('/api/contacts', { externalId: `c${n}`, name: `客户${n}`, ownerId: employee.id, tags: [tags.intentHigh.id, tags.productA.id] });
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
    await enrollEntrants(stack.db, sop.id, new Date());
    await materializeDuePage(stack.db, sop.id, new Date(), 100);
    const tasks: Record<string, string> = {};
    for (const c of contacts) {
      tasks[c.name] = (await stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [sop.id, c.id]))[0].id;
    }
    // Windows relative to now, so the hints and lists do not depend on the hour the test runs.
    const now = Date.now();
    const windows: [string, number, number][] = [
      ['客户1', -30 * MIN, 25 * MIN], ['客户2', -60 * MIN, 120 * MIN], ['客户3', -60 * MIN, 180 * MIN], ['客户4', -60 * MIN, 240 * MIN],
      ['客户5', -60 * MIN, 300 * MIN], ['客户6', -60 * MIN, 360 * MIN], ['客户7', -26 * 60 * MIN, -120 * MIN], ['客户8', 48 * 60 * MIN, 50 * 60 * MIN],
    ];
    for (const [name, from, until] of windows) {
      await stack.db.query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE id = $1`, [tasks[name], new Date(now + from), new Date(now + until)]);
    }
    return { t, manager, employee, sop, tasks };
  }

  async function signIn(context: BrowserContext, who: { email: string; password: string }): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/`);
    await page.fill('input[name=email]', who.email);
    await page.fill('input[name=password]', who.password);
    await page.click('button[type=submit]');
    await page.locator('#inbox').waitFor({ state: 'visible' });
    return page;
  }

  const row = (page: Page, name: string) => page.locator('#task-list > li', { has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });
  const text = (page: Page, selector: string) => page.locator(selector).first().textContent();
  const counts = async (page: Page) => Object.fromEntries(
    await Promise.all(['today', 'overdue', 'upcoming', 'done'].map(async (l) => [l, Number(await text(page, `#count-${l}`))])));
  const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());
  async function eventually(check: () => Promise<void>, ms = 5000) {
    const until = Date.now() + ms;
    for (;;) {
      try { return await check(); } catch (err) {
        if (Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const taskRow = async (id: string) => (await stack.db.query(
    `SELECT status, outcome, note, skip_reason, snoozed_until FROM tasks WHERE id = $1`, [id]))[0];

  it('shows today\'s tasks with counts; copies, completes, skips, snoozes and bulk-completes, as the server records', async () => {
    const { employee, tasks } = await world();
    const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl });
    const page = await signIn(context, employee);

    // Today's list: counts per list, the closing window first, with a hint in the browser's time.
    await eventually(async () => expect(await counts(page)).toEqual({ today: 6, overdue: 1, upcoming: 1, done: 0 }));
    await expect(page.locator('#task-list > li .name').allTextContents()).resolves.toEqual(['客户1', '客户2', '客户3', '客户4', '客户5', '客户6']);
    await expect(row(page, '客户1').locator('.due').textContent()).resolves.toMatch(/^还剩 2[45] 分钟截止$/);
    await expect(row(page, '客户1').locator('.due').getAttribute('class')).resolves.toBe('due soon');
    await expect(row(page, '客户2').locator('.due').textContent()).resolves.toMatch(/^还剩 1 小时 5\d 分钟截止$|^还剩 2 小时截止$/);
    await expect(text(page, '#inbox-title')).resolves.toBe('我的任务');

    // Overdue in a warning colour.
    await page.click('#tab-overdue');
    await row(page, '客户7').waitFor();
    await expect(row(page, '客户7').locator('.due').textContent()).resolves.toMatch(/^已逾期 2 小时( 1 分钟)?$/);
    await expect(row(page, '客户7').locator('.due').evaluate((el) => getComputedStyle(el).color)).resolves.toBe('rgb(180, 83, 9)');
    await page.click('#tab-upcoming');
    await row(page, '客户8').waitFor();
    await page.click('#tab-today');
    await row(page, '客户1').waitFor();
    await page.screenshot({ path: join(SHOTS, 'inbox-today.png') });

    // Open a task: the rendered content, its tracked link, the contact's tags; copy the message.
    await row(page, '客户1').locator('button.open').click();
    await page.locator('#detail-title', { hasText: '客户1' }).waitFor();
    const detail = (await employee.client.get(`/api/inbox/tasks/${tasks['客户1']}`)).body;
    await expect(text(page, '#detail-content')).resolves.toBe('客户1，您好！本周新品到店，送您一张券。');
    await expect(text(page, '#material-link-0')).resolves.toBe(`${stack.baseUrl}${detail.materials[0].trackedPath}`);
    await expect(page.locator('#detail .tags li').allTextContents()).resolves.toEqual(['High 高', 'Product A']);
    await eventually(async () => expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-title'));
    await page.click('#copy-content');
    await page.locator('#toast', { hasText: '已复制' }).waitFor();
    await expect(clipboard(page)).resolves.toBe('客户1，您好！本周新品到店，送您一张券。');
    await page.locator('#detail button.copy-link').click();
    await expect(clipboard(page)).resolves.toBe(`${stack.baseUrl}${detail.materials[0].trackedPath}`);
    await page.screenshot({ path: join(SHOTS, 'inbox-task.png') });

    // Complete with an outcome and a note: it leaves Today, the counts follow, the panel moves to the next task.
    await page.locator('#complete-form label.outcome', { hasText: '有兴趣' }).click();
    await page.fill('#note', '客户说周末到店');
    await page.click('#complete-btn');
    await page.locator('#detail-title', { hasText: '客户2' }).waitFor();
    await expect(row(page, '客户1').count()).resolves.toBe(0);
    await eventually(async () => expect(await counts(page)).toMatchObject({ today: 5, done: 1 }));
    await expect(taskRow(tasks['客户1'])).resolves.toMatchObject({ status: 'done', outcome: 'interested', note: '客户说周末到店' });
    await page.click('#tab-done');
    await expect(row(page, '客户1').locator('.chip.done').textContent()).resolves.toBe('有兴趣');
    // The finished task keeps its story: the outcome as the customer's response, and the history.
    await row(page, '客户1').locator('button.open').click();
    await page.locator('#detail .responses li', { hasText: '员工记录 · 有兴趣' }).waitFor();
    await expect(text(page, '#detail .history li')).resolves.toContain('完成 · 有兴趣 · 客户说周末到店');
    await expect(page.locator('#complete-form').count()).resolves.toBe(0);
    await page.click('#tab-today');
    await row(page, '客户2').locator('button.open').click();
    await page.locator('#detail-title', { hasText: '客户2' }).waitFor();

    // Skip with a reason.
    await page.fill('#skip-reason', '客户这周出差');
    await page.click('#skip-btn');
    await page.locator('#detail-title', { hasText: '客户3' }).waitFor();
    await expect(row(page, '客户2').count()).resolves.toBe(0);
    await expect(taskRow(tasks['客户2'])).resolves.toMatchObject({ status: 'skipped', skip_reason: '客户这周出差' });

    // A refused action shows the server's message; then snooze for an hour: it waits in Upcoming.
    await page.fill('#snooze-at', '2020-01-01T09:00');
    await page.click('#snooze-custom');
    await page.locator('#detail-error', { hasText: 'until: must be in the future' }).waitFor();
    const before = Date.now();
    await page.click('#snooze-1h');
    await page.locator('#detail-title', { hasText: '客户4' }).waitFor();
    await expect(row(page, '客户3').count()).resolves.toBe(0);
    const snoozed = await taskRow(tasks['客户3']);
    expect(snoozed.status).toBe('pending');
    expect(snoozed.snoozed_until.getTime()).toBeGreaterThanOrEqual(before + 59 * MIN);
    expect(snoozed.snoozed_until.getTime()).toBeLessThanOrEqual(Date.now() + 61 * MIN);
    await eventually(async () => expect(await counts(page)).toEqual({ today: 3, overdue: 1, upcoming: 2, done: 2 }));

    // Keyboard: Esc closes the panel, j moves, c copies, Enter completes as sent.
    await page.keyboard.press('Escape');
    await page.locator('#detail').waitFor({ state: 'hidden' });
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    await expect(row(page, '客户4').getAttribute('aria-current')).resolves.toBe('true');
    await page.keyboard.press('j');
    await expect(row(page, '客户5').getAttribute('aria-current')).resolves.toBe('true');
    await page.keyboard.press('c');
    await eventually(async () => expect(await clipboard(page)).toBe('客户5，您好！本周新品到店，送您一张券。'));
    await page.keyboard.press('Enter');
    await eventually(async () => expect(await row(page, '客户5').count()).toBe(0));
    await expect(taskRow(tasks['客户5'])).resolves.toMatchObject({ status: 'done', outcome: 'sent' });

    // Bulk complete the rest, as for a post to many groups; the empty state says what to do.
    await row(page, '客户4').locator('input.pick').check();
    await row(page, '客户6').locator('input.pick').check();
    await expect(text(page, '#bulk-count')).resolves.toBe('已选 2 项');
    await page.click('#bulk-complete');
    await page.locator('#empty', { hasText: '今天没有待办任务' }).waitFor();
    await expect(page.locator('#bulk-bar').isHidden()).resolves.toBe(true);
    for (const name of ['客户4', '客户6']) await expect(taskRow(tasks[name])).resolves.toMatchObject({ status: 'done', outcome: 'sent' });
    await eventually(async () => expect(await counts(page)).toEqual({ today: 0, overdue: 1, upcoming: 2, done: 5 }));
    expect((await employee.client.get('/api/inbox/counts?tz=Asia/Shanghai')).body).toEqual({ today: 0, overdue: 1, upcoming: 2, done: 5 });

    // English: labels, hints and outcomes switch; the choice survives a reload.
    await page.click('#lang');
    await expect(text(page, '#tab-today')).resolves.toBe('Today0');
    await expect(text(page, '#empty-title')).resolves.toBe('Nothing left for today');
    await expect(text(page, '#logout')).resolves.toBe('Sign out');
    await page.click('#tab-done');
    await expect(row(page, '客户1').locator('.chip.done').textContent()).resolves.toBe('Interested');
    await page.reload();
    await page.locator('#inbox').waitFor({ state: 'visible' });
    await expect(text(page, '#inbox-title')).resolves.toBe('My tasks');
    await page.click('#tab-overdue');
    await expect(row(page, '客户7').locator('.due').textContent()).resolves.toMatch(/^overdue by 2 h( 1 min)?$/);

    // Phone width: the list stays usable and the task panel takes the screen.
    await page.setViewportSize({ width: 390, height: 820 });
    await row(page, '客户7').locator('button.open').click();
    await page.locator('#detail-title', { hasText: '客户7' }).waitFor();
    const box = await page.locator('#detail').boundingBox();
    expect(box?.width).toBe(390);
    await page.screenshot({ path: join(SHOTS, 'inbox-phone.png') });
    await context.close();
  });

  it('rings the bell live when a customer opens a tracked link; marks one and then all read, as the server records', async () => {
    const { employee, tasks } = await world();
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'Asia/Shanghai' });
    const page = await signIn(context, employee);
    await page.locator('#bell').waitFor();
    await expect(page.locator('#bell-count').isHidden()).resolves.toBe(true);
    await expect(page.locator('#bell').getAttribute('aria-label')).resolves.toBe('Notifications');
    await page.waitForFunction(() => document.body.dataset.notificationStream === 'open');

    // Two customers open their coupon links: the executor hears of each without reloading.
    for (const name of ['客户1', '客户2']) {
      const path = (await employee.client.get(`/api/inbox/tasks/${tasks[name]}`)).body.materials[0].trackedPath;
      expect((await fetch(`${stack.baseUrl}${path}`, { redirect: 'manual' })).status).toBe(302);
    }
    await page.locator('#bell-count', { hasText: /^2$/ }).waitFor();
    await expect(page.locator('#bell').getAttribute('aria-label')).resolves.toBe('Notifications, 2 unread');
    await page.click('#bell');
    await expect(page.locator('#bell').getAttribute('aria-expanded')).resolves.toBe('true');
    await eventually(async () => expect(await page.locator('#bell-list > li.unread').count()).toBe(2));
    const first = page.locator('#bell-list > li').first();
    await expect(first.locator('.n-title').textContent()).resolves.toContain('Coupon 优惠券');

    // One read, then all read: the badge follows and the rows say so.
    const firstId = await first.getAttribute('data-id');
    await first.locator('button.n-read').click();
    await page.locator('#bell-count', { hasText: /^1$/ }).waitFor();
    const [one] = await stack.db.query(`SELECT read_at FROM notifications WHERE id = $1`, [firstId]);
    expect(one.read_at).not.toBeNull();
    await page.click('#bell-read-all');
    await page.locator('#bell-count').waitFor({ state: 'hidden' });
    const [{ unread }] = await stack.db.query(`SELECT count(*)::int AS unread FROM notifications WHERE user_id = $1 AND read_at IS NULL`, [employee.id]);
    expect(unread).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'inbox-bell.png') });

    // A notification leads to its task.
    await page.locator('#bell-list > li button.n-open').last().click();
    await expect(page.locator('#bell-menu').isHidden()).resolves.toBe(true);
    await page.locator('#detail-title', { hasText: /^客户[12]$/ }).waitFor();
    // …whose customer's last responses show the open.
    await page.locator('#detail .responses li', { hasText: 'Opened a material · Coupon 优惠券' }).waitFor();
    await context.close();
  });

  it('shows a manager the team\'s tasks with who does each, and a task link opens its panel', async () => {
    const { manager, tasks } = await world();
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'Asia/Shanghai' });
    const page = await signIn(context, manager);
    await expect(text(page, '#inbox-title')).resolves.toBe('My and my team\'s tasks');
    await row(page, '客户1').waitFor();
    await expect(row(page, '客户1').locator('.chip.person').textContent()).resolves.toBe('Wang Fang 王芳');
    await expect(row(page, '客户1').locator('.due').textContent()).resolves.toMatch(/^closes in 2[45] min$/);
    await page.check('#select-all');
    await expect(text(page, '#bulk-count')).resolves.toBe('6 selected');
    await page.click('#bulk-clear');
    await expect(page.locator('#bulk-bar').isHidden()).resolves.toBe(true);
    await page.setViewportSize({ width: 390, height: 820 });
    await page.screenshot({ path: join(SHOTS, 'inbox-phone-list.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.selectOption('#filter-who', { label: 'Only mine' });
    await page.locator('#empty', { hasText: 'Nothing left for today' }).waitFor();
    // the list and the counts are fetched separately: wait for the counts' answer too
    await page.waitForFunction(() => document.querySelector('#count-today')?.textContent === '0', undefined, { timeout: 10_000 });

    await page.goto(`${stack.baseUrl}/#/inbox/tasks/${tasks['客户7']}`);
    await page.locator('#detail-title', { hasText: '客户7' }).waitFor();
    await expect(text(page, '#detail .facts')).resolves.toContain('Wang Fang 王芳');
    await page.selectOption('#filter-channel', 'group_chat');
    await page.locator('#empty', { hasText: 'No tasks match these filters' }).waitFor();
    await context.close();
  });
});

import { randomUUID } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { checkPageInBothLanguages, choose, confirmPopconfirm, screenshot, signIn, switchLang, useConsoleStack } from '../support/console';
import { Http, signupTenant, type TenantFixture } from '../support/http';
import { sendEvents } from '../support/events';
import { eventually } from '../support/poll';

/** An admin runs the organization in the console: people, teams, API keys, caps and the business calendar. */
describe('the console: organization screens (Chromium)', () => {
  // Long journeys through several screens on a shared machine; a missing element fails in 20 s, naming it.
  jest.setTimeout(240_000);
  // Every test signs in several people from one address: the per-minute login limit is not what is tested here.
  const ctx = useConsoleStack({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });

  const modal = (page: Page) => page.locator('.ant-modal:visible').last();
  /** The Form.Item (label, control and its error) holding the control with this label. */
  const formItem = (page: Page, label: string, scope: Page | Locator = page) =>
    scope.locator('.ant-form-item').filter({ has: page.getByLabel(label, { exact: true }) }).last();
  const row = (page: Page, text: string) => page.locator('.ant-table-row', { hasText: text });
  /** Waits out the toasts of earlier actions, so a screenshot shows the page as someone arriving sees it. */
  /** A screenshot once opening animations (modals, drawers) have finished. */
  const settledShot = async (page: Page, name: string) => { await page.waitForTimeout(600); await screenshot(page, name); };
  const noToasts = (page: Page) => page.waitForFunction(() => !document.querySelector('.ant-message-notice'), undefined, { timeout: 15_000 });

  async function adminPage(t: TenantFixture, lang: 'zh' | 'en', path: string): Promise<Page> {
    const context = await ctx.browser.newContext({ locale: lang === 'zh' ? 'zh-CN' : 'en-US', viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, t.email, t.password);
    await switchLang(page, lang);
    await page.goto(`${ctx.stack.baseUrl}${path}`);
    return page;
  }

  it('adds an employee and a team, puts the employee in it; the employee signs in to their inbox; disabled, they cannot sign in', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Admin Org');
    const me = (await t.admin.get('/api/auth/me')).body;
    const page = await adminPage(t, 'zh', '/admin/users');
    await row(page, 'Test Admin').waitFor();
    await checkPageInBothLanguages(page, 'admin-users', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? '成员管理' : 'Users' }).waitFor();
      await row(page, 'Test Admin').getByText(lang === 'zh' ? '正常' : 'Active').waitFor();
    });
    await switchLang(page, 'zh');

    // Add an employee with a generated initial password.
    const email = `wang-${randomUUID()}@test.example`;
    await page.getByRole('button', { name: /添加成员/ }).click();
    const form = modal(page);
    await form.getByLabel('姓名').fill('王芳');
    await form.getByLabel('邮箱（登录账号）').fill(email);
    await form.getByRole('button', { name: /生成强密码/ }).click();
    const password = await form.getByLabel('初始密码').inputValue();
    expect(password).toMatch(/^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/);
    await settledShot(page, 'admin-users-create-zh');
    await form.locator('.ant-btn-primary').last().click();
    await row(page, email).waitFor();
    const created = (await t.admin.get(`/api/users?q=${encodeURIComponent(email)}`)).body.items;
    expect(created).toMatchObject([{ name: '王芳', email, role: 'employee', teamId: null, disabled: false }]);
    expect(await row(page, email).textContent()).toContain('员工');

    // The same email again: the API's 409 is shown at the email field, in words.
    await page.getByRole('button', { name: /添加成员/ }).click();
    await modal(page).getByLabel('姓名').fill('王芳 2');
    await modal(page).getByLabel('邮箱（登录账号）').fill(email);
    await modal(page).getByLabel('初始密码').fill('another-password-1');
    await modal(page).locator('.ant-btn-primary').last().click();
    await formItem(page, '邮箱（登录账号）', modal(page)).getByText('该邮箱已被注册。').waitFor();
    await modal(page).getByRole('button', { name: /取\s?消/ }).click();
    expect((await t.admin.get('/api/users')).body.items).toHaveLength(2);

    // A team led by the admin, made on the teams screen; its name is unique (409 at the field).
    await page.getByRole('navigation').first().getByText('团队', { exact: true }).click();
    await page.getByRole('heading', { name: '团队管理' }).waitFor();
    await page.getByText('还没有团队').waitFor();
    await page.getByRole('button', { name: /新建团队/ }).click();
    await modal(page).getByLabel('团队名称').fill('上海东区 Shanghai East');
    await choose(page, modal(page).getByLabel('负责人'), 'Test Admin');
    await modal(page).locator('.ant-btn-primary').last().click();
    await row(page, '上海东区 Shanghai East').waitFor();
    const [team] = (await t.admin.get('/api/teams')).body.items;
    expect(team).toMatchObject({ name: '上海东区 Shanghai East', managerId: me.userId, memberCount: 0 });
    await page.getByRole('button', { name: /新建团队/ }).click();
    await modal(page).getByLabel('团队名称').fill('上海东区 Shanghai East');
    await modal(page).locator('.ant-btn-primary').last().click();
    await formItem(page, '团队名称', modal(page)).getByText('已有同名团队，请换一个名称。').waitFor();
    await modal(page).getByRole('button', { name: /取\s?消/ }).click();

    // Put the employee in the team from the team's members.
    await row(page, '上海东区 Shanghai East').getByRole('button', { name: /成员/ }).click();
    const drawer = page.locator('.ant-drawer:visible');
    await drawer.getByText('这个团队还没有成员').waitFor();
    const add = drawer.getByRole('button', { name: /添\s?加/ });
    await eventually(async () => { // a pick made while the search still answers can miss: search and pick again until it took
      if (await add.isDisabled()) {
        await drawer.getByLabel('添加成员').fill('王芳');
        await page.locator('.ant-select-item-option:visible', { hasText: '王芳' }).first().click({ timeout: 3000 });
      }
      expect(await add.isDisabled()).toBe(false);
    }, 30_000);
    await add.click();
    await drawer.locator('.ant-table-row', { hasText: email }).waitFor();
    await settledShot(page, 'admin-teams-members-zh');
    expect((await t.admin.get(`/api/users/${created[0].id}`)).body.teamId).toBe(team.id);
    await drawer.getByRole('button', { name: /Close|关闭/ }).click();
    await eventually(async () => expect(await row(page, '上海东区 Shanghai East').locator('td').nth(2).textContent()).toBe('1'));
    await checkPageInBothLanguages(page, 'admin-teams', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? '团队管理' : 'Teams' }).waitFor();
      await row(page, '上海东区 Shanghai East').getByText('Test Admin').waitFor();
      await noToasts(page);
    });

    // The employee signs in (a browser of their own) and lands on their inbox.
    const employee = await (await ctx.browser.newContext({ locale: 'zh-CN' })).newPage();
    await signIn(employee, ctx.stack.baseUrl, email, password);
    await employee.waitForURL(/\/inbox$/);

    // Disabling yourself is refused in words; disabling the employee locks them out.
    await page.getByRole('navigation').first().getByText('Users', { exact: true }).click();
    await switchLang(page, 'zh');
    await confirmPopconfirm(page, row(page, 'Test Admin').getByRole('button', { name: /停\s?用/ }), '停用 Test Admin？');
    await page.locator('.ant-message').getByText('不能停用自己的账号，也不能取消自己的管理员角色。请让其他管理员操作。').waitFor();
    expect((await t.admin.get(`/api/users/${me.userId}`)).body.disabled).toBe(false);

    await confirmPopconfirm(page, row(page, email).getByRole('button', { name: /停\s?用/ }), '停用 王芳？');
    await row(page, email).getByText('已停用').waitFor();
    expect((await t.admin.get(`/api/users/${created[0].id}`)).body.disabled).toBe(true);
    // Filtered to disabled people, only the employee is listed.
    await choose(page, page.getByLabel('按状态筛选'), '已停用');
    await eventually(async () => expect(await page.locator('.ant-table-row').count()).toBe(1));
    await row(page, email).waitFor();

    const again = await (await ctx.browser.newContext({ locale: 'zh-CN' })).newPage();
    await again.goto(`${ctx.stack.baseUrl}/`);
    await again.locator('input[type=email]').fill(email);
    await again.locator('input[type=password]').fill(password);
    await again.locator('button[type=submit]').click();
    await again.getByTestId('login-error').filter({ hasText: '邮箱或密码错误。' }).waitFor();
    // The session they had ends at their next request.
    await employee.reload();
    await employee.getByRole('heading', { name: /欢迎回来|Welcome back/ }).waitFor();
  });

  it('resets a password to a generated one shown once, which then signs the person in', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Password Org');
    const email = `li-${randomUUID()}@test.example`;
    expect((await t.admin.post('/api/users', { email, name: 'Li Na 李娜', role: 'manager', password: 'first-password-1' })).status).toBe(201);
    const page = await adminPage(t, 'en', '/admin/users');
    await row(page, email).getByRole('button', { name: 'Reset password' }).click();
    // A click made while the dialog still opens can miss (a full run at load 6 waited 20 s for nothing): click the
    // reset button again while nothing is pending and no refusal is shown, until the new password shows.
    const shown = modal(page).getByText('This password is shown only once');
    const resetButton = modal(page).locator('.ant-btn-primary.ant-btn-dangerous');
    await eventually(async () => {
      if (await shown.isVisible()) return;
      expect(await modal(page).locator('.ant-alert-error').allTextContents()).toEqual([]);
      const idle = await resetButton.evaluateAll((buttons) => buttons.some((b) => !b.classList.contains('ant-btn-loading')));
      if (idle) await resetButton.click({ timeout: 3000 });
      await shown.waitFor({ timeout: 3000 });
    }, 20_000);
    const password = await page.getByTestId('new-password').inputValue();
    expect(password).toMatch(/^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/);
    await settledShot(page, 'admin-users-reset-en');
    expect((await http.post('/api/auth/login', { email, password: 'first-password-1' })).status).toBe(401);
    expect((await http.post('/api/auth/login', { email, password })).status).toBe(200);
    await modal(page).getByRole('button', { name: 'Copied, close' }).click();
    expect(await page.content()).not.toContain(password);
  });

  it('creates an API key whose secrets are shown once and work against the API, then revokes it', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Keys Org');
    const page = await adminPage(t, 'en', '/admin/api-keys');
    await page.getByText('No API keys yet').waitFor();
    await page.getByRole('button', { name: 'Create key' }).click();
    await modal(page).getByLabel('Key name').fill('CRM order sync');
    await modal(page).locator('.ant-btn-primary').last().click();
    const once = modal(page);
    await once.getByText('The key and its events signing secret are shown only this once').waitFor();
    const key = await once.getByTestId('created-key').inputValue();
    const signingSecret = await once.getByTestId('created-signing-secret').inputValue();
    expect(key.length).toBeGreaterThan(20);
    expect(signingSecret.length).toBeGreaterThan(20);
    expect(signingSecret).not.toBe(key);
    await settledShot(page, 'admin-api-keys-secret-en');
    // The key works: it acts as the role it was given, in this organization.
    const asKey = await http.withApiKey(key).get('/api/auth/me');
    expect(asKey.status).toBe(200);
    expect(asKey.body).toMatchObject({ role: 'ops', organization: t.organization, userId: null });
    await once.getByRole('button', { name: 'I have stored them safely' }).click();
    await row(page, 'CRM order sync').waitFor();
    expect(await page.content()).not.toContain(key);
    expect(await page.content()).not.toContain(signingSecret);
    const [listed] = (await t.admin.get('/api/api-keys')).body.items;
    expect(listed).toMatchObject({ name: 'CRM order sync', role: 'ops', revokedAt: null });
    expect(listed.lastUsedAt).not.toBeNull();
    expect(asKey.body.apiKeyId).toBe(listed.id);
    expect(key.startsWith(`sop_${listed.prefix}_`)).toBe(true);
    await page.reload();
    await row(page, 'CRM order sync').getByText(`sop_${listed.prefix}_…`).waitFor();
    expect(await row(page, 'CRM order sync').textContent()).not.toContain('Never');
    await checkPageInBothLanguages(page, 'admin-api-keys', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? 'API 密钥' : 'API keys' }).waitFor();
      await row(page, 'CRM order sync').getByText(lang === 'zh' ? '有效' : 'Active').waitFor();
      await noToasts(page);
    });
    await switchLang(page, 'zh');

    // Rotating the events signing secret shows the new one once; the old stops, the key stays.
    await confirmPopconfirm(page, row(page, 'CRM order sync').getByRole('button', { name: '轮换签名密钥' }), '轮换“CRM order sync”的事件签名密钥？');
    const rotated = modal(page);
    await rotated.getByText('新的签名密钥只显示这一次').waitFor();
    expect(await rotated.getByTestId('created-key').count()).toBe(0);
    const newSecret = await rotated.getByTestId('created-signing-secret').inputValue();
    expect(newSecret).toMatch(/^whsec_/);
    await rotated.getByRole('button', { name: '我已妥善保存' }).click();
    const events = { id: 'evt-rotated', type: 'custom', externalId: 'nobody', data: { name: 'ping' } };
    const keyId = listed.id;
    expect((await sendEvents(http, { id: keyId, key, signingSecret }, events)).body.code).toBe('SIGNATURE_INVALID');
    expect((await sendEvents(http, { id: keyId, key, signingSecret: newSecret }, events)).status).toBe(200);

    await confirmPopconfirm(page, row(page, 'CRM order sync').getByRole('button', { name: /吊\s?销/ }), '吊销密钥“CRM order sync”？');
    await page.getByText('还没有 API 密钥').waitFor(); // revoked keys are hidden until asked for
    expect((await t.admin.get('/api/api-keys')).body.items[0].revokedAt).not.toBeNull();
    expect((await http.withApiKey(key).get('/api/auth/me')).status).toBe(401);
    await page.getByText('显示已吊销的密钥').click();
    await row(page, 'CRM order sync').getByText(/已吊销/).waitFor();
  });

  it('saves the per-contact caps and shows a bad value at its field', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Caps Org');
    const page = await adminPage(t, 'zh', '/admin/settings');
    const perDay = page.getByLabel('每天最多');
    const perWeek = page.getByLabel('每周最多（自然周）');
    await perDay.waitFor();
    expect(await perDay.inputValue()).toBe('');
    await perDay.fill('2');
    await perWeek.fill('5');
    await page.getByRole('button', { name: /保\s?存/ }).click();
    await page.getByText('触达上限已保存').waitFor();
    expect((await t.admin.get('/api/settings/contact-caps')).body).toEqual({ perDay: 2, perWeek: 5 });

    await perDay.fill('0');
    await formItem(page, '每天最多').getByText('请输入 1–100 之间的整数，或留空表示不限').waitFor();
    await perWeek.fill('501');
    await formItem(page, '每周最多（自然周）').getByText('请输入 1–500 之间的整数，或留空表示不限').waitFor();
    await page.getByRole('button', { name: /保\s?存/ }).click();
    await page.waitForTimeout(300);
    expect((await t.admin.get('/api/settings/contact-caps')).body).toEqual({ perDay: 2, perWeek: 5 });

    // A weekly cap below the daily one is allowed but warned about; an empty field means no cap.
    await perDay.fill('3');
    await perWeek.fill('2');
    await formItem(page, '每周最多（自然周）').getByText('每周上限小于每天上限，每天上限将不起作用').waitFor();
    await perWeek.fill('');
    await page.getByRole('button', { name: /保\s?存/ }).click();
    await eventually(async () => expect((await t.admin.get('/api/settings/contact-caps')).body).toEqual({ perDay: 3, perWeek: null }));
    await checkPageInBothLanguages(page, 'admin-settings', async (lang) => {
      await page.getByText(lang === 'zh' ? '单客户触达上限' : 'Per-contact caps').waitFor();
      expect(await page.getByLabel(lang === 'zh' ? '每天最多' : 'At most per day').inputValue()).toBe('3');
      await noToasts(page);
    });
  });

  it('shows the 2026 holidays and make-up working days as a month, and stores a day set by clicking it', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Calendar Org');
    const page = await adminPage(t, 'zh', '/admin/calendar?month=2026-10');
    const cell = (date: string) => page.locator(`.cal-cell[data-date="${date}"]`);
    await cell('2026-10-01').getByText('国庆节').waitFor();
    expect(await cell('2026-10-01').getAttribute('data-kind')).toBe('holiday');
    expect(await cell('2026-10-01').locator('.cal-badge').textContent()).toBe('休');
    expect(await cell('2026-10-10').getAttribute('data-kind')).toBe('makeup'); // a Saturday worked for the National Day week
    expect(await cell('2026-10-10').locator('.cal-badge').textContent()).toBe('班');
    expect(await cell('2026-10-17').getAttribute('data-kind')).toBe('weekend');
    await checkPageInBothLanguages(page, 'admin-calendar', async (lang) => {
      await cell('2026-10-01').getByText(lang === 'zh' ? '国庆节' : 'National Day').waitFor();
      await page.getByText(lang === 'zh' ? '调休上班' : 'Make-up working day').first().waitFor();
    });
    await switchLang(page, 'zh');

    // The previous month loads its own range: the make-up Sunday before National Day.
    await page.getByRole('button', { name: '上个月' }).click();
    await page.waitForURL(/month=2026-09/);
    await eventually(async () => expect(await cell('2026-09-20').getAttribute('data-kind')).toBe('makeup'));
    await cell('2026-09-20').getByText('国庆节调休').waitFor();
    expect(await cell('2026-09-25').getAttribute('data-kind')).toBe('holiday'); // Mid-autumn

    // Click a working Friday and make it the organization's own day off.
    await cell('2026-09-18').click();
    await modal(page).getByText('国家日历').waitFor();
    await modal(page).getByLabel('名称（可选）').fill('店庆');
    await settledShot(page, 'admin-calendar-day-zh');
    await modal(page).getByRole('button', { name: '保存本企业设置' }).click();
    await eventually(async () => expect(await cell('2026-09-18').getAttribute('data-kind')).toBe('tenantOff'));
    await cell('2026-09-18').getByText('店庆').waitFor();
    const stored = async () => (await t.admin.get('/api/calendar/days?from=2026-09-18&to=2026-09-18')).body[0];
    expect(await stored()).toEqual({ date: '2026-09-18', working: false, name: '店庆', source: 'tenant' });
    const [row18] = await ctx.stack.db.query(`SELECT working, name FROM calendar_overrides WHERE date = '2026-09-18' AND tenant_id = (SELECT tenant_id FROM users WHERE email = $1)`, [t.email]);
    expect(row18).toEqual({ working: false, name: '店庆' });

    // Removing it brings the national calendar back.
    await cell('2026-09-18').click();
    await confirmPopconfirm(page, modal(page).getByRole('button', { name: '删除本企业设置' }), '删除后这一天恢复为国家日历的安排。');
    await eventually(async () => expect(await cell('2026-09-18').getAttribute('data-kind')).toBe('workday'));
    expect(await stored()).toEqual({ date: '2026-09-18', working: true, name: '', source: 'cn' });
  });
});

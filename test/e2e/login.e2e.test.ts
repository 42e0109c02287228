import { randomUUID } from 'node:crypto';
import { accessibilityProblems, checkPageInBothLanguages, missingTranslations, screenshot, signIn, signOut, useConsoleStack } from '../support/console';
import { Http, signupTenant } from '../support/http';

/** The console's door: signing in, landing by role, language kept with the user, signing out. */
describe('the console: sign-in and the shell (Chromium)', () => {
  const ctx = useConsoleStack();

  it('refuses a wrong password in words, lands an admin on users, switches language and remembers it, signs out', async () => {
    const t = await signupTenant(new Http(ctx.stack.baseUrl), 'Browser Org');
    const context = await ctx.browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${ctx.stack.baseUrl}/`);
    await page.getByRole('heading', { name: '欢迎回来' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'login-zh');

    await page.locator('input[type=email]').fill(t.email);
    await page.locator('input[type=password]').fill('wrong-password');
    await page.locator('button[type=submit]').click();
    await page.getByTestId('login-error').filter({ hasText: '邮箱或密码错误。' }).waitFor();

    await signIn(page, ctx.stack.baseUrl, t.email, t.password);
    await page.waitForURL(/\/admin\/users$/);
    await checkPageInBothLanguages(page, 'shell', async (lang) => {
      await page.getByRole('navigation').first().getByText(lang === 'zh' ? '客户列表' : 'Contacts').waitFor();
    });
    // The last switch (English) is the user's preference now: a new browser signs in to English.
    const savedLocale = async () => (await t.admin.get('/api/me/notification-preferences')).body.locale;
    for (let i = 0; i < 50 && (await savedLocale()) !== 'en'; i++) await page.waitForTimeout(100);
    expect(await savedLocale()).toBe('en');
    const other = await (await ctx.browser.newContext({ locale: 'zh-CN' })).newPage();
    await signIn(other, ctx.stack.baseUrl, t.email, t.password);
    await other.getByRole('navigation').first().getByText('Contacts').waitFor();
    expect(await missingTranslations(other)).toEqual([]);

    await signOut(page);
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await context.close();
  });

  it('lands each role on its own first screen and hides what it may not open', async () => {
    const http = new Http(ctx.stack.baseUrl);
    const t = await signupTenant(http, 'Roles Org');
    const page = await ctx.browser.newPage({ locale: 'en-US' });
    const landing = { employee: /\/inbox$/, manager: /\/dashboard$/, ops: /\/contacts$/ } as const;
    for (const role of ['employee', 'manager', 'ops'] as const) {
      const email = `${role}-${randomUUID()}@test.example`;
      const password = `pw-${randomUUID()}`;
      expect((await t.admin.post('/api/users', { email, name: `${role} person`, role, password })).status).toBe(201);
      await page.evaluate(() => localStorage.clear()).catch(() => undefined);
      await signIn(page, ctx.stack.baseUrl, email, password);
      await page.waitForURL(landing[role]);
      const nav = (await page.locator('nav').allTextContents()).join(' ');
      if (role !== 'ops') expect(nav).not.toMatch(/Contacts|Users/);
      await page.goto(`${ctx.stack.baseUrl}/admin/users`);
      await page.getByText(/This page does not exist|页面不存在/).waitFor();
      await signOut(page);
    }
    await page.close();
  });
});

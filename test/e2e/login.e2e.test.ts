import type { Browser } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/env';
import { launchBrowser } from '../support/browser';
import { Http, signupTenant } from '../support/http';
import { Stack } from '../support/stack';

describe('web app in a real browser (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await Stack.start();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('logs in, shows who you are, switches between Chinese and English, and shows login errors', async () => {
    const t = await signupTenant(new Http(stack.baseUrl), 'Browser Org');
    const page = await browser.newPage({ locale: 'zh-CN' });
    await page.goto(`${stack.baseUrl}/`);
    await expect(page.locator('h1').first().textContent()).resolves.toBe('欢迎回来');

    await page.fill('input[name=email]', t.email);
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('button[type=submit]');
    await page.locator('#error', { hasText: '邮箱或密码错误。' }).waitFor();

    await page.fill('input[name=password]', t.password);
    await page.click('button[type=submit]');
    await page.locator('#me-card').waitFor({ state: 'visible' });
    await expect(page.locator('#error').isHidden()).resolves.toBe(true);
    await expect(page.locator('#me-org').textContent()).resolves.toBe(t.organization);
    await expect(page.locator('#me-role').textContent()).resolves.toBe('管理员');

    await page.click('#lang');
    await expect(page.locator('#me-role').textContent()).resolves.toBe('Admin');
    await expect(page.locator('#logout').textContent()).resolves.toBe('Sign out');
    mkdirSync(join(ROOT, '.data/screenshots'), { recursive: true });
    await page.screenshot({ path: join(ROOT, '.data/screenshots/signed-in.png') });

    await page.click('#logout');
    await page.locator('#login-card').waitFor({ state: 'visible' });
  });
});

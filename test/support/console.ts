import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { eventually } from './poll';
import { ROOT } from './env';
import { Http } from './http';
import { Stack } from './stack';

export const SHOTS = join(ROOT, '.data/screenshots');
export type Lang = 'zh' | 'en';

/** Signs in through the console's login form and waits for the signed-in shell. */
export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.locator('input[type=email]').fill(email);
  await page.locator('input[type=password]').fill(password);
  await page.locator('button[type=submit]').click();
  await page.getByTestId('user-menu').waitFor();
}

/**
 * Signs out through the header's user menu and waits for the sign-in page. In loaded CI runs a click on the
 * popover's button, made while the popover still opened, now and then left the shell up: the menu is opened
 * and the button clicked again (as a person would) until the sign-in page shows.
 */
export async function signOut(page: Page): Promise<void> {
  const welcome = page.getByRole('heading', { name: /Welcome back|欢迎回来/ });
  await eventually(async () => {
    if (await page.getByTestId('user-menu').isVisible()) {
      await page.getByTestId('user-menu').click();
      await page.getByRole('button', { name: /Sign out|退出登录/ }).click({ timeout: 5000 });
    }
    await welcome.waitFor({ timeout: 5000 });
  }, 30_000);
}

/** Switches the console's language with the header's switch (the choice is remembered for the user). */
export async function switchLang(page: Page, lang: Lang): Promise<void> {
  await page.locator('.ant-segmented-item', { hasText: lang === 'zh' ? '中文' : 'EN' }).first().click();
  await page.waitForFunction((l) => document.documentElement.lang === (l === 'zh' ? 'zh-CN' : 'en'), lang);
}

/** i18n keys the page asked for that have no text in the current language (the console records them). */
export async function missingTranslations(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as unknown as { __missingI18n?: Set<string> }).__missingI18n ?? [])]);
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2 A and AA rules). */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  // the page at rest: a fading popover or message mid-transition has colours of neither end (a contrast finding
  // that comes and goes with the machine's load); spinners, which never end, are left running
  await animationsDone(page, 3000);
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(', ')}`);
}

/**
 * Saves .data/screenshots/<name>.png (full page), from the top: a page left scrolled by an earlier action would show
 * its sticky header in the middle of the shot and its own top cut off.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * The checks every main page gets, in both languages: no untranslated key, no serious accessibility
 * problem, and a screenshot per language. `ready` waits for the page's content in that language.
 */
export async function checkPageInBothLanguages(page: Page, name: string, ready: (lang: Lang) => Promise<void>): Promise<void> {
  for (const lang of ['zh', 'en'] as const) {
    await switchLang(page, lang);
    await ready(lang);
    expect(await missingTranslations(page)).toEqual([]);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, `${name}-${lang}`);
  }
}

/** Picks an option in the Ant Design dropdown that is open now. */
export const pick = (page: Page, text: string | RegExp) => page.locator('.ant-select-item-option:visible', { hasText: text }).first().click();

/**
 * Picks an option of the Ant Design select `select` and waits until the select shows it: a click made while the
 * list still opens or its options still load can miss, so the pick is made again until it took.
 */
export async function choose(page: Page, select: Locator, text: string | RegExp): Promise<void> {
  // the test id lands on the select's input; what it shows is in the enclosing .ant-select
  const root = select.locator('xpath=ancestor-or-self::*[contains(concat(" ", normalize-space(@class), " "), " ant-select ")][1]');
  const chosen = root.filter({ hasText: text }).first(); // the list itself is in a portal, outside the select
  await eventually(async () => {
    if (await chosen.isVisible()) return;
    if (!(await root.evaluate((el) => el.classList.contains('ant-select-open')))) await openSelect(select);
    await page.locator('.ant-select-item-option:visible', { hasText: text }).first().click({ timeout: 3000 });
    await chosen.waitFor({ timeout: 2000 });
  }, 20_000);
}

/**
 * Opens a select from the middle of the window: at its bottom edge a sticky bar (the SOP editor's save bar) can lie
 * over it, and a click that keeps landing on the bar would wait out the whole test.
 */
async function openSelect(select: Locator): Promise<void> {
  await select.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await select.click({ timeout: 3000 });
}

/**
 * Sets an Ant Design time range picker to `start`–`end` (`HH:mm`) through its panel, as a person would, and waits
 * until both inputs show them. Under load a click made while the panel still opens, or while it moves from the start
 * to the end, can land on the other end's panel: the range is picked again until both inputs read right, and a
 * failure says what they read.
 */
export async function pickTimeRange(page: Page, picker: Locator, start: string, end: string): Promise<void> {
  const inputs = picker.locator('input');
  const panel = page.locator('.ant-picker-dropdown:visible');
  const cell = (column: number, text: string) =>
    panel.locator('.ant-picker-time-panel-column').nth(column).locator('.ant-picker-time-panel-cell-inner', { hasText: new RegExp(`^${text}$`) });
  await eventually(async () => {
    if (await panel.count()) await page.keyboard.press('Escape'); // a half-made pick of the try before
    await inputs.first().click({ timeout: 5000 });
    for (const [hh, mm] of [start.split(':'), end.split(':')]) {
      await cell(0, hh).click({ timeout: 5000 });
      await cell(1, mm).click({ timeout: 5000 });
      await panel.locator('.ant-picker-ok button').click({ timeout: 5000 });
    }
    await panel.waitFor({ state: 'hidden', timeout: 5000 });
    expect(await inputs.evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value))).toEqual([start, end]);
  }, 30_000);
}

/**
 * The options an Ant Design select offers, read while its list is open: the list can close under a re-render right
 * after it opened, so it is opened again until the options can be read.
 */
export async function optionsOf(page: Page, select: Locator): Promise<string[]> {
  const options = page.locator('.ant-select-item-option:visible');
  let texts: string[] = [];
  await eventually(async () => {
    if (!(await options.first().isVisible())) await openSelect(select);
    await options.first().waitFor({ timeout: 2000 });
    texts = await options.allTextContents();
    if (texts.length === 0) throw new Error('the list closed while it was read');
  }, 20_000);
  return texts;
}

/** Waits (at most `ms`) until the page's finite animations have ended; spinners, which never end, are left running. */
async function animationsDone(page: Page, ms: number): Promise<void> {
  await page.evaluate((wait) => Promise.race([
    Promise.all(document.getAnimations().filter((a) => a.effect?.getTiming().iterations !== Infinity).map((a) => a.finished.catch(() => undefined))),
    new Promise((resolve) => setTimeout(resolve, wait)),
  ]), ms);
}

/**
 * Opens the Popconfirm that `trigger` opens, whose question is `title`, and answers yes, as a person would: on a
 * loaded machine a click that lands while the dialog around the trigger or the confirmation itself still zooms in can
 * be lost (seen in full runs, for both clicks), so a click that did nothing is made again. Its "yes" is clicked again
 * only when, 15 s later, the confirmation is still open and not busy with the first answer.
 */
export async function confirmPopconfirm(page: Page, trigger: Locator, title: string | RegExp): Promise<void> {
  const confirmation = page.locator('.ant-popconfirm:visible', { hasText: title });
  const yes = confirmation.locator('.ant-popconfirm-buttons .ant-btn-primary');
  let answered = false;
  await eventually(async () => {
    if (!(await confirmation.isVisible())) {
      if (answered) return;
      await animationsDone(page, 5000);
      await trigger.click({ timeout: 3000 });
      await confirmation.waitFor({ timeout: 5000 });
    }
    if (!(await yes.getAttribute('class', { timeout: 3000 }))?.includes('ant-btn-loading')) {
      await animationsDone(page, 5000);
      await yes.click({ timeout: 3000 });
      answered = true;
    }
    await confirmation.waitFor({ state: 'hidden', timeout: 15_000 });
  }, 60_000);
}

/**
 * Answers yes in the confirmation dialog (`Modal.confirm`) that shows `question`, as a person would: a click that
 * lands while the dialog still zooms in can be lost on a loaded machine (seen in full runs), so it is made again until
 * the dialog has gone. A button busy with the first answer (loading) is not clicked again.
 */
export async function confirmModal(page: Page, question: Locator): Promise<void> {
  await question.waitFor();
  const dialog = page.locator('.ant-modal-confirm', { has: question });
  const yes = dialog.locator('.ant-modal-confirm-btns .ant-btn-primary');
  await eventually(async () => {
    if ((await yes.isVisible()) && !(await yes.getAttribute('class', { timeout: 2000 }))?.includes('ant-btn-loading')) {
      await animationsDone(page, 5000);
      await yes.click({ timeout: 2000 });
    }
    await dialog.waitFor({ state: 'hidden', timeout: 5000 });
  }, 30_000);
}

/** The dialog on top. */
export const visibleModal = (page: Page) => page.locator('.ant-modal:visible').last();

/** A browser test's world: the whole stack (API, worker, Postgres, Temporal) and a headless Chromium, for the file. */
export function useConsoleStack(options: Parameters<typeof Stack.start>[0] = {}): { stack: Stack; http: Http; browser: Browser } {
  const ctx = {} as { stack: Stack; http: Http; browser: Browser };
  beforeAll(async () => {
    ctx.stack = await Stack.start(options);
    ctx.http = new Http(ctx.stack.baseUrl);
    ctx.browser = await launchBrowser();
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.stack?.stop();
  });
  return ctx;
}

// The segment builder's part of the console bench: edits a rule in the real page and times each fresh count.
/* global window, document, performance -- functions passed to page.evaluate run in the browser */

/**
 * On /segments/new, sets the first condition's tag to each of `tags` in turn, `edits` times. Each figure is the
 * time from the click that made the edit to the page's next `segment:count` mark (a fresh count on screen).
 */
export async function editRule(page, tags, edits) {
  await page.locator('.rule-row').first().waitFor();
  await page.evaluate(() => {
    document.addEventListener('click', (e) => {
      if (e.target.closest('.ant-select-item-option')) window.__lastEdit = performance.now();
    }, true);
  });
  const times = [];
  for (let i = 0; i < edits; i++) {
    await page.evaluate(() => performance.clearMarks('segment:count'));
    await page.locator('.rule-row .ant-select').nth(1).click();
    await page.keyboard.type(tags[i % tags.length].name); // the option list is virtual: search brings the tag into view
    await page.locator('.ant-select-item-option:visible', { hasText: new RegExp(`^${tags[i % tags.length].name}$`) }).first().click();
    await page.waitForFunction(() => performance.getEntriesByName('segment:count').some((m) => m.startTime > window.__lastEdit), null, { timeout: 30_000 });
    times.push(await page.evaluate(() => performance.getEntriesByName('segment:count').find((m) => m.startTime > window.__lastEdit).startTime - window.__lastEdit));
  }
  return times;
}

// Accessibility: axe-core (pinned in package-lock.json) runs in the page
// in each of the dashboard's states, and no violation of serious or
// critical impact may remain. Every control is reachable by the keyboard
// and labelled; the time-travel page's keys are tested in
// timetravel.test.mjs and dashboard.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { BASE_URL, TEST_MS, dbVersion, openDashboard, useHarness, waitLoaded, withPage } from './harness.mjs';

useHarness();

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The serious and critical violations axe finds in the page, in words. */
async function violations(page, state) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  return found.map((v) => `${state}: ${v}`);
}

test('20 accessibility: the time-travel page in each of its states', { timeout: TEST_MS }, async () => {
  await withPage('20-a11y', {}, async (page) => {
    const found = [];
    await openDashboard(page);
    await page.locator('.start-page a[data-stream-id]').first().waitFor();
    found.push(...await violations(page, 'start page'));

    const head = await dbVersion('order-002');
    await page.evaluate(() => { window.location.hash = '#stream=order-002'; });
    await waitLoaded(page, 'order-002', head);
    found.push(...await violations(page, 'order-002, state'));
    for (const tab of ['diff', 'event']) {
      await page.locator(`#tab-${tab}`).click();
      found.push(...await violations(page, `order-002, ${tab}`));
    }
    await page.locator('#skip-event').click();
    found.push(...await violations(page, 'order-002, what if'));
    await page.locator('#what-if .what-if-clear').click();
    await page.locator('#correlation-link').click();
    await page.locator('#correlation-panel .correlation-row').first().waitFor();
    found.push(...await violations(page, 'order-002, correlation'));
    await page.locator('#tab-state').click();
    await page.locator('#state-view .chart-button').first().click();
    await page.locator('#chart-view .chart-summary').waitFor();
    found.push(...await violations(page, 'order-002, chart'));
    await page.locator('#btn-keys').click();
    found.push(...await violations(page, 'keys dialog'));
    await page.keyboard.press('Escape');
    assert.deepEqual(found, []);
  });
});

test('21 accessibility: every control of the time-travel page is reachable with Tab', { timeout: TEST_MS }, async () => {
  await withPage('21-tab', {}, async (page) => {
    await openDashboard(page, '#stream=order-002');
    await waitLoaded(page, 'order-002', await dbVersion('order-002'));
    const reached = new Set();
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      const id = await page.evaluate(() => document.activeElement?.id || document.activeElement?.className || '');
      if (id) reached.add(id);
    }
    for (const id of ['btn-open', 'btn-keys', 'stream-search', 'stream-type-filter', 'btn-play', 'slider',
      'play-speed', 'event-search', 'timeline', 'tab-state']) {
      assert.ok(reached.has(id), `#${id} is reached with Tab (reached: ${[...reached].join(', ')})`);
    }
  });
});

test('22 accessibility: the operations page', { timeout: TEST_MS }, async () => {
  await withPage('22-a11y-ops', {}, async (page) => {
    await page.goto(`${BASE_URL}ops.html`);
    await page.waitForFunction(() => window.chronicleOps !== undefined);
    await page.evaluate(() => window.chronicleOps.ready);
    assert.deepEqual(await violations(page, 'operations'), []);
  });
});

// Browser tests of time travel like Redux DevTools and of the rough edges
// of 0.2's dashboard: skipping events (what if), a member's chart over
// versions, text search over the timeline, the natural order of the
// stream list, the start page, the keyboard, and the layout at 900 px.
//
// Expected values come from the database: a what-if state is compared with
// chronicle.state_at of a stream the test appends without the skipped
// events; chart values with state_at; search results with the events read
// through SQL. The streams are the test's own (ids with a random suffix).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TEST_MS, db, dbState, dbVersion, openDashboard, screenshot, useHarness, waitLoaded, waitSelected, withPage,
} from './harness.mjs';

useHarness();

const RUN = Math.random().toString(36).slice(2, 8);

/** Appends `events` (objects with event_type and data) as a new stream of `type`. */
async function appendStream(streamId, type, events) {
  await db.query('SELECT chronicle.append_events($1, $2::jsonb, 0, $3)', [streamId, JSON.stringify(events), type]);
  await db.query('SELECT chronicle.seal()');
}

const ORDER_EVENTS = [
  { event_type: 'OrderCreated', data: { customer_id: 'customer-7', status: 'created' } },
  { event_type: 'ItemAdded', data: { item_id: 'apple', quantity: 3, price: 1.5 } },
  { event_type: 'ItemAdded', data: { item_id: 'banana', quantity: 2, price: 0.75 } },
  { event_type: 'ItemAdded', data: { item_id: 'apple', quantity: 5, price: 1.25 } },
  { event_type: 'OrderPaid', data: { status: 'paid', payment_method: 'card' } },
];

/** Selects version `v` by its timeline row and waits for it. */
async function selectRow(page, v, head) {
  await page.locator(`#timeline .timeline-row[data-version="${v}"]`).click();
  await waitSelected(page, v, head);
}

const stateText = (page) => page.locator('#state-json').textContent();

/** The versions the timeline lists (the rows in view). */
const listed = (page) => page.$$eval('#timeline .timeline-row:not([hidden])', (rows) => rows.map((r) => Number(r.dataset.version)));

/** Waits until the timeline lists exactly `versions`. */
async function waitListed(page, versions, what) {
  try {
    await page.waitForFunction((want) => {
      const rows = [...document.querySelectorAll('#timeline .timeline-row:not([hidden])')].map((r) => Number(r.dataset.version));
      return rows.join() === want.join();
    }, versions);
  } catch (err) {
    throw new Error(`${what}: the timeline lists ${await listed(page)}, not ${versions}`, { cause: err });
  }
}

test('10 what if: a skipped event leaves the state of the stream without it; nothing is written', { timeout: TEST_MS }, async () => {
  const stream = `tt-order-${RUN}`;
  await appendStream(stream, 'Order', ORDER_EVENTS);
  // What the state would be without event 2, and without events 2 and 4.
  await appendStream(`${stream}-no2`, 'Order', ORDER_EVENTS.filter((_, i) => i !== 1));
  await appendStream(`${stream}-no24`, 'Order', ORDER_EVENTS.filter((_, i) => i !== 1 && i !== 3));
  await withPage('10-what-if', {}, async (page) => {
    await openDashboard(page, `#stream=${stream}`);
    await waitLoaded(page, stream, 5);
    await selectRow(page, 2, 5);
    await page.locator('#tab-event').click();
    await page.locator('#skip-event').click();
    assert.equal(await page.locator('#skip-event').getAttribute('aria-pressed'), 'true');
    assert.match(await page.locator('#what-if').textContent(), /What if event 2 had not happened/);
    assert.ok(await page.locator('#timeline .timeline-row[data-version="2"]').evaluate((r) => r.classList.contains('skipped')));
    assert.ok(await page.locator('#db-check').isHidden(), 'a what-if state is not compared with the database');
    await page.locator('#tab-diff').click();
    assert.match(await page.locator('#diff-view').textContent(), /no change — skipped: what if it had not happened/);

    // Each later version: the state of the stream without event 2.
    for (const v of [3, 4, 5, 1]) {
      await selectRow(page, v, 5);
      const without = v >= 2 ? v - 1 : v;
      assert.equal(await stateText(page), await dbState(`${stream}-no2`, without), `version ${v} without event 2`);
    }
    // S skips the selected event too: 2 and 4 now.
    await selectRow(page, 4, 5);
    await page.locator('#timeline').focus();
    await page.keyboard.press('s');
    await selectRow(page, 5, 5);
    assert.equal(await stateText(page), await dbState(`${stream}-no24`, 3), 'version 5 without events 2 and 4');
    assert.match(await page.locator('#what-if').textContent(), /events 2, 4 had not happened/);
    // The diff of version 5 is the one between the what-if states.
    await page.locator('#tab-diff').click();
    const paths = await page.$$eval('#diff-view [data-path]', (ops) => ops.map((o) => `${o.dataset.op} ${o.dataset.path}`));
    assert.deepEqual(paths.sort(), ['add /payment_method', 'replace /status']);
    await screenshot(page, '10-what-if');

    // Back to what happened.
    await page.locator('#what-if .what-if-clear').click();
    assert.ok(await page.locator('#what-if').isHidden());
    assert.equal(await stateText(page), await dbState(stream, 5), 'every event again');
    await page.waitForFunction(() => document.getElementById('db-check').dataset.status === 'same');
  });
  assert.equal(await dbVersion(stream), 5, 'skipping wrote nothing');
});

test('11 chart: /balance of account-big over 100,000 versions; it follows the selection and selects on click', { timeout: 420_000 }, async () => {
  const head = await dbVersion('account-big');
  const balance = async (v) => Number((await db.query(
    "SELECT chronicle.state_at('account-big', $1::bigint) ->> 'balance' AS b", [v])).rows[0].b);
  await withPage('11-chart', {}, async (page) => {
    await openDashboard(page, '#stream=account-big&v=77777');
    await waitLoaded(page, 'account-big', head);
    await waitSelected(page, 77777, head);
    await page.locator('#state-view .chart-button[data-chart="/balance"]').click();
    const summary = page.locator('#chart-view[data-member="/balance"] .chart-summary[data-selected]');
    await summary.waitFor();
    const shown = async () => Number((await summary.getAttribute('data-selected')).replaceAll(',', ''));
    assert.ok(Math.abs(await shown() - await balance(77777)) < 1e-6, 'the chart\'s value at 77777 is state_at\'s');
    // The series itself, at a few versions, against the database.
    const series = await page.evaluate(() => {
      const h = window.chronicleDashboard.history();
      const started = performance.now();
      const values = h.series('/balance', 0, h.head());
      return { ms: performance.now() - started, at: [0, 1, 50_000, 99_999].map((v) => values[v]), length: values.length };
    });
    assert.equal(series.length, head + 1);
    for (const [i, v] of [0, 1, 50_000, 99_999].entries()) {
      assert.ok(Math.abs(series.at[i] - await balance(v)) < 1e-6, `series at ${v}: ${series.at[i]}`);
    }
    console.log(`# series of /balance over ${head} versions: ${series.ms.toFixed(0)} ms`);
    // The marker follows the keyboard.
    await page.locator('#slider').focus();
    await page.keyboard.press('End');
    await waitSelected(page, head, head);
    await page.waitForFunction((h) => document.querySelector('.chart-summary').textContent.startsWith(`At version ${h}:`), head);
    assert.ok(Math.abs(await shown() - await balance(head)) < 1e-6);
    // A click near the left of the plot selects an early version.
    const over = page.locator('#chart-view .u-over');
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.click(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.waitForFunction(() => window.chronicleDashboard.selected() < 20_000);
    const picked = await page.evaluate(() => window.chronicleDashboard.selected());
    assert.ok(picked > 5_000, `clicking at 10 % of the plot selects about version 10,000 (got ${picked})`);
    await screenshot(page, '11-chart');
  });
});

test('12 search: the timeline lists the events that mention a text, with the type filter; Enter, Esc and /', { timeout: TEST_MS }, async () => {
  const stream = `tt-search-${RUN}`;
  await appendStream(stream, 'Order', ORDER_EVENTS);
  const matching = async (needle) => (await db.query(
    `SELECT version FROM chronicle.read_stream($1) e
      WHERE strpos(lower(e.event_type || ' ' || e.data::text || ' ' || e.event_id::text), lower($2)) > 0
      ORDER BY version`, [stream, needle])).rows.map((r) => Number(r.version));
  await withPage('12-search', {}, async (page) => {
    await openDashboard(page, `#stream=${stream}`);
    await waitLoaded(page, stream, 5);
    await page.locator('#timeline').focus();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'event-search', '/ focuses the search');
    for (const needle of ['banana', 'ITEMADDED', 'apple', 'card']) {
      await page.locator('#event-search').fill(needle);
      const want = await matching(needle);
      assert.ok(want.length > 0 && want.length < 5, `${needle} is in some events only`);
      await waitListed(page, want, `events mentioning ${needle}`);
    }
    // What every event of the stream shares (its id, versions, times) finds none.
    await page.locator('#event-search').fill(stream);
    await page.waitForFunction((s) => document.getElementById('timeline').dataset.empty === `No event mentions "${s}".`, stream);
    await waitListed(page, [], 'the stream id');
    // An event id finds its event.
    const { rows } = await db.query('SELECT event_id::text AS id FROM chronicle.read_stream($1) WHERE version = 3', [stream]);
    await page.locator('#event-search').fill(rows[0].id.slice(0, 13).toUpperCase());
    await waitListed(page, [3], 'an event id');
    // With the type filter: both must hold.
    await page.locator('#event-search').fill('apple');
    await page.locator('#event-type-filter input[value="OrderPaid"]').check();
    await page.waitForFunction(() => document.getElementById('timeline').dataset.empty === 'No events of the chosen types match the search.');
    await page.locator('#event-type-filter input[value="OrderPaid"]').uncheck();
    await page.locator('#event-type-filter input[value="ItemAdded"]').check();
    await waitListed(page, [2, 4], 'ItemAdded events mentioning apple');
    // Enter selects the next match (past the last: the first); Esc clears the search.
    await selectRow(page, 2, 5);
    await page.locator('#event-search').focus();
    await page.keyboard.press('Enter');
    await waitSelected(page, 4, 5);
    await page.keyboard.press('Enter');
    await waitSelected(page, 2, 5);
    await page.keyboard.press('Escape');
    await waitListed(page, [2, 3, 4], 'every ItemAdded event');
    assert.equal(await page.locator('#event-search').inputValue(), '');
    await screenshot(page, '12-search');
  });
});

test('13 stream list in natural order; the start page offers the streams written last and the largest', { timeout: TEST_MS }, async () => {
  await withPage('13-start', {}, async (page) => {
    await openDashboard(page);
    await page.locator('.start-page a[data-stream-id]').first().waitFor();
    const ids = await page.$$eval('#stream-list [data-stream-id]', (rows) => rows.map((r) => r.dataset.streamId));
    const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
    assert.deepEqual(ids, [...ids].sort((a, b) => natural.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)), 'natural order');
    assert.ok(ids.indexOf('customer-2') >= 0 && ids.indexOf('customer-2') < ids.indexOf('customer-10'), 'customer-2 before customer-10');
    const largest = await page.$$eval('#start-largest + ol a', (links) => links.map((a) => a.dataset.streamId));
    const { rows } = await db.query('SELECT stream_id FROM chronicle.stream_activity ORDER BY events DESC, stream_id LIMIT 10');
    assert.deepEqual(largest, rows.map((r) => r.stream_id));
    await screenshot(page, '13-start');
    const recent = page.locator('#start-recent + ol a').first();
    const id = await recent.getAttribute('data-stream-id');
    await recent.click();
    await waitLoaded(page, id, await dbVersion(id));
  });
});

test('14 rough edges: at 900 px the title and the database check stay whole; long type names; the progress floats; keys', { timeout: TEST_MS }, async () => {
  const stream = `tt-types-${RUN}`;
  const types = ['UserRegisteredEvent', 'EmailAddressConfirmedEvent', 'SubscriptionPlanChangedEvent',
    'PaymentMethodAttachedEvent', 'InvoiceSentEvent', 'AccountClosedEvent'];
  await appendStream(stream, 'Member', types.map((t, i) => ({ event_type: t, data: { step: i } })));
  // The database check's own request for counter-1 at 4 answers 400 (22000).
  await withPage('14-layout', { allowErrors: [/status of 400 .*\/api\/streams\/counter-1\/state/] }, async (page) => {
    await page.setViewportSize({ width: 900, height: 800 });
    // counter-1: state_at fails at version 3 (22000): the check's long message.
    await openDashboard(page, '#stream=counter-1&v=4');
    await waitLoaded(page, 'counter-1', 4);
    await page.waitForFunction(() => document.getElementById('db-check').dataset.status === 'unknown');
    const fits = (selector) => page.locator(selector).evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5 && el.scrollWidth <= el.clientWidth + 1;
    });
    assert.ok(await fits('#stream-title .title-id'), 'the stream id is shown whole at 900 px');
    assert.ok(await fits('#db-check'), 'the database check is shown whole at 900 px');
    assert.match(await page.locator('#db-check').textContent(), /22000.*not a number/);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal overflow');
    await screenshot(page, '14-900px');

    await page.setViewportSize({ width: 1280, height: 800 });
    await openDashboard(page, `#stream=${stream}`);
    await waitLoaded(page, stream, types.length);
    const filter = await page.locator('#event-type-filter').evaluate((el) => ({
      scrolls: el.scrollHeight > el.clientHeight + 1,
      clipped: [...el.querySelectorAll('.chip')].filter((c) => {
        const r = c.getBoundingClientRect();
        const f = el.getBoundingClientRect();
        return r.bottom > f.bottom + 0.5 || r.right > f.right + 0.5;
      }).length,
    }));
    assert.deepEqual(filter, { scrolls: false, clipped: 0 }, 'every type chip is visible');
    const cut = await page.$$eval('#timeline .timeline-row:not([hidden]) .row-type', (cells) => cells
      .filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent));
    assert.deepEqual(cut, [], 'long event type names are not cut at 1280 px');

    // The progress of a big load floats: the layout does not move.
    const top = () => page.locator('main.layout').evaluate((el) => el.getBoundingClientRect().top);
    const before = await top();
    await page.evaluate(() => { window.location.hash = '#stream=account-big'; });
    await page.locator('#progress').waitFor({ state: 'visible' });
    assert.equal(await top(), before, 'the layout stays where it was while the progress shows');
    await page.evaluate(() => { window.location.hash = `#stream=${'order-002'}`; });

    // The correlation panel sits below the event, which scrolls: its end
    // can be read with the panel open.
    await openDashboard(page, '#stream=order-002&v=1');
    await waitLoaded(page, 'order-002', await dbVersion('order-002'));
    await page.locator('#tab-event').click();
    await page.locator('#correlation-link').click();
    await page.locator('#correlation-panel .correlation-row').first().waitFor();
    const overlap = await page.evaluate(() => {
      const panels = document.querySelector('.tab-panels');
      panels.scrollTop = panels.scrollHeight;
      const last = [...document.querySelectorAll('#event-view pre.json > span')].at(-1).getBoundingClientRect();
      const panel = document.getElementById('correlation-panel').getBoundingClientRect();
      return { panelsEnd: panels.getBoundingClientRect().bottom - panel.top, lastLine: last.bottom - panel.top };
    });
    assert.ok(overlap.panelsEnd <= 0.5 && overlap.lastLine <= 0.5, `the event's end is above the panel: ${JSON.stringify(overlap)}`);

    // The keyboard shortcuts' help.
    await page.locator('#btn-keys').click();
    const dialog = page.locator('#keys-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.textContent(), /skip the selected event/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });
});

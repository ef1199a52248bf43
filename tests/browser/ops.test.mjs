// Browser tests of the operations view (ops.html): Debian's Chromium driven
// by playwright-core against a running chronicle-dashboard server and the
// demo dataset.
//
// Environment:
//   CHRONICLE_DASHBOARD_URL   e.g. http://127.0.0.1:8097/
//   CHRONICLE_DATABASE_URL    the database the server reads
//   CHRONICLE_SCREENSHOTS     directory for the screenshots (ops-1280.png, ops-900.png, ...)
//
// Expected figures come from the database through pg, read around the page's
// own reads. The tests write only streams and a subscription of their own,
// named ops-...-<run id>, so they hold on a freshly loaded database and on
// one an earlier run wrote to; the subscription is dropped at the end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { BASE_URL, DATABASE_URL, TEST_MS, db, screenshot, useHarness, withPage } from './harness.mjs';

useHarness();

/** This run's suffix of stream ids, event types and subscription names. */
const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const OPS_URL = `${BASE_URL}ops.html`;
/** How long the page may take to show a change of the database (snapshots come every second). */
const LIVE_MS = 30_000;

/** Opens the operations view and waits for its first snapshot and activity. */
async function openOps(page) {
  await page.goto(OPS_URL);
  await page.waitForFunction(() => window.chronicleOps !== undefined);
  await page.evaluate(() => window.chronicleOps.ready);
}

/** Waits until the page has shown `n` more live snapshots than now. */
async function waitTicks(page, n) {
  const now = Number(await page.evaluate(() => document.body.dataset.ticks ?? 0));
  await page.waitForFunction((want) => Number(document.body.dataset.ticks ?? 0) >= want, now + n, { timeout: LIVE_MS });
}

/** What the page shows, read at one moment (numbers from data-value). */
function shown(page) {
  return page.evaluate(() => {
    const value = (el) => (el && el.dataset.value !== '' && el.dataset.value !== undefined ? Number(el.dataset.value) : null);
    const field = (name) => value(document.querySelector(`#feed-body [data-field="${name}"] .stat-value`));
    const cell = (row, col) => value(row.querySelector(`[data-col="${col}"] [data-value]`));
    const subs = {};
    for (const row of document.querySelectorAll('#subs-table tr.sub-row')) {
      subs[row.dataset.subscription] = {
        status: row.querySelector('[data-col="status"]').textContent,
        checkpoint: cell(row, 'checkpoint'),
        lag: cell(row, 'lag'),
        consumers: {},
      };
    }
    for (const row of document.querySelectorAll('#subs-table tr.consumer-row')) {
      subs[row.dataset.subscription].consumers[row.dataset.consumer] = { position: cell(row, 'checkpoint'), lag: cell(row, 'lag') };
    }
    const legend = Object.fromEntries([...document.querySelectorAll('#lag-chart .chart-legend li')]
      .map((li) => [li.dataset.series, li.dataset.value === '' ? null : Number(li.dataset.value)]));
    return {
      head: field('head'),
      waiting: field('waiting'),
      appenders: field('appenders'),
      rate: value(document.getElementById('rate-now')),
      ticks: Number(document.body.dataset.ticks ?? 0),
      subs,
      legend,
    };
  });
}

/**
 * Waits until what the page shows (one reading of `shown`) satisfies `ok`,
 * and returns it; on timeout, fails with the last reading.
 */
async function waitShown(page, what, ok, timeout = LIVE_MS) {
  const until = Date.now() + timeout;
  let view;
  for (;;) {
    view = await shown(page);
    if (ok(view)) return view;
    if (Date.now() > until) assert.fail(`${what}: not shown within ${timeout / 1000} s; the page shows ${JSON.stringify(view)}`);
    await page.waitForTimeout(100);
  }
}

async function feedHead() {
  const { rows } = await db.query('SELECT head_position::bigint AS h FROM chronicle.feed_status');
  return Number(rows[0].h);
}

/** Appends `n` events (committed) to a stream of this test's own. */
async function append(client, streamId, n, { eventType = 'Tick', streamType = 'Tick' } = {}) {
  const events = Array.from({ length: n }, (_, i) => ({ event_type: eventType, data: { i } }));
  await client.query('SELECT chronicle.append_events($1::text, $2::jsonb, NULL, $3::text)', [streamId, JSON.stringify(events), streamType]);
}

/** The busiest streams and event types as the server counts them (ops.rs BUSIEST). */
async function dbBusiest() {
  const recent = `WITH recent AS (SELECT e.stream_id, e.stream_type, e.event_type
                     FROM chronicle.read_all(greatest(chronicle.feed_head() - 10000, 0), 10000) e)`;
  const streams = await db.query(`${recent} SELECT stream_id, count(*)::int AS events FROM recent
                                   GROUP BY stream_id, stream_type ORDER BY 2 DESC, 1 LIMIT 10`);
  const types = await db.query(`${recent} SELECT event_type, count(*)::int AS events FROM recent
                                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`);
  return {
    streams: streams.rows.map((r) => `${r.stream_id}=${r.events}`),
    types: types.rows.map((r) => `${r.event_type}=${r.events}`),
  };
}

async function dbToday() {
  const { rows } = await db.query(`SELECT coalesce((SELECT events FROM chronicle.daily_activity
                                    WHERE day = (now() AT TIME ZONE 'UTC')::date), 0)::bigint AS events,
                                   (now() AT TIME ZONE 'UTC')::date::text AS day`);
  return { events: Number(rows[0].events), day: rows[0].day };
}

// --------------------------------------------------------------- tests

test('ops 01 the head position and order-projection\'s checkpoint are the database\'s', { timeout: TEST_MS }, async () => {
  const { rows: [projection] } = await db.query(
    `SELECT last_position::bigint AS position, status FROM chronicle.subscriptions WHERE name = 'order-projection'`);
  assert.ok(projection, 'the demo data has the subscription order-projection');
  await withPage('ops-01', {}, async (page) => {
    const before = await feedHead();
    await openOps(page);
    // A snapshot taken after `before` was read.
    await page.waitForFunction((before) => Number(document.querySelector('#feed-body [data-field="head"] .stat-value')
      ?.dataset.value) >= before, before, { timeout: LIVE_MS });
    const view = await shown(page);
    const after = await feedHead();
    assert.ok(view.head >= before && view.head <= after, `head shown ${view.head}, the database's ${before}..${after}`);
    assert.match(await page.locator('#feed-body [data-field="head"] .stat-value').textContent(), /^\d{1,3}(,\d{3})*$/);
    assert.equal(await page.locator('#live-indicator').getAttribute('data-status'), 'connected');
    assert.equal(await page.locator('#live-text').textContent(), 'connected');

    const sub = view.subs['order-projection'];
    assert.ok(sub, 'order-projection is listed');
    assert.equal(sub.checkpoint, Number(projection.position), 'its checkpoint is the database\'s last_position');
    assert.equal(sub.status, projection.status, 'its status badge says the status in words');
    // The feed and the subscriptions are two reads of one snapshot: a seal between them may move the head.
    await waitShown(page, 'lag = head - checkpoint', (v) => v.subs['order-projection']?.lag === v.head - v.subs['order-projection'].checkpoint);
    assert.equal(sub.consumers['0']?.position, Number(projection.position), 'consumer 0 is listed with its position');
    await page.waitForFunction(() => document.querySelector('#lag-chart .chart-legend li[data-series="order-projection #0"]'));
    assert.match(await page.locator('#lag-chart .chart-canvas').getAttribute('aria-label'), /order-projection #0: [\d,]+ behind/);
    assert.match(await page.locator('#feed-waiting-for').textContent(), /\w/, 'what the feed waits for, in words');
  });
});

test('ops 02 live: appended events move the head and the events per second; a new subscription\'s checkpoint and lag follow', { timeout: TEST_MS }, async () => {
  const name = `ops-sub-${RUN}`;
  const stream = `ops-live-${RUN}`;
  const start = await feedHead();
  await db.query('SELECT chronicle.create_subscription($1, NULL, NULL, $2)', [name, start]);
  try {
    await withPage('ops-02-live', {}, async (page) => {
      await openOps(page);
      await waitTicks(page, 1); // the events per second need a snapshot before the append
      await page.waitForFunction((name) => document.querySelector(`#subs-table tr.sub-row[data-subscription="${name}"]`), name);
      let view = await shown(page);
      assert.equal(view.subs[name].checkpoint, start, 'the new subscription starts at the head it was created at');
      assert.equal(view.subs[name].status, 'running');

      await append(db, stream, 20);
      await db.query('SELECT chronicle.seal()');
      const head = await feedHead();
      assert.ok(head >= start + 20, `the feed's head moved on (${start} → ${head})`);
      // The snapshot that first shows the new head is the one whose rate counts the new positions.
      view = await waitShown(page, `head ≥ ${head} and events per second > 0`, (v) => v.head >= head && v.rate > 0);
      assert.match(await page.locator('#rate-chart .chart-summary').textContent(), /peak [1-9]/, 'the chart\'s peak counts the append');

      // The subscription has not moved: its lag grew by the events appended, in the table and the chart.
      const key = `${name} #0`;
      await waitShown(page, `${name}'s lag ≥ ${head - start}`, (v) => v.subs[name]?.lag >= head - start && v.legend[key] >= head - start);

      const acked = start + 10;
      const { rows } = await db.query('SELECT chronicle.ack($1, $2)::bigint AS checkpoint', [name, acked]);
      assert.equal(Number(rows[0].checkpoint), acked);
      view = await waitShown(page, `${name}'s checkpoint ${acked}`, (v) => v.subs[name]?.checkpoint === acked
        && v.subs[name].lag === v.head - acked && v.legend[key] === v.subs[name].lag);
      assert.equal(view.subs[name].consumers['0'].position, acked, 'consumer 0\'s position is the checkpoint acknowledged');
      const consumers = Object.entries(view.subs).flatMap(([n, sub]) => Object.keys(sub.consumers).map((k) => `${n} #${k}`));
      assert.deepEqual(Object.keys(view.legend).sort(), consumers.sort(),
        'one series per consumer, named "<subscription> #<consumer>"');
    });
  } finally {
    await db.query('SELECT chronicle.drop_subscription($1)', [name]);
  }
});

test('ops 03 an open transaction that appended holds the feed: the page names it, and clears once it rolls back', { timeout: TEST_MS }, async () => {
  const holder = new pg.Client({ connectionString: DATABASE_URL, application_name: `ops-holder-${RUN}` });
  await holder.connect();
  try {
    const { rows: [{ pid }] } = await holder.query('SELECT pg_backend_pid() AS pid');
    await withPage('ops-03-held', {}, async (page) => {
      await openOps(page);
      await holder.query('BEGIN');
      await append(holder, `ops-held-${RUN}`, 1);
      await append(db, `ops-after-held-${RUN}`, 2); // committed, but after the open transaction began
      await page.waitForFunction((pid) => document.querySelector('#feed-holder [data-field="pid"]')?.dataset.value === String(pid)
        && Number(document.querySelector('#feed-body [data-field="waiting"] .stat-value')?.dataset.value) >= 2, pid,
      { timeout: LIVE_MS });
      assert.ok(await page.locator('#feed-held').isVisible(), 'the hold is highlighted');
      assert.match(await page.locator('#feed-held').textContent(), new RegExp(`wait for an open transaction \\(pid ${pid}\\)`));
      assert.equal(await page.locator('#feed-body').getAttribute('data-held'), 'true');
      assert.ok(await page.locator('#feed-holder').isVisible(), 'the holder is described');
      assert.equal(await page.locator('#feed-holder [data-field="application"]').textContent(), `ops-holder-${RUN}`);
      assert.equal(await page.locator('#feed-holder [data-field="user"]').textContent(), 'postgres');
      assert.match(await page.locator('#feed-holder [data-field="open"]').textContent(), /\d+ s/);
      assert.match(await page.locator('#feed-waiting-for').textContent(), new RegExp(`pid ${pid}`));
      assert.ok((await shown(page)).appenders >= 1, 'open appenders counts it');
      await screenshot(page, 'ops-held');

      await holder.query('ROLLBACK');
      await db.query('SELECT chronicle.seal()');
      await page.waitForFunction(() => document.querySelector('#feed-body [data-field="waiting"] .stat-value')?.dataset.value === '0'
        && document.getElementById('feed-holder').hidden && document.getElementById('feed-held').hidden, null, { timeout: LIVE_MS });
      assert.equal(await page.locator('#feed-body').getAttribute('data-held'), 'false');
    });
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    await holder.end();
  }
});

test('ops 04 activity: events per day and the busiest streams and types are the database\'s; a stream link opens time travel', { timeout: TEST_MS }, async () => {
  const stream = `ops-act-${RUN}`;
  const eventType = `OpsAct${RUN}`;
  // More events than the tenth busiest stream and type have now (a database
  // used before holds other runs' streams): this run's make both top tens.
  const tenth = (list) => Number(list[9]?.split('=').at(-1) ?? 0);
  const ranked = await dbBusiest();
  const events = Math.max(30, tenth(ranked.streams) + 1, tenth(ranked.types) + 1);
  await append(db, stream, events, { eventType, streamType: 'OpsAct' });
  await db.query('SELECT chronicle.seal()');
  await withPage('ops-04-activity', {}, async (page) => {
    await openOps(page);
    const loads = Number(await page.evaluate(() => document.body.dataset.activity));
    const before = { today: await dbToday(), busiest: await dbBusiest() };
    await page.getByRole('button', { name: 'Refresh activity' }).click();
    await page.waitForFunction((loads) => Number(document.body.dataset.activity) > loads, loads);
    const after = { today: await dbToday(), busiest: await dbBusiest() };

    const day = page.locator(`#days-chart tr[data-day="${after.today.day}"]`);
    const today = Number(await day.getAttribute('data-events'));
    assert.ok(today >= before.today.events && today <= after.today.events,
      `today's events shown ${today}, the database's ${before.today.events}..${after.today.events}`);
    assert.equal(await page.locator('#days-chart .chart-summary').getAttribute('data-today'), String(today));
    assert.equal(await page.locator('#days-chart tr[data-day]').count(), 14, '14 days, today included');
    assert.match(await page.locator('#days-chart .chart-canvas').getAttribute('aria-label'), /Today \(\w+ \d+\): [\d,]+ events/);

    const list = (selector, key) => page.$$eval(selector, (rows, key) => rows.map((r) => `${r.dataset[key]}=${r.querySelector('.bar-cell').dataset.value}`), key);
    const streams = await list('#busiest-streams tbody tr[data-stream-id]', 'streamId');
    const types = await list('#busiest-types tbody tr[data-event-type]', 'eventType');
    assert.ok([before, after].some((db) => JSON.stringify(db.busiest.streams) === JSON.stringify(streams)),
      `busiest streams shown ${streams}, the database's ${after.busiest.streams}`);
    assert.ok([before, after].some((db) => JSON.stringify(db.busiest.types) === JSON.stringify(types)),
      `busiest event types shown ${types}, the database's ${after.busiest.types}`);
    assert.ok(streams.includes(`${stream}=${events}`), `${stream} is among the busiest with its ${events} events`);
    assert.ok(types.includes(`${eventType}=${events}`), `${eventType} is among the busiest types with its ${events} events`);

    const { rows: largest } = await db.query(
      'SELECT stream_id FROM chronicle.stream_activity ORDER BY events DESC, stream_id LIMIT 10');
    assert.deepEqual(await page.$$eval('#largest-streams tbody tr[data-stream-id]', (rows) => rows.map((r) => r.dataset.streamId)),
      largest.map((r) => r.stream_id), 'the largest streams, as stream_activity ranks them');
    assert.equal(await page.locator(`#recent-streams tr[data-stream-id="${stream}"]`).count(), 1, 'the stream appended to is among those written last');

    const { rows: [life] } = await db.query(`SELECT count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted,
        count(*) FILTER (WHERE archived_at IS NOT NULL)::int AS archived,
        count(*) FILTER (WHERE deleted_at IS NULL AND first_version > 1)::int AS truncated FROM chronicle.streams`);
    for (const field of ['deleted', 'archived', 'truncated']) {
      assert.equal(Number(await page.locator(`#lifecycle-counts [data-field="${field}"] dd`).getAttribute('data-value')), life[field], `${field} streams`);
    }
    const { rows: [{ rules }] } = await db.query('SELECT count(*)::int AS rules FROM chronicle.retention_rules');
    if (rules === 0) assert.match(await page.locator('#retention-rules').textContent(), /No retention rules\./);
    else assert.equal(await page.locator('#retention-rules tbody tr[data-stream-type]').count(), rules);

    // A stream's link opens it in the time-travel view.
    const link = page.locator(`#busiest-streams a[data-stream-id="${stream}"]`);
    assert.equal(await link.getAttribute('href'), `./#stream=${encodeURIComponent(stream)}`);
    await link.click();
    await page.waitForFunction((prefix) => document.body.dataset.loaded?.startsWith(prefix), `${stream}@`, { timeout: LIVE_MS });
    assert.equal(new URL(page.url()).pathname, new URL(BASE_URL).pathname, 'the time-travel page');
    assert.equal(await page.evaluate(() => document.body.dataset.loaded), `${stream}@${events}`);
  });
});

test('ops 05 errors: a section the server could not read shows its error in place; an unreachable server puts a banner and "disconnected"', { timeout: TEST_MS }, async () => {
  const denied = { code: '42501', message: 'permission denied for view daily_activity', hint: 'Grant chronicle_reader to the dashboard\'s role.' };
  await withPage('ops-05-section-error', {}, async (page) => {
    await page.route('**/api/ops/activity', async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      await route.fulfill({ response, json: { ...json, days: { error: denied }, lifecycle: { error: denied } } });
    });
    await openOps(page);
    for (const where of ['#days-body', '#lifecycle-body']) {
      const error = page.locator(`${where} .section-error`);
      assert.equal(await error.getAttribute('data-code'), '42501', `${where} shows the code`);
      const words = await error.textContent();
      assert.match(words, /permission denied for view daily_activity/, `${where} shows the message`);
      assert.match(words, /Hint: Grant chronicle_reader/, `${where} shows the hint`);
    }
    assert.ok(await page.locator('#busiest-streams tbody tr[data-stream-id]').count() > 0, 'the other sections still show');
    assert.ok(await page.locator('#error-banner').isHidden(), 'a section\'s error is not the banner\'s');
  });

  const allowErrors = [/ERR_CONNECTION_REFUSED/];
  await withPage('ops-05-unreachable', { allowErrors }, async (page) => {
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.goto(OPS_URL);
    await page.waitForFunction(() => document.getElementById('live-indicator').dataset.status === 'disconnected');
    assert.equal(await page.locator('#live-text').textContent(), 'disconnected');
    assert.ok(await page.locator('#error-banner').isVisible(), 'the banner says so');
    assert.match(await page.locator('#error-banner').textContent(), /could not be reached/);
    await screenshot(page, 'ops-unreachable');
    // The server answers again: EventSource reconnects by itself.
    await page.unroute('**/api/**');
    await page.evaluate(() => window.chronicleOps.ready);
    await page.waitForFunction(() => document.getElementById('live-indicator').dataset.status === 'connected', null, { timeout: LIVE_MS });
    assert.ok(await page.locator('#error-banner').isHidden(), 'the banner went once the feed was back');
    assert.ok(Number(await page.evaluate(() => document.body.dataset.ticks)) >= 1);
  });
});

test('ops 06 layout: screenshots at 1280 and 900 px, no horizontal overflow, charts and tables labelled', { timeout: TEST_MS }, async () => {
  await withPage('ops-06-layout', {}, async (page) => {
    await openOps(page);
    await waitTicks(page, 2);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(await overflow() <= 0, 'no horizontal overflow at 1280 px');
    await screenshot(page, 'ops-1280');
    await page.setViewportSize({ width: 900, height: 800 });
    await waitTicks(page, 1);
    assert.ok(await overflow() <= 0, `no horizontal overflow at 900 px (${await overflow()} px too wide)`);
    await screenshot(page, 'ops-900');

    const charts = await page.$$eval('.ops-chart .chart-canvas', (els) => els.map((el) => ({
      label: el.getAttribute('aria-label'), role: el.getAttribute('role'), canvas: !!el.querySelector('canvas'),
    })));
    assert.equal(charts.length, 3, 'events per second, lag and days');
    for (const chart of charts) {
      assert.equal(chart.role, 'img');
      assert.match(chart.label, /\d/, `the chart's label says its numbers: ${chart.label}`);
      assert.ok(chart.canvas, 'uPlot drew it');
    }
    assert.equal(await page.locator('table th:not([scope])').count(), 0, 'every header cell has a scope');
    const headings = await page.$$eval('h1, h2, h3', (els) => els.map((el) => Number(el.tagName[1])));
    assert.equal(headings[0], 1);
    assert.ok(headings.every((level, i) => i === 0 || level <= headings[i - 1] + 1), `headings in order: ${headings}`);
  });
});

// The browser tests' harness: Debian's Chromium driven by playwright-core,
// a database client, and the helpers every test file uses.
//
// Environment:
//   CHRONICLE_DASHBOARD_URL   e.g. http://127.0.0.1:8097/
//   CHRONICLE_DATABASE_URL    the database the server reads
//   CHRONICLE_SCREENSHOTS     directory for NN-name.png screenshots

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import pg from 'pg';

export const BASE_URL = withSlash(process.env.CHRONICLE_DASHBOARD_URL ?? 'http://127.0.0.1:8097/');
export const DATABASE_URL = process.env.CHRONICLE_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:54339/browser_dev';
export const SCREENSHOTS = process.env.CHRONICLE_SCREENSHOTS ?? path.join(tmpdir(), 'chronicle-screenshots');

/** Playwright's timeout for single waits (the machine is slow). */
export const WAIT_MS = 60_000;
/** node:test timeout of one test. */
export const TEST_MS = 180_000;

/** The browser, a database client (as postgres) and a scratch directory, set by useHarness()'s hooks. */
export let browser;
export let db;
export let scratch;

function withSlash(url) {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Registers the hooks that start and stop the browser and the database client (call once per test file). */
export function useHarness() {
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    scratch = await mkdtemp(path.join(tmpdir(), 'chronicle-browser-'));
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    await db?.end();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
}

// ------------------------------------------------------------ database

/** The database's canonical state text of a stream at a version (null: head). */
export async function dbState(streamId, version = null) {
  const { rows } = await db.query(
    'SELECT chronicle.canonical_json(chronicle.state_at($1, $2::bigint)) AS state', [streamId, version]);
  return rows[0].state;
}

export async function dbVersion(streamId) {
  const { rows } = await db.query('SELECT chronicle.stream_version($1)::int AS v', [streamId]);
  return rows[0].v;
}

// ------------------------------------------------------------- browser

/**
 * Runs `body(page)` in a fresh context (1280x800). The test fails on any
 * page error or console error, except console errors matching one of
 * `allowErrors` (tested against "text @ url": the page logs failed requests
 * it handles, e.g. a 404 it shows on the banner). On failure a screenshot
 * `<shot>.failed.png` is saved next to the others.
 */
export async function withPage(shot, { allowErrors = [] } = {}, body) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.stack ?? err}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = `${msg.text()} @ ${msg.location()?.url ?? ''}`;
    if (!allowErrors.some((re) => re.test(text))) errors.push(`console.error: ${text}`);
  });
  try {
    await body(page);
  } catch (err) {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.failed.png`) }).catch(() => {});
    if (errors.length) err.message += `\nbrowser errors:\n  ${errors.join('\n  ')}`;
    throw err;
  } finally {
    await context.close();
  }
  assert.deepEqual(errors, [], 'the page logged errors');
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Opens the dashboard (optionally with a hash) and waits for it to boot (and open the hash's stream). */
export async function openDashboard(page, hash = '') {
  await page.goto(`${BASE_URL}${hash}`);
  await page.waitForFunction(() => window.chronicleDashboard !== undefined);
  await page.evaluate(() => window.chronicleDashboard.ready);
  await page.waitForFunction(() => document.getElementById('mode').textContent === 'live');
}

/** Waits until `body[data-loaded]` says `streamId@head`. */
export async function waitLoaded(page, streamId, head) {
  await page.waitForFunction((want) => document.body.dataset.loaded === want, `${streamId}@${head}`,
    { timeout: 120_000 });
}

/** Waits until version `v` of `head` is selected and shown. */
export async function waitSelected(page, v, head) {
  try {
    await page.waitForFunction(([v, label]) => window.chronicleDashboard.selected() === v
        && document.getElementById('version-label').textContent === label,
    [v, `version ${v} of ${head}`]);
  } catch (err) {
    const shown = await page.evaluate(() => [window.chronicleDashboard.selected(),
      document.getElementById('version-label').textContent]);
    throw new Error(`version ${v} of ${head} was not selected: selected ${shown[0]}, label "${shown[1]}"`, { cause: err });
  }
}

export const text = (page, selector) => page.locator(selector).textContent();

// The wasm benchmark (`./chronicle bench-wasm`): the same folds in the wasm
// module (node and Chromium) and in the native core, in the same run, and
// the dashboard's time to first state and per-slider-move time on the
// 100,000-event stream. Prints figures and ratios; asserts nothing.
//
// Inputs (set by scripts/bench-wasm.sh): BENCH_EXPORT (the 100k export
// file), BENCH_DIR (where to write the 1M file), BENCH_DASHBOARD_URL,
// BENCH_FOLD (the native `fold` example binary); BENCH_ROUNDS (default 3);
// BENCH_ONLY=dashboard skips the folds.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');
const chronicle = require(path.join(root, 'target/wasm/node/chronicle_wasm.js'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const export100k = readFileSync(process.env.BENCH_EXPORT, 'utf8');

/** The 100k export repeated 10 times, versions renumbered: 1M events. */
function millionExport() {
  const newline = export100k.indexOf('\n');
  const header = JSON.parse(export100k.slice(0, newline));
  const body = export100k.slice(newline + 1).trimEnd().split('\n');
  const per = body.length;
  const out = [JSON.stringify({ ...header, version: per * 10, to_version: per * 10 })];
  for (let k = 0; k < 10; k++) {
    for (const line of body) {
      out.push(line.replace(/"version": (\d+)/, (_, v) => `"version": ${Number(v) + k * per}`));
    }
  }
  return out.join('\n') + '\n';
}
const file1m = path.join(process.env.BENCH_DIR, 'export-1m.ndjson');
if (process.env.BENCH_ONLY !== 'dashboard') writeFileSync(file1m, millionExport());
const inputs = [['100k', process.env.BENCH_EXPORT], ['1M', file1m]];

const best = (xs) => Math.min(...xs);
const ms = (x) => `${x.toFixed(0)} ms`;

function native(file) {
  const out = execFileSync(process.env.BENCH_FOLD, [file, String(ROUNDS)], { maxBuffer: 1 << 20 });
  return JSON.parse(out.toString());
}

/**
 * Times `replay` (parse + fold to the head) and `loadExport` (a history) of
 * an export's text, best of `rounds`. Self-contained: node calls it, and the
 * Chromium page runs its source.
 */
function timeFolds(chronicle, text, rounds) {
  const newline = text.indexOf('\n');
  const reducer = JSON.stringify(JSON.parse(text.slice(0, newline)).reducer);
  const events = text.slice(newline + 1);
  // The same events as UTF-8 bytes (as a fetched body arrives): copied into
  // the module as they are, where a string is re-encoded on the way in.
  const bytes = new TextEncoder().encode(events);
  const replay = [];
  const replayBytes = [];
  const history = [];
  let state;
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    state = chronicle.replay(events, reducer, { format: 'json' });
    replay.push(performance.now() - t);
    t = performance.now();
    if (chronicle.replay(bytes, reducer, { format: 'json' }) !== state) {
      throw new Error('replay of the bytes differs from replay of the text');
    }
    replayBytes.push(performance.now() - t);
    t = performance.now();
    chronicle.loadExport(text).free();
    history.push(performance.now() - t);
  }
  return {
    replay_ms: Math.min(...replay),
    replay_bytes_ms: Math.min(...replayBytes),
    history_ms: Math.min(...history),
    state,
  };
}

/** A tiny server for the Chromium fold: the wasm package and the export files. */
function serveFiles() {
  const files = {
    '/': ['text/html', Buffer.from('<!doctype html><link rel="icon" href="data:,"><title>bench</title>')],
  };
  const server = http.createServer((req, res) => {
    if (files[req.url]) {
      res.writeHead(200, { 'content-type': files[req.url][0] });
      return res.end(files[req.url][1]);
    }
    const map = { '/data/100k.ndjson': process.env.BENCH_EXPORT, '/data/1M.ndjson': file1m };
    let file = map[req.url];
    if (!file && req.url.startsWith('/pkg/')) file = path.join(root, 'target/wasm/web', path.basename(req.url));
    if (!file) { res.writeHead(404); return res.end(); }
    const type = file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.js') ? 'text/javascript' : 'application/x-ndjson';
    res.writeHead(200, { 'content-type': type, 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

async function inChromium(browser, base, name) {
  const page = await browser.newPage();
  await page.goto(base);
  const result = await page.evaluate(async ({ name, rounds, timer }) => {
    const chronicle = await import('/pkg/chronicle_wasm.js');
    await chronicle.default();
    const text = await (await fetch(`/data/${name}.ndjson`)).text();
    // eslint-disable-next-line no-new-func -- the benchmark's own function, passed as source
    return new Function(`return (${timer})`)()(chronicle, text, rounds);
  }, { name, rounds: ROUNDS, timer: timeFolds.toString() });
  await page.close();
  return result;
}

/** The dashboard: open account-big (time to first state, to fully loaded), then slider moves. */
async function dashboard(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.waitForSelector('[data-stream-id="order-001"]');
  const first = [];
  const loaded = [];
  for (let i = 0; i < ROUNDS; i++) {
    await page.click('[data-stream-id="order-001"]');
    await page.waitForFunction(() => document.body.dataset.loaded?.startsWith('order-001@'));
    await page.click('[data-stream-id="account-big"]');
    await page.waitForFunction(() => document.body.dataset.loaded?.startsWith('account-big@'), null, { timeout: 120000 });
    const t = await page.evaluate(() => {
      const at = (n) => performance.getEntriesByName(n)[0].startTime;
      return { first: at('chronicle:first-state') - at('chronicle:open'), loaded: at('chronicle:loaded') - at('chronicle:open') };
    });
    first.push(t.first);
    loaded.push(t.loaded);
  }
  // Slider moves: random versions, and single steps. The page handles the
  // input event synchronously (replay to the version, then render the state,
  // diff and event); each move is timed from the event to the end of the
  // layout it causes — the work that must fit in a frame.
  const moves = await page.evaluate(async () => {
    const slider = document.querySelector('#slider');
    const head = Number(slider.max);
    const idle = () => new Promise((r) => setTimeout(r, 5));
    const time = async (v) => {
      await idle();
      const t = performance.now();
      slider.value = String(v);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      document.body.getBoundingClientRect(); // force the layout now
      const work = performance.now() - t;
      if (document.querySelector('#version-label').textContent.indexOf(v.toLocaleString('en-US')) < 0
          && document.querySelector('#version-label').textContent.indexOf(String(v)) < 0) {
        throw new Error(`the page did not move to version ${v}`);
      }
      return work;
    };
    const random = [];
    const steps = [];
    let seed = 7;
    for (let i = 0; i < 100; i++) {
      seed = (seed * 48271) % 2147483647;
      random.push(await time(1 + (seed % head)));
    }
    for (let v = 50_000; v < 50_100; v++) steps.push(await time(v));
    const stat = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      return { median: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)], max: s[s.length - 1] };
    };
    return { random: stat(random), steps: stat(steps) };
  });
  await page.close();
  return { first_ms: best(first), first_all: first, loaded_ms: best(loaded), moves };
}

const server = await serveFiles();
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch(LAUNCH);
try {
  console.log(`fold to the head, best of ${ROUNDS} (parse + fold; history = parse, fold, keep checkpoints; text: the events passed as a string, bytes: as a Uint8Array)`);
  console.log('| events | native replay | node wasm text | ratio | bytes | ratio | chromium wasm text | ratio | bytes | ratio | native history | node wasm | ratio | chromium wasm | ratio |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, file] of process.env.BENCH_ONLY === 'dashboard' ? [] : inputs) {
    const n = native(file);
    const nodeR = timeFolds(chronicle, readFileSync(file, 'utf8'), ROUNDS);
    const web = await inChromium(browser, base, name);
    if (nodeR.state !== n.state || web.state !== n.state) {
      throw new Error(`${name}: the states differ: native ${n.state}, node ${nodeR.state}, chromium ${web.state}`);
    }
    const r = (x, y) => (x / y).toFixed(2);
    console.log(`| ${name} | ${ms(n.replay_ms)} | ${ms(nodeR.replay_ms)} | ${r(nodeR.replay_ms, n.replay_ms)} | ${ms(nodeR.replay_bytes_ms)} | ${r(nodeR.replay_bytes_ms, n.replay_ms)} | ${ms(web.replay_ms)} | ${r(web.replay_ms, n.replay_ms)} | ${ms(web.replay_bytes_ms)} | ${r(web.replay_bytes_ms, n.replay_ms)} | ${ms(n.history_ms)} | ${ms(nodeR.history_ms)} | ${r(nodeR.history_ms, n.history_ms)} | ${ms(web.history_ms)} | ${r(web.history_ms, n.history_ms)} |`);
  }
  const d = await dashboard(browser, process.env.BENCH_DASHBOARD_URL);
  console.log();
  console.log('dashboard, account-big (100,000 events), Chromium:');
  console.log(`  time to first state: ${ms(d.first_ms)} (runs: ${d.first_all.map(ms).join(', ')}; goal < 1000 ms)`);
  console.log(`  fully loaded and folded: ${ms(d.loaded_ms)}`);
  const f = (s) => `median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
  console.log(`  slider move to a random version: ${f(d.moves.random)} (goal < 16 ms)`);
  console.log(`  slider step by one version: ${f(d.moves.steps)}`);
} finally {
  await browser.close();
  server.close();
}

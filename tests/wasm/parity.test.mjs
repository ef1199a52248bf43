// The browser's answer equals the database's: for several streams (the
// 100,000-event one included) the wasm module's replay of the stream's
// export equals chronicle.state_at at several versions and times, byte for
// byte in canonical JSON (chronicle.canonical_json on the database's side).
//
// Needs a database with scripts/demo.sql and scripts/demo_data.sql loaded:
// CHRONICLE_DATABASE_URL=postgresql://... node --test parity.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { chronicle } from './wasm.mjs';

const db = new pg.Client({ connectionString: process.env.CHRONICLE_DATABASE_URL });
before(() => db.connect());
after(() => db.end());

const one = async (sql, params) => (await db.query(sql, params)).rows[0];

async function exportOf(streamId) {
  const { text } = await one(
    "SELECT string_agg(l, E'\\n') AS text FROM chronicle.export_stream($1) l", [streamId]);
  return text;
}

/** The database's canonical state, or its error code. */
async function dbState(streamId, version, asOf = null) {
  try {
    const r = await one(
      'SELECT chronicle.canonical_json(chronicle.state_at($1, $2, $3)) AS s', [streamId, version, asOf]);
    return r.s;
  } catch (e) {
    return `error ${e.code}`;
  }
}

/** The wasm module's replay of the export's events, or its error code. */
function wasmReplay(events, reducer, options) {
  try {
    return chronicle.replay(events, reducer, { ...options, format: 'json' });
  } catch (e) {
    return `error ${e.code}`;
  }
}

function versionsOf(head) {
  const vs = new Set([1, 2, Math.floor(head / 2), head - 1, head].filter((v) => v >= 1 && v <= head));
  if (head >= 100_000) [1_000, 33_333, 99_000].forEach((v) => vs.add(v));
  return [...vs].sort((a, b) => a - b);
}

const STREAMS = ['order-001', 'order-002', 'payment-002', 'shipment-002', 'customer-3', 'order-150',
  'counter-1', 'ticket-1', 'account-big'];

for (const streamId of STREAMS) {
  test(`wasm replay equals state_at: ${streamId}`, async () => {
    const text = await exportOf(streamId);
    const { stream, reducer, upcasters } = chronicle.parseExport(text);
    const events = text.slice(text.indexOf('\n') + 1);
    const head = stream.version;
    const history = chronicle.loadExport(text);
    try {
      assert.equal(history.head(), head);
      let compared = 0;
      for (const v of versionsOf(head)) {
        const want = await dbState(streamId, v);
        const got = wasmReplay(events, JSON.stringify(reducer), { upcasters, toVersion: v });
        assert.equal(got, want, `${streamId} at version ${v}`);
        // The history skips a failed step (the database stops): compare
        // where the database has a state.
        if (!want.startsWith('error')) {
          assert.equal(history.stateJsonAt(v), want, `${streamId} history at version ${v}`);
          compared++;
        }
      }
      assert.ok(compared >= 2, `${streamId}: too few states compared`);
      // As of the time of an event in the middle (recorded_at), and before the first.
      const mid = Math.max(1, Math.floor(head / 2));
      const at = history.recordedAt(mid);
      for (const asOf of [at, '2000-01-01T00:00:00Z']) {
        const want = await dbState(streamId, null, asOf);
        assert.equal(wasmReplay(events, JSON.stringify(reducer), { upcasters, asOf }), want,
          `${streamId} as of ${asOf}`);
      }
    } finally {
      history.free();
    }
  });
}

test('a failing reducer step is the same error in both', async () => {
  assert.equal(await dbState('counter-1', 3), 'error 22000');
  const text = await exportOf('counter-1');
  const { reducer } = chronicle.parseExport(text);
  assert.equal(wasmReplay(text.slice(text.indexOf('\n') + 1), reducer, { toVersion: 3 }), 'error 22000');
});

test('an export imported into the database replays to the same state', async () => {
  const text = await exportOf('order-002');
  await db.query('BEGIN');
  try {
    // A copy under another id needs fresh event ids (they are unique
    // across streams): import into the same database by dropping them.
    const lines = text.split('\n').map((l) => l.replace(/"event_id": "[0-9a-f-]+", /, ''));
    const { v } = await one('SELECT chronicle.import_stream($1, $2) AS v', [lines.join('\n'), 'order-002-copy']);
    assert.equal(Number(v), chronicle.parseExport(text).events.length);
    assert.equal(await dbState('order-002-copy', null), await dbState('order-002', null));
  } finally {
    await db.query('ROLLBACK');
  }
});

test('members that are null, and the whole envelope, read the same in both', async () => {
  await db.query('BEGIN');
  try {
    await db.query(`SELECT chronicle.define_reducer('Audit', '{"on": {"Seen": [
        {"op": "set", "path": "/who", "from": "/actor"},
        {"op": "set", "path": "/correlation", "from": "/correlation_id"},
        {"op": "append", "path": "/envelopes", "from": ""}]}}')`);
    await db.query(`SELECT chronicle.append_event('audit-1', 'Seen', '{"n": 1.50}', stream_type => 'Audit')`);
    await db.query(`SELECT chronicle.append_event('audit-1', 'Seen', '{"n": 2}', actor => 'ann',
                      correlation_id => 'c0ffee00-0000-4000-8000-00000000000a')`);
    // Correlation and causation ids that are not uuids (an execution id).
    await db.query(`SELECT chronicle.append_event('audit-1', 'Seen', '{"n": 3}', actor => 'bob',
                      correlation_id => 'exec-test-001', causation_id => 'cmd-42')`);
    const text = await exportOf('audit-1');
    const events = text.slice(text.indexOf('\n') + 1);
    const { reducer } = chronicle.parseExport(text);
    const history = chronicle.loadExport(text);
    try {
      for (const v of [1, 2, 3]) {
        const want = await dbState('audit-1', v);
        if (v === 1) assert.ok(want.includes('"who":null'), want); // a null member, not a missing one
        if (v === 3) assert.ok(want.includes('"correlation":"exec-test-001"'), want);
        assert.equal(wasmReplay(events, JSON.stringify(reducer), { toVersion: v }), want, `replay at ${v}`);
        assert.equal(history.stateJsonAt(v), want, `history at ${v}`);
      }
      assert.deepEqual(history.failures(), []);
    } finally {
      history.free();
    }
  } finally {
    await db.query('ROLLBACK');
  }
});

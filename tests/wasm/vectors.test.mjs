// The shared vectors (tests/vectors/*.json) through the wasm module: every
// state must be the core's, byte for byte in canonical JSON. The core
// (shared/tests/vectors.rs) and the extension (tests/vectors/run_sql.py) run
// the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chronicle, repo } from './wasm.mjs';
// The dashboard's exact-JSON reader: the events and definitions go to the
// module as text with their exact digits (JSON.parse would make 1.50 1.5).
import { nodeAt, parseExact, stringifyExact } from '../../dashboard/static/json.js';

/** A vector file: plain values to read, and the exact text of any member. */
function vectors(name) {
  const source = readFileSync(path.join(repo, 'tests/vectors', name), 'utf8');
  const exact = parseExact(source);
  return {
    cases: JSON.parse(source).cases,
    /** The exact JSON text at a pointer (undefined when absent). */
    text: (pointer) => {
      const node = nodeAt(exact, pointer);
      return node === undefined ? undefined : stringifyExact(node);
    },
  };
}

/** Calls fn and checks it throws a Chronicle error with this code and field. */
function throwsCode(fn, want, label) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, `${label}: an Error`);
    assert.equal(e.code, want.sqlstate, `${label}: code (${e.message})`);
    assert.equal(e.field, want.field, `${label}: field (${e.message})`);
    assert.ok(e.hint, `${label}: a hint`);
    return true;
  }, label);
}

const replay = vectors('replay.json');
const replayCases = replay.cases;

test('the replay vectors file has its cases', () => {
  assert.ok(replayCases.length >= 15);
});

replayCases.forEach((c, n) => {
  const text = (member) => replay.text(`/cases/${n}/${member}`);
  test(`replay vector: ${c.name}`, () => {
    const reducer = c.reducer === null ? null : text('reducer');
    if (c.error) {
      throwsCode(() => chronicle.replay('[]', reducer), c.error, 'replay');
      throwsCode(() => chronicle.history('[]', reducer), c.error, 'history');
      return;
    }
    const events = text('events');
    const options = c.upcasters ? { upcasters: text('upcasters') } : {};
    if (c.initial !== undefined) {
      assert.equal(chronicle.replay('[]', reducer, { ...options, format: 'json' }), c.initial);
    }
    const h = chronicle.history(events, reducer, options);
    try {
      c.states.forEach((want, i) => {
        const version = i + 1;
        if (typeof want === 'string') {
          assert.equal(h.stateJsonAt(version), want, `history at version ${version}`);
          assert.equal(
            chronicle.replay(events, reducer, { ...options, toVersion: version, format: 'json' }),
            want, `replay to version ${version}`);
        } else {
          // The database stops here; replay does too, and the history marks
          // the step and keeps the state before it.
          throwsCode(() => chronicle.replay(events, reducer, { ...options, toVersion: version }),
            want.error, `replay to version ${version}`);
          const failure = h.failureAt(version);
          assert.equal(failure?.code, want.error.sqlstate, `history marks version ${version}`);
          assert.equal(h.stateJsonAt(version), h.stateJsonAt(version - 1));
        }
      });
      for (const stop of c.as_of ?? []) {
        const time = stop.time;
        assert.equal(h.versionAt(time), stop.version, `version as of ${time}`);
        assert.equal(chronicle.replay(events, reducer, { ...options, asOf: time, format: 'json' }),
          h.stateJsonAt(stop.version), `state as of ${time}`);
      }
    } finally {
      h.free();
    }
  });
});

// The personal-data vectors: the events as a reader reads them once a
// subject is forgotten (the database erases; the module folds what it is
// given) fold to the states the database's state_at gives.
const personal = vectors('personal.json');

test('the personal-data vectors file has its cases', () => {
  assert.ok(personal.cases.length >= 4);
});

personal.cases.forEach((c, n) => {
  test(`personal-data vector: ${c.name}`, () => {
    const reducer = c.reducer === null ? null : personal.text(`/cases/${n}/reducer`);
    const options = c.upcasters ? { upcasters: personal.text(`/cases/${n}/upcasters`) } : {};
    const h = chronicle.history(personal.text(`/cases/${n}/read`), reducer, options);
    try {
      c.states.forEach((want, i) => {
        assert.equal(h.stateJsonAt(i + 1), want, `history at version ${i + 1}`);
      });
    } finally {
      h.free();
    }
  });
});

// JSON text may also come as UTF-8 bytes (a fetched body): the same events
// fold to the same states; bytes that are not UTF-8 are refused by name.
test('replay reads events given as UTF-8 bytes as it reads their text', () => {
  let checked = 0;
  replayCases.forEach((c, n) => {
    if (c.error || !c.states.every((s) => typeof s === 'string')) return;
    const reducer = c.reducer === null ? null : replay.text(`/cases/${n}/reducer`);
    const events = replay.text(`/cases/${n}/events`);
    const options = c.upcasters ? { upcasters: replay.text(`/cases/${n}/upcasters`) } : {};
    const bytes = new TextEncoder().encode(events);
    assert.equal(chronicle.replay(bytes, reducer, { ...options, format: 'json' }),
      c.states.at(-1) ?? chronicle.replay(events, reducer, { ...options, format: 'json' }), c.name);
    checked += 1;
  });
  assert.ok(checked >= 10, `${checked} cases`);
  throwsCode(() => chronicle.replay(new Uint8Array([0x5b, 0xff, 0x5d]), null),
    { sqlstate: '22023', field: 'events' }, 'bytes that are not UTF-8');
});

// The schema cases of the append vectors: validate() must accept and refuse
// exactly what the database's append does, naming the same JSON path.
test('append vectors: schema checks agree with validate()', () => {
  let checked = 0;
  const append = vectors('append.json');
  append.cases.forEach((c, n) => {
    const schemas = new Map();
    c.steps.forEach((step, k) => {
      const args = step.args;
      const text = (member) => append.text(`/cases/${n}/steps/${k}/args/${member}`);
      const err = step.expect.error;
      if (step.call === 'define_event_type') {
        if (!err) schemas.set(`${args.event_type}/${args.schema_version}`, text('definition'));
        else if (err.sqlstate === '22023' && err.field.startsWith('definition.')) {
          // The SQL argument is `definition`, validate()'s is `schema`: each
          // error names the argument of its own API.
          const asValidate = { ...err, field: err.field.replace(/^definition/, 'schema') };
          throwsCode(() => chronicle.validate({ version: 1, event_type: 'T', data: {} }, text('definition')),
            asValidate, `${c.name}: schema refused`);
          checked++;
        }
        return;
      }
      if (step.call !== 'append_event') return;
      const version = args.schema_version ?? 1;
      const schema = schemas.get(`${args.event_type}/${version}`);
      if (!schema) return;
      const event = `{"version":1,"event_type":${JSON.stringify(args.event_type)},"schema_version":${version},"data":${text('data')}}`;
      if (!err) assert.equal(chronicle.validate(event, schema), true, `${c.name}: accepted`);
      else throwsCode(() => chronicle.validate(event, schema), err, `${c.name}: refused`);
      checked++;
    });
  });
  assert.ok(checked >= 8, `only ${checked} schema checks found`);
});

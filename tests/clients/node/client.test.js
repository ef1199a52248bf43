// Chronicle's SQL API from Node with the pg driver: append, read, and the
// 40001 conflict handled the way an application would handle it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const client = new pg.Client({
  host: process.env.CHRONICLE_PGHOST,
  port: Number(process.env.CHRONICLE_PGPORT),
  user: 'postgres',
  database: 'chronicle_clients',
});

before(() => client.connect());
after(() => client.end());

async function version(stream) {
  const { rows } = await client.query('SELECT chronicle.stream_version($1) AS v', [stream]);
  return Number(rows[0].v);
}

// A unit of work with optimistic locking: on SQLSTATE 40001, re-read and retry.
async function addItem(stream, item, attempts = 5) {
  for (let i = 0; i < attempts; i++) {
    try {
      const expected = await version(stream);
      const { rows } = await client.query(
        "SELECT chronicle.append_event($1, 'ItemAdded', $2, expected_version => $3) AS v",
        [stream, JSON.stringify(item), expected]);
      return Number(rows[0].v);
    } catch (e) {
      if (e.code !== '40001') throw e;
    }
  }
  throw new Error('gave up after repeated conflicts');
}

test('append and read the seed order', async () => {
  const order = `order-${randomUUID()}`;
  const { rows } = await client.query(
    "SELECT chronicle.append_event($1, 'OrderCreated', $2, stream_type => 'Order', expected_version => 0) AS v",
    [order, JSON.stringify({ customer_id: 'customer-123', status: 'created' })]);
  assert.equal(rows[0].v, '1'); // bigint arrives as a string in node-postgres
  assert.equal(await addItem(order, { item_id: 'apple', quantity: 3, price: 1.5 }), 2);
  assert.equal(await addItem(order, { item_id: 'banana', quantity: 2, price: 0.75 }), 3);
  const history = await client.query(
    'SELECT version, event_type, data FROM chronicle.read_stream($1)', [order]);
  assert.deepEqual(history.rows.map((r) => Number(r.version)), [1, 2, 3]);
  assert.deepEqual(history.rows[2].data, { item_id: 'banana', quantity: 2, price: 0.75 });
});

test('a stale expected_version is error 40001 with detail and hint', async () => {
  const order = `order-${randomUUID()}`;
  await client.query("SELECT chronicle.append_event($1, 'OrderCreated', '{}', stream_type => 'Order')", [order]);
  await assert.rejects(
    client.query("SELECT chronicle.append_event($1, 'OrderPaid', '{}', expected_version => 0)", [order]),
    (e) => {
      assert.equal(e.code, '40001');
      assert.match(e.message, new RegExp(`version conflict on stream "${order}"`));
      assert.equal(e.detail, 'Expected version 0 (no stream), actual version 1.');
      assert.match(e.hint, /retry/);
      return true;
    });
  assert.equal(await version(order), 1);
});

test('bad input is rejected with its SQLSTATE and stores nothing', async () => {
  const order = `order-${randomUUID()}`;
  await assert.rejects(
    client.query("SELECT chronicle.append_event($1, 'OrderCreated', '\"not an object\"')", [order]),
    (e) => e.code === '22023' && e.message.startsWith('data must be a JSON object'));
  await assert.rejects(
    client.query("SELECT chronicle.append_events($1, '[]')", [order]),
    (e) => e.code === '22023');
  assert.equal(await version(order), 0);
});

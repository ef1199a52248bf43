-- Replay inside the database: the Order aggregate as a reducer, the
-- state at every version and at a moment in time, the history, the diff.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

SELECT chronicle.define_reducer('Order', '{
  "initial": {"status": "new", "items": {}},
  "on": {
    "OrderCreated": [{"op": "set", "path": "/customer_id", "from": "/data/customer_id"},
                     {"op": "set", "path": "/status", "from": "/data/status"}],
    "ItemAdded": [{"op": "set", "path": "/items/{item_id}",
                   "from": {"quantity": "/data/quantity", "price": "/data/price"}},
                  {"op": "increment", "path": "/item_count", "from": "/data/quantity"}],
    "ItemRemoved": [{"op": "remove", "path": "/items/{item_id}"}],
    "OrderPaid": [{"op": "set", "path": "/status", "from": "/data/status"},
                  {"op": "set", "path": "/payment_method", "from": "/data/payment_method"}],
    "OrderCancelled": [{"op": "set", "path": "/status", "value": "cancelled"}]
  }
}');
SELECT stream_type, revision FROM chronicle.reducers;

SELECT chronicle.append_event('order-001', 'OrderCreated',
         '{"customer_id": "customer-123", "status": "created"}', stream_type => 'Order');
SELECT chronicle.append_events('order-001', '[
  {"event_type": "ItemAdded", "data": {"item_id": "apple", "quantity": 3, "price": 1.50}},
  {"event_type": "ItemAdded", "data": {"item_id": "banana", "quantity": 2, "price": 0.75}},
  {"event_type": "OrderPaid", "data": {"payment_method": "credit_card", "status": "paid"}}
]');

-- The state after every version (an aggregate loaded from its events).
SELECT version, chronicle.state_at('order-001', version) AS state
  FROM chronicle.read_stream('order-001');
SELECT chronicle.state_at('order-001') AS head, chronicle.state_at('order-001', 0) AS before_any;
-- The same through state_history, from version 3 on.
SELECT * FROM chronicle.state_history('order-001', 3);
-- As of a moment: before the stream existed, and now.
SELECT chronicle.state_at('order-001', as_of => '2000-01-01') AS long_ago,
       chronicle.state_at('order-001', as_of => now()) = chronicle.state_at('order-001') AS now_is_head;

-- What each event changed (RFC 6902), as the dashboard shows it.
SELECT version,
       chronicle.diff(chronicle.state_at('order-001', version - 1),
                      chronicle.state_at('order-001', version)) AS patch
  FROM chronicle.read_stream('order-001');

-- Snapshots are a cache: state_at leaves one every chronicle.snapshot_every
-- versions and starts from the newest usable one; deleting them changes nothing.
SET chronicle.snapshot_every = 2;
SELECT chronicle.state_at('order-001') AS head;
SELECT stream_id, version, reducer_revision FROM chronicle.snapshots;
SELECT chronicle.state_at('order-001', 3) = (SELECT state FROM chronicle.state_history('order-001', 3, 3))
       AS from_snapshot_equals_full_fold;
DELETE FROM chronicle.snapshots;
SELECT chronicle.state_at('order-001') AS head_without_snapshots;
-- A read-only transaction (or a standby) reads snapshots but writes none.
DELETE FROM chronicle.snapshots;
BEGIN READ ONLY;
SELECT chronicle.state_at('order-001') ->> 'status' AS status;
COMMIT;
SELECT count(*) AS snapshots_after_read_only FROM chronicle.snapshots;
SELECT chronicle.state_at('order-001') ->> 'status' AS status;
SELECT count(*) AS snapshots_after_read_write FROM chronicle.snapshots;
RESET chronicle.snapshot_every;

-- Without a reducer, the state is the merge of every event's data.
SELECT chronicle.append_event('cart-1', 'Opened', '{"owner": "ann", "items": 0}');
SELECT chronicle.append_event('cart-1', 'Changed', '{"items": 2, "owner": null}');
SELECT chronicle.state_at('cart-1');

-- A stream that does not exist has no state.
SELECT chronicle.state_at('order-404');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Redefining a reducer replaces it, and drops the snapshots made with the old one.
SELECT chronicle.define_reducer('Order', '{"on": {"OrderPaid": [{"op": "set", "path": "/paid", "value": true}]}}');
SELECT stream_type, revision FROM chronicle.reducers;
SELECT count(*) AS old_snapshots FROM chronicle.snapshots;
SELECT chronicle.state_at('order-001');

-- Errors.
SELECT chronicle.define_reducer('Order', '{"on": {"OrderPaid": [{"op": "sett", "path": "/paid"}]}}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_reducer('Order', '{"on": {"OrderPaid": [{"op": "set", "path": "paid", "value": 1}]}}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_reducer('Order', '[]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_reducer(NULL, '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_reducer('Order', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.state_at(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.state_at('order-001', -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.state_history('order-001', -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.diff(NULL, '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- A reducer that fails on a stored event: the replay stops with the version
-- and the operation (22000); the events themselves are untouched.
SELECT chronicle.define_reducer('Order', '{"on": {"ItemAdded": [{"op": "increment", "path": "/customer_id"}],
                                                 "OrderCreated": [{"op": "set", "path": "/customer_id", "from": "/data/customer_id"}]}}');
SELECT chronicle.state_at('order-001');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.state_at('order-001', 1);

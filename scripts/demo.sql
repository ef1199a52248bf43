-- The Order example (an order created, items added, paid; an Order rebuilt
-- from its events), through Chronicle's SQL API.
\pset footer off
-- The Order aggregate as data: how each event type changes the state.
SELECT chronicle.define_reducer('Order', '{
  "initial": {"status": "new", "items": {}},
  "on": {
    "OrderCreated": [{"op": "set", "path": "/customer_id", "from": "/data/customer_id"},
                     {"op": "set", "path": "/status", "from": "/data/status"}],
    "ItemAdded": [{"op": "set", "path": "/items/{item_id}",
                   "from": {"quantity": "/data/quantity", "price": "/data/price"}}],
    "ItemRemoved": [{"op": "remove", "path": "/items/{item_id}"}],
    "OrderPaid": [{"op": "set", "path": "/status", "from": "/data/status"},
                  {"op": "set", "path": "/payment_method", "from": "/data/payment_method"}],
    "OrderCancelled": [{"op": "set", "path": "/status", "value": "cancelled"}]
  },
  "derive": [{"path": "/total", "value": {"sum": "/items", "of": {"multiply": ["/quantity", "/price"]}}}]
}') \g /dev/null
\echo
\echo '=== Example 1: Create Order'
SELECT chronicle.append_event('order-001', 'OrderCreated',
         '{"customer_id": "customer-123", "status": "created"}',
         stream_type => 'Order', expected_version => 0) AS version;
\echo '=== Example 2: Add Items (apple 3 x 1.50, banana 2 x 0.75)'
SELECT chronicle.append_event('order-001', 'ItemAdded',
         '{"item_id": "apple", "quantity": 3, "price": 1.50}', expected_version => 1) AS version;
SELECT chronicle.append_event('order-001', 'ItemAdded',
         '{"item_id": "banana", "quantity": 2, "price": 0.75}', expected_version => 2) AS version;
\echo '=== Example 3: Pay Order'
SELECT chronicle.append_event('order-001', 'OrderPaid',
         '{"payment_method": "credit_card", "status": "paid"}', expected_version => 3) AS version;
\echo '=== Optimistic locking: a writer that still believes the order is at version 3'
\set ON_ERROR_STOP 0
SELECT chronicle.append_event('order-001', 'OrderCancelled', '{"reason": "changed my mind"}',
         expected_version => 3);
\set ON_ERROR_STOP 1
\echo
\echo '=== Example 4: View History of order-001'
SELECT version AS "Version", event_type AS "Event Type", data AS "Data",
       to_char(recorded_at, 'YYYY-MM-DD HH24:MI:SS') AS "Recorded"
  FROM chronicle.read_stream('order-001');
\echo '=== The Order rebuilt from its events at every version (chronicle.state_at)'
SELECT version AS "Version", chronicle.state_at('order-001', version) AS "State"
  FROM chronicle.read_stream('order-001');
\echo '=== Streams'
SELECT stream_id, stream_type, version FROM chronicle.list_streams();
\echo '=== The global feed: every event at a dense position (chronicle.read_all)'
-- (seal() hands out positions now; the sealer worker does it within milliseconds)
SELECT FROM chronicle.seal() \g /dev/null
SELECT global_position AS "Position", stream_id AS "Stream", version AS "Version", event_type AS "Event Type"
  FROM chronicle.read_all();
\echo '=== A subscription (a projection''s checkpoint): poll, ack, lag'
SELECT name, status FROM chronicle.create_subscription('order-projection', stream_type => 'Order');
SELECT global_position, event_type FROM chronicle.poll('order-projection', 2);
SELECT chronicle.ack('order-projection', 2) AS "checkpoint";
SELECT name, status, last_position, head_position, lag FROM chronicle.subscription_lag;

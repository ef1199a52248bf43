-- The append path, with the Order example (created, items added, paid).

-- 1. Create the order (the stream must not exist yet: expected_version => 0).
SELECT chronicle.append_event('order-001', 'OrderCreated',
         '{"customer_id": "customer-123", "status": "created"}',
         stream_type => 'Order', expected_version => 0,
         correlation_id => '00000000-0000-4000-8000-000000000001', actor => 'customer-123');
-- 2. Add two items in one batch, asserting the order is still at version 1.
SELECT chronicle.append_events('order-001', '[
  {"event_type": "ItemAdded", "data": {"item_id": "apple", "quantity": 3, "price": 1.50}},
  {"event_type": "ItemAdded", "data": {"item_id": "banana", "quantity": 2, "price": 0.75},
   "correlation_id": "00000000-0000-4000-8000-000000000001"}
]', expected_version => 1);
-- 3. Pay.
SELECT chronicle.append_event('order-001', 'OrderPaid',
         '{"payment_method": "credit_card", "status": "paid"}', expected_version => 3,
         metadata => '{"ip": "192.0.2.7"}', schema_version => 2);

-- The history of a stream, in version order.
SELECT version, event_type, data, metadata, schema_version, actor
  FROM chronicle.read_stream('order-001');
SELECT chronicle.stream_version('order-001') AS version,
       chronicle.stream_version('order-404') AS missing;
SELECT stream_id, stream_type, version, first_event_at <= last_event_at AS times_ordered
  FROM chronicle.list_streams(id_prefix => 'order-');

-- Time travel reads: a version range.
SELECT version, event_type FROM chronicle.read_stream('order-001', 2, 3);
SELECT version, event_type FROM chronicle.read_stream('order-001', from_version => 4);
-- A range that ends before it starts is refused.
SELECT count(*) FROM chronicle.read_stream('order-001', 3, 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- The correlation trace spans streams, in recording order.
SELECT chronicle.append_event('invoice-9', 'InvoiceIssued', '{"order": "order-001"}',
         correlation_id => '00000000-0000-4000-8000-000000000001');
SELECT stream_id, version, event_type
  FROM chronicle.read_correlation('00000000-0000-4000-8000-000000000001');

-- Versions are gap-free and global positions increase with them (once
-- sealed: chronicle.seal() does it now rather than within milliseconds;
-- the sealer worker may have sealed some events first, so the count it
-- returns is not shown: what it did is).
SELECT FROM chronicle.seal();
SELECT count(*) AS events, count(global_position) AS sealed
  FROM chronicle.events WHERE stream_id IN ('order-001', 'invoice-9');
SELECT bool_and(version = rn) AS gap_free,
       bool_and(global_position > coalesce(prev, 0)) AS positions_increase
  FROM (SELECT version, global_position, row_number() OVER (ORDER BY version) AS rn,
               lag(global_position) OVER (ORDER BY version) AS prev
          FROM chronicle.read_stream('order-001')) s;

-- A stale expected_version is a conflict (40001): nothing is stored.
SELECT chronicle.append_event('order-001', 'OrderCancelled', '{"reason": "late"}', expected_version => 3);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.stream_version('order-001');

-- Idempotent retry: the same event_id at the same place returns the same version.
SELECT chronicle.append_event('order-002', 'OrderCreated', '{"customer_id": "c-2"}',
         stream_type => 'Order', expected_version => 0, event_id => '11111111-1111-4111-8111-111111111111');
SELECT chronicle.append_event('order-002', 'OrderCreated', '{"customer_id": "c-2"}',
         stream_type => 'Order', expected_version => 0, event_id => '11111111-1111-4111-8111-111111111111');
SELECT count(*) FROM chronicle.read_stream('order-002');
-- ... but the same event_id with other data, or in another stream, is 23505.
SELECT chronicle.append_event('order-002', 'OrderCreated', '{"customer_id": "c-3"}',
         expected_version => 0, event_id => '11111111-1111-4111-8111-111111111111');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('order-003', 'OrderCreated', '{"customer_id": "c-2"}',
         event_id => '11111111-1111-4111-8111-111111111111');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- A batch is all or nothing.
SELECT chronicle.append_events('order-004', '[
  {"event_type": "OrderCreated", "data": {}},
  {"event_type": "ItemAdded", "data": "apple"}
]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.stream_version('order-004');

-- A default stream_type is the id's category; a stream keeps its type.
SELECT chronicle.append_event('cart-17', 'CartOpened', '{}');
SELECT stream_type FROM chronicle.streams WHERE stream_id = 'cart-17';
SELECT chronicle.append_event('cart-17', 'CartClosed', '{}', stream_type => 'Basket');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- list_streams filters and pages.
SELECT stream_id FROM chronicle.list_streams(stream_type => 'Order');
SELECT stream_id FROM chronicle.list_streams(id_prefix => 'order-00', max_count => 1);
SELECT stream_id FROM chronicle.list_streams(after_stream_id => 'invoice-9');

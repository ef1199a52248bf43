-- What the applications Chronicle replaces write, as they write it: text
-- execution ids, aggregate ids that are codes or uuids, versions given as
-- the next sequence number, reads from version 0.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

-- Correlation and causation ids are any id: an execution id, a request id,
-- a uuid. A uuid in any form Postgres reads is stored lower-case and
-- hyphenated, and found by any of its forms.
SELECT chronicle.append_event('ES-TEST-001', 'OrderCreatedEvent', '{"marketplace": "amazon"}',
                              stream_type => 'Order', correlation_id => 'exec-test-001');
SELECT chronicle.append_event('ES-TEST-001', 'OrderSyncedEvent', '{"invoice_id": 12345}',
                              correlation_id => 'exec-test-001', causation_id => 'cmd-42');
SELECT chronicle.append_events('invoice-es-test-001', '[
  {"event_type": "InvoiceCreated", "data": {}, "correlation_id": "exec-test-001"},
  {"event_type": "InvoiceSent", "data": {}, "correlation_id": "6F1C2F0E5B1E4A559D530B7C0D1C9A10",
   "causation_id": "{0B6A2BD4-5C43-4D3C-9C66-3F2F1F9AD4B1}"}]');
SELECT chronicle.append_event('order-7', 'OrderPlaced', '{}',
                              correlation_id => '6F1C2F0E-5B1E-4A55-9D53-0B7C0D1C9A10');
SELECT stream_id, version, event_type, correlation_id, causation_id
  FROM chronicle.events ORDER BY recorded_at, stream_id, version;
SELECT stream_id, version FROM chronicle.read_correlation('exec-test-001');
SELECT stream_id, version FROM chronicle.read_correlation('6f1c2f0e5b1e4a559d530b7c0d1c9a10');
SELECT stream_id, version FROM chronicle.read_correlation('6f1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10'::uuid);
SELECT count(*) FROM chronicle.read_correlation('exec-404');
-- The index serves the trace.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM chronicle.event_log WHERE correlation_id = 'exec-test-001';
RESET enable_seqscan;

-- An id no event can have is refused, as a stream id is.
SELECT chronicle.append_event('order-7', 'A', '{}', correlation_id => ' exec');
SELECT chronicle.append_event('order-7', 'A', '{}', causation_id => '');
SELECT chronicle.append_event('order-7', 'A', '{}', correlation_id => repeat('x', 256));
SELECT chronicle.append_events('order-7', '[{"event_type": "A", "data": {}, "correlation_id": 42}]');
SELECT * FROM chronicle.read_correlation(NULL);
SELECT * FROM chronicle.read_correlation(E'exec\n1');
-- A uuid-typed value where the id is text is no such function (cast it).
SELECT chronicle.append_event('order-7', 'A', '{}', correlation_id => gen_random_uuid());
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.stream_version('order-7');

-- The default stream type: the word before the first '-', letters without
-- a capital; never a code or a uuid.
SELECT chronicle.append_event('ORD-2024-7', 'OrderPlaced', '{}');
SELECT chronicle.append_event('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10', 'UserRegistered', '{}');
SELECT chronicle.append_event('order', 'OrderPlaced', '{}');
SELECT chronicle.append_event('line_item-7', 'ItemAdded', '{}');
SELECT stream_id, stream_type FROM chronicle.streams ORDER BY stream_id;

-- Stream ids given as uuid (what psycopg sends for a Python UUID): every
-- function that takes a stream id takes one, stored as its lower-case text.
SELECT chronicle.append_event('AB1C2F0E-5B1E-4A55-9D53-0B7C0D1C9A10'::uuid, 'UserRegistered',
                              '{"name": "Ada"}', stream_type => 'User');
SELECT chronicle.append_events('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10'::uuid,
                               '[{"event_type": "UserRenamed", "data": {"name": "Ada L."}}]', 1);
SELECT chronicle.stream_version('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10'::uuid);
SELECT version, event_type FROM chronicle.read_stream('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10'::uuid);
SELECT chronicle.state_at('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10'::uuid, 1);
SELECT * FROM chronicle.state_history('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10'::uuid);
SELECT count(*) FROM chronicle.export_stream('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10'::uuid);
SELECT stream_id, stream_type, version FROM chronicle.streams WHERE stream_type = 'User';
-- A literal still calls the text form; NULL is refused as in the text form.
SELECT chronicle.stream_version('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10');
SELECT chronicle.stream_version('AB1C2F0E-5B1E-4A55-9D53-0B7C0D1C9A10');
SELECT chronicle.append_event(NULL::uuid, 'A', '{}');

-- version => N: the new event is version N (the next sequence number).
SELECT chronicle.append_event('order-001', 'OrderCreated', '{}', version => 1);
SELECT chronicle.append_event('order-001', 'ItemAdded', '{}', version => 2);
SELECT chronicle.append_event('order-001', 'ItemAdded', '{}', version => 2);
SELECT chronicle.append_event('order-001', 'ItemAdded', '{}', version => 3, expected_version => 2);
SELECT chronicle.append_event('order-001', 'ItemAdded', '{}', version => 5, expected_version => 3);
SELECT chronicle.append_event('order-001', 'ItemAdded', '{}', version => 0);
SELECT chronicle.stream_version('order-001');

-- from_version => 0 reads from the start, as 1 does.
SELECT version FROM chronicle.read_stream('order-001', from_version => 0);
SELECT version FROM chronicle.state_history('order-001', 0);
SELECT count(*) FROM chronicle.export_stream('order-001', 0);

-- import_stream reads the formats it names, and refuses another.
SELECT chronicle.import_stream('{}', format => 'csv');

-- The file of a JSON-lines event store, as it writes it: one
-- DomainEvent.to_dict() per line, occurred_at in UTC without an offset.
SELECT chronicle.import_stream($jsonl$
{"event_id": "d0000000-0000-4000-8000-000000000001", "event_type": "UserRegisteredEvent", "event_version": 1, "aggregate_id": "5e0c8c1a-8c57-4b4e-9a4e-1f0d6c7b2a11", "aggregate_type": "User", "execution_id": "exec-123", "user_id": null, "occurred_at": "2024-05-01T12:30:45.123456", "data": {"username": "testuser", "email": "test@example.com"}}
{"event_id": "d0000000-0000-4000-8000-000000000002", "event_type": "UserEmailChangedEvent", "event_version": 2, "aggregate_id": "5e0c8c1a-8c57-4b4e-9a4e-1f0d6c7b2a11", "aggregate_type": "User", "execution_id": "exec-124", "user_id": "admin", "occurred_at": "2024-05-02T08:00:00", "data": {"email": "new@example.com"}, "reason": "typo"}
$jsonl$, format => 'domain-events');
SELECT version, event_id, event_type, schema_version, correlation_id, actor, occurred_at AT TIME ZONE 'UTC' AS occurred_utc,
       data, metadata
  FROM chronicle.read_stream('5e0c8c1a-8c57-4b4e-9a4e-1f0d6c7b2a11'::uuid);
SELECT stream_type FROM chronicle.streams WHERE stream_id = '5e0c8c1a-8c57-4b4e-9a4e-1f0d6c7b2a11';
SELECT stream_id, version FROM chronicle.read_correlation('exec-124');
-- Lines of two aggregates are two files.
SELECT chronicle.import_stream('{"aggregate_id": "a-1", "aggregate_type": "A", "event_type": "X", "data": {}}
{"aggregate_id": "a-2", "aggregate_type": "A", "event_type": "X", "data": {}}', format => 'domain-events');

-- A reducer reads the ids as text, as the wasm module does.
SELECT chronicle.define_reducer('Trace', '{"on": {"Step": [
  {"op": "append", "path": "/trace", "from": "/correlation_id"},
  {"op": "set", "path": "/cause", "from": "/causation_id"}]}}');
SELECT chronicle.append_event('trace-1', 'Step', '{}', stream_type => 'Trace',
                              correlation_id => 'exec-1', causation_id => 'cmd-1');
SELECT chronicle.append_event('trace-1', 'Step', '{}', correlation_id => '6F1C2F0E5B1E4A559D530B7C0D1C9A10');
SELECT chronicle.state_at('trace-1');

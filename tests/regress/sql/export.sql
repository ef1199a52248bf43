-- Export and import of a stream as NDJSON; the helpers the dashboard reads
-- through (list_stream_types, reducer, canonical_json). Times and ids vary from
-- run to run, so the lines are shown without them.

DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

SELECT chronicle.define_reducer('Order', '{"initial": {"items": {}},
  "on": {"ItemAdded": [{"op": "set", "path": "/items/{item_id}", "from": "/data/price"}]}}');
SELECT chronicle.define_upcaster('ItemAdded', 1, '[{"op": "rename", "path": "/sku", "to": "item_id"}]');
SELECT chronicle.append_event('order-1', 'OrderCreated', '{"customer": "c-1"}', stream_type => 'Order',
                              event_id => 'a0000000-0000-4000-8000-000000000001',
                              correlation_id => 'c0000000-0000-4000-8000-000000000001');
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"sku": "apple", "price": 1.50}',
                              event_id => 'a0000000-0000-4000-8000-000000000002',
                              causation_id => 'a0000000-0000-4000-8000-000000000001', actor => 'shop');
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"item_id": "pear", "price": 12345678901234567890.10}',
                              schema_version => 2, event_id => 'a0000000-0000-4000-8000-000000000003');

-- The header: the stream, its version, the reducer in force, upcasters, schemas.
SELECT (l::jsonb - 'exported_at') AS header
  FROM chronicle.export_stream('order-1') l LIMIT 1;
-- Then one line per event, the full envelope (numbers exactly as stored).
SELECT l::jsonb - 'recorded_at' - 'occurred_at' - 'global_position' AS event
  FROM chronicle.export_stream('order-1') l OFFSET 1;
-- A page of versions: the header says which, the stream's version stays the head.
SELECT l::jsonb -> 'version' AS version, l::jsonb -> 'from_version' AS from_version,
       l::jsonb -> 'to_version' AS to_version
  FROM chronicle.export_stream('order-1', 2, 2) l;
-- Bad arguments.
SELECT chronicle.export_stream('nope');
SELECT chronicle.export_stream(NULL);
SELECT chronicle.export_stream('order-1', -1);

-- Import: a new stream with the same events; the state is the same.
CREATE TEMP TABLE export AS
  SELECT string_agg(l, E'\n') AS lines FROM chronicle.export_stream('order-1') l;
-- The same database holds these event ids already: another stream id cannot take them.
SELECT chronicle.import_stream(lines, 'order-copy') FROM export;
-- Without the event ids (new ones are generated) it can.
SELECT chronicle.import_stream(
         (SELECT string_agg(CASE WHEN n = 1 THEN l ELSE (l::jsonb - 'event_id')::text END, E'\n' ORDER BY n)
            FROM chronicle.export_stream('order-1') WITH ORDINALITY AS e(l, n)),
         'order-copy');
SELECT chronicle.state_at('order-copy') = chronicle.state_at('order-1') AS same_state,
       chronicle.canonical_json(chronicle.state_at('order-copy')) AS state;
SELECT version, event_type, schema_version, data, actor, causation_id
  FROM chronicle.read_stream('order-copy');
-- Importing the original export again under its own id is an idempotent retry.
SELECT chronicle.import_stream(lines) FROM export;
-- Not an export, a gap, nothing.
SELECT chronicle.import_stream('{"hello": 1}');
SELECT chronicle.import_stream('');
SELECT chronicle.import_stream(NULL);
SELECT chronicle.import_stream('{"format":"chronicle-export","format_version":1,"stream_id":"g-1","stream_type":"g"}
{"version":1,"event_type":"A","data":{}}
{"version":3,"event_type":"A","data":{}}');
SELECT chronicle.import_stream('{"format":"chronicle-export","format_version":2,"stream_id":"g-1","stream_type":"g"}');
SELECT chronicle.stream_version('g-1');

-- What the dashboard lists.
SELECT * FROM chronicle.list_stream_types();
SELECT stream_type, definition, revision FROM chronicle.reducer('Order');
SELECT stream_type FROM chronicle.reducer('Nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.reducer(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Canonical JSON: sorted keys, no white space, exact numbers.
SELECT chronicle.canonical_json('{"b": 1.50, "a": [1, {"d": null, "c": "x\ny"}], "é": 12345678901234567890}');
SELECT chronicle.canonical_json(NULL) IS NULL AS strict;

-- Upcasting: old events are read, and replayed, in their newest schema version.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

-- Version 1 of ItemAdded had "qty" and no currency; version 2 has "quantity"
-- and "currency"; version 3 moved the customer id to the top level.
SELECT chronicle.append_event('order-7', 'ItemAdded', '{"item_id": "apple", "qty": 3, "customer": {"id": "c-1"}}', schema_version => 1);
SELECT chronicle.append_event('order-7', 'ItemAdded', '{"item_id": "pear", "quantity": 1, "currency": "USD", "customer": {"id": "c-1"}}', schema_version => 2);
SELECT chronicle.append_event('order-7', 'ItemAdded', '{"item_id": "fig", "quantity": 2, "currency": "EUR", "customer_id": "c-1"}', schema_version => 3);

SELECT chronicle.define_upcaster('ItemAdded', 1, '[
  {"op": "rename", "path": "/qty", "to": "quantity"},
  {"op": "default", "path": "/currency", "value": "EUR"}
]');
SELECT chronicle.define_upcaster('ItemAdded', 2, '[
  {"op": "move", "from": "/customer/id", "path": "/customer_id"},
  {"op": "remove", "path": "/customer"}
]');

-- The getter: one upcaster; 42704 if none is defined.
SELECT event_type, from_schema_version, steps FROM chronicle.upcaster('ItemAdded', 2);
SELECT * FROM chronicle.upcaster('ItemAdded', 3);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Stored events are never changed ...
SELECT version, schema_version, data FROM chronicle.read_stream('order-7');
-- ... but can be read upcast:
SELECT version, schema_version, data FROM chronicle.read_stream('order-7', upcast => true);

-- Replay upcasts before reducing.
SELECT chronicle.define_reducer('order', '{"on": {"ItemAdded": [
  {"op": "set", "path": "/items/{item_id}", "from": {"quantity": "/data/quantity", "currency": "/data/currency"}},
  {"op": "set", "path": "/customer_id", "from": "/data/customer_id"}]}}');
SELECT chronicle.state_at('order-7');

-- Snapshots are used only with the reducer revision and the upcasters they
-- were made with. (Forging a snapshot shows when the cache is used.)
SET chronicle.snapshot_every = 1;
SELECT chronicle.state_at('order-7') IS NOT NULL AS folded;
SELECT version, reducer_revision, upcasters_fingerprint <> 0 AS tagged FROM chronicle.snapshots;
UPDATE chronicle.snapshots SET state = '{"forged": true}';
SELECT chronicle.state_at('order-7') AS from_the_cache;
UPDATE chronicle.snapshots SET upcasters_fingerprint = upcasters_fingerprint + 1;
SELECT chronicle.state_at('order-7') AS other_upcasters_ignored;
RESET chronicle.snapshot_every;

-- Errors.
SELECT chronicle.define_upcaster('ItemAdded', 1, '[{"op": "copy", "path": "/a"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_upcaster('ItemAdded', 1, '[{"op": "rename", "path": "/qty"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_upcaster('ItemAdded', 1, '[]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_upcaster('ItemAdded', 0, '[{"op": "remove", "path": "/a"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_upcaster('ItemAdded', NULL, '[{"op": "remove", "path": "/a"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_upcaster('Item Added', 1, '[{"op": "remove", "path": "/a"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- upcast => NULL takes its default (false): the stored data.
SELECT version, schema_version FROM chronicle.read_stream('order-7', upcast => NULL);

-- Event schemas: checked at every append of that event type and schema version.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

SELECT chronicle.define_event_type('ItemAdded', 1, '{
  "type": "object",
  "required": ["item_id", "quantity", "price"],
  "additionalProperties": false,
  "properties": {
    "item_id":  {"type": "string", "minLength": 1, "maxLength": 40},
    "quantity": {"type": "integer", "minimum": 1},
    "price":    {"type": "number", "minimum": 0, "description": "per unit"},
    "tags":     {"type": "array", "items": {"enum": ["gift", "fragile"]}, "maxItems": 3}
  }
}');
SELECT chronicle.define_event_type('ItemAdded', 2, '{"required": ["sku"]}');
SELECT event_type, schema_version FROM chronicle.event_types ORDER BY 1, 2;
-- The getter: the newest schema version, or the one asked for; 42704 if none.
SELECT event_type, schema_version, schema FROM chronicle.event_type('ItemAdded');
SELECT schema_version, schema -> 'required' AS required FROM chronicle.event_type('ItemAdded', 1);
SELECT * FROM chronicle.event_type('ItemAdded', 3);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.event_type('Note');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Matching data is stored.
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"item_id": "apple", "quantity": 3, "price": 1.50}');
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"sku": "A-1"}', schema_version => 2);

-- A violation names the JSON path (23514) and stores nothing.
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"item_id": "apple", "quantity": 0, "price": 1.50}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"item_id": "apple", "quantity": 2}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"item_id": "a", "quantity": 1, "price": 1, "tags": ["gift", "used"]}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"item_id": "a", "quantity": 1.5, "price": 1}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('order-1', '[
  {"event_type": "ItemAdded", "data": {"item_id": "b", "quantity": 1, "price": 2}},
  {"event_type": "ItemAdded", "data": {"item_id": "c", "quantity": 1, "price": 2, "colour": "red"}}
]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- A typed event must use a defined schema version.
SELECT chronicle.append_event('order-1', 'ItemAdded', '{"sku": "A-1"}', schema_version => 3);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Event types without schemas are not checked.
SELECT chronicle.append_event('order-1', 'Note', '{"text": "anything"}');
SELECT version, event_type, schema_version FROM chronicle.read_stream('order-1');

-- Bad definitions.
SELECT chronicle.define_event_type('ItemAdded', 1, '{"type": "text"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_event_type('ItemAdded', 1, '{"properties": {"sku": {"pattern": "^[A-Z]"}}}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_event_type('Item Added', 1, '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_event_type('ItemAdded', 1, NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_event_type('ItemAdded', NULL::int, '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.define_event_type('ItemAdded', 0, '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- A definition rolled back leaves no trace, not even in this session's cache.
BEGIN;
SELECT chronicle.define_event_type('Note', 1, '{"required": ["text"]}');
SELECT chronicle.append_event('order-1', 'Note', '{"txt": "typo"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT chronicle.append_event('order-1', 'Note', '{"txt": "no schema now"}');

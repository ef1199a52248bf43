-- The 0.2.0 names and signatures that 0.3.0 renamed still work, as
-- deprecated wrappers, for one release.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;
SELECT chronicle.append_event('order-1', 'OrderPlaced', '{}');
SELECT chronicle.append_event('order-1', 'OrderPaid', '{}');

-- stream_types() is list_stream_types(), with events as numeric.
SELECT * FROM chronicle.stream_types();
SELECT pg_typeof(events) FROM chronicle.stream_types();
SELECT pg_typeof(events) FROM chronicle.list_stream_types();

-- seal(max_events bigint) seals, as seal(max_count int) does; seal() calls
-- the new one.
SELECT FROM chronicle.seal(max_events => 10000);
SELECT count(*) AS events, count(global_position) AS sealed FROM chronicle.events;
SELECT chronicle.seal(max_events => 0);
SELECT chronicle.seal(max_events => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.seal();

-- define_event_type(event_type, schema, schema_version DEFAULT 1): the
-- 0.2.0 order of arguments, positional or named.
SELECT chronicle.define_event_type('OrderPaid', '{"required": ["amount"]}');
SELECT chronicle.define_event_type(event_type => 'OrderPaid', schema => '{"required": ["amount", "currency"]}',
                                   schema_version => 2);
SELECT event_type, schema_version, schema FROM chronicle.event_types ORDER BY 2;
SELECT chronicle.append_event('order-1', 'OrderPaid', '{"currency": "EUR"}', schema_version => 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Each says what replaces it.
SELECT p.oid::regprocedure AS deprecated, obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc p
 WHERE p.pronamespace = 'chronicle'::regnamespace AND obj_description(p.oid, 'pg_proc') LIKE 'Deprecated%'
 ORDER BY p.oid::regprocedure::text;

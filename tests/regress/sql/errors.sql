-- Every rejection: SQLSTATE, a message naming the field, DETAIL where values
-- help, and a HINT. Nothing is stored by a rejected call.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

-- NULL required arguments: 22004.
SELECT chronicle.append_event(NULL, 'A', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', NULL, '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'A', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('s-1', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.read_stream(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.stream_version(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.read_correlation(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- (An argument with a default takes it when passed NULL: not an error.)
SELECT count(*) FROM chronicle.list_streams(max_count => NULL);

-- Payloads must be JSON objects: 22023.
SELECT chronicle.append_event('s-1', 'A', '[1, 2]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'A', '"text"');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'A', '{}', metadata => 'null');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Identifiers: 22023 for bad characters, 22001 for length.
SELECT chronicle.append_event('', 'A', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event(repeat('x', 256), 'A', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event(E's-1\n', 'A', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event(E's-\u200B1', 'A', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'Order Created', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', repeat('E', 101), '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'A', '{}', stream_type => 'x; DROP TABLE chronicle.events');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'A', '{}', actor => ' bob');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('42', 'A', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Numbers out of range: 22023 for expected_version and schema_version.
SELECT chronicle.append_event('s-1', 'A', '{}', expected_version => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'A', '{}', schema_version => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.read_stream('s-1', from_version => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.read_stream('s-1', to_version => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.list_streams(max_count => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Limits: 54000.
SET chronicle.max_event_size = '1kB';
SELECT chronicle.append_event('s-1', 'A', jsonb_build_object('blob', repeat('x', 2000)));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET chronicle.max_event_size;
SELECT chronicle.append_event('s-1', 'A', (repeat('[', 200) || repeat(']', 200))::jsonb);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET chronicle.max_batch_events = 2;
SELECT chronicle.append_events('s-1', '[{"event_type": "A", "data": {}}, {"event_type": "A", "data": {}}, {"event_type": "A", "data": {}}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET chronicle.max_batch_events;
SET chronicle.max_batch_events = 0;
SHOW chronicle.max_batch_events;

-- Batch elements: the error points at the element and field.
SELECT chronicle.append_events('s-1', '{"event_type": "A"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('s-1', '[]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('s-1', '[{"event_type": "A", "data": {}}, {"data": {}}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('s-1', '[{"event_type": "A", "data": {}, "evnet_type": "B"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('s-1', '[{"event_type": "A", "data": {}, "event_id": "42"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('s-1', '[{"event_type": "A", "data": {}, "occurred_at": "soon"}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Conflicts: 40001 with expected and actual versions.
SELECT chronicle.append_event('s-1', 'A', '{}');
SELECT chronicle.append_event('s-1', 'A', '{}', expected_version => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('s-1', '[{"event_type": "A", "data": {}}]', expected_version => 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_event('s-1', 'A', '{}', expected_version => 9223372036854775807);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- After all of that, only the one good event is stored.
SELECT stream_id, version, event_type FROM chronicle.events ORDER BY global_position;
SELECT stream_id, version FROM chronicle.streams;

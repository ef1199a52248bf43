-- The rules every function follows (README, "Naming rules"): one answer for
-- one situation, whichever function meets it.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;
SELECT chronicle.append_events('order-1', '[
  {"event_type": "OrderPlaced", "data": {"status": "placed"}},
  {"event_type": "OrderPaid", "data": {"status": "paid"}},
  {"event_type": "OrderShipped", "data": {"status": "shipped"}}]');
SELECT FROM chronicle.seal();

-- A stream that does not exist: set reads return no rows, stream_version
-- is 0 (what expected_version => 0 asks for), and a single answer about it
-- is 42704.
SELECT count(*) FROM chronicle.read_stream('order-404');
SELECT count(*) FROM chronicle.state_history('order-404');
SELECT chronicle.stream_version('order-404');
SELECT chronicle.state_at('order-404');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.export_stream('order-404');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- A version the stream has not reached is refused, not answered with
-- another version's state.
SELECT chronicle.state_at('order-1', 3);
SELECT chronicle.state_at('order-1', 99);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.state_at('order-1', -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Version 0 is the state before the first event.
SELECT chronicle.state_at('order-1', 0);

-- A version range is from_version .. to_version, inclusive; a range that
-- ends before it starts is refused; one that ends beyond the head reads
-- what there is.
SELECT version FROM chronicle.read_stream('order-1', 2, 2);
SELECT version FROM chronicle.read_stream('order-1', 2, 99);
SELECT version FROM chronicle.read_stream('order-1', 3, 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT version FROM chronicle.state_history('order-1', 3, 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM chronicle.export_stream('order-1', 3, 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- An argument with a default takes it when passed NULL; one without a
-- default is refused (22004, naming it).
SELECT version FROM chronicle.read_stream('order-1', NULL, NULL, NULL);
SELECT count(*) FROM chronicle.read_all(NULL, NULL);
SELECT count(*) FROM chronicle.list_streams(NULL, NULL, NULL, NULL);
SELECT version FROM chronicle.state_history('order-1', NULL);
SELECT chronicle.append_event('order-1', 'OrderNoted', '{}', metadata => NULL, schema_version => NULL);
SELECT metadata, schema_version FROM chronicle.read_stream('order-1', 4);
SELECT FROM chronicle.seal();
SELECT name, last_position FROM chronicle.create_subscription('s', after_position => NULL);
SELECT count(*) FROM chronicle.poll('s', NULL, NULL, NULL);
SELECT chronicle.ack('s', 2, consumer => NULL);
SELECT last_position FROM chronicle.reset_subscription('s', NULL);
SELECT chronicle.read_stream(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.ack('s', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.stream_version(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- A time without an offset is read in the session's TimeZone, whether it
-- is append_event's occurred_at or one inside append_events.
SET TimeZone = 'Europe/Paris';
SELECT chronicle.append_event('clock-1', 'Ticked', '{}', occurred_at => '2024-05-01 12:30:00');
SELECT chronicle.append_events('clock-1', '[{"event_type": "Ticked", "data": {}, "occurred_at": "2024-05-01 12:30:00"}]');
SELECT version, occurred_at FROM chronicle.read_stream('clock-1');
RESET TimeZone;

-- The lifecycle verbs of a subscription return its row; call them in FROM
-- to see its columns.
SELECT name, status FROM chronicle.pause_subscription('s');
SELECT name, status FROM chronicle.resume_subscription('s');
SELECT name, status, error_message FROM chronicle.fail_subscription('s', 'boom');
SELECT name, status, last_position FROM chronicle.drop_subscription('s');
-- ... and a missing one is 42704 for every verb, naming the argument.
SELECT * FROM chronicle.pause_subscription('s');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.drop_subscription('s');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.poll('s');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- A page size is max_count, 1000 unless given (seal's counts work, not rows:
-- NULL, all that can be sealed now).
SELECT p.proname, a.name, a.default_value
  FROM pg_proc p,
       LATERAL (SELECT unnest(string_to_array(pg_get_function_arguments(p.oid), ', ')) AS arg) x,
       LATERAL (SELECT split_part(x.arg, ' ', 1) AS name,
                       nullif(split_part(x.arg, ' DEFAULT ', 2), '') AS default_value) a
 WHERE p.pronamespace = 'chronicle'::regnamespace AND a.name = 'max_count'
 ORDER BY 1;

-- History cannot be rewritten: UPDATE, DELETE and TRUNCATE of the event log
-- and of the feed are refused, even for their owner and a superuser; the
-- view chronicle.events refuses writes too.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;
SELECT chronicle.append_event('ledger-1', 'Deposited', '{"amount": 100}');
SELECT FROM chronicle.seal();
SELECT count(*) AS events, count(global_position) AS sealed, chronicle.feed_head() AS head
  FROM chronicle.events;

-- Through the view.
UPDATE chronicle.events SET data = '{"amount": 1000000}';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM chronicle.events WHERE stream_id = 'ledger-1';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO chronicle.events (event_id, stream_id, stream_type, version, event_type, data)
VALUES (gen_random_uuid(), 'ledger-1', 'ledger', 2, 'Deposited', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- The tables underneath.
UPDATE chronicle.event_log SET data = '{"amount": 1000000}';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM chronicle.event_log WHERE stream_id = 'ledger-1';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
TRUNCATE chronicle.event_log;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- An UPDATE that matches no row is refused too (a statement-level guard).
UPDATE chronicle.event_log SET actor = 'x' WHERE false;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE chronicle.feed SET first_position = first_position + 1;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM chronicle.feed;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
TRUNCATE chronicle.feed;
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Turning ordinary triggers off (as pg_restore and replication do) does not
-- turn the guard off.
SET session_replication_role = replica;
DELETE FROM chronicle.event_log;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM chronicle.feed;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET session_replication_role;

-- The event is still there, unchanged, at its position.
SELECT global_position, stream_id, version, event_type, data FROM chronicle.events;

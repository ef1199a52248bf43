-- History cannot be rewritten: UPDATE, DELETE and TRUNCATE of
-- chronicle.events are refused, even for its owner and a superuser.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;
SELECT chronicle.append_event('ledger-1', 'Deposited', '{"amount": 100}');

UPDATE chronicle.events SET data = '{"amount": 1000000}';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM chronicle.events WHERE stream_id = 'ledger-1';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
TRUNCATE chronicle.events;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- An UPDATE that matches no row is refused too (a statement-level guard).
UPDATE chronicle.events SET actor = 'x' WHERE false;
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Turning ordinary triggers off (as pg_restore and replication do) does not
-- turn the guard off.
SET session_replication_role = replica;
DELETE FROM chronicle.events;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET session_replication_role;

-- The event is still there, unchanged.
SELECT stream_id, version, event_type, data FROM chronicle.events;

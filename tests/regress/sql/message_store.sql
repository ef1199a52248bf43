-- chronicle_message_store: message-db 1.3.0's API on Chronicle. Every
-- function, every error in message-db's wording (SQLSTATE P0001, as its
-- RAISE EXCEPTIONs give), the views, the privileges and the import of a
-- message-db table. Messages get global positions when sealed:
-- chronicle.seal() does it now (its count is not shown).

DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;
CREATE EXTENSION chronicle_message_store;
-- Errors with their HINTs, without the PL/pgSQL line numbers.
\set SHOW_CONTEXT never
SELECT message_store.message_store_version();

-- Stream names.
SELECT n AS stream_name, message_store.category(n), message_store.id(n), message_store.cardinal_id(n),
       message_store.is_category(n)
  FROM unnest(ARRAY['account-123', 'account:command-123+abc', 'account', 'account-', NULL]) n;
-- hash_64: the first 64 bits of the MD5, signed (message-db's consumer groups).
SELECT message_store.hash_64('123'), message_store.hash_64('abc'),
       message_store.hash_64('123') = ('x' || left(md5('123'), 16))::bit(64)::bigint AS same_bits;

-- Writing: positions from 0; expected_version -1 for a new stream.
SELECT message_store.write_message('00000000-0000-4000-8000-000000000001', 'account-123', 'Opened', '{"owner": "ann"}', NULL, -1);
SELECT message_store.write_message('00000000-0000-4000-8000-000000000002', 'account-123', 'Deposited', '{"amount": 10}',
                                   '{"correlationStreamName": "transfer-7"}', 0);
SELECT message_store.write_message('00000000-0000-4000-8000-000000000003', 'account-123', 'Withdrawn', '{"amount": 4}');
SELECT message_store.write_message('00000000-0000-4000-8000-000000000004', 'account-456', 'Opened', '{"owner": "bob"}', '{}');
SELECT message_store.write_message('00000000-0000-4000-8000-000000000005', 'transfer-7', 'Initiated', '{"amount": 10}');
SELECT message_store.write_message('00000000-0000-4000-8000-000000000006', 'account-789+x', 'Opened', '{"owner": "cy"}');
SELECT message_store.write_message('00000000-0000-4000-8000-000000000007', 'account', 'Configured', '{}');
SELECT message_store.stream_version('account-123'), message_store.stream_version('account-none');

-- The same events through Chronicle's API: version = position + 1, the
-- stream type the category, metadata {} for NULL.
SELECT stream_id, stream_type, version, event_type, data, metadata, event_id
  FROM chronicle.read_stream('account-123');
-- ... and the reverse: an event appended with chronicle.append_event is a message.
SELECT chronicle.append_event('account-456', 'Deposited', '{"amount": 3}',
                              event_id => '00000000-0000-4000-8000-000000000008');
SELECT FROM chronicle.seal();

-- Reads (time is the UTC occurred_at, as a timestamp without time zone).
SELECT id, stream_name, type, position, global_position, data, metadata,
       time = (SELECT occurred_at AT TIME ZONE 'UTC' FROM chronicle.events e WHERE e.event_id = m.id::uuid) AS time_is_utc
  FROM message_store.get_stream_messages('account-123') m;
SELECT position, type FROM message_store.get_stream_messages('account-123', 1);
SELECT position, type FROM message_store.get_stream_messages('account-123', 0, 2);
SELECT position, type FROM message_store.get_stream_messages('account-123', -5, -1);
SELECT position, type FROM message_store.get_stream_messages('account-123', NULL, NULL);
SELECT count(*) FROM message_store.get_stream_messages('account-none');
SELECT position, type FROM message_store.get_last_stream_message('account-123');
SELECT position, type FROM message_store.get_last_stream_message('account-123', 'Deposited');
SELECT count(*) FROM message_store.get_last_stream_message('account-123', 'Closed');
SELECT count(*) FROM message_store.get_last_stream_message('account');

SELECT global_position, stream_name, position, type FROM message_store.get_category_messages('account');
SELECT global_position, stream_name FROM message_store.get_category_messages('account', 3);
SELECT global_position, stream_name FROM message_store.get_category_messages('account', 1, 2);
SELECT global_position, stream_name FROM message_store.get_category_messages('account', 0, -1);
SELECT global_position, stream_name FROM message_store.get_category_messages('account', correlation => 'transfer');
SELECT count(*) FROM message_store.get_category_messages('none');
-- Extreme positions and sizes read what there is.
SELECT count(*) FROM message_store.get_category_messages('account', -9223372036854775808, 9223372036854775807);
SELECT count(*) FROM message_store.get_category_messages('account', 9223372036854775807);
SELECT count(*) FROM message_store.get_stream_messages('account-123', 9223372036854775807, 9223372036854775807);
-- Consumer groups: each stream to exactly one member, by hash_64(cardinal_id);
-- account-789+x goes where a stream of id 789 would; a name without id to none.
SELECT m.member, m.stream_name, mod(@message_store.hash_64(message_store.cardinal_id(m.stream_name)), 2) AS expected_member
  FROM generate_series(0, 1) g(member),
       LATERAL (SELECT g.member, c.stream_name FROM message_store.get_category_messages('account', 1, 1000, NULL, g.member, 2) c) m
 ORDER BY m.stream_name, m.member;

-- Conditions: only when message_store.sql_condition is on.
SELECT message_store.get_stream_messages('account-123', condition => 'type = ''Withdrawn''');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', condition => 'type = ''Withdrawn''');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET message_store.sql_condition = on;
SELECT position, type FROM message_store.get_stream_messages('account-123', condition => 'messages.type = ''Withdrawn''');
SELECT stream_name, type FROM message_store.get_category_messages('account', condition => 'type = ''Opened'' AND (data->>''owner'') <> ''ann''');
SELECT stream_name, type FROM message_store.get_category_messages('account', condition => 'metadata IS NOT NULL');
-- A condition names what the caller's search path finds, as in message-db.
SET search_path = message_store, public;
SELECT stream_name FROM get_category_messages('account', condition => 'cardinal_id(stream_name) = ''789''');
RESET search_path;
SET message_store.sql_condition = off;

-- Errors, in message-db's words.
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-123', 'Closed', '{}', NULL, 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-123', 'Closed', '{}', NULL, -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-new', 'Closed', '{}', NULL, 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_stream_messages('account');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account-123');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', correlation => 'transfer-7');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', consumer_group_member => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', consumer_group_size => 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', consumer_group_member => 0, consumer_group_size => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', consumer_group_member => -1, consumer_group_size => 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', consumer_group_member => 2, consumer_group_size => 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_category_messages('account', batch_size => -2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.get_stream_messages('account-123', batch_size => -2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Out of range as in message-db (it casts the group size to smallint), and
-- an expected version no stream can have.
SELECT message_store.get_category_messages('account', consumer_group_member => 0, consumer_group_size => 40000);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-123', 'Closed', '{}', NULL, -9223372036854775808);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-123', 'Closed', '{}', NULL, 9223372036854775807);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- An id already stored is a unique violation, as in message-db, even with
-- the same content at the same place (Chronicle's append would take that
-- as a retry).
SELECT message_store.write_message('00000000-0000-4000-8000-000000000003', 'account-123', 'Withdrawn', '{"amount": 4}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- With an expected version, message-db checks the version first: a wrong
-- one is the conflict, a right one the duplicate.
SELECT message_store.write_message('00000000-0000-4000-8000-000000000003', 'account-123', 'Withdrawn', '{"amount": 4}', NULL, 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000003', 'account-123', 'Withdrawn', '{"amount": 4}', NULL, 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000003', 'account-new', 'Withdrawn', '{"amount": 4}', NULL, -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('not-a-uuid', 'account-123', 'Withdrawn', '{"amount": 4}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', NULL, 'Withdrawn', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-123', NULL, '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-123', 'Withdrawn', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message(NULL, 'account-123', 'Withdrawn', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Chronicle's own rules still hold (names, data a JSON object): its errors.
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', 'account-123', 'Withdrawn', '[1, 2]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT message_store.write_message('00000000-0000-4000-8000-000000000009', '9lives-1', 'Opened', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Nothing of the rejected writes was stored.
SELECT stream_name, position, type FROM message_store.messages ORDER BY global_position;

-- The views.
SELECT * FROM message_store.stream_summary;
SELECT * FROM message_store.type_summary;
SELECT * FROM message_store.stream_type_summary;
SELECT * FROM message_store.type_stream_summary;
SELECT * FROM message_store.category_type_summary;
SELECT * FROM message_store.type_category_summary;
SELECT pg_typeof(global_position), pg_typeof(position), pg_typeof(time), pg_typeof(stream_name), pg_typeof(type),
       pg_typeof(data), pg_typeof(metadata), pg_typeof(id)
  FROM message_store.messages LIMIT 1;

-- acquire_lock takes message-db's category lock (write_message does not).
BEGIN;
SELECT message_store.acquire_lock('account-123') = message_store.hash_64('account') AS key_is_the_category_hash;
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
   AND ((classid::bigint << 32) | objid::bigint) = message_store.hash_64('account');
ROLLBACK;

-- Privileges: message-db's role reads and writes; PUBLIC nothing.
SELECT r.rolcanlogin, pg_has_role('message_store', 'chronicle_writer', 'MEMBER') AS writer
  FROM pg_roles r WHERE r.rolname = 'message_store';
SET ROLE message_store;
SET search_path = "$user", public;
SELECT write_message('00000000-0000-4000-8000-000000000010', 'account-456', 'Withdrawn', '{"amount": 1}');
SELECT count(*) FROM get_stream_messages('account-456');
SELECT count(*) FROM messages;
RESET search_path;
RESET ROLE;
CREATE ROLE message_store_nobody;
SET ROLE message_store_nobody;
SELECT message_store.write_message('00000000-0000-4000-8000-000000000011', 'account-456', 'Withdrawn', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE message_store_nobody;
-- Chronicle's readers read, and may not write.
CREATE ROLE message_store_reader IN ROLE chronicle_reader;
SET ROLE message_store_reader;
SELECT count(*) FROM message_store.get_stream_messages('account-456');
SELECT message_store.write_message('00000000-0000-4000-8000-000000000011', 'account-456', 'Withdrawn', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE message_store_reader;

-- Many windows: a rare category among 5,000 messages, read in pages from
-- the middle of the feed; every page is what the messages view holds.
SELECT count(*) FROM (
  SELECT message_store.write_message(gen_random_uuid()::varchar,
                                     CASE WHEN i % 97 = 0 THEN 'rare-' ELSE 'noise' || (i % 3) || '-' END || (i % 50),
                                     'Tick', jsonb_build_object('i', i))
    FROM generate_series(1, 5000) i) w;
SELECT FROM chronicle.seal();
CREATE TEMP TABLE rare AS
SELECT global_position, stream_name, position FROM message_store.messages
 WHERE message_store.category(stream_name) = 'rare' ORDER BY global_position;
SELECT count(*) AS rare_messages FROM rare;
SELECT (SELECT array_agg(global_position ORDER BY global_position)
          FROM message_store.get_category_messages('rare', (SELECT global_position FROM rare ORDER BY 1 OFFSET 10 LIMIT 1), 7))
     = (SELECT array_agg(global_position ORDER BY global_position)
          FROM (SELECT global_position FROM rare ORDER BY 1 OFFSET 10 LIMIT 7) r) AS page_from_the_middle,
       (SELECT count(*) FROM message_store.get_category_messages('rare', 1, -1)) = (SELECT count(*) FROM rare) AS all_of_it,
       (SELECT array_agg(stream_name || '/' || position ORDER BY global_position)
          FROM message_store.get_category_messages('rare', 2000, 1000))
     = (SELECT array_agg(stream_name || '/' || position ORDER BY global_position) FROM rare WHERE global_position >= 2000)
       AS from_position_2000;

-- Moving from message-db: a table with message-db's columns (its old
-- schema renamed), copied in global_position order (not the rows' order on
-- disk), in batches of 2, keeping ids, positions and times.
CREATE SCHEMA message_db;
CREATE TABLE message_db.messages (
    global_position bigint PRIMARY KEY, position bigint NOT NULL,
    time timestamp NOT NULL, stream_name text NOT NULL, type text NOT NULL,
    data jsonb, metadata jsonb, id uuid NOT NULL UNIQUE);
INSERT INTO message_db.messages VALUES
    (12, 1, '2020-01-01 10:00:03', 'order-2', 'Shipped', '{}', NULL, '10000000-0000-4000-8000-000000000004'),
    (10, 0, '2020-01-01 10:00:01', 'order-2', 'Placed', '{"total": 5}', '{"correlationStreamName": "cart-9"}', '10000000-0000-4000-8000-000000000002'),
    (9, 0, '2020-01-01 10:00:00', 'order-1', 'Placed', '{"total": 9}', NULL, '10000000-0000-4000-8000-000000000001'),
    (11, 1, '2020-01-01 10:00:02', 'order-1', 'Paid', '{}', NULL, '10000000-0000-4000-8000-000000000003'),
    (13, 0, '2020-01-01 10:00:04', 'invoice-1', 'Issued', '{"n": 1}', NULL, '10000000-0000-4000-8000-000000000005');
CALL message_store.import_messages('message_db.messages', batch_size => 2);
-- Again (an interrupted copy run again): nothing twice.
CALL message_store.import_messages('message_db.messages');
SELECT FROM chronicle.seal();
SELECT o.global_position AS old_position, m.stream_name, m.position, m.type, m.time, m.metadata, m.id
  FROM message_store.messages m JOIN message_db.messages o USING (id)
 ORDER BY m.global_position;
SELECT stream_name, position FROM message_store.get_category_messages('order', correlation => 'cart');
CALL message_store.import_messages('message_db.messages', batch_size => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- A message Chronicle cannot store is found before anything is copied.
INSERT INTO message_db.messages VALUES
    (14, 0, '2020-01-01 10:00:05', 'order-3', 'Placed', '{}', NULL, '10000000-0000-4000-8000-000000000006'),
    (15, 1, '2020-01-01 10:00:06', 'order-3', 'Noted', '"just text"', NULL, '10000000-0000-4000-8000-000000000007');
CALL message_store.import_messages('message_db.messages');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM message_store.get_stream_messages('order-3');
DROP SCHEMA message_db CASCADE;

DROP EXTENSION chronicle_message_store;

-- It needs chronicle's catalog at 0.7.0 or later.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle VERSION '0.6.0';
CREATE EXTENSION chronicle_message_store;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER EXTENSION chronicle UPDATE;
CREATE EXTENSION chronicle_message_store;
SELECT extversion FROM pg_extension WHERE extname = 'chronicle_message_store';
DROP EXTENSION chronicle_message_store;

-- A stream's lifecycle: delete_stream (soft and hard) and truncate_stream.
-- Removed events leave the feed; their positions are never handed out again
-- and no other event moves; a subscriber continues after its checkpoint.
-- Every removal is recorded; every bad call is a clean error that changes
-- nothing. chronicle.seal() hands out positions now (the sealer worker may
-- have done it first: its count is not shown).

DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

SELECT chronicle.define_reducer('acct', '{"initial": {"balance": 0, "moves": 0},
  "on": {"Deposited": [{"op": "increment", "path": "/balance", "from": "/data/amount"},
                       {"op": "increment", "path": "/moves"}]}}');
SELECT chronicle.append_event('acct-1', 'Opened', '{}');
SELECT chronicle.append_event('acct-1', 'Deposited', jsonb_build_object('amount', g))
  FROM generate_series(1, 5) g;
SELECT chronicle.append_event('note-1', 'Noted', '{"text": "keep me"}');
SELECT chronicle.append_event('acct-2', 'Opened', '{}');
SELECT chronicle.append_event('acct-2', 'Deposited', '{"amount": 7}');
SELECT FROM chronicle.seal();
SELECT name FROM chronicle.create_subscription('projector');
-- The projector consumes up to position 4 before anything is removed.
SELECT global_position, stream_id, version FROM chronicle.poll('projector', 4);
SELECT chronicle.ack('projector', 4);

-- truncate_stream: versions below 4 go; the state at 3 is kept as the base.
SELECT chronicle.state_at('acct-1', 3) AS state_at_3, chronicle.state_at('acct-1') AS head;
SELECT chronicle.truncate_stream('acct-1', 4, reason => 'older than the audit period');
SELECT version, event_type, data FROM chronicle.read_stream('acct-1');
SELECT chronicle.state_at('acct-1', 3) AS state_at_3, chronicle.state_at('acct-1') AS head;
SELECT version, state FROM chronicle.state_history('acct-1');
SELECT stream_id, version, state FROM chronicle.stream_bases;
-- An earlier version is gone: 55Z02.
SELECT chronicle.state_at('acct-1', 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.state_at('acct-1', as_of => '2000-01-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Its export starts at the first stored version and carries the base.
SELECT l::jsonb->'from_version' AS from_version, l::jsonb->'base' AS base
  FROM chronicle.export_stream('acct-1') l LIMIT 1;
SELECT count(*) FROM chronicle.export_stream('acct-1');
-- Imported elsewhere (here under another id, without the event ids), it
-- starts at the same base: the same states from there on.
SELECT chronicle.import_stream(string_agg((l::jsonb - 'event_id')::text, E'\n' ORDER BY n),
                               stream_id => 'acct-1-copy')
  FROM chronicle.export_stream('acct-1') WITH ORDINALITY AS x(l, n);
SELECT stream_id, version, first_version FROM chronicle.list_streams(id_prefix => 'acct-1');
SELECT v, chronicle.state_at('acct-1-copy', v) = chronicle.state_at('acct-1', v) AS same
  FROM generate_series(3, 6) v;
SELECT chronicle.state_at('acct-1-copy', 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Importing it again is a conflict, as for any import.
SELECT chronicle.import_stream(string_agg((l::jsonb - 'event_id')::text, E'\n' ORDER BY n),
                               stream_id => 'acct-1-copy')
  FROM chronicle.export_stream('acct-1') WITH ORDINALITY AS x(l, n);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Truncating again below what is gone removes nothing; up to the head + 1
-- is allowed (every event goes, the head's state stays), past it is not.
SELECT chronicle.truncate_stream('acct-1', 2);
SELECT chronicle.truncate_stream('acct-1', 8);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Appends continue the versions; the state folds on from the base.
SELECT chronicle.append_event('acct-1', 'Deposited', '{"amount": 100}', expected_version => 6);
SELECT chronicle.state_at('acct-1');

-- delete_stream: the events go, the head stays (deleted), versions go on.
SELECT chronicle.delete_stream('acct-2', expected_version => 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.delete_stream('acct-2', expected_version => 2, reason => 'customer left');
SELECT count(*) FROM chronicle.read_stream('acct-2');
SELECT chronicle.stream_version('acct-2');
SELECT chronicle.state_at('acct-2');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM chronicle.export_stream('acct-2');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT stream_id, version, first_version, deleted_at IS NOT NULL AS deleted, hard_deleted
  FROM chronicle.list_streams();
SELECT * FROM chronicle.list_stream_types();
SELECT stream_id, events FROM chronicle.stream_activity ORDER BY stream_id;
-- Deleting it again removes nothing; truncating a deleted stream is 42704.
SELECT chronicle.delete_stream('acct-2');
SELECT chronicle.truncate_stream('acct-2', 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- expected_version => 0 asks for no stream: a deleted one still has its version.
SELECT chronicle.append_event('acct-2', 'Opened', '{}', expected_version => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Written again, it continues after its last version, from the initial state.
SELECT chronicle.append_event('acct-2', 'Deposited', '{"amount": 1}', expected_version => 2);
SELECT FROM chronicle.seal();
SELECT chronicle.state_at('acct-2');
SELECT chronicle.state_at('acct-2', 2);
SELECT chronicle.state_at('acct-2', 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- hard => true: gone for good; no append is ever taken again (55Z01).
SELECT chronicle.delete_stream('acct-2', hard => true);
SELECT chronicle.append_event('acct-2', 'Opened', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.append_events('acct-2', '[{"event_type": "Opened", "data": {}}]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.delete_stream('acct-2');

-- The feed: removed positions are holes, never reused; nothing moved.
SELECT FROM chronicle.seal();
SELECT global_position, stream_id, version FROM chronicle.read_all();
SELECT global_position, stream_id, version FROM chronicle.read_all(after_position => 1, max_count => 2);
SELECT chronicle.feed_head();
-- The holes: the removed events' positions, taken for good.
SELECT array_agg(p ORDER BY p) AS holes FROM generate_series(1, chronicle.feed_head()) p
 WHERE p NOT IN (SELECT global_position FROM chronicle.read_all());
-- Each removal left one event of the stream in the feed, after what it
-- removed, with a negative version: what a projection needs to forget
-- (everything up to to_version). A stream keeps its latest: acct-2's soft
-- delete's (-1) went when its hard delete's (-2) covered it.
SELECT global_position, stream_id, version, event_type, data
  FROM chronicle.events WHERE version < 0 ORDER BY global_position;
-- No read of the stream sees them.
SELECT count(*) FROM chronicle.read_stream('acct-1', 0) WHERE version < 0;
-- The projector continues after its checkpoint, without loss, and sees them.
SELECT global_position, stream_id, version FROM chronicle.poll('projector', 100);
-- Nothing of the removed events is left: no row, no chunk entry, no snapshot.
SELECT count(*) FROM chronicle.event_log
 WHERE version > 0 AND (stream_id = 'acct-2' OR (stream_id = 'acct-1' AND version < 4));
SELECT count(*) FROM chronicle.feed f, unnest(f.ids) AS u(id)
 WHERE u.id <> 0 AND NOT EXISTS (SELECT FROM chronicle.event_log e WHERE e.id = u.id);
SELECT count(*) FROM chronicle.snapshots WHERE stream_id = 'acct-2' OR (stream_id = 'acct-1' AND version < 3);

-- The record: who, what, which versions, why.
SELECT operation, stream_id, stream_type, from_version, to_version, events, reason, performed_by = current_user AS by_me
  FROM chronicle.lifecycle_log ORDER BY id;
UPDATE chronicle.lifecycle_log SET reason = 'forged';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM chronicle.lifecycle_log;
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Direct deletes stay refused, also for the owner.
DELETE FROM chronicle.event_log WHERE stream_id = 'note-1';
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Retention: per stream type, the last max_count events and those younger
-- than max_age stay; apply_retention() cuts now (the sealer worker does it
-- every chronicle.retention_interval).
SELECT count(chronicle.append_event('meter-' || (g % 2), 'Reading', jsonb_build_object('kwh', g)))
  FROM generate_series(1, 12) g;
SELECT chronicle.set_retention('meter', max_count => 2);
SELECT stream_type, max_age, max_count, streams, events_removed FROM chronicle.retention;
SELECT chronicle.apply_retention();
SELECT stream_id, version, first_version FROM chronicle.list_streams(stream_type => 'meter');
SELECT chronicle.state_at('meter-0', 4), chronicle.state_at('meter-0');
SELECT chronicle.apply_retention();  -- nothing more to cut
SELECT chronicle.set_retention('meter', max_age => '1 day', max_count => 1);
SELECT chronicle.apply_retention();
SELECT chronicle.set_retention('meter', max_age => '1 day');
SELECT chronicle.apply_retention();  -- every event is younger than a day
SELECT stream_type, max_age, max_count, streams, events_removed FROM chronicle.retention;
SELECT operation, stream_id, from_version, to_version, events, reason
  FROM chronicle.lifecycle_log WHERE operation = 'retention' ORDER BY id;
SELECT chronicle.set_retention('meter');  -- both NULL: no retention
SELECT count(*) FROM chronicle.retention;
SELECT chronicle.set_retention('no-such-type', max_count => 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.set_retention('meter', max_count => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.set_retention('meter', max_age => '0 seconds');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.set_retention('meter', max_age => '-1 day');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.set_retention(NULL, max_count => 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.set_retention('bad type!', max_count => 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Archiving: the events move to chronicle.event_archive unchanged; the
-- stream takes nothing and reads as absent until restored; positions stay.
SELECT chronicle.archive_stream('note-1', reason => 'finished');
SELECT count(*) FROM chronicle.read_stream('note-1');
SELECT global_position, version, data FROM chronicle.read_stream('note-1', include_archived => true);
SELECT count(*) FROM chronicle.export_stream('note-1');
SELECT global_position, stream_id FROM chronicle.read_all() WHERE stream_id = 'note-1';
SELECT stream_id, archived_at IS NOT NULL AS archived FROM chronicle.list_streams(id_prefix => 'note');
SELECT chronicle.append_event('note-1', 'Noted', '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.state_at('note-1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.archive_stream('note-1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.delete_stream('note-1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.restore_stream('note-1');
SELECT chronicle.restore_stream('note-1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT global_position, stream_id, version, data FROM chronicle.read_all() WHERE stream_id = 'note-1';
SELECT chronicle.state_at('note-1');
SELECT chronicle.archive_stream('no-such-stream');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.archive_stream(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT operation, stream_id, events, reason FROM chronicle.lifecycle_log
 WHERE operation IN ('archive', 'restore') ORDER BY id;

-- Bad input: each a clean SQLSTATE naming the field, nothing changed.
SELECT count(*) AS events_before FROM chronicle.event_log \gset
SELECT chronicle.delete_stream(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.delete_stream('no-such-stream');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.delete_stream('note-1', expected_version => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.delete_stream(E'bad\nid');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.truncate_stream('note-1', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.truncate_stream('note-1', 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.truncate_stream('note-1', -3);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.truncate_stream('no-such-stream', 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.truncate_stream('note-1', 99);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Not at REPEATABLE READ (it must see the latest sealed feed), not read-only.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT chronicle.delete_stream('note-1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN READ ONLY;
SELECT chronicle.truncate_stream('note-1', 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT count(*) = :events_before AS nothing_changed FROM chronicle.event_log;
SELECT count(*) AS lifecycle_records FROM chronicle.lifecycle_log;

-- Chronicle 0.2.0 -> 0.3.0: one consistent interface. Internal helpers move
-- to schema chronicle_internal; the SQL surface follows the naming rules of
-- the README (after_position / to_position, max_count, definition, the
-- lifecycle verbs return the subscription's row); the 0.2.0 names that
-- changed stay for one release as deprecated wrappers. Run by ALTER
-- EXTENSION chronicle UPDATE; tests/upgrade/run.py checks that it gives the
-- same catalog as a fresh CREATE EXTENSION of 0.3.0. Frozen: never edited
-- after its release.

\echo Use "ALTER EXTENSION chronicle UPDATE" to load this file. \quit

-- Every update empties the snapshot cache: the rules that fill it may have
-- changed, a role granted a write on it before the update may have forged
-- rows, and it rebuilds itself (deleting snapshots never changes an answer).
TRUNCATE chronicle.snapshots;

-- The schema of the internal helpers.
CREATE SCHEMA chronicle_internal;
COMMENT ON SCHEMA chronicle_internal IS
    'Chronicle''s internal helpers: called by the functions in schema chronicle, not meant to be called directly.';

-- The append-only guard moves there (the triggers follow it).
ALTER FUNCTION chronicle._refuse_history_change() SET SCHEMA chronicle_internal;

-- Every comment on a table, view or column, as 0.3.0 writes them.
COMMENT ON TABLE chronicle.event_log IS
    'Every event ever appended, as stored; append-only: UPDATE, DELETE and TRUNCATE are refused. Read chronicle.events (which adds global_position); write with chronicle.append_event / chronicle.append_events.';
COMMENT ON COLUMN chronicle.event_log.id IS 'Internal id, increasing in insertion order (with gaps); with seal_key, the key the feed refers to events by.';
COMMENT ON COLUMN chronicle.event_log.tenant IS
    'The stream''s tenant (chronicle.tenant of the session that created the stream; '''' for none).';
COMMENT ON COLUMN chronicle.event_log.seal_key IS
    'The feed''s order key: the appending transaction''s id, raised to the key of the stream''s previous event when that is higher. Events are sealed in (seal_key, id) order once seal_key is below the oldest running transaction.';
COMMENT ON TABLE chronicle.feed IS
    'The global feed in chunks: positions first_position, first_position + 1, ... belong to the events (keys[i], ids[i]) of chronicle.event_log (its key (seal_key, id)). Written only by the sealer; append-only.';
COMMENT ON TABLE chronicle.feed_state IS
    'The sealer''s state: the last position handed out, and the horizon below which every committed event is sealed. The horizon is a transaction id of the cluster named by system_identifier; in another cluster (after pg_dump/pg_restore) the sealer re-bases it.';
COMMENT ON VIEW chronicle.events IS
    'Every event ever appended, with its global_position once sealed. Append-only: write with chronicle.append_event / chronicle.append_events.';
COMMENT ON COLUMN chronicle.events.global_position IS
    'Position in the global feed: 1, 2, 3, ... without gaps, in an order no later commit can change. NULL for the moment between commit and sealing (milliseconds).';
COMMENT ON COLUMN chronicle.events.event_id IS 'Unique id of the event; the key of idempotent retries.';
COMMENT ON COLUMN chronicle.events.stream_id IS 'The stream (aggregate instance) the event belongs to.';
COMMENT ON COLUMN chronicle.events.stream_type IS 'The stream''s type (aggregate type / category), fixed when the stream is created.';
COMMENT ON COLUMN chronicle.events.version IS 'Position in the stream: 1, 2, 3, ... without gaps.';
COMMENT ON COLUMN chronicle.events.event_type IS 'What happened, e.g. OrderCreated.';
COMMENT ON COLUMN chronicle.events.schema_version IS 'Version of the event type''s schema the data follows (for upcasting).';
COMMENT ON COLUMN chronicle.events.data IS 'The event''s payload, a JSON object.';
COMMENT ON COLUMN chronicle.events.metadata IS 'Data about the event (not part of the domain), a JSON object.';
COMMENT ON COLUMN chronicle.events.correlation_id IS 'Ties together the events of one workflow or request (an execution id).';
COMMENT ON COLUMN chronicle.events.causation_id IS 'The event or command that caused this event.';
COMMENT ON COLUMN chronicle.events.actor IS 'Who caused the event (a user id).';
COMMENT ON COLUMN chronicle.events.occurred_at IS 'When it happened, as the application says (defaults to recorded_at).';
COMMENT ON COLUMN chronicle.events.recorded_at IS 'When the appending transaction started.';
COMMENT ON TABLE chronicle.streams IS
    'One row per stream: its type, current version and the recording times of its first and last events. Maintained by the append functions.';
COMMENT ON COLUMN chronicle.streams.version IS 'The stream''s current version: the version of its last event.';
COMMENT ON COLUMN chronicle.streams.first_event_at IS 'recorded_at of the stream''s first event.';
COMMENT ON COLUMN chronicle.streams.last_event_at IS 'recorded_at of the stream''s last event.';
COMMENT ON COLUMN chronicle.streams.tenant IS
    'The tenant that owns the stream (chronicle.tenant of the session that created it; '''' for none). Stream ids are shared by all tenants.';
COMMENT ON FUNCTION chronicle_internal._refuse_history_change() IS
    'Trigger function: refuses UPDATE, DELETE and TRUNCATE on chronicle.event_log and chronicle.feed, and writes through the view chronicle.events (SQLSTATE 55000).';
COMMENT ON TABLE chronicle.reducers IS
    'The reducer definition of each stream type: how its events change the state that chronicle.state_at returns. Write with chronicle.define_reducer.';
COMMENT ON COLUMN chronicle.reducers.revision IS 'Counts the definitions of this stream type: 1 for the first, +1 for each replacement.';
COMMENT ON TABLE chronicle.snapshots IS
    'Cached states of streams (a cache: deleting rows never changes an answer). state_at starts from the newest one at or below its target that was made with the current reducer revision.';
COMMENT ON COLUMN chronicle.snapshots.reducer_revision IS 'chronicle.reducers.revision the state was folded with (0: the default merge).';
COMMENT ON COLUMN chronicle.snapshots.upcasters_fingerprint IS 'A fingerprint of the upcasters the state was folded with; a snapshot is used only while they are the same.';
COMMENT ON TABLE chronicle.event_types IS
    'The schema (a subset of JSON Schema) that data of each event type and schema version must match at append. Write with chronicle.define_event_type.';
COMMENT ON TABLE chronicle.upcasters IS
    'Declarative steps that turn data of an event type from from_schema_version into the next version; replay applies them before reducing. Write with chronicle.define_upcaster.';
COMMENT ON TABLE chronicle.subscriptions IS
    'Subscriptions to the global feed and their checkpoints (a projection''s checkpoint). last_position is the group''s checkpoint: every matching event at or below it has been acknowledged.';
COMMENT ON COLUMN chronicle.subscriptions.status IS 'running, paused (poll returns nothing), rebuilding (after reset_subscription, until the checkpoint reaches rebuild_target) or failed (fail_subscription; poll returns nothing until resume_subscription).';
COMMENT ON COLUMN chronicle.subscriptions.last_position IS 'The checkpoint: the lowest position acknowledged by every consumer of the group.';
COMMENT ON COLUMN chronicle.subscriptions.last_event_id IS 'event_id of the event at last_position.';
COMMENT ON COLUMN chronicle.subscriptions.events_processed IS 'Matching events acknowledged since creation or the last reset.';
COMMENT ON COLUMN chronicle.subscriptions.consumers IS 'Size of the consumer group the checkpoints are kept for (poll''s consumers argument).';
COMMENT ON COLUMN chronicle.subscriptions.rebuild_target IS 'While rebuilding: the feed''s head when the subscription was reset.';
COMMENT ON COLUMN chronicle.subscriptions.tenant IS
    'The tenant that owns the subscription: it delivers only that tenant''s events.';
COMMENT ON TABLE chronicle.subscription_consumers IS
    'The checkpoint of each consumer k of a subscription''s group: consumer k of n receives the streams whose hash mod n is k.';

-- The functions whose names, arguments, return types or language change
-- are dropped (with the one view whose columns change) and created again
-- below; the others are replaced in place.
DROP VIEW chronicle.subscription_lag;
DROP FUNCTION chronicle._event_id_at(bigint, text);
DROP FUNCTION chronicle._in_tenant(text, text);
DROP FUNCTION chronicle._move_checkpoint(chronicle.subscriptions, int, bigint, bigint, bigint);
DROP FUNCTION chronicle._skip(text, int, bigint, bigint);
DROP FUNCTION chronicle._regroup(text, int);
DROP FUNCTION chronicle._subscription(text, boolean);
DROP FUNCTION chronicle._feed_page(bigint, int, bigint, text, text[], int, int);
DROP FUNCTION chronicle._delivers(text, text[], int, int, text, text, text);
DROP FUNCTION chronicle._feed_range(bigint, bigint);
DROP FUNCTION chronicle._check_read_range(text, bigint, bigint);
DROP FUNCTION chronicle._require(text, boolean);
DROP FUNCTION chronicle._check_count(text, bigint);
DROP FUNCTION chronicle._upcast(text, int, jsonb);
DROP FUNCTION chronicle._export_header(text, bigint, bigint);
DROP FUNCTION chronicle._import_batches(text, int);
DROP FUNCTION chronicle._feed_tick();
DROP FUNCTION chronicle._check_feed_read(bigint, bigint, text, text[]);
DROP FUNCTION chronicle._check_subscription(text, text, text[], bigint, bigint);
DROP FUNCTION chronicle._check_poll(text, bigint, bigint, bigint);
DROP FUNCTION chronicle._check_position(text, text, text, bigint, bigint);
DROP FUNCTION chronicle._subscription_error(text, boolean);
DROP FUNCTION chronicle._system_identifier();
DROP FUNCTION chronicle.create_subscription(text, text, text[], bigint);
DROP FUNCTION chronicle.drop_subscription(text);
DROP FUNCTION chronicle.ack(text, bigint, int);
DROP FUNCTION chronicle.fail_subscription(text, text);
DROP FUNCTION chronicle.seal(bigint);
DROP FUNCTION chronicle.define_upcaster(text, int, jsonb);

-- The functions written in Rust that are new or were dropped above.
CREATE FUNCTION chronicle."define_event_type"(
	"event_type" TEXT, 
	"schema_version" INT, 
	"definition" jsonb 
) RETURNS void
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c 
AS 'MODULE_PATHNAME', 'define_event_type_schema_wrapper';
CREATE FUNCTION chronicle."define_upcaster"(
	"event_type" TEXT, 
	"from_schema_version" INT, 
	"definition" jsonb 
) RETURNS void
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c 
AS 'MODULE_PATHNAME', 'define_upcaster_wrapper';
CREATE FUNCTION chronicle."seal"(
	"max_count" INT DEFAULT NULL 
) RETURNS bigint 
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c 
AS 'MODULE_PATHNAME', 'seal_by_hand_wrapper';
CREATE FUNCTION chronicle_internal."_skip_to"(
	"current" bigint, 
	"from_position" bigint, 
	"to_position" bigint 
) RETURNS bigint 
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'skip_to_wrapper';
CREATE FUNCTION chronicle_internal."_upcast"(
	"event_type" TEXT, 
	"schema_version" INT, 
	"data" jsonb 
) RETURNS TABLE (
	"schema_version" INT,  
	"data" jsonb  
)
STRICT STABLE PARALLEL SAFE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c 
AS 'MODULE_PATHNAME', 'upcast_sql_wrapper';
CREATE FUNCTION chronicle_internal."_check_version_range"(
	"function_name" TEXT, 
	"stream_id" TEXT, 
	"from_version" bigint, 
	"to_version" bigint 
) RETURNS bool 
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'check_version_range_sql_wrapper';
CREATE FUNCTION chronicle_internal."_subscription_error"(
	"function_name" TEXT, 
	"name" TEXT, 
	"missing" bool 
) RETURNS bool 
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'raise_subscription_error_wrapper';
CREATE FUNCTION chronicle_internal."_scan_end"(
	"from_position" bigint, 
	"head" bigint 
) RETURNS bigint 
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'scan_end_wrapper';
CREATE FUNCTION chronicle_internal."_feed_tick"() RETURNS bool 
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c 
AS 'MODULE_PATHNAME', 'feed_tick_wrapper';
CREATE FUNCTION chronicle_internal."_consumer_of"(
	"stream_id" TEXT, 
	"consumers" INT 
) RETURNS INT 
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'consumer_of_wrapper';
CREATE FUNCTION chronicle_internal."_delivers_in"(
	"status" TEXT 
) RETURNS bool 
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'delivers_in_wrapper';
CREATE FUNCTION chronicle_internal."_check_subscription"(
	"name" TEXT, 
	"stream_type" TEXT, 
	"event_types" TEXT[], 
	"after_position" bigint, 
	"head" bigint 
) RETURNS bool 
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'check_subscription_wrapper';
CREATE FUNCTION chronicle_internal."_export_header"(
	"stream_id" TEXT, 
	"from_version" bigint, 
	"to_version" bigint 
) RETURNS TEXT 
STABLE PARALLEL SAFE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c 
AS 'MODULE_PATHNAME', 'export_header_wrapper';
CREATE FUNCTION chronicle_internal."_check_poll"(
	"name" TEXT, 
	"max_count" bigint, 
	"consumer" bigint, 
	"consumers" bigint 
) RETURNS bool 
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'check_poll_wrapper';
CREATE FUNCTION chronicle_internal."_check_count"(
	"function_name" TEXT, 
	"field" TEXT, 
	"value" bigint 
) RETURNS bool 
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'check_max_count_wrapper';
CREATE FUNCTION chronicle_internal."_system_identifier"() RETURNS bigint 
STRICT STABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'system_identifier_wrapper';
CREATE FUNCTION chronicle_internal."_import_batches"(
	"lines" TEXT, 
	"batch_size" INT 
) RETURNS TABLE (
	"stream_id" TEXT,  
	"stream_type" TEXT,  
	"events" jsonb  
)
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'import_batches_wrapper';
CREATE FUNCTION chronicle_internal."_require"(
	"function_name" TEXT, 
	"field" TEXT, 
	"present" bool 
) RETURNS bool 
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'require_argument_wrapper';
CREATE FUNCTION chronicle_internal."_not_found"(
	"function_name" TEXT, 
	"object" TEXT, 
	"name" TEXT, 
	"version" bigint DEFAULT NULL 
) RETURNS bool 
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'not_found_wrapper';
CREATE FUNCTION chronicle_internal."_ack_to"(
	"current" bigint, 
	"to_position" bigint 
) RETURNS bigint 
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'ack_to_wrapper';
CREATE FUNCTION chronicle_internal."_check_feed_read"(
	"after_position" bigint, 
	"max_count" bigint, 
	"stream_type" TEXT, 
	"event_types" TEXT[] 
) RETURNS bool 
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'check_feed_read_wrapper';
CREATE FUNCTION chronicle_internal."_subscription_next"(
	"status" TEXT, 
	"last_position" bigint, 
	"rebuild_target" bigint, 
	"error_message" TEXT, 
	"command" TEXT, 
	"to_position" bigint, 
	"head" bigint, 
	"new_error_message" TEXT 
) RETURNS TABLE (
	"status" TEXT,  
	"last_position" bigint,  
	"rebuild_target" bigint,  
	"error_message" TEXT  
)
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'subscription_next_wrapper';
CREATE FUNCTION chronicle_internal."_check_name"(
	"function_name" TEXT, 
	"name" TEXT, 
	"field" TEXT, 
	"position" bigint, 
	"head" bigint, 
	"error_message" TEXT DEFAULT '' 
) RETURNS bool 
IMMUTABLE PARALLEL SAFE  
LANGUAGE c 
AS 'MODULE_PATHNAME', 'check_name_sql_wrapper';

-- As sql/streams.sql creates them in 0.3.0.
CREATE OR REPLACE FUNCTION chronicle.read_stream(
    stream_id text,
    from_version bigint DEFAULT 1,
    to_version bigint DEFAULT NULL,
    upcast boolean DEFAULT false
) RETURNS SETOF chronicle.events
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    from_version := coalesce(from_version, 1);
    upcast := coalesce(upcast, false);
    PERFORM chronicle_internal._check_version_range('read_stream', read_stream.stream_id, from_version, to_version);
    IF upcast THEN
        RETURN QUERY
            SELECT e.global_position, e.event_id, e.stream_id, e.stream_type, e.version,
                   e.event_type, u.schema_version, u.data, e.metadata, e.correlation_id,
                   e.causation_id, e.actor, e.occurred_at, e.recorded_at
              FROM chronicle.events e,
                   LATERAL chronicle_internal._upcast(e.event_type, e.schema_version, e.data) u
             WHERE e.stream_id = read_stream.stream_id
               AND e.version >= from_version
               AND e.version <= coalesce(to_version, 9223372036854775807)
             ORDER BY e.version;
    ELSE
        RETURN QUERY
            SELECT e.* FROM chronicle.events e
             WHERE e.stream_id = read_stream.stream_id
               AND e.version >= from_version
               AND e.version <= coalesce(to_version, 9223372036854775807)
             ORDER BY e.version;
    END IF;
END
$$;
COMMENT ON FUNCTION chronicle.read_stream(text, bigint, bigint, boolean) IS
    'The events of a stream from from_version to to_version (inclusive; NULL = to the end), ordered by version; no rows for a stream that does not exist. With upcast => true, data and schema_version as the upcasters bring them to the newest version.';
CREATE OR REPLACE FUNCTION chronicle.stream_version(stream_id text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle_internal._check_version_range('stream_version', stream_version.stream_id, 1, NULL);
    RETURN coalesce((SELECT s.version FROM chronicle.streams s
                      WHERE s.stream_id = stream_version.stream_id), 0);
END
$$;
COMMENT ON FUNCTION chronicle.stream_version(text) IS
    'The current version of a stream: the version of its last event; 0 if it does not exist (what expected_version => 0 asks for).';
CREATE OR REPLACE FUNCTION chronicle.read_correlation(correlation_id uuid) RETURNS SETOF chronicle.events
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle_internal._require('read_correlation', 'correlation_id', read_correlation.correlation_id IS NOT NULL);
    RETURN QUERY
        SELECT v.* FROM chronicle.events v
         WHERE v.correlation_id = read_correlation.correlation_id
         ORDER BY v.global_position NULLS LAST, v.recorded_at, v.stream_id, v.version;
END
$$;
COMMENT ON FUNCTION chronicle.read_correlation(uuid) IS
    'Every event with this correlation_id, across streams, in feed order (events not yet sealed last, in recording order): a workflow''s trace.';
CREATE OR REPLACE FUNCTION chronicle.list_streams(
    stream_type text DEFAULT NULL,
    id_prefix text DEFAULT NULL,
    after_stream_id text DEFAULT NULL,
    max_count int DEFAULT 1000
) RETURNS SETOF chronicle.streams
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    max_count := coalesce(max_count, 1000);
    PERFORM chronicle_internal._check_count('list_streams', 'max_count', max_count);
    RETURN QUERY
        SELECT s.* FROM chronicle.streams s
         WHERE (list_streams.stream_type IS NULL OR s.stream_type = list_streams.stream_type)
           AND (id_prefix IS NULL OR starts_with(s.stream_id, id_prefix))
           AND (after_stream_id IS NULL OR s.stream_id > after_stream_id)
         ORDER BY s.stream_id
         LIMIT max_count;
END
$$;
COMMENT ON FUNCTION chronicle.list_streams(text, text, text, int) IS
    'Streams ordered by id, optionally of one stream_type and/or starting with id_prefix, at most max_count; page with after_stream_id.';
CREATE OR REPLACE FUNCTION chronicle.list_stream_types()
RETURNS TABLE (stream_type text, streams bigint, events bigint, has_reducer boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.stream_type, count(*), sum(s.version)::bigint,
           EXISTS (SELECT FROM chronicle.reducers r WHERE r.stream_type = s.stream_type)
      FROM chronicle.streams s
     GROUP BY s.stream_type
     ORDER BY s.stream_type
$$;
COMMENT ON FUNCTION chronicle.list_stream_types() IS
    'Every stream type with its number of streams and events, and whether a reducer is defined for it.';
CREATE OR REPLACE FUNCTION chronicle.reducer(stream_type text) RETURNS chronicle.reducers
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found chronicle.reducers;
BEGIN
    PERFORM chronicle_internal._require('reducer', 'stream_type', reducer.stream_type IS NOT NULL);
    SELECT * INTO found FROM chronicle.reducers d WHERE d.stream_type = reducer.stream_type;
    IF found.stream_type IS NULL THEN
        PERFORM chronicle_internal._not_found('reducer', 'reducer', reducer.stream_type);
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION chronicle.reducer(text) IS
    'The reducer defined for a stream type (definition, revision, defined_at); 42704 if none is (its streams replay with the default merge).';
CREATE OR REPLACE FUNCTION chronicle.event_type(event_type text, schema_version int DEFAULT NULL)
RETURNS chronicle.event_types
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found chronicle.event_types;
BEGIN
    PERFORM chronicle_internal._require('event_type', 'event_type', event_type.event_type IS NOT NULL);
    SELECT * INTO found FROM chronicle.event_types t
     WHERE t.event_type = event_type.event_type
       AND (event_type.schema_version IS NULL OR t.schema_version = event_type.schema_version)
     ORDER BY t.schema_version DESC
     LIMIT 1;
    IF found.event_type IS NULL THEN
        PERFORM chronicle_internal._not_found('event_type', 'event_type', event_type.event_type,
                                              event_type.schema_version);
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION chronicle.event_type(text, int) IS
    'The schema defined for an event type at schema_version (NULL: its newest): the row of chronicle.event_types (event_type, schema_version, schema, defined_at); 42704 if there is none.';
CREATE OR REPLACE FUNCTION chronicle.upcaster(event_type text, from_schema_version int)
RETURNS chronicle.upcasters
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found chronicle.upcasters;
BEGIN
    PERFORM chronicle_internal._require('upcaster', 'event_type', upcaster.event_type IS NOT NULL);
    PERFORM chronicle_internal._require('upcaster', 'from_schema_version', upcaster.from_schema_version IS NOT NULL);
    SELECT * INTO found FROM chronicle.upcasters u
     WHERE u.event_type = upcaster.event_type AND u.from_schema_version = upcaster.from_schema_version;
    IF found.event_type IS NULL THEN
        PERFORM chronicle_internal._not_found('upcaster', 'upcaster', upcaster.event_type,
                                              upcaster.from_schema_version);
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION chronicle.upcaster(text, int) IS
    'The upcaster (the row of chronicle.upcasters: event_type, from_schema_version, steps, defined_at) that turns an event type''s data from from_schema_version into the next version; 42704 if there is none.';
CREATE OR REPLACE FUNCTION chronicle.export_stream(
    stream_id text,
    from_version bigint DEFAULT 1,
    to_version bigint DEFAULT NULL
) RETURNS SETOF text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    from_version := coalesce(from_version, 1);
    RETURN NEXT chronicle_internal._export_header(export_stream.stream_id, from_version, to_version);
    RETURN QUERY
        SELECT to_jsonb(e)::text
          FROM chronicle.read_stream(export_stream.stream_id, from_version, to_version) e;
END
$$;
COMMENT ON FUNCTION chronicle.export_stream(text, bigint, bigint) IS
    'A stream as NDJSON lines: a header (stream, version, reducer, upcasters, schemas, export time, Chronicle version), then one event per line with its full envelope. 42704 if the stream does not exist.';
CREATE OR REPLACE FUNCTION chronicle.import_stream(lines text, stream_id text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    batch record;
    version bigint := 0;
BEGIN
    FOR batch IN
        SELECT * FROM chronicle_internal._import_batches(lines,
                        current_setting('chronicle.max_batch_events')::int)
    LOOP
        version := chronicle.append_events(coalesce(import_stream.stream_id, batch.stream_id),
                                           batch.events, version, batch.stream_type);
    END LOOP;
    RETURN version;
END
$$;
COMMENT ON FUNCTION chronicle.import_stream(text, text) IS
    'Appends the events of an export (the lines of export_stream joined by newlines) as a new stream, under its own id or stream_id; returns its version. Event ids, data, metadata and occurrence times are kept; versions are the same, recording times and positions are new.';
CREATE OR REPLACE VIEW chronicle.daily_activity AS
SELECT (e.recorded_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS events,
       count(DISTINCT e.stream_id) AS streams,
       count(DISTINCT e.event_type) AS event_types
  FROM chronicle.events e
 GROUP BY 1;
COMMENT ON VIEW chronicle.daily_activity IS
    'Events, distinct streams and distinct event types recorded per day (UTC). Scans chronicle.events: filter on day, e.g. WHERE day > current_date - 7.';
CREATE OR REPLACE VIEW chronicle.stream_activity AS
SELECT s.stream_id, s.stream_type, s.version AS events, s.first_event_at, s.last_event_at
  FROM chronicle.streams s;
COMMENT ON VIEW chronicle.stream_activity IS
    'Every stream with its number of events and first/last recording time, from the stream heads (no scan of the events): ORDER BY events DESC LIMIT 10 gives the most active streams.';

-- As sql/feed.sql creates them in 0.3.0.
CREATE OR REPLACE FUNCTION chronicle_internal._feed_range(after_position bigint, up_to bigint) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE
AS $$
SELECT c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1,
       e.event_id, e.stream_id, e.stream_type, e.version, e.event_type, e.schema_version,
       e.data, e.metadata, e.correlation_id, e.causation_id, e.actor, e.occurred_at, e.recorded_at
  FROM chronicle.feed c
 CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(c.keys), pg_catalog.unnest(c.ids)) WITH ORDINALITY AS u(key, id, ord)
 CROSS JOIN LATERAL (
       SELECT l.* FROM chronicle.event_log l
        WHERE l.seal_key OPERATOR(pg_catalog.=) u.key AND l.id OPERATOR(pg_catalog.=) u.id
       OFFSET 0) e
 WHERE c.first_position OPERATOR(pg_catalog.>) (after_position OPERATOR(pg_catalog.-) 128)
   AND c.first_position OPERATOR(pg_catalog.<=) up_to
   AND (c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.>) after_position
   AND (c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.<=) up_to
$$;
COMMENT ON FUNCTION chronicle_internal._feed_range(bigint, bigint) IS
    'Internal: the sealed events at positions (after_position, up_to], unordered.';
CREATE OR REPLACE FUNCTION chronicle_internal._delivers(
    only_stream_type text, only_event_types text[], consumer int, consumers int,
    stream_type text, event_type text, stream_id text
) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (only_stream_type IS NULL OR _delivers.stream_type OPERATOR(pg_catalog.=) only_stream_type)
   AND (only_event_types IS NULL OR _delivers.event_type OPERATOR(pg_catalog.=) ANY (only_event_types))
   AND (consumers OPERATOR(pg_catalog.=) 1
        OR chronicle_internal._consumer_of(_delivers.stream_id, consumers) OPERATOR(pg_catalog.=) consumer);
COMMENT ON FUNCTION chronicle_internal._delivers(text, text[], int, int, text, text, text) IS
    'Internal: whether an event passes a feed filter (stream type, event types, consumer k of n).';
CREATE OR REPLACE FUNCTION chronicle_internal._feed_page(
    after_position bigint, max_count int, up_to bigint,
    only_stream_type text, only_event_types text[], consumer int, consumers int
) RETURNS SETOF chronicle.events
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- the plans are cheap; JIT would compile them on every call
AS $$
DECLARE
    unfiltered boolean := only_stream_type IS NULL AND only_event_types IS NULL AND consumers = 1;
    lo bigint := after_position;
    hi bigint;
    got bigint := 0;
    n bigint;
    width bigint := CASE WHEN unfiltered THEN max_count ELSE greatest(max_count, 1000) END;
BEGIN
    WHILE got < max_count AND lo < up_to LOOP
        hi := least(up_to, lo + width);
        RETURN QUERY
            SELECT v.* FROM chronicle_internal._feed_range(lo, hi) v
             WHERE unfiltered
                OR chronicle_internal._delivers(only_stream_type, only_event_types, consumer, consumers,
                                                v.stream_type, v.event_type, v.stream_id)
             ORDER BY v.global_position
             LIMIT max_count - got;
        GET DIAGNOSTICS n = ROW_COUNT;
        got := got + n;
        lo := hi;
        width := least(width * 2, 1000000);
    END LOOP;
END
$$;
COMMENT ON FUNCTION chronicle_internal._feed_page(bigint, int, bigint, text, text[], int, int) IS
    'Internal: a filtered page of the feed, in order.';
CREATE OR REPLACE FUNCTION chronicle.read_all(
    after_position bigint DEFAULT 0,
    max_count int DEFAULT 1000,
    stream_type text DEFAULT NULL,
    event_types text[] DEFAULT NULL
) RETURNS SETOF chronicle.events
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    after_position := coalesce(after_position, 0);
    max_count := coalesce(max_count, 1000);
    PERFORM chronicle_internal._check_feed_read(after_position, max_count, read_all.stream_type, event_types);
    PERFORM chronicle_internal._feed_tick();
    RETURN QUERY
        SELECT * FROM chronicle_internal._feed_page(after_position, max_count, chronicle.feed_head(),
                                                    read_all.stream_type, event_types, 0, 1);
END
$$;
COMMENT ON FUNCTION chronicle.read_all(bigint, int, text, text[]) IS
    'The global feed: at most max_count committed events after after_position in global_position order (dense: 1, 2, 3, ...; no event ever appears before one already returned), optionally of one stream type and/or some event types.';
CREATE OR REPLACE FUNCTION chronicle.feed_head() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT pg_catalog.max(s.position) FROM chronicle.feed_state s), 0);
COMMENT ON FUNCTION chronicle.feed_head() IS
    'The last global_position handed out so far (0 if none).';
CREATE OR REPLACE VIEW chronicle.feed_status AS
SELECT st.head_position,
       (SELECT count(*) FROM chronicle.event_log e
         WHERE (e.seal_key, e.id) > (st.horizon, st.after_id) AND e.id >= st.first_id) AS waiting_events,
       st.last_sealed_at,
       (SELECT min(a.pid) FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'chronicle sealer' AND a.datid = (SELECT d.oid FROM pg_catalog.pg_database d
                                                                   WHERE d.datname = current_database())) AS sealer_pid,
       o.pid AS oldest_xact_pid,
       o.datname AS oldest_xact_database,
       o.age AS oldest_xact_age,
       o.state AS oldest_xact_state
  FROM (SELECT coalesce(max(s.position), 0) AS head_position, max(s.sealed_at) AS last_sealed_at,
               coalesce(max(s.horizon), '0'::xid8) AS horizon, coalesce(max(s.after_id), 0) AS after_id,
               coalesce(max(s.first_id), 0) AS first_id
          FROM chronicle.feed_state s) st
  LEFT JOIN LATERAL (
        SELECT x.pid, x.datname, x.age, x.state
          FROM (SELECT a.pid, a.datname, now() - a.xact_start AS age, a.state,
                       pg_catalog.age(a.backend_xid) AS xid_age
                  FROM pg_catalog.pg_stat_activity a
                 WHERE a.backend_xid IS NOT NULL
                UNION ALL
                SELECT NULL, p.database, now() - p.prepared, 'prepared transaction ' || p.gid,
                       pg_catalog.age(p.transaction)
                  FROM pg_catalog.pg_prepared_xacts p) x
         ORDER BY x.xid_age DESC
         LIMIT 1) o ON true;
COMMENT ON VIEW chronicle.feed_status IS
    'The global feed: its head position, events committed but not yet sealed, when the sealer last handed out positions, its pid, and the oldest transaction with an id in the cluster (in any database, prepared transactions included; state says which): events appended after it started are sealed only once it ends.';

-- As sql/subscriptions.sql creates them in 0.3.0.
CREATE OR REPLACE FUNCTION chronicle_internal._subscription(function_name text, name text, lock boolean)
RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found chronicle.subscriptions;
BEGIN
    IF lock THEN
        SELECT s.* INTO found FROM chronicle.subscriptions s
         WHERE s.name = _subscription.name AND s.tenant = chronicle.current_tenant() FOR UPDATE;
    ELSE
        SELECT s.* INTO found FROM chronicle.subscriptions s
         WHERE s.name = _subscription.name AND s.tenant = chronicle.current_tenant();
    END IF;
    IF found.name IS NULL THEN
        PERFORM chronicle_internal._subscription_error(function_name, _subscription.name, true);
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION chronicle_internal._subscription(text, text, boolean) IS
    'Internal: a subscription''s row (42704 if missing).';
CREATE OR REPLACE FUNCTION chronicle_internal._transition(
    sub chronicle.subscriptions, command text, to_position bigint DEFAULT NULL,
    error_message text DEFAULT NULL
) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed chronicle.subscriptions;
BEGIN
    UPDATE chronicle.subscriptions s
       SET (status, last_position, rebuild_target, error_message) =
           (SELECT n.status, n.last_position, n.rebuild_target, n.error_message
              FROM chronicle_internal._subscription_next(s.status, s.last_position, s.rebuild_target,
                       s.error_message, command, _transition.to_position, chronicle.feed_head(),
                       _transition.error_message) n)
     WHERE s.name = sub.name
    RETURNING s.* INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION chronicle_internal._transition(chronicle.subscriptions, text, bigint, text) IS
    'Internal: a subscription after a command of its state machine (pause, resume, fail, reset, checkpoint).';
CREATE OR REPLACE FUNCTION chronicle_internal._in_tenant(stream_id text, tenant text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (SELECT FROM chronicle.streams s
                WHERE s.stream_id OPERATOR(pg_catalog.=) _in_tenant.stream_id
                  AND s.tenant OPERATOR(pg_catalog.=) _in_tenant.tenant);
COMMENT ON FUNCTION chronicle_internal._in_tenant(text, text) IS 'Internal: whether a stream is the tenant''s.';
CREATE OR REPLACE FUNCTION chronicle_internal._event_id_at("position" bigint, tenant text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT v.event_id FROM chronicle_internal._feed_range("position" OPERATOR(pg_catalog.-) 1, "position") v
         WHERE chronicle_internal._in_tenant(v.stream_id, _event_id_at.tenant));
COMMENT ON FUNCTION chronicle_internal._event_id_at(bigint, text) IS
    'Internal: the event_id at a feed position, if it is the tenant''s.';
CREATE OR REPLACE FUNCTION chronicle_internal._matching(sub chronicle.subscriptions, consumer int, after_position bigint, up_to bigint)
RETURNS bigint
LANGUAGE sql STABLE
RETURN (SELECT pg_catalog.count(*) FROM chronicle_internal._feed_range(after_position, up_to) v
         WHERE chronicle_internal._delivers(sub.stream_type, sub.event_types, _matching.consumer, sub.consumers,
                                            v.stream_type, v.event_type, v.stream_id)
           AND chronicle_internal._in_tenant(v.stream_id, sub.tenant));
COMMENT ON FUNCTION chronicle_internal._matching(chronicle.subscriptions, int, bigint, bigint) IS
    'Internal: how many events between two positions a consumer of a subscription receives.';
CREATE OR REPLACE FUNCTION chronicle_internal._move_checkpoint(
    sub chronicle.subscriptions, consumer int, to_position bigint, processed bigint
) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    group_checkpoint bigint;
BEGIN
    UPDATE chronicle.subscription_consumers c
       SET position = to_position,
           last_event_id = chronicle_internal._event_id_at(to_position, sub.tenant),
           last_processed_at = CASE WHEN processed > 0 THEN now() ELSE c.last_processed_at END,
           events_processed = c.events_processed + processed
     WHERE c.subscription = sub.name AND c.consumer = _move_checkpoint.consumer;
    SELECT min(c.position) INTO group_checkpoint FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name;
    UPDATE chronicle.subscriptions s
       SET last_event_id = chronicle_internal._event_id_at(group_checkpoint, sub.tenant),
           last_processed_at = CASE WHEN processed > 0 THEN now() ELSE s.last_processed_at END,
           events_processed = s.events_processed + processed
     WHERE s.name = sub.name;
    PERFORM chronicle_internal._transition(sub, 'checkpoint', group_checkpoint);
END
$$;
COMMENT ON FUNCTION chronicle_internal._move_checkpoint(chronicle.subscriptions, int, bigint, bigint) IS
    'Internal: moves a consumer''s checkpoint and the group checkpoint.';
CREATE OR REPLACE FUNCTION chronicle.create_subscription(
    name text,
    stream_type text DEFAULT NULL,
    event_types text[] DEFAULT NULL,
    after_position bigint DEFAULT 0
) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    created chronicle.subscriptions;
BEGIN
    after_position := coalesce(after_position, 0);
    PERFORM chronicle_internal._check_subscription(create_subscription.name, create_subscription.stream_type,
                                                   create_subscription.event_types, after_position,
                                                   chronicle.feed_head());
    INSERT INTO chronicle.subscriptions AS s (name, stream_type, event_types, last_position, last_event_id, tenant)
    VALUES (create_subscription.name, create_subscription.stream_type, create_subscription.event_types,
            after_position, chronicle_internal._event_id_at(after_position, chronicle.current_tenant()),
            chronicle.current_tenant())
    ON CONFLICT ON CONSTRAINT subscriptions_pkey DO NOTHING
    RETURNING s.* INTO created;
    IF created.name IS NULL THEN
        PERFORM chronicle_internal._subscription_error('create_subscription', create_subscription.name, false);
    END IF;
    INSERT INTO chronicle.subscription_consumers (subscription, consumer, position)
    VALUES (created.name, 0, after_position);
    RETURN created;
END
$$;
COMMENT ON FUNCTION chronicle.create_subscription(text, text, text[], bigint) IS
    'Creates a named subscription to the global feed (optionally one stream type and/or some event types) that delivers the events after after_position; returns its row (42710 if the name exists).';
CREATE OR REPLACE FUNCTION chronicle.drop_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dropped chronicle.subscriptions;
BEGIN
    PERFORM chronicle_internal._check_name('drop_subscription', drop_subscription.name, '', NULL, 0);
    DELETE FROM chronicle.subscriptions s
     WHERE s.name = drop_subscription.name AND s.tenant = chronicle.current_tenant()
    RETURNING s.* INTO dropped;
    IF dropped.name IS NULL THEN
        PERFORM chronicle_internal._subscription_error('drop_subscription', drop_subscription.name, true);
    END IF;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION chronicle.drop_subscription(text) IS
    'Drops a subscription and its checkpoints; returns its row as it was.';
CREATE OR REPLACE FUNCTION chronicle_internal._regroup(name text, consumers int) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    PERFORM chronicle_internal._check_poll(_regroup.name, 0, 0, _regroup.consumers);
    sub := chronicle_internal._subscription('poll', _regroup.name, true);
    IF sub.consumers <> _regroup.consumers THEN
        DELETE FROM chronicle.subscription_consumers c WHERE c.subscription = sub.name;
        INSERT INTO chronicle.subscription_consumers (subscription, consumer, position)
        SELECT sub.name, k, sub.last_position FROM generate_series(0, _regroup.consumers - 1) k;
        UPDATE chronicle.subscriptions s SET consumers = _regroup.consumers WHERE s.name = sub.name;
    END IF;
END
$$;
COMMENT ON FUNCTION chronicle_internal._regroup(text, int) IS 'Internal: poll''s change of the consumer group size.';
CREATE OR REPLACE FUNCTION chronicle_internal._skip(name text, consumer int, from_position bigint, to_position bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
    current bigint;
    skip_to bigint;
BEGIN
    PERFORM chronicle_internal._check_name('poll', _skip.name, 'to_position', to_position, chronicle.feed_head());
    sub := chronicle_internal._subscription('poll', _skip.name, true);
    SELECT c.position INTO current FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = _skip.consumer FOR UPDATE;
    skip_to := chronicle_internal._skip_to(current, from_position, to_position);
    IF skip_to IS NULL
       OR chronicle_internal._matching(sub, _skip.consumer, from_position, skip_to) > 0 THEN
        RETURN;
    END IF;
    PERFORM chronicle_internal._move_checkpoint(sub, _skip.consumer, skip_to, 0);
END
$$;
COMMENT ON FUNCTION chronicle_internal._skip(text, int, bigint, bigint) IS
    'Internal: poll''s move of a checkpoint past events that are not for the consumer.';
CREATE OR REPLACE FUNCTION chronicle.poll(
    name text,
    max_count int DEFAULT 1000,
    consumer int DEFAULT 0,
    consumers int DEFAULT 1
) RETURNS SETOF chronicle.events
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
    from_position bigint;
    scan_to bigint;
BEGIN
    max_count := coalesce(max_count, 1000);
    consumer := coalesce(consumer, 0);
    consumers := coalesce(consumers, 1);
    PERFORM chronicle_internal._check_poll(poll.name, max_count, consumer, consumers);
    sub := chronicle_internal._subscription('poll', poll.name, false);
    IF NOT chronicle_internal._delivers_in(sub.status) OR max_count = 0 THEN
        RETURN;
    END IF;
    IF sub.consumers <> poll.consumers THEN
        PERFORM chronicle_internal._regroup(poll.name, poll.consumers);
    END IF;
    SELECT c.position INTO from_position FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = poll.consumer;
    PERFORM chronicle_internal._feed_tick();
    scan_to := chronicle_internal._scan_end(from_position, chronicle.feed_head());
    RETURN QUERY
        SELECT * FROM chronicle_internal._feed_page(from_position, max_count, scan_to,
                                                    sub.stream_type, sub.event_types, poll.consumer, poll.consumers);
    IF NOT FOUND AND scan_to > from_position THEN
        -- Nothing for this consumer up to scan_to: move its checkpoint
        -- there, so the next poll does not scan the same positions again.
        PERFORM chronicle_internal._skip(poll.name, poll.consumer, from_position, scan_to);
    END IF;
END
$$;
COMMENT ON FUNCTION chronicle.poll(text, int, int, int) IS
    'At most max_count of the next events of a subscription after its consumer''s checkpoint, in feed order. With consumers => n, consumer k (0 .. n-1) receives only the streams assigned to it (each stream to one consumer, in order). Nothing while paused or failed. Acknowledge with chronicle.ack.';
CREATE OR REPLACE FUNCTION chronicle.ack(name text, to_position bigint, consumer int DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
    current bigint;
    moved_to bigint;
BEGIN
    consumer := coalesce(consumer, 0);
    PERFORM chronicle_internal._check_name('ack', ack.name, 'to_position', ack.to_position, chronicle.feed_head());
    sub := chronicle_internal._subscription('ack', ack.name, true);
    SELECT c.position INTO current FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = ack.consumer FOR UPDATE;
    IF current IS NULL THEN
        PERFORM chronicle_internal._check_poll(ack.name, 1, consumer, sub.consumers);
    END IF;
    moved_to := chronicle_internal._ack_to(current, ack.to_position);
    IF moved_to IS NULL THEN
        RETURN current;
    END IF;
    PERFORM chronicle_internal._move_checkpoint(sub, ack.consumer, moved_to,
        chronicle_internal._matching(sub, ack.consumer, current, moved_to));
    RETURN moved_to;
END
$$;
COMMENT ON FUNCTION chronicle.ack(text, bigint, int) IS
    'Moves a consumer''s checkpoint forward to to_position (never back) and returns the checkpoint; positions beyond the feed''s head are refused.';
CREATE OR REPLACE FUNCTION chronicle_internal._command(
    function_name text, name text, command text, error_message text DEFAULT ''
) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle_internal._check_name(function_name, _command.name, '', NULL, 0, _command.error_message);
    RETURN chronicle_internal._transition(chronicle_internal._subscription(function_name, _command.name, true),
                                          command, NULL, _command.error_message);
END
$$;
COMMENT ON FUNCTION chronicle_internal._command(text, text, text, text) IS
    'Internal: pause, resume or fail a subscription for the function named.';
CREATE OR REPLACE FUNCTION chronicle.pause_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN chronicle_internal._command('pause_subscription', name, 'pause');
COMMENT ON FUNCTION chronicle.pause_subscription(text) IS
    'Pauses a subscription: poll returns nothing until resume_subscription. Returns its row.';
CREATE OR REPLACE FUNCTION chronicle.resume_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN chronicle_internal._command('resume_subscription', name, 'resume');
COMMENT ON FUNCTION chronicle.resume_subscription(text) IS
    'Resumes a paused or failed subscription (clears its error; rebuilding again if a rebuild was under way). Returns its row.';
CREATE OR REPLACE FUNCTION chronicle.fail_subscription(name text, error_message text) RETURNS chronicle.subscriptions
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN chronicle_internal._command('fail_subscription', name, 'fail', error_message);
COMMENT ON FUNCTION chronicle.fail_subscription(text, text) IS
    'Marks a subscription failed with an error message: poll returns nothing until resume_subscription. Returns its row.';
CREATE OR REPLACE FUNCTION chronicle.reset_subscription(name text, to_position bigint DEFAULT 0) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    to_position := coalesce(to_position, 0);
    PERFORM chronicle_internal._check_name('reset_subscription', reset_subscription.name, 'to_position',
                                           to_position, chronicle.feed_head());
    sub := chronicle_internal._subscription('reset_subscription', reset_subscription.name, true);
    UPDATE chronicle.subscription_consumers c
       SET position = to_position, last_event_id = NULL, last_processed_at = NULL, events_processed = 0
     WHERE c.subscription = sub.name;
    UPDATE chronicle.subscriptions s
       SET last_event_id = chronicle_internal._event_id_at(to_position, sub.tenant),
           events_processed = 0
     WHERE s.name = sub.name;
    RETURN chronicle_internal._transition(sub, 'reset', to_position);
END
$$;
COMMENT ON FUNCTION chronicle.reset_subscription(text, bigint) IS
    'Moves every checkpoint of a subscription to to_position (rebuild a projection); status rebuilding until the checkpoint reaches the head at reset time. Returns its row.';
CREATE OR REPLACE VIEW chronicle.subscription_lag AS
SELECT s.name, s.status, s.last_position, h.head_position,
       h.head_position - s.last_position AS lag, s.last_processed_at, s.error_message
  FROM chronicle.subscriptions s, (SELECT chronicle.feed_head() AS head_position) h;
COMMENT ON VIEW chronicle.subscription_lag IS
    'Each subscription''s checkpoint against the head of the feed (a projection''s lag): lag counts positions, including events the subscription''s filter skips.';

-- As sql/deprecated.sql creates them in 0.3.0.
CREATE OR REPLACE FUNCTION chronicle.stream_types()
RETURNS TABLE (stream_type text, streams bigint, events numeric, has_reducer boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.stream_type, t.streams, t.events::numeric, t.has_reducer
      FROM chronicle.list_stream_types() t
$$;
COMMENT ON FUNCTION chronicle.stream_types() IS
    'Deprecated (0.3.0): use chronicle.list_stream_types(), whose events column is bigint.';
CREATE OR REPLACE FUNCTION chronicle.seal(max_events bigint) RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.seal(CASE WHEN chronicle_internal._check_count('seal', 'max_events', max_events)
                                    AND max_events <= 2147483647 THEN max_events::int END)
$$;
COMMENT ON FUNCTION chronicle.seal(bigint) IS
    'Deprecated (0.3.0): use chronicle.seal(max_count int).';
CREATE OR REPLACE FUNCTION chronicle.define_event_type(event_type text, schema jsonb, schema_version int DEFAULT 1)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.define_event_type(event_type, coalesce(schema_version, 1), schema)
$$;
COMMENT ON FUNCTION chronicle.define_event_type(text, jsonb, int) IS
    'Deprecated (0.3.0): use chronicle.define_event_type(event_type, schema_version, definition).';

-- The comments on the functions written in Rust.
COMMENT ON FUNCTION chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, uuid, uuid, text, timestamptz, int) IS
    'Appends one event to a stream and returns the stream''s new version. expected_version: NULL = any, 0 = the stream must not exist, N = the stream must be at version N (else SQLSTATE 40001). Repeating an append with the same event_id at the same place returns the stored version again.';
COMMENT ON FUNCTION chronicle.append_events(text, jsonb, bigint, text) IS
    'Appends a JSON array of events ({"event_type", "data", ...}) to one stream, all or nothing; returns the version of the last one.';
COMMENT ON FUNCTION chronicle.canonical_json(jsonb) IS
    'The canonical JSON text of a value (keys sorted, no white space, exact numbers): the form in which the browser''s replay and state_at are compared byte for byte.';
COMMENT ON FUNCTION chronicle.current_tenant() IS
    'The session''s tenant (the chronicle.tenant setting, which only a superuser can set; '''' for none).';
COMMENT ON FUNCTION chronicle.define_event_type(text, int, jsonb) IS
    'Defines (or replaces) the schema (definition, a subset of JSON Schema) that data of an event type and schema version must match at every append (SQLSTATE 23514 naming the JSON path otherwise). Once an event type has schemas, appends must use one of its defined schema versions.';
COMMENT ON FUNCTION chronicle.define_reducer(text, jsonb) IS
    'Registers (or replaces) the reducer of a stream type: a JSON definition of how each event type changes the state (see the README). Invalid definitions are refused with SQLSTATE 22023 naming the bad operation.';
COMMENT ON FUNCTION chronicle.define_upcaster(text, int, jsonb) IS
    'Defines (or replaces) the declarative steps (definition: rename, move, default, remove) that turn data of an event type from from_schema_version into the next version. Replay and read_stream(upcast => true) apply them; snapshots are dropped.';
COMMENT ON FUNCTION chronicle.diff(jsonb, jsonb) IS
    'The RFC 6902 JSON Patch that turns a into b (add, remove and replace operations).';
COMMENT ON FUNCTION chronicle.seal(int) IS
    'Hands out global positions to every event that can have one now (at most max_count; NULL: all) and returns how many. The sealer worker does this on its own within chronicle.seal_interval; call it to seal without waiting. Needs a READ COMMITTED read-write transaction on the primary (else 55000).';
COMMENT ON FUNCTION chronicle.state_at(text, bigint, timestamptz) IS
    'The state of a stream after to_version, or before the first event recorded after as_of, or at its head (both NULL). Folds the stream with its type''s reducer (default: merge each event''s data). 42704 if the stream does not exist, 22023 for a version it has not reached.';
COMMENT ON FUNCTION chronicle.state_history(text, bigint, bigint) IS
    'The state of a stream after each version from from_version to to_version (inclusive; NULL: the head), ordered by version; no rows for a stream that does not exist.';
COMMENT ON FUNCTION chronicle_internal._skip_to(bigint, bigint, bigint) IS
    'Internal: where a poll that found nothing moves a checkpoint (NULL: it stays).';
COMMENT ON FUNCTION chronicle_internal._upcast(text, int, jsonb) IS
    'Internal: the data of an event upcast to its newest schema version.';
COMMENT ON FUNCTION chronicle_internal._check_version_range(text, text, bigint, bigint) IS
    'Internal: raises the core''s error for bad stream read arguments.';
COMMENT ON FUNCTION chronicle_internal._subscription_error(text, text, boolean) IS
    'Internal: raises 42704 (missing) or 42710 (exists) for a subscription.';
COMMENT ON FUNCTION chronicle_internal._scan_end(bigint, bigint) IS
    'Internal: the last position a poll scans.';
COMMENT ON FUNCTION chronicle_internal._feed_tick() IS
    'Internal: makes sure a sealer runs before a feed read.';
COMMENT ON FUNCTION chronicle_internal._consumer_of(text, int) IS
    'Internal: the consumer of a group that receives a stream''s events (the core''s rule).';
COMMENT ON FUNCTION chronicle_internal._delivers_in(text) IS
    'Internal: whether poll delivers events in a status.';
COMMENT ON FUNCTION chronicle_internal._check_subscription(text, text, text[], bigint, bigint) IS
    'Internal: argument checks of create_subscription.';
COMMENT ON FUNCTION chronicle_internal._export_header(text, bigint, bigint) IS
    'Internal: the header line of export_stream.';
COMMENT ON FUNCTION chronicle_internal._check_poll(text, bigint, bigint, bigint) IS
    'Internal: argument checks of poll (and of ack''s consumer).';
COMMENT ON FUNCTION chronicle_internal._check_count(text, text, bigint) IS
    'Internal: raises the core''s error for a NULL or negative page size.';
COMMENT ON FUNCTION chronicle_internal._system_identifier() IS
    'Internal: the cluster''s system identifier.';
COMMENT ON FUNCTION chronicle_internal._import_batches(text, int) IS
    'Internal: an export read back as append_events batches.';
COMMENT ON FUNCTION chronicle_internal._require(text, text, boolean) IS
    'Internal: raises the core''s null_value error (22004) for the field unless present.';
COMMENT ON FUNCTION chronicle_internal._not_found(text, text, text, bigint) IS
    'Internal: raises the core''s 42704 for a stream or definition that does not exist.';
COMMENT ON FUNCTION chronicle_internal._ack_to(bigint, bigint) IS
    'Internal: where an ack moves a checkpoint (NULL: it stays).';
COMMENT ON FUNCTION chronicle_internal._check_feed_read(bigint, bigint, text, text[]) IS
    'Internal: argument checks of read_all.';
COMMENT ON FUNCTION chronicle_internal._subscription_next(text, bigint, bigint, text, text, bigint, bigint, text) IS
    'Internal: a subscription''s state after a command (the core''s state machine).';
COMMENT ON FUNCTION chronicle_internal._check_name(text, text, text, bigint, bigint, text) IS
    'Internal: argument checks of the subscription functions that take a name.';

-- Roles, privileges and row-level security as sql/security.sql sets them.
DO $roles$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['chronicle_reader', 'chronicle_writer', 'chronicle_admin'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', name);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles r
                       WHERE r.rolname OPERATOR(pg_catalog.=) name AND (r.rolcanlogin OR r.rolsuper OR r.rolbypassrls)) THEN
            RAISE WARNING 'role % exists already and can log in, is a superuser or bypasses row-level security', name
                USING HINT = 'Chronicle''s roles are meant as NOLOGIN groups: ALTER ROLE ' || name || ' NOLOGIN NOSUPERUSER NOBYPASSRLS.';
        END IF;
    END LOOP;
END
$roles$;
GRANT chronicle_reader TO chronicle_writer;
GRANT chronicle_writer TO chronicle_admin;
DO $revoke$
DECLARE
    o record;
    grantee text;
    revoked text[] := '{}';
BEGIN
    FOR o IN
        SELECT pg_catalog.format('%s %s', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                                 c.oid::pg_catalog.regclass) AS object, c.relacl AS acl, c.relowner AS owner
          FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                   WHERE e.extname OPERATOR(pg_catalog.=) 'chronicle')
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
        UNION ALL
        SELECT pg_catalog.format('FUNCTION %s', p.oid::pg_catalog.regprocedure), p.proacl, p.proowner
          FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                   WHERE e.extname OPERATOR(pg_catalog.=) 'chronicle')
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
        UNION ALL
        SELECT pg_catalog.format('SCHEMA %I', n.nspname), n.nspacl, n.nspowner FROM pg_catalog.pg_namespace n
         WHERE n.nspname OPERATOR(pg_catalog.=) ANY (ARRAY['chronicle', 'chronicle_internal'])
    LOOP
        EXECUTE 'REVOKE ALL ON ' OPERATOR(pg_catalog.||) o.object OPERATOR(pg_catalog.||) ' FROM PUBLIC';
        FOR grantee IN
            SELECT DISTINCT pg_catalog.pg_get_userbyid(a.grantee) FROM pg_catalog.aclexplode(o.acl) a
             WHERE a.grantee OPERATOR(pg_catalog.<>) o.owner AND a.grantee OPERATOR(pg_catalog.<>) 0
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %I', o.object, grantee);
            IF grantee OPERATOR(pg_catalog.<>) ALL (ARRAY['chronicle_reader', 'chronicle_writer', 'chronicle_admin']) THEN
                revoked := revoked OPERATOR(pg_catalog.||) grantee;  -- Chronicle's own get theirs again below
            END IF;
        END LOOP;
    END LOOP;
    IF pg_catalog.cardinality(revoked) OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'revoked the privileges of % on Chronicle''s schema, tables and functions',
            (SELECT pg_catalog.string_agg(DISTINCT r, ', ') FROM pg_catalog.unnest(revoked) r)
            USING HINT = 'Grant chronicle_reader, chronicle_writer or chronicle_admin instead.';
    END IF;
END
$revoke$;
GRANT USAGE ON SCHEMA chronicle, chronicle_internal TO chronicle_reader;
GRANT SELECT ON chronicle.events, chronicle.event_log, chronicle.streams, chronicle.feed,
                chronicle.feed_state, chronicle.reducers, chronicle.event_types, chronicle.upcasters,
                chronicle.subscriptions, chronicle.subscription_consumers, chronicle.daily_activity,
                chronicle.stream_activity, chronicle.subscription_lag, chronicle.feed_status
   TO chronicle_reader;
GRANT EXECUTE ON FUNCTION
    chronicle.read_stream(text, bigint, bigint, boolean), chronicle.stream_version(text),
    chronicle.read_correlation(uuid), chronicle.list_streams(text, text, text, int),
    chronicle.list_stream_types(), chronicle.stream_types(), chronicle.reducer(text),
    chronicle.event_type(text, int), chronicle.upcaster(text, int),
    chronicle.export_stream(text, bigint, bigint),
    chronicle.read_all(bigint, int, text, text[]), chronicle.feed_head(),
    chronicle.poll(text, int, int, int), chronicle.state_at(text, bigint, timestamptz),
    chronicle.state_history(text, bigint, bigint), chronicle.diff(jsonb, jsonb),
    chronicle.canonical_json(jsonb), chronicle.current_tenant(),
    -- called by the functions above with the caller's rights
    chronicle_internal._check_version_range(text, text, bigint, bigint),
    chronicle_internal._require(text, text, boolean),
    chronicle_internal._check_count(text, text, bigint),
    chronicle_internal._not_found(text, text, text, bigint),
    chronicle_internal._upcast(text, int, jsonb),
    chronicle_internal._export_header(text, bigint, bigint),
    chronicle_internal._feed_range(bigint, bigint),
    chronicle_internal._delivers(text, text[], int, int, text, text, text),
    chronicle_internal._consumer_of(text, int),
    chronicle_internal._feed_page(bigint, int, bigint, text, text[], int, int),
    chronicle_internal._feed_tick(),
    chronicle_internal._check_feed_read(bigint, bigint, text, text[]),
    chronicle_internal._check_poll(text, bigint, bigint, bigint),
    chronicle_internal._subscription(text, text, boolean),
    chronicle_internal._subscription_error(text, text, boolean),
    chronicle_internal._delivers_in(text), chronicle_internal._scan_end(bigint, bigint),
    chronicle_internal._regroup(text, int), chronicle_internal._skip(text, int, bigint, bigint)
   TO chronicle_reader;
GRANT EXECUTE ON FUNCTION
    chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, uuid, uuid, text, timestamptz, int),
    chronicle.append_events(text, jsonb, bigint, text), chronicle.import_stream(text, text),
    chronicle.ack(text, bigint, int), chronicle_internal._import_batches(text, int)
   TO chronicle_writer;
GRANT EXECUTE ON FUNCTION
    chronicle.define_reducer(text, jsonb), chronicle.define_event_type(text, int, jsonb),
    chronicle.define_event_type(text, jsonb, int), chronicle.define_upcaster(text, int, jsonb),
    chronicle.create_subscription(text, text, text[], bigint), chronicle.drop_subscription(text),
    chronicle.pause_subscription(text), chronicle.resume_subscription(text),
    chronicle.fail_subscription(text, text), chronicle.reset_subscription(text, bigint),
    -- while it runs, a seal holds the lock the sealer waits for
    chronicle.seal(int), chronicle.seal(bigint)
   TO chronicle_admin;
ALTER VIEW chronicle.events SET (security_invoker = true);
ALTER VIEW chronicle.daily_activity SET (security_invoker = true);
ALTER VIEW chronicle.stream_activity SET (security_invoker = true);
ALTER VIEW chronicle.subscription_lag SET (security_invoker = true);
ALTER VIEW chronicle.feed_status SET (security_invoker = true);
ALTER TABLE chronicle.event_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.streams ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.subscription_consumers ENABLE ROW LEVEL SECURITY;

-- Chronicle 0.3.0 -> 0.4.0: the applications Chronicle replaces run as they
-- are written. Correlation and causation ids become text (any id a
-- workflow uses; a uuid stored lower-case and hyphenated, as the uuids
-- stored so far print); append_event takes version => N; every function
-- that takes a stream id also takes it as a uuid; import_stream reads the
-- files of a JSON-lines event store (format => 'domain-events'). Run by
-- ALTER EXTENSION chronicle UPDATE; tests/upgrade/run.py checks that it
-- gives the same catalog as a fresh CREATE EXTENSION of 0.4.0. Frozen:
-- never edited after its release.
--
-- The column change rewrites chronicle.event_log (and its indexes) under an
-- ACCESS EXCLUSIVE lock: plan a maintenance window proportional to its size.

\echo Use "ALTER EXTENSION chronicle UPDATE" to load this file. \quit

-- Every update empties the snapshot cache: the rules that fill it may have
-- changed, a role granted a write on it before the update may have forged
-- rows, and it rebuilds itself (deleting snapshots never changes an answer).
TRUNCATE chronicle.snapshots;

-- The view chronicle.events, the view over it and the functions that return
-- its rows depend on the columns' types: they are dropped, the columns
-- change, and they are created again as 0.4.0 writes them.
DROP FUNCTION chronicle.read_stream(text, bigint, bigint, boolean);
DROP FUNCTION chronicle.read_correlation(uuid);
DROP FUNCTION chronicle.read_all(bigint, int, text, text[]);
DROP FUNCTION chronicle.poll(text, int, int, int);
DROP FUNCTION chronicle_internal._event_id_at(bigint, text);
DROP FUNCTION chronicle_internal._matching(chronicle.subscriptions, int, bigint, bigint);
DROP FUNCTION chronicle_internal._feed_page(bigint, int, bigint, text, text[], int, int);
DROP FUNCTION chronicle_internal._feed_range(bigint, bigint);
DROP VIEW chronicle.daily_activity;
DROP VIEW chronicle.events;

ALTER TABLE chronicle.event_log
    ALTER COLUMN correlation_id TYPE text USING correlation_id::text,
    ALTER COLUMN causation_id TYPE text USING causation_id::text;

-- Functions whose arguments change: dropped, and created below.
DROP FUNCTION chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, uuid, uuid, text, timestamptz, int);
DROP FUNCTION chronicle.import_stream(text, text);
DROP FUNCTION chronicle_internal._import_batches(text, int);

-- As sql/schema.sql creates them in 0.4.0.

CREATE VIEW chronicle.events AS
SELECT (SELECT c.first_position OPERATOR(pg_catalog.+) pg_catalog.array_position(c.ids, e.id) OPERATOR(pg_catalog.-) 1
          FROM pg_catalog.generate_series(0, (SELECT pg_catalog.max(s.era) FROM chronicle.feed_state s)) AS r(era)
         CROSS JOIN LATERAL (
               SELECT f.first_position, f.ids FROM chronicle.feed f
                WHERE f.era OPERATOR(pg_catalog.=) r.era
                  AND (f.first_key, f.first_id) OPERATOR(pg_catalog.<=) (e.seal_key, e.id)
                ORDER BY f.era DESC, f.first_key DESC, f.first_id DESC
                LIMIT 1) c
         WHERE pg_catalog.array_position(c.ids, e.id) IS NOT NULL
         LIMIT 1) AS global_position,
       e.event_id, e.stream_id, e.stream_type, e.version,
       e.event_type, e.schema_version, e.data, e.metadata, e.correlation_id,
       e.causation_id, e.actor, e.occurred_at, e.recorded_at
  FROM chronicle.event_log e;

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

COMMENT ON COLUMN chronicle.events.correlation_id IS 'Ties together the events of one workflow or request: an execution id, a request id, a uuid (stored lower-case and hyphenated).';

COMMENT ON COLUMN chronicle.events.causation_id IS 'The id of the event or command that caused this event (any id, as correlation_id).';

COMMENT ON COLUMN chronicle.events.actor IS 'Who caused the event (a user id).';

COMMENT ON COLUMN chronicle.events.occurred_at IS 'When it happened, as the application says (defaults to recorded_at).';

COMMENT ON COLUMN chronicle.events.recorded_at IS 'When the appending transaction started.';

CREATE TRIGGER events_append_only
    INSTEAD OF INSERT OR UPDATE OR DELETE ON chronicle.events
    FOR EACH ROW EXECUTE FUNCTION chronicle_internal._refuse_history_change();


-- As sql/streams.sql creates them in 0.4.0.

CREATE FUNCTION chronicle.read_stream(
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

CREATE FUNCTION chronicle.read_correlation(correlation_id text) RETURNS SETOF chronicle.events
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- As appends store it: a uuid in any form finds its events.
    wanted text := chronicle_internal._reference('read_correlation', 'correlation_id', read_correlation.correlation_id);
BEGIN
    RETURN QUERY
        SELECT v.* FROM chronicle.events v
         WHERE v.correlation_id = wanted
         ORDER BY v.global_position NULLS LAST, v.recorded_at, v.stream_id, v.version;
END
$$;

COMMENT ON FUNCTION chronicle.read_correlation(text) IS
    'Every event with this correlation_id (any id a workflow uses: an execution id, a request id, a uuid), across streams, in feed order (events not yet sealed last, in recording order): a workflow''s trace.';

CREATE FUNCTION chronicle.import_stream(
    lines text,
    stream_id text DEFAULT NULL,
    format text DEFAULT 'chronicle-export'
) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    batch record;
    version bigint := 0;
BEGIN
    FOR batch IN
        SELECT * FROM chronicle_internal._import_batches(lines,
                        current_setting('chronicle.max_batch_events')::int, format)
    LOOP
        version := chronicle.append_events(coalesce(import_stream.stream_id, batch.stream_id),
                                           batch.events, version, batch.stream_type);
    END LOOP;
    RETURN version;
END
$$;

COMMENT ON FUNCTION chronicle.import_stream(text, text, text) IS
    'Appends the events of an import as a new stream, under its own id or stream_id; returns its version. format: ''chronicle-export'' (the lines of export_stream joined by newlines; the default) or ''domain-events'' (a JSON-lines file of DomainEvent.to_dict() lines: aggregate_id, aggregate_type, event_id, event_type, event_version, execution_id, user_id, occurred_at, data). Event ids, data, metadata and occurrence times are kept; versions follow the order of the lines; recording times and positions are new.';

CREATE VIEW chronicle.daily_activity AS
SELECT (e.recorded_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS events,
       count(DISTINCT e.stream_id) AS streams,
       count(DISTINCT e.event_type) AS event_types
  FROM chronicle.events e
 GROUP BY 1;

COMMENT ON VIEW chronicle.daily_activity IS
    'Events, distinct streams and distinct event types recorded per day (UTC). Scans chronicle.events: filter on day, e.g. WHERE day > current_date - 7.';


-- As sql/feed.sql creates them in 0.4.0.

CREATE FUNCTION chronicle_internal._feed_range(after_position bigint, up_to bigint) RETURNS SETOF chronicle.events
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

CREATE FUNCTION chronicle_internal._feed_page(
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

CREATE FUNCTION chronicle.read_all(
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


-- As sql/subscriptions.sql creates them in 0.4.0.

CREATE FUNCTION chronicle_internal._event_id_at("position" bigint, tenant text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT v.event_id FROM chronicle_internal._feed_range("position" OPERATOR(pg_catalog.-) 1, "position") v
         WHERE chronicle_internal._in_tenant(v.stream_id, _event_id_at.tenant));

COMMENT ON FUNCTION chronicle_internal._event_id_at(bigint, text) IS
    'Internal: the event_id at a feed position, if it is the tenant''s.';

CREATE FUNCTION chronicle_internal._matching(sub chronicle.subscriptions, consumer int, after_position bigint, up_to bigint)
RETURNS bigint
LANGUAGE sql STABLE
RETURN (SELECT pg_catalog.count(*) FROM chronicle_internal._feed_range(after_position, up_to) v
         WHERE chronicle_internal._delivers(sub.stream_type, sub.event_types, _matching.consumer, sub.consumers,
                                            v.stream_type, v.event_type, v.stream_id)
           AND chronicle_internal._in_tenant(v.stream_id, sub.tenant));

COMMENT ON FUNCTION chronicle_internal._matching(chronicle.subscriptions, int, bigint, bigint) IS
    'Internal: how many events between two positions a consumer of a subscription receives.';

CREATE FUNCTION chronicle.poll(
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


-- The functions written in Rust that are new or were dropped above.

-- chronicle::append::append_event
CREATE  FUNCTION "append_event"(
	"stream_id" TEXT, /* Option < & str > */
	"event_type" TEXT, /* Option < & str > */
	"data" jsonb, /* Option < RawJsonb > */
	"metadata" jsonb DEFAULT '{}', /* Option < RawJsonb > */
	"expected_version" bigint DEFAULT NULL, /* Option < i64 > */
	"event_id" uuid DEFAULT NULL, /* Option < pgrx :: Uuid > */
	"stream_type" TEXT DEFAULT NULL, /* Option < & str > */
	"correlation_id" TEXT DEFAULT NULL, /* Option < & str > */
	"causation_id" TEXT DEFAULT NULL, /* Option < & str > */
	"actor" TEXT DEFAULT NULL, /* Option < & str > */
	"occurred_at" timestamp with time zone DEFAULT NULL, /* Option < TimestampWithTimeZone > */
	"schema_version" INT DEFAULT 1, /* Option < i32 > */
	"version" bigint DEFAULT NULL /* Option < i64 > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'append_one_wrapper';

-- chronicle::read::_reference
CREATE  FUNCTION chronicle_internal."_reference"(
	"function_name" TEXT, /* & str */
	"field" TEXT, /* & str */
	"value" TEXT /* Option < & str > */
) RETURNS TEXT /* String */
IMMUTABLE PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'reference_sql_wrapper';

-- chronicle::export::_import_batches
CREATE  FUNCTION chronicle_internal."_import_batches"(
	"lines" TEXT, /* Option < & str > */
	"batch_size" INT, /* i32 */
	"format" TEXT /* Option < & str > */
) RETURNS TABLE (
	"stream_id" TEXT,  /* String */
	"stream_type" TEXT,  /* String */
	"events" jsonb  /* JsonB */
)
IMMUTABLE PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'import_batches_as_wrapper';

COMMENT ON FUNCTION chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, text, text, text, timestamptz, int, bigint) IS
    'Appends one event to a stream and returns the stream''s new version. expected_version: NULL = any, 0 = the stream must not exist, N = the stream must be at version N (else SQLSTATE 40001); or version: N = the new event is version N (the stream is at N - 1). Repeating an append with the same event_id at the same place returns the stored version again.';

COMMENT ON FUNCTION chronicle_internal._reference(text, text, text) IS
    'Internal: a correlation or causation id in the form it is stored in (a uuid lower-case and hyphenated), or the core''s error for it.';

COMMENT ON FUNCTION chronicle_internal._import_batches(text, int, text) IS
    'Internal: an import (an export, or a JSON-lines file of another store) read back as append_events batches.';


-- As sql/uuid_arguments.sql creates them in 0.4.0.

CREATE FUNCTION chronicle.append_event(
    stream_id uuid, event_type text, data jsonb,
    metadata jsonb DEFAULT '{}', expected_version bigint DEFAULT NULL,
    event_id uuid DEFAULT NULL, stream_type text DEFAULT NULL,
    correlation_id text DEFAULT NULL, causation_id text DEFAULT NULL,
    actor text DEFAULT NULL, occurred_at timestamptz DEFAULT NULL,
    schema_version int DEFAULT 1, version bigint DEFAULT NULL
) RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.append_event(stream_id::text, event_type, data, metadata, expected_version,
                                  event_id, stream_type, correlation_id, causation_id, actor,
                                  occurred_at, schema_version, version)
$$;

COMMENT ON FUNCTION chronicle.append_event(uuid, text, jsonb, jsonb, bigint, uuid, text, text, text, text, timestamptz, int, bigint) IS
    'append_event with the stream id given as a uuid (stored as its text).';

CREATE FUNCTION chronicle.append_events(
    stream_id uuid, events jsonb,
    expected_version bigint DEFAULT NULL, stream_type text DEFAULT NULL
) RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.append_events(stream_id::text, events, expected_version, stream_type)
$$;

COMMENT ON FUNCTION chronicle.append_events(uuid, jsonb, bigint, text) IS
    'append_events with the stream id given as a uuid (stored as its text).';

CREATE FUNCTION chronicle.read_stream(
    stream_id uuid, from_version bigint DEFAULT 1,
    to_version bigint DEFAULT NULL, upcast boolean DEFAULT false
) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM chronicle.read_stream(stream_id::text, from_version, to_version, upcast)
$$;

COMMENT ON FUNCTION chronicle.read_stream(uuid, bigint, bigint, boolean) IS
    'read_stream with the stream id given as a uuid.';

CREATE FUNCTION chronicle.stream_version(stream_id uuid) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.stream_version(stream_id::text)
$$;

COMMENT ON FUNCTION chronicle.stream_version(uuid) IS
    'stream_version with the stream id given as a uuid.';

CREATE FUNCTION chronicle.state_at(
    stream_id uuid, to_version bigint DEFAULT NULL, as_of timestamptz DEFAULT NULL
) RETURNS jsonb
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.state_at(stream_id::text, to_version, as_of)
$$;

COMMENT ON FUNCTION chronicle.state_at(uuid, bigint, timestamptz) IS
    'state_at with the stream id given as a uuid.';

CREATE FUNCTION chronicle.state_history(
    stream_id uuid, from_version bigint DEFAULT 1, to_version bigint DEFAULT NULL
) RETURNS TABLE (version bigint, state jsonb)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM chronicle.state_history(stream_id::text, from_version, to_version)
$$;

COMMENT ON FUNCTION chronicle.state_history(uuid, bigint, bigint) IS
    'state_history with the stream id given as a uuid.';

CREATE FUNCTION chronicle.export_stream(
    stream_id uuid, from_version bigint DEFAULT 1, to_version bigint DEFAULT NULL
) RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM chronicle.export_stream(stream_id::text, from_version, to_version)
$$;

COMMENT ON FUNCTION chronicle.export_stream(uuid, bigint, bigint) IS
    'export_stream with the stream id given as a uuid.';

CREATE FUNCTION chronicle.read_correlation(correlation_id uuid) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM chronicle.read_correlation(correlation_id::text)
$$;

COMMENT ON FUNCTION chronicle.read_correlation(uuid) IS
    'read_correlation with the correlation id given as a uuid.';


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
    chronicle.read_correlation(text), chronicle.list_streams(text, text, text, int),
    chronicle.list_stream_types(), chronicle.stream_types(), chronicle.reducer(text),
    chronicle.event_type(text, int), chronicle.upcaster(text, int),
    chronicle.export_stream(text, bigint, bigint),
    chronicle.read_all(bigint, int, text, text[]), chronicle.feed_head(),
    chronicle.poll(text, int, int, int), chronicle.state_at(text, bigint, timestamptz),
    chronicle.state_history(text, bigint, bigint), chronicle.diff(jsonb, jsonb),
    chronicle.canonical_json(jsonb), chronicle.current_tenant(),
    -- the same with a uuid for the stream (or correlation) id
    chronicle.read_stream(uuid, bigint, bigint, boolean), chronicle.stream_version(uuid),
    chronicle.read_correlation(uuid), chronicle.export_stream(uuid, bigint, bigint),
    chronicle.state_at(uuid, bigint, timestamptz), chronicle.state_history(uuid, bigint, bigint),
    -- called by the functions above with the caller's rights
    chronicle_internal._reference(text, text, text),
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
    chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, text, text, text, timestamptz, int, bigint),
    chronicle.append_event(uuid, text, jsonb, jsonb, bigint, uuid, text, text, text, text, timestamptz, int, bigint),
    chronicle.append_events(text, jsonb, bigint, text), chronicle.append_events(uuid, jsonb, bigint, text),
    chronicle.import_stream(text, text, text),
    chronicle.ack(text, bigint, int), chronicle_internal._import_batches(text, int, text)
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

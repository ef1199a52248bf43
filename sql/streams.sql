-- Streams: reading them, listing them, exporting and importing them, and
-- the definitions that shape them (the getters; define_* are Rust, in
-- pg_extension/src). Appends and replay are Rust functions too
-- (append.rs, replay.rs); their COMMENTs are beside them.
--
-- Naming rules (README, "Naming rules"): the object acted on comes first
-- (stream_id); a version range is from_version .. to_version, inclusive,
-- to_version NULL meaning the head; a page size is max_count; an argument
-- with a default takes it when passed NULL.

CREATE FUNCTION chronicle.read_stream(
    stream_id text,
    from_version bigint DEFAULT 1,
    to_version bigint DEFAULT NULL,
    upcast boolean DEFAULT false,
    include_archived boolean DEFAULT false
) RETURNS SETOF chronicle.events
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    from_version := coalesce(from_version, 1);
    upcast := coalesce(upcast, false);
    PERFORM chronicle_internal._check_version_range('read_stream', read_stream.stream_id, from_version, to_version);
    -- An archived stream's events are in the archive, read only when asked
    -- for (its stream is either archived or not: the events are in one
    -- table or the other).
    IF coalesce(include_archived, false)
       AND EXISTS (SELECT FROM chronicle.streams s
                    WHERE s.stream_id = read_stream.stream_id AND s.archived_at IS NOT NULL) THEN
        IF upcast THEN
            RETURN QUERY
                SELECT a.global_position, a.event_id, a.stream_id, a.stream_type, a.version,
                       a.event_type, u.schema_version, u.data, a.metadata, a.correlation_id,
                       a.causation_id, a.actor, a.occurred_at, a.recorded_at
                  FROM chronicle.archived_events a,
                       LATERAL chronicle_internal._upcast(a.event_type, a.schema_version, a.data) u
                 WHERE a.stream_id = read_stream.stream_id
                   AND a.version >= from_version
                   AND a.version <= coalesce(to_version, 9223372036854775807)
                 ORDER BY a.version;
        ELSE
            RETURN QUERY
                SELECT a.* FROM chronicle.archived_events a
                 WHERE a.stream_id = read_stream.stream_id
                   AND a.version >= from_version
                   AND a.version <= coalesce(to_version, 9223372036854775807)
                 ORDER BY a.version;
        END IF;
        RETURN;
    END IF;
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
COMMENT ON FUNCTION chronicle.read_stream(text, bigint, bigint, boolean, boolean) IS
    'The events of a stream from from_version to to_version (inclusive; NULL = to the end), ordered by version; no rows for a stream that does not exist (or is archived, unless include_archived => true). With upcast => true, data and schema_version as the upcasters bring them to the newest version.';

CREATE FUNCTION chronicle.stream_version(stream_id text) RETURNS bigint
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

CREATE FUNCTION chronicle.list_streams(
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
    'Streams ordered by id, optionally of one stream_type and/or starting with id_prefix, at most max_count; page with after_stream_id. Deleted streams are listed with their deleted_at (and hard_deleted).';

CREATE FUNCTION chronicle.list_stream_types()
RETURNS TABLE (stream_type text, streams bigint, events bigint, has_reducer boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.stream_type, count(*) FILTER (WHERE s.deleted_at IS NULL),
           coalesce(sum(s.version - s.first_version + 1) FILTER (WHERE s.deleted_at IS NULL), 0)::bigint,
           EXISTS (SELECT FROM chronicle.reducers r WHERE r.stream_type = s.stream_type)
      FROM chronicle.streams s
     GROUP BY s.stream_type
     ORDER BY s.stream_type
$$;
COMMENT ON FUNCTION chronicle.list_stream_types() IS
    'Every stream type with its number of streams and stored events (deleted streams and removed events not counted), and whether a reducer is defined for it.';

-- The getters of the definitions: one definition each, 42704 if there is none.
CREATE FUNCTION chronicle.reducer(stream_type text) RETURNS chronicle.reducers
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

CREATE FUNCTION chronicle.event_type(event_type text, schema_version int DEFAULT NULL)
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

CREATE FUNCTION chronicle.upcaster(event_type text, from_schema_version int)
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

-- A stream as NDJSON: the header line (chronicle_internal._export_header,
-- in Rust: the format is the core's), then one event per line, as
-- read_stream returns them. One snapshot for both (a STABLE function): the
-- header's version is the events' head.
CREATE FUNCTION chronicle.export_stream(
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
          FROM chronicle.read_stream(export_stream.stream_id, from_version, to_version,
                                     include_archived => true) e;
END
$$;
COMMENT ON FUNCTION chronicle.export_stream(text, bigint, bigint) IS
    'A stream as NDJSON lines: a header (stream, version, reducer, upcasters, schemas, export time, Chronicle version), then one event per line with its full envelope. 42704 if the stream does not exist.';

-- An import appended as a new stream (under its own id, or stream_id), in
-- batches of chronicle.max_batch_events, all in the caller's transaction.
-- format: 'chronicle-export' (what export_stream writes, the default) or
-- 'domain-events' (one file of a JSON-lines event store: a
-- DomainEvent.to_dict() per line; the core's jsonl_import module).
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
    version bigint;
BEGIN
    -- An export of a truncated stream starts at its base (created here);
    -- any other import at version 0.
    version := chronicle_internal._import_start(lines, import_stream.stream_id, format);
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
    'Appends the events of an import as a new stream, under its own id or stream_id; returns its version. format: ''chronicle-export'' (the lines of export_stream joined by newlines; the default) or ''domain-events'' (a JSON-lines file of DomainEvent.to_dict() lines: aggregate_id, aggregate_type, event_id, event_type, event_version, execution_id, user_id, occurred_at, data). Event ids, data, metadata and occurrence times are kept; versions follow the order of the lines; recording times and positions are new. An export of a truncated stream keeps its base: the stream starts after it, with the same states.';

-- Monitoring views over the streams (the queries hand-made event stores
-- run by hand, made permanent).
CREATE VIEW chronicle.daily_activity AS
SELECT (e.recorded_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS events,
       count(DISTINCT e.stream_id) AS streams,
       count(DISTINCT e.event_type) AS event_types
  FROM chronicle.events e
 GROUP BY 1;
COMMENT ON VIEW chronicle.daily_activity IS
    'Events, distinct streams and distinct event types recorded per day (UTC). Scans chronicle.events: filter on day, e.g. WHERE day > current_date - 7.';

CREATE VIEW chronicle.stream_activity AS
SELECT s.stream_id, s.stream_type, s.version - s.first_version + 1 AS events, s.first_event_at, s.last_event_at
  FROM chronicle.streams s
 WHERE s.deleted_at IS NULL;
COMMENT ON VIEW chronicle.stream_activity IS
    'Every stream (not deleted) with its number of stored events and first/last recording time, from the stream heads (no scan of the events): ORDER BY events DESC LIMIT 10 gives the most active streams.';

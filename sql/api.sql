-- Chronicle's SQL-language API (reads) and the comments on every function.
-- Runs last in CREATE EXTENSION, after the Rust functions exist.

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
    PERFORM chronicle._check_read_range(read_stream.stream_id, from_version, to_version);
    PERFORM chronicle._require('upcast', upcast IS NOT NULL);
    IF upcast THEN
        RETURN QUERY
            SELECT e.global_position, e.event_id, e.stream_id, e.stream_type, e.version,
                   e.event_type, u.schema_version, u.data, e.metadata, e.correlation_id,
                   e.causation_id, e.actor, e.occurred_at, e.recorded_at
              FROM chronicle.events e,
                   LATERAL chronicle._upcast(e.event_type, e.schema_version, e.data) u
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

CREATE FUNCTION chronicle.stream_version(stream_id text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle._require('stream_id', stream_version.stream_id IS NOT NULL);
    RETURN coalesce((SELECT s.version FROM chronicle.streams s
                      WHERE s.stream_id = stream_version.stream_id), 0);
END
$$;

CREATE FUNCTION chronicle.read_correlation(correlation_id uuid) RETURNS SETOF chronicle.events
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle._require('correlation_id', read_correlation.correlation_id IS NOT NULL);
    RETURN QUERY
        SELECT e.* FROM chronicle.events e
         WHERE e.correlation_id = read_correlation.correlation_id
         ORDER BY e.global_position;
END
$$;

CREATE FUNCTION chronicle.list_streams(
    stream_type text DEFAULT NULL,
    id_prefix text DEFAULT NULL,
    after_stream_id text DEFAULT NULL,
    max_count int DEFAULT 100
) RETURNS SETOF chronicle.streams
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle._check_count('max_count', max_count);
    RETURN QUERY
        SELECT s.* FROM chronicle.streams s
         WHERE (list_streams.stream_type IS NULL OR s.stream_type = list_streams.stream_type)
           AND (id_prefix IS NULL OR starts_with(s.stream_id, id_prefix))
           AND (after_stream_id IS NULL OR s.stream_id > after_stream_id)
         ORDER BY s.stream_id
         LIMIT max_count;
END
$$;

COMMENT ON FUNCTION chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, uuid, uuid, text, timestamptz, int) IS
    'Appends one event to a stream and returns the stream''s new version. expected_version: NULL = any, 0 = the stream must not exist, N = the stream must be at version N (else SQLSTATE 40001). Repeating an append with the same event_id at the same place returns the stored version again.';
COMMENT ON FUNCTION chronicle.append_events(text, jsonb, bigint, text) IS
    'Appends a JSON array of events ({"event_type", "data", ...}) to one stream, all or nothing; returns the version of the last one.';
COMMENT ON FUNCTION chronicle.read_stream(text, bigint, bigint, boolean) IS
    'The events of a stream from from_version to to_version (inclusive; NULL = to the end), ordered by version; with upcast => true, data and schema_version as the upcasters bring them to the newest version.';
COMMENT ON FUNCTION chronicle.stream_version(text) IS
    'The current version of a stream: the version of its last event, 0 if it does not exist.';
COMMENT ON FUNCTION chronicle.read_correlation(uuid) IS
    'Every event with this correlation_id, across streams, in recording order (the seeds'' get_events_by_execution).';
COMMENT ON FUNCTION chronicle.list_streams(text, text, text, int) IS
    'Streams ordered by id, optionally of one stream_type and/or starting with id_prefix; page with after_stream_id.';
COMMENT ON FUNCTION chronicle._check_read_range(text, bigint, bigint) IS
    'Internal: raises Chronicle''s error for bad read_stream arguments.';
COMMENT ON FUNCTION chronicle._require(text, boolean) IS
    'Internal: raises Chronicle''s null_value error (22004) for the field unless present.';
COMMENT ON FUNCTION chronicle._check_count(text, bigint) IS
    'Internal: raises Chronicle''s error for a NULL or negative page size.';
COMMENT ON FUNCTION chronicle.define_reducer(text, jsonb) IS
    'Registers (or replaces) the reducer of a stream type: a JSON definition of how each event type changes the state (see the README). Invalid definitions are refused with SQLSTATE 22023 naming the bad operation.';
COMMENT ON FUNCTION chronicle.state_at(text, bigint, timestamptz) IS
    'The state of a stream after to_version, or after the last event recorded at or before as_of, or at its head; NULL if the stream does not exist. Folds the stream with its type''s reducer (default: merge each event''s data).';
COMMENT ON FUNCTION chronicle.state_history(text, bigint, bigint) IS
    'The state of a stream after each version from from_version to to_version.';
COMMENT ON FUNCTION chronicle.diff(jsonb, jsonb) IS
    'The RFC 6902 JSON Patch that turns a into b (add, remove and replace operations).';
COMMENT ON FUNCTION chronicle.define_event_type(text, jsonb, int) IS
    'Defines (or replaces) the schema that data of an event type and schema version must match at every append (SQLSTATE 23514 naming the JSON path otherwise). Once an event type has schemas, appends must use one of its defined schema versions.';
COMMENT ON FUNCTION chronicle.define_upcaster(text, int, jsonb) IS
    'Defines (or replaces) the declarative steps (rename, move, default, remove) that turn data of an event type from from_schema_version into the next version. Replay and read_stream(upcast => true) apply them; snapshots are dropped.';
COMMENT ON FUNCTION chronicle._upcast(text, int, jsonb) IS
    'Internal: the data of an event upcast to its newest schema version.';

-- Monitoring views (seed 003's queries, made permanent).
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
SELECT s.stream_id, s.stream_type, s.version AS events, s.first_event_at, s.last_event_at
  FROM chronicle.streams s;
COMMENT ON VIEW chronicle.stream_activity IS
    'Every stream with its number of events and first/last recording time, from the stream heads (no scan of the events): ORDER BY events DESC LIMIT 10 gives the most active streams.';

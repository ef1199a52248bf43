-- Stream ids given as uuid. Applications whose aggregate ids are uuids pass
-- them typed (psycopg sends a Python UUID as uuid, not text), and Postgres
-- has no implicit cast from uuid to text: without these, such a call is
-- 42883 "function does not exist". Each takes the same arguments as the
-- function it calls, with stream_id a uuid, and stores it as text in its
-- canonical form (lower-case, hyphenated). A string literal still calls the
-- text form: Postgres prefers text for an untyped literal.

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
    to_version bigint DEFAULT NULL, upcast boolean DEFAULT false,
    include_archived boolean DEFAULT false
) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM chronicle.read_stream(stream_id::text, from_version, to_version, upcast, include_archived)
$$;
COMMENT ON FUNCTION chronicle.read_stream(uuid, bigint, bigint, boolean, boolean) IS
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

-- read_correlation's id given as a uuid: the events whose correlation_id is
-- that uuid (stored as its text since 0.4.0).
CREATE FUNCTION chronicle.read_correlation(correlation_id uuid) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM chronicle.read_correlation(correlation_id::text)
$$;
COMMENT ON FUNCTION chronicle.read_correlation(uuid) IS
    'read_correlation with the correlation id given as a uuid.';

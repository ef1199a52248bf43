-- Deprecated names and signatures of 0.2.0, kept for one release so that
-- 0.2.0 callers do not break (see the CHANGELOG); each calls its
-- replacement. Kept in 0.4.0 too; 0.5.0 drops them.

CREATE FUNCTION chronicle.stream_types()
RETURNS TABLE (stream_type text, streams bigint, events numeric, has_reducer boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.stream_type, t.streams, t.events::numeric, t.has_reducer
      FROM chronicle.list_stream_types() t
$$;
COMMENT ON FUNCTION chronicle.stream_types() IS
    'Deprecated (0.3.0): use chronicle.list_stream_types(), whose events column is bigint.';

-- seal(max_events bigint): without a default now, so that seal() calls the
-- new seal(max_count int).
CREATE FUNCTION chronicle.seal(max_events bigint) RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.seal(CASE WHEN chronicle_internal._check_count('seal', 'max_events', max_events)
                                    AND max_events <= 2147483647 THEN max_events::int END)
$$;
COMMENT ON FUNCTION chronicle.seal(bigint) IS
    'Deprecated (0.3.0): use chronicle.seal(max_count int).';

-- define_event_type(event_type, schema, schema_version): the definition
-- now follows the key it is defined for (event_type, schema_version).
CREATE FUNCTION chronicle.define_event_type(event_type text, schema jsonb, schema_version int DEFAULT 1)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT chronicle.define_event_type(event_type, coalesce(schema_version, 1), schema)
$$;
COMMENT ON FUNCTION chronicle.define_event_type(text, jsonb, int) IS
    'Deprecated (0.3.0): use chronicle.define_event_type(event_type, schema_version, definition).';

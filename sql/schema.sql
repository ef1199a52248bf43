-- Chronicle storage: the events table, the stream heads, and the guard that
-- keeps history append-only. Runs first in CREATE EXTENSION (before the
-- functions pgrx generates from the Rust code).

-- A plain sequence (not an identity column) so that pg_dump can be told to dump
-- its value along with the rows.
CREATE SEQUENCE chronicle.events_global_position_seq AS bigint;

-- Every event, in the envelope of ../shared/design.md.
CREATE TABLE chronicle.events (
    global_position bigint      NOT NULL DEFAULT pg_catalog.nextval('chronicle.events_global_position_seq'),
    event_id        uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL CHECK (version >= 1),
    event_type      text        NOT NULL,
    schema_version  int         NOT NULL DEFAULT 1 CHECK (schema_version >= 1),
    data            jsonb       NOT NULL CHECK (pg_catalog.jsonb_typeof(data) OPERATOR(pg_catalog.=) 'object'),
    metadata        jsonb       NOT NULL DEFAULT '{}' CHECK (pg_catalog.jsonb_typeof(metadata) OPERATOR(pg_catalog.=) 'object'),
    correlation_id  uuid,
    causation_id    uuid,
    actor           text,
    occurred_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    recorded_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT events_pkey PRIMARY KEY (global_position),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    -- Versions are unique per stream (the seeds' ix_events_aggregate_unique_sequence);
    -- the append path makes them gap-free.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

-- The seeds' query indexes.
CREATE INDEX events_stream_type_time_idx ON chronicle.events (stream_type, occurred_at);
CREATE INDEX events_event_type_time_idx ON chronicle.events (event_type, occurred_at);
CREATE INDEX events_correlation_idx ON chronicle.events (correlation_id, global_position)
    WHERE correlation_id IS NOT NULL;

COMMENT ON TABLE chronicle.events IS
    'Every event ever appended, append-only: UPDATE, DELETE and TRUNCATE are refused. Write with chronicle.append_event / chronicle.append_events.';
COMMENT ON COLUMN chronicle.events.global_position IS
    'Position in the whole store, increasing in append order (may have gaps where a transaction rolled back).';
COMMENT ON COLUMN chronicle.events.event_id IS 'Unique id of the event; the key of idempotent retries.';
COMMENT ON COLUMN chronicle.events.stream_id IS 'The stream (aggregate instance) the event belongs to.';
COMMENT ON COLUMN chronicle.events.stream_type IS 'The stream''s type (aggregate type / category), fixed when the stream is created.';
COMMENT ON COLUMN chronicle.events.version IS 'Position in the stream: 1, 2, 3, ... without gaps.';
COMMENT ON COLUMN chronicle.events.event_type IS 'What happened, e.g. OrderCreated.';
COMMENT ON COLUMN chronicle.events.schema_version IS 'Version of the event type''s schema the data follows (for upcasting).';
COMMENT ON COLUMN chronicle.events.data IS 'The event''s payload, a JSON object.';
COMMENT ON COLUMN chronicle.events.metadata IS 'Data about the event (not part of the domain), a JSON object.';
COMMENT ON COLUMN chronicle.events.correlation_id IS 'Ties together the events of one workflow or request (the seeds'' execution_id).';
COMMENT ON COLUMN chronicle.events.causation_id IS 'The event or command that caused this event.';
COMMENT ON COLUMN chronicle.events.actor IS 'Who caused the event (the seeds'' user_id).';
COMMENT ON COLUMN chronicle.events.occurred_at IS 'When it happened, as the application says (defaults to recorded_at).';
COMMENT ON COLUMN chronicle.events.recorded_at IS 'When the appending transaction started.';

-- One row per stream: its head. The append path locks the stream, reads its
-- head here and writes the new version together with the events.
CREATE TABLE chronicle.streams (
    stream_id      text        NOT NULL,
    stream_type    text        NOT NULL,
    version        bigint      NOT NULL CHECK (version >= 1),
    first_event_at timestamptz NOT NULL,
    last_event_at  timestamptz NOT NULL,
    CONSTRAINT streams_pkey PRIMARY KEY (stream_id)
) WITH (fillfactor = 70);

CREATE INDEX streams_type_idx ON chronicle.streams (stream_type, stream_id);

COMMENT ON TABLE chronicle.streams IS
    'One row per stream: its type, current version and the recording times of its first and last events. Maintained by the append functions.';
COMMENT ON COLUMN chronicle.streams.version IS 'The stream''s current version: the version of its last event.';
COMMENT ON COLUMN chronicle.streams.first_event_at IS 'recorded_at of the stream''s first event.';
COMMENT ON COLUMN chronicle.streams.last_event_at IS 'recorded_at of the stream''s last event.';

-- pg_dump dumps the rows of extension tables only when told to.
SELECT pg_catalog.pg_extension_config_dump('chronicle.events', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.streams', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.events_global_position_seq', '');
ALTER SEQUENCE chronicle.events_global_position_seq OWNED BY chronicle.events.global_position;

-- The append-only guard.
CREATE FUNCTION chronicle._refuse_history_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = 'Chronicle never changes or removes a recorded event.',
              HINT = 'Append a new event that corrects or reverses the old one.';
END
$$;
COMMENT ON FUNCTION chronicle._refuse_history_change() IS
    'Trigger function: refuses UPDATE, DELETE and TRUNCATE on chronicle.events (SQLSTATE 55000).';

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON chronicle.events
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle._refuse_history_change();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON chronicle.events
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle._refuse_history_change();
-- ALWAYS: the guard holds even with session_replication_role = replica.
ALTER TABLE chronicle.events ENABLE ALWAYS TRIGGER events_append_only;
ALTER TABLE chronicle.events ENABLE ALWAYS TRIGGER events_no_truncate;

-- Reducer definitions, one per stream type (see chronicle.define_reducer).
CREATE TABLE chronicle.reducers (
    stream_type text        NOT NULL,
    definition  jsonb       NOT NULL,
    revision    int         NOT NULL,
    defined_at  timestamptz NOT NULL,
    CONSTRAINT reducers_pkey PRIMARY KEY (stream_type)
);
COMMENT ON TABLE chronicle.reducers IS
    'The reducer definition of each stream type: how its events change the state that chronicle.state_at returns. Write with chronicle.define_reducer.';
COMMENT ON COLUMN chronicle.reducers.revision IS 'Counts the definitions of this stream type: 1 for the first, +1 for each replacement.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.reducers', '');

-- Snapshots: a cache of states, written by chronicle.state_at every
-- chronicle.snapshot_every versions. Not dumped: they are rebuilt on demand.
CREATE TABLE chronicle.snapshots (
    stream_id        text        NOT NULL,
    version          bigint      NOT NULL,
    stream_type      text        NOT NULL,
    reducer_revision int         NOT NULL,
    upcasters_fingerprint bigint NOT NULL,
    state            jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT snapshots_pkey PRIMARY KEY (stream_id, version, reducer_revision, upcasters_fingerprint)
);
CREATE INDEX snapshots_type_idx ON chronicle.snapshots (stream_type);
COMMENT ON TABLE chronicle.snapshots IS
    'Cached states of streams (a cache: deleting rows never changes an answer). state_at starts from the newest one at or below its target that was made with the current reducer revision.';
COMMENT ON COLUMN chronicle.snapshots.reducer_revision IS 'chronicle.reducers.revision the state was folded with (0: the default merge).';
COMMENT ON COLUMN chronicle.snapshots.upcasters_fingerprint IS 'A fingerprint of the upcasters the state was folded with; a snapshot is used only while they are the same.';

-- Event schemas, per event type and schema version (see chronicle.define_event_type).
CREATE TABLE chronicle.event_types (
    event_type     text        NOT NULL,
    schema_version int         NOT NULL CHECK (schema_version >= 1),
    schema         jsonb       NOT NULL,
    defined_at     timestamptz NOT NULL,
    CONSTRAINT event_types_pkey PRIMARY KEY (event_type, schema_version)
);
COMMENT ON TABLE chronicle.event_types IS
    'The schema (a subset of JSON Schema) that data of each event type and schema version must match at append. Write with chronicle.define_event_type.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.event_types', '');

-- Upcasters: the steps that turn an event type's data from one schema version
-- into the next (see chronicle.define_upcaster).
CREATE TABLE chronicle.upcasters (
    event_type          text        NOT NULL,
    from_schema_version int         NOT NULL CHECK (from_schema_version >= 1),
    steps               jsonb       NOT NULL,
    defined_at          timestamptz NOT NULL,
    CONSTRAINT upcasters_pkey PRIMARY KEY (event_type, from_schema_version)
);
COMMENT ON TABLE chronicle.upcasters IS
    'Declarative steps that turn data of an event type from from_schema_version into the next version; replay applies them before reducing. Write with chronicle.define_upcaster.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.upcasters', '');

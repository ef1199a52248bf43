-- Chronicle storage: the events table, the stream heads, and the guard that
-- keeps history append-only. Runs first in CREATE EXTENSION (before the
-- functions pgrx generates from the Rust code).

-- The public API lives in schema chronicle (the extension's schema); the
-- helpers its SQL calls live here, out of the way of \df chronicle.*.
CREATE SCHEMA chronicle_internal;
COMMENT ON SCHEMA chronicle_internal IS
    'Chronicle''s internal helpers: called by the functions in schema chronicle, not meant to be called directly.';

-- The internal id of each stored event: increasing in insertion order (with
-- gaps). A plain sequence (not an identity column) so that pg_dump can be
-- told to dump its value along with the rows. CACHE 1 (the default) keeps it
-- increasing across sessions, which the feed's order relies on.
CREATE SEQUENCE chronicle.event_log_id_seq AS bigint;

-- Every event, in its envelope (see the README's Concepts), as stored. Read it
-- through the view chronicle.events, which adds the dense global_position.
-- No CHECK constraints on the hot tables (this one and chronicle.streams):
-- every write path validates in the core first (versions from 1, a
-- schema_version from 1, data and metadata JSON objects), nobody but the
-- owner may write them, and Postgres parses each CHECK's stored expression
-- again at every statement: the five cost 11 % of an append's instructions.
CREATE TABLE chronicle.event_log (
    id              bigint      NOT NULL DEFAULT pg_catalog.nextval('chronicle.event_log_id_seq'),
    -- The feed's order key: the appending transaction's id, raised to the
    -- key of the stream's previous event when that one is higher, so that a
    -- stream's events enter the feed in version order. An event is sealed
    -- (gets its global_position) once its key is below the oldest running
    -- transaction: no event with a smaller key can commit after that.
    seal_key        xid8        NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    event_id        uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL,
    event_type      text        NOT NULL,
    schema_version  int         NOT NULL DEFAULT 1,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}',
    -- Any id a workflow uses (an execution id, a request id, a uuid), as
    -- the core's identifier::reference stores it (a uuid lower-case and
    -- hyphenated); text since 0.4.0, uuid before.
    correlation_id  text,
    causation_id    text,
    actor           text,
    occurred_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    recorded_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The stream's tenant (chronicle.tenant when the stream was created; ''
    -- for none). Row-level security shows a role only its tenant's rows.
    tenant          text        NOT NULL DEFAULT '',
    -- Personal data (0.7.0 on, chronicle.define_personal_data): the key the
    -- event's personal members are sealed with (a key_id of
    -- chronicle_internal.subject_keys; NULL: the event has none) and the
    -- pointers of the members sealed, each holding {"$sealed": ...}.
    personal_key    uuid,
    personal_paths  text[],
    -- The key is the feed's order: the sealer scans it from its horizon on,
    -- and the feed refers to events by it.
    CONSTRAINT event_log_pkey PRIMARY KEY (seal_key, id),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    -- Versions are unique per stream (an aggregate's sequence numbers);
    -- the append path makes them gap-free.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

-- The indexes of the queries event stores run: by stream type, by event
-- type (each over time) and by correlation.
CREATE INDEX events_stream_type_time_idx ON chronicle.event_log (stream_type, occurred_at);
CREATE INDEX events_event_type_time_idx ON chronicle.event_log (event_type, occurred_at);
CREATE INDEX events_correlation_idx ON chronicle.event_log (correlation_id, id)
    WHERE correlation_id IS NOT NULL;
-- The events sealed with a subject's key: what chronicle.forget_subject
-- counts.
CREATE INDEX events_personal_key_idx ON chronicle.event_log (personal_key)
    WHERE personal_key IS NOT NULL;

COMMENT ON TABLE chronicle.event_log IS
    'Every event ever appended, as stored; append-only: UPDATE, DELETE and TRUNCATE are refused. Read chronicle.events (which adds global_position); write with chronicle.append_event / chronicle.append_events.';
COMMENT ON COLUMN chronicle.event_log.id IS 'Internal id, increasing in insertion order (with gaps); with seal_key, the key the feed refers to events by.';
COMMENT ON COLUMN chronicle.event_log.tenant IS
    'The stream''s tenant (chronicle.tenant of the session that created the stream; '''' for none).';
COMMENT ON COLUMN chronicle.event_log.personal_key IS
    'The key (chronicle_internal.subject_keys.key_id) the event''s personal members are sealed with, NULL for an event without personal data (chronicle.define_personal_data). Once chronicle.forget_subject destroyed the key, those members read as {"erased": true}.';
COMMENT ON COLUMN chronicle.event_log.personal_paths IS
    'The pointers of the event''s sealed personal members (/email: a member of data, /metadata/ip: of metadata), each stored as {"$sealed": "<base64 of nonce and ciphertext>"}; chronicle.events shows them opened.';
COMMENT ON COLUMN chronicle.event_log.seal_key IS
    'The feed''s order key: the appending transaction''s id, raised to the feed floor when the transaction started appending (chronicle.feed_floor) and to the key of the stream''s previous event when those are higher. Events are sealed in (seal_key, id) order once no transaction that could still append an event with a smaller key is running.';

-- The global feed: dense positions 1, 2, 3, ... handed out by the sealer
-- (chronicle.seal) in (seal_key, id) order, in chunks: a row gives positions
-- first_position, first_position + 1, ... to the events (keys[i], ids[i]) of
-- chronicle.event_log, at most 128 of them. One row per chunk instead of one
-- per event makes sealing cheap (two index entries per 128 events). An era is
-- a run of positions sealed in (seal_key, id) order: era 0 until a restore
-- into another cluster, whose transaction ids start again (see feed.rs).
-- Insert-only.
CREATE TABLE chronicle.feed (
    first_position bigint   NOT NULL CHECK (first_position >= 1),
    era            int      NOT NULL DEFAULT 0 CHECK (era >= 0),
    first_key      xid8     NOT NULL,
    first_id       bigint   NOT NULL,
    keys           xid8[]   NOT NULL,
    ids            bigint[] NOT NULL,
    CHECK (pg_catalog.cardinality(keys) OPERATOR(pg_catalog.=) pg_catalog.cardinality(ids)
           AND pg_catalog.cardinality(ids) BETWEEN 1 AND 128),
    CONSTRAINT feed_pkey PRIMARY KEY (first_position),
    -- A sealed event's chunk: the last one of its era starting at or before it.
    CONSTRAINT feed_start_key UNIQUE (era, first_key, first_id)
)
-- A full chunk is about 2.1 kB: stored as it is, not compressed (pglz took a
-- quarter of the CPU of retention, which rewrites chunks, and some of every
-- seal's), for about 8 bytes more per event.
WITH (toast_tuple_target = 4096);
COMMENT ON TABLE chronicle.feed IS
    'The global feed in chunks: positions first_position, first_position + 1, ... belong to the events (keys[i], ids[i]) of chronicle.event_log (its key (seal_key, id)). Written only by the sealer; append-only.';

-- The sealer's state: one row, created by CREATE EXTENSION. No key: a
-- restore adds the dumped row to the new installation's, and the next seal
-- merges them (re-basing the horizon if the dump came from another cluster).
CREATE TABLE chronicle.feed_state (
    system_identifier bigint      NOT NULL,
    -- Every committed event before (horizon, after_id) in (seal_key, id)
    -- order is sealed, none after it ...
    horizon           xid8        NOT NULL,
    after_id          bigint      NOT NULL DEFAULT 0,
    -- ... among the events of the current era: those with id >= first_id
    -- (after a re-base, every older event is sealed).
    era               int         NOT NULL DEFAULT 0,
    first_id          bigint      NOT NULL DEFAULT 0,
    position          bigint      NOT NULL CHECK (position >= 0),
    sealed_at         timestamptz
);
COMMENT ON TABLE chronicle.feed_state IS
    'The sealer''s state: the last position handed out, and the horizon below which every committed event is sealed. The horizon is a transaction id of the cluster named by system_identifier; in another cluster (after pg_dump/pg_restore) the sealer re-bases it.';

-- The feed floor: a transaction id below which no new event's key may fall
-- (see pg_extension/src/seal_bound.rs). A sequence because it must be read
-- and written outside transactions: an appender reads its latest value
-- whatever its snapshot, and the sealer raises it without committing.
-- Not dumped: in another cluster transaction ids start again, and the
-- re-base (seal.rs) starts the floor again from 0.
CREATE SEQUENCE chronicle.feed_floor AS bigint MINVALUE 0 START 0 NO CYCLE;
COMMENT ON SEQUENCE chronicle.feed_floor IS
    'Internal: the sealer''s published transaction-id floor; an event appended by a transaction that starts appending later gets a seal_key at least this high.';

-- A personal member of an event opened for its reader (0.7.0 on,
-- pg_extension/src/personal.rs): the event's data or metadata (part) with
-- its sealed members opened with the subject's key, or erased once the key
-- is gone. Every read of events (the views below, the feed, replay, export)
-- shows the log's data and metadata through it.
CREATE FUNCTION chronicle_internal._reveal(member jsonb, part text, event_id uuid, personal_key uuid, personal_paths text[])
RETURNS jsonb
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'reveal_wrapper';
COMMENT ON FUNCTION chronicle_internal._reveal(jsonb, text, uuid, uuid, text[]) IS
    'Internal: an event''s data or metadata (part) with its sealed personal members opened with the subject''s key, or {"erased": true} once chronicle.forget_subject destroyed it.';

-- Every event with its place in the global feed: the position is looked up
-- in the chunk of each era that could hold the event (a scalar subquery, so
-- that queries that do not read global_position do not pay for it).
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
       e.event_id, e.stream_id, e.stream_type, e.version, e.event_type, e.schema_version,
       CASE WHEN e.personal_key IS NULL THEN e.data
            ELSE chronicle_internal._reveal(e.data, 'data', e.event_id, e.personal_key, e.personal_paths) END AS data,
       CASE WHEN e.personal_key IS NULL THEN e.metadata
            ELSE chronicle_internal._reveal(e.metadata, 'metadata', e.event_id, e.personal_key, e.personal_paths) END AS metadata,
       e.correlation_id, e.causation_id, e.actor, e.occurred_at, e.recorded_at
  FROM chronicle.event_log e;

COMMENT ON VIEW chronicle.events IS
    'Every event ever appended, with its global_position once sealed. Append-only: write with chronicle.append_event / chronicle.append_events.';
COMMENT ON COLUMN chronicle.events.global_position IS
    'Position in the global feed: 1, 2, 3, ... without gaps, in an order no later commit can change. NULL for the moment between commit and sealing (milliseconds).';
COMMENT ON COLUMN chronicle.events.event_id IS 'Unique id of the event; the key of idempotent retries.';
COMMENT ON COLUMN chronicle.events.stream_id IS 'The stream (aggregate instance) the event belongs to.';
COMMENT ON COLUMN chronicle.events.stream_type IS 'The stream''s type (aggregate type / category), fixed when the stream is created.';
COMMENT ON COLUMN chronicle.events.version IS 'Position in the stream: 1, 2, 3, ... without gaps (from chronicle.streams.first_version on, once events were removed). Negative for the events a removal leaves ($StreamDeleted, $StreamTruncated: -1, -2, ...), which no read of the stream returns.';
COMMENT ON COLUMN chronicle.events.event_type IS 'What happened, e.g. OrderCreated.';
COMMENT ON COLUMN chronicle.events.schema_version IS 'Version of the event type''s schema the data follows (for upcasting).';
COMMENT ON COLUMN chronicle.events.data IS 'The event''s payload, a JSON object.';
COMMENT ON COLUMN chronicle.events.metadata IS 'Data about the event (not part of the domain), a JSON object.';
COMMENT ON COLUMN chronicle.events.correlation_id IS 'Ties together the events of one workflow or request: an execution id, a request id, a uuid (stored lower-case and hyphenated).';
COMMENT ON COLUMN chronicle.events.causation_id IS 'The id of the event or command that caused this event (any id, as correlation_id).';
COMMENT ON COLUMN chronicle.events.actor IS 'Who caused the event (a user id).';
COMMENT ON COLUMN chronicle.events.occurred_at IS 'When it happened, as the application says (defaults to recorded_at).';
COMMENT ON COLUMN chronicle.events.recorded_at IS 'When the appending transaction started.';

-- One row per stream: its head. The append path locks the stream, reads its
-- head here and writes the new version together with the events.
CREATE TABLE chronicle.streams (
    stream_id      text        NOT NULL,
    stream_type    text        NOT NULL,
    version        bigint      NOT NULL,
    -- seal_key of the stream's last event (see chronicle.event_log.seal_key).
    seal_key       xid8        NOT NULL DEFAULT '0',
    first_event_at timestamptz NOT NULL,
    last_event_at  timestamptz NOT NULL,
    tenant         text        NOT NULL DEFAULT '',
    -- The lifecycle (0.6.0): the first version still stored (1; after a
    -- truncation its before_version; after a deletion version + 1), and
    -- whether (and when) the stream was deleted, for good or not.
    first_version  bigint      NOT NULL DEFAULT 1,
    deleted_at     timestamptz,
    hard_deleted   boolean     NOT NULL DEFAULT false,
    archived_at    timestamptz,
    CONSTRAINT streams_pkey PRIMARY KEY (stream_id)
) WITH (fillfactor = 70);

CREATE INDEX streams_type_idx ON chronicle.streams (stream_type, stream_id);

COMMENT ON TABLE chronicle.streams IS
    'One row per stream: its type, current version and the recording times of its first and last events. Maintained by the append functions.';
COMMENT ON COLUMN chronicle.streams.version IS 'The stream''s current version: the version of its last event.';
COMMENT ON COLUMN chronicle.streams.first_event_at IS 'recorded_at of the stream''s first event.';
COMMENT ON COLUMN chronicle.streams.last_event_at IS 'recorded_at of the stream''s last event.';
COMMENT ON COLUMN chronicle.streams.tenant IS
    'The tenant that owns the stream (chronicle.tenant of the session that created it; '''' for none). Stream ids are shared by all tenants.';
COMMENT ON COLUMN chronicle.streams.first_version IS
    'The first version still stored: 1, the before_version of chronicle.truncate_stream (or retention), or version + 1 after chronicle.delete_stream.';
COMMENT ON COLUMN chronicle.streams.deleted_at IS
    'When chronicle.delete_stream deleted the stream (NULL: not deleted, or written again since).';
COMMENT ON COLUMN chronicle.streams.hard_deleted IS
    'Deleted with hard => true: the stream id can never be written again.';
COMMENT ON COLUMN chronicle.streams.archived_at IS
    'When chronicle.archive_stream moved the stream''s events to chronicle.event_archive (NULL: not archived).';

-- pg_dump dumps the rows of extension tables only when told to.
SELECT pg_catalog.pg_extension_config_dump('chronicle.event_log', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.streams', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.event_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.feed', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.feed_state', '');
ALTER SEQUENCE chronicle.event_log_id_seq OWNED BY chronicle.event_log.id;

-- The append-only guard.
CREATE FUNCTION chronicle_internal._refuse_history_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A lifecycle function removing events: it deletes them from the log
    -- and blanks their entries in the feed's chunks, nothing else.
    IF ((TG_OP = 'DELETE' AND TG_TABLE_NAME = 'event_log') OR (TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'feed'))
       AND chronicle_internal._lifecycle_running() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'events are written only by chronicle.append_event and chronicle.append_events'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'chronicle.events is a view: the log, the stream heads and the feed are kept together by the append functions.',
                  HINT = 'Call chronicle.append_event or chronicle.append_events.';
    END IF;
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = 'Chronicle never changes or removes a recorded event.',
              HINT = 'Append a new event that corrects or reverses the old one.';
END
$$;
COMMENT ON FUNCTION chronicle_internal._refuse_history_change() IS
    'Trigger function: refuses UPDATE, DELETE and TRUNCATE on chronicle.event_log and chronicle.feed, and writes through the view chronicle.events (SQLSTATE 55000); only the lifecycle functions remove events (chronicle.delete_stream, chronicle.truncate_stream, retention).';

-- The lifecycle functions (chronicle.delete_stream, truncate_stream and
-- retention: pg_extension/src/lifecycle.rs) are the one way to remove
-- events: while one runs, _lifecycle_running() is true in its session and
-- the guard lets its own statements through.
CREATE FUNCTION chronicle_internal._lifecycle_running() RETURNS boolean
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'lifecycle_running_wrapper';
COMMENT ON FUNCTION chronicle_internal._lifecycle_running() IS
    'Internal: whether a lifecycle function (delete_stream, truncate_stream, retention) is removing events in this session.';

CREATE TRIGGER event_log_append_only
    BEFORE UPDATE OR DELETE ON chronicle.event_log
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
CREATE TRIGGER event_log_no_truncate
    BEFORE TRUNCATE ON chronicle.event_log
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
CREATE TRIGGER feed_append_only
    BEFORE UPDATE OR DELETE ON chronicle.feed
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
CREATE TRIGGER feed_no_truncate
    BEFORE TRUNCATE ON chronicle.feed
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
CREATE TRIGGER events_append_only
    INSTEAD OF INSERT OR UPDATE OR DELETE ON chronicle.events
    FOR EACH ROW EXECUTE FUNCTION chronicle_internal._refuse_history_change();
-- ALWAYS: the guard holds even with session_replication_role = replica.
ALTER TABLE chronicle.event_log ENABLE ALWAYS TRIGGER event_log_append_only;
ALTER TABLE chronicle.event_log ENABLE ALWAYS TRIGGER event_log_no_truncate;
ALTER TABLE chronicle.feed ENABLE ALWAYS TRIGGER feed_append_only;
ALTER TABLE chronicle.feed ENABLE ALWAYS TRIGGER feed_no_truncate;

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

-- The base of a truncated stream (0.6.0): its state at the version just
-- before the first event still stored, kept when chronicle.truncate_stream
-- (or retention) removed the events before it. state_at and state_history
-- fold from it. Unlike a snapshot it is data, not a cache: it is dumped, and
-- a new reducer revision continues from it (the events it sums up are gone).
CREATE TABLE chronicle.stream_bases (
    stream_id             text        NOT NULL,
    version               bigint      NOT NULL,
    state                 jsonb       NOT NULL,
    recorded_at           timestamptz NOT NULL,
    reducer_revision      int         NOT NULL,
    upcasters_fingerprint bigint      NOT NULL,
    tenant                text        NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- Personal data (0.7.0 on): a base folded from personal members is
    -- stored twice, neither in plaintext: in state with every personal
    -- member erased, and sealed whole with a key derived from its subjects'
    -- keys (personal_keys), which opens while none of them is forgotten.
    personal_state        text,
    personal_keys         uuid[],
    CONSTRAINT stream_bases_pkey PRIMARY KEY (stream_id)
);
COMMENT ON TABLE chronicle.stream_bases IS
    'The base state of each truncated stream: its state at version, the version before its first stored event, folded when chronicle.truncate_stream or retention removed the events up to it. Written by those functions only.';
COMMENT ON COLUMN chronicle.stream_bases.version IS 'The version the state is at: chronicle.streams.first_version - 1.';
COMMENT ON COLUMN chronicle.stream_bases.recorded_at IS 'recorded_at of the (removed) event at version: state_at(as_of => ...) before it is refused.';
COMMENT ON COLUMN chronicle.stream_bases.reducer_revision IS 'The reducer revision the state was folded with (0: the default merge); a later revision continues from it.';
COMMENT ON COLUMN chronicle.stream_bases.personal_state IS
    'A base folded from personal members (chronicle.define_personal_data), sealed with a key derived from personal_keys; state_at starts from it while none of those subjects is forgotten, and from state (the same fold with every personal member erased) after.';
COMMENT ON COLUMN chronicle.stream_bases.personal_keys IS
    'The keys (chronicle_internal.subject_keys.key_id) of the subjects whose personal members the base was folded from, in the order its key is derived from.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.stream_bases', '');

-- Retention rules (0.6.0), per stream type: keep the last max_count events
-- of each stream and those recorded within max_age (see
-- chronicle.set_retention; the sealer worker applies them).
CREATE TABLE chronicle.retention_rules (
    stream_type text        NOT NULL,
    max_age     interval,
    max_count   bigint      CHECK (max_count >= 1),
    defined_at  timestamptz NOT NULL,
    CONSTRAINT retention_rules_pkey PRIMARY KEY (stream_type),
    CHECK (max_age IS NOT NULL OR max_count IS NOT NULL)
);
COMMENT ON TABLE chronicle.retention_rules IS
    'The retention rule of each stream type: keep the last max_count events of each stream and those recorded within max_age. Write with chronicle.set_retention.';
COMMENT ON COLUMN chronicle.retention_rules.max_age IS 'Events recorded longer ago than this are removed (NULL: no age limit).';
COMMENT ON COLUMN chronicle.retention_rules.max_count IS 'Each stream keeps at most this many of its last events (NULL: no count limit).';
SELECT pg_catalog.pg_extension_config_dump('chronicle.retention_rules', '');

-- Archived streams' events (0.6.0): moved here from chronicle.event_log by
-- chronicle.archive_stream, unchanged (same key, so the feed's chunks still
-- point at them), and back by chronicle.restore_stream. A table of its own,
-- which a DBA can put in another tablespace.
-- The columns of chronicle.event_log, in its order (spelled out rather than
-- LIKE, which on PostgreSQL 18 would name the NOT NULL constraints after
-- event_log's, unlike a table pg_upgraded from an older major).
CREATE TABLE chronicle.event_archive (
    id              bigint      NOT NULL,
    seal_key        xid8        NOT NULL,
    event_id        uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL,
    event_type      text        NOT NULL,
    schema_version  int         NOT NULL,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    correlation_id  text,
    causation_id    text,
    actor           text,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    tenant          text        NOT NULL,
    personal_key    uuid,
    personal_paths  text[],
    CONSTRAINT event_archive_pkey PRIMARY KEY (seal_key, id),
    CONSTRAINT event_archive_stream_version_key UNIQUE (stream_id, version)
);
COMMENT ON TABLE chronicle.event_archive IS
    'The events of archived streams (chronicle.archive_stream), as they were in chronicle.event_log; read with read_stream(..., include_archived => true) or export_stream, brought back with chronicle.restore_stream. Written by those functions only.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.event_archive', '');

-- Every lifecycle operation (0.6.0): who removed which versions of which
-- stream, when and why. Append-only, like the log.
CREATE SEQUENCE chronicle.lifecycle_log_id_seq AS bigint;
CREATE TABLE chronicle.lifecycle_log (
    id           bigint      NOT NULL DEFAULT pg_catalog.nextval('chronicle.lifecycle_log_id_seq'),
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    operation    text        NOT NULL
                 CHECK (operation IN ('delete', 'hard_delete', 'truncate', 'retention', 'archive', 'restore')),
    stream_id    text        NOT NULL,
    stream_type  text        NOT NULL,
    from_version bigint      NOT NULL,
    to_version   bigint      NOT NULL,
    events       bigint      NOT NULL CHECK (events >= 0),
    reason       text,
    performed_by text        NOT NULL,
    tenant       text        NOT NULL DEFAULT '',
    event_id     uuid,
    CONSTRAINT lifecycle_log_pkey PRIMARY KEY (id)
);
ALTER SEQUENCE chronicle.lifecycle_log_id_seq OWNED BY chronicle.lifecycle_log.id;
CREATE INDEX lifecycle_log_stream_idx ON chronicle.lifecycle_log (stream_id, id);
COMMENT ON TABLE chronicle.lifecycle_log IS
    'Every lifecycle operation: the versions from_version .. to_version of a stream removed by chronicle.delete_stream, chronicle.truncate_stream or retention, by whom, when and why. Append-only; readable by chronicle_admin.';
COMMENT ON COLUMN chronicle.lifecycle_log.operation IS 'delete, hard_delete (delete_stream with hard => true), truncate, retention, archive or restore.';
COMMENT ON COLUMN chronicle.lifecycle_log.events IS 'How many events it removed, archived or restored (0: a deleted stream deleted again, or made hard).';
COMMENT ON COLUMN chronicle.lifecycle_log.event_id IS 'The event a removal left in the stream and the feed ($StreamDeleted or $StreamTruncated, with a negative version; the stream''s next removal supersedes and removes it); NULL for archive and restore, which remove nothing.';
COMMENT ON COLUMN chronicle.lifecycle_log.performed_by IS 'The role that called the function (after SET ROLE; the background worker for retention).';
SELECT pg_catalog.pg_extension_config_dump('chronicle.lifecycle_log', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.lifecycle_log_id_seq', '');
CREATE TRIGGER lifecycle_log_append_only
    BEFORE UPDATE OR DELETE ON chronicle.lifecycle_log
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
CREATE TRIGGER lifecycle_log_no_truncate
    BEFORE TRUNCATE ON chronicle.lifecycle_log
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
ALTER TABLE chronicle.lifecycle_log ENABLE ALWAYS TRIGGER lifecycle_log_append_only;
ALTER TABLE chronicle.lifecycle_log ENABLE ALWAYS TRIGGER lifecycle_log_no_truncate;

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

-- Subscriptions: named, filtered followers of the global feed with their
-- checkpoints (a projection's checkpoint). See chronicle.create_subscription.
CREATE TABLE chronicle.subscriptions (
    name              text        NOT NULL,
    stream_type       text,
    event_types       text[],
    status            text        NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'paused', 'rebuilding', 'failed')),
    last_position     bigint      NOT NULL DEFAULT 0 CHECK (last_position >= 0),
    last_event_id     uuid,
    last_processed_at timestamptz,
    events_processed  bigint      NOT NULL DEFAULT 0,
    error_message     text,
    consumers         int         NOT NULL DEFAULT 1 CHECK (consumers >= 1),
    rebuild_target    bigint,
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    tenant            text        NOT NULL DEFAULT '',
    CONSTRAINT subscriptions_pkey PRIMARY KEY (name)
);
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
SELECT pg_catalog.pg_extension_config_dump('chronicle.subscriptions', '');

-- One checkpoint per consumer of a subscription's group.
CREATE TABLE chronicle.subscription_consumers (
    subscription      text        NOT NULL REFERENCES chronicle.subscriptions (name) ON DELETE CASCADE,
    consumer          int         NOT NULL CHECK (consumer >= 0),
    position          bigint      NOT NULL CHECK (position >= 0),
    last_event_id     uuid,
    last_processed_at timestamptz,
    events_processed  bigint      NOT NULL DEFAULT 0,
    CONSTRAINT subscription_consumers_pkey PRIMARY KEY (subscription, consumer)
);
COMMENT ON TABLE chronicle.subscription_consumers IS
    'The checkpoint of each consumer k of a subscription''s group: consumer k of n receives the streams whose hash mod n is k.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.subscription_consumers', '');

-- Personal data (0.7.0 on; pg_extension/src/personal.rs): which members of
-- which event types are personal, the data subjects' keys, and the audit of
-- erasures. See the README, "Personal data".
CREATE TABLE chronicle_internal.personal_data_definitions (
    event_type  text        NOT NULL,
    subject     text        NOT NULL,
    paths       text[]      NOT NULL CHECK (pg_catalog.cardinality(paths) > 0),
    defined_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT personal_data_definitions_pkey PRIMARY KEY (event_type)
);
COMMENT ON TABLE chronicle_internal.personal_data_definitions IS
    'Internal: the personal data of each event type (chronicle.define_personal_data); read chronicle.personal_data.';
SELECT pg_catalog.pg_extension_config_dump('chronicle_internal.personal_data_definitions', '');

-- One key per data subject and tenant: 256 random bits. Readable by the
-- owner only (no role is granted anything on it); chronicle.forget_subject
-- deletes a subject's row, after which the subject's sealed members read as
-- erased. Dumped with the data: a dump holds the keys.
CREATE TABLE chronicle_internal.subject_keys (
    tenant      text        NOT NULL,
    subject     text        NOT NULL,
    key_id      uuid        NOT NULL,
    key         bytea       NOT NULL CHECK (pg_catalog.octet_length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT subject_keys_pkey PRIMARY KEY (tenant, subject),
    CONSTRAINT subject_keys_key_id_key UNIQUE (key_id)
);
COMMENT ON TABLE chronicle_internal.subject_keys IS
    'Internal: the key of each data subject of each tenant, with which its events'' personal members are sealed (XChaCha20-Poly1305). Readable by the extension''s owner only; chronicle.forget_subject deletes a row for good.';
SELECT pg_catalog.pg_extension_config_dump('chronicle_internal.subject_keys', '');

-- Every erasure: which subject, when, by whom, why and how many events it
-- made unreadable. Append-only, like the log; no personal data in it.
CREATE SEQUENCE chronicle.forgotten_id_seq AS bigint;
CREATE TABLE chronicle.forgotten (
    id            bigint      NOT NULL DEFAULT pg_catalog.nextval('chronicle.forgotten_id_seq'),
    subject       text        NOT NULL,
    forgotten_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    forgotten_by  text        NOT NULL,
    reason        text,
    events        bigint      NOT NULL CHECK (events >= 0),
    tenant        text        NOT NULL DEFAULT '',
    CONSTRAINT forgotten_pkey PRIMARY KEY (id)
);
ALTER SEQUENCE chronicle.forgotten_id_seq OWNED BY chronicle.forgotten.id;
CREATE INDEX forgotten_subject_idx ON chronicle.forgotten (tenant, subject);
COMMENT ON TABLE chronicle.forgotten IS
    'Every erasure (chronicle.forget_subject): the data subject whose key was destroyed, when, by whom, why, and how many events had personal members sealed with it. Append-only; readable by chronicle_admin.';
COMMENT ON COLUMN chronicle.forgotten.subject IS 'The subject''s id as the events name it (an opaque id, not personal data itself).';
COMMENT ON COLUMN chronicle.forgotten.forgotten_by IS 'The role that called chronicle.forget_subject (after SET ROLE).';
COMMENT ON COLUMN chronicle.forgotten.events IS 'How many events (stored or archived) had personal members sealed with the destroyed key; they read as {"erased": true} since.';
COMMENT ON COLUMN chronicle.forgotten.tenant IS 'The tenant whose subject it was.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.forgotten', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.forgotten_id_seq', '');
CREATE TRIGGER forgotten_append_only
    BEFORE UPDATE OR DELETE ON chronicle.forgotten
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
CREATE TRIGGER forgotten_no_truncate
    BEFORE TRUNCATE ON chronicle.forgotten
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
ALTER TABLE chronicle.forgotten ENABLE ALWAYS TRIGGER forgotten_append_only;
ALTER TABLE chronicle.forgotten ENABLE ALWAYS TRIGGER forgotten_no_truncate;

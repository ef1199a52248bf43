-- Chronicle 0.5.0 -> 0.6.0: a stream's lifecycle. chronicle.delete_stream
-- and chronicle.truncate_stream remove events (chronicle_admin only); the
-- heads say what was removed (first_version, deleted_at, hard_deleted), a
-- truncated stream keeps its base state (chronicle.stream_bases), and every
-- removal is recorded (chronicle.lifecycle_log). The append-only guard lets
-- only those functions through. Run by ALTER EXTENSION chronicle UPDATE;
-- tests/upgrade/run.py checks that it gives the same catalog as a fresh
-- CREATE EXTENSION of 0.6.0. Frozen: never edited after its release.

\echo Use "ALTER EXTENSION chronicle UPDATE" to load this file. \quit

-- Every update empties the snapshot cache: the rules that fill it may have

-- Every update empties the snapshot cache: the rules that fill it may have
-- changed, and it rebuilds itself (deleting snapshots never changes an answer).
TRUNCATE chronicle.snapshots;

-- The feed's chunks are stored uncompressed from now on (sql/schema.sql):
-- cheaper to write and, for the lifecycle, to rewrite. Rows already
-- written stay as they are.
ALTER TABLE chronicle.feed SET (toast_tuple_target = 4096);

-- As sql/schema.sql creates them in 0.6.0. New columns with constant
-- defaults: catalog only, no rewrite of the heads.
ALTER TABLE chronicle.streams
    ADD COLUMN first_version bigint      NOT NULL DEFAULT 1,
    ADD COLUMN deleted_at    timestamptz,
    ADD COLUMN hard_deleted  boolean     NOT NULL DEFAULT false,
    ADD COLUMN archived_at   timestamptz;
COMMENT ON COLUMN chronicle.streams.first_version IS
    'The first version still stored: 1, the before_version of chronicle.truncate_stream (or retention), or version + 1 after chronicle.delete_stream.';
COMMENT ON COLUMN chronicle.streams.deleted_at IS
    'When chronicle.delete_stream deleted the stream (NULL: not deleted, or written again since).';
COMMENT ON COLUMN chronicle.streams.hard_deleted IS
    'Deleted with hard => true: the stream id can never be written again.';
COMMENT ON COLUMN chronicle.streams.archived_at IS
    'When chronicle.archive_stream moved the stream''s events to chronicle.event_archive (NULL: not archived).';


COMMENT ON COLUMN chronicle.events.version IS 'Position in the stream: 1, 2, 3, ... without gaps (from chronicle.streams.first_version on, once events were removed). Negative for the events a removal leaves ($StreamDeleted, $StreamTruncated: -1, -2, ...), which no read of the stream returns.';

CREATE FUNCTION chronicle_internal._lifecycle_running() RETURNS boolean
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'lifecycle_running_wrapper';
COMMENT ON FUNCTION chronicle_internal._lifecycle_running() IS
    'Internal: whether a lifecycle function (delete_stream, truncate_stream, retention) is removing events in this session.';

CREATE OR REPLACE FUNCTION chronicle_internal._refuse_history_change() RETURNS trigger
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
    CONSTRAINT stream_bases_pkey PRIMARY KEY (stream_id)
);
COMMENT ON TABLE chronicle.stream_bases IS
    'The base state of each truncated stream: its state at version, the version before its first stored event, folded when chronicle.truncate_stream or retention removed the events up to it. Written by those functions only.';
COMMENT ON COLUMN chronicle.stream_bases.version IS 'The version the state is at: chronicle.streams.first_version - 1.';
COMMENT ON COLUMN chronicle.stream_bases.recorded_at IS 'recorded_at of the (removed) event at version: state_at(as_of => ...) before it is refused.';
COMMENT ON COLUMN chronicle.stream_bases.reducer_revision IS 'The reducer revision the state was folded with (0: the default merge); a later revision continues from it.';
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


-- The lifecycle functions (pg_extension/src/lifecycle.rs).
CREATE FUNCTION chronicle."delete_stream"(
	"stream_id" TEXT, /* Option < & str > */
	"expected_version" bigint DEFAULT NULL, /* Option < i64 > */
	"hard" bool DEFAULT false, /* Option < bool > */
	"reason" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'delete_stream_wrapper';

COMMENT ON FUNCTION chronicle.delete_stream(text, bigint, boolean, text) IS
    'Deletes a stream (chronicle_admin): removes its events and returns how many. The stream then reads as not existing; stream_version still returns its last version, and chronicle.streams says when it was deleted. An append continues its versions, unless hard => true: then the stream id can never be written again (55Z01). expected_version as in append_event (40001 on mismatch). The removed events leave the global feed; their positions are never reused. Recorded in chronicle.lifecycle_log with reason.';

CREATE FUNCTION chronicle."truncate_stream"(
	"stream_id" TEXT, /* Option < & str > */
	"before_version" bigint, /* Option < i64 > */
	"reason" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'truncate_stream_wrapper';

COMMENT ON FUNCTION chronicle.truncate_stream(text, bigint, text) IS
    'Removes the events of a stream with versions below before_version (chronicle_admin; at most the head + 1) and returns how many. The other events keep their versions; the state at before_version - 1, folded with the current reducer, is kept as the stream''s base (chronicle.stream_bases), so state_at from that version on answers as before and an earlier one is 55Z02. The removed events leave the global feed; their positions are never reused. Recorded in chronicle.lifecycle_log with reason.';

CREATE FUNCTION chronicle."set_retention"(
	"stream_type" TEXT, /* Option < & str > */
	"max_age" interval DEFAULT NULL, /* Option < Interval > */
	"max_count" bigint DEFAULT NULL /* Option < i64 > */
) RETURNS void
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'set_retention_wrapper';

COMMENT ON FUNCTION chronicle.set_retention(text, interval, bigint) IS
    'Sets the retention of a stream type (chronicle_admin, no tenant: rules are shared): keep the last max_count events of each of its streams and those recorded within max_age (either or both; both NULL: no retention). The retention worker applies it every chronicle.retention_interval, in short transactions; chronicle.apply_retention() does a pass now. Each cut is a truncate_stream: the state before the first kept event stays as the stream''s base.';

CREATE FUNCTION chronicle."apply_retention"() RETURNS bigint /* i64 */
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'apply_retention_wrapper';

COMMENT ON FUNCTION chronicle.apply_retention() IS
    'Applies the retention rules now (chronicle_admin): cuts every stream of the session''s tenant that has more than its type''s rule keeps, in the caller''s transaction (the retention worker does it in short transactions); a stream that cannot be cut is skipped with a WARNING. Returns the events removed.';

CREATE FUNCTION chronicle."archive_stream"(
	"stream_id" TEXT, /* Option < & str > */
	"reason" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'archive_stream_wrapper';

COMMENT ON FUNCTION chronicle.archive_stream(text, text) IS
    'Archives a stream (chronicle_admin): moves its events, unchanged, from chronicle.event_log to chronicle.event_archive and returns how many. An archived stream takes no append (55Z03) and is absent from ordinary reads; read_stream(..., include_archived => true) and export_stream read it; restore_stream brings it back. No event, version or position changes. Recorded in chronicle.lifecycle_log with reason.';

CREATE FUNCTION chronicle."restore_stream"(
	"stream_id" TEXT, /* Option < & str > */
	"reason" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'restore_stream_wrapper';

COMMENT ON FUNCTION chronicle.restore_stream(text, text) IS
    'Restores an archived stream (chronicle_admin): moves its events back from chronicle.event_archive, unchanged (the same versions and positions), and returns how many. 22023 if the stream is not archived. Recorded in chronicle.lifecycle_log with reason.';

CREATE FUNCTION chronicle_internal."_import_start"(
	"lines" TEXT, /* Option < & str > */
	"stream_id" TEXT, /* Option < & str > */
	"format" TEXT /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'import_start_wrapper';

COMMENT ON FUNCTION chronicle_internal._import_start(text, text, text) IS
    'Internal: where import_stream starts; for an export of a truncated stream, creates the stream at its base.';

-- The views of the lifecycle (sql/lifecycle.sql).
CREATE VIEW chronicle.retention AS
SELECT r.stream_type, r.max_age, r.max_count, r.defined_at,
       (SELECT count(*) FROM chronicle.streams s
         WHERE s.stream_type OPERATOR(pg_catalog.=) r.stream_type AND s.deleted_at IS NULL) AS streams,
       l.last_applied_at, coalesce(l.events_removed, 0) AS events_removed
  FROM chronicle.retention_rules r
  LEFT JOIN LATERAL (
        SELECT pg_catalog.max(g.recorded_at) AS last_applied_at, pg_catalog.sum(g.events)::bigint AS events_removed
          FROM chronicle.lifecycle_log g
         WHERE g.operation OPERATOR(pg_catalog.=) 'retention'
           AND g.stream_type OPERATOR(pg_catalog.=) r.stream_type) l ON true;
COMMENT ON VIEW chronicle.retention IS
    'The retention rule of each stream type (chronicle.set_retention) with its number of streams (not deleted), when retention last cut one of them and how many events it has removed (of the tenants the reader sees).';

-- The archived streams' events with their places in the global feed, as
-- chronicle.events shows the others' (the same lookup of the chunk that
-- holds each: archiving moves no position).
CREATE VIEW chronicle.archived_events AS
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
  FROM chronicle.event_archive e;
COMMENT ON VIEW chronicle.archived_events IS
    'The events of archived streams (chronicle.archive_stream) with their global_position, in the shape of chronicle.events; read_stream(..., include_archived => true) reads them.';

-- read_stream takes include_archived: a new signature (a call with the
-- old arguments resolves to it), so the old functions go.
DROP FUNCTION chronicle.read_stream(uuid, bigint, bigint, boolean);
DROP FUNCTION chronicle.read_stream(text, bigint, bigint, boolean);
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

-- export_stream reads archived streams.
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
          FROM chronicle.read_stream(export_stream.stream_id, from_version, to_version,
                                     include_archived => true) e;
END
$$;
-- import_stream starts a truncated stream's export at its base.
CREATE OR REPLACE FUNCTION chronicle.import_stream(
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


-- What the heads now say (sql/streams.sql).
CREATE OR REPLACE FUNCTION chronicle.list_stream_types()
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

COMMENT ON FUNCTION chronicle.list_streams(text, text, text, int) IS
    'Streams ordered by id, optionally of one stream_type and/or starting with id_prefix, at most max_count; page with after_stream_id. Deleted streams are listed with their deleted_at (and hard_deleted).';


CREATE OR REPLACE VIEW chronicle.stream_activity AS
SELECT s.stream_id, s.stream_type, s.version - s.first_version + 1 AS events, s.first_event_at, s.last_event_at
  FROM chronicle.streams s
 WHERE s.deleted_at IS NULL;
COMMENT ON VIEW chronicle.stream_activity IS
    'Every stream (not deleted) with its number of stored events and first/last recording time, from the stream heads (no scan of the events): ORDER BY events DESC LIMIT 10 gives the most active streams.';

-- Roles, privileges and row-level security: sql/security.sql of 0.6.0, less
-- the policies 0.5.0 has already.
-- Roles, privileges and row-level security: runs last in CREATE EXTENSION,
-- when every function and table exists.

-- Least privilege and tenants. Three roles (cluster-wide, created once, kept
-- by DROP EXTENSION); PUBLIC gets nothing. Grant them to login roles:
--   chronicle_reader: read streams and the feed, replay, poll subscriptions;
--   chronicle_writer: the reader's rights, append, import and ack;
--   chronicle_admin:  the writer's rights, reducers, event types, upcasters,
--                     subscriptions and the lifecycle (delete_stream,
--                     truncate_stream, chronicle.lifecycle_log).
-- Nobody but the owner has any write privilege on a table: every write goes
-- through a SECURITY DEFINER function (with SET search_path = pg_catalog,
-- pg_temp) that does only what its checks allow. Reads run with the caller's
-- rights, so that row-level security applies; so do the views
-- (security_invoker).
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

-- Nobody but the owner keeps a privilege on Chronicle's schema and objects: PUBLIC
-- loses the default EXECUTE, and an update from 0.1.0 (whose functions ran
-- with their callers' rights, so that writers needed table privileges)
-- revokes what was granted then, with a warning naming the roles.
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
                chronicle.stream_activity, chronicle.subscription_lag, chronicle.feed_status,
                chronicle.stream_bases, chronicle.retention_rules, chronicle.event_archive,
                chronicle.archived_events
   TO chronicle_reader;
GRANT SELECT ON chronicle.lifecycle_log, chronicle.retention TO chronicle_admin;
GRANT EXECUTE ON FUNCTION
    chronicle.read_stream(text, bigint, bigint, boolean, boolean), chronicle.stream_version(text),
    chronicle.read_correlation(text), chronicle.list_streams(text, text, text, int),
    chronicle.list_stream_types(), chronicle.stream_types(), chronicle.reducer(text),
    chronicle.event_type(text, int), chronicle.upcaster(text, int),
    chronicle.export_stream(text, bigint, bigint),
    chronicle.read_all(bigint, int, text, text[]), chronicle.feed_head(),
    chronicle.poll(text, int, int, int), chronicle.state_at(text, bigint, timestamptz),
    chronicle.state_history(text, bigint, bigint), chronicle.diff(jsonb, jsonb),
    chronicle.canonical_json(jsonb), chronicle.current_tenant(),
    -- the same with a uuid for the stream (or correlation) id
    chronicle.read_stream(uuid, bigint, bigint, boolean, boolean), chronicle.stream_version(uuid),
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
    chronicle.ack(text, bigint, int), chronicle_internal._import_batches(text, int, text),
    chronicle_internal._import_start(text, text, text)
   TO chronicle_writer;
GRANT EXECUTE ON FUNCTION
    chronicle.define_reducer(text, jsonb), chronicle.define_event_type(text, int, jsonb),
    chronicle.define_event_type(text, jsonb, int), chronicle.define_upcaster(text, int, jsonb),
    chronicle.create_subscription(text, text, text[], bigint), chronicle.drop_subscription(text),
    chronicle.pause_subscription(text), chronicle.resume_subscription(text),
    chronicle.fail_subscription(text, text), chronicle.reset_subscription(text, bigint),
    -- while it runs, a seal holds the lock the sealer waits for
    chronicle.seal(int), chronicle.seal(bigint),
    chronicle.delete_stream(text, bigint, boolean, text),
    chronicle.truncate_stream(text, bigint, text),
    chronicle.set_retention(text, interval, bigint), chronicle.apply_retention(),
    chronicle.archive_stream(text, text), chronicle.restore_stream(text, text)
   TO chronicle_admin;

ALTER VIEW chronicle.events SET (security_invoker = true);
ALTER VIEW chronicle.daily_activity SET (security_invoker = true);
ALTER VIEW chronicle.stream_activity SET (security_invoker = true);
ALTER VIEW chronicle.subscription_lag SET (security_invoker = true);
ALTER VIEW chronicle.feed_status SET (security_invoker = true);
ALTER VIEW chronicle.retention SET (security_invoker = true);
ALTER VIEW chronicle.archived_events SET (security_invoker = true);

-- Tenants: a role whose chronicle.tenant is set (by a superuser: ALTER ROLE
-- ... SET chronicle.tenant = 'acme') sees only that tenant's streams, events
-- and subscriptions, through every function and view; a role without one
-- sees the rows of no tenant (''). Superusers and BYPASSRLS roles see all.
ALTER TABLE chronicle.event_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.streams ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.subscription_consumers ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.stream_bases ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.event_archive ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.lifecycle_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_tenant ON chronicle.event_archive
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.stream_bases
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.lifecycle_log
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));

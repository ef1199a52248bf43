-- Chronicle 0.4.1 -> 0.5.0: the global feed waits only for transactions
-- that can still append to it (pg_extension/src/seal_bound.rs); the hot
-- tables lose their CHECK constraints. Appenders
-- register (a lock of their own kind, and the floor chronicle.feed_floor);
-- the sealer seals below the oldest of them instead of below the oldest
-- transaction of the cluster. chronicle.feed_status says what the feed
-- waits for, in words. Run by ALTER EXTENSION chronicle UPDATE;
-- tests/upgrade/run.py checks that it gives the same catalog as a fresh
-- CREATE EXTENSION of 0.5.0. Frozen: never edited after its release.

\echo Use "ALTER EXTENSION chronicle UPDATE" to load this file. \quit

-- Every update empties the snapshot cache: the rules that fill it may have
-- changed, and it rebuilds itself (deleting snapshots never changes an answer).
TRUNCATE chronicle.snapshots;

-- As sql/schema.sql creates it in 0.5.0.
CREATE SEQUENCE chronicle.feed_floor AS bigint MINVALUE 0 START 0 NO CYCLE;
COMMENT ON SEQUENCE chronicle.feed_floor IS
    'Internal: the sealer''s published transaction-id floor; an event appended by a transaction that starts appending later gets a seal_key at least this high.';
COMMENT ON COLUMN chronicle.event_log.seal_key IS
    'The feed''s order key: the appending transaction''s id, raised to the feed floor when the transaction started appending (chronicle.feed_floor) and to the key of the stream''s previous event when those are higher. Events are sealed in (seal_key, id) order once no transaction that could still append an event with a smaller key is running.';

-- The hot tables lose their CHECK constraints (the core validates every
-- write first; Postgres parsed each stored expression again at every
-- statement, 11 % of an append's instructions). Catalog only: no scan.
ALTER TABLE chronicle.event_log
    DROP CONSTRAINT event_log_version_check,
    DROP CONSTRAINT event_log_schema_version_check,
    DROP CONSTRAINT event_log_data_check,
    DROP CONSTRAINT event_log_metadata_check;
ALTER TABLE chronicle.streams DROP CONSTRAINT streams_version_check;

-- The append functions point at new C symbols: a session that loaded 0.4's
-- library before this update (and whose appends would not register) gets an
-- error instead of appending. Same signatures: grants and comments stay.
CREATE OR REPLACE FUNCTION chronicle.append_event(
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
AS 'MODULE_PATHNAME', 'append_one_event_wrapper';

CREATE OR REPLACE FUNCTION chronicle.append_events(
	"stream_id" TEXT, /* Option < & str > */
	"events" jsonb, /* Option < RawJsonb > */
	"expected_version" bigint DEFAULT NULL, /* Option < i64 > */
	"stream_type" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'append_event_batch_wrapper';

-- New columns (what the feed waits for, the holder): dropped and created
-- again as sql/feed.sql creates it (its grant and option: security.sql, below).
DROP VIEW chronicle.feed_status;
-- What the feed waits for. The open transactions that appended hold a lock
-- of Chronicle's own kind (advisory, objsubid 25448, keyed by their
-- transaction id: pg_extension/src/seal_bound.rs) until they end; the oldest
-- holds back every committed event with a key from its id on.
CREATE VIEW chronicle.feed_status AS
WITH st AS (
  SELECT coalesce(max(s.position), 0) AS head_position, max(s.sealed_at) AS last_sealed_at,
         coalesce(max(s.horizon), '0'::xid8) AS horizon, coalesce(max(s.after_id), 0) AS after_id,
         coalesce(max(s.first_id), 0) AS first_id
    FROM chronicle.feed_state s
), waiting AS (
  SELECT count(*) AS events, min(e.seal_key) AS first_key
    FROM chronicle.event_log e, st
   WHERE (e.seal_key, e.id) > (st.horizon, st.after_id) AND e.id >= st.first_id
), appenders AS (
  SELECT ((l.classid::bigint << 32) | l.objid::bigint)::text::xid8 AS xid, l.pid
    FROM pg_catalog.pg_locks l
   WHERE l.locktype = 'advisory' AND l.objsubid = 25448 AND l.granted
     AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())
), holder AS (
  SELECT a.xid, a.pid, x.usename::text AS usename, x.application_name, x.state, x.xact_start,
         p.gid, p.prepared
    FROM appenders a
    LEFT JOIN pg_catalog.pg_stat_activity x ON x.pid = a.pid
    LEFT JOIN pg_catalog.pg_prepared_xacts p
           ON a.pid IS NULL AND p.database = current_database()
          AND p.transaction::text = (a.xid::text::bigint & 4294967295)::text
   ORDER BY a.xid
   LIMIT 1
)
SELECT st.head_position,
       w.events AS waiting_events,
       st.last_sealed_at,
       (SELECT min(a.pid) FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'chronicle sealer' AND a.datname = current_database()) AS sealer_pid,
       CASE
         WHEN w.events = 0 THEN 'nothing: every committed event has its position'
         WHEN h.xid <= w.first_key AND h.pid IS NOT NULL THEN
           format('transaction %s (pid %s, user %s, application "%s", %s, open for %s) appended events and is still open: '
                  'the events committed after it started wait until it commits or rolls back. End it, or have the sealer '
                  'do so after a grace period (chronicle.stalled_appender_action)',
                  h.xid, h.pid, h.usename, h.application_name, h.state, date_trunc('second', now() - h.xact_start))
         WHEN h.xid <= w.first_key THEN
           format('prepared transaction ''%s'' (transaction %s, prepared %s ago) appended events: the events committed '
                  'after it started wait until COMMIT PREPARED or ROLLBACK PREPARED ''%s''',
                  h.gid, h.xid, date_trunc('second', now() - h.prepared), h.gid)
         WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a
                           WHERE a.backend_type = 'chronicle sealer' AND a.datname = current_database()) THEN
           'a sealer: none runs in this database; the next append or feed read starts one (if none can, raise max_worker_processes)'
         ELSE 'the next seal (every chronicle.seal_interval)'
       END AS waiting_for,
       (SELECT count(*) FROM appenders) AS open_appenders,
       h.pid AS holder_pid,
       h.xid AS holder_xid,
       coalesce(h.state, 'prepared transaction ' || h.gid) AS holder_state,
       now() - coalesce(h.xact_start, h.prepared) AS holder_age,
       h.usename AS holder_user,
       h.application_name AS holder_application
  FROM st CROSS JOIN waiting w LEFT JOIN holder h ON true;
COMMENT ON VIEW chronicle.feed_status IS
    'The global feed: its head position, how many committed events wait for a position, when the sealer last handed out positions, its pid, and what the feed waits for, in words (waiting_for). Only transactions of this database that appended and are still open hold events back: the oldest of them is the holder (holder_*: its session, or its prepared transaction); open_appenders counts them.';
COMMENT ON COLUMN chronicle.feed_status.waiting_for IS
    'What the waiting events wait for: nothing, an open transaction that appended (which one, and what to do), a prepared one, a sealer, or the next seal.';
COMMENT ON COLUMN chronicle.feed_status.holder_xid IS
    'The oldest open transaction of this database that appended: committed events with keys from this id on wait for it.';
-- Roles, privileges and row-level security as sql/security.sql sets them
-- (its policies exist already): a grant made to a role since, on what
-- only the extension should grant, is revoked with a warning.

-- Roles, privileges and row-level security: runs last in CREATE EXTENSION,
-- when every function and table exists.

-- Least privilege and tenants. Three roles (cluster-wide, created once, kept
-- by DROP EXTENSION); PUBLIC gets nothing. Grant them to login roles:
--   chronicle_reader: read streams and the feed, replay, poll subscriptions;
--   chronicle_writer: the reader's rights, append, import and ack;
--   chronicle_admin:  the writer's rights, reducers, event types, upcasters
--                     and subscriptions.
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

-- Tenants: a role whose chronicle.tenant is set (by a superuser: ALTER ROLE
-- ... SET chronicle.tenant = 'acme') sees only that tenant's streams, events
-- and subscriptions, through every function and view; a role without one
-- sees the rows of no tenant (''). Superusers and BYPASSRLS roles see all.
ALTER TABLE chronicle.event_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.streams ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE chronicle.subscription_consumers ENABLE ROW LEVEL SECURITY;

-- The running sealer worker still runs 0.4's library (and its rule, safe
-- but stalled by any transaction in the cluster): it ends here, and the next
-- append or feed read starts one with this library.
DO $restart$
BEGIN
    PERFORM pg_catalog.pg_terminate_backend(a.pid)
       FROM pg_catalog.pg_stat_activity a
      WHERE a.backend_type = 'chronicle sealer' AND a.datname = pg_catalog.current_database();
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'could not restart the chronicle sealer worker: %', SQLERRM
        USING HINT = 'It keeps the 0.4 rule (sealing waits for every transaction of the cluster) until it restarts: pg_terminate_backend(sealer_pid) from chronicle.feed_status as a superuser, or restart the server.';
END
$restart$;

-- Roles, privileges and row-level security: runs last in CREATE EXTENSION,
-- when every function and table exists.

-- Least privilege and tenants. Three roles (cluster-wide, created once, kept
-- by DROP EXTENSION); PUBLIC gets nothing. Grant them to login roles:
--   chronicle_reader: read streams and the feed, replay, poll subscriptions;
--   chronicle_writer: the reader's rights, append, import and ack;
--   chronicle_admin:  the writer's rights, reducers, event types, upcasters,
--                     subscriptions and the lifecycle (delete_stream,
--                     truncate_stream, chronicle.lifecycle_log) and personal
--                     data (define_personal_data, forget_subject,
--                     chronicle.forgotten).
-- The data subjects' keys (chronicle_internal.subject_keys) are granted to
-- nobody: only the owner reads them, inside Chronicle's functions.
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
                chronicle.archived_events, chronicle.personal_data,
                chronicle_internal.personal_data_definitions
   TO chronicle_reader;
GRANT SELECT ON chronicle.lifecycle_log, chronicle.retention, chronicle.forgotten TO chronicle_admin;
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
    chronicle_internal._reveal(jsonb, text, uuid, uuid, text[]),
    chronicle_internal._base_state(text, bigint, jsonb, text, uuid[]),
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
    chronicle.archive_stream(text, text), chronicle.restore_stream(text, text),
    chronicle.define_personal_data(text, text, text[]), chronicle.forget_subject(text, text)
   TO chronicle_admin;

ALTER VIEW chronicle.events SET (security_invoker = true);
ALTER VIEW chronicle.daily_activity SET (security_invoker = true);
ALTER VIEW chronicle.stream_activity SET (security_invoker = true);
ALTER VIEW chronicle.subscription_lag SET (security_invoker = true);
ALTER VIEW chronicle.feed_status SET (security_invoker = true);
ALTER VIEW chronicle.retention SET (security_invoker = true);
ALTER VIEW chronicle.archived_events SET (security_invoker = true);
ALTER VIEW chronicle.personal_data SET (security_invoker = true);

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
ALTER TABLE chronicle.forgotten ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_tenant ON chronicle.event_log
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.streams
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.event_archive
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.stream_bases
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.lifecycle_log
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.forgotten
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.subscriptions
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.subscription_consumers
    USING (EXISTS (SELECT FROM chronicle.subscriptions s
                    WHERE s.name OPERATOR(pg_catalog.=) subscription_consumers.subscription));

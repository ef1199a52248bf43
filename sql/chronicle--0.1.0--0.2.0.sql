-- Chronicle 0.1.0 -> 0.2.0: least privilege (roles chronicle_reader,
-- chronicle_writer, chronicle_admin; PUBLIC gets nothing; writes only through
-- SECURITY DEFINER functions with a fixed search_path) and tenants (the
-- tenant columns and row-level security). Run by ALTER EXTENSION chronicle
-- UPDATE. tests/upgrade/run.py checks that it gives the same catalog as a
-- fresh CREATE EXTENSION of 0.2.0, and runs the SQL suite on the result.

-- Snapshots made by 0.1.0 are dropped: under 0.1.0 a role with table
-- privileges could have written any (the cache rebuilds itself).
TRUNCATE chronicle.snapshots;

-- The tenant columns: every existing row is the rows of no tenant ('').
ALTER TABLE chronicle.event_log ADD COLUMN tenant text NOT NULL DEFAULT '';
ALTER TABLE chronicle.streams ADD COLUMN tenant text NOT NULL DEFAULT '';
ALTER TABLE chronicle.subscriptions ADD COLUMN tenant text NOT NULL DEFAULT '';

CREATE FUNCTION chronicle.current_tenant() RETURNS text
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'current_tenant_wrapper';

-- The Rust functions that write run as the owner; every Rust function that
-- runs SQL has a fixed search_path.
ALTER FUNCTION chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, uuid, uuid, text, timestamptz, int)
    SECURITY DEFINER SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle.append_events(text, jsonb, bigint, text)
    SECURITY DEFINER SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle.define_reducer(text, jsonb) SECURITY DEFINER SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle.define_event_type(text, jsonb, int) SECURITY DEFINER SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle.define_upcaster(text, int, jsonb) SECURITY DEFINER SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle.seal(bigint) SECURITY DEFINER SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle._feed_tick() SECURITY DEFINER SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle.state_at(text, bigint, timestamptz) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle.state_history(text, bigint, bigint) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle._export_header(text, bigint, bigint) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION chronicle._upcast(text, int, jsonb) SET search_path TO pg_catalog, pg_temp;

-- The new internal functions; the feed's pages, which widen their windows
-- when rows are hidden; the subscription functions, which now keep to their
-- tenant (and, but for poll, run as the owner).
-- Whether a stream is the tenant's. Inlined like _feed_range.
CREATE FUNCTION chronicle._in_tenant(stream_id text, tenant text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (SELECT FROM chronicle.streams s
                WHERE s.stream_id OPERATOR(pg_catalog.=) _in_tenant.stream_id
                  AND s.tenant OPERATOR(pg_catalog.=) _in_tenant.tenant);

-- The event_id at a position of the feed, if it is the tenant's.
CREATE FUNCTION chronicle._event_id_at("position" bigint, tenant text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT v.event_id FROM chronicle._feed_range("position" OPERATOR(pg_catalog.-) 1, "position") v
         WHERE chronicle._in_tenant(v.stream_id, _event_id_at.tenant));

-- A new group size: every consumer starts again from the group's checkpoint
-- (streams move between consumers; at-least-once).
CREATE FUNCTION chronicle._regroup(name text, consumers int) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    PERFORM chronicle._check_poll(_regroup.name, 0, 0, _regroup.consumers);
    sub := chronicle._subscription(_regroup.name, true);
    IF sub.consumers <> _regroup.consumers THEN
        DELETE FROM chronicle.subscription_consumers c WHERE c.subscription = sub.name;
        INSERT INTO chronicle.subscription_consumers (subscription, consumer, position)
        SELECT sub.name, k, sub.last_position FROM generate_series(0, _regroup.consumers - 1) k;
        UPDATE chronicle.subscriptions s SET consumers = _regroup.consumers WHERE s.name = sub.name;
    END IF;
END
$$;

-- Moves consumer k's checkpoint from from_position to to_position when no
-- event in between is for it (what poll found).
CREATE FUNCTION chronicle._skip(name text, consumer int, from_position bigint, to_position bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    PERFORM chronicle._check_position('poll', _skip.name, 'position', to_position, chronicle.feed_head());
    sub := chronicle._subscription(_skip.name, true);
    IF from_position IS NULL OR consumer IS NULL OR consumer >= sub.consumers OR EXISTS (
        SELECT FROM chronicle._feed_range(from_position, to_position) v
         WHERE chronicle._delivers(sub.stream_type, sub.event_types, _skip.consumer, sub.consumers,
                                   v.stream_type, v.event_type, v.stream_id)
           AND chronicle._in_tenant(v.stream_id, sub.tenant)) THEN
        RETURN;
    END IF;
    PERFORM chronicle._move_checkpoint(sub, _skip.consumer, to_position, 0, from_position);
END
$$;

-- A page of the feed: at most max_count events after after_position that
-- pass the filter, up to position up_to, in order. Positions are dense, so
-- it reads windows of positions: exactly max_count of them without a filter.
-- A window that yields fewer events than it has positions (a filter, or
-- row-level security hiding other tenants' events) makes the next one twice
-- as wide, so that a sparse page costs few windows.
CREATE OR REPLACE FUNCTION chronicle._feed_page(
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
            SELECT v.* FROM chronicle._feed_range(lo, hi) v
             WHERE unfiltered
                OR chronicle._delivers(only_stream_type, only_event_types, consumer, consumers,
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

-- Subscriptions.
CREATE OR REPLACE FUNCTION chronicle.create_subscription(
    name text,
    stream_type text DEFAULT NULL,
    event_types text[] DEFAULT NULL,
    start_position bigint DEFAULT 0
) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    created chronicle.subscriptions;
BEGIN
    PERFORM chronicle._check_subscription(create_subscription.name, create_subscription.stream_type,
                                          create_subscription.event_types, start_position,
                                          chronicle.feed_head());
    INSERT INTO chronicle.subscriptions AS s (name, stream_type, event_types, last_position, last_event_id, tenant)
    VALUES (create_subscription.name, create_subscription.stream_type, create_subscription.event_types,
            start_position, chronicle._event_id_at(start_position, chronicle.current_tenant()),
            chronicle.current_tenant())
    ON CONFLICT ON CONSTRAINT subscriptions_pkey DO NOTHING
    RETURNING s.* INTO created;
    IF created.name IS NULL THEN
        PERFORM chronicle._subscription_error(create_subscription.name, false);
    END IF;
    INSERT INTO chronicle.subscription_consumers (subscription, consumer, position)
    VALUES (created.name, 0, start_position);
    RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION chronicle.drop_subscription(name text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle._check_position('drop_subscription', drop_subscription.name, '', NULL, 0);
    DELETE FROM chronicle.subscriptions s
     WHERE s.name = drop_subscription.name AND s.tenant = chronicle.current_tenant();
    IF NOT FOUND THEN
        PERFORM chronicle._subscription_error(drop_subscription.name, true);
    END IF;
END
$$;

-- The subscription's row, locked (FOR UPDATE) or not; raises 42704 if missing
-- or another tenant's.
CREATE OR REPLACE FUNCTION chronicle._subscription(name text, lock boolean) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found chronicle.subscriptions;
BEGIN
    IF lock THEN
        SELECT s.* INTO found FROM chronicle.subscriptions s
         WHERE s.name = _subscription.name AND s.tenant = chronicle.current_tenant() FOR UPDATE;
    ELSE
        SELECT s.* INTO found FROM chronicle.subscriptions s
         WHERE s.name = _subscription.name AND s.tenant = chronicle.current_tenant();
    END IF;
    IF found.name IS NULL THEN
        PERFORM chronicle._subscription_error(_subscription.name, true);
    END IF;
    RETURN found;
END
$$;

CREATE OR REPLACE FUNCTION chronicle.poll(
    name text,
    max_count int DEFAULT 100,
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
    PERFORM chronicle._check_poll(poll.name, max_count, consumer, consumers);
    sub := chronicle._subscription(poll.name, false);
    IF sub.status IN ('paused', 'failed') OR max_count = 0 THEN
        RETURN;
    END IF;
    IF sub.consumers <> poll.consumers THEN
        PERFORM chronicle._regroup(poll.name, poll.consumers);
    END IF;
    SELECT c.position INTO from_position FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = poll.consumer;
    PERFORM chronicle._feed_tick();
    -- Scan at most 100,000 positions per call, so that a selective filter
    -- costs a bounded amount per poll.
    scan_to := least(chronicle.feed_head(), from_position + 100000);
    RETURN QUERY
        SELECT * FROM chronicle._feed_page(from_position, max_count, scan_to,
                                           sub.stream_type, sub.event_types, poll.consumer, poll.consumers);
    IF NOT FOUND AND scan_to > from_position THEN
        -- Nothing for this consumer up to scan_to: move its checkpoint
        -- there, so the next poll does not scan the same positions again.
        -- Only if the checkpoint is still where this poll started: a reset,
        -- a regroup or an ack meanwhile wins.
        PERFORM chronicle._skip(poll.name, poll.consumer, from_position, scan_to);
    END IF;
END
$$;

-- Moves consumer k's checkpoint of a subscription (row locked by the caller)
-- forward to to_position, counting processed events, and updates the
-- subscription's group checkpoint.
CREATE OR REPLACE FUNCTION chronicle._move_checkpoint(
    sub chronicle.subscriptions, consumer int, to_position bigint, processed bigint,
    only_from bigint DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    group_checkpoint bigint;
BEGIN
    UPDATE chronicle.subscription_consumers c
       SET position = to_position,
           last_event_id = chronicle._event_id_at(to_position, sub.tenant),
           last_processed_at = CASE WHEN processed > 0 THEN now() ELSE c.last_processed_at END,
           events_processed = c.events_processed + processed
     WHERE c.subscription = sub.name AND c.consumer = _move_checkpoint.consumer
       AND c.position < to_position
       AND (only_from IS NULL OR c.position = only_from);
    SELECT min(c.position) INTO group_checkpoint FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name;
    UPDATE chronicle.subscriptions s
       SET last_position = group_checkpoint,
           last_event_id = chronicle._event_id_at(group_checkpoint, sub.tenant),
           last_processed_at = CASE WHEN processed > 0 THEN now() ELSE s.last_processed_at END,
           events_processed = (SELECT sum(c.events_processed) FROM chronicle.subscription_consumers c
                                WHERE c.subscription = sub.name),
           status = CASE WHEN s.status = 'rebuilding' AND group_checkpoint >= s.rebuild_target
                         THEN 'running' ELSE s.status END,
           rebuild_target = CASE WHEN s.status = 'rebuilding' AND group_checkpoint >= s.rebuild_target
                                 THEN NULL ELSE s.rebuild_target END
     WHERE s.name = sub.name;
END
$$;

CREATE OR REPLACE FUNCTION chronicle.ack(name text, "position" bigint, consumer int DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
    previous bigint;
BEGIN
    PERFORM chronicle._check_position('ack', ack.name, 'position', ack.position, chronicle.feed_head());
    PERFORM chronicle._require('consumer', consumer IS NOT NULL);
    sub := chronicle._subscription(ack.name, true);
    SELECT c.position INTO previous FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = ack.consumer FOR UPDATE;
    IF previous IS NULL THEN
        PERFORM chronicle._check_poll(ack.name, 1, consumer, sub.consumers);
    END IF;
    IF ack.position <= previous THEN
        RETURN previous;
    END IF;
    PERFORM chronicle._move_checkpoint(sub, ack.consumer, ack.position,
        (SELECT count(*) FROM chronicle._feed_range(previous, ack.position) v
          WHERE chronicle._delivers(sub.stream_type, sub.event_types, ack.consumer, sub.consumers,
                                    v.stream_type, v.event_type, v.stream_id)
            AND chronicle._in_tenant(v.stream_id, sub.tenant)));
    RETURN ack.position;
END
$$;

CREATE OR REPLACE FUNCTION chronicle.pause_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    PERFORM chronicle._check_position('pause_subscription', pause_subscription.name, '', NULL, 0);
    sub := chronicle._subscription(pause_subscription.name, true);
    UPDATE chronicle.subscriptions s SET status = 'paused' WHERE s.name = sub.name RETURNING s.* INTO sub;
    RETURN sub;
END
$$;

CREATE OR REPLACE FUNCTION chronicle.resume_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    PERFORM chronicle._check_position('resume_subscription', resume_subscription.name, '', NULL, 0);
    sub := chronicle._subscription(resume_subscription.name, true);
    UPDATE chronicle.subscriptions s
       SET status = CASE WHEN s.rebuild_target IS NULL OR s.last_position >= s.rebuild_target
                         THEN 'running' ELSE 'rebuilding' END,
           rebuild_target = CASE WHEN s.last_position >= s.rebuild_target THEN NULL ELSE s.rebuild_target END,
           error_message = NULL
     WHERE s.name = sub.name RETURNING s.* INTO sub;
    RETURN sub;
END
$$;

CREATE OR REPLACE FUNCTION chronicle.fail_subscription(name text, error text) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    PERFORM chronicle._check_position('fail_subscription', fail_subscription.name, '', NULL, 0);
    PERFORM chronicle._require('error', error IS NOT NULL);
    sub := chronicle._subscription(fail_subscription.name, true);
    UPDATE chronicle.subscriptions s SET status = 'failed', error_message = error
     WHERE s.name = sub.name RETURNING s.* INTO sub;
    RETURN sub;
END
$$;

CREATE OR REPLACE FUNCTION chronicle.reset_subscription(name text, to_position bigint DEFAULT 0) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
    head bigint := chronicle.feed_head();
BEGIN
    PERFORM chronicle._check_position('reset_subscription', reset_subscription.name, 'to_position', to_position, head);
    sub := chronicle._subscription(reset_subscription.name, true);
    UPDATE chronicle.subscription_consumers c
       SET position = to_position, last_event_id = NULL, last_processed_at = NULL, events_processed = 0
     WHERE c.subscription = sub.name;
    UPDATE chronicle.subscriptions s
       SET last_position = to_position,
           last_event_id = chronicle._event_id_at(to_position, sub.tenant),
           events_processed = 0,
           error_message = NULL,
           status = CASE WHEN to_position >= head THEN 'running' ELSE 'rebuilding' END,
           rebuild_target = CASE WHEN to_position >= head THEN NULL ELSE head END
     WHERE s.name = sub.name RETURNING s.* INTO sub;
    RETURN sub;
END
$$;

-- As at the end of sql/api.sql:
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
        SELECT 'SCHEMA chronicle', n.nspacl, n.nspowner FROM pg_catalog.pg_namespace n
         WHERE n.nspname OPERATOR(pg_catalog.=) 'chronicle'
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
GRANT USAGE ON SCHEMA chronicle TO chronicle_reader;

GRANT SELECT ON chronicle.events, chronicle.event_log, chronicle.streams, chronicle.feed,
                chronicle.feed_state, chronicle.reducers, chronicle.event_types, chronicle.upcasters,
                chronicle.subscriptions, chronicle.subscription_consumers, chronicle.daily_activity,
                chronicle.stream_activity, chronicle.subscription_lag, chronicle.feed_status
   TO chronicle_reader;
GRANT EXECUTE ON FUNCTION
    chronicle.read_stream(text, bigint, bigint, boolean), chronicle.stream_version(text),
    chronicle.read_correlation(uuid), chronicle.list_streams(text, text, text, int),
    chronicle.stream_types(), chronicle.reducer(text), chronicle.export_stream(text, bigint, bigint),
    chronicle.read_all(bigint, int, text, text[]), chronicle.feed_head(),
    chronicle.poll(text, int, int, int), chronicle.state_at(text, bigint, timestamptz),
    chronicle.state_history(text, bigint, bigint), chronicle.diff(jsonb, jsonb),
    chronicle.canonical_json(jsonb), chronicle.current_tenant(),
    -- called by the functions above with the caller's rights
    chronicle._check_read_range(text, bigint, bigint), chronicle._require(text, boolean),
    chronicle._check_count(text, bigint), chronicle._upcast(text, int, jsonb),
    chronicle._export_header(text, bigint, bigint), chronicle._feed_range(bigint, bigint),
    chronicle._delivers(text, text[], int, int, text, text, text),
    chronicle._feed_page(bigint, int, bigint, text, text[], int, int), chronicle._feed_tick(),
    chronicle._check_feed_read(bigint, bigint, text, text[]), chronicle._check_poll(text, bigint, bigint, bigint),
    chronicle._subscription(text, boolean), chronicle._subscription_error(text, boolean),
    chronicle._regroup(text, int), chronicle._skip(text, int, bigint, bigint)
   TO chronicle_reader;
GRANT EXECUTE ON FUNCTION
    chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, uuid, uuid, text, timestamptz, int),
    chronicle.append_events(text, jsonb, bigint, text), chronicle.import_stream(text, text),
    chronicle.ack(text, bigint, int), chronicle._import_batches(text, int)
   TO chronicle_writer;
GRANT EXECUTE ON FUNCTION
    chronicle.define_reducer(text, jsonb), chronicle.define_event_type(text, jsonb, int),
    chronicle.define_upcaster(text, int, jsonb),
    chronicle.create_subscription(text, text, text[], bigint), chronicle.drop_subscription(text),
    chronicle.pause_subscription(text), chronicle.resume_subscription(text),
    chronicle.fail_subscription(text, text), chronicle.reset_subscription(text, bigint),
    -- while it runs, a seal holds the lock the sealer waits for
    chronicle.seal(bigint)
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
CREATE POLICY own_tenant ON chronicle.event_log
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.streams
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.subscriptions
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
CREATE POLICY own_tenant ON chronicle.subscription_consumers
    USING (EXISTS (SELECT FROM chronicle.subscriptions s
                    WHERE s.name OPERATOR(pg_catalog.=) subscription_consumers.subscription));
COMMENT ON COLUMN chronicle.event_log.tenant IS
    'The stream''s tenant (chronicle.tenant of the session that created the stream; '''' for none).';
COMMENT ON COLUMN chronicle.streams.tenant IS
    'The tenant that owns the stream (chronicle.tenant of the session that created it; '''' for none). Stream ids are shared by all tenants.';
COMMENT ON COLUMN chronicle.subscriptions.tenant IS
    'The tenant that owns the subscription: it delivers only that tenant''s events.';
COMMENT ON FUNCTION chronicle.current_tenant() IS
    'The session''s tenant (the chronicle.tenant setting, which only a superuser can set; '''' for none).';
COMMENT ON FUNCTION chronicle._regroup(text, int) IS 'Internal: poll''s change of the consumer group size.';
COMMENT ON FUNCTION chronicle._skip(text, int, bigint, bigint) IS 'Internal: poll''s move of a checkpoint past events that are not for the consumer.';
COMMENT ON FUNCTION chronicle._in_tenant(text, text) IS 'Internal: whether a stream is the tenant''s.';
COMMENT ON FUNCTION chronicle._event_id_at(bigint, text) IS 'Internal: the event_id at a feed position, if it is the tenant''s.';

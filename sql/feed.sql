-- The global feed: its reads (read_all, feed_head), the view of its state,
-- and the internal pieces the subscriptions share. Positions are handed out
-- by the sealer (pg_extension/src/seal.rs and sealer.rs).

INSERT INTO chronicle.feed_state (system_identifier, horizon, position)
VALUES (chronicle_internal._system_identifier(), pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()), 0);

-- The sealed events at positions (after_position, up_to], in no particular
-- order (callers ORDER BY global_position): the chunks that hold them,
-- unnested, and each event fetched by its key. A SQL function without SET
-- clauses, so that it is inlined into the caller's query (every name in it
-- is schema-qualified).
CREATE FUNCTION chronicle_internal._feed_range(after_position bigint, up_to bigint) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE
AS $$
SELECT c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1,
       e.event_id, e.stream_id, e.stream_type, e.version, e.event_type, e.schema_version,
       CASE WHEN e.personal_key IS NULL THEN e.data
            ELSE chronicle_internal._reveal(e.data, 'data', e.event_id, e.personal_key, e.personal_paths) END,
       CASE WHEN e.personal_key IS NULL THEN e.metadata
            ELSE chronicle_internal._reveal(e.metadata, 'metadata', e.event_id, e.personal_key, e.personal_paths) END,
       e.correlation_id, e.causation_id, e.actor, e.occurred_at, e.recorded_at
  FROM chronicle.feed c
 CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(c.keys), pg_catalog.unnest(c.ids)) WITH ORDINALITY AS u(key, id, ord)
 CROSS JOIN LATERAL (
       SELECT l.* FROM chronicle.event_log l
        WHERE l.seal_key OPERATOR(pg_catalog.=) u.key AND l.id OPERATOR(pg_catalog.=) u.id
       OFFSET 0) e
 WHERE c.first_position OPERATOR(pg_catalog.>) (after_position OPERATOR(pg_catalog.-) 128)
   AND c.first_position OPERATOR(pg_catalog.<=) up_to
   AND (c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.>) after_position
   AND (c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.<=) up_to
$$;
COMMENT ON FUNCTION chronicle_internal._feed_range(bigint, bigint) IS
    'Internal: the sealed events at positions (after_position, up_to], unordered.';

-- Whether an event (stream_type, event_type, stream_id) passes a feed filter:
-- one stream type and/or some event types (NULL: all), and consumer k of n
-- (the core's consumer_of). Inlined like _feed_range.
CREATE FUNCTION chronicle_internal._delivers(
    only_stream_type text, only_event_types text[], consumer int, consumers int,
    stream_type text, event_type text, stream_id text
) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (only_stream_type IS NULL OR _delivers.stream_type OPERATOR(pg_catalog.=) only_stream_type)
   AND (only_event_types IS NULL OR _delivers.event_type OPERATOR(pg_catalog.=) ANY (only_event_types))
   AND (consumers OPERATOR(pg_catalog.=) 1
        OR chronicle_internal._consumer_of(_delivers.stream_id, consumers) OPERATOR(pg_catalog.=) consumer);
COMMENT ON FUNCTION chronicle_internal._delivers(text, text[], int, int, text, text, text) IS
    'Internal: whether an event passes a feed filter (stream type, event types, consumer k of n).';

-- A page of the feed: at most max_count events after after_position that
-- pass the filter, up to position up_to, in order. Positions are dense, so
-- it reads windows of positions: exactly max_count of them without a filter.
-- A window that yields fewer events than it has positions (a filter, or
-- row-level security hiding other tenants' events) makes the next one twice
-- as wide, so that a sparse page costs few windows.
CREATE FUNCTION chronicle_internal._feed_page(
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
            SELECT v.* FROM chronicle_internal._feed_range(lo, hi) v
             WHERE unfiltered
                OR chronicle_internal._delivers(only_stream_type, only_event_types, consumer, consumers,
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
COMMENT ON FUNCTION chronicle_internal._feed_page(bigint, int, bigint, text, text[], int, int) IS
    'Internal: a filtered page of the feed, in order.';

CREATE FUNCTION chronicle.read_all(
    after_position bigint DEFAULT 0,
    max_count int DEFAULT 1000,
    stream_type text DEFAULT NULL,
    event_types text[] DEFAULT NULL
) RETURNS SETOF chronicle.events
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    after_position := coalesce(after_position, 0);
    max_count := coalesce(max_count, 1000);
    PERFORM chronicle_internal._check_feed_read(after_position, max_count, read_all.stream_type, event_types);
    PERFORM chronicle_internal._feed_tick();
    RETURN QUERY
        SELECT * FROM chronicle_internal._feed_page(after_position, max_count, chronicle.feed_head(),
                                                    read_all.stream_type, event_types, 0, 1);
END
$$;
COMMENT ON FUNCTION chronicle.read_all(bigint, int, text, text[]) IS
    'The global feed: at most max_count committed events after after_position in global_position order (dense: 1, 2, 3, ...; no event ever appears before one already returned), optionally of one stream type and/or some event types.';

CREATE FUNCTION chronicle.feed_head() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT pg_catalog.max(s.position) FROM chronicle.feed_state s), 0);
COMMENT ON FUNCTION chronicle.feed_head() IS
    'The last global_position handed out so far (0 if none).';

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

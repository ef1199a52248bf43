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
        SELECT v.* FROM chronicle.events v
         WHERE v.correlation_id = read_correlation.correlation_id
         ORDER BY v.global_position NULLS LAST, v.recorded_at, v.stream_id, v.version;
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

CREATE FUNCTION chronicle.stream_types()
RETURNS TABLE (stream_type text, streams bigint, events numeric, has_reducer boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.stream_type, count(*), sum(s.version),
           EXISTS (SELECT FROM chronicle.reducers r WHERE r.stream_type = s.stream_type)
      FROM chronicle.streams s
     GROUP BY s.stream_type
     ORDER BY s.stream_type
$$;

CREATE FUNCTION chronicle.reducer(stream_type text) RETURNS chronicle.reducers
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r chronicle.reducers;
BEGIN
    PERFORM chronicle._require('stream_type', reducer.stream_type IS NOT NULL);
    SELECT * INTO r FROM chronicle.reducers d WHERE d.stream_type = reducer.stream_type;
    RETURN r;
END
$$;

-- A stream as NDJSON: the header line (chronicle._export_header, in Rust:
-- the format is the core's), then one event per line, as read_stream returns
-- them. One snapshot for both (a STABLE function): the header's version is
-- the events' head.
CREATE FUNCTION chronicle.export_stream(
    stream_id text,
    from_version bigint DEFAULT 1,
    to_version bigint DEFAULT NULL
) RETURNS SETOF text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN NEXT chronicle._export_header(export_stream.stream_id, from_version, to_version);
    RETURN QUERY
        SELECT to_jsonb(e)::text
          FROM chronicle.read_stream(export_stream.stream_id, from_version, to_version) e;
END
$$;

-- An export appended as a new stream (under its own id, or stream_id), in
-- batches of chronicle.max_batch_events, all in the caller's transaction.
CREATE FUNCTION chronicle.import_stream(lines text, stream_id text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    batch record;
    version bigint := 0;
BEGIN
    FOR batch IN
        SELECT * FROM chronicle._import_batches(lines,
                        current_setting('chronicle.max_batch_events')::int)
    LOOP
        version := chronicle.append_events(coalesce(import_stream.stream_id, batch.stream_id),
                                           batch.events, version, batch.stream_type);
    END LOOP;
    RETURN version;
END
$$;

-- The global feed (see pg_extension/src/feed.rs for how positions are handed out).
INSERT INTO chronicle.feed_state (system_identifier, horizon, position)
VALUES (chronicle._system_identifier(), pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()), 0);

-- The sealed events at positions (after_position, up_to], in no particular
-- order (callers ORDER BY global_position): the chunks that hold them,
-- unnested, and each event fetched by its key. A SQL function without SET
-- clauses, so that it is inlined into the caller's query (every name in it
-- is schema-qualified).
CREATE FUNCTION chronicle._feed_range(after_position bigint, up_to bigint) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE
AS $$
SELECT c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1,
       e.event_id, e.stream_id, e.stream_type, e.version, e.event_type, e.schema_version,
       e.data, e.metadata, e.correlation_id, e.causation_id, e.actor, e.occurred_at, e.recorded_at
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

-- Whether an event (stream_type, event_type, stream_id) passes a feed filter:
-- one stream type and/or some event types (NULL: all), and consumer k of n.
-- Inlined like _feed_range.
CREATE FUNCTION chronicle._delivers(
    only_stream_type text, only_event_types text[], consumer int, consumers int,
    stream_type text, event_type text, stream_id text
) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (only_stream_type IS NULL OR _delivers.stream_type OPERATOR(pg_catalog.=) only_stream_type)
   AND (only_event_types IS NULL OR _delivers.event_type OPERATOR(pg_catalog.=) ANY (only_event_types))
   AND (consumers OPERATOR(pg_catalog.=) 1
        OR pg_catalog.mod(pg_catalog.mod(pg_catalog.hashtextextended(_delivers.stream_id, 0), consumers::bigint)
                          OPERATOR(pg_catalog.+) consumers, consumers::bigint) OPERATOR(pg_catalog.=) consumer);

-- A page of the feed: at most max_count events after after_position that
-- pass the filter, up to position up_to, in order. Positions are dense, so
-- it reads windows of positions: exactly max_count of them without a filter.
-- A window that yields fewer events than it has positions (a filter, or
-- row-level security hiding other tenants' events) makes the next one twice
-- as wide, so that a sparse page costs few windows.
CREATE FUNCTION chronicle._feed_page(
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
    PERFORM chronicle._check_feed_read(after_position, max_count, read_all.stream_type, event_types);
    PERFORM chronicle._feed_tick();
    RETURN QUERY
        SELECT * FROM chronicle._feed_page(after_position, max_count, chronicle.feed_head(),
                                           read_all.stream_type, event_types, 0, 1);
END
$$;

CREATE FUNCTION chronicle.feed_head() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT pg_catalog.max(s.position) FROM chronicle.feed_state s), 0);

-- Subscriptions.
CREATE FUNCTION chronicle.create_subscription(
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

CREATE FUNCTION chronicle.drop_subscription(name text) RETURNS void
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
CREATE FUNCTION chronicle._subscription(name text, lock boolean) RETURNS chronicle.subscriptions
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

CREATE FUNCTION chronicle.poll(
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

-- poll runs with its caller's rights (row-level security then shows it only
-- its tenant's events); its two writes to the checkpoints run as the owner,
-- and each checks for itself that it is what poll would do, so that calling
-- them directly gains nothing.

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

-- Moves consumer k's checkpoint of a subscription (row locked by the caller)
-- forward to to_position, counting processed events, and updates the
-- subscription's group checkpoint.
CREATE FUNCTION chronicle._move_checkpoint(
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

CREATE FUNCTION chronicle.ack(name text, "position" bigint, consumer int DEFAULT 0) RETURNS bigint
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

CREATE FUNCTION chronicle.pause_subscription(name text) RETURNS chronicle.subscriptions
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

CREATE FUNCTION chronicle.resume_subscription(name text) RETURNS chronicle.subscriptions
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

CREATE FUNCTION chronicle.fail_subscription(name text, error text) RETURNS chronicle.subscriptions
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

CREATE FUNCTION chronicle.reset_subscription(name text, to_position bigint DEFAULT 0) RETURNS chronicle.subscriptions
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

COMMENT ON FUNCTION chronicle.read_all(bigint, int, text, text[]) IS
    'The global feed: committed events after after_position in global_position order (dense: 1, 2, 3, ...; no event ever appears before one already returned), optionally of one stream type and/or some event types.';
COMMENT ON FUNCTION chronicle.feed_head() IS
    'The last global_position handed out so far (0 if none).';
COMMENT ON FUNCTION chronicle.seal(bigint) IS
    'Hands out global positions to every event that can have one now (at most max_events) and returns how many. The sealer worker does this on its own; call it to seal without waiting. Needs a READ COMMITTED read-write transaction on the primary.';
COMMENT ON FUNCTION chronicle.create_subscription(text, text, text[], bigint) IS
    'Creates a named subscription to the global feed (optionally one stream type and/or some event types) starting after start_position.';
COMMENT ON FUNCTION chronicle.drop_subscription(text) IS 'Drops a subscription and its checkpoints.';
COMMENT ON FUNCTION chronicle.poll(text, int, int, int) IS
    'The next events of a subscription after its consumer''s checkpoint, in feed order. With consumers => n, consumer k (0 .. n-1) receives only the streams whose hash mod n is k (per-stream order kept). Nothing while paused or failed. Acknowledge with chronicle.ack.';
COMMENT ON FUNCTION chronicle.ack(text, bigint, int) IS
    'Moves a consumer''s checkpoint forward to position (never back) and returns the checkpoint; positions beyond the feed''s head are refused.';
COMMENT ON FUNCTION chronicle.pause_subscription(text) IS 'Pauses a subscription: poll returns nothing until resume_subscription.';
COMMENT ON FUNCTION chronicle.resume_subscription(text) IS 'Resumes a paused or failed subscription (clears its error).';
COMMENT ON FUNCTION chronicle.fail_subscription(text, text) IS 'Marks a subscription failed with an error message: poll returns nothing until resume_subscription.';
COMMENT ON FUNCTION chronicle.reset_subscription(text, bigint) IS
    'Moves every checkpoint of a subscription to to_position (rebuild a projection); status rebuilding until the checkpoint reaches the head at reset time.';
COMMENT ON FUNCTION chronicle._move_checkpoint(chronicle.subscriptions, int, bigint, bigint, bigint) IS 'Internal: moves a consumer''s checkpoint forward and updates the group checkpoint.';
COMMENT ON FUNCTION chronicle._delivers(text, text[], int, int, text, text, text) IS 'Internal: whether an event passes a feed filter (stream type, event types, consumer k of n).';
COMMENT ON FUNCTION chronicle._feed_range(bigint, bigint) IS 'Internal: the sealed events at positions (after_position, up_to], unordered.';
COMMENT ON FUNCTION chronicle._feed_page(bigint, int, bigint, text, text[], int, int) IS 'Internal: a filtered page of the feed, in order.';
COMMENT ON FUNCTION chronicle._subscription(text, boolean) IS 'Internal: a subscription''s row (42704 if missing).';
COMMENT ON FUNCTION chronicle._system_identifier() IS 'Internal: the cluster''s system identifier.';
COMMENT ON FUNCTION chronicle._feed_tick() IS 'Internal: makes sure a sealer runs before a feed read.';
COMMENT ON FUNCTION chronicle._check_feed_read(bigint, bigint, text, text[]) IS 'Internal: argument checks of read_all.';
COMMENT ON FUNCTION chronicle._check_subscription(text, text, text[], bigint, bigint) IS 'Internal: argument checks of create_subscription.';
COMMENT ON FUNCTION chronicle._check_poll(text, bigint, bigint, bigint) IS 'Internal: argument checks of poll.';
COMMENT ON FUNCTION chronicle._check_position(text, text, text, bigint, bigint) IS 'Internal: argument checks of the subscription functions.';
COMMENT ON FUNCTION chronicle._subscription_error(text, boolean) IS 'Internal: raises 42704 (missing) or 42710 (exists) for a subscription.';
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
COMMENT ON FUNCTION chronicle.stream_types() IS
    'Every stream type with its number of streams and events, and whether a reducer is defined for it.';
COMMENT ON FUNCTION chronicle.reducer(text) IS
    'The reducer defined for a stream type (definition, revision, defined_at), or NULL.';
COMMENT ON FUNCTION chronicle.export_stream(text, bigint, bigint) IS
    'A stream as NDJSON lines: a header (stream, version, reducer, upcasters, schemas, export time, Chronicle version), then one event per line with its full envelope. 42704 if the stream does not exist.';
COMMENT ON FUNCTION chronicle.import_stream(text, text) IS
    'Appends the events of an export (the lines of export_stream joined by newlines) as a new stream, under its own id or stream_id; returns its version. Event ids, data, metadata and occurrence times are kept; versions are the same, recording times and positions are new.';
COMMENT ON FUNCTION chronicle._export_header(text, bigint, bigint) IS 'Internal: the header line of export_stream.';
COMMENT ON FUNCTION chronicle._import_batches(text, int) IS 'Internal: an export read back as append_events batches.';
COMMENT ON FUNCTION chronicle.canonical_json(jsonb) IS
    'The canonical JSON text of a value (keys sorted, no white space, exact numbers): the form in which the browser''s replay and state_at are compared byte for byte.';
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

CREATE VIEW chronicle.subscription_lag AS
SELECT s.name, s.status, s.last_position AS "position", h.head,
       h.head - s.last_position AS lag, s.last_processed_at AS last_processed,
       s.error_message
  FROM chronicle.subscriptions s, (SELECT chronicle.feed_head() AS head) h;
COMMENT ON VIEW chronicle.subscription_lag IS
    'Each subscription''s checkpoint against the head of the feed (seed 003''s projection lag): lag counts positions, including events the subscription''s filter skips.';

CREATE VIEW chronicle.feed_status AS
SELECT st.head_position,
       (SELECT count(*) FROM chronicle.event_log e
         WHERE (e.seal_key, e.id) > (st.horizon, st.after_id) AND e.id >= st.first_id) AS waiting_events,
       st.last_sealed_at,
       (SELECT min(a.pid) FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'chronicle sealer' AND a.datid = (SELECT d.oid FROM pg_catalog.pg_database d
                                                                   WHERE d.datname = current_database())) AS sealer_pid,
       o.pid AS oldest_xact_pid,
       o.datname AS oldest_xact_database,
       o.age AS oldest_xact_age,
       o.state AS oldest_xact_state
  FROM (SELECT coalesce(max(s.position), 0) AS head_position, max(s.sealed_at) AS last_sealed_at,
               coalesce(max(s.horizon), '0'::xid8) AS horizon, coalesce(max(s.after_id), 0) AS after_id,
               coalesce(max(s.first_id), 0) AS first_id
          FROM chronicle.feed_state s) st
  LEFT JOIN LATERAL (
        SELECT x.pid, x.datname, x.age, x.state
          FROM (SELECT a.pid, a.datname, now() - a.xact_start AS age, a.state,
                       pg_catalog.age(a.backend_xid) AS xid_age
                  FROM pg_catalog.pg_stat_activity a
                 WHERE a.backend_xid IS NOT NULL
                UNION ALL
                SELECT NULL, p.database, now() - p.prepared, 'prepared transaction ' || p.gid,
                       pg_catalog.age(p.transaction)
                  FROM pg_catalog.pg_prepared_xacts p) x
         ORDER BY x.xid_age DESC
         LIMIT 1) o ON true;
COMMENT ON VIEW chronicle.feed_status IS
    'The global feed: its head position, events committed but not yet sealed, when the sealer last handed out positions, its pid, and the oldest transaction with an id in the cluster (in any database, prepared transactions included; state says which): events appended after it started are sealed only once it ends.';

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

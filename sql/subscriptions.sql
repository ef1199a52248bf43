-- Subscriptions: named followers of the global feed whose checkpoints live
-- in chronicle.subscriptions and chronicle.subscription_consumers. Every
-- decision (argument checks, status transitions, checkpoint moves, which
-- consumer of a group receives a stream) is the core's
-- (chronicle_core::subscription, through the chronicle_internal functions
-- of pg_extension/src/subscriptions.rs); these functions hold the queries.
--
-- Naming rules: the subscription's name comes first; a position where
-- delivery starts after is after_position, a position a checkpoint moves to
-- is to_position; a page size is max_count; the lifecycle verbs (create,
-- drop, pause, resume, fail, reset) return the subscription's row.

-- The subscription's row, locked (FOR UPDATE) or not; raises 42704, naming
-- function, if it is missing or another tenant's.
CREATE FUNCTION chronicle_internal._subscription(function_name text, name text, lock boolean)
RETURNS chronicle.subscriptions
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
        PERFORM chronicle_internal._subscription_error(function_name, _subscription.name, true);
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION chronicle_internal._subscription(text, text, boolean) IS
    'Internal: a subscription''s row (42704 if missing).';

-- Applies a command of the core's state machine to a subscription (row
-- locked by the caller) and returns the row after it.
CREATE FUNCTION chronicle_internal._transition(
    sub chronicle.subscriptions, command text, to_position bigint DEFAULT NULL,
    error_message text DEFAULT NULL
) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed chronicle.subscriptions;
BEGIN
    UPDATE chronicle.subscriptions s
       SET (status, last_position, rebuild_target, error_message) =
           (SELECT n.status, n.last_position, n.rebuild_target, n.error_message
              FROM chronicle_internal._subscription_next(s.status, s.last_position, s.rebuild_target,
                       s.error_message, command, _transition.to_position, chronicle.feed_head(),
                       _transition.error_message) n)
     WHERE s.name = sub.name
    RETURNING s.* INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION chronicle_internal._transition(chronicle.subscriptions, text, bigint, text) IS
    'Internal: a subscription after a command of its state machine (pause, resume, fail, reset, checkpoint).';

-- Whether a stream is the tenant's. Inlined like _feed_range.
CREATE FUNCTION chronicle_internal._in_tenant(stream_id text, tenant text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (SELECT FROM chronicle.streams s
                WHERE s.stream_id OPERATOR(pg_catalog.=) _in_tenant.stream_id
                  AND s.tenant OPERATOR(pg_catalog.=) _in_tenant.tenant);
COMMENT ON FUNCTION chronicle_internal._in_tenant(text, text) IS 'Internal: whether a stream is the tenant''s.';

-- The event_id at a position of the feed, if it is the tenant's.
CREATE FUNCTION chronicle_internal._event_id_at("position" bigint, tenant text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT v.event_id FROM chronicle_internal._feed_range("position" OPERATOR(pg_catalog.-) 1, "position") v
         WHERE chronicle_internal._in_tenant(v.stream_id, _event_id_at.tenant));
COMMENT ON FUNCTION chronicle_internal._event_id_at(bigint, text) IS
    'Internal: the event_id at a feed position, if it is the tenant''s.';

-- The matching events of consumer k between two positions, for the counts
-- of ack.
CREATE FUNCTION chronicle_internal._matching(sub chronicle.subscriptions, consumer int, after_position bigint, up_to bigint)
RETURNS bigint
LANGUAGE sql STABLE
RETURN (SELECT pg_catalog.count(*) FROM chronicle_internal._feed_range(after_position, up_to) v
         WHERE chronicle_internal._delivers(sub.stream_type, sub.event_types, _matching.consumer, sub.consumers,
                                            v.stream_type, v.event_type, v.stream_id)
           AND chronicle_internal._in_tenant(v.stream_id, sub.tenant));
COMMENT ON FUNCTION chronicle_internal._matching(chronicle.subscriptions, int, bigint, bigint) IS
    'Internal: how many events between two positions a consumer of a subscription receives.';

-- Moves consumer k's checkpoint of a subscription (row locked by the
-- caller) to to_position, counting processed events, and moves the group
-- checkpoint (the slowest consumer's) with the core's state machine.
CREATE FUNCTION chronicle_internal._move_checkpoint(
    sub chronicle.subscriptions, consumer int, to_position bigint, processed bigint
) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    group_checkpoint bigint;
BEGIN
    UPDATE chronicle.subscription_consumers c
       SET position = to_position,
           last_event_id = chronicle_internal._event_id_at(to_position, sub.tenant),
           last_processed_at = CASE WHEN processed > 0 THEN now() ELSE c.last_processed_at END,
           events_processed = c.events_processed + processed
     WHERE c.subscription = sub.name AND c.consumer = _move_checkpoint.consumer;
    SELECT min(c.position) INTO group_checkpoint FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name;
    UPDATE chronicle.subscriptions s
       SET last_event_id = chronicle_internal._event_id_at(group_checkpoint, sub.tenant),
           last_processed_at = CASE WHEN processed > 0 THEN now() ELSE s.last_processed_at END,
           events_processed = s.events_processed + processed
     WHERE s.name = sub.name;
    PERFORM chronicle_internal._transition(sub, 'checkpoint', group_checkpoint);
END
$$;
COMMENT ON FUNCTION chronicle_internal._move_checkpoint(chronicle.subscriptions, int, bigint, bigint) IS
    'Internal: moves a consumer''s checkpoint and the group checkpoint.';

CREATE FUNCTION chronicle.create_subscription(
    name text,
    stream_type text DEFAULT NULL,
    event_types text[] DEFAULT NULL,
    after_position bigint DEFAULT 0
) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    created chronicle.subscriptions;
BEGIN
    after_position := coalesce(after_position, 0);
    PERFORM chronicle_internal._check_subscription(create_subscription.name, create_subscription.stream_type,
                                                   create_subscription.event_types, after_position,
                                                   chronicle.feed_head());
    INSERT INTO chronicle.subscriptions AS s (name, stream_type, event_types, last_position, last_event_id, tenant)
    VALUES (create_subscription.name, create_subscription.stream_type, create_subscription.event_types,
            after_position, chronicle_internal._event_id_at(after_position, chronicle.current_tenant()),
            chronicle.current_tenant())
    ON CONFLICT ON CONSTRAINT subscriptions_pkey DO NOTHING
    RETURNING s.* INTO created;
    IF created.name IS NULL THEN
        PERFORM chronicle_internal._subscription_error('create_subscription', create_subscription.name, false);
    END IF;
    INSERT INTO chronicle.subscription_consumers (subscription, consumer, position)
    VALUES (created.name, 0, after_position);
    RETURN created;
END
$$;
COMMENT ON FUNCTION chronicle.create_subscription(text, text, text[], bigint) IS
    'Creates a named subscription to the global feed (optionally one stream type and/or some event types) that delivers the events after after_position; returns its row (42710 if the name exists).';

CREATE FUNCTION chronicle.drop_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dropped chronicle.subscriptions;
BEGIN
    PERFORM chronicle_internal._check_name('drop_subscription', drop_subscription.name, '', NULL, 0);
    DELETE FROM chronicle.subscriptions s
     WHERE s.name = drop_subscription.name AND s.tenant = chronicle.current_tenant()
    RETURNING s.* INTO dropped;
    IF dropped.name IS NULL THEN
        PERFORM chronicle_internal._subscription_error('drop_subscription', drop_subscription.name, true);
    END IF;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION chronicle.drop_subscription(text) IS
    'Drops a subscription and its checkpoints; returns its row as it was.';

-- poll runs with its caller's rights (row-level security then shows it only
-- its tenant's events); its two writes to the checkpoints run as the owner,
-- and each checks for itself that it is what poll would do, so that calling
-- them directly gains nothing.

-- A new group size: every consumer starts again from the group's checkpoint
-- (streams move between consumers; at-least-once).
CREATE FUNCTION chronicle_internal._regroup(name text, consumers int) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    PERFORM chronicle_internal._check_poll(_regroup.name, 0, 0, _regroup.consumers);
    sub := chronicle_internal._subscription('poll', _regroup.name, true);
    IF sub.consumers <> _regroup.consumers THEN
        DELETE FROM chronicle.subscription_consumers c WHERE c.subscription = sub.name;
        INSERT INTO chronicle.subscription_consumers (subscription, consumer, position)
        SELECT sub.name, k, sub.last_position FROM generate_series(0, _regroup.consumers - 1) k;
        UPDATE chronicle.subscriptions s SET consumers = _regroup.consumers WHERE s.name = sub.name;
    END IF;
END
$$;
COMMENT ON FUNCTION chronicle_internal._regroup(text, int) IS 'Internal: poll''s change of the consumer group size.';

-- Moves consumer k's checkpoint from from_position to to_position when no
-- event in between is for it (what poll found) and it is still there.
CREATE FUNCTION chronicle_internal._skip(name text, consumer int, from_position bigint, to_position bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
    current bigint;
    skip_to bigint;
BEGIN
    PERFORM chronicle_internal._check_name('poll', _skip.name, 'to_position', to_position, chronicle.feed_head());
    sub := chronicle_internal._subscription('poll', _skip.name, true);
    SELECT c.position INTO current FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = _skip.consumer FOR UPDATE;
    skip_to := chronicle_internal._skip_to(current, from_position, to_position);
    IF skip_to IS NULL
       OR chronicle_internal._matching(sub, _skip.consumer, from_position, skip_to) > 0 THEN
        RETURN;
    END IF;
    PERFORM chronicle_internal._move_checkpoint(sub, _skip.consumer, skip_to, 0);
END
$$;
COMMENT ON FUNCTION chronicle_internal._skip(text, int, bigint, bigint) IS
    'Internal: poll''s move of a checkpoint past events that are not for the consumer.';

CREATE FUNCTION chronicle.poll(
    name text,
    max_count int DEFAULT 1000,
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
    max_count := coalesce(max_count, 1000);
    consumer := coalesce(consumer, 0);
    consumers := coalesce(consumers, 1);
    PERFORM chronicle_internal._check_poll(poll.name, max_count, consumer, consumers);
    sub := chronicle_internal._subscription('poll', poll.name, false);
    IF NOT chronicle_internal._delivers_in(sub.status) OR max_count = 0 THEN
        RETURN;
    END IF;
    IF sub.consumers <> poll.consumers THEN
        PERFORM chronicle_internal._regroup(poll.name, poll.consumers);
    END IF;
    SELECT c.position INTO from_position FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = poll.consumer;
    PERFORM chronicle_internal._feed_tick();
    scan_to := chronicle_internal._scan_end(from_position, chronicle.feed_head());
    RETURN QUERY
        SELECT * FROM chronicle_internal._feed_page(from_position, max_count, scan_to,
                                                    sub.stream_type, sub.event_types, poll.consumer, poll.consumers);
    IF NOT FOUND AND scan_to > from_position THEN
        -- Nothing for this consumer up to scan_to: move its checkpoint
        -- there, so the next poll does not scan the same positions again.
        PERFORM chronicle_internal._skip(poll.name, poll.consumer, from_position, scan_to);
    END IF;
END
$$;
COMMENT ON FUNCTION chronicle.poll(text, int, int, int) IS
    'At most max_count of the next events of a subscription after its consumer''s checkpoint, in feed order. With consumers => n, consumer k (0 .. n-1) receives only the streams assigned to it (each stream to one consumer, in order). Nothing while paused or failed. Acknowledge with chronicle.ack.';

CREATE FUNCTION chronicle.ack(name text, to_position bigint, consumer int DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
    current bigint;
    moved_to bigint;
BEGIN
    consumer := coalesce(consumer, 0);
    PERFORM chronicle_internal._check_name('ack', ack.name, 'to_position', ack.to_position, chronicle.feed_head());
    sub := chronicle_internal._subscription('ack', ack.name, true);
    SELECT c.position INTO current FROM chronicle.subscription_consumers c
     WHERE c.subscription = sub.name AND c.consumer = ack.consumer FOR UPDATE;
    IF current IS NULL THEN
        PERFORM chronicle_internal._check_poll(ack.name, 1, consumer, sub.consumers);
    END IF;
    moved_to := chronicle_internal._ack_to(current, ack.to_position);
    IF moved_to IS NULL THEN
        RETURN current;
    END IF;
    PERFORM chronicle_internal._move_checkpoint(sub, ack.consumer, moved_to,
        chronicle_internal._matching(sub, ack.consumer, current, moved_to));
    RETURN moved_to;
END
$$;
COMMENT ON FUNCTION chronicle.ack(text, bigint, int) IS
    'Moves a consumer''s checkpoint forward to to_position (never back) and returns the checkpoint; positions beyond the feed''s head are refused.';

-- A command of the state machine on a subscription named by a caller
-- (function_name): its checks, its row locked, the transition.
CREATE FUNCTION chronicle_internal._command(
    function_name text, name text, command text, error_message text DEFAULT ''
) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM chronicle_internal._check_name(function_name, _command.name, '', NULL, 0, _command.error_message);
    RETURN chronicle_internal._transition(chronicle_internal._subscription(function_name, _command.name, true),
                                          command, NULL, _command.error_message);
END
$$;
COMMENT ON FUNCTION chronicle_internal._command(text, text, text, text) IS
    'Internal: pause, resume or fail a subscription for the function named.';

CREATE FUNCTION chronicle.pause_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN chronicle_internal._command('pause_subscription', name, 'pause');
COMMENT ON FUNCTION chronicle.pause_subscription(text) IS
    'Pauses a subscription: poll returns nothing until resume_subscription. Returns its row.';

CREATE FUNCTION chronicle.resume_subscription(name text) RETURNS chronicle.subscriptions
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN chronicle_internal._command('resume_subscription', name, 'resume');
COMMENT ON FUNCTION chronicle.resume_subscription(text) IS
    'Resumes a paused or failed subscription (clears its error; rebuilding again if a rebuild was under way). Returns its row.';

CREATE FUNCTION chronicle.fail_subscription(name text, error_message text) RETURNS chronicle.subscriptions
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN chronicle_internal._command('fail_subscription', name, 'fail', error_message);
COMMENT ON FUNCTION chronicle.fail_subscription(text, text) IS
    'Marks a subscription failed with an error message: poll returns nothing until resume_subscription. Returns its row.';

CREATE FUNCTION chronicle.reset_subscription(name text, to_position bigint DEFAULT 0) RETURNS chronicle.subscriptions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sub chronicle.subscriptions;
BEGIN
    to_position := coalesce(to_position, 0);
    PERFORM chronicle_internal._check_name('reset_subscription', reset_subscription.name, 'to_position',
                                           to_position, chronicle.feed_head());
    sub := chronicle_internal._subscription('reset_subscription', reset_subscription.name, true);
    UPDATE chronicle.subscription_consumers c
       SET position = to_position, last_event_id = NULL, last_processed_at = NULL, events_processed = 0
     WHERE c.subscription = sub.name;
    UPDATE chronicle.subscriptions s
       SET last_event_id = chronicle_internal._event_id_at(to_position, sub.tenant),
           events_processed = 0
     WHERE s.name = sub.name;
    RETURN chronicle_internal._transition(sub, 'reset', to_position);
END
$$;
COMMENT ON FUNCTION chronicle.reset_subscription(text, bigint) IS
    'Moves every checkpoint of a subscription to to_position (rebuild a projection); status rebuilding until the checkpoint reaches the head at reset time. Returns its row.';

CREATE VIEW chronicle.subscription_lag AS
SELECT s.name, s.status, s.last_position, h.head_position,
       h.head_position - s.last_position AS lag, s.last_processed_at, s.error_message
  FROM chronicle.subscriptions s, (SELECT chronicle.feed_head() AS head_position) h;
COMMENT ON VIEW chronicle.subscription_lag IS
    'Each subscription''s checkpoint against the head of the feed (a projection''s lag): lag counts positions, including events the subscription''s filter skips.';

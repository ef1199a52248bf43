-- Monitoring views: activity per day and per stream.

-- Start from an empty store.
DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

SELECT chronicle.append_events('order-1', '[{"event_type": "OrderCreated", "data": {}},
                                            {"event_type": "ItemAdded", "data": {}},
                                            {"event_type": "OrderPaid", "data": {}}]');
SELECT chronicle.append_event('order-2', 'OrderCreated', '{}');
SELECT chronicle.append_event('cart-1', 'CartOpened', '{}');

SELECT day = (SELECT (min(recorded_at) AT TIME ZONE 'UTC')::date FROM chronicle.events) AS recording_day,
       events, streams, event_types
  FROM chronicle.daily_activity;

-- The most active streams.
SELECT stream_id, stream_type, events, first_event_at <= last_event_at AS ordered
  FROM chronicle.stream_activity
 ORDER BY events DESC, stream_id
 LIMIT 2;

-- A subscription's lag behind the feed's head.
SELECT FROM chronicle.seal();
SELECT name FROM chronicle.create_subscription('projector', after_position => 2);
SELECT name, status, last_position, head_position, lag, last_processed_at, error_message
  FROM chronicle.subscription_lag;

-- The views are documented like everything else.
SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented
  FROM pg_class c
 WHERE c.relnamespace = 'chronicle'::regnamespace AND c.relkind = 'v'
 ORDER BY 1;

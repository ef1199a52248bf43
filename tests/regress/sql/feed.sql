-- The global feed: dense positions, read_all, subscriptions, monitoring.
-- chronicle.seal() hands out positions now (the sealer worker would do it
-- within milliseconds); its count is not shown, as the worker may have
-- sealed some events first: what it did is.

DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

SELECT chronicle.append_event('order-1', 'OrderPlaced', '{"total": 10}');
SELECT chronicle.append_event('cust-1', 'CustomerJoined', '{}');
SELECT chronicle.append_events('order-1', '[{"event_type": "ItemAdded", "data": {"sku": "a"}},
                                            {"event_type": "ItemAdded", "data": {"sku": "b"}}]');
SELECT chronicle.append_event('order-2', 'OrderPlaced', '{"total": 5}');
-- A rolled-back append leaves no hole in the feed.
BEGIN;
SELECT chronicle.append_event('order-3', 'OrderPlaced', '{}');
ROLLBACK;
-- A rejected append neither.
SELECT chronicle.append_event('order-2', 'OrderPaid', '{}', expected_version => 7);
SELECT chronicle.append_event('order-2', 'OrderPaid', '{}');
SELECT FROM chronicle.seal();
SELECT count(*) AS events, count(global_position) AS sealed, chronicle.feed_head() AS head
  FROM chronicle.events;

-- Positions 1..6 in the order of the appending transactions; each stream in version order.
SELECT global_position, stream_id, version, event_type FROM chronicle.read_all();
SELECT chronicle.feed_head();
-- Paging, filters.
SELECT global_position, stream_id, version FROM chronicle.read_all(after_position => 2, max_count => 2);
SELECT global_position, stream_id FROM chronicle.read_all(stream_type => 'order', event_types => ARRAY['OrderPlaced']);
SELECT count(*) FROM chronicle.read_all(after_position => 6);
-- read_stream shows the positions too.
SELECT version, global_position FROM chronicle.read_stream('order-1');

-- An argument with a default takes it when passed NULL.
SELECT count(*) FROM chronicle.read_all(after_position => NULL, max_count => NULL);
-- Bad arguments.
SELECT chronicle.read_all(after_position => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.read_all(max_count => -5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.read_all(event_types => ARRAY[]::text[]);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.read_all(event_types => ARRAY['OrderPlaced', NULL]);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.read_all(stream_type => 'no spaces');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Sealing needs a READ COMMITTED read-write transaction.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT chronicle.seal();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN READ ONLY;
SELECT chronicle.seal();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT chronicle.seal(max_count => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- read_all works in both (it only reads).
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT count(*) FROM chronicle.read_all();
COMMIT;

-- Subscriptions.
SELECT name, stream_type, event_types, status, last_position, events_processed, consumers
  FROM chronicle.create_subscription('orders', stream_type => 'order');
SELECT name, last_position FROM chronicle.create_subscription('everything', after_position => 2);
SELECT * FROM chronicle.create_subscription('orders');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.create_subscription('late', after_position => 99);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.create_subscription(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM chronicle.create_subscription('x''); DROP TABLE chronicle.event_log; --', event_types => ARRAY['A;B']);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- An odd name is just a name.
SELECT name FROM chronicle.create_subscription('x''); DROP TABLE chronicle.event_log; --');
SELECT name FROM chronicle.drop_subscription('x''); DROP TABLE chronicle.event_log; --');
SELECT count(*) AS events_still_there FROM chronicle.event_log;

SELECT global_position, stream_id, version FROM chronicle.poll('orders', max_count => 2);
-- Polling again without ack delivers the same events (at-least-once).
SELECT global_position FROM chronicle.poll('orders', max_count => 2);
SELECT chronicle.ack('orders', 3);
SELECT global_position, stream_id, version FROM chronicle.poll('orders');
-- The checkpoint only moves forward.
SELECT chronicle.ack('orders', 1);
SELECT chronicle.ack('orders', 6);
SELECT name, status, last_position, events_processed, last_event_id = (SELECT event_id FROM chronicle.events WHERE global_position = 6) AS last_event
  FROM chronicle.subscriptions WHERE name = 'orders';
SELECT count(*) FROM chronicle.poll('orders');
-- Beyond the head, negative, unknown subscription, bad consumer.
SELECT chronicle.ack('orders', 7);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.ack('orders', -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.ack('orders', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.ack('nope', 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.poll('nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.poll('orders', consumer => 2, consumers => 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.poll('orders', consumers => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT chronicle.ack('orders', 6, consumer => 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- max_count => 0 returns nothing and moves nothing.
SELECT count(*) FROM chronicle.poll('everything', max_count => 0);
SELECT last_position FROM chronicle.subscriptions WHERE name = 'everything';

-- Pause, fail, resume.
SELECT status FROM chronicle.pause_subscription('everything');
SELECT count(*) FROM chronicle.poll('everything');
SELECT status FROM chronicle.resume_subscription('everything');
SELECT global_position FROM chronicle.poll('everything', max_count => 1);
SELECT status, error_message FROM chronicle.fail_subscription('everything', 'projection crashed on position 3');
SELECT count(*) FROM chronicle.poll('everything');
SELECT name, status, last_position, head_position, lag, last_processed_at IS NOT NULL AS processed, error_message
  FROM chronicle.subscription_lag ORDER BY name;
SELECT status, error_message FROM chronicle.resume_subscription('everything');
SELECT * FROM chronicle.fail_subscription('everything', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Reset: rebuilding until the checkpoint reaches the head at reset time.
SELECT status, last_position, rebuild_target, events_processed FROM chronicle.reset_subscription('orders');
SELECT global_position FROM chronicle.poll('orders', max_count => 2);
SELECT chronicle.ack('orders', 3);
SELECT status FROM chronicle.subscriptions WHERE name = 'orders';
SELECT chronicle.ack('orders', 6);
SELECT status, rebuild_target FROM chronicle.subscriptions WHERE name = 'orders';
SELECT * FROM chronicle.reset_subscription('orders', to_position => 7);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT status FROM chronicle.reset_subscription('orders', to_position => 6);
-- A rebuild that reaches its target while paused is running once resumed.
SELECT status FROM chronicle.reset_subscription('orders', to_position => 2);
SELECT status FROM chronicle.pause_subscription('orders');
SELECT chronicle.ack('orders', 6);
SELECT status, rebuild_target FROM chronicle.resume_subscription('orders');

-- Consumer groups: consumer k of n gets the streams whose hash mod n is k;
-- together they get every event once.
SELECT name FROM chronicle.create_subscription('grouped');
SELECT k, array_agg(global_position ORDER BY global_position) AS positions
  FROM generate_series(0, 2) k, chronicle.poll('grouped', 100, k, 3)
 GROUP BY k ORDER BY k;
SELECT consumer, position FROM chronicle.subscription_consumers WHERE subscription = 'grouped' ORDER BY 1;
SELECT chronicle.ack('grouped', 6, 0), chronicle.ack('grouped', 6, 1);
-- The group's checkpoint is its slowest consumer's.
SELECT last_position, consumers FROM chronicle.subscriptions WHERE name = 'grouped';
SELECT chronicle.ack('grouped', 6, 2);
SELECT last_position, events_processed FROM chronicle.subscriptions WHERE name = 'grouped';
-- Resizing the group restarts every consumer at the group checkpoint and
-- keeps the count of processed events.
SELECT count(*) FROM chronicle.poll('grouped', consumers => 2);
SELECT consumer, position, events_processed FROM chronicle.subscription_consumers WHERE subscription = 'grouped' ORDER BY 1;
SELECT last_position, events_processed, consumers FROM chronicle.subscriptions WHERE name = 'grouped';

-- Monitoring.
SELECT head_position, waiting_events, last_sealed_at IS NOT NULL AS sealed_once FROM chronicle.feed_status;
SELECT name, last_position, events_processed FROM chronicle.drop_subscription('grouped');
SELECT * FROM chronicle.drop_subscription('grouped');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM chronicle.subscription_consumers WHERE subscription = 'grouped';

-- A rolled-back savepoint leaves no hole either.
BEGIN;
SAVEPOINT s;
SELECT chronicle.append_event('order-3', 'OrderPlaced', '{}');
ROLLBACK TO SAVEPOINT s;
SELECT chronicle.append_event('order-2', 'OrderNoted', '{}');
COMMIT;
SELECT FROM chronicle.seal();
SELECT count(*) AS events, count(global_position) AS sealed, chronicle.feed_head() AS head
  FROM chronicle.events;
SELECT global_position, stream_id, version, event_type FROM chronicle.read_all(after_position => 5);
SELECT count(*) FROM chronicle.events WHERE stream_id = 'order-3';

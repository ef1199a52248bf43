//! The operations view's API: the global feed, the subscriptions and their
//! consumers' checkpoints (live, once a second over Server-Sent Events),
//! and the slower picture of activity and the lifecycle (on request).
//!
//! Every answer is made of sections, each one query of Chronicle's views and
//! tables (as the reader the dashboard logs in as sees them: row-level
//! security leaves other tenants out). A section that fails carries the
//! database's error instead of its data, so a role that may not read one
//! part still sees the others.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use tokio_postgres::types::ToSql;

use crate::app::{query, App};

pub fn router() -> Router<App> {
    Router::new()
        .route("/", get(snapshot))
        .route("/live", get(live))
        .route("/activity", get(activity))
        .route("/streams", get(notable_streams))
}

/// The feed's state (chronicle.feed_status) with the server's clock.
const FEED: &str = "
SELECT pg_catalog.json_build_object(
         'head_position', f.head_position, 'waiting_events', f.waiting_events,
         'last_sealed_at', f.last_sealed_at, 'sealer_pid', f.sealer_pid,
         'waiting_for', f.waiting_for, 'open_appenders', f.open_appenders,
         'holder_pid', f.holder_pid, 'holder_xid', f.holder_xid::text,
         'holder_state', f.holder_state,
         'holder_seconds', extract(epoch FROM f.holder_age)::float8,
         'holder_user', f.holder_user, 'holder_application', f.holder_application,
         'now', pg_catalog.now())::text
  FROM chronicle.feed_status f";

/// Every subscription with its group's checkpoint and each consumer's.
const SUBSCRIPTIONS: &str = "
SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
         'name', s.name, 'status', s.status, 'stream_type', s.stream_type,
         'event_types', s.event_types, 'last_position', s.last_position,
         'lag', h.head - s.last_position, 'last_processed_at', s.last_processed_at,
         'events_processed', s.events_processed, 'error_message', s.error_message,
         'rebuild_target', s.rebuild_target,
         'consumers', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                                 'consumer', c.consumer, 'position', c.position,
                                 'lag', h.head - c.position,
                                 'last_processed_at', c.last_processed_at,
                                 'events_processed', c.events_processed) ORDER BY c.consumer), '[]')
                         FROM chronicle.subscription_consumers c
                        WHERE c.subscription = s.name))
         ORDER BY s.name), '[]')::text
  FROM chronicle.subscriptions s, (SELECT chronicle.feed_head() AS head) h";

/// Events and streams per day over the last 14 days (chronicle.daily_activity).
const DAYS: &str = "
SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
         'day', d.day, 'events', d.events, 'streams', d.streams) ORDER BY d.day), '[]')::text
  FROM chronicle.daily_activity d
 WHERE d.day > (pg_catalog.now() AT TIME ZONE 'UTC')::date - 14";

/// How many of the feed's last events the busiest streams and types are
/// counted over (one read of the feed's tail, whatever the store's size).
const RECENT_EVENTS: i64 = 10_000;

/// The busiest streams and event types among the feed's last events.
const BUSIEST: &str = "
WITH recent AS (
  SELECT e.stream_id, e.stream_type, e.event_type
    FROM chronicle.read_all(greatest(chronicle.feed_head() - $1::bigint, 0), $1::bigint::int) e
)
SELECT pg_catalog.json_build_object(
  'positions', $1::bigint,
  'events', (SELECT count(*) FROM recent),
  'streams', (SELECT coalesce(pg_catalog.json_agg(t), '[]') FROM (
                SELECT r.stream_id, r.stream_type, count(*) AS events FROM recent r
                 GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 10) t),
  'event_types', (SELECT coalesce(pg_catalog.json_agg(t), '[]') FROM (
                SELECT r.event_type, count(*) AS events FROM recent r
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10) t))::text";

/// The streams written last (the start page's "recently active").
const RECENT_STREAMS: &str = "
SELECT coalesce(pg_catalog.json_agg(t), '[]')::text FROM (
  SELECT a.stream_id, a.stream_type, a.events, a.last_event_at
    FROM chronicle.stream_activity a
   ORDER BY a.last_event_at DESC, a.stream_id LIMIT 10) t";

/// The largest streams (by events stored).
const LARGEST_STREAMS: &str = "
SELECT coalesce(pg_catalog.json_agg(t), '[]')::text FROM (
  SELECT a.stream_id, a.stream_type, a.events, a.last_event_at
    FROM chronicle.stream_activity a
   ORDER BY a.events DESC, a.stream_id LIMIT 10) t";

/// Retention rules, and what the lifecycle did to streams: counts, and the
/// latest deletions, truncations and archivings (read from the streams'
/// heads, which a reader may see; the lifecycle log is chronicle_admin's).
const LIFECYCLE: &str = "
SELECT pg_catalog.json_build_object(
  'retention', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                         'stream_type', r.stream_type, 'max_age', r.max_age::text,
                         'max_count', r.max_count, 'defined_at', r.defined_at,
                         'streams', (SELECT count(*) FROM chronicle.streams s
                                      WHERE s.stream_type = r.stream_type AND s.deleted_at IS NULL))
                       ORDER BY r.stream_type), '[]')
                  FROM chronicle.retention_rules r),
  'deleted', (SELECT count(*) FROM chronicle.streams s WHERE s.deleted_at IS NOT NULL),
  'archived', (SELECT count(*) FROM chronicle.streams s WHERE s.archived_at IS NOT NULL),
  'truncated', (SELECT count(*) FROM chronicle.streams s
                 WHERE s.deleted_at IS NULL AND s.first_version > 1),
  'latest', (SELECT coalesce(pg_catalog.json_agg(t), '[]') FROM (
               SELECT s.stream_id, s.stream_type,
                      CASE WHEN s.hard_deleted THEN 'deleted_for_good'
                           WHEN s.deleted_at IS NOT NULL THEN 'deleted' ELSE 'archived' END AS state,
                      s.version, greatest(s.deleted_at, s.archived_at) AS at
                 FROM chronicle.streams s
                WHERE s.deleted_at IS NOT NULL OR s.archived_at IS NOT NULL
                ORDER BY 5 DESC, 1 LIMIT 10) t))::text";

/// One section: the query's JSON, or `{"error": {...}}` with the
/// database's error.
async fn section(app: &App, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Value {
    let rows = match query(app, sql, params).await {
        Ok(rows) => rows,
        Err(e) => return json!({ "error": e.into_body() }),
    };
    // Each query returns one row of JSON text (json_build_object, json_agg).
    match rows
        .first()
        .map(|r| serde_json::from_str(r.get::<_, &str>(0)))
    {
        Some(Ok(value)) => value,
        Some(Err(e)) => {
            json!({ "error": { "code": "XX000", "message": format!("the database answered text that is not JSON: {e}") } })
        }
        None => json!({ "error": { "code": "XX000", "message": "the database answered no row" } }),
    }
}

/// The live part: the feed and the subscriptions.
async fn live_snapshot(app: &App) -> Value {
    let (feed, subscriptions) =
        tokio::join!(section(app, FEED, &[]), section(app, SUBSCRIPTIONS, &[]));
    json!({ "feed": feed, "subscriptions": subscriptions })
}

async fn snapshot(State(app): State<App>) -> Json<Value> {
    Json(live_snapshot(&app).await)
}

#[derive(Deserialize)]
struct LiveQuery {
    interval_ms: Option<u64>,
}

/// `event: ops` with a snapshot (as `/api/ops`) at once, then every
/// `interval_ms` (default 1000, 250..=60000).
async fn live(
    State(app): State<App>,
    Query(q): Query<LiveQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let every = Duration::from_millis(q.interval_ms.unwrap_or(1000).clamp(250, 60_000));
    let stream = futures_util::stream::unfold((app, None), move |(app, ticker)| async move {
        let mut ticker = match ticker {
            None => {
                let mut t = tokio::time::interval(every);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            }
            Some(t) => t,
        };
        ticker.tick().await;
        let data = live_snapshot(&app).await.to_string();
        Some((
            Ok(Event::default().event("ops").data(data)),
            (app, Some(ticker)),
        ))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The streams written last and the largest ones: `{recent_streams,
/// largest_streams}` (the time-travel page's start page).
async fn notable_streams(State(app): State<App>) -> Json<Value> {
    let (recent, largest) = tokio::join!(
        section(&app, RECENT_STREAMS, &[]),
        section(&app, LARGEST_STREAMS, &[]),
    );
    Json(json!({ "recent_streams": recent, "largest_streams": largest }))
}

/// Activity and the lifecycle: `{days, busiest, recent_streams,
/// largest_streams, lifecycle}` (each a section).
async fn activity(State(app): State<App>) -> Json<Value> {
    let (days, busiest, recent, largest, lifecycle) = tokio::join!(
        section(&app, DAYS, &[]),
        section(&app, BUSIEST, &[&RECENT_EVENTS]),
        section(&app, RECENT_STREAMS, &[]),
        section(&app, LARGEST_STREAMS, &[]),
        section(&app, LIFECYCLE, &[]),
    );
    let mut out = Map::new();
    out.insert("days".into(), days);
    out.insert("busiest".into(), busiest);
    out.insert("recent_streams".into(), recent);
    out.insert("largest_streams".into(), largest);
    out.insert("lifecycle".into(), lifecycle);
    Json(Value::Object(out))
}

//! The dashboard's JSON API for the time-travel page. Each handler is one
//! call of a `chronicle.*` SQL function with bound parameters (the
//! operations view's, in ops.rs, read Chronicle's monitoring views); errors
//! are the database's, unchanged (app.rs).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

use crate::app::{query, ApiResult, App};

/// The routes under /api (the operations view's under /api/ops).
pub fn router(app: App) -> Router {
    Router::new()
        .route("/info", get(info))
        .route("/stream-types", get(stream_types))
        .route("/streams", get(streams))
        .route("/streams/{stream_id}/export", get(export))
        .route("/streams/{stream_id}/state", get(state))
        .route("/reducers/{stream_type}", get(reducer))
        .route("/correlations/{correlation_id}", get(correlation))
        .route("/live", get(live_updates))
        .nest("/ops", crate::ops::router())
        .with_state(app)
}

/// A response whose body is JSON text the database wrote.
fn json_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

async fn info(State(app): State<App>) -> ApiResult<Json<Value>> {
    let rows = query(
        &app,
        "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'chronicle'),
                pg_catalog.current_database()::text, chronicle.feed_head()",
        &[],
    )
    .await?;
    let row = &rows[0];
    Ok(Json(json!({
        "chronicle_version": row.get::<_, Option<String>>(0),
        "database": row.get::<_, String>(1),
        "feed_head": row.get::<_, i64>(2),
    })))
}

async fn stream_types(State(app): State<App>) -> ApiResult<Json<Value>> {
    let rows = query(
        &app,
        "SELECT stream_type, streams, events, has_reducer FROM chronicle.list_stream_types()",
        &[],
    )
    .await?;
    Ok(Json(Value::Array(
        rows.iter()
            .map(|r| {
                json!({"stream_type": r.get::<_, String>(0), "streams": r.get::<_, i64>(1),
                       "events": r.get::<_, i64>(2), "has_reducer": r.get::<_, bool>(3)})
            })
            .collect(),
    )))
}

#[derive(Deserialize)]
struct StreamsQuery {
    prefix: Option<String>,
    #[serde(rename = "type")]
    stream_type: Option<String>,
    after: Option<String>,
    limit: Option<i32>,
}

/// A page of streams; `next` is the `after` of the following page. Each
/// says what the lifecycle did to it (`state`: `deleted`,
/// `deleted_for_good`, `archived`, `truncated` or null, and `first_version`),
/// read from the row as JSON so that a schema before 0.6.0 answers too.
async fn streams(State(app): State<App>, Query(q): Query<StreamsQuery>) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let empty_is_none = |s: Option<String>| s.filter(|s| !s.is_empty());
    let rows = query(
        &app,
        "SELECT s.stream_id, s.stream_type, s.version,
                pg_catalog.to_json(s.first_event_at)::text, pg_catalog.to_json(s.last_event_at)::text,
                CASE WHEN l.j ->> 'hard_deleted' = 'true' THEN 'deleted_for_good'
                     WHEN l.j ->> 'deleted_at' IS NOT NULL THEN 'deleted'
                     WHEN l.j ->> 'archived_at' IS NOT NULL THEN 'archived'
                     WHEN (l.j ->> 'first_version')::pg_catalog.int8 > 1 THEN 'truncated' END,
                coalesce((l.j ->> 'first_version')::pg_catalog.int8, 1)
           FROM chronicle.list_streams($1, $2, $3, $4) s,
                LATERAL (SELECT pg_catalog.to_jsonb(s) AS j) l",
        &[
            &empty_is_none(q.stream_type),
            &empty_is_none(q.prefix),
            &empty_is_none(q.after),
            &(limit + 1),
        ],
    )
    .await?;
    let more = rows.len() > limit as usize;
    let page: Vec<Value> = rows
        .iter()
        .take(limit as usize)
        .map(|r| {
            let time = |i| serde_json::from_str::<Value>(&r.get::<_, String>(i)).unwrap_or(Value::Null);
            json!({"stream_id": r.get::<_, String>(0), "stream_type": r.get::<_, String>(1),
                   "version": r.get::<_, i64>(2), "first_event_at": time(3), "last_event_at": time(4),
                   "state": r.get::<_, Option<String>>(5), "first_version": r.get::<_, i64>(6)})
        })
        .collect();
    let next = more
        .then(|| page.last().map(|s| s["stream_id"].clone()))
        .flatten();
    Ok(Json(json!({"streams": page, "next": next})))
}

/// Most versions one export request returns: big streams come in pages.
const MAX_PAGE: i64 = 50_000;

#[derive(Deserialize)]
struct RangeQuery {
    from_version: Option<i64>,
    to_version: Option<i64>,
}

/// The NDJSON export of a stream: a range of versions, at most
/// [`MAX_PAGE`] (the header's `to_version` says where a page ends).
async fn export(
    State(app): State<App>,
    Path(stream_id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Response> {
    let from = q.from_version.unwrap_or(1);
    let last = from.saturating_add(MAX_PAGE - 1);
    let to = Some(q.to_version.map_or(last, |t| t.min(last)));
    let rows = query(
        &app,
        "SELECT line FROM chronicle.export_stream($1, $2, $3) line",
        &[&stream_id, &from, &to],
    )
    .await?;
    let mut body = String::with_capacity(rows.len() * 400);
    for r in &rows {
        body.push_str(r.get::<_, &str>(0));
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

/// The database's state of a stream at a version, in canonical JSON: what
/// the page compares its own replay with. A stream that does not exist is
/// the database's 42704.
async fn state(
    State(app): State<App>,
    Path(stream_id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<Value>> {
    let rows = query(
        &app,
        // The version first, then the state at it: the two agree even
        // while the stream grows.
        "SELECT chronicle.canonical_json(chronicle.state_at($1, s.v)), s.v
           FROM (SELECT LEAST(COALESCE($2, chronicle.stream_version($1)),
                              chronicle.stream_version($1)) AS v) s",
        &[&stream_id, &q.version],
    )
    .await?;
    Ok(Json(
        json!({"version": rows[0].get::<_, i64>(1), "state": rows[0].get::<_, String>(0)}),
    ))
}

/// The reducer of a stream type (the database's 42704 if it has none).
async fn reducer(State(app): State<App>, Path(stream_type): Path<String>) -> ApiResult<Response> {
    let rows = query(
        &app,
        "SELECT pg_catalog.json_build_object('stream_type', r.stream_type, 'definition', r.definition,
                                             'revision', r.revision, 'defined_at', r.defined_at)::text
           FROM chronicle.reducer($1) r",
        &[&stream_type],
    )
    .await?;
    Ok(json_text(rows[0].get(0)))
}

/// The events of a correlation, across streams, in feed order.
async fn correlation(
    State(app): State<App>,
    Path(correlation_id): Path<String>,
) -> ApiResult<Response> {
    let rows = query(
        &app,
        "SELECT COALESCE(pg_catalog.json_agg(e)::text, '[]')
           FROM chronicle.read_correlation($1::text) e",
        &[&correlation_id],
    )
    .await?;
    Ok(json_text(rows[0].get(0)))
}

/// Server-Sent Events: `event: append`, data `{"stream_type", "stream_id",
/// "version", "position"}` for every stream that gets events; `resync` and
/// `lagged` when some may have been missed.
async fn live_updates(
    State(app): State<App>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(app.live.subscribe()).filter_map(|m| match m {
        Ok((event, data)) => Some(Ok(Event::default().event(event).data(data))),
        // A slow client missed some: tell it to reload what it shows.
        Err(_) => Some(Ok(Event::default().event("lagged").data("{}"))),
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

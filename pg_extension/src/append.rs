//! The append path: `chronicle.append_event` and `chronicle.append_events`.
//!
//! The steps and their order are the core's (`chronicle_core::append`):
//! validate, detect a retry, lock the stream, read its head, decide, write.
//!
//! Locking is per stream: a transaction-scoped advisory lock on a 64-bit
//! hash of the stream id. Appends to different streams never wait for each
//! other; appends to one stream queue on the lock, and each reads the head
//! only after it holds the lock, in a fresh snapshot (READ COMMITTED), so it
//! sees what the previous holder committed. Under REPEATABLE READ a stale
//! snapshot makes the head upsert fail with SQLSTATE 40001, which is what
//! retry helpers expect. The unique (stream_id, version) index backs it all.

use std::cell::OnceCell;

use chronicle_core::append::{check_append_args, decide_append, require, Head};
use chronicle_core::batch::parse_batch;
use chronicle_core::event::{validate_payload, Payload};
use chronicle_core::sequencing::{classify_retry, IdCheck, Retry, StoredEvent};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient};
use pgrx::{pg_sys, PgOid};
use serde_json::{Map, Value};

use crate::errors::OrRaise;
use crate::guc;
use crate::raw_jsonb::RawJsonb;

const LOOKUP_ONE: &str = "\
SELECT e.stream_id, e.version,
       e.event_type OPERATOR(pg_catalog.=) $2 AND e.data OPERATOR(pg_catalog.=) $3
  FROM chronicle.events e
 WHERE e.event_id OPERATOR(pg_catalog.=) $1";

const LOOKUP_BATCH: &str = "\
SELECT t.ord, e.stream_id, e.version,
       e.event_type OPERATOR(pg_catalog.=) (t.item OPERATOR(pg_catalog.->>) 'event_type')
       AND e.data OPERATOR(pg_catalog.=) (t.item OPERATOR(pg_catalog.->) 'data')
  FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY AS t(item, ord)
  JOIN chronicle.events e
    ON e.event_id OPERATOR(pg_catalog.=) (t.item OPERATOR(pg_catalog.->>) 'event_id')::uuid";

// A seed so that Chronicle's lock keys differ from a plain hash an
// application might use for its own advisory locks.
const LOCK: &str = "\
SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1, 3141592653589793))";

const HEAD: &str = "\
SELECT s.version, s.stream_type FROM chronicle.streams s
 WHERE s.stream_id OPERATOR(pg_catalog.=) $1";

// The head is written first (the events insert reads its RETURNING), so a
// stale snapshot fails on the head with 40001 before any event is written.
const WRITE_HEAD: &str = "\
WITH head AS (
  INSERT INTO chronicle.streams AS s (stream_id, stream_type, version, first_event_at, last_event_at)
  VALUES ($1, $2, $4, pg_catalog.now(), pg_catalog.now())
  ON CONFLICT (stream_id) DO UPDATE
     SET version = EXCLUDED.version, last_event_at = EXCLUDED.last_event_at
  RETURNING s.stream_id, s.stream_type
)";

fn write_one_sql() -> String {
    format!(
        "{WRITE_HEAD}
INSERT INTO chronicle.events (event_id, stream_id, stream_type, version, event_type, schema_version,
                              data, metadata, correlation_id, causation_id, actor, occurred_at)
SELECT COALESCE($5, pg_catalog.gen_random_uuid()), head.stream_id, head.stream_type, $3, $6, $7,
       $8, COALESCE($9, '{{}}'::jsonb), $10, $11, $12, COALESCE($13, pg_catalog.now())
  FROM head"
    )
}

fn write_batch_sql() -> String {
    format!(
        "{WRITE_HEAD}
INSERT INTO chronicle.events (event_id, stream_id, stream_type, version, event_type, schema_version,
                              data, metadata, correlation_id, causation_id, actor, occurred_at)
SELECT COALESCE((t.item OPERATOR(pg_catalog.->>) 'event_id')::uuid, pg_catalog.gen_random_uuid()),
       head.stream_id, head.stream_type,
       $3 OPERATOR(pg_catalog.+) t.ord OPERATOR(pg_catalog.-) 1,
       t.item OPERATOR(pg_catalog.->>) 'event_type',
       COALESCE((t.item OPERATOR(pg_catalog.->>) 'schema_version')::int, 1),
       t.item OPERATOR(pg_catalog.->) 'data',
       COALESCE(NULLIF(t.item OPERATOR(pg_catalog.->) 'metadata', 'null'::jsonb), '{{}}'::jsonb),
       (t.item OPERATOR(pg_catalog.->>) 'correlation_id')::uuid,
       (t.item OPERATOR(pg_catalog.->>) 'causation_id')::uuid,
       t.item OPERATOR(pg_catalog.->>) 'actor',
       COALESCE((t.item OPERATOR(pg_catalog.->>) 'occurred_at')::timestamptz, pg_catalog.now())
  FROM head, pg_catalog.jsonb_array_elements($5) WITH ORDINALITY AS t(item, ord)"
    )
}

/// The append path's statements, planned once per session.
struct Plans {
    lookup_one: OwnedPreparedStatement,
    lookup_batch: OwnedPreparedStatement,
    lock: OwnedPreparedStatement,
    head: OwnedPreparedStatement,
    write_one: OwnedPreparedStatement,
    write_batch: OwnedPreparedStatement,
}

thread_local! {
    static PLANS: OnceCell<&'static Plans> = const { OnceCell::new() };
}

fn plans(client: &SpiClient<'_>) -> &'static Plans {
    use pg_sys::{INT4OID, INT8OID, JSONBOID, TEXTOID, TIMESTAMPTZOID, UUIDOID};
    PLANS.with(|cell| {
        *cell.get_or_init(|| {
            // Mutating plans: SPI then takes a fresh snapshot per statement,
            // which the head read after the lock depends on.
            let prepare = |sql: &str, types: &[pg_sys::Oid]| {
                let types: Vec<PgOid> = types.iter().map(|&t| PgOid::from(t)).collect();
                client
                    .prepare_mut(sql, &types)
                    .unwrap_or_else(|e| panic!("preparing {sql}: {e}"))
                    .keep()
            };
            let write_types = [
                TEXTOID,
                TEXTOID,
                INT8OID,
                INT8OID,
                UUIDOID,
                TEXTOID,
                INT4OID,
                JSONBOID,
                JSONBOID,
                UUIDOID,
                UUIDOID,
                TEXTOID,
                TIMESTAMPTZOID,
            ];
            Box::leak(Box::new(Plans {
                lookup_one: prepare(LOOKUP_ONE, &[UUIDOID, TEXTOID, JSONBOID]),
                lookup_batch: prepare(LOOKUP_BATCH, &[JSONBOID]),
                lock: prepare(LOCK, &[TEXTOID]),
                head: prepare(HEAD, &[TEXTOID]),
                write_one: prepare(&write_one_sql(), &write_types),
                write_batch: prepare(
                    &write_batch_sql(),
                    &[TEXTOID, TEXTOID, INT8OID, INT8OID, JSONBOID],
                ),
            }))
        })
    })
}

fn spi<T>(result: Result<T, pgrx::spi::SpiError>) -> T {
    result.unwrap_or_else(|e| panic!("SPI: {e}"))
}

/// Locks the stream for the rest of the transaction and reads its head.
fn lock_and_read_head(client: &mut SpiClient<'_>, plans: &Plans, stream_id: &str) -> Option<Head> {
    spi(client.update(&plans.lock, None, &[stream_id.into()]));
    let table = spi(client.update(&plans.head, Some(1), &[stream_id.into()]));
    if table.is_empty() {
        return None;
    }
    let (version, stream_type) = spi(table.first().get_two::<i64, String>());
    Some(Head {
        version: version.expect("version is NOT NULL") as u64,
        stream_type: stream_type.expect("stream_type is NOT NULL"),
    })
}

/// Appends one event to a stream and returns the stream's new version.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn append_event(
    stream_id: Option<&str>,
    event_type: Option<&str>,
    data: Option<RawJsonb>,
    metadata: default!(Option<RawJsonb>, "'{}'"),
    expected_version: default!(Option<i64>, "NULL"),
    event_id: default!(Option<pgrx::Uuid>, "NULL"),
    stream_type: default!(Option<&str>, "NULL"),
    correlation_id: default!(Option<pgrx::Uuid>, "NULL"),
    causation_id: default!(Option<pgrx::Uuid>, "NULL"),
    actor: default!(Option<&str>, "NULL"),
    occurred_at: default!(Option<TimestampWithTimeZone>, "NULL"),
    schema_version: default!(Option<i32>, "1"),
) -> i64 {
    const FN: &str = "chronicle.append_event";
    let (stream_id, expected) =
        check_append_args(stream_id, stream_type, expected_version).or_raise(FN);
    let event_type = require(event_type, "event_type").or_raise(FN);
    let data_raw = require(data, "data").or_raise(FN);
    let data_value = data_raw.parse("data").or_raise(FN);
    let metadata_value = match metadata {
        Some(m) => m.parse("metadata").or_raise(FN),
        None => Value::Object(Map::new()),
    };
    validate_payload(
        &Payload {
            event_type,
            schema_version: schema_version.map_or(1, i64::from),
            data: &data_value,
            metadata: &metadata_value,
            actor,
        },
        &guc::limits(),
    )
    .or_raise(FN);

    Spi::connect_mut(|client| {
        let plans = plans(client);
        if let Some(id) = event_id {
            let table = spi(client.update(
                &plans.lookup_one,
                Some(1),
                &[id.into(), event_type.into(), data_raw.into()],
            ));
            let stored = (!table.is_empty()).then(|| {
                let row = table.first();
                StoredEvent {
                    stream_id: spi(row.get::<String>(1)).expect("NOT NULL"),
                    version: spi(row.get::<i64>(2)).expect("NOT NULL") as u64,
                    same_content: spi(row.get::<bool>(3)).unwrap_or(false),
                }
            });
            let check = IdCheck {
                field: "event_id".to_string(),
                event_id: Some(id.to_string()),
                stored,
            };
            if let Retry::AlreadyStored { last_version } =
                classify_retry(&stream_id, expected, &[check]).or_raise(FN)
            {
                return last_version as i64;
            }
        }

        let head = lock_and_read_head(client, plans, &stream_id);
        let decision =
            decide_append(&stream_id, expected, stream_type, head.as_ref(), 1).or_raise(FN);
        let version = decision.plan.last as i64;
        let args: [DatumWithOid; 13] = [
            stream_id.as_str().into(),
            decision.stream_type.as_str().into(),
            version.into(),
            version.into(),
            event_id.into(),
            event_type.into(),
            schema_version.unwrap_or(1).into(),
            data_raw.into(),
            metadata.into(),
            correlation_id.into(),
            causation_id.into(),
            actor.into(),
            occurred_at.into(),
        ];
        spi(client.update(&plans.write_one, None, &args));
        version
    })
}

/// Appends a batch of events to one stream, all or nothing; returns the
/// stream's new version (the version of the batch's last event).
#[pg_extern(volatile, parallel_unsafe)]
fn append_events(
    stream_id: Option<&str>,
    events: Option<RawJsonb>,
    expected_version: default!(Option<i64>, "NULL"),
    stream_type: default!(Option<&str>, "NULL"),
) -> i64 {
    const FN: &str = "chronicle.append_events";
    let (stream_id, expected) =
        check_append_args(stream_id, stream_type, expected_version).or_raise(FN);
    let events_raw = require(events, "events").or_raise(FN);
    let parsed = events_raw.parse("events").or_raise(FN);
    let batch = parse_batch(&parsed, &guc::limits()).or_raise(FN);
    drop(parsed);

    Spi::connect_mut(|client| {
        let plans = plans(client);
        if batch.iter().any(|e| e.event_id.is_some()) {
            let mut checks: Vec<IdCheck> = batch
                .iter()
                .enumerate()
                .map(|(i, e)| IdCheck {
                    field: format!("events[{i}].event_id"),
                    event_id: e.event_id.clone(),
                    stored: None,
                })
                .collect();
            for row in spi(client.update(&plans.lookup_batch, None, &[events_raw.into()])) {
                let ord = spi(row.get::<i64>(1)).expect("NOT NULL") as usize;
                checks[ord - 1].stored = Some(StoredEvent {
                    stream_id: spi(row.get::<String>(2)).expect("NOT NULL"),
                    version: spi(row.get::<i64>(3)).expect("NOT NULL") as u64,
                    same_content: spi(row.get::<bool>(4)).unwrap_or(false),
                });
            }
            if let Retry::AlreadyStored { last_version } =
                classify_retry(&stream_id, expected, &checks).or_raise(FN)
            {
                return last_version as i64;
            }
        }

        let head = lock_and_read_head(client, plans, &stream_id);
        let decision = decide_append(
            &stream_id,
            expected,
            stream_type,
            head.as_ref(),
            batch.len(),
        )
        .or_raise(FN);
        let args: [DatumWithOid; 5] = [
            stream_id.as_str().into(),
            decision.stream_type.as_str().into(),
            (decision.plan.first as i64).into(),
            (decision.plan.last as i64).into(),
            events_raw.into(),
        ];
        spi(client.update(&plans.write_batch, None, &args));
        decision.plan.last as i64
    })
}

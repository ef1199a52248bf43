//! Replay inside the database: `state_at`, `state_history` and `diff`. The fold itself is the core's (`chronicle_core::replay`); this
//! module reads the reducer and streams the events from SPI in batches, so a
//! long stream is never materialised.
//!
//! Snapshots are a cache: `state_at` starts from the newest snapshot at or
//! below its target made with the current reducer revision, and leaves one
//! at the last multiple of `chronicle.snapshot_every` it folded past (when
//! the transaction may write: not on a standby or in a read-only
//! transaction). Deleting snapshots never changes an answer.

use crate::definition_cache::Loaded;
use chronicle_core::arguments::check_version_range;
use chronicle_core::error::require;
use chronicle_core::event::Event;
use chronicle_core::lifecycle::check_kept;
use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{initial_state, Folder, OnFailure};
use chronicle_core::stream::read_target;
use chronicle_core::time::canonical_time_from_unix_micros;
use chronicle_core::upcast::Upcaster;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::JsonB;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::rc::Rc;

use crate::errors::OrRaise;
use crate::guc;
use crate::raw_jsonb::RawJsonb;
use crate::spi::{cached, fetch_each, spi, FetchedRow};

/// Rows fetched from the events cursor at a time.
const BATCH: i64 = 1000;

/// What replay needs to know about a stream.
struct ReplayTarget {
    stream_type: String,
    head: i64,
    /// None: the default merge.
    reducer: Option<Reducer>,
    /// The reducer's revision (0 for the default merge); snapshots made with
    /// another revision are not used.
    revision: i32,
    /// Applied to every event before the reducer sees it; snapshots made with
    /// other upcasters (another fingerprint) are not used.
    upcasters: Rc<Loaded<Upcaster>>,
    /// The owner of `chronicle.snapshots`: the cache is read and written as
    /// it (see `privilege.rs`).
    cache_owner: pg_sys::Oid,
    /// Where the stream's known history starts, when events were removed
    /// (`lifecycle.rs`).
    kept: Option<Kept>,
}

/// The state a stream whose first events were removed starts from.
struct Kept {
    /// The version it is at: the one before the first stored event.
    version: u64,
    /// Its base (`chronicle.stream_bases`), or None for a stream deleted
    /// and written again: the reducer's initial state.
    state: Option<Value>,
    /// recorded_at of the event at `version`, if known.
    recorded_at: Option<TimestampWithTimeZone>,
}

/// The stream's head, type and reducer; None when the stream does not exist
/// (or was deleted: it reads as not existing).
fn load_target(
    client: &SpiClient<'_>,
    stream_id: &str,
    function: &'static str,
) -> Option<ReplayTarget> {
    let (columns, join) = crate::installed::head_columns();
    let sql = format!(
        "SELECT s.stream_type, s.version, r.definition, coalesce(r.revision, 0),
                (SELECT c.relowner FROM pg_catalog.pg_class c
                  WHERE c.oid OPERATOR(pg_catalog.=) 'chronicle.snapshots'::pg_catalog.regclass),
                {columns}
           FROM chronicle.streams s
           LEFT JOIN chronicle.reducers r ON r.stream_type OPERATOR(pg_catalog.=) s.stream_type
           {join}
          WHERE s.stream_id OPERATOR(pg_catalog.=) $1"
    );
    let statement = cached(client, &sql, &[pg_sys::TEXTOID]);
    let table = spi(client.select(statement, Some(1), &[stream_id.into()]));
    if table.is_empty() {
        return None;
    }
    let row = table.first();
    if spi(row.get::<bool>(7)).expect("NOT NULL") {
        return None;
    }
    if spi(row.get::<bool>(11)).expect("NOT NULL") {
        crate::errors::raise(
            chronicle_core::Error::StreamArchived {
                stream_id: stream_id.to_string(),
                operation: "folding its state",
            },
            function,
        );
    }
    let first_version = spi(row.get::<i64>(6)).expect("NOT NULL") as u64;
    let kept = match spi(row.get::<i64>(8)) {
        Some(version) => Some(Kept {
            version: version as u64,
            state: spi(row.get::<JsonB>(9)).map(|s| s.0),
            recorded_at: spi(row.get::<TimestampWithTimeZone>(10)),
        }),
        None => (first_version > 1).then(|| Kept {
            version: first_version - 1,
            state: None,
            recorded_at: None,
        }),
    };
    let definition = spi(row.get::<JsonB>(3));
    Some(ReplayTarget {
        kept,
        stream_type: spi(row.get::<String>(1)).expect("NOT NULL"),
        head: spi(row.get::<i64>(2)).expect("NOT NULL"),
        // A stored definition was valid when it was defined; should it not
        // parse now, that is reported as an error, never a panic.
        reducer: definition.map(|d| Reducer::parse(&d.0).or_raise(function)),
        revision: spi(row.get::<i32>(4)).expect("coalesced"),
        upcasters: crate::definition_cache::upcasters(client),
        cache_owner: spi(row.get::<pg_sys::Oid>(5)).expect("a table has an owner"),
    })
}

/// The newest usable snapshot at or below `version`.
fn snapshot_at_or_below(
    client: &SpiClient<'_>,
    stream_id: &str,
    version: i64,
    target: &ReplayTarget,
) -> Option<(Value, u64)> {
    let table = spi(crate::privilege::as_owner(target.cache_owner, || {
        client.select(
            cached(
                client,
                "SELECT version, state FROM chronicle.snapshots
          WHERE stream_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.<=) $2
            AND reducer_revision OPERATOR(pg_catalog.=) $3
            AND upcasters_fingerprint OPERATOR(pg_catalog.=) $4
          ORDER BY version DESC LIMIT 1",
                &[
                    pg_sys::TEXTOID,
                    pg_sys::INT8OID,
                    pg_sys::INT4OID,
                    pg_sys::INT8OID,
                ],
            ),
            Some(1),
            &[
                stream_id.into(),
                version.into(),
                target.revision.into(),
                target.upcasters.fingerprint.into(),
            ],
        )
    }));
    if table.is_empty() {
        return None;
    }
    let (version, state) = spi(table.first().get_two::<i64, JsonB>());
    Some((
        state.expect("NOT NULL").0,
        version.expect("NOT NULL") as u64,
    ))
}

/// Microseconds between the Unix epoch and Postgres' (2000-01-01).
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The envelope fields replay can read beyond version, event_type,
/// schema_version and data, with the SQL that fetches each and its type.
const OPTIONAL_FIELDS: &[(&str, &str, pg_sys::Oid)] = &[
    ("metadata", "e.metadata", pg_sys::JSONBOID),
    ("occurred_at", "e.occurred_at", pg_sys::TIMESTAMPTZOID),
    ("recorded_at", "e.recorded_at", pg_sys::TIMESTAMPTZOID),
    ("event_id", "e.event_id", pg_sys::UUIDOID),
    // text since 0.4.0 (uuid before: the cast serves both schemas)
    (
        "correlation_id",
        "e.correlation_id::pg_catalog.text",
        pg_sys::TEXTOID,
    ),
    (
        "causation_id",
        "e.causation_id::pg_catalog.text",
        pg_sys::TEXTOID,
    ),
    ("stream_id", "e.stream_id", pg_sys::TEXTOID),
    ("stream_type", "e.stream_type", pg_sys::TEXTOID),
    ("actor", "e.actor", pg_sys::TEXTOID),
    ("global_position", "e.global_position", pg_sys::INT8OID),
];

/// The columns every replay query starts with: a fold that reads only
/// data (`Folder::reads_only_data`) needs the first two, any other the four.
const BASE_COLUMNS: [(&str, pg_sys::Oid); 4] = [
    ("e.version", pg_sys::INT8OID),
    ("e.data", pg_sys::JSONBOID),
    ("e.schema_version", pg_sys::INT4OID),
    ("e.event_type", pg_sys::TEXTOID),
];

/// The replay query: the columns every fold needs, then only the envelope
/// fields the reducer reads (fewer columns, less tuple work); the names of
/// those fields, and the types of all the columns.
fn replay_query(
    only_data: bool,
    needs: &BTreeSet<String>,
) -> (String, Vec<&'static str>, Vec<pg_sys::Oid>) {
    let base = &BASE_COLUMNS[..if only_data { 2 } else { 4 }];
    let extra: Vec<(&str, &str, pg_sys::Oid)> = OPTIONAL_FIELDS
        .iter()
        .copied()
        .filter(|(name, _, _)| !only_data && needs.contains(*name))
        .collect();
    let columns: Vec<&str> = base
        .iter()
        .map(|(sql, _)| *sql)
        .chain(extra.iter().map(|(_, sql, _)| *sql))
        .collect();
    let columns = columns.join(", ");
    let sql = format!(
        "SELECT {columns}
           FROM chronicle.events e
          WHERE e.stream_id OPERATOR(pg_catalog.=) $1
            AND e.version OPERATOR(pg_catalog.>) $2 AND e.version OPERATOR(pg_catalog.<=) $3
          ORDER BY e.version"
    );
    let types = base
        .iter()
        .map(|(_, oid)| *oid)
        .chain(extra.iter().map(|(_, _, oid)| *oid))
        .collect();
    (
        sql,
        extra.into_iter().map(|(name, _, _)| name).collect(),
        types,
    )
}

/// A stored `jsonb` column as the core reads it.
fn document(row: &FetchedRow<'_>, col: usize, field: &str, function: &'static str) -> Value {
    row.get::<RawJsonb>(col)
        .expect("NOT NULL")
        .parse(field)
        .or_raise(function)
}

/// Builds the event of a row of the replay query.
fn read_event(row: &FetchedRow<'_>, extra: &[&'static str], function: &'static str) -> Event {
    let version = row.get::<i64>(1).expect("NOT NULL") as u64;
    let mut envelope = Map::new();
    envelope.insert("data".into(), document(row, 2, "data", function));
    envelope.insert(
        "schema_version".into(),
        Value::from(row.get::<i32>(3).expect("NOT NULL")),
    );
    let event_type = row.get::<String>(4).expect("NOT NULL");
    for (i, field) in extra.iter().enumerate() {
        let col = 5 + i;
        let value = match *field {
            "metadata" => document(row, col, "metadata", function),
            "occurred_at" | "recorded_at" => {
                row.get::<TimestampWithTimeZone>(col)
                    .map_or(Value::Null, |t| {
                        Value::String(canonical_time_from_unix_micros(
                            t.into_inner() + POSTGRES_EPOCH_MICROS,
                        ))
                    })
            }
            "event_id" => row
                .get::<pgrx::Uuid>(col)
                .map_or(Value::Null, |u| Value::String(u.to_string())),
            "global_position" => row.get::<i64>(col).map_or(Value::Null, Value::from),
            _ => row.get::<String>(col).map_or(Value::Null, Value::String),
        };
        envelope.insert((*field).to_string(), value);
    }
    Event::from_checked_parts(version, event_type, envelope)
}

/// Folds the stream from the best snapshot up to `target`, calling `visit`
/// after each event, and caches the state at the last multiple of
/// `chronicle.snapshot_every` it passed (when the transaction may write).
fn replay_to<'r>(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    target: &'r ReplayTarget,
    start_below: i64,
    to_version: i64,
    function: &'static str,
    mut visit: impl FnMut(&Folder<'r>),
) -> Folder<'r> {
    let mut snapshot = snapshot_at_or_below(client, stream_id, start_below, target);
    if let Some(kept) = &target.kept {
        // The base is the oldest state there is: any snapshot at or after
        // it is as good (and made with the current reducer).
        if snapshot.as_ref().is_none_or(|(_, v)| *v < kept.version) {
            let state = kept
                .state
                .clone()
                .unwrap_or_else(|| initial_state(target.reducer.as_ref()));
            snapshot = Some((state, kept.version));
        }
    }
    let mut folder = Folder::new(target.reducer.as_ref(), snapshot, OnFailure::Stop)
        .with_upcasters(&target.upcasters.definitions);
    let start = folder.version();
    // The one version worth caching: the last multiple of snapshot_every up
    // to the target, if this fold passes it and may write.
    let every = guc::snapshot_every();
    let writable = crate::transaction::writable();
    let save_at = (every > 0 && writable)
        .then(|| to_version.max(0) as u64 / every * every)
        .filter(|&v| v > start);
    let mut to_save: Option<(u64, Value)> = None;
    let needs = target.reducer.as_ref().map_or_else(
        || BTreeSet::from(["data".to_string()]),
        Reducer::envelope_fields,
    );
    let only_data = folder.reads_only_data();
    let (sql, extra, types) = replay_query(only_data, &needs);
    let args: [DatumWithOid; 3] = [stream_id.into(), (start as i64).into(), to_version.into()];
    let statement = cached(
        client,
        &sql,
        &[pg_sys::TEXTOID, pg_sys::INT8OID, pg_sys::INT8OID],
    );
    let mut cursor = client.open_cursor(statement, &args);
    while fetch_each(&mut cursor, BATCH, &types, |row| {
        if only_data {
            let version = row.get::<i64>(1).expect("NOT NULL") as u64;
            let data = document(row, 2, "data", function);
            folder.step_data(version, data).or_raise(function);
        } else {
            folder
                .step(read_event(row, &extra, function))
                .or_raise(function);
        }
        visit(&folder);
        if Some(folder.version()) == save_at {
            to_save = Some((folder.version(), folder.state().clone()));
        }
    }) > 0
    {}
    drop(cursor);
    // A state folded from personal members would hold them in the cache,
    // readable after the subject is forgotten: such states are not cached
    // (the fold started from a snapshot made without any).
    let to_save = to_save.filter(|(version, _)| {
        !folded_personal_data(client, stream_id, start as i64, *version as i64)
    });
    if let Some((version, state)) = to_save {
        crate::privilege::as_owner(target.cache_owner, || {
            spi(client.update(
                "INSERT INTO chronicle.snapshots
                        (stream_id, version, stream_type, reducer_revision, upcasters_fingerprint, state)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                None,
                &[
                    stream_id.into(),
                    (version as i64).into(),
                    target.stream_type.as_str().into(),
                    target.revision.into(),
                    target.upcasters.fingerprint.into(),
                    JsonB(state).into(),
                ],
            ))
        });
    }
    folder
}

/// Whether any of the stream's events after `after` up to `to` has
/// personal members, or its base was folded from some (0.7.0 on).
fn folded_personal_data(client: &SpiClient<'_>, stream_id: &str, after: i64, to: i64) -> bool {
    crate::installed::personal()
        && crate::spi::first_row(
            spi(client.select(
                cached(
                    client,
                    "SELECT EXISTS (SELECT FROM chronicle.event_log e
                      WHERE e.stream_id OPERATOR(pg_catalog.=) $1
                        AND e.version OPERATOR(pg_catalog.>) $2 AND e.version OPERATOR(pg_catalog.<=) $3
                        AND e.personal_key IS NOT NULL)
                     OR EXISTS (SELECT FROM chronicle.stream_bases b
                      WHERE b.stream_id OPERATOR(pg_catalog.=) $1 AND b.personal_keys IS NOT NULL)",
                    &[pg_sys::TEXTOID, pg_sys::INT8OID, pg_sys::INT8OID],
                ),
                Some(1),
                &[stream_id.into(), after.into(), to.into()],
            )),
            &[pg_sys::BOOLOID],
            |row| row.get::<bool>(1).expect("NOT NULL"),
        )
        .expect("one row")
}

/// The state of a stream after `to_version`, or as of a moment, or at its
/// head. A stream that does not exist is 42704, a version it has not
/// reached 22023 (`chronicle_core::stream::read_target`).
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn state_at(
    stream_id: Option<&str>,
    to_version: default!(Option<i64>, "NULL"),
    as_of: default!(Option<TimestampWithTimeZone>, "NULL"),
) -> JsonB {
    const FN: &str = "chronicle.state_at";
    let stream_id = require(stream_id, "stream_id").or_raise(FN);
    // Removed history is 55Z02, a code of Chronicle's own.
    crate::errors::with_own_sqlstates(|| {
        Spi::connect_mut(|client| {
            let target = load_target(client, stream_id, FN);
            // As of t: the state before the first event recorded after t.
            let first_recorded_after = as_of.and_then(|t| {
                let first = spi(client.select(
                    cached(
                        client,
                        "SELECT pg_catalog.min(version) FROM chronicle.events
                  WHERE stream_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.>) 0
                    AND recorded_at OPERATOR(pg_catalog.>) $2",
                        &[pg_sys::TEXTOID, pg_sys::TIMESTAMPTZOID],
                    ),
                    Some(1),
                    &[stream_id.into(), t.into()],
                ));
                spi(first.first().get_one::<i64>()).map(|v| v as u64)
            });
            let head = target.as_ref().map(|t| t.head as u64);
            let version =
                read_target(stream_id, head, to_version, first_recorded_after).or_raise(FN) as i64;
            let target = target.expect("read_target refuses a missing stream");
            if let Some(kept) = &target.kept {
                // Before the base, or at a moment before its event was recorded:
                // that history is gone.
                match as_of.filter(|t| kept.recorded_at.is_some_and(|r| *t < r)) {
                    Some(t) => {
                        check_kept(stream_id, Some(kept.version), 0, "as_of", || t.to_string())
                    }
                    None => check_kept(
                        stream_id,
                        Some(kept.version),
                        version as u64,
                        "to_version",
                        || version.to_string(),
                    ),
                }
                .or_raise(FN);
            }
            let folder = replay_to(client, stream_id, &target, version, version, FN, |_| {});
            JsonB(folder.into_state())
        })
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.state_at(text, bigint, timestamptz) IS
    'The state of a stream after to_version, or before the first event recorded after as_of, or at its head (both NULL). Folds the stream with its type''s reducer (default: merge each event''s data). 42704 if the stream does not exist, 22023 for a version it has not reached.';
"#,
    name = "state_at_comment",
    requires = [state_at],
);

/// The state after each version from `from_version` to `to_version`.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn state_history(
    stream_id: Option<&str>,
    from_version: default!(Option<i64>, "1"),
    to_version: default!(Option<i64>, "NULL"),
) -> TableIterator<'static, (name!(version, i64), name!(state, JsonB))> {
    const FN: &str = "chronicle.state_history";
    let from = from_version.unwrap_or(1);
    check_version_range(stream_id, Some(from), to_version).or_raise(FN);
    // from_version 0 reads from the first event, as 1 does.
    let from = from.max(1);
    let stream_id = stream_id.expect("checked");
    let rows = crate::errors::with_own_sqlstates(|| {
        Spi::connect_mut(|client| {
            let mut rows = Vec::new();
            let Some(target) = load_target(client, stream_id, FN) else {
                return rows;
            };
            let to = to_version.map_or(target.head, |v| v.min(target.head));
            // A truncated stream's history starts after its base.
            let from = target
                .kept
                .as_ref()
                .map_or(from, |k| from.max(k.version as i64 + 1));
            replay_to(client, stream_id, &target, from - 1, to, FN, |folder| {
                if folder.version() as i64 >= from {
                    rows.push((folder.version() as i64, JsonB(folder.state().clone())));
                }
            });
            rows
        })
    });
    TableIterator::new(rows)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.state_history(text, bigint, bigint) IS
    'The state of a stream after each version from from_version to to_version (inclusive; NULL: the head), ordered by version; no rows for a stream that does not exist.';
"#,
    name = "state_history_comment",
    requires = [state_history],
);

/// The RFC 6902 JSON Patch that turns `a` into `b`.
#[pg_extern(immutable, parallel_safe)]
fn diff(a: Option<JsonB>, b: Option<JsonB>) -> JsonB {
    const FN: &str = "chronicle.diff";
    let a = require(a, "a").or_raise(FN);
    let b = require(b, "b").or_raise(FN);
    JsonB(chronicle_core::diff::diff(&a.0, &b.0))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.diff(jsonb, jsonb) IS
    'The RFC 6902 JSON Patch that turns a into b (add, remove and replace operations).';
"#,
    name = "diff_comment",
    requires = [diff],
);

/// The state of a stream at `version` (folded with the current reducer and
/// upcasters) and what it was folded with, for the base a truncation keeps.
pub(crate) struct BaseState {
    pub state: Value,
    pub recorded_at: TimestampWithTimeZone,
    pub revision: i32,
    pub fingerprint: i64,
}

pub(crate) fn base_state(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    version: u64,
    function: &'static str,
) -> BaseState {
    let target = load_target(client, stream_id, function).expect("the caller locked the stream");
    let recorded_at = crate::spi::first_row(
        spi(client.select(
            cached(
                client,
                "SELECT recorded_at FROM chronicle.event_log
              WHERE stream_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
                &[pg_sys::TEXTOID, pg_sys::INT8OID],
            ),
            None,
            &[stream_id.into(), (version as i64).into()],
        )),
        &[pg_sys::TIMESTAMPTZOID],
        |row| row.get::<TimestampWithTimeZone>(1).expect("NOT NULL"),
    )
    .expect("the base's event is stored");
    let folder = replay_to(
        client,
        stream_id,
        &target,
        version as i64,
        version as i64,
        function,
        |_| {},
    );
    BaseState {
        state: folder.into_state(),
        recorded_at,
        revision: target.revision,
        fingerprint: target.upcasters.fingerprint,
    }
}

//! Replay inside the database: `define_reducer`, `state_at`, `state_history`
//! and `diff`. The fold itself is the core's (`chronicle_core::replay`); this
//! module reads the reducer and streams the events from SPI in batches, so a
//! long stream is never materialised.

use chronicle_core::append::{check_read_range, require};
use chronicle_core::event_view::Event;
use chronicle_core::identifier::validate_type_name;
use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{parse_time, Folder, OnFailure, Until};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::JsonB;

use crate::errors::OrRaise;

/// Rows fetched from the events cursor at a time.
const BATCH: i64 = 1000;

fn spi<T>(result: Result<T, pgrx::spi::SpiError>) -> T {
    result.unwrap_or_else(|e| panic!("SPI: {e}"))
}

/// Registers (or replaces) the reducer of a stream type.
#[pg_extern(volatile, parallel_unsafe)]
fn define_reducer(stream_type: Option<&str>, definition: Option<JsonB>) {
    const FN: &str = "chronicle.define_reducer";
    let stream_type = require(stream_type, "stream_type").or_raise(FN);
    validate_type_name("stream_type", stream_type).or_raise(FN);
    let definition = require(definition, "definition").or_raise(FN).0;
    Reducer::parse(&definition).or_raise(FN);
    Spi::connect_mut(|client| {
        spi(client.update(
            "INSERT INTO chronicle.reducers AS r (stream_type, definition, revision, defined_at)
             VALUES ($1, $2, 1, pg_catalog.now())
             ON CONFLICT (stream_type) DO UPDATE
                SET definition = EXCLUDED.definition,
                    revision = r.revision OPERATOR(pg_catalog.+) 1,
                    defined_at = EXCLUDED.defined_at",
            None,
            &[stream_type.into(), JsonB(definition).into()],
        ));
    });
}

/// The stream's type and its reducer (None: the default merge); None when
/// the stream does not exist.
fn stream_reducer(client: &SpiClient<'_>, stream_id: &str) -> Option<Option<Reducer>> {
    let table = spi(client.select(
        "SELECT r.definition FROM chronicle.streams s
           LEFT JOIN chronicle.reducers r ON r.stream_type OPERATOR(pg_catalog.=) s.stream_type
          WHERE s.stream_id OPERATOR(pg_catalog.=) $1",
        Some(1),
        &[stream_id.into()],
    ));
    if table.is_empty() {
        return None;
    }
    let definition = spi(table.first().get_one::<JsonB>());
    // A stored definition was valid when it was defined, and the rules only
    // ever accept more; an error here is still reported, never a panic.
    Some(definition.map(|d| Reducer::parse(&d.0).or_raise("chronicle.state_at")))
}

/// Streams the stream's events from `from` on through `visit`, in version
/// order, until `visit` returns false.
fn for_each_event(
    client: &SpiClient<'_>,
    stream_id: &str,
    to_version: Option<i64>,
    mut visit: impl FnMut(Event) -> bool,
) {
    let args: [DatumWithOid; 2] = [stream_id.into(), to_version.unwrap_or(i64::MAX).into()];
    let mut cursor = client.open_cursor(
        "SELECT pg_catalog.to_jsonb(e) FROM chronicle.events e
          WHERE e.stream_id OPERATOR(pg_catalog.=) $1 AND e.version OPERATOR(pg_catalog.<=) $2
          ORDER BY e.version",
        &args,
    );
    loop {
        let table = spi(cursor.fetch(BATCH));
        if table.is_empty() {
            return;
        }
        for row in table {
            let envelope = spi(row.get::<JsonB>(1)).expect("a row is never NULL").0;
            let event = Event::from_json(envelope).or_raise("chronicle.state_at");
            if !visit(event) {
                return;
            }
        }
    }
}

/// The state of a stream after `to_version`, or as of a moment, or at its
/// head; NULL if the stream does not exist.
#[pg_extern(stable, parallel_safe)]
fn state_at(
    stream_id: Option<&str>,
    to_version: default!(Option<i64>, "NULL"),
    as_of: default!(Option<TimestampWithTimeZone>, "NULL"),
) -> Option<JsonB> {
    const FN: &str = "chronicle.state_at";
    check_read_range(stream_id, Some(1), to_version).or_raise(FN);
    let stream_id = stream_id.expect("checked");
    let until = match as_of {
        Some(t) => Until::Time(parse_time("as_of", &t.to_iso_string()).or_raise(FN)),
        None => Until::Head,
    };
    Spi::connect(|client| {
        let reducer = stream_reducer(client, stream_id)?;
        let mut folder = Folder::new(reducer.as_ref(), None, OnFailure::Stop);
        for_each_event(client, stream_id, to_version, |event| {
            if until.excludes(&event).or_raise(FN) {
                return false;
            }
            folder.step(&event).or_raise(FN);
            true
        });
        Some(JsonB(folder.into_state()))
    })
}

/// The state after each version from `from_version` to `to_version`.
#[pg_extern(stable, parallel_safe)]
fn state_history(
    stream_id: Option<&str>,
    from_version: default!(Option<i64>, "1"),
    to_version: default!(Option<i64>, "NULL"),
) -> TableIterator<'static, (name!(version, i64), name!(state, JsonB))> {
    const FN: &str = "chronicle.state_history";
    check_read_range(stream_id, from_version, to_version).or_raise(FN);
    let (stream_id, from) = (stream_id.expect("checked"), from_version.expect("checked"));
    let rows = Spi::connect(|client| {
        let mut rows = Vec::new();
        let Some(reducer) = stream_reducer(client, stream_id) else {
            return rows;
        };
        let mut folder = Folder::new(reducer.as_ref(), None, OnFailure::Stop);
        for_each_event(client, stream_id, to_version, |event| {
            folder.step(&event).or_raise(FN);
            if folder.version() as i64 >= from {
                rows.push((folder.version() as i64, JsonB(folder.state().clone())));
            }
            true
        });
        rows
    });
    TableIterator::new(rows)
}

/// The RFC 6902 JSON Patch that turns `a` into `b`.
#[pg_extern(immutable, parallel_safe)]
fn diff(a: Option<JsonB>, b: Option<JsonB>) -> JsonB {
    const FN: &str = "chronicle.diff";
    let a = require(a, "a").or_raise(FN);
    let b = require(b, "b").or_raise(FN);
    JsonB(chronicle_core::diff::diff(&a.0, &b.0))
}

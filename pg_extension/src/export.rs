//! A stream as NDJSON and back: the header of `chronicle.export_stream` and
//! the batches `chronicle.import_stream` appends (both SQL functions are in
//! `sql/streams.sql`). The format is the core's (`chronicle_core::export`), so
//! the WebAssembly module reads what the database writes.

use chronicle_core::arguments::check_version_range;
use chronicle_core::error::{require, Error, Object};
use chronicle_core::export::Header;
use chronicle_core::import;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::errors::{raise, OrRaise};
use crate::spi::spi;

/// The header line of an export of `stream_id`, versions `from_version` to
/// `to_version` (NULL: the head): the stream's type and version, the reducer
/// in force, every upcaster and event schema, and the export time.
#[pg_extern(
    stable,
    parallel_safe,
    name = "_export_header",
    schema = "chronicle_internal"
)]
#[search_path(pg_catalog, pg_temp)]
fn export_header(
    stream_id: Option<&str>,
    from_version: Option<i64>,
    to_version: Option<i64>,
) -> String {
    const FN: &str = "chronicle.export_stream";
    check_version_range(stream_id, from_version, to_version).or_raise(FN);
    let stream_id = stream_id.expect("checked");
    Spi::connect(|client| {
        let (columns, join) = crate::installed::head_columns();
        let rows = spi(client.select(
            &format!("SELECT s.stream_type, s.version, r.definition, COALESCE(r.revision, 0),
                    COALESCE((SELECT pg_catalog.jsonb_object_agg(u.event_type, u.chain)
                       FROM (SELECT event_type,
                                    pg_catalog.jsonb_object_agg(from_schema_version::text, steps) AS chain
                               FROM chronicle.upcasters GROUP BY event_type) u), '{{}}'),
                    COALESCE((SELECT pg_catalog.jsonb_object_agg(t.event_type, t.by_version)
                       FROM (SELECT event_type,
                                    pg_catalog.jsonb_object_agg(schema_version::text, schema) AS by_version
                               FROM chronicle.event_types GROUP BY event_type) t), '{{}}'),
                    pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    {columns}
               FROM chronicle.streams s
               LEFT JOIN chronicle.reducers r ON r.stream_type OPERATOR(pg_catalog.=) s.stream_type
               {join}
              WHERE s.stream_id OPERATOR(pg_catalog.=) $1"),
            Some(1),
            &[stream_id.into()],
        ));
        // A deleted stream reads as not existing.
        if rows.is_empty() {
            Err::<(), _>(Error::not_found(Object::Stream, stream_id)).or_raise(FN);
        }
        let row = rows.first();
        if spi(row.get::<bool>(9)).expect("NOT NULL") {
            Err::<(), _>(Error::not_found(Object::Stream, stream_id)).or_raise(FN);
        }
        let stream_type: String = spi(row.get(1)).expect("NOT NULL");
        let head = spi(row.get::<i64>(2)).expect("NOT NULL") as u64;
        let reducer = spi(row.get::<JsonB>(3)).map_or(Value::Null, |j| j.0);
        let revision = spi(row.get::<i32>(4)).expect("coalesced");
        let upcasters = spi(row.get::<JsonB>(5)).expect("coalesced").0;
        let schemas = spi(row.get::<JsonB>(6)).expect("coalesced").0;
        let exported_at: String = spi(row.get(7)).expect("NOT NULL");
        // Its first events removed: the export starts at the first one
        // stored, and carries the state before it when it starts there.
        let first_version = spi(row.get::<i64>(8)).expect("NOT NULL") as u64;
        let base_state = spi(row.get::<JsonB>(11)).map(|j| j.0);
        let from = (from_version.unwrap_or(1).max(1) as u64).max(first_version);
        let base = (first_version > 1 && from == first_version)
            .then_some((first_version - 1, base_state.as_ref()));
        Header {
            stream_id,
            stream_type: &stream_type,
            version: head,
            from_version: from,
            to_version: to_version.map_or(head, |v| (v.max(0) as u64).min(head)),
            reducer: &reducer,
            reducer_revision: i64::from(revision),
            upcasters: &upcasters,
            schemas: &schemas,
            exported_at: &exported_at,
            chronicle_version: env!("CARGO_PKG_VERSION"),
            base,
        }
        .to_json()
        .to_string()
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._export_header(text, bigint, bigint) IS
    'Internal: the header line of export_stream.';
"#,
    name = "export_header_comment",
    requires = [export_header],
);

/// The text of an import read back in `format` (NULL: Chronicle's export
/// format): its stream and its events as `append_events` batches of at most
/// `batch_size` events, in order.
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_import_batches",
    schema = "chronicle_internal"
)]
pub(crate) fn import_batches_as(
    lines: Option<&str>,
    batch_size: i32,
    format: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(stream_id, String),
        name!(stream_type, String),
        name!(events, JsonB),
    ),
> {
    const FN: &str = "chronicle.import_stream";
    let lines = require(lines, "lines").or_raise(FN);
    let imported = import::read(lines, format).or_raise(FN);
    let batches: Vec<_> = imported
        .events
        .chunks(batch_size.max(1) as usize)
        .map(|chunk| {
            (
                imported.stream_id.clone(),
                imported.stream_type.clone(),
                JsonB(Value::Array(chunk.to_vec())),
            )
        })
        .collect();
    TableIterator::new(batches)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._import_batches(text, int, text) IS
    'Internal: an import (an export, or a JSON-lines file of another store) read back as append_events batches.';
"#,
    name = "import_batches_comment",
    requires = [import_batches_as],
);

/// Where an import starts (before its batches): for an export of a
/// truncated stream, creates the stream at its base (its head at the base's
/// version, the base state kept as in `truncate_stream`) and returns that
/// version, which the batches continue from; 0 for any other import. The
/// stream must not exist (40001), as for any import.
#[pg_extern(
    volatile,
    parallel_unsafe,
    security_definer,
    name = "_import_start",
    schema = "chronicle_internal"
)]
#[search_path(pg_catalog, pg_temp)]
fn import_start(lines: Option<&str>, stream_id: Option<&str>, format: Option<&str>) -> i64 {
    const FN: &str = "chronicle.import_stream";
    let lines = require(lines, "lines").or_raise(FN);
    let (header, _) = match format.unwrap_or(chronicle_core::export::FORMAT) {
        chronicle_core::export::FORMAT => chronicle_core::export::split(lines).or_raise(FN),
        _ => return 0,
    };
    let Some((version, state)) = chronicle_core::export::check_start(&header).or_raise(FN) else {
        return 0;
    };
    crate::transaction::require_writable(FN);
    crate::installed::require_lifecycle(FN);
    let text_of = |k: &str| header[k].as_str().map(String::from);
    let stream_id = stream_id
        .map(String::from)
        .or_else(|| text_of("stream_id"))
        .ok_or_else(|| chronicle_core::export::bad_header("has no stream_id"))
        .or_raise(FN);
    let stream_type = text_of("stream_type")
        .ok_or_else(|| chronicle_core::export::bad_header("has no stream_type"))
        .or_raise(FN);
    chronicle_core::stream::validate_stream(&stream_id, Some(&stream_type)).or_raise(FN);
    Spi::connect_mut(|client| {
        // A base is a fold: it cannot be sealed member by member, nor told
        // whose data it holds. Where personal data is kept sealed, none is
        // taken in as plaintext.
        if state.is_some() && !crate::definition_cache::personal(client).is_empty() {
            raise(chronicle_core::personal::base_refused(), FN);
        }
        let created = crate::spi::first_row(
            spi(client.update(
                "WITH head AS (
                   INSERT INTO chronicle.streams AS s
                          (stream_id, stream_type, version, first_version, first_event_at, last_event_at, tenant)
                   VALUES ($1, $2, $3, $3 OPERATOR(pg_catalog.+) 1, pg_catalog.now(), pg_catalog.now(),
                           chronicle.current_tenant())
                   ON CONFLICT (stream_id) DO NOTHING
                   RETURNING s.stream_id
                 ), base AS (
                   INSERT INTO chronicle.stream_bases
                          (stream_id, version, state, recorded_at, reducer_revision, upcasters_fingerprint, tenant)
                   SELECT h.stream_id, $3, $4, pg_catalog.now(), 0, 0, chronicle.current_tenant()
                     FROM head h WHERE $4 IS NOT NULL
                 )
                 SELECT pg_catalog.count(*) FROM head",
                None,
                &[
                    stream_id.as_str().into(),
                    stream_type.as_str().into(),
                    (version as i64).into(),
                    state.map(JsonB).into(),
                ],
            )),
            &[pg_sys::INT8OID],
            |row| row.get::<i64>(1).expect("NOT NULL"),
        )
        .expect("one row");
        if created == 0 {
            // The stream exists: a retry of this import if it starts at the
            // same base (the batches then tell a retry from a conflict, as
            // for any import); else the error an import into an existing
            // stream gets.
            let found = spi(client.select(
                "SELECT version, first_version FROM chronicle.streams
                  WHERE stream_id OPERATOR(pg_catalog.=) $1",
                Some(1),
                &[stream_id.as_str().into()],
            ))
            .first()
            .get_two::<i64, i64>();
            let (actual, first) = spi(found);
            if first != Some(version as i64 + 1) {
                raise(
                    Error::VersionConflict {
                        stream_id,
                        expected: chronicle_core::ExpectedVersion::NoStream.to_string(),
                        actual: actual.unwrap_or(0) as u64,
                    },
                    FN,
                );
            }
        }
        version as i64
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._import_start(text, text, text) IS
    'Internal: where import_stream starts; for an export of a truncated stream, creates the stream at its base.';
"#,
    name = "import_start_comment",
    requires = [import_start],
);

/// The canonical JSON text of a value: keys sorted, no white space, numbers
/// exactly as stored — how the browser's replay and `state_at` are compared.
#[pg_extern(immutable, parallel_safe, strict)]
fn canonical_json(value: JsonB) -> String {
    chronicle_core::canonical::to_string(&value.0)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.canonical_json(jsonb) IS
    'The canonical JSON text of a value (keys sorted, no white space, exact numbers): the form in which the browser''s replay and state_at are compared byte for byte.';
"#,
    name = "canonical_json_comment",
    requires = [canonical_json],
);

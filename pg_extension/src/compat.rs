//! The C symbols of functions whose SQL signature changed since an older
//! release. The frozen install scripts of older releases
//! (`sql/chronicle--0.1.0.sql`, `--0.2.0.sql`) create functions that point
//! at these symbols: `CREATE EXTENSION chronicle VERSION '0.2.0'` needs them
//! to exist, and between installing a new library and `ALTER EXTENSION
//! chronicle UPDATE` they serve the old SQL as the old release did. They
//! create no SQL of their own (`sql = false`); the update drops the old
//! functions that use them.

use chronicle_core::arguments::{check_count, check_known_position, check_version_range};
use chronicle_core::error::require;
use chronicle_core::subscription::{self, check_name};
use pgrx::prelude::*;
use pgrx::JsonB;

use crate::errors::{raise, OrRaise};

/// 0.1.0-0.2.0 `chronicle._check_position(function, name, field, position, head)`.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn check_position_sql(
    function: &str,
    name: Option<&str>,
    field: &str,
    position: Option<i64>,
    head: i64,
) -> bool {
    let function = crate::errors::sql_function(function);
    check_name(name).or_raise(function);
    if !field.is_empty() {
        check_known_position(field, position, head.max(0) as u64).or_raise(function);
    }
    true
}

/// 0.1.0-0.2.0 `chronicle._check_read_range(stream_id, from_version, to_version)`.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn check_read_range_sql(
    stream_id: Option<&str>,
    from_version: Option<i64>,
    to_version: Option<i64>,
) -> bool {
    // 0.2.0 read an empty range (to_version below from_version) as no rows.
    let to_version = to_version.map(|to| to.max(from_version.unwrap_or(to)));
    check_version_range(stream_id, from_version, to_version).or_raise("chronicle.read_stream");
    true
}

/// 0.1.0-0.2.0 `chronicle._require(field, present)`.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn require_sql(field: &str, present: bool) -> bool {
    require(present.then_some(()), field).or_raise("chronicle");
    true
}

/// 0.1.0-0.2.0 `chronicle._check_count(field, value)`.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn check_count_sql(field: &str, value: Option<i64>) -> bool {
    check_count(field, value).or_raise("chronicle");
    true
}

/// 0.1.0-0.2.0 `chronicle._subscription_error(name, missing)`.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn subscription_error(name: &str, missing: bool) -> bool {
    let e = if missing {
        subscription::not_found(name)
    } else {
        subscription::exists(name)
    };
    raise(e, "chronicle")
}

/// 0.1.0-0.2.0 `chronicle.seal(max_events bigint)`.
#[pg_extern(volatile, parallel_unsafe, sql = false)]
fn seal(max_events: Option<i64>) -> i64 {
    const FN: &str = "chronicle.seal";
    let max = check_count("max_events", max_events).or_raise(FN);
    crate::transaction::require_can_seal(FN);
    if max == 0 {
        return 0;
    }
    crate::seal::seal_here(max.min(i64::MAX as u64) as i64, true)
}

/// 0.1.0-0.2.0 `chronicle.define_event_type(event_type, schema, schema_version)`.
#[pg_extern(volatile, parallel_unsafe, sql = false)]
fn define_event_type(event_type: Option<&str>, schema: Option<JsonB>, schema_version: Option<i32>) {
    crate::event_types::define(event_type, schema_version.or(Some(1)), schema);
}

/// 0.1.0-0.3.0 `chronicle.append_event(..., correlation_id uuid,
/// causation_id uuid, actor, occurred_at, schema_version)`.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, security_definer, sql = false)]
fn append_event(
    stream_id: Option<&str>,
    event_type: Option<&str>,
    data: Option<crate::raw_jsonb::RawJsonb>,
    metadata: Option<crate::raw_jsonb::RawJsonb>,
    expected_version: Option<i64>,
    event_id: Option<pgrx::Uuid>,
    stream_type: Option<&str>,
    correlation_id: Option<pgrx::Uuid>,
    causation_id: Option<pgrx::Uuid>,
    actor: Option<&str>,
    occurred_at: Option<TimestampWithTimeZone>,
    schema_version: Option<i32>,
) -> i64 {
    let correlation_id = correlation_id.map(|u| u.to_string());
    let causation_id = causation_id.map(|u| u.to_string());
    crate::append::append(
        crate::append::OneEvent {
            stream_id,
            event_type,
            data,
            metadata,
            expected_version,
            version: None,
            event_id,
            stream_type,
            correlation_id: correlation_id.as_deref(),
            causation_id: causation_id.as_deref(),
            actor,
            occurred_at,
            schema_version,
            message_db: false,
        },
        "chronicle.append_event",
    )
}

/// 0.4.0-0.4.1 `chronicle.append_event` (the signature of today's, under
/// its old symbol; see `append.rs`).
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, security_definer, sql = false)]
fn append_one(
    stream_id: Option<&str>,
    event_type: Option<&str>,
    data: Option<crate::raw_jsonb::RawJsonb>,
    metadata: Option<crate::raw_jsonb::RawJsonb>,
    expected_version: Option<i64>,
    event_id: Option<pgrx::Uuid>,
    stream_type: Option<&str>,
    correlation_id: Option<&str>,
    causation_id: Option<&str>,
    actor: Option<&str>,
    occurred_at: Option<TimestampWithTimeZone>,
    schema_version: Option<i32>,
    version: Option<i64>,
) -> i64 {
    crate::append::append_one_event(
        stream_id,
        event_type,
        data,
        metadata,
        expected_version,
        event_id,
        stream_type,
        correlation_id,
        causation_id,
        actor,
        occurred_at,
        schema_version,
        version,
    )
}

/// 0.1.0-0.4.1 `chronicle.append_events` (today's signature, old symbol).
#[pg_extern(volatile, parallel_unsafe, security_definer, sql = false)]
fn append_events(
    stream_id: Option<&str>,
    events: Option<crate::raw_jsonb::RawJsonb>,
    expected_version: Option<i64>,
    stream_type: Option<&str>,
) -> i64 {
    crate::append::append_batch(stream_id, events, expected_version, stream_type)
}

/// 0.1.0-0.3.0 `chronicle_internal._import_batches(lines, batch_size)`
/// (`chronicle._import_batches` before 0.3.0): an export read back.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn import_batches(
    lines: Option<&str>,
    batch_size: i32,
) -> TableIterator<
    'static,
    (
        name!(stream_id, String),
        name!(stream_type, String),
        name!(events, pgrx::JsonB),
    ),
> {
    crate::export::import_batches_as(lines, batch_size, None)
}

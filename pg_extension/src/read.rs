//! Argument checks for the SQL-language read functions (`sql/streams.sql`).
//!
//! The reads themselves are plain SQL (PL/pgSQL keeps their plans); these
//! helpers let them reject bad arguments with the core's errors.

use chronicle_core::arguments::{check_count, check_version_range};
use chronicle_core::error::{require, Error, Object};
use chronicle_core::identifier::reference;
use pgrx::prelude::*;

use crate::errors::{raise, sql_function, OrRaise};

/// Raises the core's error for a bad stream read; true otherwise.
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_check_version_range",
    schema = "chronicle_internal"
)]
fn check_version_range_sql(
    function_name: &str,
    stream_id: Option<&str>,
    from_version: Option<i64>,
    to_version: Option<i64>,
) -> bool {
    check_version_range(stream_id, from_version, to_version).or_raise(sql_function(function_name));
    true
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._check_version_range(text, text, bigint, bigint) IS
    'Internal: raises the core''s error for bad stream read arguments.';
"#,
    name = "check_version_range_sql_comment",
    requires = [check_version_range_sql],
);

/// The form a `correlation_id` (or `causation_id`) is stored and looked up
/// in (the core's `identifier::reference`); its error for a NULL or an id no
/// event can have.
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_reference",
    schema = "chronicle_internal"
)]
fn reference_sql(function_name: &str, field: &str, value: Option<&str>) -> String {
    let function = sql_function(function_name);
    let value = require(value, field).or_raise(function);
    reference(field, value).or_raise(function)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._reference(text, text, text) IS
    'Internal: a correlation or causation id in the form it is stored in (a uuid lower-case and hyphenated), or the core''s error for it.';
"#,
    name = "reference_sql_comment",
    requires = [reference_sql],
);

/// Raises the core's `null_value` error for `field` unless `present`.
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_require",
    schema = "chronicle_internal"
)]
fn require_argument(function_name: &str, field: &str, present: bool) -> bool {
    require(present.then_some(()), field).or_raise(sql_function(function_name));
    true
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._require(text, text, boolean) IS
    'Internal: raises the core''s null_value error (22004) for the field unless present.';
"#,
    name = "require_argument_comment",
    requires = [require_argument],
);

/// Raises the core's error for a NULL or negative page size (`max_count`).
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_check_count",
    schema = "chronicle_internal"
)]
fn check_max_count(function_name: &str, field: &str, value: Option<i64>) -> bool {
    check_count(field, value).or_raise(sql_function(function_name));
    true
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._check_count(text, text, bigint) IS
    'Internal: raises the core''s error for a NULL or negative page size.';
"#,
    name = "check_max_count_comment",
    requires = [check_max_count],
);

/// Raises the core's 42704 for a stream or definition that does not exist
/// (`object`: `stream`, `reducer`, `event_type`, `upcaster`), at `version`
/// for a definition's schema version.
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_not_found",
    schema = "chronicle_internal"
)]
fn not_found(
    function_name: &str,
    object: &str,
    name: &str,
    version: default!(Option<i64>, "NULL"),
) -> bool {
    let object = match object {
        "stream" => Object::Stream,
        "reducer" => Object::Reducer,
        "event_type" => Object::EventType,
        "upcaster" => Object::Upcaster,
        other => panic!("unknown object {other}"),
    };
    let e = match version {
        Some(v) => Error::not_found_at(object, name, v),
        None => Error::not_found(object, name),
    };
    raise(e, sql_function(function_name))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._not_found(text, text, text, bigint) IS
    'Internal: raises the core''s 42704 for a stream or definition that does not exist.';
"#,
    name = "not_found_comment",
    requires = [not_found],
);

//! Argument checks for the SQL-language read functions in `sql/api.sql`.
//!
//! The reads themselves are plain SQL (PL/pgSQL keeps their plans); these
//! helpers let them reject bad arguments with the core's errors.

use chronicle_core::append::{check_count, check_read_range, require};
use pgrx::prelude::*;

use crate::errors::OrRaise;

/// Raises the core's error for a bad stream read; true otherwise.
#[pg_extern(immutable, parallel_safe, name = "_check_read_range")]
fn check_read_range_sql(
    stream_id: Option<&str>,
    from_version: Option<i64>,
    to_version: Option<i64>,
) -> bool {
    check_read_range(stream_id, from_version, to_version).or_raise("chronicle.read_stream");
    true
}

/// Raises the core's `null_value` error for `field` unless `present`.
#[pg_extern(immutable, parallel_safe, name = "_require")]
fn require_sql(field: &str, present: bool) -> bool {
    require(present.then_some(()), field).or_raise("chronicle");
    true
}

/// Raises the core's error for a bad page size (`max_count`); true otherwise.
#[pg_extern(immutable, parallel_safe, name = "_check_count")]
fn check_count_sql(field: &str, value: Option<i64>) -> bool {
    check_count(field, value).or_raise("chronicle");
    true
}

//! What the installed schema has. After a new library is installed, it
//! serves the schema of an older release until `ALTER EXTENSION chronicle
//! UPDATE`: the statements that read or write the columns a release added
//! ask here which to use (`append.rs`, `replay.rs`, `export.rs`), and the
//! functions a release added refuse to run on an older schema.

use pgrx::pg_sys;

/// What the installed schema has: tenants (chronicle.event_log.tenant, 0.2.0
/// on), text references (event_log.correlation_id of type text, 0.4.0 on)
/// and the lifecycle's columns of the heads (0.6.0 on).
pub fn shape() -> (bool, bool, bool) {
    unsafe {
        let schema = pg_sys::get_namespace_oid(c"chronicle".as_ptr(), true);
        let log = pg_sys::get_relname_relid(c"event_log".as_ptr(), schema);
        if log == pg_sys::InvalidOid {
            return (true, true, true);
        }
        let tenants =
            pg_sys::get_attnum(log, c"tenant".as_ptr()) != pg_sys::InvalidAttrNumber as i16;
        let correlation = pg_sys::get_attnum(log, c"correlation_id".as_ptr());
        let text_references = pg_sys::get_atttype(log, correlation) == pg_sys::TEXTOID;
        (tenants, text_references, lifecycle())
    }
}

/// Whether the installed schema has the lifecycle's columns (0.6.0 on): the
/// library serves an older schema until `ALTER EXTENSION chronicle UPDATE`.
pub fn lifecycle() -> bool {
    unsafe {
        let schema = pg_sys::get_namespace_oid(c"chronicle".as_ptr(), true);
        let streams = pg_sys::get_relname_relid(c"streams".as_ptr(), schema);
        streams == pg_sys::InvalidOid
            || pg_sys::get_attnum(streams, c"first_version".as_ptr())
                != pg_sys::InvalidAttrNumber as i16
    }
}

/// Whether the installed schema has personal data (0.7.0 on: the log's
/// personal_key column).
pub fn personal() -> bool {
    unsafe {
        let schema = pg_sys::get_namespace_oid(c"chronicle".as_ptr(), true);
        let log = pg_sys::get_relname_relid(c"event_log".as_ptr(), schema);
        log == pg_sys::InvalidOid
            || pg_sys::get_attnum(log, c"personal_key".as_ptr()) != pg_sys::InvalidAttrNumber as i16
    }
}

/// Raises an error until the schema is updated to 0.7.0.
pub fn require_personal(function: &'static str) {
    if !personal() {
        pgrx::error!(
            "{function} needs Chronicle 0.7.0's schema: run ALTER EXTENSION chronicle UPDATE"
        );
    }
}

/// What the readers of a stream's head add to read its lifecycle: the
/// columns `first_version, deleted, base version, base state, base
/// recorded_at, archived` (from `chronicle.streams s`) and the join they need; on a
/// schema older than 0.6.0, what a stream had then. From 0.7.0 on the base
/// state is read through `_base_state` (a base with personal members).
pub fn head_columns() -> (&'static str, &'static str) {
    if personal() {
        (
            "s.first_version, s.deleted_at IS NOT NULL, b.version, \
             chronicle_internal._base_state(b.stream_id, b.version, b.state, b.personal_state, b.personal_keys), \
             b.recorded_at, s.archived_at IS NOT NULL",
            "LEFT JOIN chronicle.stream_bases b ON b.stream_id OPERATOR(pg_catalog.=) s.stream_id",
        )
    } else if lifecycle() {
        (
            "s.first_version, s.deleted_at IS NOT NULL, b.version, b.state, b.recorded_at, \
             s.archived_at IS NOT NULL",
            "LEFT JOIN chronicle.stream_bases b ON b.stream_id OPERATOR(pg_catalog.=) s.stream_id",
        )
    } else {
        (
            "1::pg_catalog.int8, false, NULL::pg_catalog.int8, NULL::pg_catalog.jsonb, \
             NULL::pg_catalog.timestamptz, false",
            "",
        )
    }
}

/// Raises an error until the schema is updated.
pub fn require_lifecycle(function: &'static str) {
    if !lifecycle() {
        pgrx::error!(
            "{function} needs Chronicle 0.6.0's schema: run ALTER EXTENSION chronicle UPDATE"
        );
    }
}

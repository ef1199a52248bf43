//! The `chronicle` Postgres extension: a thin adapter over `chronicle-core`.
//!
//! It maps SQL arguments to the core's inputs, does the I/O (SPI) and the
//! locking, and turns the core's errors into Postgres errors. Business rules
//! live in the core only.

use pgrx::prelude::*;

mod append;
mod definitions;
mod errors;
mod event_types;
mod export;
mod feed;
mod guc;
mod notify;
mod privilege;
mod raw_jsonb;
mod read;
mod replay;
mod upcasters;

#[cfg(any(test, feature = "pg_test"))]
mod tests;

::pgrx::pg_module_magic!(name, version);

// The tables, indexes and the append-only guard come first ...
pgrx::extension_sql_file!("../../sql/schema.sql", name = "schema", bootstrap);
// ... the SQL-language API and the comments on every function last.
pgrx::extension_sql_file!("../../sql/api.sql", name = "api", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::register();
    definitions::register();
    notify::register();
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}

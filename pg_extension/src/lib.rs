//! The `chronicle` Postgres extension: a thin adapter over `chronicle-core`.
//!
//! It maps SQL arguments to the core's inputs, does the I/O (SPI) and the
//! locking, and turns the core's errors into Postgres errors. Business rules
//! live in the core only. The public API lives in schema `chronicle`; the
//! helpers its SQL calls live in schema `chronicle_internal`.

use pgrx::prelude::*;

mod append;
mod compat;
mod definition_cache;
mod errors;
mod event_types;
mod export;
mod feed;
mod feed_blank;
mod guc;
mod installed;
mod jsonb_binary;
mod lifecycle;
mod locks;
mod message_store;
mod notify;
mod personal;
mod privilege;
mod random;
mod raw_jsonb;
mod read;
mod reducers;
mod replay;
mod retention;
mod retention_worker;
mod seal;
mod seal_bound;
mod sealer;
mod spi;
mod subject_keys;
mod subscriptions;
mod tenant;
mod transaction;
mod upcasters;
mod worker;

#[cfg(any(test, feature = "pg_test"))]
mod tests;

::pgrx::pg_module_magic!(name, version);

/// The schema of the internal helpers (`schema = "chronicle_internal"` on
/// their `#[pg_extern]`s); `sql/schema.sql` creates it first, with its
/// comment.
#[pg_schema]
mod chronicle_internal {}

// The schemas, tables, indexes and the append-only guard come first ...
pgrx::extension_sql_file!("../../sql/schema.sql", name = "schema", bootstrap);
// ... then the SQL-language API, by concern (each file's functions carry
// their COMMENTs; the Rust functions' COMMENTs are beside them) ...
pgrx::extension_sql_file!("../../sql/streams.sql", name = "streams");
pgrx::extension_sql_file!(
    "../../sql/feed.sql",
    name = "feed",
    requires = [seal::system_identifier, feed::consumer_of]
);
pgrx::extension_sql_file!(
    "../../sql/subscriptions.sql",
    name = "subscriptions",
    requires = ["feed"]
);
pgrx::extension_sql_file!("../../sql/lifecycle.sql", name = "lifecycle");
pgrx::extension_sql_file!("../../sql/personal.sql", name = "personal");
pgrx::extension_sql_file!(
    "../../sql/uuid_arguments.sql",
    name = "uuid_arguments",
    requires = [
        "streams",
        append::append_one_event,
        append::append_event_batch,
        replay::state_at,
        replay::state_history
    ]
);
pgrx::extension_sql_file!(
    "../../sql/deprecated.sql",
    name = "deprecated",
    requires = [
        "streams",
        seal::seal_by_hand,
        event_types::define_event_type_schema
    ]
);
// ... and roles, privileges and row-level security last.
pgrx::extension_sql_file!("../../sql/security.sql", name = "security", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::register();
    tenant::register();
    definition_cache::register();
    notify::register();
    subject_keys::register();
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

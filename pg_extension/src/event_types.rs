//! `chronicle.define_event_type` and the schema check at append.
//!
//! Every backend keeps the schemas in memory, loaded on first use with one
//! query. `define_event_type` invalidates `chronicle.event_types`' relcache
//! entry; Postgres delivers that to every backend (at its next transaction
//! start, or at once in the defining one), whose callback drops the copy. So
//! an append costs a hash lookup, and a new schema applies from the commit
//! that defines it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use chronicle_core::schema::{check_definition, check_event, EventTypeSchemas, Schema};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{pg_sys, JsonB};
use serde_json::Value;

use crate::errors::OrRaise;

thread_local! {
    static SCHEMAS: RefCell<Option<HashMap<String, EventTypeSchemas>>> = const { RefCell::new(None) };
    static TABLE_OID: Cell<pg_sys::Oid> = const { Cell::new(pg_sys::InvalidOid) };
}

fn spi<T>(result: Result<T, pgrx::spi::SpiError>) -> T {
    result.unwrap_or_else(|e| panic!("SPI: {e}"))
}

#[pg_guard]
unsafe extern "C-unwind" fn forget_schemas(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let ours = TABLE_OID.with(Cell::get);
    if relid == pg_sys::InvalidOid || relid == ours {
        SCHEMAS.with(|s| *s.borrow_mut() = None);
    }
}

/// Registers the invalidation callback (from `_PG_init`).
pub fn register() {
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(forget_schemas), pg_sys::Datum::from(0)) };
}

fn table_oid(client: &SpiClient<'_>) -> pg_sys::Oid {
    let oid = spi(client.select(
        "SELECT 'chronicle.event_types'::pg_catalog.regclass::pg_catalog.oid",
        None,
        &[],
    ))
    .first()
    .get_one::<pg_sys::Oid>();
    spi(oid).expect("the table exists")
}

fn load(client: &SpiClient<'_>) -> HashMap<String, EventTypeSchemas> {
    TABLE_OID.with(|c| c.set(table_oid(client)));
    let mut map: HashMap<String, EventTypeSchemas> = HashMap::new();
    let rows = spi(client.select(
        "SELECT event_type, schema_version, schema FROM chronicle.event_types",
        None,
        &[],
    ));
    for row in rows {
        let event_type = spi(row.get::<String>(1)).expect("NOT NULL");
        let version = spi(row.get::<i32>(2)).expect("NOT NULL");
        let schema = spi(row.get::<JsonB>(3)).expect("NOT NULL").0;
        // Stored schemas were valid when defined; should one not parse now,
        // that is an error for the append, never a panic.
        let schema = Schema::parse(&schema).or_raise("chronicle.append_event");
        map.entry(event_type)
            .or_default()
            .insert(i64::from(version), schema);
    }
    map
}

/// Checks an event being appended against its type's schemas.
pub fn check(
    client: &SpiClient<'_>,
    event_type: &str,
    schema_version: i64,
    prefix: &str,
    data: &Value,
    function: &'static str,
) {
    SCHEMAS.with(|cell| {
        if cell.borrow().is_none() {
            let loaded = load(client);
            *cell.borrow_mut() = Some(loaded);
        }
        let cache = cell.borrow();
        let schemas = cache.as_ref().expect("loaded above").get(event_type);
        check_event(schemas, event_type, schema_version, prefix, data).or_raise(function);
    });
}

/// Defines (or replaces) the schema of an event type's schema version.
#[pg_extern(volatile, parallel_unsafe)]
fn define_event_type(
    event_type: Option<&str>,
    schema: Option<JsonB>,
    schema_version: default!(Option<i32>, "1"),
) {
    const FN: &str = "chronicle.define_event_type";
    let schema = schema.map(|s| s.0);
    let (event_type, _, version) =
        check_definition(event_type, schema.as_ref(), schema_version.map(i64::from)).or_raise(FN);
    Spi::connect_mut(|client| {
        spi(client.update(
            "INSERT INTO chronicle.event_types AS t (event_type, schema_version, schema, defined_at)
             VALUES ($1, $2, $3, pg_catalog.now())
             ON CONFLICT (event_type, schema_version) DO UPDATE
                SET schema = EXCLUDED.schema, defined_at = EXCLUDED.defined_at",
            None,
            &[
                event_type.as_str().into(),
                (version as i32).into(),
                JsonB(schema.expect("checked")).into(),
            ],
        ));
        let oid = table_oid(client);
        unsafe { pg_sys::CacheInvalidateRelcacheByRelid(oid) };
    });
}

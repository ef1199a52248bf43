//! The definitions every backend keeps in memory: event schemas, upcasters
//! and personal data definitions, loaded on first use with one query each.
//!
//! `define_event_type`, `define_upcaster` and `define_personal_data` invalidate their table's
//! relcache entry; Postgres delivers that to every backend (at its next
//! transaction start, or at once in the defining one), whose callback drops
//! its copy. So an append or a replay costs a hash lookup, and a definition
//! applies everywhere from the commit that makes it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use chronicle_core::personal::Definition;
use chronicle_core::schema::Schema;
use chronicle_core::upcast::Upcaster;
use pgrx::spi::SpiClient;
use pgrx::{pg_guard, pg_sys, JsonB};
use serde_json::Value;

use crate::errors::OrRaise;
use crate::spi::spi;

#[derive(Default)]
struct Cache {
    /// The OIDs of the tables the cache mirrors (known after the first load).
    tables: Vec<pg_sys::Oid>,
    schemas: Option<Rc<Loaded<Schema>>>,
    upcasters: Option<Rc<Loaded<Upcaster>>>,
    /// The personal data of each event type (`personal.rs`).
    personal: Option<Rc<HashMap<String, Rc<Definition>>>>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

#[pg_guard]
unsafe extern "C-unwind" fn forget(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if relid == pg_sys::InvalidOid || c.tables.contains(&relid) {
            c.schemas = None;
            c.upcasters = None;
            c.personal = None;
        }
    });
}

/// Registers the invalidation callback (from `_PG_init`).
pub fn register() {
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(forget), pg_sys::Datum::from(0)) };
}

/// The OID of a table of the extension.
pub fn table_oid(client: &SpiClient<'_>, name: &str) -> pg_sys::Oid {
    let oid = spi(client.select(
        "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid",
        None,
        &[name.into()],
    ))
    .first()
    .get_one::<pg_sys::Oid>();
    spi(oid).expect("the table exists")
}

/// Tells every backend to drop its copy of `table` (at this commit).
pub fn invalidate(client: &SpiClient<'_>, table: &str) {
    let oid = table_oid(client, table);
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(oid) };
}

/// Looks the tables' OIDs up again on every load: after DROP and CREATE
/// EXTENSION they are new tables.
fn remember_tables(client: &SpiClient<'_>) {
    let mut tables = vec![
        table_oid(client, "chronicle.event_types"),
        table_oid(client, "chronicle.upcasters"),
    ];
    if crate::installed::personal() {
        tables.push(table_oid(
            client,
            "chronicle_internal.personal_data_definitions",
        ));
    }
    CACHE.with(|c| c.borrow_mut().tables = tables);
}

/// Definitions per event type and schema version, as the tables hold them.
type Versioned<T> = BTreeMap<String, BTreeMap<i64, T>>;

/// A set of definitions and a fingerprint of their text: replay tags the
/// snapshots it writes with the upcasters' fingerprint, so a snapshot made
/// with other upcasters (even by a transaction racing a redefinition) is
/// never used.
pub struct Loaded<T> {
    pub definitions: Versioned<T>,
    pub fingerprint: i64,
}

/// FNV-1a, 64 bits: stable across builds (the fingerprints are stored).
fn fnv1a(bytes: impl IntoIterator<Item = u8>, mut hash: u64) -> u64 {
    for b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Loads `SELECT event_type, version, definition` rows, parsing each
/// definition with the core. Stored definitions were valid when defined;
/// should one not parse now, that is an error, never a panic.
fn load<T>(
    client: &SpiClient<'_>,
    sql: &str,
    parse: fn(&Value) -> chronicle_core::Result<T>,
    function: &'static str,
) -> Rc<Loaded<T>> {
    remember_tables(client);
    let mut all: Versioned<T> = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for row in spi(client.select(sql, None, &[])) {
        let event_type = spi(row.get::<String>(1)).expect("NOT NULL");
        let version = spi(row.get::<i32>(2)).expect("NOT NULL");
        let definition = spi(row.get::<JsonB>(3)).expect("NOT NULL").0;
        let parsed = parse(&definition).or_raise(function);
        texts.insert(
            (event_type.clone(), version),
            chronicle_core::canonical::to_string(&definition),
        );
        all.entry(event_type)
            .or_default()
            .insert(i64::from(version), parsed);
    }
    let fingerprint = texts.iter().fold(
        0xcbf2_9ce4_8422_2325,
        |hash, ((event_type, version), text)| {
            let hash = fnv1a(event_type.bytes().chain(version.to_le_bytes()), hash);
            fnv1a(text.bytes(), hash)
        },
    ) as i64;
    Rc::new(Loaded {
        definitions: all,
        fingerprint,
    })
}

/// The cached copy in `slot`, loading it first if there is none.
fn cached<T>(
    slot: fn(&mut Cache) -> &mut Option<Rc<Loaded<T>>>,
    load: impl FnOnce() -> Rc<Loaded<T>>,
) -> Rc<Loaded<T>> {
    if let Some(hit) = CACHE.with(|c| slot(&mut c.borrow_mut()).clone()) {
        return hit;
    }
    let loaded = load();
    CACHE.with(|c| *slot(&mut c.borrow_mut()) = Some(loaded.clone()));
    loaded
}

/// Every event type's schemas.
pub fn schemas(client: &SpiClient<'_>) -> Rc<Loaded<Schema>> {
    cached(
        |c| &mut c.schemas,
        || {
            load(
                client,
                "SELECT event_type, schema_version, schema FROM chronicle.event_types",
                Schema::parse,
                "chronicle.define_event_type",
            )
        },
    )
}

/// Every event type's upcasters.
pub fn upcasters(client: &SpiClient<'_>) -> Rc<Loaded<Upcaster>> {
    cached(
        |c| &mut c.upcasters,
        || {
            load(
                client,
                "SELECT event_type, from_schema_version, steps FROM chronicle.upcasters",
                Upcaster::parse,
                "chronicle.define_upcaster",
            )
        },
    )
}

/// Every event type's personal data.
pub fn personal(client: &SpiClient<'_>) -> Rc<HashMap<String, Rc<Definition>>> {
    if let Some(hit) = CACHE.with(|c| c.borrow().personal.clone()) {
        return hit;
    }
    remember_tables(client);
    let loaded = Rc::new(load_personal(client));
    CACHE.with(|c| c.borrow_mut().personal = Some(loaded.clone()));
    loaded
}

/// Every event type's personal data, as `chronicle_internal.personal_data_definitions`
/// holds it .
fn load_personal(client: &SpiClient<'_>) -> HashMap<String, Rc<Definition>> {
    const FN: &str = "chronicle.define_personal_data";
    if !crate::installed::personal() {
        return HashMap::new();
    }
    let mut all = HashMap::new();
    for row in spi(client.select(
        "SELECT event_type, subject, paths FROM chronicle_internal.personal_data_definitions",
        None,
        &[],
    )) {
        let event_type = spi(row.get::<String>(1)).expect("NOT NULL");
        let subject = spi(row.get::<String>(2)).expect("NOT NULL");
        let paths = spi(row.get::<Vec<Option<String>>>(3)).expect("NOT NULL");
        // Stored definitions were checked when defined; should one not pass
        // now, that is an error, never a panic.
        let definition = chronicle_core::personal::check_definition(
            Some(&event_type),
            Some(&subject),
            Some(&paths),
        )
        .or_raise(FN);
        all.insert(event_type, Rc::new(definition));
    }
    all
}

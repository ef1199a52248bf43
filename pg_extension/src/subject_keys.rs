//! The data subjects' keys (`chronicle_internal.subject_keys`, readable by
//! the extension's owner only): taken by an append, read by every read, and
//! destroyed by `forget_subject` (`personal.rs`).
//!
//! An append and a forget of the same subject exclude each other with a
//! lock of Chronicle's own kind on (tenant, subject): the append holds it
//! shared until it commits, the forget exclusively. So an append racing a
//! forget either commits first (its events are counted and erased) or waits
//! for the forget and then seals with a new key; never does an event sealed
//! with a destroyed key commit after the forget. Each backend keeps the
//! keys its appends used: a forget invalidates every backend's copy (a
//! relcache invalidation of the table, delivered before its lock is
//! released), and an append reads its copy only once it holds the lock and
//! has taken in the invalidations. A copy made by a transaction (or
//! subtransaction) that did not commit is dropped with it (the key row it
//! created is gone too).
//!
//! Reads look a key up by its id once per statement.

use std::cell::RefCell;
use std::collections::HashMap;

use chronicle_core::personal::Key;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::FromDatum;

use crate::spi::{cached, first_row, spi};

/// A subject's key as an append uses it.
#[derive(Clone, Copy)]
pub struct SubjectKey {
    pub id: pgrx::Uuid,
    pub key: Key,
}

/// The lock of a tenant's subject, of Chronicle's own kind (`locks.rs`): a
/// hash of the two (two subjects of one hash only wait for each other).
fn subject_tag(tenant: &str, subject: &str) -> pg_sys::LOCKTAG {
    let hash = chronicle_core::hash::hash_text(&format!("{tenant}\u{1}{subject}")) as u64;
    crate::locks::tag(crate::locks::SUBJECT, hash)
}

/// Takes the subject's lock until the transaction ends (also when a
/// savepoint is rolled back: held longer, never shorter), shared by an
/// append, exclusive by a forget.
fn lock_subject(tenant: &str, subject: &str, exclusive: bool) {
    let mode = if exclusive {
        pg_sys::ExclusiveLock
    } else {
        pg_sys::ShareLock
    } as pg_sys::LOCKMODE;
    crate::locks::hold_until_transaction_end(&subject_tag(tenant, subject), mode);
    // A forget that committed while this waited sent its invalidation
    // before releasing the lock: take it in now.
    unsafe { pg_sys::AcceptInvalidationMessages() };
}

/// A key an append used.
struct Known {
    key: SubjectKey,
    /// While the transaction that found or made it runs: the subtransaction
    /// it did so in (a key it made goes if that one is rolled back). None
    /// once that transaction committed.
    pending: Option<pg_sys::SubTransactionId>,
}

/// At most this many keys are kept per backend (then they are dropped and
/// read again).
const KEPT: usize = 65_536;

#[derive(Default)]
struct Appended {
    /// `chronicle_internal.subject_keys`, whose invalidation drops them all.
    table: Option<pg_sys::Oid>,
    keys: HashMap<(String, String), Known>,
}

thread_local! {
    static APPENDED: RefCell<Appended> = RefCell::new(Appended::default());
}

#[pg_guard]
unsafe extern "C-unwind" fn invalidated(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    APPENDED.with(|a| {
        let mut a = a.borrow_mut();
        if relid == pg_sys::InvalidOid || Some(relid) == a.table {
            a.keys.clear();
        }
    });
}

/// At the end of a transaction its keys are kept if it committed, and
/// dropped if it rolled back or was prepared (it may yet roll back).
#[pg_guard]
unsafe extern "C-unwind" fn transaction_ended(
    event: pg_sys::XactEvent::Type,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::XactEvent::*;
    let committed = match event {
        XACT_EVENT_COMMIT | XACT_EVENT_PARALLEL_COMMIT => true,
        XACT_EVENT_ABORT | XACT_EVENT_PARALLEL_ABORT | XACT_EVENT_PREPARE => false,
        _ => return,
    };
    APPENDED.with(|a| {
        let mut a = a.borrow_mut();
        if committed {
            a.keys.values_mut().for_each(|k| k.pending = None);
        } else {
            a.keys.retain(|_, k| k.pending.is_none());
        }
    });
}

/// A subtransaction rolled back takes the keys found or made in it (and in
/// the subtransactions it holds, whose ids are higher).
#[pg_guard]
unsafe extern "C-unwind" fn subtransaction_ended(
    event: pg_sys::SubXactEvent::Type,
    subtransaction: pg_sys::SubTransactionId,
    _parent: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    if event == pg_sys::SubXactEvent::SUBXACT_EVENT_ABORT_SUB {
        APPENDED.with(|a| {
            a.borrow_mut()
                .keys
                .retain(|_, k| k.pending.is_none_or(|p| p < subtransaction));
        });
    }
}

/// Registers the callbacks (from `_PG_init`).
pub fn register() {
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(invalidated), pg_sys::Datum::from(0));
        pg_sys::RegisterXactCallback(Some(transaction_ended), std::ptr::null_mut());
        pg_sys::RegisterSubXactCallback(Some(subtransaction_ended), std::ptr::null_mut());
    }
}

/// `chronicle_internal.subject_keys`.
fn table() -> pg_sys::Oid {
    unsafe {
        let schema = pg_sys::get_namespace_oid(c"chronicle_internal".as_ptr(), false);
        pg_sys::get_relname_relid(c"subject_keys".as_ptr(), schema)
    }
}

/// The copy of a key this backend used: found or made by a transaction
/// that committed, or by this one (the callbacks above drop the rest).
fn known(tenant: &str, subject: &str) -> Option<SubjectKey> {
    APPENDED.with(|a| {
        a.borrow()
            .keys
            .get(&(tenant.to_string(), subject.to_string()))
            .map(|k| k.key)
    })
}

/// The key of a tenant's subject for an append, created on first use; holds
/// the subject's lock until the transaction ends. Run by the append
/// functions (as the owner).
pub fn for_append(client: &mut SpiClient<'_>, tenant: &str, subject: &str) -> SubjectKey {
    lock_subject(tenant, subject, false);
    if let Some(key) = known(tenant, subject) {
        return key;
    }
    let key = find_or_make(client, tenant, subject);
    let subtransaction = unsafe { pg_sys::GetCurrentSubTransactionId() };
    // Looked up before the borrow: a catalog lookup can run the
    // invalidation callback, which borrows the keys too.
    let table = table();
    APPENDED.with(|a| {
        let mut a = a.borrow_mut();
        a.table = Some(table);
        if a.keys.len() >= KEPT {
            a.keys.clear();
        }
        a.keys.insert(
            (tenant.to_string(), subject.to_string()),
            Known {
                key,
                pending: Some(subtransaction),
            },
        );
    });
    key
}

/// Reads the subject's key, or creates it. Under READ COMMITTED a snapshot
/// taken with the subject's lock held sees every forget that committed, and
/// the key is read straight from the primary key's index (an SPI statement
/// costs several times as much); under REPEATABLE READ the transaction's
/// snapshot may predate a forget, so the row is locked too: a key deleted
/// since is 40001, never a key that no longer exists.
fn find_or_make(client: &mut SpiClient<'_>, tenant: &str, subject: &str) -> SubjectKey {
    use pg_sys::{BYTEAOID, TEXTOID, UUIDOID};
    let repeatable = unsafe { pg_sys::XactIsoLevel } >= pg_sys::XACT_REPEATABLE_READ as i32;
    let read = |row: &crate::spi::FetchedRow<'_>| SubjectKey {
        id: row.get::<pgrx::Uuid>(1).expect("NOT NULL"),
        key: row
            .get::<Vec<u8>>(2)
            .expect("NOT NULL")
            .try_into()
            .expect("a CHECK keeps keys 32 bytes long"),
    };
    loop {
        let found = if repeatable {
            first_row(
                spi(client.update(
                    cached(
                        client,
                        "SELECT key_id, key FROM chronicle_internal.subject_keys
                          WHERE tenant OPERATOR(pg_catalog.=) $1 AND subject OPERATOR(pg_catalog.=) $2
                          FOR KEY SHARE",
                        &[TEXTOID, TEXTOID],
                    ),
                    None,
                    &[tenant.into(), subject.into()],
                )),
                &[UUIDOID, BYTEAOID],
                read,
            )
        } else {
            read_latest(tenant, subject)
        };
        if let Some(key) = found {
            return key;
        }
        let mut key = [0u8; 32];
        crate::random::fill(&mut key);
        let created = first_row(
            spi(client.update(
                cached(
                    client,
                    "INSERT INTO chronicle_internal.subject_keys (tenant, subject, key_id, key)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key_id, key",
                    &[TEXTOID, TEXTOID, UUIDOID, BYTEAOID],
                ),
                None,
                &[
                    tenant.into(),
                    subject.into(),
                    crate::random::uuid().into(),
                    key.to_vec().into(),
                ],
            )),
            &[UUIDOID, BYTEAOID],
            read,
        );
        // Another transaction created it first: read theirs.
        if let Some(key) = created {
            return key;
        }
    }
}

/// The subject's key as the latest snapshot sees it, read through the
/// table's primary key index (tenant, subject; compared in the columns'
/// collation, the database's default, as the index is ordered).
fn read_latest(tenant: &str, subject: &str) -> Option<SubjectKey> {
    use pgrx::IntoDatum;
    unsafe {
        let table = table();
        let schema = pg_sys::get_rel_namespace(table);
        let index = pg_sys::get_relname_relid(c"subject_keys_pkey".as_ptr(), schema);
        let rel = pg_sys::table_open(table, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let mut keys: [pg_sys::ScanKeyData; 2] = std::mem::zeroed();
        for (i, value) in [tenant, subject].into_iter().enumerate() {
            pg_sys::ScanKeyEntryInitialize(
                &mut keys[i],
                0,
                (i + 1) as pg_sys::AttrNumber,
                pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
                pg_sys::InvalidOid,
                pg_sys::DEFAULT_COLLATION_OID,
                pg_sys::Oid::from(pg_sys::F_TEXTEQ),
                value.into_datum().expect("text"),
            );
        }
        let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetLatestSnapshot());
        let scan = pg_sys::systable_beginscan(rel, index, true, snapshot, 2, keys.as_mut_ptr());
        let tuple = pg_sys::systable_getnext(scan);
        let found = (!tuple.is_null()).then(|| {
            let desc = (*rel).rd_att;
            let (mut null_id, mut null_key) = (false, false);
            let id = pg_sys::heap_getattr(tuple, 3, desc, &mut null_id);
            let key = pg_sys::heap_getattr(tuple, 4, desc, &mut null_key);
            assert!(!null_id && !null_key, "NOT NULL");
            SubjectKey {
                id: pgrx::Uuid::from_datum(id, false).expect("a uuid"),
                key: Vec::<u8>::from_datum(key, false)
                    .expect("a bytea")
                    .try_into()
                    .expect("a CHECK keeps keys 32 bytes long"),
            }
        });
        pg_sys::systable_endscan(scan);
        pg_sys::UnregisterSnapshot(snapshot);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        found
    }
}

/// Destroys a tenant's subject's key (`forget_subject`): waits for the
/// appends that hold the subject's lock, deletes the row and tells every
/// backend. Returns the key's id, None when the subject has no key.
pub fn destroy(client: &mut SpiClient<'_>, tenant: &str, subject: &str) -> Option<pgrx::Uuid> {
    lock_subject(tenant, subject, true);
    let key_id = first_row(
        spi(client.update(
            "DELETE FROM chronicle_internal.subject_keys
              WHERE tenant OPERATOR(pg_catalog.=) $1 AND subject OPERATOR(pg_catalog.=) $2
             RETURNING key_id",
            None,
            &[tenant.into(), subject.into()],
        )),
        &[pg_sys::UUIDOID],
        |row| row.get::<pgrx::Uuid>(1).expect("NOT NULL"),
    );
    // Under REPEATABLE READ the DELETE saw the transaction's snapshot, taken
    // before the lock: a key an append made meanwhile would be left alive.
    if unsafe { pg_sys::XactIsoLevel } >= pg_sys::XACT_REPEATABLE_READ as i32
        && read_latest(tenant, subject).is_some_and(|k| Some(k.id) != key_id)
    {
        pgrx::ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
            format!(
                "could not serialize access: subject \"{subject}\" got a key after this transaction's snapshot"
            ),
            "An append naming the subject committed while chronicle.forget_subject waited for it.",
        );
    }
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(table()) };
    READ.with(|k| *k.borrow_mut() = Read::default());
    key_id
}

/// The keys this statement has read, by key id (None: forgotten), so that a
/// read of many events of one subject looks its key up once. Kept for one
/// top-level statement of one transaction: a forget committed since is seen
/// by the next statement, as every other change is.
#[derive(Default)]
struct Read {
    /// The transaction and statement the keys were read in ([`stamp`]).
    stamp: (i64, i64),
    /// The owner of `chronicle_internal.subject_keys`, who reads them.
    owner: Option<pg_sys::Oid>,
    keys: HashMap<[u8; 16], Option<Key>>,
}

thread_local! {
    static READ: RefCell<Read> = RefCell::new(Read::default());
}

/// This transaction and statement: when each started (a backend's
/// transactions and statements never start in the same microsecond as the
/// one before, let alone with a forget committed in between).
fn stamp() -> (i64, i64) {
    unsafe {
        (
            pg_sys::GetCurrentTransactionStartTimestamp(),
            pg_sys::GetCurrentStatementStartTimestamp(),
        )
    }
}

thread_local! {
    /// Set while a truncation folds its base with every personal member
    /// erased ([`withheld`]).
    static WITHHELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as if every subject were forgotten: reads see each personal
/// member erased (a truncation's base with no personal data in it).
pub fn withheld<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WITHHELD.with(|w| w.set(self.0));
        }
    }
    let _restore = Restore(WITHHELD.with(|w| w.replace(true)));
    f()
}

/// The key `key_id` for a read (None once forgotten), read as the owner of
/// the keys.
pub fn for_read(key_id: pgrx::Uuid) -> Option<Key> {
    if WITHHELD.with(std::cell::Cell::get) {
        return None;
    }
    let now = stamp();
    let known = READ.with(|k| {
        let mut k = k.borrow_mut();
        if k.stamp != now {
            *k = Read {
                stamp: now,
                owner: k.owner,
                ..Read::default()
            };
        }
        k.keys.get(key_id.as_bytes()).copied()
    });
    if let Some(found) = known {
        return found;
    }
    let found = Spi::connect(|client| {
        let owner = READ.with(|k| k.borrow().owner).unwrap_or_else(|| {
            let owner = unsafe {
                let tuple = pg_sys::SearchSysCache1(
                    pg_sys::SysCacheIdentifier::RELOID as i32,
                    table().into_datum().expect("an oid"),
                );
                assert!(!tuple.is_null(), "chronicle_internal.subject_keys exists");
                let class = pg_sys::GETSTRUCT(tuple) as pg_sys::Form_pg_class;
                let owner = (*class).relowner;
                pg_sys::ReleaseSysCache(tuple);
                owner
            };
            READ.with(|k| k.borrow_mut().owner = Some(owner));
            owner
        });
        crate::privilege::as_owner(owner, || {
            first_row(
                spi(client.select(
                    cached(
                        client,
                        "SELECT key FROM chronicle_internal.subject_keys
                          WHERE key_id OPERATOR(pg_catalog.=) $1",
                        &[pg_sys::UUIDOID],
                    ),
                    Some(1),
                    &[key_id.into()],
                )),
                &[pg_sys::BYTEAOID],
                |row| -> Key {
                    row.get::<Vec<u8>>(1)
                        .expect("NOT NULL")
                        .try_into()
                        .expect("a CHECK keeps keys 32 bytes long")
                },
            )
        })
    });
    READ.with(|k| k.borrow_mut().keys.insert(*key_id.as_bytes(), found));
    found
}

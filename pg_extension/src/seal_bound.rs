//! How far a seal may go: the bound below which every event that will ever
//! commit has committed, and the appender's side of that rule. The decisions
//! are the core's (`chronicle_core::seal_bound`); this module does the I/O
//! in the order the argument below depends on. The seal itself is
//! `seal.rs`; the worker that runs it, `sealer.rs`.
//!
//! # The rule
//!
//! Positions follow `(seal_key, id)`. A seal hands out the next positions to
//! every committed event with a key below a bound `B`, so `B` is safe only if
//! no event with a key below `B` can commit after the seal: it would need a
//! position before positions already handed out.
//!
//! Up to 0.4, `B` was the oldest transaction id still running in the
//! cluster: safe, but any transaction with an id, in any database (an idle
//! session that wrote something, a prepared transaction), held every
//! Chronicle feed of the cluster back. Now `B` depends only on the
//! transactions that can still append, in three steps:
//!
//! 1. **An appender registers** before it writes its first event (`key`): it
//!    takes its transaction id `X`, then a lock of its own keyed by (this
//!    database, `X`) that it holds until the transaction ends, then reads
//!    the floor `F` (`chronicle.feed_floor`, a sequence: its latest value,
//!    whatever the reader's snapshot), and appends every event with a key of
//!    at least `max(X, F)` (raised further to its stream's last key).
//! 2. **The sealer publishes a floor** `P`, the next transaction id not yet
//!    assigned (raising `chronicle.feed_floor` to it), then takes a snapshot
//!    and probes the lock of each running transaction id below `P`, oldest
//!    first: `B` is the first one held, or `P` if none is. A seal inside a
//!    transaction that has appended also stops at its own id.
//! 3. **It seals** every committed event with a key below `B`, in a
//!    statement whose snapshot is taken after the probes.
//!
//! Why no event with a key below `B` can commit after that snapshot. Take a
//! transaction T with id `X` that commits an event with key `K`:
//!
//! - `X >= P`: `K >= X >= P >= B`.
//! - `X < P`, T ended before the sealer's snapshot: it committed before the
//!   seal's snapshot, which sees its events.
//! - `X < P`, T running, T registered before the probe of `X`: the probe
//!   finds the lock, so `B <= X <= K`.
//! - `X < P`, T running, T registered after the probe: it read the floor
//!   after taking its lock, so after the probe, so after `P` was published:
//!   `F >= P`, so `K >= P >= B`. (The lock manager orders the two: T's lock
//!   and the sealer's probe take the same lock-table partition lock, and
//!   the sealer raised the sequence before it probed.)
//!
//! So every event with a key below `B` is visible to the seal or never
//! commits, and with one sealer at a time (the seal lock) positions are
//! dense and never change. A transaction in another database, a read-only
//! one, or one that wrote to other tables holds nothing back: if it appends
//! later, the floor puts its events after every event sealed meanwhile. A
//! transaction that has appended and stays open holds back the events with
//! keys from its id on, necessarily (its own events will sort there); the
//! sealer worker can end it after a grace period
//! (`chronicle.stalled_appender_action`).
//!
//! Prepared transactions keep their locks (across a restart too), so a
//! prepared appender holds the feed back until COMMIT/ROLLBACK PREPARED. The
//! floor's value is made durable by the seal's commit that depends on it
//! (its WAL record precedes the commit record). A database still on an older
//! schema (no `chronicle.feed_floor`: a new library before `ALTER EXTENSION
//! UPDATE`) keeps the 0.4 rule, the oldest running transaction.

use std::cell::{Cell, OnceCell};

use pgrx::spi::{OwnedPreparedStatement, SpiClient};
use pgrx::{direct_function_call, pg_sys, IntoDatum};

use chronicle_core::seal_bound::{appender_key, bound_below, worth_publishing, Bound};

use crate::spi::{prepare_kept, spi};

/// The lock an appending transaction holds: (database, transaction id), of
/// Chronicle's own kind (`locks.rs`).
fn appender_tag(xid: u64) -> pg_sys::LOCKTAG {
    crate::locks::tag(crate::locks::APPENDER, xid)
}

const APPENDER_LOCK_MODE: pg_sys::LOCKMODE = pg_sys::ExclusiveLock as pg_sys::LOCKMODE;

/// `chronicle.feed_floor`, if this database's schema has it.
fn floor_relation() -> Option<pg_sys::Oid> {
    unsafe {
        let schema = pg_sys::get_namespace_oid(c"chronicle".as_ptr(), true);
        if schema == pg_sys::InvalidOid {
            return None;
        }
        let rel = pg_sys::get_relname_relid(c"feed_floor".as_ptr(), schema);
        (rel != pg_sys::InvalidOid).then_some(rel)
    }
}

/// The floor's latest value (a sequence is read outside MVCC: this is the
/// value now, whatever this transaction's snapshot).
fn read_floor(rel: pg_sys::Oid) -> u64 {
    let last: Option<i64> =
        unsafe { direct_function_call(pg_sys::pg_sequence_last_value, &[rel.into_datum()]) };
    last.unwrap_or(0).max(0) as u64
}

thread_local! {
    /// The registered transaction (full id) and its key.
    static REGISTERED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// This transaction's feed key: registers it as an appender on first use
/// (assigns its id, takes the appender lock until the transaction ends,
/// reads the floor). Call before writing an event.
pub fn key() -> u64 {
    let xid = unsafe { pg_sys::GetTopFullTransactionId() }.value;
    let (registered, key) = REGISTERED.with(Cell::get);
    if registered == xid {
        return key;
    }
    // Held by the top transaction, so that rolling back a savepoint does
    // not release it: the transaction can still append.
    crate::locks::hold_until_transaction_end(&appender_tag(xid), APPENDER_LOCK_MODE);
    let key = appender_key(xid, floor_relation().map_or(0, read_floor));
    REGISTERED.with(|r| r.set((xid, key)));
    key
}

/// The current transaction's id if it has registered as an appender.
fn registered_here() -> Option<u64> {
    let xid = unsafe { pg_sys::GetTopFullTransactionIdIfAny() }.value;
    (xid != 0 && REGISTERED.with(Cell::get).0 == xid).then_some(xid)
}

/// Whether the transaction with this id holds the appender lock here.
fn holds_appender_lock(xid: &u64) -> bool {
    let tag = appender_tag(*xid);
    unsafe {
        let got = pg_sys::LockAcquire(&tag, APPENDER_LOCK_MODE, false, true);
        if got == pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL {
            return true;
        }
        pg_sys::LockRelease(&tag, APPENDER_LOCK_MODE, false);
    }
    false
}

/// How far a seal may go now.
pub enum SealTo {
    /// Nothing committed waits: no seal needed.
    Idle,
    /// Seal the committed events with keys below the bound.
    Below(Bound),
    /// This database's schema predates the floor: the oldest running
    /// transaction (the seal statement's own snapshot) is the bound.
    OldestRunning,
}

/// Whether a committed event waits for a position, and this instant's
/// running transaction ids and next id. A mutating plan run with `select`:
/// a fresh snapshot, and no transaction id (pgrx's `update` assigns one).
/// The first waiting event in key order (ORDER BY ... LIMIT 1): a bare
/// EXISTS gets a generic plan that scans the whole log from its start.
const WAITING_AND_RUNNING: &str = "\
SELECT EXISTS (SELECT FROM (SELECT FROM chronicle.event_log e
                WHERE (e.seal_key, e.id) OPERATOR(pg_catalog.>)
                      ((SELECT s.horizon FROM chronicle.feed_state s), (SELECT s.after_id FROM chronicle.feed_state s))
                  AND e.id OPERATOR(pg_catalog.>=) (SELECT s.first_id FROM chronicle.feed_state s)
                ORDER BY e.seal_key, e.id LIMIT 1) AS first),
       pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::pg_catalog.text::pg_catalog.int8,
       ARRAY(SELECT x::pg_catalog.text::pg_catalog.int8
               FROM pg_catalog.pg_snapshot_xip(pg_catalog.pg_current_snapshot()) x ORDER BY 1)";

/// The running transaction ids now (a fresh snapshot, after publishing).
const RUNNING: &str = "\
SELECT ARRAY(SELECT x::pg_catalog.text::pg_catalog.int8
               FROM pg_catalog.pg_snapshot_xip(pg_catalog.pg_current_snapshot()) x ORDER BY 1)";

/// Raises the floor (setval is not transactional: appenders see it at once).
const PUBLISH: &str = "SELECT pg_catalog.setval('chronicle.feed_floor', $1)";

struct Plans {
    waiting: OwnedPreparedStatement,
    running: OwnedPreparedStatement,
    publish: OwnedPreparedStatement,
}

thread_local! {
    static PLANS: OnceCell<&'static Plans> = const { OnceCell::new() };
}

/// Planned once per process, on first use (only where the floor exists).
fn plans(client: &SpiClient<'_>) -> &'static Plans {
    PLANS.with(|cell| {
        *cell.get_or_init(|| {
            Box::leak(Box::new(Plans {
                waiting: prepare_kept(client, WAITING_AND_RUNNING, &[]),
                running: prepare_kept(client, RUNNING, &[]),
                publish: prepare_kept(client, PUBLISH, &[pg_sys::INT8OID]),
            }))
        })
    })
}

/// Transaction ids as SQL returns them (`int8`).
fn ids(running: Vec<i64>) -> Vec<u64> {
    running.into_iter().map(|x| x as u64).collect()
}

/// Computes the bound (see the module doc). The caller holds the seal lock
/// in a READ COMMITTED transaction.
pub fn bound(client: &mut SpiClient<'_>) -> SealTo {
    let Some(floor_rel) = floor_relation() else {
        return SealTo::OldestRunning;
    };
    let plans = plans(client);
    let row = spi(client.select(&plans.waiting, None, &[])).first();
    if !spi(row.get::<bool>(1)).unwrap_or(false) {
        return SealTo::Idle;
    }
    let next = spi(row.get::<i64>(2)).unwrap_or(0) as u64;
    let running = ids(spi(row.get::<Vec<i64>>(3)).unwrap_or_default());
    let floor = read_floor(floor_rel);
    let own = registered_here();
    let bound = bound_below(&running, floor, own, holds_appender_lock);
    if !worth_publishing(&bound, floor, next) {
        return SealTo::Below(bound);
    }
    // The new floor first, then a snapshot taken after it, then the probes.
    spi(client.update(&plans.publish, None, &[(next as i64).into()]));
    let row = spi(client.select(&plans.running, None, &[])).first();
    let running = ids(spi(row.get::<Vec<i64>>(1)).unwrap_or_default());
    SealTo::Below(bound_below(&running, next, own, holds_appender_lock))
}

/// After a re-base (`seal.rs`): the floor starts again from 0, as this
/// cluster's transaction ids do (the re-based horizon is the oldest running
/// transaction, below every key an appender can still take).
pub fn reset_floor(client: &mut SpiClient<'_>) {
    if floor_relation().is_some() {
        spi(client.update(
            "SELECT pg_catalog.setval('chronicle.feed_floor', 0, false)",
            None,
            &[],
        ));
    }
}

//! The global feed: dense, commit-safe positions ("sealing"), the sealer
//! background worker, and the argument checks of the feed's SQL functions
//! (`read_all`, the subscription functions in `sql/api.sql`).
//!
//! Each event is stored with a `seal_key`: the id of the transaction that
//! appended it, raised to the key of the stream's previous event when that
//! is higher (a transaction that got its id early may append to a stream
//! after a younger one did; the raise keeps a stream's events in version
//! order). An event is *sealed* -- given the next dense position in
//! `chronicle.feed` -- once its key is below the oldest transaction still
//! running: every transaction with a smaller id has ended, so no event with
//! a smaller key can commit any more and the order handed out never has to
//! change. Events are sealed in (seal_key, id) order by one sealer at a time
//! (a transaction-level advisory lock), each in its own READ COMMITTED
//! transaction, from a stored horizon on (every committed event before
//! (horizon, after_id) in that order is sealed, none after it), so a seal is
//! a short range scan of the event log's key.
//!
//! The sealer is a background worker per database, started on demand by the
//! first append or feed read that finds none running (a session advisory
//! lock marks a running sealer), so sealing happens on the primary even if
//! every follower reads from a standby, and readers never write.
//! `chronicle.seal()` runs the same seal by hand.
//!
//! The horizon is a transaction id of one cluster. After pg_dump/pg_restore
//! into another cluster (another system identifier) the first seal re-bases:
//! it briefly blocks appends (SHARE lock on the event log), seals every
//! event not yet sealed, clears the stream heads' keys and stores the new
//! cluster's horizon (see `normalise_state`).

use std::cell::{Cell, OnceCell};
use std::time::{Duration, Instant};

use chronicle_core::append::check_count;
use chronicle_core::feed::{
    check_consumer, check_filter, check_known_position, check_name, check_position,
};
use chronicle_core::Error;
use pgrx::bgworkers::{
    BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, SignalWakeFlags,
};
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient};
use pgrx::{direct_function_call, direct_function_call_as_datum, pg_sys, IntoDatum, PgOid};

use crate::errors::{raise, spi, OrRaise};
use crate::guc;

/// Advisory lock keys (per database): one sealer at a time ...
const SEAL_LOCK: i64 = 0x6368_726f_6e69_0001;
/// ... and the running sealer worker holds this one for its lifetime.
const SEALER_PRESENCE: i64 = 0x6368_726f_6e69_0002;

/// Most events one seal hands out (one transaction).
const SEAL_BATCH: i64 = 10_000;

/// Seals every event that can be sealed, at most `$1` of them, in order;
/// with `$2`, sends one notification per stream sealed (`notify = sealed`).
/// The caller runs it in a READ COMMITTED transaction that may write.
const SEAL: &str = "\
WITH todo AS (
  SELECT e.seal_key, e.id, e.stream_type, e.stream_id, e.version
    FROM chronicle.event_log e
   WHERE (e.seal_key, e.id) OPERATOR(pg_catalog.>) ((SELECT horizon FROM chronicle.feed_state),
                                                    (SELECT after_id FROM chronicle.feed_state))
     AND e.seal_key OPERATOR(pg_catalog.<) pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())
     AND (e.seal_key OPERATOR(pg_catalog.>=) (SELECT ceiling FROM chronicle.feed_state)
          OR NOT EXISTS (SELECT FROM chronicle.feed f
                          WHERE f.seal_key OPERATOR(pg_catalog.=) e.seal_key AND f.id OPERATOR(pg_catalog.=) e.id))
   ORDER BY e.seal_key, e.id
   LIMIT $1
), numbered AS (
  SELECT t.*, (SELECT position FROM chronicle.feed_state)
           OPERATOR(pg_catalog.+) pg_catalog.row_number() OVER (ORDER BY t.seal_key, t.id) AS pos
    FROM todo t
), sealed AS (
  INSERT INTO chronicle.feed (global_position, seal_key, id) SELECT pos, seal_key, id FROM numbered RETURNING 1
), summary AS (
  SELECT pg_catalog.count(*) AS n, pg_catalog.max(pos) AS last
    FROM numbered
), last_sealed AS (
  SELECT seal_key, id FROM numbered ORDER BY pos DESC LIMIT 1
), state AS (
  UPDATE chronicle.feed_state
     SET position = summary.last, sealed_at = pg_catalog.now(),
         horizon = CASE WHEN summary.n OPERATOR(pg_catalog.<) $1
                        THEN pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())
                        ELSE (SELECT seal_key FROM last_sealed) END,
         after_id = CASE WHEN summary.n OPERATOR(pg_catalog.<) $1
                         THEN 0 ELSE (SELECT id FROM last_sealed) END
    FROM summary
   WHERE summary.n OPERATOR(pg_catalog.>) 0
  RETURNING 1
), notes AS (
  -- (concatenation: json_build_object costs three times as much per row)
  SELECT pg_catalog.pg_notify('chronicle',
           '{\"stream_type\":' OPERATOR(pg_catalog.||) pg_catalog.to_json(g.stream_type)::text
           OPERATOR(pg_catalog.||) ',\"stream_id\":' OPERATOR(pg_catalog.||) pg_catalog.to_json(g.stream_id)::text
           OPERATOR(pg_catalog.||) ',\"version\":' OPERATOR(pg_catalog.||) g.version::text
           OPERATOR(pg_catalog.||) ',\"position\":' OPERATOR(pg_catalog.||) g.position::text
           OPERATOR(pg_catalog.||) '}')
    FROM (SELECT stream_type, stream_id, pg_catalog.max(version) AS version, pg_catalog.max(pos) AS position
            FROM numbered WHERE $2 GROUP BY stream_type, stream_id
           ORDER BY pg_catalog.max(pos)) g
)
SELECT summary.n, (SELECT pg_catalog.count(*) FROM notes) FROM summary";

/// Re-basing in a new cluster: with appends blocked, every stored event is
/// final; seal them all, then start the horizon from this cluster's ids.
const REBASE: &[&str] = &[
    "LOCK TABLE chronicle.event_log IN SHARE MODE",
    "INSERT INTO chronicle.feed (global_position, seal_key, id)
     SELECT coalesce((SELECT pg_catalog.max(global_position) FROM chronicle.feed), 0)
              OPERATOR(pg_catalog.+) pg_catalog.row_number() OVER (ORDER BY e.seal_key, e.id),
            e.seal_key, e.id
       FROM chronicle.event_log e
      WHERE NOT EXISTS (SELECT FROM chronicle.feed f
                         WHERE f.seal_key OPERATOR(pg_catalog.=) e.seal_key AND f.id OPERATOR(pg_catalog.=) e.id)",
    "UPDATE chronicle.streams SET seal_key = '0' WHERE seal_key OPERATOR(pg_catalog.<>) '0'",
];

/// Replaces the state rows by one: this cluster ($1), the horizon ($2) with
/// its after_id ($3), the ceiling ($4), the feed's last position.
const RESET_STATE: &str = "\
WITH gone AS (DELETE FROM chronicle.feed_state RETURNING 1)
INSERT INTO chronicle.feed_state (system_identifier, horizon, after_id, ceiling, position, sealed_at)
SELECT $1, $2::text::xid8, $3, $4::text::xid8,
       coalesce((SELECT pg_catalog.max(global_position) FROM chronicle.feed), 0), pg_catalog.now()";

/// After a re-base: the key above every stored event's (the old cluster's
/// keys may lie anywhere among this cluster's).
const CEILING: &str = "\
SELECT coalesce(pg_catalog.max(seal_key)::text::numeric OPERATOR(pg_catalog.+) 1, 0)::text,
       pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text
  FROM chronicle.event_log";

/// The cluster's system identifier (pg_control_system() needs privileges).
#[pg_extern(stable, parallel_safe, name = "_system_identifier")]
fn system_identifier() -> i64 {
    unsafe { pg_sys::GetSystemIdentifier() as i64 }
}

/// Makes `chronicle.feed_state` one row of this cluster. It is one already
/// except after a restore, which adds the dumped row to the new
/// installation's. From this cluster, the dumped row is right (it has the
/// smaller horizon: every restored event still unsealed lies above it); from
/// another cluster its horizon means nothing here, and every stored event is
/// sealed under a lock that waits for running appends (a re-base).
fn normalise_state(client: &mut SpiClient<'_>) {
    let system = system_identifier();
    let rows = spi(client.update(
        "SELECT pg_catalog.count(*) OVER (),
                pg_catalog.bool_and(system_identifier OPERATOR(pg_catalog.=) $1) OVER (),
                horizon::text, after_id, ceiling::text
           FROM chronicle.feed_state
          ORDER BY horizon, after_id
          LIMIT 1",
        None,
        &[system.into()],
    ));
    let stored = (!rows.is_empty()).then(|| {
        let row = rows.first();
        (
            spi(row.get::<i64>(1)).unwrap_or(0),
            spi(row.get::<bool>(2)).unwrap_or(false),
            spi(row.get::<String>(3)).expect("NOT NULL"),
            spi(row.get::<i64>(4)).expect("NOT NULL"),
            spi(row.get::<String>(5)).expect("NOT NULL"),
        )
    });
    let (horizon, after_id, ceiling) = match stored {
        Some((1, true, ..)) => return,
        Some((_, true, horizon, after_id, ceiling)) => (horizon, after_id, ceiling),
        _ => {
            for sql in REBASE {
                spi(client.update(*sql, None, &[]));
            }
            log!("chronicle: re-based the feed's horizon to this cluster (system identifier {system})");
            let (ceiling, horizon) = spi(spi(client.update(CEILING, None, &[]))
                .first()
                .get_two::<String, String>());
            (horizon.expect("a horizon"), 0, ceiling.expect("a ceiling"))
        }
    };
    spi(client.update(
        RESET_STATE,
        None,
        &[
            system.into(),
            horizon.into(),
            after_id.into(),
            ceiling.into(),
        ],
    ));
}

/// Seals up to `max` events (see the module doc); returns how many (0 if
/// the extension is being dropped).
/// `check_state`: whether to check `chronicle.feed_state` first (the worker
/// does it once a second: the state changes only by a restore).
fn seal_now(client: &mut SpiClient<'_>, max: i64, check_state: bool) -> i64 {
    if !lock_extension() {
        return 0;
    }
    unsafe {
        direct_function_call_as_datum(
            pg_sys::pg_advisory_xact_lock_int8,
            &[SEAL_LOCK.into_datum()],
        );
    }
    if check_state {
        normalise_state(client);
    }
    let notify = guc::notify() == guc::Notify::Sealed;
    let result = spi(client.update(seal_plan(client), None, &[max.into(), notify.into()]));
    spi(result.first().get_one::<i64>()).unwrap_or(0)
}

thread_local! {
    static SEAL_PLAN: OnceCell<&'static OwnedPreparedStatement> = const { OnceCell::new() };
}

/// The seal statement, planned once per process (planning it costs more than
/// sealing a few events).
fn seal_plan(client: &SpiClient<'_>) -> &'static OwnedPreparedStatement {
    SEAL_PLAN.with(|cell| {
        *cell.get_or_init(|| {
            let types = [PgOid::from(pg_sys::INT8OID), PgOid::from(pg_sys::BOOLOID)];
            let plan = client
                .prepare_mut(SEAL, &types)
                .unwrap_or_else(|e| panic!("preparing the seal: {e}"))
                .keep();
            Box::leak(Box::new(plan))
        })
    })
}

/// Why this transaction cannot seal, if it cannot.
fn cannot_seal_here() -> Option<Error> {
    let (reason, hint) = unsafe {
        if pg_sys::RecoveryInProgress() {
            (
                "on a standby",
                "Sealing happens on the primary; the standby follows its feed.",
            )
        } else if pg_sys::XactReadOnly {
            (
                "in a read-only transaction",
                "Call it in a read-write transaction.",
            )
        } else if pg_sys::XactIsoLevel >= pg_sys::XACT_REPEATABLE_READ as i32 {
            (
                "at REPEATABLE READ or SERIALIZABLE",
                "Call it in its own READ COMMITTED transaction: a seal must see the latest sealed positions.",
            )
        } else {
            return None;
        }
    };
    Some(Error::Unavailable {
        operation: "chronicle.seal",
        reason: reason.to_string(),
        hint: hint.to_string(),
    })
}

/// Hands out global positions to every event that can have one now (at most
/// max_events) and returns how many. The sealer worker does this on its own;
/// call it to seal without waiting (tests, or if no worker can be started).
#[pg_extern(volatile, parallel_unsafe)]
fn seal(max_events: default!(Option<i64>, "10000")) -> i64 {
    const FN: &str = "chronicle.seal";
    let max = check_count("max_events", max_events).or_raise(FN);
    if let Some(e) = cannot_seal_here() {
        raise(e, FN);
    }
    if max == 0 {
        return 0;
    }
    Spi::connect_mut(|client| seal_now(client, max.min(i64::MAX as u64) as i64, true))
}

/// Whether a sealer worker holds the presence lock in this database.
fn sealer_running() -> bool {
    let free: bool = unsafe {
        direct_function_call(
            pg_sys::pg_try_advisory_lock_shared_int8,
            &[SEALER_PRESENCE.into_datum()],
        )
    }
    .expect("returns a bool");
    if free {
        unsafe {
            direct_function_call::<bool>(
                pg_sys::pg_advisory_unlock_shared_int8,
                &[SEALER_PRESENCE.into_datum()],
            );
        }
    }
    !free
}

/// Starts a sealer worker for this database; false if none could be
/// registered (no free slot: `max_worker_processes`).
fn launch_sealer() -> bool {
    BackgroundWorkerBuilder::new("chronicle sealer")
        .set_type("chronicle sealer")
        .set_library("chronicle")
        .set_function("chronicle_sealer_main")
        .set_argument(unsafe { pg_sys::MyDatabaseId }.into_datum())
        .enable_spi_access()
        .set_start_time(BgWorkerStartTime::RecoveryFinished)
        .set_restart_time(None)
        .load_dynamic()
        .is_ok()
}

/// Makes sure a sealer runs for this database (not on a standby, where the
/// primary's sealer does the work). False if one was needed and could not
/// be started.
fn ensure_sealer() -> bool {
    if unsafe { pg_sys::RecoveryInProgress() } || sealer_running() {
        return true;
    }
    launch_sealer()
}

thread_local! {
    static LAST_CHECK: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Called by every append: at most once a second per session, checks that
/// a sealer runs (after a restart, the first append starts it again).
pub fn ensure_sealer_soon() {
    let due = LAST_CHECK.with(|c| {
        let now = Instant::now();
        let due = c
            .get()
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if due {
            c.set(Some(now));
        }
        due
    });
    if due {
        ensure_sealer();
    }
}

thread_local! {
    static WARNED: Cell<bool> = const { Cell::new(false) };
}

/// Called by `read_all` and `poll` before they read: makes sure a sealer
/// runs; if none can be started, seals here when this transaction can.
#[pg_extern(volatile, parallel_unsafe, name = "_feed_tick")]
fn feed_tick() -> bool {
    if ensure_sealer() {
        return true;
    }
    if !WARNED.with(|w| w.replace(true)) {
        warning!("chronicle: could not start the sealer worker; raise max_worker_processes (readers seal meanwhile)");
    }
    if cannot_seal_here().is_none() {
        Spi::connect_mut(|client| seal_now(client, SEAL_BATCH, true));
    }
    false
}

/// The sealer worker: seals whenever there is something to seal, sleeping
/// `chronicle.seal_interval` when there was nothing.
#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn chronicle_sealer_main(arg: pg_sys::Datum) {
    let database = unsafe { pg_sys::Oid::from_datum(arg, false) }.expect("a database oid");
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    BackgroundWorker::connect_worker_to_spi_by_oid(Some(database), None);
    let owner = BackgroundWorker::transaction(|| {
        Spi::run("SET default_transaction_isolation = 'read committed'").expect("SET");
        Spi::run("SET application_name = 'chronicle sealer'").expect("SET");
        // The seal statement's generic plan is costed high enough to be JIT
        // compiled at every execution: that was 40 % of the sealer's CPU.
        Spi::run("SET jit = off").expect("SET");
        extension_oid() != pg_sys::InvalidOid
            && unsafe {
                direct_function_call::<bool>(
                    pg_sys::pg_try_advisory_lock_int8,
                    &[SEALER_PRESENCE.into_datum()],
                )
            }
            .unwrap_or(false)
    });
    if !owner {
        return; // another sealer runs, or the extension is gone
    }
    let mut wait = Duration::ZERO;
    let mut checked: Option<Instant> = None;
    while BackgroundWorker::wait_latch(Some(wait)) {
        if BackgroundWorker::sighup_received() {
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        let check_state = checked.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if check_state {
            checked = Some(Instant::now());
        }
        let sealed = BackgroundWorker::transaction(|| {
            lock_extension()
                .then(|| Spi::connect_mut(|client| seal_now(client, SEAL_BATCH, check_state)))
        });
        wait = match sealed {
            None => break, // DROP EXTENSION
            Some(n) if n >= SEAL_BATCH => Duration::ZERO,
            Some(_) => guc::seal_interval(),
        };
    }
}

fn extension_oid() -> pg_sys::Oid {
    unsafe { pg_sys::get_extension_oid(c"chronicle".as_ptr(), true) }
}

/// Locks the extension against DROP EXTENSION for this transaction, before
/// any of its tables: DROP EXTENSION locks the extension first, so a seal and
/// a drop queue one after the other instead of deadlocking. False if the
/// extension is gone (or went while we waited).
fn lock_extension() -> bool {
    let oid = extension_oid();
    if oid == pg_sys::InvalidOid {
        return false;
    }
    unsafe {
        pg_sys::LockDatabaseObject(
            pg_sys::ExtensionRelationId,
            oid,
            0,
            pg_sys::AccessShareLock as pg_sys::LOCKMODE,
        );
    }
    extension_oid() == oid
}

fn as_strs(list: &Option<Vec<Option<String>>>) -> Option<Vec<Option<&str>>> {
    list.as_ref()
        .map(|l| l.iter().map(|t| t.as_deref()).collect())
}

/// Argument checks of `read_all` (raises the core's errors).
#[pg_extern(immutable, parallel_safe, name = "_check_feed_read")]
fn check_feed_read(
    after_position: Option<i64>,
    max_count: Option<i64>,
    stream_type: Option<&str>,
    event_types: Option<Vec<Option<String>>>,
) -> bool {
    const FN: &str = "chronicle.read_all";
    check_position("after_position", after_position).or_raise(FN);
    check_count("max_count", max_count).or_raise(FN);
    check_filter(stream_type, as_strs(&event_types).as_deref()).or_raise(FN);
    true
}

/// Argument checks of `create_subscription`.
#[pg_extern(immutable, parallel_safe, name = "_check_subscription")]
fn check_subscription(
    name: Option<&str>,
    stream_type: Option<&str>,
    event_types: Option<Vec<Option<String>>>,
    start_position: Option<i64>,
    head: i64,
) -> bool {
    const FN: &str = "chronicle.create_subscription";
    check_name(name).or_raise(FN);
    check_filter(stream_type, as_strs(&event_types).as_deref()).or_raise(FN);
    check_known_position("start_position", start_position, head.max(0) as u64).or_raise(FN);
    true
}

/// Argument checks of `poll`.
#[pg_extern(immutable, parallel_safe, name = "_check_poll")]
fn check_poll(
    name: Option<&str>,
    max_count: Option<i64>,
    consumer: Option<i64>,
    consumers: Option<i64>,
) -> bool {
    const FN: &str = "chronicle.poll";
    check_name(name).or_raise(FN);
    check_count("max_count", max_count).or_raise(FN);
    check_consumer(consumer, consumers).or_raise(FN);
    true
}

/// Argument checks of the functions that take a subscription name and a
/// position (`ack`, `reset_subscription`); `position` NULL when there is none.
#[pg_extern(immutable, parallel_safe, name = "_check_position")]
fn check_position_sql(
    function: &str,
    name: Option<&str>,
    field: &str,
    position: Option<i64>,
    head: i64,
) -> bool {
    let function: &'static str = match function {
        "ack" => "chronicle.ack",
        "reset_subscription" => "chronicle.reset_subscription",
        _ => "chronicle",
    };
    check_name(name).or_raise(function);
    if !field.is_empty() {
        check_known_position(field, position, head.max(0) as u64).or_raise(function);
    }
    true
}

/// Raises the error for a subscription that does not exist (`missing`) or
/// exists already.
#[pg_extern(immutable, parallel_safe, name = "_subscription_error")]
fn subscription_error(name: &str, missing: bool) -> bool {
    if missing {
        raise(
            chronicle_core::feed::subscription_not_found(name),
            "chronicle",
        );
    }
    raise(chronicle_core::feed::subscription_exists(name), "chronicle")
}

//! Starting the sealer: a background worker per database that seals new
//! events as they commit (see `seal.rs` for what sealing is, `worker.rs`
//! for what the worker does). It is started on demand by the first append
//! or feed read that finds none running (a session advisory lock marks a
//! running sealer), so sealing happens on the primary even if every
//! follower reads from a standby, and readers never write.

use std::cell::Cell;
use std::time::{Duration, Instant};

use pgrx::bgworkers::{BackgroundWorkerBuilder, BgWorkerStartTime};
use pgrx::prelude::*;
use pgrx::{direct_function_call, pg_sys, IntoDatum};

use crate::seal::{seal_here, SEALER_PRESENCE, SEAL_BATCH};

/// Whether a worker of this database holds its presence lock (an
/// advisory lock it takes for its lifetime).
pub(crate) fn presence_held(presence: i64) -> bool {
    let free: bool = unsafe {
        direct_function_call(
            pg_sys::pg_try_advisory_lock_shared_int8,
            &[presence.into_datum()],
        )
    }
    .expect("returns a bool");
    if free {
        unsafe {
            direct_function_call::<bool>(
                pg_sys::pg_advisory_unlock_shared_int8,
                &[presence.into_datum()],
            );
        }
    }
    !free
}

/// In a worker: connects to the database it was launched for and sets its
/// session up. It runs as the bootstrap superuser: it takes none of the
/// database's defaults that could change what its statements mean or
/// whether they run, and no JIT (the seal statement's generic plan was
/// costed high enough to be compiled at every execution: 40 % of the
/// sealer's CPU); then `extra` settings of its own.
pub(crate) fn connect_worker(arg: pg_sys::Datum, name: &str, extra: &[&str]) {
    use pgrx::bgworkers::{BackgroundWorker, SignalWakeFlags};
    use pgrx::FromDatum;
    let database = unsafe { pg_sys::Oid::from_datum(arg, false) }.expect("a database oid");
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    BackgroundWorker::connect_worker_to_spi_by_oid(Some(database), None);
    let application = format!("SET application_name = '{name}'");
    BackgroundWorker::transaction(|| {
        let common = [
            "SET search_path = pg_catalog, pg_temp",
            "SET default_transaction_isolation = 'read committed'",
            "SET default_transaction_read_only = off",
            "SET statement_timeout = 0",
            "SET lock_timeout = 0",
            "SET idle_in_transaction_session_timeout = 0",
            "SET jit = off",
            application.as_str(),
        ];
        for setting in common.iter().chain(extra) {
            Spi::run(setting).expect("SET");
        }
    });
}

/// In a worker: takes its presence lock for its lifetime; false if another
/// worker holds it, or the extension is gone. A session's probe
/// ([`presence_held`]) holds the lock for an instant, so it tries a few
/// times.
pub(crate) fn take_presence(presence: i64) -> bool {
    use pgrx::bgworkers::BackgroundWorker;
    for _ in 0..20 {
        let (installed, got) = BackgroundWorker::transaction(|| {
            let installed = crate::seal::extension_oid() != pg_sys::InvalidOid;
            let got = installed
                && unsafe {
                    direct_function_call::<bool>(
                        pg_sys::pg_try_advisory_lock_int8,
                        &[presence.into_datum()],
                    )
                }
                .unwrap_or(false);
            (installed, got)
        });
        if got || !installed {
            return got;
        }
        if !BackgroundWorker::wait_latch(Some(Duration::from_millis(10))) {
            return false;
        }
    }
    false
}

/// Starts a background worker of this database (`name`, running the
/// library's `function`); false if none could be registered (no free slot:
/// `max_worker_processes`).
pub(crate) fn launch(name: &str, function: &str) -> bool {
    BackgroundWorkerBuilder::new(name)
        .set_type(name)
        .set_library("chronicle")
        .set_function(function)
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
    if crate::transaction::on_standby() || presence_held(SEALER_PRESENCE) {
        return true;
    }
    launch("chronicle sealer", "chronicle_sealer_main")
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
#[pg_extern(
    volatile,
    parallel_unsafe,
    name = "_feed_tick",
    schema = "chronicle_internal",
    security_definer
)]
#[search_path(pg_catalog, pg_temp)]
fn feed_tick() -> bool {
    if ensure_sealer() {
        return true;
    }
    if !WARNED.with(|w| w.replace(true)) {
        warning!("chronicle: could not start the sealer worker; raise max_worker_processes (readers seal meanwhile)");
    }
    // Not waiting for the seal lock: a reader that holds it until its
    // transaction ends must not make every other reader queue behind it.
    if crate::transaction::can_seal("chronicle.read_all").is_ok() {
        seal_here(SEAL_BATCH, false);
    }
    false
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._feed_tick() IS
    'Internal: makes sure a sealer runs before a feed read.';
"#,
    name = "feed_tick_comment",
    requires = [feed_tick],
);

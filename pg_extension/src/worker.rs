//! The sealer worker's work, a loop per database (`sealer.rs` starts it):
//! it seals whenever there is something to seal, makes sure a database with
//! retention rules has its retention worker (`retention_worker.rs`), and when an
//! open transaction that appended holds committed events back for longer
//! than `chronicle.stalled_appender_grace`, applies
//! `chronicle.stalled_appender_action` to its session.

use std::time::{Duration, Instant};

use pgrx::bgworkers::BackgroundWorker;
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::guc;
use crate::guc::StalledAppenderAction;
use crate::seal::{lock_extension, seal_now, Sealed, SEALER_PRESENCE, SEAL_BATCH};
use crate::spi::spi;

/// How often the sealer checks that a database with retention rules has
/// its retention worker.
const RETENTION_CHECK: Duration = Duration::from_secs(10);

/// The sealer worker: seals whenever there is something to seal, sleeping
/// `chronicle.seal_interval` when there was nothing.
#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn chronicle_sealer_main(arg: pg_sys::Datum) {
    crate::sealer::connect_worker(
        arg,
        "chronicle sealer",
        &[
            // Its commits are synchronous, so a position is durable before
            // anyone can read it (and the seal's commit record, which follows
            // the sealed events' in the WAL, makes them durable too).
            "SET synchronous_commit = on",
            // The seal statement's custom plans were chosen over its generic
            // one, so it was planned again at every seal (12 % of the CPU).
            "SET plan_cache_mode = force_generic_plan",
        ],
    );
    if !crate::sealer::take_presence(SEALER_PRESENCE) {
        return; // another sealer runs, or the extension is gone
    }
    let mut wait = Duration::ZERO;
    let mut stall = Stall::default();
    // After a restart, a database with retention rules gets its retention
    // worker back from here (set_retention starts it otherwise).
    let mut retention_checked: Option<Instant> = None;
    while BackgroundWorker::wait_latch(Some(wait)) {
        if BackgroundWorker::sighup_received() {
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        let sealed = BackgroundWorker::transaction(|| {
            lock_extension().then(|| Spi::connect_mut(|client| seal_now(client, SEAL_BATCH, true)))
        });
        let Some(sealed) = sealed else {
            break; // DROP EXTENSION
        };
        stall.observe(&sealed);
        if retention_checked.is_none_or(|t| t.elapsed() >= RETENTION_CHECK) {
            retention_checked = Some(Instant::now());
            BackgroundWorker::transaction(|| {
                if lock_extension() {
                    crate::retention_worker::ensure();
                }
            });
        }
        wait = next_wait(
            wait,
            sealed.count,
            guc::seal_busy_interval(),
            guc::seal_interval(),
        );
    }
}

/// The sealer's next wait: none after a full batch; after a seal that
/// handed out positions, `busy` (`chronicle.seal_busy_interval`, so that an
/// appender that waits for its positions — a client returning them, as
/// eventsourcing's recorders do — waits about that long, not a whole
/// `seal_interval`); after an empty one, twice the last wait, up to
/// `interval` (an idle database costs what it did with a fixed interval
/// once it has been idle for a few intervals).
pub(crate) fn next_wait(
    last: Duration,
    sealed: i64,
    busy: Duration,
    interval: Duration,
) -> Duration {
    let busy = busy.min(interval);
    if sealed >= SEAL_BATCH {
        Duration::ZERO
    } else if sealed > 0 {
        busy
    } else {
        (last * 2).clamp(busy, interval)
    }
}

/// The open appending transaction that committed events wait for, since
/// when, and whether the sealer has acted on it.
#[derive(Default)]
struct Stall {
    xid: Option<u64>,
    since: Option<Instant>,
    acted: bool,
}

impl Stall {
    /// Follows what the last seal waited for; past the grace period, applies
    /// `chronicle.stalled_appender_action` once.
    fn observe(&mut self, sealed: &Sealed) {
        if sealed.waiting_for != self.xid {
            *self = Stall {
                xid: sealed.waiting_for,
                since: Some(Instant::now()),
                acted: false,
            };
        }
        let (Some(xid), Some(since)) = (self.xid, self.since) else {
            return;
        };
        let (action, grace) = guc::stalled_appender();
        if self.acted || action == StalledAppenderAction::Off || since.elapsed() < grace {
            return;
        }
        self.acted = true;
        let held = since.elapsed();
        BackgroundWorker::transaction(|| end_stalled_appender(xid, action, held, grace));
    }
}

/// The session (or prepared transaction) of an appending transaction.
const HOLDER: &str = "\
SELECT a.pid, a.usename::pg_catalog.text, a.application_name, a.state, p.gid,
       pg_catalog.current_database()::pg_catalog.text
  FROM (SELECT) AS one
  LEFT JOIN pg_catalog.pg_stat_activity a
         ON a.datid OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                             WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
        AND a.backend_xid::pg_catalog.text OPERATOR(pg_catalog.=) $1
  LEFT JOIN pg_catalog.pg_prepared_xacts p
         ON p.transaction::pg_catalog.text OPERATOR(pg_catalog.=) $1
        AND p.database OPERATOR(pg_catalog.=) pg_catalog.current_database()";

/// Cancels or terminates the session of the transaction `xid`, which has
/// held the feed back for `held`, and says so in the server log.
fn end_stalled_appender(xid: u64, action: StalledAppenderAction, held: Duration, grace: Duration) {
    Spi::connect(|client| {
        // pg_stat_activity and pg_prepared_xacts show 32-bit ids.
        let short = (xid as u32).to_string();
        let row = spi(client.select(HOLDER, Some(1), &[short.as_str().into()])).first();
        let pid = spi(row.get::<i32>(1));
        let user = spi(row.get::<String>(2)).unwrap_or_default();
        let application = spi(row.get::<String>(3)).unwrap_or_default();
        let state = spi(row.get::<String>(4)).unwrap_or_default();
        let gid = spi(row.get::<String>(5));
        let database = spi(row.get::<String>(6)).unwrap_or_default();
        let why = format!(
            "its transaction {xid} appended events and has held the global feed of database \"{database}\" back for {:.1} s \
             (chronicle.stalled_appender_action = {}, chronicle.stalled_appender_grace = {} ms)",
            held.as_secs_f64(),
            match action {
                StalledAppenderAction::Cancel => "cancel",
                _ => "terminate",
            },
            grace.as_millis()
        );
        match (pid, gid) {
            (Some(pid), _) => {
                let (verb, function) = match action {
                    StalledAppenderAction::Cancel => ("cancelling the statement of", "pg_cancel_backend"),
                    _ => ("terminating", "pg_terminate_backend"),
                };
                log!(
                    "chronicle: {verb} the session with pid {pid} (user {user}, application \"{application}\", {state}): {why}"
                );
                if action == StalledAppenderAction::Cancel && state != "active" {
                    log!("chronicle: the session is not running a statement, so cancelling does not end its transaction; chronicle.stalled_appender_action = terminate would");
                }
                spi(client.select(
                    &format!("SELECT pg_catalog.{function}($1)"),
                    None,
                    &[pid.into()],
                ));
            }
            (None, Some(gid)) => warning!(
                "chronicle: the prepared transaction '{gid}' holds the global feed back: {why}; no session can be ended, run COMMIT PREPARED or ROLLBACK PREPARED"
            ),
            (None, None) => {}
        }
    });
}

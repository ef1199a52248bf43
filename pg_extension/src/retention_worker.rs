//! The retention worker: a background worker per database with retention
//! rules, beside the sealer, that applies them every
//! `chronicle.retention_interval` (`retention.rs` says how). A process of its
//! own, so that the feed never waits for a retention step: the sealer seals
//! meanwhile (removing events that already have positions does not hold
//! the sealer's lock, `feed_blank.rs`).
//!
//! It is started by `set_retention` and, after a restart, by the sealer
//! worker (which checks every few seconds whether a database with rules has
//! one running); it ends when the database has no rule left, and when the
//! extension is dropped. With `chronicle.retention_interval` 0 it idles.

use std::time::Duration;

use pgrx::bgworkers::BackgroundWorker;
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::seal::lock_extension;
use crate::sealer::{launch, presence_held, take_presence};

/// The advisory lock a running retention worker holds for its lifetime.
const RETENTION_PRESENCE: i64 = 0x6368_726f_6e69_0003;

/// Whether the database has a retention rule.
fn has_rules() -> bool {
    Spi::get_one::<bool>("SELECT EXISTS (SELECT FROM chronicle.retention_rules)")
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Starts a retention worker for this database if it has rules and none
/// runs (not on a standby); the worker itself reads
/// `chronicle.retention_interval` (the database's, when it starts). A
/// database without a free worker slot (`max_worker_processes`) is not cut
/// until one is free: `chronicle.apply_retention()` still cuts it.
pub fn ensure() {
    if crate::transaction::on_standby() || presence_held(RETENTION_PRESENCE) || !has_rules() {
        return;
    }
    if !launch("chronicle retention", "chronicle_retention_main") {
        warning!(
            "chronicle: could not start the retention worker; raise max_worker_processes \
             (chronicle.apply_retention() applies the rules meanwhile)"
        );
    }
}

/// The retention worker: passes over the streams with rules, a step (one
/// short transaction) at a time, sleeping between passes.
#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn chronicle_retention_main(arg: pg_sys::Datum) {
    crate::sealer::connect_worker(
        arg,
        "chronicle retention",
        // Not waiting for the WAL to reach the disk: appends to a step's
        // streams wait for its commit (it writes their heads last). A crash
        // may undo a step; the next pass does it again. A seal that gives
        // its tombstones positions commits later, synchronously, which
        // flushes this commit first.
        &["SET synchronous_commit = off"],
    );
    if !take_presence(RETENTION_PRESENCE) {
        return; // another one runs, or the extension is gone
    }
    let mut passes = crate::retention::Worker::starting_later();
    let mut wait = Duration::ZERO;
    // Checks in a row that found no rule: set_retention starts the worker
    // before its own transaction commits, so one look is not enough.
    let mut idle = 0;
    while BackgroundWorker::wait_latch(Some(wait)) {
        if BackgroundWorker::sighup_received() {
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        let state = BackgroundWorker::transaction(|| lock_extension().then(has_rules));
        match state {
            None => break,                     // DROP EXTENSION
            Some(false) if idle >= 3 => break, // no rule left
            Some(false) => {
                idle += 1;
                wait = Duration::from_secs(1);
                continue;
            }
            Some(true) => idle = 0,
        }
        wait = if passes.step() {
            Duration::ZERO
        } else {
            // Not due yet: look again in a second (a rule removed or the
            // extension dropped meanwhile ends the worker).
            Duration::from_secs(1)
        };
    }
}

//! The extension's settings (`SET chronicle.max_event_size = ...`).

use chronicle_core::Limits;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

static MAX_EVENT_SIZE: GucSetting<i32> =
    GucSetting::<i32>::new(Limits::DEFAULT_MAX_EVENT_SIZE as i32);
static MAX_BATCH_EVENTS: GucSetting<i32> =
    GucSetting::<i32>::new(Limits::DEFAULT_MAX_BATCH_EVENTS as i32);

/// Off by default: Postgres serialises the commits of every transaction that
/// sends NOTIFY (cluster-wide, through the fsync), which halved append
/// throughput in the benchmark. Turn it on where listeners need it.
static NOTIFY: GucSetting<bool> = GucSetting::<bool>::new(false);

/// `chronicle.notify`: whether committing appends send NOTIFY.
pub fn notify() -> bool {
    NOTIFY.get()
}

static SNAPSHOT_EVERY: GucSetting<i32> = GucSetting::<i32>::new(100);

/// `chronicle.snapshot_every`: 0 turns snapshot writing off.
pub fn snapshot_every() -> u64 {
    SNAPSHOT_EVERY.get().max(0) as u64
}

pub fn register() {
    GucRegistry::define_bool_guc(
        c"chronicle.notify",
        c"Committing transactions that appended send NOTIFY chronicle, one per stream.",
        c"Off by default: Postgres serialises the commits of notifying transactions.",
        &NOTIFY,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"chronicle.snapshot_every",
        c"state_at caches the state every this many versions (0: never).",
        c"Snapshots are a cache: deleting them never changes an answer.",
        &SNAPSHOT_EVERY,
        0,
        1_000_000_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"chronicle.max_event_size",
        c"Largest event accepted, in bytes of data + metadata as compact JSON.",
        c"Appends of larger events fail with SQLSTATE 54000.",
        &MAX_EVENT_SIZE,
        1024,
        256 * 1024 * 1024,
        GucContext::Userset,
        GucFlags::UNIT_BYTE,
    );
    GucRegistry::define_int_guc(
        c"chronicle.max_batch_events",
        c"Most events one chronicle.append_events call may carry.",
        c"Larger batches fail with SQLSTATE 54000.",
        &MAX_BATCH_EVENTS,
        1,
        1_000_000,
        GucContext::Userset,
        GucFlags::default(),
    );
}

/// The limits in force for this session.
pub fn limits() -> Limits {
    Limits {
        max_event_size: MAX_EVENT_SIZE.get() as usize,
        max_batch_events: MAX_BATCH_EVENTS.get() as usize,
    }
}

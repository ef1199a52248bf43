//! The extension's settings (`SET chronicle.max_event_size = ...`), but for
//! `chronicle.tenant` (see `tenant.rs`).

use chronicle_core::Limits;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

static MAX_EVENT_SIZE: GucSetting<i32> =
    GucSetting::<i32>::new(Limits::DEFAULT_MAX_EVENT_SIZE as i32);
static MAX_BATCH_EVENTS: GucSetting<i32> =
    GucSetting::<i32>::new(Limits::DEFAULT_MAX_BATCH_EVENTS as i32);

/// Who sends `NOTIFY chronicle` (see `notify.rs` and `feed.rs`).
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Notify {
    /// Nobody.
    #[name = c"off"]
    Off,
    /// The sealer, once per stream per sealed batch, with the positions:
    /// free for writers.
    #[name = c"sealed"]
    Sealed,
    /// Every committing transaction that appended, once per stream, before
    /// positions are known. Postgres serialises the commits of notifying
    /// transactions cluster-wide: this halved append throughput.
    #[name = c"commit"]
    Commit,
}

static NOTIFY: GucSetting<Notify> = GucSetting::<Notify>::new(Notify::Sealed);

/// `chronicle.notify`: who sends NOTIFY.
pub fn notify() -> Notify {
    NOTIFY.get()
}

static SEAL_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(10);

/// `chronicle.seal_interval`: how long the sealer sleeps between seals.
pub fn seal_interval() -> std::time::Duration {
    std::time::Duration::from_millis(SEAL_INTERVAL.get().max(1) as u64)
}

static SEAL_BUSY_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(1);

/// `chronicle.seal_busy_interval`: how long the sealer waits after a seal
/// that handed out positions (at most `seal_interval`).
pub fn seal_busy_interval() -> std::time::Duration {
    std::time::Duration::from_millis(SEAL_BUSY_INTERVAL.get().max(1) as u64)
}

static RETENTION_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(60_000);

/// `chronicle.retention_interval`: how often the retention worker applies the
/// retention rules (None: never; `chronicle.apply_retention()` still does).
pub fn retention_interval() -> Option<std::time::Duration> {
    let ms = RETENTION_INTERVAL.get();
    (ms > 0).then(|| std::time::Duration::from_millis(ms as u64))
}

/// What the sealer does to a session whose open transaction appended and
/// has held the feed back for longer than `chronicle.stalled_appender_grace`.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum StalledAppenderAction {
    /// Nothing: the feed waits for the transaction to end.
    #[name = c"off"]
    Off,
    /// Cancels the session's running statement (`pg_cancel_backend`),
    /// which aborts its transaction; a session idle in transaction is not
    /// running one, and stays.
    #[name = c"cancel"]
    Cancel,
    /// Ends the session (`pg_terminate_backend`); its transaction rolls back.
    #[name = c"terminate"]
    Terminate,
}

static STALLED_APPENDER_ACTION: GucSetting<StalledAppenderAction> =
    GucSetting::<StalledAppenderAction>::new(StalledAppenderAction::Off);
static STALLED_APPENDER_GRACE: GucSetting<i32> = GucSetting::<i32>::new(60_000);

/// `chronicle.stalled_appender_action` and `chronicle.stalled_appender_grace`.
pub fn stalled_appender() -> (StalledAppenderAction, std::time::Duration) {
    (
        STALLED_APPENDER_ACTION.get(),
        std::time::Duration::from_millis(STALLED_APPENDER_GRACE.get().max(0) as u64),
    )
}

static SNAPSHOT_EVERY: GucSetting<i32> = GucSetting::<i32>::new(100);

/// `chronicle.snapshot_every`: 0 turns snapshot writing off.
pub fn snapshot_every() -> u64 {
    SNAPSHOT_EVERY.get().max(0) as u64
}

pub fn register() {
    GucRegistry::define_enum_guc(
        c"chronicle.notify",
        c"Who sends NOTIFY chronicle: sealed (the sealer, with positions), commit (each appending transaction) or off.",
        c"commit makes Postgres serialise the commits of every appending transaction.",
        &NOTIFY,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"chronicle.seal_interval",
        c"How long the sealer waits after each seal that did not fill a whole batch.",
        c"Lower: less feed latency; higher: fewer, larger seals (less CPU per event).",
        &SEAL_INTERVAL,
        1,
        60_000,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"chronicle.seal_busy_interval",
        c"How long the sealer waits after a seal that handed out positions (at most seal_interval); after an empty seal it waits twice as long as before, up to seal_interval.",
        c"Lower: less feed latency under load (a client that waits for its positions waits about this long); higher: fewer seals (one synchronous commit each).",
        &SEAL_BUSY_INTERVAL,
        1,
        60_000,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"chronicle.retention_interval",
        c"How often the retention worker applies the retention rules (chronicle.set_retention); 0: never.",
        c"A pass cuts the streams in short transactions; chronicle.apply_retention() does a pass on demand. Per database: ALTER DATABASE ... SET (the worker reads it when it starts).",
        &RETENTION_INTERVAL,
        0,
        86_400_000,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_enum_guc(
        c"chronicle.stalled_appender_action",
        c"What the sealer does to a session whose open transaction appended events and has held the global feed back for longer than chronicle.stalled_appender_grace: off, cancel (its running statement) or terminate (the session).",
        c"Events committed after such a transaction started wait until it ends; the server log says whom the sealer cancelled or terminated, and why.",
        &STALLED_APPENDER_ACTION,
        GucContext::Sighup,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"chronicle.stalled_appender_grace",
        c"How long an open transaction that appended may hold the global feed back before chronicle.stalled_appender_action applies.",
        c"Counted from when the sealer first finds committed events waiting for it.",
        &STALLED_APPENDER_GRACE,
        0,
        i32::MAX,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"chronicle.snapshot_every",
        c"state_at caches the state every this many versions (0: never).",
        c"Snapshots are a cache: deleting them never changes an answer. Superuser only: the cache is written as its owner, whoever calls state_at.",
        &SNAPSHOT_EVERY,
        0,
        1_000_000_000,
        GucContext::Suset,
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

//! The extension's settings (`SET chronicle.max_event_size = ...`).

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

static SNAPSHOT_EVERY: GucSetting<i32> = GucSetting::<i32>::new(100);

/// `chronicle.snapshot_every`: 0 turns snapshot writing off.
pub fn snapshot_every() -> u64 {
    SNAPSHOT_EVERY.get().max(0) as u64
}

static TENANT: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(None);

/// Set when this session gave `chronicle.tenant` a value before the library
/// was loaded (a placeholder, which anyone may set) and Postgres refused to
/// keep it once the setting was defined: the session asked for a tenant it
/// may not have, so it gets none at all (current_tenant() raises 42501).
static TENANT_REFUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The current text of a setting, if it exists (also a placeholder).
fn setting_text(name: &std::ffi::CStr) -> Option<String> {
    let value = unsafe { pgrx::pg_sys::GetConfigOption(name.as_ptr(), true, false) };
    (!value.is_null()).then(|| {
        unsafe { std::ffi::CStr::from_ptr(value) }
            .to_string_lossy()
            .into_owned()
    })
}

pub fn register() {
    let placeholder = setting_text(c"chronicle.tenant");
    GucRegistry::define_string_guc(
        c"chronicle.tenant",
        c"The session's tenant: it sees and writes only its own streams and subscriptions.",
        c"Set per role by a superuser: ALTER ROLE app_acme SET chronicle.tenant = 'acme'. Empty: the rows of no tenant.",
        &TENANT,
        GucContext::Suset,
        GucFlags::default(),
    );
    if placeholder.is_some_and(|p| Some(p) != setting_text(c"chronicle.tenant")) {
        TENANT_REFUSED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
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

/// `chronicle.current_tenant()`: the session's tenant, `chronicle.tenant`
/// ('' for none). Only a superuser can set it (`ALTER ROLE ... SET
/// chronicle.tenant`), so a role cannot choose another tenant's rows. The
/// row-level security policies call this function, which loads this library
/// first: a `SET chronicle.tenant` made before the library was loaded (a
/// placeholder anyone may set) is then refused, never used.
#[pgrx::pg_extern(stable, parallel_safe)]
fn current_tenant() -> String {
    tenant()
}

/// The checks before any definition (reducer, event type, upcaster): the
/// transaction may write (25006), and the session has no tenant (42501,
/// `shared_definition`): definitions are shared by every tenant, so no
/// tenant may change them for the others.
pub fn require_definer(function: &'static str) {
    crate::errors::require_writable(function);
    let tenant = tenant();
    if !tenant.is_empty() {
        crate::errors::raise(
            chronicle_core::Error::SharedDefinition {
                operation: function,
                tenant,
            },
            function,
        );
    }
}

/// The session's tenant ('' for none); see [`current_tenant`].
pub fn tenant() -> String {
    if TENANT_REFUSED.load(std::sync::atomic::Ordering::Relaxed) {
        pgrx::pg_sys::panic::ErrorReport::new(
            pgrx::PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "chronicle.tenant was set in this session without the privilege to set it",
            "chronicle.current_tenant",
        )
        .set_hint(
            "Only a superuser sets it, per role: ALTER ROLE ... SET chronicle.tenant = '...'. \
             Reconnect without setting chronicle.tenant.",
        )
        .report(pgrx::PgLogLevel::ERROR);
    }
    TENANT
        .get()
        .map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The limits in force for this session.
pub fn limits() -> Limits {
    Limits {
        max_event_size: MAX_EVENT_SIZE.get() as usize,
        max_batch_events: MAX_BATCH_EVENTS.get() as usize,
    }
}

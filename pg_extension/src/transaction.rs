//! What the current transaction may do: write (not on a standby, not
//! read-only), seal (also READ COMMITTED). The rules are the core's; this
//! reads the transaction's state for them.

use pgrx::pg_sys;

use crate::errors::{raise, OrRaise};

/// Whether this session runs on a hot standby.
pub fn on_standby() -> bool {
    unsafe { pg_sys::RecoveryInProgress() }
}

/// Whether this transaction may write: not on a standby, not read-only.
pub fn writable() -> bool {
    !on_standby() && unsafe { !pg_sys::XactReadOnly }
}

/// Raises 25006 when this transaction cannot write (on a standby, or a
/// read-only transaction) — before anything that would assign a
/// transaction id and fail with an internal error instead.
pub fn require_writable(function: &'static str) {
    if !writable() {
        raise(
            chronicle_core::Error::ReadOnly {
                operation: function,
                standby: on_standby(),
            },
            function,
        );
    }
}

/// Whether this transaction can seal (see `chronicle_core::feed::check_can_seal`).
pub fn can_seal(function: &'static str) -> chronicle_core::Result<()> {
    let (read_only, repeatable_read) = unsafe {
        (
            pg_sys::XactReadOnly,
            pg_sys::XactIsoLevel >= pg_sys::XACT_REPEATABLE_READ as i32,
        )
    };
    chronicle_core::feed::check_can_seal(function, on_standby(), read_only, repeatable_read)
}

/// Raises the core's error when this transaction cannot seal.
pub fn require_can_seal(function: &'static str) {
    can_seal(function).or_raise(function);
}

/// Runs `body` in a subtransaction: what it did is kept when it returns,
/// rolled back when it raises an ERROR, whose message is then returned (as
/// PL/pgSQL's EXCEPTION blocks do). For work that must not stop at one bad
/// item: retention skips a stream it cannot truncate.
pub fn attempt<R>(body: impl FnOnce() -> R) -> Result<R, String> {
    use pgrx::pg_sys::panic::CaughtError;
    use pgrx::PgTryBuilder;
    unsafe {
        let context = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(context);
        let result = PgTryBuilder::new(std::panic::AssertUnwindSafe(|| Ok(body())))
            .catch_others(|e| {
                Err(match e {
                    CaughtError::PostgresError(r)
                    | CaughtError::ErrorReport(r)
                    | CaughtError::RustPanic { ereport: r, .. } => r.message().to_string(),
                })
            })
            .execute();
        pg_sys::MemoryContextSwitchTo(context);
        if result.is_ok() {
            pg_sys::ReleaseCurrentSubTransaction();
        } else {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
        }
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::CurrentResourceOwner = owner;
        result
    }
}

//! Acting as the extension's owner for one step of an invoker's call, and
//! naming the role that called (for the audit tables).
//!
//! `state_at` runs with its caller's rights (so that row-level security
//! decides which streams the caller sees), but its snapshot cache must not be
//! writable by callers: a forged snapshot would change the answers of every
//! later `state_at`. So the cache is read and written as the owner of
//! `chronicle.snapshots`, the way Postgres runs a SECURITY DEFINER function,
//! and nobody else has any privilege on it.

use pgrx::pg_sys;

/// Puts the previous user back when dropped (also when an ERROR unwinds).
struct Restore {
    user: pg_sys::Oid,
    context: i32,
}

impl Drop for Restore {
    fn drop(&mut self) {
        unsafe { pg_sys::SetUserIdAndSecContext(self.user, self.context) }
    }
}

/// Runs `f` as `owner` (the owner of `chronicle.snapshots`, which
/// `replay.rs` reads along with the stream).
pub fn as_owner<R>(owner: pg_sys::Oid, f: impl FnOnce() -> R) -> R {
    let (mut user, mut context) = (pg_sys::InvalidOid, 0);
    unsafe { pg_sys::GetUserIdAndSecContext(&mut user, &mut context) };
    if user == owner {
        return f();
    }
    let _restore = Restore { user, context };
    unsafe {
        pg_sys::SetUserIdAndSecContext(owner, context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32)
    };
    f()
}

/// The role that called: after SET ROLE, not the definer.
pub fn caller() -> String {
    unsafe {
        let name = pg_sys::GetUserNameFromId(pg_sys::GetOuterUserId(), true);
        if name.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    }
}

//! Locks of Chronicle's own kinds: entries of the advisory lock method's
//! table (what `pg_advisory_lock` uses) whose `locktag_field4` (`pg_locks`'
//! objsubid) no SQL advisory lock uses (those use 1 and 2), so that no
//! application's advisory lock can collide with them.

use pgrx::pg_sys;

/// An appending transaction's lock (`seal_bound.rs`); `pg_locks` shows it as
/// objsubid 25448 (`sql/feed.sql` reads it).
pub const APPENDER: u16 = 0x6368;
/// A data subject's lock (`subject_keys.rs`); objsubid 28784.
pub const SUBJECT: u16 = 0x7070;

/// The lock of `kind` on `key` in this database.
pub fn tag(kind: u16, key: u64) -> pg_sys::LOCKTAG {
    pg_sys::LOCKTAG {
        locktag_field1: unsafe { pg_sys::MyDatabaseId }.to_u32(),
        locktag_field2: (key >> 32) as u32,
        locktag_field3: key as u32,
        locktag_field4: kind,
        locktag_type: pg_sys::LockTagType::LOCKTAG_ADVISORY as u8,
        locktag_lockmethodid: pg_sys::USER_LOCKMETHOD as u8,
    }
}

/// Takes `tag` in `mode` (waiting for it) until the transaction ends, also
/// when a savepoint is rolled back: the lock belongs to the top transaction.
pub fn hold_until_transaction_end(tag: &pg_sys::LOCKTAG, mode: pg_sys::LOCKMODE) {
    unsafe {
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::CurrentResourceOwner = pg_sys::TopTransactionResourceOwner;
        pg_sys::LockAcquire(tag, mode, false, false);
        pg_sys::CurrentResourceOwner = owner;
    }
}

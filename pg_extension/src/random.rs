//! Random bytes and ids. Keys come from Postgres' strong random source
//! (`pg_strong_random`: OpenSSL's where Postgres is built with it); nonces
//! and generated event ids from a stream (the core's `personal::Stream`)
//! each backend seeds from that source, which costs one call instead of one
//! per member sealed.

use std::cell::RefCell;

use chronicle_core::personal::Stream;
use pgrx::pg_sys;

/// Fills `bytes` from Postgres' strong random source.
pub fn fill(bytes: &mut [u8]) {
    let ok = unsafe { pg_sys::pg_strong_random(bytes.as_mut_ptr().cast(), bytes.len()) };
    assert!(ok, "pg_strong_random failed");
}

thread_local! {
    /// Seeded on first use in each backend (after the fork from the
    /// postmaster: no two backends share a stream).
    static STREAM: RefCell<Option<Stream>> = const { RefCell::new(None) };
}

/// Fills `bytes` from this backend's stream.
pub fn stream(bytes: &mut [u8]) {
    STREAM.with(|s| {
        let mut s = s.borrow_mut();
        if s.as_ref().is_none_or(Stream::spent) {
            let mut seed = [0u8; 44];
            fill(&mut seed);
            *s = Some(Stream::new(&seed));
        }
        s.as_mut().expect("seeded").fill(bytes);
    });
}

/// A random (version 4) UUID.
pub fn uuid() -> pgrx::Uuid {
    let mut bytes = [0u8; 16];
    stream(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    pgrx::Uuid::from_bytes(bytes)
}

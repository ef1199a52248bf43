//! Chronicle's core: validates, sequences and (later) replays events.
//!
//! It does no I/O, reads no clock and draws no random numbers: the Postgres
//! extension and the WebAssembly module pass in everything it judges, so both
//! reach the same verdicts. See `../shared/design.md` for the vocabulary.

pub mod append;
pub mod batch;
pub mod error;
pub mod event;
pub mod identifier;
pub mod json;
pub mod limits;
pub mod memory;
pub mod sequencing;

pub use error::{Error, Result};
pub use limits::Limits;
pub use sequencing::ExpectedVersion;

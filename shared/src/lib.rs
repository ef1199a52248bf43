//! Chronicle's core: validates, sequences and replays events.
//!
//! It does no I/O, reads no clock and draws no random numbers: the Postgres
//! extension and the WebAssembly module pass in everything it judges, so both
//! reach the same verdicts. See `../shared/design.md` for the vocabulary.

pub mod append;
pub mod batch;
pub mod canonical;
pub mod diff;
pub mod error;
pub mod event;
pub mod event_view;
pub mod export;
pub mod feed;
pub mod history;
pub mod identifier;
pub mod json;
pub mod limits;
pub mod memory;
pub mod reducer;
pub mod replay;
pub mod schema;
pub mod sequencing;
pub mod upcast;

pub use error::{Error, Result};
pub use limits::Limits;
pub use sequencing::ExpectedVersion;

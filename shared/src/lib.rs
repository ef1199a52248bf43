//! Chronicle's core: validates, sequences and replays events.
//!
//! It does no I/O, reads no clock and draws no random numbers: the Postgres
//! extension and the WebAssembly module pass in everything it judges, so both
//! reach the same verdicts. The README's "Concepts" section defines the
//! vocabulary (stream, version, global position, reducer, ...);
//! CONTRIBUTING.md says which module holds which rule.

pub mod append;
pub mod arguments;
pub mod batch;
pub mod canonical;
pub mod decimal;
pub mod derive;
pub mod diff;
pub mod domain_events;
pub mod error;
pub mod event;
pub mod export;
pub mod feed;
pub mod hash;
pub mod history;
pub mod identifier;
pub mod import;
pub mod json;
pub mod lifecycle;
pub mod limits;
pub mod memory;
pub mod memory_feed;
pub mod message_db;
pub mod payload;
pub mod personal;
pub mod pointer;
pub mod reducer;
pub mod replay;
pub mod schema;
pub mod seal_bound;
pub mod sequencing;
pub mod stream;
pub mod subscription;
pub mod time;
pub mod upcast;

pub use error::{Error, Result};
pub use limits::Limits;
pub use sequencing::ExpectedVersion;

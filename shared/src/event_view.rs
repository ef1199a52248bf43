//! A stored event as replay sees it: its envelope as a JSON object, in the
//! shape `chronicle.read_stream` rows and the NDJSON export have
//! (`{"version": 3, "event_type": "ItemAdded", "data": {...}, ...}`).

use serde_json::Value;

use crate::error::{Error, Result};

/// One event, read for replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    envelope: Value,
    version: u64,
    event_type: String,
}

impl Event {
    /// Reads an event; it needs a positive integer `version`, a string
    /// `event_type` and an object `data`.
    pub fn from_json(envelope: Value) -> Result<Event> {
        let version = envelope
            .get("version")
            .and_then(Value::as_u64)
            .filter(|&v| v >= 1)
            .ok_or_else(|| {
                Error::invalid(
                    "event.version",
                    "must be a positive integer",
                    "Pass events as chronicle.read_stream returns them.",
                )
            })?;
        let event_type = envelope
            .get("event_type")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::invalid(
                    "event.event_type",
                    "must be a string",
                    "Pass events as chronicle.read_stream returns them.",
                )
            })?
            .to_string();
        if !envelope.get("data").is_some_and(Value::is_object) {
            return Err(Error::invalid(
                "event.data",
                "must be a JSON object",
                "Pass events as chronicle.read_stream returns them.",
            ));
        }
        Ok(Event {
            envelope,
            version,
            event_type,
        })
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    pub fn data(&self) -> &Value {
        &self.envelope["data"]
    }

    /// The whole envelope (what `from` pointers of a reducer read).
    pub fn envelope(&self) -> &Value {
        &self.envelope
    }

    /// `recorded_at`, if the envelope has it.
    pub fn recorded_at(&self) -> Option<&str> {
        self.envelope.get("recorded_at").and_then(Value::as_str)
    }
}

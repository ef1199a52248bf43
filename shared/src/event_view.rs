//! A stored event as replay sees it: its envelope as a JSON object, in the
//! shape `chronicle.read_stream` rows and the NDJSON export have
//! (`{"version": 3, "event_type": "ItemAdded", "data": {...}, ...}`).
//!
//! Timestamps (`occurred_at`, `recorded_at`) are rewritten to one canonical
//! form, RFC 3339 in UTC with `Z` and fractional seconds only when not zero
//! (in groups of three digits): `2024-05-01T12:30:00Z`,
//! `2024-05-01T12:30:00.250Z`. Postgres writes `+00:00` and the browser
//! `.000Z`; a reducer that copies a time into the state gives the same bytes
//! everywhere.

use serde_json::{Map, Value};

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
    pub fn from_json(mut envelope: Value) -> Result<Event> {
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
        for key in ["occurred_at", "recorded_at"] {
            if let Some(Value::String(text)) = envelope.get(key) {
                let canonical =
                    canonical_time(&crate::replay::parse_time(&format!("event.{key}"), text)?);
                envelope[key] = Value::String(canonical);
            }
        }
        Ok(Event {
            envelope,
            version,
            event_type,
        })
    }

    /// An event from parts a store has already checked: `envelope` must
    /// hold `data` (an object) and timestamps in canonical form
    /// ([`canonical_time_from_unix_micros`]); `version` and `event_type` are
    /// added to it.
    pub fn from_checked_parts(
        version: u64,
        event_type: String,
        mut envelope: Map<String, Value>,
    ) -> Event {
        envelope.insert("version".into(), Value::from(version));
        envelope.insert("event_type".into(), Value::String(event_type.clone()));
        Event {
            envelope: Value::Object(envelope),
            version,
            event_type,
        }
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

/// The canonical text of a timestamp (see the module documentation).
pub fn canonical_time(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    t.with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.fZ")
        .to_string()
}

/// The canonical text of a time given in microseconds since 1970-01-01 UTC.
pub fn canonical_time_from_unix_micros(micros: i64) -> String {
    let t = chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default();
    canonical_time(&t.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_are_canonical() {
        let e = Event::from_json(json!({"version": 1, "event_type": "A", "data": {},
            "occurred_at": "2024-05-01T14:30:00+02:00", "recorded_at": "2024-05-01 12:30:00.25+00"}))
        .unwrap();
        assert_eq!(e.envelope()["occurred_at"], "2024-05-01T12:30:00Z");
        assert_eq!(e.envelope()["recorded_at"], "2024-05-01T12:30:00.250Z");
        let bad = Event::from_json(
            json!({"version": 1, "event_type": "A", "data": {}, "recorded_at": "soon"}),
        );
        assert_eq!(bad.unwrap_err().field(), "event.recorded_at");
        assert_eq!(
            canonical_time_from_unix_micros(1_714_566_600_250_000),
            "2024-05-01T12:30:00.250Z"
        );
    }
}

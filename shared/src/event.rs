//! A stored event as replay sees it: its envelope as a JSON object, in the
//! shape `chronicle.read_stream` rows and the NDJSON export have
//! (`{"version": 3, "event_type": "ItemAdded", "data": {...}, ...}`).
//!
//! Timestamps (`occurred_at`, `recorded_at`) are rewritten to their
//! canonical form ([`crate::time`]), so a reducer that copies a time into
//! the state gives the same bytes everywhere.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::time::canonical_text;

/// The members of a stored event's envelope, as `chronicle.read_stream`
/// returns them (and the database's replay can read).
pub const ENVELOPE_MEMBERS: [&str; 14] = [
    "global_position",
    "event_id",
    "stream_id",
    "stream_type",
    "version",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "correlation_id",
    "causation_id",
    "actor",
    "occurred_at",
    "recorded_at",
];

/// A member's raw JSON text, `null` included (`Option<&RawValue>` would read
/// `null` as absent, and a member that is null is not a missing one).
#[derive(Default)]
struct Raw<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(|r| Raw(Some(r)))
    }
}

/// The envelope members of an event's text, unparsed: only those a fold
/// needs are turned into values. Other members are ignored, as the
/// database's replay has no others.
#[derive(Deserialize)]
struct Members<'a> {
    #[serde(default, borrow)]
    global_position: Raw<'a>,
    #[serde(default, borrow)]
    event_id: Raw<'a>,
    #[serde(default, borrow)]
    stream_id: Raw<'a>,
    #[serde(default, borrow)]
    stream_type: Raw<'a>,
    #[serde(default, borrow)]
    version: Raw<'a>,
    #[serde(default, borrow)]
    event_type: Raw<'a>,
    #[serde(default, borrow)]
    schema_version: Raw<'a>,
    #[serde(default, borrow)]
    data: Raw<'a>,
    #[serde(default, borrow)]
    metadata: Raw<'a>,
    #[serde(default, borrow)]
    correlation_id: Raw<'a>,
    #[serde(default, borrow)]
    causation_id: Raw<'a>,
    #[serde(default, borrow)]
    actor: Raw<'a>,
    #[serde(default, borrow)]
    occurred_at: Raw<'a>,
    #[serde(default, borrow)]
    recorded_at: Raw<'a>,
}

/// The envelope members every fold reads.
const ALWAYS: [&str; 5] = [
    "version",
    "event_type",
    "data",
    "schema_version",
    "recorded_at",
];

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
        for (key, field) in [
            ("occurred_at", "event.occurred_at"),
            ("recorded_at", "event.recorded_at"),
        ] {
            if let Some(Value::String(text)) = envelope.get(key) {
                envelope[key] = Value::String(canonical_text(field, text)?);
            }
        }
        Ok(Event {
            envelope,
            version,
            event_type,
        })
    }

    /// Reads an event from its JSON text (one line of an export), keeping the
    /// members a fold always needs and those in `keep` (all when `None`).
    /// Members outside the envelope of a stored event are ignored.
    pub fn from_text(
        text: &str,
        keep: Option<&std::collections::BTreeSet<String>>,
    ) -> Result<Event> {
        let not_an_event = |reason: String| {
            Error::invalid(
                "event",
                reason,
                "Pass events as chronicle.read_stream returns them.",
            )
        };
        if !text.trim_start().starts_with('{') {
            return Err(not_an_event("is not a JSON object".to_string()));
        }
        let m: Members<'_> = serde_json::from_str(text).map_err(|e| {
            not_an_event(format!("is not a JSON object with an event's members: {e}"))
        })?;
        let members = [
            ("global_position", m.global_position),
            ("event_id", m.event_id),
            ("stream_id", m.stream_id),
            ("stream_type", m.stream_type),
            ("version", m.version),
            ("event_type", m.event_type),
            ("schema_version", m.schema_version),
            ("data", m.data),
            ("metadata", m.metadata),
            ("correlation_id", m.correlation_id),
            ("causation_id", m.causation_id),
            ("actor", m.actor),
            ("occurred_at", m.occurred_at),
            ("recorded_at", m.recorded_at),
        ];
        let mut envelope = Map::new();
        for (name, Raw(raw)) in members {
            let Some(raw) = raw else { continue };
            if keep.is_some_and(|k| !k.contains(name) && !ALWAYS.contains(&name)) {
                continue;
            }
            // Already checked as JSON: only the nesting limit can fail here.
            let value = serde_json::from_str(raw.get())
                .or_else(|_| crate::json::parse(&format!("event.{name}"), raw.get()))?;
            envelope.insert(name.to_string(), value);
        }
        Event::from_json(Value::Object(envelope))
    }

    /// An event from parts a store has already checked: `envelope` must
    /// hold `data` (an object) and timestamps in canonical form
    /// ([`crate::time::canonical_time_from_unix_micros`]); `version` and `event_type` are
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

    /// The event's data, taken out of it.
    pub fn into_data(self) -> Value {
        match self.envelope {
            Value::Object(mut envelope) => envelope.remove("data").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// The whole envelope (what `from` pointers of a reducer read).
    pub fn envelope(&self) -> &Value {
        &self.envelope
    }

    /// The schema version of its data (1 when the envelope does not say).
    pub fn schema_version(&self) -> i64 {
        self.envelope
            .get("schema_version")
            .and_then(Value::as_i64)
            .unwrap_or(1)
    }

    /// `recorded_at`, if the envelope has it.
    pub fn recorded_at(&self) -> Option<&str> {
        self.envelope.get("recorded_at").and_then(Value::as_str)
    }
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
    }

    #[test]
    fn text_keeps_what_a_fold_needs() {
        let text = r#"{"version": 2, "event_type": "A", "data": {"n": 1.50}, "actor": "x",
                      "stream_id": "s-1", "recorded_at": "2024-05-01T12:30:00+00:00", "extra": 1}"#;
        let all = Event::from_text(text, None).unwrap();
        assert_eq!(all.envelope()["actor"], "x");
        assert!(all.envelope().get("extra").is_none());
        assert_eq!(crate::canonical::to_string(all.data()), r#"{"n":1.50}"#);
        let keep = std::collections::BTreeSet::from(["stream_id".to_string()]);
        let some = Event::from_text(text, Some(&keep)).unwrap();
        assert!(some.envelope().get("actor").is_none());
        assert_eq!(some.envelope()["stream_id"], "s-1");
        assert_eq!(some.recorded_at(), Some("2024-05-01T12:30:00Z"));
        assert_eq!(Event::from_text("[1]", None).unwrap_err().field(), "event");
        let fourteen = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14]";
        assert_eq!(
            Event::from_text(fourteen, None).unwrap_err().field(),
            "event"
        );
        // A member that is null is there, as in the database's envelope.
        let nulls = r#"{"version": 1, "event_type": "A", "data": {}, "actor": null}"#;
        assert_eq!(
            Event::from_text(nulls, None)
                .unwrap()
                .envelope()
                .get("actor"),
            Some(&Value::Null)
        );
    }
}

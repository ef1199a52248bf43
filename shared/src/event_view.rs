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

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

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
        for key in ["occurred_at", "recorded_at"] {
            if let Some(Value::String(text)) = envelope.get(key) {
                let canonical = match canonical_utc_text(text) {
                    Some(c) => c,
                    None => {
                        canonical_time(&crate::replay::parse_time(&format!("event.{key}"), text)?)
                    }
                };
                envelope[key] = Value::String(canonical);
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

/// The canonical text of a timestamp (see the module documentation).
pub fn canonical_time(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    t.with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.fZ")
        .to_string()
}

/// The canonical text of a UTC time written as Postgres or a browser writes
/// it (`2024-05-01T12:30:00.250000+00:00`, `... 12:30:00.25+00`,
/// `...T12:30:00.250Z`) without a calendar round trip; `None` for anything
/// else (other offsets, odd layouts), which takes the general path.
fn canonical_utc_text(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let layout = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !layout {
        return None;
    }
    let rest = &text[19..];
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(f) => {
            let n = f.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None; // a dot without digits: the general path refuses it
            }
            (&f[..n], &f[n..])
        }
        None => ("", rest),
    };
    let utc = match b[10] {
        b'T' => matches!(zone, "Z" | "+00:00" | "-00:00"),
        _ => matches!(zone, "+00" | "+00:00"),
    };
    if fraction.len() > 9 || !utc {
        return None;
    }
    // Plain ranges only: the general path judges impossible dates.
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().ok();
    let ok = matches!(num(5..7), Some(1..=12))
        && matches!(num(8..10), Some(1..=28))
        && matches!(num(11..13), Some(0..=23))
        && matches!(num(14..16), Some(0..=59))
        && matches!(num(17..19), Some(0..=59));
    if !ok {
        return None;
    }
    let significant = fraction.trim_end_matches('0');
    let mut out = String::with_capacity(24 + 9);
    out.push_str(&text[..10]);
    out.push('T');
    out.push_str(&text[11..19]);
    if !significant.is_empty() {
        out.push('.');
        out.push_str(significant);
        while !(out.len() - 20).is_multiple_of(3) {
            out.push('0');
        }
    }
    out.push('Z');
    Some(out)
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

    #[test]
    fn the_fast_path_writes_what_the_general_one_does() {
        for text in [
            "2024-05-01T12:30:00+00:00",
            "2024-05-01 12:30:00.25+00",
            "2024-05-01T12:30:00.250000Z",
            "2024-05-01T12:30:00.408901+00:00",
            "2024-05-01T12:30:00.000+00:00",
            "2024-05-01T12:30:00.123456789Z",
            "2024-02-28 23:59:59.1+00",
        ] {
            let general = canonical_time(&crate::replay::parse_time("t", text).unwrap());
            assert_eq!(
                canonical_utc_text(text).as_deref(),
                Some(general.as_str()),
                "{text}"
            );
        }
        for other in [
            "2024-05-01T14:30:00+02:00",
            "2024-02-30T00:00:00Z",
            "2024-05-01",
            "soon",
        ] {
            assert_eq!(canonical_utc_text(other), None, "{other}");
        }
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

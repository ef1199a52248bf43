//! The NDJSON export of a stream (`chronicle.export_stream`): a header line,
//! then one event per line with its full envelope.
//!
//! ```text
//! {"format":"chronicle-export","format_version":1,"stream_id":"order-001","stream_type":"Order",
//!  "version":4,"from_version":1,"to_version":4,"reducer":{...},"reducer_revision":1,
//!  "upcasters":{...},"schemas":{...},"exported_at":"...","chronicle_version":"0.2.0"}
//! {"global_position":1,"event_id":"...","stream_id":"order-001","version":1,"event_type":"OrderCreated",...}
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::json;
use crate::schema::{EventTypeSchemas, Schema};

pub const FORMAT: &str = "chronicle-export";
pub const FORMAT_VERSION: u64 = 1;

/// What a header says (see the module documentation).
pub struct Header<'a> {
    pub stream_id: &'a str,
    pub stream_type: &'a str,
    /// The stream's version when exported.
    pub version: u64,
    pub from_version: u64,
    pub to_version: u64,
    /// The reducer definition in force (`null`: the default merge).
    pub reducer: &'a Value,
    pub reducer_revision: i64,
    /// `{"EventType": {"1": [steps]}}`
    pub upcasters: &'a Value,
    /// `{"EventType": {"1": schema}}`
    pub schemas: &'a Value,
    pub exported_at: &'a str,
    pub chronicle_version: &'a str,
    /// Where the export starts when the stream's first events were removed
    /// (`truncate_stream`, retention; a deleted stream written again): the
    /// version before its first event and the state there (None: the
    /// reducer's initial state).
    pub base: Option<(u64, Option<&'a Value>)>,
}

impl Header<'_> {
    /// The header line.
    pub fn to_json(&self) -> Value {
        let mut header = json!({
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "stream_id": self.stream_id,
            "stream_type": self.stream_type,
            "version": self.version,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "reducer": self.reducer,
            "reducer_revision": self.reducer_revision,
            "upcasters": self.upcasters,
            "schemas": self.schemas,
            "exported_at": self.exported_at,
            "chronicle_version": self.chronicle_version,
        });
        if let Some((version, state)) = self.base {
            header["base"] = json!({"version": version, "state": state});
        }
        header
    }
}

/// An export, read and checked.
pub struct Export {
    pub header: Value,
    pub events: Vec<Event>,
}

pub fn bad_header(reason: impl Into<String>) -> Error {
    Error::invalid(
        "export.header",
        reason,
        "Pass the text chronicle.export_stream returned (or the dashboard's Export), unchanged.",
    )
}

/// Reads an export: its header and events (which must be consecutive from
/// the header's `from_version`).
pub fn parse(text: &str) -> Result<Export> {
    let (header, body) = split(text)?;
    let events = parse_events("events", body, None)?;
    let from = from_version(&header);
    for (i, e) in events.iter().enumerate() {
        // In u128: a header may say from_version 18446744073709551615.
        let expected = u128::from(from) + i as u128;
        if u128::from(e.version()) != expected {
            return Err(Error::invalid(
                format!("events[{i}].version"),
                format!(
                    "is {} where {expected} was expected: the export's events are not consecutive",
                    e.version(),
                ),
                "Pass a whole export: events in version order, without gaps.",
            ));
        }
    }
    check_count(&header, events.len() as u64)?;
    Ok(Export { header, events })
}

/// An export's header, read and checked, and the text after it.
pub fn split(text: &str) -> Result<(Value, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return Err(bad_header("is missing: the text is empty"));
    }
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    Ok((read_header(first)?, rest))
}

/// The first version an export holds (its header's `from_version`).
pub fn from_version(header: &Value) -> u64 {
    header["from_version"].as_u64().unwrap_or(1)
}

/// The version an export's base is at (its header's `base`: the stream's
/// first events were removed), if it has one.
pub fn base_version(header: &Value) -> Option<u64> {
    header.get("base")?.get("version")?.as_u64()
}

/// An export's base, when its stream's first events were removed: the
/// version before its first event and the state there (None: the reducer's
/// initial state).
pub fn base(header: &Value) -> Option<(u64, Option<Value>)> {
    let base = header.get("base")?;
    let version = base.get("version")?.as_u64()?;
    Some((version, base.get("state").filter(|s| !s.is_null()).cloned()))
}

/// Checks where an export starts, for a replay or an import: at the
/// stream's first version, or just after its base (the stream's first
/// events were removed: the replay starts from the base's state). Returns
/// the base.
pub fn check_start(header: &Value) -> Result<Option<(u64, Option<Value>)>> {
    match (from_version(header), base(header)) {
        (from, Some(b)) if b.0 + 1 == from => Ok(Some(b)),
        (1, _) => Ok(None),
        (from, _) => Err(bad_header(format!(
            "starts at version {from}: a replay or an import needs the events from version 1, \
             or from just after the base of a truncated stream's export"
        ))),
    }
}

/// Checks that an export holds as many events as its header says (a file
/// cut short is refused, not taken for the whole stream).
pub fn check_count(header: &Value, events: u64) -> Result<()> {
    let Some(to) = header.get("to_version").and_then(Value::as_u64) else {
        return Ok(());
    };
    let from = from_version(header);
    // In u128: a header may say to_version 18446744073709551615.
    let promised = (u128::from(to) + 1).saturating_sub(u128::from(from));
    if u128::from(events) == promised {
        return Ok(());
    }
    Err(Error::invalid(
        "events",
        format!(
            "are {events}, but the export's header promises {promised} (versions {from} to {to}): the export is incomplete"
        ),
        "Export the stream again and pass the whole text.",
    ))
}

/// Reads and checks a header line.
pub fn read_header(line: &str) -> Result<Value> {
    let header = json::parse("export.header", line)?;
    if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad_header(format!(
            "is not a Chronicle export header (its \"format\" is not \"{FORMAT}\")"
        )));
    }
    match header.get("format_version").and_then(Value::as_u64) {
        Some(FORMAT_VERSION) => Ok(header),
        other => Err(bad_header(format!(
            "has format_version {}, this module reads version {FORMAT_VERSION}",
            other.map_or("(none)".to_string(), |v| v.to_string())
        ))),
    }
}

/// The `{"EventType": {"1": schema}}` form of schemas (exports, options).
pub fn parse_schemas(v: &Value) -> Result<BTreeMap<String, EventTypeSchemas>> {
    let mut all: BTreeMap<String, EventTypeSchemas> = BTreeMap::new();
    for (event_type, by_version) in v.as_object().into_iter().flatten() {
        for (version, schema) in by_version.as_object().into_iter().flatten() {
            let n = version.parse::<i64>().map_err(|_| {
                Error::invalid(
                    format!("schemas.{event_type}.{version}"),
                    "must be a schema version number",
                    "Key schemas by event type, then by schema version: {\"ItemAdded\": {\"1\": {...}}}.",
                )
            })?;
            all.entry(event_type.clone())
                .or_default()
                .insert(n, Schema::parse(schema)?);
        }
    }
    Ok(all)
}

impl Export {
    /// `{stream, reducer, upcasters, schemas, events}` (`parseExport`).
    pub fn to_json(&self) -> String {
        let events: Vec<&Value> = self.events.iter().map(Event::envelope).collect();
        let member = |k: &str, default: Value| self.header.get(k).cloned().unwrap_or(default);
        json!({
            "stream": self.header,
            "reducer": member("reducer", Value::Null),
            "upcasters": member("upcasters", json!({})),
            "schemas": member("schemas", json!({})),
            "events": events,
        })
        .to_string()
    }
}

/// An event as an element of `chronicle.append_events`' batch (what
/// `chronicle.import_stream` appends): the envelope without what the store
/// assigns (version, stream, positions, recording time).
pub fn batch_element(event: &Event) -> Value {
    let envelope = event.envelope();
    let mut element = serde_json::Map::new();
    for key in crate::batch::BATCH_KEYS {
        if let Some(v) = envelope.get(*key).filter(|v| !v.is_null()) {
            element.insert((*key).to_string(), v.clone());
        }
    }
    Value::Object(element)
}

/// The text of each event in JSON-array or NDJSON text (one event per line,
/// blank lines ignored).
pub fn event_texts<'t>(field: &str, text: &'t str) -> Result<Vec<Cow<'t, str>>> {
    if text.trim_start().starts_with('[') {
        let Value::Array(items) = json::parse(field, text)? else {
            unreachable!("text starting with [ parses to an array");
        };
        Ok(items.iter().map(|e| Cow::Owned(e.to_string())).collect())
    } else {
        Ok(lines(text).map(Cow::Borrowed).collect())
    }
}

/// Events from JSON-array or NDJSON text, in the shape
/// `chronicle.read_stream` returns them, read one at a time as the iterator
/// goes, keeping only the envelope members in `keep` (all when `None`; see
/// [`Event::from_text`]).
pub fn events<'t>(
    field: &'t str,
    text: &'t str,
    keep: Option<&'t BTreeSet<String>>,
) -> Result<impl Iterator<Item = Result<Event>> + 't> {
    let texts = event_texts(field, text)?;
    Ok(texts
        .into_iter()
        .enumerate()
        .map(move |(i, t)| at(field, i, Event::from_text(&t, keep))))
}

/// All of [`events`] at once.
pub fn parse_events(
    field: &str,
    text: &str,
    keep: Option<&BTreeSet<String>>,
) -> Result<Vec<Event>> {
    events(field, text, keep)?.collect()
}

/// The non-blank lines of NDJSON text.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim().is_empty())
}

/// Names the position of a bad event in the field: `event.version` of the
/// fourth event becomes `events[3].version`.
pub(crate) fn at<T>(field: &str, i: usize, r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::Invalid {
            field: f,
            reason,
            hint,
        } => {
            let f = match f.strip_prefix("event") {
                Some(rest) if rest.is_empty() || rest.starts_with('.') => {
                    format!("{field}[{i}]{rest}")
                }
                _ if f == field => format!("{field}[{i}]"),
                _ => f,
            };
            Error::Invalid {
                field: f,
                reason,
                hint,
            }
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"{"format":"chronicle-export","format_version":1,"stream_id":"s-1","stream_type":"s","version":2,"from_version":1,"to_version":2,"reducer":null,"upcasters":{},"schemas":{}}
{"version":1,"event_type":"A","data":{"n":1.50}}

{"version":2,"event_type":"B","data":{},"recorded_at":"2024-05-01 12:00:00+00"}
"#;

    #[test]
    fn reads_an_export() {
        let e = parse(EXPORT).unwrap();
        assert_eq!(e.header["stream_id"], "s-1");
        assert_eq!(e.events.len(), 2);
        assert!(e.to_json().contains(r#""n":1.50"#));
        assert_eq!(e.events[1].recorded_at(), Some("2024-05-01T12:00:00Z"));
    }

    #[test]
    fn a_truncated_streams_export_carries_its_base() {
        let state = json!({"n": 2});
        let header = Header {
            stream_id: "s-1",
            stream_type: "s",
            version: 3,
            from_version: 3,
            to_version: 3,
            reducer: &Value::Null,
            reducer_revision: 0,
            upcasters: &json!({}),
            schemas: &json!({}),
            exported_at: "2026-12-04T00:00:00Z",
            chronicle_version: "0.6.0",
            base: Some((2, Some(&state))),
        }
        .to_json();
        assert_eq!(header["base"], json!({"version": 2, "state": {"n": 2}}));
        assert_eq!(base_version(&header), Some(2));
        let text = format!("{header}\n{{\"version\":3,\"event_type\":\"A\",\"data\":{{}}}}\n");
        assert_eq!(parse(&text).unwrap().events.len(), 1);
        // A replay or an import starts from the base.
        assert_eq!(
            check_start(&header).unwrap(),
            Some((2, Some(json!({"n": 2}))))
        );
        let mut page = header.clone();
        page["from_version"] = json!(3);
        page.as_object_mut().unwrap().remove("base");
        assert_eq!(check_start(&page).unwrap_err().field(), "export.header");
    }

    #[test]
    fn refuses_what_is_not_an_export() {
        assert_eq!(parse("").err().unwrap().field(), "export.header");
        assert_eq!(
            parse("{\"format\":\"x\"}").err().unwrap().field(),
            "export.header"
        );
        let gap = EXPORT.replace(r#""version":2,"event_type""#, r#""version":3,"event_type""#);
        assert_eq!(parse(&gap).err().unwrap().field(), "events[1].version");
        let bad = EXPORT.replace(r#""event_type":"A""#, r#""event_type":7"#);
        assert_eq!(parse(&bad).err().unwrap().field(), "events[0].event_type");
        let schemas = serde_json::json!({"A": {"x": {}}});
        assert_eq!(
            parse_schemas(&schemas).err().unwrap().field(),
            "schemas.A.x"
        );
    }

    /// Found by the property tests (shared/tests/properties.rs): a header
    /// with a version at the end of u64 overflowed (a panic in a debug
    /// build; in a release build an export promising 2^64 - 1 events and
    /// holding none was taken as complete).
    #[test]
    fn header_versions_at_the_end_of_u64_are_refused() {
        let max = u64::MAX;
        let to = format!(
            r#"{{"format":"chronicle-export","format_version":1,"from_version":1,"to_version":{max}}}"#
        );
        assert_eq!(parse(&to).err().unwrap().field(), "events");
        let h = crate::history::History::from_export(&to).unwrap();
        assert_eq!(h.check_complete().unwrap_err().field(), "events");
        let from = format!(
            "{{\"format\":\"chronicle-export\",\"format_version\":1,\"from_version\":{max}}}\n\
             {{\"version\":{max},\"event_type\":\"A\",\"data\":{{}}}}\n\
             {{\"version\":1,\"event_type\":\"A\",\"data\":{{}}}}\n"
        );
        let e = parse(&from).err().unwrap();
        assert_eq!(e.field(), "events[1].version");
        assert!(e
            .message()
            .contains("where 18446744073709551616 was expected"));
    }

    #[test]
    fn events_come_as_an_array_or_as_lines() {
        let a = parse_events(
            "events",
            r#"[{"version":1,"event_type":"A","data":{}}]"#,
            None,
        )
        .unwrap();
        let b = parse_events(
            "events",
            "{\"version\":1,\"event_type\":\"A\",\"data\":{}}\n",
            None,
        )
        .unwrap();
        assert_eq!(a, b);
        let e = parse_events("events", "[1]", None).unwrap_err();
        assert_eq!(e.field(), "events[0]");
        let e = parse_events("events", r#"[{"version": 0}]"#, None).unwrap_err();
        assert_eq!(e.field(), "events[0].version");
        let e = parse_events("events", "{", None).unwrap_err();
        assert_eq!(e.field(), "events[0]");
    }
}

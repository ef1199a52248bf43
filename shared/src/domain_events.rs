//! The files of a JSON-lines event store (`import_stream(..., format =>
//! 'domain-events')`): one file per aggregate, `<aggregate_id>.events.jsonl`,
//! one event per line as a `DomainEvent.to_dict()` writes it:
//!
//! ```text
//! {"event_id": "…", "event_type": "OrderCreatedEvent", "event_version": 1,
//!  "aggregate_id": "ES-TEST-001", "aggregate_type": "Order",
//!  "execution_id": "exec-test-001", "user_id": "u-7",
//!  "occurred_at": "2024-05-01T12:30:45.123456", "data": {…}}
//! ```
//!
//! Each line becomes an element of an `append_events` batch, in file order
//! (the first line is version 1): `event_id`, `event_type`, `data` as they
//! are; `event_version` (the version of the event's schema) is
//! `schema_version`; `execution_id` is `correlation_id`; `user_id` is
//! `actor`; `occurred_at` without an offset is UTC (the store writes
//! `datetime.utcnow()`). Every line names the same `aggregate_id` (the
//! stream) and `aggregate_type` (its type). Nothing is lost: any other key
//! of a line is kept in the event's `metadata`, beside the line's own
//! `metadata` object if it has one.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The name of the format (`import_stream`'s `format`).
pub const FORMAT: &str = "domain-events";

/// The keys a `to_dict()` line has, and the batch key each becomes.
const MAPPED: &[(&str, &str)] = &[
    ("event_id", "event_id"),
    ("event_type", "event_type"),
    ("event_version", "schema_version"),
    ("execution_id", "correlation_id"),
    ("user_id", "actor"),
    ("occurred_at", "occurred_at"),
    ("data", "data"),
];

/// One file of the store: its aggregate, and its events as `append_events`
/// batch elements in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub aggregate_id: String,
    pub aggregate_type: String,
    pub events: Vec<Value>,
}

/// Reads one file of the store.
pub fn read(text: &str) -> Result<File> {
    let mut stream: Option<(String, String)> = None;
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let field = |key: &str| format!("lines[{}].{key}", i + 1);
        let value = crate::json::parse(&format!("lines[{}]", i + 1), line)?;
        let Value::Object(mut obj) = value else {
            return Err(Error::invalid(
                format!("lines[{}]", i + 1),
                format!(
                    "must be a JSON object, not {}",
                    crate::json::type_name(&value)
                ),
                "Pass the file as the store wrote it: one DomainEvent.to_dict() object per line.",
            ));
        };
        if obj.get("format").and_then(Value::as_str) == Some(crate::export::FORMAT) {
            return Err(Error::invalid(
                "format",
                "is 'domain-events', but the text is a Chronicle export",
                "Import an export with format => 'chronicle-export' (the default).",
            ));
        }
        let id = text_member(&obj, "aggregate_id", &field)?;
        let ty = text_member(&obj, "aggregate_type", &field)?;
        match &stream {
            None => stream = Some((id, ty)),
            Some((first_id, first_ty)) => {
                for (key, got, want) in [
                    ("aggregate_id", &id, first_id),
                    ("aggregate_type", &ty, first_ty),
                ] {
                    if got != want {
                        return Err(Error::invalid(
                            field(key),
                            format!("is {got:?}, but the first line's is {want:?}"),
                            "A file holds one aggregate's events: import each \
                             <aggregate_id>.events.jsonl file on its own.",
                        ));
                    }
                }
            }
        }
        obj.remove("aggregate_id");
        obj.remove("aggregate_type");
        events.push(element(obj, &field)?);
    }
    let Some((aggregate_id, aggregate_type)) = stream else {
        return Err(Error::invalid(
            "lines",
            "has no events",
            "Pass the text of a <aggregate_id>.events.jsonl file: one event per line.",
        ));
    };
    Ok(File {
        aggregate_id,
        aggregate_type,
        events,
    })
}

/// A line (without its aggregate) as a batch element.
fn element(mut obj: Map<String, Value>, field: &dyn Fn(&str) -> String) -> Result<Value> {
    let mut out = Map::new();
    for (theirs, ours) in MAPPED {
        match obj.remove(*theirs) {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if *theirs == "occurred_at" => {
                out.insert(
                    (*ours).to_string(),
                    Value::String(utc_if_naive(&field(theirs), &t)?),
                );
            }
            Some(v) => {
                out.insert((*ours).to_string(), v);
            }
        }
    }
    let mut metadata = match obj.remove("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Error::invalid(
                field("metadata"),
                format!(
                    "must be a JSON object, not {}",
                    crate::json::type_name(&other)
                ),
                "A line's metadata, when it has one, is an object.",
            ))
        }
    };
    // The keys of a subclass's to_json (and anything else) are kept.
    metadata.extend(obj);
    if !metadata.is_empty() {
        out.insert("metadata".to_string(), Value::Object(metadata));
    }
    Ok(Value::Object(out))
}

fn text_member(
    obj: &Map<String, Value>,
    key: &str,
    field: &dyn Fn(&str) -> String,
) -> Result<String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(Error::Null { field: field(key) }),
        Some(other) => Err(Error::invalid(
            field(key),
            format!("must be a string, not {}", crate::json::type_name(other)),
            "Write ids and types as JSON strings, as to_dict() does (str(uuid)).",
        )),
    }
}

/// `occurred_at` as the batch takes it: with its offset if it has one, else
/// read as UTC (`datetime.utcnow().isoformat()` writes no offset).
fn utc_if_naive(field: &str, text: &str) -> Result<String> {
    if crate::time::parse_time(field, text).is_ok() {
        return Ok(text.to_string());
    }
    crate::time::parse_naive(text)
        .map(|t| format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S%.f")))
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!("is not a timestamp: {text:?}"),
                "Write occurred_at as ISO 8601 (datetime.isoformat()), e.g. \
                 '2024-05-01T12:30:45.123456'; without an offset it is read as UTC.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::parse_batch;
    use crate::limits::Limits;
    use serde_json::json;

    /// Two lines as `json.dumps(event.to_dict())` writes them, and a newline.
    const FILE: &str = concat!(
        r#"{"event_id": "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b1", "event_type": "OrderCreatedEvent", "event_version": 1, "aggregate_id": "ES-TEST-001", "aggregate_type": "Order", "execution_id": "exec-test-001", "user_id": null, "occurred_at": "2024-05-01T12:30:45.123456", "data": {"order_id": "ES-TEST-001", "marketplace": "amazon"}}"#,
        "\n",
        r#"{"event_id": "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b2", "event_type": "OrderSyncedEvent", "event_version": 2, "aggregate_id": "ES-TEST-001", "aggregate_type": "Order", "execution_id": "exec-test-001", "user_id": "u-7", "occurred_at": "2024-05-01T12:30:46+02:00", "data": {"invoice_id": 12345, "principal_amount": 12.50}, "retries": 2}"#,
        "\n\n"
    );

    #[test]
    fn a_file_as_the_store_writes_it() {
        let s = read(FILE).unwrap();
        assert_eq!(
            (s.aggregate_id.as_str(), s.aggregate_type.as_str()),
            ("ES-TEST-001", "Order")
        );
        assert_eq!(
            s.events,
            vec![
                json!({"event_id": "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b1", "event_type": "OrderCreatedEvent",
                       "schema_version": 1, "correlation_id": "exec-test-001",
                       "occurred_at": "2024-05-01T12:30:45.123456Z",
                       "data": {"order_id": "ES-TEST-001", "marketplace": "amazon"}}),
                // (parsed, not json!(): the literal 12.50 would be a float)
                serde_json::from_str::<Value>(
                    r#"{"event_id": "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b2", "event_type": "OrderSyncedEvent",
                        "schema_version": 2, "correlation_id": "exec-test-001", "actor": "u-7",
                        "occurred_at": "2024-05-01T12:30:46+02:00",
                        "data": {"invoice_id": 12345, "principal_amount": 12.50},
                        "metadata": {"retries": 2}}"#
                )
                .unwrap(),
            ]
        );
        // What append_events takes, exact decimals included.
        let batch = parse_batch(&Value::Array(s.events.clone()), &Limits::default()).unwrap();
        assert_eq!(batch[1].data["principal_amount"].to_string(), "12.50");
        assert_eq!(
            batch[0].occurred_at.as_deref(),
            Some("2024-05-01T12:30:45.123456Z")
        );
    }

    #[test]
    fn a_uuid_aggregate_and_its_metadata() {
        let line = r#"{"event_id": "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b3", "event_type": "UserRegisteredEvent", "aggregate_id": "6f1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10", "aggregate_type": "User", "occurred_at": "2024-05-01 12:30:45", "data": {}, "metadata": {"source": "api"}, "version": 1}"#;
        let s = read(line).unwrap();
        assert_eq!(s.aggregate_id, "6f1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10");
        assert_eq!(
            s.events[0]["metadata"],
            json!({"source": "api", "version": 1})
        );
        assert_eq!(s.events[0]["occurred_at"], "2024-05-01T12:30:45Z");
    }

    #[test]
    fn what_is_refused_names_the_line() {
        let two = |second: &str| format!("{}\n{second}", FILE.lines().next().unwrap());
        let cases = [
            (String::new(), "22023", "lines"),
            ("\n\n".to_string(), "22023", "lines"),
            ("{oops".to_string(), "22023", "lines[1]"),
            ("[1]".to_string(), "22023", "lines[1]"),
            (
                r#"{"aggregate_type": "Order"}"#.to_string(),
                "22004",
                "lines[1].aggregate_id",
            ),
            (
                r#"{"aggregate_id": 7, "aggregate_type": "Order"}"#.to_string(),
                "22023",
                "lines[1].aggregate_id",
            ),
            (
                two(
                    r#"{"aggregate_id": "ES-TEST-002", "aggregate_type": "Order", "event_type": "A", "data": {}}"#,
                ),
                "22023",
                "lines[2].aggregate_id",
            ),
            (
                two(
                    r#"{"aggregate_id": "ES-TEST-001", "aggregate_type": "Invoice", "event_type": "A", "data": {}}"#,
                ),
                "22023",
                "lines[2].aggregate_type",
            ),
            (
                two(
                    r#"{"aggregate_id": "ES-TEST-001", "aggregate_type": "Order", "occurred_at": "yesterday"}"#,
                ),
                "22023",
                "lines[2].occurred_at",
            ),
            (
                two(
                    r#"{"aggregate_id": "ES-TEST-001", "aggregate_type": "Order", "metadata": [1]}"#,
                ),
                "22023",
                "lines[2].metadata",
            ),
            (
                r#"{"format": "chronicle-export", "format_version": 1}"#.to_string(),
                "22023",
                "format",
            ),
        ];
        for (text, code, field) in cases {
            let e = read(&text).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), (code, field), "{text}");
        }
    }

    #[test]
    fn a_line_without_event_type_or_data_is_left_to_the_batch_check() {
        let s = read(r#"{"aggregate_id": "a-1", "aggregate_type": "A"}"#).unwrap();
        let e = parse_batch(&Value::Array(s.events), &Limits::default()).unwrap_err();
        assert_eq!(e.sqlstate(), "22004");
    }
}

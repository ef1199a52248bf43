//! The `events` argument of `append_events`: a JSON array of envelopes.
//!
//! Each element is an object with `event_type` and `data` (required) and,
//! optionally, `metadata`, `event_id`, `correlation_id`, `causation_id`,
//! `actor`, `occurred_at` (RFC 3339) and `schema_version`. Unknown keys are
//! refused, so a typo (`evnet_type`) is an error rather than lost data.
//!
//! The values accepted here are exactly those Postgres' own `uuid` and
//! `timestamptz` input accepts too, so the extension can cast them safely.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::payload::{validate_payload, Payload};

/// Keys an element of the batch may have.
pub const BATCH_KEYS: &[&str] = &[
    "event_type",
    "data",
    "metadata",
    "event_id",
    "correlation_id",
    "causation_id",
    "actor",
    "occurred_at",
    "schema_version",
];

/// One validated element of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchEvent {
    pub event_type: String,
    pub data: Value,
    pub metadata: Value,
    /// Canonical (lower-case, hyphenated) uuid.
    pub event_id: Option<String>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub actor: Option<String>,
    /// RFC 3339 timestamp with an offset.
    pub occurred_at: Option<String>,
    pub schema_version: i64,
}

/// Validates a parsed `events` argument.
pub fn parse_batch(events: &Value, limits: &Limits) -> Result<Vec<BatchEvent>> {
    let Value::Array(items) = events else {
        return Err(Error::invalid(
            "events",
            format!(
                "must be a JSON array, not {}",
                crate::json::type_name(events)
            ),
            "Pass a JSON array of event objects: '[{\"event_type\": \"...\", \"data\": {...}}]'.",
        ));
    };
    if items.is_empty() {
        return Err(Error::invalid(
            "events",
            "must contain at least one event",
            "Pass one or more event objects, or skip the call.",
        ));
    }
    if items.len() > limits.max_batch_events {
        return Err(Error::LimitExceeded {
            field: "events".to_string(),
            what: "batch length",
            unit: "events",
            actual: items.len(),
            max: limits.max_batch_events,
            hint: "Split the batch into several calls in one transaction, \
                   or raise chronicle.max_batch_events.",
        });
    }
    let mut seen_ids = std::collections::HashSet::new();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let prefix = format!("events[{i}]");
            let event = parse_element(item, limits).map_err(|e| e.within(&prefix))?;
            if let Some(id) = &event.event_id {
                if !seen_ids.insert(id.clone()) {
                    return Err(Error::invalid(
                        format!("{prefix}.event_id"),
                        format!("{id} appears twice in the batch"),
                        "Give every event of a batch its own event_id.",
                    ));
                }
            }
            Ok(event)
        })
        .collect()
}

fn parse_element(item: &Value, limits: &Limits) -> Result<BatchEvent> {
    let Value::Object(obj) = item else {
        return Err(Error::invalid(
            "",
            format!(
                "must be a JSON object, not {}",
                crate::json::type_name(item)
            ),
            "Each element of events is an object with event_type and data.",
        ));
    };
    if let Some(unknown) = obj.keys().find(|k| !BATCH_KEYS.contains(&k.as_str())) {
        return Err(Error::invalid(
            unknown.as_str(),
            "is not a known envelope field",
            format!(
                "The fields of a batch event are: {}.",
                BATCH_KEYS.join(", ")
            ),
        ));
    }
    let event_type = required_string(obj, "event_type")?;
    let data = obj
        .get("data")
        .filter(|v| !v.is_null())
        .cloned()
        .ok_or_else(|| Error::Null {
            field: "data".to_string(),
        })?;
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) => v.clone(),
    };
    let schema_version = match obj.get("schema_version") {
        None | Some(Value::Null) => 1,
        Some(v) => v.as_i64().ok_or_else(|| {
            Error::invalid(
                "schema_version",
                format!("must be an integer, not {v}"),
                "Number an event type's schema versions 1, 2, 3, ...",
            )
        })?,
    };
    let actor = optional_string(obj, "actor")?;
    validate_payload(
        &Payload {
            event_type: &event_type,
            schema_version,
            data: &data,
            metadata: &metadata,
            actor: actor.as_deref(),
        },
        limits,
    )?;
    Ok(BatchEvent {
        event_id: optional_uuid(obj, "event_id")?,
        correlation_id: optional_reference(obj, "correlation_id")?,
        causation_id: optional_reference(obj, "causation_id")?,
        occurred_at: optional_timestamp(obj, "occurred_at")?,
        event_type,
        data,
        metadata,
        actor,
        schema_version,
    })
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::invalid(
            key,
            format!("must be a string, not {}", crate::json::type_name(other)),
            format!("Pass {key} as a JSON string."),
        )),
    }
}

fn required_string(obj: &Map<String, Value>, key: &str) -> Result<String> {
    optional_string(obj, key)?.ok_or_else(|| Error::Null {
        field: key.to_string(),
    })
}

/// The `events` argument with each correlation and causation id in the form
/// it is stored in (see [`crate::identifier::reference`]), when that differs
/// from how it was written (a uuid in upper case, say); `None` when the
/// argument can be stored as it is, the usual case.
pub fn with_stored_references(events: &Value, batch: &[BatchEvent]) -> Option<Value> {
    let items = events.as_array()?;
    let differs = |item: &Value, key: &str, stored: &Option<String>| {
        item.get(key).and_then(Value::as_str) != stored.as_deref()
    };
    let changed = items.iter().zip(batch).any(|(item, e)| {
        differs(item, "correlation_id", &e.correlation_id)
            || differs(item, "causation_id", &e.causation_id)
    });
    if !changed {
        return None;
    }
    let mut events = events.clone();
    let items = events.as_array_mut().expect("an array");
    for (item, e) in items.iter_mut().zip(batch) {
        let obj = item.as_object_mut().expect("validated objects");
        for (key, stored) in [
            ("correlation_id", &e.correlation_id),
            ("causation_id", &e.causation_id),
        ] {
            if let Some(v) = stored {
                obj.insert(key.to_string(), Value::String(v.clone()));
            }
        }
    }
    Some(events)
}

/// A `correlation_id` or `causation_id`: see [`crate::identifier::reference`].
fn optional_reference(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    optional_string(obj, key)?
        .map(|s| crate::identifier::reference(key, &s))
        .transpose()
}

fn optional_uuid(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    let Some(s) = optional_string(obj, key)? else {
        return Ok(None);
    };
    // Only the hyphenated form: Postgres and every client print it, and it
    // is the one form both uuid parsers agree on.
    match uuid::Uuid::try_parse(&s) {
        Ok(u) if s.len() == 36 => Ok(Some(u.hyphenated().to_string())),
        _ => Err(Error::invalid(
            key,
            format!("is not a uuid: {s:?}"),
            "Write uuids as 8-4-4-4-12 hexadecimal digits, e.g. \
             '0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b1'.",
        )),
    }
}

fn optional_timestamp(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    let Some(s) = optional_string(obj, key)? else {
        return Ok(None);
    };
    crate::time::check_timestamptz_text(key, &s)?;
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Vec<BatchEvent>> {
        parse_batch(&v, &Limits::default())
    }

    #[test]
    fn full_envelope_is_read() {
        let events = parse(json!([
            {"event_type": "OrderCreated", "data": {"customer_id": "c-1"}},
            {"event_type": "ItemAdded", "data": {"item_id": "apple"}, "metadata": {"ip": "::1"},
             "event_id": "0B6A2BD4-5C43-4D3C-9C66-3F2F1F9AD4B1",
             "correlation_id": "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b2",
             "actor": "user-7", "occurred_at": "2024-05-01T12:30:00+02:00", "schema_version": 2}
        ]))
        .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].metadata, json!({}));
        assert_eq!(events[0].schema_version, 1);
        assert_eq!(
            events[1].event_id.as_deref(),
            Some("0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b1")
        );
        assert_eq!(events[1].schema_version, 2);
    }

    #[test]
    fn errors_point_at_the_element_and_field() {
        let cases = [
            (json!({"event_type": "A"}), "events", "22023"),
            (json!([]), "events", "22023"),
            (json!([1]), "events[0]", "22023"),
            (json!([{"data": {}}]), "events[0].event_type", "22004"),
            (json!([{"event_type": "A"}]), "events[0].data", "22004"),
            (
                json!([{"event_type": "A", "data": {}}, {"event_type": "A", "data": []}]),
                "events[1].data",
                "22023",
            ),
            (
                json!([{"event_type": "A", "data": {}, "evnet_type": "B"}]),
                "events[0].evnet_type",
                "22023",
            ),
            (
                json!([{"event_type": "A", "data": {}, "event_id": "urn:uuid:0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b1"}]),
                "events[0].event_id",
                "22023",
            ),
            (
                json!([{"event_type": "A", "data": {}, "occurred_at": "yesterday"}]),
                "events[0].occurred_at",
                "22023",
            ),
            (
                json!([{"event_type": "A", "data": {}, "schema_version": "2"}]),
                "events[0].schema_version",
                "22023",
            ),
            (
                json!([{"event_type": "A", "data": {}, "schema_version": 0}]),
                "events[0].schema_version",
                "22023",
            ),
            (
                json!([{"event_type": 5, "data": {}}]),
                "events[0].event_type",
                "22023",
            ),
        ];
        for (input, field, code) in cases {
            let e = parse(input.clone()).unwrap_err();
            assert_eq!((e.field(), e.sqlstate()), (field, code), "{input}");
        }
    }

    #[test]
    fn duplicate_ids_within_a_batch_are_refused() {
        let id = "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b1";
        let e = parse(json!([
            {"event_type": "A", "data": {}, "event_id": id},
            {"event_type": "A", "data": {}, "event_id": id}
        ]))
        .unwrap_err();
        assert_eq!(e.field(), "events[1].event_id");
    }

    #[test]
    fn batch_length_is_limited() {
        let limits = Limits {
            max_batch_events: 2,
            ..Limits::default()
        };
        let three = json!([{"event_type": "A", "data": {}}, {"event_type": "A", "data": {}}, {"event_type": "A", "data": {}}]);
        assert_eq!(
            parse_batch(&three, &limits).unwrap_err().sqlstate(),
            "54000"
        );
    }

    #[test]
    fn references_are_rewritten_only_when_their_stored_form_differs() {
        let limits = Limits::default();
        let plain = json!([{"event_type": "A", "data": {}, "correlation_id": "exec-1"},
                           {"event_type": "A", "data": {}}]);
        let batch = parse_batch(&plain, &limits).unwrap();
        assert_eq!(with_stored_references(&plain, &batch), None);
        let upper = json!([{"event_type": "A", "data": {},
                            "causation_id": "0B6A2BD4-5C43-4D3C-9C66-3F2F1F9AD4B1"}]);
        let batch = parse_batch(&upper, &limits).unwrap();
        let stored = with_stored_references(&upper, &batch).unwrap();
        assert_eq!(
            stored[0]["causation_id"],
            "0b6a2bd4-5c43-4d3c-9c66-3f2f1f9ad4b1"
        );
    }
}

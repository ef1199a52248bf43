//! The payload of an event being appended (its type, schema version, data,
//! metadata and actor), and its validation.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::identifier::{validate_id, validate_type_name};
use crate::json::{compact_size, require_depth, require_object};
use crate::limits::Limits;

/// The parts of a new event the core judges. Ids and timestamps that arrive
/// typed (as SQL `uuid` / `timestamptz`) need no judging; in a JSON batch they
/// are checked by [`crate::batch`].
#[derive(Debug, Clone, Copy)]
pub struct Payload<'a> {
    pub event_type: &'a str,
    pub schema_version: i64,
    pub data: &'a Value,
    pub metadata: &'a Value,
    pub actor: Option<&'a str>,
}

/// Validates an event's type, schema version, payload and actor.
pub fn validate_payload(p: &Payload<'_>, limits: &Limits) -> Result<()> {
    validate_type_name("event_type", p.event_type)?;
    validate_schema_version(p.schema_version)?;
    require_object("data", p.data)?;
    require_object("metadata", p.metadata)?;
    require_depth("data", p.data)?;
    require_depth("metadata", p.metadata)?;
    if let Some(actor) = p.actor {
        validate_id("actor", actor)?;
    }
    let size = compact_size(p.data) + compact_size(p.metadata);
    if size > limits.max_event_size {
        return Err(Error::LimitExceeded {
            field: "data".to_string(),
            what: "event size",
            unit: "bytes",
            actual: size,
            max: limits.max_event_size,
            hint: "The size counts data + metadata as compact JSON. Store large documents \
                   elsewhere and put a reference in the event, or raise chronicle.max_event_size.",
        });
    }
    Ok(())
}

/// A schema version is a positive `int`.
pub fn validate_schema_version(v: i64) -> Result<()> {
    if (1..=i32::MAX as i64).contains(&v) {
        Ok(())
    } else {
        Err(Error::invalid(
            "schema_version",
            format!("must be between 1 and {} (got {v})", i32::MAX),
            "Number an event type's schema versions 1, 2, 3, ...",
        ))
    }
}

/// `occurred_at` is a point in time: `infinity` and `-infinity` are not
/// (`finite` says which the caller has).
pub fn validate_occurred_at(finite: bool) -> Result<()> {
    if finite {
        Ok(())
    } else {
        Err(Error::invalid(
            "occurred_at",
            "must be a finite time, not infinity",
            "Pass when the event happened, or leave occurred_at out for now().",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload<'a>(data: &'a Value, metadata: &'a Value) -> Payload<'a> {
        Payload {
            event_type: "ItemAdded",
            schema_version: 1,
            data,
            metadata,
            actor: None,
        }
    }

    #[test]
    fn object_payloads_pass() {
        let (d, m) = (json!({"item_id": "apple", "quantity": 3}), json!({}));
        validate_payload(&payload(&d, &m), &Limits::default()).unwrap();
    }

    #[test]
    fn non_objects_are_refused_naming_the_field() {
        let obj = json!({});
        for bad in [json!([1]), json!("x"), json!(1), json!(null), json!(true)] {
            let e = validate_payload(&payload(&bad, &obj), &Limits::default()).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", "data"));
            let e = validate_payload(&payload(&obj, &bad), &Limits::default()).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", "metadata"));
        }
    }

    #[test]
    fn size_limit_counts_data_and_metadata() {
        let limits = Limits {
            max_event_size: 20,
            ..Limits::default()
        };
        let d = json!({"a": "1234567"}); // 15 bytes
        let m = json!({}); // 2 bytes
        validate_payload(&payload(&d, &m), &limits).unwrap();
        let m = json!({"b": 1}); // 7 bytes
        let e = validate_payload(&payload(&d, &m), &limits).unwrap_err();
        assert_eq!(e.sqlstate(), "54000");
        assert_eq!(e.detail().unwrap(), "The event size is 22 bytes.");
    }

    #[test]
    fn schema_version_must_be_positive_int() {
        for v in [0, -1, i32::MAX as i64 + 1] {
            assert_eq!(
                validate_schema_version(v).unwrap_err().field(),
                "schema_version"
            );
        }
        validate_schema_version(i32::MAX as i64).unwrap();
    }
}

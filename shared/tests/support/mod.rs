//! What the property tests (shared/tests/properties.rs) and the fuzz targets
//! (fuzz/src/lib.rs includes this file) share.

use chronicle_core::json;
use serde_json::{json, Map, Value};

/// The arguments of the append functions: every refusal of an append names
/// one of them.
pub const APPEND_ARGS: &[&str] = &[
    "stream_id",
    "stream_type",
    "expected_version",
    "event_type",
    "data",
    "metadata",
    "actor",
    "schema_version",
    "event_id",
    "events",
];

/// The tightest schema the core can write for `v`; it must accept `v`.
pub fn describe(v: &Value) -> Value {
    match v {
        Value::Object(members) => json!({
            "type": "object",
            "required": members.keys().collect::<Vec<_>>(),
            "additionalProperties": false,
            "properties": members.iter().map(|(k, m)| (k.clone(), describe(m))).collect::<Map<_, _>>(),
        }),
        Value::Array(items) => {
            let mut s = json!({"type": "array", "minItems": items.len(), "maxItems": items.len()});
            if !items.is_empty() {
                s["items"] = json!({"enum": items});
            }
            s
        }
        Value::String(text) => {
            let n = text.chars().count();
            json!({"type": "string", "minLength": n, "maxLength": n, "enum": [text]})
        }
        Value::Number(_) => json!({"type": "number", "minimum": v, "maximum": v, "enum": [v]}),
        other => json!({"type": json::type_name(other), "enum": [other]}),
    }
}

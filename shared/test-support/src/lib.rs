//! What the property tests (shared/tests/properties.rs) and the fuzz targets
//! (fuzz/) share: test inputs, and the invariants every refusal meets.

use chronicle_core::error::{Error, KINDS};
use chronicle_core::event::Event;
use chronicle_core::json;
use chronicle_core::memory::{MemoryStore, StoredRow};
use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{Folder, OnFailure};
use chronicle_core::upcast::Upcasters;
use serde_json::{json, Map, Value};

/// The arguments of the append functions: every refusal of an append names
/// one of them.
pub const APPEND_ARGS: &[&str] = &[
    "stream_id",
    "stream_type",
    "expected_version",
    "version",
    "correlation_id",
    "causation_id",
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

/// Every refusal is well formed: its SQLSTATE and name are a row of the
/// error table, it names a field, its message names that field, and it has
/// a hint. `Err` says what is wrong.
pub fn well_formed(e: &Error) -> Result<(), String> {
    if !KINDS
        .iter()
        .any(|k| k.sqlstate == e.sqlstate() && k.name == e.name())
    {
        return Err(format!(
            "{} / {} is not a row of the error table: {e:?}",
            e.sqlstate(),
            e.name()
        ));
    }
    if e.field().is_empty() {
        return Err(format!("the error names no field: {e:?}"));
    }
    if !e.message().contains(e.field()) {
        return Err(format!(
            "the message {:?} does not name the field {:?}",
            e.message(),
            e.field()
        ));
    }
    if e.hint().is_empty() {
        return Err(format!("the error has no hint: {e:?}"));
    }
    Ok(())
}

/// The part of a field before the first `.` or `[` (`events[2].data` -> `events`).
pub fn root(field: &str) -> &str {
    field.split(['.', '[']).next().unwrap_or(field)
}

/// The version of a replay failure.
pub fn failure_version(e: &Error) -> u64 {
    match e {
        Error::ReplayFailed { version, .. } => *version,
        other => panic!("a fold failed with something else than a replay failure: {other:?}"),
    }
}

/// A fold that skips failing steps, from the reducer's initial state: the
/// state after each event (index 0: before the first) and the versions
/// whose step failed. `events` must be consecutive from version 1.
pub fn straight_fold(
    reducer: Option<&Reducer>,
    upcasters: &Upcasters,
    events: &[Event],
) -> (Vec<Value>, Vec<u64>) {
    let mut folder = Folder::new(reducer, None, OnFailure::Skip).with_upcasters(upcasters);
    let mut states = vec![folder.state().clone()];
    for e in events {
        folder
            .step(e.clone())
            .expect("a skipping fold of consecutive events that upcast cleanly does not stop");
        states.push(folder.state().clone());
    }
    let failed = folder.failures().iter().map(failure_version).collect();
    (states, failed)
}

/// Everything a model store holds: (stream id, type, rows) per stream.
pub type Snapshot = Vec<(String, String, Vec<StoredRow>)>;

/// What `store` holds, to compare before and after a refused call.
pub fn snapshot(store: &MemoryStore) -> Snapshot {
    store
        .stream_ids()
        .map(|id| {
            let (ty, rows) = store.stream(id).expect("listed");
            (id.to_string(), ty.to_string(), rows.to_vec())
        })
        .collect()
}

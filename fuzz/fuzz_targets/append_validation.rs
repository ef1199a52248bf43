//! Append input through the core's validation and the reference model.
//!
//! The input is JSON: a case of `tests/vectors/append.json` (`{"limits",
//! "steps"}`), a list of steps, one step (`{"call": "append_event", "args":
//! {...}}`), or anything else, taken as the `events` of an `append_events`.
//!
//! Invariants: every refusal is well formed and names an argument; a refused
//! call stores nothing; an accepted append takes the next versions (or, as a
//! retry, stores nothing); streams stay gap-free; and the store refuses an
//! event exactly as `validate_payload` / `parse_batch` do on their own.
#![no_main]

use chronicle_core::append::check_append_args;
use chronicle_core::batch::parse_batch;
use chronicle_core::memory::{AppendEventArgs, AppendEventsArgs, DefineEventTypeArgs, MemoryStore};
use chronicle_core::payload::{validate_payload, Payload};
use chronicle_core::Limits;
use chronicle_fuzz::{check_error, check_error_under, json_input, snapshot, Snapshot, APPEND_ARGS};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

fn check_gap_free(store: &MemoryStore) {
    for id in store.stream_ids() {
        let (_, rows) = store.stream(id).expect("listed");
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.version, i as u64 + 1, "stream {id:?} has a gap");
        }
        assert_eq!(store.stream_version(id), rows.len() as u64);
    }
}

fn limits(case: &Value) -> Limits {
    let mut limits = Limits::default();
    let get = |k: &str| case.get("limits")?.get(k)?.as_u64();
    if let Some(n) = get("max_event_size") {
        limits.max_event_size = n.min(usize::MAX as u64) as usize;
    }
    if let Some(n) = get("max_batch_events") {
        limits.max_batch_events = n.min(usize::MAX as u64) as usize;
    }
    limits
}

/// After an append: accepted at the next versions, or a retry that stored
/// nothing, or refused with nothing stored.
fn check_append(
    store: &MemoryStore,
    before: &Snapshot,
    stream: &str,
    version_before: u64,
    count: u64,
    result: &chronicle_core::Result<u64>,
) {
    match result {
        Ok(v) if *v == version_before + count && count > 0 => {
            assert_eq!(store.stream_version(stream), *v)
        }
        Ok(v) => {
            assert!(*v <= version_before, "version {v} after {version_before}");
            assert!(snapshot(store) == *before, "a retry stored something");
        }
        Err(e) => {
            check_error_under(e, APPEND_ARGS);
            assert!(
                snapshot(store) == *before,
                "a refused append stored something"
            );
        }
    }
}

fn append_event(store: &mut MemoryStore, limits: &Limits, args: Value) {
    let Ok(a) = serde_json::from_value::<AppendEventArgs>(args) else {
        return;
    };
    let before = snapshot(store);
    let stream = a.stream_id.clone().unwrap_or_default();
    let version_before = store.stream_version(&stream);
    let result = store.append_event(&a);
    check_append(store, &before, &stream, version_before, 1, &result);
    // The store refuses a bad event as validate_payload does.
    let stream_ok = check_append_args(
        a.stream_id.as_deref(),
        a.stream_type.as_deref(),
        a.expected_version,
        a.version,
    )
    .is_ok();
    if let (true, Some(event_type), Some(data)) = (stream_ok, &a.event_type, &a.data) {
        let empty = Value::Object(Map::new());
        let payload = Payload {
            event_type,
            schema_version: a.schema_version.unwrap_or(1),
            data,
            metadata: a.metadata.as_ref().unwrap_or(&empty),
            actor: a.actor.as_deref(),
        };
        if let Err(alone) = validate_payload(&payload, limits) {
            check_error(&alone);
            assert_eq!(result.as_ref().err(), Some(&alone));
        }
    }
}

fn append_events(store: &mut MemoryStore, limits: &Limits, args: Value) {
    let Ok(a) = serde_json::from_value::<AppendEventsArgs>(args) else {
        return;
    };
    let before = snapshot(store);
    let stream = a.stream_id.clone().unwrap_or_default();
    let version_before = store.stream_version(&stream);
    let count = a
        .events
        .as_ref()
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let result = store.append_events(&a);
    check_append(store, &before, &stream, version_before, count, &result);
    let stream_ok = check_append_args(
        a.stream_id.as_deref(),
        a.stream_type.as_deref(),
        a.expected_version,
        None,
    )
    .is_ok();
    if let (true, Some(events)) = (stream_ok, &a.events) {
        match parse_batch(events, limits) {
            Err(alone) => {
                check_error_under(&alone, &["events"]);
                assert_eq!(result.as_ref().err(), Some(&alone));
            }
            Ok(parsed) => assert_eq!(parsed.len() as u64, count),
        }
    }
}

fn define_event_type(store: &mut MemoryStore, args: Value) {
    let Ok(a) = serde_json::from_value::<DefineEventTypeArgs>(args) else {
        return;
    };
    if let Err(e) = store.define_event_type(&a) {
        check_error_under(&e, &["event_type", "schema", "schema_version"]);
    }
}

fn run(case: &Value, steps: &[Value]) {
    let limits = limits(case);
    let mut store = MemoryStore::new(limits);
    for step in steps.iter().take(32) {
        let args = step.get("args").cloned().unwrap_or(Value::Null);
        match step.get("call").and_then(Value::as_str) {
            Some("append_event") => append_event(&mut store, &limits, args),
            Some("append_events") => append_events(&mut store, &limits, args),
            Some("define_event_type") => define_event_type(&mut store, args),
            _ => {}
        }
        check_gap_free(&store);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = json_input(data) else {
        return;
    };
    match &input {
        Value::Object(o) if o.get("steps").is_some_and(Value::is_array) => {
            run(&input, input["steps"].as_array().expect("checked"))
        }
        Value::Object(o) if o.contains_key("call") => {
            run(&Value::Null, std::slice::from_ref(&input))
        }
        Value::Array(items) if items.first().is_some_and(|s| s.get("call").is_some()) => {
            run(&Value::Null, items)
        }
        events => {
            // The input as a batch, twice: the second time a retry (same
            // event ids) or a conflict.
            let step = json!({"call": "append_events",
                              "args": {"stream_id": "order-1", "events": events}});
            let retry = json!({"call": "append_events",
                               "args": {"stream_id": "order-1", "events": events, "expected_version": 0}});
            run(&Value::Null, &[step, retry]);
        }
    }
});

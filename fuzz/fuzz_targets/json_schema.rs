//! Event schemas (Chronicle's subset of JSON Schema): a definition, then
//! data checked against it.
//!
//! The input is `{"schema": ..., "data": ...}`, `{"schema": ..., "values":
//! [...]}`, or a bare schema (checked against itself and a few samples).
//!
//! Invariants: a refused schema gets a well-formed error naming the bad
//! keyword (`schema...`); an accepted one reads back the same from its text;
//! a check never panics and names a path under `data`; the tightest schema
//! of a value accepts that value; and the store (`define_event_type` +
//! `append_event`) accepts an event exactly when `Schema::check` does,
//! storing nothing when it refuses.
#![no_main]

use chronicle_core::json;
use chronicle_core::memory::{AppendEventArgs, DefineEventTypeArgs, MemoryStore};
use chronicle_core::schema::Schema;
use chronicle_core::Limits;
use chronicle_fuzz::{check_error, check_error_under, describe, json_input};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn check_value(definition: &Value, schema: &Schema, value: &Value) {
    let verdict = schema.check("data", value);
    if let Err((path, reason)) = &verdict {
        assert!(
            path == "data" || path.starts_with("data.") || path.starts_with("data["),
            "{path}"
        );
        assert!(!reason.is_empty());
    }
    // The tightest schema of a value accepts it, unless the value holds a
    // number beyond the range of Postgres' numeric, which the core refuses
    // to compare (as a bound of the schema, or as data).
    match Schema::parse(&describe(value)) {
        Ok(own) => {
            if let Err((path, reason)) = own.check("data", value) {
                assert!(
                    reason.contains("out of range"),
                    "its own description refuses {value} at {path}: {reason}"
                );
            }
        }
        Err(e) => {
            check_error(&e);
            assert!(
                e.field().ends_with(".minimum") || e.field().ends_with(".maximum"),
                "describe wrote a bad schema for {value}: {e:?}"
            );
        }
    }
    if !value.is_object() {
        return;
    }
    let mut store = MemoryStore::new(Limits::default());
    store
        .define_event_type(&DefineEventTypeArgs {
            event_type: Some("A".into()),
            schema_version: Some(1),
            definition: Some(definition.clone()),
        })
        .expect("the schema parsed");
    let result = store.append_event(&AppendEventArgs {
        stream_id: Some("s-1".into()),
        event_type: Some("A".into()),
        data: Some(value.clone()),
        ..AppendEventArgs::default()
    });
    match (verdict, result) {
        (Ok(()), Ok(v)) => assert_eq!(v, 1),
        (Err((path, _)), Err(e)) => {
            check_error(&e);
            assert_eq!((e.sqlstate(), e.field()), ("23514", path.as_str()));
            assert_eq!(store.stream_version("s-1"), 0);
        }
        (verdict, result) => panic!("the schema says {verdict:?}, the store {result:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = json_input(data) else {
        return;
    };
    let (definition, mut values) = match input.get("schema") {
        Some(s) => {
            let mut values: Vec<Value> = input
                .get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            values.extend(input.get("data").cloned());
            (s.clone(), values)
        }
        None => (input.clone(), vec![input.clone()]),
    };
    values.extend([
        json!({"item_id": "apple", "quantity": 3, "price": 1.50}),
        json!([1, "a", null]),
        json!(2.5),
    ]);
    let schema = match Schema::parse(&definition) {
        Ok(s) => s,
        Err(e) => {
            check_error_under(&e, &["schema"]);
            assert_eq!(e.sqlstate(), "22023");
            return;
        }
    };
    let text = json::parse("schema", &definition.to_string()).expect("written JSON reads");
    assert_eq!(Schema::parse(&text).as_ref(), Ok(&schema));
    for value in values.iter().take(16) {
        check_value(&definition, &schema, value);
    }
});

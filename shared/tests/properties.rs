//! Property tests: the core never panics on arbitrary input, and the
//! reference model keeps every stream gap-free whatever the calls.

use std::collections::HashMap;

use chronicle_core::batch::parse_batch;
use chronicle_core::diff;
use chronicle_core::identifier::{validate_id, validate_type_name};
use chronicle_core::json;
use chronicle_core::memory::{AppendEventArgs, AppendEventsArgs, MemoryStore};
use chronicle_core::Limits;
use proptest::prelude::*;
use serde_json::{json, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn identifiers_never_panic_and_errors_name_the_field(s in any::<String>()) {
        if let Err(e) = validate_id("stream_id", &s) {
            prop_assert_eq!(e.field(), "stream_id");
            prop_assert!(!e.hint().is_empty());
        }
        if let Err(e) = validate_type_name("event_type", &s) {
            prop_assert_eq!(e.field(), "event_type");
        }
    }

    #[test]
    fn json_parsing_never_panics(s in any::<String>()) {
        let _ = json::parse("data", &s);
    }

    #[test]
    fn applying_a_diff_gives_the_target(a in arb_json(), b in arb_json()) {
        let patch = diff::diff(&a, &b);
        prop_assert_eq!(diff::apply(&a, &patch).unwrap(), b);
    }

    #[test]
    fn batches_never_panic(v in arb_json()) {
        let _ = parse_batch(&v, &Limits::default());
        let _ = parse_batch(&Value::Array(vec![v]), &Limits::default());
    }

    /// Random appends (single and batched, with right, wrong and no expected
    /// versions) against a plain counter per stream: the model agrees with
    /// the counter on every accept, reject and version.
    #[test]
    fn versions_stay_gap_free(ops in prop::collection::vec(
        (0..4usize, 1..4usize, prop::option::of(-1..6i64), any::<bool>()), 1..60)) {
        let mut store = MemoryStore::new(Limits::default());
        let mut counts: HashMap<String, u64> = HashMap::new();
        for (stream, n, expected, batch) in ops {
            let stream_id = format!("s-{stream}");
            let current = counts.get(&stream_id).copied().unwrap_or(0);
            let result = if batch {
                let events = Value::Array((0..n).map(|i| json!({"event_type": "E", "data": {"i": i}})).collect());
                store.append_events(&AppendEventsArgs {
                    stream_id: Some(stream_id.clone()),
                    events: Some(events),
                    expected_version: expected,
                    stream_type: None,
                })
            } else {
                store.append_event(&AppendEventArgs {
                    stream_id: Some(stream_id.clone()),
                    event_type: Some("E".into()),
                    data: Some(json!({})),
                    expected_version: expected,
                    ..Default::default()
                })
            };
            let count = if batch { n as u64 } else { 1 };
            match expected {
                Some(e) if e < 0 => prop_assert_eq!(result.unwrap_err().sqlstate(), "22023"),
                Some(e) if e as u64 != current => prop_assert_eq!(result.unwrap_err().sqlstate(), "40001"),
                _ => {
                    prop_assert_eq!(result.unwrap(), current + count);
                    counts.insert(stream_id.clone(), current + count);
                }
            }
            prop_assert_eq!(store.stream_version(&stream_id), counts.get(&stream_id).copied().unwrap_or(0));
        }
        for id in store.stream_ids() {
            let (_, rows) = store.stream(id).unwrap();
            let versions: Vec<u64> = rows.iter().map(|r| r.version).collect();
            prop_assert_eq!(versions, (1..=rows.len() as u64).collect::<Vec<_>>());
        }
    }
}

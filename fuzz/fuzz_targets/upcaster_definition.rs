//! Upcaster definitions from JSON, then upcasting a few events with them.
//!
//! The input is a case of `tests/vectors/replay.json` with upcasters
//! (`{"upcasters": {"Type": {"1": [steps]}}, "events"}`), a bare steps array
//! (one upcaster of event type `A` from version 1), or the
//! `{"Type": {"1": [steps]}}` form itself.
//!
//! Invariants: refusals are well formed and name the bad part; accepted
//! definitions read back the same from their text; upcasting walks the
//! chain one version per upcaster (and leaves other types alone), keeps
//! `data` an object, is deterministic, and `upcast_event` changes only
//! `data` and `schema_version`.
#![no_main]

use std::collections::BTreeMap;

use chronicle_core::event::Event;
use chronicle_core::json;
use chronicle_core::upcast::{self, Upcaster, Upcasters};
use chronicle_fuzz::{check_error, check_error_under, json_input, renumbered};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn check_upcasting(all: &Upcasters, event_type: &str, from: i64, data: &Value) {
    let mut once = data.clone();
    let to = upcast::upcast(all, event_type, from, &mut once);
    let mut expected = from;
    while all
        .get(event_type)
        .is_some_and(|chain| chain.contains_key(&expected))
    {
        expected += 1;
    }
    assert_eq!(to, expected, "upcast stopped at the wrong version");
    if data.is_object() {
        assert!(once.is_object(), "upcasting turned data into {once}");
    }
    if to == from {
        assert_eq!(&once, data, "data changed without an upcaster");
    }
    let mut twice = data.clone();
    upcast::upcast(all, event_type, from, &mut twice);
    assert_eq!(once, twice, "upcasting is not deterministic");
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = json_input(data) else {
        return;
    };
    let all: Upcasters = match &input {
        Value::Array(_) => match Upcaster::parse(&input) {
            Ok(u) => {
                let text = json::parse("steps", &input.to_string()).expect("reads");
                assert_eq!(Upcaster::parse(&text).as_ref(), Ok(&u));
                BTreeMap::from([("A".to_string(), BTreeMap::from([(1, u)]))])
            }
            Err(e) => {
                check_error_under(&e, &["definition"]);
                return;
            }
        },
        _ => {
            let definition = input.get("upcasters").unwrap_or(&input);
            match upcast::parse_all(definition) {
                Ok(all) => {
                    let text = json::parse("upcasters", &definition.to_string()).expect("reads");
                    assert_eq!(upcast::parse_all(&text).as_ref(), Ok(&all));
                    for (event_type, chain) in &all {
                        assert!(chronicle_core::identifier::validate_type_name(
                            "event_type",
                            event_type
                        )
                        .is_ok());
                        assert!(chain.keys().all(|v| (1..i32::MAX as i64).contains(v)));
                    }
                    all
                }
                Err(e) => {
                    check_error_under(&e, &["upcasters", "event_type", "from_schema_version"]);
                    return;
                }
            }
        }
    };

    let mut samples = vec![
        json!({"qty": 3, "customer": {"id": "c-1"}, "legacy": true}),
        json!({"a": {"b": {"c": 1}}, "quantity": 1, "currency": "USD"}),
        json!({}),
    ];
    if let Some(d) = input.get("data") {
        samples.push(d.clone());
    }
    let types: Vec<String> = all.keys().cloned().chain(["Other".to_string()]).collect();
    for data in &samples {
        for event_type in &types {
            for from in [1, 2, 3] {
                check_upcasting(&all, event_type, from, data);
            }
        }
    }
    for e in renumbered(input.get("events")) {
        let event = match Event::from_json(e) {
            Ok(event) => event,
            Err(err) => {
                check_error(&err);
                continue;
            }
        };
        check_upcasting(
            &all,
            event.event_type(),
            event.schema_version(),
            event.data(),
        );
        match upcast::upcast_event(&all, &event) {
            Ok(Some(up)) => {
                assert_eq!(up.version(), event.version());
                assert_eq!(up.event_type(), event.event_type());
                assert!(up.schema_version() >= event.schema_version());
                let strip = |e: &Event| {
                    let mut v = e.envelope().clone();
                    v.as_object_mut().expect("an object").remove("data");
                    v.as_object_mut()
                        .expect("an object")
                        .remove("schema_version");
                    v
                };
                assert_eq!(
                    strip(&up),
                    strip(&event),
                    "upcasting changed more than data"
                );
            }
            Ok(None) => assert!(!all.contains_key(event.event_type())),
            Err(err) => check_error(&err),
        }
    }
});

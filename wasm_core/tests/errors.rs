//! The facade's error mapping, in a real wasm runtime (wasm-bindgen-test
//! under node): every rejection reaches JavaScript as an `Error` whose
//! `code` is the SQLSTATE the database raises for it, with the field, the
//! symbolic name and a hint.
#![cfg(target_arch = "wasm32")]

use chronicle_wasm::{diff, history, load_export, replay, validate};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn prop(v: &JsValue, key: &str) -> String {
    Reflect::get(v, &JsValue::from_str(key))
        .ok()
        .and_then(|p| p.as_string())
        .unwrap_or_default()
}

/// Checks an error: a JS Error with this code, field and name, and a hint.
fn check(err: JsValue, code: &str, field: &str, name: &str) {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not an Error: {err:?}"
    );
    let e: &js_sys::Error = err.unchecked_ref();
    assert_eq!(prop(&err, "code"), code, "{}", String::from(e.message()));
    assert_eq!(prop(&err, "field"), field, "{}", String::from(e.message()));
    assert_eq!(String::from(e.name()), name);
    assert!(!prop(&err, "hint").is_empty());
    assert!(String::from(e.message()).contains(field));
}

fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

const EVENTS: &str = r#"[{"version":1,"event_type":"A","data":{"n":1}},
                         {"version":2,"event_type":"A","data":{"n":"two"}}]"#;

#[wasm_bindgen_test]
fn invalid_json_is_22023_naming_the_argument() {
    let err = replay(s("[{"), JsValue::NULL, JsValue::UNDEFINED).unwrap_err();
    check(err, "22023", "events", "invalid_value");
}

#[wasm_bindgen_test]
fn a_bad_event_names_its_index_and_member() {
    let err = replay(
        s(r#"[{"version":0,"event_type":"A","data":{}}]"#),
        JsValue::NULL,
        JsValue::UNDEFINED,
    )
    .unwrap_err();
    check(err, "22023", "events[0].version", "invalid_value");
    let err = history(
        s(r#"[{"version":1,"event_type":"A","data":[]}]"#),
        JsValue::NULL,
        JsValue::UNDEFINED,
    )
    .err()
    .unwrap();
    check(err, "22023", "events[0].data", "invalid_value");
}

#[wasm_bindgen_test]
fn an_invalid_reducer_is_refused_where_the_database_refuses_it() {
    let reducer = s(r#"{"on": {"A": [{"op": "divide", "path": "/n"}]}}"#);
    let err = replay(s(EVENTS), reducer, JsValue::UNDEFINED).unwrap_err();
    check(err, "22023", "definition.on.A[0].op", "invalid_value");
}

#[wasm_bindgen_test]
fn a_failing_step_is_22000_in_replay_and_marked_in_history() {
    let reducer = s(r#"{"on": {"A": [{"op": "increment", "path": "/sum", "from": "/data/n"}]}}"#);
    let err = replay(s(EVENTS), reducer.clone(), JsValue::UNDEFINED).unwrap_err();
    check(err, "22000", "replay", "replay_failed");
    let h = history(s(EVENTS), reducer, JsValue::UNDEFINED).unwrap();
    let failure = h.failure_at(2.0).unwrap();
    assert_eq!(prop(&failure, "code"), "22000");
    assert_eq!(prop(&failure, "kind"), "reducer");
}

#[wasm_bindgen_test]
fn versions_outside_the_history_are_22023() {
    let mut h = history(s(EVENTS), JsValue::NULL, JsValue::UNDEFINED).unwrap();
    check(
        h.state_json_at(3.0).unwrap_err(),
        "22023",
        "version",
        "invalid_value",
    );
    check(
        h.state_json_at(1.5).unwrap_err(),
        "22023",
        "version",
        "invalid_value",
    );
    check(
        h.event_json(0.0).unwrap_err(),
        "22023",
        "version",
        "invalid_value",
    );
    check(
        h.push(s(r#"[{"version":4,"event_type":"A","data":{}}]"#))
            .unwrap_err(),
        "22023",
        "events",
        "invalid_value",
    );
}

#[wasm_bindgen_test]
fn what_if_and_series_name_their_bad_arguments() {
    let mut h = history(s(EVENTS), JsValue::NULL, JsValue::UNDEFINED).unwrap();
    for skipped in [0.0, 3.0, 1.5, -1.0] {
        check(
            h.state_without(2.0, vec![skipped]).unwrap_err(),
            "22023",
            "skipped",
            "invalid_value",
        );
    }
    check(
        h.state_without(3.0, vec![1.0]).unwrap_err(),
        "22023",
        "version",
        "invalid_value",
    );
    check(
        h.series("total", 0.0, 2.0).unwrap_err(),
        "22023",
        "member",
        "invalid_value",
    );
    check(
        h.series("/total", 0.0, 9.0).unwrap_err(),
        "22023",
        "to_version",
        "invalid_value",
    );
    assert_eq!(h.series("/nothing", 0.0, 2.0).unwrap().len(), 3);
}

#[wasm_bindgen_test]
fn schema_violations_are_23514_naming_the_path() {
    let schema = s(r#"{"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}"#);
    let event = s(r#"{"version":1,"event_type":"A","data":{"n":0}}"#);
    check(
        validate(event, schema).unwrap_err(),
        "23514",
        "data.n",
        "schema_violation",
    );
    let bad_schema = s(r#"{"type": "text"}"#);
    let event = s(r#"{"version":1,"event_type":"A","data":{}}"#);
    check(
        validate(event, bad_schema).unwrap_err(),
        "22023",
        "schema.type",
        "invalid_value",
    );
}

#[wasm_bindgen_test]
fn a_missing_argument_is_22004() {
    check(
        diff(JsValue::NULL, s("{}")).unwrap_err(),
        "22004",
        "a",
        "null_value",
    );
}

#[wasm_bindgen_test]
fn a_file_that_is_not_an_export_names_the_header() {
    check(
        load_export("{\"hello\": 1}\n").err().unwrap(),
        "22023",
        "export.header",
        "invalid_value",
    );
    check(
        load_export("").err().unwrap(),
        "22023",
        "export.header",
        "invalid_value",
    );
}

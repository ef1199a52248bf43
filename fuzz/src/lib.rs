//! What the fuzz targets share: reading the input, and the invariants every
//! target asserts (a panic here is a finding, as a crash is).

use std::collections::BTreeSet;

use chronicle_core::error::Error;
use chronicle_core::event::Event;
use chronicle_core::json;
use serde_json::{json, Value};

pub use chronicle_test_support::{
    describe, failure_version, root, snapshot, straight_fold, Snapshot, APPEND_ARGS,
};

/// Inputs longer than this are cut (the fold targets are quadratic in the
/// number of events they check).
pub const MAX_EVENTS: usize = 64;

/// The input as JSON, when it is UTF-8 JSON text (as the core parses it:
/// exact numbers, at most 127 levels deep).
pub fn json_input(data: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(data).ok()?;
    match json::parse("input", text) {
        Ok(v) => Some(v),
        Err(e) => {
            check_error(&e);
            None
        }
    }
}

/// A refusal is well formed (see [`chronicle_test_support::well_formed`]).
pub fn check_error(e: &Error) {
    if let Err(why) = chronicle_test_support::well_formed(e) {
        panic!("{why}");
    }
}

/// [`check_error`], and the field lies under one of `roots`
/// (`events[2].data` is under `events`).
pub fn check_error_under(e: &Error, roots: &[&str]) {
    check_error(e);
    assert!(
        roots.contains(&root(e.field())),
        "the error's field {:?} is not under {roots:?}: {e:?}",
        e.field()
    );
}

/// A few events to fold when the input brings none.
pub fn sample_events() -> Vec<Value> {
    vec![
        json!({"version": 1, "event_type": "OrderCreated", "data": {"customer_id": "c-1", "status": "created"},
               "recorded_at": "2024-05-01T12:01:00Z", "metadata": {"ip": "::1"}, "actor": "user-7"}),
        json!({"version": 2, "event_type": "ItemAdded", "data": {"item_id": "apple", "quantity": 3, "price": 1.50},
               "recorded_at": "2024-05-01 12:02:00.25+00", "schema_version": 1}),
        json!({"version": 3, "event_type": "A", "data": {"n": 2, "a": {"b": [1, 2]}, "id": "x"},
               "recorded_at": "2024-05-01T14:03:00+02:00", "stream_id": "order-1"}),
        json!({"version": 4, "event_type": "B", "data": {"n": -0.25, "qty": 7}, "schema_version": 2}),
    ]
}

/// The event elements of an input's `events` (or `None`), as objects
/// numbered 1, 2, ... in order (so any envelope in the input can be folded),
/// at most [`MAX_EVENTS`].
pub fn renumbered(events: Option<&Value>) -> Vec<Value> {
    let list = match events {
        Some(Value::Array(items)) => items.clone(),
        _ => sample_events(),
    };
    list.into_iter()
        .filter(Value::is_object)
        .take(MAX_EVENTS)
        .enumerate()
        .map(|(i, mut e)| {
            e["version"] = json!(i + 1);
            e
        })
        .collect()
}

/// Reads the events' texts as a fold that needs only `keep` reads them.
pub fn read_events(texts: &[String], keep: Option<&BTreeSet<String>>) -> Vec<Event> {
    texts
        .iter()
        .map(|t| Event::from_text(t, keep).expect("the event was read before"))
        .collect()
}

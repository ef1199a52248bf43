//! A reducer definition from JSON, then a fold of a few events under it.
//!
//! The input is a case of `tests/vectors/replay.json` (`{"reducer",
//! "events"}`) or a bare definition (folded over sample events).
//!
//! Invariants: a refused definition gets a well-formed error naming the bad
//! part (`definition...`); an accepted one reads back the same from its text
//! and its canonical text; folding never panics; a fold that stops at
//! failures agrees with one that skips them; and a fold that reads only the
//! envelope members the definition says it needs (`envelope_fields`) gives
//! the same states as one that reads them all.
#![no_main]

use chronicle_core::canonical;
use chronicle_core::event::Event;
use chronicle_core::json;
use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{replay, OnFailure, Until};
use chronicle_core::upcast::Upcasters;
use chronicle_fuzz::{
    check_error, check_error_under, failure_version, json_input, read_events, renumbered,
    straight_fold,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some(input) = json_input(data) else {
        return;
    };
    let (definition, events) = match input.get("reducer") {
        Some(d) if input.get("events").is_some() => (d.clone(), input.get("events")),
        _ => (input.clone(), None),
    };
    let reducer = match Reducer::parse(&definition) {
        Ok(r) => r,
        Err(e) => {
            check_error_under(&e, &["definition"]);
            assert!(["22023", "22001"].contains(&e.sqlstate()), "{e:?}");
            return;
        }
    };
    let text = json::parse("definition", &definition.to_string()).expect("written JSON reads");
    assert_eq!(Reducer::parse(&text).as_ref(), Ok(&reducer));
    let canon = json::parse("definition", &canonical::to_string(&definition)).expect("reads");
    assert_eq!(Reducer::parse(&canon).as_ref(), Ok(&reducer));
    assert!(reducer.initial().is_object());
    let needs = reducer.envelope_fields();
    assert!(needs.contains("data"));

    // The events as NDJSON lines; those that are not events are refused well
    // and left out (the rest renumbered so they stay consecutive).
    let mut texts = Vec::new();
    for e in renumbered(events) {
        match Event::from_text(&e.to_string(), None) {
            Ok(_) => {
                let mut e = e;
                e["version"] = Value::from(texts.len() + 1);
                texts.push(e.to_string());
            }
            Err(err) => check_error(&err),
        }
    }
    let full = read_events(&texts, None);
    let (states, failed) = straight_fold(Some(&reducer), &Upcasters::new(), &full);
    let (needed_states, needed_failed) = straight_fold(
        Some(&reducer),
        &Upcasters::new(),
        &read_events(&texts, Some(&needs)),
    );
    assert_eq!(
        states, needed_states,
        "reading only {needs:?} changes the fold"
    );
    assert_eq!(failed, needed_failed);

    let stop = replay(
        Some(&reducer),
        None,
        full.iter().cloned().map(Ok),
        Until::Head,
        OnFailure::Stop,
    );
    match stop {
        Ok(f) => {
            assert!(failed.is_empty());
            assert_eq!(f.state(), states.last().expect("the initial state"));
        }
        Err(e) => {
            check_error(&e);
            assert_eq!(e.sqlstate(), "22000");
            assert_eq!(Some(failure_version(&e)), failed.first().copied());
        }
    }
});

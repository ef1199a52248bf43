//! Events, a reducer and upcasters from JSON, replayed through the
//! time-travel history and through a straight fold.
//!
//! The input is a case of `tests/vectors/replay.json` (`{"reducer",
//! "upcasters", "events"}`; `reducer` null is the default merge) or a bare
//! array of events (default merge).
//!
//! Invariants: the history stops at exactly the event a straight fold
//! cannot take; `state_at(v)` equals the straight fold of the first v events
//! for every v, asked forwards and backwards; the reducer failures it marks
//! are the ones the fold skipped; each diff leads from the state before to
//! the state after; without upcasters, `replay(.., Until::Version(v))` is
//! the same state; and its export reloads to the same export and states.
#![no_main]

use std::collections::BTreeSet;

use chronicle_core::diff;
use chronicle_core::event::Event;
use chronicle_core::history::History;
use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{replay, Folder, OnFailure, Until};
use chronicle_core::upcast::{parse_all, Upcasters};
use chronicle_fuzz::{check_error, json_input, read_events, straight_fold, MAX_EVENTS};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Whether a straight fold can take `text` as the event after `head`.
fn fold_takes(
    reducer: Option<&Reducer>,
    upcasters: &Upcasters,
    needs: &BTreeSet<String>,
    text: &str,
    head: u64,
) -> bool {
    let Ok(event) = Event::from_text(text, Some(needs)) else {
        return false;
    };
    let mut folder =
        Folder::new(reducer, Some((json!({}), head)), OnFailure::Skip).with_upcasters(upcasters);
    folder.step(event).is_ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = json_input(data) else {
        return;
    };
    let (definition, upcasters, events) = match &input {
        Value::Array(items) => (Value::Null, Value::Null, items.clone()),
        Value::Object(o) => (
            o.get("reducer").cloned().unwrap_or(Value::Null),
            o.get("upcasters").cloned().unwrap_or(Value::Null),
            match o.get("events") {
                Some(Value::Array(items)) => items.clone(),
                _ => return,
            },
        ),
        _ => return,
    };
    let events: Vec<Value> = events.into_iter().take(MAX_EVENTS).collect();
    let mut history = match History::new(definition.clone(), upcasters.clone(), Value::Null, None) {
        Ok(h) => h,
        Err(e) => {
            check_error(&e);
            return;
        }
    };
    let reducer = (!definition.is_null()).then(|| Reducer::parse(&definition).expect("parsed"));
    let all = if upcasters.is_null() {
        Upcasters::new()
    } else {
        parse_all(&upcasters).expect("parsed")
    };

    // The envelope members the history reads (the others it leaves unread).
    let needs = reducer.as_ref().map_or_else(
        || BTreeSet::from(["data".to_string()]),
        Reducer::envelope_fields,
    );

    // Loaded in two pieces: NDJSON lines, then a JSON array. (NDJSON whose
    // first line is an array is read as one JSON array.)
    let cut = match events.first() {
        Some(Value::Array(_)) => 0,
        _ => data.len() % (events.len() + 1),
    };
    let lines: String = events[..cut].iter().map(|e| format!("{e}\n")).collect();
    let mut outcome = history.extend(&lines);
    if outcome.is_ok() {
        outcome = history.extend(&Value::Array(events[cut..].to_vec()).to_string());
    }
    let head = history.head();
    let texts: Vec<String> = events.iter().map(Value::to_string).collect();
    match &outcome {
        Ok(()) => assert_eq!(head, events.len() as u64),
        Err(e) => {
            check_error(e);
            assert!(
                head < events.len() as u64,
                "an error, yet every event loaded"
            );
            assert!(
                !fold_takes(reducer.as_ref(), &all, &needs, &texts[head as usize], head),
                "the history stopped at an event a fold takes: {e:?}"
            );
        }
    }
    let loaded = read_events(&texts[..head as usize], Some(&needs));
    let (states, failed) = straight_fold(reducer.as_ref(), &all, &loaded);
    // Reading every member (where they all read) folds the same.
    let full: Result<Vec<Event>, _> = texts[..head as usize]
        .iter()
        .map(|t| Event::from_text(t, None))
        .collect();
    if let Ok(full) = full {
        let (full_states, full_failed) = straight_fold(reducer.as_ref(), &all, &full);
        assert_eq!(
            full_states, states,
            "reading only {needs:?} changes the fold"
        );
        assert_eq!(full_failed, failed);
    }
    let marked: Vec<u64> = history
        .failures()
        .iter()
        .filter(|f| f.kind == "reducer")
        .map(|f| f.version)
        .collect();
    assert_eq!(
        marked, failed,
        "the history marks other failures than the fold skips"
    );

    let versions = (0..=head).chain((0..=head).rev());
    for v in versions {
        let state = history.state(v).expect("a loaded version");
        assert_eq!(
            state, states[v as usize],
            "state_at({v}) differs from the fold"
        );
        if v > 0 {
            let patch = history.diff_at(v).expect("a loaded version");
            assert_eq!(
                diff::apply(&states[v as usize - 1], &patch).expect("the patch applies"),
                states[v as usize]
            );
        }
        if all.is_empty() {
            let f = replay(
                reducer.as_ref(),
                None,
                loaded.iter().cloned().map(Ok),
                Until::Version(v),
                OnFailure::Skip,
            )
            .expect("a skipping replay of consecutive events");
            assert_eq!(f.state(), &states[v as usize]);
        }
    }
    let beyond = history.state(head + 1).expect_err("beyond the head");
    check_error(&beyond);

    // Its export reloads to the same export and the same state at the head.
    let text = history.export_text("2026-01-01T00:00:00Z", "fuzz");
    let mut back = History::from_export(&text).expect("an export reloads");
    back.check_complete().expect("an export is whole");
    assert_eq!(back.export_text("later", "fuzz"), text);
    assert_eq!(back.head(), head);
    assert_eq!(back.state(head).ok(), history.state(head).ok());
});

//! NDJSON export text (`chronicle.export_stream`, the dashboard's Export),
//! read by `export::parse` and loaded by `History::from_export`.
//!
//! Invariants: refusals are well formed; an accepted export's events are
//! consecutive from its `from_version` and as many as its header promises;
//! writing what was read and reading it again gives the same header and
//! events (`parse(write(parse(t))) == parse(t)`); a loaded history's export
//! reloads to the same export and state, and reads back with `export::parse`.
#![no_main]

use chronicle_core::export;
use chronicle_core::history::History;
use chronicle_core::json;
use chronicle_fuzz::check_error;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match export::parse(&text) {
        Ok(x) => {
            let from = export::from_version(&x.header);
            for (i, e) in x.events.iter().enumerate() {
                assert_eq!(
                    Some(e.version()),
                    from.checked_add(i as u64),
                    "not consecutive"
                );
            }
            if let Some(to) = x.header.get("to_version").and_then(Value::as_u64) {
                let promised = u128::from(to) + 1 - u128::from(from).min(u128::from(to) + 1);
                assert_eq!(
                    x.events.len() as u128,
                    promised,
                    "not what the header promises"
                );
            }
            let mut written = format!("{}\n", x.header);
            for e in &x.events {
                written.push_str(&e.envelope().to_string());
                written.push('\n');
            }
            let again = export::parse(&written).expect("a written export reads");
            assert_eq!(again.header, x.header);
            assert_eq!(again.events, x.events, "events changed in a round trip");
            json::parse("export", &x.to_json()).expect("to_json writes JSON");
        }
        Err(e) => check_error(&e),
    }
    match History::from_export(&text) {
        Ok(mut h) => {
            if let Err(e) = h.check_complete() {
                check_error(&e);
            }
            let out = h.export_text("2026-01-01T00:00:00Z", "fuzz");
            let mut back = History::from_export(&out).expect("an export reloads");
            back.check_complete().expect("a history's export is whole");
            assert_eq!(back.export_text("later", "fuzz"), out);
            assert_eq!(back.head(), h.head());
            assert_eq!(back.state(h.head()).ok(), h.state(h.head()).ok());
            match export::parse(&out) {
                Ok(x) => assert_eq!(x.events.len() as u64, h.head()),
                // The history reads only the members its reducer needs; a
                // full read may refuse one it left unread (a bad occurred_at).
                Err(e) => check_error(&e),
            }
        }
        Err(e) => check_error(&e),
    }
    let mut h = History::new(Value::Null, Value::Null, Value::Null, None).expect("the default");
    if let Err(e) = h.extend(&text) {
        check_error(&e);
    }
    for v in 0..=h.head().min(64) {
        h.state(v).expect("a loaded version");
    }
});

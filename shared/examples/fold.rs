//! The native baseline of the wasm benchmark (`bench/wasm.mjs`): reads an
//! NDJSON export and prints, as JSON, how long the core takes to parse and
//! fold it (`replay`) and to build a time-travel history (`history`).
//!
//! `cargo run --release -p chronicle-core --example fold -- FILE [ROUNDS]`

use std::time::Instant;

use chronicle_core::export::{lines, parse_events};
use chronicle_core::history::History;
use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{replay, OnFailure, Until};
use chronicle_core::{canonical, export};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: fold FILE [ROUNDS]");
    let rounds: usize = args
        .next()
        .map_or(3, |r| r.parse().expect("ROUNDS is a number"));
    let text = std::fs::read_to_string(&path).expect("readable export file");
    let header = export::read_header(lines(&text).next().expect("a header line")).expect("header");
    let body: String = lines(&text).skip(1).collect::<Vec<_>>().join("\n");
    let reducer = match &header["reducer"] {
        serde_json::Value::Null => None,
        d => Some(Reducer::parse(d).expect("reducer")),
    };
    if std::env::var("PROBE").is_ok() {
        probe(&body);
    }
    let needs = reducer.as_ref().map(Reducer::envelope_fields);
    let mut best = (f64::MAX, f64::MAX);
    let mut state = String::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let events = parse_events("events", &body, needs.as_ref()).expect("events");
        let f = replay(
            reducer.as_ref(),
            None,
            events.into_iter().map(Ok),
            Until::Head,
            OnFailure::Stop,
        )
        .expect("fold");
        state = canonical::to_string(f.state());
        best.0 = best.0.min(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let h = History::from_export(&text).expect("history");
        std::hint::black_box(h.head());
        best.1 = best.1.min(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{}",
        serde_json::json!({"replay_ms": best.0, "history_ms": best.1, "state": state})
    );
}

#[allow(dead_code)]
fn probe(body: &str) {
    let t = Instant::now();
    let vals: Vec<serde_json::Value> = lines(body)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    eprintln!("values only: {:?}", t.elapsed());
    let t = Instant::now();
    let evs: Vec<_> = vals
        .into_iter()
        .map(|v| chronicle_core::event::Event::from_json(v).unwrap())
        .collect();
    eprintln!("from_json: {:?}", t.elapsed());
    let t = Instant::now();
    drop(evs);
    eprintln!("drop: {:?}", t.elapsed());
    let t = Instant::now();
    let evs = parse_events("events", body, None).unwrap();
    eprintln!("parse_events: {:?}", t.elapsed());
    let t = Instant::now();
    let f = replay(
        None,
        None,
        evs.into_iter().map(Ok),
        Until::Head,
        OnFailure::Stop,
    )
    .unwrap();
    std::hint::black_box(f);
    eprintln!("fold (default merge) + drop: {:?}", t.elapsed());
}

//! Runs the shared test vectors (`tests/vectors/*.json`) against the core's
//! reference model. The SQL runner (`tests/vectors/run_sql.py`) runs the same
//! files against the extension, so both provably agree.

use std::path::PathBuf;

use chronicle_core::memory::{AppendEventArgs, AppendEventsArgs, DefineEventTypeArgs, MemoryStore};
use chronicle_core::Limits;
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector file is JSON")
}

/// Expands the `{"$nest": N}` shorthand into N nested arrays.
fn expand(v: &Value) -> Value {
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("$nest") => {
            let n = o["$nest"].as_u64().expect("$nest takes a count");
            (0..n).fold(Value::Array(vec![]), |inner, _| Value::Array(vec![inner]))
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), expand(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(expand).collect()),
        other => other.clone(),
    }
}

fn limits(case: &Value) -> Limits {
    let mut limits = Limits::default();
    if let Some(l) = case.get("limits") {
        if let Some(n) = l.get("max_event_size") {
            limits.max_event_size = n.as_u64().unwrap() as usize;
        }
        if let Some(n) = l.get("max_batch_events") {
            limits.max_batch_events = n.as_u64().unwrap() as usize;
        }
    }
    limits
}

#[test]
fn append_vectors_hold_for_the_reference_model() {
    let doc = vectors("append.json");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20, "the vector file lost cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut store = MemoryStore::new(limits(case));
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let args = expand(&step["args"]);
            let result = match step["call"].as_str().unwrap() {
                "append_event" => store.append_event(
                    &serde_json::from_value::<AppendEventArgs>(args).expect("append_event args"),
                ),
                "append_events" => store.append_events(
                    &serde_json::from_value::<AppendEventsArgs>(args).expect("append_events args"),
                ),
                "stream_version" => Ok(store.stream_version(args["stream_id"].as_str().unwrap())),
                "define_event_type" => store
                    .define_event_type(
                        &serde_json::from_value::<DefineEventTypeArgs>(args).expect("args"),
                    )
                    .map(|()| 0),
                other => panic!("unknown call {other}"),
            };
            let expect = &step["expect"];
            match (result, expect.get("error")) {
                (Ok(v), None) => {
                    if let Some(want) = expect.get("version") {
                        assert_eq!(Some(v), want.as_u64(), "{name}, step {i}: version");
                    }
                }
                (Err(e), Some(want)) => {
                    assert_eq!(e.sqlstate(), want["sqlstate"], "{name}, step {i}: {e}");
                    assert_eq!(e.field(), want["field"], "{name}, step {i}: {e}");
                    assert!(!e.hint().is_empty());
                }
                (Ok(v), Some(want)) => panic!("{name}, step {i}: expected {want}, got version {v}"),
                (Err(e), None) => panic!("{name}, step {i}: expected {expect}, got {e:?}"),
            }
        }
        for (stream_id, want) in case["streams"].as_object().into_iter().flatten() {
            let got = store.stream(stream_id);
            if want.is_null() {
                assert!(got.is_none(), "{name}: stream {stream_id} should not exist");
                continue;
            }
            let (stream_type, rows) =
                got.unwrap_or_else(|| panic!("{name}: no stream {stream_id}"));
            assert_eq!(stream_type, want["stream_type"], "{name}: {stream_id} type");
            assert_eq!(
                rows.len() as u64,
                want["version"].as_u64().unwrap(),
                "{name}"
            );
            let types: Vec<&str> = rows.iter().map(|r| r.event_type.as_str()).collect();
            let want_types: Vec<&str> = want["event_types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(types, want_types, "{name}: {stream_id} events");
        }
    }
}

/// Runs every case of `subscriptions.json` against the reference model.
#[test]
fn subscription_vectors_hold_for_the_reference_model() {
    use chronicle_core::memory_feed::{FeedEvent, MemoryFeed};
    use chronicle_core::subscription::consumer_of;
    let doc = vectors("subscriptions.json");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 6, "the vector file lost cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut feed = MemoryFeed::default();
        for e in case["feed"].as_array().unwrap() {
            feed.append(serde_json::from_value::<FeedEvent>(e.clone()).unwrap());
        }
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name}, step {i} ({})", step["call"]);
            let expect = &step["expect"];
            let result = feed.call(step["call"].as_str().unwrap(), &step["args"]);
            match (result, expect.get("error")) {
                (Err(e), Some(want)) => {
                    assert_eq!(e.sqlstate(), want["sqlstate"], "{at}: {e}");
                    assert_eq!(e.field(), want["field"], "{at}: {e}");
                    continue;
                }
                (Err(e), None) => panic!("{at}: expected {expect}, got {e:?}"),
                (Ok(got), Some(want)) => panic!("{at}: expected {want}, got {got}"),
                (Ok(got), None) => {
                    for key in ["positions", "checkpoint", "position"] {
                        if let Some(want) = expect.get(key) {
                            assert_eq!(&got, want, "{at}: {key}");
                        }
                    }
                    for (k, want) in expect
                        .get("row")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        assert_eq!(&got[k], want, "{at}: row.{k}");
                    }
                }
            }
            let sub_name = step["args"]["name"].as_str().unwrap_or_default();
            if let Some(state) = expect.get("state").and_then(Value::as_object) {
                let row = feed
                    .subscription(sub_name)
                    .expect("the subscription")
                    .to_json();
                for (k, want) in state {
                    assert_eq!(&row[k], want, "{at}: state.{k}");
                }
            }
            if let Some(want) = expect.get("consumer_positions") {
                let row = feed.subscription(sub_name).expect("the subscription");
                let got: Vec<u64> = row.consumers.iter().map(|c| c.position).collect();
                assert_eq!(&serde_json::json!(got), want, "{at}: consumer positions");
            }
        }
    }
    for row in doc["consumer_of"].as_array().unwrap() {
        let (id, n) = (
            row["stream_id"].as_str().unwrap(),
            row["consumers"].as_u64().unwrap(),
        );
        assert_eq!(
            u64::from(consumer_of(id, n as u32)),
            row["consumer"].as_u64().unwrap(),
            "{id} of {n}"
        );
    }
}

/// The README's error table lists every SQLSTATE the core can raise.
#[test]
fn readme_documents_every_sqlstate() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    for kind in chronicle_core::error::KINDS {
        let (code, name) = (kind.sqlstate, kind.name);
        assert!(
            readme.contains(&format!("| `{code}` |")),
            "README's error table lacks {code} ({name})"
        );
    }
}

/// Replays every case of `replay.json` with the core and compares the
/// canonical state after each version, byte for byte.
#[test]
fn replay_vectors_hold_for_the_core() {
    use chronicle_core::canonical;
    use chronicle_core::event::Event;
    use chronicle_core::reducer::Reducer;
    use chronicle_core::replay::{replay, Folder, OnFailure, Until};
    use chronicle_core::time::AsOf;

    let doc = vectors("replay.json");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 15, "the vector file lost cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let reducer = match &case["reducer"] {
            Value::Null => None,
            def => match Reducer::parse(def) {
                Ok(r) => Some(r),
                Err(e) => {
                    let want = case.get("error").unwrap_or_else(|| panic!("{name}: {e}"));
                    assert_eq!(e.sqlstate(), want["sqlstate"], "{name}");
                    assert_eq!(e.field(), want["field"], "{name}: {e}");
                    continue;
                }
            },
        };
        assert!(
            case.get("error").is_none(),
            "{name}: definition should be refused"
        );
        let events: Vec<Event> = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Event::from_json(e.clone()).unwrap())
            .collect();
        let upcasters = chronicle_core::upcast::parse_all(&case["upcasters"]).expect("upcasters");
        let mut folder =
            Folder::new(reducer.as_ref(), None, OnFailure::Stop).with_upcasters(&upcasters);
        if let Some(initial) = case.get("initial") {
            assert_eq!(&canonical::to_string(folder.state()), initial, "{name}");
        }
        for (event, want) in events.iter().zip(case["states"].as_array().unwrap()) {
            match (folder.step(event.clone()), want) {
                (Ok(()), Value::String(s)) => {
                    assert_eq!(
                        &canonical::to_string(folder.state()),
                        s,
                        "{name}, version {}",
                        event.version()
                    )
                }
                (Err(e), Value::Object(w)) => {
                    assert_eq!(e.sqlstate(), w["error"]["sqlstate"], "{name}");
                    assert_eq!(e.field(), w["error"]["field"], "{name}");
                    break;
                }
                (got, want) => panic!(
                    "{name}, version {}: got {got:?}, want {want}",
                    event.version()
                ),
            }
        }
        for stop in case["as_of"].as_array().into_iter().flatten() {
            let t = AsOf::parse("as_of", stop["time"].as_str().unwrap()).unwrap();
            let f = replay(
                reducer.as_ref(),
                None,
                events.iter().cloned().map(Ok),
                Until::Time(t),
                OnFailure::Stop,
            )
            .unwrap();
            assert_eq!(
                f.version(),
                stop["version"].as_u64().unwrap(),
                "{name}: as of {t:?}"
            );
        }
    }
}

/// Seals, opens and erases every case of `personal.json` with the core:
/// each event as stored holds none of its personal members' text; opened
/// with the subject's key it reads exactly as written; once the subject is
/// forgotten it reads as the case's `read` (which `erase` gives too); and
/// the states folded from what is read are the case's, byte for byte.
#[test]
fn personal_vectors_hold_for_the_core() {
    use chronicle_core::canonical;
    use chronicle_core::event::Event;
    use chronicle_core::personal::{check_definition, erase, open, Key};
    use chronicle_core::reducer::Reducer;
    use chronicle_core::replay::{Folder, OnFailure};
    use std::collections::HashMap;

    let doc = vectors("personal.json");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 4, "the vector file lost cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let definitions: HashMap<&str, _> = case["definitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let paths: Vec<Option<String>> = d["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().map(str::to_string))
                    .collect();
                let def = check_definition(
                    d["event_type"].as_str(),
                    d["subject"].as_str(),
                    Some(&paths),
                )
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
                (d["event_type"].as_str().unwrap(), def)
            })
            .collect();
        let forgotten: Vec<&str> = case["forget"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let mut keys: HashMap<String, Key> = HashMap::new();
        let mut nonce = 0u8;
        let events = case["events"].as_array().unwrap();
        let read = case["read"].as_array().unwrap();
        assert_eq!(events.len(), read.len(), "{name}");
        for (written, want) in events.iter().zip(read) {
            let mut event = written.clone();
            let version = written["version"].as_u64().unwrap();
            let event_id = [version as u8; 16];
            if let Some(def) = definitions.get(written["event_type"].as_str().unwrap()) {
                let subject = def.subject_of("", &event).unwrap();
                let fresh = [keys.len() as u8 + 1; 32];
                let key = *keys.entry(subject.clone()).or_insert(fresh);
                let sealed = def.seal(&mut event, &key, &event_id, || {
                    nonce = nonce.wrapping_add(1);
                    [nonce; 24]
                });
                let stored = canonical::to_string(&event);
                for place in &def.paths {
                    if let Some(member) = place.get(written) {
                        let text = canonical::to_string(member);
                        assert!(!stored.contains(&text), "{name}: {text} stored as written");
                    }
                }
                let mut opened = event.clone();
                open(&mut opened, &sealed, Some(&key), &event_id).unwrap();
                assert_eq!(
                    canonical::to_string(&opened),
                    canonical::to_string(written),
                    "{name}: opened with the key"
                );
                if forgotten.contains(&subject.as_str()) {
                    open(&mut event, &sealed, None, &event_id).unwrap();
                    let mut erased = written.clone();
                    erase(&mut erased, &def.paths);
                    assert_eq!(erased, event, "{name}: erase() and the opened erased event");
                } else {
                    event = opened;
                }
            }
            assert_eq!(
                canonical::to_string(&event),
                canonical::to_string(want),
                "{name}, version {version}: as read"
            );
        }
        let reducer = match &case["reducer"] {
            Value::Null => None,
            def => Some(Reducer::parse(def).unwrap()),
        };
        let upcasters = chronicle_core::upcast::parse_all(&case["upcasters"]).expect("upcasters");
        let mut folder =
            Folder::new(reducer.as_ref(), None, OnFailure::Stop).with_upcasters(&upcasters);
        for (event, want) in read.iter().zip(case["states"].as_array().unwrap()) {
            folder
                .step(Event::from_json(event.clone()).unwrap())
                .unwrap();
            assert_eq!(
                canonical::to_string(folder.state()),
                want.as_str().unwrap(),
                "{name}: state at version {}",
                event["version"]
            );
        }
    }
}

//! Property tests. On arbitrary input the core never panics and refuses what
//! it refuses with a well-formed error (a listed SQLSTATE, a message naming
//! the field, a hint); on what it accepts it keeps its promises: streams stay
//! gap-free, expected versions mean what they say, definitions round-trip,
//! a replay to version N is the replay of the first N events, the time-travel
//! history agrees with a straight fold, and an export reads back as written.
//!
//! The cargo-fuzz targets in `fuzz/` check the same invariants on raw bytes
//! (`./chronicle fuzz`). Case counts are kept moderate so the whole file runs
//! in seconds in a debug build; `PROPTEST_CASES=N` raises them all.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chronicle_core::append::check_append_args;
use chronicle_core::arguments::{
    check_count, check_known_position, check_position, check_version_range,
};
use chronicle_core::batch::{parse_batch, BatchEvent};
use chronicle_core::diff;
use chronicle_core::error::Error;
use chronicle_core::event::Event;
use chronicle_core::export::{self, Header};
use chronicle_core::feed::check_filter;
use chronicle_core::history::History;
use chronicle_core::identifier::{validate_id, validate_type_name};
use chronicle_core::json;
use chronicle_core::memory::{AppendEventArgs, AppendEventsArgs, DefineEventTypeArgs, MemoryStore};
use chronicle_core::payload::{validate_payload, validate_schema_version, Payload};
use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{replay, OnFailure, Until};
use chronicle_core::schema::Schema;
use chronicle_core::sequencing::{
    classify_retry, plan_append, ExpectedVersion, IdCheck, Retry, StoredEvent,
};
use chronicle_core::subscription::{check_consumer, check_name, MAX_CONSUMERS};
use chronicle_core::upcast::{self, Upcaster};
use chronicle_core::{canonical, Limits};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};

use chronicle_test_support::{
    describe, failure_version, root, snapshot, straight_fold, APPEND_ARGS,
};

type TestResult = Result<(), TestCaseError>;

/// `cases` cases, or `PROPTEST_CASES` when set (for a longer run).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Numbers as clients and Postgres write them: exact decimals, big integers,
/// exponents.
const SPECIAL_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1.50",
    "0.1",
    "0.2",
    "-0.05",
    "0.000",
    "1.0",
    "123456789012345678901234567890",
    "-99999999999999999999999999999999.5",
    "1e3",
    "2E+3",
    "-2.5e-7",
    "1e400",
    "1e131071",
    "-1e-16383",
];

/// Numbers beyond Postgres' numeric (131072 digits before the point, 16383
/// after): exponents that do not fit an i64, and ones whose exact value has
/// millions of digits. The core refuses to compute with or compare them.
const HUGE_NUMBERS: &[&str] = &[
    "1e99999999999999999999",
    "-1E-9223372036854775809",
    "1e9223372036854775808",
    "1e100000000",
    "1e131072",
    "-1e-16384",
];

fn num(text: &str) -> Value {
    serde_json::from_str(text).expect("a JSON number")
}

/// `mantissa` with `scale` digits after the point, in plain notation.
fn decimal_text(mantissa: i64, scale: u32) -> String {
    let digits = mantissa.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let sign = if mantissa < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Numbers within the range of Postgres' numeric.
fn arb_number_in_range() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        (any::<i32>(), 0u32..5).prop_map(|(m, s)| num(&decimal_text(m.into(), s))),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        select(SPECIAL_NUMBERS).prop_map(num),
    ]
}

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![8 => arb_number_in_range(), 1 => select(HUGE_NUMBERS).prop_map(num)]
}

/// Whether `v` holds one of the [`HUGE_NUMBERS`].
fn holds_huge_number(v: &Value) -> bool {
    match v {
        Value::Number(_) => HUGE_NUMBERS.iter().any(|h| num(h) == *v),
        Value::Array(items) => items.iter().any(holds_huge_number),
        Value::Object(members) => members.values().any(holds_huge_number),
        _ => false,
    }
}

/// Member names: a few that reducers, upcasters and schemas below use, so
/// they meet, and arbitrary ones.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(&["a", "n", "q", "id", "item_id", "items", "qty", "x"][..]).prop_map(String::from),
        1 => "[a-z_]{1,6}",
        1 => ".{0,4}",
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number(),
        select(&["apple", "pear", "", "x/y", "~1"][..]).prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An event's `data`: always an object.
fn arb_data() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(arb_key(), arb_json(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

const TYPES: &[&str] = &["A", "B", "C"];

fn arb_type_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(&["A", "B", "OrderCreated", "billing.invoice-issued", "shop/Order:v2", "Ordre_été"][..])
            .prop_map(String::from),
        2 => "[A-Za-z][A-Za-z0-9_.:/-]{0,12}",
        2 => any::<String>(),
        1 => "[ 1;\u{200B}-][A-Za-z]{0,3}",
        1 => "T{99,101}",
    ]
}

fn arb_id() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(&["order-1", "s-1", "Order 42", "ünïcødé/客户-7", "42", "a"][..]).prop_map(String::from),
        2 => any::<String>(),
        1 => "[ \t]?[a-z]{0,3}[\u{200B}\u{202E}\n]?[a-z]{0,2}[ ]?",
        1 => "x{254,256}",
    ]
}

const EDGE_SCHEMA_VERSIONS: &[i64] = &[0, -1, i32::MAX as i64, i32::MAX as i64 + 1];

fn arb_schema_version() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 1i64..4,
        1 => any::<i64>(),
        1 => select(EDGE_SCHEMA_VERSIONS),
    ]
}

fn arb_uuid_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).hyphenated().to_string()),
        1 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).hyphenated().to_string().to_uppercase()),
        1 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).simple().to_string()),
        1 => ".{0,40}",
    ]
}

/// Timestamps as Postgres, browsers and clients write them.
fn arb_valid_timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0u32..60).prop_map(|s| format!("2024-05-01T12:00:{s:02}Z")),
        1 => (0u32..60).prop_map(|s| format!("2024-05-01 12:00:{s:02}.25+00")),
        1 => (0u32..60).prop_map(|s| format!("2024-05-01T14:00:{s:02}+02:00")),
        1 => (0u32..60).prop_map(|s| format!("2024-05-01T12:00:{s:02}.123456789Z")),
    ]
}

fn arb_timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => arb_valid_timestamp(),
        1 => select(&["yesterday", "2024-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "2024-05-01"][..])
            .prop_map(String::from),
    ]
}

/// A value for a member that wants `good` values: mostly those, sometimes
/// any JSON.
fn or_any<S: Strategy<Value = Value> + 'static>(good: S) -> BoxedStrategy<Value> {
    prop_oneof![4 => good, 1 => arb_json()].boxed()
}

/// One element of an `append_events` batch, right or wrong in any part.
fn arb_batch_element() -> impl Strategy<Value = Value> {
    let parts = (
        prop::option::of(or_any(arb_type_name().prop_map(Value::String))),
        prop::option::of(or_any(arb_data())),
        prop::option::of(or_any(arb_data())),
        prop::option::of(or_any(arb_uuid_text().prop_map(Value::String))),
        prop::option::of(or_any(arb_uuid_text().prop_map(Value::String))),
        prop::option::of(or_any(arb_id().prop_map(Value::String))),
        prop::option::of(or_any(arb_timestamp().prop_map(Value::String))),
        prop::option::of(or_any(arb_schema_version().prop_map(Value::from))),
        prop::option::of(arb_json()),
    );
    (parts, 0..12u8).prop_map(
        |(
            (event_type, data, metadata, event_id, correlation_id, actor, occurred_at, sv, typo),
            shape,
        )| {
            if shape == 0 {
                // Not an object at all.
                return typo.unwrap_or(Value::Null);
            }
            let mut o = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    o.insert(k.to_string(), v);
                }
            };
            put("event_type", event_type);
            put("data", data);
            put("metadata", metadata);
            put("event_id", event_id);
            put("correlation_id", correlation_id);
            put("actor", actor);
            put("occurred_at", occurred_at);
            put("schema_version", sv);
            if shape == 1 {
                put("evnet_type", typo);
            }
            Value::Object(o)
        },
    )
}

// Reducer definitions.

const EVENT_POINTERS: &[&str] = &[
    "",
    "/data",
    "/data/a",
    "/data/n",
    "/data/q",
    "/data/items/0",
    "/version",
    "/event_type",
    "/schema_version",
    "/metadata/ip",
    "/recorded_at",
    "/occurred_at",
    "/stream_id",
    "/actor",
    "/missing",
    "/",
];

fn arb_event_pointer() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(EVENT_POINTERS).prop_map(String::from),
        1 => "/data/[a-z~01]{1,3}",
    ]
}

/// A state path the reducer parser accepts (templates as whole segments).
fn arb_state_path(allow_whole: bool) -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        4 => "[a-z]{1,3}",
        1 => "[0-9]{1,2}",
        2 => select(&["{item_id}", "{id}", "{a}", "{/event_type}", "{/version}", "{/data/item_id}",
                      "{/metadata/ip}", "~0", "~1x", ""][..]).prop_map(String::from),
    ];
    let min = usize::from(!allow_whole);
    prop::collection::vec(segment, min..4)
        .prop_map(|segments| segments.iter().map(|s| format!("/{s}")).collect())
}

/// `("value", v)` or `("from", pointer)` or `("from", {member: pointer})`.
fn arb_source() -> impl Strategy<Value = (&'static str, Value)> {
    prop_oneof![
        arb_json().prop_map(|v| ("value", v)),
        arb_event_pointer().prop_map(|p| ("from", json!(p))),
        prop::collection::btree_map("[a-z]{1,3}", arb_event_pointer(), 0..3)
            .prop_map(|m| ("from", json!(m))),
    ]
}

/// An operation the parser accepts.
fn arb_valid_op() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            select(&["set", "merge"][..]),
            arb_state_path(true),
            arb_source()
        )
            .prop_map(|(op, path, (k, v))| json!({"op": op, "path": path, (k): v})),
        (arb_state_path(false), arb_source())
            .prop_map(|(path, (k, v))| json!({"op": "append", "path": path, (k): v})),
        arb_source().prop_map(|(k, v)| json!({"op": "merge", (k): v})),
        arb_state_path(false).prop_map(|path| json!({"op": "remove", "path": path})),
        (
            select(&["increment", "decrement"][..]),
            arb_state_path(false),
            prop::option::of(prop_oneof![
                arb_number().prop_map(|n| ("value", n)),
                arb_event_pointer().prop_map(|p| ("from", json!(p))),
            ])
        )
            .prop_map(|(op, path, source)| {
                let mut o = json!({"op": op, "path": path});
                if let Some((k, v)) = source {
                    o[k] = v;
                }
                o
            }),
    ]
}

/// A definition the parser accepts.
fn arb_reducer_def() -> impl Strategy<Value = Value> {
    (
        prop::option::of(arb_data()),
        prop::option::of(select(&["ignore", "merge", "error"][..])),
        prop::collection::btree_map(
            select(&["A", "B", "C", "OrderCreated"][..]),
            prop::collection::vec(arb_valid_op(), 0..4),
            0..4,
        ),
    )
        .prop_map(|(initial, unknown, on)| {
            let mut d = json!({"on": on});
            if let Some(i) = initial {
                d["initial"] = i;
            }
            if let Some(u) = unknown {
                d["unknown_event_types"] = json!(u);
            }
            d
        })
}

/// A definition or null (the default merge).
fn arb_reducer_or_default() -> impl Strategy<Value = Value> {
    prop_oneof![1 => Just(Value::Null), 4 => arb_reducer_def()]
}

/// Shaped like a definition, with every part possibly wrong.
fn arb_definition_like() -> impl Strategy<Value = Value> {
    let op_value = prop_oneof![
        select(
            &[
                "set",
                "merge",
                "remove",
                "increment",
                "decrement",
                "append",
                "sett"
            ][..]
        )
        .prop_map(|s| json!(s)),
        arb_state_path(true).prop_map(Value::String),
        select(&["x", "/{", "/{}", "/{a}b", "/a/{/b"][..]).prop_map(|s| json!(s)),
        arb_event_pointer().prop_map(Value::String),
        arb_json(),
    ];
    let op = prop_oneof![
        4 => prop::collection::btree_map(
            select(&["op", "path", "value", "from", "when"][..]).prop_map(String::from),
            op_value,
            0..4,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => arb_valid_op(),
        1 => arb_json(),
    ];
    let handlers = prop::collection::btree_map(
        arb_type_name(),
        prop_oneof![4 => prop::collection::vec(op, 0..3).prop_map(Value::Array), 1 => arb_json()],
        0..3,
    )
    .prop_map(|m| json!(m));
    let member = prop_oneof![
        handlers,
        select(&["ignore", "merge", "error", "skip"][..]).prop_map(|s| json!(s)),
        arb_json(),
    ];
    prop::collection::btree_map(
        select(&["initial", "unknown_event_types", "on", "handlers"][..]).prop_map(String::from),
        member,
        0..4,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}

// Upcasters.

fn arb_member_pointer() -> impl Strategy<Value = String> {
    prop::collection::vec(
        select(&["a", "n", "q", "qty", "item_id", "x", "~0", "~1", ""][..]),
        1..3,
    )
    .prop_map(|s| {
        let p: String = s.iter().map(|t| format!("/{t}")).collect();
        // "/" (the member named "") is refused: a pointer names a member.
        if p == "/" {
            "/x".to_string()
        } else {
            p
        }
    })
}

fn arb_valid_step() -> impl Strategy<Value = Value> {
    prop_oneof![
        (arb_member_pointer(), "[a-z]{1,4}")
            .prop_map(|(p, to)| json!({"op": "rename", "path": p, "to": to})),
        (arb_member_pointer(), arb_member_pointer())
            .prop_map(|(from, p)| json!({"op": "move", "from": from, "path": p})),
        (arb_member_pointer(), arb_json())
            .prop_map(|(p, v)| json!({"op": "default", "path": p, "value": v})),
        arb_member_pointer().prop_map(|p| json!({"op": "remove", "path": p})),
    ]
}

fn arb_valid_steps() -> impl Strategy<Value = Value> {
    prop::collection::vec(arb_valid_step(), 1..4).prop_map(Value::Array)
}

/// `{"EventType": {"1": [steps], ...}}`, valid.
fn arb_upcasters_def() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        select(TYPES),
        prop::collection::btree_map(select(&["1", "2", "3"][..]), arb_valid_steps(), 0..3),
        0..3,
    )
    .prop_map(|m| json!(m))
}

fn arb_steps_like() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        select(&["rename", "move", "default", "remove", "copy"][..]).prop_map(|s| json!(s)),
        arb_member_pointer().prop_map(Value::String),
        select(&["", "/", "a", "qty"][..]).prop_map(|s| json!(s)),
        arb_json(),
    ];
    let step = prop_oneof![
        4 => prop::collection::btree_map(
            select(&["op", "path", "to", "from", "value"][..]).prop_map(String::from),
            value,
            0..4,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => arb_valid_step(),
        1 => arb_json(),
    ];
    prop::collection::vec(step, 0..4).prop_map(Value::Array)
}

fn arb_upcasters_like() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        arb_type_name(),
        prop_oneof![
            4 => prop::collection::btree_map(
                select(&["1", "2", "0", "-1", "x", "2147483647"][..]).prop_map(String::from),
                prop_oneof![arb_steps_like(), arb_json()],
                0..3,
            )
            .prop_map(|m| json!(m)),
            1 => arb_json(),
        ],
        0..3,
    )
    .prop_map(|m| json!(m))
}

// Schemas.

const TYPE_NAMES: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null",
];

/// A schema the parser accepts.
fn arb_schema() -> impl Strategy<Value = Value> {
    let leaf = (
        prop::option::of(prop_oneof![
            select(TYPE_NAMES).prop_map(|t| json!(t)),
            prop::collection::vec(select(TYPE_NAMES), 1..3).prop_map(|t| json!(t)),
        ]),
        prop::option::of(0u64..4),
        prop::option::of(0u64..6),
        prop::option::of(arb_number_in_range()),
        prop::option::of(arb_number_in_range()),
        prop::option::of(prop::collection::vec(arb_leaf(), 1..3)),
    )
        .prop_map(|(types, min_len, max_len, min, max, allowed)| {
            let mut o = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    o.insert(k.to_string(), v);
                }
            };
            put("type", types);
            put("minLength", min_len.map(Value::from));
            put("maxLength", max_len.map(Value::from));
            put("minimum", min);
            put("maximum", max);
            put("enum", allowed.map(Value::Array));
            put("description", Some(json!("an annotation")));
            Value::Object(o)
        });
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map(arb_key(), inner.clone(), 0..4),
                prop::collection::vec(arb_key(), 0..3),
                prop::option::of(any::<bool>()),
            )
                .prop_map(|(props, required, additional)| {
                    let mut s =
                        json!({"type": "object", "properties": props, "required": required});
                    if let Some(a) = additional {
                        s["additionalProperties"] = json!(a);
                    }
                    s
                }),
            (inner, prop::option::of(0u64..3), prop::option::of(0u64..5)).prop_map(
                |(items, min, max)| {
                    let mut s = json!({"type": "array", "items": items});
                    if let Some(m) = min {
                        s["minItems"] = json!(m);
                    }
                    if let Some(m) = max {
                        s["maxItems"] = json!(m);
                    }
                    s
                }
            ),
        ]
    })
}

// Events.

/// The envelope of one stored event, as `chronicle.read_stream` returns it.
fn arb_event_parts() -> impl Strategy<
    Value = (
        String,
        Value,
        Option<Value>,
        Option<i64>,
        Option<String>,
        Option<String>,
    ),
> {
    (
        prop_oneof![6 => select(TYPES).prop_map(String::from), 1 => "[A-Z][a-z]{0,3}"],
        arb_data(),
        prop::option::of(prop_oneof![
            Just(json!({"ip": "::1"})),
            Just(json!({})),
            arb_data()
        ]),
        prop::option::of(1i64..4),
        prop::option::of(arb_valid_timestamp()),
        prop::option::of(select(&["user-7", "ü"][..]).prop_map(String::from)),
    )
}

/// A stream's events with versions 1..=n.
fn arb_events(max: usize) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(arb_event_parts(), 0..max).prop_map(|parts| {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, (ty, data, metadata, sv, at, actor))| {
                let mut e = json!({"version": i + 1, "event_type": ty, "data": data,
                                   "stream_id": "order-1", "global_position": 100 + i});
                if let Some(m) = metadata {
                    e["metadata"] = m;
                }
                if let Some(sv) = sv {
                    e["schema_version"] = json!(sv);
                }
                if let Some(at) = at {
                    e["recorded_at"] = json!(at);
                }
                if let Some(a) = actor {
                    e["actor"] = json!(a);
                }
                e
            })
            .collect()
    })
}

fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// Each event read as the history reads a line (every envelope member).
fn parsed(events: &[Value]) -> Vec<Event> {
    events
        .iter()
        .map(|e| Event::from_text(&e.to_string(), None).expect("a generated event reads"))
        .collect()
}

// ---------------------------------------------------------------------------
// Checks shared by the properties
// ---------------------------------------------------------------------------

/// Every refusal is well formed (see [`chronicle_test_support::well_formed`]).
fn well_formed(e: &Error) -> TestResult {
    if let Err(why) = chronicle_test_support::well_formed(e) {
        prop_assert!(false, "{}", why);
    }
    Ok(())
}

fn check_gap_free(store: &MemoryStore) -> TestResult {
    for id in store.stream_ids() {
        let (_, rows) = store.stream(id).expect("listed");
        let versions: Vec<u64> = rows.iter().map(|r| r.version).collect();
        prop_assert_eq!(versions, (1..=rows.len() as u64).collect::<Vec<_>>());
        prop_assert_eq!(store.stream_version(id), rows.len() as u64);
    }
    Ok(())
}

/// What `parse_batch` accepts of one element, on its own.
fn alone(element: &Value, limits: &Limits) -> Result<Vec<BatchEvent>, Error> {
    parse_batch(&Value::Array(vec![element.clone()]), limits)
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn identifiers_never_panic_and_errors_name_the_field(s in prop_oneof![any::<String>(), arb_id(), arb_type_name()]) {
        match validate_id("stream_id", &s) {
            Ok(()) => {
                let n = s.chars().count();
                prop_assert!((1..=255).contains(&n));
                prop_assert!(!s.chars().any(char::is_control));
                prop_assert!(!s.starts_with(char::is_whitespace) && !s.ends_with(char::is_whitespace));
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(e.field(), "stream_id");
                prop_assert!(["22023", "22001"].contains(&e.sqlstate()));
            }
        }
        match validate_type_name("event_type", &s) {
            Ok(()) => {
                prop_assert!((1..=100).contains(&s.chars().count()));
                prop_assert!(s.chars().next().is_some_and(char::is_alphabetic));
                prop_assert!(s.chars().all(|c| c.is_alphanumeric() || "_-.:/".contains(c)));
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(e.field(), "event_type");
            }
        }
    }

    #[test]
    fn json_parsing_never_panics(s in prop_oneof![any::<String>(), arb_json().prop_map(|v| v.to_string())]) {
        match json::parse("data", &s) {
            Ok(v) => prop_assert!(json::depth(&v) <= chronicle_core::limits::MAX_JSON_DEPTH),
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(e.field(), "data");
            }
        }
    }

    #[test]
    fn applying_a_diff_gives_the_target(a in arb_json(), b in arb_json()) {
        let patch = diff::diff(&a, &b);
        prop_assert_eq!(diff::apply(&a, &patch).unwrap(), b);
    }

    /// `validate_payload` accepts an event exactly when each of its parts
    /// passes on its own, and names the part it refuses.
    #[test]
    fn payloads_are_accepted_exactly_when_every_part_is(
        event_type in arb_type_name(),
        schema_version in arb_schema_version(),
        data in or_any(arb_data()),
        metadata in or_any(arb_data()),
        actor in prop::option::of(arb_id()),
        small in any::<bool>(),
    ) {
        let limits = Limits { max_event_size: if small { 64 } else { Limits::DEFAULT_MAX_EVENT_SIZE }, ..Limits::default() };
        let result = validate_payload(
            &Payload { event_type: &event_type, schema_version, data: &data, metadata: &metadata, actor: actor.as_deref() },
            &limits,
        );
        let parts_pass = validate_type_name("event_type", &event_type).is_ok()
            && validate_schema_version(schema_version).is_ok()
            && data.is_object()
            && metadata.is_object()
            && actor.as_deref().is_none_or(|a| validate_id("actor", a).is_ok())
            && json::compact_size(&data) + json::compact_size(&metadata) <= limits.max_event_size;
        prop_assert_eq!(result.is_ok(), parts_pass, "{:?}", result);
        if let Err(e) = result {
            well_formed(&e)?;
            prop_assert!(["event_type", "schema_version", "data", "metadata", "actor"].contains(&e.field()), "{}", e.field());
        }
    }

    /// A batch is accepted exactly when every element is accepted on its own
    /// and no event id repeats; a refusal points at the first bad element.
    #[test]
    fn batches_are_judged_element_by_element(
        elements in prop::collection::vec(arb_batch_element(), 0..5),
        max_batch_events in prop_oneof![Just(10_000usize), 1usize..4],
    ) {
        let limits = Limits { max_batch_events, ..Limits::default() };
        let batch = Value::Array(elements.clone());
        let result = parse_batch(&batch, &limits);
        let singles: Vec<_> = elements.iter().map(|e| alone(e, &limits)).collect();
        let first_bad = singles.iter().position(Result::is_err);
        match &result {
            Ok(events) => {
                prop_assert!(!elements.is_empty() && elements.len() <= max_batch_events);
                prop_assert_eq!(events.len(), elements.len());
                prop_assert_eq!(first_bad, None);
                let ids: Vec<&String> = events.iter().filter_map(|e| e.event_id.as_ref()).collect();
                prop_assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "event ids repeat");
                for e in events {
                    prop_assert!(e.event_id.as_ref().is_none_or(|id| id.len() == 36 && *id == id.to_lowercase()));
                    let payload = Payload {
                        event_type: &e.event_type, schema_version: e.schema_version,
                        data: &e.data, metadata: &e.metadata, actor: e.actor.as_deref(),
                    };
                    prop_assert!(validate_payload(&payload, &limits).is_ok());
                }
            }
            Err(e) => {
                well_formed(e)?;
                prop_assert_eq!(root(e.field()), "events");
                if e.field() != "events" {
                    // events[i]...: every element before i passes alone.
                    let i: usize = e.field()["events[".len()..].split(']').next().unwrap().parse().unwrap();
                    prop_assert!(first_bad.is_none_or(|b| b >= i), "{} but element {:?} is bad", e.field(), first_bad);
                    if let Some(Err(single)) = singles.get(i) {
                        let own = single.field().replacen("events[0]", &format!("events[{i}]"), 1);
                        prop_assert_eq!(e.field(), own.as_str());
                    }
                }
            }
        }
    }

    #[test]
    fn batches_never_panic(v in arb_json()) {
        for input in [v.clone(), Value::Array(vec![v])] {
            if let Err(e) = parse_batch(&input, &Limits::default()) {
                well_formed(&e)?;
                prop_assert_eq!(root(e.field()), "events");
            }
        }
    }
}

/// The arguments of an `append_event` call, right or wrong in any part.
fn arb_append_event_args() -> impl Strategy<Value = AppendEventArgs> {
    (
        (
            prop::option::of(prop_oneof![3 => Just("order-1".to_string()), 2 => arb_id()]),
            prop::option::of(arb_type_name()),
            prop::option::of(or_any(arb_data())),
            prop::option::of(or_any(arb_data())),
            prop::option::of(-2i64..4),
            prop::option::of(arb_uuid_text()),
        ),
        (
            prop::option::of(prop_oneof![Just("order".to_string()), arb_type_name()]),
            prop::option::of(arb_id()),
            prop::option::of(arb_schema_version()),
        ),
    )
        .prop_map(
            |(
                (stream_id, event_type, data, metadata, expected_version, event_id),
                (stream_type, actor, schema_version),
            )| {
                AppendEventArgs {
                    stream_id,
                    event_type,
                    data,
                    metadata,
                    expected_version,
                    event_id,
                    stream_type,
                    actor,
                    schema_version,
                    ..AppendEventArgs::default()
                }
            },
        )
}

/// A store holding `order-1` at version 1.
fn store_with_one_event() -> MemoryStore {
    let mut store = MemoryStore::new(Limits::default());
    store
        .append_event(&AppendEventArgs {
            stream_id: Some("order-1".into()),
            event_type: Some("A".into()),
            data: Some(json!({})),
            ..AppendEventArgs::default()
        })
        .expect("a valid append");
    store
}

proptest! {
    #![proptest_config(config(256))]

    /// An append through the model store: refused with a well-formed error
    /// naming one of its arguments and storing nothing, or stored at the
    /// next version.
    #[test]
    fn a_refused_append_stores_nothing(args in arb_append_event_args()) {
        let mut store = store_with_one_event();
        let before = snapshot(&store);
        let stream = args.stream_id.clone().unwrap_or_default();
        let version = store.stream_version(&stream);
        match store.append_event(&args) {
            Ok(v) => {
                prop_assert_eq!(v, version + 1);
                prop_assert_eq!(store.stream_version(&stream), v);
                if let Some(e) = args.expected_version {
                    prop_assert_eq!(e as u64, version);
                }
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(APPEND_ARGS.contains(&root(e.field())), "{}", e.field());
                prop_assert!(snapshot(&store) == before, "a refused append changed the store");
            }
        }
        check_gap_free(&store)?;
    }

    #[test]
    fn a_refused_batch_stores_nothing(
        stream_id in prop::option::of(prop_oneof![Just("order-1".to_string()), arb_id()]),
        events in prop::option::of(prop::collection::vec(arb_batch_element(), 0..4).prop_map(Value::Array)),
        expected_version in prop::option::of(-1i64..3),
        stream_type in prop::option::of(prop_oneof![Just("order".to_string()), arb_type_name()]),
    ) {
        let mut store = store_with_one_event();
        let before = snapshot(&store);
        let stream = stream_id.clone().unwrap_or_default();
        let version = store.stream_version(&stream);
        let n = events.as_ref().and_then(Value::as_array).map_or(0, Vec::len) as u64;
        let args = AppendEventsArgs { stream_id, events, expected_version, stream_type };
        match store.append_events(&args) {
            Ok(v) => {
                prop_assert_eq!(v, version + n);
                prop_assert_eq!(store.stream_version(&stream), v);
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(APPEND_ARGS.contains(&root(e.field())), "{}", e.field());
                prop_assert!(snapshot(&store) == before, "a refused batch changed the store");
            }
        }
        check_gap_free(&store)?;
    }

    #[test]
    fn stream_arguments_are_checked_in_order(
        stream_id in prop::option::of(arb_id()),
        stream_type in prop::option::of(arb_type_name()),
        expected in prop::option::of(prop_oneof![-3i64..3, any::<i64>()]),
    ) {
        let result = check_append_args(stream_id.as_deref(), stream_type.as_deref(), expected, None);
        let first_bad = if stream_id.as_deref().is_none_or(|s| validate_id("stream_id", s).is_err()) {
            Some("stream_id")
        } else if stream_type.as_deref().is_some_and(|t| validate_type_name("stream_type", t).is_err()) {
            Some("stream_type")
        } else if expected.is_some_and(|e| e < 0) {
            Some("expected_version")
        } else {
            None
        };
        match result {
            Ok((id, _)) => {
                prop_assert_eq!(first_bad, None);
                prop_assert_eq!(Some(id), stream_id);
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(Some(e.field()), first_bad);
            }
        }
    }

    #[test]
    fn read_arguments_are_checked(
        stream_id in prop::option::of(arb_id()),
        from in prop::option::of(-2i64..3),
        to in prop::option::of(-2i64..3),
        count in prop::option::of(any::<i64>()),
    ) {
        match check_version_range(stream_id.as_deref(), from, to) {
            Ok(()) => prop_assert!(stream_id.is_some() && from.is_some_and(|f| f >= 0) && to.is_none_or(|t| Some(t) >= from)),
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(["stream_id", "from_version", "to_version"].contains(&e.field()));
            }
        }
        match check_count("max_count", count) {
            Ok(n) => prop_assert_eq!(Some(n as i64), count),
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(count.is_none_or(|c| c < 0));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn arbitrary_schemas_never_panic(schema in prop_oneof![arb_json(), arb_schema()], data in arb_json()) {
        match Schema::parse(&schema) {
            Ok(s) => {
                let text = serde_json::to_string(&schema).unwrap();
                prop_assert_eq!(Schema::parse(&json::parse("schema", &text).unwrap()).unwrap(), s.clone());
                if let Err((path, reason)) = s.check("data", &data) {
                    prop_assert!(path == "data" || path.starts_with("data.") || path.starts_with("data["), "{}", path);
                    prop_assert!(!reason.is_empty());
                }
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(e.sqlstate(), "22023");
                prop_assert_eq!(root(e.field()), "schema");
            }
        }
    }

    #[test]
    fn generated_schemas_are_accepted(schema in arb_schema()) {
        let parsed = Schema::parse(&schema);
        prop_assert!(parsed.is_ok(), "{}: {:?}", schema, parsed.err());
    }

    /// The tightest schema of a value accepts it (unless the value holds a
    /// number beyond numeric's range, which a bound or a check may refuse).
    #[test]
    fn a_value_matches_its_own_description(v in arb_json()) {
        let verdict = Schema::parse(&describe(&v)).map(|s| s.check("data", &v));
        if !holds_huge_number(&v) {
            prop_assert_eq!(verdict, Ok(Ok(())));
        }
    }

    /// Numbers beyond numeric's range are refused, never computed with: a
    /// schema refuses them as data, a reducer step fails on them.
    #[test]
    fn huge_numbers_are_refused_not_computed(schema in arb_schema(), huge in select(HUGE_NUMBERS), small in arb_number_in_range(), sub in any::<bool>()) {
        let huge = num(huge);
        let (path, reason) = Schema::parse(&schema).unwrap().check("data", &huge).unwrap_err();
        prop_assert_eq!(path, "data");
        prop_assert!(!reason.is_empty());
        let op = if sub { "decrement" } else { "increment" };
        let r = Reducer::parse(&json!({"on": {"A": [{"op": op, "path": "/n", "from": "/data/n"}]}})).unwrap();
        for (state, by) in [(&small, &huge), (&huge, &small)] {
            let event = Event::from_json(json!({"version": 1, "event_type": "A", "data": {"n": by}})).unwrap();
            let mut s = json!({"n": state});
            let e = r.apply(&mut s, &event).unwrap_err();
            well_formed(&e)?;
            prop_assert_eq!(e.sqlstate(), "22000");
        }
    }

    /// The store applies a defined schema exactly as `Schema::check` does,
    /// and a violation stores nothing.
    #[test]
    fn the_store_enforces_schemas(schema in arb_schema(), data in arb_data(), own in any::<bool>()) {
        let schema = if own && !holds_huge_number(&data) { describe(&data) } else { schema };
        let mut store = MemoryStore::new(Limits::default());
        store.define_event_type(&DefineEventTypeArgs {
            event_type: Some("A".into()), schema_version: Some(1), definition: Some(schema.clone()),
        }).expect("a valid definition");
        let verdict = Schema::parse(&schema).unwrap().check("data", &data);
        let result = store.append_event(&AppendEventArgs {
            stream_id: Some("s-1".into()), event_type: Some("A".into()), data: Some(data),
            ..AppendEventArgs::default()
        });
        match (verdict, result) {
            (Ok(()), Ok(v)) => prop_assert_eq!(v, 1),
            (Err((path, _)), Err(e)) => {
                well_formed(&e)?;
                prop_assert_eq!(e.sqlstate(), "23514");
                prop_assert_eq!(e.field(), path.as_str());
                prop_assert_eq!(store.stream_version("s-1"), 0);
            }
            (verdict, result) => prop_assert!(false, "schema says {:?}, the store {:?}", verdict, result),
        }
    }
}

// ---------------------------------------------------------------------------
// Sequencing
// ---------------------------------------------------------------------------

fn arb_expected() -> impl Strategy<Value = ExpectedVersion> {
    prop_oneof![
        Just(ExpectedVersion::Any),
        Just(ExpectedVersion::NoStream),
        (0u64..6).prop_map(ExpectedVersion::Exact),
        (i64::MAX as u64 - 3..=i64::MAX as u64).prop_map(ExpectedVersion::Exact),
    ]
}

fn arb_id_check() -> impl Strategy<Value = IdCheck> {
    (
        "events\\[[0-3]\\]\\.event_id",
        prop::option::of("[a-c]"),
        prop::option::of((select(&["s", "t"][..]), 1u64..6, any::<bool>())),
    )
        .prop_map(|(field, event_id, stored)| IdCheck {
            field,
            event_id,
            stored: stored.map(|(s, version, same_content)| StoredEvent {
                at: Some((s.to_string(), version)),
                same_content,
            }),
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn expected_versions_read_from_sql(v in prop::option::of(prop_oneof![-3i64..4, any::<i64>()])) {
        match (v, ExpectedVersion::from_sql(v)) {
            (None, Ok(e)) => prop_assert_eq!(e, ExpectedVersion::Any),
            (Some(0), Ok(e)) => prop_assert_eq!(e, ExpectedVersion::NoStream),
            (Some(n), Ok(e)) => prop_assert_eq!(e, ExpectedVersion::Exact(n as u64)),
            (v, Err(e)) => {
                well_formed(&e)?;
                prop_assert_eq!(e.field(), "expected_version");
                prop_assert!(v.is_some_and(|n| n < 0));
            }
        }
    }

    /// An append takes exactly the next `count` versions, when the
    /// expectation admits the stream's version and they fit in a bigint.
    #[test]
    fn plans_take_the_next_versions(
        expected in arb_expected(),
        current in prop_oneof![0u64..6, i64::MAX as u64 - 3..=i64::MAX as u64],
        count in 1usize..5,
    ) {
        let admits = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(n) => current == n,
        };
        prop_assert_eq!(expected.admits(current), admits);
        match plan_append("s", expected, current, count) {
            Ok(p) => {
                prop_assert!(admits);
                prop_assert_eq!((p.first, p.last), (current + 1, current + count as u64));
                prop_assert!(p.last <= i64::MAX as u64);
            }
            Err(e) => {
                well_formed(&e)?;
                if admits {
                    prop_assert_eq!(e.sqlstate(), "54000");
                    prop_assert!(current + count as u64 > i64::MAX as u64);
                } else {
                    prop_assert_eq!(e.sqlstate(), "40001");
                    prop_assert_eq!(e.detail().unwrap(), format!("Expected version {expected}, actual version {current}."));
                }
            }
        }
    }

    /// A retry is recognised only when every event is stored, in this
    /// stream, with the same content, one after another, where the
    /// expectation puts them; anything else partly stored is a duplicate.
    #[test]
    fn retries_are_recognised_exactly(expected in arb_expected(), checks in prop::collection::vec(arb_id_check(), 0..4)) {
        match classify_retry("s", expected, &checks) {
            Ok(Retry::New) => prop_assert!(checks.iter().all(|c| c.stored.is_none())),
            Ok(Retry::AlreadyStored { last_version }) => {
                let stored: Vec<&StoredEvent> = checks.iter().filter_map(|c| c.stored.as_ref()).collect();
                prop_assert_eq!(stored.len(), checks.len());
                let first = stored[0].at.as_ref().expect("own tenant").1;
                for (i, s) in stored.iter().enumerate() {
                    prop_assert!(s.at == Some(("s".to_string(), first + i as u64)) && s.same_content);
                }
                prop_assert_eq!(last_version, first + checks.len() as u64 - 1);
                match expected {
                    ExpectedVersion::Any => {}
                    ExpectedVersion::NoStream => prop_assert_eq!(first, 1),
                    ExpectedVersion::Exact(n) => prop_assert_eq!(first, n + 1),
                }
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(e.sqlstate(), "23505");
                prop_assert!(checks.iter().any(|c| c.field == e.field()));
                prop_assert!(checks.iter().any(|c| c.stored.is_some()));
            }
        }
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
        check_gap_free(&store)?;
    }

    /// Repeating an append with its event ids returns the same version and
    /// stores nothing; reusing an id with other data is a duplicate.
    #[test]
    fn retries_are_idempotent(
        before in 0u64..4,
        with_expected in any::<bool>(),
        n in 1usize..4,
        data in arb_data(),
        other in arb_data(),
        ids in prop::collection::btree_set(any::<u128>(), 3),
    ) {
        let mut store = MemoryStore::new(Limits::default());
        for _ in 0..before {
            store.append_event(&AppendEventArgs {
                stream_id: Some("s-1".into()), event_type: Some("A".into()), data: Some(json!({})),
                ..AppendEventArgs::default()
            }).unwrap();
        }
        let ids: Vec<String> = ids.into_iter().map(|n| uuid::Uuid::from_u128(n).to_string()).collect();
        let batch = |d: &Value| AppendEventsArgs {
            stream_id: Some("s-1".into()),
            events: Some(Value::Array((0..n).map(|i| json!({"event_type": "A", "data": d, "event_id": ids[i]})).collect())),
            expected_version: with_expected.then_some(before as i64),
            stream_type: None,
        };
        let v = store.append_events(&batch(&data)).unwrap();
        prop_assert_eq!(v, before + n as u64);
        let stored = snapshot(&store);
        prop_assert_eq!(store.append_events(&batch(&data)).unwrap(), v);
        prop_assert!(snapshot(&store) == stored, "a retry stored something");
        if other != data {
            let e = store.append_events(&batch(&other)).unwrap_err();
            well_formed(&e)?;
            prop_assert_eq!(e.sqlstate(), "23505");
            prop_assert!(snapshot(&store) == stored, "a duplicate stored something");
        }
    }

    /// The feed's arguments: positions, filters, names and consumer groups.
    #[test]
    fn feed_arguments_are_checked(
        position in prop::option::of(prop_oneof![-2i64..8, any::<i64>()]),
        head in 0u64..6,
        consumer in prop::option::of(prop_oneof![-1i64..4, any::<i64>()]),
        consumers in prop::option::of(prop_oneof![-1i64..4, Just(MAX_CONSUMERS), Just(MAX_CONSUMERS + 1), any::<i64>()]),
        stream_type in prop::option::of(arb_type_name()),
        event_types in prop::option::of(prop::collection::vec(prop::option::of(arb_type_name()), 0..3)),
        name in prop::option::of(arb_id()),
    ) {
        match check_position("after_position", position) {
            Ok(p) => prop_assert_eq!(Some(p as i64), position),
            Err(e) => { well_formed(&e)?; prop_assert!(position.is_none_or(|p| p < 0)); }
        }
        match check_known_position("position", position, head) {
            Ok(p) => prop_assert!(Some(p as i64) == position && p <= head),
            Err(e) => { well_formed(&e)?; prop_assert!(position.is_none_or(|p| p < 0 || p as u64 > head)); }
        }
        match check_consumer(consumer, consumers) {
            Ok((k, n)) => prop_assert!(k < n && u64::from(n) <= MAX_CONSUMERS as u64 && Some(i64::from(k)) == consumer),
            Err(e) => {
                well_formed(&e)?;
                let ok = consumers.is_some_and(|n| (1..=MAX_CONSUMERS).contains(&n))
                    && consumer.zip(consumers).is_some_and(|(k, n)| (0..n).contains(&k));
                prop_assert!(!ok);
            }
        }
        let types: Option<Vec<Option<&str>>> = event_types.as_ref().map(|t| t.iter().map(Option::as_deref).collect());
        let filter_ok = stream_type.as_deref().is_none_or(|t| validate_type_name("stream_type", t).is_ok())
            && types.as_ref().is_none_or(|t| !t.is_empty() && t.iter().all(|t| t.is_some_and(|t| validate_type_name("x", t).is_ok())));
        match check_filter(stream_type.as_deref(), types.as_deref()) {
            Ok(()) => prop_assert!(filter_ok),
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(!filter_ok);
                prop_assert!(["stream_type", "event_types"].contains(&root(e.field())));
            }
        }
        match check_name(name.as_deref()) {
            Ok(n) => prop_assert_eq!(Some(n), name.as_deref()),
            Err(e) => { well_formed(&e)?; prop_assert_eq!(e.field(), "name"); }
        }
    }
}

// ---------------------------------------------------------------------------
// Reducer and upcaster parsing
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    /// Any JSON as a definition: refused with an error naming the bad part
    /// (`definition...`), or accepted and read back the same from its text.
    #[test]
    fn arbitrary_definitions_never_panic(def in prop_oneof![arb_json(), arb_definition_like(), arb_reducer_def()]) {
        match Reducer::parse(&def) {
            Ok(r) => {
                let back = Reducer::parse(&json::parse("definition", &def.to_string()).unwrap()).unwrap();
                prop_assert_eq!(back, r.clone());
                prop_assert!(r.envelope_fields().contains("data"));
                prop_assert!(r.initial().is_object());
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(["22023", "22001"].contains(&e.sqlstate()));
                prop_assert_eq!(root(e.field()), "definition");
            }
        }
    }

    /// Definitions written by the rules are accepted, and read the same back
    /// from their text and from their canonical text.
    #[test]
    fn valid_definitions_are_accepted_and_round_trip(def in arb_reducer_def()) {
        let r = Reducer::parse(&def);
        prop_assert!(r.is_ok(), "{} refused: {:?}", def, r.as_ref().err());
        let r = r.unwrap();
        let text = Reducer::parse(&json::parse("definition", &def.to_string()).unwrap()).unwrap();
        prop_assert_eq!(&text, &r);
        let canon = Reducer::parse(&json::parse("definition", &canonical::to_string(&def)).unwrap()).unwrap();
        prop_assert_eq!(&canon, &r);
    }

    #[test]
    fn arbitrary_upcaster_steps_never_panic(steps in prop_oneof![arb_json(), arb_steps_like(), arb_valid_steps()], data in arb_data()) {
        match Upcaster::parse(&steps) {
            Ok(u) => {
                prop_assert_eq!(Upcaster::parse(&json::parse("steps", &steps.to_string()).unwrap()).unwrap(), u.clone());
                let all = BTreeMap::from([("A".to_string(), BTreeMap::from([(1, u)]))]);
                let mut d = data.clone();
                prop_assert_eq!(upcast::upcast(&all, "A", 1, &mut d), 2);
                prop_assert!(d.is_object());
                let mut again = data;
                upcast::upcast(&all, "A", 1, &mut again);
                prop_assert_eq!(d, again);
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(root(e.field()), "definition");
            }
        }
    }

    #[test]
    fn arbitrary_upcaster_sets_never_panic(v in prop_oneof![arb_json(), arb_upcasters_like(), arb_upcasters_def()]) {
        match upcast::parse_all(&v) {
            Ok(all) => {
                prop_assert_eq!(upcast::parse_all(&json::parse("upcasters", &v.to_string()).unwrap()).unwrap(), all.clone());
                for (ty, chain) in &all {
                    prop_assert!(validate_type_name("event_type", ty).is_ok());
                    prop_assert!(chain.keys().all(|f| (1..i32::MAX as i64).contains(f)));
                }
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(["upcasters", "event_type", "from_schema_version"].contains(&root(e.field())), "{}", e.field());
            }
        }
    }

    #[test]
    fn upcaster_definitions_check_their_version(from in prop::option::of(prop_oneof![-1i64..3, any::<i64>(), Just(i32::MAX as i64 - 1), Just(i32::MAX as i64)]), steps in arb_valid_steps()) {
        match upcast::check_definition(Some("A"), from, Some(&steps)) {
            Ok((_, f, _)) => prop_assert!(Some(f) == from && (1..i32::MAX as i64).contains(&f)),
            Err(e) => {
                well_formed(&e)?;
                prop_assert_eq!(e.field(), "from_schema_version");
                prop_assert!(from.is_none_or(|f| !(1..i32::MAX as i64).contains(&f)));
            }
        }
    }

    /// A chain of upcasters takes data from its version as far as the chain
    /// goes, one version per upcaster; other event types are untouched.
    #[test]
    fn upcasting_walks_the_chain(def in arb_upcasters_def(), ty in select(TYPES), from in 1i64..4, data in arb_data()) {
        let all = upcast::parse_all(&def).expect("valid upcasters");
        let mut d = data.clone();
        let to = upcast::upcast(&all, ty, from, &mut d);
        let chain = all.get(ty);
        let mut expected = from;
        while chain.is_some_and(|c| c.contains_key(&expected)) {
            expected += 1;
        }
        prop_assert_eq!(to, expected);
        prop_assert!(d.is_object());
        if to == from {
            prop_assert_eq!(d, data);
        }
    }

    /// What each step does to a top-level member.
    #[test]
    fn upcaster_steps_do_what_they_say(data in arb_data(), a in select(&["a", "n", "q", "qty", "x"][..]), b in select(&["a", "n", "q", "qty", "x"][..]), v in arb_json()) {
        let run = |step: Value| {
            let all = upcast::parse_all(&json!({"A": {"1": [step]}})).unwrap();
            let mut d = data.clone();
            upcast::upcast(&all, "A", 1, &mut d);
            d
        };
        let old = data.get(a).cloned();
        let rest = |d: &Value, skip: &[&str]| -> Map<String, Value> {
            d.as_object().unwrap().iter().filter(|(k, _)| !skip.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        // rename /a to b, and move /a to /b: b takes a's value, a goes.
        for d in [run(json!({"op": "rename", "path": format!("/{a}"), "to": b})),
                  run(json!({"op": "move", "from": format!("/{a}"), "path": format!("/{b}")}))] {
            match &old {
                Some(x) => {
                    prop_assert_eq!(d.get(b), Some(x));
                    if a != b { prop_assert!(d.get(a).is_none()); }
                    prop_assert_eq!(rest(&d, &[a, b]), rest(&data, &[a, b]));
                }
                None => prop_assert_eq!(&d, &data),
            }
        }
        let d = run(json!({"op": "default", "path": format!("/{a}"), "value": v}));
        prop_assert_eq!(d.get(a), Some(old.as_ref().unwrap_or(&v)));
        prop_assert_eq!(rest(&d, &[a]), rest(&data, &[a]));
        let d = run(json!({"op": "remove", "path": format!("/{a}")}));
        prop_assert!(d.get(a).is_none());
        prop_assert_eq!(rest(&d, &[a]), rest(&data, &[a]));
    }
}

// ---------------------------------------------------------------------------
// Replay, history and export
// ---------------------------------------------------------------------------

/// An event envelope, right or wrong in any part.
fn arb_envelope_like() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop_oneof![(0u64..5).prop_map(Value::from), arb_json()]),
        prop::option::of(prop_oneof![
            select(TYPES).prop_map(|t| json!(t)),
            arb_json()
        ]),
        prop::option::of(prop_oneof![arb_data(), arb_json()]),
        prop::option::of(prop_oneof![
            arb_timestamp().prop_map(Value::String),
            arb_json()
        ]),
        prop::option::of(prop_oneof![(0i64..4).prop_map(Value::from), arb_json()]),
    )
        .prop_map(|(version, ty, data, at, sv)| {
            let mut o = Map::new();
            for (k, v) in [
                ("version", version),
                ("event_type", ty),
                ("data", data),
                ("recorded_at", at),
                ("schema_version", sv),
            ] {
                if let Some(v) = v {
                    o.insert(k.to_string(), v);
                }
            }
            Value::Object(o)
        })
}

/// The history of `events` answers every version (asked in `order`) as a
/// straight fold does, with the same failures; each diff leads from one
/// state to the next.
fn check_history_against_fold(
    def: &Value,
    upcasters: &Value,
    events: &[Value],
    order: &[Index],
    split: Index,
) -> TestResult {
    let reducer = (!def.is_null()).then(|| Reducer::parse(def).unwrap());
    let all = upcast::parse_all(upcasters).unwrap();
    let (states, failed) = straight_fold(reducer.as_ref(), &all, &parsed(events));
    let n = events.len();
    let cut = split.index(n + 1);
    let mut h = History::new(def.clone(), upcasters.clone(), Value::Null, None).unwrap();
    h.extend(&ndjson(&events[..cut])).unwrap();
    // The rest as a JSON array, as the dashboard passes a page.
    h.extend(&Value::Array(events[cut..].to_vec()).to_string())
        .unwrap();
    prop_assert_eq!(h.head(), n as u64);
    let marked: Vec<u64> = h
        .failures()
        .iter()
        .filter(|f| f.kind == "reducer")
        .map(|f| f.version)
        .collect();
    prop_assert_eq!(marked, failed);
    for i in order {
        let v = i.index(n + 1) as u64;
        prop_assert_eq!(&h.state(v).unwrap(), &states[v as usize], "state at {}", v);
        if v > 0 {
            let patch = h.diff_at(v).unwrap();
            prop_assert_eq!(
                &diff::apply(&states[v as usize - 1], &patch).unwrap(),
                &states[v as usize]
            );
        }
    }
    let beyond = h.state(n as u64 + 1).unwrap_err();
    well_formed(&beyond)?;
    prop_assert_eq!(beyond.field(), "version");
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    /// Arbitrary envelopes under arbitrary reducers: reading and replaying
    /// them never panics, and whatever is refused is refused well.
    #[test]
    fn arbitrary_events_never_panic(def in arb_reducer_or_default(), raw in prop::collection::vec(arb_envelope_like(), 0..6)) {
        let reducer = (!def.is_null()).then(|| Reducer::parse(&def).unwrap());
        let mut events = Vec::new();
        for r in &raw {
            match Event::from_json(r.clone()) {
                Ok(e) => {
                    prop_assert!(e.version() >= 1 && e.data().is_object());
                    prop_assert_eq!(Event::from_text(&r.to_string(), None).map(|e| e.version()), Ok(e.version()));
                    events.push(e);
                }
                Err(e) => {
                    well_formed(&e)?;
                    prop_assert_eq!(root(e.field()), "event");
                }
            }
        }
        for on_failure in [OnFailure::Stop, OnFailure::Skip] {
            if let Err(e) = replay(reducer.as_ref(), None, events.iter().cloned().map(Ok), Until::Head, on_failure) {
                well_formed(&e)?;
            }
        }
        let mut h = History::new(def, Value::Null, Value::Null, None).unwrap();
        if let Err(e) = h.extend(&Value::Array(raw).to_string()) {
            well_formed(&e)?;
        }
        for v in 0..=h.head() {
            h.state(v).unwrap();
        }
    }

    /// A replay to version N is the replay of the first N events, under
    /// either failure policy; a fold that stops on no failure is the fold
    /// that skips them.
    #[test]
    fn replay_to_n_is_replay_of_the_first_n(def in arb_reducer_or_default(), events in arb_events(16), n in any::<Index>()) {
        let reducer = (!def.is_null()).then(|| Reducer::parse(&def).unwrap());
        let events = parsed(&events);
        let n = n.index(events.len() + 1);
        for on_failure in [OnFailure::Stop, OnFailure::Skip] {
            let to_n = replay(reducer.as_ref(), None, events.iter().cloned().map(Ok), Until::Version(n as u64), on_failure);
            let first_n = replay(reducer.as_ref(), None, events[..n].iter().cloned().map(Ok), Until::Head, on_failure);
            match (to_n, first_n) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(a.state(), b.state());
                    prop_assert_eq!(a.version(), n as u64);
                    prop_assert_eq!(b.version(), n as u64);
                    prop_assert_eq!(a.failures(), b.failures());
                }
                (Err(a), Err(b)) => {
                    prop_assert_eq!(&a, &b);
                    well_formed(&a)?;
                    prop_assert_eq!(on_failure, OnFailure::Stop);
                    prop_assert_eq!(a.sqlstate(), "22000");
                }
                (a, b) => prop_assert!(false, "to N: {:?}, first N: {:?}", a.map(|f| f.into_state()), b.map(|f| f.into_state())),
            }
        }
        let stop = replay(reducer.as_ref(), None, events.iter().cloned().map(Ok), Until::Head, OnFailure::Stop);
        let skip = replay(reducer.as_ref(), None, events.iter().cloned().map(Ok), Until::Head, OnFailure::Skip).unwrap();
        match stop {
            Ok(stop) => {
                prop_assert_eq!(stop.state(), skip.state());
                prop_assert!(skip.failures().is_empty());
            }
            Err(e) => prop_assert_eq!(Some(failure_version(&e)), skip.failures().first().map(failure_version)),
        }
        // Resuming from a snapshot at N gives the state at the head.
        let at_n = replay(reducer.as_ref(), None, events.iter().cloned().map(Ok), Until::Version(n as u64), OnFailure::Skip).unwrap();
        let resumed = replay(reducer.as_ref(), Some((at_n.into_state(), n as u64)), events.iter().cloned().map(Ok), Until::Head, OnFailure::Skip).unwrap();
        prop_assert_eq!(resumed.state(), skip.state());
    }

    /// The time-travel history answers `state_at(v)` as a straight fold of
    /// the first v events does, for every version, in any order, loaded in
    /// one piece or two, with and without upcasters.
    #[test]
    fn history_state_at_is_the_straight_fold(
        def in arb_reducer_or_default(),
        upcasters in prop_oneof![Just(json!({})), arb_upcasters_def()],
        events in arb_events(24),
        order in prop::collection::vec(any::<Index>(), 1..12),
        split in any::<Index>(),
    ) {
        check_history_against_fold(&def, &upcasters, &events, &order, split)?;
    }

    /// `parse(write(x)) == x` for exports: a header and events written as
    /// NDJSON read back as the same header and events, and a history's
    /// export reloads to the same export and the same states.
    #[test]
    fn exports_round_trip(
        def in arb_reducer_or_default(),
        events in arb_events(12),
        stream_id in arb_id(),
        stream_type in arb_type_name(),
        exported_at in arb_timestamp(),
        chronicle_version in ".{0,8}",
        revision in any::<i64>(),
        upcasters in prop_oneof![Just(json!({})), arb_upcasters_def()],
    ) {
        let n = events.len() as u64;
        let header = Header {
            stream_id: &stream_id, stream_type: &stream_type, version: n, from_version: 1, to_version: n,
            reducer: &def, reducer_revision: revision, upcasters: &upcasters, schemas: &json!({}),
            exported_at: &exported_at, chronicle_version: &chronicle_version, base: None,
        }.to_json();
        let text = format!("{header}\n{}", ndjson(&events));
        let export = export::parse(&text).unwrap();
        prop_assert_eq!(&export.header, &header);
        prop_assert_eq!(&export.events, &parsed(&events));
        prop_assert!(json::parse("export", &export.to_json()).is_ok());
        // Through a history and back.
        let mut h = History::from_export(&text).unwrap();
        h.check_complete().unwrap();
        prop_assert_eq!(h.export_text("later", "9.9.9"), text.clone());
        let written = History::new(def.clone(), upcasters.clone(), Value::Null, None).and_then(|mut fresh| {
            fresh.extend(&ndjson(&events))?;
            Ok(fresh.export_text(&exported_at, &chronicle_version))
        }).unwrap();
        let mut back = History::from_export(&written).unwrap();
        prop_assert_eq!(back.export_text("later", "9.9.9"), written);
        for v in 0..=n {
            prop_assert_eq!(back.state(v).unwrap(), h.state(v).unwrap());
        }
        // Cut short, the export is refused rather than taken for the stream.
        if n > 0 {
            let cut: String = text.lines().take(n as usize).map(|l| format!("{l}\n")).collect();
            let e = export::parse(&cut).err().unwrap();
            well_formed(&e)?;
            prop_assert_eq!(e.field(), "events");
        }
    }

    /// Export text, damaged anywhere: reading it never panics.
    #[test]
    fn damaged_exports_never_panic(
        events in arb_events(6),
        at in any::<Index>(),
        cut in any::<Index>(),
        insert in prop_oneof![".{0,6}", select(&["\n", "{", "}", "\"", "[", "1e400", "\u{0}"][..]).prop_map(String::from)],
        arbitrary in any::<String>(),
    ) {
        let n = events.len() as u64;
        let header = Header {
            stream_id: "order-1", stream_type: "order", version: n, from_version: 1, to_version: n,
            reducer: &Value::Null, reducer_revision: 0, upcasters: &json!({}), schemas: &json!({}),
            exported_at: "2024-05-01T12:00:00Z", chronicle_version: "0.1.0", base: None,
        }.to_json();
        let text = format!("{header}\n{}", ndjson(&events));
        let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let i = boundaries[at.index(boundaries.len())];
        let damaged = format!("{}{insert}{}", &text[..i], &text[i..]);
        let j = boundaries[cut.index(boundaries.len())];
        for t in [damaged.as_str(), &text[..j], arbitrary.as_str()] {
            match export::parse(t) {
                Ok(x) => {
                    let from = export::from_version(&x.header);
                    for (k, e) in x.events.iter().enumerate() {
                        prop_assert_eq!(e.version(), from + k as u64);
                    }
                }
                Err(e) => well_formed(&e)?,
            }
            match History::from_export(t) {
                Ok(mut h) => {
                    if let Err(e) = h.check_complete() { well_formed(&e)?; }
                    for v in 0..=h.head() { h.state(v).unwrap(); }
                }
                Err(e) => well_formed(&e)?,
            }
            let mut h = History::new(Value::Null, Value::Null, Value::Null, None).unwrap();
            if let Err(e) = h.extend(t) { well_formed(&e)?; }
        }
    }
}

/// Header versions near the ends of their range.
fn arb_header_version() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..4, u64::MAX - 2..=u64::MAX]
}

proptest! {
    #![proptest_config(config(256))]

    /// An export is read exactly when its events run on from the header's
    /// `from_version` and are as many as its `to_version` promises, whatever
    /// the header says (versions up to u64::MAX included).
    #[test]
    fn export_headers_promise_what_they_hold(
        from in arb_header_version(),
        to in prop::option::of(arb_header_version()),
        first in arb_header_version(),
        n in 0u64..3,
    ) {
        let mut header = json!({"format": "chronicle-export", "format_version": 1, "from_version": from});
        if let Some(to) = to {
            header["to_version"] = json!(to);
        }
        let versions: Vec<u64> = (0..n).map_while(|i| first.checked_add(i)).collect();
        let mut text = format!("{header}\n");
        for v in &versions {
            text.push_str(&format!("{}\n", json!({"version": v, "event_type": "A", "data": {}})));
        }
        // Versions start at 1; then each is the one before plus one.
        let consecutive = versions.iter().enumerate().all(|(i, v)| *v >= 1 && u128::from(*v) == u128::from(from) + i as u128);
        let complete = to.is_none_or(|to| (u128::from(to) + 1).saturating_sub(u128::from(from)) == versions.len() as u128);
        match export::parse(&text) {
            Ok(x) => {
                prop_assert!(consecutive && complete, "accepted {}", text);
                prop_assert_eq!(x.events.len(), versions.len());
            }
            Err(e) => {
                well_formed(&e)?;
                prop_assert!(!(consecutive && complete), "refused {}: {:?}", text, e);
            }
        }
        match History::from_export(&text) {
            Ok(h) => {
                if let Err(e) = h.check_complete() {
                    well_formed(&e)?;
                }
            }
            Err(e) => well_formed(&e)?,
        }
    }
}

proptest! {
    #![proptest_config(config(4))]

    /// Streams longer than the history's checkpoint spacing (256 events):
    /// answers from checkpoints equal the straight fold too.
    #[test]
    fn long_history_state_at_is_the_straight_fold(
        def in arb_reducer_def(),
        n in 257usize..600,
        order in prop::collection::vec(any::<Index>(), 8..16),
        split in any::<Index>(),
    ) {
        let events: Vec<Value> = (1..=n)
            .map(|v| json!({"version": v, "event_type": TYPES[v % 3], "data": {"n": v % 7, "a": v % 5, "item_id": format!("i{}", v % 4)}}))
            .collect();
        check_history_against_fold(&def, &json!({}), &events, &order, split)?;
    }
}

// ---------------------------------------------------------------------------
// Derived members
// ---------------------------------------------------------------------------

/// Cents as the decimal text an application writes (`1234` -> `12.34`).
fn cents_text(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

proptest! {
    #![proptest_config(config(128))]

    /// An order's derived total (sum over items of quantity x price) is the
    /// exact sum, with the prices' two decimals, after every event, whatever
    /// the items, their order, replacements and removals.
    #[test]
    fn a_derived_total_is_exact(
        steps in prop::collection::vec((0usize..6, 0u64..1_000, 0u64..100_000, any::<bool>()), 1..25),
    ) {
        let reducer = Reducer::parse(&json!({
            "on": {
                "ItemAdded": [{"op": "set", "path": "/items/{item_id}",
                               "from": {"quantity": "/data/quantity", "price": "/data/price"}}],
                "ItemRemoved": [{"op": "remove", "path": "/items/{item_id}"}]
            },
            "derive": [{"path": "/total", "value": {"sum": "/items", "of": {"multiply": ["/quantity", "/price"]}}},
                       {"path": "/count", "value": {"count": "/items"}}]
        })).unwrap();
        let mut expected: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
        let mut state = json!({});
        for (i, (item, quantity, cents, remove)) in steps.into_iter().enumerate() {
            let text = if remove {
                expected.remove(&item);
                format!(r#"{{"version": {}, "event_type": "ItemRemoved", "data": {{"item_id": "i{item}"}}}}"#, i + 1)
            } else {
                expected.insert(item, (quantity, cents));
                format!(
                    r#"{{"version": {}, "event_type": "ItemAdded", "data": {{"item_id": "i{item}", "quantity": {quantity}, "price": {}}}}}"#,
                    i + 1,
                    cents_text(cents)
                )
            };
            reducer.apply(&mut state, &Event::from_text(&text, None).unwrap()).unwrap();
            let total: u64 = expected.values().map(|(q, c)| q * c).sum();
            // An empty order's total is 0; otherwise it has the prices' scale.
            let want = if expected.is_empty() { "0".to_string() } else { cents_text(total) };
            prop_assert_eq!(state["total"].to_string(), want, "after step {}", i + 1);
            prop_assert_eq!(state["count"].as_u64(), Some(expected.len() as u64));
        }
    }
}

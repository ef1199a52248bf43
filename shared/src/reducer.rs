//! Reducers as data: how each event type changes a stream's state.
//!
//! A definition is JSON, registered per stream type, so the database and the
//! browser run the same one:
//!
//! ```json
//! {
//!   "initial": {"status": "new", "items": {}},
//!   "unknown_event_types": "ignore",
//!   "on": {
//!     "OrderCreated": [
//!       {"op": "set", "path": "/customer_id", "from": "/data/customer_id"},
//!       {"op": "set", "path": "/status", "value": "created"}
//!     ],
//!     "ItemAdded": [
//!       {"op": "set", "path": "/items/{item_id}",
//!        "from": {"quantity": "/data/quantity", "price": "/data/price"}}
//!     ],
//!     "ItemRemoved": [{"op": "remove", "path": "/items/{item_id}"}]
//!   }
//! }
//! ```
//!
//! * `initial`: the state before the first event (an object; default `{}`).
//! * `unknown_event_types`: what an event type without handlers does:
//!   `"ignore"` (default), `"merge"` (the default reducer: RFC 7396 merge of
//!   its data) or `"error"`.
//! * `on`: per event type, a list of operations applied in order:
//!   - `set`: put a value at `path` (intermediate objects are created);
//!   - `merge`: RFC 7396 merge-patch the value into the object at `path`;
//!   - `remove`: delete `path` (a missing path is no error);
//!   - `increment` / `decrement`: add to / subtract from the number at `path`
//!     (missing counts as 0) the value, or 1; exact decimal arithmetic;
//!   - `multiply`: multiply the number at `path` by the value (exact; a
//!     missing number is an error, not 0);
//!   - `append`: push the value onto the array at `path` (created if missing).
//! * `derive`: members computed from the state after every event, such as
//!   an order's total: `[{"path": "/total", "value": {"sum": "/items", "of":
//!   {"multiply": ["/quantity", "/price"]}}}]` (see [`crate::derive`]).
//! * The value of an operation is `value` (a constant) or `from`: a JSON
//!   pointer into the event (`/data/...`, `/metadata/...`, `/version`,
//!   `/event_type`, `/occurred_at`, `/recorded_at`, `/stream_id`, `/actor`,
//!   ...) or an object whose members are such pointers (builds an object).
//! * `path` is a JSON pointer into the state; a segment written `{name}` is
//!   the event's `data.name`, and `{/pointer}` any pointer into the event.
//!
//! With no definition the state is the RFC 7396 merge of every event's data.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::pointer;

/// A validated reducer definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Reducer {
    initial: Value,
    unknown: Unknown,
    on: BTreeMap<String, Vec<Op>>,
    derive: Vec<crate::derive::Derived>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unknown {
    Ignore,
    Merge,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Set,
    Merge,
    Remove,
    Increment,
    Decrement,
    Multiply,
    Append,
}

#[derive(Debug, Clone, PartialEq)]
enum Source {
    Default,
    Value(Value),
    From(String),
    Build(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    DataField(String),
    EventPointer(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Op {
    kind: Kind,
    path: Vec<Segment>,
    source: Source,
}

const OPS: &str = "set, merge, remove, increment, decrement, multiply, append";

fn bad(field: String, reason: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::invalid(field, reason, hint)
}

impl Reducer {
    /// Parses and validates a definition; errors name the bad part, e.g.
    /// `definition.on.ItemAdded[0].op`.
    pub fn parse(definition: &Value) -> Result<Reducer> {
        let Value::Object(obj) = definition else {
            return Err(bad(
                "definition".into(),
                format!(
                    "must be a JSON object, not {}",
                    crate::json::type_name(definition)
                ),
                "Pass {\"on\": {\"EventType\": [operations...]}}.",
            ));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !["initial", "unknown_event_types", "on", "derive"].contains(&k.as_str()))
        {
            return Err(bad(
                format!("definition.{k}"),
                "is not a known reducer field",
                "A reducer definition has the fields initial, unknown_event_types, on and derive.",
            ));
        }
        let initial = match obj.get("initial") {
            None => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(other) => {
                return Err(bad(
                    "definition.initial".into(),
                    format!(
                        "must be a JSON object, not {}",
                        crate::json::type_name(other)
                    ),
                    "The state is a JSON object; give its starting value.",
                ))
            }
        };
        let unknown = match obj.get("unknown_event_types") {
            None => Unknown::Ignore,
            Some(Value::String(s)) if s == "ignore" => Unknown::Ignore,
            Some(Value::String(s)) if s == "merge" => Unknown::Merge,
            Some(Value::String(s)) if s == "error" => Unknown::Error,
            Some(other) => {
                return Err(bad(
                    "definition.unknown_event_types".into(),
                    format!("must be \"ignore\", \"merge\" or \"error\", not {other}"),
                    "Say what an event type without handlers does.",
                ))
            }
        };
        let mut on = BTreeMap::new();
        match obj.get("on") {
            None => {}
            Some(Value::Object(handlers)) => {
                for (event_type, ops) in handlers {
                    let field = format!("definition.on.{event_type}");
                    crate::identifier::validate_type_name(&field, event_type)?;
                    let Value::Array(list) = ops else {
                        return Err(bad(
                            field,
                            "must be an array of operations",
                            "List the operations: [{\"op\": \"set\", \"path\": ..., \"value\": ...}].",
                        ));
                    };
                    let parsed = list
                        .iter()
                        .enumerate()
                        .map(|(i, op)| Op::parse(&format!("{field}[{i}]"), op))
                        .collect::<Result<Vec<_>>>()?;
                    on.insert(event_type.clone(), parsed);
                }
            }
            Some(other) => {
                return Err(bad(
                    "definition.on".into(),
                    format!(
                        "must be a JSON object, not {}",
                        crate::json::type_name(other)
                    ),
                    "Map each event type to its operations: {\"OrderPaid\": [...]}.",
                ))
            }
        }
        let derive = match obj.get("derive") {
            None => Vec::new(),
            Some(v) => crate::derive::parse(v)?,
        };
        Ok(Reducer {
            initial,
            unknown,
            on,
            derive,
        })
    }

    /// The top-level envelope fields the definition reads (`data`,
    /// `version`, `occurred_at`, ...), so a store can fetch only those.
    pub fn envelope_fields(&self) -> std::collections::BTreeSet<String> {
        let mut fields = std::collections::BTreeSet::from(["data".to_string()]);
        let mut note = |pointer: &str| {
            if pointer.is_empty() {
                // The whole envelope.
                fields.extend(crate::event::ENVELOPE_MEMBERS.map(String::from));
            } else if let Some(top) = pointer.strip_prefix('/').and_then(|p| p.split('/').next()) {
                fields.insert(pointer::unescape(top));
            }
        };
        for op in self.on.values().flatten() {
            for segment in &op.path {
                if let Segment::EventPointer(p) = segment {
                    note(p);
                }
            }
            match &op.source {
                Source::From(p) => note(p),
                Source::Build(members) => members.iter().for_each(|(_, p)| note(p)),
                Source::Default | Source::Value(_) => {}
            }
        }
        fields
    }

    /// The state before the first event.
    pub fn initial(&self) -> &Value {
        &self.initial
    }

    /// Applies one event to `state`. On error the state may be partly
    /// changed: callers that continue after a failed step keep a copy.
    pub fn apply(&self, state: &mut Value, event: &Event) -> Result<()> {
        self.apply_handlers(state, event)?;
        self.derive.iter().enumerate().try_for_each(|(i, d)| {
            d.apply(state).map_err(|reason| Error::ReplayFailed {
                version: event.version(),
                event_type: event.event_type().to_string(),
                step: format!("derive[{i}]"),
                reason,
            })
        })
    }

    fn apply_handlers(&self, state: &mut Value, event: &Event) -> Result<()> {
        match self.on.get(event.event_type()) {
            Some(ops) => ops.iter().enumerate().try_for_each(|(i, op)| {
                op.apply(state, event)
                    .map_err(|reason| Error::ReplayFailed {
                        version: event.version(),
                        event_type: event.event_type().to_string(),
                        step: format!("on.{}[{i}]", event.event_type()),
                        reason,
                    })
            }),
            None => match self.unknown {
                Unknown::Ignore => Ok(()),
                Unknown::Merge => {
                    merge_patch(state, event.data().clone());
                    Ok(())
                }
                Unknown::Error => Err(Error::ReplayFailed {
                    version: event.version(),
                    event_type: event.event_type().to_string(),
                    step: "unknown_event_types".to_string(),
                    reason: "the reducer has no handler for this event type".to_string(),
                }),
            },
        }
    }
}

/// The default reducer: RFC 7396 merge of an event's data into the state.
pub fn apply_default(state: &mut Value, data: Value) {
    merge_patch(state, data);
}

impl Op {
    fn parse(field: &str, v: &Value) -> Result<Op> {
        let Value::Object(obj) = v else {
            return Err(bad(
                field.to_string(),
                "must be an operation object",
                "Write {\"op\": \"set\", \"path\": \"/status\", \"value\": \"paid\"}.",
            ));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !["op", "path", "value", "from"].contains(&k.as_str()))
        {
            return Err(bad(
                format!("{field}.{k}"),
                "is not a known operation field",
                "An operation has the fields op, path and value or from.",
            ));
        }
        let kind = match obj.get("op").and_then(Value::as_str) {
            Some("set") => Kind::Set,
            Some("merge") => Kind::Merge,
            Some("remove") => Kind::Remove,
            Some("increment") => Kind::Increment,
            Some("decrement") => Kind::Decrement,
            Some("multiply") => Kind::Multiply,
            Some("append") => Kind::Append,
            Some(other) => {
                return Err(bad(
                    format!("{field}.op"),
                    format!("is an unknown operation: {other:?}"),
                    format!("The operations are: {OPS}."),
                ))
            }
            None => {
                return Err(bad(
                    format!("{field}.op"),
                    "is missing or not a string",
                    format!("Name the operation: one of {OPS}."),
                ))
            }
        };
        let path =
            match obj.get("path") {
                Some(Value::String(p)) => parse_path(&format!("{field}.path"), p)?,
                None if kind == Kind::Merge => Vec::new(),
                _ => return Err(bad(
                    format!("{field}.path"),
                    "is missing or not a string",
                    "Give a JSON pointer into the state, e.g. \"/status\" or \"/items/{item_id}\".",
                )),
            };
        if path.is_empty() && !matches!(kind, Kind::Set | Kind::Merge) {
            return Err(bad(
                format!("{field}.path"),
                "must not be the whole state for this operation",
                "Point at a member of the state, e.g. \"/count\".",
            ));
        }
        let source = match (obj.get("value"), obj.get("from")) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    field.to_string(),
                    "has both value and from",
                    "Give either a constant value or a from pointer into the event.",
                ))
            }
            (Some(v), None) => Source::Value(v.clone()),
            (None, Some(Value::String(p))) => {
                pointer::check_argument(&format!("{field}.from"), p)?;
                Source::From(p.clone())
            }
            (None, Some(Value::Object(members))) => Source::Build(
                members
                    .iter()
                    .map(|(k, p)| match p {
                        Value::String(p) => {
                            pointer::check_argument(&format!("{field}.from.{k}"), p)?;
                            Ok((k.clone(), p.clone()))
                        }
                        _ => Err(bad(
                            format!("{field}.from.{k}"),
                            "must be a JSON pointer string",
                            "Point into the event, e.g. \"/data/price\".",
                        )),
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            (None, Some(_)) => {
                return Err(bad(
                    format!("{field}.from"),
                    "must be a JSON pointer or an object of JSON pointers",
                    "Point into the event, e.g. \"/data/customer_id\".",
                ))
            }
            (None, None) => Source::Default,
        };
        match (kind, &source) {
            (Kind::Remove, Source::Default)
            | (Kind::Increment | Kind::Decrement, _)
            | (
                Kind::Set | Kind::Merge | Kind::Append | Kind::Multiply,
                Source::Value(_) | Source::From(_) | Source::Build(_),
            ) => {}
            (Kind::Remove, _) => {
                return Err(bad(
                    field.to_string(),
                    "remove takes no value",
                    "Drop value/from from the remove operation.",
                ))
            }
            _ => {
                return Err(bad(
                    field.to_string(),
                    "needs a value or from",
                    "Give a constant value or a from pointer into the event.",
                ))
            }
        }
        if let (Kind::Increment | Kind::Decrement | Kind::Multiply, Source::Value(v)) =
            (kind, &source)
        {
            if !v.is_number() {
                return Err(bad(
                    format!("{field}.value"),
                    "must be a number",
                    "Increment, decrement and multiply by a number, e.g. 1 or 0.25.",
                ));
            }
        }
        Ok(Op { kind, path, source })
    }

    fn apply(&self, state: &mut Value, event: &Event) -> std::result::Result<(), String> {
        let path = self
            .path
            .iter()
            .map(|s| s.resolve(event))
            .collect::<std::result::Result<Vec<String>, String>>()?;
        let value = match &self.source {
            Source::Default => None,
            Source::Value(v) => Some(v.clone()),
            Source::From(p) => Some(lookup(event, p)?),
            Source::Build(members) => Some(Value::Object(
                members
                    .iter()
                    .map(|(k, p)| Ok((k.clone(), lookup(event, p)?)))
                    .collect::<std::result::Result<Map<String, Value>, String>>()?,
            )),
        };
        // The path as text, for error messages only.
        let shown = || pointer::join(&path);
        match self.kind {
            Kind::Set => {
                *pointer::slot(state, &path)? = value.expect("validated");
            }
            Kind::Merge => {
                let target = pointer::slot(state, &path)?;
                if target.is_null() {
                    *target = Value::Object(Map::new());
                }
                merge_patch(target, value.expect("validated"));
            }
            Kind::Remove => {
                let (last, parent) = path.split_last().expect("validated non-empty");
                if let Some(Value::Object(map)) = get_mut(state, parent) {
                    map.remove(last);
                }
            }
            Kind::Increment | Kind::Decrement => {
                let by = value.unwrap_or_else(|| Value::Number(1.into()));
                let Value::Number(by) = by else {
                    return Err(format!("the amount for {} is not a number: {by}", shown()));
                };
                let target = pointer::slot(state, &path)?;
                let current = match target {
                    Value::Null => Number::from(0),
                    Value::Number(n) => n.clone(),
                    other => {
                        return Err(format!(
                            "{} holds {}, not a number",
                            shown(),
                            crate::json::type_name(other)
                        ))
                    }
                };
                *target = Value::Number(crate::decimal::add(
                    &current,
                    &by,
                    self.kind == Kind::Decrement,
                )?);
            }
            Kind::Multiply => {
                let by = value.expect("validated");
                let Value::Number(by) = by else {
                    return Err(format!("the factor for {} is not a number: {by}", shown()));
                };
                let target = pointer::slot(state, &path)?;
                let Value::Number(current) = &*target else {
                    return Err(format!(
                        "{} holds {}, not a number to multiply",
                        shown(),
                        crate::json::type_name(target)
                    ));
                };
                *target = Value::Number(crate::decimal::multiply(current, &by)?);
            }
            Kind::Append => {
                let target = pointer::slot(state, &path)?;
                match target {
                    Value::Null => *target = Value::Array(vec![value.expect("validated")]),
                    Value::Array(items) => items.push(value.expect("validated")),
                    other => {
                        return Err(format!(
                            "{} holds {}, not an array",
                            shown(),
                            crate::json::type_name(other)
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

impl Segment {
    fn resolve(&self, event: &Event) -> std::result::Result<String, String> {
        let value = match self {
            Segment::Literal(s) => return Ok(s.clone()),
            Segment::DataField(name) => event.data().get(name).cloned().ok_or_else(|| {
                format!("the path needs data.{name}, which the event does not have")
            })?,
            Segment::EventPointer(p) => lookup(event, p)?,
        };
        match value {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(format!(
                "a path segment must be a string or number, not {}",
                crate::json::type_name(&other)
            )),
        }
    }
}

fn parse_path(field: &str, p: &str) -> Result<Vec<Segment>> {
    pointer::check_argument(field, p)?;
    let template_hint = "Write templates as whole segments: /items/{item_id} or /by/{/event_type}.";
    let mut segments = Vec::new();
    let mut rest = p;
    while let Some(after_slash) = rest.strip_prefix('/') {
        let (token, tail) = if let Some(inner) = after_slash.strip_prefix('{') {
            let close = inner.find('}').ok_or_else(|| {
                bad(
                    field.to_string(),
                    "has an unclosed template {",
                    template_hint,
                )
            })?;
            let (name, tail) = (&inner[..close], &inner[close + 1..]);
            if !(tail.is_empty() || tail.starts_with('/')) {
                return Err(bad(
                    field.to_string(),
                    "has text after a template",
                    template_hint,
                ));
            }
            let segment = match name {
                "" => {
                    return Err(bad(
                        field.to_string(),
                        "has an empty template {}",
                        template_hint,
                    ))
                }
                n if n.starts_with('/') => Segment::EventPointer(n.to_string()),
                n => Segment::DataField(n.to_string()),
            };
            (segment, tail)
        } else {
            let end = after_slash.find('/').unwrap_or(after_slash.len());
            (
                Segment::Literal(pointer::unescape(&after_slash[..end])),
                &after_slash[end..],
            )
        };
        segments.push(token);
        rest = tail;
    }
    Ok(segments)
}

fn lookup(event: &Event, pointer: &str) -> std::result::Result<Value, String> {
    event
        .envelope()
        .pointer(pointer)
        .cloned()
        .ok_or_else(|| format!("the event has nothing at {pointer}"))
}

fn get_mut<'a>(state: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(state, |here, token| match here {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => token
            .parse::<usize>()
            .ok()
            .and_then(move |i| items.get_mut(i)),
        _ => None,
    })
}

/// RFC 7396 JSON merge patch. The patch's values move into the target.
pub fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (k, v) in patch {
        if v.is_null() {
            map.remove(&k);
        } else if let Some(member) = map.get_mut(&k) {
            merge_patch(member, v);
        } else {
            merge_patch(map.entry(k).or_insert(Value::Null), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(version: u64, ty: &str, data: Value) -> Event {
        Event::from_json(json!({"version": version, "event_type": ty, "data": data,
                                "recorded_at": "2024-05-01T12:00:00Z"}))
        .unwrap()
    }

    /// Found by the property tests (shared/tests/properties.rs): adding a
    /// number with an exponent beyond an i64 panicked, and `1e100000000`
    /// took minutes and gigabytes to write out. Both are out of the range of
    /// Postgres' numeric; the step fails instead, naming the number.
    #[test]
    fn arithmetic_beyond_numeric_fails_the_step() {
        let r = Reducer::parse(
            &json!({"on": {"A": [{"op": "increment", "path": "/n", "from": "/data/n"}]}}),
        )
        .unwrap();
        for big in [
            "1e99999999999999999999",
            "-1E-9223372036854775809",
            "1e100000000",
        ] {
            let n: Value = serde_json::from_str(big).unwrap();
            let mut s = json!({"n": 1});
            let e = r
                .apply(&mut s, &event(1, "A", json!({"n": n})))
                .unwrap_err();
            assert_eq!(e.sqlstate(), "22000");
            assert!(e.message().contains("out of the range"), "{}", e.message());
            let mut s = json!({"n": n});
            assert!(r.apply(&mut s, &event(1, "A", json!({"n": 1}))).is_err());
        }
    }

    #[test]
    fn definition_errors_point_at_the_operation() {
        let cases = [
            (json!([]), "definition"),
            (
                json!({"on": {"A": [{"op": "sett", "path": "/x"}]}}),
                "definition.on.A[0].op",
            ),
            (
                json!({"on": {"A": [{"op": "set", "path": "x", "value": 1}]}}),
                "definition.on.A[0].path",
            ),
            (
                json!({"on": {"A": [{"op": "set", "path": "/x"}]}}),
                "definition.on.A[0]",
            ),
            (
                json!({"on": {"A": [{"op": "remove", "path": "/x", "value": 1}]}}),
                "definition.on.A[0]",
            ),
            (
                json!({"on": {"A": [{"op": "increment", "path": "/x", "value": "1"}]}}),
                "definition.on.A[0].value",
            ),
            (
                json!({"on": {"A": [{"op": "set", "path": "/x", "from": "data"}]}}),
                "definition.on.A[0].from",
            ),
            (
                json!({"on": {"A": [{"op": "set", "path": "/x", "value": 1, "when": 2}]}}),
                "definition.on.A[0].when",
            ),
            (json!({"on": {"A": {}}}), "definition.on.A"),
            (json!({"on": {"1A": []}}), "definition.on.1A"),
            (json!({"initial": []}), "definition.initial"),
            (
                json!({"unknown_event_types": "skip"}),
                "definition.unknown_event_types",
            ),
            (json!({"handlers": {}}), "definition.handlers"),
            (
                json!({"on": {"A": [{"op": "remove", "path": ""}]}}),
                "definition.on.A[0].path",
            ),
        ];
        for (def, field) in cases {
            let e = Reducer::parse(&def).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", field), "{def}");
        }
    }

    #[test]
    fn operations() {
        let r = Reducer::parse(&json!({
            "on": {"A": [
                {"op": "set", "path": "/items/{item_id}", "from": {"q": "/data/q"}},
                {"op": "increment", "path": "/count"},
                {"op": "increment", "path": "/total", "from": "/data/amount"},
                {"op": "append", "path": "/log", "from": "/version"},
                {"op": "merge", "path": "/meta", "value": {"seen": true}},
                {"op": "set", "path": "/last/{/event_type}", "from": "/recorded_at"}
            ],
            "B": [{"op": "remove", "path": "/items/{item_id}"}, {"op": "decrement", "path": "/count", "value": 1}]}
        }))
        .unwrap();
        let mut s = r.initial().clone();
        r.apply(
            &mut s,
            &event(1, "A", json!({"item_id": "apple", "q": 3, "amount": 0.1})),
        )
        .unwrap();
        r.apply(
            &mut s,
            &event(2, "A", json!({"item_id": "pear", "q": 1, "amount": 0.2})),
        )
        .unwrap();
        r.apply(&mut s, &event(3, "B", json!({"item_id": "apple"})))
            .unwrap();
        assert_eq!(
            crate::canonical::to_string(&s),
            r#"{"count":1,"items":{"pear":{"q":1}},"last":{"A":"2024-05-01T12:00:00Z"},"log":[1,2],"meta":{"seen":true},"total":0.3}"#
        );
    }

    #[test]
    fn runtime_failures_name_version_and_step() {
        let r = Reducer::parse(&json!({"on": {"A": [{"op": "increment", "path": "/name"}],
                                              "B": [{"op": "set", "path": "/x/{id}", "value": 1}]},
                                       "unknown_event_types": "error"}))
        .unwrap();
        let mut s = json!({"name": "bob"});
        let e = r.apply(&mut s, &event(4, "A", json!({}))).unwrap_err();
        assert_eq!(
            e.message(),
            "replay failed at version 4 (A), on.A[0]: /name holds string, not a number"
        );
        let e = r.apply(&mut s, &event(5, "B", json!({}))).unwrap_err();
        assert!(e.message().contains("data.id"), "{}", e.message());
        let e = r.apply(&mut s, &event(6, "C", json!({}))).unwrap_err();
        assert!(e.message().contains("no handler"));
    }

    #[test]
    fn envelope_fields_lists_what_the_definition_reads() {
        let r = Reducer::parse(&json!({"on": {
            "A": [{"op": "set", "path": "/by/{/event_type}", "from": {"t": "/occurred_at", "m": "/metadata/ip"}}],
            "B": [{"op": "append", "path": "/v", "from": "/version"}]}}))
        .unwrap();
        let fields: Vec<String> = r.envelope_fields().into_iter().collect();
        assert_eq!(
            fields,
            ["data", "event_type", "metadata", "occurred_at", "version"]
        );
        let whole =
            Reducer::parse(&json!({"on": {"A": [{"op": "set", "path": "/e", "from": ""}]}}))
                .unwrap();
        assert_eq!(
            whole.envelope_fields().len(),
            crate::event::ENVELOPE_MEMBERS.len()
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
        let mut t = json!([1]);
        merge_patch(&mut t, json!({"a": 1}));
        assert_eq!(t, json!({"a": 1}));
    }
}

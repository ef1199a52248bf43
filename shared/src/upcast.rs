//! Upcasting: turning an old event's data into the newest schema version,
//! one version at a time, with declarative steps.
//!
//! An upcaster is registered per event type and `from_schema_version` n; it
//! turns version n into n + 1. Its steps, applied in order to `data`:
//! * `{"op": "rename", "path": "/qty", "to": "quantity"}`: rename a member
//!   (it stays in the same object);
//! * `{"op": "move", "from": "/customer/id", "path": "/customer_id"}`: move a
//!   member anywhere (objects on the way are created);
//! * `{"op": "default", "path": "/currency", "value": "EUR"}`: set a member
//!   only if it is missing;
//! * `{"op": "remove", "path": "/legacy"}`: remove a member.
//!
//! Steps whose source is missing do nothing: old events that never had a
//! field upcast cleanly.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::event::Event;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Rename {
        path: Vec<String>,
        to: String,
    },
    Move {
        from: Vec<String>,
        path: Vec<String>,
    },
    Default {
        path: Vec<String>,
        value: Value,
    },
    Remove {
        path: Vec<String>,
    },
}

/// The steps from one schema version to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Upcaster {
    steps: Vec<Step>,
}

/// The upcasters of every event type: event type -> from version -> steps.
pub type Upcasters = BTreeMap<String, BTreeMap<i64, Upcaster>>;

fn bad(field: String, reason: impl Into<String>) -> Error {
    Error::invalid(
        field,
        reason,
        "Upcaster steps are {\"op\": \"rename\"|\"move\"|\"default\"|\"remove\", ...} (see the README).",
    )
}

fn pointer(field: &str, v: Option<&Value>) -> Result<Vec<String>> {
    match v {
        Some(Value::String(p)) if p.len() > 1 => {
            crate::pointer::tokens(p).ok_or_else(|| not_a_member(field))
        }
        _ => Err(not_a_member(field)),
    }
}

fn not_a_member(field: &str) -> Error {
    bad(
        field.to_string(),
        "must be a JSON pointer to a member, e.g. \"/qty\"",
    )
}

impl Upcaster {
    /// Parses the steps of a definition (the argument `definition`);
    /// errors name the bad step (`definition[1].to`).
    pub fn parse(steps: &Value) -> Result<Upcaster> {
        Self::parse_at("definition", steps)
    }

    /// Parses steps given as `field`.
    pub fn parse_at(field: &str, steps: &Value) -> Result<Upcaster> {
        let root = field;
        let Value::Array(list) = steps else {
            return Err(bad(root.into(), "must be a JSON array of steps"));
        };
        if list.is_empty() {
            return Err(bad(root.into(), "must contain at least one step"));
        }
        let steps = list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let field = format!("{root}[{i}]");
                let Value::Object(o) = s else {
                    return Err(bad(field, "must be a step object"));
                };
                let allowed: &[&str] = match o.get("op").and_then(Value::as_str) {
                    Some("rename") => &["op", "path", "to"],
                    Some("move") => &["op", "from", "path"],
                    Some("default") => &["op", "path", "value"],
                    Some("remove") => &["op", "path"],
                    _ => {
                        return Err(bad(
                            format!("{field}.op"),
                            "must be rename, move, default or remove",
                        ))
                    }
                };
                if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
                    return Err(bad(format!("{field}.{k}"), "is not a field of this step"));
                }
                let path = pointer(&format!("{field}.path"), o.get("path"))?;
                Ok(match o["op"].as_str() {
                    Some("rename") => Step::Rename {
                        path,
                        to: o
                            .get("to")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                            .ok_or_else(|| {
                                bad(format!("{field}.to"), "must be the new member name")
                            })?
                            .to_string(),
                    },
                    Some("move") => Step::Move {
                        from: pointer(&format!("{field}.from"), o.get("from"))?,
                        path,
                    },
                    Some("default") => Step::Default {
                        path,
                        value: o
                            .get("value")
                            .cloned()
                            .ok_or_else(|| bad(format!("{field}.value"), "is missing"))?,
                    },
                    _ => Step::Remove { path },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Upcaster { steps })
    }

    fn apply(&self, data: &mut Value) {
        for step in &self.steps {
            match step {
                Step::Rename { path, to } => {
                    let (last, parent) = path.split_last().expect("non-empty pointer");
                    if let Some(Value::Object(m)) = get_mut(data, parent) {
                        if let Some(v) = m.remove(last) {
                            m.insert(to.clone(), v);
                        }
                    }
                }
                Step::Move { from, path } => {
                    if let Some(v) = take(data, from) {
                        put(data, path, v);
                    }
                }
                Step::Default { path, value } => {
                    if get_mut(data, path).is_none() {
                        put(data, path, value.clone());
                    }
                }
                Step::Remove { path } => {
                    take(data, path);
                }
            }
        }
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(v, |here, t| here.as_object_mut()?.get_mut(t))
}

fn take(v: &mut Value, path: &[String]) -> Option<Value> {
    let (last, parent) = path.split_last()?;
    get_mut(v, parent)?.as_object_mut()?.remove(last)
}

fn put(v: &mut Value, path: &[String], value: Value) {
    let (last, parent) = path.split_last().expect("non-empty pointer");
    let mut here = v;
    for t in parent {
        if !here.is_object() {
            return; // a scalar is in the way: leave the data as it is
        }
        here = here
            .as_object_mut()
            .expect("checked")
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Some(m) = here.as_object_mut() {
        m.insert(last.clone(), value);
    }
}

/// Checks the arguments of `define_upcaster(event_type,
/// from_schema_version, definition)`, in that order.
pub fn check_definition(
    event_type: Option<&str>,
    from_schema_version: Option<i64>,
    definition: Option<&Value>,
) -> Result<(String, i64, Upcaster)> {
    check_definition_at("definition", event_type, from_schema_version, definition)
}

/// [`check_definition`], the steps given as `field`.
fn check_definition_at(
    field: &str,
    event_type: Option<&str>,
    from_schema_version: Option<i64>,
    steps: Option<&Value>,
) -> Result<(String, i64, Upcaster)> {
    let event_type = crate::error::require(event_type, "event_type")?;
    crate::identifier::validate_type_name("event_type", event_type)?;
    let from = crate::error::require(from_schema_version, "from_schema_version")?;
    crate::payload::validate_schema_version(from).map_err(|_| {
        Error::invalid(
            "from_schema_version",
            format!("must be between 1 and {} (got {from})", i32::MAX - 1),
            "Name the schema version the steps upgrade from.",
        )
    })?;
    if from >= i64::from(i32::MAX) {
        return Err(Error::invalid(
            "from_schema_version",
            format!("must be below {} (got {from})", i32::MAX),
            "Name the schema version the steps upgrade from.",
        ));
    }
    let upcaster = Upcaster::parse_at(field, crate::error::require(steps, field)?)?;
    Ok((event_type.to_string(), from, upcaster))
}

/// Reads the `{"EventType": {"1": [steps], ...}}` form (vectors, exports).
pub fn parse_all(v: &Value) -> Result<Upcasters> {
    let mut all = Upcasters::new();
    for (event_type, chain) in v.as_object().into_iter().flatten() {
        for (from, steps) in chain.as_object().into_iter().flatten() {
            let from = from.parse::<i64>().map_err(|_| {
                bad(
                    format!("upcasters.{event_type}.{from}"),
                    "must be a schema version number",
                )
            })?;
            let field = format!("upcasters.{event_type}.{from}");
            let (t, f, u) = check_definition_at(&field, Some(event_type), Some(from), Some(steps))?;
            all.entry(t).or_default().insert(f, u);
        }
    }
    Ok(all)
}

/// Upcasts `data` of `event_type` from `schema_version` as far as the
/// upcasters go; returns the new schema version.
pub fn upcast(
    upcasters: &Upcasters,
    event_type: &str,
    schema_version: i64,
    data: &mut Value,
) -> i64 {
    let mut version = schema_version;
    if let Some(chain) = upcasters.get(event_type) {
        while let Some(u) = chain.get(&version) {
            u.apply(data);
            version += 1;
        }
    }
    version
}

/// The event upcast (its `data` and `schema_version` replaced), or None
/// when no upcaster applies to its type.
pub fn upcast_event(upcasters: &Upcasters, event: &Event) -> Result<Option<Event>> {
    if !upcasters.contains_key(event.event_type()) {
        return Ok(None);
    }
    let mut envelope = event.envelope().clone();
    let version = upcast(
        upcasters,
        event.event_type(),
        event.schema_version(),
        &mut envelope["data"],
    );
    envelope["schema_version"] = Value::from(version);
    Event::from_json(envelope).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain() -> Upcasters {
        let mut by_version = BTreeMap::new();
        by_version.insert(
            1,
            Upcaster::parse(&json!([
                {"op": "rename", "path": "/qty", "to": "quantity"},
                {"op": "default", "path": "/currency", "value": "EUR"}
            ]))
            .unwrap(),
        );
        by_version.insert(
            2,
            Upcaster::parse(&json!([
                {"op": "move", "from": "/customer/id", "path": "/customer_id"},
                {"op": "remove", "path": "/legacy"}
            ]))
            .unwrap(),
        );
        BTreeMap::from([("ItemAdded".to_string(), by_version)])
    }

    #[test]
    fn old_data_is_brought_to_the_newest_version() {
        let mut data = json!({"qty": 3, "customer": {"id": "c-1"}, "legacy": true});
        assert_eq!(upcast(&chain(), "ItemAdded", 1, &mut data), 3);
        assert_eq!(
            data,
            json!({"quantity": 3, "currency": "EUR", "customer": {}, "customer_id": "c-1"})
        );
        let mut v2 = json!({"quantity": 1, "currency": "USD"});
        assert_eq!(upcast(&chain(), "ItemAdded", 2, &mut v2), 3);
        assert_eq!(v2, json!({"quantity": 1, "currency": "USD"}));
        let mut other = json!({"qty": 1});
        assert_eq!(upcast(&chain(), "Other", 1, &mut other), 1);
    }

    #[test]
    fn bad_steps_are_named() {
        let cases = [
            (json!({}), "definition"),
            (json!([]), "definition"),
            (json!([{"op": "rename", "path": "/a"}]), "definition[0].to"),
            (json!([{"op": "copy", "path": "/a"}]), "definition[0].op"),
            (json!([{"op": "remove", "path": "a"}]), "definition[0].path"),
            (
                json!([{"op": "remove", "path": "/a"}, {"op": "default", "path": "/b"}]),
                "definition[1].value",
            ),
            (
                json!([{"op": "move", "path": "/a", "to": "/b"}]),
                "definition[0].to",
            ),
        ];
        for (steps, field) in cases {
            assert_eq!(
                Upcaster::parse(&steps).unwrap_err().field(),
                field,
                "{steps}"
            );
        }
    }
}

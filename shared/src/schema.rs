//! Event schemas: a documented subset of JSON Schema, checked at every
//! append of an event type and schema version that has one.
//!
//! Keywords (anything else is refused when the schema is defined, so nobody
//! believes a keyword is enforced when it is not):
//! * `type`: `"object"`, `"array"`, `"string"`, `"number"`, `"integer"`,
//!   `"boolean"`, `"null"`, or an array of these;
//! * objects: `properties` (a schema per member), `required` (member names),
//!   `additionalProperties` (`false` refuses members not in `properties`);
//! * arrays: `items` (the schema of every element), `minItems`, `maxItems`;
//! * strings: `minLength`, `maxLength` (in characters);
//! * numbers: `minimum`, `maximum` (inclusive, exact decimal comparison);
//! * any value: `enum` (a list of allowed values);
//! * annotations, ignored: `$schema`, `$id`, `$comment`, `title`, `description`,
//!   `examples`, `default`.

use std::collections::BTreeMap;

use bigdecimal::BigDecimal;
use serde_json::Value;

use crate::error::{require, Error, Result};
use crate::json::type_name;

const TYPES: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null",
];
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "examples",
    "default",
];
const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "enum",
];

/// A validated schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    types: Option<Vec<&'static str>>,
    properties: BTreeMap<String, Schema>,
    required: Vec<String>,
    additional: bool,
    items: Option<Box<Schema>>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    minimum: Option<(BigDecimal, String)>,
    maximum: Option<(BigDecimal, String)>,
    allowed: Option<Vec<Value>>,
}

fn bad(field: &str, reason: impl Into<String>) -> Error {
    Error::invalid(
        field,
        reason,
        "Chronicle checks a subset of JSON Schema: type, properties, required, \
         additionalProperties, items, minItems, maxItems, minLength, maxLength, minimum, \
         maximum, enum (see the README).",
    )
}

fn count(field: &str, v: &Value) -> Result<usize> {
    v.as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| bad(field, "must be a non-negative integer"))
}

fn decimal(field: &str, v: &Value) -> Result<(BigDecimal, String)> {
    match v {
        Value::Number(n) => match crate::json::decimal(n) {
            Some(x) => Ok((x, n.to_string())),
            None => Err(bad(
                field,
                format!("must be a number of {}", crate::json::DECIMAL_RANGE),
            )),
        },
        _ => Err(bad(field, "must be a number")),
    }
}

impl Schema {
    /// Parses a schema; errors name the bad keyword (`schema.properties.price.minimum`).
    pub fn parse(schema: &Value) -> Result<Schema> {
        Self::parse_at("schema", schema)
    }

    /// Parses a schema given as the argument `field` (errors name
    /// `field.properties.price.minimum`).
    pub fn parse_at(field: &str, schema: &Value) -> Result<Schema> {
        let Value::Object(obj) = schema else {
            return Err(bad(
                field,
                format!("must be a JSON object, not {}", type_name(schema)),
            ));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !KEYWORDS.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()))
        {
            return Err(bad(&format!("{field}.{k}"), "is not a supported keyword"));
        }
        let at = |k: &str| format!("{field}.{k}");
        let types = match obj.get("type") {
            None => None,
            Some(Value::String(t)) => Some(vec![known_type(&at("type"), t)?]),
            Some(Value::Array(list)) if !list.is_empty() => Some(
                list.iter()
                    .map(|t| match t {
                        Value::String(t) => known_type(&at("type"), t),
                        _ => Err(bad(&at("type"), "must list type names")),
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(_) => return Err(bad(&at("type"), "must be a type name or a list of them")),
        };
        let properties = match obj.get("properties") {
            None => BTreeMap::new(),
            Some(Value::Object(props)) => props
                .iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        Self::parse_at(&format!("{field}.properties.{k}"), v)?,
                    ))
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(bad(&at("properties"), "must be an object of schemas")),
        };
        let required = match obj.get("required") {
            None => Vec::new(),
            Some(Value::Array(names)) => names
                .iter()
                .map(|n| {
                    n.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad(&at("required"), "must list member names"))
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(bad(&at("required"), "must be an array of member names")),
        };
        let additional = match obj.get("additionalProperties") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad(&at("additionalProperties"), "must be true or false")),
        };
        let items = obj
            .get("items")
            .map(|v| Self::parse_at(&at("items"), v).map(Box::new))
            .transpose()?;
        let allowed = match obj.get("enum") {
            None => None,
            Some(Value::Array(values)) if !values.is_empty() => Some(values.clone()),
            Some(_) => return Err(bad(&at("enum"), "must be a non-empty array of values")),
        };
        let opt = |k: &str| obj.get(k).map(|v| count(&at(k), v)).transpose();
        let num = |k: &str| obj.get(k).map(|v| decimal(&at(k), v)).transpose();
        Ok(Schema {
            types,
            properties,
            required,
            additional,
            items,
            min_items: opt("minItems")?,
            max_items: opt("maxItems")?,
            min_length: opt("minLength")?,
            max_length: opt("maxLength")?,
            minimum: num("minimum")?,
            maximum: num("maximum")?,
            allowed,
        })
    }

    /// Checks `value`; the error's field is the JSON path of the first bad
    /// member, starting at `root` (`data`, `events[2].data`).
    pub fn check(&self, root: &str, value: &Value) -> std::result::Result<(), (String, String)> {
        self.check_at(root.to_string(), value)
    }

    fn check_at(&self, path: String, v: &Value) -> std::result::Result<(), (String, String)> {
        let fail = |reason: String| Err((path.clone(), reason));
        if let Value::Number(n) = v {
            if !crate::json::in_decimal_range(n) {
                return fail(format!(
                    "is a number out of range (a schema checks numbers of {})",
                    crate::json::DECIMAL_RANGE
                ));
            }
        }
        if let Some(types) = &self.types {
            if !types.iter().any(|t| has_type(v, t)) {
                return fail(format!(
                    "must be of type {}, not {}",
                    types.join(" or "),
                    type_name(v)
                ));
            }
        }
        if let Some(allowed) = &self.allowed {
            if !allowed.iter().any(|a| same(a, v)) {
                let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
                return fail(format!("must be one of {}", list.join(", ")));
            }
        }
        match v {
            Value::Object(members) => {
                if let Some(missing) = self.required.iter().find(|r| !members.contains_key(*r)) {
                    return fail(format!("lacks the required member {missing:?}"));
                }
                for (k, member) in members {
                    let at = format!("{path}.{k}");
                    match self.properties.get(k) {
                        Some(schema) => schema.check_at(at, member)?,
                        None if !self.additional => {
                            return Err((
                                at,
                                "is not allowed (additionalProperties is false)".into(),
                            ))
                        }
                        None => {}
                    }
                }
            }
            Value::Array(items) => {
                if let Some(min) = self.min_items.filter(|&m| items.len() < m) {
                    return fail(format!("must have at least {min} items"));
                }
                if let Some(max) = self.max_items.filter(|&m| items.len() > m) {
                    return fail(format!("must have at most {max} items"));
                }
                if let Some(schema) = &self.items {
                    for (i, item) in items.iter().enumerate() {
                        schema.check_at(format!("{path}[{i}]"), item)?;
                    }
                }
            }
            Value::String(s) => {
                let chars = s.chars().count();
                if let Some(min) = self.min_length.filter(|&m| chars < m) {
                    return fail(format!("must be at least {min} characters long"));
                }
                if let Some(max) = self.max_length.filter(|&m| chars > m) {
                    return fail(format!("must be at most {max} characters long"));
                }
            }
            // In range: a number out of range is refused above.
            Value::Number(n) => {
                if let Some(x) = crate::json::decimal(n) {
                    if let Some((min, text)) = &self.minimum {
                        if &x < min {
                            return fail(format!("must be at least {text}"));
                        }
                    }
                    if let Some((max, text)) = &self.maximum {
                        if &x > max {
                            return fail(format!("must be at most {text}"));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Checks the arguments of `define_event_type(event_type, schema_version,
/// definition)`, in that order.
pub fn check_definition(
    event_type: Option<&str>,
    schema_version: Option<i64>,
    definition: Option<&Value>,
) -> Result<(String, i64, Schema)> {
    let event_type = require(event_type, "event_type")?;
    crate::identifier::validate_type_name("event_type", event_type)?;
    let version = require(schema_version, "schema_version")?;
    crate::payload::validate_schema_version(version)?;
    let schema = Schema::parse_at("definition", require(definition, "definition")?)?;
    Ok((event_type.to_string(), version, schema))
}

/// The schemas of one event type, by schema version.
pub type EventTypeSchemas = BTreeMap<i64, Schema>;

/// Checks an event being appended against its type's schemas, if it has any.
/// `prefix` is `""` for `append_event` and `events[2].` inside a batch.
pub fn check_event(
    schemas: Option<&EventTypeSchemas>,
    event_type: &str,
    schema_version: i64,
    prefix: &str,
    data: &Value,
) -> Result<()> {
    let Some(schemas) = schemas else {
        return Ok(());
    };
    let Some(schema) = schemas.get(&schema_version) else {
        let defined: Vec<String> = schemas.keys().map(i64::to_string).collect();
        return Err(Error::invalid(
            format!("{prefix}schema_version"),
            format!(
                "{schema_version} is not defined for event type {event_type} (defined: {})",
                defined.join(", ")
            ),
            "Append with a defined schema_version, or define this one with chronicle.define_event_type.",
        ));
    };
    schema
        .check(&format!("{prefix}data"), data)
        .map_err(|(field, reason)| Error::SchemaViolation {
            field,
            event_type: event_type.to_string(),
            schema_version,
            reason,
        })
}

fn known_type(field: &str, t: &str) -> Result<&'static str> {
    TYPES
        .iter()
        .find(|k| **k == t)
        .copied()
        .ok_or_else(|| bad(field, format!("names an unknown type {t:?}")))
}

fn is_integer(n: &serde_json::Number) -> bool {
    crate::json::decimal(n).is_some_and(|x| x.is_integer())
}

fn has_type(v: &Value, t: &str) -> bool {
    match (t, v) {
        ("integer", Value::Number(n)) => is_integer(n),
        _ => type_name(v) == t,
    }
}

/// Equality for `enum`: numbers compare by value (`1.0` matches `1`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (crate::json::decimal(x), crate::json::decimal(y)) {
                (Some(x), Some(y)) => x == y,
                _ => x == y,
            }
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item_added() -> Schema {
        Schema::parse(&json!({
            "type": "object",
            "required": ["item_id", "quantity", "price"],
            "additionalProperties": false,
            "properties": {
                "item_id": {"type": "string", "minLength": 1, "maxLength": 40},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                "price": {"type": "number", "minimum": 0},
                "tags": {"type": "array", "items": {"enum": ["gift", "fragile"]}, "maxItems": 3},
                "note": {"type": ["string", "null"], "description": "free text"}
            }
        }))
        .unwrap()
    }

    #[test]
    fn valid_data_passes() {
        let s = item_added();
        s.check(
            "data",
            &json!({"item_id": "apple", "quantity": 3, "price": 1.50}),
        )
        .unwrap();
        s.check(
            "data",
            &json!({"item_id": "a", "quantity": 3.0, "price": 0, "tags": ["gift"], "note": null}),
        )
        .unwrap();
    }

    #[test]
    fn violations_name_the_json_path() {
        let s = item_added();
        let cases = [
            (json!([]), "data", "must be of type object, not array"),
            (
                json!({"item_id": "apple", "quantity": 3}),
                "data",
                "lacks the required member \"price\"",
            ),
            (
                json!({"item_id": "", "quantity": 3, "price": 1}),
                "data.item_id",
                "must be at least 1 characters long",
            ),
            (
                json!({"item_id": "a", "quantity": 2.5, "price": 1}),
                "data.quantity",
                "must be of type integer, not number",
            ),
            (
                json!({"item_id": "a", "quantity": 1001, "price": 1}),
                "data.quantity",
                "must be at most 1000",
            ),
            (
                json!({"item_id": "a", "quantity": 1, "price": -0.01}),
                "data.price",
                "must be at least 0",
            ),
            (
                json!({"item_id": "a", "quantity": 1, "price": 1, "tags": ["gift", "x"]}),
                "data.tags[1]",
                "must be one of \"gift\", \"fragile\"",
            ),
            (
                json!({"item_id": "a", "quantity": 1, "price": 1, "colour": "red"}),
                "data.colour",
                "is not allowed (additionalProperties is false)",
            ),
            (
                json!({"item_id": "a", "quantity": 1, "price": 1, "note": 5}),
                "data.note",
                "must be of type string or null, not number",
            ),
        ];
        for (data, path, reason) in cases {
            assert_eq!(
                s.check("data", &data).unwrap_err(),
                (path.to_string(), reason.to_string()),
                "{data}"
            );
        }
    }

    /// Found by the property tests (shared/tests/properties.rs): numbers
    /// with exponents beyond an i64 made parsing a schema, and checking data
    /// against one, panic; huge ones took minutes to compare.
    #[test]
    fn numbers_beyond_numeric_are_refused_not_a_panic() {
        for n in [
            "1e99999999999999999999",
            "-1E-9223372036854775809",
            "1e100000000",
        ] {
            let n: Value = serde_json::from_str(n).unwrap();
            let e = Schema::parse(&json!({"minimum": n})).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", "schema.minimum"));
            for schema in [
                json!({}),
                json!({"type": "integer"}),
                json!({"minimum": 0}),
                json!({"enum": [1]}),
            ] {
                let (path, reason) = Schema::parse(&schema)
                    .unwrap()
                    .check("data", &n)
                    .unwrap_err();
                assert_eq!(path, "data", "{schema}");
                assert!(reason.contains("out of range"), "{reason}");
            }
        }
        // The ends of numeric's range still compare.
        let top: Value = serde_json::from_str("1e131071").unwrap();
        let s = Schema::parse(&json!({"type": "integer", "minimum": top})).unwrap();
        assert!(s.check("data", &top).is_ok());
        assert!(s.check("data", &json!(1000)).is_err());
    }

    #[test]
    fn bad_schemas_name_the_keyword() {
        let cases = [
            (json!([]), "schema"),
            (json!({"type": "text"}), "schema.type"),
            (json!({"pattern": "^a"}), "schema.pattern"),
            (
                json!({"properties": {"a": {"minimum": "1"}}}),
                "schema.properties.a.minimum",
            ),
            (json!({"required": "a"}), "schema.required"),
            (
                json!({"items": {"maxLength": -1}}),
                "schema.items.maxLength",
            ),
            (json!({"enum": []}), "schema.enum"),
            (
                json!({"additionalProperties": {}}),
                "schema.additionalProperties",
            ),
        ];
        for (schema, field) in cases {
            let e = Schema::parse(&schema).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", field), "{schema}");
        }
    }
}

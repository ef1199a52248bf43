//! Derived values of a reducer's state (`"derive"` in a definition): members
//! computed from the state itself after every event, such as an order's
//! total from its items.
//!
//! ```json
//! "derive": [
//!   {"path": "/total", "value": {"sum": "/items", "of": {"multiply": ["/quantity", "/price"]}}},
//!   {"path": "/item_count", "value": {"count": "/items"}}
//! ]
//! ```
//!
//! Each entry sets `path` (a JSON pointer into the state) to the value of an
//! expression, in order (a later entry may read an earlier one's result):
//!
//! * a number: itself;
//! * a string: a JSON pointer into the state (inside `sum`'s `of`, into the
//!   member being summed); what it names must be a number;
//! * `{"multiply": [e1, e2, ...]}`, `{"add": [e1, e2, ...]}`: the product or
//!   sum of two or more expressions;
//! * `{"sum": "/pointer", "of": e}`: the sum of `e` over the members of the
//!   object (its values) or array there; without `of`, of the members
//!   themselves. A missing or null collection sums to 0;
//! * `{"count": "/pointer"}`: how many members the object or array has (0
//!   when missing or null).
//!
//! Arithmetic is exact decimal, as `increment`'s: `3 × 1.50 + 2 × 0.75` is
//! `6.00` (a product has the digits after the point of both factors). A
//! pointer to nothing, or to something that is not a number, fails the step
//! with a message that names it: a silent 0 would hide a misspelt member.

use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// One entry of `derive`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Derived {
    path: Vec<String>,
    value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Number(Number),
    Pointer(String),
    Multiply(Vec<Expr>),
    Add(Vec<Expr>),
    Sum { over: String, of: Option<Box<Expr>> },
    Count(String),
}

const SHAPES: &str = "a number, a JSON pointer, {\"multiply\": [...]}, {\"add\": [...]}, \
                      {\"sum\": \"/pointer\", \"of\": ...} or {\"count\": \"/pointer\"}";

fn bad(field: &str, reason: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::invalid(field, reason, hint)
}

/// Parses `definition.derive`.
pub(crate) fn parse(v: &Value) -> Result<Vec<Derived>> {
    let field = "definition.derive";
    let Value::Array(entries) = v else {
        return Err(bad(
            field,
            format!("must be an array, not {}", crate::json::type_name(v)),
            "List the derived members: [{\"path\": \"/total\", \"value\": {...}}].",
        ));
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| Derived::parse(&format!("{field}[{i}]"), entry))
        .collect()
}

impl Derived {
    fn parse(field: &str, v: &Value) -> Result<Derived> {
        let Value::Object(obj) = v else {
            return Err(bad(
                field,
                "must be an object",
                "Write {\"path\": \"/total\", \"value\": {\"sum\": \"/items\"}}.",
            ));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !["path", "value"].contains(&k.as_str()))
        {
            return Err(bad(
                &format!("{field}.{k}"),
                "is not a known field of a derived member",
                "A derived member has a path and a value.",
            ));
        }
        let path = match obj.get("path") {
            Some(Value::String(p)) => match crate::pointer::tokens(p) {
                Some(tokens) if !tokens.is_empty() => tokens,
                _ => {
                    return Err(bad(
                        &format!("{field}.path"),
                        format!("is not a JSON pointer to a member: {p:?}"),
                        "Name the member the value goes to, e.g. \"/total\".",
                    ))
                }
            },
            _ => {
                return Err(bad(
                    &format!("{field}.path"),
                    "is required and must be a JSON pointer string",
                    "Name the member the value goes to, e.g. \"/total\".",
                ))
            }
        };
        let value = match obj.get("value") {
            Some(v) => Expr::parse(&format!("{field}.value"), v)?,
            None => {
                return Err(bad(
                    &format!("{field}.value"),
                    "is required",
                    format!("Give the expression: {SHAPES}."),
                ))
            }
        };
        Ok(Derived { path, value })
    }

    /// Sets the member to its value in `state`.
    pub(crate) fn apply(&self, state: &mut Value) -> std::result::Result<(), String> {
        let value = self.value.eval(state, "")?;
        *crate::pointer::slot(state, &self.path)? = Value::Number(value);
        Ok(())
    }
}

impl Expr {
    fn parse(field: &str, v: &Value) -> Result<Expr> {
        let hint = || format!("An expression is {SHAPES}.");
        match v {
            Value::Number(n) => {
                if crate::json::decimal(n).is_none() {
                    return Err(bad(
                        field,
                        format!(
                            "is out of the range of numbers a reducer computes with ({})",
                            crate::json::DECIMAL_RANGE
                        ),
                        hint(),
                    ));
                }
                Ok(Expr::Number(n.clone()))
            }
            Value::String(p) => Ok(Expr::Pointer(pointer(field, p)?)),
            Value::Object(obj) => {
                const NAMES: [&str; 4] = ["multiply", "add", "sum", "count"];
                if let Some(k) = obj
                    .keys()
                    .find(|k| !NAMES.contains(&k.as_str()) && k.as_str() != "of")
                {
                    return Err(bad(
                        &format!("{field}.{k}"),
                        "is not a known operation",
                        hint(),
                    ));
                }
                let ops: Vec<&str> = obj
                    .keys()
                    .map(String::as_str)
                    .filter(|k| NAMES.contains(k))
                    .collect();
                let [name] = ops[..] else {
                    return Err(bad(field, "must hold exactly one operation", hint()));
                };
                if obj.contains_key("of") && name != "sum" {
                    return Err(bad(&format!("{field}.of"), "belongs to sum only", hint()));
                }
                let operand = &obj[name];
                let at = format!("{field}.{name}");
                match name {
                    "multiply" | "add" => {
                        let Value::Array(items) = operand else {
                            return Err(bad(&at, "must be an array of expressions", hint()));
                        };
                        if items.len() < 2 {
                            return Err(bad(
                                &at,
                                format!("must have at least two operands, not {}", items.len()),
                                hint(),
                            ));
                        }
                        let operands = items
                            .iter()
                            .enumerate()
                            .map(|(i, e)| Expr::parse(&format!("{at}[{i}]"), e))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(if name == "multiply" {
                            Expr::Multiply(operands)
                        } else {
                            Expr::Add(operands)
                        })
                    }
                    _ => {
                        let Value::String(p) = operand else {
                            return Err(bad(&at, "must be a JSON pointer string", hint()));
                        };
                        let p = pointer(&at, p)?;
                        if name == "count" {
                            return Ok(Expr::Count(p));
                        }
                        let of = obj
                            .get("of")
                            .map(|e| Expr::parse(&format!("{field}.of"), e).map(Box::new))
                            .transpose()?;
                        Ok(Expr::Sum { over: p, of })
                    }
                }
            }
            other => Err(bad(
                field,
                format!("is {}, not an expression", crate::json::type_name(other)),
                hint(),
            )),
        }
    }

    /// The value in `context` (the state, or a member being summed, named
    /// `at` in messages).
    fn eval(&self, context: &Value, at: &str) -> std::result::Result<Number, String> {
        match self {
            Expr::Number(n) => Ok(n.clone()),
            Expr::Pointer(p) => match context.pointer(p) {
                Some(Value::Number(n)) => Ok(n.clone()),
                Some(other) => Err(format!(
                    "{at}{p} holds {}, not a number",
                    crate::json::type_name(other)
                )),
                None => Err(format!("{at}{p} is missing")),
            },
            Expr::Multiply(xs) => fold(xs, context, at, crate::decimal::multiply),
            Expr::Add(xs) => fold(xs, context, at, |a, b| crate::decimal::add(a, b, false)),
            Expr::Sum { over, of } => {
                let mut total = Number::from(0);
                for (name, member) in members(context, over, at)? {
                    let here = format!("{at}{over}/{name}");
                    let value = match of {
                        Some(e) => e.eval(member, &here)?,
                        None => match member {
                            Value::Number(n) => n.clone(),
                            other => {
                                return Err(format!(
                                    "{here} holds {}, not a number",
                                    crate::json::type_name(other)
                                ))
                            }
                        },
                    };
                    total = crate::decimal::add(&total, &value, false)?;
                }
                Ok(total)
            }
            Expr::Count(p) => Ok(Number::from(members(context, p, at)?.len() as u64)),
        }
    }
}

fn pointer(field: &str, p: &str) -> Result<String> {
    crate::pointer::check_argument(field, p)?;
    Ok(p.to_string())
}

fn fold(
    xs: &[Expr],
    context: &Value,
    at: &str,
    op: impl Fn(&Number, &Number) -> std::result::Result<Number, String>,
) -> std::result::Result<Number, String> {
    let mut acc = xs[0].eval(context, at)?;
    for x in &xs[1..] {
        acc = op(&acc, &x.eval(context, at)?)?;
    }
    Ok(acc)
}

/// The members of the object or array at `p` (none when missing or null).
fn members<'v>(
    context: &'v Value,
    p: &str,
    at: &str,
) -> std::result::Result<Vec<(String, &'v Value)>, String> {
    match context.pointer(p) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map
            .iter()
            .map(|(k, v)| (crate::pointer::escape(k), v))
            .collect()),
        Some(Value::Array(items)) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect()),
        Some(other) => Err(format!(
            "{at}{p} holds {}, not an object or an array",
            crate::json::type_name(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn derive(def: &str, state: &str) -> std::result::Result<String, String> {
        let list = parse(&serde_json::from_str(def).unwrap()).map_err(|e| e.to_string())?;
        let mut state: Value = serde_json::from_str(state).unwrap();
        for d in &list {
            d.apply(&mut state)?;
        }
        Ok(crate::canonical::to_string(&state))
    }

    const TOTAL: &str = r#"[{"path": "/total", "value": {"sum": "/items", "of": {"multiply": ["/quantity", "/price"]}}}]"#;

    #[test]
    fn an_order_total_is_exact() {
        let state = r#"{"items": {"apple": {"quantity": 3, "price": 1.50}, "banana": {"quantity": 2, "price": 0.75}}}"#;
        assert_eq!(
            derive(TOTAL, state).unwrap(),
            r#"{"items":{"apple":{"price":1.50,"quantity":3},"banana":{"price":0.75,"quantity":2}},"total":6.00}"#
        );
        assert_eq!(
            derive(TOTAL, r#"{"items": {}}"#).unwrap(),
            r#"{"items":{},"total":0}"#
        );
        assert_eq!(derive(TOTAL, "{}").unwrap(), r#"{"total":0}"#);
    }

    #[test]
    fn counts_adds_sums_of_arrays_and_chains() {
        let def = r#"[{"path": "/n", "value": {"count": "/items"}},
                      {"path": "/sum", "value": {"sum": "/xs"}},
                      {"path": "/stats/twice", "value": {"add": ["/sum", "/sum", 0.5]}}]"#;
        assert_eq!(
            derive(def, r#"{"items": {"a": 1, "b": 2}, "xs": [1, 2.25]}"#).unwrap(),
            r#"{"items":{"a":1,"b":2},"n":2,"stats":{"twice":7.00},"sum":3.25,"xs":[1,2.25]}"#
        );
    }

    #[test]
    fn what_cannot_be_computed_names_the_member() {
        let e = derive(TOTAL, r#"{"items": {"apple": {"quantity": 3}}}"#).unwrap_err();
        assert_eq!(e, "/items/apple/price is missing");
        let e = derive(
            TOTAL,
            r#"{"items": {"apple": {"quantity": 3, "price": "1.50"}}}"#,
        )
        .unwrap_err();
        assert_eq!(e, "/items/apple/price holds string, not a number");
        let e = derive(TOTAL, r#"{"items": 7}"#).unwrap_err();
        assert_eq!(e, "/items holds number, not an object or an array");
    }

    #[test]
    fn definitions_are_checked() {
        for (def, field) in [
            (json!({}), "definition.derive"),
            (json!([7]), "definition.derive[0]"),
            (json!([{"path": "/t"}]), "definition.derive[0].value"),
            (json!([{"value": 1}]), "definition.derive[0].path"),
            (
                json!([{"path": "", "value": 1}]),
                "definition.derive[0].path",
            ),
            (
                json!([{"path": "/t", "value": 1, "extra": 1}]),
                "definition.derive[0].extra",
            ),
            (
                json!([{"path": "/t", "value": {"multiply": ["/a"]}}]),
                "definition.derive[0].value.multiply",
            ),
            (
                json!([{"path": "/t", "value": {"multiply": ["/a", "b"]}}]),
                "definition.derive[0].value.multiply[1]",
            ),
            (
                json!([{"path": "/t", "value": {"divide": ["/a", "/b"]}}]),
                "definition.derive[0].value.divide",
            ),
            (
                json!([{"path": "/t", "value": {"sum": 3}}]),
                "definition.derive[0].value.sum",
            ),
            (
                json!([{"path": "/t", "value": {"count": "/a", "of": "/b"}}]),
                "definition.derive[0].value.of",
            ),
            (
                json!([{"path": "/t", "value": true}]),
                "definition.derive[0].value",
            ),
            (
                json!([{"path": "/t", "value": {"add": ["/a", "/b"], "multiply": ["/a", "/b"]}}]),
                "definition.derive[0].value",
            ),
        ] {
            let e = parse(&def).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", field), "{def}");
        }
    }
}

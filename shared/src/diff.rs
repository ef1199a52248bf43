//! RFC 6902 JSON Patch between two states: what the dashboard shows as "the
//! diff to the previous version", and `chronicle.diff(a, b)`.
//!
//! The patch is minimal per member: removed members are `remove`d, new ones
//! `add`ed, changed scalars `replace`d, and objects and arrays compared
//! member by member (arrays by index: common indexes compared, extra ones
//! added at the end or removed from the end, last first).

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::pointer;

/// The JSON Patch that turns `a` into `b`.
pub fn diff(a: &Value, b: &Value) -> Value {
    let mut ops = Vec::new();
    walk(&mut ops, String::new(), a, b);
    Value::Array(ops)
}

fn walk(ops: &mut Vec<Value>, path: String, a: &Value, b: &Value) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let p = pointer::child(&path, k);
                match y.get(k) {
                    Some(w) => walk(ops, p, v, w),
                    None => ops.push(json!({"op": "remove", "path": p})),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    ops.push(json!({"op": "add", "path": pointer::child(&path, k), "value": w}));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                walk(ops, format!("{path}/{i}"), v, w);
            }
            for (i, w) in y.iter().enumerate().skip(x.len()) {
                ops.push(json!({"op": "add", "path": format!("{path}/{i}"), "value": w}));
            }
            for i in (y.len()..x.len()).rev() {
                ops.push(json!({"op": "remove", "path": format!("{path}/{i}")}));
            }
        }
        _ if a == b => {}
        _ => ops.push(json!({"op": "replace", "path": path, "value": b})),
    }
}

/// Applies a JSON Patch made of `add`, `remove` and `replace` operations.
pub fn apply(doc: &Value, patch: &Value) -> Result<Value> {
    let bad = |reason: String| {
        Error::invalid(
            "patch",
            reason,
            "Pass a JSON Patch as chronicle.diff returns it.",
        )
    };
    let mut doc = doc.clone();
    let ops = patch
        .as_array()
        .ok_or_else(|| bad("must be a JSON array".into()))?;
    for (i, op) in ops.iter().enumerate() {
        let kind = op["op"].as_str().unwrap_or_default();
        let path = op["path"]
            .as_str()
            .ok_or_else(|| bad(format!("[{i}] has no path")))?;
        if path.is_empty() {
            if kind == "remove" {
                return Err(bad(format!("[{i}] removes the whole document")));
            }
            doc = op["value"].clone();
            continue;
        }
        let (parent_path, last) = pointer::split_last(path)
            .ok_or_else(|| bad(format!("[{i}] path {path} is not a JSON pointer")))?;
        let parent = doc
            .pointer_mut(parent_path)
            .ok_or_else(|| bad(format!("[{i}] path {path} has no parent")))?;
        match (kind, parent) {
            ("add" | "replace", Value::Object(m)) => {
                m.insert(last, op["value"].clone());
            }
            ("remove", Value::Object(m)) => {
                m.remove(&last)
                    .ok_or_else(|| bad(format!("[{i}] {path} does not exist")))?;
            }
            (k, Value::Array(items)) => {
                let index = last
                    .parse::<usize>()
                    .map_err(|_| bad(format!("[{i}] {path} is not an array index")))?;
                match k {
                    "add" if index <= items.len() => items.insert(index, op["value"].clone()),
                    "replace" if index < items.len() => items[index] = op["value"].clone(),
                    "remove" if index < items.len() => {
                        items.remove(index);
                    }
                    _ => return Err(bad(format!("[{i}] cannot {k} at {path}"))),
                }
            }
            (k, _) => return Err(bad(format!("[{i}] cannot {k} at {path}"))),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_of_an_order_step() {
        let a = json!({"status": "created", "items": {"apple": {"q": 3}}, "tags": [1, 2, 3]});
        let b = json!({"status": "paid", "items": {"apple": {"q": 3}, "pear": {"q": 1}}, "tags": [1], "a/b": null});
        let p = diff(&a, &b);
        assert_eq!(
            p,
            json!([
                {"op": "add", "path": "/items/pear", "value": {"q": 1}},
                {"op": "replace", "path": "/status", "value": "paid"},
                {"op": "remove", "path": "/tags/2"},
                {"op": "remove", "path": "/tags/1"},
                {"op": "add", "path": "/a~1b", "value": null}
            ])
        );
        assert_eq!(apply(&a, &p).unwrap(), b);
        assert_eq!(diff(&a, &a), json!([]));
        assert_eq!(
            diff(&json!(1), &json!([1])),
            json!([{"op": "replace", "path": "", "value": [1]}])
        );
    }
}

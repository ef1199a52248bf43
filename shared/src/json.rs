//! JSON payloads: parsing with Chronicle's errors, and their size.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use serde_json::{Number, Value};

use crate::error::{Error, Result};
use crate::limits::MAX_JSON_DEPTH;

/// The range of numbers the core computes with and compares (reducer
/// arithmetic, schema bounds and types): that of Postgres' `numeric`, at
/// most 131072 digits before the decimal point and 16383 after, so the
/// database never holds a number the core cannot judge.
pub const DECIMAL_RANGE: &str =
    "at most 131072 digits before the decimal point and 16383 after, as Postgres' numeric";
const MAX_INTEGER_DIGITS: i64 = 131_072;
const MAX_FRACTION_DIGITS: i64 = 16_383;

/// Whether a JSON number is within [`DECIMAL_RANGE`], read off its text.
///
/// JSON text may carry any exponent, and beyond that range a number's exact
/// value is not worth computing: `1e100000000` has a hundred million digits
/// (minutes and gigabytes to add to), and `1e99999999999999999999` makes
/// `BigDecimal` panic.
pub(crate) fn in_decimal_range(n: &Number) -> bool {
    let text = n.as_str();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => match text[i + 1..].parse::<i64>() {
            Ok(e) => (&text[..i], e),
            Err(_) => return false,
        },
        None => (text, 0),
    };
    let mantissa = mantissa.trim_start_matches('-');
    let (int, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let before = (int.trim_start_matches('0').len() as i64).checked_add(exponent);
    let after = (fraction.len() as i64).checked_sub(exponent);
    before.is_some_and(|b| b <= MAX_INTEGER_DIGITS)
        && after.is_some_and(|a| a <= MAX_FRACTION_DIGITS)
}

/// A JSON number as an exact decimal, when it is [`in_decimal_range`].
pub(crate) fn decimal(n: &Number) -> Option<BigDecimal> {
    if !in_decimal_range(n) {
        return None;
    }
    BigDecimal::from_str(n.as_str()).ok()
}

/// Parses JSON text (as Postgres' `jsonb_out` or a client produced it).
///
/// Nesting deeper than [`MAX_JSON_DEPTH`] is a `limit_exceeded` error.
/// Numbers keep their exact text (`serde_json`'s `arbitrary_precision`):
/// `1.50` stays `1.50` and a 30-digit integer stays exact.
pub fn parse(field: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with("recursion limit exceeded") {
            too_deep(field, text_depth(text))
        } else {
            Error::invalid(
                field,
                format!("is not valid JSON: {msg}"),
                "Pass a JSON document.",
            )
        }
    })
}

/// Bytes given as JSON text that are not UTF-8 (valid up to `valid_up_to`).
pub fn not_utf8(field: &str, valid_up_to: usize) -> Error {
    Error::invalid(
        field,
        format!("is not UTF-8 text (bytes from {valid_up_to} on)"),
        "Pass JSON text as a string or as UTF-8 bytes.",
    )
}

/// A value a client cannot write as JSON (a function, a cycle, a BigInt).
pub fn unwritable(field: &str) -> Error {
    Error::invalid(
        field,
        "cannot be written as JSON",
        "Pass JSON text or a plain object (no functions, cycles or BigInts).",
    )
}

fn too_deep(field: &str, depth: usize) -> Error {
    Error::LimitExceeded {
        field: field.to_string(),
        what: "JSON nesting depth",
        unit: "levels",
        actual: depth,
        max: MAX_JSON_DEPTH,
        hint: "Flatten the document: arrays and objects may nest at most 127 levels deep.",
    }
}

/// How deeply arrays and objects nest in JSON text (for the error detail
/// when the text is too deep to parse).
fn text_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// How deeply arrays and objects nest in `v` (a scalar is 0, `[]` is 1).
pub fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        deepest = deepest.max(d + 1);
        stack.extend(children.map(|c| (c, d + 1)));
    }
    deepest
}

/// Requires nesting of at most [`MAX_JSON_DEPTH`] levels (values parsed by
/// [`parse`] always pass; values built in memory may not).
pub fn require_depth(field: &str, v: &Value) -> Result<()> {
    match depth(v) {
        d if d > MAX_JSON_DEPTH => Err(too_deep(field, d)),
        _ => Ok(()),
    }
}

/// The name of a JSON value's type, as `jsonb_typeof` spells it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Requires a JSON object.
pub fn require_object(field: &str, v: &Value) -> Result<()> {
    if v.is_object() {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("must be a JSON object, not {}", type_name(v)),
            format!(
                "Wrap the value in an object, e.g. {{\"value\": ...}}, and pass that as {field}."
            ),
        ))
    }
}

/// The length in bytes of `v` written as compact JSON, without allocating.
pub fn compact_size(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Count(0);
    serde_json::to_writer(&mut counter, v).expect("serialising a Value into a counter cannot fail");
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn depth_limit_is_exactly_max_json_depth() {
        parse("data", &nested(MAX_JSON_DEPTH)).unwrap();
        let e = parse("data", &nested(MAX_JSON_DEPTH + 1)).unwrap_err();
        assert_eq!(e.sqlstate(), "54000");
        let e = parse("data", &nested(10_000)).unwrap_err();
        assert_eq!(e.sqlstate(), "54000");
        assert_eq!(
            e.detail().unwrap(),
            "The JSON nesting depth is 10000 levels."
        );
        let e = parse("data", r#"{"a": "[[[[", "b": [[{"c": "]]"}]]}"#).unwrap();
        assert_eq!(depth(&e), 4);
        assert_eq!(text_depth(r#"{"a": "[[[[", "b": [[{"c": "]]\"["}]]}"#), 4);
    }

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth(&serde_json::json!(1)), 0);
        assert_eq!(depth(&serde_json::json!({"a": [1, {"b": []}]})), 4);
        let deep = parse("data", &nested(MAX_JSON_DEPTH)).unwrap();
        require_depth("data", &deep).unwrap();
        let deeper = serde_json::Value::Array(vec![deep]);
        assert_eq!(
            require_depth("data", &deeper).unwrap_err().sqlstate(),
            "54000"
        );
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        let text = r#"{"big":123456789012345678901234567890,"p":1.50,"tiny":1e-400}"#;
        let v = parse("data", text).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
    }

    #[test]
    fn decimals_stay_in_the_range_of_numeric() {
        let d = |t: &str| decimal(&Number::from_str(t).unwrap());
        for t in [
            "0",
            "-1.50",
            "1e3",
            "2E+3",
            "-2.5e-7",
            "1e131071",
            "1e-16383",
            "0.5e-16382",
        ] {
            assert_eq!(
                d(t).map(|x| x.to_string()),
                Some(BigDecimal::from_str(t).unwrap().to_string()),
                "{t}"
            );
        }
        // Found by the property tests (shared/tests/properties.rs): exponents
        // beyond an i64 made BigDecimal panic, and large ones took minutes.
        for t in [
            "1e131072",
            "1e-16384",
            "1e100000000",
            "1e99999999999999999999",
            "-1E-9223372036854775809",
            "1e9223372036854775808",
            "1e9223372036854775807",
        ] {
            assert!(d(t).is_none(), "{t}");
        }
    }

    #[test]
    fn compact_size_matches_serialised_length() {
        let v = parse("data", r#"{"a": [1, 2.5, "é"], "b": {"c": null}}"#).unwrap();
        assert_eq!(compact_size(&v), serde_json::to_string(&v).unwrap().len());
    }

    #[test]
    fn require_object_names_the_type_found() {
        let e = require_object("metadata", &Value::Array(vec![])).unwrap_err();
        assert_eq!(e.message(), "metadata must be a JSON object, not array");
    }
}

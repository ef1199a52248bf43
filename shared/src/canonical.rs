//! Canonical JSON: the one text form of a value the core produces, so two
//! implementations (the database and the browser) compare byte for byte.
//!
//! The rule:
//! * no white space;
//! * object keys sorted by Unicode code point (byte order of their UTF-8);
//! * strings escaped as RFC 8259 requires and no more (`"`, `\`, and control
//!   characters; `\n`, `\t`, ... for the usual ones, `\u00XX` for the rest);
//! * numbers written with their exact digits as received (`1.50` stays `1.50`;
//!   Postgres writes numbers in plain notation, and an exponent a client sends
//!   is written `2e+3`), and results of arithmetic in plain decimal notation
//!   with the larger scale of the operands (`1.50 + 1` is `2.50`).

use serde_json::Value;

/// The canonical text of `v`.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write(out, v);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::String(s) => write_str(out, s),
        other => out.push_str(&other.to_string()),
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string always serialises"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sorted_no_space_numbers_exact() {
        let v: Value =
            serde_json::from_str(r#"{"b": 1.50, "a": {"é": [1, -0.25], "Z": null}, "": "x\ny"}"#)
                .unwrap();
        assert_eq!(
            to_string(&v),
            r#"{"":"x\ny","a":{"Z":null,"é":[1,-0.25]},"b":1.50}"#
        );
    }
}

//! Rules for the identifiers of the envelope.
//!
//! * ids (`stream_id`, `actor`, `correlation_id`, `causation_id`): any
//!   printable text, 1 to 255 characters, with no control characters, no
//!   invisible formatting characters (zero-width spaces, bidirectional
//!   overrides, ...) and no leading or trailing white space. These are the
//!   values people paste from logs; the rules keep two ids that look
//!   identical from being different.
//! * references (`correlation_id`, `causation_id`): ids, and a uuid among
//!   them is kept in its canonical form (lower-case, hyphenated), so that
//!   `6F1C2F0E5B1E…` and `6f1c2f0e-5b1e-…` tie the same events together.
//! * type names (`stream_type`, `event_type`): 1 to 100 characters, a letter
//!   first, then letters, digits and `_ - . : /` (`OrderCreated`,
//!   `billing.invoice-issued`, `shop/Order`).

use crate::error::{Error, Result};
use crate::limits::{MAX_ID_CHARS, MAX_TYPE_CHARS};

/// Characters that render as nothing or reorder text.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E0FFF}')
}

fn check_length(field: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(
            field,
            "must not be empty",
            format!("Pass a non-empty {field}."),
        ));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(Error::TooLong {
            field: field.to_string(),
            actual: chars,
            max,
        });
    }
    Ok(())
}

/// Validates an id: `stream_id` or `actor`.
pub fn validate_id(field: &str, value: &str) -> Result<()> {
    check_length(field, value, MAX_ID_CHARS)?;
    if let Some((pos, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() || is_invisible_format(*c))
    {
        return Err(Error::invalid(
            field,
            format!(
                "contains the invisible or control character U+{:04X} at position {}",
                c as u32,
                pos + 1
            ),
            format!("Use only printable characters in {field}."),
        ));
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Err(Error::invalid(
            field,
            "must not begin or end with white space",
            format!("Trim {field}."),
        ));
    }
    Ok(())
}

/// Validates a reference (`correlation_id`, `causation_id`: a workflow's
/// execution id, a request id, the id of the causing event or command) and
/// returns the form it is stored and looked up in: an id as given, or, if it
/// is a uuid in any of the forms Postgres' `uuid` type reads (hyphenated or
/// not, upper or lower case, in braces), that uuid lower-case and hyphenated.
pub fn reference(field: &str, value: &str) -> Result<String> {
    validate_id(field, value)?;
    Ok(match as_uuid(value) {
        Some(u) => u.hyphenated().to_string(),
        None => value.to_string(),
    })
}

/// The uuid `value` spells, in one of the forms Postgres' `uuid` type reads
/// (hyphenated or not, either case, in braces).
pub fn as_uuid(value: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::try_parse(value)
        .ok()
        .filter(|_| !value.starts_with("urn:"))
}

/// The `correlation_id` and `causation_id` of an append, as stored.
pub fn check_references(
    correlation_id: Option<&str>,
    causation_id: Option<&str>,
) -> Result<(Option<String>, Option<String>)> {
    Ok((
        correlation_id
            .map(|v| reference("correlation_id", v))
            .transpose()?,
        causation_id
            .map(|v| reference("causation_id", v))
            .transpose()?,
    ))
}

/// Validates a type name: `stream_type` or `event_type`.
pub fn validate_type_name(field: &str, value: &str) -> Result<()> {
    check_length(field, value, MAX_TYPE_CHARS)?;
    let hint = || {
        format!(
            "Start {field} with a letter and use only letters, digits and _ - . : / \
             (for example 'OrderCreated' or 'billing.invoice-issued')."
        )
    };
    let mut chars = value.chars();
    let first = chars.next().expect("checked non-empty");
    if !first.is_alphabetic() {
        return Err(Error::invalid(
            field,
            format!("must start with a letter, not {first:?}"),
            hint(),
        ));
    }
    if let Some(bad) = chars.find(|c| !(c.is_alphanumeric() || "_-.:/".contains(*c))) {
        return Err(Error::invalid(
            field,
            format!("contains the character {bad:?}, which is not allowed"),
            hint(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_pass() {
        for id in [
            "order-001",
            "Order 42",
            "ünïcødé/客户-7",
            "a",
            &"x".repeat(255),
        ] {
            validate_id("stream_id", id).unwrap();
        }
    }

    #[test]
    fn ids_reject_empty_long_control_invisible_and_padded() {
        let cases = [
            ("", "22023"),
            (&"x".repeat(256) as &str, "22001"),
            ("a\nb", "22023"),
            ("a\u{7}", "22023"),
            ("a\u{200B}b", "22023"),
            ("\u{202E}evil", "22023"),
            (" padded", "22023"),
            ("padded\t", "22023"),
        ];
        for (id, code) in cases {
            let e = validate_id("stream_id", id).unwrap_err();
            assert_eq!(e.sqlstate(), code, "{id:?}");
            assert_eq!(e.field(), "stream_id");
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        validate_id("stream_id", &"é".repeat(255)).unwrap();
        let e = validate_id("stream_id", &"é".repeat(256)).unwrap_err();
        assert_eq!(e.detail().unwrap(), "The value has 256 characters.");
    }

    #[test]
    fn references_keep_text_and_canonicalise_uuids() {
        assert_eq!(reference("correlation_id", "exec-123").unwrap(), "exec-123");
        for form in [
            "6f1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10",
            "6F1C2F0E-5B1E-4A55-9D53-0B7C0D1C9A10",
            "6f1c2f0e5b1e4a559d530b7c0d1c9a10",
            "{6f1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10}",
        ] {
            assert_eq!(
                reference("correlation_id", form).unwrap(),
                "6f1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10",
                "{form}"
            );
        }
        let e = reference("causation_id", " exec").unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "causation_id"));
        let e = reference("correlation_id", &"x".repeat(256)).unwrap_err();
        assert_eq!(e.sqlstate(), "22001");
    }

    #[test]
    fn type_names() {
        for t in [
            "OrderCreated",
            "billing.invoice-issued",
            "shop/Order:v2",
            "Ordre_été",
        ] {
            validate_type_name("event_type", t).unwrap();
        }
        for t in [
            "",
            "1Order",
            "Order Created",
            "Order;DROP",
            "-x",
            "a\u{200B}",
        ] {
            let e = validate_type_name("event_type", t).unwrap_err();
            assert_eq!(e.sqlstate(), "22023", "{t:?}");
        }
        let e = validate_type_name("stream_type", &"T".repeat(101)).unwrap_err();
        assert_eq!(e.sqlstate(), "22001");
    }
}

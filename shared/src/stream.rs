//! Streams: their ids and types, and which version a read of one means.

use crate::error::{Error, Object, Result};
use crate::identifier::{validate_id, validate_type_name};

/// Validates the stream-level arguments of an append.
pub fn validate_stream(stream_id: &str, stream_type: Option<&str>) -> Result<()> {
    validate_id("stream_id", stream_id)?;
    if let Some(t) = stream_type {
        validate_type_name("stream_type", t)?;
    }
    Ok(())
}

/// The stream type a new stream takes when the append names none: the word
/// before the first `-` of its id, if that word is letters and none of them
/// a capital (words may be joined by `_`): `order-001` -> `order`,
/// `line_item-7f3a` -> `line_item`, `客户-7` -> `客户`. Nothing else is a type: an id that is a
/// uuid, has no `-`, or starts with a code (`ES-TEST-001`, `ORD-2024-7`),
/// a number or a hexadecimal group (`ab1c2f0e-...`) has no default type,
/// and an append that creates such a stream must pass `stream_type`.
pub fn default_stream_type(stream_id: &str) -> std::result::Result<&str, &'static str> {
    if crate::identifier::as_uuid(stream_id).is_some() {
        return Err("is a uuid, which names a stream but not its type");
    }
    let Some((word, rest)) = stream_id.split_once('-') else {
        return Err("has no '-' after a type word");
    };
    let is_word = !word.is_empty()
        && word.split('_').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_alphabetic() && !c.is_uppercase())
        });
    if !is_word || rest.is_empty() {
        return Err("does not start with a lower-case word and '-'");
    }
    Ok(word)
}

/// The stream type an append records. A stream keeps the type it was created
/// with; a new stream takes the given type, or else its id's
/// [`default_stream_type`].
pub fn resolve_stream_type(
    stream_id: &str,
    given: Option<&str>,
    existing: Option<&str>,
) -> Result<String> {
    match (existing, given) {
        (Some(existing), Some(given)) if existing != given => Err(Error::StreamTypeMismatch {
            stream_id: stream_id.to_string(),
            existing: existing.to_string(),
            given: given.to_string(),
        }),
        (Some(existing), _) => Ok(existing.to_string()),
        (None, Some(given)) => Ok(given.to_string()),
        (None, None) => default_stream_type(stream_id)
            .map(str::to_string)
            .map_err(|why| {
                Error::invalid(
                    "stream_type",
                    format!("is required: stream_id \"{stream_id}\" {why}"),
                    "Pass stream_type => 'Order' when a stream is created; only ids of the form \
                     '<lower-case word>-<rest>' have a default type (order-001 -> order).",
                )
            }),
    }
}

/// A version argument of a read of a stream at version `head`: 0 (the state
/// before the first event) to `head`. A version the stream has not reached
/// is an error, not a silent answer for another version.
pub fn check_version(field: &str, version: Option<i64>, head: u64) -> Result<u64> {
    match version {
        Some(v) if v >= 0 && v as u64 <= head => Ok(v as u64),
        Some(v) if v > 0 => Err(Error::invalid(
            field,
            format!("is beyond the stream's head ({v} > {head})"),
            "Ask for a version the stream has reached (chronicle.stream_version), or NULL \
             for its head.",
        )),
        _ => Err(Error::invalid(
            field,
            format!("must be a whole version between 0 and {head}"),
            "Pass a version of the stream: 0 is the state before the first event.",
        )),
    }
}

/// The version a single-value read of a stream (`state_at`) answers for:
/// `to_version` (NULL: the head), and with `as_of`, no later than the
/// version before `first_recorded_after` (the first event recorded after
/// that time; see [`crate::time::AsOf`]). An id no stream can have, and a
/// stream that does not exist (`head` None), are errors: there is no state
/// to give.
pub fn read_target(
    stream_id: &str,
    head: Option<u64>,
    to_version: Option<i64>,
    first_recorded_after: Option<u64>,
) -> Result<u64> {
    validate_id("stream_id", stream_id)?;
    let head = head.ok_or_else(|| Error::not_found(Object::Stream, stream_id))?;
    let version = match to_version {
        Some(_) => check_version("to_version", to_version, head)?,
        None => head,
    };
    Ok(first_recorded_after.map_or(version, |first| version.min(first.saturating_sub(1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_types_resolve() {
        assert_eq!(resolve_stream_type("order-1", None, None).unwrap(), "order");
        assert_eq!(
            resolve_stream_type("order-1", Some("Order"), None).unwrap(),
            "Order"
        );
        assert_eq!(
            resolve_stream_type("order-1", None, Some("Order")).unwrap(),
            "Order"
        );
        assert_eq!(
            resolve_stream_type("order-1", Some("Order"), Some("Order")).unwrap(),
            "Order"
        );
        let e = resolve_stream_type("order-1", Some("Invoice"), Some("Order")).unwrap_err();
        assert_eq!((e.sqlstate(), e.name()), ("22023", "stream_type_mismatch"));
        let e = resolve_stream_type("42", None, None).unwrap_err();
        assert_eq!(e.field(), "stream_type");
    }

    #[test]
    fn only_a_lower_case_word_is_a_default_type() {
        for (id, ty) in [
            ("order-001", "order"),
            ("order-ES-TEST-001", "order"),
            ("line_item-7f3a", "line_item"),
            ("account-6f1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10", "account"),
            ("cafe-1", "cafe"),
            ("ordre_été-1", "ordre_été"),
            ("客户-7", "客户"),
        ] {
            assert_eq!(default_stream_type(id), Ok(ty), "{id}");
        }
        for id in [
            "ES-TEST-001",
            "ORD-2024-7",
            "Order-1",
            "ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10",
            "abcdefab-5b1e-4a55-9d53-0b7c0d1c9a10",
            "ABCDEFAB-5B1E-4A55-9D53-0B7C0D1C9A10",
            "abcdefab5b1e4a559d530b7c0d1c9a10",
            "order",
            "order-",
            "-1",
            "_x-1",
            "x__y-1",
            "42-1",
            "Été-1",
        ] {
            assert!(default_stream_type(id).is_err(), "{id}");
            let e = resolve_stream_type(id, None, None).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", "stream_type"), "{id}");
        }
        // A stream that exists keeps its type, whatever its id.
        assert_eq!(
            resolve_stream_type("ES-TEST-001", None, Some("Order")).unwrap(),
            "Order"
        );
    }

    #[test]
    fn a_read_target_exists() {
        assert_eq!(read_target("s", Some(4), None, None).unwrap(), 4);
        assert_eq!(read_target("s", Some(4), Some(0), None).unwrap(), 0);
        assert_eq!(read_target("s", Some(4), Some(4), Some(3)).unwrap(), 2);
        assert_eq!(read_target("s", Some(4), None, Some(1)).unwrap(), 0);
        let e = read_target("s", Some(4), Some(99), None).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "to_version"));
        let e = read_target("s", None, None, None).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("42704", "stream_id"));
    }
}

//! The global feed and subscriptions: the rules for their arguments and
//! checkpoints. The sealing itself (which positions events get) is done by
//! the extension in SQL; what a caller may ask of the feed is decided here.

use crate::append::require;
use crate::identifier::{validate_id, validate_type_name};
use crate::{Error, Result};

/// The largest consumer group `poll` accepts.
pub const MAX_CONSUMERS: i64 = 1024;

/// A feed position argument (`after_position`, `start_position`, ...):
/// present and not negative.
pub fn check_position(field: &str, value: Option<i64>) -> Result<u64> {
    let v = require(value, field)?;
    u64::try_from(v).map_err(|_| {
        Error::invalid(
            field,
            format!("must not be negative (got {v})"),
            format!("Positions start at 1; pass {field} => 0 for the beginning of the feed."),
        )
    })
}

/// The optional filter of a feed read or a subscription: a stream type and
/// a list of event types (NULL: all). An empty list or a NULL element is an
/// error rather than a filter that silently matches nothing.
pub fn check_filter(stream_type: Option<&str>, event_types: Option<&[Option<&str>]>) -> Result<()> {
    if let Some(t) = stream_type {
        validate_type_name("stream_type", t)?;
    }
    if let Some(types) = event_types {
        if types.is_empty() {
            return Err(Error::invalid(
                "event_types",
                "must not be empty",
                "Pass NULL to receive every event type.",
            ));
        }
        for (i, t) in types.iter().enumerate() {
            let field = format!("event_types[{}]", i + 1);
            validate_type_name(&field, require(*t, &field)?)?;
        }
    }
    Ok(())
}

/// A subscription name: the rules of ids (1-255 printable characters).
pub fn check_name(name: Option<&str>) -> Result<&str> {
    let name = require(name, "name")?;
    validate_id("name", name)?;
    Ok(name)
}

/// Consumer `consumer` of a group of `consumers` (consumer groups).
pub fn check_consumer(consumer: Option<i64>, consumers: Option<i64>) -> Result<(u32, u32)> {
    let n = require(consumers, "consumers")?;
    if !(1..=MAX_CONSUMERS).contains(&n) {
        return Err(Error::invalid(
            "consumers",
            format!("must be between 1 and {MAX_CONSUMERS} (got {n})"),
            "Pass the number of consumers in the group; 1 for a single consumer.",
        ));
    }
    let k = require(consumer, "consumer")?;
    if !(0..n).contains(&k) {
        return Err(Error::invalid(
            "consumer",
            format!("must be between 0 and consumers - 1 = {} (got {k})", n - 1),
            "Number the consumers of a group 0, 1, ..., consumers - 1.",
        ));
    }
    Ok((k as u32, n as u32))
}

/// A position to acknowledge or to reset to: not negative and not beyond
/// the feed's head (nothing there has been handed out).
pub fn check_known_position(field: &str, value: Option<i64>, head: u64) -> Result<u64> {
    let p = check_position(field, value)?;
    if p > head {
        return Err(Error::invalid(
            field,
            format!("is beyond the head of the feed ({p} > {head})"),
            "Acknowledge or reset only to positions that poll or read_all returned.",
        ));
    }
    Ok(p)
}

/// The error for a subscription that does not exist.
pub fn subscription_not_found(name: &str) -> Error {
    Error::NotFound {
        field: "name".to_string(),
        what: "subscription",
        name: name.to_string(),
        hint: "Create it with chronicle.create_subscription; SELECT name FROM \
               chronicle.subscriptions lists the existing ones.",
    }
}

/// The error for a subscription created twice.
pub fn subscription_exists(name: &str) -> Error {
    Error::AlreadyExists {
        field: "name".to_string(),
        what: "subscription",
        name: name.to_string(),
        hint: "Pick another name, or drop the old one with chronicle.drop_subscription.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_not_negative_and_known() {
        assert_eq!(check_position("after_position", Some(0)).unwrap(), 0);
        assert_eq!(
            check_position("after_position", Some(-1))
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
        assert_eq!(
            check_position("after_position", None)
                .unwrap_err()
                .sqlstate(),
            "22004"
        );
        assert_eq!(check_known_position("position", Some(5), 5).unwrap(), 5);
        let e = check_known_position("position", Some(6), 5).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "position"));
    }

    #[test]
    fn filters_name_the_bad_element() {
        assert!(check_filter(None, None).is_ok());
        assert!(check_filter(Some("Order"), Some(&[Some("OrderPlaced")])).is_ok());
        assert_eq!(
            check_filter(None, Some(&[])).unwrap_err().field(),
            "event_types"
        );
        let e = check_filter(None, Some(&[Some("A"), None])).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22004", "event_types[2]"));
        let e = check_filter(None, Some(&[Some("A'; DROP TABLE x; --")])).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "event_types[1]"));
        assert_eq!(
            check_filter(Some(""), None).unwrap_err().field(),
            "stream_type"
        );
    }

    #[test]
    fn consumers_form_a_group() {
        assert_eq!(check_consumer(Some(2), Some(3)).unwrap(), (2, 3));
        assert_eq!(
            check_consumer(Some(3), Some(3)).unwrap_err().field(),
            "consumer"
        );
        assert_eq!(
            check_consumer(Some(-1), Some(3)).unwrap_err().field(),
            "consumer"
        );
        assert_eq!(
            check_consumer(Some(0), Some(0)).unwrap_err().field(),
            "consumers"
        );
        assert_eq!(
            check_consumer(Some(0), Some(MAX_CONSUMERS + 1))
                .unwrap_err()
                .field(),
            "consumers"
        );
        assert_eq!(
            check_consumer(None, Some(1)).unwrap_err().sqlstate(),
            "22004"
        );
    }

    #[test]
    fn names_follow_the_id_rules() {
        assert_eq!(
            check_name(Some("orders-projection")).unwrap(),
            "orders-projection"
        );
        assert_eq!(
            check_name(Some("x'); DROP TABLE chronicle.events; --")).unwrap(),
            "x'); DROP TABLE chronicle.events; --"
        );
        assert_eq!(check_name(None).unwrap_err().sqlstate(), "22004");
        assert_eq!(check_name(Some("")).unwrap_err().sqlstate(), "22023");
        assert_eq!(
            check_name(Some(&"n".repeat(256))).unwrap_err().sqlstate(),
            "22001"
        );
        assert_eq!(check_name(Some("a\u{0}b")).unwrap_err().sqlstate(), "22023");
    }

    #[test]
    fn missing_and_duplicate_subscriptions_have_their_codes() {
        let e = subscription_not_found("p");
        assert_eq!(
            (e.sqlstate(), e.message().as_str()),
            ("42704", "subscription \"p\" does not exist")
        );
        assert_eq!(subscription_exists("p").sqlstate(), "42710");
    }
}

//! The global feed: what a caller may ask of it. The sealing itself (which
//! positions events get) is done by the extension in SQL; the rules for the
//! feed's arguments and for when a seal can run are decided here.

use crate::error::{require, Blocker, Error, Result};
use crate::identifier::validate_type_name;

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

/// Whether an event passes a filter (see [`check_filter`]).
pub fn passes(
    stream_type: Option<&str>,
    event_types: Option<&[String]>,
    event_stream_type: &str,
    event_type: &str,
) -> bool {
    stream_type.is_none_or(|t| t == event_stream_type)
        && event_types.is_none_or(|types| types.iter().any(|t| t == event_type))
}

/// Whether a seal can run in this transaction: it needs the primary, a
/// read-write transaction, and READ COMMITTED (a seal must see the latest
/// sealed positions). `operation` names the caller in the error.
pub fn check_can_seal(
    operation: &'static str,
    standby: bool,
    read_only: bool,
    repeatable_read: bool,
) -> Result<()> {
    let blocker = if standby {
        Blocker::Standby
    } else if read_only {
        Blocker::ReadOnlyTransaction
    } else if repeatable_read {
        Blocker::RepeatableRead
    } else {
        return Ok(());
    };
    Err(Error::Unavailable { operation, blocker })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn filters_pass_what_they_name() {
        let types = ["Paid".to_string()];
        assert!(passes(None, None, "Order", "Created"));
        assert!(passes(Some("Order"), Some(&types), "Order", "Paid"));
        assert!(!passes(Some("Order"), Some(&types), "Order", "Created"));
        assert!(!passes(Some("Order"), None, "Invoice", "Paid"));
    }

    #[test]
    fn a_seal_needs_a_read_committed_write_on_the_primary() {
        assert!(check_can_seal("chronicle.seal", false, false, false).is_ok());
        let e = check_can_seal("chronicle.seal", true, true, true).unwrap_err();
        assert_eq!(e.message(), "chronicle.seal cannot run on a standby");
        let e = check_can_seal("chronicle.seal", false, false, true).unwrap_err();
        assert_eq!(
            (e.sqlstate(), e.message().as_str()),
            (
                "55000",
                "chronicle.seal cannot run at REPEATABLE READ or SERIALIZABLE"
            )
        );
    }
}

//! The arguments every SQL function spells the same way, and their rules:
//! a page size is `max_count`, a feed position `after_position` (reading
//! after it) or `to_position` (a checkpoint moved to it), a version range
//! `from_version` .. `to_version` (inclusive). The README's "Naming rules"
//! section lists them all.

use crate::error::{require, Error, Result};

/// Validates a page size (`max_count`): present and not negative.
pub fn check_count(field: &str, value: Option<i64>) -> Result<u64> {
    let v = require(value, field)?;
    u64::try_from(v).map_err(|_| {
        Error::invalid(
            field,
            format!("must not be negative (got {v})"),
            format!("Pass the largest number of rows to return as {field}."),
        )
    })
}

/// Validates the arguments of a stream read (`read_stream`,
/// `state_history`, `export_stream`): a stream id as an append would take
/// it (a read of an id no stream can have is a mistake, not an empty
/// stream), `from_version` at least 0 (0 and 1 both read from the first
/// event: stores that count versions from 0 pass 0), `to_version` (NULL:
/// the head) not below it.
pub fn check_version_range(
    stream_id: Option<&str>,
    from_version: Option<i64>,
    to_version: Option<i64>,
) -> Result<()> {
    crate::identifier::validate_id("stream_id", require(stream_id, "stream_id")?)?;
    let from = require(from_version, "from_version")?;
    if from < 0 {
        return Err(Error::invalid(
            "from_version",
            format!("must not be negative (got {from})"),
            "Versions start at 1: pass from_version => 1 (or 0) to read from the beginning.",
        ));
    }
    if let Some(to) = to_version {
        if to < from {
            return Err(Error::invalid(
                "to_version",
                format!("must not be below from_version ({to} < {from})"),
                "The range is inclusive: to_version => from_version reads one version; \
                 NULL reads to the end of the stream.",
            ));
        }
    }
    Ok(())
}

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

/// A position to acknowledge or to reset to: not negative and not beyond
/// the feed's head (nothing there has been handed out).
pub fn check_known_position(field: &str, value: Option<i64>, head: u64) -> Result<u64> {
    let p = check_position(field, value)?;
    if p > head {
        return Err(Error::invalid(
            field,
            format!("is beyond the head of the feed ({p} > {head})"),
            format!(
                "Pass {field} at most the feed's head (chronicle.feed_head()): no event has a \
                 later position yet."
            ),
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ranges() {
        check_version_range(Some("s"), Some(1), None).unwrap();
        check_version_range(Some("s"), Some(2), Some(2)).unwrap();
        check_version_range(Some("s"), Some(0), None).unwrap();
        assert_eq!(
            check_version_range(None, Some(1), None)
                .unwrap_err()
                .sqlstate(),
            "22004"
        );
        assert_eq!(
            check_version_range(Some("s"), Some(-1), None)
                .unwrap_err()
                .field(),
            "from_version"
        );
        let e = check_version_range(Some(&"s".repeat(256)), Some(1), None).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22001", "stream_id"));
        let e = check_version_range(Some("s"), Some(3), Some(2)).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "to_version"));
        assert_eq!(
            check_version_range(Some("s"), Some(1), Some(-1))
                .unwrap_err()
                .field(),
            "to_version"
        );
    }

    #[test]
    fn counts() {
        assert_eq!(check_count("max_count", Some(0)).unwrap(), 0);
        assert_eq!(
            check_count("max_count", None).unwrap_err().sqlstate(),
            "22004"
        );
        assert_eq!(
            check_count("max_count", Some(-1)).unwrap_err().sqlstate(),
            "22023"
        );
    }

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
        assert_eq!(check_known_position("to_position", Some(5), 5).unwrap(), 5);
        let e = check_known_position("to_position", Some(6), 5).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "to_position"));
    }
}

//! The decisions of an append, in the order every store makes them.
//!
//! A store (the Postgres extension, or [`crate::memory::MemoryStore`]) does:
//!
//! 1. [`check_append_args`]: stream id, stream type, expected version;
//! 2. validate every event ([`crate::payload::validate_payload`] or
//!    [`crate::batch::parse_batch`]);
//! 3. look up the event ids the caller gave and ask
//!    [`crate::sequencing::classify_retry`] whether this is a retry;
//! 4. lock the stream, read its head, and ask [`decide_append`] for the
//!    versions and the stream type;
//! 5. write.
//!
//! (The extension does 4 and 5 in one statement, optimistically: it locks,
//! advances the head and writes, then asks [`decide_append`]; a rejection
//! raises an error that undoes the write, so the visible outcome is the same.)
//!
//! The shared test vectors run this sequence against the extension and the
//! in-memory model, so the order of checks, and so which error wins when a
//! call is wrong in two ways, is the same everywhere.

use crate::error::{require, Error, Result};
use crate::sequencing::{plan_append, AppendPlan, ExpectedVersion};
use crate::stream::{resolve_stream_type, validate_stream};

/// A stream's head as stored: its version and type, and whether it was
/// deleted for good (`delete_stream(..., hard => true)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub version: u64,
    pub stream_type: String,
    pub deleted_for_good: bool,
    /// Archived (`archive_stream`): it takes no event until restored.
    pub archived: bool,
}

/// What an accepted append writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendDecision {
    pub plan: AppendPlan,
    pub stream_type: String,
    /// Whether the stream is created by this append.
    pub creates_stream: bool,
}

/// Step 1: the stream-level arguments (`version`: see
/// [`ExpectedVersion::from_sql_with_version`]).
pub fn check_append_args(
    stream_id: Option<&str>,
    stream_type: Option<&str>,
    expected_version: Option<i64>,
    version: Option<i64>,
) -> Result<(String, ExpectedVersion)> {
    let stream_id = require(stream_id, "stream_id")?;
    validate_stream(stream_id, stream_type)?;
    let expected = ExpectedVersion::from_sql_with_version(expected_version, version)?;
    Ok((stream_id.to_string(), expected))
}

/// Step 4: given the locked head (None for a new stream), the versions
/// `count` events take and the stream type to record.
pub fn decide_append(
    stream_id: &str,
    expected: ExpectedVersion,
    given_type: Option<&str>,
    head: Option<&Head>,
    count: usize,
) -> Result<AppendDecision> {
    if head.is_some_and(|h| h.deleted_for_good) {
        return Err(Error::StreamDeleted {
            stream_id: stream_id.to_string(),
        });
    }
    if head.is_some_and(|h| h.archived) {
        return Err(Error::StreamArchived {
            stream_id: stream_id.to_string(),
            operation: "an append",
        });
    }
    let current = head.map_or(0, |h| h.version);
    let plan = plan_append(stream_id, expected, current, count)?;
    let stream_type =
        resolve_stream_type(stream_id, given_type, head.map(|h| h.stream_type.as_str()))?;
    Ok(AppendDecision {
        plan,
        stream_type,
        creates_stream: head.is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_checked_in_order() {
        assert_eq!(
            check_append_args(None, None, Some(-1), None)
                .unwrap_err()
                .field(),
            "stream_id"
        );
        assert_eq!(
            check_append_args(Some("s"), Some("1x"), Some(-1), None)
                .unwrap_err()
                .field(),
            "stream_type"
        );
        assert_eq!(
            check_append_args(Some("s"), None, Some(-1), None)
                .unwrap_err()
                .field(),
            "expected_version"
        );
        let (_, e) = check_append_args(Some("s"), None, None, Some(3)).unwrap();
        assert_eq!(e, ExpectedVersion::Exact(2));
        let (_, e) = check_append_args(Some("s"), None, Some(0), Some(1)).unwrap();
        assert_eq!(e, ExpectedVersion::NoStream);
        for (expected, version) in [(None, Some(0)), (Some(1), Some(3))] {
            let e = check_append_args(Some("s"), None, expected, version).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", "version"));
        }
    }

    #[test]
    fn conflict_is_reported_before_a_type_mismatch() {
        let head = Head {
            version: 2,
            stream_type: "Order".into(),
            deleted_for_good: false,
            archived: false,
        };
        let e = decide_append(
            "o-1",
            ExpectedVersion::Exact(1),
            Some("Invoice"),
            Some(&head),
            1,
        )
        .unwrap_err();
        assert_eq!(e.sqlstate(), "40001");
        let d = decide_append("o-1", ExpectedVersion::Exact(2), None, Some(&head), 2).unwrap();
        assert_eq!((d.plan.first, d.plan.last, d.creates_stream), (3, 4, false));
    }

    #[test]
    fn a_stream_deleted_for_good_takes_no_event() {
        let head = Head {
            version: 2,
            stream_type: "Order".into(),
            deleted_for_good: true,
            archived: false,
        };
        for expected in [
            ExpectedVersion::Any,
            ExpectedVersion::Exact(2),
            ExpectedVersion::Exact(1),
        ] {
            let e = decide_append("o-1", expected, None, Some(&head), 1).unwrap_err();
            assert_eq!(
                (e.sqlstate(), e.name(), e.field()),
                ("55Z01", "stream_deleted", "stream_id")
            );
        }
    }
}

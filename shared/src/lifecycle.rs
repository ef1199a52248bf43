//! The rules of a stream's lifecycle: deleting it (`delete_stream`), cutting
//! its old history behind a base state (`truncate_stream`, retention), and
//! what may still be asked of a stream whose history was cut.
//!
//! The extension locks the stream's head, reads it into a [`StreamState`]
//! and asks [`decide_delete`] or [`decide_truncate`] what to remove; nothing
//! is removed when they refuse. Removed events leave the global feed, but
//! their positions are never handed out again and no other event moves
//! (the README's "Lifecycle" section).
//!
//! What a projection sees: each removal leaves one event of the stream in
//! the feed, after the events it removed ([`Deletion::tombstone`],
//! [`Truncation::tombstone`]): `$StreamDeleted` or `$StreamTruncated`, with
//! the versions removed. It has a negative version (-1, -2, ... for the
//! stream's successive removals), outside the stream's own versions, so
//! that no read of the stream, no replay and no export sees it; a
//! projection that follows the feed (or a subscription to the stream's
//! type) does, and drops what it derived from those versions.

use serde_json::{json, Value};

use crate::error::{require, Error, Object, Result};
use crate::identifier::{validate_id, validate_type_name};
use crate::sequencing::ExpectedVersion;

/// A stream's head as the lifecycle functions read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamState {
    /// The version of its last event (kept when the events are removed).
    pub version: u64,
    /// The first version still stored: 1, or after a truncation the
    /// truncation's `before_version`, or after a deletion `version + 1`.
    pub first_version: u64,
    /// Deleted (its events removed); it reads as not existing.
    pub deleted: bool,
    /// Deleted with `hard => true`: never written again.
    pub deleted_for_good: bool,
    /// Archived (`archive_stream`): its events are in the archive table.
    pub archived: bool,
}

/// What a `delete_stream` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// The versions removed, `first..=last` (empty when `first > last`:
    /// a deleted stream deleted again).
    pub first: u64,
    pub last: u64,
    /// Whether the stream is closed for good.
    pub hard: bool,
}

/// The event type of a deletion's tombstone.
pub const STREAM_DELETED: &str = "$StreamDeleted";
/// The event type of a truncation's (or retention's) tombstone.
pub const STREAM_TRUNCATED: &str = "$StreamTruncated";

impl Deletion {
    /// How many events it removes.
    pub fn count(&self) -> u64 {
        (self.last + 1).saturating_sub(self.first)
    }

    /// The event it leaves in the feed: its type and data.
    pub fn tombstone(&self, reason: Option<&str>) -> (&'static str, Value) {
        (
            STREAM_DELETED,
            json!({
                "from_version": self.first,
                "to_version": self.last,
                "events": self.count(),
                "hard": self.hard,
                "reason": reason,
            }),
        )
    }
}

/// The arguments of `delete_stream`: the stream id, the expectation (as in
/// `append_event`: NULL any, N exactly N) and `hard` (NULL: false).
pub fn check_delete_args(
    stream_id: Option<&str>,
    expected_version: Option<i64>,
    hard: Option<bool>,
) -> Result<(String, ExpectedVersion, bool)> {
    let stream_id = require(stream_id, "stream_id")?;
    validate_id("stream_id", stream_id)?;
    let expected = ExpectedVersion::from_sql(expected_version)?;
    Ok((stream_id.to_string(), expected, hard.unwrap_or(false)))
}

/// Judges a deletion against the locked head (None: no such stream, or
/// another tenant's). Deleting a deleted stream again removes nothing; it
/// may make a soft deletion hard.
pub fn decide_delete(
    stream_id: &str,
    expected: ExpectedVersion,
    hard: bool,
    head: Option<&StreamState>,
) -> Result<Deletion> {
    let head = head.ok_or_else(|| Error::not_found(Object::Stream, stream_id))?;
    refuse_archived(stream_id, head, "delete_stream")?;
    if !expected.admits(head.version) {
        return Err(Error::VersionConflict {
            stream_id: stream_id.to_string(),
            expected: expected.to_string(),
            actual: head.version,
        });
    }
    Ok(Deletion {
        first: head.first_version,
        last: head.version,
        hard: hard || head.deleted_for_good,
    })
}

/// What a `truncate_stream` removes: the versions `first..before`, keeping
/// the state at `before - 1` as the stream's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncation {
    pub first: u64,
    pub before: u64,
}

impl Truncation {
    /// How many events it removes (0: the history before `before` is gone
    /// already).
    pub fn count(&self) -> u64 {
        self.before.saturating_sub(self.first)
    }

    /// The version whose state becomes the stream's base.
    pub fn base(&self) -> u64 {
        self.before - 1
    }

    /// The event it leaves in the feed (`by`: `truncate` or `retention`).
    pub fn tombstone(&self, by: &str, reason: Option<&str>) -> (&'static str, Value) {
        (
            STREAM_TRUNCATED,
            json!({
                "from_version": self.first,
                "to_version": self.before - 1,
                "events": self.count(),
                "before_version": self.before,
                "by": by,
                "reason": reason,
            }),
        )
    }
}

/// The arguments of `truncate_stream`.
pub fn check_truncate_args(
    stream_id: Option<&str>,
    before_version: Option<i64>,
) -> Result<(String, u64)> {
    let stream_id = require(stream_id, "stream_id")?;
    validate_id("stream_id", stream_id)?;
    let before = require(before_version, "before_version")?;
    if before < 1 {
        return Err(Error::invalid(
            "before_version",
            format!("must be at least 1 (got {before})"),
            "Pass the first version to keep: the events before it are removed.",
        ));
    }
    Ok((stream_id.to_string(), before as u64))
}

/// Judges a truncation against the locked head. `before_version` may be
/// the head + 1 (every event removed, the head's state kept as the base),
/// not beyond; a deleted stream reads as not existing.
pub fn decide_truncate(
    stream_id: &str,
    before: u64,
    head: Option<&StreamState>,
) -> Result<Truncation> {
    let head = head
        .filter(|h| !h.deleted)
        .ok_or_else(|| Error::not_found(Object::Stream, stream_id))?;
    refuse_archived(stream_id, head, "truncate_stream")?;
    if before > head.version + 1 {
        return Err(Error::invalid(
            "before_version",
            format!(
                "is past the head of stream \"{stream_id}\" (version {}): it may be at most {}",
                head.version,
                head.version + 1
            ),
            "Pass a version the stream has reached: the events before it are removed, \
             the state just before it is kept.",
        ));
    }
    Ok(Truncation {
        first: head.first_version,
        before: before.max(head.first_version),
    })
}

/// An archived stream takes no lifecycle operation but its restore.
fn refuse_archived(stream_id: &str, head: &StreamState, operation: &'static str) -> Result<()> {
    if head.archived {
        return Err(Error::StreamArchived {
            stream_id: stream_id.to_string(),
            operation,
        });
    }
    Ok(())
}

/// Judges `archive_stream` (move the stream's events to the archive) and
/// `restore_stream` (`restore`: move them back) against the locked head.
pub fn decide_archive(stream_id: &str, head: Option<&StreamState>, restore: bool) -> Result<()> {
    let head = head
        .filter(|h| !h.deleted)
        .ok_or_else(|| Error::not_found(Object::Stream, stream_id))?;
    match (restore, head.archived) {
        (false, false) | (true, true) => Ok(()),
        (false, true) => refuse_archived(stream_id, head, "archive_stream"),
        (true, false) => Err(Error::invalid(
            "stream_id",
            format!("names stream \"{stream_id}\", which is not archived"),
            "Only an archived stream can be restored: chronicle.streams.archived_at says which are.",
        )),
    }
}

/// A retention rule: keep the last `max_count` events of each stream of a
/// type, and those younger than `max_age` (either or both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_count: Option<u64>,
    pub max_age: bool,
}

/// The arguments of `set_retention`: the stream type, `max_age` as its
/// interval's parts (months, days, microseconds; each must not be negative,
/// not all zero) and `max_count` (at least 1). None: no retention (both NULL).
pub fn check_retention_args(
    stream_type: Option<&str>,
    max_age: Option<(i32, i32, i64)>,
    max_count: Option<i64>,
) -> Result<(String, Option<Retention>)> {
    let stream_type = require(stream_type, "stream_type")?;
    validate_type_name("stream_type", stream_type)?;
    if let Some((months, days, micros)) = max_age {
        if months < 0 || days < 0 || micros < 0 || (months, days, micros) == (0, 0, 0) {
            return Err(Error::invalid(
                "max_age",
                "must be a positive interval",
                "Pass how long events are kept, e.g. '30 days', or NULL for no age limit.",
            ));
        }
    }
    if let Some(n) = max_count.filter(|n| *n < 1) {
        return Err(Error::invalid(
            "max_count",
            format!("must be at least 1 (got {n})"),
            "Pass how many of each stream's last events are kept, or NULL for no count limit.",
        ));
    }
    let rule = (max_age.is_some() || max_count.is_some()).then(|| Retention {
        max_count: max_count.map(|n| n as u64),
        max_age: max_age.is_some(),
    });
    Ok((stream_type.to_string(), rule))
}

/// Where retention cuts a stream at `head` whose first stored event is
/// `first`: before its last `max_count` events and before `first_young`
/// (the first version recorded within `max_age`, or `head + 1` when every
/// event is older), whichever removes more. None: nothing to remove.
pub fn retention_cut(head: &StreamState, rule: Retention, first_young: Option<u64>) -> Option<u64> {
    let by_count = rule.max_count.map(|n| (head.version + 1).saturating_sub(n));
    let by_age = if rule.max_age { first_young } else { None };
    let before = by_count.into_iter().chain(by_age).max()?;
    (before > head.first_version && !head.deleted && !head.archived)
        .then_some(before.min(head.version + 1))
}

/// Whether a read of a stream's state at `version` can be answered: the
/// state is known from `base` on (None: nothing was ever removed).
/// `field` and `asked` name what the caller passed (`to_version 3`,
/// `as_of 2026-...`).
pub fn check_kept(
    stream_id: &str,
    base: Option<u64>,
    version: u64,
    field: &'static str,
    asked: impl FnOnce() -> String,
) -> Result<()> {
    match base {
        Some(base) if version < base => Err(Error::HistoryRemoved {
            field,
            stream_id: stream_id.to_string(),
            asked: asked(),
            base,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(version: u64, first_version: u64) -> StreamState {
        StreamState {
            version,
            first_version,
            deleted: false,
            deleted_for_good: false,
            archived: false,
        }
    }

    #[test]
    fn delete_removes_what_is_left_and_checks_the_expectation() {
        let h = head(7, 3);
        let d = decide_delete("s", ExpectedVersion::Any, false, Some(&h)).unwrap();
        assert_eq!((d.first, d.last, d.count(), d.hard), (3, 7, 5, false));
        let d = decide_delete("s", ExpectedVersion::Exact(7), true, Some(&h)).unwrap();
        assert!(d.hard);
        let e = decide_delete("s", ExpectedVersion::Exact(6), false, Some(&h)).unwrap_err();
        assert_eq!(
            (e.sqlstate(), e.detail().unwrap().as_str()),
            ("40001", "Expected version 6, actual version 7.")
        );
        let e = decide_delete("s", ExpectedVersion::NoStream, false, Some(&h)).unwrap_err();
        assert_eq!(e.sqlstate(), "40001");
        let e = decide_delete("s", ExpectedVersion::Any, false, None).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("42704", "stream_id"));
    }

    #[test]
    fn deleting_again_removes_nothing_and_never_undoes_hard() {
        let gone = StreamState {
            version: 7,
            first_version: 8,
            deleted: true,
            deleted_for_good: true,
            archived: false,
        };
        let d = decide_delete("s", ExpectedVersion::Any, false, Some(&gone)).unwrap();
        assert_eq!((d.count(), d.hard), (0, true));
    }

    #[test]
    fn an_archived_stream_is_restored_before_anything_else() {
        let mut h = head(5, 1);
        assert!(decide_archive("s", Some(&h), false).is_ok());
        let e = decide_archive("s", Some(&h), true).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "stream_id"));
        h.archived = true;
        let e = decide_archive("s", Some(&h), false).unwrap_err();
        assert_eq!((e.sqlstate(), e.name()), ("55Z03", "stream_archived"));
        assert!(decide_archive("s", Some(&h), true).is_ok());
        for e in [
            decide_delete("s", ExpectedVersion::Any, false, Some(&h)).unwrap_err(),
            decide_truncate("s", 2, Some(&h)).unwrap_err(),
        ] {
            assert_eq!(e.sqlstate(), "55Z03");
        }
        let rule = Retention {
            max_count: Some(1),
            max_age: false,
        };
        assert_eq!(retention_cut(&h, rule, None), None);
        assert_eq!(
            decide_archive("s", None, false).unwrap_err().sqlstate(),
            "42704"
        );
    }

    #[test]
    fn delete_arguments() {
        let e = check_delete_args(None, None, None).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22004", "stream_id"));
        let e = check_delete_args(Some("s"), Some(-1), None).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "expected_version"));
        let e = check_delete_args(Some(""), None, None).unwrap_err();
        assert_eq!(e.field(), "stream_id");
        assert!(!check_delete_args(Some("s"), None, None).unwrap().2);
    }

    #[test]
    fn truncate_keeps_versions_and_refuses_the_future() {
        let h = head(10, 1);
        let t = decide_truncate("s", 4, Some(&h)).unwrap();
        assert_eq!((t.first, t.before, t.count(), t.base()), (1, 4, 3, 3));
        // Up to the head + 1: everything goes, the head's state stays.
        assert_eq!(decide_truncate("s", 11, Some(&h)).unwrap().count(), 10);
        let e = decide_truncate("s", 12, Some(&h)).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "before_version"));
        // Already cut further: nothing more to remove.
        let t = decide_truncate("s", 2, Some(&head(10, 5))).unwrap();
        assert_eq!(t.count(), 0);
        let e = check_truncate_args(Some("s"), Some(0)).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "before_version"));
        let e = check_truncate_args(Some("s"), None).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22004", "before_version"));
        let mut deleted = head(10, 11);
        deleted.deleted = true;
        let e = decide_truncate("s", 3, Some(&deleted)).unwrap_err();
        assert_eq!(e.sqlstate(), "42704");
    }

    #[test]
    fn tombstones_name_the_removed_versions() {
        let d = decide_delete("s", ExpectedVersion::Any, true, Some(&head(7, 3))).unwrap();
        let (t, data) = d.tombstone(Some("gdpr"));
        assert_eq!(t, "$StreamDeleted");
        assert_eq!(
            data,
            json!({"from_version": 3, "to_version": 7, "events": 5, "hard": true, "reason": "gdpr"})
        );
        let cut = decide_truncate("s", 4, Some(&head(10, 1))).unwrap();
        let (t, data) = cut.tombstone("retention", None);
        assert_eq!(t, "$StreamTruncated");
        assert_eq!(
            data,
            json!({"from_version": 1, "to_version": 3, "events": 3, "before_version": 4,
                   "by": "retention", "reason": null})
        );
    }

    #[test]
    fn retention_keeps_the_last_events_and_the_young_ones() {
        let h = head(100, 1);
        let count = Retention {
            max_count: Some(10),
            max_age: false,
        };
        assert_eq!(retention_cut(&h, count, None), Some(91));
        // Nothing to do once cut there.
        assert_eq!(retention_cut(&head(100, 91), count, None), None);
        let age = Retention {
            max_count: None,
            max_age: true,
        };
        assert_eq!(retention_cut(&h, age, Some(50)), Some(50));
        assert_eq!(retention_cut(&h, age, Some(1)), None);
        // Every event too old: all go, the head's state stays as the base.
        assert_eq!(retention_cut(&h, age, Some(101)), Some(101));
        let both = Retention {
            max_count: Some(10),
            max_age: true,
        };
        assert_eq!(retention_cut(&h, both, Some(95)), Some(95));
        assert_eq!(retention_cut(&h, both, Some(20)), Some(91));
        // A stream shorter than max_count keeps everything.
        assert_eq!(retention_cut(&head(5, 1), count, None), None);
        let mut deleted = head(100, 101);
        deleted.deleted = true;
        assert_eq!(retention_cut(&deleted, count, None), None);
    }

    #[test]
    fn retention_arguments() {
        assert_eq!(
            check_retention_args(Some("Telemetry"), None, None)
                .unwrap()
                .1,
            None
        );
        let (_, rule) =
            check_retention_args(Some("Telemetry"), Some((0, 7, 0)), Some(100)).unwrap();
        assert_eq!(
            rule,
            Some(Retention {
                max_count: Some(100),
                max_age: true
            })
        );
        for (age, count, field) in [
            (Some((0, 0, 0)), None, "max_age"),
            (Some((0, -1, 0)), None, "max_age"),
            (None, Some(0), "max_count"),
        ] {
            let e = check_retention_args(Some("T"), age, count).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", field));
        }
        let e = check_retention_args(None, None, Some(1)).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22004", "stream_type"));
        let e = check_retention_args(Some("no such!"), None, Some(1)).unwrap_err();
        assert_eq!(e.field(), "stream_type");
    }

    #[test]
    fn reads_before_the_base_are_refused() {
        assert!(check_kept("s", None, 0, "to_version", String::new).is_ok());
        assert!(check_kept("s", Some(3), 3, "to_version", String::new).is_ok());
        let e = check_kept("s", Some(3), 2, "to_version", || "2".into()).unwrap_err();
        assert_eq!(
            (e.sqlstate(), e.name(), e.message().as_str()),
            (
                "55Z02",
                "history_removed",
                "to_version 2 asks for history of stream \"s\" that was removed"
            )
        );
    }
}

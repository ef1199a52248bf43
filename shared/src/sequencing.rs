//! Per-stream versions: expected-version checks, the versions an append
//! takes, and telling an idempotent retry from a reused event id.

use std::fmt;

use crate::error::{Error, Result};

/// What the caller asserts about the stream before appending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No assertion (`expected_version => NULL`).
    Any,
    /// The stream must not exist yet (`expected_version => 0`).
    NoStream,
    /// The stream's current version must be exactly this (`expected_version => N`).
    Exact(u64),
}

impl ExpectedVersion {
    /// Reads the SQL argument: NULL = any, 0 = no stream, N > 0 = exactly N.
    pub fn from_sql(value: Option<i64>) -> Result<ExpectedVersion> {
        match value {
            None => Ok(ExpectedVersion::Any),
            Some(0) => Ok(ExpectedVersion::NoStream),
            Some(n) if n > 0 => Ok(ExpectedVersion::Exact(n as u64)),
            Some(n) => Err(Error::invalid(
                "expected_version",
                format!("must not be negative (got {n})"),
                "Pass NULL for any version, 0 for a new stream, or the stream's current version.",
            )),
        }
    }

    /// The expectation of `append_event(..., expected_version, version)`:
    /// `version => N` says "this event is version N", that is, the stream
    /// is at N - 1 (what stores that pass the next sequence number mean).
    /// Given both, they must agree.
    pub fn from_sql_with_version(
        expected_version: Option<i64>,
        version: Option<i64>,
    ) -> Result<ExpectedVersion> {
        let Some(v) = version else {
            return ExpectedVersion::from_sql(expected_version);
        };
        if v < 1 {
            return Err(Error::invalid(
                "version",
                format!("must be at least 1 (got {v})"),
                "version is the version the new event takes: 1 for the first event of a stream.",
            ));
        }
        if let Some(e) = expected_version.filter(|e| *e != v - 1) {
            return Err(Error::invalid(
                "version",
                format!("contradicts expected_version (version {v} follows version {}, not {e})", v - 1),
                "Pass one of them: expected_version is the stream's current version, version the new event's.",
            ));
        }
        ExpectedVersion::from_sql(Some(v - 1))
    }

    /// Whether a stream at `current` satisfies the expectation.
    pub fn admits(self, current: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(n) => current == n,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("0 (no stream)"),
            ExpectedVersion::Exact(n) => write!(f, "{n}"),
        }
    }
}

/// The versions an accepted append takes: `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendPlan {
    pub first: u64,
    pub last: u64,
}

/// Checks `expected` against the stream's `current` version and gives the
/// versions `count` new events take.
pub fn plan_append(
    stream_id: &str,
    expected: ExpectedVersion,
    current: u64,
    count: usize,
) -> Result<AppendPlan> {
    if !expected.admits(current) {
        return Err(Error::VersionConflict {
            stream_id: stream_id.to_string(),
            expected: expected.to_string(),
            actual: current,
        });
    }
    assert!(count > 0, "an append carries at least one event");
    let last = current
        .checked_add(count as u64)
        .filter(|&v| v <= i64::MAX as u64)
        .ok_or_else(|| Error::LimitExceeded {
            field: "stream_id".to_string(),
            what: "stream version",
            unit: "",
            actual: current as usize,
            max: i64::MAX as usize,
            hint: "Start a new stream.",
        })?;
    Ok(AppendPlan {
        first: current + 1,
        last,
    })
}

/// What is already stored under an event id the caller supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its stream and version; `None` when it is another tenant's event,
    /// whose place (and content) a caller may not learn.
    pub at: Option<(String, u64)>,
    /// Whether the stored event has the same `event_type` and `data`
    /// (always false for another tenant's).
    pub same_content: bool,
}

/// One event of an append, as far as idempotency is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdCheck {
    /// The field naming the id (`event_id`, `events[2].event_id`).
    pub field: String,
    /// The caller's event id, if it gave one.
    pub event_id: Option<String>,
    /// What is stored under that id, if anything.
    pub stored: Option<StoredEvent>,
}

/// Whether an append is new or the retry of one already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Nothing of it is stored: append it.
    New,
    /// All of it is stored exactly where this append would have put it:
    /// store nothing and answer the stored last version again.
    AlreadyStored { last_version: u64 },
}

/// Decides whether an append whose event ids are (partly) stored already is
/// an idempotent retry or a reuse of ids, which is an error.
///
/// A retry must match event for event: same stream, same event type and data,
/// consecutive versions, and the position the expectation asks for (version
/// `N + 1` for `expected_version => N`, 1 for 0; any position for NULL).
pub fn classify_retry(
    stream_id: &str,
    expected: ExpectedVersion,
    events: &[IdCheck],
) -> Result<Retry> {
    let Some(first_hit) = events.iter().find(|e| e.stored.is_some()) else {
        return Ok(Retry::New);
    };
    let stored0 = first_hit.stored.as_ref().expect("found above");
    let duplicate = |check: &IdCheck, reason: &'static str| {
        let stored = check.stored.as_ref().unwrap_or(stored0);
        Error::DuplicateEventId {
            field: check.field.clone(),
            event_id: check.event_id.clone().unwrap_or_default(),
            stored_at: stored.at.clone(),
            reason,
        }
    };
    let base = events[0]
        .stored
        .as_ref()
        .and_then(|s| s.at.as_ref())
        .map(|(_, v)| *v);
    for (i, check) in events.iter().enumerate() {
        let Some(stored) = &check.stored else {
            return Err(duplicate(
                first_hit,
                "only part of this batch is stored, so it is not a retry",
            ));
        };
        let Some((stored_stream, stored_version)) = &stored.at else {
            return Err(duplicate(check, "that is another stream"));
        };
        if stored_stream != stream_id {
            return Err(duplicate(check, "that is another stream"));
        }
        if !stored.same_content {
            return Err(duplicate(
                check,
                "that event has another event_type or other data",
            ));
        }
        if base.map(|b| b + i as u64) != Some(*stored_version) {
            return Err(duplicate(
                check,
                "the batch's events are not stored one after another in this order",
            ));
        }
    }
    let first = base.expect("every event is stored");
    let position_ok = match expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => first == 1,
        ExpectedVersion::Exact(n) => first == n + 1,
    };
    if !position_ok {
        return Err(duplicate(
            &events[0],
            "this append would put it at another version",
        ));
    }
    Ok(Retry::AlreadyStored {
        last_version: first + events.len() as u64 - 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_version_from_sql() {
        assert_eq!(
            ExpectedVersion::from_sql(None).unwrap(),
            ExpectedVersion::Any
        );
        assert_eq!(
            ExpectedVersion::from_sql(Some(0)).unwrap(),
            ExpectedVersion::NoStream
        );
        assert_eq!(
            ExpectedVersion::from_sql(Some(7)).unwrap(),
            ExpectedVersion::Exact(7)
        );
        let e = ExpectedVersion::from_sql(Some(-1)).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "expected_version"));
    }

    #[test]
    fn plans_and_conflicts() {
        let p = plan_append("s", ExpectedVersion::Any, 4, 3).unwrap();
        assert_eq!((p.first, p.last), (5, 7));
        assert_eq!(
            plan_append("s", ExpectedVersion::NoStream, 0, 1)
                .unwrap()
                .first,
            1
        );
        let e = plan_append("s", ExpectedVersion::NoStream, 2, 1).unwrap_err();
        assert_eq!(e.sqlstate(), "40001");
        assert_eq!(
            e.detail().unwrap(),
            "Expected version 0 (no stream), actual version 2."
        );
        let e = plan_append("s", ExpectedVersion::Exact(3), 2, 1).unwrap_err();
        assert_eq!(e.detail().unwrap(), "Expected version 3, actual version 2.");
        let e = plan_append("s", ExpectedVersion::Any, i64::MAX as u64, 1).unwrap_err();
        assert_eq!(e.sqlstate(), "54000");
    }

    fn check(id: &str, stored: Option<(&str, u64, bool)>) -> IdCheck {
        IdCheck {
            field: "event_id".into(),
            event_id: Some(id.into()),
            stored: stored.map(|(s, v, same)| StoredEvent {
                at: Some((s.into(), v)),
                same_content: same,
            }),
        }
    }

    #[test]
    fn retry_at_the_same_place_is_idempotent() {
        let c = [check("a", Some(("s", 3, true)))];
        assert_eq!(
            classify_retry("s", ExpectedVersion::Exact(2), &c).unwrap(),
            Retry::AlreadyStored { last_version: 3 }
        );
        assert_eq!(
            classify_retry("s", ExpectedVersion::Any, &c).unwrap(),
            Retry::AlreadyStored { last_version: 3 }
        );
    }

    #[test]
    fn reused_ids_are_errors() {
        let cases = [
            (ExpectedVersion::Exact(3), check("a", Some(("s", 3, true)))),
            (ExpectedVersion::NoStream, check("a", Some(("s", 3, true)))),
            (ExpectedVersion::Any, check("a", Some(("other", 3, true)))),
            (ExpectedVersion::Any, check("a", Some(("s", 3, false)))),
        ];
        for (expected, c) in cases {
            let e = classify_retry("s", expected, &[c]).unwrap_err();
            assert_eq!(e.sqlstate(), "23505");
        }
    }

    #[test]
    fn batch_retry_must_match_completely() {
        let whole = [
            check("a", Some(("s", 1, true))),
            check("b", Some(("s", 2, true))),
        ];
        assert_eq!(
            classify_retry("s", ExpectedVersion::NoStream, &whole).unwrap(),
            Retry::AlreadyStored { last_version: 2 }
        );
        let partial = [check("a", Some(("s", 1, true))), check("b", None)];
        assert!(classify_retry("s", ExpectedVersion::NoStream, &partial).is_err());
        let swapped = [
            check("b", Some(("s", 2, true))),
            check("a", Some(("s", 1, true))),
        ];
        assert!(classify_retry("s", ExpectedVersion::Any, &swapped).is_err());
        let none = [check("a", None), check("b", None)];
        assert_eq!(
            classify_retry("s", ExpectedVersion::Any, &none).unwrap(),
            Retry::New
        );
    }
}

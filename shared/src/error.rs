//! The one error type of the core.
//!
//! Every rejection Chronicle makes is one of these variants. Each has a stable
//! SQLSTATE (what Postgres clients and the JavaScript module see as the error
//! code), a stable symbolic name, a message that names the offending field, a
//! DETAIL with the values involved and a HINT that says what to do instead.
//! The adapters (`pg_extension`, `wasm_core`) only translate these; they never
//! invent messages of their own.

use crate::sequencing::ExpectedVersion;

/// A rejection by the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A required value is NULL / missing.
    Null { field: String },
    /// A value is malformed or out of its allowed range.
    Invalid {
        field: String,
        reason: String,
        hint: String,
    },
    /// A text value is longer than its limit (in characters).
    TooLong {
        field: String,
        actual: usize,
        max: usize,
    },
    /// A size limit (event bytes, batch length, nesting depth) is exceeded.
    LimitExceeded {
        field: String,
        what: &'static str,
        unit: &'static str,
        actual: usize,
        max: usize,
        hint: &'static str,
    },
    /// The stream is not at the version the caller expected.
    VersionConflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// An event id is already stored somewhere this append cannot be a retry of.
    DuplicateEventId {
        field: String,
        event_id: String,
        stream_id: String,
        version: u64,
        reason: &'static str,
    },
    /// An event's data does not match its type's schema.
    SchemaViolation {
        field: String,
        event_type: String,
        schema_version: i64,
        reason: String,
    },
    /// A reducer failed on an event during replay.
    ReplayFailed {
        version: u64,
        event_type: String,
        /// The failing part of the definition, e.g. `on.ItemAdded[0]`.
        step: String,
        reason: String,
    },
    /// The stream already exists with another stream type.
    StreamTypeMismatch {
        stream_id: String,
        existing: String,
        given: String,
    },
    /// A named object (a subscription) does not exist.
    NotFound {
        field: String,
        what: &'static str,
        name: String,
        hint: &'static str,
    },
    /// A named object (a subscription) exists already.
    AlreadyExists {
        field: String,
        what: &'static str,
        name: String,
        hint: &'static str,
    },
    /// The operation cannot run in this state (a standby, a read-only or
    /// REPEATABLE READ transaction, a paused subscription, ...).
    Unavailable {
        operation: &'static str,
        reason: String,
        hint: String,
    },
    /// A write on a standby or in a read-only transaction.
    ReadOnly {
        operation: &'static str,
        standby: bool,
    },
    /// An append to a stream that another tenant owns (stream ids are
    /// shared by every tenant of a database).
    OtherTenant { stream_id: String },
    /// A definition (reducer, event type, upcaster) from a session with a
    /// tenant: definitions are shared by every tenant of a database.
    SharedDefinition {
        operation: &'static str,
        tenant: String,
    },
}

/// The SQLSTATE and name of every error kind, in one place (a test checks that
/// the README's error table lists every code).
pub const ERROR_CODES: &[(&str, &str, &str)] = &[
    (
        "22004",
        "null_value",
        "a required argument or field is NULL or missing",
    ),
    (
        "22023",
        "invalid_value",
        "a value is malformed or out of range",
    ),
    (
        "22001",
        "too_long",
        "an identifier is longer than its limit",
    ),
    (
        "54000",
        "limit_exceeded",
        "an event, batch or nesting depth is above its limit",
    ),
    (
        "40001",
        "version_conflict",
        "the stream is not at the expected version",
    ),
    (
        "23505",
        "duplicate_event_id",
        "the event_id is already stored elsewhere",
    ),
    (
        "22023",
        "stream_type_mismatch",
        "the stream exists with another stream_type",
    ),
    (
        "22000",
        "replay_failed",
        "a reducer failed on an event during replay",
    ),
    (
        "23514",
        "schema_violation",
        "an event's data does not match its schema",
    ),
    (
        "42704",
        "not_found",
        "the named subscription does not exist",
    ),
    (
        "42710",
        "already_exists",
        "a subscription with this name exists already",
    ),
    (
        "55000",
        "unavailable",
        "the operation cannot run in this state (standby, transaction mode)",
    ),
    (
        "25006",
        "read_only",
        "a write (append, definition) on a standby or in a read-only transaction",
    ),
    (
        "42501",
        "other_tenant",
        "the stream belongs to another tenant (chronicle.tenant)",
    ),
    (
        "42501",
        "shared_definition",
        "a reducer, event type or upcaster defined by a session with a tenant",
    ),
];

impl Error {
    /// The five-character SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Null { .. } => "22004",
            Error::Invalid { .. } | Error::StreamTypeMismatch { .. } => "22023",
            Error::TooLong { .. } => "22001",
            Error::LimitExceeded { .. } => "54000",
            Error::VersionConflict { .. } => "40001",
            Error::DuplicateEventId { .. } => "23505",
            Error::ReplayFailed { .. } => "22000",
            Error::SchemaViolation { .. } => "23514",
            Error::NotFound { .. } => "42704",
            Error::AlreadyExists { .. } => "42710",
            Error::Unavailable { .. } => "55000",
            Error::ReadOnly { .. } => "25006",
            Error::OtherTenant { .. } | Error::SharedDefinition { .. } => "42501",
        }
    }

    /// A stable symbolic name of the error kind (`error.name` in JavaScript).
    pub fn name(&self) -> &'static str {
        match self {
            Error::Null { .. } => "null_value",
            Error::Invalid { .. } => "invalid_value",
            Error::TooLong { .. } => "too_long",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::VersionConflict { .. } => "version_conflict",
            Error::DuplicateEventId { .. } => "duplicate_event_id",
            Error::StreamTypeMismatch { .. } => "stream_type_mismatch",
            Error::ReplayFailed { .. } => "replay_failed",
            Error::SchemaViolation { .. } => "schema_violation",
            Error::NotFound { .. } => "not_found",
            Error::AlreadyExists { .. } => "already_exists",
            Error::Unavailable { .. } => "unavailable",
            Error::ReadOnly { .. } => "read_only",
            Error::OtherTenant { .. } => "other_tenant",
            Error::SharedDefinition { .. } => "shared_definition",
        }
    }

    /// The input field the error is about (`data`, `events[3].event_type`, ...).
    pub fn field(&self) -> &str {
        match self {
            Error::Null { field }
            | Error::Invalid { field, .. }
            | Error::TooLong { field, .. }
            | Error::LimitExceeded { field, .. }
            | Error::DuplicateEventId { field, .. }
            | Error::SchemaViolation { field, .. }
            | Error::NotFound { field, .. }
            | Error::AlreadyExists { field, .. } => field,
            Error::Unavailable { operation, .. }
            | Error::ReadOnly { operation, .. }
            | Error::SharedDefinition { operation, .. } => operation,
            Error::VersionConflict { .. } => "expected_version",
            Error::StreamTypeMismatch { .. } => "stream_type",
            Error::OtherTenant { .. } => "stream_id",
            Error::ReplayFailed { .. } => "replay",
        }
    }

    /// The primary message: one line, names the field.
    pub fn message(&self) -> String {
        match self {
            Error::Null { field } => format!("{field} must not be null"),
            Error::Invalid { field, reason, .. } => format!("{field} {reason}"),
            Error::TooLong { field, max, .. } => {
                format!("{field} is too long (at most {max} characters)")
            }
            Error::LimitExceeded {
                field,
                what,
                unit,
                max,
                ..
            } => format!("{field} exceeds the {what} limit of {}", amount(*max, unit)),
            Error::VersionConflict { stream_id, .. } => {
                format!(
                    "version conflict on stream \"{stream_id}\": expected_version does not match"
                )
            }
            Error::DuplicateEventId {
                field, event_id, ..
            } => {
                format!("{field} {event_id} is already used by another event")
            }
            Error::StreamTypeMismatch {
                stream_id,
                existing,
                ..
            } => format!(
                "stream_type does not match stream \"{stream_id}\", which has type \"{existing}\""
            ),
            Error::ReplayFailed {
                version,
                event_type,
                step,
                reason,
            } => format!("replay failed at version {version} ({event_type}), {step}: {reason}"),
            Error::SchemaViolation { field, reason, .. } => format!("{field} {reason}"),
            Error::NotFound { what, name, .. } => format!("{what} \"{name}\" does not exist"),
            Error::AlreadyExists { what, name, .. } => {
                format!("{what} \"{name}\" already exists")
            }
            Error::Unavailable {
                operation, reason, ..
            } => format!("{operation} cannot run {reason}"),
            Error::ReadOnly { operation, standby } => format!(
                "{operation} cannot write {}",
                if *standby {
                    "on a standby"
                } else {
                    "in a read-only transaction"
                }
            ),
            Error::OtherTenant { stream_id } => {
                format!("stream_id \"{stream_id}\" belongs to another tenant")
            }
            Error::SharedDefinition { operation, tenant } => format!(
                "{operation} cannot run as tenant \"{tenant}\": definitions are shared by every tenant"
            ),
        }
    }

    /// The DETAIL: the values involved, where they say more than the message.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::Null { .. } | Error::Invalid { .. } => None,
            Error::TooLong { actual, .. } => Some(format!("The value has {actual} characters.")),
            Error::LimitExceeded {
                what, unit, actual, ..
            } => Some(format!("The {what} is {}.", amount(*actual, unit))),
            Error::VersionConflict {
                expected, actual, ..
            } => Some(format!(
                "Expected version {expected}, actual version {actual}."
            )),
            // An empty stream id: the event is another tenant's (see the
            // extension's append path), which is not named.
            Error::DuplicateEventId {
                stream_id, reason, ..
            } if stream_id.is_empty() => Some(format!(
                "It is stored in a stream of another tenant; {reason}."
            )),
            Error::DuplicateEventId {
                stream_id,
                version,
                reason,
                ..
            } => Some(format!(
                "It is stored in stream \"{stream_id}\" at version {version}; {reason}."
            )),
            Error::StreamTypeMismatch { given, .. } => {
                Some(format!("The append gave stream_type \"{given}\"."))
            }
            Error::ReplayFailed { .. }
            | Error::NotFound { .. }
            | Error::AlreadyExists { .. }
            | Error::Unavailable { .. }
            | Error::ReadOnly { .. }
            | Error::OtherTenant { .. }
            | Error::SharedDefinition { .. } => None,
            Error::SchemaViolation {
                event_type,
                schema_version,
                ..
            } => Some(format!(
                "The schema of event type {event_type}, schema version {schema_version}, refuses it."
            )),
        }
    }

    /// The HINT: what the caller should do instead.
    pub fn hint(&self) -> String {
        match self {
            Error::Null { field } => format!("Pass a value for {field}."),
            Error::Invalid { hint, .. } => hint.clone(),
            Error::TooLong { field, max, .. } => {
                format!("Shorten {field} to at most {max} characters.")
            }
            Error::LimitExceeded { hint, .. } => (*hint).to_string(),
            Error::VersionConflict { .. } => "Re-read the stream, decide again on its current \
                state, and retry with its current version as expected_version."
                .to_string(),
            Error::DuplicateEventId { .. } => "Use a new event_id for a new event; a retry of an \
                earlier append must repeat its event_type, data and position exactly."
                .to_string(),
            Error::SchemaViolation { .. } => "Send data that matches the schema defined with \
                chronicle.define_event_type, or define a new schema version."
                .to_string(),
            Error::ReplayFailed { .. } => "Fix the reducer definition for this event type; \
                stored events are never changed."
                .to_string(),
            Error::StreamTypeMismatch { existing, .. } => format!(
                "A stream keeps the type it was created with: pass stream_type => '{existing}' \
                 or NULL, or use another stream_id."
            ),
            Error::NotFound { hint, .. } | Error::AlreadyExists { hint, .. } => (*hint).to_string(),
            Error::Unavailable { hint, .. } => hint.clone(),
            Error::ReadOnly { standby: true, .. } => {
                "Write on the primary; a standby serves the reads \
                (read_stream, state_at, read_all, export_stream)."
                    .to_string()
            }
            Error::ReadOnly { standby: false, .. } => {
                "Call it in a read-write transaction.".to_string()
            }
            Error::OtherTenant { .. } => "Stream ids are shared by the tenants of a database: \
                use another stream_id (for example, prefix it with your tenant)."
                .to_string(),
            Error::SharedDefinition { .. } => "Define reducers, event types and upcasters from a \
                session without chronicle.tenant (an operator's role); every tenant uses them."
                .to_string(),
        }
    }

    pub(crate) fn invalid(
        field: impl Into<String>,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Error {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
            hint: hint.into(),
        }
    }

    /// The same error, reported against `prefix.field` (for batch elements).
    pub(crate) fn within(self, prefix: &str) -> Error {
        let nest = |f: String| {
            if f.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{f}")
            }
        };
        match self {
            Error::Null { field } => Error::Null { field: nest(field) },
            Error::Invalid {
                field,
                reason,
                hint,
            } => Error::Invalid {
                field: nest(field),
                reason,
                hint,
            },
            Error::TooLong { field, actual, max } => Error::TooLong {
                field: nest(field),
                actual,
                max,
            },
            Error::LimitExceeded {
                field,
                what,
                unit,
                actual,
                max,
                hint,
            } => Error::LimitExceeded {
                field: nest(field),
                what,
                unit,
                actual,
                max,
                hint,
            },
            other => other,
        }
    }
}

/// `12 bytes`, or `12` where the quantity has no unit.
fn amount(n: usize, unit: &str) -> String {
    if unit.is_empty() {
        n.to_string()
    } else {
        format!("{n} {unit}")
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Error> {
        vec![
            Error::Null {
                field: "data".into(),
            },
            Error::invalid("data", "must be a JSON object", "Wrap it."),
            Error::TooLong {
                field: "stream_id".into(),
                actual: 300,
                max: 255,
            },
            Error::LimitExceeded {
                field: "data".into(),
                what: "event size",
                unit: "bytes",
                actual: 10,
                max: 5,
                hint: "Store less.",
            },
            Error::VersionConflict {
                stream_id: "order-1".into(),
                expected: ExpectedVersion::Exact(3),
                actual: 5,
            },
            Error::DuplicateEventId {
                field: "event_id".into(),
                event_id: "e".into(),
                stream_id: "s".into(),
                version: 1,
                reason: "it is another stream",
            },
            Error::StreamTypeMismatch {
                stream_id: "s".into(),
                existing: "A".into(),
                given: "B".into(),
            },
            Error::SchemaViolation {
                field: "data.price".into(),
                event_type: "A".into(),
                schema_version: 1,
                reason: "must be a number".into(),
            },
            Error::ReplayFailed {
                version: 3,
                event_type: "A".into(),
                step: "on.A[0]".into(),
                reason: "boom".into(),
            },
            Error::ReadOnly {
                operation: "chronicle.append_event",
                standby: true,
            },
            Error::OtherTenant {
                stream_id: "order-1".into(),
            },
            Error::SharedDefinition {
                operation: "chronicle.define_reducer",
                tenant: "acme".into(),
            },
            Error::DuplicateEventId {
                field: "event_id".into(),
                event_id: "e1".into(),
                stream_id: String::new(),
                version: 0,
                reason: "another stream",
            },
        ]
    }

    #[test]
    fn every_error_names_its_field_and_has_a_hint_and_a_listed_code() {
        for e in every_kind() {
            assert!(e.message().contains(e.field()), "{e:?}");
            assert!(!e.hint().is_empty());
            assert!(
                ERROR_CODES
                    .iter()
                    .any(|(code, name, _)| *code == e.sqlstate() && *name == e.name()),
                "{} / {} missing from ERROR_CODES",
                e.sqlstate(),
                e.name()
            );
        }
    }

    #[test]
    fn another_tenants_event_is_not_named() {
        let e = every_kind().pop().unwrap();
        assert_eq!(e.sqlstate(), "23505");
        assert_eq!(
            e.detail().unwrap(),
            "It is stored in a stream of another tenant; another stream."
        );
    }

    #[test]
    fn version_conflict_detail_carries_both_versions() {
        let e = &every_kind()[4];
        assert_eq!(e.sqlstate(), "40001");
        assert_eq!(
            e.message(),
            "version conflict on stream \"order-1\": expected_version does not match"
        );
        assert_eq!(e.detail().unwrap(), "Expected version 3, actual version 5.");
    }

    #[test]
    fn within_prefixes_the_field() {
        let e = Error::Null {
            field: "data".into(),
        }
        .within("events[2]");
        assert_eq!(e.field(), "events[2].data");
        assert_eq!(e.message(), "events[2].data must not be null");
    }
}

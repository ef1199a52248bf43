//! The one error type of the core, and the one table of error kinds.
//!
//! Every rejection Chronicle makes is an [`Error`]. Its [`Kind`] gives it a
//! stable SQLSTATE (what Postgres clients and the JavaScript module see as
//! the error code) and a stable symbolic name ([`KINDS`], the table the
//! README's error list is checked against). Every message is made here: one
//! line that names the offending field, a DETAIL with the values involved
//! and a HINT that says what to do instead. The adapters (`pg_extension`,
//! `wasm_core`, the dashboard) only carry these; they never write messages
//! of their own.

use serde_json::{json, Value};

/// A kind of rejection: the unit of the public error contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NullValue,
    InvalidValue,
    TooLong,
    LimitExceeded,
    VersionConflict,
    DuplicateEventId,
    StreamTypeMismatch,
    ReplayFailed,
    SchemaViolation,
    NotFound,
    AlreadyExists,
    Unavailable,
    ReadOnly,
    OtherTenant,
    SharedDefinition,
    TenantNotPermitted,
    StreamDeleted,
    HistoryRemoved,
    StreamArchived,
    DataCorrupted,
}

/// What a [`Kind`] is to a caller.
#[derive(Debug)]
pub struct KindInfo {
    pub kind: Kind,
    /// The five-character SQLSTATE.
    pub sqlstate: &'static str,
    /// The stable symbolic name (`error.name` in JavaScript).
    pub name: &'static str,
    /// When it happens, in a few words (the README's table says more).
    pub meaning: &'static str,
}

/// Every kind of error, in one place, in the order of [`Kind`].
pub const KINDS: &[KindInfo] = &[
    KindInfo {
        kind: Kind::NullValue,
        sqlstate: "22004",
        name: "null_value",
        meaning: "a required argument or field is NULL or missing",
    },
    KindInfo {
        kind: Kind::InvalidValue,
        sqlstate: "22023",
        name: "invalid_value",
        meaning: "a value is malformed or out of range",
    },
    KindInfo {
        kind: Kind::TooLong,
        sqlstate: "22001",
        name: "too_long",
        meaning: "an identifier is longer than its limit",
    },
    KindInfo {
        kind: Kind::LimitExceeded,
        sqlstate: "54000",
        name: "limit_exceeded",
        meaning: "an event, batch or nesting depth is above its limit",
    },
    KindInfo {
        kind: Kind::VersionConflict,
        sqlstate: "40001",
        name: "version_conflict",
        meaning: "the stream is not at the expected version",
    },
    KindInfo {
        kind: Kind::DuplicateEventId,
        sqlstate: "23505",
        name: "duplicate_event_id",
        meaning: "the event_id is already stored elsewhere",
    },
    KindInfo {
        kind: Kind::StreamTypeMismatch,
        sqlstate: "22023",
        name: "stream_type_mismatch",
        meaning: "the stream exists with another stream_type",
    },
    KindInfo {
        kind: Kind::ReplayFailed,
        sqlstate: "22000",
        name: "replay_failed",
        meaning: "a reducer failed on an event during replay",
    },
    KindInfo {
        kind: Kind::SchemaViolation,
        sqlstate: "23514",
        name: "schema_violation",
        meaning: "an event's data does not match its schema",
    },
    KindInfo {
        kind: Kind::NotFound,
        sqlstate: "42704",
        name: "not_found",
        meaning: "the named stream, subscription or definition does not exist",
    },
    KindInfo {
        kind: Kind::AlreadyExists,
        sqlstate: "42710",
        name: "already_exists",
        meaning: "a subscription with this name exists already",
    },
    KindInfo {
        kind: Kind::Unavailable,
        sqlstate: "55000",
        name: "unavailable",
        meaning: "the operation cannot run in this state (standby, transaction mode)",
    },
    KindInfo {
        kind: Kind::ReadOnly,
        sqlstate: "25006",
        name: "read_only",
        meaning: "a write (append, definition) on a standby or in a read-only transaction",
    },
    KindInfo {
        kind: Kind::OtherTenant,
        sqlstate: "42501",
        name: "other_tenant",
        meaning: "the stream belongs to another tenant (chronicle.tenant)",
    },
    KindInfo {
        kind: Kind::SharedDefinition,
        sqlstate: "42501",
        name: "shared_definition",
        meaning: "a reducer, event type or upcaster defined by a session with a tenant",
    },
    KindInfo {
        kind: Kind::TenantNotPermitted,
        sqlstate: "42501",
        name: "tenant_not_permitted",
        meaning: "chronicle.tenant was set by a session that may not set it",
    },
    KindInfo {
        kind: Kind::StreamDeleted,
        sqlstate: "55Z01",
        name: "stream_deleted",
        meaning: "an append to a stream deleted for good (delete_stream with hard => true)",
    },
    KindInfo {
        kind: Kind::HistoryRemoved,
        sqlstate: "55Z02",
        name: "history_removed",
        meaning: "a version or time before what truncate_stream or retention kept",
    },
    KindInfo {
        kind: Kind::StreamArchived,
        sqlstate: "55Z03",
        name: "stream_archived",
        meaning: "a write to (or a state of) a stream that archive_stream archived",
    },
    KindInfo {
        kind: Kind::DataCorrupted,
        sqlstate: "XX001",
        name: "data_corrupted",
        meaning:
            "a stored personal member that does not open with its subject's key (changed or moved)",
    },
];

impl Kind {
    /// Every kind, in table order.
    pub fn all() -> impl Iterator<Item = Kind> {
        KINDS.iter().map(|k| k.kind)
    }

    /// The kind's row of [`KINDS`].
    pub fn info(self) -> &'static KindInfo {
        let info = &KINDS[self as usize];
        debug_assert_eq!(info.kind, self, "KINDS is in the order of Kind");
        info
    }

    pub fn sqlstate(self) -> &'static str {
        self.info().sqlstate
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// A named thing a call can ask for that may not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    Stream,
    /// A stream type with no stream (retention is set per existing type).
    StreamType,
    Subscription,
    Reducer,
    EventType,
    Upcaster,
    /// A data subject (`chronicle.forget_subject`).
    Subject,
}

impl Object {
    /// The argument that names it.
    fn field(self) -> &'static str {
        match self {
            Object::Stream => "stream_id",
            Object::Subscription => "name",
            Object::Reducer | Object::StreamType => "stream_type",
            Object::EventType | Object::Upcaster => "event_type",
            Object::Subject => "subject",
        }
    }

    /// What it is, in a message.
    fn noun(self) -> &'static str {
        match self {
            Object::Stream => "stream",
            Object::Subscription => "subscription",
            Object::Reducer => "reducer",
            Object::StreamType => "stream type",
            Object::EventType => "schema",
            Object::Upcaster => "upcaster",
            Object::Subject => "data subject",
        }
    }

    /// The argument that names its version, for the definitions that have one.
    fn version_field(self) -> &'static str {
        match self {
            Object::Upcaster => "from_schema_version",
            _ => "schema_version",
        }
    }

    /// The message for `name` (at `version`) not existing; it names the
    /// arguments.
    fn not_found_message(self, name: &str, version: Option<i64>) -> String {
        let at = version.map_or(String::new(), |v| {
            format!(" at {} {v}", self.version_field())
        });
        let message = match self {
            Object::Stream | Object::Subscription | Object::Subject => {
                format!("no {} has {} \"{name}\"", self.noun(), self.field())
            }
            Object::StreamType => format!("no stream has {} \"{name}\"", self.field()),
            Object::Reducer | Object::EventType | Object::Upcaster => format!(
                "no {} is defined for {} \"{name}\"",
                self.noun(),
                self.field()
            ),
        };
        message + &at
    }

    fn not_found_hint(self) -> &'static str {
        match self {
            Object::Stream => {
                "Check the id: chronicle.list_streams(id_prefix => ...) lists the streams; \
                 a stream exists once an event was appended to it."
            }
            Object::Subscription => {
                "Create it with chronicle.create_subscription; SELECT name FROM \
                 chronicle.subscriptions lists the existing ones."
            }
            Object::Reducer => {
                "Its streams replay with the default merge; define one with \
                 chronicle.define_reducer."
            }
            Object::StreamType => {
                "chronicle.list_stream_types() lists the stream types; retention is set for \
                 the type of existing streams."
            }
            Object::EventType => {
                "SELECT * FROM chronicle.event_types lists the defined schemas; define one \
                 with chronicle.define_event_type."
            }
            Object::Upcaster => {
                "SELECT * FROM chronicle.upcasters lists the defined upcasters; define one \
                 with chronicle.define_upcaster."
            }
            Object::Subject => {
                "A subject is known once an event of a type with personal data \
                 (chronicle.personal_data) names it, in this tenant; chronicle.forgotten lists \
                 the subjects forgotten already."
            }
        }
    }
}

/// Why an operation cannot run in this session or transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// A hot standby.
    Standby,
    /// A read-only transaction.
    ReadOnlyTransaction,
    /// REPEATABLE READ or SERIALIZABLE: the snapshot is too old to seal.
    RepeatableRead,
    /// Some of the stream's events wait for their position in the global
    /// feed (archiving keeps every position: each must have one).
    Unsealed,
}

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
    /// The stream is not at the version the caller expected (`expected`
    /// as `ExpectedVersion` writes it: `3`, `0 (no stream)`).
    VersionConflict {
        stream_id: String,
        expected: String,
        actual: u64,
    },
    /// An event id is already stored somewhere this append cannot be a retry
    /// of: at `stored_at` (stream and version), or, when that is `None`, in a
    /// stream of another tenant, which is not named.
    DuplicateEventId {
        field: String,
        event_id: String,
        stored_at: Option<(String, u64)>,
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
    /// A named stream, subscription or definition does not exist (or is
    /// another tenant's, which is not told apart); `version` is the schema
    /// version asked for, for the definitions that have one.
    NotFound {
        object: Object,
        name: String,
        version: Option<i64>,
    },
    /// A named object (a subscription) exists already.
    AlreadyExists { object: Object, name: String },
    /// The operation cannot run in this session or transaction.
    Unavailable {
        operation: &'static str,
        blocker: Blocker,
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
    /// `chronicle.tenant` was set in this session by a role that may not set
    /// it (before the library was loaded): the session gets no tenant at all.
    TenantNotPermitted,
    /// A write to a stream deleted with `hard => true`: its id is never
    /// used again.
    StreamDeleted { stream_id: String },
    /// A version (or moment, `asked` as the caller wrote it) of a stream
    /// whose history up to `base` was removed (`truncate_stream`,
    /// retention): the stream's state is known from version `base` on.
    HistoryRemoved {
        field: &'static str,
        stream_id: String,
        asked: String,
        base: u64,
    },
    /// A stream archived with `archive_stream`: it takes no event and no
    /// lifecycle operation, and its state is not folded, until
    /// `restore_stream` brings it back. `operation`: what was refused.
    StreamArchived {
        stream_id: String,
        operation: &'static str,
    },
    /// A stored personal member that does not open with its subject's key:
    /// changed, moved to another event or member, or sealed with another
    /// key. Never the answer for a forgotten subject (that reads as erased).
    SealBroken {
        event_id: String,
        /// The member (`data.email`).
        field: String,
    },
}

impl Error {
    /// The kind of this error (its SQLSTATE and name).
    pub fn kind(&self) -> Kind {
        match self {
            Error::Null { .. } => Kind::NullValue,
            Error::Invalid { .. } => Kind::InvalidValue,
            Error::TooLong { .. } => Kind::TooLong,
            Error::LimitExceeded { .. } => Kind::LimitExceeded,
            Error::VersionConflict { .. } => Kind::VersionConflict,
            Error::DuplicateEventId { .. } => Kind::DuplicateEventId,
            Error::SchemaViolation { .. } => Kind::SchemaViolation,
            Error::ReplayFailed { .. } => Kind::ReplayFailed,
            Error::StreamTypeMismatch { .. } => Kind::StreamTypeMismatch,
            Error::NotFound { .. } => Kind::NotFound,
            Error::AlreadyExists { .. } => Kind::AlreadyExists,
            Error::Unavailable { .. } => Kind::Unavailable,
            Error::ReadOnly { .. } => Kind::ReadOnly,
            Error::OtherTenant { .. } => Kind::OtherTenant,
            Error::SharedDefinition { .. } => Kind::SharedDefinition,
            Error::TenantNotPermitted => Kind::TenantNotPermitted,
            Error::StreamDeleted { .. } => Kind::StreamDeleted,
            Error::HistoryRemoved { .. } => Kind::HistoryRemoved,
            Error::StreamArchived { .. } => Kind::StreamArchived,
            Error::SealBroken { .. } => Kind::DataCorrupted,
        }
    }

    /// The five-character SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        self.kind().sqlstate()
    }

    /// A stable symbolic name of the error kind (`error.name` in JavaScript).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The error for asking for something that does not exist.
    pub fn not_found(object: Object, name: impl Into<String>) -> Error {
        Error::NotFound {
            object,
            name: name.into(),
            version: None,
        }
    }

    /// The error for asking for a definition's schema version that does
    /// not exist.
    pub fn not_found_at(object: Object, name: impl Into<String>, version: i64) -> Error {
        Error::NotFound {
            object,
            name: name.into(),
            version: Some(version),
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
            | Error::SealBroken { field, .. } => field,
            Error::NotFound { object, .. } | Error::AlreadyExists { object, .. } => object.field(),
            Error::Unavailable { operation, .. }
            | Error::ReadOnly { operation, .. }
            | Error::SharedDefinition { operation, .. } => operation,
            Error::VersionConflict { .. } => "expected_version",
            Error::StreamTypeMismatch { .. } => "stream_type",
            Error::OtherTenant { .. }
            | Error::StreamDeleted { .. }
            | Error::StreamArchived { .. } => "stream_id",
            Error::HistoryRemoved { field, .. } => field,
            Error::ReplayFailed { .. } => "replay",
            Error::TenantNotPermitted => "chronicle.tenant",
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
            Error::NotFound {
                object,
                name,
                version,
            } => object.not_found_message(name, *version),
            Error::AlreadyExists { object, name } => {
                format!("a {} with {} \"{name}\" exists already", object.noun(), object.field())
            }
            Error::Unavailable { operation, blocker } => {
                format!("{operation} cannot run {}", blocker.place())
            }
            Error::ReadOnly { operation, standby } => format!(
                "{operation} cannot write {}",
                if *standby {
                    Blocker::Standby.place()
                } else {
                    Blocker::ReadOnlyTransaction.place()
                }
            ),
            Error::OtherTenant { stream_id } => {
                format!("stream_id \"{stream_id}\" belongs to another tenant")
            }
            Error::SharedDefinition { operation, tenant } => format!(
                "{operation} cannot run as tenant \"{tenant}\": definitions are shared by every tenant"
            ),
            Error::TenantNotPermitted => {
                "chronicle.tenant was set in this session without the privilege to set it"
                    .to_string()
            }
            Error::StreamDeleted { stream_id } => format!(
                "stream_id \"{stream_id}\" names a stream deleted for good: it cannot be written again"
            ),
            Error::HistoryRemoved {
                field,
                stream_id,
                asked,
                ..
            } => format!(
                "{field} {asked} asks for history of stream \"{stream_id}\" that was removed"
            ),
            Error::StreamArchived {
                stream_id,
                operation,
            } => format!("stream_id \"{stream_id}\" names an archived stream: {operation} is refused"),
            Error::SealBroken { event_id, field } => format!(
                "{field} of event {event_id} is a sealed personal member that does not open with its subject's key"
            ),
        }
    }

    /// The DETAIL: the values involved, where they say more than the message.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::TooLong { actual, .. } => Some(format!("The value has {actual} characters.")),
            Error::LimitExceeded {
                what, unit, actual, ..
            } => Some(format!("The {what} is {}.", amount(*actual, unit))),
            Error::VersionConflict {
                expected, actual, ..
            } => Some(format!(
                "Expected version {expected}, actual version {actual}."
            )),
            Error::DuplicateEventId {
                stored_at: None,
                reason,
                ..
            } => Some(format!(
                "It is stored in a stream of another tenant; {reason}."
            )),
            Error::DuplicateEventId {
                stored_at: Some((stream_id, version)),
                reason,
                ..
            } => Some(format!(
                "It is stored in stream \"{stream_id}\" at version {version}; {reason}."
            )),
            Error::StreamTypeMismatch { given, .. } => {
                Some(format!("The append gave stream_type \"{given}\"."))
            }
            Error::HistoryRemoved { base, .. } => Some(format!(
                "Its events up to version {base} were removed; its state at version {base} is kept."
            )),
            Error::SchemaViolation {
                event_type,
                schema_version,
                ..
            } => Some(format!(
                "The schema of event type {event_type}, schema version {schema_version}, refuses it."
            )),
            Error::Null { .. }
            | Error::Invalid { .. }
            | Error::ReplayFailed { .. }
            | Error::NotFound { .. }
            | Error::AlreadyExists { .. }
            | Error::Unavailable { .. }
            | Error::ReadOnly { .. }
            | Error::OtherTenant { .. }
            | Error::SharedDefinition { .. }
            | Error::TenantNotPermitted
            | Error::StreamDeleted { .. }
            | Error::StreamArchived { .. } => None,
            Error::SealBroken { .. } => Some(
                "A sealed member opens only with its subject's key, in its own event and member: \
                 this one was changed or moved outside Chronicle."
                    .to_string(),
            ),
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
            Error::NotFound { object, .. } => object.not_found_hint().to_string(),
            Error::AlreadyExists { .. } => {
                "Pick another name, or drop the old one with chronicle.drop_subscription."
                    .to_string()
            }
            Error::Unavailable { blocker, .. } => blocker.hint().to_string(),
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
            Error::TenantNotPermitted => "Only a superuser sets it, per role: ALTER ROLE ... SET \
                chronicle.tenant = '...'. Reconnect without setting chronicle.tenant."
                .to_string(),
            Error::StreamDeleted { .. } => "A stream deleted with hard => true keeps its id \
                forever: append to another stream_id. chronicle.lifecycle_log says who deleted \
                it, when and why."
                .to_string(),
            Error::HistoryRemoved { base, .. } => format!(
                "Ask for version {base} or later (or a moment after its recording); \
                 chronicle.lifecycle_log says what was removed, when and why."
            ),
            Error::StreamArchived { .. } => "Bring it back with chronicle.restore_stream first; \
                read_stream(..., include_archived => true) and export_stream read it meanwhile."
                .to_string(),
            Error::SealBroken { .. } => "Restore the event's row from a backup taken before the \
                change; Chronicle never writes a sealed member twice."
                .to_string(),
        }
    }

    /// The error as the JSON object every non-SQL client sees (the wasm
    /// module's exceptions, the dashboard's API, a replay's marked steps):
    /// `{code, name, field, message, detail, hint}`, `detail` null when
    /// there is none.
    pub fn to_json(&self) -> Value {
        json!({
            "code": self.sqlstate(),
            "name": self.name(),
            "field": self.field(),
            "message": self.message(),
            "detail": self.detail(),
            "hint": self.hint(),
        })
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

impl Blocker {
    /// Where the operation was tried, as a message says it.
    fn place(self) -> &'static str {
        match self {
            Blocker::Standby => "on a standby",
            Blocker::ReadOnlyTransaction => "in a read-only transaction",
            Blocker::RepeatableRead => "at REPEATABLE READ or SERIALIZABLE",
            Blocker::Unsealed => {
                "while some of the stream's events wait for their position in the global feed"
            }
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Blocker::Standby => "Run it on the primary; a standby follows the primary's feed.",
            Blocker::ReadOnlyTransaction => "Call it in a read-write transaction.",
            Blocker::RepeatableRead => {
                "Call it in its own READ COMMITTED transaction: it must see the latest \
                 committed state."
            }
            Blocker::Unsealed => {
                "Retry in a moment; chronicle.feed_status says what the feed waits for."
            }
        }
    }
}

/// A required argument: `None` (SQL NULL) is a `null_value` error.
pub fn require<T>(value: Option<T>, field: &str) -> Result<T> {
    value.ok_or_else(|| Error::Null {
        field: field.to_string(),
    })
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

/// One error of each kind, for tests: a new [`Kind`] does not compile
/// until it has an example here, so the checks below cover every kind.
pub fn example(kind: Kind) -> Error {
    match kind {
        Kind::NullValue => Error::Null {
            field: "data".into(),
        },
        Kind::InvalidValue => Error::invalid("data", "must be a JSON object", "Wrap it."),
        Kind::TooLong => Error::TooLong {
            field: "stream_id".into(),
            actual: 300,
            max: 255,
        },
        Kind::LimitExceeded => Error::LimitExceeded {
            field: "data".into(),
            what: "event size",
            unit: "bytes",
            actual: 10,
            max: 5,
            hint: "Store less.",
        },
        Kind::VersionConflict => Error::VersionConflict {
            stream_id: "order-1".into(),
            expected: "3".into(),
            actual: 5,
        },
        Kind::DuplicateEventId => Error::DuplicateEventId {
            field: "event_id".into(),
            event_id: "e".into(),
            stored_at: Some(("s".into(), 1)),
            reason: "that is another stream",
        },
        Kind::StreamTypeMismatch => Error::StreamTypeMismatch {
            stream_id: "s".into(),
            existing: "A".into(),
            given: "B".into(),
        },
        Kind::ReplayFailed => Error::ReplayFailed {
            version: 3,
            event_type: "A".into(),
            step: "on.A[0]".into(),
            reason: "boom".into(),
        },
        Kind::SchemaViolation => Error::SchemaViolation {
            field: "data.price".into(),
            event_type: "A".into(),
            schema_version: 1,
            reason: "must be a number".into(),
        },
        Kind::NotFound => Error::not_found(Object::Stream, "order-9"),
        Kind::AlreadyExists => Error::AlreadyExists {
            object: Object::Subscription,
            name: "projector".into(),
        },
        Kind::Unavailable => Error::Unavailable {
            operation: "chronicle.seal",
            blocker: Blocker::RepeatableRead,
        },
        Kind::ReadOnly => Error::ReadOnly {
            operation: "chronicle.append_event",
            standby: true,
        },
        Kind::OtherTenant => Error::OtherTenant {
            stream_id: "order-1".into(),
        },
        Kind::SharedDefinition => Error::SharedDefinition {
            operation: "chronicle.define_reducer",
            tenant: "acme".into(),
        },
        Kind::TenantNotPermitted => Error::TenantNotPermitted,
        Kind::StreamDeleted => Error::StreamDeleted {
            stream_id: "order-1".into(),
        },
        Kind::StreamArchived => Error::StreamArchived {
            stream_id: "order-1".into(),
            operation: "an append",
        },
        Kind::DataCorrupted => Error::SealBroken {
            event_id: "e".into(),
            field: "data.email".into(),
        },
        Kind::HistoryRemoved => Error::HistoryRemoved {
            field: "to_version",
            stream_id: "order-1".into(),
            asked: "3".into(),
            base: 10,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_order_of_kind_and_names_are_unique() {
        for (i, info) in KINDS.iter().enumerate() {
            assert_eq!(info.kind as usize, i, "{}", info.name);
        }
        let names: std::collections::BTreeSet<_> = KINDS.iter().map(|k| k.name).collect();
        assert_eq!(names.len(), KINDS.len());
    }

    #[test]
    fn every_kind_names_its_field_and_has_a_hint() {
        for kind in Kind::all() {
            let e = example(kind);
            assert_eq!(e.kind(), kind);
            assert!(!e.field().is_empty(), "{kind:?}");
            assert!(e.message().contains(e.field()), "{kind:?}: {}", e.message());
            assert!(!e.hint().is_empty(), "{kind:?}");
            let j = e.to_json();
            assert_eq!(j["code"], kind.sqlstate());
            assert_eq!(j["name"], kind.name());
            assert_eq!(j["field"], e.field());
        }
    }

    #[test]
    fn another_tenants_event_is_not_named() {
        let e = Error::DuplicateEventId {
            field: "event_id".into(),
            event_id: "e1".into(),
            stored_at: None,
            reason: "that is another stream",
        };
        assert_eq!(e.sqlstate(), "23505");
        assert_eq!(
            e.detail().unwrap(),
            "It is stored in a stream of another tenant; that is another stream."
        );
    }

    #[test]
    fn version_conflict_detail_carries_both_versions() {
        let e = example(Kind::VersionConflict);
        assert_eq!(e.sqlstate(), "40001");
        assert_eq!(
            e.message(),
            "version conflict on stream \"order-1\": expected_version does not match"
        );
        assert_eq!(e.detail().unwrap(), "Expected version 3, actual version 5.");
    }

    #[test]
    fn missing_things_name_their_argument() {
        let e = Error::not_found(Object::Subscription, "p");
        assert_eq!(
            (e.sqlstate(), e.message().as_str()),
            ("42704", "no subscription has name \"p\"")
        );
        let e = Error::not_found(Object::Reducer, "Order");
        assert_eq!(
            e.message(),
            "no reducer is defined for stream_type \"Order\""
        );
        assert_eq!(
            Error::not_found_at(Object::Upcaster, "ItemAdded", 3).message(),
            "no upcaster is defined for event_type \"ItemAdded\" at from_schema_version 3"
        );
        assert_eq!(
            example(Kind::AlreadyExists).message(),
            "a subscription with name \"projector\" exists already"
        );
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

//! The append path: `chronicle.append_event` and `chronicle.append_events`.
//!
//! The steps and their order are the core's (`chronicle_core::append`):
//! validate, detect a retry, then take the stream's head and decide.
//!
//! Locking is per stream, on the stream's row in `chronicle.streams`: one
//! statement locks the row, advances the head and returns the head it
//! found, the next inserts the events after it; the core then judges the
//! append against that head, and a rejection raises an ERROR, which undoes
//! both. So an append costs two statements (three with a caller-supplied
//! event_id), appends to different streams never wait for each other, and
//! appends to one stream queue on its row lock; under READ COMMITTED the
//! waiter then sees the new head. Under REPEATABLE READ a stale snapshot
//! makes the update fail with SQLSTATE 40001, which is what retry helpers
//! expect. The unique (stream_id, version) index backs it all.

use std::cell::OnceCell;

use chronicle_core::append::{check_append_args, decide_append, Head};
use chronicle_core::batch::{parse_batch, with_stored_references};
use chronicle_core::error::require;
use chronicle_core::identifier::check_references;
use chronicle_core::payload::{validate_occurred_at, validate_payload, Payload};
use chronicle_core::sequencing::{classify_retry, IdCheck, Retry, StoredEvent};
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient};
use pgrx::JsonB;
use serde_json::{Map, Value};

use crate::errors::{raise, OrRaise};
use crate::guc;
use crate::raw_jsonb::RawJsonb;
use crate::spi::{first_row, prepare_kept, spi, xid8};

/// The SQL pieces that differ between a database whose schema has tenants
/// (0.2.0 on) and one still at 0.1.0: between installing a new library and
/// `ALTER EXTENSION chronicle UPDATE`, the new library serves the old schema.
struct Tenancy {
    /// Where an event_id is stored, as a retry check sees it, and whether
    /// its content is the same: of another tenant's event, nothing (NULL
    /// stream and version, not the same), so that the check reports a
    /// duplicate without telling where it is or whether the content matched.
    stored_as: &'static str,
    /// Only the session's tenant's stream head is advanced.
    own_stream: &'static str,
    /// The head's tenant, as the head statements return it.
    head_tenant: &'static str,
    /// The tenant column of a new head or event, and its value.
    column: &'static str,
    new_head_value: &'static str,
    event_value: &'static str,
}

static TENANTS: Tenancy = Tenancy {
    stored_as: "\
CASE WHEN e.tenant OPERATOR(pg_catalog.=) chronicle.current_tenant() THEN e.stream_id END,
CASE WHEN e.tenant OPERATOR(pg_catalog.=) chronicle.current_tenant() THEN e.version END,
e.tenant OPERATOR(pg_catalog.=) chronicle.current_tenant() AND",
    own_stream: "AND s.tenant OPERATOR(pg_catalog.=) chronicle.current_tenant()",
    head_tenant: "s.tenant",
    column: ", tenant",
    new_head_value: ", chronicle.current_tenant()",
    event_value: ", $5",
};

static NO_TENANTS: Tenancy = Tenancy {
    stored_as: "e.stream_id, e.version,",
    own_stream: "",
    head_tenant: "''::pg_catalog.text",
    column: "",
    new_head_value: "",
    event_value: "",
};

/// How correlation and causation ids are written: as text (0.4.0 on), or
/// cast to the `uuid` columns of a schema not yet updated from 0.3.0 or
/// before (where an id that is not a uuid fails the cast, as it did then).
struct References {
    /// The `$11, $12` of one event.
    one: &'static str,
    /// Appended to each of a batch element's two ids.
    batch_cast: &'static str,
}

static TEXT_REFERENCES: References = References {
    one: "$11, $12",
    batch_cast: "",
};

static UUID_REFERENCES: References = References {
    one: "$11::pg_catalog.uuid, $12::pg_catalog.uuid",
    batch_cast: "::pg_catalog.uuid",
};

/// What the statements write and read of personal data (0.7.0 on): the
/// sealed members' key and pointers, and the stored data as its reader sees
/// it (a retry is the same event if its data is what the stored one opens to).
struct Personal {
    column: &'static str,
    /// The two columns' values in the insert of one event ($15, $16) and of
    /// a batch (members added to each sealed item by `append_batch`).
    one_values: &'static str,
    batch_values: &'static str,
    data: &'static str,
}

static PERSONAL: Personal = Personal {
    column: ", personal_key, personal_paths",
    one_values: ", $15, $16",
    batch_values: ",
        (t.item OPERATOR(pg_catalog.->>) 'personal_key')::uuid,
        CASE WHEN t.item OPERATOR(pg_catalog.->) 'personal_key' IS NOT NULL
             THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(t.item OPERATOR(pg_catalog.->) 'personal_paths')) END",
    data: "CASE WHEN e.personal_key IS NULL THEN e.data
            ELSE chronicle_internal._reveal(e.data, 'data', e.event_id, e.personal_key, e.personal_paths) END",
};

static NO_PERSONAL: Personal = Personal {
    column: "",
    one_values: "",
    batch_values: "",
    data: "e.data",
};

/// Where a caller-supplied event_id is stored already. Parameters: $1
/// event_id, $2 event_type, $3 data.
fn lookup_one_sql(t: &Tenancy, p: &Personal) -> String {
    format!(
        "SELECT {} e.event_type OPERATOR(pg_catalog.=) $2 AND {} OPERATOR(pg_catalog.=) $3
  FROM chronicle.event_log e
 WHERE e.event_id OPERATOR(pg_catalog.=) $1",
        t.stored_as, p.data
    )
}

/// The same for each event of a batch ($1, a JSON array) that is stored:
/// one probe of the event_id index per element (LATERAL ... LIMIT 1). As a
/// join, the plan a session prepared while the log was small (a hash join
/// over a scan of the whole log) stayed its plan as the log grew: every
/// later batch append with event_ids read the whole log.
fn lookup_batch_sql(t: &Tenancy, p: &Personal) -> String {
    format!(
        "SELECT t.ord, {}
       e.event_type OPERATOR(pg_catalog.=) (t.item OPERATOR(pg_catalog.->>) 'event_type')
       AND {} OPERATOR(pg_catalog.=) (t.item OPERATOR(pg_catalog.->) 'data')
  FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY AS t(item, ord)
 CROSS JOIN LATERAL (
       SELECT * FROM chronicle.event_log l
        WHERE l.event_id OPERATOR(pg_catalog.=) (t.item OPERATOR(pg_catalog.->>) 'event_id')::uuid
        LIMIT 1) e",
        t.stored_as, p.data
    )
}

// A write is two statements: one takes the stream's head (locking its row)
// and returns the head it found, the next inserts the events after it. (One
// statement with data-modifying CTEs did the same; its executor start-up
// alone cost more than the two statements' together.) The head statements
// return the version before the write, the stream type, the events' feed
// key and the tenant; the insert statements take them as $1 stream_id,
// $2 stream_type, $3 the version before, $4 the feed key, $5 the tenant.
//
/// How the head statements treat a deleted stream (0.6.0 on): a write
/// undeletes one deleted softly, and the head says whether it was deleted
/// for good (which the core refuses).
struct Lifecycle {
    undelete: &'static str,
    /// Whether it was deleted for good, and whether it is archived.
    closed: &'static str,
}

static LIFECYCLE: Lifecycle = Lifecycle {
    undelete: ", deleted_at = NULL",
    closed: "s.hard_deleted, s.archived_at IS NOT NULL",
};

static NO_LIFECYCLE: Lifecycle = Lifecycle {
    undelete: "",
    closed: "false, false",
};

// An existing stream: advance the head by $3 and raise its key to the
// transaction's ($4, `seal_bound::key`): a stream's events never sort
// before its previous ones. The core then judges the append against the
// head it found, and a rejection raises an ERROR, which undoes the write:
// nothing of a rejected append is ever visible.
fn advance_head(t: &Tenancy, l: &Lifecycle) -> String {
    format!(
        "UPDATE chronicle.streams s
    SET version = s.version OPERATOR(pg_catalog.+) $3, last_event_at = pg_catalog.now(),
        seal_key = GREATEST(s.seal_key, $4){}
  WHERE s.stream_id OPERATOR(pg_catalog.=) $1 {}
 RETURNING s.version OPERATOR(pg_catalog.-) $3, s.stream_type, s.seal_key, {}, {}",
        l.undelete, t.own_stream, t.head_tenant, l.closed
    )
}

// A new stream: create the head. If another transaction created it first
// (ON CONFLICT), nothing is written and the caller retries as an existing
// stream.
fn create_head(t: &Tenancy) -> String {
    format!(
        "INSERT INTO chronicle.streams AS s
        (stream_id, stream_type, version, seal_key, first_event_at, last_event_at{})
 VALUES ($1, $2, $3, $4, pg_catalog.now(), pg_catalog.now(){})
 ON CONFLICT (stream_id) DO NOTHING
 RETURNING 0::pg_catalog.int8, s.stream_type, s.seal_key, {}, false, false",
        t.column, t.new_head_value, t.head_tenant
    )
}

const EVENT_COLUMNS: &str = "seal_key, event_id, stream_id, stream_type, version, event_type, \
    schema_version, data, metadata, correlation_id, causation_id, actor, occurred_at";

/// Parameters after the head's five: $6 event_id, $7 event_type,
/// $8 schema_version, $9 data, $10 metadata, $11 correlation_id,
/// $12 causation_id, $13 actor, $14 occurred_at (and from 0.7.0 on
/// $15 personal_key, $16 personal_paths).
fn insert_one_sql(t: &Tenancy, r: &References, p: &Personal) -> String {
    format!(
        "INSERT INTO chronicle.event_log ({EVENT_COLUMNS}{}{})
 VALUES ($4, COALESCE($6, pg_catalog.gen_random_uuid()), $1, $2, $3 OPERATOR(pg_catalog.+) 1,
         $7, $8, $9, COALESCE($10, '{{}}'::jsonb), {}, $13, COALESCE($14, pg_catalog.now()){}{})",
        t.column, p.column, r.one, t.event_value, p.one_values
    )
}

/// Parameters after the head's five: $6 the events (a JSON array validated
/// by the core, its references in their stored form).
fn insert_batch_sql(t: &Tenancy, r: &References, p: &Personal) -> String {
    let cast = r.batch_cast;
    format!(
        "INSERT INTO chronicle.event_log ({EVENT_COLUMNS}{}{})
 SELECT $4, COALESCE((t.item OPERATOR(pg_catalog.->>) 'event_id')::uuid, pg_catalog.gen_random_uuid()),
        $1, $2, $3 OPERATOR(pg_catalog.+) t.ord,
        t.item OPERATOR(pg_catalog.->>) 'event_type',
        COALESCE((t.item OPERATOR(pg_catalog.->>) 'schema_version')::int, 1),
        t.item OPERATOR(pg_catalog.->) 'data',
        COALESCE(NULLIF(t.item OPERATOR(pg_catalog.->) 'metadata', 'null'::jsonb), '{{}}'::jsonb),
        (t.item OPERATOR(pg_catalog.->>) 'correlation_id'){cast},
        (t.item OPERATOR(pg_catalog.->>) 'causation_id'){cast},
        t.item OPERATOR(pg_catalog.->>) 'actor',
        COALESCE((t.item OPERATOR(pg_catalog.->>) 'occurred_at')::timestamptz, pg_catalog.now()){}{}
   FROM pg_catalog.jsonb_array_elements($6) WITH ORDINALITY AS t(item, ord)
  ORDER BY t.ord  -- ids (and so the feed's order) follow the versions",
        t.column, p.column, t.event_value, p.batch_values
    )
}

/// The append path's statements, planned once per session.
struct Plans {
    lookup_one: OwnedPreparedStatement,
    lookup_batch: OwnedPreparedStatement,
    /// Indexed by [`Target`]: advance an existing stream, create a new one.
    head: [OwnedPreparedStatement; 2],
    insert_one: OwnedPreparedStatement,
    insert_batch: OwnedPreparedStatement,
    /// Whether the schema has personal data (0.7.0 on).
    personal: bool,
}

/// Which head a write expects: an existing stream or a new one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Existing = 0,
    New = 1,
}

thread_local! {
    /// For each installed shape ([`crate::installed::shape`] and
    /// [`crate::installed::personal`]).
    static PLANS: [OnceCell<&'static Plans>; 16] = const {
        [const { OnceCell::new() }; 16]
    };
}

fn plans(client: &SpiClient<'_>) -> &'static Plans {
    use pg_sys::{
        INT4OID, INT8OID, JSONBOID, TEXTARRAYOID, TEXTOID, TIMESTAMPTZOID, UUIDOID, XID8OID,
    };
    let (tenants, text_references, lifecycle) = crate::installed::shape();
    let personal = crate::installed::personal();
    let p = if personal { &PERSONAL } else { &NO_PERSONAL };
    let t = if tenants { &TENANTS } else { &NO_TENANTS };
    let l = if lifecycle { &LIFECYCLE } else { &NO_LIFECYCLE };
    let r = if text_references {
        &TEXT_REFERENCES
    } else {
        &UUID_REFERENCES
    };
    let slot = usize::from(tenants)
        + 2 * usize::from(text_references)
        + 4 * usize::from(lifecycle)
        + 8 * usize::from(personal);
    PLANS.with(|cells| {
        *cells[slot].get_or_init(|| {
            // Mutating plans: SPI then takes a fresh snapshot per statement,
            // which the head read after the lock depends on.
            let prepare = |sql: &str, types: &[pg_sys::Oid]| prepare_kept(client, sql, types);
            let head = [TEXTOID, TEXTOID, INT8OID, XID8OID];
            // The head's five, then the event's nine or the batch.
            let written = [TEXTOID, TEXTOID, INT8OID, XID8OID, TEXTOID];
            let one = [
                UUIDOID,
                TEXTOID,
                INT4OID,
                JSONBOID,
                JSONBOID,
                TEXTOID,
                TEXTOID,
                TEXTOID,
                TIMESTAMPTZOID,
            ];
            let sealed: &[pg_sys::Oid] = if personal {
                &[UUIDOID, TEXTARRAYOID]
            } else {
                &[]
            };
            Box::leak(Box::new(Plans {
                lookup_one: prepare(&lookup_one_sql(t, p), &[UUIDOID, TEXTOID, JSONBOID]),
                lookup_batch: prepare(&lookup_batch_sql(t, p), &[JSONBOID]),
                head: [advance_head(t, l), create_head(t)].map(|sql| prepare(&sql, &head)),
                insert_one: prepare(
                    &insert_one_sql(t, r, p),
                    &[&written[..], &one, sealed].concat(),
                ),
                insert_batch: prepare(
                    &insert_batch_sql(t, r, p),
                    &[&written[..], &[JSONBOID]].concat(),
                ),
                personal,
            }))
        })
    })
}

/// The stream type an append was given, and whether it applies only when
/// the append creates the stream.
#[derive(Clone, Copy)]
struct StreamType<'a> {
    given: Option<&'a str>,
    for_new_stream_only: bool,
}

/// Writes an append and has the core judge it against the head it found.
///
/// `write(target, stream_type)` runs the prepared write for an existing or a
/// new stream and returns the head before it (None when the target was
/// wrong: no such stream, or a stream created meanwhile by someone else).
/// A rejection by the core raises an ERROR, which undoes the write.
fn write_and_decide(
    stream_id: &str,
    expected: chronicle_core::ExpectedVersion,
    given_type: StreamType<'_>,
    count: usize,
    mut write: impl FnMut(Target, &str) -> Option<Head>,
    function: &'static str,
) -> i64 {
    // At most: existing (absent) -> new (raced) -> existing (now present).
    // Another tenant's stream is neither found (the head's update is for
    // the session's tenant only) nor created (its id is taken).
    for _ in 0..2 {
        let decision = match write(Target::Existing, "") {
            Some(head) => {
                let given = given_type.given.filter(|_| !given_type.for_new_stream_only);
                decide_append(stream_id, expected, given, Some(&head), count).or_raise(function)
            }
            None => {
                let decision = decide_append(stream_id, expected, given_type.given, None, count)
                    .or_raise(function);
                if write(Target::New, &decision.stream_type).is_none() {
                    continue;
                }
                decision
            }
        };
        crate::notify::note_append(&decision.stream_type, stream_id, decision.plan.last as i64);
        crate::sealer::ensure_sealer_soon();
        return decision.plan.last as i64;
    }
    // Neither found nor created: the stream is another tenant's.
    raise(
        chronicle_core::Error::OtherTenant {
            stream_id: stream_id.to_string(),
        },
        function,
    )
}

/// Reads where a looked-up event_id is stored (columns `first`, `first + 1`:
/// stream and version, NULL for another tenant's) and whether its content
/// is the same (`first + 2`).
fn stored_event(row: &pgrx::spi::SpiHeapTupleData<'_>, first: usize) -> StoredEvent {
    let stream_id = spi(row.get::<String>(first));
    let version = spi(row.get::<i64>(first + 1));
    StoredEvent {
        at: stream_id.zip(version).map(|(s, v)| (s, v as u64)),
        same_content: spi(row.get::<bool>(first + 2)).unwrap_or(false),
    }
}

/// The head a write took, and what its events are written with.
struct Taken {
    head: Head,
    /// The events' feed key (an `xid8`).
    seal_key: u64,
    tenant: String,
}

impl Taken {
    /// The insert statements' first five arguments.
    fn arguments<'a>(&'a self, stream_id: &'a str) -> [DatumWithOid<'a>; 5] {
        [
            stream_id.into(),
            self.head.stream_type.as_str().into(),
            (self.head.version as i64).into(),
            xid8(self.seal_key),
            self.tenant.as_str().into(),
        ]
    }
}

/// Takes the head of an existing stream or creates a new one (`target`) for
/// `count` events; None when the target was wrong (no such stream, or a
/// stream created meanwhile by someone else).
fn take_head(
    client: &mut SpiClient<'_>,
    plans: &Plans,
    target: Target,
    stream_id: &str,
    new_type: &str,
    count: usize,
    key: u64,
) -> Option<Taken> {
    use pg_sys::{BOOLOID, INT8OID, TEXTOID, XID8OID};
    let args: [DatumWithOid; 4] = [
        stream_id.into(),
        new_type.into(),
        (count as i64).into(),
        xid8(key),
    ];
    first_row(
        spi(client.update(&plans.head[target as usize], None, &args)),
        &[INT8OID, TEXTOID, XID8OID, TEXTOID, BOOLOID, BOOLOID],
        |row| Taken {
            head: Head {
                version: row.get::<i64>(1).expect("NOT NULL") as u64,
                stream_type: row.get::<String>(2).expect("NOT NULL"),
                deleted_for_good: row.get::<bool>(5).expect("NOT NULL"),
                archived: row.get::<bool>(6).expect("NOT NULL"),
            },
            seal_key: row.get::<i64>(3).expect("NOT NULL") as u64,
            tenant: row.get::<String>(4).expect("NOT NULL"),
        },
    )
}

/// Appends one event to a stream and returns the stream's new version.
///
/// Its C symbol changed in 0.5.0 (the old one is in `compat.rs`): a session
/// that loaded an older library before the update, whose appends would not
/// register (`seal_bound.rs`), fails to call it instead of appending.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, security_definer, name = "append_event")]
#[search_path(pg_catalog, pg_temp)]
pub(crate) fn append_one_event(
    stream_id: Option<&str>,
    event_type: Option<&str>,
    data: Option<RawJsonb>,
    metadata: default!(Option<RawJsonb>, "'{}'"),
    expected_version: default!(Option<i64>, "NULL"),
    event_id: default!(Option<pgrx::Uuid>, "NULL"),
    stream_type: default!(Option<&str>, "NULL"),
    correlation_id: default!(Option<&str>, "NULL"),
    causation_id: default!(Option<&str>, "NULL"),
    actor: default!(Option<&str>, "NULL"),
    occurred_at: default!(Option<TimestampWithTimeZone>, "NULL"),
    schema_version: default!(Option<i32>, "1"),
    version: default!(Option<i64>, "NULL"),
) -> i64 {
    // A stream deleted for good is 55Z01, a code of Chronicle's own.
    crate::errors::with_own_sqlstates(|| {
        append(
            OneEvent {
                stream_id,
                event_type,
                data,
                metadata,
                expected_version,
                version,
                event_id,
                stream_type,
                correlation_id,
                causation_id,
                actor,
                occurred_at,
                schema_version,
                message_db: false,
            },
            "chronicle.append_event",
        )
    })
}

/// The arguments of `append_event` (the current one and the compatibility
/// symbol of older releases' SQL, `crate::compat`).
pub(crate) struct OneEvent<'a> {
    pub stream_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub data: Option<RawJsonb>,
    pub metadata: Option<RawJsonb>,
    pub expected_version: Option<i64>,
    pub version: Option<i64>,
    pub event_id: Option<pgrx::Uuid>,
    pub stream_type: Option<&'a str>,
    pub correlation_id: Option<&'a str>,
    pub causation_id: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub occurred_at: Option<TimestampWithTimeZone>,
    pub schema_version: Option<i32>,
    /// message-db's rules (`crate::message_store`): `stream_type` applies
    /// only to a stream this append creates (an existing one keeps its
    /// own), and an event_id already stored is refused (after the expected
    /// version, as message-db checks them) even where Chronicle would see a
    /// retry.
    pub message_db: bool,
}

/// Appends one event; `FN` names the SQL function in errors.
pub(crate) fn append(a: OneEvent<'_>, function: &'static str) -> i64 {
    crate::transaction::require_writable(function);
    let (stream_id, expected) =
        check_append_args(a.stream_id, a.stream_type, a.expected_version, a.version)
            .or_raise(function);
    let event_type = require(a.event_type, "event_type").or_raise(function);
    if let Some(t) = a.occurred_at {
        validate_occurred_at(t.is_finite()).or_raise(function);
    }
    let data_raw = require(a.data, "data").or_raise(function);
    let data_value = data_raw.parse("data").or_raise(function);
    let metadata_value = match a.metadata {
        Some(m) => m.parse("metadata").or_raise(function),
        None => Value::Object(Map::new()),
    };
    validate_payload(
        &Payload {
            event_type,
            schema_version: a.schema_version.map_or(1, i64::from),
            data: &data_value,
            metadata: &metadata_value,
            actor: a.actor,
        },
        &guc::limits(),
    )
    .or_raise(function);
    let (correlation_id, causation_id) =
        check_references(a.correlation_id, a.causation_id).or_raise(function);

    Spi::connect_mut(|client| {
        let version_of_schema = i64::from(a.schema_version.unwrap_or(1));
        crate::event_types::check(
            client,
            event_type,
            version_of_schema,
            "",
            &data_value,
            function,
        );
        let plans = plans(client);
        if let Some(id) = a.event_id {
            let table = spi(client.update(
                &plans.lookup_one,
                Some(1),
                &[id.into(), event_type.into(), data_raw.into()],
            ));
            let stored = table.into_iter().next().map(|row| stored_event(&row, 1));
            if a.message_db && stored.is_some() {
                crate::message_store::refuse_stored_id(
                    &stream_id,
                    expected,
                    &id.to_string(),
                    function,
                );
            }
            let check = IdCheck {
                field: "event_id".to_string(),
                event_id: Some(id.to_string()),
                stored,
            };
            if let Retry::AlreadyStored { last_version } =
                classify_retry(&stream_id, expected, &[check]).or_raise(function)
            {
                return last_version as i64;
            }
        }

        // An event with personal data is stored sealed with its subject's key.
        let stored = plans
            .personal
            .then(|| crate::personal::definition(client, event_type))
            .flatten()
            .map(|definition| {
                crate::personal::seal_event(
                    client,
                    &definition,
                    "",
                    a.event_id,
                    data_value,
                    metadata_value,
                    [
                        ("actor", a.actor),
                        ("correlation_id", correlation_id.as_deref()),
                        ("causation_id", causation_id.as_deref()),
                    ],
                    function,
                )
            })
            // An event without any of the personal members is stored as given.
            .filter(|s| !s.sealed.paths.is_empty());

        // What is stored: the sealed data and metadata, or the given ones.
        let (event_id, data, metadata) = match &stored {
            Some(s) => (
                Some(s.event_id),
                RawJsonb::from_value(&s.sealed.data),
                if s.sealed.in_metadata {
                    Some(RawJsonb::from_value(&s.sealed.metadata))
                } else {
                    a.metadata
                },
            ),
            None => (a.event_id, data_raw, a.metadata),
        };

        // Registers the transaction as an appender before anything is written.
        let key = crate::seal_bound::key();
        let write = |target: Target, new_type: &str| {
            let taken = take_head(client, plans, target, &stream_id, new_type, 1, key)?;
            let event: [DatumWithOid; 9] = [
                event_id.into(),
                event_type.into(),
                a.schema_version.unwrap_or(1).into(),
                data.into(),
                metadata.into(),
                correlation_id.as_deref().into(),
                causation_id.as_deref().into(),
                a.actor.into(),
                a.occurred_at.into(),
            ];
            let sealed: Vec<DatumWithOid> = if plans.personal {
                vec![
                    stored.as_ref().map(|s| s.key_id).into(),
                    stored.as_ref().map(|s| s.sealed.paths.clone()).into(),
                ]
            } else {
                Vec::new()
            };
            let args: Vec<DatumWithOid> = taken
                .arguments(&stream_id)
                .into_iter()
                .chain(event)
                .chain(sealed)
                .collect();
            spi(client.update(&plans.insert_one, None, &args));
            Some(taken.head)
        };
        let given_type = StreamType {
            given: a.stream_type,
            for_new_stream_only: a.message_db,
        };
        write_and_decide(&stream_id, expected, given_type, 1, write, function)
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.append_event(text, text, jsonb, jsonb, bigint, uuid, text, text, text, text, timestamptz, int, bigint) IS
    'Appends one event to a stream and returns the stream''s new version. expected_version: NULL = any, 0 = the stream must not exist, N = the stream must be at version N (else SQLSTATE 40001); or version: N = the new event is version N (the stream is at N - 1). Repeating an append with the same event_id at the same place returns the stored version again.';
"#,
    name = "append_event_comment",
    requires = [append_one_event],
);

/// Appends a batch of events to one stream, all or nothing; returns the
/// stream's new version (the version of the batch's last event). Its C
/// symbol changed in 0.5.0, as `append_event`'s did.
#[pg_extern(volatile, parallel_unsafe, security_definer, name = "append_events")]
#[search_path(pg_catalog, pg_temp)]
fn append_event_batch(
    stream_id: Option<&str>,
    events: Option<RawJsonb>,
    expected_version: default!(Option<i64>, "NULL"),
    stream_type: default!(Option<&str>, "NULL"),
) -> i64 {
    crate::errors::with_own_sqlstates(|| {
        append_batch(stream_id, events, expected_version, stream_type)
    })
}

/// Appends a batch (`append_events`, and the compatibility symbol of older
/// releases' SQL, `crate::compat`).
pub(crate) fn append_batch(
    stream_id: Option<&str>,
    events: Option<RawJsonb>,
    expected_version: Option<i64>,
    stream_type: Option<&str>,
) -> i64 {
    const FN: &str = "chronicle.append_events";
    crate::transaction::require_writable(FN);
    let (stream_id, expected) =
        check_append_args(stream_id, stream_type, expected_version, None).or_raise(FN);
    let events_raw = require(events, "events").or_raise(FN);
    let parsed = events_raw.parse("events").or_raise(FN);
    let batch = parse_batch(&parsed, &guc::limits()).or_raise(FN);
    let mut rewritten = with_stored_references(&parsed, &batch);

    Spi::connect_mut(|client| {
        for (i, e) in batch.iter().enumerate() {
            let prefix = format!("events[{i}].");
            crate::event_types::check(
                client,
                &e.event_type,
                e.schema_version,
                &prefix,
                &e.data,
                FN,
            );
        }
        let plans = plans(client);
        if batch.iter().any(|e| e.event_id.is_some()) {
            let mut checks: Vec<IdCheck> = batch
                .iter()
                .enumerate()
                .map(|(i, e)| IdCheck {
                    field: format!("events[{i}].event_id"),
                    event_id: e.event_id.clone(),
                    stored: None,
                })
                .collect();
            for row in spi(client.update(&plans.lookup_batch, None, &[events_raw.into()])) {
                let ord = spi(row.get::<i64>(1)).expect("NOT NULL") as usize;
                checks[ord - 1].stored = Some(stored_event(&row, 2));
            }
            if let Retry::AlreadyStored { last_version } =
                classify_retry(&stream_id, expected, &checks).or_raise(FN)
            {
                return last_version as i64;
            }
        }

        // The events with personal data are stored sealed with their
        // subjects' keys, each with its id, key and sealed members' pointers
        // (members `insert_batch_sql` reads).
        if plans.personal {
            for (i, e) in batch.iter().enumerate() {
                let Some(definition) = crate::personal::definition(client, &e.event_type) else {
                    continue;
                };
                let stored = crate::personal::seal_event(
                    client,
                    &definition,
                    &format!("events[{i}]."),
                    e.event_id.as_deref().map(|id| {
                        let id = chronicle_core::identifier::as_uuid(id)
                            .expect("parse_batch checked the uuid");
                        pgrx::Uuid::from_bytes(*id.as_bytes())
                    }),
                    e.data.clone(),
                    e.metadata.clone(),
                    [
                        ("actor", e.actor.as_deref()),
                        ("correlation_id", e.correlation_id.as_deref()),
                        ("causation_id", e.causation_id.as_deref()),
                    ],
                    FN,
                );
                if stored.sealed.paths.is_empty() {
                    continue; // none of the personal members: stored as given
                }
                let events = rewritten.get_or_insert_with(|| parsed.clone());
                let item = events[i].as_object_mut().expect("validated objects");
                item.insert("data".into(), stored.sealed.data);
                item.insert("metadata".into(), stored.sealed.metadata);
                item.insert("event_id".into(), stored.event_id.to_string().into());
                item.insert("personal_key".into(), stored.key_id.to_string().into());
                item.insert("personal_paths".into(), stored.sealed.paths.into());
            }
        }
        drop(parsed);
        let rewritten = rewritten.map(JsonB);

        let count = batch.len();
        // Registers the transaction as an appender before anything is written.
        let key = crate::seal_bound::key();
        let write = |target: Target, new_type: &str| {
            let taken = take_head(client, plans, target, &stream_id, new_type, count, key)?;
            let events: DatumWithOid = match &rewritten {
                Some(stored) => JsonB(stored.0.clone()).into(),
                None => events_raw.into(),
            };
            let args: Vec<DatumWithOid> = taken
                .arguments(&stream_id)
                .into_iter()
                .chain([events])
                .collect();
            spi(client.update(&plans.insert_batch, None, &args));
            Some(taken.head)
        };
        let given_type = StreamType {
            given: stream_type,
            for_new_stream_only: false,
        };
        write_and_decide(&stream_id, expected, given_type, count, write, FN)
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.append_events(text, jsonb, bigint, text) IS
    'Appends a JSON array of events ({"event_type", "data", ...}) to one stream, all or nothing; returns the version of the last one.';
"#,
    name = "append_events_comment",
    requires = [append_event_batch],
);

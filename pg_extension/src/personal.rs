//! Personal data inside the database (0.7.0 on): `define_personal_data`,
//! sealing an event's personal members at append, opening them for every
//! read (`chronicle_internal._reveal`, which the views, the feed, replay and
//! export read the log through), and `forget_subject`, which destroys a
//! subject's key. The rules (pointers, the cipher, what an erased member
//! reads as) are the core's (`chronicle_core::personal`).
//!
//! The keys are `subject_keys.rs`'s.

use std::rc::Rc;

use chronicle_core::error::{require, Error, Object};
use chronicle_core::personal::{self, check_definition, Definition, Part, SealedEvent};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::JsonB;
use serde_json::Value;

use crate::errors::{raise, OrRaise};
use crate::raw_jsonb::RawJsonb;
use crate::spi::{first_row, spi};

/// The personal data definition of `event_type`, if it has one (none on a
/// schema older than 0.7.0).
pub fn definition(client: &SpiClient<'_>, event_type: &str) -> Option<Rc<Definition>> {
    crate::definition_cache::personal(client)
        .get(event_type)
        .cloned()
}

/// Defines (or replaces) the personal data of an event type.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn define_personal_data(
    event_type: Option<&str>,
    subject: Option<&str>,
    paths: Option<Vec<Option<String>>>,
) {
    const FN: &str = "chronicle.define_personal_data";
    crate::installed::require_personal(FN);
    crate::tenant::require_definer(FN);
    let definition = check_definition(event_type, subject, paths.as_deref()).or_raise(FN);
    let paths: Vec<String> = definition.paths.iter().map(|p| p.pointer.clone()).collect();
    Spi::connect_mut(|client| {
        spi(client.update(
            "INSERT INTO chronicle_internal.personal_data_definitions AS d (event_type, subject, paths, defined_at)
             VALUES ($1, $2, $3, pg_catalog.now())
             ON CONFLICT (event_type) DO UPDATE
                SET subject = EXCLUDED.subject, paths = EXCLUDED.paths, defined_at = EXCLUDED.defined_at",
            None,
            &[
                definition.event_type.as_str().into(),
                definition.subject.pointer.as_str().into(),
                paths.into(),
            ],
        ));
        crate::definition_cache::invalidate(client, "chronicle_internal.personal_data_definitions");
    });
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.define_personal_data(text, text, text[]) IS
    'Declares the personal data of an event type (chronicle_admin): subject is the JSON pointer of the data subject''s id (a member of data such as /customer_id, or /actor), paths the pointers of the personal members (/email: data; /metadata/ip: metadata). Events of the type appended from then on store those members sealed with the subject''s key; every read opens them, and after chronicle.forget_subject they read as {"erased": true}. Defining it again replaces the definition for later appends.';
"#,
    name = "define_personal_data_comment",
    requires = [define_personal_data],
);

/// An event of a type with personal data, sealed for storing: its id
/// (generated when the caller gave none: the seal is bound to it), its data
/// and metadata with the personal members sealed, the key's id and the
/// sealed members' pointers.
pub struct Stored {
    pub event_id: pgrx::Uuid,
    pub sealed: SealedEvent,
    pub key_id: pgrx::Uuid,
}

/// Seals an event (`prefix`: where it is in the call, for errors) whose type
/// has personal data: finds its subject (a clean error if the event names
/// none), takes the subject's key and seals the personal members.
#[allow(clippy::too_many_arguments)]
pub fn seal_event(
    client: &mut SpiClient<'_>,
    definition: &Definition,
    prefix: &str,
    event_id: Option<pgrx::Uuid>,
    data: Value,
    metadata: Value,
    envelope_members: [(&str, Option<&str>); 3],
    function: &'static str,
) -> Stored {
    let envelope = personal::envelope(data, metadata, envelope_members);
    let subject = definition.subject_of(prefix, &envelope).or_raise(function);
    let key = crate::subject_keys::for_append(client, &crate::tenant::tenant(), &subject);
    let event_id = event_id.unwrap_or_else(crate::random::uuid);
    let sealed = definition.seal_event(envelope, &key.key, event_id.as_bytes(), || {
        let mut nonce = [0u8; 24];
        crate::random::stream(&mut nonce);
        nonce
    });
    Stored {
        event_id,
        sealed,
        key_id: key.id,
    }
}

/// `chronicle_internal._reveal`: an event's data or metadata (`part`) as
/// its readers see it, its sealed members opened (or erased once the key is
/// gone). Created by `sql/schema.sql` (the view `chronicle.events` needs it
/// before the functions pgrx writes).
#[pg_extern(sql = false, stable, parallel_restricted)]
fn reveal(
    member: Option<RawJsonb>,
    part: Option<&str>,
    event_id: Option<pgrx::Uuid>,
    personal_key: Option<pgrx::Uuid>,
    personal_paths: Option<Vec<Option<String>>>,
) -> Option<JsonB> {
    const FN: &str = "chronicle_internal._reveal";
    let member = member?;
    let field = match part {
        Some("metadata") => "metadata",
        _ => "data",
    };
    let mut value = member.parse(field).or_raise(FN);
    let (Some(key_id), Some(event_id)) = (personal_key, event_id) else {
        return Some(JsonB(value));
    };
    let paths: Vec<String> = personal_paths
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let part = if field == "metadata" {
        Part::Metadata
    } else {
        Part::Data
    };
    let key = crate::subject_keys::for_read(key_id);
    crate::errors::with_own_sqlstates(|| {
        personal::open_part(part, &mut value, &paths, key.as_ref(), event_id.as_bytes())
            .map_err(|broken| broken.into_error(&event_id.to_string()))
            .or_raise(FN)
    });
    Some(JsonB(value))
}

/// `chronicle_internal._base_state`: a truncated stream's base state as
/// its readers fold from it: the sealed whole (`personal_state`) while all
/// its subjects' keys exist, else `state` (every personal member erased).
#[pg_extern(stable, parallel_restricted, schema = "chronicle_internal")]
fn _base_state(
    stream_id: Option<&str>,
    version: Option<i64>,
    state: Option<JsonB>,
    personal_state: Option<&str>,
    personal_keys: Option<Vec<Option<pgrx::Uuid>>>,
) -> Option<JsonB> {
    let state = state?;
    let (Some(stream_id), Some(version), Some(sealed), Some(key_ids)) =
        (stream_id, version, personal_state, personal_keys)
    else {
        return Some(state);
    };
    let keys: Option<Vec<_>> = key_ids
        .into_iter()
        .map(|id| id.and_then(crate::subject_keys::for_read))
        .collect();
    Some(
        keys.and_then(|keys| personal::open_state(sealed, &keys, &base_place(stream_id, version)))
            .map_or(state, JsonB),
    )
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._base_state(text, bigint, jsonb, text, uuid[]) IS
    'Internal: a truncated stream''s base state: the sealed whole while none of its subjects is forgotten, else the state with every personal member erased.';
"#,
    name = "base_state_comment",
    requires = [_base_state],
);

/// Where a sealed base state is bound to: its stream and version.
fn base_place(stream_id: &str, version: i64) -> String {
    format!("{stream_id}\u{0}{version}")
}

/// A truncation's base when personal members were folded into it: the
/// state with every personal member erased (what `state` stores), and the
/// whole state sealed with the keys of the subjects still known (ids in
/// order), which `_base_state` opens. None when none was folded in.
pub struct SealedBase {
    pub erased: Value,
    pub sealed: String,
    pub key_ids: Vec<pgrx::Uuid>,
}

/// Seals the base `state` at `version` of a stream (`fold` folds it again,
/// as it is folded now) if personal members of subjects not forgotten went
/// into it: those of its events up to `version`, and of its previous base.
pub fn seal_base(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    version: i64,
    state: &Value,
    fold: impl FnOnce(&mut SpiClient<'_>) -> Value,
) -> Option<SealedBase> {
    if !crate::installed::personal() {
        return None;
    }
    let mut key_ids: Vec<pgrx::Uuid> = Vec::new();
    crate::spi::each_row(
        spi(client.select(
            "SELECT DISTINCT k FROM (
               SELECT e.personal_key FROM chronicle.event_log e
                WHERE e.stream_id OPERATOR(pg_catalog.=) $1 AND e.version OPERATOR(pg_catalog.>) 0
                  AND e.version OPERATOR(pg_catalog.<=) $2 AND e.personal_key IS NOT NULL
               UNION ALL
               SELECT pg_catalog.unnest(b.personal_keys) FROM chronicle.stream_bases b
                WHERE b.stream_id OPERATOR(pg_catalog.=) $1) AS u(k)
             ORDER BY k",
            None,
            &[stream_id.into(), version.into()],
        )),
        &[pg_sys::UUIDOID],
        |row| key_ids.push(row.get::<pgrx::Uuid>(1).expect("NOT NULL")),
    );
    // Only the subjects still known: the fold has the others' members erased already.
    let keys: Vec<(pgrx::Uuid, chronicle_core::personal::Key)> = key_ids
        .into_iter()
        .filter_map(|id| crate::subject_keys::for_read(id).map(|k| (id, k)))
        .collect();
    if keys.is_empty() {
        return None;
    }
    let mut nonce = [0u8; 24];
    crate::random::stream(&mut nonce);
    let sealed = personal::seal_state(
        state,
        &keys.iter().map(|(_, k)| *k).collect::<Vec<_>>(),
        &base_place(stream_id, version),
        nonce,
    );
    Some(SealedBase {
        erased: crate::subject_keys::withheld(|| fold(client)),
        sealed,
        key_ids: keys.into_iter().map(|(id, _)| id).collect(),
    })
}

/// Stores (or clears) the sealed whole of a stream's new base, written
/// just before with its erased state (0.7.0 on).
pub fn store_sealed_base(client: &mut SpiClient<'_>, stream_id: &str, sealed: Option<SealedBase>) {
    if !crate::installed::personal() {
        return;
    }
    let (state, keys) = sealed.map_or((None, None), |s| (Some(s.sealed), Some(s.key_ids)));
    spi(client.update(
        "UPDATE chronicle.stream_bases SET personal_state = $2, personal_keys = $3
          WHERE stream_id OPERATOR(pg_catalog.=) $1",
        None,
        &[stream_id.into(), state.into(), keys.into()],
    ));
}

/// Forgets a data subject of the session's tenant: destroys its key.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn forget_subject(subject: Option<&str>, reason: default!(Option<&str>, "NULL")) -> i64 {
    const FN: &str = "chronicle.forget_subject";
    crate::installed::require_personal(FN);
    crate::transaction::require_writable(FN);
    let subject = require(subject, "subject").or_raise(FN);
    let tenant = crate::tenant::tenant();
    let by = crate::privilege::caller();
    let events = Spi::connect_mut(|client| {
        let key_id = crate::subject_keys::destroy(client, &tenant, subject);
        let Some(key_id) = key_id else {
            let forgotten_before = first_row(
                spi(client.select(
                    "SELECT EXISTS (SELECT FROM chronicle.forgotten f
                      WHERE f.tenant OPERATOR(pg_catalog.=) $1 AND f.subject OPERATOR(pg_catalog.=) $2)",
                    None,
                    &[tenant.as_str().into(), subject.into()],
                )),
                &[pg_sys::BOOLOID],
                |row| row.get::<bool>(1).expect("NOT NULL"),
            )
            .expect("one row");
            if forgotten_before {
                // Forgotten already, and not named since: nothing to do.
                return 0;
            }
            raise(Error::not_found(Object::Subject, subject), FN);
        };
        let args: [DatumWithOid; 1] = [key_id.into()];
        let events = first_row(
            spi(client.select(
                "SELECT (SELECT pg_catalog.count(*) FROM chronicle.event_log e
                          WHERE e.personal_key OPERATOR(pg_catalog.=) $1)
                      OPERATOR(pg_catalog.+)
                        (SELECT pg_catalog.count(*) FROM chronicle.event_archive a
                          WHERE a.personal_key OPERATOR(pg_catalog.=) $1)",
                None,
                &args,
            )),
            &[pg_sys::INT8OID],
            |row| row.get::<i64>(1).expect("NOT NULL"),
        )
        .expect("one row");
        spi(client.update(
            "INSERT INTO chronicle.forgotten (subject, forgotten_by, reason, events, tenant)
             VALUES ($1, $2, $3, $4, $5)",
            None,
            &[
                subject.into(),
                by.as_str().into(),
                reason.into(),
                events.into(),
                tenant.as_str().into(),
            ],
        ));
        events
    });
    events
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.forget_subject(text, text) IS
    'Forgets a data subject of the session''s tenant (chronicle_admin): destroys the key its events'' personal members are sealed with and returns how many events had any. From the commit on, those members read as {"erased": true} in every read (read_stream, read_all, poll, chronicle.events, export_stream, state_at, ...); nothing else changes. A later append naming the subject gets a new key. Recorded in chronicle.forgotten with reason. 42704 for a subject no event named; 0 for one forgotten already and not named since.';
"#,
    name = "forget_subject_comment",
    requires = [forget_subject],
);

//! A stream's lifecycle: `delete_stream` and `truncate_stream`, the only
//! functions that remove events. The rules are the core's
//! (`chronicle_core::lifecycle`); this module locks, removes and records.
//!
//! A removal locks the stream's head (waiting for its running appends, and
//! making its next appends wait), then the sealer's lock (so that no seal
//! hands out positions to the events meanwhile), deletes the events and
//! blanks their entries in the feed's chunks: their positions stay taken,
//! pointing at nothing, and no other event moves. Appends to other streams
//! never wait for it: they lock neither that head nor the sealer's lock.
//! Every removal leaves an event of the stream in the feed, after what it
//! removed (`$StreamDeleted`, `$StreamTruncated`, with a negative version:
//! `chronicle_core::lifecycle`), and a row of `chronicle.lifecycle_log`.

use chronicle_core::lifecycle::{
    check_delete_args, check_truncate_args, decide_delete, decide_truncate, StreamState,
};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::JsonB;
use std::cell::Cell;

use crate::errors::OrRaise;
use crate::spi::{first_row, spi};

thread_local! {
    /// Whether this session is removing events (see [`Removing`]).
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// While alive, the append-only guard lets this session's deletes from the
/// log and updates of the feed through (`_refuse_history_change`). Dropped
/// also when an ERROR unwinds.
struct Removing;

impl Removing {
    fn start() -> Removing {
        RUNNING.with(|r| r.set(true));
        Removing
    }
}

impl Drop for Removing {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(false));
    }
}

/// `chronicle_internal._lifecycle_running()`, which the guard asks (its SQL
/// is in `sql/schema.sql`, before the triggers that use it).
#[pg_extern(sql = false)]
fn lifecycle_running() -> bool {
    RUNNING.with(Cell::get)
}

/// Whether the installed schema has the lifecycle's columns (0.6.0 on): the
/// library serves an older schema until `ALTER EXTENSION chronicle UPDATE`.
pub fn installed() -> bool {
    unsafe {
        let schema = pg_sys::get_namespace_oid(c"chronicle".as_ptr(), true);
        let streams = pg_sys::get_relname_relid(c"streams".as_ptr(), schema);
        streams == pg_sys::InvalidOid
            || pg_sys::get_attnum(streams, c"first_version".as_ptr())
                != pg_sys::InvalidAttrNumber as i16
    }
}

/// Raises an error until the schema is updated.
pub(crate) fn require_installed(function: &'static str) {
    if !installed() {
        pgrx::error!(
            "{function} needs Chronicle 0.6.0's schema: run ALTER EXTENSION chronicle UPDATE"
        );
    }
}

/// A locked head, as the lifecycle reads it.
pub(crate) struct Locked {
    pub state: StreamState,
    stream_type: String,
    tenant: String,
}

/// Locks the head of a stream of `tenant` (the session's; None: any, for
/// the retention worker); None when there is no such stream.
pub(crate) fn lock_head(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    tenant: Option<&str>,
) -> Option<Locked> {
    use pg_sys::{BOOLOID, INT8OID, TEXTOID};
    first_row(
        spi(client.update(
            "SELECT s.version, s.first_version, s.deleted_at IS NOT NULL, s.hard_deleted,
                    s.stream_type, s.tenant
               FROM chronicle.streams s
              WHERE s.stream_id OPERATOR(pg_catalog.=) $1
                AND ($2::pg_catalog.text IS NULL OR s.tenant OPERATOR(pg_catalog.=) $2)
                FOR UPDATE",
            None,
            &[stream_id.into(), tenant.into()],
        )),
        &[INT8OID, INT8OID, BOOLOID, BOOLOID, TEXTOID, TEXTOID],
        |row| Locked {
            state: StreamState {
                version: row.get::<i64>(1).expect("NOT NULL") as u64,
                first_version: row.get::<i64>(2).expect("NOT NULL") as u64,
                deleted: row.get::<bool>(3).expect("NOT NULL"),
                deleted_for_good: row.get::<bool>(4).expect("NOT NULL"),
            },
            stream_type: row.get::<String>(5).expect("NOT NULL"),
            tenant: row.get::<String>(6).expect("NOT NULL"),
        },
    )
}

/// Deletes the stream's events of versions `first..=last` and blanks their
/// entries in the feed's chunks (key 0, id 0: no event has them), in one
/// statement; returns how many events were removed. A chunk is found the
/// way `chronicle.events` finds an event's position.
const REMOVE: &str = "
WITH gone AS (
  DELETE FROM chronicle.event_log e
   WHERE e.stream_id OPERATOR(pg_catalog.=) $1
     AND e.version OPERATOR(pg_catalog.>=) $2 AND e.version OPERATOR(pg_catalog.<=) $3
  RETURNING e.seal_key, e.id
), chunks AS (
  SELECT c.first_position, pg_catalog.array_agg(g.id) AS ids
    FROM gone g
   CROSS JOIN LATERAL (
         SELECT f.first_position
           FROM pg_catalog.generate_series(0, (SELECT pg_catalog.max(s.era) FROM chronicle.feed_state s)) AS r(era)
          CROSS JOIN LATERAL (
                SELECT f.first_position, f.ids FROM chronicle.feed f
                 WHERE f.era OPERATOR(pg_catalog.=) r.era
                   AND (f.first_key, f.first_id) OPERATOR(pg_catalog.<=) (g.seal_key, g.id)
                 ORDER BY f.era DESC, f.first_key DESC, f.first_id DESC
                 LIMIT 1) f
          WHERE pg_catalog.array_position(f.ids, g.id) IS NOT NULL
          LIMIT 1) c
   GROUP BY c.first_position
), blanked AS (
  UPDATE chronicle.feed f
     SET keys = ARRAY(SELECT CASE WHEN u.id OPERATOR(pg_catalog.=) ANY (c.ids) THEN '0'::pg_catalog.xid8 ELSE u.key END
                        FROM ROWS FROM (pg_catalog.unnest(f.keys), pg_catalog.unnest(f.ids))
                             WITH ORDINALITY AS u(key, id, ord)
                       ORDER BY u.ord),
         ids = ARRAY(SELECT CASE WHEN u.id OPERATOR(pg_catalog.=) ANY (c.ids) THEN 0::pg_catalog.int8 ELSE u.id END
                       FROM pg_catalog.unnest(f.ids) WITH ORDINALITY AS u(id, ord)
                      ORDER BY u.ord)
    FROM chunks c
   WHERE f.first_position OPERATOR(pg_catalog.=) c.first_position
  RETURNING 1
)
SELECT (SELECT pg_catalog.count(*) FROM gone), (SELECT pg_catalog.count(*) FROM blanked)";

/// Removes versions `first..=last` of a locked stream (see [`REMOVE`]),
/// holding the sealer's lock to the end of the transaction.
fn remove_events(client: &mut SpiClient<'_>, stream_id: &str, first: u64, last: u64) -> i64 {
    if first > last {
        return 0;
    }
    crate::seal::hold_seal_lock();
    let _removing = Removing::start();
    let args: [DatumWithOid; 3] = [
        stream_id.into(),
        (first as i64).into(),
        (last as i64).into(),
    ];
    first_row(
        spi(client.update(REMOVE, None, &args)),
        &[pg_sys::INT8OID, pg_sys::INT8OID],
        |row| row.get::<i64>(1).expect("NOT NULL"),
    )
    .expect("one row")
}

/// Appends the tombstone of a removal to the stream: an event with the next
/// negative version, after the stream's last event in the feed (its key is
/// at least theirs, and the head's key is raised to it). Returns its id.
const TOMBSTONE: &str = "
WITH t AS (
  INSERT INTO chronicle.event_log
         (seal_key, event_id, stream_id, stream_type, version, event_type, data, actor, tenant)
  SELECT GREATEST(s.seal_key, $4), pg_catalog.gen_random_uuid(), s.stream_id, s.stream_type,
         coalesce((SELECT pg_catalog.min(e.version) FROM chronicle.event_log e
                    WHERE e.stream_id OPERATOR(pg_catalog.=) s.stream_id
                      AND e.version OPERATOR(pg_catalog.<) 0), 0) OPERATOR(pg_catalog.-) 1,
         $2, $3, $5, s.tenant
    FROM chronicle.streams s
   WHERE s.stream_id OPERATOR(pg_catalog.=) $1
  RETURNING seal_key, event_id
), raised AS (
  UPDATE chronicle.streams s SET seal_key = t.seal_key
    FROM t WHERE s.stream_id OPERATOR(pg_catalog.=) $1
)
SELECT event_id FROM t";

fn leave_tombstone(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    (event_type, data): (&'static str, serde_json::Value),
    actor: &str,
) -> pgrx::Uuid {
    // Registered as an appender first, like every writer of events
    // (seal_bound.rs): the feed cannot pass this event by.
    let key = crate::seal_bound::key();
    let args: [DatumWithOid; 5] = [
        stream_id.into(),
        event_type.into(),
        JsonB(data).into(),
        crate::spi::xid8(key),
        actor.into(),
    ];
    let id = first_row(
        spi(client.update(TOMBSTONE, None, &args)),
        &[pg_sys::UUIDOID],
        |row| row.get::<pgrx::Uuid>(1).expect("NOT NULL"),
    )
    .expect("the stream's head is locked");
    crate::sealer::ensure_sealer_soon();
    id
}

/// What a lifecycle operation did, for `chronicle.lifecycle_log`.
struct Record<'a> {
    operation: &'static str,
    stream_id: &'a str,
    head: &'a Locked,
    from_version: u64,
    to_version: u64,
    events: i64,
    reason: Option<&'a str>,
    event_id: pgrx::Uuid,
}

/// The role that called: after SET ROLE, not the definer.
fn caller() -> String {
    unsafe {
        let name = pg_sys::GetUserNameFromId(pg_sys::GetOuterUserId(), true);
        if name.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    }
}

fn log(client: &mut SpiClient<'_>, r: Record<'_>, performed_by: &str) {
    let args: [DatumWithOid; 10] = [
        r.operation.into(),
        r.stream_id.into(),
        r.head.stream_type.as_str().into(),
        (r.from_version as i64).into(),
        (r.to_version as i64).into(),
        r.events.into(),
        r.reason.into(),
        performed_by.into(),
        r.head.tenant.as_str().into(),
        r.event_id.into(),
    ];
    spi(client.update(
        "INSERT INTO chronicle.lifecycle_log
                (operation, stream_id, stream_type, from_version, to_version, events, reason,
                 performed_by, tenant, event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        None,
        &args,
    ));
}

/// Deletes a stream: its events are removed; it reads as not existing, keeps
/// its version, and a later append continues after it (unless `hard`: then
/// it is never written again). Returns the number of events removed.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn delete_stream(
    stream_id: Option<&str>,
    expected_version: default!(Option<i64>, "NULL"),
    hard: default!(Option<bool>, "false"),
    reason: default!(Option<&str>, "NULL"),
) -> i64 {
    const FN: &str = "chronicle.delete_stream";
    let (stream_id, expected, hard) =
        check_delete_args(stream_id, expected_version, hard).or_raise(FN);
    crate::transaction::require_can_seal(FN);
    require_installed(FN);
    Spi::connect_mut(|client| {
        let head = lock_head(client, &stream_id, Some(&crate::tenant::tenant()));
        let deletion =
            decide_delete(&stream_id, expected, hard, head.as_ref().map(|h| &h.state)).or_raise(FN);
        let head = head.expect("decide_delete refuses a missing stream");
        let removed = remove_events(client, &stream_id, deletion.first, deletion.last);
        spi(client.update(
            "UPDATE chronicle.streams
                SET deleted_at = coalesce(deleted_at, pg_catalog.now()), hard_deleted = $2,
                    first_version = version OPERATOR(pg_catalog.+) 1
              WHERE stream_id OPERATOR(pg_catalog.=) $1",
            None,
            &[stream_id.as_str().into(), deletion.hard.into()],
        ));
        // Nothing of its history stays: no base, no cached state.
        for table in ["chronicle.stream_bases", "chronicle.snapshots"] {
            spi(client.update(
                &format!("DELETE FROM {table} WHERE stream_id OPERATOR(pg_catalog.=) $1"),
                None,
                &[stream_id.as_str().into()],
            ));
        }
        // Deleting a deleted stream again records nothing, unless it makes
        // the deletion hard.
        let changed = removed > 0 || (deletion.hard && !head.state.deleted_for_good);
        if changed || !head.state.deleted {
            let performed_by = caller();
            let event_id = leave_tombstone(
                client,
                &stream_id,
                deletion.tombstone(reason),
                &performed_by,
            );
            log(
                client,
                Record {
                    operation: if deletion.hard {
                        "hard_delete"
                    } else {
                        "delete"
                    },
                    stream_id: &stream_id,
                    head: &head,
                    from_version: deletion.first,
                    to_version: deletion.last,
                    events: removed,
                    reason,
                    event_id,
                },
                &performed_by,
            );
        }
        removed
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.delete_stream(text, bigint, boolean, text) IS
    'Deletes a stream (chronicle_admin): removes its events and returns how many. The stream then reads as not existing; stream_version still returns its last version, and chronicle.streams says when it was deleted. An append continues its versions, unless hard => true: then the stream id can never be written again (55Z01). expected_version as in append_event (40001 on mismatch). The removed events leave the global feed; their positions are never reused. Recorded in chronicle.lifecycle_log with reason.';
"#,
    name = "delete_stream_comment",
    requires = [delete_stream],
);

/// Removes the events of a locked stream before `before_version`, keeping
/// the state at `before_version - 1` as its base; returns the number of
/// events removed. `operation`: `truncate` or `retention`.
pub(crate) fn truncate(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    head: Option<Locked>,
    before: u64,
    operation: &'static str,
    reason: Option<&str>,
    function: &'static str,
) -> i64 {
    let cut =
        decide_truncate(stream_id, before, head.as_ref().map(|h| &h.state)).or_raise(function);
    let head = head.expect("decide_truncate refuses a missing stream");
    if cut.count() == 0 {
        return 0;
    }
    let base = crate::replay::base_state(client, stream_id, cut.base(), function);
    let removed = remove_events(client, stream_id, cut.first, cut.before - 1);
    spi(client.update(
        "INSERT INTO chronicle.stream_bases
                (stream_id, version, state, recorded_at, reducer_revision, upcasters_fingerprint, tenant)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (stream_id) DO UPDATE
            SET version = excluded.version, state = excluded.state, recorded_at = excluded.recorded_at,
                reducer_revision = excluded.reducer_revision,
                upcasters_fingerprint = excluded.upcasters_fingerprint, created_at = pg_catalog.now()",
        None,
        &[
            stream_id.into(),
            (cut.base() as i64).into(),
            JsonB(base.state).into(),
            base.recorded_at.into(),
            base.revision.into(),
            base.fingerprint.into(),
            head.tenant.as_str().into(),
        ],
    ));
    spi(client.update(
        "UPDATE chronicle.streams SET first_version = $2 WHERE stream_id OPERATOR(pg_catalog.=) $1",
        None,
        &[stream_id.into(), (cut.before as i64).into()],
    ));
    // Cached states of removed versions go; those at or after the base stay.
    spi(client.update(
        "DELETE FROM chronicle.snapshots
          WHERE stream_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.<) $2",
        None,
        &[stream_id.into(), (cut.base() as i64).into()],
    ));
    let performed_by = caller();
    let event_id = leave_tombstone(
        client,
        stream_id,
        cut.tombstone(operation, reason),
        &performed_by,
    );
    log(
        client,
        Record {
            operation,
            stream_id,
            head: &head,
            from_version: cut.first,
            to_version: cut.before - 1,
            events: removed,
            reason,
            event_id,
        },
        &performed_by,
    );
    removed
}

/// Removes a stream's events with versions below `before_version`; the
/// others keep their versions, and the state at `before_version - 1` is
/// kept as the stream's base. Returns the number of events removed.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn truncate_stream(
    stream_id: Option<&str>,
    before_version: Option<i64>,
    reason: default!(Option<&str>, "NULL"),
) -> i64 {
    const FN: &str = "chronicle.truncate_stream";
    let (stream_id, before) = check_truncate_args(stream_id, before_version).or_raise(FN);
    crate::transaction::require_can_seal(FN);
    require_installed(FN);
    Spi::connect_mut(|client| {
        let head = lock_head(client, &stream_id, Some(&crate::tenant::tenant()));
        truncate(client, &stream_id, head, before, "truncate", reason, FN)
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.truncate_stream(text, bigint, text) IS
    'Removes the events of a stream with versions below before_version (chronicle_admin; at most the head + 1) and returns how many. The other events keep their versions; the state at before_version - 1, folded with the current reducer, is kept as the stream''s base (chronicle.stream_bases), so state_at from that version on answers as before and an earlier one is 55Z02. The removed events leave the global feed; their positions are never reused. Recorded in chronicle.lifecycle_log with reason.';
"#,
    name = "truncate_stream_comment",
    requires = [truncate_stream],
);

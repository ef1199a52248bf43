//! A stream's lifecycle: `delete_stream` and `truncate_stream`, the only
//! functions that remove events. The rules are the core's
//! (`chronicle_core::lifecycle`); this module locks, removes and records.
//!
//! A removal takes the stream's lifecycle lock (an advisory lock of its
//! own: one lifecycle operation per stream at a time; appends do not take
//! it), then the sealer's lock (so that no seal hands out positions to the
//! events meanwhile), deletes the events and blanks their entries in the
//! feed's chunks: their positions stay taken, pointing at nothing, and no
//! other event moves. A truncation (and retention) writes the stream's head
//! last, just before it commits, so appends to the stream go on while it
//! removes old events; a deletion locks the head first (appends wait: the
//! stream must not take an event while it is being deleted). Appends to
//! other streams never wait for either.
//! Every removal leaves an event of the stream in the feed, after what it
//! removed (`$StreamDeleted`, `$StreamTruncated`, with a negative version:
//! `chronicle_core::lifecycle`), and a row of `chronicle.lifecycle_log`.

use chronicle_core::lifecycle::{
    check_delete_args, check_truncate_args, decide_archive, decide_delete, decide_truncate,
    StreamState,
};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::JsonB;
use std::cell::Cell;

use crate::errors::{raise, OrRaise};
use crate::spi::{each_row, first_row, prepare_kept, spi, Xid8};
use pgrx::spi::OwnedPreparedStatement;
use std::cell::OnceCell;

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

/// The lifecycle's statements, planned once per session.
struct Plans {
    lock_head: OwnedPreparedStatement,
    read_head: OwnedPreparedStatement,
    heads: OwnedPreparedStatement,
    remove: OwnedPreparedStatement,
    superseded: OwnedPreparedStatement,
    tombstones: OwnedPreparedStatement,
    log: OwnedPreparedStatement,
    base: OwnedPreparedStatement,
    cut: OwnedPreparedStatement,
    deleted: OwnedPreparedStatement,
    forget: OwnedPreparedStatement,
    archive: OwnedPreparedStatement,
    restore: OwnedPreparedStatement,
}

thread_local! {
    static PLANS: OnceCell<&'static Plans> = const { OnceCell::new() };
}

/// Plans the lifecycle's statements (before work whose errors are caught
/// per item, so that a bug in them is not taken for a bad item).
pub(crate) fn prepare(client: &SpiClient<'_>) {
    plans(client);
}

fn plans(client: &SpiClient<'_>) -> &'static Plans {
    use pg_sys::{
        BOOLOID, INT4OID, INT8ARRAYOID, INT8OID, JSONBOID, TEXTARRAYOID, TEXTOID, TIMESTAMPTZOID,
        UUIDOID, XID8OID,
    };
    PLANS.with(|cell| {
        *cell.get_or_init(|| {
            let prepare = |sql: &str, types: &[pg_sys::Oid]| prepare_kept(client, sql, types);
            let xid8_array = unsafe { pg_sys::get_array_type(XID8OID) };
            Box::leak(Box::new(Plans {
                lock_head: prepare(&format!("{HEAD} FOR UPDATE"), &[TEXTOID, TEXTOID]),
                read_head: prepare(HEAD, &[TEXTOID, TEXTOID]),
                heads: prepare(HEADS, &[TEXTARRAYOID, INT8ARRAYOID, xid8_array]),
                remove: prepare(REMOVE, &[TEXTOID, INT8OID, INT8OID]),
                superseded: prepare(SUPERSEDED, &[TEXTOID]),
                tombstones: prepare(
                    TOMBSTONES,
                    &[
                        XID8OID,
                        TEXTARRAYOID,
                        unsafe { pg_sys::get_array_type(UUIDOID) },
                        INT8ARRAYOID,
                        TEXTARRAYOID,
                        unsafe { pg_sys::get_array_type(JSONBOID) },
                        TEXTARRAYOID,
                    ],
                ),
                log: prepare(
                    LOG,
                    &[
                        TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID,
                        TEXTOID, UUIDOID,
                    ],
                ),
                base: prepare(
                    BASE,
                    &[
                        TEXTOID,
                        INT8OID,
                        JSONBOID,
                        TIMESTAMPTZOID,
                        INT4OID,
                        INT8OID,
                        TEXTOID,
                    ],
                ),
                cut: prepare(CUT, &[TEXTOID, INT8OID]),
                deleted: prepare(DELETED, &[TEXTOID, BOOLOID]),
                forget: prepare(FORGET, &[TEXTOID]),
                archive: prepare(ARCHIVE, &[TEXTOID]),
                restore: prepare(RESTORE, &[TEXTOID]),
            }))
        })
    })
}

/// A locked head, as the lifecycle reads it.
pub(crate) struct Locked {
    pub state: StreamState,
    stream_type: String,
    tenant: String,
}

/// A stream's head, of a tenant ($2; NULL: any).
const HEAD: &str = "
SELECT s.version, s.first_version, s.deleted_at IS NOT NULL, s.hard_deleted, s.stream_type, s.tenant,
       s.archived_at IS NOT NULL
  FROM chronicle.streams s
 WHERE s.stream_id OPERATOR(pg_catalog.=) $1
   AND ($2::pg_catalog.text IS NULL OR s.tenant OPERATOR(pg_catalog.=) $2)";

/// Advisory lock keys (two int4s) of a stream's lifecycle lock: this class,
/// and a hash of the stream id (two streams sharing one only serialise
/// their lifecycle operations).
const LIFECYCLE_LOCK: i32 = 0x6368_7201;

/// Takes the stream's lifecycle lock, then reads its head; with `for_update`
/// also locks the head row (appends to the stream wait until the commit).
/// Of a stream of `tenant` (the session's; None: any, for the retention
/// worker); None when there is no such stream.
pub(crate) fn lock_head(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    tenant: Option<&str>,
    for_update: bool,
) -> Option<Locked> {
    use pg_sys::{BOOLOID, INT8OID, TEXTOID};
    let hash = chronicle_core::hash::hash_text(stream_id) as i32;
    unsafe {
        pgrx::direct_function_call_as_datum(
            pg_sys::pg_advisory_xact_lock_int4,
            &[LIFECYCLE_LOCK.into_datum(), hash.into_datum()],
        )
    };
    let plans = plans(client);
    let statement = if for_update {
        &plans.lock_head
    } else {
        &plans.read_head
    };
    first_row(
        spi(client.update(statement, None, &[stream_id.into(), tenant.into()])),
        &[
            INT8OID, INT8OID, BOOLOID, BOOLOID, TEXTOID, TEXTOID, BOOLOID,
        ],
        |row| Locked {
            state: StreamState {
                version: row.get::<i64>(1).expect("NOT NULL") as u64,
                first_version: row.get::<i64>(2).expect("NOT NULL") as u64,
                deleted: row.get::<bool>(3).expect("NOT NULL"),
                deleted_for_good: row.get::<bool>(4).expect("NOT NULL"),
                archived: row.get::<bool>(7).expect("NOT NULL"),
            },
            stream_type: row.get::<String>(5).expect("NOT NULL"),
            tenant: row.get::<String>(6).expect("NOT NULL"),
        },
    )
}

/// Deletes the stream's events of versions $2..=$3; returns their keys.
const REMOVE: &str = "
DELETE FROM chronicle.event_log e
 WHERE e.stream_id OPERATOR(pg_catalog.=) $1
   AND e.version OPERATOR(pg_catalog.>=) $2 AND e.version OPERATOR(pg_catalog.<=) $3
RETURNING e.seal_key, e.id";

/// What the removals of this transaction leave to do before it commits:
/// the events removed (seal_key, id), whose feed entries are still to be
/// blanked (a batch of removals, retention's streams, has each chunk
/// rewritten once), and the tombstones to append.
#[derive(Default)]
pub(crate) struct Removed {
    events: Vec<(u64, i64)>,
    tombstones: Vec<Tombstone>,
}

/// A tombstone to append (see [`TOMBSTONES`]), and the first version its
/// stream's head takes (None: as it is).
struct Tombstone {
    stream_id: String,
    event_id: pgrx::Uuid,
    version: i64,
    event_type: &'static str,
    data: JsonB,
    actor: String,
    first_version: Option<i64>,
}

impl Removed {
    /// Adds the removals of a subtransaction that was kept.
    pub fn absorb(&mut self, other: Removed) {
        self.events.extend(other.events);
        self.tombstones.extend(other.tombstones);
    }

    /// Events just deleted (not committed): their feed entries are to be
    /// blanked, and no seal may give one a position meanwhile
    /// (`feed_blank::lock_unless_sealed`).
    fn deleted(&mut self, client: &SpiClient<'_>, events: Vec<(u64, i64)>) {
        crate::feed_blank::lock_unless_sealed(client, &events);
        self.events.extend(events);
    }

    /// Blanks the removed events' feed entries (`feed_blank.rs`), appends
    /// the tombstones and writes the heads: call last before the transaction
    /// commits. Only then does the transaction become an appender (whose
    /// commit the feed waits for, `seal_bound.rs`), and lock the heads: a
    /// retention step holds neither the feed nor appends back while it runs.
    pub fn finish(self, client: &mut SpiClient<'_>) {
        let plans = plans(client);
        if !self.events.is_empty() {
            let _removing = Removing::start();
            crate::feed_blank::blank(client, self.events);
        }
        if self.tombstones.is_empty() {
            return;
        }
        // Column by column, for the statement's arrays.
        let (mut heads, mut event_ids, mut versions, mut event_types) =
            (vec![], vec![], vec![], vec![]);
        let (mut data, mut actors, mut first_versions) = (vec![], vec![], vec![]);
        for t in self.tombstones {
            heads.push(t.stream_id);
            event_ids.push(t.event_id);
            versions.push(t.version);
            event_types.push(t.event_type);
            data.push(t.data);
            actors.push(t.actor);
            first_versions.push(t.first_version);
        }
        // Registered as an appender first, like every writer of events
        // (seal_bound.rs): the feed cannot pass these events by.
        let key = crate::seal_bound::key();
        let args: [DatumWithOid; 7] = [
            crate::spi::xid8(key),
            heads.clone().into(),
            event_ids.into(),
            versions.into(),
            event_types.into(),
            data.into(),
            actors.into(),
        ];
        // Each stream's tombstone key: its head's key is raised to it.
        let mut keys = std::collections::HashMap::new();
        each_row(
            spi(client.update(&plans.tombstones, None, &args)),
            &[pg_sys::TEXTOID, pg_sys::XID8OID],
            |row| {
                let key = row.get::<i64>(2).expect("NOT NULL") as u64;
                keys.insert(row.get::<String>(1).expect("NOT NULL"), key);
            },
        );
        let seal_keys: Vec<Xid8> = heads.iter().map(|s| Xid8(keys[s])).collect();
        let args: [DatumWithOid; 3] = [heads.into(), first_versions.into(), seal_keys.into()];
        spi(client.update(&plans.heads, None, &args));
        crate::sealer::ensure_sealer_soon();
    }
}

/// Removes versions `first..=last` of a locked stream, holding the sealer's
/// lock to the end of the transaction if one of them has no position yet
/// (so no seal hands one out meanwhile: `feed_blank::lock_unless_sealed`);
/// their feed entries join `removed`. Returns how many.
fn remove_events(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    first: u64,
    last: u64,
    removed: &mut Removed,
) -> i64 {
    if first > last {
        return 0;
    }
    let plans = plans(client);
    let _removing = Removing::start();
    let args: [DatumWithOid; 3] = [
        stream_id.into(),
        (first as i64).into(),
        (last as i64).into(),
    ];
    let mut these = Vec::new();
    each_row(
        spi(client.update(&plans.remove, None, &args)),
        &[pg_sys::XID8OID, pg_sys::INT8OID],
        |row| {
            let key = row.get::<i64>(1).expect("NOT NULL") as u64;
            these.push((key, row.get::<i64>(2).expect("NOT NULL")));
        },
    );
    let count = these.len() as i64;
    removed.deleted(client, these);
    count
}

/// Removes the stream's earlier tombstones, which the one a removal leaves
/// supersedes (each says the stream's versions up to its `to_version` are
/// gone, and a removal always takes a stream's oldest events: the newest
/// covers the others); returns their keys and versions. So a stream keeps
/// one tombstone, however often retention cuts it.
const SUPERSEDED: &str = "
DELETE FROM chronicle.event_log e
 WHERE e.stream_id OPERATOR(pg_catalog.=) $1 AND e.version OPERATOR(pg_catalog.<) 0
RETURNING e.seal_key, e.id, e.version";

/// Appends the tombstones of a batch of removals (`Removed::finish`): each
/// an event of its stream ($2) with its id ($3) and negative version ($4),
/// after the stream's last event in the feed (its key is at least theirs and
/// this transaction's, $1; the head's key is raised to it, [`HEADS`]).
/// Returns each stream's tombstone key.
const TOMBSTONES: &str = "
INSERT INTO chronicle.event_log
       (seal_key, event_id, stream_id, stream_type, version, event_type, data, actor, tenant)
SELECT GREATEST(s.seal_key, $1), t.event_id, s.stream_id, s.stream_type,
       t.version, t.event_type, t.data, t.actor, s.tenant
  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.uuid[]),
                  pg_catalog.unnest($4::pg_catalog.int8[]), pg_catalog.unnest($5::pg_catalog.text[]),
                  pg_catalog.unnest($6::pg_catalog.jsonb[]), pg_catalog.unnest($7::pg_catalog.text[]))
       AS t(stream_id, event_id, version, event_type, data, actor)
  JOIN chronicle.streams s ON s.stream_id OPERATOR(pg_catalog.=) t.stream_id
RETURNING stream_id, seal_key";

/// The heads a batch of removals changed, written last: each stream's first
/// version ($2, NULL: unchanged) and its last key in the feed, raised to its
/// tombstone's ($3).
const HEADS: &str = "
UPDATE chronicle.streams s
   SET first_version = coalesce(h.first_version, s.first_version),
       seal_key = GREATEST(s.seal_key, h.seal_key)
  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.int8[]),
                  pg_catalog.unnest($3::pg_catalog.xid8[])) AS h(stream_id, first_version, seal_key)
 WHERE s.stream_id OPERATOR(pg_catalog.=) h.stream_id";

fn leave_tombstone(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    (event_type, data): (&'static str, serde_json::Value),
    actor: &str,
    first_version: Option<u64>,
    pending: &mut Removed,
) -> pgrx::Uuid {
    let plans = plans(client);
    // The next negative version: tombstone versions are never reused,
    // though the earlier tombstones go.
    let mut version = -1;
    {
        let _removing = Removing::start();
        let mut superseded = Vec::new();
        each_row(
            spi(client.update(&plans.superseded, None, &[stream_id.into()])),
            &[pg_sys::XID8OID, pg_sys::INT8OID, pg_sys::INT8OID],
            |row| {
                let key = row.get::<i64>(1).expect("NOT NULL") as u64;
                superseded.push((key, row.get::<i64>(2).expect("NOT NULL")));
                version = version.min(row.get::<i64>(3).expect("NOT NULL") - 1);
            },
        );
        pending.deleted(client, superseded);
    }
    // Appended with the others when the removals finish.
    let event_id = crate::random::uuid();
    pending.tombstones.push(Tombstone {
        stream_id: stream_id.to_string(),
        event_id,
        version,
        event_type,
        data: JsonB(data),
        actor: actor.to_string(),
        first_version: first_version.map(|v| v as i64),
    });
    event_id
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
    /// The tombstone a removal left (None: archive and restore).
    event_id: Option<pgrx::Uuid>,
}

const LOG: &str = "
INSERT INTO chronicle.lifecycle_log
       (operation, stream_id, stream_type, from_version, to_version, events, reason,
        performed_by, tenant, event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

fn log(client: &mut SpiClient<'_>, r: Record<'_>, performed_by: &str) {
    let plans = plans(client);
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
    spi(client.update(&plans.log, None, &args));
}

/// A deleted stream's head: deleted (when, and whether for good), and its
/// first version past its last.
const DELETED: &str = "
UPDATE chronicle.streams
   SET deleted_at = coalesce(deleted_at, pg_catalog.now()), hard_deleted = $2,
       first_version = version OPERATOR(pg_catalog.+) 1
 WHERE stream_id OPERATOR(pg_catalog.=) $1";

/// Nothing of a deleted stream's history stays: no base, no cached state.
const FORGET: &str = "
WITH b AS (DELETE FROM chronicle.stream_bases WHERE stream_id OPERATOR(pg_catalog.=) $1)
DELETE FROM chronicle.snapshots WHERE stream_id OPERATOR(pg_catalog.=) $1";

/// A truncated stream's base, and where its stored events now start.
const BASE: &str = "
INSERT INTO chronicle.stream_bases
       (stream_id, version, state, recorded_at, reducer_revision, upcasters_fingerprint, tenant)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (stream_id) DO UPDATE
   SET version = excluded.version, state = excluded.state, recorded_at = excluded.recorded_at,
       reducer_revision = excluded.reducer_revision,
       upcasters_fingerprint = excluded.upcasters_fingerprint, created_at = pg_catalog.now()";

/// After a truncation to $2, cached states of the removed versions go
/// (those at or after the base stay).
const CUT: &str = "
DELETE FROM chronicle.snapshots
 WHERE stream_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.<) ($2 OPERATOR(pg_catalog.-) 1)";

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
    crate::installed::require_lifecycle(FN);
    // An archived stream is 55Z03, a code of Chronicle's own.
    crate::errors::with_own_sqlstates(|| {
        Spi::connect_mut(|client| {
            let head = lock_head(client, &stream_id, Some(&crate::tenant::tenant()), true);
            let deletion =
                decide_delete(&stream_id, expected, hard, head.as_ref().map(|h| &h.state))
                    .or_raise(FN);
            let head = head.expect("decide_delete refuses a missing stream");
            let mut gone = Removed::default();
            let removed =
                remove_events(client, &stream_id, deletion.first, deletion.last, &mut gone);
            let plans = plans(client);
            spi(client.update(
                &plans.deleted,
                None,
                &[stream_id.as_str().into(), deletion.hard.into()],
            ));
            spi(client.update(&plans.forget, None, &[stream_id.as_str().into()]));
            // Deleting a deleted stream again records nothing, unless it makes
            // the deletion hard.
            let changed = removed > 0 || (deletion.hard && !head.state.deleted_for_good);
            if changed || !head.state.deleted {
                let performed_by = crate::privilege::caller();
                let event_id = leave_tombstone(
                    client,
                    &stream_id,
                    deletion.tombstone(reason),
                    &performed_by,
                    None,
                    &mut gone,
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
                        event_id: Some(event_id),
                    },
                    &performed_by,
                );
            }
            gone.finish(client);
            removed
        })
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
/// events removed; its feed entries and head join `gone` (to be written
/// last before the commit: [`Removed::finish`]). `operation`: `truncate` or `retention`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn truncate(
    client: &mut SpiClient<'_>,
    stream_id: &str,
    head: Option<Locked>,
    before: u64,
    operation: &'static str,
    reason: Option<&str>,
    function: &'static str,
    gone: &mut Removed,
) -> i64 {
    let cut =
        decide_truncate(stream_id, before, head.as_ref().map(|h| &h.state)).or_raise(function);
    let head = head.expect("decide_truncate refuses a missing stream");
    if cut.count() == 0 {
        return 0;
    }
    let mut base = crate::replay::base_state(client, stream_id, cut.base(), function);
    // A base folded from personal members is stored erased and sealed, never in plaintext.
    let sealed = crate::personal::seal_base(
        client,
        stream_id,
        cut.base() as i64,
        &base.state,
        |client| crate::replay::base_state(client, stream_id, cut.base(), function).state,
    );
    if let Some(s) = &sealed {
        base.state = s.erased.clone();
    }
    let removed = remove_events(client, stream_id, cut.first, cut.before - 1, gone);
    let plans = plans(client);
    let args: [DatumWithOid; 7] = [
        stream_id.into(),
        (cut.base() as i64).into(),
        JsonB(base.state).into(),
        base.recorded_at.into(),
        base.revision.into(),
        base.fingerprint.into(),
        head.tenant.as_str().into(),
    ];
    spi(client.update(&plans.base, None, &args));
    crate::personal::store_sealed_base(client, stream_id, sealed);
    spi(client.update(
        &plans.cut,
        None,
        &[stream_id.into(), (cut.before as i64).into()],
    ));
    let performed_by = crate::privilege::caller();
    let event_id = leave_tombstone(
        client,
        stream_id,
        cut.tombstone(operation, reason),
        &performed_by,
        Some(cut.before),
        gone,
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
            event_id: Some(event_id),
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
    crate::installed::require_lifecycle(FN);
    crate::errors::with_own_sqlstates(|| {
        Spi::connect_mut(|client| {
            let head = lock_head(client, &stream_id, Some(&crate::tenant::tenant()), false);
            let mut gone = Removed::default();
            let removed = truncate(
                client, &stream_id, head, before, "truncate", reason, FN, &mut gone,
            );
            gone.finish(client);
            removed
        })
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

/// Moves a stream's events (not its tombstones) to the archive, unchanged,
/// and marks its head; its cached states go. Returns how many moved.
const ARCHIVE: &str = "
WITH moved AS (
  DELETE FROM chronicle.event_log e
   WHERE e.stream_id OPERATOR(pg_catalog.=) $1 AND e.version OPERATOR(pg_catalog.>) 0
  RETURNING e.*
), kept AS (
  -- The two tables have the same columns in the same order (in every
  -- release: the personal data's of 0.7.0 too), as the upgrade suite checks.
  INSERT INTO chronicle.event_archive SELECT * FROM moved RETURNING 1
), marked AS (
  UPDATE chronicle.streams SET archived_at = pg_catalog.now()
   WHERE stream_id OPERATOR(pg_catalog.=) $1
), dropped AS (
  DELETE FROM chronicle.snapshots WHERE stream_id OPERATOR(pg_catalog.=) $1
)
SELECT pg_catalog.count(*) FROM kept";

/// Moves an archived stream's events back, unchanged, and unmarks its head.
const RESTORE: &str = "
WITH moved AS (
  DELETE FROM chronicle.event_archive a WHERE a.stream_id OPERATOR(pg_catalog.=) $1
  RETURNING a.*
), back AS (
  INSERT INTO chronicle.event_log SELECT * FROM moved RETURNING 1
), unmarked AS (
  UPDATE chronicle.streams SET archived_at = NULL WHERE stream_id OPERATOR(pg_catalog.=) $1
)
SELECT pg_catalog.count(*) FROM back";

/// The stream's events that have no position in the global feed yet.
const UNSEALED: &str = "
SELECT pg_catalog.count(*) FROM chronicle.events e
 WHERE e.stream_id OPERATOR(pg_catalog.=) $1 AND e.global_position IS NULL";

/// Archives or restores a stream (see [`ARCHIVE`], [`RESTORE`]).
fn move_stream(stream_id: Option<&str>, reason: Option<&str>, restore: bool) -> i64 {
    let function = if restore {
        "chronicle.restore_stream"
    } else {
        "chronicle.archive_stream"
    };
    let stream_id = chronicle_core::error::require(stream_id, "stream_id").or_raise(function);
    chronicle_core::identifier::validate_id("stream_id", stream_id).or_raise(function);
    crate::transaction::require_can_seal(function);
    crate::installed::require_lifecycle(function);
    crate::errors::with_own_sqlstates(|| {
        if !restore {
            // Every event keeps its position: each must have one first.
            crate::seal::seal_here(crate::seal::SEAL_BATCH, true);
        }
        Spi::connect_mut(|client| {
            let head = lock_head(client, stream_id, Some(&crate::tenant::tenant()), true);
            decide_archive(stream_id, head.as_ref().map(|h| &h.state), restore).or_raise(function);
            let head = head.expect("decide_archive refuses a missing stream");
            crate::seal::hold_seal_lock();
            if !restore {
                let unsealed = first_row(
                    spi(client.select(UNSEALED, None, &[stream_id.into()])),
                    &[pg_sys::INT8OID],
                    |row| row.get::<i64>(1).expect("NOT NULL"),
                )
                .expect("one row");
                if unsealed > 0 {
                    raise(
                        chronicle_core::Error::Unavailable {
                            operation: function,
                            blocker: chronicle_core::error::Blocker::Unsealed,
                        },
                        function,
                    );
                }
            }
            let plans = plans(client);
            let statement = if restore {
                &plans.restore
            } else {
                &plans.archive
            };
            let moved = {
                let _removing = Removing::start();
                first_row(
                    spi(client.update(statement, None, &[stream_id.into()])),
                    &[pg_sys::INT8OID],
                    |row| row.get::<i64>(1).expect("NOT NULL"),
                )
                .expect("one row")
            };
            let performed_by = crate::privilege::caller();
            log(
                client,
                Record {
                    operation: if restore { "restore" } else { "archive" },
                    stream_id,
                    head: &head,
                    from_version: head.state.first_version,
                    to_version: head.state.version,
                    events: moved,
                    reason,
                    event_id: None,
                },
                &performed_by,
            );
            moved
        })
    })
}

/// Moves a stream's events out of the hot table into the archive: appends
/// and ordinary reads no longer see them; nothing changes in them.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn archive_stream(stream_id: Option<&str>, reason: default!(Option<&str>, "NULL")) -> i64 {
    move_stream(stream_id, reason, false)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.archive_stream(text, text) IS
    'Archives a stream (chronicle_admin): moves its events, unchanged, from chronicle.event_log to chronicle.event_archive and returns how many. An archived stream takes no append (55Z03) and is absent from ordinary reads; read_stream(..., include_archived => true) and export_stream read it; restore_stream brings it back. No event, version or position changes. Recorded in chronicle.lifecycle_log with reason.';
"#,
    name = "archive_stream_comment",
    requires = [archive_stream],
);

/// Moves an archived stream's events back into the hot table, unchanged.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn restore_stream(stream_id: Option<&str>, reason: default!(Option<&str>, "NULL")) -> i64 {
    move_stream(stream_id, reason, true)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.restore_stream(text, text) IS
    'Restores an archived stream (chronicle_admin): moves its events back from chronicle.event_archive, unchanged (the same versions and positions), and returns how many. 22023 if the stream is not archived. Recorded in chronicle.lifecycle_log with reason.';
"#,
    name = "restore_stream_comment",
    requires = [restore_stream],
);

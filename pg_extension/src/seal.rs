//! Sealing: how events get their dense, commit-safe global positions, and
//! `chronicle.seal()`, which seals by hand. The background worker that
//! seals on its own is `sealer.rs`; how far a seal may go is
//! `seal_bound.rs`; the feed's reads are `sql/feed.sql`.
//!
//! Each event is stored with a `seal_key`: the id of the transaction that
//! appended it, raised to the feed floor when the transaction started
//! appending and to the key of the stream's previous event when those are
//! higher (a transaction that got its id early may append to a stream after
//! a younger one did; the raise keeps a stream's events in version order).
//! An event is *sealed* -- given the next dense position in `chronicle.feed`
//! -- once its key is below the seal's bound: no transaction that could
//! still commit an event with a smaller key is running (`seal_bound.rs`
//! says which those are and why), so the order handed out never has to
//! change. Events are sealed in (seal_key, id) order by one sealer at a time
//! (a transaction-level advisory lock), each in its own READ COMMITTED
//! transaction, from a stored horizon on (every committed event before
//! (horizon, after_id) in that order is sealed, none after it), so a seal is
//! a short range scan of the event log's key. A round with nothing to seal
//! writes nothing and takes no transaction id.
//!
//! The sealer is a background worker per database, started on demand by the
//! first append or feed read that finds none running (a session advisory
//! lock marks a running sealer), so sealing happens on the primary even if
//! every follower reads from a standby, and readers never write.
//! `chronicle.seal()` runs the same seal by hand.
//!
//! Positions are stored in chunks (`chronicle.feed`: one row per up to 128
//! events, the events' keys in order), so a seal writes two index entries
//! per chunk rather than per event. A seal reads the events to seal with one
//! range scan of the event log's key, rows read in place (`spi::fetch_each`),
//! and builds the chunks and the notifications in Rust (`seal_events`); one
//! SQL statement with CTEs that materialised and sorted every row cost
//! nearly twice as much per event.
//!
//! The horizon is a transaction id of one cluster. After pg_dump/pg_restore
//! (the state table then holds two rows, or another cluster's) the first seal
//! re-bases: it blocks appends (SHARE lock on the event log), seals every
//! event not yet sealed in an era of its own, clears the stream heads' keys
//! and starts a new era for this cluster's events (those with an id above
//! every restored one) from this cluster's horizon, and the feed floor from 0
//! (see `normalise_state`). Within an era, positions follow (seal_key, id); a
//! sealed event's chunk is the last of its era that starts at or before it.

use std::cell::OnceCell;

use chronicle_core::arguments::check_count;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient};
use pgrx::{direct_function_call_as_datum, pg_sys, IntoDatum};

use crate::errors::OrRaise;
use crate::guc;
use crate::seal_bound::{self, SealTo};
use crate::spi::{fetch_each, first_row, prepare_kept, spi, xid8, Xid8};

/// Advisory lock keys (per database): one sealer at a time ...
pub const SEAL_LOCK: i64 = 0x6368_726f_6e69_0001;
/// ... and the running sealer worker holds this one for its lifetime.
pub const SEALER_PRESENCE: i64 = 0x6368_726f_6e69_0002;

/// Most events one seal hands out (one transaction).
pub const SEAL_BATCH: i64 = 10_000;

/// The sealer's state and the bound of this seal (`$1`; NULL: the oldest
/// running transaction, for a schema without the feed floor).
const STATE_ROW: &str = "\
SELECT horizon, after_id, era, first_id, position,
       coalesce($1, pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()))
  FROM chronicle.feed_state";

/// The events a seal hands positions to, in order: committed, after the
/// horizon ($1, $2), below the bound ($3), of the current era (id from $4
/// on), at most $5. The stream columns are for the notifications.
const TODO: &str = "\
SELECT e.seal_key, e.id, e.stream_type, e.stream_id, e.version
  FROM chronicle.event_log e
 WHERE (e.seal_key, e.id) OPERATOR(pg_catalog.>) ($1, $2)
   AND e.seal_key OPERATOR(pg_catalog.<) $3 AND e.id OPERATOR(pg_catalog.>=) $4
 ORDER BY e.seal_key, e.id
 LIMIT $5";

/// The last event id handed out. pg_restore loads the rows before it sets
/// the sequence: an event with an id the sequence has not handed out yet
/// means a restore is under way, and the feed's own rows may not be loaded
/// yet. A seal then seals nothing. (Read after the events: an id handed out
/// meanwhile is then not mistaken for a restore.)
const LAST_ID: &str = "SELECT last_value FROM chronicle.event_log_id_seq";

/// One chunk of positions: its first position, era, the first event's key
/// and id, and every event's key and id in order (at most 128).
const CHUNK: &str = "\
INSERT INTO chronicle.feed (first_position, era, first_key, first_id, keys, ids)
VALUES ($1, $2, $3, $4, $5, $6)";

/// After a seal of $1 events: the new horizon ($2, $3).
const SAVE: &str = "\
UPDATE chronicle.feed_state
   SET position = position OPERATOR(pg_catalog.+) $1, sealed_at = pg_catalog.now(),
       horizon = $2, after_id = $3";

/// The notifications of a seal (`notify = sealed`), in order: one per
/// stream, with its last version and position.
const NOTES: &str = "\
SELECT pg_catalog.count(pg_catalog.pg_notify('chronicle', u.payload))
  FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS u(payload, n)";

/// Whether a committed event waits at or above the bound (the first in key
/// order: a bare EXISTS is planned as a scan of the whole log).
const LEFT: &str = "\
SELECT EXISTS (SELECT FROM (SELECT FROM chronicle.event_log e
                WHERE (e.seal_key, e.id) OPERATOR(pg_catalog.>) ($1, $2)
                  AND e.seal_key OPERATOR(pg_catalog.>=) $3
                  AND e.id OPERATOR(pg_catalog.>=) $4
                ORDER BY e.seal_key, e.id LIMIT 1) AS first)";

/// Events per chunk of `chronicle.feed`.
const CHUNK_EVENTS: usize = 128;

/// The sealer's state row.
struct State {
    horizon: u64,
    after_id: i64,
    era: i32,
    first_id: i64,
    position: i64,
    bound: u64,
}

/// A stream's notification: its last version and the index (in this seal,
/// from 1) of its last event, by (stream type, stream id).
type Notes = std::collections::HashMap<(String, String), (i64, i64)>;

/// Seals every committed event with a key below `bound` (None: the oldest
/// running transaction, for a schema without the feed floor), at most `max`
/// of them, in order, in chunks of 128; with `notify`, sends one
/// notification per stream sealed. Returns how many it sealed and whether a
/// committed event still waits at or above the bound. The caller holds the
/// seal lock, in a READ COMMITTED transaction that may write; nothing is
/// written (and no transaction id taken) when there is nothing to seal.
fn seal_events(
    client: &mut SpiClient<'_>,
    max: i64,
    notify: bool,
    bound: Option<u64>,
) -> (i64, bool) {
    use pg_sys::{INT4OID, INT8OID, TEXTOID, XID8OID};
    let plans = plans(client);
    let bound_arg = bound.map_or(DatumWithOid::null_oid(XID8OID), xid8);
    let state = first_row(
        spi(client.select(&plans.state_row, None, &[bound_arg])),
        &[XID8OID, INT8OID, INT4OID, INT8OID, INT8OID, XID8OID],
        |row| State {
            horizon: row.get::<i64>(1).expect("NOT NULL") as u64,
            after_id: row.get::<i64>(2).expect("NOT NULL"),
            era: row.get::<i32>(3).expect("NOT NULL"),
            first_id: row.get::<i64>(4).expect("NOT NULL"),
            position: row.get::<i64>(5).expect("NOT NULL"),
            bound: row.get::<i64>(6).expect("a bound") as u64,
        },
    )
    .expect("chronicle.feed_state has its row");
    let range = |state: &State| -> [DatumWithOid<'static>; 4] {
        [
            xid8(state.horizon),
            state.after_id.into(),
            xid8(state.bound),
            state.first_id.into(),
        ]
    };

    // The events, in order, and the streams they are in.
    let mut keys: Vec<Xid8> = Vec::new();
    let mut ids: Vec<i64> = Vec::new();
    let mut notes = Notes::new();
    let [horizon, after_id, below, first_id] = range(&state);
    let mut cursor = client.open_cursor(
        &plans.todo,
        &[horizon, after_id, below, first_id, max.into()],
    );
    while fetch_each(
        &mut cursor,
        1000,
        &[XID8OID, INT8OID, TEXTOID, TEXTOID, INT8OID],
        |row| {
            keys.push(Xid8(row.get::<i64>(1).expect("NOT NULL") as u64));
            ids.push(row.get::<i64>(2).expect("NOT NULL"));
            if notify {
                let stream = (
                    row.get::<String>(3).expect("NOT NULL"),
                    row.get::<String>(4).expect("NOT NULL"),
                );
                let version = row.get::<i64>(5).expect("NOT NULL");
                let note = notes.entry(stream).or_insert((version, 0));
                *note = (note.0.max(version), ids.len() as i64);
            }
        },
    ) > 0
    {}
    drop(cursor);

    let restoring = ids.iter().max().is_some_and(|&max_id| {
        let last_id = first_row(
            spi(client.select(&plans.last_id, None, &[])),
            &[INT8OID],
            |row| row.get::<i64>(1).expect("NOT NULL"),
        );
        max_id > last_id.expect("a sequence has a row")
    });
    let n = if restoring { 0 } else { ids.len() };
    if n > 0 {
        for (c, (chunk_keys, chunk_ids)) in keys
            .chunks(CHUNK_EVENTS)
            .zip(ids.chunks(CHUNK_EVENTS))
            .enumerate()
        {
            let first_position = state.position + (c * CHUNK_EVENTS) as i64 + 1;
            spi(client.update(
                &plans.chunk,
                None,
                &[
                    first_position.into(),
                    state.era.into(),
                    xid8(chunk_keys[0].0),
                    chunk_ids[0].into(),
                    chunk_keys.to_vec().into(),
                    chunk_ids.to_vec().into(),
                ],
            ));
        }
        let (horizon, after_id) = if (n as i64) < max {
            (state.horizon.max(state.bound), 0)
        } else {
            (keys[n - 1].0, ids[n - 1])
        };
        spi(client.update(
            &plans.save,
            None,
            &[(n as i64).into(), xid8(horizon), after_id.into()],
        ));
        if notify {
            // In the order of each stream's last event.
            let mut notes: Vec<_> = notes.into_iter().collect();
            notes.sort_by_key(|(_, (_, last))| *last);
            let payloads: Vec<String> = notes
                .into_iter()
                .map(|((stream_type, stream_id), (version, last))| {
                    format!(
                        "{{\"stream_type\":{},\"stream_id\":{},\"version\":{version},\"position\":{}}}",
                        serde_json::Value::from(stream_type),
                        serde_json::Value::from(stream_id),
                        state.position + last
                    )
                })
                .collect();
            spi(client.update(&plans.notes, None, &[payloads.into()]));
        }
    }
    let waits = first_row(
        spi(client.select(&plans.left, None, &range(&state))),
        &[pg_sys::BOOLOID],
        |row| row.get::<bool>(1).unwrap_or(false),
    );
    (n as i64, waits.unwrap_or(false))
}

/// Re-basing in a new cluster: with appends blocked, every stored event is
/// final. Those the dump held without a position are sealed in an era of
/// their own (their keys are the old cluster's); this cluster's events start
/// the next era, from the next id.
const REBASE: &[&str] = &[
    "LOCK TABLE chronicle.event_log IN SHARE MODE",
    "WITH sealed AS (
       SELECT pg_catalog.unnest(ids) AS id FROM chronicle.feed
     ), todo AS (
       SELECT e.seal_key, e.id, pg_catalog.row_number() OVER (ORDER BY e.seal_key, e.id) AS rn
         FROM chronicle.event_log e
        WHERE NOT EXISTS (SELECT FROM sealed s WHERE s.id OPERATOR(pg_catalog.=) e.id)
     ), base AS (
       SELECT coalesce(pg_catalog.max(first_position OPERATOR(pg_catalog.+) pg_catalog.cardinality(ids)), 1) AS next,
              coalesce(pg_catalog.max(era) OPERATOR(pg_catalog.+) 1, 0) AS era
         FROM chronicle.feed
     )
     INSERT INTO chronicle.feed (first_position, era, first_key, first_id, keys, ids)
     SELECT (SELECT next FROM base) OPERATOR(pg_catalog.+) pg_catalog.min(rn) OPERATOR(pg_catalog.-) 1,
            (SELECT era FROM base),
            (pg_catalog.array_agg(seal_key ORDER BY rn))[1], (pg_catalog.array_agg(id ORDER BY rn))[1],
            pg_catalog.array_agg(seal_key ORDER BY rn), pg_catalog.array_agg(id ORDER BY rn)
       FROM todo
      GROUP BY (rn OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 128",
    "UPDATE chronicle.streams SET seal_key = '0' WHERE seal_key OPERATOR(pg_catalog.<>) '0'",
];

/// After a re-base: the next era, the first id of this cluster's events and
/// this cluster's horizon.
const NEW_ERA: &str = "\
SELECT coalesce((SELECT pg_catalog.max(era) OPERATOR(pg_catalog.+) 1 FROM chronicle.feed), 0)::int,
       (SELECT CASE WHEN is_called THEN last_value OPERATOR(pg_catalog.+) 1 ELSE last_value END
          FROM chronicle.event_log_id_seq),
       pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text";

/// Replaces the state rows by one: this cluster ($1), the horizon ($2) with
/// its after_id ($3), the era ($4) and its first id ($5), the feed's last
/// position.
const RESET_STATE: &str = "\
WITH gone AS (DELETE FROM chronicle.feed_state RETURNING 1)
INSERT INTO chronicle.feed_state (system_identifier, horizon, after_id, era, first_id, position, sealed_at)
SELECT $1, $2::text::xid8, $3, $4, $5,
       coalesce((SELECT pg_catalog.max(first_position OPERATOR(pg_catalog.+) pg_catalog.cardinality(ids)
                                       OPERATOR(pg_catalog.-) 1) FROM chronicle.feed), 0),
       pg_catalog.now()";

/// The cluster's system identifier (pg_control_system() needs privileges).
#[pg_extern(
    stable,
    parallel_safe,
    name = "_system_identifier",
    schema = "chronicle_internal"
)]
pub fn system_identifier() -> i64 {
    unsafe { pg_sys::GetSystemIdentifier() as i64 }
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._system_identifier() IS
    'Internal: the cluster''s system identifier.';
"#,
    name = "system_identifier_comment",
    requires = [system_identifier],
);

/// Makes `chronicle.feed_state` one row of this cluster. It is one already
/// except after a restore, which adds the dumped row to the new
/// installation's (or brings a row of another cluster): then every stored
/// event is sealed under a lock that waits for running appends, and the
/// horizon starts again from this cluster's transaction ids (a re-base).
/// Re-basing on every restore, not only into another system identifier:
/// clusters cloned from one base backup share it but not their ids.
fn normalise_state(client: &mut SpiClient<'_>) {
    let system = system_identifier();
    let row = spi(client.select(state_plan(client), None, &[system.into()])).first();
    let rows = spi(row.get::<i64>(1)).unwrap_or(0);
    let same_cluster = spi(row.get::<bool>(2)).unwrap_or(false);
    if rows == 1 && same_cluster {
        return;
    }
    for sql in REBASE {
        spi(client.update(*sql, None, &[]));
    }
    log!("chronicle: re-based the feed's horizon to this cluster (system identifier {system})");
    let row = spi(client.update(NEW_ERA, None, &[])).first();
    let era = spi(row.get::<i32>(1)).expect("an era");
    let first_id = spi(row.get::<i64>(2)).expect("an id");
    let horizon = spi(row.get::<String>(3)).expect("a horizon");
    spi(client.update(
        RESET_STATE,
        None,
        &[
            system.into(),
            horizon.into(),
            0i64.into(),
            era.into(),
            first_id.into(),
        ],
    ));
    crate::seal_bound::reset_floor(client);
}

/// Whether the state is one row of this cluster ($1).
const STATE: &str = "\
SELECT pg_catalog.count(*), coalesce(pg_catalog.bool_and(system_identifier OPERATOR(pg_catalog.=) $1), false)
  FROM chronicle.feed_state";

/// What a seal did.
#[derive(Default)]
pub struct Sealed {
    /// How many events it handed positions to.
    pub count: i64,
    /// The appending transaction (its id) that committed events still wait
    /// for, if one does.
    pub waiting_for: Option<u64>,
}

/// Takes the seal lock until the end of the transaction, waiting for a
/// running seal: no seal starts meanwhile (the lifecycle's removals).
pub fn hold_seal_lock() {
    unsafe {
        direct_function_call_as_datum(
            pg_sys::pg_advisory_xact_lock_int8,
            &[SEAL_LOCK.into_datum()],
        )
    };
}

/// Seals up to `max` events (see the module doc); returns how many (0 if
/// the extension is being dropped, or if `wait` is false and another seal
/// runs) and what the rest waits for.
///
/// Its reads run with pgrx's `select` and its writes, only when there is
/// something to seal, with `update`: `update` assigns a transaction id up
/// front, and an idle sealer would otherwise burn one id and flush one
/// commit record per round.
pub fn seal_now(client: &mut SpiClient<'_>, max: i64, wait: bool) -> Sealed {
    if !lock_extension() {
        return Sealed::default();
    }
    let lock = if wait {
        pg_sys::pg_advisory_xact_lock_int8
    } else {
        pg_sys::pg_try_advisory_xact_lock_int8
    };
    let locked = unsafe { direct_function_call_as_datum(lock, &[SEAL_LOCK.into_datum()]) };
    if !wait && locked.is_none_or(|d| d.value() == 0) {
        return Sealed::default();
    }
    normalise_state(client);
    let (bound, holder) = match seal_bound::bound(client) {
        SealTo::Idle => return Sealed::default(),
        SealTo::Below(b) => (Some(b.below), b.holder),
        SealTo::OldestRunning => (None, None),
    };
    let notify = guc::notify() == guc::Notify::Sealed;
    let (count, left) = seal_events(client, max, notify, bound);
    Sealed {
        count,
        waiting_for: holder.filter(|_| left),
    }
}

/// The seal in a user's transaction (`seal()`, or a reader when no worker
/// can run): like the worker's, its commit must be durable before anyone
/// can see the positions it hands out (see `worker::chronicle_sealer_main`).
pub fn seal_here(max: i64, wait: bool) -> i64 {
    Spi::connect_mut(|client| {
        spi(client.select(
            "SELECT pg_catalog.set_config('synchronous_commit', 'on', true)",
            None,
            &[],
        ));
        seal_now(client, max, wait).count
    })
}

struct Plans {
    state: OwnedPreparedStatement,
    state_row: OwnedPreparedStatement,
    todo: OwnedPreparedStatement,
    last_id: OwnedPreparedStatement,
    chunk: OwnedPreparedStatement,
    save: OwnedPreparedStatement,
    notes: OwnedPreparedStatement,
    left: OwnedPreparedStatement,
}

thread_local! {
    static PLANS: OnceCell<&'static Plans> = const { OnceCell::new() };
}

/// The sealer's statements, planned once per process.
fn plans(client: &SpiClient<'_>) -> &'static Plans {
    use pg_sys::{INT4OID, INT8ARRAYOID, INT8OID, TEXTARRAYOID, XID8ARRAYOID, XID8OID};
    PLANS.with(|cell| {
        *cell.get_or_init(|| {
            let prepare = |sql: &str, types: &[pg_sys::Oid]| prepare_kept(client, sql, types);
            let range = [XID8OID, INT8OID, XID8OID, INT8OID];
            Box::leak(Box::new(Plans {
                state: prepare(STATE, &[INT8OID]),
                state_row: prepare(STATE_ROW, &[XID8OID]),
                todo: prepare(TODO, &[&range[..], &[INT8OID]].concat()),
                last_id: prepare(LAST_ID, &[]),
                chunk: prepare(
                    CHUNK,
                    &[
                        INT8OID,
                        INT4OID,
                        XID8OID,
                        INT8OID,
                        XID8ARRAYOID,
                        INT8ARRAYOID,
                    ],
                ),
                save: prepare(SAVE, &[INT8OID, XID8OID, INT8OID]),
                notes: prepare(NOTES, &[TEXTARRAYOID]),
                left: prepare(LEFT, &range),
            }))
        })
    })
}

fn state_plan(client: &SpiClient<'_>) -> &'static OwnedPreparedStatement {
    &plans(client).state
}

/// Hands out global positions to every event that can have one now (at most
/// `max_count`; NULL: all of them) and returns how many. The sealer worker
/// does this on its own; call it to seal without waiting (tests, or if no
/// worker can be started).
#[pg_extern(volatile, parallel_unsafe, security_definer, name = "seal")]
#[search_path(pg_catalog, pg_temp)]
pub fn seal_by_hand(max_count: default!(Option<i32>, "NULL")) -> i64 {
    const FN: &str = "chronicle.seal";
    let max = match max_count {
        Some(n) => check_count("max_count", Some(i64::from(n))).or_raise(FN) as i64,
        None => i64::MAX,
    };
    crate::transaction::require_can_seal(FN);
    if max == 0 {
        return 0;
    }
    seal_here(max, true)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.seal(int) IS
    'Hands out global positions to every event that can have one now (at most max_count; NULL: all) and returns how many. The sealer worker does this on its own within chronicle.seal_interval; call it to seal without waiting. Needs a READ COMMITTED read-write transaction on the primary (else 55000).';
"#,
    name = "seal_comment",
    requires = [seal_by_hand],
);

pub fn extension_oid() -> pg_sys::Oid {
    unsafe { pg_sys::get_extension_oid(c"chronicle".as_ptr(), true) }
}

/// Locks the extension against DROP EXTENSION for this transaction, before
/// any of its tables: DROP EXTENSION locks the extension first, so a seal and
/// a drop queue one after the other instead of deadlocking. False if the
/// extension is gone (or went while we waited).
pub fn lock_extension() -> bool {
    let oid = extension_oid();
    if oid == pg_sys::InvalidOid {
        return false;
    }
    unsafe {
        pg_sys::LockDatabaseObject(
            pg_sys::ExtensionRelationId,
            oid,
            0,
            pg_sys::AccessShareLock as pg_sys::LOCKMODE,
        );
    }
    extension_oid() == oid
}

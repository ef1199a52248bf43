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
//! per chunk rather than per event.
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
use crate::spi::{prepare_kept, spi, xid8};

/// Advisory lock keys (per database): one sealer at a time ...
pub const SEAL_LOCK: i64 = 0x6368_726f_6e69_0001;
/// ... and the running sealer worker holds this one for its lifetime.
pub const SEALER_PRESENCE: i64 = 0x6368_726f_6e69_0002;

/// Most events one seal hands out (one transaction).
pub const SEAL_BATCH: i64 = 10_000;

/// Seals every committed event with a key below the bound `$3` (NULL: the
/// oldest running transaction, for a schema without the feed floor), at
/// most `$1` of them, in order, in chunks of 128; with `$2`, sends one
/// notification per stream sealed (`notify = sealed`). Returns how many it
/// sealed, how many notifications it sent, and whether a committed event
/// still waits at or above the bound. The caller runs it in a READ
/// COMMITTED transaction that may write, holding the seal lock.
const SEAL: &str = "\
WITH state AS (
  SELECT horizon, after_id, era, first_id, position,
         coalesce($3, pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())) AS bound
    FROM chronicle.feed_state
), todo AS (
  SELECT e.seal_key, e.id, e.stream_type, e.stream_id, e.version
    FROM chronicle.event_log e
   WHERE (e.seal_key, e.id) OPERATOR(pg_catalog.>) ((SELECT horizon FROM state), (SELECT after_id FROM state))
     AND e.seal_key OPERATOR(pg_catalog.<) (SELECT bound FROM state)
     AND e.id OPERATOR(pg_catalog.>=) (SELECT first_id FROM state)
   ORDER BY e.seal_key, e.id
   LIMIT $1
), restoring AS (
  -- pg_restore loads the rows before it sets the sequence: an event with an
  -- id the sequence has not handed out yet means a restore is under way, and
  -- the feed's own rows may not be loaded yet. Seal nothing then.
  SELECT EXISTS (SELECT FROM todo WHERE id OPERATOR(pg_catalog.>)
                   (SELECT last_value FROM chronicle.event_log_id_seq)) AS yes
), numbered AS (
  SELECT t.*, pg_catalog.row_number() OVER (ORDER BY t.seal_key, t.id) AS rn
    FROM todo t WHERE NOT (SELECT yes FROM restoring)
), chunks AS (
  INSERT INTO chronicle.feed (first_position, era, first_key, first_id, keys, ids)
  SELECT (SELECT position FROM state) OPERATOR(pg_catalog.+) g.first, (SELECT era FROM state),
         g.keys[1], g.ids[1], g.keys, g.ids
    FROM (SELECT pg_catalog.min(rn) AS first,
                 pg_catalog.array_agg(seal_key ORDER BY rn) AS keys,
                 pg_catalog.array_agg(id ORDER BY rn) AS ids
            FROM numbered
           GROUP BY (rn OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 128) g
  RETURNING 1
), summary AS (
  SELECT pg_catalog.count(*) AS n FROM numbered
), last_sealed AS (
  SELECT seal_key, id FROM numbered ORDER BY rn DESC LIMIT 1
), saved AS (
  UPDATE chronicle.feed_state
     SET position = position OPERATOR(pg_catalog.+) summary.n, sealed_at = pg_catalog.now(),
         horizon = CASE WHEN summary.n OPERATOR(pg_catalog.<) $1
                        THEN GREATEST(horizon, (SELECT bound FROM state))
                        ELSE (SELECT seal_key FROM last_sealed) END,
         after_id = CASE WHEN summary.n OPERATOR(pg_catalog.<) $1
                         THEN 0 ELSE (SELECT id FROM last_sealed) END
    FROM summary
   WHERE summary.n OPERATOR(pg_catalog.>) 0
  RETURNING 1
), notes AS (
  -- (concatenation: json_build_object costs three times as much per row)
  SELECT pg_catalog.pg_notify('chronicle',
           '{\"stream_type\":' OPERATOR(pg_catalog.||) pg_catalog.to_json(g.stream_type)::text
           OPERATOR(pg_catalog.||) ',\"stream_id\":' OPERATOR(pg_catalog.||) pg_catalog.to_json(g.stream_id)::text
           OPERATOR(pg_catalog.||) ',\"version\":' OPERATOR(pg_catalog.||) g.version::text
           OPERATOR(pg_catalog.||) ',\"position\":' OPERATOR(pg_catalog.||) g.position::text
           OPERATOR(pg_catalog.||) '}')
    FROM (SELECT stream_type, stream_id, pg_catalog.max(version) AS version,
                 (SELECT position FROM state) OPERATOR(pg_catalog.+) pg_catalog.max(rn) AS position
            FROM numbered WHERE $2 GROUP BY stream_type, stream_id
           ORDER BY pg_catalog.max(rn)) g
)
SELECT summary.n, (SELECT pg_catalog.count(*) FROM notes),
       -- (the first in key order: a bare EXISTS is planned as a scan of the whole log)
       EXISTS (SELECT FROM (SELECT FROM chronicle.event_log e
                WHERE (e.seal_key, e.id) OPERATOR(pg_catalog.>) ((SELECT horizon FROM state), (SELECT after_id FROM state))
                  AND e.seal_key OPERATOR(pg_catalog.>=) (SELECT bound FROM state)
                  AND e.id OPERATOR(pg_catalog.>=) (SELECT first_id FROM state)
                ORDER BY e.seal_key, e.id LIMIT 1) AS first)
  FROM summary";

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

/// Seals up to `max` events (see the module doc); returns how many (0 if
/// the extension is being dropped, or if `wait` is false and another seal
/// runs) and what the rest waits for.
///
/// Its statements run with pgrx's `select`, also those that write: `update`
/// assigns a transaction id up front, and an idle sealer would then burn one
/// id and flush one commit record per round. A seal that writes gets its id
/// from its first write.
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
    let bound = bound.map_or(DatumWithOid::null_oid(pg_sys::XID8OID), xid8);
    let result = spi(client.select(seal_plan(client), None, &[max.into(), notify.into(), bound]));
    let row = result.first();
    let count = spi(row.get::<i64>(1)).unwrap_or(0);
    let left = spi(row.get::<bool>(3)).unwrap_or(false);
    Sealed {
        count,
        waiting_for: holder.filter(|_| left),
    }
}

/// The seal in a user's transaction (`seal()`, or a reader when no worker
/// can run): like the worker's, its commit must be durable before anyone
/// can see the positions it hands out (see `chronicle_sealer_main`).
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
    seal: OwnedPreparedStatement,
    state: OwnedPreparedStatement,
}

thread_local! {
    static PLANS: OnceCell<&'static Plans> = const { OnceCell::new() };
}

/// The sealer's statements, planned once per process (planning the seal
/// costs more than sealing a few events).
fn plans(client: &SpiClient<'_>) -> &'static Plans {
    PLANS.with(|cell| {
        *cell.get_or_init(|| {
            let prepare = |sql: &str, types: &[pg_sys::Oid]| prepare_kept(client, sql, types);
            Box::leak(Box::new(Plans {
                seal: prepare(SEAL, &[pg_sys::INT8OID, pg_sys::BOOLOID, pg_sys::XID8OID]),
                state: prepare(STATE, &[pg_sys::INT8OID]),
            }))
        })
    })
}

fn seal_plan(client: &SpiClient<'_>) -> &'static OwnedPreparedStatement {
    &plans(client).seal
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

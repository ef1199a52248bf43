//! Blanking removed events' entries in the feed's chunks: key 0, id 0,
//! which no event has, so that their positions stay taken and point at
//! nothing, and no other event moves (`lifecycle.rs` removes the events).
//!
//! A chunk holds up to 128 entries in (seal_key, id) order, and an event's
//! chunk is the last one of its era starting at or before it. The removed
//! events are taken in that order, so that one lookup finds a chunk and the
//! next chunk's start, and every removed event before that start is looked
//! up in the chunk's ids without another query; each chunk is rewritten once
//! however many of its entries go. (One index probe per event, the way
//! `chronicle.events` finds a position, took 3 µs an event: most of a
//! retention pass.)

use std::collections::HashMap;

use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::spi::SpiClient;

use crate::spi::{cached, first_row, spi, xid8, Xid8};

/// The chunk holding the event ($1, $2) in any era (None: not sealed yet),
/// with its entries and where the next chunk of its era starts (if any).
const CHUNK: &str = "
SELECT f.first_position, f.first_key::pg_catalog.text::pg_catalog.int8, f.first_id,
       f.keys::pg_catalog.text[]::pg_catalog.int8[], f.ids,
       n.first_key::pg_catalog.text::pg_catalog.int8, n.first_id
  FROM pg_catalog.generate_series(0, (SELECT pg_catalog.max(s.era) FROM chronicle.feed_state s)) AS r(era)
 CROSS JOIN LATERAL (
       SELECT f.first_position, f.era, f.first_key, f.first_id, f.keys, f.ids FROM chronicle.feed f
        WHERE f.era OPERATOR(pg_catalog.=) r.era
          AND (f.first_key, f.first_id) OPERATOR(pg_catalog.<=) ($1, $2)
        ORDER BY f.era DESC, f.first_key DESC, f.first_id DESC
        LIMIT 1) f
  LEFT JOIN LATERAL (
       SELECT n.first_key, n.first_id FROM chronicle.feed n
        WHERE n.era OPERATOR(pg_catalog.=) f.era
          AND (n.first_key, n.first_id) OPERATOR(pg_catalog.>) (f.first_key, f.first_id)
        ORDER BY n.era, n.first_key, n.first_id
        LIMIT 1) n ON true
 WHERE pg_catalog.array_position(f.ids, $2) IS NOT NULL
 LIMIT 1";

const REWRITE: &str = "
UPDATE chronicle.feed SET keys = $2, ids = $3 WHERE first_position OPERATOR(pg_catalog.=) $1";

/// The last version in $2..=$3 of stream $1 that has its position: the
/// rule of [`Horizon::sealed`] with the horizon ($4, $5) and the current
/// era from id $6.
const LAST_SEALED: &str = "
SELECT pg_catalog.max(e.version) FROM chronicle.event_log e
 WHERE e.stream_id OPERATOR(pg_catalog.=) $1
   AND e.version OPERATOR(pg_catalog.>=) $2 AND e.version OPERATOR(pg_catalog.<=) $3
   AND (e.id OPERATOR(pg_catalog.<) $6 OR (e.seal_key, e.id) OPERATOR(pg_catalog.<=) ($4, $5))";

/// The seal's horizon: every event of the current era (id from first_id on)
/// after (horizon, after_id) in (seal_key, id) order has no position yet.
const HORIZON: &str = "
SELECT s.horizon::pg_catalog.text::pg_catalog.int8, s.after_id, s.first_id FROM chronicle.feed_state s";

/// A chunk of the feed, as read, with the entries blanked so far.
struct Chunk {
    first_position: i64,
    start: (u64, i64),
    /// Where the next chunk of its era starts (None: it is the last).
    end: Option<(u64, i64)>,
    keys: Vec<u64>,
    ids: Vec<i64>,
    /// id → index of its entry.
    index: HashMap<i64, usize>,
    blanked: bool,
}

impl Chunk {
    /// Blanks the entry of (key, id) if it is in this chunk.
    fn blank(&mut self, (key, id): (u64, i64)) -> bool {
        let in_range = (key, id) >= self.start && self.end.is_none_or(|end| (key, id) < end);
        match self.index.get(&id) {
            Some(&i) if in_range && self.keys[i] == key => {
                self.keys[i] = 0;
                self.ids[i] = 0;
                self.blanked = true;
                true
            }
            _ => false,
        }
    }
}

/// The chunk holding (key, id), if the event has a position.
fn find(client: &SpiClient<'_>, (key, id): (u64, i64)) -> Option<Chunk> {
    use pg_sys::{INT8ARRAYOID, INT8OID};
    let statement = cached(client, CHUNK, &[pg_sys::XID8OID, INT8OID]);
    first_row(
        spi(client.select(statement, None, &[xid8(key), id.into()])),
        &[
            INT8OID,
            INT8OID,
            INT8OID,
            INT8ARRAYOID,
            INT8ARRAYOID,
            INT8OID,
            INT8OID,
        ],
        |row| {
            let keys: Vec<u64> = row
                .get::<Vec<i64>>(4)
                .expect("NOT NULL")
                .into_iter()
                .map(|k| k as u64)
                .collect();
            let ids: Vec<i64> = row.get(5).expect("NOT NULL");
            let index = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
            let next_key = row.get::<i64>(6);
            Chunk {
                first_position: row.get(1).expect("NOT NULL"),
                start: (
                    row.get::<i64>(2).expect("NOT NULL") as u64,
                    row.get(3).expect("NOT NULL"),
                ),
                end: next_key.map(|k| (k as u64, row.get(7).expect("with its key"))),
                keys,
                ids,
                index,
                blanked: false,
            }
        },
    )
}

/// Blanks the feed entries of the removed events (key, id); events without
/// a position have none. The caller lets its writes through the feed's
/// append-only guard.
pub(crate) fn blank(client: &mut SpiClient<'_>, mut removed: Vec<(u64, i64)>) {
    // Only sealed events have entries (`lock_unless_sealed` made sure that
    // no seal gives the others positions before this transaction ends).
    if let Some(horizon) = Horizon::read(client) {
        removed.retain(|&event| horizon.sealed(event));
    }
    removed.sort_unstable();
    let mut current: Option<Chunk> = None;
    for event in removed {
        if current.as_mut().is_some_and(|c| c.blank(event)) {
            continue;
        }
        if let Some(done) = current.take() {
            rewrite(client, done);
        }
        current = find(client, event);
        if let Some(chunk) = current.as_mut() {
            let found = chunk.blank(event);
            debug_assert!(found, "the chunk found holds the event");
        }
    }
    if let Some(done) = current {
        rewrite(client, done);
    }
}

/// The seal's horizon: what has a position.
pub(crate) struct Horizon {
    pub horizon: u64,
    pub after_id: i64,
    pub first_id: i64,
}

impl Horizon {
    /// The horizon now (None: two state rows, for a moment after a
    /// restore; then nothing is known to be sealed or not).
    pub(crate) fn read(client: &SpiClient<'_>) -> Option<Horizon> {
        let statement = cached(client, HORIZON, &[]);
        let table = spi(client.select(statement, None, &[]));
        if table.len() != 1 {
            return None;
        }
        first_row(
            table,
            &[pg_sys::INT8OID, pg_sys::INT8OID, pg_sys::INT8OID],
            |row| Horizon {
                horizon: row.get::<i64>(1).expect("NOT NULL") as u64,
                after_id: row.get(2).expect("NOT NULL"),
                first_id: row.get(3).expect("NOT NULL"),
            },
        )
    }

    /// The last version in `from..=to` of a stream that has its position
    /// (None: none has). A stream's (seal_key, id) grow with its versions,
    /// so its sealed events are a prefix.
    pub(crate) fn last_sealed(
        &self,
        client: &SpiClient<'_>,
        stream_id: &str,
        from: u64,
        to: u64,
    ) -> Option<u64> {
        use pg_sys::{INT8OID, TEXTOID, XID8OID};
        let statement = cached(
            client,
            LAST_SEALED,
            &[TEXTOID, INT8OID, INT8OID, XID8OID, INT8OID, INT8OID],
        );
        let args: [DatumWithOid; 6] = [
            stream_id.into(),
            (from as i64).into(),
            (to as i64).into(),
            xid8(self.horizon),
            self.after_id.into(),
            self.first_id.into(),
        ];
        first_row(
            spi(client.select(statement, None, &args)),
            &[INT8OID],
            |row| row.get::<i64>(1),
        )
        .flatten()
        .map(|v| v as u64)
    }

    /// Whether the event (key, id) has a position: an older era's, or one
    /// of the current era up to the horizon (as [`LAST_SEALED`] says it).
    fn sealed(&self, (key, id): (u64, i64)) -> bool {
        id < self.first_id || (key, id) <= (self.horizon, self.after_id)
    }
}

/// Called once events are deleted (not committed yet): if one of them has
/// no position yet, takes the sealer's lock to the end of the transaction,
/// so that no seal gives it one (a seal's snapshot still sees it) that the
/// blanking would not find. Removing sealed events — what retention
/// removes — lets the feed go on meanwhile.
pub(crate) fn lock_unless_sealed(client: &SpiClient<'_>, removed: &[(u64, i64)]) {
    if removed.is_empty() {
        return;
    }
    let all_sealed =
        Horizon::read(client).is_some_and(|h| removed.iter().all(|&event| h.sealed(event)));
    if !all_sealed {
        crate::seal::hold_seal_lock();
    }
}

/// Writes a chunk's entries back, if any was blanked.
fn rewrite(client: &mut SpiClient<'_>, chunk: Chunk) {
    if !chunk.blanked {
        return;
    }
    let xid8_array = unsafe { pg_sys::get_array_type(pg_sys::XID8OID) };
    let statement = cached(
        client,
        REWRITE,
        &[pg_sys::INT8OID, xid8_array, pg_sys::INT8ARRAYOID],
    );
    let keys: Vec<Xid8> = chunk.keys.into_iter().map(Xid8).collect();
    let args: [DatumWithOid; 3] = [chunk.first_position.into(), keys.into(), chunk.ids.into()];
    spi(client.update(statement, None, &args));
}

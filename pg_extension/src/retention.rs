//! Retention: per stream type, keep the last `max_count` events of each
//! stream and those younger than `max_age` (`chronicle.set_retention`). A
//! pass truncates each stream that has more (`lifecycle::truncate`, so the
//! state just before its first kept event stays as its base), each stream
//! in a transaction (the retention worker, every `chronicle.retention_interval`)
//! or a subtransaction (`chronicle.apply_retention()`) of its own: a stream
//! that cannot be cut (its reducer fails on an event) is skipped with a
//! warning. The rules are the core's (`chronicle_core::lifecycle`).

use chronicle_core::error::Object;
use chronicle_core::lifecycle::{check_retention_args, retention_cut, Retention};
use chronicle_core::Error;
use pgrx::datum::{DatumWithOid, Interval};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;

use crate::errors::{raise, OrRaise};
use crate::feed_blank::Horizon;
use crate::lifecycle::Removed;
use crate::spi::{each_row, first_row, spi};

/// Streams looked at per page of a pass.
pub const ROUND: i64 = 256;

/// A worker's step (a transaction) ends once it has removed this many
/// events, or after STEP_TIME: appends to the step's streams wait for its
/// commit, which writes their heads. Large steps are cheaper: a chunk of the
/// feed is rewritten once per step however many of its entries go, and the
/// worker removed 22 µs of CPU per event under load in steps of 4,096
/// events, 9 µs in steps of 32,768.
const PAGE_EVENTS: i64 = 32768;
const STEP_TIME: std::time::Duration = std::time::Duration::from_millis(250);

/// Sets (or, both NULL, removes) the retention rule of a stream type.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn set_retention(
    stream_type: Option<&str>,
    max_age: default!(Option<Interval>, "NULL"),
    max_count: default!(Option<i64>, "NULL"),
) {
    const FN: &str = "chronicle.set_retention";
    let parts = max_age.map(|i| (i.months(), i.days(), i.micros()));
    let (stream_type, rule) = check_retention_args(stream_type, parts, max_count).or_raise(FN);
    crate::tenant::require_definer(FN);
    crate::installed::require_lifecycle(FN);
    Spi::connect_mut(|client| {
        let known = first_row(
            spi(client.select(
                "SELECT EXISTS (SELECT FROM chronicle.streams s
                                 WHERE s.stream_type OPERATOR(pg_catalog.=) $1)
                     OR EXISTS (SELECT FROM chronicle.retention_rules r
                                 WHERE r.stream_type OPERATOR(pg_catalog.=) $1)",
                None,
                &[stream_type.as_str().into()],
            )),
            &[pg_sys::BOOLOID],
            |row| row.get::<bool>(1).expect("NOT NULL"),
        )
        .expect("one row");
        if !known {
            raise(Error::not_found(Object::StreamType, &stream_type), FN);
        }
        match rule {
            None => spi(client.update(
                "DELETE FROM chronicle.retention_rules WHERE stream_type OPERATOR(pg_catalog.=) $1",
                None,
                &[stream_type.as_str().into()],
            )),
            Some(_) => spi(client.update(
                "INSERT INTO chronicle.retention_rules (stream_type, max_age, max_count, defined_at)
                 VALUES ($1, $2, $3, pg_catalog.now())
                 ON CONFLICT (stream_type) DO UPDATE
                    SET max_age = excluded.max_age, max_count = excluded.max_count,
                        defined_at = excluded.defined_at",
                None,
                &[stream_type.as_str().into(), max_age.into(), max_count.into()],
            )),
        };
    });
    // The retention worker applies the rules: make sure it runs (after a
    // restart, the sealer starts it again).
    crate::retention_worker::ensure();
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.set_retention(text, interval, bigint) IS
    'Sets the retention of a stream type (chronicle_admin, no tenant: rules are shared): keep the last max_count events of each of its streams and those recorded within max_age (either or both; both NULL: no retention). The retention worker applies it every chronicle.retention_interval, in short transactions; chronicle.apply_retention() does a pass now. Each cut is a truncate_stream: the state before the first kept event stays as the stream''s base.';
"#,
    name = "set_retention_comment",
    requires = [set_retention],
);

/// A stream a pass would cut, and its type's rule.
struct Candidate {
    stream_id: String,
    rule: Retention,
    /// `now() - max_age`, as a timestamp.
    cutoff: Option<TimestampWithTimeZone>,
    reason: String,
}

/// The streams after `after` (by id) of the types with a rule that have
/// something to cut: more than `max_count` events, or a first stored event
/// older than `max_age` (one index probe each); of `tenant` (None: all).
const CANDIDATES: &str = "
SELECT s.stream_id, r.max_count, pg_catalog.now() OPERATOR(pg_catalog.-) r.max_age,
       pg_catalog.concat_ws(', ', 'max_count ' OPERATOR(pg_catalog.||) r.max_count,
                            'max_age ' OPERATOR(pg_catalog.||) r.max_age)
  FROM chronicle.retention_rules r
  JOIN chronicle.streams s ON s.stream_type OPERATOR(pg_catalog.=) r.stream_type
 WHERE s.deleted_at IS NULL AND s.archived_at IS NULL
   AND ($1::pg_catalog.text IS NULL OR s.stream_id OPERATOR(pg_catalog.>) $1)
   AND ($2::pg_catalog.text IS NULL OR s.tenant OPERATOR(pg_catalog.=) $2)
   AND ((s.version OPERATOR(pg_catalog.-) s.first_version OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.>) r.max_count
        OR r.max_age IS NOT NULL AND EXISTS (SELECT FROM chronicle.event_log e
                    WHERE e.stream_id OPERATOR(pg_catalog.=) s.stream_id
                      AND e.version OPERATOR(pg_catalog.=) s.first_version
                      AND e.recorded_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) r.max_age)))
 ORDER BY s.stream_id
 LIMIT $3";

fn candidates(
    client: &SpiClient<'_>,
    after: Option<&str>,
    tenant: Option<&str>,
    limit: i64,
) -> Vec<Candidate> {
    use pg_sys::{INT8OID, TEXTOID, TIMESTAMPTZOID};
    let args: [DatumWithOid; 3] = [after.into(), tenant.into(), limit.into()];
    let mut found = Vec::new();
    each_row(
        spi(client.select(CANDIDATES, None, &args)),
        &[TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID],
        |row| {
            let cutoff = row.get::<TimestampWithTimeZone>(3);
            found.push(Candidate {
                stream_id: row.get::<String>(1).expect("NOT NULL"),
                rule: Retention {
                    max_count: row.get::<i64>(2).map(|n| n as u64),
                    max_age: cutoff.is_some(),
                },
                cutoff,
                reason: row.get::<String>(4).expect("NOT NULL"),
            });
        },
    );
    found
}

/// Cuts one stream by its rule (locking its head first), only up to its
/// last event with a position by `sealed` if given; returns the events
/// removed, whose feed entries join `gone`.
fn retain(
    client: &mut SpiClient<'_>,
    c: &Candidate,
    tenant: Option<&str>,
    sealed: Option<&Horizon>,
    gone: &mut Removed,
) -> i64 {
    const FN: &str = "chronicle.apply_retention";
    let Some(head) = crate::lifecycle::lock_head(client, &c.stream_id, tenant, false) else {
        return 0;
    };
    // The first version recorded within max_age (events before it are all
    // older); every event is older when there is none.
    let first_young = c.cutoff.map(|cutoff| {
        first_row(
            spi(client.select(
                "SELECT coalesce(pg_catalog.min(e.version), $3 OPERATOR(pg_catalog.+) 1)
                   FROM chronicle.event_log e
                  WHERE e.stream_id OPERATOR(pg_catalog.=) $1
                    AND e.version OPERATOR(pg_catalog.>=) $2
                    AND e.recorded_at OPERATOR(pg_catalog.>=) $4",
                None,
                &[
                    c.stream_id.as_str().into(),
                    (head.state.first_version as i64).into(),
                    (head.state.version as i64).into(),
                    cutoff.into(),
                ],
            )),
            &[pg_sys::INT8OID],
            |row| row.get::<i64>(1).expect("coalesced") as u64,
        )
        .expect("one row")
    });
    let Some(before) = retention_cut(&head.state, c.rule, first_young) else {
        return 0;
    };
    // The worker removes only events that have their positions: removing
    // one that has none yet would hold the feed back until its step ends
    // (`feed_blank::lock_unless_sealed`); the next pass takes it.
    let before = match sealed {
        Some(h) => {
            match h.last_sealed(client, &c.stream_id, head.state.first_version, before - 1) {
                Some(v) => before.min(v + 1),
                None => return 0,
            }
        }
        None => before,
    };
    crate::lifecycle::truncate(
        client,
        &c.stream_id,
        Some(head),
        before,
        "retention",
        Some(&c.reason),
        FN,
        gone,
    )
}

/// Cuts one stream in a subtransaction; a stream that cannot be cut is
/// skipped with a WARNING (and its removals are rolled back).
fn retain_or_skip(
    client: &mut SpiClient<'_>,
    c: &Candidate,
    tenant: Option<&str>,
    sealed: Option<&Horizon>,
    gone: &mut Removed,
) -> i64 {
    let mut mine = Removed::default();
    match crate::transaction::attempt(|| retain(client, c, tenant, sealed, &mut mine)) {
        Ok(removed) => {
            gone.absorb(mine);
            removed
        }
        Err(message) => {
            warning!(
                "chronicle: retention skipped stream \"{}\" ({}): {message}",
                c.stream_id,
                c.reason
            );
            0
        }
    }
}

/// One pass of retention over the session's tenant's streams, now, in the
/// caller's transaction; returns the events removed.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn apply_retention() -> i64 {
    const FN: &str = "chronicle.apply_retention";
    crate::transaction::require_can_seal(FN);
    crate::installed::require_lifecycle(FN);
    let tenant = crate::tenant::tenant();
    Spi::connect_mut(|client| {
        crate::lifecycle::prepare(client);
        let mut removed = 0;
        let mut after: Option<String> = None;
        loop {
            let page = candidates(client, after.as_deref(), Some(&tenant), ROUND);
            let mut gone = Removed::default();
            for c in &page {
                removed += retain_or_skip(client, c, Some(&tenant), None, &mut gone);
            }
            gone.finish(client);
            match page.last() {
                Some(last) if page.len() as i64 == ROUND => after = Some(last.stream_id.clone()),
                _ => return removed,
            }
        }
    })
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.apply_retention() IS
    'Applies the retention rules now (chronicle_admin): cuts every stream of the session''s tenant that has more than its type''s rule keeps, in the caller''s transaction (the retention worker does it in short transactions); a stream that cannot be cut is skipped with a WARNING. Returns the events removed.';
"#,
    name = "apply_retention_comment",
    requires = [apply_retention],
);

/// The retention worker's passes over every tenant's streams, a page of
/// candidates at a time, in steps of one short transaction each.
#[derive(Default)]
pub struct Worker {
    next_at: Option<std::time::Instant>,
    /// When the pass under way started: the next one starts an interval
    /// later (at once when this one took longer), so that a pass slowed
    /// down by a busy machine does not fall further behind by waiting.
    started: Option<std::time::Instant>,
    /// The page of candidates under way, and how many of them are done.
    page: Vec<Candidate>,
    done: usize,
    /// The last stream id of the pass's last page (None: the pass is at
    /// its first page).
    after: Option<String>,
}

impl Worker {
    /// Passes from one interval from now on: a rule just set (or a server
    /// just started) is applied at the next interval, not at once
    /// (`chronicle.apply_retention()` applies it now).
    pub fn starting_later() -> Worker {
        Worker {
            next_at: crate::guc::retention_interval().map(|i| std::time::Instant::now() + i),
            ..Worker::default()
        }
    }

    /// Runs a step if a pass is due; true when the pass has more to do.
    pub fn step(&mut self) -> bool {
        use pgrx::bgworkers::BackgroundWorker;
        let Some(interval) = crate::guc::retention_interval() else {
            return false;
        };
        let now = std::time::Instant::now();
        if self.next_at.is_some_and(|t| now < t) {
            return false;
        }
        let started = *self.started.get_or_insert(now);
        if self.done == self.page.len() {
            let page = BackgroundWorker::transaction(|| {
                crate::seal::lock_extension().then(|| {
                    Spi::connect(|client| candidates(client, self.after.as_deref(), None, ROUND))
                })
            });
            self.page = page.unwrap_or_default();
            self.done = 0;
            // A full page: there may be more after its last stream.
            self.after = (self.page.len() as i64 == ROUND)
                .then(|| self.page.last().map(|c| c.stream_id.clone()))
                .flatten();
        }
        if self.done < self.page.len() {
            self.done += self.cut_some();
        }
        if self.done < self.page.len() || self.after.is_some() {
            return true;
        }
        self.started = None;
        self.next_at = Some(started + interval);
        false
    }

    /// One transaction cutting the page's next streams, each in a
    /// subtransaction of its own, their feed entries blanked at once (each
    /// chunk rewritten once however many of its entries go): it ends after
    /// PAGE_EVENTS removed events or STEP_TIME. Returns how many streams it
    /// took.
    fn cut_some(&self) -> usize {
        use pgrx::bgworkers::BackgroundWorker;
        let page = &self.page[self.done..];
        BackgroundWorker::transaction(|| {
            if !crate::seal::lock_extension() {
                return page.len();
            }
            let start = std::time::Instant::now();
            Spi::connect_mut(|client| {
                crate::lifecycle::prepare(client);
                // Read once: an older horizon only takes fewer events.
                let sealed = Horizon::read(client);
                // The whole step in a subtransaction too: should writing the
                // heads fail (a deadlock with a transaction appending to two
                // of these streams), the step is undone and the worker goes
                // on.
                let step = crate::transaction::attempt(|| {
                    let mut gone = Removed::default();
                    let (mut took, mut removed) = (0, 0);
                    for c in page {
                        removed += retain_or_skip(client, c, None, sealed.as_ref(), &mut gone);
                        took += 1;
                        if removed >= PAGE_EVENTS || start.elapsed() >= STEP_TIME {
                            break;
                        }
                    }
                    gone.finish(client);
                    took
                });
                step.unwrap_or_else(|message| {
                    warning!("chronicle: a retention step was undone, to be done again: {message}");
                    page.len()
                })
            })
        })
    }
}

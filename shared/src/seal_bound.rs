//! How far a seal of the global feed may go: the rule, without the I/O.
//! The extension (`pg_extension/src/seal_bound.rs`) reads the transaction
//! ids, probes the appender locks and publishes the floor; the decisions are
//! made here. The argument for why the rule is safe is written there, where
//! the ordering of lock, floor and snapshot is enforced.
//!
//! Transaction ids are 64-bit (`xid8`): they never wrap.

/// The least feed key of an appending transaction's events: its id, raised
/// to the floor it read after it registered (events of a transaction that
/// got its id early, and first appended after younger events were sealed,
/// sort after those).
pub fn appender_key(xid: u64, floor: u64) -> u64 {
    xid.max(floor)
}

/// Where a seal stops: every committed event with a key below `below` may be
/// sealed. `holder` is the open appending transaction that stopped it there,
/// if one did (otherwise the floor did).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub below: u64,
    pub holder: Option<u64>,
}

/// The bound for a published floor `limit`: the first transaction of
/// `running` (ascending ids, the sealer's snapshot taken after the floor was
/// published) below `limit` that `is_appender` says holds the appender lock,
/// or `limit` itself. A seal inside a transaction that has appended (`own`)
/// stops at its own id too: its snapshot does not list it as running.
pub fn bound_below(
    running: &[u64],
    limit: u64,
    own: Option<u64>,
    is_appender: impl FnMut(&u64) -> bool,
) -> Bound {
    let first = running
        .iter()
        .copied()
        .take_while(|&x| x < limit)
        .find(is_appender);
    let bound = match first {
        Some(x) => Bound {
            below: x,
            holder: Some(x),
        },
        None => Bound {
            below: limit,
            holder: None,
        },
    };
    match own {
        Some(x) if x < bound.below => Bound {
            below: x,
            holder: Some(x),
        },
        _ => bound,
    }
}

/// Whether publishing `next` (the next transaction id to be assigned) as the
/// new floor can take the seal further than `bound`, found with the current
/// `floor`: only when the floor stopped it, not a transaction, and ids were
/// assigned since. Otherwise the sealer publishes nothing (no WAL while an
/// appender holds the feed back).
pub fn worth_publishing(bound: &Bound, floor: u64, next: u64) -> bool {
    bound.holder.is_none() && next > floor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appenders(ids: &'static [u64]) -> impl FnMut(&u64) -> bool {
        move |x| ids.contains(x)
    }

    #[test]
    fn a_late_appender_sorts_at_the_floor() {
        assert_eq!(appender_key(90, 150), 150);
        assert_eq!(appender_key(200, 150), 200);
    }

    #[test]
    fn transactions_that_did_not_append_hold_nothing_back() {
        let b = bound_below(&[10, 20, 30], 100, None, appenders(&[]));
        assert_eq!(
            b,
            Bound {
                below: 100,
                holder: None
            }
        );
        assert!(worth_publishing(&b, 100, 120));
        assert!(!worth_publishing(&b, 100, 100), "no id assigned since");
    }

    #[test]
    fn the_oldest_appender_below_the_floor_stops_the_seal() {
        let b = bound_below(&[10, 20, 30, 40], 100, None, appenders(&[30, 20]));
        assert_eq!(
            b,
            Bound {
                below: 20,
                holder: Some(20)
            }
        );
        assert!(
            !worth_publishing(&b, 100, 500),
            "a new floor cannot pass it"
        );
    }

    #[test]
    fn appenders_at_or_above_the_floor_are_not_probed() {
        let mut probed = vec![];
        let b = bound_below(&[10, 100, 120], 100, None, |x: &u64| {
            probed.push(*x);
            true
        });
        assert_eq!(b.below, 10);
        let b = bound_below(&[100, 120], 100, None, |x: &u64| {
            probed.push(*x);
            true
        });
        assert_eq!(
            b,
            Bound {
                below: 100,
                holder: None
            }
        );
        assert_eq!(probed, [10], "only ids below the floor");
    }

    #[test]
    fn a_seal_inside_an_appending_transaction_stops_at_its_own_id() {
        let b = bound_below(&[10, 50], 100, Some(40), appenders(&[50]));
        assert_eq!(
            b,
            Bound {
                below: 40,
                holder: Some(40)
            }
        );
        assert!(!worth_publishing(&b, 100, 200));
        let b = bound_below(&[10, 30], 100, Some(40), appenders(&[30]));
        assert_eq!(
            b,
            Bound {
                below: 30,
                holder: Some(30)
            }
        );
    }
}

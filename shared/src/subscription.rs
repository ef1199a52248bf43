//! Subscriptions: named followers of the global feed whose checkpoints live
//! in the database (a projection's checkpoints, with consumer groups).
//!
//! Everything a subscription function decides is decided here; the SQL
//! functions only read and write rows:
//!
//! - the state machine ([`Subscription::apply`]): `running`, `paused`
//!   (`poll` returns nothing), `failed` (likewise, with an error message,
//!   until resumed) and `rebuilding` (after a reset, until the group's
//!   checkpoint reaches the feed's head at reset time);
//! - the checkpoints: each consumer of a group has one; [`ack`] moves it
//!   forward (never back), [`skip`] moves it past positions a poll found
//!   nothing for, [`group_checkpoint`] is the slowest consumer's;
//! - the groups: consumer `k` of `n` receives the streams whose hash mod
//!   `n` is `k` ([`consumer_of`]), so every stream goes to one consumer, in
//!   order; a new group size starts every consumer at the group checkpoint.

use crate::error::{require, Error, Object, Result};
use crate::identifier::validate_id;

/// The largest consumer group `poll` accepts.
pub const MAX_CONSUMERS: i64 = 1024;

/// The most feed positions one `poll` scans for a consumer's events: a
/// selective filter then costs a bounded amount per call.
pub const MAX_SCAN: u64 = 100_000;

/// Where a subscription is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Paused,
    Rebuilding,
    Failed,
}

impl Status {
    /// Its name, as `chronicle.subscriptions.status` stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Rebuilding => "rebuilding",
            Status::Failed => "failed",
        }
    }

    /// The status a stored name stands for.
    pub fn parse(text: &str) -> Result<Status> {
        match text {
            "running" => Ok(Status::Running),
            "paused" => Ok(Status::Paused),
            "rebuilding" => Ok(Status::Rebuilding),
            "failed" => Ok(Status::Failed),
            other => Err(Error::invalid(
                "status",
                format!("is not a subscription status: {other:?}"),
                "A subscription is running, paused, rebuilding or failed.",
            )),
        }
    }

    /// Whether `poll` delivers events in this status.
    pub fn delivers(self) -> bool {
        matches!(self, Status::Running | Status::Rebuilding)
    }
}

/// A subscription's state, as far as its transitions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub status: Status,
    /// The group checkpoint: every matching event at or below it has been
    /// acknowledged by the consumer it belongs to.
    pub last_position: u64,
    /// While rebuilding: the feed's head when the subscription was reset.
    pub rebuild_target: Option<u64>,
    pub error_message: Option<String>,
}

/// What happens to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    Pause,
    /// Resume after a pause or a failure (clears the error).
    Resume,
    Fail {
        error_message: &'a str,
    },
    /// Every checkpoint goes to `to_position`; `head` is the feed's head now.
    Reset {
        to_position: u64,
        head: u64,
    },
    /// The group checkpoint moved (an ack, a skip, a regroup).
    Checkpoint {
        group_checkpoint: u64,
    },
}

impl Subscription {
    /// A new subscription delivering the events after `after_position`.
    pub fn new(after_position: u64) -> Subscription {
        Subscription {
            status: Status::Running,
            last_position: after_position,
            rebuild_target: None,
            error_message: None,
        }
    }

    /// The state after `command`.
    pub fn apply(&self, command: Command<'_>) -> Subscription {
        let mut next = self.clone();
        match command {
            Command::Pause => next.status = Status::Paused,
            Command::Fail { error_message } => {
                next.status = Status::Failed;
                next.error_message = Some(error_message.to_string());
            }
            Command::Resume => {
                next.error_message = None;
                next.status = Status::Running;
                next.settle_rebuild();
            }
            Command::Reset { to_position, head } => {
                next.last_position = to_position;
                next.error_message = None;
                next.status = Status::Rebuilding;
                next.rebuild_target = Some(head);
                next.settle_rebuild();
            }
            Command::Checkpoint { group_checkpoint } => {
                next.last_position = group_checkpoint;
                if next.status == Status::Rebuilding {
                    next.settle_rebuild();
                }
            }
        }
        next
    }

    /// A rebuild whose checkpoint reached its target is over; one that has
    /// not is (again) rebuilding.
    fn settle_rebuild(&mut self) {
        match self.rebuild_target {
            Some(target) if self.last_position >= target => {
                self.rebuild_target = None;
                self.status = Status::Running;
            }
            Some(_) => self.status = Status::Rebuilding,
            None => {}
        }
    }
}

/// The consumer (0 .. consumers - 1) of a group that receives `stream_id`'s
/// events.
pub fn consumer_of(stream_id: &str, consumers: u32) -> u32 {
    crate::hash::hash_text(stream_id).rem_euclid(i64::from(consumers.max(1))) as u32
}

/// Where an ack moves a consumer's checkpoint from `current`: forward to
/// `to_position`, never back (`None`: it stays).
pub fn ack(current: u64, to_position: u64) -> Option<u64> {
    (to_position > current).then_some(to_position)
}

/// Where a poll that found nothing for a consumer between `from` and `to`
/// moves its checkpoint: past those positions, if it is still at `from`
/// (an ack, a reset or a regroup meanwhile wins).
pub fn skip(current: u64, from: u64, to: u64) -> Option<u64> {
    (current == from && to > from).then_some(to)
}

/// The group checkpoint: the slowest consumer's (0 for no consumers).
pub fn group_checkpoint(positions: impl IntoIterator<Item = u64>) -> u64 {
    positions.into_iter().min().unwrap_or(0)
}

/// The last position a poll from `from` scans, with the feed's head at `head`.
pub fn scan_end(from: u64, head: u64) -> u64 {
    head.min(from.saturating_add(MAX_SCAN))
}

/// A subscription name: the rules of ids (1-255 printable characters).
pub fn check_name(name: Option<&str>) -> Result<&str> {
    let name = require(name, "name")?;
    validate_id("name", name)?;
    Ok(name)
}

/// Consumer `consumer` of a group of `consumers` (consumer groups).
pub fn check_consumer(consumer: Option<i64>, consumers: Option<i64>) -> Result<(u32, u32)> {
    let n = require(consumers, "consumers")?;
    if !(1..=MAX_CONSUMERS).contains(&n) {
        return Err(Error::invalid(
            "consumers",
            format!("must be between 1 and {MAX_CONSUMERS} (got {n})"),
            "Pass the number of consumers in the group; 1 for a single consumer.",
        ));
    }
    let k = require(consumer, "consumer")?;
    if !(0..n).contains(&k) {
        return Err(Error::invalid(
            "consumer",
            format!("must be between 0 and consumers - 1 = {} (got {k})", n - 1),
            "Number the consumers of a group 0, 1, ..., consumers - 1.",
        ));
    }
    Ok((k as u32, n as u32))
}

/// The error for a subscription that does not exist (or is another
/// tenant's).
pub fn not_found(name: &str) -> Error {
    Error::not_found(Object::Subscription, name)
}

/// The error for a subscription created twice.
pub fn exists(name: &str) -> Error {
    Error::AlreadyExists {
        object: Object::Subscription,
        name: name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_fail_and_resume() {
        let s = Subscription::new(0);
        let paused = s.apply(Command::Pause);
        assert!(!paused.status.delivers());
        let failed = paused.apply(Command::Fail {
            error_message: "boom",
        });
        assert_eq!(
            (failed.status, failed.error_message.as_deref()),
            (Status::Failed, Some("boom"))
        );
        let resumed = failed.apply(Command::Resume);
        assert_eq!(resumed, s);
    }

    #[test]
    fn a_reset_rebuilds_until_the_head_at_reset_time() {
        let s = Subscription::new(7).apply(Command::Reset {
            to_position: 2,
            head: 10,
        });
        assert_eq!(
            (s.status, s.last_position, s.rebuild_target),
            (Status::Rebuilding, 2, Some(10))
        );
        assert!(s.status.delivers());
        let s = s.apply(Command::Checkpoint {
            group_checkpoint: 9,
        });
        assert_eq!(s.status, Status::Rebuilding);
        // Paused while rebuilding: reaching the target ends neither.
        let p = s.apply(Command::Pause).apply(Command::Checkpoint {
            group_checkpoint: 10,
        });
        assert_eq!((p.status, p.rebuild_target), (Status::Paused, Some(10)));
        assert_eq!(p.apply(Command::Resume).status, Status::Running);
        let s = s.apply(Command::Checkpoint {
            group_checkpoint: 10,
        });
        assert_eq!((s.status, s.rebuild_target), (Status::Running, None));
        let at_head = Subscription::new(0).apply(Command::Reset {
            to_position: 10,
            head: 10,
        });
        assert_eq!(
            (at_head.status, at_head.rebuild_target),
            (Status::Running, None)
        );
    }

    #[test]
    fn checkpoints_move_forward_only() {
        assert_eq!(ack(5, 7), Some(7));
        assert_eq!(ack(5, 5), None);
        assert_eq!(ack(5, 3), None);
        assert_eq!(skip(5, 5, 9), Some(9));
        assert_eq!(skip(6, 5, 9), None);
        assert_eq!(group_checkpoint([4, 2, 9]), 2);
        assert_eq!(scan_end(10, 50), 50);
        assert_eq!(scan_end(10, 10 + MAX_SCAN + 1), 10 + MAX_SCAN);
    }

    #[test]
    fn every_stream_has_one_consumer() {
        for n in 1..=7 {
            for id in ["order-001", "a", "", "ünïcødé-stream"] {
                assert!(consumer_of(id, n) < n);
            }
        }
        // Postgres: mod(mod(hashtextextended('order-001', 0), 3) + 3, 3)
        assert_eq!(
            consumer_of("order-001", 3),
            (467658615232986118i64 % 3) as u32
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            Status::Running,
            Status::Paused,
            Status::Rebuilding,
            Status::Failed,
        ] {
            assert_eq!(Status::parse(s.as_str()).unwrap(), s);
        }
        assert_eq!(Status::parse("gone").unwrap_err().field(), "status");
    }

    #[test]
    fn consumers_form_a_group() {
        assert_eq!(check_consumer(Some(2), Some(3)).unwrap(), (2, 3));
        assert_eq!(
            check_consumer(Some(3), Some(3)).unwrap_err().field(),
            "consumer"
        );
        assert_eq!(
            check_consumer(Some(-1), Some(3)).unwrap_err().field(),
            "consumer"
        );
        assert_eq!(
            check_consumer(Some(0), Some(0)).unwrap_err().field(),
            "consumers"
        );
        assert_eq!(
            check_consumer(Some(0), Some(MAX_CONSUMERS + 1))
                .unwrap_err()
                .field(),
            "consumers"
        );
        assert_eq!(
            check_consumer(None, Some(1)).unwrap_err().sqlstate(),
            "22004"
        );
    }

    #[test]
    fn names_follow_the_id_rules() {
        assert_eq!(
            check_name(Some("orders-projection")).unwrap(),
            "orders-projection"
        );
        assert_eq!(
            check_name(Some("x'); DROP TABLE chronicle.events; --")).unwrap(),
            "x'); DROP TABLE chronicle.events; --"
        );
        assert_eq!(check_name(None).unwrap_err().sqlstate(), "22004");
        assert_eq!(check_name(Some("")).unwrap_err().sqlstate(), "22023");
        assert_eq!(
            check_name(Some(&"n".repeat(256))).unwrap_err().sqlstate(),
            "22001"
        );
        assert_eq!(check_name(Some("a\u{0}b")).unwrap_err().sqlstate(), "22023");
    }

    #[test]
    fn missing_and_duplicate_subscriptions_have_their_codes() {
        assert_eq!(not_found("p").sqlstate(), "42704");
        assert_eq!(exists("p").sqlstate(), "42710");
    }
}

//! An in-memory global feed with subscriptions: the reference model of the
//! subscription functions.
//!
//! It composes the core's decisions ([`crate::subscription`],
//! [`crate::feed`], [`crate::arguments`]) in the order the extension's SQL
//! functions do, with vectors instead of tables. The shared vectors
//! (`tests/vectors/subscriptions.json`) run against it (cargo test) and
//! against the extension (`tests/vectors/run_sql.py`), so both agree on
//! every transition, checkpoint and delivery.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::arguments::{check_count, check_known_position};
use crate::error::{require, Result};
use crate::feed::{check_filter, passes};
use crate::subscription::{
    self, check_consumer, check_name, consumer_of, group_checkpoint, scan_end, Command,
    Subscription,
};

/// An event of the feed, at position `index + 1`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FeedEvent {
    pub stream_id: String,
    pub stream_type: String,
    pub event_type: String,
}

/// A consumer's checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub position: u64,
    pub events_processed: u64,
}

/// A subscription as `chronicle.subscriptions` and
/// `chronicle.subscription_consumers` hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub name: String,
    pub stream_type: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub state: Subscription,
    pub events_processed: u64,
    /// One per consumer of the group (its size is `consumers.len()`).
    pub consumers: Vec<Checkpoint>,
}

impl SubscriptionRow {
    /// The row as `chronicle.subscriptions` shows it (the columns the model
    /// keeps), and `consumers`, the group's size.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "stream_type": self.stream_type,
            "event_types": self.event_types,
            "status": self.state.status.as_str(),
            "last_position": self.state.last_position,
            "rebuild_target": self.state.rebuild_target,
            "error_message": self.state.error_message,
            "events_processed": self.events_processed,
            "consumers": self.consumers.len(),
        })
    }
}

/// The arguments of the subscription functions; `None` is SQL NULL, a
/// missing key the SQL default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionArgs {
    pub name: Option<String>,
    pub stream_type: Option<String>,
    pub event_types: Option<Vec<Option<String>>>,
    #[serde(default = "zero")]
    pub after_position: Option<i64>,
    #[serde(default = "zero")]
    pub to_position: Option<i64>,
    #[serde(default = "hundred")]
    pub max_count: Option<i64>,
    #[serde(default = "zero")]
    pub consumer: Option<i64>,
    #[serde(default = "one")]
    pub consumers: Option<i64>,
    pub error_message: Option<String>,
}

fn zero() -> Option<i64> {
    Some(0)
}

fn one() -> Option<i64> {
    Some(1)
}

fn hundred() -> Option<i64> {
    Some(100)
}

/// The model feed.
#[derive(Debug, Clone, Default)]
pub struct MemoryFeed {
    events: Vec<FeedEvent>,
    subscriptions: BTreeMap<String, SubscriptionRow>,
}

impl MemoryFeed {
    /// Appends an event; returns its position.
    pub fn append(&mut self, event: FeedEvent) -> u64 {
        self.events.push(event);
        self.head()
    }

    /// `chronicle.feed_head()`.
    pub fn head(&self) -> u64 {
        self.events.len() as u64
    }

    fn row(&mut self, name: Option<&str>) -> Result<&mut SubscriptionRow> {
        let name = check_name(name)?;
        self.subscriptions
            .get_mut(name)
            .ok_or_else(|| subscription::not_found(name))
    }

    /// `chronicle.create_subscription`.
    pub fn create_subscription(&mut self, a: &SubscriptionArgs) -> Result<SubscriptionRow> {
        let name = check_name(a.name.as_deref())?.to_string();
        let event_types: Option<Vec<Option<&str>>> = a
            .event_types
            .as_ref()
            .map(|l| l.iter().map(Option::as_deref).collect());
        check_filter(a.stream_type.as_deref(), event_types.as_deref())?;
        let after = check_known_position("after_position", a.after_position, self.head())?;
        if self.subscriptions.contains_key(&name) {
            return Err(subscription::exists(&name));
        }
        let row = SubscriptionRow {
            name: name.clone(),
            stream_type: a.stream_type.clone(),
            event_types: a
                .event_types
                .as_ref()
                .map(|l| l.iter().flatten().cloned().collect()),
            state: Subscription::new(after),
            events_processed: 0,
            consumers: vec![Checkpoint {
                position: after,
                events_processed: 0,
            }],
        };
        self.subscriptions.insert(name, row.clone());
        Ok(row)
    }

    /// `chronicle.drop_subscription`: the row as it was.
    pub fn drop_subscription(&mut self, a: &SubscriptionArgs) -> Result<SubscriptionRow> {
        let name = self.row(a.name.as_deref())?.name.clone();
        Ok(self.subscriptions.remove(&name).expect("found above"))
    }

    /// `pause_subscription`, `resume_subscription`, `fail_subscription`.
    pub fn change(&mut self, a: &SubscriptionArgs, verb: &str) -> Result<SubscriptionRow> {
        check_name(a.name.as_deref())?;
        let message = match verb {
            "fail" => Some(require(a.error_message.as_deref(), "error_message")?),
            _ => None,
        };
        let row = self.row(a.name.as_deref())?;
        let command = match (verb, message) {
            ("pause", _) => Command::Pause,
            ("resume", _) => Command::Resume,
            (_, Some(error_message)) => Command::Fail { error_message },
            _ => unreachable!("verbs are pause, resume and fail"),
        };
        row.state = row.state.apply(command);
        Ok(row.clone())
    }

    /// `chronicle.reset_subscription`.
    pub fn reset_subscription(&mut self, a: &SubscriptionArgs) -> Result<SubscriptionRow> {
        check_name(a.name.as_deref())?;
        let head = self.head();
        let to = check_known_position("to_position", a.to_position, head)?;
        let row = self.row(a.name.as_deref())?;
        for c in &mut row.consumers {
            *c = Checkpoint {
                position: to,
                events_processed: 0,
            };
        }
        row.events_processed = 0;
        row.state = row.state.apply(Command::Reset {
            to_position: to,
            head,
        });
        Ok(row.clone())
    }

    /// The events after `from` up to `to` that consumer `k` of `n` of `row`
    /// receives, as positions.
    fn deliveries(&self, row: &SubscriptionRow, k: u32, n: u32, from: u64, to: u64) -> Vec<u64> {
        (from + 1..=to)
            .filter(|&p| {
                let e = &self.events[p as usize - 1];
                passes(
                    row.stream_type.as_deref(),
                    row.event_types.as_deref(),
                    &e.stream_type,
                    &e.event_type,
                ) && consumer_of(&e.stream_id, n) == k
            })
            .collect()
    }

    /// Moves consumer `k`'s checkpoint to `to`, counting `processed` events,
    /// and the group checkpoint with it.
    fn move_checkpoint(&mut self, name: &str, k: usize, to: u64, processed: u64) {
        let row = self.subscriptions.get_mut(name).expect("exists");
        let c = &mut row.consumers[k];
        c.position = to;
        c.events_processed += processed;
        row.events_processed += processed;
        let group = group_checkpoint(row.consumers.iter().map(|c| c.position));
        row.state = row.state.apply(Command::Checkpoint {
            group_checkpoint: group,
        });
    }

    /// `chronicle.poll`: positions of the events delivered.
    pub fn poll(&mut self, a: &SubscriptionArgs) -> Result<Vec<u64>> {
        let name = check_name(a.name.as_deref())?.to_string();
        let max = check_count("max_count", a.max_count)?;
        let (k, n) = check_consumer(a.consumer, a.consumers)?;
        let row = self.row(Some(&name))?;
        if !row.state.status.delivers() || max == 0 {
            return Ok(Vec::new());
        }
        if row.consumers.len() != n as usize {
            // A new group size: every consumer starts at the group checkpoint.
            let at = row.state.last_position;
            row.consumers = vec![
                Checkpoint {
                    position: at,
                    events_processed: 0,
                };
                n as usize
            ];
        }
        let row = self.subscriptions[&name].clone();
        let from = row.consumers[k as usize].position;
        let to = scan_end(from, self.head());
        let mut found = self.deliveries(&row, k, n, from, to);
        found.truncate(max as usize);
        if found.is_empty() {
            if let Some(past) = subscription::skip(from, from, to) {
                self.move_checkpoint(&name, k as usize, past, 0);
            }
        }
        Ok(found)
    }

    /// `chronicle.ack`: the consumer's checkpoint after it.
    pub fn ack(&mut self, a: &SubscriptionArgs) -> Result<u64> {
        let name = check_name(a.name.as_deref())?.to_string();
        let to = check_known_position("to_position", a.to_position, self.head())?;
        let consumer = require(a.consumer, "consumer")?;
        let row = self.row(Some(&name))?.clone();
        let n = row.consumers.len() as i64;
        let (k, _) = check_consumer(Some(consumer), Some(n))?;
        let current = row.consumers[k as usize].position;
        let Some(to) = subscription::ack(current, to) else {
            return Ok(current);
        };
        let processed = self.deliveries(&row, k, n as u32, current, to).len() as u64;
        self.move_checkpoint(&name, k as usize, to, processed);
        Ok(to)
    }

    /// A subscription's row.
    pub fn subscription(&self, name: &str) -> Option<&SubscriptionRow> {
        self.subscriptions.get(name)
    }

    /// Runs one call of the shared vectors (`tests/vectors/subscriptions.json`):
    /// `Ok` with what the SQL function returns, as JSON.
    pub fn call(&mut self, call: &str, args: &serde_json::Value) -> Result<serde_json::Value> {
        use serde_json::json;
        if call == "append" {
            let event: FeedEvent = serde_json::from_value(args.clone()).expect("an event");
            return Ok(json!(self.append(event)));
        }
        let a: SubscriptionArgs = serde_json::from_value(args.clone()).expect("subscription args");
        Ok(match call {
            "create_subscription" => self.create_subscription(&a)?.to_json(),
            "drop_subscription" => self.drop_subscription(&a)?.to_json(),
            "pause_subscription" => self.change(&a, "pause")?.to_json(),
            "resume_subscription" => self.change(&a, "resume")?.to_json(),
            "fail_subscription" => self.change(&a, "fail")?.to_json(),
            "reset_subscription" => self.reset_subscription(&a)?.to_json(),
            "poll" => json!(self.poll(&a)?),
            "ack" => json!(self.ack(&a)?),
            other => panic!("unknown call {other}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscription::Status;

    fn feed(streams: &[(&str, &str)]) -> MemoryFeed {
        let mut f = MemoryFeed::default();
        for (stream_id, event_type) in streams {
            f.append(FeedEvent {
                stream_id: stream_id.to_string(),
                stream_type: "Order".into(),
                event_type: event_type.to_string(),
            });
        }
        f
    }

    fn args(name: &str) -> SubscriptionArgs {
        SubscriptionArgs {
            name: Some(name.into()),
            ..serde_json::from_str("{}").unwrap()
        }
    }

    #[test]
    fn poll_then_ack_moves_the_checkpoint() {
        let mut f = feed(&[("o-1", "A"), ("o-2", "B"), ("o-1", "B")]);
        f.create_subscription(&SubscriptionArgs {
            event_types: Some(vec![Some("B".into())]),
            ..args("p")
        })
        .unwrap();
        assert_eq!(f.poll(&args("p")).unwrap(), vec![2, 3]);
        let ack = SubscriptionArgs {
            to_position: Some(3),
            ..args("p")
        };
        assert_eq!(f.ack(&ack).unwrap(), 3);
        let row = f.subscription("p").unwrap();
        assert_eq!((row.state.last_position, row.events_processed), (3, 2));
        assert!(f.poll(&args("p")).unwrap().is_empty());
    }

    #[test]
    fn a_reset_rebuilds() {
        let mut f = feed(&[("o-1", "A"), ("o-2", "B")]);
        f.create_subscription(&SubscriptionArgs {
            after_position: Some(2),
            ..args("p")
        })
        .unwrap();
        let row = f.reset_subscription(&args("p")).unwrap();
        assert_eq!(row.state.status, Status::Rebuilding);
        f.ack(&SubscriptionArgs {
            to_position: Some(2),
            ..args("p")
        })
        .unwrap();
        assert_eq!(f.subscription("p").unwrap().state.status, Status::Running);
    }
}

//! Folding a stream's events into its state.
//!
//! The fold is incremental ([`Folder::step`]) so a caller can stream events
//! (the extension reads them from SPI a batch at a time, the browser keeps
//! checkpoints) without materialising a stream. It starts from the reducer's
//! initial state or from a snapshot, and applies events in version order;
//! a gap in the versions is an error, because a state built over a gap is
//! wrong.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::reducer::{apply_default, Reducer};
use crate::time::AsOf;
use crate::upcast::{upcast_event, Upcasters};

/// What to do when the reducer fails on an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Stop with the error (the database's `state_at`).
    Stop,
    /// Leave the state as it was before that event, note the failure and go
    /// on (the dashboard, which marks the failed step).
    Skip,
}

/// Where a replay stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Head,
    /// After this version.
    Version(u64),
    /// Before the first event recorded after this time.
    Time(AsOf),
}

impl Until {
    /// Whether `event` lies beyond the stop.
    pub fn excludes(&self, event: &Event) -> Result<bool> {
        Ok(match self {
            Until::Head => false,
            Until::Version(v) => event.version() > *v,
            Until::Time(t) => t.excludes("event.recorded_at", event.recorded_at())?,
        })
    }
}

/// Where a replay stops, from the JSON a client gave: a version
/// (`version_field`, a non-negative integer), a time (`time_field`, RFC 3339
/// text), or neither (the head).
pub fn until(
    version_field: &str,
    version: Option<&Value>,
    time_field: &str,
    time: Option<&Value>,
) -> Result<Until> {
    match (version, time) {
        (Some(v), None) => v.as_u64().map(Until::Version).ok_or_else(|| {
            Error::invalid(
                version_field,
                format!("must be a non-negative integer (got {v})"),
                "Pass a stream version: 0 is the state before the first event.",
            )
        }),
        (None, Some(Value::String(t))) => Ok(Until::Time(AsOf::parse(time_field, t)?)),
        (None, Some(t)) => Err(Error::invalid(
            time_field,
            format!("must be an RFC 3339 timestamp string (got {t})"),
            "Pass e.g. '2024-05-01T12:30:00Z'.",
        )),
        (Some(_), Some(_)) => Err(Error::invalid(
            time_field,
            format!("cannot be combined with {version_field}"),
            "Stop a replay at a version or at a time, not both.",
        )),
        (None, None) => Ok(Until::Head),
    }
}

/// An incremental fold.
#[derive(Debug, Clone)]
pub struct Folder<'r> {
    reducer: Option<&'r Reducer>,
    upcasters: Option<&'r Upcasters>,
    state: Value,
    version: u64,
    on_failure: OnFailure,
    failures: Vec<Error>,
}

/// The state before a stream's first event: the reducer's initial state,
/// `{}` for the default merge. (A stream deleted and written again starts
/// from it at its old version.)
pub fn initial_state(reducer: Option<&Reducer>) -> Value {
    reducer.map_or_else(|| Value::Object(Map::new()), |r| r.initial().clone())
}

impl<'r> Folder<'r> {
    /// Starts from the reducer's initial state (or `{}` for the default
    /// reducer), or from a snapshot `(state, version)`.
    pub fn new(
        reducer: Option<&'r Reducer>,
        snapshot: Option<(Value, u64)>,
        on_failure: OnFailure,
    ) -> Folder<'r> {
        let (state, version) = snapshot.unwrap_or_else(|| (initial_state(reducer), 0));
        Folder {
            reducer,
            upcasters: None,
            state,
            version,
            on_failure,
            failures: Vec::new(),
        }
    }

    /// Upcasts every event to its newest schema version before reducing it.
    pub fn with_upcasters(mut self, upcasters: &'r Upcasters) -> Folder<'r> {
        self.upcasters = Some(upcasters);
        self
    }

    /// Applies the next event, which must have the next version.
    pub fn step(&mut self, event: Event) -> Result<()> {
        let upcast = match self.upcasters {
            Some(u) => upcast_event(u, &event)?,
            None => None,
        };
        let event = upcast.unwrap_or(event);
        self.advance(event.version())?;
        let Some(reducer) = self.reducer else {
            apply_default(&mut self.state, event.into_data());
            return Ok(());
        };
        match self.on_failure {
            OnFailure::Stop => reducer.apply(&mut self.state, &event),
            OnFailure::Skip => {
                let mut next = self.state.clone();
                match reducer.apply(&mut next, &event) {
                    Ok(()) => self.state = next,
                    Err(e) => self.failures.push(e),
                }
                Ok(())
            }
        }
    }

    /// Whether a step reads nothing of an event but its data: the default
    /// reducer with no upcasters. Then [`Folder::step_data`] does what
    /// [`Folder::step`] does, without an envelope to build.
    pub fn reads_only_data(&self) -> bool {
        self.reducer.is_none() && self.upcasters.is_none_or(|u| u.is_empty())
    }

    /// [`Folder::step`] for an event given by its version and data; only
    /// when [`Folder::reads_only_data`].
    pub fn step_data(&mut self, version: u64, data: Value) -> Result<()> {
        debug_assert!(self.reads_only_data());
        self.advance(version)?;
        apply_default(&mut self.state, data);
        Ok(())
    }

    /// Passes over the event at `version` (the next one) without applying
    /// it: a replay as if it had not happened (the dashboard's "skip").
    pub fn pass(&mut self, version: u64) -> Result<()> {
        self.advance(version)
    }

    /// Moves to `version`, which must be the next one.
    fn advance(&mut self, version: u64) -> Result<()> {
        if version != self.version + 1 {
            return Err(Error::invalid(
                "events",
                format!(
                    "are not consecutive: version {} follows version {}",
                    version, self.version
                ),
                "Replay a stream's events in version order, without gaps.",
            ));
        }
        self.version = version;
        Ok(())
    }

    pub fn state(&self) -> &Value {
        &self.state
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// The failures skipped so far ([`OnFailure::Skip`]).
    pub fn failures(&self) -> &[Error] {
        &self.failures
    }

    pub fn into_state(self) -> Value {
        self.state
    }
}

/// Replays `events` (in version order) up to `until`.
pub fn replay<'r, I>(
    reducer: Option<&'r Reducer>,
    snapshot: Option<(Value, u64)>,
    events: I,
    until: Until,
    on_failure: OnFailure,
) -> Result<Folder<'r>>
where
    I: IntoIterator<Item = Result<Event>>,
{
    let mut folder = Folder::new(reducer, snapshot, on_failure);
    for event in events {
        let event = event?;
        if event.version() <= folder.version() {
            continue;
        }
        if until.excludes(&event)? {
            break;
        }
        folder.step(event)?;
    }
    Ok(folder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(version: u64, ty: &str, data: Value, at: &str) -> Result<Event> {
        Event::from_json(
            json!({"version": version, "event_type": ty, "data": data, "recorded_at": at}),
        )
    }

    fn events() -> Vec<Result<Event>> {
        vec![
            ev(1, "A", json!({"a": 1}), "2024-05-01T12:00:00Z"),
            ev(2, "B", json!({"b": 2}), "2024-05-01 12:05:00.5+00"),
            ev(3, "A", json!({"a": null}), "2024-05-01T12:10:00Z"),
        ]
    }

    #[test]
    fn default_reducer_merges_data() {
        let f = replay(None, None, events(), Until::Head, OnFailure::Stop).unwrap();
        assert_eq!((f.state(), f.version()), (&json!({"b": 2}), 3));
        let f = replay(None, None, events(), Until::Version(2), OnFailure::Stop).unwrap();
        assert_eq!(f.state(), &json!({"a": 1, "b": 2}));
        let t = AsOf::parse("as_of", "2024-05-01T12:07:00Z").unwrap();
        let f = replay(None, None, events(), Until::Time(t), OnFailure::Stop).unwrap();
        assert_eq!(f.version(), 2);
    }

    #[test]
    fn snapshots_skip_what_they_cover() {
        let f = replay(
            None,
            Some((json!({"a": 1, "b": 2}), 2)),
            events(),
            Until::Head,
            OnFailure::Stop,
        )
        .unwrap();
        assert_eq!(f.state(), &json!({"b": 2}));
    }

    #[test]
    fn gaps_are_errors() {
        let gap = vec![
            ev(1, "A", json!({}), "2024-05-01T12:00:00Z"),
            ev(3, "A", json!({}), "2024-05-01T12:00:00Z"),
        ];
        let e = replay(None, None, gap, Until::Head, OnFailure::Stop).unwrap_err();
        assert_eq!(e.field(), "events");
    }

    #[test]
    fn skip_keeps_the_state_before_a_failed_step() {
        let r = Reducer::parse(
            &json!({"on": {"A": [{"op": "increment", "path": "/n", "from": "/data/a"}]},
                                       "unknown_event_types": "merge"}),
        )
        .unwrap();
        let f = replay(Some(&r), None, events(), Until::Head, OnFailure::Skip).unwrap();
        // version 3 increments by null: a failure, skipped
        assert_eq!(f.state(), &json!({"n": 1, "b": 2}));
        assert_eq!(f.failures().len(), 1);
        assert!(replay(Some(&r), None, events(), Until::Head, OnFailure::Stop).is_err());
    }
}

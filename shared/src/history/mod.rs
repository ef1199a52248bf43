//! Time travel: a stream's events parsed and folded once, so the state at any
//! version is cheap to answer while a slider moves.
//!
//! Every event is kept as its JSON text (a fraction of the memory of parsed
//! values: a million-event stream stays in reach), and the state is kept at
//! every `every`-th version (a checkpoint). `stateAt(v)` starts from the
//! checkpoint at or below `v` — or from one of the last two answers, when the
//! slider moves forward a little — and folds at most `every - 1` events. When the
//! checkpoints grow past a memory budget (states that grow with the stream),
//! every other one is dropped and `every` doubles.
//!
//! Like Redux DevTools, one failing step does not break the rest: a reducer
//! error leaves the state as it was before that event and is recorded
//! (`failures()`); so is an event whose data does not match its type's schema
//! (the fold still applies it, as the database's replay does).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::export::{self, parse_schemas};
use crate::lifecycle::check_kept;
use crate::reducer::Reducer;
use crate::replay::{Folder, OnFailure};
use crate::schema::{check_event, EventTypeSchemas};
use crate::time::AsOf;
use crate::upcast::{parse_all, Upcasters};
use crate::{canonical, diff};

mod search;
mod series;
mod what_if;

pub use what_if::WhatIf;

/// Checkpoint spacing to start with, and the budget for checkpoint states
/// (bytes of their JSON text).
const FIRST_EVERY: u64 = 256;
const CHECKPOINT_BUDGET: usize = 64 << 20;

/// An event as the history keeps it.
struct Stored {
    /// The envelope as JSON text (timestamps in canonical form).
    text: Box<str>,
    /// Index into `History::types`.
    event_type: u32,
    recorded_at: Option<Box<str>>,
}

/// A step the replay marked (`kind`: `reducer`, `validation`).
#[derive(Debug, Clone)]
pub struct Failure {
    pub version: u64,
    pub kind: &'static str,
    pub error: Error,
}

/// What a fold of the history reads: borrowed apart from the stored events,
/// so events can be added while a fold runs.
struct Rules<'h> {
    reducer: Option<&'h Reducer>,
    /// The version before the first stored event.
    base: u64,
    upcasters: &'h Upcasters,
    needs: &'h BTreeSet<String>,
}

impl Rules<'_> {
    /// A fold that stops at a failing step (the caller decides what then).
    fn folder(&self, state: Value, version: u64) -> Folder<'_> {
        Folder::new(self.reducer, Some((state, version)), OnFailure::Stop)
            .with_upcasters(self.upcasters)
    }

    fn event(&self, stored: &Stored) -> Result<Event> {
        self.event_text(&stored.text)
    }

    fn event_text(&self, text: &str) -> Result<Event> {
        Event::from_text(text, Some(self.needs))
    }

    /// `state` (after version `from`) with the stored events `from + 1 ..= to`
    /// applied, the steps known to fail skipped. The state is changed in
    /// place; only a known failing step costs a copy.
    fn refold(
        &self,
        events: &[Stored],
        failures: &[Failure],
        state: Value,
        from: u64,
        to: u64,
    ) -> Result<Value> {
        self.refold_each(events, failures, state, from, to, |_, _| {})
    }

    /// [`Rules::refold`], showing `each` the state after every version.
    fn refold_each(
        &self,
        events: &[Stored],
        failures: &[Failure],
        state: Value,
        from: u64,
        to: u64,
        mut each: impl FnMut(u64, &Value),
    ) -> Result<Value> {
        let mut folder = self.folder(state, from);
        for v in from + 1..=to {
            let event = self.event(&events[(v - self.base) as usize - 1])?;
            if is_skipped(failures, v) {
                let before = folder.state().clone();
                let _ = folder.step(event); // fails again; the state before it stays
                folder = self.folder(before, v);
            } else {
                folder.step(event)?;
            }
            each(v, folder.state());
        }
        Ok(folder.into_state())
    }
}

/// Whether the replay skips version `v` (its reducer step failed).
fn is_skipped(failures: &[Failure], v: u64) -> bool {
    let i = failures.partition_point(|f| f.version < v);
    failures[i..]
        .iter()
        .take_while(|f| f.version == v)
        .any(|f| f.kind == "reducer")
}

/// The events of one stream, folded once.
pub struct History {
    reducer: Option<Reducer>,
    /// The definition texts, for `exportText`.
    reducer_definition: Value,
    upcasters_definition: Value,
    schemas_definition: Value,
    upcasters: Upcasters,
    schemas: BTreeMap<String, EventTypeSchemas>,
    /// The envelope members the reducer reads (the others are not parsed).
    needs: BTreeSet<String>,
    header: Option<Value>,
    /// The version before the first stored event: 0, or the base of an
    /// export whose stream's first events were removed (`truncate_stream`,
    /// retention), whose state `checkpoints[0]` holds.
    base: u64,
    events: Vec<Stored>,
    /// Event types in order of first appearance, with their counts.
    types: Vec<(String, u64)>,
    type_ids: HashMap<String, u32>,
    every: u64,
    /// `checkpoints[k]`: the state after version `base + k * every`, and
    /// its size.
    checkpoints: Vec<(Value, usize)>,
    /// The state after the last event.
    head_state: Value,
    failures: Vec<Failure>,
    /// The last two states answered (newest first): a slider that moves on
    /// continues from one, and a diff needs the one before.
    recent: [Option<(u64, Value)>; 2],
    /// The last answer of [`History::state_without`], for the same skipped
    /// versions a little further on.
    what_if_recent: Option<what_if::Recent>,
}

impl History {
    /// An empty history: `reducer` is a definition or `null` (the default
    /// merge), `upcasters` `{"EventType": {"1": [steps]}}`, `schemas`
    /// `{"EventType": {"1": schema}}`, `header` the export header it came
    /// from, if any.
    pub fn new(
        reducer: Value,
        upcasters: Value,
        schemas: Value,
        header: Option<Value>,
    ) -> Result<History> {
        let reducer_definition = reducer;
        let reducer = match &reducer_definition {
            Value::Null => None,
            d => Some(Reducer::parse(d)?),
        };
        let upcasters_definition = if upcasters.is_null() {
            json!({})
        } else {
            upcasters
        };
        let schemas_definition = if schemas.is_null() {
            json!({})
        } else {
            schemas
        };
        let upcasters = parse_all(&upcasters_definition)?;
        let schemas = parse_schemas(&schemas_definition)?;
        let needs = reducer.as_ref().map_or_else(
            || BTreeSet::from(["data".to_string()]),
            Reducer::envelope_fields,
        );
        let initial = Folder::new(reducer.as_ref(), None, OnFailure::Skip).into_state();
        let size = canonical::to_string(&initial).len();
        Ok(History {
            reducer,
            reducer_definition,
            upcasters_definition,
            schemas_definition,
            upcasters,
            schemas,
            needs,
            header,
            base: 0,
            events: Vec::new(),
            types: Vec::new(),
            type_ids: HashMap::new(),
            every: FIRST_EVERY,
            checkpoints: vec![(initial.clone(), size)],
            head_state: initial,
            failures: Vec::new(),
            recent: [None, None],
            what_if_recent: None,
        })
    }

    /// The history of an NDJSON export (its reducer, upcasters and schemas),
    /// which must start at version 1, or just after its base when the
    /// stream's first events were removed (the history then starts from the
    /// base's state, as `chronicle.state_at` does). It may be the first part
    /// of one (a page, or the first lines of a big file): [`History::extend`]
    /// adds the rest, and [`History::check_complete`] says whether all
    /// arrived.
    pub fn from_export(text: &str) -> Result<History> {
        let (header, rest) = export::split(text)?;
        let base = export::check_start(&header)?;
        let member = |k: &str| header.get(k).cloned().unwrap_or(Value::Null);
        let mut h = History::new(
            member("reducer"),
            member("upcasters"),
            member("schemas"),
            None,
        )?;
        if let Some((version, state)) = base {
            h.start_at(version, state);
        }
        h.extend(rest)?;
        h.header = Some(header);
        Ok(h)
    }

    /// Starts an empty history at a base: the state after `version` (None:
    /// the reducer's initial state), whose events are not there.
    fn start_at(&mut self, version: u64, state: Option<Value>) {
        self.base = version;
        if let Some(state) = state {
            let size = canonical::to_string(&state).len();
            self.checkpoints = vec![(state.clone(), size)];
            self.head_state = state;
        }
    }

    /// The version before the first event held: 0, or the base of a stream
    /// whose first events were removed.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The stream's id, from its export header (a history with a base has
    /// one).
    fn stream_id(&self) -> &str {
        let header = self.header.as_ref();
        header
            .and_then(|h| h.get("stream_id")?.as_str())
            .unwrap_or("")
    }

    /// Checks that the history holds every event its export header
    /// promises (up to its `to_version`): a file cut short is an error.
    pub fn check_complete(&self) -> Result<()> {
        let promised = self
            .header
            .as_ref()
            .and_then(|h| h.get("to_version")?.as_u64());
        match (&self.header, promised) {
            (Some(header), Some(to)) if to > self.head() => {
                export::check_count(header, self.head())
            }
            _ => Ok(()),
        }
    }

    /// The version of the last event (the base when there is none).
    pub fn head(&self) -> u64 {
        self.base + self.events.len() as u64
    }

    /// Folds more events, which must continue at `head() + 1`: a JSON array
    /// of events or NDJSON text (one event per line), in the shape
    /// `chronicle.read_stream` returns them. A bad event stops the fold with
    /// an error; the events before it stay (`head()` says how far it got).
    pub fn extend(&mut self, text: &str) -> Result<()> {
        let texts = export::event_texts("events", text)?;
        let History {
            reducer,
            upcasters,
            schemas,
            needs,
            base,
            events: stored,
            types,
            type_ids,
            every,
            checkpoints,
            head_state,
            failures,
            ..
        } = self;
        let base = *base;
        let rules = Rules {
            reducer: reducer.as_ref(),
            base,
            upcasters,
            needs,
        };
        let head = base + stored.len() as u64;
        let mut folder = rules.folder(std::mem::take(head_state), head);
        let mut outcome = Ok(());
        for (i, text) in texts.into_iter().enumerate() {
            let event = match export::at("events", i, rules.event_text(&text)) {
                Ok(e) => e,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            let version = event.version();
            if i == 0 && version != head + 1 {
                outcome = Err(Error::invalid(
                    "events",
                    format!("start at version {version} but the history ends at version {head}"),
                    "Pass the events that follow the last one loaded (from version 1 for a new \
                     history, from just after its base for a truncated stream's).",
                ));
                break;
            }
            // What is kept of the event once the step has taken it.
            let event_type = event.event_type().to_string();
            let recorded_at = event.recorded_at().map(Into::into);
            let invalid = check_event(
                schemas.get(&event_type),
                &event_type,
                event.schema_version(),
                "",
                event.data(),
            )
            .err();
            match folder.step(event) {
                Ok(()) => {}
                Err(error @ Error::ReplayFailed { .. }) => {
                    // Marked and skipped: the state is the one before this
                    // event, folded again from the last checkpoint (the
                    // failed step may have changed part of it).
                    failures.push(Failure {
                        version,
                        kind: "reducer",
                        error,
                    });
                    let k = ((version - 1 - base) / *every) as usize;
                    let state = rules.refold(
                        stored,
                        failures,
                        checkpoints[k].0.clone(),
                        base + k as u64 * *every,
                        version - 1,
                    );
                    match state {
                        Ok(state) => folder = rules.folder(state, version),
                        Err(e) => {
                            failures.pop();
                            outcome = Err(e);
                            break;
                        }
                    }
                }
                Err(e) => {
                    // A gap, or an event the upcasters cannot read: nothing
                    // of it was applied.
                    outcome = Err(e);
                    break;
                }
            }
            if let Some(error) = invalid {
                failures.push(Failure {
                    version,
                    kind: "validation",
                    error,
                });
            }
            let type_id = *type_ids.entry(event_type.clone()).or_insert_with(|| {
                types.push((event_type, 0));
                types.len() as u32 - 1
            });
            types[type_id as usize].1 += 1;
            stored.push(Stored {
                text: text.into_owned().into_boxed_str(),
                event_type: type_id,
                recorded_at,
            });
            if (version - base) % *every == 0 {
                let state = folder.state().clone();
                let size = canonical::to_string(&state).len();
                checkpoints.push((state, size));
                thin_out(checkpoints, every);
            }
        }
        *head_state = folder.into_state();
        outcome
    }

    /// Checks a version argument: base..=head (`None`: not an integer); a
    /// version before the base is history that was removed.
    pub fn check_version(&self, field: &'static str, version: Option<i64>) -> Result<u64> {
        let v = crate::stream::check_version(field, version, self.head())?;
        self.check_kept(field, v)?;
        Ok(v)
    }

    /// Refuses a version before the base, as `chronicle.state_at` does.
    fn check_kept(&self, field: &'static str, version: u64) -> Result<()> {
        let base = (self.base > 0).then_some(self.base);
        check_kept(self.stream_id(), base, version, field, || {
            version.to_string()
        })
    }

    /// Checks a version that must name an event: base + 1..=head.
    fn check_event_version(&self, field: &'static str, version: Option<i64>) -> Result<u64> {
        match self.check_version(field, version)? {
            0 => Err(Error::invalid(
                field,
                "must be at least 1: version 0 has no event",
                "Pass the version of an event.",
            )),
            v if v == self.base => Err(Error::invalid(
                field,
                "is the base of a stream whose events up to it were removed: it has no event",
                "Pass the version of an event after the base (History.base()).",
            )),
            v => Ok(v),
        }
    }

    /// The stored event at `version` (checked to be one).
    fn stored(&self, version: u64) -> &Stored {
        &self.events[(version - self.base) as usize - 1]
    }

    /// What a fold of this history reads.
    fn rules(&self) -> Rules<'_> {
        Rules {
            reducer: self.reducer.as_ref(),
            base: self.base,
            upcasters: &self.upcasters,
            needs: &self.needs,
        }
    }

    /// The state after `version` (0..=head).
    pub fn state(&mut self, version: u64) -> Result<Value> {
        let version = self.check_version("version", i64::try_from(version).ok())?;
        if version == self.head() {
            return Ok(self.head_state.clone());
        }
        let k = ((version - self.base) / self.every) as usize;
        let base = self.base + k as u64 * self.every;
        // The closest known state at or below `version`: a recent answer or
        // the checkpoint.
        let recent = self
            .recent
            .iter()
            .flatten()
            .filter(|(v, _)| *v <= version && *v >= base)
            .max_by_key(|(v, _)| *v);
        let (state, from) = match recent {
            Some((v, s)) if *v == version => return Ok(s.clone()),
            Some((v, s)) => (s.clone(), *v),
            None => (self.checkpoints[k].0.clone(), base),
        };
        let rules = self.rules();
        let state = rules.refold(&self.events, &self.failures, state, from, version)?;
        self.recent.swap(0, 1);
        self.recent[0] = Some((version, state.clone()));
        Ok(state)
    }

    /// The RFC 6902 patch from the state before `version` to the state after it.
    pub fn diff_at(&mut self, version: u64) -> Result<Value> {
        let after = self.state(version)?;
        if version == 0 {
            return Ok(json!([]));
        }
        let before = self.state(version - 1)?;
        Ok(diff::diff(&before, &after))
    }

    /// The envelope of the event at `version` (1..=head).
    pub fn event(&self, field: &'static str, version: Option<i64>) -> Result<Event> {
        let v = self.check_event_version(field, version)?;
        Event::from_text(&self.stored(v).text, None)
    }

    /// The event type of the event at `version` (1..=head).
    pub fn event_type(&self, field: &'static str, version: Option<i64>) -> Result<&str> {
        let v = self.check_event_version(field, version)?;
        Ok(&self.types[self.stored(v).event_type as usize].0)
    }

    /// `recorded_at` of the event at `version` (1..=head), if it has one.
    pub fn recorded_at(&self, field: &'static str, version: Option<i64>) -> Result<Option<&str>> {
        let v = self.check_event_version(field, version)?;
        Ok(self.stored(v).recorded_at.as_deref())
    }

    /// The marked steps, in version order.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// The first marked step at `version`.
    pub fn failure_at(&self, version: u64) -> Option<&Failure> {
        let i = self.failures.partition_point(|f| f.version < version);
        self.failures.get(i).filter(|f| f.version == version)
    }

    /// The event types of the loaded events with their counts, in order of
    /// first appearance.
    pub fn event_types(&self) -> Vec<(&str, u64)> {
        self.types.iter().map(|(t, n)| (t.as_str(), *n)).collect()
    }

    /// The versions whose event type is one of `types` (ascending).
    pub fn versions_of(&self, types: &[String]) -> Vec<u32> {
        let wanted: Vec<u32> = types
            .iter()
            .filter_map(|t| self.type_ids.get(t).copied())
            .collect();
        self.events
            .iter()
            .enumerate()
            .filter(|(_, e)| wanted.contains(&e.event_type))
            .map(|(i, _)| (self.base + i as u64) as u32 + 1)
            .collect()
    }

    /// The version the stream was at `time`: the version before the first
    /// event recorded after it (as `chronicle.state_at(as_of => ...)`). A
    /// time before the first event held of a stream whose first events were
    /// removed is history that was removed (an export does not say when the
    /// base's event was recorded, so this refuses a little more than
    /// `state_at`, which knows).
    pub fn version_at(&self, field: &'static str, time: &str) -> Result<u64> {
        let first_after = AsOf::parse(field, time)?
            .first_after(self.events.iter().map(|e| e.recorded_at.as_deref()))?;
        match first_after {
            None => Ok(self.head()),
            Some(1) if self.base > 0 => {
                check_kept(self.stream_id(), Some(self.base), 0, field, || {
                    time.to_string()
                })
                .map(|()| self.base)
            }
            Some(first) => Ok(self.base + first - 1),
        }
    }

    /// The export header this history was loaded from.
    pub fn header(&self) -> Option<&Value> {
        self.header.as_ref()
    }

    /// The loaded events as an NDJSON export: the loaded header brought up
    /// to date (or one made from the events, stamped `exported_at`), then
    /// one event per line.
    pub fn export_text(&self, exported_at: &str, chronicle_version: &str) -> String {
        let mut header = self.header.clone().unwrap_or_else(|| {
            let first: Value = self
                .events
                .first()
                .and_then(|e| serde_json::from_str(&e.text).ok())
                .unwrap_or(Value::Null);
            let text = |k: &str| {
                first
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            export::Header {
                stream_id: &text("stream_id"),
                stream_type: &text("stream_type"),
                version: self.head(),
                from_version: 1,
                to_version: self.head(),
                reducer: &self.reducer_definition,
                reducer_revision: 0,
                upcasters: &self.upcasters_definition,
                schemas: &self.schemas_definition,
                exported_at,
                chronicle_version,
                base: None,
            }
            .to_json()
        });
        header["version"] = Value::from(self.head());
        header["from_version"] = Value::from(self.base + 1);
        header["to_version"] = Value::from(self.head());
        let mut out = header.to_string();
        out.push('\n');
        for e in &self.events {
            out.push_str(&e.text);
            out.push('\n');
        }
        out
    }
}

impl Failure {
    /// `{version, kind, code, name, field, message, detail, hint}`: the
    /// error's JSON ([`Error::to_json`]) with the step it marks.
    pub fn to_json(&self) -> Value {
        let mut j = self.error.to_json();
        j["version"] = json!(self.version);
        j["kind"] = json!(self.kind);
        j
    }
}

/// Drops every other checkpoint while they exceed the budget.
fn thin_out(checkpoints: &mut Vec<(Value, usize)>, every: &mut u64) {
    while checkpoints.len() > 2
        && checkpoints.iter().map(|c| c.1).sum::<usize>() > CHECKPOINT_BUDGET
    {
        let mut i = 0;
        checkpoints.retain(|_| {
            i += 1;
            i % 2 == 1
        });
        *every *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{replay, Until};

    fn event(v: u64) -> Value {
        let ty = if v.is_multiple_of(7) { "Bad" } else { "Add" };
        json!({"version": v, "event_type": ty, "data": {"n": v},
               "recorded_at": format!("2024-05-01T12:00:{:02}Z", v % 60)})
    }

    /// Versions `from..=to` as NDJSON.
    fn lines(from: u64, to: u64) -> String {
        (from..=to).map(|v| event(v).to_string() + "\n").collect()
    }

    fn reducer() -> Value {
        // "Bad" sets a member, then increments by a string: a failing step
        // that has changed part of the state when it fails.
        json!({"on": {"Add": [{"op": "increment", "path": "/sum", "from": "/data/n"},
                              {"op": "set", "path": "/last", "from": "/version"}],
                      "Bad": [{"op": "set", "path": "/bad_seen", "from": "/version"},
                              {"op": "increment", "path": "/sum", "from": "/event_type"}]}})
    }

    #[test]
    fn every_version_is_the_replay_of_its_prefix() {
        let all: Vec<Event> = (1..=700)
            .map(|v| Event::from_json(event(v)).unwrap())
            .collect();
        let mut h = History::new(reducer(), Value::Null, Value::Null, None).unwrap();
        h.extend(&lines(1, 300)).unwrap();
        h.extend(&Value::Array((301..=700).map(event).collect()).to_string())
            .unwrap();
        assert_eq!(h.head(), 700);
        let r = Reducer::parse(&reducer()).unwrap();
        // backwards, forwards, across checkpoints, repeated
        for v in [700, 0, 1, 255, 256, 257, 513, 512, 699, 3, 3, 700] {
            let want = replay(
                Some(&r),
                None,
                all.iter().cloned().map(Ok),
                Until::Version(v),
                OnFailure::Skip,
            )
            .unwrap();
            assert_eq!(h.state(v).unwrap(), *want.state(), "version {v}");
        }
        assert_eq!(h.failures().len(), 100);
        assert_eq!(h.failure_at(7).unwrap().kind, "reducer");
        assert!(h.failure_at(8).is_none());
        assert_eq!(
            h.diff_at(2).unwrap(),
            json!([{"op": "replace", "path": "/last", "value": 2},
            {"op": "replace", "path": "/sum", "value": 3}])
        );
        assert_eq!(h.versions_of(&["Bad".into()]).len(), 100);
        assert_eq!(h.event_types(), vec![("Add", 600), ("Bad", 100)]);
        assert_eq!(h.version_at("t", "2024-05-01T12:00:05Z").unwrap(), 5);
    }

    #[test]
    fn refuses_gaps_and_versions_beyond_the_head() {
        let mut h = History::new(Value::Null, Value::Null, Value::Null, None).unwrap();
        let e = h.extend(&lines(2, 3)).unwrap_err();
        assert_eq!(e.field(), "events");
        assert_eq!(
            h.extend("{\"version\": 1}").unwrap_err().field(),
            "events[0].event_type"
        );
        h.extend(&lines(1, 3)).unwrap();
        assert_eq!(
            h.check_version("version", Some(4)).unwrap_err().sqlstate(),
            "22023"
        );
        assert_eq!(
            h.check_version("version", None).unwrap_err().field(),
            "version"
        );
        assert!(h.event("version", Some(0)).is_err());
        assert_eq!(h.state(3).unwrap(), json!({"n": 3}));
    }

    #[test]
    fn a_bad_line_stops_the_fold_and_keeps_what_came_before() {
        let counter = json!({"initial": {"count": 0},
                             "on": {"Add": [{"op": "increment", "path": "/count"}]}});
        let mut h = History::new(counter, Value::Null, Value::Null, None).unwrap();
        h.extend(&lines(1, 1)).unwrap();
        let bad = format!(
            "{}{{\"version\": 3, \"event_type\": \"Add\", \"data\": \"x\"}}\n",
            lines(2, 2)
        );
        assert_eq!(h.extend(&bad).unwrap_err().field(), "events[1].data");
        assert_eq!(h.head(), 2);
        assert_eq!(h.state(2).unwrap(), json!({"count": 2}));
        h.extend(&lines(3, 3)).unwrap();
        assert_eq!(h.state(3).unwrap(), json!({"count": 3}));
        assert_eq!(h.state(4).unwrap_err().field(), "version");
        assert_eq!(h.diff_at(4).unwrap_err().field(), "version");
    }

    #[test]
    fn an_export_cut_short_or_starting_later_is_refused() {
        let mut h = History::new(Value::Null, Value::Null, Value::Null, None).unwrap();
        h.extend(&lines(1, 5)).unwrap();
        let text = h.export_text("2026-11-22T00:00:00Z", "0.2.0");
        let cut: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
        let first_part = History::from_export(&cut).unwrap();
        assert_eq!(first_part.check_complete().unwrap_err().field(), "events");
        assert!(History::from_export(&text)
            .unwrap()
            .check_complete()
            .is_ok());
        assert_eq!(export::parse(&cut).err().unwrap().field(), "events");
        let later = text.replacen("\"from_version\":1", "\"from_version\":2", 1);
        assert_eq!(
            History::from_export(&later).err().unwrap().field(),
            "export.header"
        );
    }

    #[test]
    fn an_export_round_trips() {
        let mut h = History::new(reducer(), Value::Null, Value::Null, None).unwrap();
        h.extend(&lines(1, 20)).unwrap();
        let text = h.export_text("2026-11-22T00:00:00Z", "0.2.0");
        let mut back = History::from_export(&text).unwrap();
        assert_eq!(back.head(), 20);
        assert_eq!(back.state(20).unwrap(), h.state(20).unwrap());
        assert_eq!(back.export_text("later", "0.2.0"), text);
    }

    #[test]
    fn a_truncated_streams_export_folds_from_its_base() {
        // The whole stream, and its export cut before version 301 with the
        // state at 300 as base: every kept version answers the same.
        let mut whole = History::new(reducer(), Value::Null, Value::Null, None).unwrap();
        whole.extend(&lines(1, 900)).unwrap();
        let state = whole.state(300).unwrap();
        let header = export::Header {
            stream_id: "meter-1",
            stream_type: "Meter",
            version: 900,
            from_version: 301,
            to_version: 900,
            reducer: &reducer(),
            reducer_revision: 1,
            upcasters: &json!({}),
            schemas: &json!({}),
            exported_at: "2026-12-04T00:00:00Z",
            chronicle_version: "0.6.0",
            base: Some((300, Some(&state))),
        }
        .to_json();
        let text = format!("{header}\n{}", lines(301, 900));
        let mut cut = History::from_export(&text).unwrap();
        assert_eq!((cut.base(), cut.head()), (300, 900));
        cut.check_complete().unwrap();
        for v in [900, 300, 301, 555, 556, 557, 811, 812, 899, 350, 301, 900] {
            assert_eq!(
                cut.state(v).unwrap(),
                whole.state(v).unwrap(),
                "version {v}"
            );
        }
        assert_eq!(cut.diff_at(301).unwrap(), whole.diff_at(301).unwrap());
        assert_eq!(cut.event("v", Some(301)).unwrap().version(), 301);
        assert_eq!(cut.event_type("v", Some(301)).unwrap(), "Bad");
        assert_eq!(
            cut.versions_of(&["Bad".into()])[..2],
            [301, 308],
            "versions count from the base"
        );
        assert_eq!(cut.failures().len(), whole.failures().len() - 42);
        // Before the base: history removed (55Z02), as in the database; the
        // base itself is a state without an event.
        let e = cut.state(299).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("55Z02", "version"));
        assert!(e.message().contains("meter-1"), "{}", e.message());
        assert_eq!(cut.diff_at(300).unwrap_err().sqlstate(), "55Z02");
        assert_eq!(cut.event("v", Some(300)).unwrap_err().sqlstate(), "22023");
        assert_eq!(cut.event("v", Some(3)).unwrap_err().sqlstate(), "55Z02");
        // A time before the first event held is before what was kept.
        assert_eq!(
            cut.version_at("t", "2024-05-01T12:00:00.5Z")
                .unwrap_err()
                .sqlstate(),
            "55Z02"
        );
        // Events after the head continue it; an export of the history keeps
        // its base.
        cut.extend(&lines(901, 901)).unwrap();
        assert_eq!(cut.state(901).unwrap(), {
            whole.extend(&lines(901, 901)).unwrap();
            whole.state(901).unwrap()
        });
        let again = cut.export_text("later", "0.6.0");
        let back = History::from_export(&again).unwrap();
        assert_eq!((back.base(), back.head()), (300, 901));
        // Without its base, an export from 301 is refused.
        let no_base = text.replacen("\"base\"", "\"based\"", 1);
        assert_eq!(
            History::from_export(&no_base).err().unwrap().field(),
            "export.header"
        );
    }

    #[test]
    fn data_that_breaks_a_schema_is_marked_and_still_folded() {
        let schemas =
            json!({"Add": {"1": {"type": "object", "properties": {"n": {"maximum": 2}}}}});
        let mut h = History::new(Value::Null, Value::Null, schemas, None).unwrap();
        h.extend(&lines(1, 3)).unwrap();
        let f = h.failure_at(3).unwrap();
        assert_eq!(
            (f.kind, f.error.sqlstate(), f.error.field()),
            ("validation", "23514", "data.n")
        );
        assert_eq!(h.state(3).unwrap(), json!({"n": 3}));
    }
}

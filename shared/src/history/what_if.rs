//! "What if it had not happened": the state of a history with some of its
//! events left out, like toggling an action off in Redux DevTools. It is
//! computed from the loaded events and never written anywhere: the stream
//! keeps every event.
//!
//! The replay starts from the checkpoint before the first skipped event and
//! folds on with the skipped ones passed over. A step that fails (the
//! events skipped can make a later step fail, or one that failed succeed)
//! leaves the state before it, as the history's own marked steps do; the
//! answer says which steps failed. For the same events skipped, the states
//! folded are kept every 1,024 versions (and the last answer), so a slider
//! moving either way folds only the events in between.

use std::collections::BTreeMap;

use serde_json::Value;

use super::History;
use crate::error::Result;
use crate::replay::{Folder, OnFailure};

/// A state as if some events had not happened.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    /// The state after the version asked for.
    pub state: Value,
    /// The versions after the first skipped one whose step failed in this
    /// replay (ascending); the steps before it are the history's own.
    pub failed: Vec<u64>,
}

/// The what-if states folded so far for one set of skipped events: a
/// checkpoint every [`SPACING`] versions and the furthest version reached,
/// so a slider moving either way folds at most `SPACING` events.
pub(super) struct Recent {
    skipped: Vec<u64>,
    /// States by version: the start (the history's checkpoint before the
    /// first skipped event), every `SPACING`-th version, the last answer.
    states: BTreeMap<u64, Value>,
    /// The furthest version folded.
    reached: u64,
    /// The versions after the first skipped one whose step failed, up to
    /// `reached`.
    failed: Vec<u64>,
}

/// Versions between the what-if checkpoints.
const SPACING: u64 = 1024;

impl History {
    /// The state after `version` had the events at the `skipped` versions
    /// not happened (each must be the version of a loaded event: 22023
    /// naming `skipped` otherwise). Skipped versions after `version` change
    /// nothing; with none before it, this is [`History::state`].
    pub fn state_without(&mut self, version: u64, skipped: &[i64]) -> Result<WhatIf> {
        let version = self.check_version("version", i64::try_from(version).ok())?;
        let mut sorted = Vec::with_capacity(skipped.len());
        for &v in skipped {
            sorted.push(self.check_event_version("skipped", Some(v))?);
        }
        sorted.sort_unstable();
        sorted.dedup();
        let Some(&first) = sorted.first().filter(|&&f| f <= version) else {
            return Ok(WhatIf {
                state: self.state(version)?,
                failed: Vec::new(),
            });
        };
        let mut recent = match self.what_if_recent.take() {
            Some(r) if r.skipped == sorted => r,
            _ => {
                let k = ((first - 1 - self.base) / self.every) as usize;
                let start = self.base + k as u64 * self.every;
                Recent {
                    skipped: sorted,
                    states: BTreeMap::from([(start, self.checkpoints[k].0.clone())]),
                    reached: start,
                    failed: Vec::new(),
                }
            }
        };
        let answer = self.fold_without(&mut recent, first, version);
        // Kept even after an error: what it holds was folded right.
        self.what_if_recent = Some(recent);
        answer
    }

    /// Folds `recent`'s what-if from its closest state at or below
    /// `version` up to it, recording checkpoints and failures past its
    /// furthest version.
    fn fold_without(&self, recent: &mut Recent, first: u64, version: u64) -> Result<WhatIf> {
        let (&from, state) = recent
            .states
            .range(..=version)
            .next_back()
            .expect("the start state lies before the first skipped event");
        let rules = self.rules();
        let mut folder = Folder::new(rules.reducer, Some((state.clone(), from)), OnFailure::Skip)
            .with_upcasters(rules.upcasters);
        for v in from + 1..=version {
            if recent.skipped.binary_search(&v).is_ok() {
                folder.pass(v)?;
            } else {
                let failures = folder.failures().len();
                folder.step(rules.event(&self.events[(v - self.base) as usize - 1])?)?;
                if folder.failures().len() > failures && v > first && v > recent.reached {
                    recent.failed.push(v);
                }
            }
            if v > recent.reached {
                recent.reached = v;
                if v % SPACING == 0 {
                    recent.states.insert(v, folder.state().clone());
                }
            }
        }
        let state = folder.into_state();
        // The last answer replaces the one before (unless that one is a
        // checkpoint): the next step continues from it.
        let start = *recent
            .states
            .keys()
            .next()
            .expect("a what-if has its start");
        recent.states.retain(|&v, _| v == start || v % SPACING == 0);
        recent.states.insert(version, state.clone());
        let upto = recent.failed.partition_point(|&v| v <= version);
        Ok(WhatIf {
            state,
            failed: recent.failed[..upto].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::History;
    use crate::event::Event;
    use crate::reducer::Reducer;
    use crate::replay::{replay, OnFailure, Until};

    fn reducer() -> serde_json::Value {
        // "Bad" fails while /sum is below 100 (it takes a string from the
        // event): skipping an earlier event can change whether it fails.
        json!({"on": {"Add": [{"op": "increment", "path": "/sum", "from": "/data/n"}],
                      "Bad": [{"op": "increment", "path": "/sum", "from": "/event_type"}]}})
    }

    fn event(v: u64) -> serde_json::Value {
        let ty = if v.is_multiple_of(50) { "Bad" } else { "Add" };
        json!({"version": v, "event_type": ty, "data": {"n": v}})
    }

    fn history(n: u64) -> History {
        let mut h = History::new(reducer(), json!(null), json!(null), None).unwrap();
        let text: String = (1..=n).map(|v| event(v).to_string() + "\n").collect();
        h.extend(&text).unwrap();
        h
    }

    /// The replay of the events but the skipped ones, renumbered (what the
    /// stream would have been without them).
    fn expected(version: u64, skipped: &[i64]) -> serde_json::Value {
        let r = Reducer::parse(&reducer()).unwrap();
        let kept = (1..=version).filter(|v| !skipped.contains(&(*v as i64)));
        let events = kept.enumerate().map(|(i, v)| {
            let mut e = event(v);
            e["version"] = json!(i as u64 + 1);
            Event::from_json(e)
        });
        replay(Some(&r), None, events, Until::Head, OnFailure::Skip)
            .unwrap()
            .state()
            .clone()
    }

    #[test]
    fn the_state_is_the_replay_without_the_skipped_events() {
        let mut h = history(1000);
        for (version, skipped) in [
            (1000, vec![3]),
            (10, vec![3]),
            (2, vec![3]),
            (600, vec![300, 3, 999]),
            (999, vec![300, 3, 999]),
            (1000, vec![999, 300, 3]),
            (700, vec![513]),
            (800, vec![513]),
            (0, vec![1]),
            (1000, vec![]),
        ] {
            let got = h.state_without(version, &skipped).unwrap();
            assert_eq!(
                got.state,
                expected(version, &skipped),
                "{version} without {skipped:?}"
            );
        }
        // Nothing is stored: the history's own states are unchanged.
        assert_eq!(h.state(1000).unwrap(), expected(1000, &[]));
    }

    #[test]
    fn moving_back_and_forth_across_the_what_if_checkpoints() {
        let mut h = history(5000);
        let skipped = [7, 2049, 4500];
        for version in [
            4999, 1023, 1024, 1025, 3000, 2048, 2049, 2050, 5000, 10, 4500, 4501,
        ] {
            let got = h.state_without(version, &skipped).unwrap();
            assert_eq!(got.state, expected(version, &skipped), "{version}");
            let failed: Vec<u64> = (8..=version)
                .filter(|v| v % 50 == 0 && !skipped.contains(&(*v as i64)))
                .collect();
            assert_eq!(got.failed, failed, "failures up to {version}");
        }
    }

    #[test]
    fn says_which_steps_fail_without_the_skipped_events() {
        let mut h = history(200);
        // /sum is a number throughout: every Bad step fails, in the
        // history and without event 3 alike.
        let got = h.state_without(200, &[3]).unwrap();
        assert_eq!(got.failed, vec![50, 100, 150, 200]);
        assert_eq!(h.failures().len(), 4);
        // Skipping a failing step: it is not one that failed.
        assert_eq!(h.state_without(200, &[100]).unwrap().failed, vec![150, 200]);
    }

    #[test]
    fn refuses_versions_without_an_event() {
        let mut h = history(10);
        for bad in [0, 11, -1] {
            let e = h.state_without(10, &[bad]).unwrap_err();
            assert_eq!(e.field(), "skipped", "{bad}: {e}");
        }
        assert_eq!(h.state_without(11, &[1]).unwrap_err().field(), "version");
    }
}

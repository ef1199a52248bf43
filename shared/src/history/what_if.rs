//! "What if it had not happened": the state of a history with some of its
//! events left out, like toggling an action off in Redux DevTools. It is
//! computed from the loaded events and never written anywhere: the stream
//! keeps every event.
//!
//! The replay starts from the checkpoint before the first skipped event and
//! folds on with the skipped ones passed over. A step that fails (the
//! events skipped can make a later step fail, or one that failed succeed)
//! leaves the state before it, as the history's own marked steps do; the
//! answer says which steps failed. The last answer is kept, so a slider
//! moving forward with the same events skipped folds only the events in
//! between.

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

/// The last answer, with what it was asked for.
pub(super) struct Recent {
    skipped: Vec<u64>,
    version: u64,
    answer: WhatIf,
}

impl History {
    /// The state after `version` had the events at the `skipped` versions
    /// not happened (each must be the version of a loaded event: 22023
    /// naming `skipped` otherwise). Skipped
    /// versions after `version` change nothing; with none before it, this
    /// is [`History::state`].
    pub fn state_without(&mut self, version: u64, skipped: &[i64]) -> Result<WhatIf> {
        let version = self.check_version("version", i64::try_from(version).ok())?;
        let mut skipped_all = Vec::with_capacity(skipped.len());
        for &v in skipped {
            skipped_all.push(self.check_event_version("skipped", Some(v))?);
        }
        skipped_all.sort_unstable();
        skipped_all.dedup();
        let Some(&first) = skipped_all.first().filter(|&&f| f <= version) else {
            return Ok(WhatIf {
                state: self.state(version)?,
                failed: Vec::new(),
            });
        };
        // The skipped versions up to `version` decide the answer.
        let skipped = &skipped_all[..skipped_all.partition_point(|&v| v <= version)];

        let (state, from, mut failed) = match &self.what_if_recent {
            Some(r) if r.skipped == skipped && r.version <= version => {
                (r.answer.state.clone(), r.version, r.answer.failed.clone())
            }
            _ => {
                let k = ((first - 1 - self.base) / self.every) as usize;
                (
                    self.checkpoints[k].0.clone(),
                    self.base + k as u64 * self.every,
                    Vec::new(),
                )
            }
        };
        let rules = self.rules();
        let mut folder = Folder::new(rules.reducer, Some((state, from)), OnFailure::Skip)
            .with_upcasters(rules.upcasters);
        for v in from + 1..=version {
            if skipped.binary_search(&v).is_ok() {
                folder.pass(v)?;
                continue;
            }
            let failures = folder.failures().len();
            folder.step(rules.event(&self.events[(v - self.base) as usize - 1])?)?;
            if folder.failures().len() > failures && v > first {
                failed.push(v);
            }
        }
        let answer = WhatIf {
            state: folder.into_state(),
            failed,
        };
        self.what_if_recent = Some(Recent {
            skipped: skipped.to_vec(),
            version,
            answer: answer.clone(),
        });
        Ok(answer)
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

//! A member of the state over versions: the numbers a chart of it draws
//! (an account's balance across every event of its stream).

use serde_json::Value;

use super::History;
use crate::error::Result;
use crate::pointer;

impl History {
    /// The value of the state's member at `member` (a JSON pointer, e.g.
    /// `/balance`) after every version `from..=to`: `None` where the state
    /// has no such member or it is not a number. One fold from the
    /// checkpoint at or below `from`.
    pub fn series(&mut self, member: &str, from: u64, to: u64) -> Result<Vec<Option<f64>>> {
        pointer::check_argument("member", member)?;
        let from = self.check_version("from_version", i64::try_from(from).ok())?;
        let to = self.check_version("to_version", i64::try_from(to).ok())?;
        if to < from {
            return Ok(Vec::new());
        }
        let number = |state: &Value| state.pointer(member).and_then(Value::as_f64);
        // From the checkpoint at or below `from` (the answers the slider
        // keeps are left as they are).
        let k = ((from - self.base) / self.every) as usize;
        let (start, start_version) = (
            self.checkpoints[k].0.clone(),
            self.base + k as u64 * self.every,
        );
        let mut values = Vec::with_capacity((to - from + 1) as usize);
        if start_version == from {
            values.push(number(&start));
        }
        let rules = self.rules();
        rules.refold_each(
            &self.events,
            &self.failures,
            start,
            start_version,
            to,
            |v, state| {
                if v >= from {
                    values.push(number(state));
                }
            },
        )?;
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::History;

    #[test]
    fn a_member_at_every_version() {
        let reducer = json!({"on": {
            "Deposited": [{"op": "increment", "path": "/balance", "from": "/data/amount"}],
            "Renamed": [{"op": "set", "path": "/balance", "from": "/data/name"}]}});
        let mut h = History::new(reducer, json!(null), json!(null), None).unwrap();
        let mut text = String::new();
        for v in 1..=600u64 {
            let (ty, data) = if v == 599 {
                ("Renamed", json!({"name": "not a number"}))
            } else {
                ("Deposited", json!({"amount": 0.5}))
            };
            text += &json!({"version": v, "event_type": ty, "data": data}).to_string();
            text.push('\n');
        }
        h.extend(&text).unwrap();
        let all = h.series("/balance", 0, 600).unwrap();
        assert_eq!(all.len(), 601);
        assert_eq!(all[0], None, "no member before the first event");
        assert_eq!(all[1], Some(0.5));
        assert_eq!(all[598], Some(299.0));
        assert_eq!(all[599], None, "a string is no number");
        assert_eq!(
            all[600], None,
            "incrementing a string fails: the state stays"
        );
        // A window in the middle, across checkpoints, equals the same part.
        assert_eq!(
            h.series("/balance", 250, 520).unwrap(),
            all[250..=520].to_vec()
        );
        assert!(h.series("/balance", 9, 3).unwrap().is_empty());
        assert_eq!(h.series("balance", 0, 1).unwrap_err().field(), "member");
        assert_eq!(
            h.series("/balance", 0, 601).unwrap_err().field(),
            "to_version"
        );
    }
}

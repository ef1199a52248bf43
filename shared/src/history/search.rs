//! Text search over a history's events: the versions whose event mentions
//! a text in its type, ids, actor, data or metadata (not in the members
//! every event of the stream shares: stream id and type, versions,
//! positions, times), as the dashboard's timeline search finds them.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::History;

/// The members of an event the search reads, as their JSON text.
#[derive(Deserialize)]
struct Searched<'a> {
    #[serde(borrow, default)]
    event_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    correlation_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    causation_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    actor: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
}

impl Searched<'_> {
    fn mentions(&self, needle: &str) -> bool {
        [
            self.event_type,
            self.event_id,
            self.correlation_id,
            self.causation_id,
            self.actor,
            self.data,
            self.metadata,
        ]
        .into_iter()
        .flatten()
        .any(|raw| contains_ignoring_case(raw.get(), needle))
    }
}

impl History {
    /// The versions (ascending) whose event mentions `text`, ignoring case,
    /// in its type, ids, actor, data or metadata (their JSON text). An empty
    /// `text` matches every event.
    pub fn versions_matching(&self, text: &str) -> Vec<u32> {
        let needle = text.to_lowercase();
        self.events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                needle.is_empty()
                    || serde_json::from_str::<Searched>(&e.text).is_ok_and(|s| s.mentions(&needle))
            })
            .map(|(i, _)| (self.base + i as u64) as u32 + 1)
            .collect()
    }
}

/// Whether `haystack` contains `needle` (already lowercase), ignoring case:
/// ASCII without copying the haystack, anything else through a lowercase
/// copy.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if !needle.is_ascii() {
        return haystack.to_lowercase().contains(needle);
    }
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty()
        || h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::History;
    use super::contains_ignoring_case;

    #[test]
    fn finds_types_ids_and_payload_text_not_the_shared_members() {
        let mut h = History::new(json!(null), json!(null), json!(null), None).unwrap();
        let events = [
            json!({"version": 1, "event_type": "OrderCreated", "stream_id": "order-7", "stream_type": "Order",
                   "data": {"customer": "Zoë Ångström"}, "recorded_at": "2024-05-01T12:00:00Z"}),
            json!({"version": 2, "event_type": "ItemAdded", "stream_id": "order-7", "data": {"sku": "SKU-42"},
                   "correlation_id": "c0ffee00-0000-4000-8000-000000000001", "global_position": 2024}),
            json!({"version": 3, "event_type": "OrderPaid", "stream_id": "order-7", "data": {"amount": 42},
                   "actor": "web-checkout", "metadata": {"ip": "10.0.0.9"}}),
        ];
        let text: String = events.iter().map(|e| e.to_string() + "\n").collect();
        h.extend(&text).unwrap();
        assert_eq!(h.versions_matching("order"), vec![1, 3]);
        assert_eq!(h.versions_matching("sku-42"), vec![2]);
        assert_eq!(h.versions_matching("42"), vec![2, 3]);
        assert_eq!(h.versions_matching("C0FFEE"), vec![2]);
        assert_eq!(h.versions_matching("zoë ångström"), vec![1]);
        assert_eq!(h.versions_matching("checkout"), vec![3]);
        assert_eq!(h.versions_matching("10.0.0.9"), vec![3]);
        assert_eq!(h.versions_matching(""), vec![1, 2, 3]);
        // The stream's id, versions, positions and times are everyone's.
        for shared in ["order-7", "2024", "recorded_at", "version"] {
            assert!(h.versions_matching(shared).is_empty(), "{shared}");
        }
    }

    #[test]
    fn ignores_ascii_case_without_a_copy() {
        assert!(contains_ignoring_case("ItemAdded", "itema"));
        assert!(!contains_ignoring_case("Item", "items"));
        assert!(contains_ignoring_case("x", ""));
    }
}

//! Text search over a history's events: the versions whose event mentions
//! a text anywhere (its type, ids, data, metadata), as the dashboard's
//! timeline search finds them.

use super::History;

impl History {
    /// The versions (ascending) whose event's JSON text contains `text`,
    /// ignoring case. An empty `text` matches every event.
    pub fn versions_matching(&self, text: &str) -> Vec<u32> {
        let needle = text.to_lowercase();
        self.events
            .iter()
            .enumerate()
            .filter(|(_, e)| contains_ignoring_case(&e.text, &needle))
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
    fn finds_types_ids_and_payload_text() {
        let mut h = History::new(json!(null), json!(null), json!(null), None).unwrap();
        let events = [
            json!({"version": 1, "event_type": "OrderCreated", "data": {"customer": "Zoë Ångström"}}),
            json!({"version": 2, "event_type": "ItemAdded", "data": {"sku": "SKU-42"},
                   "correlation_id": "c0ffee00-0000-4000-8000-000000000001"}),
            json!({"version": 3, "event_type": "OrderPaid", "data": {"amount": 42}}),
        ];
        let text: String = events.iter().map(|e| e.to_string() + "\n").collect();
        h.extend(&text).unwrap();
        assert_eq!(h.versions_matching("order"), vec![1, 3]);
        assert_eq!(h.versions_matching("sku-42"), vec![2]);
        assert_eq!(h.versions_matching("42"), vec![2, 3]);
        assert_eq!(h.versions_matching("C0FFEE"), vec![2]);
        assert_eq!(h.versions_matching("zoë ångström"), vec![1]);
        assert_eq!(h.versions_matching(""), vec![1, 2, 3]);
        assert!(h.versions_matching("nowhere").is_empty());
    }

    #[test]
    fn ignores_ascii_case_without_a_copy() {
        assert!(contains_ignoring_case("ItemAdded", "itema"));
        assert!(!contains_ignoring_case("Item", "items"));
        assert!(contains_ignoring_case("x", ""));
    }
}

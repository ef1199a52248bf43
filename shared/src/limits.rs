//! Size limits. The fixed ones are part of the format; the configurable ones
//! are set by the adapter (in Postgres, from GUCs).

/// Longest `stream_id` and `actor`, in characters (a `String(255)` column in the event stores Chronicle replaces).
pub const MAX_ID_CHARS: usize = 255;
/// Longest `stream_type` and `event_type`, in characters (their `String(100)`).
pub const MAX_TYPE_CHARS: usize = 100;
/// Deepest nesting of arrays and objects in `data` and `metadata` (the
/// depth `serde_json` parses without risking the stack).
pub const MAX_JSON_DEPTH: usize = 127;

/// Limits a deployment may tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest `data` + `metadata` of one event, in bytes of compact JSON text.
    pub max_event_size: usize,
    /// Most events one `append_events` call may carry.
    pub max_batch_events: usize,
}

impl Limits {
    pub const DEFAULT_MAX_EVENT_SIZE: usize = 1024 * 1024;
    pub const DEFAULT_MAX_BATCH_EVENTS: usize = 10_000;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_size: Self::DEFAULT_MAX_EVENT_SIZE,
            max_batch_events: Self::DEFAULT_MAX_BATCH_EVENTS,
        }
    }
}

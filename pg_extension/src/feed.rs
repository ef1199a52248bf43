//! The global feed's reads (`read_all` and `poll` in `sql/feed.sql` and
//! `sql/subscriptions.sql`): the core's checks of their arguments and its
//! rule for which consumer of a group receives a stream. Positions are
//! handed out by `seal.rs` and `sealer.rs`.

use chronicle_core::arguments::{check_count, check_position};
use chronicle_core::feed::check_filter;
use pgrx::prelude::*;

use crate::errors::OrRaise;

/// The elements of a `text[]` argument as the core takes them.
pub fn as_strs(list: &Option<Vec<Option<String>>>) -> Option<Vec<Option<&str>>> {
    list.as_ref()
        .map(|l| l.iter().map(|t| t.as_deref()).collect())
}

/// Argument checks of `read_all` (raises the core's errors).
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_check_feed_read",
    schema = "chronicle_internal"
)]
fn check_feed_read(
    after_position: Option<i64>,
    max_count: Option<i64>,
    stream_type: Option<&str>,
    event_types: Option<Vec<Option<String>>>,
) -> bool {
    const FN: &str = "chronicle.read_all";
    check_position("after_position", after_position).or_raise(FN);
    check_count("max_count", max_count).or_raise(FN);
    check_filter(stream_type, as_strs(&event_types).as_deref()).or_raise(FN);
    true
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._check_feed_read(bigint, bigint, text, text[]) IS
    'Internal: argument checks of read_all.';
"#,
    name = "check_feed_read_comment",
    requires = [check_feed_read],
);

/// The consumer (0 .. consumers - 1) of a group that receives a stream's
/// events (`chronicle_core::subscription::consumer_of`).
#[pg_extern(
    immutable,
    strict,
    parallel_safe,
    name = "_consumer_of",
    schema = "chronicle_internal"
)]
pub fn consumer_of(stream_id: &str, consumers: i32) -> i32 {
    chronicle_core::subscription::consumer_of(stream_id, consumers.max(1) as u32) as i32
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._consumer_of(text, int) IS
    'Internal: the consumer of a group that receives a stream''s events (the core''s rule).';
"#,
    name = "consumer_of_comment",
    requires = [consumer_of],
);

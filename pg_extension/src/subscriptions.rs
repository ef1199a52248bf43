//! The subscription functions' decisions (`sql/subscriptions.sql` holds
//! their queries): argument checks, the state machine and the checkpoint
//! moves, each the core's (`chronicle_core::subscription`).

use chronicle_core::arguments::{check_count, check_known_position};
use chronicle_core::error::require;
use chronicle_core::feed::check_filter;
use chronicle_core::subscription::{
    self, check_consumer, check_name, Command, Status, Subscription,
};
use pgrx::prelude::*;

use crate::errors::{raise, sql_function, OrRaise};
use crate::feed::as_strs;

/// Argument checks of `create_subscription`.
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_check_subscription",
    schema = "chronicle_internal"
)]
fn check_subscription(
    name: Option<&str>,
    stream_type: Option<&str>,
    event_types: Option<Vec<Option<String>>>,
    after_position: Option<i64>,
    head: i64,
) -> bool {
    const FN: &str = "chronicle.create_subscription";
    check_name(name).or_raise(FN);
    check_filter(stream_type, as_strs(&event_types).as_deref()).or_raise(FN);
    check_known_position("after_position", after_position, head.max(0) as u64).or_raise(FN);
    true
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._check_subscription(text, text, text[], bigint, bigint) IS
    'Internal: argument checks of create_subscription.';
"#,
    name = "check_subscription_comment",
    requires = [check_subscription],
);

/// Argument checks of `poll` (and of the consumer argument of `ack`:
/// `max_count` 1).
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_check_poll",
    schema = "chronicle_internal"
)]
fn check_poll(
    name: Option<&str>,
    max_count: Option<i64>,
    consumer: Option<i64>,
    consumers: Option<i64>,
) -> bool {
    const FN: &str = "chronicle.poll";
    check_name(name).or_raise(FN);
    check_count("max_count", max_count).or_raise(FN);
    check_consumer(consumer, consumers).or_raise(FN);
    true
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._check_poll(text, bigint, bigint, bigint) IS
    'Internal: argument checks of poll (and of ack''s consumer).';
"#,
    name = "check_poll_comment",
    requires = [check_poll],
);

/// Argument checks of the subscription functions that take a name and
/// perhaps a position (`field`, e.g. `to_position`; '' for none) or an
/// error message (`fail_subscription`).
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_check_name",
    schema = "chronicle_internal"
)]
fn check_name_sql(
    function_name: &str,
    name: Option<&str>,
    field: &str,
    position: Option<i64>,
    head: i64,
    error_message: default!(Option<&str>, "''"),
) -> bool {
    let function = sql_function(function_name);
    check_name(name).or_raise(function);
    if !field.is_empty() {
        check_known_position(field, position, head.max(0) as u64).or_raise(function);
    }
    require(error_message, "error_message").or_raise(function);
    true
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._check_name(text, text, text, bigint, bigint, text) IS
    'Internal: argument checks of the subscription functions that take a name.';
"#,
    name = "check_name_sql_comment",
    requires = [check_name_sql],
);

/// Raises the error for a subscription that does not exist (`missing`) or
/// exists already.
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_subscription_error",
    schema = "chronicle_internal"
)]
fn raise_subscription_error(function_name: &str, name: &str, missing: bool) -> bool {
    let e = if missing {
        subscription::not_found(name)
    } else {
        subscription::exists(name)
    };
    raise(e, sql_function(function_name))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._subscription_error(text, text, boolean) IS
    'Internal: raises 42704 (missing) or 42710 (exists) for a subscription.';
"#,
    name = "raise_subscription_error_comment",
    requires = [raise_subscription_error],
);

/// The subscription's state after `command` (`pause`, `resume`, `fail`
/// with `error_message`, `reset` to `to_position` with the feed's `head`,
/// `checkpoint`: the group checkpoint moved to `to_position`).
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
#[pg_extern(
    immutable,
    parallel_safe,
    name = "_subscription_next",
    schema = "chronicle_internal"
)]
fn subscription_next(
    status: &str,
    last_position: i64,
    rebuild_target: Option<i64>,
    error_message: Option<&str>,
    command: &str,
    to_position: Option<i64>,
    head: Option<i64>,
    new_error_message: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(status, String),
        name!(last_position, i64),
        name!(rebuild_target, Option<i64>),
        name!(error_message, Option<String>),
    ),
> {
    const FN: &str = "chronicle";
    let state = Subscription {
        status: Status::parse(status).or_raise(FN),
        last_position: last_position.max(0) as u64,
        rebuild_target: rebuild_target.map(|t| t.max(0) as u64),
        error_message: error_message.map(str::to_string),
    };
    let position = || require(to_position, "to_position").or_raise(FN).max(0) as u64;
    let command = match command {
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "fail" => Command::Fail {
            error_message: require(new_error_message, "error_message").or_raise(FN),
        },
        "reset" => Command::Reset {
            to_position: position(),
            head: require(head, "head").or_raise(FN).max(0) as u64,
        },
        "checkpoint" => Command::Checkpoint {
            group_checkpoint: position(),
        },
        other => panic!("unknown subscription command {other}"),
    };
    let next = state.apply(command);
    TableIterator::once((
        next.status.as_str().to_string(),
        next.last_position as i64,
        next.rebuild_target.map(|t| t as i64),
        next.error_message,
    ))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._subscription_next(text, bigint, bigint, text, text, bigint, bigint, text) IS
    'Internal: a subscription''s state after a command (the core''s state machine).';
"#,
    name = "subscription_next_comment",
    requires = [subscription_next],
);

/// Whether `poll` delivers events in a subscription's `status`.
#[pg_extern(
    immutable,
    strict,
    parallel_safe,
    name = "_delivers_in",
    schema = "chronicle_internal"
)]
fn delivers_in(status: &str) -> bool {
    Status::parse(status).or_raise("chronicle.poll").delivers()
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._delivers_in(text) IS
    'Internal: whether poll delivers events in a status.';
"#,
    name = "delivers_in_comment",
    requires = [delivers_in],
);

/// Where an ack moves a checkpoint at `current` (NULL: it stays).
#[pg_extern(
    immutable,
    strict,
    parallel_safe,
    name = "_ack_to",
    schema = "chronicle_internal"
)]
fn ack_to(current: i64, to_position: i64) -> Option<i64> {
    subscription::ack(current.max(0) as u64, to_position.max(0) as u64).map(|p| p as i64)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._ack_to(bigint, bigint) IS
    'Internal: where an ack moves a checkpoint (NULL: it stays).';
"#,
    name = "ack_to_comment",
    requires = [ack_to],
);

/// Where a poll that found nothing for a consumer between `from_position`
/// and `to_position` moves its checkpoint at `current` (NULL: it stays).
#[pg_extern(
    immutable,
    strict,
    parallel_safe,
    name = "_skip_to",
    schema = "chronicle_internal"
)]
fn skip_to(current: i64, from_position: i64, to_position: i64) -> Option<i64> {
    subscription::skip(
        current.max(0) as u64,
        from_position.max(0) as u64,
        to_position.max(0) as u64,
    )
    .map(|p| p as i64)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._skip_to(bigint, bigint, bigint) IS
    'Internal: where a poll that found nothing moves a checkpoint (NULL: it stays).';
"#,
    name = "skip_to_comment",
    requires = [skip_to],
);

/// The last position a poll from `from_position` scans.
#[pg_extern(
    immutable,
    strict,
    parallel_safe,
    name = "_scan_end",
    schema = "chronicle_internal"
)]
fn scan_end(from_position: i64, head: i64) -> i64 {
    subscription::scan_end(from_position.max(0) as u64, head.max(0) as u64) as i64
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._scan_end(bigint, bigint) IS
    'Internal: the last position a poll scans.';
"#,
    name = "scan_end_comment",
    requires = [scan_end],
);

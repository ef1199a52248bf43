//! message-db's `write_message` for the extension `chronicle_message_store`
//! (`message_store/sql`): Chronicle's append (`crate::append`), with
//! message-db's rules and words (`chronicle_core::message_db`). A C
//! function without SQL of its own in this extension (`sql = false`): the
//! other extension's install script declares it, as
//! `message_store.write_message`, pointing at this library.
//!
//! The expected version is judged by the append itself, under the stream's
//! row lock, so a conflict is message-db's error however it races, and
//! nothing is looked up twice: one call is one append.

use chronicle_core::message_db;
use chronicle_core::sequencing::ExpectedVersion;
use pgrx::prelude::*;

use crate::append::{append, OneEvent};
use crate::errors::{in_dialect, raise, reject, with_own_sqlstates};
use crate::raw_jsonb::RawJsonb;

const FN: &str = "message_store.write_message";

/// Writes a message and returns its position (its version − 1).
#[pg_extern(volatile, parallel_unsafe, sql = false)]
fn write_message(
    id: Option<&str>,
    stream_name: Option<&str>,
    message_type: Option<&str>,
    data: Option<RawJsonb>,
    metadata: Option<RawJsonb>,
    expected_version: Option<i64>,
) -> i64 {
    with_own_sqlstates(|| {
        message_db::check_required(
            stream_name.is_some(),
            message_type.is_some(),
            data.is_some(),
        )
        .unwrap_or_else(|r| reject(r, FN));
        let stream_name = stream_name.expect("checked");
        let expected = match message_db::expected_version(expected_version) {
            Ok(expected) => expected,
            Err(position) => reject(
                message_db::wrong_expected_version(
                    position,
                    stream_name,
                    current_position(stream_name),
                ),
                FN,
            ),
        };
        let event_id = id
            .and_then(chronicle_core::identifier::as_uuid)
            .map(|u| pgrx::Uuid::from_bytes(*u.as_bytes()))
            .unwrap_or_else(|| reject(message_db::invalid_id(id), FN));
        let category = message_db::category(stream_name);
        let name = stream_name.to_string();
        let version = in_dialect(
            move |e| message_db::from_chronicle(e, &name, expected_version),
            || {
                append(
                    OneEvent {
                        stream_id: Some(stream_name),
                        event_type: message_type,
                        data,
                        metadata,
                        expected_version: expected,
                        version: None,
                        event_id: Some(event_id),
                        stream_type: Some(category),
                        correlation_id: None,
                        causation_id: None,
                        actor: None,
                        occurred_at: None,
                        schema_version: None,
                        message_db: true,
                    },
                    FN,
                )
            },
        );
        message_db::position(version as u64)
    })
}

/// The version of the session's tenant's stream (0: none; another tenant's
/// stream is none, as every append sees it), read on the way to an error.
fn stream_version(stream_name: &str) -> u64 {
    Spi::get_one_with_args::<i64>(
        "SELECT s.version FROM chronicle.streams s WHERE s.stream_id OPERATOR(pg_catalog.=) $1 \
           AND s.tenant OPERATOR(pg_catalog.=) chronicle.current_tenant()",
        &[stream_name.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(0) as u64
}

/// The position of a stream's last message (−1: no stream), for the error
/// of an expected version no stream can have.
fn current_position(stream_name: &str) -> i64 {
    message_db::position(stream_version(stream_name))
}

/// Refuses a write whose message id is stored already
/// (`message_db::stored_id`: a wrong expected version first, else the
/// duplicate), worded by the running dialect.
pub(crate) fn refuse_stored_id(
    stream_name: &str,
    expected: ExpectedVersion,
    event_id: &str,
    function: &'static str,
) -> ! {
    let current = stream_version(stream_name);
    raise(
        message_db::stored_id(stream_name, expected, current, event_id),
        function,
    )
}

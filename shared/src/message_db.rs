//! message-db's rules for a write (`message_store.write_message` of the
//! extension `chronicle_message_store`): how its names and positions map onto
//! Chronicle's, and its rejections in its own words, which its clients match
//! on. Its reads are SQL (`message_store/sql`), with their texts beside them.
//!
//! * A stream's category is the part of its name before the first `-` (all
//!   of a name without one); a stream created by `write_message` gets it as
//!   its type.
//! * A message's position is its version − 1; an `expected_version` is the
//!   position of the stream's last message, −1 for "no stream", so
//!   Chronicle's is one more.
//! * A message id already stored is a unique violation, whatever the
//!   content (Chronicle would take the same event at the same place as a
//!   retry).

use crate::error::Error;
use crate::sequencing::{plan_append, ExpectedVersion};

/// A rejection in message-db's words: what its clients see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Postgres' SQLSTATE (message-db raises with `RAISE EXCEPTION`: P0001;
    /// constraint violations with their class 23 codes).
    pub sqlstate: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub hint: &'static str,
}

/// The category of a stream name.
pub fn category(stream_name: &str) -> &str {
    stream_name.split('-').next().unwrap_or(stream_name)
}

/// Chronicle's `expected_version` argument for message-db's: `None` = any;
/// −1 = the stream must not exist (0); N = the stream's last position is N
/// (N + 1). `Err` for one no stream can have (below −1), which message-db
/// reports as a wrong expected version.
pub fn expected_version(expected_position: Option<i64>) -> Result<Option<i64>, i64> {
    match expected_position {
        None => Ok(None),
        Some(-1) => Ok(Some(0)),
        Some(p) if (0..i64::MAX).contains(&p) => Ok(Some(p + 1)),
        Some(p) => Err(p),
    }
}

/// The position of a message of this version.
pub fn position(version: u64) -> i64 {
    version as i64 - 1
}

/// `write_message`'s required arguments, checked before anything else
/// (message-db's table refuses them NULL: 23502).
pub fn check_required(stream_name: bool, message_type: bool, data: bool) -> Result<(), Rejection> {
    let missing = [
        ("stream_name", stream_name),
        ("type", message_type),
        ("data", data),
    ]
    .into_iter()
    .find(|(_, present)| !present);
    match missing {
        Some((field, _)) => Err(Rejection {
            sqlstate: "23502",
            message: format!("message_store.write_message: {field} must not be null"),
            detail: None,
            hint: "Pass a stream name, a message type and the data (a JSON object).",
        }),
        None => Ok(()),
    }
}

/// An id that is not a uuid, in Postgres' words (message-db casts it).
pub fn invalid_id(id: Option<&str>) -> Rejection {
    match id {
        None => Rejection {
            sqlstate: "23502",
            message: "message_store.write_message: id must not be null".into(),
            detail: None,
            hint: "Pass a new uuid as the message id.",
        },
        Some(id) => Rejection {
            sqlstate: "22P02",
            message: format!("invalid input syntax for type uuid: \"{id}\""),
            detail: None,
            hint: "Pass a new uuid as the message id.",
        },
    }
}

/// message-db's text for a stream that is not where the writer expected it.
pub fn wrong_expected_version(expected: i64, stream_name: &str, stream_version: i64) -> Rejection {
    Rejection {
        sqlstate: "P0001",
        message: format!(
            "Wrong expected version: {expected} (Stream: {stream_name}, Stream Version: {stream_version})"
        ),
        detail: None,
        hint: "Read the stream again and decide again, or write without an expected_version.",
    }
}

/// message-db's unique violation for an id already stored.
pub fn duplicate_id(id: &str) -> Rejection {
    Rejection {
        sqlstate: "23505",
        message: "duplicate key value violates unique constraint \"messages_id\"".into(),
        detail: Some(format!("Key (id)=({id}) already exists.")),
        hint: "Each message needs an id of its own (a new uuid).",
    }
}

/// The rejection of a write whose message id is already stored, to a stream
/// at version `current` (0: none): message-db checks the expected version
/// first (a wrong one is the conflict), then its unique index refuses the id
/// (a duplicate, even of the same message at the same place: no retries).
pub fn stored_id(
    stream_id: &str,
    expected: ExpectedVersion,
    current: u64,
    event_id: &str,
) -> Error {
    match plan_append(stream_id, expected, current, 1) {
        Err(conflict @ Error::VersionConflict { .. }) => conflict,
        _ => Error::DuplicateEventId {
            field: "event_id".to_string(),
            event_id: event_id.to_string(),
            stored_at: None,
            reason: "message-db takes no retries",
        },
    }
}

/// Chronicle's rejection of a write, as message-db reports it, where
/// message-db has its own words for it; `None`: Chronicle's error stands
/// (its rules that message-db does not have: names, data a JSON object).
pub fn from_chronicle(
    e: &Error,
    stream_name: &str,
    expected_position: Option<i64>,
) -> Option<Rejection> {
    match e {
        Error::VersionConflict { actual, .. } => Some(wrong_expected_version(
            expected_position?,
            stream_name,
            position(*actual),
        )),
        Error::DuplicateEventId { event_id, .. } => Some(duplicate_id(event_id)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_what_comes_before_the_first_dash() {
        assert_eq!(category("account-123"), "account");
        assert_eq!(category("account:command-123+abc"), "account:command");
        assert_eq!(category("account"), "account");
        assert_eq!(category("account-1-2"), "account");
        assert_eq!(category("-1"), "");
    }

    #[test]
    fn expected_versions_are_positions() {
        assert_eq!(expected_version(None), Ok(None));
        assert_eq!(expected_version(Some(-1)), Ok(Some(0)));
        assert_eq!(expected_version(Some(0)), Ok(Some(1)));
        assert_eq!(expected_version(Some(41)), Ok(Some(42)));
        // Read by Chronicle's own rule as what message-db means.
        assert_eq!(
            ExpectedVersion::from_sql(Some(0)).ok(),
            Some(ExpectedVersion::NoStream)
        );
        assert_eq!(
            ExpectedVersion::from_sql(Some(42)).ok(),
            Some(ExpectedVersion::Exact(42))
        );
        assert_eq!(expected_version(Some(-2)), Err(-2));
        assert_eq!(expected_version(Some(i64::MAX)), Err(i64::MAX));
        assert_eq!(position(1), 0);
        assert_eq!(position(0), -1);
    }

    #[test]
    fn rejections_are_in_message_dbs_words() {
        let r = wrong_expected_version(1, "account-123", -1);
        assert_eq!(r.sqlstate, "P0001");
        assert_eq!(
            r.message,
            "Wrong expected version: 1 (Stream: account-123, Stream Version: -1)"
        );
        let conflict = Error::VersionConflict {
            stream_id: "account-123".into(),
            expected: "2".into(),
            actual: 3,
        };
        assert_eq!(
            from_chronicle(&conflict, "account-123", Some(1)),
            Some(wrong_expected_version(1, "account-123", 2))
        );
        let duplicate = Error::DuplicateEventId {
            field: "event_id".into(),
            event_id: "00000000-0000-4000-8000-000000000001".into(),
            stored_at: None,
            reason: "that is another stream",
        };
        let r = from_chronicle(&duplicate, "account-1", None).expect("mapped");
        assert_eq!(
            (r.sqlstate, r.message.as_str()),
            (
                "23505",
                "duplicate key value violates unique constraint \"messages_id\""
            )
        );
        assert_eq!(
            from_chronicle(&Error::invalid("data", "is bad", "Fix it."), "a-1", None),
            None
        );
        assert_eq!(check_required(true, true, true), Ok(()));
        assert_eq!(
            check_required(true, false, false).unwrap_err().message,
            "message_store.write_message: type must not be null"
        );
        let id = "00000000-0000-4000-8000-000000000001";
        assert!(matches!(
            stored_id("a-1", ExpectedVersion::Exact(2), 3, id),
            Error::VersionConflict { actual: 3, .. }
        ));
        assert!(matches!(
            stored_id("a-1", ExpectedVersion::NoStream, 3, id),
            Error::VersionConflict { .. }
        ));
        for expected in [ExpectedVersion::Any, ExpectedVersion::Exact(3)] {
            assert!(matches!(
                stored_id("a-1", expected, 3, id),
                Error::DuplicateEventId { .. }
            ));
        }
        assert_eq!(invalid_id(Some("x")).sqlstate, "22P02");
        assert_eq!(invalid_id(None).sqlstate, "23502");
    }
}

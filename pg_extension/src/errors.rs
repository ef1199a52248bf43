//! Core errors -> Postgres errors (SQLSTATE, message, DETAIL, HINT). Every
//! message is the core's; this only packs it into an ErrorReport.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// Packs a five-character SQLSTATE the way Postgres' MAKE_SQLSTATE does.
fn sqlstate_code(sqlstate: &str) -> PgSqlErrorCode {
    let packed = sqlstate.bytes().enumerate().fold(0i32, |acc, (i, c)| {
        acc | ((((c - b'0') & 0x3F) as i32) << (6 * i))
    });
    PgSqlErrorCode::from(packed)
}

/// Raises `e` as an ERROR; never returns.
pub fn raise(e: chronicle_core::Error, function: &'static str) -> ! {
    let mut report =
        ErrorReport::new(sqlstate_code(e.sqlstate()), e.message(), function).set_hint(e.hint());
    if let Some(detail) = e.detail() {
        report = report.set_detail(detail);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("an ERROR does not return")
}

/// The public functions whose SQL-language bodies call the internal check
/// helpers, which name them in their errors.
const SQL_FUNCTIONS: &[&str] = &[
    "chronicle.read_stream",
    "chronicle.stream_version",
    "chronicle.read_correlation",
    "chronicle.list_streams",
    "chronicle.export_stream",
    "chronicle.reducer",
    "chronicle.event_type",
    "chronicle.upcaster",
    "chronicle.create_subscription",
    "chronicle.drop_subscription",
    "chronicle.pause_subscription",
    "chronicle.resume_subscription",
    "chronicle.fail_subscription",
    "chronicle.reset_subscription",
    "chronicle.poll",
    "chronicle.ack",
    "chronicle.seal",
];

/// The function an internal helper's caller names itself by (`read_stream`
/// -> `chronicle.read_stream`), as the error report's function.
pub fn sql_function(name: &str) -> &'static str {
    SQL_FUNCTIONS
        .iter()
        .find(|f| f.strip_prefix("chronicle.") == Some(name))
        .copied()
        .unwrap_or("chronicle")
}

pub trait OrRaise<T> {
    fn or_raise(self, function: &'static str) -> T;
}

impl<T> OrRaise<T> for chronicle_core::Result<T> {
    fn or_raise(self, function: &'static str) -> T {
        self.unwrap_or_else(|e| raise(e, function))
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    #[pg_test]
    fn sqlstates_pack_like_postgres() {
        assert_eq!(
            sqlstate_code("40001"),
            PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE
        );
        assert_eq!(
            sqlstate_code("23505"),
            PgSqlErrorCode::ERRCODE_UNIQUE_VIOLATION
        );
        assert_eq!(
            sqlstate_code("22004"),
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED
        );
        assert_eq!(
            sqlstate_code("22023"),
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
        );
        assert_eq!(
            sqlstate_code("22001"),
            PgSqlErrorCode::ERRCODE_STRING_DATA_RIGHT_TRUNCATION
        );
        assert_eq!(
            sqlstate_code("54000"),
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED
        );
        for kind in chronicle_core::error::KINDS {
            assert_ne!(
                sqlstate_code(kind.sqlstate),
                PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                "{}",
                kind.name
            );
        }
    }
}

//! Core errors -> Postgres errors (SQLSTATE, message, DETAIL, HINT).

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{pg_sys, PgLogLevel, PgSqlErrorCode};

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

/// Unwraps an SPI result. SPI fails only on a bug in Chronicle's own SQL
/// (an internal error, never a user's input): the panic becomes an ERROR.
pub fn spi<T>(result: Result<T, pgrx::spi::SpiError>) -> T {
    result.unwrap_or_else(|e| panic!("SPI: {e}"))
}

/// Prepares a statement once for the life of the backend (the caller keeps
/// it, e.g. in a thread-local). Preparing fails only on a bug in Chronicle's
/// own SQL. Mutating plans: SPI takes a fresh snapshot for each execution.
pub fn prepare_kept(
    client: &pgrx::spi::SpiClient<'_>,
    sql: &str,
    types: &[pgrx::pg_sys::Oid],
) -> pgrx::spi::OwnedPreparedStatement {
    let types: Vec<pgrx::PgOid> = types.iter().map(|&t| pgrx::PgOid::from(t)).collect();
    client
        .prepare_mut(sql, &types)
        .unwrap_or_else(|e| panic!("preparing {sql}: {e}"))
        .keep()
}

/// Unwraps a core result, raising its error.
/// Raises 25006 when this transaction cannot write (on a standby, or a
/// read-only transaction) — before anything that would assign a
/// transaction id and fail with an internal error instead.
pub fn require_writable(function: &'static str) {
    if !writable() {
        raise(
            chronicle_core::Error::ReadOnly {
                operation: function,
                standby: unsafe { pg_sys::RecoveryInProgress() },
            },
            function,
        );
    }
}

/// Whether this transaction may write: not on a standby, not read-only.
pub fn writable() -> bool {
    unsafe { !pg_sys::RecoveryInProgress() && !pg_sys::XactReadOnly }
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
        for (code, _, _) in chronicle_core::error::ERROR_CODES {
            assert_ne!(
                sqlstate_code(code),
                PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                "{code}"
            );
        }
    }
}

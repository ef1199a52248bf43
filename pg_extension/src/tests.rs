//! `#[pg_test]`s of the adapter's internals. The SQL API as a whole is tested
//! by the golden files in `tests/regress/` and the shared vectors.

#[pgrx::pg_schema]
mod tests {
    use pgrx::pg_sys::panic::CaughtError;
    use pgrx::prelude::*;
    use pgrx::PgSqlErrorCode;

    /// Runs `sql`, expecting an error; returns (SQLSTATE, message, detail, hint).
    fn error_of(sql: &'static str) -> (PgSqlErrorCode, String, Option<String>, Option<String>) {
        PgTryBuilder::new(|| {
            Spi::run(sql).expect("SPI");
            panic!("expected {sql} to fail")
        })
        .catch_others(|e| match e {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => (
                r.sql_error_code(),
                r.message().to_string(),
                r.detail().map(str::to_string),
                r.hint().map(str::to_string),
            ),
            CaughtError::RustPanic { ereport, .. } => {
                panic!("a panic escaped: {}", ereport.message())
            }
        })
        .execute()
    }

    #[pg_test]
    fn append_returns_consecutive_versions() {
        let v = |sql: &str| Spi::get_one::<i64>(sql).unwrap().unwrap();
        assert_eq!(
            v("SELECT chronicle.append_event('t-1', 'Created', '{\"a\": 1}')"),
            1
        );
        assert_eq!(
            v("SELECT chronicle.append_event('t-1', 'Changed', '{}', expected_version => 1)"),
            2
        );
        assert_eq!(v("SELECT chronicle.stream_version('t-1')"), 2);
    }

    /// The payload datum is stored as the caller sent it: nothing goes
    /// through serde on the way in, so numeric precision survives (a round
    /// trip through f64 would store 1.5 and 1.2345678901234568e29).
    #[pg_test]
    fn payload_is_stored_without_reencoding() {
        Spi::run(
            "SELECT chronicle.append_event('t-2', 'Priced', \
             '{\"price\": 1.50, \"big\": 123456789012345678901234567890}')",
        )
        .unwrap();
        let stored = Spi::get_one::<String>(
            "SELECT data::text FROM chronicle.events WHERE stream_id = 't-2'",
        );
        assert_eq!(
            stored.unwrap().unwrap(),
            "{\"big\": 123456789012345678901234567890, \"price\": 1.50}"
        );
    }

    #[pg_test]
    fn core_errors_become_postgres_errors_with_detail_and_hint() {
        Spi::run("SELECT chronicle.append_event('t-3', 'Created', '{}')").unwrap();
        let (code, message, detail, hint) =
            error_of("SELECT chronicle.append_event('t-3', 'Again', '{}', expected_version => 0)");
        assert_eq!(code, PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE);
        assert_eq!(
            message,
            "version conflict on stream \"t-3\": expected_version does not match"
        );
        assert_eq!(
            detail.as_deref(),
            Some("Expected version 0 (no stream), actual version 1.")
        );
        assert!(hint.unwrap().contains("retry"));

        let (code, message, _, hint) = error_of("SELECT chronicle.append_event('t-3', 'X', '[]')");
        assert_eq!(code, PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE);
        assert_eq!(message, "data must be a JSON object, not array");
        assert!(hint.is_some());
    }

    #[pg_test]
    fn limits_follow_the_session_settings() {
        Spi::run("SET chronicle.max_event_size = 1024").unwrap();
        let (code, ..) = error_of(
            "SELECT chronicle.append_event('t-4', 'Big', jsonb_build_object('x', repeat('y', 1100)))",
        );
        assert_eq!(code, PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED);
        Spi::run("RESET chronicle.max_event_size").unwrap();
        Spi::run("SELECT chronicle.append_event('t-4', 'Big', jsonb_build_object('x', repeat('y', 1100)))")
            .unwrap();
    }

    /// Plans are prepared once per session and survive an aborted append.
    #[pg_test]
    fn plans_survive_errors() {
        let _ = error_of("SELECT chronicle.append_event('t-5', 'X', '{}', expected_version => 3)");
        assert_eq!(
            Spi::get_one::<i64>("SELECT chronicle.append_event('t-5', 'X', '{}')").unwrap(),
            Some(1)
        );
    }
}

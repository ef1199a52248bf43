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

    /// The binary `jsonb` reader (`jsonb_binary`) gives exactly what parsing
    /// `jsonb_out`'s text gives, for every kind of value and thousands of
    /// numerics of every weight and scale; the documents it leaves to the
    /// text path are the ones it must (deeper than the core accepts).
    #[pg_test]
    fn binary_jsonb_reads_as_its_text_parses() {
        use crate::raw_jsonb::RawJsonb;
        let corpus = r#"
            SELECT setseed(0.42);
            CREATE TEMP TABLE corpus (doc jsonb, via_text boolean DEFAULT false);
            INSERT INTO corpus (doc) VALUES
              ('{}'), ('[]'), ('0'), ('-0'), ('0.000'), ('1.50'), ('-1.25'), ('1e-30'), ('1E+25'),
              ('123456789012345678901234567890.000001'), ('0.00001'), ('-0.1'), ('9999'), ('10000'),
              ('99999999'), ('100000000'), ('0.0001'), ('0.00010'), ('1e100'), ('-1e-100'),
              ('"plain"'), ('""'), ('"esc \" \\ \n \t \u0001 é 中 😀"'), ('true'), ('false'), ('null'),
              ('{"a": 1, "bb": [1, "x", null, true, false, {"c": {}}], "": 0.5, "é": [[[]]]}'),
              ('[1, [2, [3, [4, [5]]]], {"k": [{"k": [{"k": 1.000}]}]}]');
            -- every kind of numeric: many weights and scales, both signs
            INSERT INTO corpus (doc)
              SELECT to_jsonb(round(((random() - 0.5) * 10 ^ (i % 60 - 30))::numeric, i % 35))
                FROM generate_series(1, 4000) i;
            INSERT INTO corpus (doc)
              SELECT to_jsonb((random() * 1e18)::bigint) FROM generate_series(1, 500);
            -- objects and arrays long enough for the format's stored offsets (every 32 entries)
            INSERT INTO corpus (doc)
              SELECT jsonb_object_agg('key' || j, CASE WHEN j % 3 = 0 THEN to_jsonb(j * 1.5)
                                                     WHEN j % 3 = 1 THEN to_jsonb(repeat('v', j))
                                                     ELSE jsonb_build_array(j, 'x', j / 7.0) END)
                FROM generate_series(1, 20) n, generate_series(1, n * 10) j GROUP BY n;
            INSERT INTO corpus (doc)
              SELECT jsonb_agg(CASE WHEN j % 2 = 0 THEN to_jsonb(j) ELSE to_jsonb('s' || j) END)
                FROM generate_series(1, 10) n, generate_series(1, n * 25) j GROUP BY n;
            -- a large document, stored compressed and out of line
            INSERT INTO corpus (doc)
              SELECT jsonb_object_agg(j::text, md5(j::text)) FROM generate_series(1, 5000) j;
            -- deeper than the core accepts: left to the text path, which refuses it
            INSERT INTO corpus (doc, via_text)
              SELECT (repeat('[', 130) || repeat(']', 130))::jsonb, true;
        "#;
        Spi::run(corpus).unwrap();
        Spi::connect(|client| {
            let rows = client
                .select("SELECT doc, via_text FROM corpus", None, &[])
                .unwrap();
            let mut checked = 0;
            for row in rows {
                let doc = row.get::<RawJsonb>(1).unwrap().unwrap();
                let via_text = row.get::<bool>(2).unwrap().unwrap();
                let text = doc.with_text(|t| (t.to_string(), chronicle_core::json::parse("d", t)));
                match doc.read_binary() {
                    Some(binary) => {
                        assert!(!via_text, "read in binary: {}", text.0);
                        assert_eq!(Some(binary), text.1.ok(), "{}", text.0);
                    }
                    None => assert!(via_text, "left to the text path: {}", text.0),
                }
                checked += 1;
            }
            assert!(checked > 4500, "{checked}");
        });
    }

    #[pg_test]
    fn sealer_waits_briefly_while_events_come_and_backs_off_when_idle() {
        use crate::worker::next_wait;
        use std::time::Duration;
        let ms = Duration::from_millis;
        let (busy, interval) = (ms(1), ms(10));
        assert_eq!(next_wait(ms(10), 5, busy, interval), ms(1)); // positions handed out
        assert_eq!(next_wait(ms(1), 10_000, busy, interval), Duration::ZERO); // a full batch
        let backoff: Vec<_> =
            std::iter::successors(Some(ms(1)), |&w| Some(next_wait(w, 0, busy, interval)))
                .take(6)
                .collect();
        assert_eq!(backoff, [ms(1), ms(2), ms(4), ms(8), ms(10), ms(10)]);
        // A busy interval above seal_interval is seal_interval: the old fixed wait.
        assert_eq!(next_wait(ms(10), 5, ms(50), interval), ms(10));
        assert_eq!(next_wait(ms(10), 0, ms(50), interval), ms(10));
    }
}

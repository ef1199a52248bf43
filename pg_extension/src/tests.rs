//! `#[pg_test]`s of the adapter's internals; the SQL API as a whole is tested
//! by the golden files in `tests/sql/`.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn append_returns_consecutive_versions() {
        let v1 = Spi::get_one::<i64>(
            "SELECT chronicle.append_event('t-1', 'Created', '{\"a\": 1}')",
        );
        assert_eq!(v1, Ok(Some(1)));
        let v2 = Spi::get_one::<i64>(
            "SELECT chronicle.append_event('t-1', 'Changed', '{\"a\": 2}', expected_version => 1)",
        );
        assert_eq!(v2, Ok(Some(2)));
        assert_eq!(Spi::get_one::<i64>("SELECT chronicle.stream_version('t-1')"), Ok(Some(2)));
    }
}

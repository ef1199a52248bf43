//! Running Chronicle's own SQL through SPI.

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

/// A transaction id (`xid8`) as a statement argument.
pub fn xid8(value: u64) -> pgrx::datum::DatumWithOid<'static> {
    // SAFETY: an xid8 is a by-value 64-bit datum, as an int8 is.
    unsafe { pgrx::datum::DatumWithOid::new(value as i64, pgrx::pg_sys::XID8OID) }
}

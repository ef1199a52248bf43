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

thread_local! {
    /// The statements [`cached`] has prepared in this session, by text.
    static CACHED: std::cell::RefCell<std::collections::HashMap<String, &'static pgrx::spi::OwnedPreparedStatement>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// `sql` prepared once per session (see [`prepare_kept`]), found by its
/// text: for the statements whose text is built at run time from a few
/// shapes (replay's columns, the installed schema's).
pub fn cached(
    client: &pgrx::spi::SpiClient<'_>,
    sql: &str,
    types: &[pgrx::pg_sys::Oid],
) -> &'static pgrx::spi::OwnedPreparedStatement {
    if let Some(found) = CACHED.with(|c| c.borrow().get(sql).copied()) {
        return found;
    }
    let prepared: &'static _ = Box::leak(Box::new(prepare_kept(client, sql, types)));
    CACHED.with(|c| c.borrow_mut().insert(sql.to_string(), prepared));
    prepared
}

/// A transaction id (`xid8`): a by-value 64-bit datum, as an int8 is.
#[derive(Clone, Copy)]
pub struct Xid8(pub u64);

impl pgrx::IntoDatum for Xid8 {
    fn into_datum(self) -> Option<pgrx::pg_sys::Datum> {
        Some(pgrx::pg_sys::Datum::from(self.0 as i64))
    }

    fn type_oid() -> pgrx::pg_sys::Oid {
        pgrx::pg_sys::XID8OID
    }
}

/// A transaction id (`xid8`) as a statement argument.
pub fn xid8(value: u64) -> pgrx::datum::DatumWithOid<'static> {
    Xid8(value).into()
}

/// A row of a fetched SPI tuple table, read in place: no per-row copies of
/// its datums or type lookups (what pgrx's `SpiHeapTupleData` does, which
/// costs more than the scan on a long fold).
pub struct FetchedRow<'a> {
    tuple: *mut pgrx::pg_sys::HeapTupleData,
    tupdesc: pgrx::pg_sys::TupleDesc,
    types: &'a [pgrx::pg_sys::Oid],
}

impl FetchedRow<'_> {
    /// Column `ordinal` (1-based) as `T`, or None for NULL.
    pub fn get<T: pgrx::FromDatum>(&self, ordinal: usize) -> Option<T> {
        let attno = std::num::NonZeroUsize::new(ordinal).expect("ordinals are 1-based");
        // SAFETY: the tuple and its descriptor belong to the tuple table the
        // caller of `fetch_each` holds for the duration of the call.
        unsafe {
            let datum = pgrx::heap_getattr_raw(self.tuple, attno, self.tupdesc)?;
            T::from_polymorphic_datum(datum, false, self.types[ordinal - 1])
        }
    }
}

/// Fetches up to `count` rows from `cursor` and calls `each` on every one;
/// returns how many there were. Each column's type is checked once per
/// fetch against `types` (a bug in Chronicle's SQL otherwise).
pub fn fetch_each(
    cursor: &mut pgrx::spi::SpiCursor<'_>,
    count: i64,
    types: &[pgrx::pg_sys::Oid],
    each: impl FnMut(&FetchedRow<'_>),
) -> usize {
    each_row(spi(cursor.fetch(count)), types, each)
}

/// `read` of the first row of `table` (a statement's result; see
/// [`each_row`]), or None when it has none.
pub fn first_row<R>(
    table: pgrx::spi::SpiTupleTable<'_>,
    types: &[pgrx::pg_sys::Oid],
    read: impl FnOnce(&FetchedRow<'_>) -> R,
) -> Option<R> {
    let mut read = Some(read);
    let mut first = None;
    each_row(table, types, |row| {
        if let Some(read) = read.take() {
            first = Some(read(row));
        }
    });
    first
}

/// Calls `each` on every row of `table`, the result of the statement SPI ran
/// last, then frees it; returns how many rows there were. The types of its
/// columns are checked against `types`.
pub fn each_row(
    table: pgrx::spi::SpiTupleTable<'_>,
    types: &[pgrx::pg_sys::Oid],
    mut each: impl FnMut(&FetchedRow<'_>),
) -> usize {
    use pgrx::pg_sys;
    let n = table.len();
    if n == 0 {
        return 0;
    }
    // SAFETY: SPI left the table `table` wraps in SPI_tuptable. pgrx's
    // `SpiTupleTable` frees nothing (tables live until SPI_finish), so this
    // function frees the table once its rows are read: a long fold holds
    // one batch at a time, not the whole stream.
    unsafe {
        let raw = pg_sys::SPI_tuptable;
        assert!(!raw.is_null() && (*raw).numvals as usize == n);
        let tupdesc = (*raw).tupdesc;
        let found: Vec<pg_sys::Oid> = (1..=(*tupdesc).natts)
            .map(|i| pg_sys::SPI_gettypeid(tupdesc, i))
            .collect();
        assert!(
            found.len() == types.len() && found.iter().zip(types).all(|(f, t)| f == t),
            "fetched columns of types {found:?}, expected {types:?}"
        );
        for &tuple in std::slice::from_raw_parts((*raw).vals, n) {
            each(&FetchedRow {
                tuple,
                tupdesc,
                types,
            });
        }
        let _ = table;
        pg_sys::SPI_freetuptable(raw);
    }
    n
}

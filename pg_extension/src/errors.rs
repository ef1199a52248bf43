//! Core errors -> Postgres errors (SQLSTATE, message, DETAIL, HINT). Every
//! message is the core's; this only packs it into an ErrorReport.
//!
//! pgrx's error report knows only Postgres' own SQLSTATEs (any other becomes
//! XX000), so the kinds with a code of Chronicle's own (class 55, `55Zxx`)
//! are raised here, with Postgres' ereport, from the top of the function
//! that runs into them ([`with_own_sqlstates`]), once every Rust frame
//! below it has unwound.

use chronicle_core::message_db::Rejection;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{pg_sys, PgLogLevel, PgSqlErrorCode};
use std::cell::{Cell, RefCell};

/// Packs a five-character SQLSTATE the way Postgres' MAKE_SQLSTATE does.
fn pack(sqlstate: &str) -> i32 {
    sqlstate.bytes().enumerate().fold(0i32, |acc, (i, c)| {
        acc | ((((c - b'0') & 0x3F) as i32) << (6 * i))
    })
}

fn sqlstate_code(sqlstate: &str) -> PgSqlErrorCode {
    PgSqlErrorCode::from(pack(sqlstate))
}

/// Whether pgrx's report carries this SQLSTATE as it is.
fn postgres_knows(sqlstate: &str) -> bool {
    sqlstate == "XX000" || sqlstate_code(sqlstate) != PgSqlErrorCode::ERRCODE_INTERNAL_ERROR
}

/// How an interface of another store words some of Chronicle's errors.
type Dialect = Box<dyn Fn(&chronicle_core::Error) -> Option<Rejection>>;

thread_local! {
    /// How many [`with_own_sqlstates`] calls are running in this session.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// The dialect of the running [`in_dialect`] call, if any.
    static DIALECT: RefCell<Option<Dialect>> = const { RefCell::new(None) };
}

/// Runs `body` (a Chronicle operation on behalf of another store's
/// interface: message-db's `write_message`) with the errors `dialect`
/// rewords raised in those words instead (its clients match on them).
pub fn in_dialect<R>(
    dialect: impl Fn(&chronicle_core::Error) -> Option<Rejection> + 'static,
    body: impl FnOnce() -> R,
) -> R {
    struct Reset(Option<Dialect>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            DIALECT.with(|d| *d.borrow_mut() = previous);
        }
    }
    let previous = DIALECT.with(|d| d.borrow_mut().replace(Box::new(dialect)));
    let _reset = Reset(previous);
    body()
}

/// Raises a rejection in another store's words; never returns.
pub fn reject(r: Rejection, function: &'static str) -> ! {
    let mut report =
        ErrorReport::new(sqlstate_code(r.sqlstate), r.message, function).set_hint(r.hint);
    if let Some(detail) = r.detail {
        report = report.set_detail(detail);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("an ERROR does not return")
}

/// An error whose SQLSTATE pgrx cannot carry, on its way (a panic payload)
/// to the [`with_own_sqlstates`] that raises it.
struct OwnSqlstate {
    sqlstate: &'static str,
    message: String,
    detail: Option<String>,
    hint: String,
    function: &'static str,
}

/// Raises `e` as an ERROR; never returns.
pub fn raise(e: chronicle_core::Error, function: &'static str) -> ! {
    if let Some(r) = DIALECT.with(|d| d.borrow().as_ref().and_then(|reword| reword(&e))) {
        reject(r, function);
    }
    let sqlstate = e.sqlstate();
    if !postgres_knows(sqlstate) && CATCHING.with(Cell::get) > 0 {
        std::panic::panic_any(OwnSqlstate {
            sqlstate,
            message: e.message(),
            detail: e.detail(),
            hint: e.hint(),
            function,
        });
    }
    // Outside with_own_sqlstates, an own code keeps at least its class.
    let code = if postgres_knows(sqlstate) {
        sqlstate_code(sqlstate)
    } else {
        sqlstate_code(&format!("{}000", &sqlstate[..2]))
    };
    let mut report = ErrorReport::new(code, e.message(), function).set_hint(e.hint());
    if let Some(detail) = e.detail() {
        report = report.set_detail(detail);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("an ERROR does not return")
}

/// Runs the body of a SQL function that may raise an error with a SQLSTATE
/// of Chronicle's own, and raises such an error with that SQLSTATE.
pub fn with_own_sqlstates<R>(body: impl FnOnce() -> R) -> R {
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    CATCHING.with(|c| c.set(c.get() - 1));
    match result {
        Ok(value) => value,
        Err(payload) => match payload.downcast::<OwnSqlstate>() {
            Ok(own) => report_own(*own),
            Err(other) => std::panic::resume_unwind(other),
        },
    }
}

/// Postgres' ereport(ERROR, ...), as pgrx's own report does it; the strings
/// are copied into ErrorContext first, so nothing of Rust's is left to drop
/// when Postgres jumps out.
fn report_own(own: OwnSqlstate) -> ! {
    unsafe extern "C-unwind" {
        fn errstart(elevel: std::os::raw::c_int, domain: *const std::os::raw::c_char) -> bool;
        fn errcode(sqlerrcode: std::os::raw::c_int) -> std::os::raw::c_int;
        fn errmsg(fmt: *const std::os::raw::c_char, ...) -> std::os::raw::c_int;
        fn errdetail(fmt: *const std::os::raw::c_char, ...) -> std::os::raw::c_int;
        fn errhint(fmt: *const std::os::raw::c_char, ...) -> std::os::raw::c_int;
        fn errfinish(
            filename: *const std::os::raw::c_char,
            lineno: std::os::raw::c_int,
            funcname: *const std::os::raw::c_char,
        );
    }
    use pgrx::pg_sys::AsPgCStr;
    let code = pack(own.sqlstate);
    unsafe {
        let previous = pg_sys::MemoryContextSwitchTo(pg_sys::ErrorContext);
        let message = own.message.as_pg_cstr();
        let detail = own.detail.as_deref().map(|d| d.as_pg_cstr());
        let hint = own.hint.as_pg_cstr();
        let function = own.function.as_pg_cstr();
        let file = file!().as_pg_cstr();
        pg_sys::MemoryContextSwitchTo(previous);
        drop(own);
        if errstart(pg_sys::PGERROR as _, std::ptr::null()) {
            errcode(code);
            errmsg(c"%s".as_ptr(), message);
            if let Some(detail) = detail {
                errdetail(c"%s".as_ptr(), detail);
            }
            errhint(c"%s".as_ptr(), hint);
            errfinish(file, line!() as _, function);
        }
    }
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
            // Postgres' codes, or Chronicle's own in class 55 (55Zxx).
            assert!(
                postgres_knows(kind.sqlstate) || kind.sqlstate.starts_with("55Z"),
                "{}",
                kind.name
            );
        }
    }
}

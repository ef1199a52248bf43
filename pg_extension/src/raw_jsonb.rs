//! `jsonb` arguments passed through as they are.
//!
//! pgrx's `JsonB` converts every argument to text and into a `serde_json`
//! value, and back again when it is stored. Chronicle stores the caller's
//! datum untouched and only reads its text where the core must judge it.

use std::ffi::CStr;

use pgrx::callconv::{Arg, ArgAbi};
use pgrx::{direct_function_call, pg_sys, FromDatum, IntoDatum};

/// A `jsonb` datum owned by Postgres, valid for the current call.
#[derive(Clone, Copy)]
pub struct RawJsonb(pg_sys::Datum);

impl RawJsonb {
    /// A new `jsonb` datum of `value` (in the current memory context: for
    /// the current call), made once however often it is passed.
    pub fn from_value(value: &serde_json::Value) -> RawJsonb {
        let text =
            std::ffi::CString::new(serde_json::to_string(value).expect("a Value serializes"))
                .expect("JSON text has no NUL byte");
        let datum = unsafe {
            pgrx::direct_function_call_as_datum(pg_sys::jsonb_in, &[Some(text.as_ptr().into())])
        };
        RawJsonb(datum.expect("jsonb_in returns a document"))
    }

    /// The document as JSON text (what `jsonb_out` prints).
    pub fn with_text<R>(self, f: impl FnOnce(&str) -> R) -> R {
        unsafe {
            let varlena = self.0.cast_mut_ptr::<pg_sys::varlena>();
            let detoasted = pg_sys::pg_detoast_datum_packed(varlena);
            let cstr = direct_function_call::<&CStr>(pg_sys::jsonb_out, &[Some(detoasted.into())])
                .expect("jsonb_out returns text");
            let result = f(cstr.to_str().expect("jsonb text is UTF-8"));
            pg_sys::pfree(cstr.as_ptr() as *mut std::ffi::c_void);
            if detoasted != varlena {
                pg_sys::pfree(detoasted.cast());
            }
            result
        }
    }

    /// The document as the core reads it: what `chronicle_core::json::parse`
    /// makes of its text (depth limit, exact numbers), read from the binary
    /// form (`jsonb_binary`) when it can be, which skips printing and
    /// parsing the text.
    pub fn parse(self, field: &str) -> chronicle_core::Result<serde_json::Value> {
        match self.read_binary() {
            Some(value) => Ok(value),
            None => self.with_text(|text| chronicle_core::json::parse(field, text)),
        }
    }

    /// The document read from its binary form, when `jsonb_binary` takes it
    /// on.
    pub fn read_binary(self) -> Option<serde_json::Value> {
        unsafe {
            let varlena = self.0.cast_mut_ptr::<pg_sys::varlena>();
            let detoasted = pg_sys::pg_detoast_datum_packed(varlena);
            let value = crate::jsonb_binary::read(varlena_bytes(detoasted));
            if detoasted != varlena {
                pg_sys::pfree(detoasted.cast());
            }
            value
        }
    }
}

/// `VARDATA_ANY` of an in-line (not TOASTed) varlena, as bytes.
///
/// # Safety
/// `varlena` points to a detoasted (possibly short-header) varlena that
/// outlives the slice.
unsafe fn varlena_bytes<'a>(varlena: *const pg_sys::varlena) -> &'a [u8] {
    unsafe {
        std::slice::from_raw_parts(
            pgrx::varlena::vardata_any(varlena).cast::<u8>(),
            pgrx::varlena::varsize_any_exhdr(varlena),
        )
    }
}

impl FromDatum for RawJsonb {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<Self> {
        (!is_null).then_some(RawJsonb(datum))
    }
}

impl IntoDatum for RawJsonb {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.0)
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

unsafe impl<'fcx> ArgAbi<'fcx> for RawJsonb {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        unsafe {
            arg.unbox_arg_using_from_datum()
                .unwrap_or_else(|| panic!("argument {index} must not be null"))
        }
    }
}

pgrx::impl_sql_translatable!(RawJsonb, "jsonb");

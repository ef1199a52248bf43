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

    /// Parses the document with the core's JSON rules (depth, numbers).
    pub fn parse(self, field: &str) -> chronicle_core::Result<serde_json::Value> {
        self.with_text(|text| chronicle_core::json::parse(field, text))
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

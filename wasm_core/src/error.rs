//! The core's errors as JavaScript `Error`s.
//!
//! `error.code` is the SQLSTATE the database raises for the same rejection,
//! `error.name` the core's symbolic name (`invalid_value`, ...), and
//! `error.field`, `error.hint`, `error.detail` what the Postgres error
//! carries as field, HINT and DETAIL.

use chronicle_core::Error;
use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// The JavaScript `Error` of a core error.
pub fn to_js(e: &Error) -> JsValue {
    let error = js_sys::Error::new(&e.message());
    error.set_name(e.name());
    let set = |key: &str, value: &str| {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&error, &JsValue::from_str(key), &JsValue::from_str(value));
    };
    set("code", e.sqlstate());
    set("field", e.field());
    set("hint", &e.hint());
    if let Some(detail) = e.detail() {
        set("detail", &detail);
    }
    error.into()
}

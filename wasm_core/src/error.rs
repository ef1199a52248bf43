//! The core's errors as JavaScript `Error`s.
//!
//! The Error carries the members of the core's error JSON
//! ([`Error::to_json`]): `code` (the SQLSTATE the database raises for the
//! same rejection), `name` (the symbolic name, `invalid_value`, ...),
//! `field`, `message`, `hint` and, when there is one, `detail`.

use chronicle_core::Error;
use js_sys::Reflect;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// The JavaScript `Error` of a core error.
pub fn to_js(e: &Error) -> JsValue {
    let error = js_sys::Error::new(&e.message());
    error.set_name(e.name());
    if let Value::Object(members) = e.to_json() {
        for (key, value) in members {
            if let Value::String(text) = value {
                // Setting a property on a fresh Error object cannot fail.
                let _ = Reflect::set(&error, &JsValue::from_str(&key), &JsValue::from_str(&text));
            }
        }
    }
    error.into()
}

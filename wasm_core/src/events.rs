//! JavaScript arguments as the core's values: documents, options, events.

use chronicle_core::event::Event;
use chronicle_core::{json, Error, Result};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

/// A document argument: JSON text, or a JavaScript value (serialised with
/// `JSON.stringify`, so it must be JSON-compatible).
pub fn document(field: &str, value: &JsValue) -> Result<Value> {
    optional_document(field, value)?.ok_or_else(|| Error::Null {
        field: field.to_string(),
    })
}

/// Like [`document`], with `null`/`undefined` read as absent.
pub fn optional_document(field: &str, value: &JsValue) -> Result<Option<Value>> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    json::parse(field, &text_of(field, value)?).map(Some)
}

/// The JSON text of an argument: a string, UTF-8 bytes (a `Uint8Array`,
/// e.g. a fetched body: copied in as they are, where a string is re-encoded
/// character by character), or a value to serialise.
fn text_of(field: &str, value: &JsValue) -> Result<String> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        return String::from_utf8(bytes.to_vec())
            .map_err(|e| json::not_utf8(field, e.utf8_error().valid_up_to()));
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| json::unwritable(field))
}

fn member(options: &JsValue, key: &str) -> JsValue {
    if !options.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A document member of an `options` object (JSON text or a value;
/// absent: `None`).
pub fn option(options: &JsValue, key: &str) -> Result<Option<Value>> {
    optional_document(&format!("options.{key}"), &member(options, key))
}

/// A scalar member of an `options` object (a string is a string here, not
/// JSON text; absent: `None`).
pub fn option_value(options: &JsValue, key: &str) -> Result<Option<Value>> {
    let value = member(options, key);
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    if let Some(s) = value.as_string() {
        return Ok(Some(Value::String(s)));
    }
    optional_document(&format!("options.{key}"), &value)
}

/// A whole number argument (`None` if the value is not one).
pub fn whole(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 9e15).then_some(v as i64)
}

/// The text of an events argument (a JSON array or NDJSON text, or an array).
pub fn events_text(field: &str, value: &JsValue) -> Result<String> {
    text_of(field, value)
}

/// One event argument.
pub fn one_event(field: &str, value: &JsValue) -> Result<Event> {
    Event::from_json(document(field, value)?)
}

/// A JavaScript value from JSON text the core wrote.
pub fn to_js_value(text: &str) -> std::result::Result<JsValue, JsValue> {
    js_sys::JSON::parse(text).map(|v| v.unchecked_into())
}

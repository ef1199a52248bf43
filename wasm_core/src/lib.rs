//! Chronicle's core for JavaScript.
//!
//! A thin facade over `chronicle-core`: it turns JavaScript values into the
//! core's types, calls the core, and turns the core's errors into JavaScript
//! `Error`s carrying the same stable code (SQLSTATE) the database raises. It
//! has no rules of its own: a state computed here is the state
//! `chronicle.state_at` computes, byte for byte in canonical JSON.
//!
//! Values cross the boundary as JSON text (`JSON.stringify` / `JSON.parse`
//! on the JavaScript side): faster than walking JavaScript objects from Rust,
//! and text keeps numbers exact (`1.50`, 30-digit integers), which JavaScript
//! numbers cannot. Every function taking a document accepts either a JSON
//! string or a plain JavaScript value.

mod error;
mod events;
mod history;

use chronicle_core::reducer::Reducer;
use chronicle_core::replay::{until, Folder, OnFailure, Until};
use chronicle_core::schema::{check_event, EventTypeSchemas, Schema};
use chronicle_core::upcast::{parse_all, upcast_event};
use chronicle_core::{canonical, diff as patch, export, stream};
use serde_json::Value;
use wasm_bindgen::prelude::*;

pub use error::to_js;
pub use history::History;

use events::{
    document, events_text, one_event, option, option_value, optional_document, to_js_value,
};

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(start)]
fn start() {
    // A panic would otherwise reach JavaScript as "unreachable" with no text.
    console_error_panic_hook::set_once();
}

/// The reducer of a definition, or the default merge for `null`/`undefined`.
fn reducer_arg(reducer: &JsValue) -> chronicle_core::Result<Option<Reducer>> {
    match optional_document("reducer", reducer)? {
        None | Some(Value::Null) => Ok(None),
        Some(definition) => Reducer::parse(&definition).map(Some),
    }
}

/// `replay(events, reducer, options)`: the state after folding `events`
/// (in the shape `chronicle.read_stream` or an export gives them) with
/// `reducer` (a definition, or `null` for the default merge).
///
/// `options`: `toVersion` (stop after it; a version beyond the events is an
/// error, as in `chronicle.state_at`), `asOf` (stop before the first event
/// recorded after this RFC 3339 time), `upcasters`
/// (`{"EventType": {"1": [steps]}}`), `format: "json"` (return the canonical
/// JSON text instead of an object). A failing step throws (code 22000), as
/// `chronicle.state_at` does.
#[wasm_bindgen]
pub fn replay(events: JsValue, reducer: JsValue, options: JsValue) -> JsResult<JsValue> {
    let run = || -> chronicle_core::Result<String> {
        let reducer = reducer_arg(&reducer)?;
        let upcasters = parse_all(&option(&options, "upcasters")?.unwrap_or(Value::Null))?;
        let until = until(
            "options.toVersion",
            option_value(&options, "toVersion")?.as_ref(),
            "options.asOf",
            option_value(&options, "asOf")?.as_ref(),
        )?;
        let needs = reducer.as_ref().map(Reducer::envelope_fields);
        let text = events_text("events", &events)?;
        let mut folder =
            Folder::new(reducer.as_ref(), None, OnFailure::Stop).with_upcasters(&upcasters);
        for event in export::events("events", &text, needs.as_ref())? {
            let event = event?;
            if until.excludes(&event)? {
                break;
            }
            folder.step(event)?;
        }
        if let Until::Version(v) = until {
            // A version the events never reached: an error, as in state_at.
            stream::check_version("options.toVersion", i64::try_from(v).ok(), folder.version())?;
        }
        Ok(canonical::to_string(folder.state()))
    };
    let text = run().map_err(|e| to_js(&e))?;
    if option_value(&options, "format").map_err(|e| to_js(&e))? == Some(Value::from("json")) {
        Ok(JsValue::from_str(&text))
    } else {
        to_js_value(&text)
    }
}

/// `history(events, reducer, options)`: parses and folds `events` once and
/// answers `stateAt(version)` cheaply while a slider moves. `options`:
/// `upcasters`, `schemas` (`{"EventType": {"1": schema}}`, events that do not
/// match are marked, not dropped).
#[wasm_bindgen]
pub fn history(events: JsValue, reducer: JsValue, options: JsValue) -> JsResult<History> {
    History::from_args(&events, &reducer, &options).map_err(|e| to_js(&e))
}

/// `loadExport(text)`: a [`History`] of an NDJSON export, with the
/// export's reducer, upcasters and schemas.
#[wasm_bindgen(js_name = loadExport)]
pub fn load_export(text: &str) -> JsResult<History> {
    History::from_export(text).map_err(|e| to_js(&e))
}

/// `parseExport(text)`: `{stream, reducer, upcasters, schemas, events}` of
/// an NDJSON export (`stream` is its header line).
#[wasm_bindgen(js_name = parseExport)]
pub fn parse_export(text: &str) -> JsResult<JsValue> {
    let parsed = export::parse(text).map_err(|e| to_js(&e))?;
    to_js_value(&parsed.to_json())
}

/// `diff(a, b)`: the RFC 6902 JSON Patch that turns `a` into `b`.
#[wasm_bindgen]
pub fn diff(a: JsValue, b: JsValue) -> JsResult<JsValue> {
    let run = || -> chronicle_core::Result<String> {
        let a = document("a", &a)?;
        let b = document("b", &b)?;
        Ok(canonical::to_string(&patch::diff(&a, &b)))
    };
    to_js_value(&run().map_err(|e| to_js(&e))?)
}

/// `validate(event, schema)`: `true` if the event's `data` matches `schema`
/// (a JSON Schema in Chronicle's subset); throws code 23514 naming the JSON
/// path if not, 22023 if the schema itself is not valid.
#[wasm_bindgen]
pub fn validate(event: JsValue, schema: JsValue) -> JsResult<bool> {
    let run = || -> chronicle_core::Result<bool> {
        let event = one_event("event", &event)?;
        let schema = Schema::parse(&document("schema", &schema)?)?;
        let version = event.schema_version();
        let schemas: EventTypeSchemas = [(version, schema)].into();
        check_event(
            Some(&schemas),
            event.event_type(),
            version,
            "",
            event.data(),
        )?;
        Ok(true)
    };
    run().map_err(|e| to_js(&e))
}

/// `upcast(event, upcasters)`: the event with its `data` and
/// `schema_version` brought to the newest version by `upcasters`
/// (`{"EventType": {"1": [steps]}}`); unchanged if none applies.
#[wasm_bindgen]
pub fn upcast(event: JsValue, upcasters: JsValue) -> JsResult<JsValue> {
    let run = || -> chronicle_core::Result<String> {
        let event = one_event("event", &event)?;
        let upcasters = parse_all(&document("upcasters", &upcasters)?)?;
        let upcast = upcast_event(&upcasters, &event)?;
        Ok(canonical::to_string(
            upcast.as_ref().unwrap_or(&event).envelope(),
        ))
    };
    to_js_value(&run().map_err(|e| to_js(&e))?)
}

/// `canonical(value)`: the canonical JSON text of a document (sorted keys,
/// no white space, exact numbers) — what the tests compare byte for byte.
#[wasm_bindgen]
pub fn canonical(value: JsValue) -> JsResult<String> {
    document("value", &value)
        .map(|v| canonical::to_string(&v))
        .map_err(|e| to_js(&e))
}

//! `History` for JavaScript: the core's time-travel history
//! ([`chronicle_core::history::History`]) with JavaScript arguments and
//! errors.

use chronicle_core::history::History as Core;
use chronicle_core::{canonical, Result};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::to_js;
use crate::events::{events_text, option, optional_document, to_js_value, whole};

type JsResult<T> = std::result::Result<T, JsValue>;

/// A stream's events, parsed and folded once: `stateAt(version)` answers
/// while a slider moves (see the core's documentation).
#[wasm_bindgen]
pub struct History {
    core: Core,
}

fn js<T>(r: Result<T>) -> JsResult<T> {
    r.map_err(|e| to_js(&e))
}

/// Grows the wasm heap once to about `bytes` up front: growing it step by
/// step while a big stream loads makes V8 run a full garbage collection at
/// every step (minutes for a million events instead of about a second).
fn reserve_heap(bytes: usize) {
    let mut reserve: Vec<u8> = Vec::new();
    // Only a hint: without the memory, the load grows the heap as it goes.
    if reserve.try_reserve(bytes.min(1 << 30)).is_ok() {
        std::hint::black_box(&reserve);
    }
}

/// About the length of a string argument (0 for other values), without
/// copying it out of JavaScript.
fn text_len(v: &JsValue) -> usize {
    v.dyn_ref::<js_sys::JsString>()
        .map_or(0, |s| s.length() as usize)
}

impl History {
    pub fn from_args(events: &JsValue, reducer: &JsValue, options: &JsValue) -> Result<History> {
        reserve_heap(text_len(events) * 2);
        let mut core = Core::new(
            optional_document("reducer", reducer)?.unwrap_or(Value::Null),
            option(options, "upcasters")?.unwrap_or(Value::Null),
            option(options, "schemas")?.unwrap_or(Value::Null),
            None,
        )?;
        core.extend(&events_text("events", events)?)?;
        Ok(History { core })
    }

    pub fn from_export(text: &str) -> Result<History> {
        reserve_heap(text.len() * 2);
        Ok(History {
            core: Core::from_export(text)?,
        })
    }

    fn version(&self, version: f64) -> Result<u64> {
        self.core.check_version("version", whole(version))
    }
}

#[wasm_bindgen]
impl History {
    /// The version of the last loaded event (the base when there is none).
    pub fn head(&self) -> f64 {
        self.core.head() as f64
    }

    /// The version before the first loaded event: 0, or for a stream whose
    /// first events were removed (`truncate_stream`, retention), the base
    /// its export carries: its state is `stateAt(base())`, and earlier
    /// versions are refused (55Z02 `history_removed`).
    pub fn base(&self) -> f64 {
        self.core.base() as f64
    }

    /// Folds more events onto the history (JSON-array or NDJSON text, or an
    /// array of events): they must continue at `head() + 1`. Returns the new
    /// head.
    pub fn push(&mut self, events: JsValue) -> JsResult<f64> {
        reserve_heap(text_len(&events) * 2);
        js(self.core.extend(&js(events_text("events", &events))?))?;
        Ok(self.head())
    }

    /// The state after `version` (0: the initial state).
    #[wasm_bindgen(js_name = stateAt)]
    pub fn state_at(&mut self, version: f64) -> JsResult<JsValue> {
        to_js_value(&self.state_json_at(version)?)
    }

    /// The canonical JSON text of the state after `version`.
    #[wasm_bindgen(js_name = stateJsonAt)]
    pub fn state_json_at(&mut self, version: f64) -> JsResult<String> {
        let v = js(self.version(version))?;
        Ok(canonical::to_string(&js(self.core.state(v))?))
    }

    /// The RFC 6902 patch from the state before `version` to the state after it.
    #[wasm_bindgen(js_name = diffAt)]
    pub fn diff_at(&mut self, version: f64) -> JsResult<JsValue> {
        to_js_value(&self.diff_json_at(version)?)
    }

    /// The same patch as canonical JSON text (numbers exact).
    #[wasm_bindgen(js_name = diffJsonAt)]
    pub fn diff_json_at(&mut self, version: f64) -> JsResult<String> {
        let v = js(self.version(version))?;
        Ok(canonical::to_string(&js(self.core.diff_at(v))?))
    }

    /// The event at `version` (1..head) as JSON text, keys sorted.
    #[wasm_bindgen(js_name = eventJson)]
    pub fn event_json(&self, version: f64) -> JsResult<String> {
        let event = js(self.core.event("version", whole(version)))?;
        Ok(canonical::to_string(event.envelope()))
    }

    /// The event at `version` as an object.
    pub fn event(&self, version: f64) -> JsResult<JsValue> {
        to_js_value(&self.event_json(version)?)
    }

    /// The event type of the event at `version`.
    #[wasm_bindgen(js_name = eventType)]
    pub fn event_type(&self, version: f64) -> JsResult<String> {
        js(self
            .core
            .event_type("version", whole(version))
            .map(String::from))
    }

    /// `recorded_at` of the event at `version` (canonical RFC 3339), if any.
    #[wasm_bindgen(js_name = recordedAt)]
    pub fn recorded_at(&self, version: f64) -> JsResult<Option<String>> {
        js(self
            .core
            .recorded_at("version", whole(version))
            .map(|t| t.map(String::from)))
    }

    /// Every marked step: `{version, kind, code, name, field, message, detail, hint}`.
    pub fn failures(&self) -> JsResult<JsValue> {
        let all: Vec<Value> = self.core.failures().iter().map(|f| f.to_json()).collect();
        to_js_value(&Value::Array(all).to_string())
    }

    /// The first marked step at `version`, or `undefined`.
    #[wasm_bindgen(js_name = failureAt)]
    pub fn failure_at(&self, version: f64) -> JsResult<JsValue> {
        match whole(version).and_then(|v| self.core.failure_at(v.max(0) as u64)) {
            Some(f) => to_js_value(&f.to_json().to_string()),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// `[{event_type, count}]` of the loaded events, in order of first appearance.
    #[wasm_bindgen(js_name = eventTypes)]
    pub fn event_types(&self) -> JsResult<JsValue> {
        let all: Vec<Value> = self
            .core
            .event_types()
            .into_iter()
            .map(|(t, n)| serde_json::json!({"event_type": t, "count": n}))
            .collect();
        to_js_value(&Value::Array(all).to_string())
    }

    /// The versions whose event type is one of `types` (ascending).
    #[wasm_bindgen(js_name = versionsOf)]
    pub fn versions_of(&self, types: Vec<String>) -> Vec<u32> {
        self.core.versions_of(&types)
    }

    /// The state after `version` as if the events at the `skipped` versions
    /// had not happened (nothing is written anywhere): `{stateJson, failed}`,
    /// the state's canonical JSON text and the versions after the first
    /// skipped one whose step failed in this replay.
    #[wasm_bindgen(js_name = stateWithout)]
    pub fn state_without(&mut self, version: f64, skipped: Vec<f64>) -> JsResult<JsValue> {
        let v = js(self.version(version))?;
        let skipped: Vec<i64> = skipped
            .into_iter()
            .map(|s| whole(s).unwrap_or(-1))
            .collect();
        let what_if = js(self.core.state_without(v, &skipped))?;
        let out = js_sys::Object::new();
        let failed: js_sys::Array = what_if
            .failed
            .iter()
            .map(|&v| JsValue::from(v as f64))
            .collect();
        js_sys::Reflect::set(
            &out,
            &"stateJson".into(),
            &canonical::to_string(&what_if.state).into(),
        )?;
        js_sys::Reflect::set(&out, &"failed".into(), &failed)?;
        Ok(out.into())
    }

    /// The number at `member` (a JSON pointer) in the state after every
    /// version `from..=to`; `NaN` where there is none.
    pub fn series(&mut self, member: &str, from: f64, to: f64) -> JsResult<Vec<f64>> {
        let from = js(self.core.check_version("from_version", whole(from)))?;
        let to = js(self.core.check_version("to_version", whole(to)))?;
        let values = js(self.core.series(member, from, to))?;
        Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }

    /// The versions whose event mentions `text` (type, ids, data, metadata;
    /// case ignored), ascending.
    #[wasm_bindgen(js_name = versionsMatching)]
    pub fn versions_matching(&self, text: &str) -> Vec<u32> {
        self.core.versions_matching(text)
    }

    /// The version the stream was at `time` (RFC 3339): the version before the
    /// first event recorded after it, as `chronicle.state_at(as_of => ...)`.
    #[wasm_bindgen(js_name = versionAt)]
    pub fn version_at(&self, time: &str) -> JsResult<f64> {
        js(self.core.version_at("time", time)).map(|v| v as f64)
    }

    /// Throws (22023) if the history holds fewer events than its export
    /// header promises: call it after the last `push` of a file loaded in parts.
    #[wasm_bindgen(js_name = checkComplete)]
    pub fn check_complete(&self) -> JsResult<()> {
        js(self.core.check_complete())
    }

    /// The export header this history was loaded from, or `null`.
    pub fn header(&self) -> JsResult<JsValue> {
        match self.core.header() {
            Some(h) => to_js_value(&h.to_string()),
            None => Ok(JsValue::NULL),
        }
    }

    /// The loaded events as an NDJSON export (header line, then one event per line).
    #[wasm_bindgen(js_name = exportText)]
    pub fn export_text(&self) -> String {
        let now = String::from(js_sys::Date::new_0().to_iso_string());
        self.core.export_text(&now, env!("CARGO_PKG_VERSION"))
    }
}

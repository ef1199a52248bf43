//! An in-memory event store: the reference model of the append path.
//!
//! It composes the core's decisions in the order of [`crate::append`], exactly
//! as the Postgres extension does, with maps instead of tables. The shared
//! test vectors (`tests/vectors/`) and the property tests run against it; the
//! SQL vector runner runs the same vectors against the extension.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::append::{check_append_args, decide_append, Head};
use crate::batch::parse_batch;
use crate::error::{require, Error, Result};
use crate::identifier::check_references;
use crate::limits::Limits;
use crate::payload::{validate_payload, Payload};
use crate::schema::{check_definition, check_event, EventTypeSchemas};
use crate::sequencing::{classify_retry, IdCheck, Retry, StoredEvent};

/// The arguments of `chronicle.append_event`; `None` is SQL NULL.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendEventArgs {
    pub stream_id: Option<String>,
    pub event_type: Option<String>,
    pub data: Option<Value>,
    pub metadata: Option<Value>,
    pub expected_version: Option<i64>,
    pub event_id: Option<String>,
    pub stream_type: Option<String>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub actor: Option<String>,
    pub occurred_at: Option<String>,
    pub schema_version: Option<i64>,
    pub version: Option<i64>,
}

/// The arguments of `chronicle.append_events`; `None` is SQL NULL.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendEventsArgs {
    pub stream_id: Option<String>,
    pub events: Option<Value>,
    pub expected_version: Option<i64>,
    pub stream_type: Option<String>,
}

/// The arguments of `chronicle.define_event_type`; `None` is SQL NULL.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefineEventTypeArgs {
    pub event_type: Option<String>,
    pub schema_version: Option<i64>,
    pub definition: Option<Value>,
}

/// One stored event, as far as the model keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub event_id: String,
    pub event_type: String,
    pub data: Value,
    pub version: u64,
}

#[derive(Debug, Clone)]
struct Stream {
    stream_type: String,
    events: Vec<StoredRow>,
}

/// The model store.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    limits: Limits,
    streams: BTreeMap<String, Stream>,
    by_id: HashMap<String, (String, usize)>,
    generated_ids: u64,
    schemas: HashMap<String, EventTypeSchemas>,
}

/// An event about to be written: its id (if given), type and data.
struct Draft<'a> {
    field: String,
    event_id: Option<String>,
    event_type: &'a str,
    data: &'a Value,
}

impl MemoryStore {
    pub fn new(limits: Limits) -> MemoryStore {
        MemoryStore {
            limits,
            ..MemoryStore::default()
        }
    }

    /// `chronicle.define_event_type`.
    pub fn define_event_type(&mut self, a: &DefineEventTypeArgs) -> Result<()> {
        let (event_type, version, schema) = check_definition(
            a.event_type.as_deref(),
            a.schema_version,
            a.definition.as_ref(),
        )?;
        self.schemas
            .entry(event_type)
            .or_default()
            .insert(version, schema);
        Ok(())
    }

    /// `chronicle.append_event`.
    pub fn append_event(&mut self, a: &AppendEventArgs) -> Result<u64> {
        let (stream_id, expected) = check_append_args(
            a.stream_id.as_deref(),
            a.stream_type.as_deref(),
            a.expected_version,
            a.version,
        )?;
        let event_type = require(a.event_type.as_deref(), "event_type")?;
        let data = require(a.data.as_ref(), "data")?;
        let empty = Value::Object(Map::new());
        let metadata = a.metadata.as_ref().unwrap_or(&empty);
        let schema_version = a.schema_version.unwrap_or(1);
        validate_payload(
            &Payload {
                event_type,
                schema_version,
                data,
                metadata,
                actor: a.actor.as_deref(),
            },
            &self.limits,
        )?;
        check_references(a.correlation_id.as_deref(), a.causation_id.as_deref())?;
        check_event(
            self.schemas.get(event_type),
            event_type,
            schema_version,
            "",
            data,
        )?;
        let drafts = [Draft {
            field: "event_id".to_string(),
            event_id: a.event_id.clone(),
            event_type,
            data,
        }];
        self.append(&stream_id, expected, a.stream_type.as_deref(), &drafts)
    }

    /// `chronicle.append_events`.
    pub fn append_events(&mut self, a: &AppendEventsArgs) -> Result<u64> {
        let (stream_id, expected) = check_append_args(
            a.stream_id.as_deref(),
            a.stream_type.as_deref(),
            a.expected_version,
            None,
        )?;
        let events = parse_batch(require(a.events.as_ref(), "events")?, &self.limits)?;
        for (i, e) in events.iter().enumerate() {
            check_event(
                self.schemas.get(&e.event_type),
                &e.event_type,
                e.schema_version,
                &format!("events[{i}]."),
                &e.data,
            )?;
        }
        let drafts: Vec<Draft> = events
            .iter()
            .enumerate()
            .map(|(i, e)| Draft {
                field: format!("events[{i}].event_id"),
                event_id: e.event_id.clone(),
                event_type: &e.event_type,
                data: &e.data,
            })
            .collect();
        self.append(&stream_id, expected, a.stream_type.as_deref(), &drafts)
    }

    fn append(
        &mut self,
        stream_id: &str,
        expected: crate::sequencing::ExpectedVersion,
        given_type: Option<&str>,
        drafts: &[Draft<'_>],
    ) -> Result<u64> {
        let checks: Vec<IdCheck> = drafts
            .iter()
            .map(|d| IdCheck {
                field: d.field.clone(),
                event_id: d.event_id.clone(),
                stored: d.event_id.as_ref().and_then(|id| self.lookup(id, d)),
            })
            .collect();
        if let Retry::AlreadyStored { last_version } = classify_retry(stream_id, expected, &checks)?
        {
            return Ok(last_version);
        }
        let head = self.streams.get(stream_id).map(|s| Head {
            version: s.events.len() as u64,
            stream_type: s.stream_type.clone(),
            deleted_for_good: false,
            archived: false,
        });
        let decision = decide_append(stream_id, expected, given_type, head.as_ref(), drafts.len())?;
        let stream = self
            .streams
            .entry(stream_id.to_string())
            .or_insert_with(|| Stream {
                stream_type: decision.stream_type.clone(),
                events: Vec::new(),
            });
        for (d, version) in drafts.iter().zip(decision.plan.first..) {
            let event_id = d.event_id.clone().unwrap_or_else(|| {
                self.generated_ids += 1;
                format!("00000000-0000-4000-8000-{:012x}", self.generated_ids)
            });
            if self.by_id.contains_key(&event_id) {
                // The unique index on event_id in Postgres.
                return Err(Error::invalid(
                    d.field.clone(),
                    "collides with a stored event id",
                    "Use a new event_id.",
                ));
            }
            self.by_id.insert(
                event_id.clone(),
                (stream_id.to_string(), stream.events.len()),
            );
            stream.events.push(StoredRow {
                event_id,
                event_type: d.event_type.to_string(),
                data: d.data.clone(),
                version,
            });
        }
        Ok(decision.plan.last)
    }

    fn lookup(&self, event_id: &str, d: &Draft<'_>) -> Option<StoredEvent> {
        let (stream_id, index) = self.by_id.get(event_id)?;
        let row = &self.streams[stream_id].events[*index];
        Some(StoredEvent {
            at: Some((stream_id.clone(), row.version)),
            same_content: row.event_type == d.event_type && &row.data == d.data,
        })
    }

    /// `chronicle.stream_version`: 0 for a stream that does not exist.
    pub fn stream_version(&self, stream_id: &str) -> u64 {
        self.streams
            .get(stream_id)
            .map_or(0, |s| s.events.len() as u64)
    }

    /// A stream's type and events.
    pub fn stream(&self, stream_id: &str) -> Option<(&str, &[StoredRow])> {
        self.streams
            .get(stream_id)
            .map(|s| (s.stream_type.as_str(), s.events.as_slice()))
    }

    /// Every stream id, in order.
    pub fn stream_ids(&self) -> impl Iterator<Item = &str> {
        self.streams.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(stream: &str, ty: &str, data: Value, expected: Option<i64>) -> AppendEventArgs {
        AppendEventArgs {
            stream_id: Some(stream.into()),
            event_type: Some(ty.into()),
            data: Some(data),
            expected_version: expected,
            stream_type: Some("Order".into()),
            ..Default::default()
        }
    }

    #[test]
    fn seed_002_order_example() {
        let mut s = MemoryStore::default();
        let o = "order-001";
        assert_eq!(
            s.append_event(&ev(
                o,
                "OrderCreated",
                json!({"customer_id": "customer-123", "status": "created"}),
                Some(0)
            ))
            .unwrap(),
            1
        );
        assert_eq!(
            s.append_event(&ev(
                o,
                "ItemAdded",
                json!({"item_id": "apple", "quantity": 3, "price": 1.5}),
                Some(1)
            ))
            .unwrap(),
            2
        );
        assert_eq!(
            s.append_event(&ev(
                o,
                "ItemAdded",
                json!({"item_id": "banana", "quantity": 2, "price": 0.75}),
                Some(2)
            ))
            .unwrap(),
            3
        );
        assert_eq!(
            s.append_event(&ev(
                o,
                "OrderPaid",
                json!({"payment_method": "credit_card", "status": "paid"}),
                Some(3)
            ))
            .unwrap(),
            4
        );
        let e = s
            .append_event(&ev(o, "OrderPaid", json!({}), Some(3)))
            .unwrap_err();
        assert_eq!(e.sqlstate(), "40001");
        assert_eq!(s.stream_version(o), 4);
        let (ty, rows) = s.stream(o).unwrap();
        assert_eq!(ty, "Order");
        assert_eq!(
            rows.iter().map(|r| r.version).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }
}

//! What `chronicle.import_stream(lines, stream_id, format)` reads: a stream
//! as text, in one of the formats below, turned into the events of
//! `append_events` batches (the shape [`crate::batch::parse_batch`] takes).
//!
//! * `chronicle-export` (the default): what `chronicle.export_stream`
//!   writes ([`crate::export`]).
//! * `domain-events`: one file of a JSON-lines event store, one event per
//!   line as a `DomainEvent.to_dict()` writes it ([`crate::domain_events`]).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::export;

/// The formats, by the name `import_stream`'s `format` argument takes.
pub const FORMATS: &[&str] = &[export::FORMAT, crate::domain_events::FORMAT];

/// A stream read from an import's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub stream_id: String,
    pub stream_type: String,
    /// Batch elements, in version order.
    pub events: Vec<Value>,
    /// Where the stream starts when its first events were removed (an
    /// export of a truncated stream): the version before its first event,
    /// and the state there (None: the reducer's initial state).
    pub base: Option<(u64, Option<Value>)>,
}

/// Reads `text` in `format` (None: `chronicle-export`).
pub fn read(text: &str, format: Option<&str>) -> Result<Imported> {
    match format.unwrap_or(export::FORMAT) {
        export::FORMAT => read_export(text),
        crate::domain_events::FORMAT => {
            // The aggregate is the stream, its type the stream's type.
            let file = crate::domain_events::read(text)?;
            Ok(Imported {
                stream_id: file.aggregate_id,
                stream_type: file.aggregate_type,
                events: file.events,
                base: None,
            })
        }
        other => Err(Error::invalid(
            "format",
            format!("is not a format import_stream reads: {other:?}"),
            format!(
                "Pass one of: {} (the default, '{}', is what export_stream writes).",
                FORMATS
                    .iter()
                    .map(|f| format!("'{f}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                export::FORMAT
            ),
        )),
    }
}

fn read_export(text: &str) -> Result<Imported> {
    let parsed = export::parse(text)?;
    let base = export::check_start(&parsed.header)?;
    let text_of = |k: &str| {
        parsed.header[k]
            .as_str()
            .map(String::from)
            .ok_or_else(|| export::bad_header(format!("has no {k}")))
    };
    Ok(Imported {
        stream_id: text_of("stream_id")?,
        stream_type: text_of("stream_type")?,
        events: parsed.events.iter().map(export::batch_element).collect(),
        base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_format_is_refused_with_the_list() {
        let e = read("{}", Some("csv")).unwrap_err();
        assert_eq!((e.sqlstate(), e.field()), ("22023", "format"));
        assert!(e.hint().contains("'chronicle-export'"), "{}", e.hint());
        assert!(e.hint().contains("'domain-events'"), "{}", e.hint());
    }

    #[test]
    fn the_default_is_the_export_format() {
        let e = read("not json", None).unwrap_err();
        assert_eq!(e.sqlstate(), "22023");
    }
}

//! Time: the canonical text of a timestamp, and what "as of" a moment means.
//!
//! Timestamps leave the core in one canonical form: RFC 3339 in UTC with `Z`
//! and fractional seconds only when not zero (in groups of three digits):
//! `2024-05-01T12:30:00Z`, `2024-05-01T12:30:00.250Z`. Postgres writes
//! `+00:00` and the browser `.000Z`; both become the same bytes.
//!
//! A stream's state *as of* a moment is its state before the first event
//! recorded after that moment ([`AsOf`]). Recording times follow the
//! appending transactions' start, so within a stream they need not be in
//! version order; "before the first one after" is the rule everywhere
//! (`chronicle.state_at(as_of => ...)`, the wasm module's `asOf`, the
//! dashboard's time travel).

use chrono::{DateTime, FixedOffset};

use crate::error::{Error, Result};

/// Parses an RFC 3339 timestamp (what Postgres and the export write).
pub fn parse_time(field: &str, text: &str) -> Result<DateTime<FixedOffset>> {
    // Postgres writes "2024-05-01 12:00:00.123+00"; RFC 3339 wants a T and a
    // full offset. Accept both spellings.
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .map_err(|_| {
            Error::invalid(
                field,
                format!("is not a timestamp: {text:?}"),
                "Write timestamps as RFC 3339, e.g. '2024-05-01T12:30:00Z'.",
            )
        })
}

/// Checks a timestamp given as text where the database takes a
/// `timestamptz` (an event's `occurred_at` inside a batch): RFC 3339 or
/// Postgres' own layout, with an offset or without one; without one,
/// Postgres reads it in the session's `TimeZone`, exactly as it reads a
/// `timestamptz` argument such as `append_event`'s `occurred_at`, so both
/// paths take the same texts.
pub fn check_timestamptz_text(field: &str, text: &str) -> Result<()> {
    let with_offset = parse_time(field, text).map(|t| t.naive_utc());
    match with_offset.ok().or_else(|| parse_naive(text)) {
        Some(t) if chrono::Datelike::year(&t) >= 1 => Ok(()),
        _ => Err(Error::invalid(
            field,
            format!("is not a timestamp: {text:?}"),
            "Write a date and a time, e.g. '2024-05-01T12:30:00Z'; without an offset the \
             session's TimeZone applies, as it does to append_event's occurred_at.",
        )),
    }
}

/// A date and time without an offset (`2024-05-01T12:30:45.123456`, or
/// with a space for the `T`), in years 1 on.
pub fn parse_naive(text: &str) -> Option<chrono::NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .filter(|t| chrono::Datelike::year(t) >= 1)
}

/// The canonical text of a timestamp given as text (RFC 3339, or as
/// Postgres writes it); `field` names it in the error for anything else.
pub fn canonical_text(field: &str, text: &str) -> Result<String> {
    match canonical_utc_text(text) {
        Some(c) => Ok(c),
        None => Ok(canonical_time(&parse_time(field, text)?)),
    }
}

/// The canonical text of a timestamp (see the module documentation).
pub fn canonical_time(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    t.with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.fZ")
        .to_string()
}

/// The canonical text of a UTC time written as Postgres or a browser writes
/// it (`2024-05-01T12:30:00.250000+00:00`, `... 12:30:00.25+00`,
/// `...T12:30:00.250Z`) without a calendar round trip; `None` for anything
/// else (other offsets, odd layouts), which takes the general path.
fn canonical_utc_text(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let layout = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !layout {
        return None;
    }
    let rest = &text[19..];
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(f) => {
            let n = f.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None; // a dot without digits: the general path refuses it
            }
            (&f[..n], &f[n..])
        }
        None => ("", rest),
    };
    let utc = match b[10] {
        b'T' => matches!(zone, "Z" | "+00:00" | "-00:00"),
        _ => matches!(zone, "+00" | "+00:00"),
    };
    if fraction.len() > 9 || !utc {
        return None;
    }
    // Plain ranges only: the general path judges impossible dates.
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().ok();
    let ok = matches!(num(5..7), Some(1..=12))
        && matches!(num(8..10), Some(1..=28))
        && matches!(num(11..13), Some(0..=23))
        && matches!(num(14..16), Some(0..=59))
        && matches!(num(17..19), Some(0..=59));
    if !ok {
        return None;
    }
    let significant = fraction.trim_end_matches('0');
    let mut out = String::with_capacity(24 + 9);
    out.push_str(&text[..10]);
    out.push('T');
    out.push_str(&text[11..19]);
    if !significant.is_empty() {
        out.push('.');
        out.push_str(significant);
        while !(out.len() - 20).is_multiple_of(3) {
            out.push('0');
        }
    }
    out.push('Z');
    Some(out)
}

/// The canonical text of a time given in microseconds since 1970-01-01 UTC.
pub fn canonical_time_from_unix_micros(micros: i64) -> String {
    let t = chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default();
    canonical_time(&t.fixed_offset())
}

/// A moment a replay stops at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf(DateTime<FixedOffset>);

impl AsOf {
    /// The moment written as text (RFC 3339, or as Postgres writes it).
    pub fn parse(field: &str, text: &str) -> Result<AsOf> {
        parse_time(field, text).map(AsOf)
    }

    /// Whether an event recorded at `recorded_at` lies after the moment (so
    /// that the state as of it ends before that event). An event without a
    /// recording time cannot be placed: an error naming `field`.
    pub fn excludes(&self, field: &str, recorded_at: Option<&str>) -> Result<bool> {
        let text = recorded_at.ok_or_else(|| {
            Error::invalid(
                field,
                "is missing, so the event cannot be placed in time",
                "Pass events with their recorded_at.",
            )
        })?;
        Ok(parse_time(field, text)? > self.0)
    }

    /// The first version (1-based, in order) whose recording time lies after
    /// the moment, if any: the state as of the moment is the one before it.
    pub fn first_after<'a>(
        &self,
        recorded_at: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<Option<u64>> {
        for (i, t) in recorded_at.into_iter().enumerate() {
            if self.excludes(&format!("events[{i}].recorded_at"), t)? {
                return Ok(Some(i as u64 + 1));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_are_canonical() {
        assert_eq!(
            canonical_time_from_unix_micros(1_714_566_600_250_000),
            "2024-05-01T12:30:00.250Z"
        );
    }

    #[test]
    fn the_fast_path_writes_what_the_general_one_does() {
        for text in [
            "2024-05-01T12:30:00+00:00",
            "2024-05-01 12:30:00.25+00",
            "2024-05-01T12:30:00.250000Z",
            "2024-05-01T12:30:00.408901+00:00",
            "2024-05-01T12:30:00.000+00:00",
            "2024-05-01T12:30:00.123456789Z",
            "2024-02-28 23:59:59.1+00",
        ] {
            let general = canonical_time(&parse_time("t", text).unwrap());
            assert_eq!(
                canonical_utc_text(text).as_deref(),
                Some(general.as_str()),
                "{text}"
            );
        }
        for other in [
            "2024-05-01T14:30:00+02:00",
            "2024-02-30T00:00:00Z",
            "2024-05-01",
            "soon",
        ] {
            assert_eq!(canonical_utc_text(other), None, "{other}");
        }
    }

    #[test]
    fn timestamptz_texts_are_those_postgres_takes() {
        for ok in [
            "2024-05-01T12:30:00Z",
            "2024-05-01 12:30:00+02",
            "2024-05-01 12:30:00",
            "2024-05-01T12:30:00.25",
        ] {
            check_timestamptz_text("occurred_at", ok).unwrap();
        }
        for bad in [
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-05-01",
            "-infinity",
        ] {
            let e = check_timestamptz_text("occurred_at", bad).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", "occurred_at"), "{bad}");
        }
    }

    #[test]
    fn as_of_is_before_the_first_event_recorded_after() {
        let t = AsOf::parse("as_of", "2024-05-01T12:00:05Z").unwrap();
        let times = [
            Some("2024-05-01T12:00:01Z"),
            Some("2024-05-01T12:00:05Z"),
            Some("2024-05-01T12:00:09Z"),
            Some("2024-05-01T12:00:02Z"),
        ];
        assert_eq!(t.first_after(times).unwrap(), Some(3));
        assert_eq!(t.first_after(times[..2].iter().copied()).unwrap(), None);
        let e = t
            .first_after([Some("2024-05-01T12:00:01Z"), None])
            .unwrap_err();
        assert_eq!(e.field(), "events[1].recorded_at");
        assert_eq!(AsOf::parse("as_of", "soon").unwrap_err().field(), "as_of");
    }
}

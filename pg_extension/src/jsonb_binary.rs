//! Reads a `jsonb` document in its binary form (Postgres' on-disk format,
//! `src/include/utils/jsonb.h` and the numeric format of `numeric.c`) into a
//! `serde_json` value, without printing it as text and parsing the text.
//!
//! The result is exactly what `chronicle_core::json::parse` makes of the
//! document's `jsonb_out` text: the same keys, the same strings, and numbers
//! with the same digits (`numeric_out`'s). Anything this reader does not
//! take on (text that is not UTF-8, a special numeric, nesting deeper than
//! the core accepts, bytes that do not follow the format) returns `None`, and
//! the caller reads the text instead, so every answer and every error stays
//! the text path's.
//!
//! The format is Postgres' storage format, the same in every supported
//! major (it must be: `pg_upgrade` keeps the files).

use serde_json::{Map, Number, Value};

use chronicle_core::limits::MAX_JSON_DEPTH;

#[cfg(target_endian = "big")]
compile_error!("jsonb_binary reads little-endian varlena headers");

// JsonbContainer.header
const JB_CMASK: u32 = 0x0FFF_FFFF;
const JB_FSCALAR: u32 = 0x1000_0000;
const JB_FOBJECT: u32 = 0x2000_0000;
const JB_FARRAY: u32 = 0x4000_0000;

// JEntry
const JENTRY_OFFLENMASK: u32 = 0x0FFF_FFFF;
const JENTRY_TYPEMASK: u32 = 0x7000_0000;
const JENTRY_HAS_OFF: u32 = 0x8000_0000;
const JENTRY_ISSTRING: u32 = 0x0000_0000;
const JENTRY_ISNUMERIC: u32 = 0x1000_0000;
const JENTRY_ISBOOL_FALSE: u32 = 0x2000_0000;
const JENTRY_ISBOOL_TRUE: u32 = 0x3000_0000;
const JENTRY_ISNULL: u32 = 0x4000_0000;
const JENTRY_ISCONTAINER: u32 = 0x5000_0000;

// NumericData's first 16-bit word
const NUMERIC_SIGN_MASK: u16 = 0xC000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_SHORT: u16 = 0x8000;
const NUMERIC_SPECIAL: u16 = 0xC000;
const NUMERIC_SHORT_SIGN_MASK: u16 = 0x2000;
const NUMERIC_SHORT_DSCALE_MASK: u16 = 0x1F80;
const NUMERIC_SHORT_DSCALE_SHIFT: u16 = 7;
const NUMERIC_SHORT_WEIGHT_SIGN_MASK: u16 = 0x0040;
const NUMERIC_SHORT_WEIGHT_MASK: u16 = 0x003F;
const NUMERIC_DSCALE_MASK: u16 = 0x3FFF;

/// The value of a root container: the bytes after a `jsonb` datum's varlena
/// header (`VARDATA_ANY`).
pub fn read(root: &[u8]) -> Option<Value> {
    let header = u32_at(root, 0)?;
    let value = container(root, 1)?;
    if header & JB_FSCALAR != 0 {
        // A scalar document is stored as a one-element array.
        match value {
            Value::Array(mut items) if items.len() == 1 => items.pop(),
            _ => None,
        }
    } else {
        Some(value)
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(b.try_into().ok()?))
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes(b.try_into().ok()?))
}

/// `INTALIGN`: numerics and nested containers start on a 4-byte boundary
/// counted from the start of their container's data.
fn int_align(offset: usize) -> usize {
    (offset + 3) & !3
}

/// A container (`bytes` starts at its header) at nesting `depth`.
fn container(bytes: &[u8], depth: usize) -> Option<Value> {
    if depth > MAX_JSON_DEPTH {
        return None;
    }
    let header = u32_at(bytes, 0)?;
    let count = (header & JB_CMASK) as usize;
    let is_object = header & JB_FOBJECT != 0;
    if is_object == (header & JB_FARRAY != 0) {
        return None;
    }
    let entries = if is_object {
        count.checked_mul(2)?
    } else {
        count
    };
    let data_start = 4usize.checked_add(entries.checked_mul(4)?)?;
    let data = bytes.get(data_start..)?;
    let scalar = |(kind, bytes, offset): (u32, &[u8], usize)| -> Option<Value> {
        match kind {
            JENTRY_ISSTRING => Some(Value::String(std::str::from_utf8(bytes).ok()?.to_owned())),
            JENTRY_ISNUMERIC => {
                let skip = int_align(offset) - offset;
                numeric(bytes.get(skip..)?)
            }
            JENTRY_ISBOOL_FALSE => Some(Value::Bool(false)),
            JENTRY_ISBOOL_TRUE => Some(Value::Bool(true)),
            JENTRY_ISNULL => Some(Value::Null),
            JENTRY_ISCONTAINER => {
                let skip = int_align(offset) - offset;
                container(bytes.get(skip..)?, depth + 1)
            }
            _ => None,
        }
    };
    if is_object {
        // The keys' entries, then the values' in the same order.
        let mut keys = Children::new(bytes, data, 0);
        for _ in 0..count {
            keys.next()?;
        }
        let mut values = Children::new(bytes, data, count);
        values.start = keys.start;
        keys = Children::new(bytes, data, 0);
        let mut map = Map::new();
        for _ in 0..count {
            let (kind, key, _) = keys.next()?;
            if kind != JENTRY_ISSTRING {
                return None;
            }
            let key = std::str::from_utf8(key).ok()?.to_owned();
            map.insert(key, scalar(values.next()?)?);
        }
        Some(Value::Object(map))
    } else {
        let mut items = Children::new(bytes, data, 0);
        let mut array = Vec::with_capacity(count);
        for _ in 0..count {
            array.push(scalar(items.next()?)?);
        }
        Some(Value::Array(array))
    }
}

/// A container's children in order: each one's type, bytes and offset in
/// the container's data. A JEntry holds either the child's length or,
/// every few entries, its end offset.
struct Children<'a> {
    container: &'a [u8],
    data: &'a [u8],
    index: usize,
    start: usize,
}

impl<'a> Children<'a> {
    fn new(container: &'a [u8], data: &'a [u8], index: usize) -> Self {
        Children {
            container,
            data,
            index,
            start: 0,
        }
    }

    fn next(&mut self) -> Option<(u32, &'a [u8], usize)> {
        let entry = u32_at(self.container, 4 + 4 * self.index)?;
        let offlen = (entry & JENTRY_OFFLENMASK) as usize;
        let end = if entry & JENTRY_HAS_OFF != 0 {
            offlen
        } else {
            self.start.checked_add(offlen)?
        };
        let child = (
            entry & JENTRY_TYPEMASK,
            self.data.get(self.start..end)?,
            self.start,
        );
        self.index += 1;
        self.start = end;
        Some(child)
    }
}

/// A stored numeric (its varlena header first) as the JSON number
/// `numeric_out` prints.
fn numeric(bytes: &[u8]) -> Option<Value> {
    let first = *bytes.first()?;
    // A 1-byte varlena header (0x01 alone would be a TOAST pointer) or a
    // 4-byte one.
    let (size, header) = if first & 0x01 == 0x01 && first != 0x01 {
        ((first >> 1) as usize, 1)
    } else {
        ((u32_at(bytes, 0)? >> 2) as usize, 4)
    };
    let body = bytes.get(header..size)?;
    let word = u16_at(body, 0)?;
    let (negative, dscale, weight, digits_at) = match word & NUMERIC_SIGN_MASK {
        NUMERIC_SPECIAL => return None,
        NUMERIC_SHORT => {
            let weight = (word & NUMERIC_SHORT_WEIGHT_MASK) as i32
                | if word & NUMERIC_SHORT_WEIGHT_SIGN_MASK != 0 {
                    !(NUMERIC_SHORT_WEIGHT_MASK as i32)
                } else {
                    0
                };
            (
                word & NUMERIC_SHORT_SIGN_MASK != 0,
                ((word & NUMERIC_SHORT_DSCALE_MASK) >> NUMERIC_SHORT_DSCALE_SHIFT) as i32,
                weight,
                2,
            )
        }
        sign => (
            sign == NUMERIC_NEG,
            (word & NUMERIC_DSCALE_MASK) as i32,
            u16_at(body, 2)? as i16 as i32,
            4,
        ),
    };
    let digits = Digits(body.get(digits_at..)?);
    if digits.0.len() % 2 != 0 || (0..digits.len()).any(|d| digits.get(d) > 9999) {
        return None;
    }
    // Integers up to 36 digits: computed, not printed and parsed again
    // (`Number` keeps the same text either way).
    if dscale == 0 && (0..=8).contains(&weight) && digits.len() <= weight as usize + 1 {
        let mut n: i128 = 0;
        for d in 0..=weight as usize {
            n = n * 10_000 + i128::from(digits.get(d));
        }
        let n = if negative { -n } else { n };
        return match i64::try_from(n) {
            Ok(small) => Some(Value::Number(Number::from(small))),
            Err(_) => Number::from_i128(n).map(Value::Number),
        };
    }
    let text = numeric_text(negative, weight, dscale, digits);
    text.parse::<Number>().ok().map(Value::Number)
}

/// A numeric's base-10000 digits, as stored (native-endian `int16`s).
#[derive(Clone, Copy)]
struct Digits<'a>(&'a [u8]);

impl Digits<'_> {
    fn len(self) -> usize {
        self.0.len() / 2
    }

    /// Digit `d`; 0 past either end.
    fn get(self, d: usize) -> u16 {
        match self.0.get(2 * d..2 * d + 2) {
            Some(b) => u16::from_ne_bytes([b[0], b[1]]),
            None => 0,
        }
    }
}

/// `get_str_from_var`: base-10000 `digits`, the first worth
/// 10000^`weight`, printed with `dscale` digits after the point.
fn numeric_text(negative: bool, weight: i32, dscale: i32, digits: Digits<'_>) -> String {
    let digit = |d: i32| -> u16 { usize::try_from(d).map_or(0, |d| digits.get(d)) };
    let mut text = String::with_capacity(8 + 4 * digits.len() + dscale.max(0) as usize);
    if negative {
        text.push('-');
    }
    let mut d;
    if weight < 0 {
        d = weight + 1;
        text.push('0');
    } else {
        d = 0;
        while d <= weight {
            push_digits(&mut text, digit(d), d > 0);
            d += 1;
        }
    }
    if dscale > 0 {
        text.push('.');
        let end = text.len() + dscale as usize;
        while text.len() < end {
            push_digits(&mut text, digit(d), true);
            d += 1;
        }
        text.truncate(end);
    }
    text
}

/// One base-10000 digit as four decimal digits, or without its leading
/// zeros (but at least one digit) unless `all`.
fn push_digits(text: &mut String, dig: u16, all: bool) {
    let decimals = [dig / 1000, dig / 100 % 10, dig / 10 % 10, dig % 10];
    let first = if all {
        0
    } else {
        decimals[..3].iter().take_while(|&&d| d == 0).count()
    };
    for d in &decimals[first..] {
        text.push(char::from(b'0' + *d as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::Digits;

    fn numeric_text(negative: bool, weight: i32, dscale: i32, digits: &[u16]) -> String {
        let bytes: Vec<u8> = digits.iter().flat_map(|d| d.to_ne_bytes()).collect();
        super::numeric_text(negative, weight, dscale, Digits(&bytes))
    }

    #[test]
    fn numerics_print_as_numeric_out_does() {
        assert_eq!(numeric_text(false, 0, 0, &[]), "0");
        assert_eq!(numeric_text(false, 0, 2, &[1, 2500]), "1.25");
        assert_eq!(numeric_text(true, 1, 0, &[12, 3456]), "-123456");
        assert_eq!(numeric_text(false, -2, 6, &[1200]), "0.000012");
        assert_eq!(numeric_text(false, 0, 2, &[1, 5000]), "1.50");
        assert_eq!(numeric_text(false, 1, 0, &[1]), "10000");
        assert_eq!(numeric_text(false, -1, 5, &[1234, 5000]), "0.12345");
    }
}

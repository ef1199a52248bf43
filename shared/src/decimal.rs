//! Exact decimal arithmetic on JSON numbers: what reducers compute with
//! (`increment`, `multiply`, `derive`). Results are plain decimal text (no
//! exponent) with the scale decimal arithmetic gives: a sum has the larger
//! scale of its terms (1.5 + 0.25 = 1.75, 4.50 + 1.50 = 6.00), a product the
//! sum of its factors' (3 × 1.50 = 4.50). Numbers beyond
//! [`crate::json::DECIMAL_RANGE`] are an error, never a hang.

use std::str::FromStr;

use serde_json::Number;

/// Exact decimal `a + b` (or `a - b`), in plain notation with the larger
/// scale of the two; an error for numbers out of [`crate::json::DECIMAL_RANGE`].
pub fn add(a: &Number, b: &Number, subtract: bool) -> std::result::Result<Number, String> {
    if let Some(sum) = add_small(a.as_str(), b.as_str(), subtract) {
        return Ok(sum);
    }
    let parse = |n: &Number| {
        crate::json::decimal(n).ok_or_else(|| {
            format!(
                "{n} is out of the range of numbers a reducer computes with ({})",
                crate::json::DECIMAL_RANGE
            )
        })
    };
    let (x, y) = (parse(a)?, parse(b)?);
    let scale = x
        .fractional_digit_count()
        .max(y.fractional_digit_count())
        .max(0);
    let sum = if subtract { x - y } else { x + y };
    let text = sum.with_scale(scale).to_plain_string();
    Ok(Number::from_str(&text).expect("plain decimal text is a JSON number"))
}

/// A plain decimal (`-12.50`) as mantissa and scale, if it fits in an i128
/// with room to spare (no exponent, at most 30 digits).
fn small_decimal(text: &str) -> Option<(i128, u32)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || int.len() + frac.len() > 30 {
        return None;
    }
    let mut m: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        m = m * 10 + i128::from(b - b'0');
    }
    Some((if negative { -m } else { m }, frac.len() as u32))
}

/// [`add`] for small plain decimals without big-number arithmetic: the same
/// result (the larger scale of the operands, plain notation).
fn add_small(a: &str, b: &str, subtract: bool) -> Option<Number> {
    let ((x, xs), (y, ys)) = (small_decimal(a)?, small_decimal(b)?);
    let scale = xs.max(ys);
    let x = x.checked_mul(10i128.checked_pow(scale - xs)?)?;
    let y = y.checked_mul(10i128.checked_pow(scale - ys)?)?;
    let sum = if subtract {
        x.checked_sub(y)?
    } else {
        x.checked_add(y)?
    };
    let digits = sum.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let sign = if sum < 0 { "-" } else { "" };
    let text = if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    };
    Number::from_str(&text).ok()
}

/// The exact product of two numbers: its digits after the point are both
/// factors' (`3 × 1.50 = 4.50`).
pub fn multiply(a: &Number, b: &Number) -> std::result::Result<Number, String> {
    let parse = |n: &Number| {
        crate::json::decimal(n).ok_or_else(|| {
            format!(
                "{n} is out of the range of numbers a reducer computes with ({})",
                crate::json::DECIMAL_RANGE
            )
        })
    };
    let (x, y) = (parse(a)?, parse(b)?);
    let scale = x.fractional_digit_count().max(0) + y.fractional_digit_count().max(0);
    let text = (x * y).with_scale(scale).to_plain_string();
    let n = Number::from_str(&text).expect("plain decimal text is a JSON number");
    if crate::json::decimal(&n).is_none() {
        return Err(format!(
            "{a} × {b} is out of the range of numbers a reducer computes with ({})",
            crate::json::DECIMAL_RANGE
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bigdecimal::BigDecimal;

    fn num(t: &str) -> Number {
        Number::from_str(t).unwrap()
    }

    #[test]
    fn small_decimal_sums_are_the_big_decimal_ones() {
        let big = |a: &str, b: &str, sub: bool| {
            let (x, y) = (
                BigDecimal::from_str(a).unwrap(),
                BigDecimal::from_str(b).unwrap(),
            );
            let scale = x
                .fractional_digit_count()
                .max(y.fractional_digit_count())
                .max(0);
            (if sub { x - y } else { x + y })
                .with_scale(scale)
                .to_plain_string()
        };
        let samples = [
            "0",
            "1",
            "-1",
            "0.5",
            "1.50",
            "-0.05",
            "12.345",
            "-999999.999",
            "0.000",
            "123456789012345678901234567890",
            "7",
            "-0.50",
            "100",
        ];
        for a in samples {
            for b in samples {
                for sub in [false, true] {
                    let fast = add_small(a, b, sub).map(|n| n.to_string());
                    if let Some(fast) = fast {
                        assert_eq!(
                            fast,
                            big(a, b, sub),
                            "{a} {} {b}",
                            if sub { "-" } else { "+" }
                        );
                    }
                }
            }
        }
        assert!(add_small("1e3", "1", false).is_none());
    }

    #[test]
    fn products_keep_both_scales() {
        assert_eq!(multiply(&num("3"), &num("1.50")).unwrap().as_str(), "4.50");
        assert_eq!(multiply(&num("0.1"), &num("0.2")).unwrap().as_str(), "0.02");
        assert_eq!(multiply(&num("-2.5"), &num("4")).unwrap().as_str(), "-10.0");
        assert_eq!(multiply(&num("1e3"), &num("2")).unwrap().as_str(), "2000");
        let e = multiply(&num("1e100000"), &num("1e100000")).unwrap_err();
        assert!(e.contains("out of the range"), "{e}");
    }

    #[test]
    fn decimal_arithmetic_is_exact() {
        let n = |s: &str| Number::from_str(s).unwrap();
        let sum = |a: &str, b: &str, sub: bool| add(&n(a), &n(b), sub).unwrap().to_string();
        assert_eq!(sum("0.1", "0.2", false), "0.3");
        assert_eq!(sum("1.50", "1", false), "2.50");
        assert_eq!(
            sum("123456789012345678901234567890", "1", false),
            "123456789012345678901234567891"
        );
        assert_eq!(sum("1", "2.5", true), "-1.5");
        assert_eq!(sum("1e3", "0.5", false), "1000.5");
    }
}

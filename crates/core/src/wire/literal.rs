//! JavaScript number rules that decide how m-ld-js reads and writes numeric literals
//! (docs/protocol.md §3.3): `canonicalDouble`, `parseFloat`, jsonld.js `isDouble` and
//! `Number.prototype.toFixed(0)`.
//!
//! Owns these pure functions only; it must not know about JSON-LD keys, contexts or triples
//! (that is [`jsonld`](super::jsonld)).
//!
//! They reproduce JS exactly, including its quirks: a double is written with 16 significant
//! digits (so `0.1 + 0.2` reads back as `3.0E-1`), rounding exact ties away from zero;
//! `parseFloat("INF")` is NaN; and a number whose JS string has no `.` and is below 1e21 is an
//! integer to jsonld.js (so `1e-7` reads as the integer `0`).

/// JS `canonicalDouble(v)`: `v.toExponential(15)` with trailing zeros of the mantissa removed
/// (keeping one) and the exponent written `E<n>`, e.g. `1.8` → `1.8E0`, `0.5` → `5.0E-1`.
pub fn canonical_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let (digits, exp) = exponential_digits(v.abs(), 16);
    let (int, frac) = digits.split_at(1);
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() { "0" } else { frac };
    format!("{sign}{int}.{frac}E{exp}")
}

/// The first `n` significant decimal digits of a finite non-negative `a` and its decimal
/// exponent, rounded as JS `toExponential(n - 1)` does: to nearest, exact ties away from zero.
fn exponential_digits(a: f64, n: usize) -> (String, i32) {
    if a == 0.0 {
        return ("0".repeat(n), 0);
    }
    // Rust rounds to nearest with exact ties to even; only an exact tie can differ from JS. A
    // tie shows as a 5 in the next digit, and is then checked against the exact expansion (a
    // double has fewer than 800 significant digits).
    let probe = format!("{:.*e}", n, a);
    let mut tie = None;
    if split_exponential(&probe)
        .0
        .bytes()
        .filter(u8::is_ascii_digit)
        .nth(n)
        == Some(b'5')
    {
        let exact = format!("{:.800e}", a);
        let (mantissa, exp) = split_exponential(&exact);
        let all: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        if all.get(n) == Some(&b'5') && all[n + 1..].iter().all(|d| *d == b'0') {
            tie = Some((all[..n].to_vec(), exp));
        }
    }
    let Some((mut digits, mut exp)) = tie else {
        let rounded = format!("{:.*e}", n - 1, a);
        let (mantissa, exp) = split_exponential(&rounded);
        return (mantissa.replace('.', ""), exp);
    };
    // Round the first n digits up.
    let mut i = n;
    loop {
        if i == 0 {
            // All nines: 9.99… rounds to 1.00… with the next exponent.
            digits.insert(0, b'1');
            digits.truncate(n);
            exp += 1;
            break;
        }
        i -= 1;
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            break;
        }
    }
    (String::from_utf8_lossy(&digits).into_owned(), exp)
}

/// Splits Rust `{:e}` output (`d.ddde-7`) into mantissa and exponent.
fn split_exponential(s: &str) -> (&str, i32) {
    match s.split_once('e') {
        Some((mantissa, exp)) => (mantissa, exp.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

/// JS `parseFloat(s)`: the longest prefix (after leading white space) that reads as a decimal
/// number or `Infinity`, else NaN.
pub fn js_parse_float(s: &str) -> f64 {
    let s = s.trim_start_matches(is_js_white_space);
    let bytes = s.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    if s[i..].starts_with("Infinity") {
        return if bytes.first() == Some(&b'-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let int_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if bytes.get(i) == Some(&b'.') {
        let frac_start = i + 1;
        let mut j = frac_start;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if digits > 0 || j > frac_start {
            digits += j - frac_start;
            i = j;
        }
    }
    if digits == 0 {
        return f64::NAN;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    // Rust's parser accepts every prefix shape above ("1.", ".5", "1e5").
    s[..i].parse().unwrap_or(f64::NAN)
}

/// JS `StrWhiteSpaceChar`: white space and line terminators.
fn is_js_white_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// jsonld.js `isDouble(v)`: whether `String(v)` contains a `.` or `|v| >= 1e21`. Integral values
/// below 1e21, NaN, and tiny values whose shortest form has one digit (e.g. `1e-7`) are not.
pub fn js_is_double(v: f64) -> bool {
    if v.is_nan() {
        false
    } else if v.abs() >= 1e21 {
        true
    } else if v.fract() == 0.0 {
        false
    } else if v.abs() >= 1e-6 {
        // Written in positional notation, with a fraction.
        true
    } else {
        // Written in exponential notation: it has a '.' if it has more than one digit.
        format!("{v:e}").contains('.')
    }
}

/// JS `v.toFixed(0)` for values below 1e21 in magnitude (JS writes larger ones like
/// `String(v)`, which callers never need): the nearest integer, ties away from zero, with a
/// `-` for negative values (even when they round to zero).
pub fn js_to_fixed0(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    // f64::round rounds half-way cases away from zero, as toFixed does.
    format!("{sign}{:.0}", a.round())
}

/// The JS number that a MessagePack integer decodes to, as `toFixed(0)` writes it: exact up to
/// 2^53, beyond that the nearest double.
pub fn js_integer_text(i: &rmpv::Integer) -> String {
    const MAX_SAFE: u64 = (1 << 53) - 1;
    if let Some(u) = i.as_u64() {
        if u <= MAX_SAFE {
            u.to_string()
        } else {
            format!("{:.0}", u as f64)
        }
    } else if let Some(n) = i.as_i64() {
        if n.unsigned_abs() <= MAX_SAFE {
            n.to_string()
        } else {
            format!("{:.0}", n as f64)
        }
    } else {
        "0".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_doubles_match_js() {
        // Expected values are JS `canonicalDouble` outputs (node 0.10.0 engine).
        let cases: &[(f64, &str)] = &[
            (1.8, "1.8E0"),
            (0.5, "5.0E-1"),
            (2.0, "2.0E0"),
            (-1.25, "-1.25E0"),
            (0.0, "0.0E0"),
            (-0.0, "0.0E0"),
            (1e300, "1.0E300"),
            (0.1 + 0.2, "3.0E-1"),
            (1234567890123456.5, "1.234567890123457E15"),
            (1234567890123457.5, "1.234567890123458E15"),
            (9999999999999999.0, "1.0E16"),
            (5e-324, "4.940656458412465E-324"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, want) in cases {
            assert_eq!(canonical_double(*v), *want, "{v}");
        }
    }

    #[test]
    fn parse_float_takes_the_longest_numeric_prefix() {
        assert_eq!(js_parse_float("1.8E0"), 1.8);
        assert_eq!(js_parse_float("  -5.0E-1xyz"), -0.5);
        assert_eq!(js_parse_float("1e"), 1.0);
        assert_eq!(js_parse_float("1e+"), 1.0);
        assert_eq!(js_parse_float(".5"), 0.5);
        assert_eq!(js_parse_float("5."), 5.0);
        assert_eq!(js_parse_float("-Infinity"), f64::NEG_INFINITY);
        assert!(js_parse_float("INF").is_nan());
        assert!(js_parse_float("").is_nan());
        assert!(js_parse_float(".").is_nan());
        assert!(js_parse_float("-").is_nan());
        assert!(js_parse_float("NaN").is_nan());
    }

    #[test]
    fn is_double_follows_the_js_string_form() {
        assert!(js_is_double(0.5));
        assert!(js_is_double(1e-6 + 1e-7));
        assert!(js_is_double(1.5e-7));
        assert!(js_is_double(1e21));
        assert!(js_is_double(f64::INFINITY));
        assert!(!js_is_double(2.0));
        assert!(!js_is_double(1e-7));
        assert!(!js_is_double(1e20));
        assert!(!js_is_double(f64::NAN));
    }

    #[test]
    fn to_fixed_rounds_ties_away_from_zero() {
        assert_eq!(js_to_fixed0(2.0), "2");
        assert_eq!(js_to_fixed0(-5.0), "-5");
        assert_eq!(js_to_fixed0(1e-7), "0");
        assert_eq!(js_to_fixed0(-1e-7), "-0");
        assert_eq!(js_to_fixed0(-0.0), "0");
        assert_eq!(js_to_fixed0(0.5), "1");
        assert_eq!(js_to_fixed0(4e15 + 0.5), "4000000000000001");
        assert_eq!(js_to_fixed0(2.5), "3");
        assert_eq!(js_to_fixed0(f64::NAN), "NaN");
    }

    #[test]
    fn big_integers_lose_precision_as_in_js() {
        assert_eq!(
            js_integer_text(&rmpv::Integer::from(5_000_000_000u64)),
            "5000000000"
        );
        assert_eq!(
            js_integer_text(&rmpv::Integer::from(u64::MAX)),
            "18446744073709551616"
        );
        assert_eq!(
            js_integer_text(&rmpv::Integer::from((1i64 << 53) + 1)),
            "9007199254740992"
        );
        assert_eq!(js_integer_text(&rmpv::Integer::from(-7)), "-7");
    }
}

//! JavaScript's number rules, as m-ld-js applies them to literals: `canonicalDouble`,
//! `String(n)`, `toFixed`, `parseFloat`, `parseInt`, `Number(s)` and jsonld.js `isDouble`
//! (docs/protocol.md §3.3).
//!
//! Owns these pure functions only; it knows nothing of JSON-LD, contexts or triples. They copy
//! JavaScript exactly, quirks included, because the lexical form of a literal is part of a triple's
//! identity: a clone that writes `1.234567890123456E15` where m-ld-js writes
//! `1.234567890123457E15` holds a different triple, and a delete from the other engine misses it.
//!
//! Rounding: Rust's formatting rounds exact ties to even; JavaScript's `toExponential` and `toFixed`
//! round them away from zero. Only an exact tie can differ, so each rounding formats once with
//! Rust and, when the digit after the kept ones is a 5, checks the exact decimal expansion.

/// JS `StrWhiteSpaceChar`: the white space and line terminators that `trim`, `parseFloat`,
/// `parseInt` and `Number` skip (U+0085 is not one, unlike in Rust's `char::is_whitespace`).
pub fn is_white_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// jsonld.js `canonicalDouble(v)`: `v.toExponential(15)` with the mantissa's trailing zeros
/// removed (one kept) and the exponent written `E<n>`: `1.8` → `1.8E0`, `0.5` → `5.0E-1`,
/// `0.1 + 0.2` → `3.0E-1`. NaN and the infinities are `NaN`, `Infinity` and `-Infinity`.
pub fn canonical_double(v: f64) -> String {
    if let Some(special) = non_finite(v) {
        return special.into();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let (digits, exp) = exponential_digits(v.abs(), 16);
    let (int, frac) = digits.split_at(1);
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() { "0" } else { frac };
    format!("{sign}{int}.{frac}E{exp}")
}

/// JS `String(v)` (`Number.prototype.toString()`): the shortest digits that read back as `v`,
/// positional from 1e-6 up to 1e21 (`0.000001`, `123456789012345680000`), exponential outside
/// (`1e-7`, `1.5e+21`); `-0` is `0`.
pub fn number_to_string(v: f64) -> String {
    if let Some(special) = non_finite(v) {
        return special.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    // Rust's `{:e}` writes the shortest round-trip digits, as ECMAScript's Number::toString
    // requires (the closest of the shortest, as both choose).
    let shortest = format!("{:e}", v.abs());
    let (mantissa, exp) = split_exponential(&shortest);
    let digits = mantissa.replace('.', "");
    let k = digits.len() as i64;
    let n = i64::from(exp) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e_sign = if e < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        format!("{first}{point}{rest}e{e_sign}{}", e.abs())
    };
    format!("{sign}{body}")
}

/// jsonld.js `isDouble(v)`: `String(v)` contains a `.`, or `|v| >= 1e21`. So integral values
/// below 1e21, NaN, and tiny values whose shortest form is one digit (`1e-7`) are not doubles:
/// m-ld-js writes those as `xsd:integer` (`1e-7` as `0`).
pub fn is_double(v: f64) -> bool {
    if v.is_nan() {
        false
    } else if v.abs() >= 1e21 {
        true
    } else if v.fract() == 0.0 {
        // Positional, with no fraction.
        false
    } else if v.abs() >= 1e-6 {
        // Positional, with a fraction.
        true
    } else {
        number_to_string(v).contains('.')
    }
}

/// JS `v.toFixed(fraction_digits)`: the nearest number with that many decimals, exact ties away
/// from zero, with a `-` for any negative value (even one that rounds to zero: `-0.4` → `-0`,
/// while `-0` itself gives `0`). From 1e21 up, and for NaN and the infinities, `String(v)`.
pub fn to_fixed(v: f64, fraction_digits: usize) -> String {
    if !v.is_finite() || v.abs() >= 1e21 {
        return number_to_string(v);
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    let rounded = format!("{a:.fraction_digits$}");
    let text = match exact_tie(&format!("{a:.*}", fraction_digits + 1), || {
        format!("{a:.1074}")
    }) {
        None => rounded,
        Some(exact) => {
            // Keep the integer part and `fraction_digits` decimals of the exact expansion, then
            // round up.
            let (int, frac) = exact.split_once('.').unwrap_or((&exact, ""));
            let mut digits: Vec<u8> = int
                .bytes()
                .chain(frac.bytes().take(fraction_digits))
                .collect();
            if round_up(&mut digits) {
                digits.insert(0, b'1');
            }
            let split = digits.len() - fraction_digits;
            let (int, frac) = digits.split_at(split);
            let int = String::from_utf8_lossy(int);
            if frac.is_empty() {
                int.into_owned()
            } else {
                format!("{int}.{}", String::from_utf8_lossy(frac))
            }
        }
    };
    format!("{sign}{text}")
}

/// JS `parseFloat(s)`: after leading white space, the longest prefix that reads as a decimal
/// number (`1.5E3xyz` → 1500, `.5`, `5.`) or `Infinity`; NaN if there is none (`INF` is NaN).
pub fn parse_float(s: &str) -> f64 {
    let (negative, rest) = split_sign(s.trim_start_matches(is_white_space));
    if rest.starts_with("Infinity") {
        return signed(negative, f64::INFINITY);
    }
    match decimal_prefix(rest) {
        0 => f64::NAN,
        end => signed(negative, parse_decimal(&rest[..end])),
    }
}

/// JS `parseInt(s)` with no radix: after leading white space and a sign, `0x` or `0X` digits in
/// base 16, else the leading decimal digits; NaN if there are none.
pub fn parse_int(s: &str) -> f64 {
    let (negative, rest) = split_sign(s.trim_start_matches(is_white_space));
    let (digits, radix) = match rest.get(..2) {
        Some("0x" | "0X") => (&rest[2..], 16),
        _ => (rest, 10),
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return f64::NAN;
    }
    let value = if radix == 10 {
        parse_decimal(&digits[..end])
    } else {
        radix_value(&digits[..end], radix)
    };
    signed(negative, value)
}

/// JS `Number(s)` (`ToNumber` of a string): the whole string, trimmed, must be a numeric literal
/// (decimal with optional sign, `Infinity`, or unsigned `0x`/`0o`/`0b` digits); the empty
/// string is 0; anything else is NaN.
pub fn string_to_number(s: &str) -> f64 {
    let s = s.trim_matches(is_white_space);
    if s.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if s.len() >= 2 && s[..2].eq_ignore_ascii_case(prefix) {
            let digits = &s[2..];
            return if !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)) {
                radix_value(digits, radix)
            } else {
                f64::NAN
            };
        }
    }
    let (negative, rest) = split_sign(s);
    if rest == "Infinity" {
        return signed(negative, f64::INFINITY);
    }
    if !rest.is_empty() && decimal_prefix(rest) == rest.len() {
        return signed(negative, parse_decimal(rest));
    }
    f64::NAN
}

/// The JS text of NaN and the infinities.
fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("Infinity")
    } else if v == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// The first `n` significant decimal digits of a finite non-negative `a` and its decimal
/// exponent, rounded as JS `toExponential(n - 1)` does: to nearest, exact ties away from zero.
fn exponential_digits(a: f64, n: usize) -> (String, i32) {
    if a == 0.0 {
        return ("0".repeat(n), 0);
    }
    let probe = format!("{:.*e}", n, a);
    // A double's exact expansion has fewer than 800 significant digits.
    let Some(exact) = exact_tie(split_exponential(&probe).0, || format!("{a:.800e}")) else {
        let rounded = format!("{:.*e}", n - 1, a);
        let (mantissa, exp) = split_exponential(&rounded);
        return (mantissa.replace('.', ""), exp);
    };
    let (mantissa, mut exp) = split_exponential(&exact);
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .take(n)
        .collect();
    if round_up(&mut digits) {
        // 9.99… rounds to 1.00… with the next exponent.
        digits.insert(0, b'1');
        digits.truncate(n);
        exp += 1;
    }
    (String::from_utf8_lossy(&digits).into_owned(), exp)
}

/// If `probe` (the number with one digit more than will be kept, as Rust rounds it) ends in a 5,
/// the number may be an exact tie: returns its exact expansion (from `exact`) if it is one,
/// i.e. if after the kept digits comes a 5 and then only zeros.
fn exact_tie(probe: &str, exact: impl FnOnce() -> String) -> Option<String> {
    if !probe.ends_with('5') {
        return None;
    }
    let exact = exact();
    let (mantissa, _) = split_exponential(&exact);
    let kept = probe.bytes().filter(u8::is_ascii_digit).count() - 1;
    let mut rest = mantissa.bytes().filter(u8::is_ascii_digit).skip(kept);
    (rest.next() == Some(b'5') && rest.all(|d| d == b'0')).then_some(exact)
}

/// Adds one unit in the last place of decimal `digits`; true if it carried out of the first
/// digit (all nines became zeros).
fn round_up(digits: &mut [u8]) -> bool {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return false;
        }
    }
    true
}

/// Splits Rust `{:e}` output (`d.ddde-7`) into mantissa and exponent.
fn split_exponential(s: &str) -> (&str, i32) {
    match s.split_once('e') {
        Some((mantissa, exp)) => (mantissa, exp.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

/// The length of the longest prefix of `s` that is an unsigned JS decimal literal
/// (`digits [. digits] [e [sign] digits]` or `. digits [e …]`); 0 if there is none.
fn decimal_prefix(s: &str) -> usize {
    let b = s.as_bytes();
    let digits_from = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let int_end = digits_from(0);
    let mut end = int_end;
    if b.get(end) == Some(&b'.') {
        let frac_end = digits_from(end + 1);
        if frac_end > end + 1 || int_end > 0 {
            end = frac_end;
        }
    }
    if end == 0 {
        return 0;
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut i = end + 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_end = digits_from(i);
        if exp_end > i {
            end = exp_end;
        }
    }
    end
}

/// An unsigned decimal literal (as [`decimal_prefix`] delimits it) read to the nearest double.
fn parse_decimal(s: &str) -> f64 {
    // Rust's parser reads every such shape ("1.", ".5", "1e5") correctly rounded.
    s.parse().unwrap_or(f64::NAN)
}

/// Digits of `radix` read as JS does (each step rounded to a double).
fn radix_value(digits: &str, radix: u32) -> f64 {
    digits
        .chars()
        .filter_map(|c| c.to_digit(radix))
        .fold(0.0, |n, d| n * f64::from(radix) + f64::from(d))
}

/// Splits an optional leading sign off `s`: (negative, rest).
fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn signed(negative: bool, n: f64) -> f64 {
    if negative { -n } else { n }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_doubles_round_ties_away_from_zero() {
        let cases: &[(f64, &str)] = &[
            (1.8, "1.8E0"),
            (0.5, "5.0E-1"),
            (2.0, "2.0E0"),
            (-1.25, "-1.25E0"),
            (0.0, "0.0E0"),
            (-0.0, "0.0E0"),
            (1e300, "1.0E300"),
            (1e21, "1.0E21"),
            (0.1 + 0.2, "3.0E-1"),
            (1234567890123456.5, "1.234567890123457E15"),
            (-1234567890123456.5, "-1.234567890123457E15"),
            (1234567890123457.5, "1.234567890123458E15"),
            (1125899906842624.5, "1.125899906842625E15"),
            (9999999999999999.0, "1.0E16"),
            (5e-324, "4.940656458412465E-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, want) in cases {
            assert_eq!(canonical_double(*v), *want, "{v}");
        }
    }

    #[test]
    fn number_strings_are_positional_between_1e_minus_6_and_1e21() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.5, "1.5"),
            (-2.0, "-2"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-6, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (1e-7, "1e-7"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, want) in cases {
            assert_eq!(number_to_string(*v), *want, "{v}");
        }
    }

    #[test]
    fn is_double_follows_the_js_string_form() {
        assert!(is_double(0.5));
        assert!(is_double(1e-6 + 1e-7));
        assert!(is_double(1.5e-7));
        assert!(is_double(1e21));
        assert!(is_double(f64::INFINITY));
        assert!(!is_double(2.0));
        assert!(!is_double(-0.0));
        assert!(!is_double(1e-7));
        assert!(!is_double(1e20));
        assert!(!is_double(f64::NAN));
    }

    #[test]
    fn to_fixed_rounds_ties_away_from_zero() {
        assert_eq!(to_fixed(2.0, 0), "2");
        assert_eq!(to_fixed(-5.0, 0), "-5");
        assert_eq!(to_fixed(1e-7, 0), "0");
        assert_eq!(to_fixed(-1e-7, 0), "-0");
        assert_eq!(to_fixed(-0.0, 0), "0");
        assert_eq!(to_fixed(0.5, 0), "1");
        assert_eq!(to_fixed(2.5, 0), "3");
        assert_eq!(to_fixed(4e15 + 0.5, 0), "4000000000000001");
        assert_eq!(to_fixed(1.25, 1), "1.3");
        assert_eq!(to_fixed(9.5, 0), "10");
        assert_eq!(to_fixed(1.005, 2), "1.00"); // 1.005 is below the tie as a double
        assert_eq!(to_fixed(1.5, 17), "1.50000000000000000");
        assert_eq!(to_fixed(1e21, 2), "1e+21");
        assert_eq!(to_fixed(f64::NAN, 0), "NaN");
    }

    #[test]
    fn parse_float_takes_the_longest_numeric_prefix() {
        assert_eq!(parse_float("1.8E0"), 1.8);
        assert_eq!(parse_float("  -5.0E-1xyz"), -0.5);
        assert_eq!(parse_float("1.5E3xyz"), 1500.0);
        assert_eq!(parse_float("1e"), 1.0);
        assert_eq!(parse_float("1e+"), 1.0);
        assert_eq!(parse_float(".5"), 0.5);
        assert_eq!(parse_float("5."), 5.0);
        assert_eq!(parse_float("-Infinity"), f64::NEG_INFINITY);
        assert_eq!(parse_float("1e400"), f64::INFINITY);
        assert!(parse_float("INF").is_nan());
        assert!(parse_float("").is_nan());
        assert!(parse_float(".").is_nan());
        assert!(parse_float("-").is_nan());
        assert!(parse_float("NaN").is_nan());
        assert!(parse_float("\u{85}1").is_nan());
    }

    #[test]
    fn parse_int_reads_leading_digits_and_hex() {
        assert_eq!(parse_int("  -12abc"), -12.0);
        assert_eq!(parse_int("0x1F"), 31.0);
        assert_eq!(parse_int("-0x10"), -16.0);
        assert_eq!(parse_int("1.9"), 1.0);
        assert!(parse_int("abc").is_nan());
        assert!(parse_int("0x").is_nan());
    }

    #[test]
    fn string_to_number_needs_the_whole_string() {
        assert_eq!(string_to_number(" 0x1F "), 31.0);
        assert_eq!(string_to_number("0B11"), 3.0);
        assert_eq!(string_to_number(""), 0.0);
        assert_eq!(string_to_number("5."), 5.0);
        assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
        assert!(string_to_number("5e").is_nan());
        assert!(string_to_number("inf").is_nan());
        assert!(string_to_number("1 2").is_nan());
        assert!(string_to_number("-0x1").is_nan());
    }

    proptest::proptest! {
        #[test]
        fn strings_and_canonical_doubles_read_back(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            proptest::prop_assume!(v.is_finite());
            // String(v) is round-trip exact; canonical doubles keep 16 digits (within one ulp
            // of 16-digit rounding).
            proptest::prop_assert_eq!(parse_float(&number_to_string(v)), if v == 0.0 { 0.0 } else { v });
            let back = parse_float(&canonical_double(v).replace('E', "e"));
            proptest::prop_assert!((back - v).abs() <= v.abs() * 1e-15, "{} {}", v, back);
        }

        #[test]
        fn rounding_differs_from_rust_only_on_exact_ties(
            mantissa in 0u64..(1 << 53), exp in -60i32..60, digits in 0usize..20,
        ) {
            let v = mantissa as f64 * 2f64.powi(exp);
            proptest::prop_assume!(v < 1e21);
            let ours = to_fixed(v, digits);
            let rust = format!("{v:.digits$}");
            if ours != rust {
                let exact = format!("{v:.1074}");
                let frac = exact.split_once('.').map_or("", |(_, f)| f);
                proptest::prop_assert!(frac[digits..].starts_with('5'));
                proptest::prop_assert!(frac[digits + 1..].bytes().all(|d| d == b'0'));
            }
        }
    }
}

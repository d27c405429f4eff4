//! Pure conversions between JSON atoms and RDF literals: canonical numbers (m-ld-js lexical
//! forms), booleans, JSON literals, and the native JSON form of inlined literal types.
//!
//! Knows nothing of contexts, patterns or graphs.

use crate::ns;
use m_ld_vocab::js;
use oxrdf::{Literal, NamedNode};
use serde_json::{Map, Number, Value};

/// The m-ld canonical lexical form of an `xsd:double`, as m-ld-js writes it (one definition,
/// shared with the wire codec).
pub use m_ld_vocab::js::canonical_double;

/// The lexical form of a JSON integer, exactly (also beyond 2^53, where m-ld-js has rounded it
/// to a double already: docs/divergences.md), or `None` for a number with a fraction or an
/// exponent.
fn exact_integer(number: &Number) -> Option<String> {
    number
        .as_i64()
        .map(|i| i.to_string())
        .or_else(|| number.as_u64().map(|u| u.to_string()))
}

/// The lexical form m-ld-js gives a JSON number, whatever its datatype (docs/jrql.md §1.3):
/// jsonld.js's `isDouble` chooses between the canonical double and `toFixed(0)`. So `1.5` with
/// `xsd:decimal` is `1.5E0`, `2` with `xsd:double` is `2`, and `1e-7` or `5e-324` (no `.` in
/// their JavaScript string) is `0`: clones of both engines must write the same literal for the
/// same JSON, or a delete by value from one misses the other's triple.
pub fn number_lexical(number: &Number) -> String {
    if let Some(exact) = exact_integer(number) {
        return exact;
    }
    let f = number.as_f64().unwrap_or(f64::NAN);
    if js::is_double(f) {
        canonical_double(f)
    } else {
        if f.fract() != 0.0 {
            tracing::warn!(
                "the number {f:e} is written as the integer {}, as m-ld-js writes it; write \
                 {{\"@value\": \"{}\", \"@type\": \"xsd:double\"}} to keep it",
                js::to_fixed(f, 0),
                canonical_double(f)
            );
        }
        js::to_fixed(f, 0)
    }
}

/// The literal for a JSON number: an `xsd:double` if m-ld-js takes it for one (jsonld.js
/// `isDouble`), otherwise an `xsd:integer`; its lexical form is [`number_lexical`].
pub fn number_literal(number: &Number) -> Literal {
    let double = exact_integer(number).is_none() && js::is_double(number.as_f64().unwrap_or(0.0));
    let datatype = if double {
        ns::XSD_DOUBLE
    } else {
        ns::XSD_INTEGER
    };
    Literal::new_typed_literal(number_lexical(number), xsd(datatype))
}

/// The canonical `xsd:double` for a lexical form, as m-ld-js re-canonicalises a string given
/// with that datatype (`" 2.50 "` → `2.5E0`, `Infinity`); `None` unless the whole string is a
/// JavaScript decimal number (m-ld-js fails on NaN, and reads a number prefix of anything
/// else: docs/divergences.md).
pub fn double_lexical(text: &str) -> Option<String> {
    let value = js::parse_float(text);
    (!value.is_nan() && js::string_to_number(text) == value).then(|| canonical_double(value))
}

/// The `xsd:boolean` literal for a JSON boolean.
pub fn boolean_literal(value: bool) -> Literal {
    Literal::new_typed_literal(value.to_string(), xsd(ns::XSD_BOOLEAN))
}

/// An `rdf:JSON` literal whose lexical form is the canonical text of `value`.
pub fn json_literal(value: &Value) -> Literal {
    Literal::new_typed_literal(canonical_json(value), xsd(ns::RDF_JSON))
}

/// Canonical JSON text: no insignificant whitespace, object keys sorted by code point at every
/// level, integral numbers written as integers.
pub fn canonical_json(value: &Value) -> String {
    fn canonicalise(value: &Value) -> Value {
        match value {
            Value::Object(object) => {
                let mut keys: Vec<&String> = object.keys().collect();
                keys.sort();
                let mut sorted = Map::new();
                for key in keys {
                    if let Some(v) = object.get(key) {
                        sorted.insert(key.clone(), canonicalise(v));
                    }
                }
                Value::Object(sorted)
            }
            Value::Array(items) => Value::Array(items.iter().map(canonicalise).collect()),
            Value::Number(n) if n.is_f64() => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 2f64.powi(63) => Value::from(f as i64),
                _ => value.clone(),
            },
            other => other.clone(),
        }
    }
    canonicalise(value).to_string()
}

/// The native JSON form of a literal whose datatype m-ld inlines (`xsd:string`,
/// `xsd:boolean`, `xsd:integer`, `xsd:double`), or `None` if the literal must be rendered as a
/// value object (other datatypes, language strings, or lexical forms with no JSON equivalent).
pub fn inline_json(literal: &Literal) -> Option<Value> {
    if literal.language().is_some() {
        return None;
    }
    let lexical = literal.value();
    match literal.datatype().as_str() {
        ns::XSD_STRING => Some(Value::String(lexical.to_string())),
        ns::XSD_BOOLEAN => match lexical {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        ns::XSD_INTEGER => {
            if let Ok(i) = lexical.parse::<i64>() {
                Some(Value::from(i))
            } else if let Ok(u) = lexical.parse::<u64>() {
                Some(Value::from(u))
            } else {
                // As m-ld-js presents an integer: `parseInt(lexical)` (`1.5E0` is 1).
                js_number_json(js::parse_int(lexical))
            }
        }
        ns::XSD_DOUBLE => double_json(lexical),
        _ => None,
    }
}

/// A finite `xsd:double` lexical form as a JSON number, as m-ld-js presents it
/// (`parseFloat(lexical)`); NaN and the infinities, which JSON cannot carry (m-ld-js gives
/// `null`), stay value objects.
fn double_json(lexical: &str) -> Option<Value> {
    js_number_json(js::parse_float(lexical))
}

/// A JavaScript number as JSON: integral values as integers, as JavaScript prints them; `None`
/// for NaN and the infinities.
fn js_number_json(value: f64) -> Option<Value> {
    if !value.is_finite() {
        return None;
    }
    const SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    if value.fract() == 0.0 && value.abs() < SAFE {
        return Some(Value::from(value as i64));
    }
    Number::from_f64(value).map(Value::Number)
}

/// The text of an `rdf:JSON` literal parsed back to JSON, if it is valid JSON.
pub fn parse_json_literal(literal: &Literal) -> Option<Value> {
    serde_json::from_str(literal.value()).ok()
}

fn xsd(iri: &str) -> NamedNode {
    NamedNode::new_unchecked(iri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_doubles_match_meld_js() {
        for (value, expected) in [
            (1.8, "1.8E0"),
            (0.5, "5.0E-1"),
            (1.0, "1.0E0"),
            (-2.25, "-2.25E0"),
            (123.456, "1.23456E2"),
            (0.1, "1.0E-1"),
            (1e21, "1.0E21"),
            (0.0, "0.0E0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
        ] {
            assert_eq!(canonical_double(value), expected, "{value}");
        }
    }

    #[test]
    fn numbers_become_integers_or_doubles_as_in_javascript() {
        let lit = |v: Value| match v {
            Value::Number(n) => number_literal(&n),
            _ => unreachable!(),
        };
        let int = lit(json!(40));
        assert_eq!(
            (int.value(), int.datatype().as_str()),
            ("40", ns::XSD_INTEGER)
        );
        let integral_float = lit(json!(40.0));
        assert_eq!(integral_float.value(), "40");
        assert_eq!(integral_float.datatype().as_str(), ns::XSD_INTEGER);
        let double = lit(json!(1.8));
        assert_eq!(
            (double.value(), double.datatype().as_str()),
            ("1.8E0", ns::XSD_DOUBLE)
        );
        assert_eq!(lit(json!(5_000_000_000u64)).value(), "5000000000");
        assert_eq!(lit(json!(-5)).value(), "-5");
        assert_eq!(lit(json!(1e21)).datatype().as_str(), ns::XSD_DOUBLE);
    }

    #[test]
    fn inline_json_of_meld_types() {
        let typed = |v: &str, t: &str| Literal::new_typed_literal(v, xsd(t));
        assert_eq!(inline_json(&typed("40", ns::XSD_INTEGER)), Some(json!(40)));
        assert_eq!(
            inline_json(&typed("1.8E0", ns::XSD_DOUBLE)),
            Some(json!(1.8))
        );
        assert_eq!(inline_json(&typed("2.0E0", ns::XSD_DOUBLE)), Some(json!(2)));
        assert_eq!(inline_json(&typed("INF", ns::XSD_DOUBLE)), None);
        assert_eq!(
            inline_json(&typed("true", ns::XSD_BOOLEAN)),
            Some(json!(true))
        );
        assert_eq!(inline_json(&typed("maybe", ns::XSD_BOOLEAN)), None);
        assert_eq!(
            inline_json(&Literal::new_simple_literal("x")),
            Some(json!("x"))
        );
        assert_eq!(
            inline_json(&typed(
                "2000-01-01",
                "http://www.w3.org/2001/XMLSchema#date"
            )),
            None
        );
        let lang = Literal::new_language_tagged_literal("Bonjour", "fr").unwrap();
        assert_eq!(inline_json(&lang), None);
        assert_eq!(inline_json(&typed("abc", ns::XSD_INTEGER)), None);
    }

    #[test]
    fn canonical_json_sorts_keys_and_normalises_numbers() {
        let value = json!({"b": [1.0, {"z": 1, "a": 2.5}], "a": "x"});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":"x","b":[1,{"a":2.5,"z":1}]}"#
        );
        let literal = json_literal(&value);
        assert_eq!(literal.datatype().as_str(), ns::RDF_JSON);
        assert_eq!(
            parse_json_literal(&literal),
            Some(json!({"a": "x", "b": [1, {"a": 2.5, "z": 1}]}))
        );
    }
}

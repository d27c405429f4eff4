//! The JavaScript value semantics m-ld-js constraints resolve conflicts with, so that Rust and JS
//! clones pick the same winner: the JSON value m-ld-js presents for an RDF term (`jrqlValue`), the
//! `comparable` form of it (`@value` of a value object), and the JS `>` operator on such values.
//!
//! Owns only these pure functions; it knows nothing of constraints, stores or contexts.

use std::cmp::Ordering;

use m_ld_jrql::ns;
use m_ld_vocab::js::{parse_float, parse_int, string_to_number};
use oxrdf::TermRef;

/// A JS primitive, as m-ld-js compares property values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsValue<'a> {
    /// A string (compared by UTF-16 code units).
    Str(&'a str),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// An object (a reference `{"@id": …}`): it converts to the string `"[object Object]"`.
    Object,
}

/// What a plain object converts to in a JS comparison.
const OBJECT_STRING: &str = "[object Object]";

impl<'a> JsValue<'a> {
    /// The value m-ld-js `SingleValued` compares for a term: the JSON value m-ld-js presents
    /// (strings, booleans, integers and doubles inline; references as objects), or the
    /// `@value` (lexical form) of a value object (language strings and other datatypes).
    pub(crate) fn comparable(term: TermRef<'a>) -> JsValue<'a> {
        match term {
            TermRef::Literal(lit) => {
                if lit.language().is_some() {
                    return JsValue::Str(lit.value());
                }
                match lit.datatype().as_str() {
                    ns::XSD_BOOLEAN => JsValue::Bool(lit.value() == "true"),
                    ns::XSD_INTEGER => JsValue::Num(parse_int(lit.value())),
                    ns::XSD_DOUBLE => JsValue::Num(parse_float(lit.value())),
                    // Strings inline; other datatypes are value objects, whose `@value` is the
                    // lexical form.
                    _ => JsValue::Str(lit.value()),
                }
            }
            _ => JsValue::Object,
        }
    }

    /// JS `this > other` (the abstract relational comparison): two strings compare by UTF-16
    /// code units; otherwise both convert to numbers, and `NaN` is never greater nor less.
    pub(crate) fn gt(&self, other: &JsValue<'_>) -> bool {
        match (self.as_str(), other.as_str()) {
            (Some(a), Some(b)) => utf16_cmp(a, b) == Ordering::Greater,
            _ => {
                let (a, b) = (self.to_number(), other.to_number());
                a > b
            }
        }
    }

    /// The string this primitive is, if it is one after `ToPrimitive` (objects become
    /// `"[object Object]"`).
    fn as_str(&self) -> Option<&str> {
        match self {
            JsValue::Str(s) => Some(s),
            JsValue::Object => Some(OBJECT_STRING),
            JsValue::Num(_) | JsValue::Bool(_) => None,
        }
    }

    /// JS `ToNumber`.
    fn to_number(&self) -> f64 {
        match self {
            JsValue::Num(n) => *n,
            JsValue::Bool(b) => f64::from(u8::from(*b)),
            JsValue::Str(s) => string_to_number(s),
            JsValue::Object => string_to_number(OBJECT_STRING),
        }
    }
}

/// Compares strings as JS does: by UTF-16 code units.
pub(crate) fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::{Literal, NamedNode, Term};

    fn typed(value: &str, datatype: &str) -> Term {
        Literal::new_typed_literal(value, NamedNode::new_unchecked(datatype)).into()
    }

    #[test]
    fn strings_compare_by_utf16_code_units() {
        let (fred, flint) = (JsValue::Str("Fred"), JsValue::Str("Flintstone"));
        assert!(fred.gt(&flint));
        assert!(!flint.gt(&fred));
        // U+FF21 (one unit, 0xFF21) sorts after U+1F600 (surrogates 0xD83D 0xDE00) in UTF-16,
        // though not by code point.
        assert!(JsValue::Str("\u{ff21}").gt(&JsValue::Str("\u{1f600}")));
        assert!(!JsValue::Str("a").gt(&JsValue::Str("a")));
    }

    #[test]
    fn numbers_compare_numerically_and_mixed_values_convert() {
        assert!(JsValue::Num(10.0).gt(&JsValue::Num(9.0)));
        // "10" > 9 converts the string: true; "abc" converts to NaN: never greater nor less.
        assert!(JsValue::Str("10").gt(&JsValue::Num(9.0)));
        assert!(!JsValue::Str("abc").gt(&JsValue::Num(9.0)));
        assert!(!JsValue::Num(9.0).gt(&JsValue::Str("abc")));
        assert!(JsValue::Bool(true).gt(&JsValue::Bool(false)));
        assert!(JsValue::Num(2.0).gt(&JsValue::Bool(true)));
        // Objects are "[object Object]": never greater than another object, but greater than
        // strings starting before '['.
        assert!(!JsValue::Object.gt(&JsValue::Object));
        assert!(JsValue::Object.gt(&JsValue::Str("Fred")));
        assert!(!JsValue::Object.gt(&JsValue::Str("fred")));
        assert!(!JsValue::Object.gt(&JsValue::Num(1.0)));
    }

    #[test]
    fn terms_become_js_values_as_m_ld_js_presents_them() {
        let int = typed("42", ns::XSD_INTEGER);
        assert_eq!(JsValue::comparable(int.as_ref()), JsValue::Num(42.0));
        let dbl = typed("1.8E0", ns::XSD_DOUBLE);
        assert_eq!(JsValue::comparable(dbl.as_ref()), JsValue::Num(1.8));
        let yes = typed("true", ns::XSD_BOOLEAN);
        assert_eq!(JsValue::comparable(yes.as_ref()), JsValue::Bool(true));
        let one = typed("1", ns::XSD_BOOLEAN);
        assert_eq!(JsValue::comparable(one.as_ref()), JsValue::Bool(false));
        let date = typed("2024-01-01", "http://www.w3.org/2001/XMLSchema#date");
        assert_eq!(
            JsValue::comparable(date.as_ref()),
            JsValue::Str("2024-01-01")
        );
        let lang: Term = Literal::new_language_tagged_literal_unchecked("Bonjour", "fr").into();
        assert_eq!(JsValue::comparable(lang.as_ref()), JsValue::Str("Bonjour"));
        let iri: Term = NamedNode::new_unchecked("http://ex.org/a").into();
        assert_eq!(JsValue::comparable(iri.as_ref()), JsValue::Object);
    }
}

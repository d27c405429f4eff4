//! The order in which the values of one multi-valued property are listed in output.
//!
//! m-ld-js 0.10 lists them in the order its store (quadstore 12, index graph–subject–predicate–
//! object) yields them: by the object's *storage key*, a string built from the term (a compacted
//! IRI, a literal's lexical form behind its language or datatype, or for numeric datatypes an
//! "fpstring" sort key). The compliance suite compares describe output of Rust and JS clones
//! with order-sensitive equality, so we list values in exactly that order, quirks included:
//! the fpstring encoding places `10` between `1` and `2`, and `xsd:float` sorts as a generic
//! literal.
//!
//! Owns only the comparison of two object terms; it must not know about subjects, queries or
//! rendering.

use std::borrow::Cow;
use std::cmp::Ordering;

use oxrdf::Term;

use crate::context::Context;
use m_ld_vocab::js;

/// quadstore's separator between the parts of a key.
const SEPARATOR: &str = "\u{0}\u{0}";

/// The storage-context prefixes m-ld-js compacts IRIs with (besides `@base`).
const PREFIXES: [(&str, &str); 4] = [
    ("jrql", "http://json-rql.org/"),
    ("mld", "http://m-ld.org/"),
    ("xs", "http://www.w3.org/2001/XMLSchema#"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
];

/// Datatypes quadstore stores with a numeric sort key.
const NUMERIC: [&str; 15] = [
    "integer",
    "double",
    "decimal",
    "nonPositiveInteger",
    "negativeInteger",
    "long",
    "int",
    "short",
    "byte",
    "nonNegativeInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
    "positiveInteger",
];

const XSD: &str = "http://www.w3.org/2001/XMLSchema#";

/// Compares two values of one property in m-ld-js output order. A total order: terms that
/// share a storage key are ordered by their kind, then by their N-Triples form.
pub(crate) fn value_order(ctx: &Context, a: &Term, b: &Term) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (key_a, kind_a) = storage_key(ctx, a);
    let (key_b, kind_b) = storage_key(ctx, b);
    key_a
        .cmp(&key_b)
        .then(kind_a.cmp(&kind_b))
        .then_with(|| a.to_string().cmp(&b.to_string()))
}

/// A sort key of a term whose order is [`value_order`]'s, for sorting many values (each key is
/// built once).
pub(crate) fn value_sort_key(ctx: &Context, term: &Term) -> (String, u8, String) {
    let (key, kind) = storage_key(ctx, term);
    (key.into_owned(), kind, term.to_string())
}

/// The part of quadstore's key that an object term contributes, and its term-type digit.
fn storage_key<'t>(ctx: &Context, term: &'t Term) -> (Cow<'t, str>, u8) {
    match term {
        Term::NamedNode(node) => (compact_iri(ctx.domain_base(), node.as_str()), 0),
        Term::BlankNode(node) => (Cow::Borrowed(node.as_str()), 1),
        Term::Literal(literal) => {
            if let Some(language) = literal.language() {
                return (
                    Cow::Owned(format!("{language}{SEPARATOR}{}", literal.value())),
                    4,
                );
            }
            let datatype = literal.datatype().as_str();
            let local = datatype.strip_prefix(XSD);
            if local == Some("string") {
                return (Cow::Borrowed(literal.value()), 3);
            }
            if local.is_some_and(|l| NUMERIC.contains(&l))
                && let Some(encoded) = fp_encode(literal.value())
            {
                return (
                    Cow::Owned(format!(
                        "{encoded}{SEPARATOR}{datatype}{SEPARATOR}{}",
                        literal.value()
                    )),
                    5,
                );
            }
            (
                Cow::Owned(format!("{datatype}{SEPARATOR}{}", literal.value())),
                2,
            )
        }
    }
}

/// An IRI as m-ld-js's storage context compacts it: a prefixed name for the storage prefixes,
/// else relative to the domain base (not the app's `@base`) if under it, else whole.
fn compact_iri<'i>(base: &str, iri: &'i str) -> Cow<'i, str> {
    if let Some((prefix, rest)) = PREFIXES
        .iter()
        .filter_map(|(prefix, ns)| Some((prefix, iri.strip_prefix(ns)?)))
        .find(|(_, rest)| !rest.is_empty())
    {
        return Cow::Owned(format!("{prefix}:{rest}"));
    }
    match iri.strip_prefix(base) {
        Some(relative) if is_keyword_like(relative) => Cow::Owned(format!("./{relative}")),
        Some(relative) => Cow::Borrowed(relative),
        None => Cow::Borrowed(iri),
    }
}

/// Whether a relative IRI would read as a JSON-LD keyword (`@` and letters).
fn is_keyword_like(relative: &str) -> bool {
    relative
        .strip_prefix('@')
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphabetic()))
}

/// quadstore's "fpstring" sort key of a numeric lexical form, parsed as JavaScript's
/// `parseFloat` would; `None` for what parses as NaN (which m-ld-js cannot store).
fn fp_encode(lexical: &str) -> Option<String> {
    let value = parse_float(lexical)?;
    if value == f64::NEG_INFINITY {
        return Some(fp_join(0, 0, 0.0));
    }
    if value == f64::INFINITY {
        return Some(fp_join(6, 0, 0.0));
    }
    if value == 0.0 {
        return Some(fp_join(3, 0, 0.0));
    }
    let negative = value < 0.0;
    let mut mantissa = value.abs();
    let mut exponent: i64 = 0;
    // As quadstore does it: note `>` (not `>=`), so 10 keeps mantissa 10 and exponent 0.
    while mantissa > 10.0 {
        mantissa /= 10.0;
        exponent += 1;
    }
    while mantissa < 1.0 {
        mantissa *= 10.0;
        exponent -= 1;
    }
    Some(match (negative, exponent >= 0) {
        (true, true) => fp_join(1, 999 - exponent, 10.0 - mantissa),
        (true, false) => fp_join(2, -exponent, 10.0 - mantissa),
        (false, false) => fp_join(4, 999 + exponent, mantissa),
        (false, true) => fp_join(5, exponent, mantissa),
    })
}

/// The case digit, the exponent padded to three digits, and the mantissa with 17 decimals.
fn fp_join(case: u8, exponent: i64, mantissa: f64) -> String {
    format!("{case}{exponent:03}{}", js::to_fixed(mantissa, 17))
}

/// JavaScript's `parseFloat`; `None` for NaN.
fn parse_float(text: &str) -> Option<f64> {
    Some(js::parse_float(text)).filter(|v| !v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::{Literal, NamedNode};

    fn integer(value: &str) -> Term {
        Literal::new_typed_literal(value, NamedNode::new_unchecked(format!("{XSD}integer"))).into()
    }

    fn ctx() -> Context {
        Context::for_domain("test.m-ld.org", None).unwrap()
    }

    fn sorted(ctx: &Context, mut terms: Vec<Term>) -> Vec<String> {
        terms.sort_by(|a, b| value_order(ctx, a, b));
        terms
            .iter()
            .map(|t| match t {
                Term::Literal(l) => l.value().to_string(),
                other => other.to_string(),
            })
            .collect()
    }

    #[test]
    fn sort_keys_order_as_value_order() {
        let ctx = ctx();
        let terms: Vec<Term> = vec![
            integer("10"),
            integer("9"),
            integer("-1"),
            Literal::new_simple_literal("b").into(),
            Literal::new_simple_literal("10").into(),
            Literal::new_language_tagged_literal_unchecked("b", "en").into(),
            Literal::new_typed_literal("1.5E0", NamedNode::new_unchecked(format!("{XSD}double")))
                .into(),
            Literal::new_typed_literal("x", NamedNode::new_unchecked("http://ex.org/dt")).into(),
            NamedNode::new_unchecked("http://test.m-ld.org/fred").into(),
            NamedNode::new_unchecked("http://ex.org/a").into(),
            oxrdf::BlankNode::new_unchecked("b1").into(),
        ];
        for a in &terms {
            for b in &terms {
                assert_eq!(
                    value_sort_key(&ctx, a).cmp(&value_sort_key(&ctx, b)),
                    value_order(&ctx, a, b),
                    "{a} vs {b}"
                );
            }
        }
    }

    /// Keys computed by quadstore 12.4.1's `fpstring.encode` under Node 20 (run by hand).
    #[test]
    fn fpstring_keys_match_quadstore() {
        let cases = [
            ("2", "50002.00000000000000000"),
            ("10", "500010.00000000000000000"),
            ("-1", "19999.00000000000000000"),
            ("2.5", "50002.50000000000000000"),
            ("0", "30000.00000000000000000"),
        ];
        for (lexical, key) in cases {
            assert_eq!(fp_encode(lexical).as_deref(), Some(key), "{lexical}");
        }
        assert_eq!(fp_encode("abc"), None);
        assert_eq!(fp_encode(" 12abc").as_deref(), fp_encode("12").as_deref());
    }

    #[test]
    fn to_fixed_rounds_ties_up_like_javascript() {
        // 1 + 2^-18 = 1.000003814697265625 exactly: a tie at the 17th decimal.
        assert_eq!(
            js::to_fixed(1.0 + 2f64.powi(-18), 17),
            "1.00000381469726563"
        );
        assert_eq!(
            js::to_fixed(9.999_999_999_999_999_9, 17),
            "10.00000000000000000"
        );
        assert_eq!(js::to_fixed(0.1, 17), "0.10000000000000001");
    }

    #[test]
    fn numbers_sort_by_fpstring_key_quirk_included() {
        let ctx = ctx();
        let values = ["2", "10", "1", "-3", "0", "100", "20"]
            .map(integer)
            .to_vec();
        // 10 and 100 have mantissa 10: each sorts after the ones of its exponent, before 2.
        assert_eq!(
            sorted(&ctx, values),
            ["-3", "0", "1", "10", "2", "100", "20"]
        );
    }

    #[test]
    fn strings_and_iris_sort_by_their_storage_form() {
        let ctx = ctx();
        let values: Vec<Term> = vec![
            Literal::new_simple_literal("b").into(),
            NamedNode::new_unchecked("http://www.w3.org/1999/02/22-rdf-syntax-ns#type").into(),
            Literal::new_simple_literal("Fred").into(),
            NamedNode::new_unchecked("http://a.org/x").into(),
            // Relative to the domain base: "wilma".
            NamedNode::new_unchecked("http://test.m-ld.org/wilma").into(),
        ];
        assert_eq!(
            sorted(&ctx, values),
            [
                "Fred",
                "b",
                "<http://a.org/x>",
                "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
                "<http://test.m-ld.org/wilma>",
            ]
        );
    }
}

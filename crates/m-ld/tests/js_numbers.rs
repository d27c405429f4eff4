//! The literals this engine writes for numbers equal m-ld-js 0.10's, through a json-rql write and
//! through the wire codec.
//!
//! The expected literals (`js/numbers.json`) were printed by `js/numbers.js`, which writes each
//! number through json-rql into an m-ld-js 0.10 clone and reads back the stored literal (see the
//! script for how to run it). A Rust clone must store the same literal for the same JSON, or a
//! delete by value from an m-ld-js clone misses its triple; and a number arriving on the wire
//! must become the literal m-ld-js makes of it.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use m_ld::core::wire::encoding::WireLimits;
use m_ld::core::wire::jsonld::{DomainContext, literal_value, triples_from_subjects};
use m_ld::{MeldClone, MeldConfig};
use m_ld_vocab::js;
use oxrdf::{Literal, NamedNode, Term};
use serde_json::{Value, json};

const DOMAIN: &str = "test.example.org";
const EXPECTED: &str = include_str!("js/numbers.json");

/// Numbers whose JSON text this engine reads exactly where JavaScript's `JSON.parse` rounds
/// them first (docs/divergences.md, json-rql).
const EXACT_HERE: &[&str] = &["9007199254740993"];

/// `xsd:double` lexical forms that are not wholly a number: refused here, where m-ld-js reads a
/// number prefix of them (docs/divergences.md, json-rql).
const REFUSED_HERE: &[&str] = &["1.5abc"];

/// What m-ld-js stored: a literal, or the error it failed with.
fn expected(entry: &Value) -> Result<Literal, String> {
    let literal = &entry["literal"];
    if let Some(error) = literal.get("error") {
        return Err(error.to_string());
    }
    let value = literal["value"].as_str().expect("a lexical form");
    let datatype = literal["datatype"].as_str().expect("a datatype");
    Ok(Literal::new_typed_literal(
        value,
        NamedNode::new(datatype).expect("an IRI"),
    ))
}

/// The number an entry's JS expression evaluated to.
fn number(entry: &Value) -> f64 {
    let bits = u64::from_str_radix(entry["bits"].as_str().expect("bits"), 16).expect("hex");
    f64::from_bits(bits)
}

fn cases(kind: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(EXPECTED).expect("numbers.json is JSON");
    all[kind].as_array().expect("an array").clone()
}

/// Writes `{"@id": "x", "n": value}` and returns the literal stored, then deletes it.
async fn written(clone: &MeldClone, value: Value) -> Result<Literal, String> {
    clone
        .write(&json!({"@id": "x", "n": value}))
        .await
        .map_err(|e| e.to_string())?;
    let n = NamedNode::new(format!("http://{DOMAIN}/#n")).expect("an IRI");
    let triples = clone
        .read_state()
        .and_then(|state| state.triples(None, Some(&n), None))
        .expect("readable");
    clone
        .write(&json!({"@delete": {"@id": "x", "n": "?n"}, "@where": {"@id": "x", "n": "?n"}}))
        .await
        .expect("deleted");
    match triples.as_slice() {
        [triple] => match &triple.object {
            Term::Literal(literal) => Ok(literal.clone()),
            other => panic!("not a literal: {other}"),
        },
        other => panic!("expected one triple, found {other:?}"),
    }
}

#[tokio::test]
async fn json_rql_writes_store_the_literals_m_ld_js_stores() {
    let clone = MeldClone::new(MeldConfig::new("numbers", DOMAIN, true))
        .await
        .expect("clone");
    let mut checked = 0;
    for entry in cases("numbers") {
        let js_text = entry["js"].as_str().expect("js");
        let v = number(&entry);
        assert_eq!(
            js::number_to_string(v),
            entry["string"],
            "String({js_text})"
        );
        // The JSON an app would send: the expression itself where it is JSON, else the double.
        let json = match serde_json::from_str::<Value>(js_text) {
            Ok(value @ Value::Number(_)) => value,
            _ => match serde_json::Number::from_f64(v) {
                Some(n) => Value::Number(n),
                None => continue, // the infinities: JSON cannot carry them (the wire test does)
            },
        };
        let ours = written(&clone, json).await;
        if EXACT_HERE.contains(&js_text) {
            assert_eq!(ours.expect("written").value(), js_text);
            assert_ne!(expected(&entry).expect("stored").value(), js_text);
        } else {
            assert_eq!(ours, expected(&entry), "{js_text}");
        }
        checked += 1;
    }
    for entry in cases("typed") {
        let object: Value =
            serde_json::from_str(entry["json"].as_str().expect("json")).expect("JSON");
        let ours = written(&clone, object.clone()).await;
        let lexical = object["@value"].as_str().unwrap_or_default();
        match expected(&entry) {
            Ok(_) if REFUSED_HERE.contains(&lexical) => assert!(ours.is_err(), "{object}"),
            Ok(literal) => assert_eq!(ours, Ok(literal), "{object}"),
            // m-ld-js fails (NaN cannot be stored): so must we, with an error of our own.
            Err(_) => assert!(ours.is_err(), "{object}: {ours:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} cases");
}

#[test]
fn numbers_on_the_wire_become_the_literals_m_ld_js_makes() {
    let ctx = DomainContext::new(DOMAIN).expect("domain");
    let limits = WireLimits::default();
    let decode = |value: rmpv::Value| -> Literal {
        let subject = rmpv::Value::Map(vec![("@id".into(), "x".into()), ("n".into(), value)]);
        let triples = triples_from_subjects(&ctx, &subject, &limits).expect("decoded");
        match &triples[..] {
            [triple] => match &triple.object {
                Term::Literal(literal) => literal.clone(),
                other => panic!("not a literal: {other}"),
            },
            other => panic!("expected one triple, found {other:?}"),
        }
    };
    for entry in cases("numbers") {
        let js_text = entry["js"].as_str().expect("js");
        let want = expected(&entry).expect("stored");
        // A JS peer sends a number as a float64 (or, when integral, as an integer).
        assert_eq!(
            decode(rmpv::Value::F64(number(&entry))),
            want,
            "float {js_text}"
        );
        // What we send for that literal reads back as the same literal.
        let sent = literal_value(&ctx, &want).expect("encoded");
        assert_eq!(decode(sent), want, "round trip of {js_text}");
    }
}

//! Every json-rql / JSON-LD key the engine does not support answers 5011 (Unsupported pattern),
//! naming the key; none is silently ignored (m-ld-js ignores unknown keys).

use crate::support::*;
use serde_json::{Value, json};

enum Op {
    Read,
    Write,
    Ask,
}

fn cases() -> Vec<(&'static str, Op, Value)> {
    use Op::*;
    vec![
        (
            "@index",
            Write,
            json!({ "@id": "x", "v": { "@value": "a", "@index": "i" } }),
        ),
        // JSON-LD features.
        (
            "@reverse",
            Write,
            json!({ "@id": "fred", "@reverse": { "childOf": { "@id": "pebbles" } } }),
        ),
        (
            "@reverse",
            Write,
            json!({ "@context": { "parentOf": { "@reverse": "childOf" } }, "@id": "fred" }),
        ),
        (
            "@container",
            Read,
            json!({ "@context": { "tags": { "@id": "tag", "@container": "@set" } }, "@describe": "fred" }),
        ),
        (
            "@context",
            Write,
            json!({ "@id": "fred", "stats": { "@context": {}, "height": 5 } }),
        ),
        (
            "@context",
            Read,
            json!({ "@select": "?s", "@where": { "@graph": { "@id": "?s" }, "@union": [{ "@context": {}, "@id": "?s" }] } }),
        ),
        (
            "@context",
            Read,
            json!({ "@context": "http://example.org/context.jsonld", "@describe": "fred" }),
        ),
        (
            "@import",
            Read,
            json!({ "@context": { "@import": "http://example.org/ctx" }, "@describe": "fred" }),
        ),
        (
            "@protected",
            Read,
            json!({ "@context": { "@protected": true }, "@describe": "fred" }),
        ),
        (
            "@direction",
            Write,
            json!({ "@id": "x", "v": { "@value": "a", "@language": "ar", "@direction": "rtl" } }),
        ),
        (
            "@included",
            Write,
            json!({ "@id": "x", "@included": [{ "@id": "y" }] }),
        ),
        ("@nest", Write, json!({ "@id": "x", "@nest": { "a": 1 } })),
        (
            "@id",
            Write,
            json!({ "@id": "x", "text": { "@value": "abc", "@type": "http://ex.org/Text", "@id": "t1" } }),
        ),
        (
            "@graph",
            Write,
            json!({ "@id": "x", "@graph": [{ "@id": "y", "name": "Y" }] }),
        ),
        (
            "@propagate",
            Read,
            json!({ "@context": { "@propagate": false }, "@describe": "fred" }),
        ),
        (
            "@direction",
            Read,
            json!({ "@context": { "@direction": "rtl" }, "@describe": "fred" }),
        ),
        (
            "@nest",
            Read,
            json!({ "@context": { "n": { "@id": "ex:n", "@nest": "x" } }, "@describe": "fred" }),
        ),
        (
            "@index",
            Read,
            json!({ "@context": { "n": { "@id": "ex:n", "@index": "x" } }, "@describe": "fred" }),
        ),
        ("@foo", Write, json!({ "@id": "x", "@foo": 1 })),
        (
            "@foo",
            Write,
            json!({ "@id": "x", "v": { "@value": 1, "@foo": 2 } }),
        ),
        ("@foo", Write, json!({ "@id": "x", "age": { "@foo": 40 } })),
        // Query keys in the wrong place, or unknown.
        ("@foo", Read, json!({ "@describe": "fred", "@foo": 1 })),
        (
            "@foo",
            Read,
            json!({ "@describe": "fred", "@where": { "@id": "fred", "@foo": 1 } }),
        ),
        (
            "@groupBy",
            Read,
            json!({ "@describe": "?s", "@where": { "@id": "?s" }, "@groupBy": "?s" }),
        ),
        (
            "@orderBy",
            Read,
            json!({ "@construct": { "@id": "?s", "name": "?n" }, "@orderBy": "?n" }),
        ),
        (
            "@limit",
            Ask,
            json!({ "@where": { "@id": "?s" }, "@limit": 1 }),
        ),
        (
            "@minus",
            Read,
            json!({ "@select": "?s", "@where": { "@graph": { "@id": "?s" }, "@minus": { "@id": "?s", "age": 40 } } }),
        ),
        (
            "@service",
            Read,
            json!({ "@select": "?s", "@where": { "@graph": { "@id": "?s" }, "@service": "http://x" } }),
        ),
        (
            "@foo",
            Read,
            json!({ "@select": "?s", "@where": { "@graph": { "@id": "?s", "name": "?n" }, "@filter": { "@foo": ["?n", 1] } } }),
        ),
        (
            "@describe",
            Read,
            json!({ "@select": "?s", "@where": [{ "@id": "?s" }, { "@describe": "?s", "@where": { "@id": "?s" } }] }),
        ),
        (
            "@construct",
            Read,
            json!({ "@select": "?s", "@where": [{ "@id": "?s" }, { "@construct": { "@id": "?s" } }] }),
        ),
        ("read", Read, json!({ "@where": { "@id": "?s" } })),
        (
            "read",
            Read,
            json!({ "@insert": { "@id": "fred", "name": "x" } }),
        ),
        ("@select", Read, json!({ "@select": "?s" })),
        // Write keys.
        (
            "@foo",
            Write,
            json!({ "@insert": { "@id": "fred", "name": "x" }, "@foo": true }),
        ),
        (
            "@orderBy",
            Write,
            json!({ "@delete": { "@id": "?s" }, "@where": { "@id": "?s" }, "@orderBy": "?s" }),
        ),
        (
            "@union",
            Write,
            json!({ "@union": [{ "@id": "fred", "name": "x" }] }),
        ),
        (
            "@filter",
            Write,
            json!({ "@graph": { "@id": "fred", "name": "x" }, "@filter": { "@eq": [1, 1] } }),
        ),
        (
            "write",
            Write,
            json!({ "@select": "?s", "@where": { "@id": "?s" } }),
        ),
        // Operators without a SPARQL mapping.
        (
            "@splice",
            Write,
            json!({ "@update": { "@id": "fred", "text": { "@splice": [0, 1, "x"] } } }),
        ),
        (
            "@splice",
            Read,
            json!({ "@select": "?s", "@where": { "@graph": { "@id": "?s", "t": "?t" }, "@filter": { "@splice": ["?t", 0, 1] } } }),
        ),
    ]
}

#[test]
fn every_unsupported_key_answers_5011_naming_it() {
    let mut clone = flintstones();
    for (key, op, request) in cases() {
        let result = match op {
            Op::Read => clone.try_read(request.clone()).map(|_| ()),
            Op::Write => clone.patch(request.clone()).map(|_| ()),
            Op::Ask => m_ld_jrql::ask(&clone.graph, &clone.ctx, &request).map(|_| ()),
        };
        let error = match result {
            Ok(()) => panic!("{request} should be unsupported ({key})"),
            Err(e) => e,
        };
        assert_eq!(error.status(), 5011, "{request}: {error}");
        assert!(
            error.to_string().contains(key),
            "{request}: {error} should name {key}"
        );
    }
}

#[test]
fn unsupported_errors_leave_no_changes() {
    let mut clone = flintstones();
    let before = clone.graph.len();
    assert!(
        clone
            .patch(json!({ "@id": "fred", "v": { "@value": "a", "@index": "i" }, "name": "y" }))
            .is_err()
    );
    assert_eq!(clone.graph.len(), before);
}

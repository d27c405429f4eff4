//! docs/jrql.md §1.2: identifiers, context, `@base` / `@vocab`, identity generation.

use crate::support::*;
use m_ld_jrql::Context;
use serde_json::json;

#[test]
fn ids_and_properties_compact_back() {
    let clone = flintstones();
    let fred = clone.describe("fred");
    assert_eq!(fred[0]["@id"], "fred");
    assert_eq!(fred[0]["name"], "Fred");
    // Absolute IRIs pass through.
    let abs = clone.describe("http://test.example.org/fred");
    assert_eq!(abs, fred);
}

#[test]
fn invalid_domain_is_a_clear_error() {
    let err = Context::for_domain("NotADomain", None).unwrap_err();
    assert!(
        err.to_string()
            .contains("Domain not specified or not valid"),
        "{err}"
    );
    assert!(Context::for_domain("example.toolong", None).is_err());
}

#[test]
fn compact_iris_with_user_prefixes() {
    let mut clone = TestClone::with_context(Some(json!({ "ex": "http://ex.org/" })));
    clone.write(json!({ "@id": "ex:x", "ex:label": "X", "name": "Ex" }));
    assert_eq!(
        clone.describe("ex:x"),
        vec![json!({ "@id": "ex:x", "ex:label": "X", "name": "Ex" })]
    );
    assert_eq!(clone.describe("http://ex.org/x"), clone.describe("ex:x"));
}

#[test]
fn per_request_context() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?s", "@context": { "nm": "http://test.example.org/#name" },
        "@where": { "@id": "?s", "nm": "Wilma" }
    }));
    assert_eq!(rows, vec![json!({ "?s": { "@id": "wilma" } })]);
    // The request context also shapes the output.
    let described = clone.read(json!({
        "@describe": "wilma", "@context": { "nm": "http://test.example.org/#name" }
    }));
    assert_eq!(described[0]["nm"], "Wilma");
    assert!(described[0].get("name").is_none());
}

#[test]
fn term_definitions_coerce_values() {
    let mut clone = TestClone::with_context(Some(json!({
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "spouse": { "@id": "wife", "@type": "@id" },
        "kind": { "@type": "@vocab" },
        "count": { "@type": "xsd:integer" },
        "label": { "@language": "fr" },
        "born": { "@type": "xsd:date" }
    })));
    clone.write(json!({
        "@id": "fred", "spouse": "wilma", "kind": "Caveman", "count": "5",
        "label": "Bonjour", "born": "2000-01-01"
    }));
    assert_eq!(
        clone.describe("fred"),
        vec![json!({
            "@id": "fred", "born": "2000-01-01", "count": 5, "kind": "Caveman",
            // A language-tagged string is always a value object, as m-ld-js renders it.
            "label": { "@value": "Bonjour", "@language": "fr" }, "spouse": "wilma"
        })]
    );
    // The stored triples are typed as the context says.
    let rows = clone.select(json!({
        "@select": ["?w", "?k", "?l"],
        "@where": { "@id": "fred", "http://test.example.org/#wife": "?w",
                    "http://test.example.org/#kind": "?k", "http://test.example.org/#label": "?l" }
    }));
    assert_eq!(
        rows,
        vec![json!({
            "?w": { "@id": "wilma" }, "?k": { "@id": "#Caveman" },
            "?l": { "@value": "Bonjour", "@language": "fr" }
        })]
    );
}

#[test]
fn reverse_terms_are_rejected_not_silently_wrong() {
    // m-ld-js wrote a forward childOf triple.
    let err = Context::for_domain(
        DOMAIN,
        Some(&json!({ "parentOf": { "@reverse": "childOf" } })),
    )
    .unwrap_err();
    assert_eq!(err.status(), 5011);
    assert!(err.to_string().contains("@reverse"));
    let mut clone = TestClone::new();
    let e = clone.patch(json!({
        "@context": { "parentOf": { "@reverse": "childOf" } }, "@id": "fred", "parentOf": "pebbles"
    }));
    assert_eq!(status(e), 5011);
}

#[test]
fn anonymous_subjects_get_skolem_iris() {
    let mut clone = TestClone::new();
    let patch = clone.write(json!({ "@id": "fred", "stats": { "height": 5 } }));
    assert_eq!(
        clone.update_json(&patch),
        json!({
            "@delete": [],
            "@insert": [
                { "@id": "fred", "stats": { "@id": ".well-known/genid/g1" } },
                { "@id": ".well-known/genid/g1", "height": 5 }
            ]
        })
    );
    assert_eq!(
        clone.describe("fred"),
        vec![json!({ "@id": "fred", "stats": { "@id": ".well-known/genid/g1" } })]
    );
    // A second write of a nested anonymous object is a different subject.
    clone.write(json!({ "@id": "fred", "stats": { "height": 5 } }));
    let stats = &clone.describe("fred")[0]["stats"];
    assert_eq!(
        stats,
        &json!([{ "@id": ".well-known/genid/g1" }, { "@id": ".well-known/genid/g2" }])
    );
    // A top-level subject with no @id is skolemised too.
    let patch = clone.write(json!({ "name": "Anon" }));
    assert_eq!(
        patch.inserts[0].subject.to_string(),
        "<http://test.example.org/.well-known/genid/g3>"
    );
}

#[test]
fn skolems_use_the_domain_base_even_with_another_base() {
    let mut clone = TestClone::with_context(Some(json!({ "@base": "http://other.org/" })));
    let patch = clone.write(json!({ "@id": "fred", "stats": { "height": 5 } }));
    let ids: Vec<String> = patch
        .inserts
        .iter()
        .map(|t| t.subject.to_string())
        .collect();
    assert!(ids.contains(&"<http://other.org/fred>".to_string()));
    assert!(ids.contains(&"<http://test.example.org/.well-known/genid/g1>".to_string()));
}

#[test]
fn public_expand_and_compact() {
    let ctx = Context::for_domain(DOMAIN, None).unwrap();
    assert_eq!(
        ctx.expand_iri("fred", false).unwrap(),
        "http://test.example.org/fred"
    );
    assert_eq!(
        ctx.expand_iri("name", true).unwrap(),
        "http://test.example.org/#name"
    );
    assert_eq!(
        ctx.compact_iri("http://test.example.org/#name", true),
        "name"
    );
    assert_eq!(
        ctx.compact_iri("http://test.example.org/#name", false),
        "#name"
    );
    assert_eq!(ctx.compact_iri("http://test.example.org/", false), "./");
}

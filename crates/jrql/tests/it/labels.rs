//! Blank node labels (`_:b1`): in a write, a label names one new subject of that write, minted
//! a skolem IRI like any anonymous subject; in `@where` and `@delete` (and reads) it is a
//! variable scoped to the request, as in SPARQL.

use crate::support::*;
use m_ld_jrql::Patch;
use oxrdf::{NamedOrBlankNode, Term};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const GENID: &str = "http://test.example.org/.well-known/genid/";

/// The minted (skolem) IRIs a patch's inserts mention, as subjects or objects.
fn minted(patch: &Patch) -> BTreeSet<String> {
    let mut iris = BTreeSet::new();
    for t in &patch.inserts {
        if let NamedOrBlankNode::NamedNode(s) = &t.subject
            && s.as_str().starts_with(GENID)
        {
            iris.insert(s.as_str().to_owned());
        }
        if let Term::NamedNode(o) = &t.object
            && o.as_str().starts_with(GENID)
        {
            iris.insert(o.as_str().to_owned());
        }
    }
    iris
}

/// The only minted IRI of a patch other than list slots', compacted as the domain renders it.
fn one_minted(patch: &Patch) -> String {
    let mut iris = minted(patch);
    for t in &patch.inserts {
        if t.predicate.as_str() == "http://json-rql.org/#item"
            && let NamedOrBlankNode::NamedNode(slot) = &t.subject
        {
            iris.remove(slot.as_str());
        }
    }
    assert_eq!(iris.len(), 1, "{patch:?}");
    let iri = iris.into_iter().next().unwrap();
    iri.replace("http://test.example.org/", "")
}

#[test]
fn a_label_used_twice_in_a_write_is_one_new_subject() {
    let writes = [
        // Subject and reference in one array.
        json!([{ "@id": "_:b1", "name": "Pebbles" }, { "@id": "fred", "daughter": { "@id": "_:b1" } }]),
        // The reference first, in a @graph.
        json!({ "@graph": [{ "@id": "fred", "daughter": { "@id": "_:b1" } }, { "@id": "_:b1", "name": "Pebbles" }] }),
        // Nested: a nested subject, then a reference elsewhere in the same subject.
        json!({ "@id": "fred", "daughter": { "@id": "_:p", "name": "Pebbles" }, "likes": { "@id": "_:p" } }),
        // In @insert, with a request context.
        json!({ "@context": { "kid": "http://test.example.org/#daughter" },
                "@insert": [{ "@id": "fred", "kid": { "@id": "_:x" } }, { "@id": "_:x", "name": "Pebbles" }] }),
        // Under an @id-typed term of the request context, as a plain string.
        json!({ "@context": { "daughter": { "@id": "http://test.example.org/#daughter", "@type": "@id" } },
                "@id": "fred", "daughter": "_:kid", "likes": { "@id": "_:kid", "name": "Pebbles" } }),
        // As the item of a list and a property value.
        json!({ "@id": "fred", "@list": [{ "@id": "_:i", "name": "Pebbles" }], "daughter": { "@id": "_:i" } }),
    ];
    for write in writes {
        let mut clone = TestClone::new();
        let patch = clone.write(write.clone());
        let id = one_minted(&patch);
        assert!(id.starts_with(".well-known/genid/"), "{write}: {id}");
        assert_eq!(
            clone.describe(&id),
            vec![json!({ "@id": id, "name": "Pebbles" })],
            "{write}"
        );
        let fred = &clone.describe("fred")[0];
        let refs: Vec<&Value> = ["daughter", "likes"]
            .iter()
            .filter_map(|k| fred.get(*k))
            .collect();
        assert!(!refs.is_empty(), "{write}: {fred}");
        for r in refs {
            let r = r.get("@id").unwrap_or(r);
            assert_eq!(r, &json!(id), "{write}: {fred}");
        }
        // No blank node is ever written.
        assert!(
            patch
                .inserts
                .iter()
                .all(|t| !t.subject.is_blank_node() && !t.object.is_blank_node())
        );
    }
}

#[test]
fn the_same_label_in_another_write_or_solution_is_another_subject() {
    let mut clone = TestClone::new();
    let first = one_minted(&clone.write(json!({ "@id": "_:b1", "name": "Anon" })));
    let second = one_minted(&clone.write(json!({ "@id": "_:b1", "name": "Anon" })));
    assert_ne!(first, second);
    let named = clone.select(json!({ "@select": "?s", "@where": { "@id": "?s", "name": "Anon" } }));
    assert_eq!(named.len(), 2);
    // In an insert with a @where, one new subject per solution, shared within the solution.
    let mut clone = flintstones();
    let patch = clone.write(json!({
        "@insert": [{ "@id": "_:note", "about": { "@id": "?s" } }, { "@id": "_:note", "text": "checked" }],
        "@where": { "@id": "?s", "@type": "Person" }
    }));
    let notes = minted(&patch);
    assert_eq!(notes.len(), 3, "{patch:?}");
    let rows = clone.select(json!({
        "@select": ["?n", "?s"], "@where": { "@id": "?n", "about": "?s", "text": "checked" }
    }));
    assert_eq!(rows.len(), 3, "each note has both its properties: {rows:?}");
    // @update of a new labelled subject inserts it.
    let patch = clone.write(json!({ "@update": { "@id": "_:new", "name": "New" } }));
    let id = one_minted(&patch);
    assert_eq!(
        clone.describe(&id),
        vec![json!({ "@id": id, "name": "New" })]
    );
}

#[test]
fn a_label_in_where_or_delete_is_a_variable_of_the_request() {
    // Matched in @where and used in @insert: the matched subjects, nothing minted.
    let mut clone = flintstones();
    let patch = clone.write(json!({
        "@insert": { "@id": "_:p", "seen": true },
        "@where": { "@id": "_:p", "@type": "Person" }
    }));
    assert!(minted(&patch).is_empty(), "{patch:?}");
    assert_eq!(patch.inserts.len(), 3);
    // In @delete with no @where, the delete pattern matches it.
    let patch = clone.write(json!({ "@delete": { "@id": "_:x", "nick": "?n" } }));
    assert_eq!(patch.deletes.len(), 2, "fred's nicks: {patch:?}");
    assert_eq!(clone.describe("fred")[0].get("nick"), None);
    // Deleted and inserted: the same matched subject.
    clone.write(
        json!({ "@delete": { "@id": "_:p", "age": 40 }, "@insert": { "@id": "_:p", "age": 41 } }),
    );
    assert_eq!(clone.describe("fred")[0]["age"], json!(41));
    // A label that matches nothing deletes nothing.
    let patch = clone.write(json!({ "@delete": { "@id": "_:p", "age": 99 } }));
    assert!(patch.is_empty());
    // In a read, shared by every member of the @where, never projected by "*".
    let rows = clone.select(json!({
        "@select": "*",
        "@where": [{ "@id": "_:h", "wife": { "@id": "_:w" } }, { "@id": "_:w", "name": "?n" }]
    }));
    assert_eq!(rows, vec![json!({ "?n": "Wilma" })]);
    let rows = clone.select(json!({
        "@context": { "spouse": "http://test.example.org/#wife" },
        "@select": "?n", "@where": { "@id": "_:h", "name": "?n", "spouse": { "@id": "_:w" } }
    }));
    assert_eq!(rows, vec![json!({ "?n": "Fred" })]);
    assert!(clone.ask(json!({ "@where": { "@id": "_:anyone", "name": "Barney" } })));
    assert!(!clone.ask(json!({ "@where": { "@id": "_:anyone", "name": "Dino" } })));
}

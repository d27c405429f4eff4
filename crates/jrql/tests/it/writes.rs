//! docs/jrql.md §1.1 and §1.8: write classification, inserts, deletes, updates.

use crate::support::*;
use serde_json::{Value, json};

fn names_of(clone: &TestClone, id: &str, property: &str) -> Value {
    clone
        .describe(id)
        .first()
        .map_or(Value::Null, |s| s[property].clone())
}

#[test]
fn inserts_merge() {
    let mut clone = TestClone::new();
    clone.write(json!({ "@id": "fred", "name": "Fred" }));
    clone.write(json!({ "@id": "fred", "age": 40 }));
    assert_eq!(
        clone.describe("fred"),
        vec![json!({ "@id": "fred", "age": 40, "name": "Fred" })]
    );
}

#[test]
fn array_and_graph_inserts() {
    let mut clone = TestClone::new();
    let a = clone
        .patch(json!([{ "@id": "a", "name": "A" }, { "@id": "b", "name": "B" }]))
        .unwrap();
    let b = clone
        .patch(json!({ "@graph": [{ "@id": "a", "name": "A" }, { "@id": "b", "name": "B" }] }))
        .unwrap();
    let c = clone
        .patch(json!({ "@insert": [{ "@id": "a", "name": "A" }, { "@id": "b", "name": "B" }] }))
        .unwrap();
    assert_eq!(a.inserts.len(), 2);
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn trivial_writes_are_empty() {
    let mut clone = flintstones();
    for request in [
        json!({}),
        json!({ "@insert": {} }),
        json!({ "@graph": [] }),
        json!([]),
        json!({ "@id": "fred" }),
        json!({ "@delete": [] }),
    ] {
        let patch = clone.patch(request.clone()).unwrap();
        assert!(patch.is_empty(), "{request} gave {patch:?}");
    }
}

#[test]
fn write_classification() {
    let mut clone = flintstones();
    assert_eq!(
        status(clone.patch(json!({ "@union": [{ "@id": "fred", "name": "X" }] }))),
        5011
    );
    assert_eq!(status(clone.patch(json!({ "@describe": "fred" }))), 5011);
    assert_eq!(
        status(clone.patch(json!({ "@graph": [], "@filter": { "@eq": [1, 1] } }))),
        5011
    );
    assert_eq!(status(clone.patch(json!("fred"))), 4001);
    assert_eq!(
        status(clone.patch(json!({ "@insert": { "@id": "a", "b": 1 }, "name": "x" }))),
        4001
    );
}

#[test]
fn fixed_delete_always_applies() {
    let mut clone = flintstones();
    let patch = clone.write(json!({ "@delete": { "@id": "fred", "name": "Fred" } }));
    assert_eq!(
        clone.update_json(&patch),
        json!({ "@delete": [{ "@id": "fred", "name": "Fred" }], "@insert": [] })
    );
    assert_eq!(names_of(&clone, "fred", "name"), Value::Null);
    // Deleting a non-existent triple still lists it.
    let patch = clone
        .patch(json!({ "@delete": { "@id": "fred", "name": "Nobody" } }))
        .unwrap();
    assert_eq!(patch.deletes.len(), 1);
}

#[test]
fn delete_where_must_match_completely() {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "height": 5 }));
    let patch = clone
        .patch(json!({ "@delete": [{ "@id": "fred", "height": 5 }, { "@id": "bambam" }] }))
        .unwrap();
    assert!(patch.is_empty(), "{patch:?}");
    let patch = clone.write(
        json!({ "@delete": [{ "@id": "fred", "height": 5 }, { "@id": "wilma", "name": "?n" }] }),
    );
    assert_eq!(patch.deletes.len(), 2);
}

#[test]
fn delete_subject_deletes_all_properties() {
    let mut clone = flintstones();
    let patch = clone.write(json!({ "@delete": { "@id": "fred" } }));
    assert_eq!(patch.deletes.len(), 6);
    assert!(clone.describe("fred").is_empty());
    assert!(!clone.describe("wilma").is_empty());
}

#[test]
fn nested_delete_is_aggressive() {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "stats": { "height": 5, "weight": 100 } }));
    let patch = clone.write(json!({ "@delete": { "@id": "fred", "stats": { "height": 5 } } }));
    assert_eq!(
        clone.update_json(&patch),
        json!({ "@delete": [
            { "@id": "fred", "stats": { "@id": ".well-known/genid/g1" } },
            { "@id": ".well-known/genid/g1", "height": 5 }
        ], "@insert": [] })
    );
}

#[test]
fn variables_in_insert_without_where_are_an_error() {
    // m-ld-js silently ignored this.
    let mut clone = flintstones();
    for request in [
        json!({ "@insert": { "@id": "?s", "name": "X" } }),
        json!({ "@id": "fred", "name": "?n" }),
        json!({ "@id": "fred", "likes": { "@value": "?l", "@plus": 1 } }),
        json!({ "@delete": { "@id": "fred", "age": 40 }, "@insert": { "@id": "fred", "age": "?a" } }),
    ] {
        let e = clone.patch(request.clone()).unwrap_err();
        assert_eq!(e.status(), 4001, "{request}");
    }
}

#[test]
fn delete_with_fixed_insert_is_an_upsert() {
    let mut clone = flintstones();
    let patch = clone.write(json!({
        "@delete": { "@id": "fred", "height": "?" }, "@insert": { "@id": "fred", "height": 6 }
    }));
    assert_eq!(
        clone.update_json(&patch),
        json!({ "@delete": [], "@insert": [{ "@id": "fred", "height": 6 }] })
    );
    let patch = clone.write(json!({
        "@delete": { "@id": "fred", "height": "?" }, "@insert": { "@id": "fred", "height": 7 }
    }));
    assert_eq!(
        clone.update_json(&patch),
        json!({ "@delete": [{ "@id": "fred", "height": 6 }], "@insert": [{ "@id": "fred", "height": 7 }] })
    );
    // Re-asserting the existing value inserts it again, as m-ld-js does (a fixed insert is
    // always applied: the new identity survives a concurrent delete of the old one).
    let patch = clone
        .patch(json!({
            "@delete": { "@id": "fred", "height": "?" }, "@insert": { "@id": "fred", "height": 7 }
        }))
        .unwrap();
    assert!(patch.deletes.is_empty(), "{patch:?}");
    assert_eq!(patch.inserts.len(), 1, "{patch:?}");
    // With an explicit @where that does not match, nothing is inserted.
    let patch = clone
        .patch(json!({
            "@insert": { "@id": "fred", "height": 8 }, "@where": { "@id": "fred", "height": 99 }
        }))
        .unwrap();
    assert!(patch.is_empty());
}

#[test]
fn where_binds_delete_and_insert() {
    let mut clone = flintstones();
    let patch = clone.write(json!({
        "@delete": { "@id": "?id", "age": "?any" },
        "@insert": { "@id": "?id", "age": { "@value": "?any", "@plus": 1 } },
        "@where": { "@id": "?id", "name": "Fred", "age": "?any" }
    }));
    assert_eq!(
        clone.update_json(&patch),
        json!({ "@delete": [{ "@id": "fred", "age": 40 }], "@insert": [{ "@id": "fred", "age": 41 }] })
    );
    // Several solutions.
    let patch = clone.write(json!({
        "@insert": { "@id": "?s", "oldie": true }, "@where": { "@id": "?s", "age": { "@gt": 38 } }
    }));
    assert_eq!(patch.inserts.len(), 2);
}

#[test]
fn inline_bind_with_delete_match() {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "likes": 1 }));
    clone.write(json!({
        "@delete": { "@id": "fred", "likes": "?l" },
        "@insert": { "@id": "fred", "likes": { "@value": "?l", "@plus": 1 } }
    }));
    assert_eq!(names_of(&clone, "fred", "likes"), json!(2));
    clone.write(json!({
        "@delete": { "@id": "fred", "likes": "?l" },
        "@insert": { "@id": "fred", "likes": "?l2" },
        "@where": { "@graph": { "@id": "fred", "likes": "?l" }, "@bind": { "?l2": { "@times": ["?l", 10] } } }
    }));
    assert_eq!(names_of(&clone, "fred", "likes"), json!(20));
}

#[test]
fn update_replaces_values() {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "height": [5, 6] }));
    let patch = clone.write(json!({ "@update": { "@id": "fred", "height": 7 } }));
    assert_eq!(patch.deletes.len(), 2);
    assert_eq!(names_of(&clone, "fred", "height"), json!(7));
    // Upsert when absent.
    clone.write(json!({ "@update": { "@id": "barney", "height": 4 } }));
    assert_eq!(names_of(&clone, "barney", "height"), json!(4));
    // Unchanged value: inserted again, not deleted (as m-ld-js).
    let patch = clone
        .patch(json!({ "@update": { "@id": "fred", "height": 7 } }))
        .unwrap();
    assert!(patch.deletes.is_empty(), "{patch:?}");
    assert_eq!(patch.inserts.len(), 1, "{patch:?}");
    // With @where, matched against the data, an unchanged value is left alone.
    let patch = clone
        .patch(json!({
            "@delete": { "@id": "fred", "height": "?h" },
            "@insert": { "@id": "fred", "height": "?h" },
            "@where": { "@id": "fred", "height": "?h" }
        }))
        .unwrap();
    assert!(patch.is_empty(), "{patch:?}");
    // Several properties, only one of which exists.
    clone.write(json!({ "@update": { "@id": "fred", "height": 8, "shoe": 12 } }));
    assert_eq!(names_of(&clone, "fred", "height"), json!(8));
    assert_eq!(names_of(&clone, "fred", "shoe"), json!(12));
}

#[test]
fn update_with_operators() {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "likes": [1, 2] }));
    clone.write(json!({ "@update": { "@id": "fred", "likes": { "@plus": 1 } } }));
    assert_eq!(names_of(&clone, "fred", "likes"), json!([2, 3]));
    clone.write(json!({
        "@update": { "@id": "fred", "likes": { "@value": "?old", "@plus": 1 } },
        "@where": { "@id": "fred", "likes": { "@value": "?old", "@lt": 3 } }
    }));
    assert_eq!(names_of(&clone, "fred", "likes"), json!(3));
}

#[test]
fn update_with_variable_subject_and_where() {
    // m-ld-js#185: "Variables ... are used in the projection result, but are not assigned".
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "height": 5 }));
    clone.write(json!({
        "@update": { "@id": "?s", "height": 6 }, "@where": { "@id": "?s", "@type": "Person" }
    }));
    for id in ["fred", "wilma", "barney"] {
        assert_eq!(names_of(&clone, id, "height"), json!(6), "{id}");
    }
}

#[test]
fn delete_helper_removes_references() {
    let mut clone = flintstones();
    clone.write(json!({
        "@delete": [{ "@id": "wilma", "?p": "?o" }, { "@id": "?s", "?q": { "@id": "wilma" } }],
        "@where": { "@union": [{ "@id": "wilma", "?p": "?o" }, { "@id": "?s", "?q": { "@id": "wilma" } }] }
    }));
    assert!(clone.describe("wilma").is_empty());
    assert_eq!(names_of(&clone, "fred", "wife"), Value::Null);
    assert_eq!(names_of(&clone, "fred", "name"), json!("Fred"));
}

#[test]
fn anonymous_subjects_in_solution_inserts_are_distinct() {
    let mut clone = flintstones();
    let patch = clone.write(json!({
        "@insert": { "@id": "?s", "stats": { "height": 5 } }, "@where": { "@id": "?s", "@type": "Person" }
    }));
    let skolems: std::collections::HashSet<String> = patch
        .inserts
        .iter()
        .filter(|t| t.predicate.as_str().ends_with("#stats"))
        .map(|t| t.object.to_string())
        .collect();
    assert_eq!(skolems.len(), 3);
}

#[test]
fn agreement_flag_is_passed_through() {
    let mut clone = flintstones();
    let patch = clone
        .patch(json!({ "@insert": { "@id": "fred", "x": 1 }, "@agree": true }))
        .unwrap();
    assert_eq!(patch.agree, Some(json!(true)));
    let patch = clone
        .patch(json!({ "@insert": { "@id": "fred", "x": 1 }, "@agree": false }))
        .unwrap();
    assert_eq!(patch.agree, None);
}

#[test]
fn type_writes() {
    let mut clone = TestClone::new();
    clone.write(json!({ "@id": "x", "@type": ["A", "http://schema.org/Thing"] }));
    // Values sort as m-ld-js stores them: "#A" (relative to the domain base) first.
    assert_eq!(
        clone.describe("x")[0]["@type"],
        json!(["A", "http://schema.org/Thing"])
    );
    clone.write(json!({ "@update": { "@id": "x", "@type": "B" } }));
    assert_eq!(clone.describe("x")[0]["@type"], json!("B"));
}

#[test]
fn deleting_and_inserting_an_absent_triple_inserts_it() {
    // m-ld-js optimised this away after any match, losing the insert.
    let mut clone = flintstones();
    let patch = clone.write(json!({
        "@delete": { "@id": "fred", "name": "?n" },
        "@insert": { "@id": "fred", "name": "?n" },
        "@where": { "@id": "wilma", "name": "?n" }
    }));
    assert_eq!(
        clone.update_json(&patch),
        json!({ "@delete": [], "@insert": [{ "@id": "fred", "name": "Wilma" }] })
    );
    assert_eq!(names_of(&clone, "fred", "name"), json!(["Fred", "Wilma"]));
}

#[test]
fn concurrent_names_render_sorted() {
    let mut clone = TestClone::new();
    clone.write(json!({ "@id": "fred", "name": ["Fred", "Flintstone", "F. Flintstone"] }));
    assert_eq!(
        names_of(&clone, "fred", "name"),
        json!(["F. Flintstone", "Flintstone", "Fred"])
    );
}

#[test]
fn update_notifications_keep_the_written_value_order() {
    // m-ld-js lists an update's values in its patch's order: as written (jrql_vs_js corpus
    // "insert multi values", "insert numbers order"), where a read lists them in store order.
    let mut clone = TestClone::new();
    let patch =
        clone.write(json!({ "@id": "fred", "nick": ["Freddy", "F", "Fr", "F"], "n": [10, 9, -1] }));
    assert_eq!(
        clone.update_json(&patch),
        json!({ "@delete": [], "@insert": [
            { "@id": "fred", "n": [10, 9, -1], "nick": ["Freddy", "F", "Fr"] }
        ] })
    );
    assert_eq!(
        names_of(&clone, "fred", "nick"),
        json!(["F", "Fr", "Freddy"])
    );
    let patch = clone.write(json!({ "@delete": { "@id": "fred", "nick": ["Fr", "Freddy"] } }));
    assert_eq!(
        clone.update_json(&patch)["@delete"],
        json!([{ "@id": "fred", "nick": ["Fr", "Freddy"] }])
    );
}

mod value_order {
    use super::names_of;
    use crate::support::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// Values matched by a pattern are patched in m-ld-js's store order, the order a read
        /// shows them in, whatever order they were written in (jrql_vs_js "update register").
        #[test]
        fn matched_values_are_patched_in_read_order(
            values in proptest::sample::subsequence(
                vec![json!(10), json!(9), json!(100), json!(-1), json!(2.5), json!("b"),
                     json!("a"), json!(true), json!({ "@id": "x" }), json!({ "@id": "y" })],
                2..=10,
            ).prop_flat_map(|v| Just(v).prop_shuffle())
        ) {
            let mut clone = TestClone::new();
            for value in &values {
                clone.write(json!({ "@id": "thing", "v": value }));
            }
            let read = names_of(&clone, "thing", "v");
            for request in [
                json!({ "@delete": { "@id": "thing", "v": "?" } }),
                json!({ "@update": { "@id": "thing", "v": 0 } }),
                json!({ "@delete": { "@id": "?s", "v": "?v" },
                        "@where": { "@id": "?s", "v": "?v" } }),
            ] {
                let patch = clone.patch(request).unwrap();
                prop_assert_eq!(&clone.update_json(&patch)["@delete"][0]["v"], &read);
            }
        }
    }
}

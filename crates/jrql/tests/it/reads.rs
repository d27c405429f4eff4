//! docs/jrql.md §1.5–§1.7 and §1.9: describe, select, construct, ask, where clauses, operators,
//! and the query features m-ld-js lacks.

use crate::support::*;
use serde_json::{Value, json};

#[test]
fn describe_forms() {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "stats": { "height": 5 } }));
    let fred = clone.describe("fred");
    assert_eq!(fred.len(), 1);
    assert_eq!(
        clone
            .read(json!({ "@describe": ["wilma", "fred"] }))
            .iter()
            .map(|s| s["@id"].clone())
            .collect::<Vec<_>>(),
        [json!("wilma"), json!("fred")]
    );
    let by_age = clone.read(json!({ "@describe": "?id", "@where": { "@id": "?id", "age": 40 } }));
    assert_eq!(by_age, fred);
    let stats = clone.read(json!({
        "@describe": "?x", "@where": { "@id": "fred", "stats": { "@id": "?x" } }
    }));
    assert_eq!(
        stats,
        vec![json!({ "@id": ".well-known/genid/g1", "height": 5 })]
    );
    // Missing ids give nothing.
    assert_eq!(clone.describe("pebbles"), Vec::<Value>::new());
    // Top-level properties only: nested subjects are references.
    assert_eq!(fred[0]["stats"], json!({ "@id": ".well-known/genid/g1" }));
}

#[test]
fn describe_fast_path_matches_query_path() {
    let clone = flintstones();
    let ids = [
        oxrdf::NamedNode::new_unchecked("http://test.example.org/wilma"),
        oxrdf::NamedNode::new_unchecked("http://test.example.org/nobody"),
        oxrdf::NamedNode::new_unchecked("http://test.example.org/fred"),
    ];
    let fast = m_ld_jrql::describe_subjects(&clone.graph, &clone.ctx, &ids).unwrap();
    assert_eq!(
        fast,
        clone.read(json!({ "@describe": ["wilma", "nobody", "fred"] }))
    );
    assert_eq!(fast.len(), 2);
}

#[test]
fn select_rows_are_pseudo_subjects() {
    let clone = flintstones();
    let rows = clone.read(json!({
        "@select": ["?n", "?a"], "@where": { "@id": "?s", "name": "?n", "age": "?a" },
        "@orderBy": "?a"
    }));
    assert_eq!(rows.len(), 3);
    let ids: Vec<&str> = rows.iter().map(|r| r["@id"].as_str().unwrap()).collect();
    assert!(ids.iter().all(|id| id.starts_with("_:")));
    assert_eq!(
        ids.iter().collect::<std::collections::HashSet<_>>().len(),
        3
    );
    assert_eq!(rows[0]["?n"], "Wilma");
    assert_eq!(rows[0]["?a"], 38);
    // IRI bindings render as references.
    let rows = clone.select(json!({ "@select": "?s", "@where": { "@id": "?s", "name": "Fred" } }));
    assert_eq!(rows, vec![json!({ "?s": { "@id": "fred" } })]);
    // "*" selects every named variable.
    let rows = clone
        .select(json!({ "@select": "*", "@where": { "@id": "?s", "name": "Fred", "age": "?a" } }));
    assert_eq!(rows, vec![json!({ "?s": { "@id": "fred" }, "?a": 40 })]);
    // Rows are not de-duplicated unless asked.
    let rows = clone.select(json!({ "@select": "?t", "@where": { "@id": "?s", "@type": "?t" } }));
    assert_eq!(rows.len(), 4);
    assert!(rows.contains(&json!({ "?t": { "@id": "#Person" } })));
}

#[test]
fn select_without_where_is_unsupported() {
    let clone = flintstones();
    assert_eq!(status(clone.try_read(json!({ "@select": "?s" }))), 5011);
    assert_eq!(
        status(clone.try_read(json!({ "@where": { "@id": "?s" } }))),
        5011
    );
}

#[test]
fn construct_with_nested_template() {
    let clone = flintstones();
    let result = clone.read(json!({
        "@construct": { "@id": "fred", "wife": { "@id": "?w", "name": "?" }, "nick": "?" }
    }));
    assert_eq!(
        result,
        vec![
            json!({ "@id": "fred", "nick": ["F", "Freddy"], "wife": { "@id": "wilma", "name": "Wilma" } })
        ]
    );
}

#[test]
fn construct_without_id_merges_solutions() {
    let clone = flintstones();
    let result = clone.read(json!({ "@construct": { "name": "?" } }));
    assert_eq!(result.len(), 1);
    assert!(result[0]["@id"].as_str().unwrap().starts_with("_:"));
    assert_eq!(result[0]["name"], json!(["Barney", "Fred", "Wilma"]));
}

#[test]
fn construct_fixed_template_values_are_in_every_result() {
    // As m-ld-js fills templates: a fixed value is part of every result of its template, with
    // or without @where, nested or at the top, and matching a fixed value makes a result too.
    let mut clone = flintstones();
    clone.write(json!({ "@id": "dino", "@type": "Pet" }));
    let has = |subject: &Value, key: &str, value: &Value| match &subject[key] {
        Value::Array(values) => values.contains(value),
        other => other == value,
    };
    for request in [
        json!({ "@construct": { "@id": "?s", "name": "?n", "@type": "Pet" } }),
        json!({ "@construct": { "@id": "?s", "name": "?n", "@type": "Pet" },
                "@where": { "@union": [{ "@id": "?s", "name": "?n" }, { "@id": "?s", "@type": "Pet" }] } }),
    ] {
        let result = clone.read(request.clone());
        let ids: Vec<&Value> = result.iter().map(|s| &s["@id"]).collect();
        assert_eq!(
            sorted(ids.into_iter().cloned().collect()),
            vec![
                json!("barney"),
                json!("dino"),
                json!("fred"),
                json!("wilma")
            ],
            "{request}"
        );
        for subject in &result {
            assert!(has(subject, "@type", &json!("Pet")), "{request}: {subject}");
        }
    }
    // Several fixed values of kinds, a fixed reference, and a nested template's.
    let result = clone.read(json!({ "@construct": {
        "@id": "?s", "age": "?a", "kind": ["flintstone", 1], "friend": { "@id": "dino" },
        "wife": { "@id": "?w", "name": "?wn", "role": "spouse" } } }));
    assert!(!result.is_empty());
    for subject in &result {
        let kinds = subject["kind"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            sorted(kinds),
            sorted(vec![json!(1), json!("flintstone")]),
            "{subject}"
        );
        assert_eq!(subject["friend"], json!({ "@id": "dino" }), "{subject}");
        // Solutions that do not bind ?w fill one nested result with a blank id.
        let wives = match &subject["wife"] {
            Value::Array(wives) => wives.clone(),
            wife => vec![wife.clone()],
        };
        assert!(wives.iter().all(|w| w["role"] == "spouse"), "{subject}");
    }
    let fred = result.iter().find(|s| s["@id"] == "fred").unwrap();
    let wilma = json!({ "@id": "wilma", "name": "Wilma", "role": "spouse" });
    assert!(fred["wife"].as_array().unwrap().contains(&wilma), "{fred}");
    // A template with only fixed values matches what has them.
    let pets = clone.read(json!({ "@construct": { "@id": "?s", "@type": "Pet" } }));
    assert_eq!(pets, vec![json!({ "@id": "dino", "@type": "Pet" })]);
    assert!(
        clone
            .read(json!({ "@construct": { "@id": "?s", "kind": "none" } }))
            .is_empty()
    );
}

#[test]
fn construct_with_where_and_new_ids() {
    let clone = flintstones();
    let result = clone.read(json!({
        "@construct": { "@id": "fake", "spouseName": "?n", "kind": "Married" },
        "@where": { "@id": "fred", "wife": { "@id": "?w", "name": "?n" } }
    }));
    assert_eq!(
        result,
        vec![json!({ "@id": "fake", "spouseName": "Wilma", "kind": "Married" })]
    );
    // Inline filters in templates.
    let result = clone.read(json!({ "@construct": { "@id": "?", "age": { "@gt": 38 } } }));
    assert_eq!(
        sorted(result),
        vec![
            json!({ "@id": "barney", "age": 39 }),
            json!({ "@id": "fred", "age": 40 })
        ]
    );
    // Variable properties, including rdf:type rendered as @type.
    let result = clone.read(json!({
        "@construct": { "@id": "barney", "?p": "?o" },
        "@where": { "@id": "barney", "?p": "?o" }
    }));
    assert_eq!(
        result,
        vec![json!({ "@id": "barney", "age": 39, "name": "Barney", "@type": "Person" })]
    );
}

#[test]
fn ask_forms() {
    let mut clone = flintstones();
    assert!(clone.ask(json!({})));
    assert!(clone.ask(json!({ "@where": { "@id": "fred" } })));
    clone.write(json!({ "@delete": { "@id": "wilma" } }));
    assert!(!clone.ask(json!({ "@where": { "@id": "wilma" } })));
    assert!(clone.ask(json!({ "@where": { "@id": "?s", "age": { "@lt": 40 } } })));
    assert!(!clone.ask(json!({ "@where": { "@id": "?s", "age": { "@gt": 40 } } })));
}

#[test]
fn where_joins_references_and_unions() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?w", "@where": { "@id": "fred", "wife": { "@id": "?w", "name": "Wilma" } }
    }));
    assert_eq!(rows, vec![json!({ "?w": { "@id": "wilma" } })]);
    let rows = clone.select(json!({
        "@select": "?n",
        "@where": { "@union": [{ "@id": "?s", "name": "?n", "age": 40 }, { "@id": "?s", "name": "?n", "age": 38 }] }
    }));
    assert_eq!(
        sorted(rows),
        vec![json!({ "?n": "Fred" }), json!({ "?n": "Wilma" })]
    );
    // An array is a conjunction.
    let rows = clone.select(json!({
        "@select": "?n", "@where": [{ "@id": "?s", "name": "?n" }, { "@id": "?s", "age": 39 }]
    }));
    assert_eq!(rows, vec![json!({ "?n": "Barney" })]);
}

#[test]
fn filters_and_inline_filters() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?n",
        "@where": {
            "@graph": { "@id": "?s", "name": "?n", "age": "?a" },
            "@filter": { "@and": [{ "@gte": ["?a", 38] }, { "@not": { "@eq": ["?a", 40] } }] }
        }
    }));
    assert_eq!(
        sorted(rows),
        vec![json!({ "?n": "Barney" }), json!({ "?n": "Wilma" })]
    );
    let rows = clone.select(json!({
        "@select": ["?n", "?a"], "@where": { "@id": "?s", "name": "?n", "age": { "@value": "?a", "@gt": 38 } }
    }));
    assert_eq!(
        sorted(rows),
        vec![
            json!({ "?a": 39, "?n": "Barney" }),
            json!({ "?a": 40, "?n": "Fred" })
        ]
    );
}

#[test]
fn values_and_vocab_values() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?n",
        "@where": {
            "@graph": { "@id": "?f", "name": "?n" },
            "@values": [{ "?f": { "@id": "fred" } }, { "?f": { "@id": "wilma" } }]
        }
    }));
    assert_eq!(
        sorted(rows),
        vec![json!({ "?n": "Fred" }), json!({ "?n": "Wilma" })]
    );
    let rows = clone.select(json!({
        "@select": "?v",
        "@where": { "@graph": { "@id": "barney", "?p": "?v" }, "@values": { "?p": { "@vocab": "name" } } }
    }));
    assert_eq!(rows, vec![json!({ "?v": "Barney" })]);
}

#[test]
fn bind_with_concat() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?full",
        "@where": {
            "@graph": { "@id": "fred", "name": "?n" },
            "@bind": { "?full": { "@concat": ["?n", " Flintstone"] } }
        }
    }));
    assert_eq!(rows, vec![json!({ "?full": "Fred Flintstone" })]);
}

#[test]
fn fixed_subject_and_object_with_variable_predicate() {
    // m-ld-js crashed: "No index compatible with pattern".
    let clone = flintstones();
    let rows = clone.select(json!({ "@select": "?p", "@where": { "@id": "fred", "?p": "Fred" } }));
    assert_eq!(rows, vec![json!({ "?p": { "@id": "#name" } })]);
    let rows = clone
        .select(json!({ "@select": "?p", "@where": { "@id": "fred", "?p": { "@id": "wilma" } } }));
    assert_eq!(rows, vec![json!({ "?p": { "@id": "#wife" } })]);
}

fn one(clone: &TestClone, filter: Value) -> Vec<Value> {
    clone.select(json!({
        "@select": "?n",
        "@where": { "@graph": { "@id": "?s", "name": "?n", "age": "?a" }, "@filter": filter },
        "@orderBy": "?n"
    }))
}

#[test]
fn operators() {
    let clone = flintstones();
    let names = |filter: Value| -> Vec<String> {
        one(&clone, filter.clone())
            .iter()
            .map(|r| {
                r["?n"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{filter}"))
                    .to_string()
            })
            .collect()
    };
    assert_eq!(names(json!({ "@eq": ["?a", 40] })), ["Fred"]);
    assert_eq!(names(json!({ "@neq": ["?a", 40] })), ["Barney", "Wilma"]);
    assert_eq!(names(json!({ "@gt": ["?a", 39] })), ["Fred"]);
    assert_eq!(names(json!({ "@lt": ["?a", 39] })), ["Wilma"]);
    assert_eq!(names(json!({ "@gte": ["?a", 39] })), ["Barney", "Fred"]);
    assert_eq!(names(json!({ "@lte": ["?a", 39] })), ["Barney", "Wilma"]);
    assert_eq!(
        names(json!({ "@or": [{ "@eq": ["?a", 38] }, { "@eq": ["?a", 40] }] })),
        ["Fred", "Wilma"]
    );
    assert_eq!(
        names(json!({ "@eq": [{ "@plus": ["?a", 1] }, 41] })),
        ["Fred"]
    );
    assert_eq!(
        names(json!({ "@eq": [{ "@minus": ["?a", 1] }, 37] })),
        ["Wilma"]
    );
    assert_eq!(
        names(json!({ "@eq": [{ "@times": ["?a", 2] }, 78] })),
        ["Barney"]
    );
    assert_eq!(
        names(json!({ "@eq": [{ "@divide": ["?a", 2] }, 20] })),
        ["Fred"]
    );
    assert_eq!(names(json!({ "@in": ["?a", 38, 39] })), ["Barney", "Wilma"]);
    assert_eq!(names(json!({ "@notin": ["?a", 38, 39] })), ["Fred"]);
    assert_eq!(names(json!({ "@in": ["?s", { "@id": "fred" }] })), ["Fred"]);
    assert_eq!(
        names(json!({ "@bound": "?a" })),
        ["Barney", "Fred", "Wilma"]
    );
    assert_eq!(
        names(json!({ "@regex": ["?n", "^[FW]"] })),
        ["Fred", "Wilma"]
    );
    assert_eq!(names(json!({ "@regex": ["?n", "^b", "i"] })), ["Barney"]);
    assert_eq!(
        names(json!({ "@eq": [{ "@str": "?s" }, "http://test.example.org/fred"] })),
        ["Fred"]
    );
    assert_eq!(
        names(json!({ "@eq": [{ "@lang": "?n" }, ""] })),
        ["Barney", "Fred", "Wilma"]
    );
    assert_eq!(
        names(json!({ "@langmatches": [{ "@lang": "?n" }, "*"] })),
        Vec::<String>::new()
    );
    assert_eq!(
        names(json!({ "@eq": [{ "@concat": ["?n", "!"] }, "Fred!"] })),
        ["Fred"]
    );
    assert_eq!(names(json!({ "@strstarts": ["?n", "Wil"] })), ["Wilma"]);
    assert_eq!(
        names(json!({ "@eq": [{ "@strlen": "?n" }, 6] })),
        ["Barney"]
    );
    assert_eq!(
        names(json!({ "@eq": [{ "@ucase": "?n" }, "FRED"] })),
        ["Fred"]
    );
    assert_eq!(names(json!({ "@contains": ["?n", "ar"] })), ["Barney"]);
    assert_eq!(
        names(json!({ "@isIri": "?s" })),
        ["Barney", "Fred", "Wilma"]
    );
    assert_eq!(names(json!({ "@isLiteral": "?s" })), Vec::<String>::new());
    assert_eq!(
        names(json!({ "@eq": [{ "@if": [{ "@gt": ["?a", 39] }, "old", "young"] }, "old"] })),
        ["Fred"]
    );
    assert_eq!(names(json!({ "@sameTerm": ["?a", 40] })), ["Fred"]);
    // Typed dates compare as dates.
    let mut clone2 = TestClone::new();
    clone2.write(json!([
        { "@id": "a", "name": "A", "when": { "@value": "2000-01-01", "@type": "http://www.w3.org/2001/XMLSchema#date" } },
        { "@id": "b", "name": "B", "when": { "@value": "2010-01-01", "@type": "http://www.w3.org/2001/XMLSchema#date" } }
    ]));
    let rows = clone2.select(json!({
        "@select": "?n",
        "@where": { "@id": "?s", "name": "?n", "when": { "@gt": { "@value": "2005-01-01", "@type": "http://www.w3.org/2001/XMLSchema#date" } } }
    }));
    assert_eq!(rows, vec![json!({ "?n": "B" })]);
}

#[test]
fn operator_errors_are_clear() {
    let clone = flintstones();
    let err = clone
        .try_read(json!({ "@select": "?n", "@where": { "@graph": { "@id": "?s", "name": "?n" }, "@filter": { "@eq": ["?n"] } } }))
        .unwrap_err();
    assert_eq!(err.status(), 4001);
    assert!(err.to_string().contains("@eq"), "{err}");
    let err = clone
        .try_read(json!({ "@select": "?n", "@where": { "@graph": { "@id": "?s", "name": "?n" }, "@filter": { "@count": "?n" } } }))
        .unwrap_err();
    assert!(err.to_string().contains("@count"), "{err}");
}

#[test]
fn optional() {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "pebbles", "name": "Pebbles" }));
    let rows = clone.select(json!({
        "@select": ["?n", "?a"],
        "@where": { "@graph": { "@id": "?s", "name": "?n" }, "@optional": { "@id": "?s", "age": "?a" } },
        "@orderBy": "?n"
    }));
    assert_eq!(
        rows,
        vec![
            json!({ "?n": "Barney", "?a": 39 }),
            json!({ "?n": "Fred", "?a": 40 }),
            json!({ "?n": "Pebbles" }),
            json!({ "?n": "Wilma", "?a": 38 }),
        ]
    );
    // Filters inside an optional group condition the optional part only.
    let rows = clone.select(json!({
        "@select": ["?n", "?a"],
        "@where": {
            "@graph": { "@id": "?s", "name": "?n" },
            "@optional": { "@graph": { "@id": "?s", "age": "?a" }, "@filter": { "@gt": ["?a", 39] } }
        },
        "@orderBy": "?n"
    }));
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[1], json!({ "?n": "Fred", "?a": 40 }));
    assert_eq!(rows[0], json!({ "?n": "Barney" }));
    // Bound is meaningful with optionals.
    let rows = clone.select(json!({
        "@select": "?n",
        "@where": {
            "@graph": { "@id": "?s", "name": "?n" },
            "@optional": { "@id": "?s", "age": "?a" },
            "@filter": { "@not": { "@bound": "?a" } }
        }
    }));
    assert_eq!(rows, vec![json!({ "?n": "Pebbles" })]);
}

#[test]
fn order_limit_offset_distinct() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?n", "@where": { "@id": "?s", "name": "?n", "age": "?a" },
        "@orderBy": { "@desc": "?a" }, "@limit": 2
    }));
    assert_eq!(
        rows,
        vec![json!({ "?n": "Fred" }), json!({ "?n": "Barney" })]
    );
    let rows = clone.select(json!({
        "@select": "?n", "@where": { "@id": "?s", "name": "?n" }, "@orderBy": "?n", "@offset": 1, "@limit": 1
    }));
    assert_eq!(rows, vec![json!({ "?n": "Fred" })]);
    let rows = clone.select(json!({
        "@select": "?t", "@distinct": true, "@where": { "@id": "?s", "@type": "?t" }, "@orderBy": "?t"
    }));
    assert_eq!(
        rows,
        vec![
            json!({ "?t": { "@id": "#Person" } }),
            json!({ "?t": { "@id": "#Wife" } })
        ]
    );
    let rows = clone.select(json!({ "@distinct": "?t", "@where": { "@id": "?s", "@type": "?t" } }));
    assert_eq!(rows.len(), 2);
    // Describe honours ordering and limits.
    let described = clone.read(json!({
        "@describe": "?s", "@where": { "@id": "?s", "age": "?a" }, "@orderBy": "?a", "@limit": 1
    }));
    assert_eq!(described.len(), 1);
    assert_eq!(described[0]["@id"], "wilma");
    let err = clone.try_read(
        json!({ "@select": "?n", "@where": { "@id": "?s", "name": "?n" }, "@limit": -1 }),
    );
    assert_eq!(status(err), 4001);
}

#[test]
fn aggregates_group_by_having() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": { "?c": { "@count": "?s" } }, "@where": { "@id": "?s", "@type": "Person" }
    }));
    assert_eq!(rows, vec![json!({ "?c": 3 })]);
    let rows = clone.select(json!({
        "@select": ["?t", { "?c": { "@count": "?s" } }],
        "@where": { "@id": "?s", "@type": "?t" }, "@groupBy": "?t", "@orderBy": "?t"
    }));
    assert_eq!(
        rows,
        vec![
            json!({ "?t": { "@id": "#Person" }, "?c": 3 }),
            json!({ "?t": { "@id": "#Wife" }, "?c": 1 })
        ]
    );
    let rows = clone.select(json!({
        "@select": ["?t"], "@where": { "@id": "?s", "@type": "?t" }, "@groupBy": "?t",
        "@having": { "@gt": [{ "@count": "?s" }, 1] }
    }));
    assert_eq!(rows, vec![json!({ "?t": { "@id": "#Person" } })]);
    let rows = clone.select(json!({
        "@select": [{ "?sum": { "@sum": "?a" } }, { "?min": { "@min": "?a" } }, { "?max": { "@max": "?a" } },
                    { "?avg": { "@avg": "?a" } }, { "?n": { "@count": "*" } }],
        "@where": { "@id": "?s", "age": "?a" }
    }));
    assert_eq!(
        rows,
        vec![
            json!({ "?sum": 117, "?min": 38, "?max": 40, "?avg": { "@type": "http://www.w3.org/2001/XMLSchema#decimal", "@value": "39" }, "?n": 3 })
        ]
    );
    let rows = clone.select(json!({
        "@select": { "?names": { "@groupConcat": ["?n", ","] } },
        "@where": { "@graph": { "@id": "?s", "name": "?n" }, "@filter": { "@in": ["?n", "Fred"] } }
    }));
    assert_eq!(rows, vec![json!({ "?names": "Fred" })]);
    let rows = clone.select(json!({
        "@select": { "?c": { "@count": "?t", "@distinct": true } }, "@where": { "@id": "?s", "@type": "?t" }
    }));
    assert_eq!(rows, vec![json!({ "?c": 2 })]);
    let rows = clone.select(json!({
        "@select": "?s", "@where": { "@id": "?s", "@type": "?t" }, "@groupBy": "?s",
        "@orderBy": { "@desc": { "@count": "?t" } }, "@limit": 1
    }));
    assert_eq!(rows, vec![json!({ "?s": { "@id": "wilma" } })]);
}

#[test]
fn subqueries() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": ["?n"],
        "@where": [
            { "@id": "?s", "name": "?n" },
            { "@select": "?s", "@where": { "@id": "?s", "age": "?a" }, "@orderBy": { "@desc": "?a" }, "@limit": 1 }
        ]
    }));
    assert_eq!(rows, vec![json!({ "?n": "Fred" })]);
}

#[test]
fn query_level_values() {
    // m-ld-js ignored query-level @values.
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?n", "@where": { "@id": "?s", "name": "?n" },
        "@values": { "?s": { "@id": "barney" } }
    }));
    assert_eq!(rows, vec![json!({ "?n": "Barney" })]);
}

#[test]
fn json_rql_inline_filter_with_id_variable() {
    let clone = flintstones();
    let rows = clone.select(json!({
        "@select": "?a", "@where": { "@id": "?s", "name": "Fred", "age": { "@id": "?a", "@gte": 40 } }
    }));
    assert_eq!(rows, vec![json!({ "?a": 40 })]);
    let err = clone.try_read(json!({
        "@select": "?a", "@where": { "@id": "?s", "age": { "@id": "fred", "@gte": 40 } }
    }));
    assert_eq!(status(err), 4001);
}

/// The Flintstones' people with their wives, as select rows: what a left join of wives onto
/// people gives (fred has one, wilma and barney none).
fn people_with_wives() -> Vec<Value> {
    sorted(vec![
        json!({ "?s": { "@id": "barney" } }),
        json!({ "?s": { "@id": "fred" }, "?w": { "@id": "wilma" } }),
        json!({ "?s": { "@id": "wilma" } }),
    ])
}

#[test]
fn optional_members_of_where_arrays_are_left_joins() {
    let clone = flintstones();
    let person = json!({ "@id": "?s", "@type": "Person" });
    let wife = json!({ "@optional": { "@id": "?s", "wife": "?w" } });
    let select =
        |where_: Value| sorted(clone.select(json!({ "@select": ["?s", "?w"], "@where": where_ })));
    // Wherever the optional stands in the array, it keeps the rows that lack it.
    assert_eq!(select(json!([person, wife])), people_with_wives());
    assert_eq!(select(json!([wife, person])), people_with_wives());
    // Nested arrays are flattened into the same conjunction.
    assert_eq!(select(json!([[person], [[wife]]])), people_with_wives());
    // In a group's @graph array, and next to the group's own filter.
    assert_eq!(
        select(
            json!({ "@graph": [person, wife], "@filter": { "@regex": [{ "@str": "?s" }, "(fred|barney)$"] } })
        ),
        sorted(vec![
            json!({ "?s": { "@id": "barney" } }),
            json!({ "?s": { "@id": "fred" }, "?w": { "@id": "wilma" } }),
        ])
    );
    // In the branches of a union, each branch its own conjunction.
    let rows = sorted(clone.select(json!({
        "@select": ["?s", "?k", "?w"],
        "@where": { "@union": [
            [{ "@id": "?s", "age": 40 }, { "@optional": { "@id": "?s", "nick": "?k" } }],
            [{ "@id": "?s", "age": 39 }, { "@optional": { "@id": "?s", "wife": "?w" } }]
        ] }
    })));
    assert_eq!(
        rows,
        sorted(vec![
            json!({ "?s": { "@id": "barney" } }),
            json!({ "?s": { "@id": "fred" }, "?k": "F" }),
            json!({ "?s": { "@id": "fred" }, "?k": "Freddy" }),
        ])
    );
    // Several optionals, each a left join of the rows so far.
    let rows = clone.select(json!({
        "@select": ["?s", "?w", "?k"],
        "@where": [person, wife, { "@optional": { "@id": "?s", "nick": "?k" } }]
    }));
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.get("?k").is_none()).count(), 2);
    assert!(
        rows.iter()
            .filter(|r| r.get("?k").is_some())
            .all(|r| r["?w"] == json!({ "@id": "wilma" }))
    );
    // An optional's filter conditions the optional part only.
    let rows = sorted(clone.select(json!({
        "@select": ["?s", "?k"],
        "@where": [person, { "@optional": {
            "@graph": { "@id": "?s", "nick": "?k" }, "@filter": { "@regex": ["?k", "^Fr"] } } }]
    })));
    assert_eq!(
        rows,
        sorted(vec![
            json!({ "?s": { "@id": "barney" } }),
            json!({ "?s": { "@id": "fred" }, "?k": "Freddy" }),
            json!({ "?s": { "@id": "wilma" } }),
        ])
    );
    // An optional array with an optional of its own: the wife's age, if any wife.
    let rows = sorted(clone.select(json!({
        "@select": ["?s", "?w", "?a"],
        "@where": [person, { "@optional": [[
            { "@id": "?s", "wife": "?w" },
            { "@optional": { "@id": "?w", "age": "?a", "name": "Nobody" } }
        ]] }]
    })));
    assert_eq!(
        rows,
        people_with_wives(),
        "the inner optional matches nothing and drops nothing"
    );
    // A filter over an optional variable, as a member of the array.
    let rows = clone.select(json!({
        "@select": "?s",
        "@where": [person, wife, { "@filter": { "@not": { "@bound": "?w" } } }]
    }));
    assert_eq!(
        sorted(rows),
        vec![
            json!({ "?s": { "@id": "barney" } }),
            json!({ "?s": { "@id": "wilma" } })
        ]
    );
}

#[test]
fn optional_members_with_a_request_context_in_every_read_and_write() {
    let mut clone = flintstones();
    let ctx = json!({ "spouse": "http://test.example.org/#wife", "Human": "http://test.example.org/#Person" });
    let where_ = json!([{ "@id": "?s", "@type": "Human" }, { "@optional": { "@id": "?s", "spouse": "?w" } }]);
    let rows =
        sorted(clone.select(json!({ "@context": ctx, "@select": ["?s", "?w"], "@where": where_ })));
    assert_eq!(rows, people_with_wives());
    let rows = clone.read(json!({ "@context": ctx, "@distinct": "?s", "@where": where_ }));
    assert_eq!(rows.len(), 3);
    let described = clone.read(json!({ "@context": ctx, "@describe": "?s", "@where": where_ }));
    assert_eq!(described.len(), 3);
    let constructed = clone.read(json!({
        "@context": ctx, "@construct": { "@id": "?s", "spouse": "?w" }, "@where": where_
    }));
    assert_eq!(constructed.len(), 3, "{constructed:?}");
    assert!(clone.ask(json!({ "@context": ctx, "@where": [
        { "@id": "barney", "@type": "Human" }, { "@optional": { "@id": "barney", "spouse": "?w" } }
    ] })));
    // A write's @where keeps the rows without the optional part too.
    let patch = clone.write(json!({
        "@context": ctx,
        "@insert": { "@id": "?s", "checked": true },
        "@where": where_
    }));
    assert_eq!(patch.inserts.len(), 3, "{patch:?}");
    // Bind and filter members apply to the whole array.
    let rows = sorted(clone.select(json!({
        "@select": ["?s", "?b"],
        "@where": [
            { "@id": "?s", "age": "?a" },
            { "@bind": { "?b": { "@plus": ["?a", 1] } } },
            { "@filter": { "@gt": ["?a", 38] } }
        ]
    })));
    assert_eq!(
        rows,
        vec![
            json!({ "?s": { "@id": "barney" }, "?b": 40 }),
            json!({ "?s": { "@id": "fred" }, "?b": 41 }),
        ]
    );
}

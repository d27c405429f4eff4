//! Property tests: reads, writes and asks never panic on arbitrary JSON, and a successful write
//! is always a well-formed patch.

use crate::support::*;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("@id".to_string()),
        Just("@type".to_string()),
        Just("@value".to_string()),
        Just("@language".to_string()),
        Just("@vocab".to_string()),
        Just("@set".to_string()),
        Just("@list".to_string()),
        Just("@graph".to_string()),
        Just("@union".to_string()),
        Just("@optional".to_string()),
        Just("@filter".to_string()),
        Just("@values".to_string()),
        Just("@bind".to_string()),
        Just("@where".to_string()),
        Just("@select".to_string()),
        Just("@describe".to_string()),
        Just("@construct".to_string()),
        Just("@distinct".to_string()),
        Just("@insert".to_string()),
        Just("@delete".to_string()),
        Just("@update".to_string()),
        Just("@context".to_string()),
        Just("@orderBy".to_string()),
        Just("@groupBy".to_string()),
        Just("@having".to_string()),
        Just("@limit".to_string()),
        Just("@offset".to_string()),
        Just("@gt".to_string()),
        Just("@eq".to_string()),
        Just("@plus".to_string()),
        Just("@and".to_string()),
        Just("@not".to_string()),
        Just("@count".to_string()),
        Just("@in".to_string()),
        Just("@regex".to_string()),
        Just("@desc".to_string()),
        Just("name".to_string()),
        Just("age".to_string()),
        Just("wife".to_string()),
        Just("?p".to_string()),
        Just("?".to_string()),
        Just("ex:x".to_string()),
        "[a-z@?:_#/]{0,6}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!("?s")),
        Just(json!("?")),
        Just(json!("?n")),
        Just(json!("fred")),
        Just(json!("_:b0")),
        Just(json!("*")),
        Just(json!("http://ex.org/x")),
        Just(json!("@json")),
        Just(json!("@id")),
        Just(json!("fr")),
        ".{0,8}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn plausible_value(subject: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("?v")),
        Just(json!("?")),
        Just(json!("Fred")),
        Just(json!(40)),
        Just(json!(1.5)),
        Just(json!({ "@id": "wilma" })),
        Just(json!({ "@id": "?w" })),
        Just(json!({ "@gt": 38 })),
        Just(json!({ "@value": "?a", "@lt": 40 })),
        Just(json!({ "@value": "?a", "@plus": 1 })),
        Just(json!({ "@value": "x", "@language": "en" })),
        Just(json!({ "@vocab": "Person" })),
        subject,
    ]
}

fn plausible_subject() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(json!({ "@id": "fred" })),
        Just(json!({ "@id": "?s" })),
        Just(json!({}))
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        (
            prop::option::of(prop_oneof![
                Just("fred"),
                Just("?s"),
                Just("?"),
                Just("wilma")
            ]),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("name"),
                        Just("age"),
                        Just("wife"),
                        Just("?p"),
                        Just("@type"),
                        Just("likes")
                    ],
                    plausible_value(inner),
                ),
                0..3,
            ),
        )
            .prop_map(|(id, properties)| {
                let mut subject = Map::new();
                if let Some(id) = id {
                    subject.insert("@id".into(), json!(id));
                }
                for (key, value) in properties {
                    subject.insert(key.into(), value);
                }
                Value::Object(subject)
            })
    })
    .boxed()
}

fn plausible_request() -> impl Strategy<Value = Value> {
    let s = plausible_subject;
    let group = (s(), s(), s()).prop_map(|(a, b, c)| {
        json!({ "@graph": a, "@union": [b, c], "@optional": { "@id": "?s", "age": "?a" },
                "@filter": { "@or": [{ "@bound": "?a" }, { "@gt": ["?a", 1] }] } })
    });
    let where_ = prop_oneof![s(), group, (s(), s()).prop_map(|(a, b)| json!([a, b]))];
    prop_oneof![
        where_.clone().prop_map(|w| json!({ "@select": "*", "@where": w })),
        where_.clone().prop_map(|w| json!({ "@select": ["?s", { "?c": { "@count": "?s" } }], "@where": w, "@groupBy": "?s", "@orderBy": { "@desc": "?s" }, "@limit": 3 })),
        where_.clone().prop_map(|w| json!({ "@describe": "?s", "@where": w })),
        s().prop_map(|c| json!({ "@construct": c })),
        (s(), where_.clone()).prop_map(|(c, w)| json!({ "@construct": c, "@where": w })),
        s(),
        s().prop_map(|i| json!({ "@insert": i })),
        s().prop_map(|d| json!({ "@delete": d })),
        s().prop_map(|u| json!({ "@update": u })),
        (s(), s()).prop_map(|(d, i)| json!({ "@delete": d, "@insert": i })),
        (s(), s(), where_).prop_map(|(d, i, w)| json!({ "@delete": d, "@insert": i, "@where": w })),
    ]
}

fn check_request(request: Value) -> Result<(), TestCaseError> {
    let mut clone = flintstones();
    clone.write(json!({ "@id": "fred", "likes": [1, 2], "stats": { "height": 5 } }));
    let _ = clone.try_read(request.clone());
    let _ = m_ld_jrql::ask(
        &clone.graph,
        &clone.ctx,
        &json!({ "@where": request.clone() }),
    );
    if let Ok(patch) = clone.patch(request) {
        for t in &patch.deletes {
            prop_assert!(!patch.inserts.contains(t), "{t} both deleted and inserted");
        }
        let mut seen = std::collections::HashSet::new();
        for t in patch.inserts.iter().chain(&patch.deletes) {
            prop_assert!(seen.insert(t.clone()), "{t} listed twice");
            prop_assert!(t.subject.is_named_node());
            prop_assert!(!t.object.is_blank_node());
        }
        let _ = m_ld_jrql::render_subjects(&patch.inserts, &clone.ctx);
    }
    Ok(())
}

proptest! {
    #[test]
    fn plausible_requests_never_panic(request in plausible_request()) {
        check_request(request)?;
    }

    #[test]
    fn reads_writes_and_asks_never_panic(request in json_value()) {
        check_request(request)?;
    }

    #[test]
    fn contexts_never_panic(local in json_value()) {
        let ctx = m_ld_jrql::Context::for_domain(DOMAIN, None).unwrap();
        if let Ok(ctx) = ctx.with_local(&local) {
            for s in ["fred", "ex:x", "name", "#a", "a:b", "?x", "@id"] {
                if let Ok(iri) = ctx.expand_iri(s, false) {
                    let _ = ctx.compact_iri(&iri, false);
                }
                if let Ok(iri) = ctx.expand_iri(s, true) {
                    let _ = ctx.compact_iri(&iri, true);
                }
            }
        }
    }

    #[test]
    fn written_atoms_describe_back(value in prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Value::String),
        (-1.0e15f64..1.0e15).prop_map(|f| json!(f)),
    ]) {
        let mut clone = TestClone::new();
        clone.write(json!({ "@id": "x", "v": value.clone() }));
        let described = clone.describe("x");
        let got = &described[0]["v"];
        match (&value, got) {
            (Value::Number(a), Value::Number(b)) => {
                let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
                prop_assert!((a - b).abs() <= a.abs() * 1e-15, "{} vs {}", a, b);
            }
            _ => prop_assert_eq!(&value, got),
        }
    }
}

//! Behaviour of a single clone through the public facade API.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use m_ld::{MeldClone, MeldConfig, MeldError, RdfFormat};
use serde_json::{Value, json};

async fn genesis() -> MeldClone {
    MeldClone::new(MeldConfig::new("test", "test.example.org", true))
        .await
        .unwrap()
}

#[tokio::test]
async fn insert_then_describe() {
    let clone = genesis().await;
    clone
        .write(&json!({"@id": "fred", "name": "Fred", "age": 40}))
        .await
        .unwrap();
    let found = clone.read(&json!({"@describe": "fred"})).await.unwrap();
    assert_eq!(
        found,
        vec![json!({"@id": "fred", "name": "Fred", "age": 40})]
    );
    assert_eq!(clone.get("fred").await.unwrap(), Some(found[0].clone()));
    assert_eq!(clone.get("wilma").await.unwrap(), None);
}

#[tokio::test]
async fn follow_sees_the_exact_update_shape() {
    let clone = genesis().await;
    let mut follow = clone.follow().unwrap();
    clone
        .write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let update = follow.next().await.unwrap().unwrap();
    assert_eq!(
        update.to_json(),
        json!({"@ticks": 1, "@delete": [], "@insert": [{"@id": "fred", "name": "Fred"}], "@update": []})
    );
    clone
        .write(&json!({"@delete": {"@id": "fred", "name": "Fred"}, "@insert": {"@id": "fred", "name": "Freddy"}}))
        .await
        .unwrap();
    let update = follow.next().await.unwrap().unwrap();
    assert_eq!(
        update.to_json(),
        json!({"@ticks": 2, "@delete": [{"@id": "fred", "name": "Fred"}],
               "@insert": [{"@id": "fred", "name": "Freddy"}], "@update": []})
    );
    assert_eq!(clone.status().unwrap().ticks, 2);
}

#[tokio::test]
async fn an_empty_write_does_not_tick() {
    let clone = genesis().await;
    clone.write(&json!({})).await.unwrap();
    clone.write(&json!({"@insert": []})).await.unwrap();
    assert_eq!(clone.status().unwrap().ticks, 0);
}

#[tokio::test]
async fn a_write_future_dropped_before_polling_commits_nothing() {
    let clone = genesis().await;
    let request = json!({"@id": "fred", "name": "Fred"});
    drop(clone.write(&request));
    assert_eq!(clone.get("fred").await.unwrap(), None);
    // Polled once, the write has committed even though the future is then dropped.
    {
        let mut fut = pin!(clone.write(&request));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    }
    assert!(clone.get("fred").await.unwrap().is_some());
}

#[tokio::test]
async fn a_lagging_follower_gets_an_error_and_writers_never_wait() {
    let clone = MeldClone::new(MeldConfig {
        follow_buffer: 4,
        ..MeldConfig::new("test", "test.example.org", true)
    })
    .await
    .unwrap();
    let mut follow = clone.follow().unwrap();
    for n in 0..10 {
        clone
            .write(&json!({"@id": format!("s{n}"), "n": n}))
            .await
            .unwrap();
    }
    match follow.next().await {
        Some(Err(MeldError::Lagged(missed))) => assert_eq!(missed, 6),
        other => panic!("expected a lag error, got {other:?}"),
    }
    assert!(follow.next().await.is_none(), "the stream ends after a lag");
    // A new subscriber is unaffected.
    let mut fresh = clone.follow().unwrap();
    clone.write(&json!({"@id": "last", "n": 10})).await.unwrap();
    assert_eq!(fresh.next().await.unwrap().unwrap().ticks, 11);
}

#[tokio::test]
async fn read_states_are_immutable_snapshots() {
    let clone = genesis().await;
    clone
        .write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let before = clone.read_state().unwrap();
    clone
        .write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    clone.delete("fred").await.unwrap();
    assert!(before.get("fred").unwrap().is_some());
    assert!(before.get("wilma").unwrap().is_none());
    assert_eq!(before.ticks(), 1);
    let now = clone.read_state().unwrap();
    assert!(now.get("fred").unwrap().is_none());
    assert!(now.get("wilma").unwrap().is_some());
}

#[tokio::test]
async fn delete_removes_a_subject_and_references_to_it() {
    let clone = genesis().await;
    clone
        .write(
            &json!([{"@id": "fred", "name": "Fred", "wife": {"@id": "wilma"}},
                       {"@id": "wilma", "name": "Wilma"}]),
        )
        .await
        .unwrap();
    clone.delete("wilma").await.unwrap();
    assert_eq!(clone.get("wilma").await.unwrap(), None);
    assert_eq!(
        clone.get("fred").await.unwrap(),
        Some(json!({"@id": "fred", "name": "Fred"}))
    );
}

#[tokio::test]
async fn write_procedures_see_their_own_writes() {
    let clone = genesis().await;
    let names = clone
        .write_procedure(|state| {
            state.write(&json!({"@id": "fred", "name": "Fred"}))?;
            state.write(&json!({"@id": "wilma", "name": "Wilma"}))?;
            state.read(&json!({"@select": "?n", "@where": {"@id": "?s", "name": "?n"}}))
        })
        .unwrap();
    let mut names: Vec<Value> = names.iter().map(|row| row["?n"].clone()).collect();
    names.sort_by_key(|v| v.to_string());
    assert_eq!(names, vec![json!("Fred"), json!("Wilma")]);
    assert_eq!(clone.status().unwrap().ticks, 2);
}

#[tokio::test]
async fn a_closed_clone_refuses_calls_and_ends_streams() {
    let clone = genesis().await;
    let mut follow = clone.follow().unwrap();
    clone.close().await.unwrap();
    assert!(follow.next().await.is_none());
    let err = clone
        .write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 5032);
    assert_eq!(
        clone
            .read(&json!({"@describe": "fred"}))
            .await
            .unwrap_err()
            .status(),
        5032
    );
    clone.close().await.unwrap();
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let bad_domain = MeldClone::new(MeldConfig::new("a", "Not A Domain", true)).await;
    assert!(
        matches!(bad_domain, Err(MeldError::Jrql(_))),
        "{:?}",
        bad_domain.err()
    );
    let bad_context = MeldClone::new(MeldConfig {
        context: Some(json!(42)),
        ..MeldConfig::new("a", "test.example.org", true)
    })
    .await;
    assert!(bad_context.is_err());
    let not_genesis = MeldClone::new(MeldConfig::new("a", "test.example.org", false)).await;
    assert_eq!(not_genesis.err().map(|e| e.status()), Some(5031));
}

#[tokio::test]
async fn unsupported_requests_answer_5011() {
    let clone = genesis().await;
    let err = clone
        .read(&json!({"@select": "?s", "@where": {"@id": "?s"}, "@frobnicate": true}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 5011, "{err}");
}

#[tokio::test]
async fn rdf_import_and_export_round_trip() {
    let clone = genesis().await;
    clone
        .import(
            RdfFormat::Turtle,
            "@prefix : <http://test.example.org/#> .\n<fred> :name \"Fred\" ; :knows [ :name \"Barney\" ] .\n",
        )
        .await
        .unwrap();
    let fred = clone.get("fred").await.unwrap().unwrap();
    assert_eq!(fred["name"], json!("Fred"));
    let barney = fred["knows"]["@id"].as_str().unwrap().to_owned();
    assert!(barney.starts_with(".well-known/genid/"), "{barney}");
    let exported = clone.read_state().unwrap().to_ntriples().unwrap();
    assert_eq!(exported.lines().count(), 3);
    let copy = MeldClone::new(MeldConfig::new("copy", "test.example.org", true))
        .await
        .unwrap();
    copy.import(RdfFormat::NQuads, &exported).await.unwrap();
    assert_eq!(copy.read_state().unwrap().to_ntriples().unwrap(), exported);
    let turtle = clone.read_state().unwrap().to_turtle().unwrap();
    assert!(turtle.contains("Barney"), "{turtle}");
    let err = copy
        .import(RdfFormat::NQuads, "<a> <b> <c> <http://g> .\n")
        .await
        .unwrap_err();
    assert!(matches!(err, MeldError::RdfSyntax(_)));
}

#[tokio::test]
async fn per_request_contexts_apply_once() {
    let clone = genesis().await;
    clone
        .write(&json!({"@context": {"nm": "http://test.example.org/#name"}, "@id": "fred", "nm": "Fred"}))
        .await
        .unwrap();
    assert_eq!(
        clone.get("fred").await.unwrap(),
        Some(json!({"@id": "fred", "name": "Fred"}))
    );
    let rows = clone
        .read(&json!({"@context": {"nm": "http://test.example.org/#name"},
                      "@select": "?s", "@where": {"@id": "?s", "nm": "Fred"}}))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["?s"], json!({"@id": "fred"}));
}

#[tokio::test]
async fn agreements_are_refused_until_supported() {
    let clone = genesis().await;
    let err = clone
        .write(&json!({"@insert": {"@id": "fred", "name": "Fred"}, "@agree": true}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 5011, "{err}");
    assert_eq!(clone.status().unwrap().ticks, 0);
}

#[tokio::test]
async fn writes_over_max_operation_size_fail_with_4002() {
    let config = MeldConfig::from_json(&json!({
        "@id": "test", "@domain": "test.example.org", "genesis": true, "maxOperationSize": 300
    }))
    .unwrap();
    assert_eq!(config.max_operation_size, Some(300));
    let clone = MeldClone::new(config).await.unwrap();
    let mut follow = clone.follow().unwrap();
    clone
        .write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    assert!(follow.next().await.unwrap().is_ok());
    let big: Vec<Value> = (0..60)
        .map(|i| json!({"@id": format!("subject{i}"), "name": format!("value {i}")}))
        .collect();
    let err = clone.write(&Value::Array(big)).await.unwrap_err();
    assert_eq!(err.status(), 4002, "{err}");
    assert!(
        follow.try_next().is_none(),
        "a refused write notifies nothing"
    );
    assert_eq!(
        clone.read(&json!({"@describe": "subject0"})).await.unwrap(),
        Vec::<Value>::new()
    );
    let bad = MeldConfig::from_json(&json!({
        "@id": "test", "@domain": "test.example.org", "maxOperationSize": -1
    }));
    assert!(bad.is_err());
}

/// The library's classifier is the query layer's: each request is taken by exactly the entry
/// point its kind names, and refused by the others.
#[tokio::test]
async fn every_request_is_taken_by_the_entry_point_its_kind_names() {
    use m_ld::{ReadKind, RequestKind};
    let clone = genesis().await;
    clone
        .write(&json!([{"@id": "fred", "name": "Fred"}, {"@id": "pebbles", "name": "Fred"}]))
        .await
        .unwrap();
    let requests = [
        (
            json!({"@describe": "fred"}),
            RequestKind::Read(ReadKind::Describe),
        ),
        (
            json!({"@select": "?n", "@where": {"@id": "?s", "name": "?n"}}),
            RequestKind::Read(ReadKind::Select),
        ),
        (
            json!({"@distinct": "?n", "@where": {"@id": "?s", "name": "?n"}}),
            RequestKind::Read(ReadKind::Distinct),
        ),
        (
            json!({"@context": {"nm": "http://test.example.org/#name"},
                   "@distinct": ["?n"], "@where": {"@id": "?s", "nm": "?n"}}),
            RequestKind::Read(ReadKind::Distinct),
        ),
        (
            json!({"@construct": {"@id": "?s", "name": "?n"}}),
            RequestKind::Read(ReadKind::Construct),
        ),
        (
            json!({"@where": {"@id": "?s", "name": "Fred"}}),
            RequestKind::Ask,
        ),
        (
            json!({"@where": [{"@id": "?s", "name": "?n"}], "@values": {"?n": "Wilma"}}),
            RequestKind::Ask,
        ),
        (json!({"@id": "wilma", "name": "Wilma"}), RequestKind::Write),
        (
            json!({"@insert": {"@id": "?s", "seen": true}, "@where": {"@id": "?s", "name": "Fred"}}),
            RequestKind::Write,
        ),
    ];
    for (request, kind) in requests {
        assert_eq!(RequestKind::of(&request).unwrap(), kind, "{request}");
        let read = clone.read(&request).await;
        let asked = clone.ask(&request).await;
        match kind {
            RequestKind::Read(_) => {
                assert!(read.is_ok(), "{request}: {read:?}");
                assert_eq!(asked.unwrap_err().status(), 4001, "{request}");
                let written = clone.write(&request).await.unwrap_err();
                assert_eq!(written.status(), 5011, "{request}");
            }
            RequestKind::Ask => {
                assert!(asked.is_ok(), "{request}: {asked:?}");
                assert_eq!(read.unwrap_err().status(), 5011, "{request}");
                let written = clone.write(&request).await.unwrap_err();
                assert_eq!(written.status(), 5011, "{request}");
            }
            _ => {
                assert_eq!(read.unwrap_err().status(), 5011, "{request}");
                assert_eq!(asked.unwrap_err().status(), 4001, "{request}");
                clone.write(&request).await.unwrap();
            }
        }
    }
    // The distinct read de-duplicates, and asks answer booleans on every kind of state.
    let names = clone
        .read(&json!({"@distinct": "?n", "@where": {"@id": "?s", "name": "?n"}}))
        .await
        .unwrap();
    assert_eq!(names.len(), 2, "{names:?}");
    let seen = json!({"@where": {"@id": "fred", "seen": true}});
    let missing = json!({"@where": {"@id": "wilma", "seen": true}});
    assert!(clone.ask(&seen).await.unwrap());
    assert!(!clone.ask(&missing).await.unwrap());
    let state = clone.read_state().unwrap();
    assert!(state.ask(&seen).unwrap() && !state.ask(&missing).unwrap());
    clone
        .write_procedure(|state| {
            assert!(!state.ask(&missing)?);
            state.write(&json!({"@id": "wilma", "seen": true}))?;
            assert!(
                state.ask(&missing)?,
                "a procedure's ask sees its own writes"
            );
            Ok(())
        })
        .unwrap();
    assert_eq!(
        RequestKind::of(&json!(null)).unwrap_err().status(),
        4001,
        "not a request"
    );
}

/// A blank node label names one new subject of one write, minted a skolem IRI by the clone (as
/// anonymous subjects are); the same label in a later write is another subject.
#[tokio::test]
async fn blank_node_labels_name_one_new_subject_per_write() {
    let clone = genesis().await;
    let mut follow = clone.follow().unwrap();
    let write = json!([
        {"@id": "_:b1", "name": "Pebbles"},
        {"@id": "fred", "daughter": {"@id": "_:b1"}}
    ]);
    clone.write(&write).await.unwrap();
    let fred = clone.get("fred").await.unwrap().unwrap();
    let id = fred["daughter"]["@id"].as_str().unwrap().to_owned();
    assert!(id.starts_with(".well-known/genid/"), "{fred}");
    assert_eq!(
        clone.get(&id).await.unwrap(),
        Some(json!({"@id": id, "name": "Pebbles"}))
    );
    let update = follow.next().await.unwrap().unwrap().to_json();
    let inserted: Vec<&Value> = update["@insert"].as_array().unwrap().iter().collect();
    assert!(
        inserted.contains(&&json!({"@id": id, "name": "Pebbles"})),
        "{update}"
    );
    clone.write(&write).await.unwrap();
    let daughters = clone
        .read(&json!({"@select": "?d", "@where": {"@id": "fred", "daughter": "?d"}}))
        .await
        .unwrap();
    assert_eq!(
        daughters.len(),
        2,
        "a second write is a second subject: {daughters:?}"
    );
    assert_ne!(daughters[0]["?d"], daughters[1]["?d"]);
}

/// A string written through a term with `@language` (in the clone's configured context, or a
/// request's), or under a default `@language`, is a language-tagged string, shown as a value
/// object everywhere (as m-ld-js shows it; the differential corpus checks the shapes).
#[tokio::test]
async fn language_terms_render_value_objects_in_reads_and_updates() {
    let label = json!({"label": {"@id": "http://test.example.org/#label", "@language": "fr"}});
    let mut config = MeldConfig::new("test", "test.example.org", true);
    config.context = Some(label.clone());
    let clone = MeldClone::new(config).await.unwrap();
    let mut follow = clone.follow().unwrap();
    clone
        .write(&json!({"@id": "thing", "label": "Chose", "name": "Thing"}))
        .await
        .unwrap();
    let chose = json!({"@value": "Chose", "@language": "fr"});
    let update = follow.next().await.unwrap().unwrap().to_json();
    assert_eq!(update["@insert"][0]["label"], chose, "{update}");
    assert_eq!(
        update["@insert"][0]["name"],
        json!("Thing"),
        "plain strings stay plain"
    );
    let thing = clone.get("thing").await.unwrap().unwrap();
    assert_eq!(thing["label"], chose);
    let rows = clone
        .read(&json!({"@select": "?l", "@where": {"@id": "thing", "label": "?l"}}))
        .await
        .unwrap();
    assert_eq!(rows[0]["?l"], chose);
    let built = clone
        .read(&json!({"@construct": {"@id": "?s", "label": "?l"}}))
        .await
        .unwrap();
    assert_eq!(built, vec![json!({"@id": "thing", "label": chose})]);
    // The term matches the tagged string, so it also finds it.
    assert!(
        clone
            .ask(&json!({"@where": {"@id": "?s", "label": "Chose"}}))
            .await
            .unwrap()
    );
    // A request context's term with another language writes and matches that language.
    let de = json!({"label": {"@id": "http://test.example.org/#label", "@language": "de"}});
    clone
        .write(&json!({"@context": de, "@id": "other", "label": "Ding"}))
        .await
        .unwrap();
    let other = clone
        .read(&json!({"@context": de, "@describe": "other"}))
        .await
        .unwrap();
    assert_eq!(
        other[0]["label"],
        json!({"@value": "Ding", "@language": "de"})
    );
    assert!(
        !clone
            .ask(&json!({"@where": {"@id": "other", "label": "Ding"}}))
            .await
            .unwrap(),
        "the clone's term is French"
    );
    // Under a default language too.
    let mut config = MeldConfig::new("test", "test.example.org", true);
    config.context = Some(json!({"@language": "fr"}));
    let clone = MeldClone::new(config).await.unwrap();
    clone
        .write(&json!({"@id": "thing", "name": "Chose"}))
        .await
        .unwrap();
    let thing = clone.get("thing").await.unwrap().unwrap();
    assert_eq!(thing["name"], chose);
}

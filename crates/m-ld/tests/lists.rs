//! Lists (`@list`, the default RdfLseq CRDT) through the facade: json-rql list writes, reads
//! and queries on one clone, and concurrent list edits on clones sharing an `InProcessDomain`
//! converging without duplicated items.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use m_ld::core::store::MemoryStore;
use m_ld::{InProcessDomain, MeldClone, MeldConfig, MeldError};
use serde_json::{Value, json};

const DOMAIN: &str = "test.example.org";

async fn genesis(id: &str) -> MeldClone {
    MeldClone::new(MeldConfig::new(id, DOMAIN, true))
        .await
        .unwrap()
}

async fn list_of(clone: &MeldClone, id: &str) -> Value {
    let found = clone.read(&json!({"@describe": id})).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]["@list"].clone()
}

#[tokio::test]
async fn a_list_is_described_in_order_with_its_type() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "shopping", "@list": ["Bread", "Milk"]}))
        .await
        .unwrap();
    assert_eq!(
        clone.read(&json!({"@describe": "shopping"})).await.unwrap(),
        [json!({
            "@id": "shopping",
            "@type": "http://m-ld.org/RdfLseq",
            "@list": ["Bread", "Milk"]
        })]
    );
    // The positions are m-ld-js's (docs/protocol.md §6.1 capture).
    let triples = clone.read_state().unwrap().to_ntriples().unwrap();
    assert!(triples.contains("<http://m-ld.org/RdfLseq/?=3cloneA__________>"));
    assert!(triples.contains("<http://m-ld.org/RdfLseq/?=7cloneA__________>"));
    assert!(triples.contains("/.well-known/genid/"));
    assert!(
        !triples.contains("json-rql.org/#index"),
        "indexes are not stored"
    );
    assert!(!triples.contains("data:application"));
}

#[tokio::test]
async fn index_inserts_append_and_sub_index_arrays() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "shopping", "@list": {"0": "Bread", "1": "Milk"}}))
        .await
        .unwrap();
    clone
        .write(&json!({"@id": "shopping", "@list": {"1": "Eggs"}}))
        .await
        .unwrap();
    clone
        .write(&json!({"@id": "shopping", "@list": {"10": "Jam"}}))
        .await
        .unwrap();
    clone
        .write(&json!({"@id": "shopping", "@list": {"0": ["X", "Y"]}}))
        .await
        .unwrap();
    // An array writes at indexes 0.. of the existing list.
    clone
        .write(&json!({"@id": "shopping", "@list": ["Z"]}))
        .await
        .unwrap();
    assert_eq!(
        list_of(&clone, "shopping").await,
        json!(["Z", "X", "Y", "Bread", "Eggs", "Milk", "Jam"])
    );
}

#[tokio::test]
async fn deletes_by_index_and_by_value_and_replace() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "shopping", "@list": ["Bread", "Milk", "Spam", "Eggs"]}))
        .await
        .unwrap();
    clone
        .write(&json!({"@delete": {"@id": "shopping", "@list": {"1": "?"}}}))
        .await
        .unwrap();
    assert_eq!(
        list_of(&clone, "shopping").await,
        json!(["Bread", "Spam", "Eggs"])
    );
    clone
        .write(&json!({"@delete": {"@id": "shopping", "@list": {"?": "Spam"}}}))
        .await
        .unwrap();
    assert_eq!(list_of(&clone, "shopping").await, json!(["Bread", "Eggs"]));
    clone
        .write(&json!({
            "@delete": {"@id": "shopping", "@list": {"?i": "Bread"}},
            "@insert": {"@id": "shopping", "@list": {"?i": "Toast"}}
        }))
        .await
        .unwrap();
    assert_eq!(list_of(&clone, "shopping").await, json!(["Toast", "Eggs"]));
    // A deleted item's slot goes with it.
    let triples = clone.read_state().unwrap().to_ntriples().unwrap();
    assert_eq!(
        triples.matches("json-rql.org/#item").count(),
        2,
        "{triples}"
    );
}

#[tokio::test]
async fn moving_a_slot_keeps_its_identity() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "shopping", "@list": ["Bread", "Milk", "Spam"]}))
        .await
        .unwrap();
    let before = clone
        .read(&json!({
            "@select": "?slot",
            "@where": {"@id": "shopping", "@list": {"?": {"@id": "?slot", "@item": "Milk"}}}
        }))
        .await
        .unwrap();
    clone
        .write(&json!({
            "@delete": {"@id": "shopping", "@list": {"1": {"@id": "?slot", "@item": "Milk"}}},
            "@insert": {"@id": "shopping", "@list": {"0": {"@id": "?slot", "@item": "Milk"}, "3": "Jam"}}
        }))
        .await
        .unwrap();
    assert_eq!(
        list_of(&clone, "shopping").await,
        json!(["Milk", "Bread", "Spam", "Jam"])
    );
    let after = clone
        .read(&json!({
            "@select": "?slot",
            "@where": {"@id": "shopping", "@list": {"?": {"@id": "?slot", "@item": "Milk"}}}
        }))
        .await
        .unwrap();
    assert_eq!(before[0]["?slot"], after[0]["?slot"]);
}

#[tokio::test]
async fn queries_by_index_and_by_item() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "shopping", "@list": ["Bread", "Milk", "Spam"]}))
        .await
        .unwrap();
    let found = clone
        .read(&json!({"@select": "?i", "@where": {"@id": "shopping", "@list": {"?i": "Spam"}}}))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["?i"], json!(2));
    let found = clone
        .read(&json!({"@select": "?item", "@where": {"@id": "shopping", "@list": {"1": "?item"}}}))
        .await
        .unwrap();
    assert_eq!(found[0]["?item"], json!("Milk"));
    let found = clone
        .read(&json!({"@select": "?list", "@where": {"@id": "?list", "@list": {"1": "Milk"}}}))
        .await
        .unwrap();
    assert_eq!(found[0]["?list"], json!({"@id": "shopping"}));
}

#[tokio::test]
async fn nested_lists_and_a_second_item_is_rejected() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "matrix", "@list": [["a", "b"], ["c"]]}))
        .await
        .unwrap();
    let rows = list_of(&clone, "matrix").await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let first = rows[0]["@id"].as_str().unwrap().to_string();
    assert_eq!(list_of(&clone, &first).await, json!(["a", "b"]));
    // A slot holds one item.
    let slot = clone
        .read(&json!({
            "@select": "?slot",
            "@where": {"@id": "matrix", "@list": {"1": {"@id": "?slot", "@item": "?"}}}
        }))
        .await
        .unwrap();
    let slot = slot[0]["?slot"]["@id"].as_str().unwrap().to_string();
    let err = clone
        .write(&json!({"@id": slot, "@item": "extra"}))
        .await
        .unwrap_err();
    assert!(matches!(err, MeldError::Core(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Several clones

async fn start(hub: &InProcessDomain, id: &str, genesis: bool) -> MeldClone {
    MeldClone::open_with_remotes(
        MemoryStore::new(),
        hub.remotes(id),
        MeldConfig::new(id, DOMAIN, genesis),
    )
    .await
    .unwrap()
}

fn dump(clone: &MeldClone) -> String {
    clone.read_state().unwrap().to_ntriples().unwrap()
}

/// Waits (bounded) until every clone holds the same data and none is outdated.
async fn converged(clones: &[&MeldClone]) {
    for _ in 0..500 {
        let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
        let settled = clones.iter().all(|c| !c.status().unwrap().outdated);
        if settled && dumps.windows(2).all(|w| w[0] == w[1]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
    panic!("clones did not converge: {dumps:#?}");
}

/// Runs `writes` concurrently: each clone writes while cut off from the others, then all
/// reconnect and exchange their operations.
async fn concurrently(hub: &InProcessDomain, clones: &[(&str, &MeldClone)], writes: &[Value]) {
    for (id, _) in clones {
        hub.partition(id, true);
    }
    for ((_, clone), write) in clones.iter().zip(writes) {
        clone.write(write).await.unwrap();
    }
    // Nobody has seen anybody else's write.
    let dumps: Vec<String> = clones.iter().map(|(_, c)| dump(c)).collect();
    for (i, a) in dumps.iter().enumerate() {
        assert!(
            dumps[i + 1..].iter().all(|b| a != b),
            "writes were not concurrent"
        );
    }
    for (id, _) in clones {
        hub.partition(id, false);
    }
    let all: Vec<&MeldClone> = clones.iter().map(|(_, c)| *c).collect();
    converged(&all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_moves_do_not_duplicate_the_slot() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true).await;
    a.write(&json!({"@id": "shopping", "@list": ["Bread", "Milk", "Spam"]}))
        .await
        .unwrap();
    let b = start(&hub, "b", false).await;
    converged(&[&a, &b]).await;
    let mv = |extra: &str| {
        json!({
            "@delete": {"@id": "shopping", "@list": {"1": {"@id": "?slot", "@item": "Milk"}}},
            "@insert": {"@id": "shopping", "@list": {"0": {"@id": "?slot", "@item": "Milk"}, "3": extra}}
        })
    };
    concurrently(
        &hub,
        &[("a", &a), ("b", &b)],
        &[mv("Angel Delight"), mv("Pink Wafers")],
    )
    .await;
    let (la, lb) = (list_of(&a, "shopping").await, list_of(&b, "shopping").await);
    assert_eq!(la, lb);
    let la = la.as_array().unwrap();
    assert_eq!(la[..3], [json!("Milk"), json!("Bread"), json!("Spam")]);
    assert_eq!(la.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_and_deletes_converge() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true).await;
    a.write(&json!({"@id": "shopping", "@list": ["Bread", "Milk"]}))
        .await
        .unwrap();
    let b = start(&hub, "b", false).await;
    let c = start(&hub, "c", false).await;
    converged(&[&a, &b, &c]).await;
    concurrently(
        &hub,
        &[("a", &a), ("b", &b), ("c", &c)],
        &[
            json!({"@id": "shopping", "@list": {"0": "Crackers"}}),
            json!({"@delete": {"@id": "shopping", "@list": {"?": "Bread"}}}),
            json!({"@id": "shopping", "@list": {"1": "Beans"}}),
        ],
    )
    .await;
    let list = list_of(&a, "shopping").await;
    assert_eq!(list, list_of(&b, "shopping").await);
    assert_eq!(list, list_of(&c, "shopping").await);
    let mut items: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    items.sort();
    assert_eq!(items, ["Beans", "Crackers", "Milk"]);
}

/// The subject with an `@id` among rendered subjects.
fn subject<'a>(subjects: &'a [Value], id: &str) -> &'a Value {
    subjects
        .iter()
        .find(|s| s["@id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {subjects:?}"))
}

#[tokio::test]
async fn updates_show_list_changes_as_m_ld_js_does() {
    let clone = genesis("cloneA").await;
    let mut follow = clone.follow().unwrap();
    clone
        .write(&json!({"@id": "shopping", "@list": ["Bread", "Milk"]}))
        .await
        .unwrap();
    let update = follow.try_next().unwrap().unwrap();
    let list = subject(&update.insert, "shopping");
    assert_eq!(list["@type"], json!("http://m-ld.org/RdfLseq"));
    let slots = list["@list"]["0"].as_array().unwrap();
    assert_eq!(slots.len(), 2);
    let bread = slots[0]["@id"].as_str().unwrap().to_string();
    let milk = slots[1]["@id"].as_str().unwrap().to_string();
    assert_eq!(
        subject(&update.insert, &bread),
        &json!({"@id": bread, "@item": "Bread", "@index": 0})
    );
    assert_eq!(
        subject(&update.insert, &milk),
        &json!({"@id": milk, "@item": "Milk", "@index": 1})
    );
    assert!(update.delete.is_empty());

    // Insert at 1: Milk is re-indexed.
    clone
        .write(&json!({"@id": "shopping", "@list": {"1": "Eggs"}}))
        .await
        .unwrap();
    let update = follow.try_next().unwrap().unwrap();
    assert_eq!(update.delete, [json!({"@id": milk, "@index": 1})]);
    assert_eq!(
        subject(&update.insert, &milk),
        &json!({"@id": milk, "@index": 2})
    );
    let eggs = subject(&update.insert, "shopping")["@list"]["1"][0]["@id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        subject(&update.insert, &eggs),
        &json!({"@id": eggs, "@item": "Eggs", "@index": 1})
    );

    // Delete the head: the position and the slot go, the others move up.
    clone
        .write(&json!({"@delete": {"@id": "shopping", "@list": {"0": "?"}}}))
        .await
        .unwrap();
    let update = follow.try_next().unwrap().unwrap();
    assert_eq!(
        subject(&update.delete, "shopping"),
        &json!({"@id": "shopping", "@list": {"0": {"@id": bread}}})
    );
    assert_eq!(
        subject(&update.delete, &bread),
        &json!({"@id": bread, "@item": "Bread", "@index": 0})
    );
    assert_eq!(
        subject(&update.insert, &milk),
        &json!({"@id": milk, "@index": 1})
    );
}

#[tokio::test]
async fn deleting_the_list_deletes_its_slots() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "shopping", "@list": ["Bread", "Milk"]}))
        .await
        .unwrap();
    clone
        .write(&json!({"@delete": {"@id": "shopping"}}))
        .await
        .unwrap();
    assert_eq!(clone.read_state().unwrap().to_ntriples().unwrap(), "");
    clone
        .write(&json!({"@id": "other", "@list": ["x"]}))
        .await
        .unwrap();
    clone.delete("other").await.unwrap();
    assert_eq!(clone.read_state().unwrap().to_ntriples().unwrap(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_clone_reads_and_edits_the_list() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true).await;
    a.write(&json!({"@id": "shopping", "@list": ["Bread", "Milk"]}))
        .await
        .unwrap();
    let b = start(&hub, "b", false).await;
    assert_eq!(list_of(&b, "shopping").await, json!(["Bread", "Milk"]));
    b.write(&json!({"@id": "shopping", "@list": {"1": "Eggs"}}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    assert_eq!(
        list_of(&a, "shopping").await,
        json!(["Bread", "Eggs", "Milk"])
    );
    let found = a
        .read(&json!({"@select": "?i", "@where": {"@id": "shopping", "@list": {"?i": "Milk"}}}))
        .await
        .unwrap();
    assert_eq!(found[0]["?i"], json!(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_item_changes_keep_one_item() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true).await;
    a.write(&json!({"@id": "shopping", "@list": ["Bread", "Milk"]}))
        .await
        .unwrap();
    let b = start(&hub, "b", false).await;
    converged(&[&a, &b]).await;
    let replace = |item: &str| {
        json!({
            "@delete": {"@id": "shopping", "@list": {"?i": "Bread"}},
            "@insert": {"@id": "shopping", "@list": {"?i": item}}
        })
    };
    concurrently(
        &hub,
        &[("a", &a), ("b", &b)],
        &[replace("Jam"), replace("Toast")],
    )
    .await;
    // m-ld-js keeps the greatest string.
    assert_eq!(list_of(&a, "shopping").await, json!(["Toast", "Milk"]));
    assert_eq!(list_of(&b, "shopping").await, json!(["Toast", "Milk"]));
}

#[tokio::test]
async fn construct_templates_show_lists_as_position_arrays() {
    let clone = genesis("cloneA").await;
    clone
        .write(&json!({"@id": "shopping", "@list": ["Bread", "Milk", "Spam"]}))
        .await
        .unwrap();
    assert_eq!(
        clone
            .read(&json!({"@construct": {"@id": "shopping", "@list": {"?": "?"}}}))
            .await
            .unwrap(),
        [json!({"@id": "shopping", "@list": ["Bread", "Milk", "Spam"]})]
    );
    assert_eq!(
        clone
            .read(&json!({"@construct": {"@id": "?l", "@list": {"1": "?"}}}))
            .await
            .unwrap(),
        [json!({"@id": "shopping", "@list": [null, "Milk"]})]
    );
}

//! Clones sharing a domain in one process, through an `InProcessDomain`: joining by snapshot,
//! live operations, partitions and restarts all converge.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use m_ld::core::store::MemoryStore;
use m_ld::{InProcessDomain, MeldClone, MeldConfig, MeldError};
use serde_json::json;

const DOMAIN: &str = "test.example.org";

async fn start(
    hub: &InProcessDomain,
    id: &str,
    genesis: bool,
    store: MemoryStore,
) -> Result<MeldClone, MeldError> {
    MeldClone::open_with_remotes(store, hub.remotes(id), MeldConfig::new(id, DOMAIN, genesis)).await
}

fn dump(clone: &MeldClone) -> String {
    clone.read_state().unwrap().to_ntriples().unwrap()
}

/// Waits (bounded) until every clone holds the same data and none is outdated.
async fn converged(clones: &[&MeldClone]) -> String {
    for _ in 0..500 {
        let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
        let settled = clones.iter().all(|c| !c.status().unwrap().outdated);
        if settled && dumps.windows(2).all(|w| w[0] == w[1]) {
            return dumps[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
    panic!("clones did not converge: {dumps:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_clone_joins_by_snapshot_and_both_see_each_others_writes() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    assert!(a.status().unwrap().silo);
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let b = start(&hub, "b", false, MemoryStore::new()).await.unwrap();
    assert_eq!(
        b.get("fred").await.unwrap(),
        Some(json!({"@id": "fred", "name": "Fred"}))
    );
    let mut b_updates = b.follow().unwrap();
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    let update = tokio::time::timeout(Duration::from_secs(5), b_updates.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        update.insert,
        vec![json!({"@id": "wilma", "name": "Wilma"})]
    );
    b.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 3);
    assert!(!a.status().unwrap().silo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_three_clones_converge() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let b = start(&hub, "b", false, MemoryStore::new()).await.unwrap();
    let c = start(&hub, "c", false, MemoryStore::new()).await.unwrap();
    let writers = [a.clone(), b.clone(), c.clone()].map(|clone| {
        tokio::spawn(async move {
            for n in 0..20 {
                let id = clone.config().id.clone();
                clone
                    .write(&json!({"@id": "shared", "count": n, "by": id}))
                    .await
                    .unwrap();
                if n % 3 == 0 {
                    clone
                        .write(&json!({"@delete": {"@id": "shared", "count": "?c"}}))
                        .await
                        .unwrap();
                }
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    converged(&[&a, &b, &c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_that_wrote_while_partitioned_converge_when_healed() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let b = start(&hub, "b", false, MemoryStore::new()).await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    hub.partition("b", true);
    a.write(&json!({"@id": "fred", "age": 40})).await.unwrap();
    b.write(&json!({"@delete": {"@id": "fred", "name": "Fred"}, "@insert": {"@id": "fred", "name": "Freddy"}}))
        .await
        .unwrap();
    b.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    assert!(!b.status().unwrap().online);
    hub.partition("b", false);
    let data = converged(&[&a, &b]).await;
    assert!(
        data.contains("Freddy") && data.contains("Wilma") && data.contains("40"),
        "{data}"
    );
    assert!(!data.contains("\"Fred\""), "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_clone_catches_up_by_revup() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let b_store = MemoryStore::new();
    let b = start(&hub, "b", false, b_store.clone()).await.unwrap();
    b.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    b.close().await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let b = start(&hub, "b", false, b_store).await.unwrap();
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 2, "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_rules_are_enforced() {
    let hub = InProcessDomain::new();
    let lonely = start(&hub, "x", false, MemoryStore::new()).await;
    assert_eq!(lonely.err().map(|e| e.status()), Some(5031));
    let _a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let second = start(&hub, "z", true, MemoryStore::new()).await;
    assert!(matches!(second, Err(MeldError::GenesisConflict)));
    let same_id = start(&hub, "a", false, MemoryStore::new()).await;
    assert!(same_id.is_err());
}

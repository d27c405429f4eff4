//! A local write's update reaches every follower before the write returns: a follower that looks
//! right after `write` returns finds it waiting, whatever else the clone is doing (remote
//! operations arriving, other writes). The compliance clone process relies on this to report a
//! write's update before the write's completion (docs/ARCHITECTURE.md, invariants).

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use m_ld::core::store::MemoryStore;
use m_ld::{InProcessDomain, MeldClone, MeldConfig};
use serde_json::json;

const DOMAIN: &str = "test.example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_follower_holds_a_writes_update_when_the_write_returns() {
    let domain = InProcessDomain::new();
    let open = |id: &'static str, genesis| {
        let remotes = domain.remotes(id);
        async move {
            MeldClone::open_with_remotes(
                MemoryStore::new(),
                remotes,
                MeldConfig::new(id, DOMAIN, genesis),
            )
            .await
            .unwrap()
        }
    };
    let a = open("a", true).await;
    let b = open("b", false).await;
    let mut followers: Vec<_> = (0..4).map(|_| a.follow().unwrap()).collect();
    // b writes concurrently, so a applies remote operations between its own writes.
    let writer = {
        let b = b.clone();
        tokio::spawn(async move {
            for n in 0..200 {
                b.write(&json!({"@id": format!("b{n}"), "n": n}))
                    .await
                    .unwrap();
            }
        })
    };
    for n in 0..200 {
        let id = format!("a{n}");
        a.write(&json!({"@id": id, "n": n})).await.unwrap();
        for follower in &mut followers {
            // Everything queued before the write returned, its own update among it.
            let mut found = false;
            while let Some(update) = follower.try_next() {
                let update = update.unwrap().to_json();
                found |= update["@insert"]
                    .as_array()
                    .is_some_and(|inserted| inserted.iter().any(|s| s["@id"] == json!(id)));
            }
            assert!(
                found,
                "the update of write {n} was not waiting for a follower"
            );
        }
    }
    writer.await.unwrap();
    a.close().await.unwrap();
    b.close().await.unwrap();
}

//! Two clones of one domain in one process, sharing it through an `InProcessDomain` (no broker):
//! the second joins by snapshot, they write concurrently, and converge.
//!
//! Run with `cargo run -p m-ld --example two_clones`.

// An example stops at the first surprise.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use m_ld::core::store::MemoryStore;
use m_ld::{InProcessDomain, MeldClone, MeldConfig, MeldError};
use serde_json::json;

const DOMAIN: &str = "example.m-ld.org";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), MeldError> {
    let domain = InProcessDomain::new();
    let alice = MeldClone::open_with_remotes(
        MemoryStore::new(),
        domain.remotes("alice"),
        MeldConfig::new("alice", DOMAIN, true),
    )
    .await?;
    alice
        .write(&json!({"@id": "shopping", "@list": ["bread", "milk"]}))
        .await?;

    // Bob joins by snapshot from Alice.
    let bob = MeldClone::open_with_remotes(
        MemoryStore::new(),
        domain.remotes("bob"),
        MeldConfig::new("bob", DOMAIN, false),
    )
    .await?;
    println!("bob joined: {:?}", bob.get("shopping").await?);

    // Both write at once, to the same list.
    let mut bob_updates = bob.follow()?;
    let eggs = json!({"@insert": {"@id": "shopping", "@list": {"2": "eggs"}}});
    let tea = json!({"@insert": {"@id": "shopping", "@list": {"0": "tea"}}});
    let (a, b) = tokio::join!(alice.write(&eggs), bob.write(&tea));
    a?;
    b?;
    // Bob sees his own write and Alice's.
    for _ in 0..2 {
        let update = bob_updates.next().await.expect("an update")?;
        println!("bob's update: {}", update.to_json());
    }

    let (ours, theirs) = (alice.get("shopping").await?, bob.get("shopping").await?);
    println!("alice: {ours:?}\nbob:   {theirs:?}");
    assert_eq!(ours, theirs, "the clones converge");
    assert_eq!(
        ours.expect("a list")["@list"].as_array().map(Vec::len),
        Some(4)
    );
    alice.close().await?;
    bob.close().await
}

//! Clones sharing a domain over MQTT, one of them durable on RocksDB: an embedded broker on a
//! loopback port, a RocksDB genesis clone, a second clone in memory that joins by snapshot; the
//! RocksDB clone closes, the other writes, and the first reopens from its directory and catches up.
//!
//! Run with `cargo run -p m-ld --features rocksdb,mqtt-broker --example mqtt_rocksdb` (the first
//! build compiles RocksDB's C++: 15–25 minutes on 2 cores).

// An example stops at the first surprise.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use m_ld::core::store::MemoryStore;
use m_ld::mqtt::{EmbeddedBroker, MqttConfig, MqttRemotes};
use m_ld::store_rocks::{RocksOptions, RocksStore};
use m_ld::{MeldClone, MeldConfig};
use serde_json::json;

const DOMAIN: &str = "example.m-ld.org";

type Error = Box<dyn std::error::Error>;

async fn open<S: m_ld::core::store::Store + Clone>(
    store: S,
    port: u16,
    id: &str,
    genesis: bool,
) -> Result<MeldClone<S>, Error> {
    let remotes = MqttRemotes::new(MqttConfig::new("127.0.0.1", port, DOMAIN, id))?;
    let config = MeldConfig::new(id, DOMAIN, genesis);
    Ok(MeldClone::open_with_remotes(store, Arc::new(remotes), config).await?)
}

/// Waits (up to ten seconds) until `clone` holds subject `id`.
async fn holds<S: m_ld::core::store::Store + Clone>(
    clone: &MeldClone<S>,
    id: &str,
) -> Result<(), Error> {
    for _ in 0..500 {
        if !clone.status()?.outdated && clone.get(id).await?.is_some() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{} never held {id}", clone.config().id).into())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    // Loopback only, on a port the system chooses.
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse()?)?;
    let port = broker.port();
    let dir = tempfile::tempdir()?;

    let alice = open(
        RocksStore::open(dir.path(), RocksOptions::new())?,
        port,
        "alice",
        true,
    )
    .await?;
    alice.write(&json!({"@id": "fred", "name": "Fred"})).await?;
    let bob = open(MemoryStore::new(), port, "bob", false).await?;
    holds(&bob, "fred").await?;
    println!("bob joined: {:?}", bob.get("fred").await?);

    // Alice closes; Bob writes while she is away.
    alice.close().await?;
    drop(alice);
    bob.write(&json!({"@id": "wilma", "name": "Wilma"})).await?;

    // Alice resumes from her directory and revs up from Bob.
    let alice = open(
        RocksStore::open(dir.path(), RocksOptions::new())?,
        port,
        "alice",
        false,
    )
    .await?;
    holds(&alice, "wilma").await?;
    println!("alice caught up: {:?}", alice.get("wilma").await?);
    alice.close().await?;
    bob.close().await?;
    broker.stop();
    Ok(())
}

//! Rust clones sharing a domain through the embedded broker: joining by snapshot, live
//! operations, restarts with rev-up, and a broker outage.

use std::sync::Arc;
use std::time::Duration;

use m_ld::core::store::MemoryStore;
use m_ld::{MeldClone, MeldConfig, MeldError};
use m_ld_mqtt::{EmbeddedBroker, MqttRemotes};
use rumqttc::QoS;
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_clone_joins_by_snapshot_and_operations_flow_both_ways() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    assert!(a.status().unwrap().silo);
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let b = open(port, "b", false, MemoryStore::new()).await.unwrap();
    assert_eq!(
        b.get("fred").await.unwrap(),
        Some(json!({"@id": "fred", "name": "Fred"}))
    );
    let mut b_updates = b.follow().unwrap();
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    let update = tokio::time::timeout(PATIENCE, b_updates.next())
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
    assert_eq!(data.lines().count(), 3, "{data}");
    eventually("a sees b present", || !a.status().unwrap().silo).await;
    b.close().await.unwrap();
    eventually("a alone again", || a.status().unwrap().silo).await;
    a.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clones_writing_concurrently_converge() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let b = open(port, "b", false, MemoryStore::new()).await.unwrap();
    let c = open(port, "c", false, MemoryStore::new()).await.unwrap();
    let writers = [a.clone(), b.clone(), c.clone()].map(|clone| {
        tokio::spawn(async move {
            let id = clone.config().id.clone();
            for n in 0..15 {
                clone
                    .write(&json!({"@id": format!("{id}{n}"), "count": n, "by": id}))
                    .await
                    .unwrap();
                if n % 4 == 0 {
                    clone
                        .write(&json!({"@id": "shared", "count": n, "by": id}))
                        .await
                        .unwrap();
                }
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    let data = converged(&[&a, &b, &c]).await;
    for id in ["a14", "b14", "c14"] {
        assert!(data.contains(&format!("/{id}>")), "{id} missing: {data}");
    }
    for clone in [&a, &b, &c] {
        clone.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_clone_catches_up_by_revup() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let b_store = MemoryStore::new();
    let b = open(port, "b", false, b_store.clone()).await.unwrap();
    b.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    b.close().await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    // b resumes from its store and revs up from a.
    let b = open(port, "b", false, b_store).await.unwrap();
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 2, "{data}");
    assert!(data.contains("Fred"), "{data}");
    for clone in [&a, &b] {
        clone.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_that_wrote_while_the_broker_was_down_converge() {
    let broker = broker();
    let addr = broker.addr();
    let a = open(addr.port(), "a", true, MemoryStore::new())
        .await
        .unwrap();
    let b = open(addr.port(), "b", false, MemoryStore::new())
        .await
        .unwrap();
    let c = open(addr.port(), "c", false, MemoryStore::new())
        .await
        .unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    converged(&[&a, &b, &c]).await;

    broker.stop();
    for clone in [&a, &b, &c] {
        eventually("clones go offline", || !clone.status().unwrap().online).await;
    }
    a.write(&json!({"@id": "fred", "age": 40})).await.unwrap();
    b.write(&json!({
        "@delete": {"@id": "fred", "name": "Fred"},
        "@insert": {"@id": "fred", "name": "Freddy"}
    }))
    .await
    .unwrap();
    c.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();

    let broker = EmbeddedBroker::start(addr).unwrap();
    for clone in [&a, &b, &c] {
        eventually("clones come back online", || clone.status().unwrap().online).await;
    }
    let data = converged(&[&a, &b, &c]).await;
    assert!(
        data.contains("Freddy") && data.contains("Wilma") && data.contains("40"),
        "{data}"
    );
    assert!(!data.contains("\"Fred\""), "{data}");
    for clone in [&a, &b, &c] {
        clone.close().await.unwrap();
    }
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_rules_hold_over_mqtt() {
    let broker = broker();
    let port = broker.port();
    let lonely = open(port, "x", false, MemoryStore::new()).await;
    assert_eq!(lonely.err().map(|e| e.status()), Some(5031));
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let second = open(port, "z", true, MemoryStore::new()).await;
    assert!(matches!(second, Err(MeldError::GenesisConflict)));
    a.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_without_a_broker_fails_to_start() {
    init_logging();
    // A port with nothing listening: reserve one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = mqtt_config(port, "a").with_network_timeout(Duration::from_secs(1));
    let result = open_with(config, true, MemoryStore::new()).await;
    assert!(result.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_that_vanishes_leaves_by_its_will_and_can_come_back() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let b_store = MemoryStore::new();
    let b = open(port, "b", false, b_store.clone()).await.unwrap();
    eventually("a sees b", || !a.status().unwrap().silo).await;
    // No close: the connection just drops, and the broker publishes b's will.
    drop(b);
    eventually("a sees b gone", || a.status().unwrap().silo).await;
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let b = open(port, "b", false, b_store).await.unwrap();
    let data = converged(&[&a, &b]).await;
    assert!(data.contains("Fred"), "{data}");
    for clone in [&a, &b] {
        clone.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_too_big_for_the_mqtt_packet_limit_fail_with_4002() {
    let broker = broker();
    let port = broker.port();
    let small = |id: &str| mqtt_config(port, id).with_max_packet_size(4096);
    let a = open_with(small("a"), true, MemoryStore::new())
        .await
        .unwrap();
    let b = open_with(small("b"), false, MemoryStore::new())
        .await
        .unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    // Random values, so that gzip cannot shrink the operation below the limit.
    let big: Vec<serde_json::Value> = (0..200)
        .map(
            |i| json!({"@id": format!("s{i}"), "name": format!("{:032x}", rand::random::<u128>())}),
        )
        .collect();
    let err = a.write(&serde_json::Value::Array(big)).await.unwrap_err();
    assert_eq!(err.status(), 4002, "{err}");
    // What fits still flows.
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 2, "{data}");
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// A clone whose remotes the test keeps, to read their stats.
async fn open_counted(
    port: u16,
    id: &str,
    genesis: bool,
    store: MemoryStore,
    timeout: Duration,
) -> (MeldClone, Arc<MqttRemotes>) {
    let config = mqtt_config(port, id).with_network_timeout(timeout);
    let remotes = Arc::new(MqttRemotes::new(config).unwrap());
    let config = MeldConfig::new(id, DOMAIN, genesis);
    let clone = MeldClone::open_with_remotes(store, remotes.clone(), config)
        .await
        .unwrap();
    (clone, remotes)
}

/// A clone that leaves in the middle of an exchange with a peer does not keep that peer waiting
/// for a network timeout: the peer's wait ends with the leave, so it is not stuck "behind"
/// (refusing rev-ups) when a clone reopens soon after. This is the reopen slowdown of a process
/// that closes and reopens clones of one domain: a clone closed just after joining left its
/// collaborator waiting on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_leaving_mid_exchange_ends_the_wait_on_it() {
    let broker = broker();
    let port = broker.port();
    // Long enough that a wait on the vanished peer would time out only long after the test.
    let timeout = Duration::from_secs(10);
    let (a, a_remotes) = open_counted(port, "a", true, MemoryStore::new(), timeout).await;
    a.write(&json!({"@id": "start", "name": "Start"}))
        .await
        .unwrap();
    // c joins, then closes, keeping its store.
    let c_store = MemoryStore::new();
    let c_config = || mqtt_config(port, "c").with_network_timeout(timeout);
    let c = open_with(c_config(), false, c_store.clone()).await.unwrap();
    c.close().await.unwrap();
    // A peer appears, takes a's rev-up request, and leaves without answering it.
    let send_filter = format!("__send/ghost/+/+/{DOMAIN}/control");
    let mut ghost = RawClient::connect(port, "ghost", &[&send_filter]).await;
    let presence = format!("__presence/{DOMAIN}/ghost");
    let record = format!(r#"{{"ghost":"{DOMAIN}/control"}}"#);
    ghost
        .client
        .publish(&presence, QoS::AtLeastOnce, true, record)
        .await
        .unwrap();
    ghost
        .next_where(|p| p.topic.starts_with("__send/ghost/"))
        .await;
    ghost
        .client
        .publish(&presence, QoS::AtLeastOnce, true, Vec::new())
        .await
        .unwrap();
    eventually("a sees the ghost leave", || {
        a_remotes.stats().collaborators_gone == 1
    })
    .await;
    for n in 0..100 {
        a.write(&json!({"@id": format!("s{n}"), "n": n}))
            .await
            .unwrap();
    }
    // c reopens and catches up from a.
    let (c, c_remotes) = open_counted(port, "c", false, c_store, timeout).await;
    converged(&[&a, &c]).await;
    assert_eq!(a_remotes.stats().timeouts, 0, "{:?}", a_remotes.stats());
    assert_eq!(c_remotes.stats().timeouts, 0, "{:?}", c_remotes.stats());
    c.close().await.unwrap();
    a.close().await.unwrap();
}

/// A clone closed and reopened under the same id is another presence: a wait on the first ends
/// when it goes, even though a clone of that id stays present throughout (here, the second's
/// record arrives before the first's leave, as it may when a process reopens a clone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_on_a_clone_ends_when_another_with_its_id_replaces_it() {
    let broker = broker();
    let port = broker.port();
    let timeout = Duration::from_secs(10);
    let (a, a_remotes) = open_counted(port, "a", true, MemoryStore::new(), timeout).await;
    let record = format!(r#"{{"g":"{DOMAIN}/control"}}"#);
    let send_filter = format!("__send/g/+/+/{DOMAIN}/control");
    // The first g takes a's request and never answers it.
    let mut first = RawClient::connect(port, "g1", &[&send_filter]).await;
    let first_presence = format!("__presence/{DOMAIN}/g1");
    first
        .client
        .publish(&first_presence, QoS::AtLeastOnce, true, record.clone())
        .await
        .unwrap();
    first.next_where(|p| p.topic.starts_with("__send/g/")).await;
    // The second g arrives, then the first leaves.
    let second = RawClient::connect(port, "g2", &[]).await;
    let second_presence = format!("__presence/{DOMAIN}/g2");
    second
        .client
        .publish(&second_presence, QoS::AtLeastOnce, true, record)
        .await
        .unwrap();
    first
        .client
        .publish(&first_presence, QoS::AtLeastOnce, true, Vec::new())
        .await
        .unwrap();
    eventually("a's wait on the first g ends", || {
        a_remotes.stats().collaborators_gone >= 1
    })
    .await;
    assert_eq!(a_remotes.stats().timeouts, 0, "{:?}", a_remotes.stats());
    second
        .client
        .publish(&second_presence, QoS::AtLeastOnce, true, Vec::new())
        .await
        .unwrap();
    a.close().await.unwrap();
}

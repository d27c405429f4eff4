//! `id_in_use`: the presence probe a clone runs before connecting under an id.

use m_ld::core::store::MemoryStore;
use m_ld_mqtt::{MqttConfig, MqttError, id_in_use};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_id_is_found_in_any_domain_and_the_probe_disturbs_nobody() {
    let broker = broker();
    let port = broker.port();
    // Nobody yet.
    assert_eq!(id_in_use(&mqtt_config(port, "a")).await.unwrap(), None);

    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let mut watcher =
        RawClient::connect(port, "watcher", &[&format!("__presence/{DOMAIN}/+")]).await;
    assert_eq!(
        id_in_use(&mqtt_config(port, "a")).await.unwrap(),
        Some(DOMAIN.to_owned())
    );
    // MQTT client ids are unique per broker: a clone of another domain with the id would
    // disconnect this one too.
    let elsewhere = MqttConfig::new("127.0.0.1", port, "other.example.org", "a");
    assert_eq!(
        id_in_use(&elsewhere).await.unwrap(),
        Some(DOMAIN.to_owned())
    );
    assert_eq!(id_in_use(&mqtt_config(port, "b")).await.unwrap(), None);

    // The probes published only their ghosts, and the clone is still connected and present.
    let seen = watcher
        .next_where(|p| p.topic.starts_with(&format!("__presence/{DOMAIN}/probe-")))
        .await;
    assert_eq!(&seen.payload[..], b"-");
    assert!(a.status().unwrap().online);
    a.write(&serde_json::json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    assert_eq!(
        id_in_use(&mqtt_config(port, "a")).await.unwrap().as_deref(),
        Some(DOMAIN)
    );

    // Once the clone has left, its id is free.
    a.close().await.unwrap();
    assert_eq!(id_in_use(&mqtt_config(port, "a")).await.unwrap(), None);
}

#[tokio::test]
async fn no_broker_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Nothing listens there now.
    let error = id_in_use(&mqtt_config(port, "a")).await.unwrap_err();
    assert!(matches!(error, MqttError::Connection(_)), "{error}");
    let bad = mqtt_config(port, "a/b");
    assert!(matches!(id_in_use(&bad).await, Err(MqttError::Config(_))));
}

//! Hostile and malformed input: clones survive whatever a raw peer publishes on their topics.

use m_ld::core::store::MemoryStore;
use m_ld::core::wire::control::{Reply, Response};
use m_ld::core::wire::msgpack;
use serde_json::json;

use crate::common::*;

fn msgpack_of(json: serde_json::Value) -> Vec<u8> {
    msgpack::encode(&msgpack::from_json(&json))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_survived() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let b = open(port, "b", false, MemoryStore::new()).await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;

    let mut evil = RawClient::connect(port, "evil", &["__reply/evil/+/+/+"]).await;
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        b"\x00garbage".to_vec(),
        vec![0xc1],
        vec![0xdf, 0xff, 0xff, 0xff, 0xff],
        vec![0xc6, 0xff, 0xff, 0xff, 0xff],
        msgpack_of(json!({"prev": 1})),
        msgpack_of(json!({"prev": -1, "enc": "x", "attr": null})),
        // A well-formed envelope around an operation that is not one.
        m_ld::core::wire::operation::operation_message_bytes(1, &[0x93, 0x01, 0x02, 0x03]),
        // A gzip bomb header that claims to be an update.
        m_ld::core::wire::operation::operation_message_bytes(
            1,
            &msgpack_of(json!([5, 1, [1], "x", [1, 2], null, null])),
        ),
    ];
    let topics = [
        format!("{DOMAIN}/operations/evil"),
        format!("{DOMAIN}/operations/a"),
        format!("__presence/{DOMAIN}/evil"),
        "__reply/a/evil/r1/unknown".to_owned(),
        format!("{DOMAIN}/control/nochannel"),
        format!("{DOMAIN}/control"),
    ];
    for topic in &topics {
        for payload in &garbage {
            evil.publish(topic, payload.clone()).await;
        }
    }
    for payload in [
        b"not json".to_vec(),
        b"[1,2]".to_vec(),
        br#"{"evil":5}"#.to_vec(),
    ] {
        evil.publish(&format!("__presence/{DOMAIN}/evil"), payload)
            .await;
    }
    // Every malformed request is answered with a rejection.
    for (n, payload) in garbage.iter().enumerate() {
        let id = format!("bad{n}");
        evil.publish(
            &format!("__send/a/evil/{id}/{DOMAIN}/control"),
            payload.clone(),
        )
        .await;
        let suffix = format!("/{id}");
        let reply = evil
            .next_where(|p| p.topic.starts_with("__reply/evil/a/") && p.topic.ends_with(&suffix))
            .await;
        assert_eq!(
            Reply::decode(&reply.payload).unwrap(),
            Reply::Response(Response::Rejected { status: 5003 }),
            "payload {n}"
        );
    }

    // The clones still work together.
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    b.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 3, "{data}");
    assert!(a.status().unwrap().online && b.status().unwrap().online);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

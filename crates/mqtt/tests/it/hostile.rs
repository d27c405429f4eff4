//! Hostile and malformed input: clones survive whatever a raw peer publishes on their topics.

use m_ld::core::store::MemoryStore;
use m_ld::core::wire::control::{Reply, Response};
use m_ld::core::wire::msgpack;
use serde_json::json;

use m_ld::{MeldClone, MeldConfig};
use m_ld_mqtt::{MqttConfig, MqttRemotes};

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

/// An operation from a fresh fork of the genesis clock, inserting `<subject> name "x"`.
fn foreign_operation(domain: &str, subject: &str, agreed: bool) -> Vec<u8> {
    use m_ld::core::clock::TreeClock;
    use m_ld::core::operation::Operation;
    use m_ld::core::wire::operation::{encode_operation, operation_message_bytes};
    use oxrdf::{Literal, NamedNode, Triple};
    let (_, right) = TreeClock::genesis().forked();
    let time = right.ticked();
    let triple = Triple::new(
        NamedNode::new_unchecked(subject),
        NamedNode::new_unchecked(format!("http://{domain}/#name")),
        Literal::new_simple_literal("x"),
    );
    let op = Operation {
        from: time.ticks(),
        inserts: vec![(triple, vec![time.hash()])],
        deletes: Vec::new(),
        principal: None,
        agreed: agreed.then(|| (time.ticks(), json!(true))),
        time,
    };
    operation_message_bytes(0, &encode_operation(&op, domain).unwrap())
}

/// The same operation message, claiming a SECURE (3) layer over its update.
fn secured(message: &[u8]) -> Vec<u8> {
    use m_ld::core::wire::operation::operation_message_bytes;
    let envelope = msgpack::decode(message).unwrap();
    let enc = envelope
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() == Some("enc"))
        .and_then(|(_, v)| v.as_slice())
        .unwrap();
    let mut op = msgpack::decode(enc).unwrap();
    if let rmpv::Value::Array(items) = &mut op {
        items[4] = rmpv::Value::Array(vec![1.into(), 3.into()]);
    }
    operation_message_bytes(0, &msgpack::encode(&op))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_using_unsupported_features_is_refused() {
    let broker = broker();
    let port = broker.port();
    for (n, feature) in ["agreements", "transport security", "extensions"]
        .into_iter()
        .enumerate()
    {
        let domain = format!("refused{n}.example.org");
        let fred = format!("http://{domain}/fred");
        let payload = match feature {
            "agreements" => foreign_operation(&domain, &fred, true),
            "transport security" => secured(&foreign_operation(&domain, &fred, false)),
            _ => foreign_operation(&domain, "http://m-ld.org/extensions", false),
        };
        let remotes = MqttRemotes::new(MqttConfig::new("127.0.0.1", port, &domain, "a")).unwrap();
        let a = MeldClone::open_with_remotes(
            MemoryStore::new(),
            std::sync::Arc::new(remotes),
            MeldConfig::new("a", &domain, true),
        )
        .await
        .unwrap();
        let evil = RawClient::connect(port, "evil", &[]).await;
        evil.publish(&format!("{domain}/operations/evil"), payload)
            .await;
        eventually(&format!("the clone refuses {feature}"), || {
            matches!(a.status(), Err(e) if e.status() == 5011 && e.to_string().contains(feature))
        })
        .await;
        let err = a
            .write(&json!({"@id": "wilma", "name": "Wilma"}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 5011, "{err}");
        assert!(err.to_string().contains(feature), "{err}");
        assert!(
            !dump_ok(&a),
            "a refused clone answers no reads with possibly diverged data"
        );
        drop(evil);
    }
}

fn dump_ok(clone: &MeldClone) -> bool {
    clone.read_state().is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declaring_extensions_locally_is_refused() {
    let broker = broker();
    let a = open(broker.port(), "a", true, MemoryStore::new())
        .await
        .unwrap();
    let err = a
        .write(&json!({"@id": "http://m-ld.org/extensions", "name": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 5011, "{err}");
    assert_eq!(dump(&a), "");
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    a.close().await.unwrap();
}

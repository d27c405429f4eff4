//! The wire as a raw MQTT peer sees it: presence records, operation broadcasts, and the
//! request / response / ACK exchange with streams on notification channels.

use m_ld::core::store::MemoryStore;
use m_ld::core::wire::control::{Reply, Request, Response, RevupTime};
use m_ld::core::wire::encoding::WireLimits;
use m_ld::core::wire::notify::{Notification, SnapshotDatum};
use m_ld::core::wire::operation::decode_operation_message;
use rumqttc::{Publish, QoS};
use serde_json::json;

use crate::common::*;

fn topic_is(p: &Publish, topic: &str) -> bool {
    p.topic == topic
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_operations_are_those_of_m_ld_js() {
    let broker = broker();
    let port = broker.port();
    let presence = format!("__presence/{DOMAIN}/a");
    let mut raw = RawClient::connect(
        port,
        "observer",
        &[
            &format!("__presence/{DOMAIN}/+"),
            &format!("{DOMAIN}/operations/+"),
        ],
    )
    .await;
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let ghost = raw.next_where(|p| topic_is(p, &presence)).await;
    assert_eq!(&ghost.payload[..], b"-");
    let record = raw.next_where(|p| topic_is(p, &presence)).await;
    assert_eq!(
        &record.payload[..],
        format!(r#"{{"a":"{DOMAIN}/control"}}"#).as_bytes()
    );
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let op = raw
        .next_where(|p| topic_is(p, &format!("{DOMAIN}/operations/a")))
        .await;
    assert_eq!(op.qos, QoS::AtLeastOnce);
    let msg = decode_operation_message(&op.payload, DOMAIN, &WireLimits::default()).unwrap();
    assert_eq!(msg.prev, 0);
    assert_eq!(msg.op.inserts.len(), 1);
    // The presence record is retained: a late subscriber gets it.
    let mut late = RawClient::connect(port, "late", &[&format!("__presence/{DOMAIN}/+")]).await;
    let retained = late.next_where(|p| topic_is(p, &presence)).await;
    assert!(retained.retain);
    assert_eq!(&retained.payload[..], &record.payload[..]);
    a.close().await.unwrap();
    let leave = raw.next_where(|p| topic_is(p, &presence)).await;
    assert!(leave.payload.is_empty());
}

/// Sends `request` to clone `to` as raw peer `raw` and returns the reply and its message id.
async fn ask(raw: &mut RawClient, to: &str, message_id: &str, request: Vec<u8>) -> (Reply, String) {
    let topic = format!("__send/{to}/raw/{message_id}/{DOMAIN}/control");
    raw.publish(&topic, request).await;
    let suffix = format!("/{message_id}");
    let reply = raw
        .next_where(|p| {
            p.topic.starts_with(&format!("__reply/raw/{to}/")) && p.topic.ends_with(&suffix)
        })
        .await;
    let levels: Vec<&str> = reply.topic.split('/').collect();
    (Reply::decode(&reply.payload).unwrap(), levels[3].to_owned())
}

/// Collects a channel's `next` items until `complete`.
async fn drain(raw: &mut RawClient, channel: &str) -> Vec<Vec<u8>> {
    let topic = format!("{DOMAIN}/control/{channel}");
    let mut items = Vec::new();
    loop {
        let p = raw.next_where(|p| p.topic == topic).await;
        match Notification::decode(&p.payload).unwrap() {
            Notification::Next(item) => items.push(item),
            Notification::Complete => return items,
            Notification::Error(e) => panic!("channel {channel} failed: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_peer_gets_a_snapshot_then_a_revup() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let mut raw = RawClient::connect(port, "raw", &["__reply/raw/+/+/+"]).await;

    let request = Request::Snapshot { new_clock: true }.encode();
    let (reply, response_id) = ask(&mut raw, "a", "m1", request).await;
    let Reply::Response(Response::Snapshot(snapshot)) = reply else {
        panic!("{reply:?}")
    };
    let clock = snapshot.clock.clone().unwrap();
    for channel in [&snapshot.data_address, &snapshot.updates_address] {
        raw.client
            .subscribe(format!("{DOMAIN}/control/{channel}"), QoS::AtLeastOnce)
            .await
            .unwrap();
    }
    // Subscriptions are in effect once a probe of ours comes back.
    let probe_topic = format!("{DOMAIN}/control/{}", snapshot.updates_address);
    raw.publish(&probe_topic, Vec::new()).await;
    raw.next_where(|p| p.topic == probe_topic).await;
    raw.publish(
        &format!("__reply/a/raw/m2/{response_id}"),
        Reply::Ack.encode(),
    )
    .await;
    let data = drain(&mut raw, &snapshot.data_address).await;
    let limits = WireLimits::default();
    let mut triples = Vec::new();
    let mut operations = 0;
    for item in &data {
        match SnapshotDatum::decode(item, DOMAIN, &limits).unwrap() {
            SnapshotDatum::Inserts(batch) => triples.extend(batch),
            SnapshotDatum::Operation(_) => operations += 1,
        }
    }
    assert_eq!(triples.len(), 1, "{triples:?}");
    assert_eq!(triples[0].1.len(), 1, "one TID");
    assert_eq!(operations, 1, "the latest operation of a's process");
    assert!(drain(&mut raw, &snapshot.updates_address).await.is_empty());

    // A write after the fork is what a rev-up from the forked clock brings.
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    let request = Request::Revup {
        time: RevupTime::Clock(clock),
    }
    .encode();
    let (reply, response_id) = ask(&mut raw, "a", "m3", request).await;
    let Reply::Response(Response::Revup {
        gwc: Some(_),
        updates_address,
    }) = reply
    else {
        panic!("{reply:?}")
    };
    let topic = format!("{DOMAIN}/control/{updates_address}");
    raw.client
        .subscribe(&topic, QoS::AtLeastOnce)
        .await
        .unwrap();
    raw.publish(&topic, Vec::new()).await;
    raw.next_where(|p| p.topic == topic).await;
    raw.publish(
        &format!("__reply/a/raw/m4/{response_id}"),
        Reply::Ack.encode(),
    )
    .await;
    let ops = drain(&mut raw, &updates_address).await;
    assert_eq!(ops.len(), 1);
    let msg = decode_operation_message(&ops[0], DOMAIN, &limits).unwrap();
    assert!(
        msg.op
            .inserts
            .iter()
            .any(|(t, _)| t.to_string().contains("Wilma")),
        "{msg:?}"
    );
    a.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_rejected_with_m_ld_statuses() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    let mut raw = RawClient::connect(port, "raw", &["__reply/raw/+/+/+"]).await;
    let not_a_request = m_ld::core::wire::msgpack::encode(&m_ld::core::wire::msgpack::from_json(
        &json!({"hello": "world"}),
    ));
    let no_identity = Request::Revup {
        time: RevupTime::Unidentified(json!(0)),
    }
    .encode();
    for (n, request) in [not_a_request, no_identity, vec![0xc0], vec![]]
        .into_iter()
        .enumerate()
    {
        let (reply, _) = ask(&mut raw, "a", &format!("bad{n}"), request).await;
        assert_eq!(
            reply,
            Reply::Response(Response::Rejected { status: 5003 }),
            "request {n}"
        );
    }
    // The clone still serves good requests.
    let (reply, _) = ask(
        &mut raw,
        "a",
        "good",
        Request::Snapshot { new_clock: false }.encode(),
    )
    .await;
    assert!(
        matches!(reply, Reply::Response(Response::Snapshot(_))),
        "{reply:?}"
    );
    a.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_clone_joins_despite_silent_and_rejecting_peers() {
    let broker = broker();
    let port = broker.port();
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    // A present peer that never answers, and one that rejects everything.
    let zombie = RawClient::connect(port, "zombie", &[]).await;
    zombie
        .client
        .publish(
            format!("__presence/{DOMAIN}/zombie"),
            QoS::AtLeastOnce,
            true,
            format!(r#"{{"zombie":"{DOMAIN}/control"}}"#),
        )
        .await
        .unwrap();
    let mut grumpy = RawClient::connect(
        port,
        "grumpy",
        &[&format!("__send/grumpy/+/+/{DOMAIN}/control")],
    )
    .await;
    grumpy
        .client
        .publish(
            format!("__presence/{DOMAIN}/grumpy"),
            QoS::AtLeastOnce,
            true,
            format!(r#"{{"grumpy":"{DOMAIN}/control"}}"#),
        )
        .await
        .unwrap();
    let grumpy_task = tokio::spawn(async move {
        loop {
            let request = grumpy.next_where(|_| true).await;
            let levels: Vec<String> = request.topic.split('/').map(str::to_owned).collect();
            let topic = format!("__reply/{}/grumpy/g{}/{}", levels[2], levels[3], levels[3]);
            grumpy
                .client
                .publish(
                    topic,
                    QoS::AtMostOnce,
                    false,
                    Response::Rejected { status: 5004 }.encode(),
                )
                .await
                .unwrap();
        }
    });
    let config = mqtt_config(port, "b").with_network_timeout(std::time::Duration::from_millis(700));
    let b = open_with(config, false, MemoryStore::new()).await.unwrap();
    assert_eq!(
        b.get("fred").await.unwrap(),
        Some(json!({"@id": "fred", "name": "Fred"}))
    );
    grumpy_task.abort();
    b.close().await.unwrap();
    a.close().await.unwrap();
}

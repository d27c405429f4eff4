//! The clone process reports a write's update before the write's `complete`, as m-ld-js
//! notifies followers before a write resolves; the compliance specs wait on a clone's next update
//! after a request, and must not be resolved by an update of an earlier write arriving late.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use m_ld_mqtt::EmbeddedBroker;
use serde_json::json;

mod common;
use common::CloneProcess;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writes_update_comes_before_its_completion() {
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut clone = CloneProcess::start("a", true, &dir.path().join("a"), broker.port()).await;
    // Writes in flight together, as the suite's Promise.all sends them.
    const WRITES: u64 = 300;
    for n in 1..=WRITES {
        let request = json!({"@id": format!("s{n}"), "n": n});
        clone
            .send(&json!({"@type": "transact", "requestId": n, "request": request}))
            .await;
    }
    let mut updated: Vec<String> = Vec::new();
    let mut completed = 0;
    while completed < WRITES {
        let event = clone
            .next_event(|e| e["@type"] == "updated" || e["@type"] == "complete")
            .await;
        if event["@type"] == "updated" {
            let inserted = event["body"]["@insert"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            updated.extend(
                inserted
                    .iter()
                    .filter_map(|s| s["@id"].as_str().map(str::to_owned)),
            );
        } else {
            let n = event["requestId"].as_u64().unwrap();
            assert!(
                updated.contains(&format!("s{n}")),
                "write {n} completed before its update ({} updates so far)",
                updated.len()
            );
            completed += 1;
        }
    }
    assert_eq!(updated.len() as u64, WRITES, "{updated:?}");
    clone.stop().await;
}

//! Two `mld` processes on one machine share a domain through the embedded broker that the first
//! one hosts, and the second takes the broker over when the first exits; each has its own clone
//! id, and a second process given a live clone's id is refused without disturbing it.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Mld, Observer, free_port, inserted};
use serde_json::json;

#[test]
fn two_processes_share_a_domain_and_survive_the_broker_host_leaving() {
    let port = free_port();
    let mut a = Mld::start("a", port, &[]);
    a.expect("status", |l| l.get("status").is_some());
    let mut b = Mld::start("b", port, &[]);
    let status = b.expect("status", |l| l.get("status").is_some());
    assert_eq!(status["status"]["silo"], json!(false), "{status}");

    a.send(&json!({"@id": "fred", "name": "Fred"}));
    b.expect("fred from a", |l| inserted(l, "fred"));
    b.send(&json!({"@id": "wilma", "name": "Wilma"}));
    a.expect("wilma from b", |l| inserted(l, "wilma"));

    // A hosted the broker; when it leaves, B hosts it and a third process joins through it.
    a.finish();
    let mut c = Mld::start("c", port, &["--join"]);
    c.expect("status", |l| l.get("status").is_some());
    c.send(&json!({"@describe": "?s", "@where": {"@id": "?s", "name": "?n"}}));
    let described = c.expect("subjects", |l| l.get("subjects").is_some());
    assert_eq!(
        described["subjects"].as_array().unwrap().len(),
        2,
        "{described}"
    );
    c.send(&json!({"@id": "barney", "name": "Barney"}));
    b.expect("barney from c", |l| inserted(l, "barney"));
    c.finish();
    b.finish();
}

#[test]
fn join_fails_clearly_when_nobody_is_there() {
    let port = free_port();
    let a = Mld::start("a", port, &["--join"]);
    let line = a.expect("error", |l| l.get("error").is_some());
    assert_eq!(line["error"]["status"], json!(5031), "{line}");
}

/// Before the fix, a second process with a live clone's id connected under it, and the broker
/// disconnected the first (which reconnected, and so on). Now the second is refused, with a
/// message that says why and what to do, and the first goes on undisturbed.
#[test]
fn a_second_process_with_a_live_id_is_refused_and_the_first_goes_on() {
    let port = free_port();
    let mut first = Mld::start("dup", port, &[]);
    first.expect("status", |l| l.get("status").is_some());
    let observer = Observer::watch(port);
    let (id, record) = observer.next();
    assert_eq!(id, "dup");
    assert!(!record.is_empty());

    let second = Mld::start("dup", port, &[]);
    let line = second.expect("error", |l| l.get("error").is_some());
    let message = line["error"]["message"].as_str().unwrap();
    for says in ["\"dup\"", "share.example.org", "--id"] {
        assert!(message.contains(says), "{message}");
    }
    assert_eq!(second.exit_code(), Some(1));

    // The first clone's presence never dropped (the broker publishes its will, an empty record,
    // if it is disconnected).
    let since = observer.until_now();
    assert!(
        since
            .iter()
            .all(|(id, record)| id != "dup" || !record.is_empty()),
        "{since:?}"
    );
    first.send(&json!({"@id": "fred", "name": "Fred"}));
    assert_eq!(
        first.expect("answer", |l| l.get("request").is_some()),
        json!({"ok": true, "request": 1})
    );
    first.send(&json!({"@describe": "fred"}));
    assert_eq!(
        first.expect("answer", |l| l.get("request").is_some()),
        json!({"subjects": [{"@id": "fred", "name": "Fred"}], "request": 2})
    );
    first.finish();
}

#[test]
fn processes_without_an_id_get_different_ones_and_share_the_domain() {
    let port = free_port();
    let mut a = Mld::spawn(&[], port);
    a.expect("status", |l| l.get("status").is_some());
    let mut b = Mld::spawn(&[], port);
    let status = b.expect("status", |l| l.get("status").is_some());
    assert_eq!(status["status"]["silo"], json!(false), "{status}");

    let observer = Observer::watch(port);
    let mut ids: Vec<String> = observer
        .until_now()
        .into_iter()
        .filter(|(_, record)| !record.is_empty())
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("cli-")), "{ids:?}");

    a.send(&json!({"@id": "fred", "name": "Fred"}));
    b.expect("fred from a", |l| inserted(l, "fred"));
    b.send(&json!({"@id": "wilma", "name": "Wilma"}));
    a.expect("wilma from b", |l| inserted(l, "wilma"));
    a.finish();
    b.finish();
}

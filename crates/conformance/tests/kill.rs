//! Clone processes on RocksDB sharing a domain over MQTT: a clone killed with SIGKILL and
//! restarted on its directory rejoins and converges, and two clones that each wrote while the
//! other was down converge once both run.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use m_ld_mqtt::EmbeddedBroker;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const DOMAIN: &str = "kill.example.org";
const PATIENCE: Duration = Duration::from_secs(30);

/// One `mld-clone` process, driven through the clone process protocol.
struct CloneProcess {
    child: Child,
    stdin: ChildStdin,
    events: Lines<BufReader<ChildStdout>>,
    next_request: u64,
}

impl CloneProcess {
    async fn start(id: &str, genesis: bool, data: &Path, port: u16) -> CloneProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mld-clone"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let events = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut clone = CloneProcess {
            child,
            stdin,
            events,
            next_request: 0,
        };
        clone
            .send(&json!({
                "@type": "start",
                "config": {"@id": id, "@domain": DOMAIN, "genesis": genesis, "networkTimeout": 1000},
                "dataDir": data.to_str().unwrap(),
                "mqtt": {"host": "127.0.0.1", "port": port},
            }))
            .await;
        let started = clone.next_event(|e| e["@type"] != "status").await;
        assert_eq!(started["@type"], json!("started"), "{started}");
        clone
    }

    async fn send(&mut self, command: &Value) {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The next event that `select` accepts (bounded wait).
    async fn next_event(&mut self, select: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let line = tokio::time::timeout_at(deadline, self.events.next_line())
                .await
                .expect("no event in time")
                .unwrap()
                .expect("the clone process ended");
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if select(&event) {
                return event;
            }
        }
    }

    /// Runs a json-rql request; returns the subjects of a read.
    async fn transact(&mut self, request: Value) -> Vec<Value> {
        self.next_request += 1;
        let id = self.next_request;
        self.send(&json!({"@type": "transact", "requestId": id, "request": request}))
            .await;
        let mut subjects = Vec::new();
        loop {
            let event = self.next_event(|e| e["requestId"] == json!(id)).await;
            match event["@type"].as_str() {
                Some("next") => subjects.push(event["body"].clone()),
                Some("complete") => return subjects,
                _ => panic!("request {id} failed: {event}"),
            }
        }
    }

    async fn names(&mut self) -> Vec<String> {
        let mut names: Vec<String> = self
            .transact(json!({"@select": "?n", "@where": {"@id": "?s", "name": "?n"}}))
            .await
            .iter()
            .filter_map(|row| row["?n"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    }

    async fn write_name(&mut self, id: &str) {
        self.transact(json!({"@id": id, "name": id})).await;
    }

    async fn stop(mut self) {
        self.next_request += 1;
        let id = self.next_request;
        self.send(&json!({"@type": "stop", "requestId": id})).await;
        self.next_event(|e| e["@type"] == json!("stopped")).await;
        let _ = tokio::time::timeout(PATIENCE, self.child.wait()).await;
    }

    /// SIGKILL: no clean shutdown at all.
    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// Waits (bounded) until both clones hold exactly `expected` names.
async fn converged(a: &mut CloneProcess, b: &mut CloneProcess, expected: &[&str]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (na, nb) = (a.names().await, b.names().await);
        if na == expected && nb == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no convergence: {na:?} / {nb:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_stopped_clones_rejoin_and_converge() {
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = broker.port();
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));

    let mut a = CloneProcess::start("a", true, &a_dir, port).await;
    let mut b = CloneProcess::start("b", false, &b_dir, port).await;
    a.write_name("a1").await;
    b.write_name("b1").await;
    converged(&mut a, &mut b, &["a1", "b1"]).await;

    // B is killed right after an acknowledged write; A goes on writing.
    b.write_name("b2").await;
    b.kill().await;
    a.write_name("a2").await;
    a.write_name("a3").await;
    let mut b = CloneProcess::start("b", false, &b_dir, port).await;
    converged(&mut a, &mut b, &["a1", "a2", "a3", "b1", "b2"]).await;

    // Each writes while the other is down.
    a.stop().await;
    b.write_name("b3").await;
    b.stop().await;
    let mut a = CloneProcess::start("a", false, &a_dir, port).await;
    a.write_name("a4").await;
    let mut b = CloneProcess::start("b", false, &b_dir, port).await;
    converged(&mut a, &mut b, &["a1", "a2", "a3", "a4", "b1", "b2", "b3"]).await;
    a.stop().await;
    b.stop().await;
}

//! Driving `mld-clone` processes through the clone process protocol, for the integration tests.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub const DOMAIN: &str = "kill.example.org";
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One `mld-clone` process, driven through the clone process protocol.
pub struct CloneProcess {
    child: Child,
    stdin: ChildStdin,
    events: Lines<BufReader<ChildStdout>>,
    pub next_request: u64,
}

impl CloneProcess {
    pub async fn start(id: &str, genesis: bool, data: &Path, port: u16) -> CloneProcess {
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

    pub async fn send(&mut self, command: &Value) {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The next event that `select` accepts (bounded wait).
    pub async fn next_event(&mut self, select: impl Fn(&Value) -> bool) -> Value {
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
    pub async fn transact(&mut self, request: Value) -> Vec<Value> {
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

    pub async fn names(&mut self) -> Vec<String> {
        let mut names: Vec<String> = self
            .transact(json!({"@select": "?n", "@where": {"@id": "?s", "name": "?n"}}))
            .await
            .iter()
            .filter_map(|row| row["?n"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    }

    pub async fn write_name(&mut self, id: &str) {
        self.transact(json!({"@id": id, "name": id})).await;
    }

    pub async fn stop(mut self) {
        self.next_request += 1;
        let id = self.next_request;
        self.send(&json!({"@type": "stop", "requestId": id})).await;
        self.next_event(|e| e["@type"] == json!("stopped")).await;
        let _ = tokio::time::timeout(PATIENCE, self.child.wait()).await;
    }

    /// SIGKILL: no clean shutdown at all.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

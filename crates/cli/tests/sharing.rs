//! Two `mld` processes on one machine share a domain through the embedded broker that the first
//! one hosts, and the second takes the broker over when the first exits.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// A running `mld` process: its input, and its output lines as they come.
struct Mld {
    child: Child,
    input: Option<ChildStdin>,
    lines: mpsc::Receiver<Value>,
}

impl Mld {
    fn start(id: &str, port: u16, extra: &[&str]) -> Mld {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mld"))
            .args(["--domain", "share.example.org", "--id", id])
            .args(["--broker-port", &port.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take();
        let output = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in output.lines() {
                let Ok(line) = line else { break };
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        Mld {
            child,
            input,
            lines,
        }
    }

    fn send(&mut self, request: &Value) {
        let input = self.input.as_mut().unwrap();
        writeln!(input, "{request}").unwrap();
        input.flush().unwrap();
    }

    /// The next output line that satisfies `select` (bounded wait).
    fn expect(&self, what: &str, select: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if select(&line) => return line,
                Ok(_) => continue,
                Err(e) => panic!("no {what}: {e}"),
            }
        }
    }

    /// Ends the input, so the process closes its clone and exits.
    fn finish(mut self) {
        drop(self.input.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

impl Drop for Mld {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn inserted(line: &Value, id: &str) -> bool {
    line["update"]["@insert"]
        .as_array()
        .is_some_and(|subjects| subjects.iter().any(|s| s["@id"] == json!(id)))
}

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

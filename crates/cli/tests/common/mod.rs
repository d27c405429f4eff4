//! Helpers shared by the `mld` process tests: processes on pipes, ports, and a raw MQTT observer
//! of the presence records on a broker.

// Each test binary uses some of the helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

/// The domain of the sharing tests.
pub const DOMAIN: &str = "share.example.org";

/// How long a wait lasts before the test gives up (a guard against hangs, not a bound that a
/// passing run depends on).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A running `mld` process on pipes: its input, and its output lines as they come.
pub struct Mld {
    child: Child,
    input: Option<ChildStdin>,
    lines: mpsc::Receiver<Value>,
}

impl Mld {
    /// `mld --domain DOMAIN --id ID --broker-port PORT EXTRA...`.
    pub fn start(id: &str, port: u16, extra: &[&str]) -> Mld {
        Mld::spawn(&[&["--id", id], extra].concat(), port)
    }

    /// `mld --domain DOMAIN --broker-port PORT ARGS...`.
    pub fn spawn(args: &[&str], port: u16) -> Mld {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mld"))
            .args(["--domain", DOMAIN])
            .args(["--broker-port", &port.to_string()])
            .args(args)
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

    pub fn send(&mut self, request: &Value) {
        let input = self.input.as_mut().unwrap();
        writeln!(input, "{request}").unwrap();
        input.flush().unwrap();
    }

    /// The next output line that satisfies `select`.
    pub fn expect(&self, what: &str, select: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) if select(&line) => return line,
                Ok(_) => continue,
                Err(e) => panic!("no {what}: {e}"),
            }
        }
    }

    /// The process's exit code, once it has ended by itself (with its input closed).
    pub fn exit_code(mut self) -> Option<i32> {
        drop(self.input.take());
        self.child.wait().unwrap().code()
    }

    /// Ends the input, so the process closes its clone and exits.
    pub fn finish(self) {
        assert_eq!(self.exit_code(), Some(0));
    }
}

impl Drop for Mld {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn inserted(line: &Value, id: &str) -> bool {
    line["update"]["@insert"]
        .as_array()
        .is_some_and(|subjects| subjects.iter().any(|s| s["@id"] == json!(id)))
}

/// A raw MQTT client watching the presence records of `DOMAIN` on the broker at `port`.
pub struct Observer {
    client: Client,
    /// (clone id, record) as they arrive; an empty record is a clone leaving (or its will).
    records: mpsc::Receiver<(String, Vec<u8>)>,
}

impl Observer {
    /// Connects and subscribes; the retained records of present clones come first.
    pub fn watch(port: u16) -> Observer {
        let options = MqttOptions::new("test-observer", "127.0.0.1", port);
        let (client, mut connection) = Client::new(options, 16);
        client
            .subscribe(format!("__presence/{DOMAIN}/+"), QoS::AtLeastOnce)
            .unwrap();
        let (tx, records) = mpsc::channel();
        std::thread::spawn(move || {
            for event in connection.iter() {
                let Ok(Event::Incoming(Packet::Publish(publish))) = event else {
                    if event.is_err() {
                        break;
                    }
                    continue;
                };
                let id = publish.topic.rsplit('/').next().unwrap_or("").to_owned();
                if tx.send((id, publish.payload.to_vec())).is_err() {
                    break;
                }
            }
        });
        Observer { client, records }
    }

    /// The next record (id and payload).
    pub fn next(&self) -> (String, Vec<u8>) {
        self.records
            .recv_timeout(PATIENCE)
            .expect("no presence record")
    }

    /// Every record that arrives before a marker the observer sends itself now.
    pub fn until_now(&self) -> Vec<(String, Vec<u8>)> {
        self.client
            .publish(
                format!("__presence/{DOMAIN}/test-observer"),
                QoS::AtLeastOnce,
                false,
                b"-".to_vec(),
            )
            .unwrap();
        let mut seen = Vec::new();
        loop {
            let (id, record) = self.next();
            if id == "test-observer" {
                return seen;
            }
            seen.push((id, record));
        }
    }
}

//! The `mld` binary answers json-rql lines and keeps going after bad input.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn run(input: &str) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mld"))
        .args(["--domain", "test.example.org", "--alone"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn answers_requests_and_prints_updates_in_order() {
    let lines = run(concat!(
        "{\"@id\":\"fred\",\"name\":\"Fred\"}\n",
        "\n",
        "this is not json\n",
        "{\"@describe\":\"fred\"}\n",
        "{\"@select\":\"?s\",\"@where\":{\"@id\":\"?s\"},\"@frobnicate\":1}\n",
    ));
    assert_eq!(lines[0]["status"]["online"], json!(true));
    assert_eq!(lines[1], json!({"ok": true, "request": 1}));
    assert_eq!(
        lines[2],
        json!({"update": {"@ticks": 1, "@delete": [], "@insert": [{"@id": "fred", "name": "Fred"}], "@update": []}})
    );
    assert_eq!(lines[3]["request"], json!(3));
    assert_eq!(lines[3]["error"]["status"], json!(4001));
    assert_eq!(
        lines[4],
        json!({"subjects": [{"@id": "fred", "name": "Fred"}], "request": 4})
    );
    assert_eq!(lines[5]["error"]["status"], json!(5011));
    assert_eq!(lines.len(), 6);
}

//! The `mld` shell, driven through a pseudo-terminal as a person would use it: the prompt, json-rql
//! that spans lines, the dot commands, updates from another clone arriving at the prompt, history,
//! and leaving by `.exit` or Ctrl-D.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Pseudo-terminals are Unix's.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Mld, PATIENCE, free_port};
use nix::sys::wait::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};
use serde_json::{Value, json};

/// `mld ARGS...` on a pseudo-terminal, keeping its history under `data`.
fn shell(args: &[&str], data: &Path) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mld"));
    command
        .args(args)
        .env("TERM", "xterm")
        .env("XDG_DATA_HOME", data)
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG");
    let options = Options::new()
        .timeout_ms(Some(PATIENCE.as_millis() as u64))
        .strip_ansi_escape_codes(true);
    spawn_with_options(command, options).unwrap()
}

fn exited(session: &mut PtySession) -> i32 {
    session.exp_eof().unwrap();
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("mld did not exit: {other:?}"),
    }
}

const PROMPT: &str = "shell.example.org (online, silo)> ";

#[test]
fn a_session_writes_reads_asks_deletes_and_leaves_with_exit() {
    let data = tempfile::tempdir().unwrap();
    let mut s = shell(&["--alone", "--domain", "shell.example.org"], data.path());
    s.exp_string("type json-rql, or .help for commands")
        .unwrap();
    s.exp_string(PROMPT).unwrap();

    s.send_line(r#"{"@id": "fred", "name": "Fred"}"#).unwrap();
    s.exp_string("\nok").unwrap();
    s.exp_string(
        r#"update {"@ticks":1,"@delete":[],"@insert":[{"@id":"fred","name":"Fred"}],"@update":[]}"#,
    )
    .unwrap();

    s.send_line(".get fred").unwrap();
    s.exp_regex(r#"\{\r?\n\s+"@id": "fred",\r?\n\s+"name": "Fred"\r?\n\}"#)
        .unwrap();

    // JSON that spans lines is read until its brackets close.
    s.send_line("{").unwrap();
    s.send_line(r#""@describe": "fred""#).unwrap();
    s.send_line("}").unwrap();
    s.exp_regex(r#"\[\r?\n\s+\{\r?\n\s+"@id": "fred""#).unwrap();

    s.send_line(r#".ask {"@id": "?s", "name": "Fred"}"#)
        .unwrap();
    s.exp_string("\ntrue").unwrap();
    s.send_line(r#".ask {"@id": "?s", "name": "Barney"}"#)
        .unwrap();
    s.exp_string("\nfalse").unwrap();
    // A plain ask is routed by the library's classifier, as on pipes.
    s.send_line(r#"{"@where": {"@id": "?s", "name": "Fred"}}"#)
        .unwrap();
    s.exp_string("\ntrue").unwrap();

    s.send_line(".status").unwrap();
    s.exp_regex(r#""@domain": "shell.example.org",\r?\n\s+"online": true"#)
        .unwrap();

    s.send_line(".delete fred").unwrap();
    s.exp_string("\nok").unwrap();
    s.exp_string(r#"update {"@ticks":2,"@delete":[{"@id":"fred","name":"Fred"}]"#)
        .unwrap();
    s.send_line(".get fred").unwrap();
    s.exp_string("no subject \"fred\"").unwrap();

    s.send_line(".help").unwrap();
    s.exp_string(".dump [FORMAT [FILE]]").unwrap();

    // Bad input gets a clear error, and the session goes on.
    s.send_line(".frobnicate").unwrap();
    s.exp_string("unknown command .frobnicate").unwrap();
    s.send_line("this is not json").unwrap();
    s.exp_string("error 4001: request is not JSON").unwrap();
    s.send_line(r#"{"@select": "?s", "@where": {"@id": "?s"}, "@frobnicate": 1}"#)
        .unwrap();
    s.exp_string("error 5011").unwrap();

    s.send_line(".exit").unwrap();
    assert_eq!(exited(&mut s), 0);
}

#[test]
fn ctrl_d_leaves_and_the_history_is_kept_for_the_next_session() {
    let data = tempfile::tempdir().unwrap();
    let args = ["--alone", "--domain", "shell.example.org"];
    let mut s = shell(&args, data.path());
    s.exp_string(PROMPT).unwrap();
    s.send_line(r#"{"@id": "wilma", "name": "Wilma"}"#).unwrap();
    s.exp_string("\nok").unwrap();
    s.send_line(".status").unwrap();
    s.exp_string("\"ticks\": 1").unwrap();
    s.exp_string(PROMPT).unwrap();
    s.send_control('d').unwrap();
    assert_eq!(exited(&mut s), 0);
    let history = std::fs::read_to_string(data.path().join("mld").join("history")).unwrap();
    assert!(history.contains(".status"), "{history}");

    // The up arrow brings back the last line of the session before.
    let mut s = shell(&args, data.path());
    s.exp_string(PROMPT).unwrap();
    s.send("\x1b[A").unwrap();
    s.send_line("").unwrap();
    s.exp_string("\"ticks\": 0").unwrap();
    s.send_control('d').unwrap();
    assert_eq!(exited(&mut s), 0);
}

#[test]
fn load_reads_json_rql_and_rdf_files_and_dump_writes_them() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    std::fs::write(
        dir.join("people.jsonl"),
        "{\"@id\": \"fred\", \"name\": \"Fred\"}\n\n{\"@id\": \"wilma\", \"name\": \"Wilma\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("more.json"),
        r#"[{"@id": "barney", "name": "Barney"}, {"@insert": {"@id": "fred", "spouse": {"@id": "wilma"}}}]"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("places.ttl"),
        "<http://ex.org/bedrock> <http://ex.org/name> \"Bedrock\" .\n",
    )
    .unwrap();
    std::fs::write(dir.join("reads.json"), r#"[{"@describe": "fred"}]"#).unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();

    let mut s = shell(&["--alone", "--domain", "shell.example.org"], dir);
    s.exp_string(PROMPT).unwrap();
    s.send_line(&format!(".load {}", file("people.jsonl")))
        .unwrap();
    s.exp_string("loaded 2 writes from").unwrap();
    s.send_line(&format!(".load {}", file("more.json")))
        .unwrap();
    s.exp_string("loaded 2 writes from").unwrap();
    s.send_line(&format!(".load {}", file("places.ttl")))
        .unwrap();
    s.exp_string("imported").unwrap();
    // A file that holds a read is refused before anything is written.
    s.send_line(&format!(".load {}", file("reads.json")))
        .unwrap();
    s.exp_string("item 1 is a read, not a write").unwrap();
    s.send_line(&format!(".load {}", file("missing.json")))
        .unwrap();
    s.exp_string("cannot read").unwrap();

    s.send_line(".dump nt").unwrap();
    s.exp_string(r#"<http://ex.org/bedrock> <http://ex.org/name> "Bedrock" ."#)
        .unwrap();
    s.exp_string(r#"<http://shell.example.org/fred> <http://shell.example.org/#spouse> <http://shell.example.org/wilma> ."#)
        .unwrap();
    s.send_line(&format!(".dump json {}", file("out.json")))
        .unwrap();
    s.exp_string("wrote").unwrap();
    s.send_line(&format!(".dump turtle {}", file("out.ttl")))
        .unwrap();
    s.exp_string("wrote").unwrap();
    s.send_line(".exit").unwrap();
    assert_eq!(exited(&mut s), 0);

    // The JSON dump is every subject, as a file that `.load` reads back.
    let dumped: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    let subjects = dumped.as_array().unwrap();
    assert_eq!(subjects.len(), 4, "{dumped}");
    assert!(subjects.contains(&json!({"@id": "barney", "name": "Barney"})));
    let turtle = std::fs::read_to_string(dir.join("out.ttl")).unwrap();
    assert!(turtle.contains("\"Bedrock\""), "{turtle}");

    let mut s = shell(&["--alone", "--domain", "shell.example.org"], dir);
    s.exp_string(PROMPT).unwrap();
    s.send_line(&format!(".load {}", file("out.json"))).unwrap();
    s.exp_string("loaded 4 writes from").unwrap();
    s.send_line(&format!(".load {}", file("out.ttl"))).unwrap();
    s.exp_string("imported").unwrap();
    s.send_line(r#".ask {"@id": "fred", "spouse": {"@id": "wilma"}}"#)
        .unwrap();
    s.exp_string("\ntrue").unwrap();
    s.send_line(".exit").unwrap();
    assert_eq!(exited(&mut s), 0);
}

#[test]
fn updates_from_another_clone_print_at_the_prompt() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let port_arg = port.to_string();
    let mut s = shell(
        &[
            "--domain",
            common::DOMAIN,
            "--broker-port",
            &port_arg,
            "--id",
            "person",
        ],
        data.path(),
    );
    s.exp_string(&format!("{} (online, silo)> ", common::DOMAIN))
        .unwrap();
    let mut other = Mld::start("other", port, &[]);
    other.expect("status", |l| l.get("status").is_some());
    other.send(&json!({"@id": "zed", "name": "Zed"}));
    other.expect("ack", |l| l.get("request").is_some());
    s.exp_string(r#"update {"@ticks":"#).unwrap();
    s.exp_string(r#""@insert":[{"@id":"zed","name":"Zed"}]"#)
        .unwrap();
    s.send_line(".get zed").unwrap();
    s.exp_string(r#""name": "Zed""#).unwrap();
    other.finish();
    s.send_line(".exit").unwrap();
    assert_eq!(exited(&mut s), 0);
}

//! The `mld` binary answers json-rql lines and keeps going after bad input.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn run(input: &str) -> Vec<Value> {
    run_with(&["--domain", "test.example.org", "--alone"], input)
}

fn run_with(args: &[&str], input: &str) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mld"))
        .args(args)
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

/// Every read type, asks and writes are routed as the library classifies them
/// (`m_ld::RequestKind`), each answered with its own line shape.
#[test]
fn routes_reads_asks_and_writes_by_the_library_classifier() {
    let lines = run(concat!(
        r#"[{"@id":"fred","name":"Fred"},{"@id":"wilma","name":"Wilma"},{"@id":"pebbles","name":"Fred"}]"#,
        "\n",
        r#"{"@distinct":"?n","@where":{"@id":"?s","name":"?n"},"@orderBy":"?n"}"#,
        "\n",
        r#"{"@where":{"@id":"?s","name":"Wilma"}}"#,
        "\n",
        r#"{"@where":{"@id":"?s","name":"Barney"}}"#,
        "\n",
        r#"{"@context":{"nm":"http://test.example.org/#name"},"@where":[{"@id":"fred","nm":"?n"}]}"#,
        "\n",
        r#"{"@construct":{"@id":"?s","name":"Wilma"}}"#,
        "\n",
        r#"{"@where":{"@id":"?s"},"@limit":1}"#,
        "\n",
        r#"{"@insert":{"@id":"?s","seen":true},"@where":{"@id":"?s","name":"Wilma"}}"#,
        "\n",
        r#"{"@where":{"@id":"wilma","seen":true}}"#,
        "\n",
        "\"not a request\"\n",
    ));
    let answers: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("request").is_some())
        .collect();
    assert_eq!(answers.len(), 10, "{lines:?}");
    assert_eq!(answers[0], &json!({"ok": true, "request": 1}));
    let distinct: Vec<&Value> = answers[1]["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["?n"])
        .collect();
    assert_eq!(distinct, [&json!("Fred"), &json!("Wilma")]);
    assert_eq!(answers[2], &json!({"ask": true, "request": 3}));
    assert_eq!(answers[3], &json!({"ask": false, "request": 4}));
    assert_eq!(answers[4], &json!({"ask": true, "request": 5}));
    assert_eq!(
        answers[5],
        &json!({"subjects": [{"@id": "wilma", "name": "Wilma"}], "request": 6})
    );
    // An ask takes no solution modifiers: refused, not silently ignored.
    assert_eq!(answers[6]["error"]["status"], json!(5011));
    assert_eq!(answers[7], &json!({"ok": true, "request": 8}));
    assert_eq!(answers[8], &json!({"ask": true, "request": 9}));
    // A JSON string is not a request.
    assert_eq!(answers[9]["request"], json!(10));
    assert_eq!(answers[9]["error"]["status"], json!(4001));
}

/// `--config` reads an m-ld-js clone configuration; the command line overrides it.
#[test]
fn a_config_file_configures_the_clone() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("clone.json");
    std::fs::write(
        &config,
        r#"{"@id": "from-file", "@domain": "config.example.org", "genesis": true,
            "@context": {"ex": "http://ex.org/"}, "networkTimeout": 2000, "logLevel": "debug"}"#,
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let lines = run_with(
        &["--config", config, "--alone"],
        concat!(
            r#"{"@id": "fred", "ex:name": "Fred"}"#,
            "\n",
            r#"{"@where": {"@id": "?s", "http://ex.org/name": "Fred"}}"#,
            "\n",
        ),
    );
    assert_eq!(lines[0]["status"]["online"], json!(true), "{lines:?}");
    // The file's context expanded ex:name.
    assert_eq!(
        lines.last().unwrap(),
        &json!({"ask": true, "request": 2}),
        "{lines:?}"
    );
    // Without it, ex:name is an IRI of its own.
    let lines = run_with(
        &["--config", config, "--alone", "--context", "{}"],
        concat!(
            r#"{"@id": "fred", "ex:name": "Fred"}"#,
            "\n",
            r#"{"@where": {"@id": "?s", "http://ex.org/name": "Fred"}}"#,
            "\n",
        ),
    );
    assert_eq!(lines.last().unwrap(), &json!({"ask": false, "request": 2}));
}

/// A configuration that cannot work stops `mld` with a clear error line and exit status 1.
#[test]
fn bad_configurations_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.json");
    std::fs::write(&typo, r#"{"@id": "a", "gensis": true}"#).unwrap();
    let typo = typo.to_str().unwrap();
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    for (args, says) in [
        (vec!["--config", typo, "--alone"], "gensis"),
        (vec!["--config", missing, "--alone"], "missing.json"),
        (vec!["--id", "a/b", "--alone"], "@id"),
        (vec!["--mqtt", "http://host"], "scheme"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_mld"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let line: Value =
            serde_json::from_str(String::from_utf8(output.stdout).unwrap().trim()).unwrap();
        assert_eq!(line["error"]["status"], json!(5000), "{args:?}: {line}");
        let message = line["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{args:?}: {message}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with("mld: ") && stderr.contains(says),
            "{stderr}"
        );
    }
}

/// `--help` says what the defaults are.
#[test]
fn help_tells_the_defaults() {
    let output = Command::new(env!("CARGO_BIN_EXE_mld"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for says in [
        "--config",
        "\"cli-\" and six random",
        "example.m-ld.org",
        "RUST_LOG",
        "shell",
    ] {
        assert!(help.contains(says), "{says}: {help}");
    }
}

/// With `--data`, the clone lives in a RocksDB directory: it resumes from there, and a second
/// process opening it meanwhile fails with 5034 "Clone data is locked".
#[cfg(feature = "rocksdb")]
#[test]
fn data_directory_resumes_and_is_locked_while_open() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("clone");
    let data = data.to_str().unwrap();
    let mut holder = Command::new(env!("CARGO_BIN_EXE_mld"))
        .args([
            "--alone",
            "--domain",
            "test.example.org",
            "--data",
            data,
            "--retain",
            "10",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = holder.stdin.take().unwrap();
    let mut output = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    output.read_line(&mut line).unwrap();
    assert!(line.contains("status"), "{line}");
    input
        .write_all(b"{\"@id\":\"fred\",\"name\":\"Fred\"}\n")
        .unwrap();
    input.flush().unwrap();
    line.clear();
    output.read_line(&mut line).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap(),
        json!({"ok": true, "request": 1})
    );

    // A second process is refused while the first holds the directory.
    let second = Command::new(env!("CARGO_BIN_EXE_mld"))
        .args(["--alone", "--domain", "test.example.org", "--data", data])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let refused: Value =
        serde_json::from_str(String::from_utf8(second.stdout).unwrap().trim()).unwrap();
    assert_eq!(refused["error"]["status"], json!(5034), "{refused}");

    drop(input);
    assert!(holder.wait().unwrap().success());
    // The directory keeps the id the clone was first started with.
    let id = std::fs::read_to_string(std::path::Path::new(data).join("mld-id")).unwrap();
    assert!(id.starts_with("cli-"), "{id}");

    // Once it has closed, the data is there for the next process.
    let mut next = Command::new(env!("CARGO_BIN_EXE_mld"))
        .args(["--alone", "--domain", "test.example.org", "--data", data])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    next.stdin
        .take()
        .unwrap()
        .write_all(b"{\"@describe\":\"fred\"}\n")
        .unwrap();
    let out = next.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[1],
        json!({"subjects": [{"@id": "fred", "name": "Fred"}], "request": 1})
    );
    let again = std::fs::read_to_string(std::path::Path::new(data).join("mld-id")).unwrap();
    assert_eq!(again, id, "the same clone");
}

//! Interoperation with other implementations, when they are installed: Mosquitto as the broker,
//! and m-ld-js 0.10 clones (node, driven through `tests/js/peer.js`) on the same domain as Rust
//! clones. A test whose tools are missing says so and passes without checking anything.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use m_ld::MeldClone;
use m_ld::core::store::MemoryStore;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::common::*;

/// A free loopback port (reserved, then released for the broker to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for_listener(port: u16) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing listens on {port}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Skips a test whose tools are missing, or fails it if `MLD_REQUIRE_INTEROP` is set (as
/// `cargo xtask test` sets it, having installed them).
fn skip(why: &str) {
    assert!(
        std::env::var_os("MLD_REQUIRE_INTEROP").is_none(),
        "{why}; MLD_REQUIRE_INTEROP is set (by `cargo xtask test`, which installs the interop \
         tools; `cargo xtask test --no-interop` leaves these tests out)"
    );
    eprintln!("SKIPPED: {why}");
}

// ---- Mosquitto ----

fn mosquitto_binary() -> Option<PathBuf> {
    [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// A Mosquitto process on a loopback port, with a temporary configuration.
struct Mosquitto {
    child: Child,
    _dir: TempDir,
}

impl Mosquitto {
    async fn start(binary: &Path, port: u16) -> Mosquitto {
        let dir = TempDir::new();
        let conf = dir.path.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .unwrap();
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        wait_for_listener(port).await;
        Mosquitto { child, _dir: dir }
    }

    async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// A directory removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "m-ld-mqtt-test-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_a_domain_through_mosquitto() {
    init_logging();
    let Some(binary) = mosquitto_binary() else {
        return skip("mosquitto is not installed (apt-get install mosquitto)");
    };
    let port = free_port();
    let broker = Mosquitto::start(&binary, port).await;
    let a = open(port, "a", true, MemoryStore::new()).await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let b_store = MemoryStore::new();
    let b = open(port, "b", false, b_store.clone()).await.unwrap();
    assert_eq!(
        b.get("fred").await.unwrap(),
        Some(json!({"@id": "fred", "name": "Fred"}))
    );
    b.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    // Restart b: it revs up.
    b.close().await.unwrap();
    a.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    let b = open(port, "b", false, b_store).await.unwrap();
    converged(&[&a, &b]).await;
    // Restart the broker: both reconnect and exchange what they wrote meanwhile.
    broker.stop().await;
    for clone in [&a, &b] {
        eventually("offline", || !clone.status().unwrap().online).await;
    }
    a.write(&json!({"@id": "fred", "age": 40})).await.unwrap();
    b.write(&json!({"@id": "betty", "name": "Betty"}))
        .await
        .unwrap();
    let broker = Mosquitto::start(&binary, port).await;
    let data = converged(&[&a, &b]).await;
    assert!(data.contains("Betty") && data.contains("40"), "{data}");
    a.close().await.unwrap();
    b.close().await.unwrap();
    broker.stop().await;
}

// ---- m-ld-js ----

/// Where m-ld-js 0.10.0 and its MQTT dependencies are installed, if they are.
fn js_modules() -> Option<PathBuf> {
    let modules = PathBuf::from(std::env::var_os("M_LD_JS_NODE_MODULES")?);
    let package = std::fs::read_to_string(modules.join("@m-ld/m-ld/package.json")).ok()?;
    let version = serde_json::from_str::<Value>(&package).ok()?["version"].clone();
    let complete = ["memory-level", "mqtt", "async-mqtt"]
        .iter()
        .all(|m| modules.join(m).exists());
    (version == json!("0.10.0") && complete).then_some(modules)
}

fn node_works() -> bool {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn js_unavailable() -> Option<&'static str> {
    if !node_works() {
        Some("node is not installed")
    } else if js_modules().is_none() {
        Some(
            "m-ld-js 0.10.0 is not installed: set M_LD_JS_NODE_MODULES to the folder that \
             `cargo xtask npm-install` prints",
        )
    } else {
        None
    }
}

/// A m-ld-js clone in a node process.
struct JsPeer {
    _child: Child,
    stdin: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
}

impl JsPeer {
    fn spawn(port: u16, id: &str, genesis: bool) -> JsPeer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/peer.js");
        let mut child = Command::new("node")
            .arg(script)
            .arg(port.to_string())
            .arg(DOMAIN)
            .arg(id)
            .arg(genesis.to_string())
            .env("NODE_PATH", js_modules().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let answers = BufReader::new(child.stdout.take().unwrap()).lines();
        JsPeer {
            _child: child,
            stdin,
            answers,
        }
    }

    async fn call(&mut self, cmd: &str, arg: Value) -> Value {
        let line = json!({"cmd": cmd, "arg": arg}).to_string() + "\n";
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
        loop {
            let line = tokio::time::timeout(PATIENCE, self.answers.next_line())
                .await
                .unwrap_or_else(|_| panic!("m-ld-js did not answer {cmd} in time"))
                .unwrap()
                .unwrap_or_else(|| panic!("m-ld-js exited during {cmd}"));
            let Some(answer) = line.strip_prefix("@@") else {
                continue;
            };
            let answer: Value = serde_json::from_str(answer).unwrap();
            if let Some(error) = answer.get("error") {
                panic!(
                    "m-ld-js failed {cmd}: {}",
                    error.as_str().unwrap_or_default()
                );
            }
            return answer["ok"].clone();
        }
    }

    async fn get(&mut self, ids: &[&str]) -> Value {
        normalize(self.call("get", json!(ids)).await)
    }
}

/// Subjects with multi-valued properties in a canonical order.
fn normalize(value: Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(normalize).collect();
            items.sort_by_key(|v| v.to_string());
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalize(v))).collect())
        }
        other => other,
    }
}

async fn rust_get(clone: &MeldClone, ids: &[&str]) -> Value {
    let mut subjects = serde_json::Map::new();
    for id in ids {
        let subject = clone.get(id).await.unwrap().unwrap_or(Value::Null);
        subjects.insert((*id).to_owned(), subject);
    }
    normalize(Value::Object(subjects))
}

/// Waits (bounded) until the Rust and JS clones describe `ids` alike, with every id present.
async fn agree(rust: &MeldClone, js: &mut JsPeer, ids: &[&str]) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (ours, theirs) = (rust_get(rust, ids).await, js.get(ids).await);
        let complete = ids.iter().all(|id| !ours[id].is_null());
        if complete && ours == theirs {
            return ours;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Rust and m-ld-js disagree:\nRust {ours:#}\nJS {theirs:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until the broker holds clone `id`'s presence record.
async fn present_on_broker(port: u16, id: &str) {
    let topic = format!("__presence/{DOMAIN}/{id}");
    let mut observer = RawClient::connect(port, "observer", &[&topic]).await;
    observer
        .next_where(|p| p.topic == topic && !p.payload.is_empty() && &p.payload[..] != b"-")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_clone_joins_a_rust_domain_and_both_converge() {
    let broker = broker();
    if let Some(why) = js_unavailable() {
        return skip(why);
    }
    let port = broker.port();
    let rust_store = MemoryStore::new();
    let rust = open(port, "rust", true, rust_store.clone()).await.unwrap();
    rust.write(&json!({"@id": "fred", "name": "Fred", "age": 40}))
        .await
        .unwrap();
    // Enough data for a snapshot of many items.
    let many: Vec<Value> = (0..250)
        .map(|n| json!({"@id": format!("s{n}"), "n": n, "label": format!("subject {n}")}))
        .collect();
    rust.write(&Value::Array(many)).await.unwrap();

    // The JS clone joins by a snapshot that the Rust clone serves.
    let mut js = JsPeer::spawn(port, "js", false);
    let status = js.call("open", json!(null)).await;
    assert_eq!(status["online"], json!(true), "{status}");
    agree(&rust, &mut js, &["fred", "s0", "s123", "s249"]).await;

    // A large operation (gzipped on the wire) from JS.
    let big: serde_json::Map<String, Value> = (0..40)
        .map(|n| {
            (
                format!("p{n}"),
                json!(format!("a long enough value number {n}")),
            )
        })
        .chain([("@id".to_owned(), json!("big"))])
        .collect();
    js.call("write", Value::Object(big)).await;
    agree(&rust, &mut js, &["big"]).await;

    // Live operations both ways, including a concurrent change to the same subject.
    js.call("write", json!({"@id": "wilma", "name": "Wilma"}))
        .await;
    rust.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    js.call(
        "write",
        json!({"@delete": {"@id": "fred", "age": 40}, "@insert": {"@id": "fred", "age": 41}}),
    )
    .await;
    rust.write(&json!({"@id": "fred", "height": 1.8}))
        .await
        .unwrap();
    let seen = agree(&rust, &mut js, &["fred", "wilma", "barney"]).await;
    assert_eq!(seen["fred"]["age"], json!(41), "{seen}");
    assert_eq!(seen["fred"]["height"], json!(1.8), "{seen}");

    // The JS clone restarts and revs up from the Rust clone.
    js.call("close", json!(null)).await;
    rust.write(&json!({"@id": "betty", "name": "Betty"}))
        .await
        .unwrap();
    js.call("open", json!(null)).await;
    agree(&rust, &mut js, &["fred", "wilma", "barney", "betty"]).await;

    // The Rust clone restarts and revs up from the JS clone.
    rust.close().await.unwrap();
    js.call("write", json!({"@id": "dino", "name": "Dino"}))
        .await;
    let rust = open(port, "rust", false, rust_store).await.unwrap();
    agree(
        &rust,
        &mut js,
        &["fred", "wilma", "barney", "betty", "dino"],
    )
    .await;

    js.call("close", json!(null)).await;
    rust.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_clone_joins_a_js_domain_and_both_converge() {
    let broker = broker();
    if let Some(why) = js_unavailable() {
        return skip(why);
    }
    let port = broker.port();
    let mut js = JsPeer::spawn(port, "jsgenesis", true);
    js.call("open", json!(null)).await;
    js.call(
        "write",
        json!({"@id": "fred", "name": "Fred", "married": true}),
    )
    .await;
    // Enough data for a snapshot of many items (m-ld-js sends 10 triples per item).
    let many: Vec<Value> = (0..120)
        .map(|n| json!({"@id": format!("s{n}"), "n": n}))
        .collect();
    js.call("write", json!({ "@insert": many })).await;
    // m-ld-js reports itself up to date before its presence record reaches the broker.
    present_on_broker(port, "jsgenesis").await;

    // The Rust clone joins by a snapshot that the JS clone serves.
    let rust = open(port, "rust", false, MemoryStore::new()).await.unwrap();
    agree(&rust, &mut js, &["fred", "s0", "s119"]).await;

    rust.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    js.call("write", json!({"@id": "barney", "name": "Barney"}))
        .await;
    rust.write(&json!({"@delete": {"@id": "fred", "married": true}}))
        .await
        .unwrap();
    let seen = agree(&rust, &mut js, &["fred", "wilma", "barney"]).await;
    assert_eq!(
        seen["fred"],
        json!({"@id": "fred", "name": "Fred"}),
        "{seen}"
    );

    js.call("close", json!(null)).await;
    rust.close().await.unwrap();
}

/// Numbers a Rust clone writes are the triples an m-ld-js clone writes for the same JSON, so that
/// a delete by value from m-ld-js removes them (exact ties in the canonical double, among others).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_clone_deletes_numbers_a_rust_clone_wrote() {
    let broker = broker();
    if let Some(why) = js_unavailable() {
        return skip(why);
    }
    let port = broker.port();
    let rust = open(port, "rust", true, MemoryStore::new()).await.unwrap();
    let mut js = JsPeer::spawn(port, "js", false);
    js.call("open", json!(null)).await;
    // Written as JSON text, as an app would send them.
    let numbers: Value = serde_json::from_str(
        r#"{"@id": "num", "label": "numbers", "tie": 1234567890123456.5,
            "other": 1125899906842624.5, "sum": 0.30000000000000004, "tiny": 5e-324,
            "big": 1e21, "zero": -0.0}"#,
    )
    .unwrap();
    rust.write(&numbers).await.unwrap();
    let seen = agree(&rust, &mut js, &["num"]).await;
    assert_eq!(seen["num"]["tie"], json!(1234567890123457u64), "{seen}");
    // m-ld-js deletes each value by the number it is given.
    let mut delete = numbers.clone();
    delete.as_object_mut().unwrap().remove("label");
    js.call("write", json!({ "@delete": delete })).await;
    let seen = agree(&rust, &mut js, &["num"]).await;
    assert_eq!(
        seen["num"],
        json!({"@id": "num", "label": "numbers"}),
        "{seen}"
    );
    js.call("close", json!(null)).await;
    rust.close().await.unwrap();
}

/// A Rust clone joins by snapshot from an m-ld-js collaborator that is slow to send its data
/// (thousands of subjects), with a network timeout shorter than that collaborator's pauses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_clone_joins_by_snapshot_from_a_slow_js_collaborator() {
    let broker = broker();
    if let Some(why) = js_unavailable() {
        return skip(why);
    }
    let port = broker.port();
    let mut js = JsPeer::spawn(port, "jsgenesis", true);
    js.call("open", json!(null)).await;
    for batch in 0..6 {
        let many: Vec<Value> = (0..500)
            .map(|n| {
                let n = batch * 500 + n;
                json!({"@id": format!("s{n}"), "n": n, "label": format!("subject {n}")})
            })
            .collect();
        js.call("write", json!({ "@insert": many })).await;
    }
    present_on_broker(port, "jsgenesis").await;
    let mut config = mqtt_config(port, "rust");
    config.network_timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let rust = open_with(config, false, MemoryStore::new()).await.unwrap();
    eprintln!("joined in {:?}", started.elapsed());
    agree(&rust, &mut js, &["s0", "s1500", "s2999"]).await;
    js.call("close", json!(null)).await;
    rust.close().await.unwrap();
}

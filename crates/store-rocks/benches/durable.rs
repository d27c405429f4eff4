//! Durable clones: the public json-rql API on a RocksDB store (feature `rocksdb`), release build,
//! journal administration on (the default: fusion, keep every entry), a `follow` subscriber
//! draining updates as an app would:
//!
//! - `durable/sequential_10k`: 10,000 sequential single-subject insert transactions
//!   `{"@id":"sN","name":"Name N","n":N}`, each in the write-ahead log before it returns
//!   (no fsync; target ≥ 20,000 tx/s);
//! - `durable/sequential_200_fsync`: the same, 200 of them, each synced to the device.
//!
//! Two figures are not timings, and are printed before the criterion runs:
//!
//! - the directory size holding 30,000 triples (15,000 such transactions) after journal
//!   administration and a full RocksDB compaction (target ≤ 2.2 MB), for the default journal
//!   and with a retention of 1,000 entries;
//! - the peak resident memory (`VmHWM`) of a process loading 100,000 triples in 100 json-rql
//!   transactions of 1,000 subjects, then reopening the store and reading them all back with one
//!   `@select` (measured in a child run of this binary, after each phase).
//!
//! Run with `cargo bench -p m-ld-store-rocks --bench durable`. `BENCH_JOURNAL` (a JSON object,
//! e.g. `{"adminDebounce": 0}`) replaces the timed clones' `journal` configuration. (It lives in this crate rather
//! than in `benches/`, whose other benchmarks pull in a dependency graph that makes cargo build
//! RocksDB's C++ a second time.)

// A benchmark harness: a failure should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use m_ld::{MeldClone, MeldConfig};
use m_ld_store_rocks::{RocksOptions, RocksStore};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// Set (to the data directory) in the child run that measures peak memory.
const RSS_CHILD: &str = "M_LD_BENCH_RSS_CHILD";

fn subject(n: u64) -> Value {
    json!({"@id": format!("s{n}"), "name": format!("Name {n}"), "n": n})
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn config(journal: Value) -> MeldConfig {
    MeldConfig::from_json(&json!({
        "@id": "bench", "@domain": "bench.m-ld.org", "genesis": true,
        "followBuffer": 1 << 16, "journal": journal
    }))
    .expect("config")
}

/// A new genesis clone on a RocksDB store at `path`, with a subscriber that drains (and
/// renders) every update.
async fn durable_clone(
    path: &Path,
    options: RocksOptions,
    journal: Value,
) -> MeldClone<RocksStore> {
    let store = RocksStore::open(path, options).expect("store");
    let clone = MeldClone::open(store, config(journal))
        .await
        .expect("clone");
    let mut follow = clone.follow().expect("follow");
    tokio::spawn(async move {
        while let Some(update) = follow.next().await {
            std::hint::black_box(update.expect("no lag in the benchmark"));
        }
    });
    clone
}

/// The time to write subjects `0..n` one transaction each into a new durable clone.
fn sequential(rt: &Runtime, n: u64, options: &RocksOptions) -> Duration {
    let dir = tempfile::tempdir().expect("temporary directory");
    rt.block_on(async {
        let journal = match std::env::var("BENCH_JOURNAL") {
            Ok(json) => serde_json::from_str(&json).expect("BENCH_JOURNAL is JSON"),
            Err(_) => json!({}),
        };
        let clone = durable_clone(&dir.path().join("clone"), options.clone(), journal).await;
        let requests: Vec<Value> = (0..n).map(subject).collect();
        let start = Instant::now();
        for request in &requests {
            clone.write(request).await.expect("write");
        }
        let elapsed = start.elapsed();
        clone.close().await.expect("close");
        elapsed
    })
}

fn writes(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("durable");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("sequential_10k", |b| {
        let options = RocksOptions::default();
        b.iter_custom(|iters| (0..iters).map(|_| sequential(&rt, 10_000, &options)).sum())
    });
    group.throughput(Throughput::Elements(200));
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("sequential_200_fsync", |b| {
        let options = RocksOptions::default().with_sync(true);
        b.iter_custom(|iters| (0..iters).map(|_| sequential(&rt, 200, &options)).sum())
    });
    group.finish();
}

/// Prints the directory size of 30,000 triples after compaction.
fn disk_sizes(rt: &Runtime) {
    for (label, journal) in [
        ("keep all entries (default)", json!({})),
        ("retain 1000 entries", json!({"retain": 1000})),
        (
            "retain 1000, no fusion",
            json!({"retain": 1000, "maxEntryFootprint": 0}),
        ),
    ] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("clone");
        let size = rt.block_on(async {
            let clone = durable_clone(&path, RocksOptions::default(), journal).await;
            for n in 0..15_000 {
                clone.write(&subject(n)).await.expect("write");
            }
            clone.close().await.expect("close");
            drop(clone);
            let store = RocksStore::open(&path, RocksOptions::default()).expect("reopen");
            let raw = store.disk_size().expect("size");
            store.compact().expect("compact");
            (raw, store.disk_size().expect("size"))
        });
        println!(
            "disk/30k_triples [{label}]: {:.3} MB after compaction ({:.3} MB before)",
            size.1 as f64 / 1e6,
            size.0 as f64 / 1e6
        );
    }
}

/// A kernel figure from `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Child role: loads 100,000 triples in 100 transactions of 1,000 subjects, reopens the store,
/// reads them all back, and prints its peak resident memory.
fn rss_child(path: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = RocksStore::open(path, RocksOptions::default()).expect("store");
        let clone = MeldClone::open(store, config(json!({}))).await.expect("clone");
        for tx in 0..100u64 {
            let subjects: Vec<Value> = (0..1_000u64)
                .map(|i| {
                    let n = tx * 1_000 + i;
                    json!({"@id": format!("s{n}"), "value": format!("value {n} of a modest literal")})
                })
                .collect();
            clone.write(&Value::Array(subjects)).await.expect("write");
        }
        clone.close().await.expect("close");
        drop(clone);
        println!("LOADED_KIB {}", status_kib("VmHWM"));
        let store = RocksStore::open(path, RocksOptions::default()).expect("reopen");
        let clone = MeldClone::open(store, config(json!({}))).await.expect("reopen clone");
        let rows = clone
            .read(&json!({"@select": ["?s", "?v"], "@where": {"@id": "?s", "value": "?v"}}))
            .await
            .expect("read");
        assert_eq!(rows.len(), 100_000);
        clone.close().await.expect("close");
    });
    println!("PEAK_KIB {}", status_kib("VmHWM"));
}

/// Runs [`rss_child`] in a child process and prints its peak.
fn peak_rss() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = std::process::Command::new(std::env::current_exe().expect("this binary"))
        .env(RSS_CHILD, dir.path().join("clone"))
        .output()
        .expect("child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let figure = |key: &str| -> f64 {
        let kib: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .expect("the child reports its peaks");
        kib as f64 / 1024.0
    };
    println!(
        "memory/100k_triples_in_100_tx: peak RSS {:.1} MiB after loading, {:.1} MiB after \
         reading all 100,000 back as json-rql rows",
        figure("LOADED_KIB"),
        figure("PEAK_KIB")
    );
}

fn main() {
    if let Some(path) = std::env::var_os(RSS_CHILD) {
        rss_child(Path::new(&path));
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    // The one-off figures only when benchmarking (not under `cargo test --benches`).
    if std::env::args().any(|a| a == "--bench") {
        disk_sizes(&runtime());
        peak_rss();
    }
    writes(&mut criterion);
    criterion.final_summary();
}

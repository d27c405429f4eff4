//! The anchor workloads of the m-ld engine, measured through the public json-rql API in a release
//! build, with the journal on and a `follow` subscriber draining updates, as an app would run:
//!
//! - `write/sequential_10k`: 10,000 sequential single-subject insert transactions
//!   `{"@id":"sN","name":"Name N","n":N}` (m-ld-js 0.10: ≈657 tx/s; target ≥ 50,000 tx/s);
//! - `write/one_tx_10k`: one transaction inserting 10,000 such subjects (m-ld-js: 3.5 s; target ≤ 50 ms);
//! - `read/describe_random`: one `@describe` of a random subject of 10,000 (m-ld-js: 0.39 ms p50;
//!   target ≤ 10 µs);
//! - `read/select_all_10k`: `@select ?s ?name ?n` over all 10,000 (m-ld-js: 5.1 s; target ≤ 20 ms).
//!
//! Run with `cargo bench -p m-ld-benches`.

// A benchmark harness: a failure should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::{followed_clone, runtime};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use m_ld::MeldClone;
use rand::Rng;
use serde_json::{Value, json};

const SUBJECTS: u64 = 10_000;

fn subject(n: u64) -> Value {
    json!({"@id": format!("s{n}"), "name": format!("Name {n}"), "n": n})
}

/// A clone holding the 10,000 subjects, written in one transaction.
async fn loaded_clone() -> MeldClone {
    let clone = followed_clone().await;
    let all: Vec<Value> = (0..SUBJECTS).map(subject).collect();
    clone.write(&Value::Array(all)).await.expect("load");
    clone
}

fn writes(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("write");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(SUBJECTS));
    group.bench_function("sequential_10k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += rt.block_on(async {
                    let clone = followed_clone().await;
                    let requests: Vec<Value> = (0..SUBJECTS).map(subject).collect();
                    let start = Instant::now();
                    for request in &requests {
                        clone.write(request).await.expect("write");
                    }
                    let elapsed = start.elapsed();
                    clone.close().await.expect("close");
                    elapsed
                });
            }
            total
        })
    });
    group.bench_function("one_tx_10k", |b| {
        b.iter_batched(
            || {
                let clone = rt.block_on(followed_clone());
                let all = Value::Array((0..SUBJECTS).map(subject).collect());
                (clone, all)
            },
            // Returning the clone lets criterion drop it outside the measurement.
            |(clone, all)| {
                rt.block_on(clone.write(&all)).expect("write");
                clone
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn reads(c: &mut Criterion) {
    let rt = runtime();
    let clone = rt.block_on(loaded_clone());
    let mut group = c.benchmark_group("read");
    group.bench_function("describe_random", |b| {
        let mut rng = rand::rng();
        b.iter_batched(
            || json!({"@describe": format!("s{}", rng.random_range(0..SUBJECTS))}),
            |request| {
                let found = rt.block_on(clone.read(&request)).expect("describe");
                assert_eq!(found.len(), 1);
                found
            },
            BatchSize::SmallInput,
        )
    });
    group.sample_size(20);
    group.bench_function("select_all_10k", |b| {
        let request = json!({
            "@select": ["?s", "?name", "?n"],
            "@where": {"@id": "?s", "name": "?name", "n": "?n"}
        });
        b.iter(|| {
            let rows = rt.block_on(clone.read(&request)).expect("select");
            assert_eq!(rows.len() as u64, SUBJECTS);
            rows
        })
    });
    group.finish();
}

criterion_group!(benches, writes, reads);
criterion_main!(benches);

//! Replication over MQTT (issue 4), two in-memory clones on an embedded broker on 127.0.0.1, with
//! the workloads of `replication/workloads.rs` (m-ld-js 0.10 on this kind of machine → target):
//!
//! - `replication/latency`: A write → B update over 1,000 sequential writes, p50/p99
//!   (4.44/29.7 ms → ≤ 0.5/2 ms). Percentiles do not fit criterion's model, so this part is a
//!   plain harness: it prints p50 and p99 of each of five runs and their medians;
//! - `replication/converge_10k`: B converging after A writes 10,000 subjects flat out (37 s → ≤ 1 s);
//! - `replication/snapshot_join_20k`: a new clone joining by snapshot of 20,000 triples
//!   (8.2 s → ≤ 0.2 s);
//! - `replication/revup_1k`: rev-up after missing 1,000 operations (1.37 s → ≤ 0.1 s).
//!
//! Run with `cargo bench -p m-ld-benches --bench replication [-- FILTER]`; for the side-by-side
//! comparison with m-ld-js, `cargo xtask bench-compare`. Without `--bench` (as `cargo test
//! --benches` runs it), each workload runs once at a tenth of its size, as a smoke test.

// A benchmark harness: a failure should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "../replication/workloads.rs"]
mod workloads;

use common::runtime;

use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use m_ld::mqtt::EmbeddedBroker;
use tokio::runtime::Runtime;
use workloads::{Bench, Sizes, median};

/// Latency runs whose percentiles are reported with their medians.
const LATENCY_RUNS: usize = 5;

fn latency(rt: &Runtime, port: u16, sizes: Sizes, runs: usize) {
    let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let figures = rt
            .block_on(Bench::new(port).run("latency", sizes))
            .expect("latency workload");
        let (p50, p99) = (figures[0].ms, figures[1].ms);
        println!(
            "replication/latency run {run}: p50 {p50:.3} ms, p99 {p99:.3} ms over {} writes",
            sizes.latency_writes
        );
        p50s.push(p50);
        p99s.push(p99);
    }
    println!(
        "replication/latency median of {runs}: p50 {:.3} ms, p99 {:.3} ms",
        median(&mut p50s),
        median(&mut p99s)
    );
}

/// A criterion benchmark timing one workload run per iteration (setup excluded).
fn timed(
    c: &mut Criterion,
    rt: &Runtime,
    port: u16,
    name: &str,
    workload: &'static str,
    sizes: Sizes,
) {
    let mut group = c.benchmark_group("replication");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let figures = rt
                    .block_on(Bench::new(port).run(workload, sizes))
                    .expect("workload");
                total += Duration::from_secs_f64(figures[0].ms / 1e3);
            }
            total
        });
    });
    group.finish();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let sizes = if benching { Sizes::FULL } else { Sizes::QUICK };

    let rt = runtime();
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse().unwrap()).expect("broker");
    let port = broker.port();
    if wanted("replication/latency") {
        latency(&rt, port, sizes, if benching { LATENCY_RUNS } else { 1 });
    }
    let mut c = Criterion::default().configure_from_args();
    for (name, workload) in [
        ("converge_10k", "converge"),
        ("snapshot_join_20k", "snapshot"),
        ("revup_1k", "revup"),
    ] {
        timed(&mut c, &rt, port, name, workload, sizes);
    }
    c.final_summary();
    broker.stop();
}

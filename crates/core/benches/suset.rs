//! Release-mode micro-benchmarks of the core local write and read paths, without json-rql:
//! the triples are what the facade's `workload` benchmark writes (`{"@id":"sN","name":"Name N",
//! "n":N}`), built directly.
//!
//! The `fusion` group fuses a single writer's history of operations (each inserting a subject
//! and deleting the previous one's name, so half the pairs cancel): all at once (`fuse_all`, as
//! journal administration and snapshots do) and one step at a time (`Operation::fuse`).
//!
//! Run with `cargo bench -p m-ld-core --bench suset`.

#![allow(clippy::expect_used, reason = "a benchmark stops at the first failure")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use m_ld_core::clock::TreeClock;
use m_ld_core::operation::{Operation, fuse_all};
use m_ld_core::store::MemoryStore;
use m_ld_core::suset::{Patch, SuSet};
use oxrdf::vocab::xsd;
use oxrdf::{Literal, NamedNode, Triple};

const DOMAIN: &str = "bench.m-ld.org";
const SUBJECTS: u64 = 10_000;

fn subject_iri(n: u64) -> NamedNode {
    NamedNode::new_unchecked(format!("http://{DOMAIN}/s{n}"))
}

fn subject(n: u64) -> Vec<Triple> {
    let s = subject_iri(n);
    vec![
        Triple::new(
            s.clone(),
            NamedNode::new_unchecked(format!("http://{DOMAIN}/#name")),
            Literal::new_simple_literal(format!("Name {n}")),
        ),
        Triple::new(
            s,
            NamedNode::new_unchecked(format!("http://{DOMAIN}/#n")),
            Literal::new_typed_literal(n.to_string(), xsd::INTEGER),
        ),
    ]
}

fn genesis() -> SuSet<MemoryStore> {
    SuSet::genesis(MemoryStore::new(), DOMAIN).expect("genesis")
}

fn insert(inserts: Vec<Triple>) -> Patch {
    Patch {
        deletes: vec![],
        inserts,
    }
}

fn all() -> Vec<Triple> {
    (0..SUBJECTS).flat_map(subject).collect()
}

fn writes(c: &mut Criterion) {
    let mut group = c.benchmark_group("transact");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(SUBJECTS));
    group.bench_function("one_tx_10k", |b| {
        b.iter_batched(
            || (genesis(), insert(all())),
            |(mut suset, patch)| {
                black_box(suset.transact(patch).expect("transact"));
                suset
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("sequential_10k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut suset = genesis();
                let patches: Vec<Patch> = (0..SUBJECTS).map(|n| insert(subject(n))).collect();
                let start = Instant::now();
                for patch in patches {
                    black_box(suset.transact(patch).expect("transact"));
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

fn reads(c: &mut Criterion) {
    let mut suset = genesis();
    suset.transact(insert(all())).expect("load");
    let state = suset.state();
    let mut group = c.benchmark_group("state");
    group.bench_function("describe", |b| {
        let mut n = 0u64;
        b.iter_batched(
            || {
                n = (n + 7919) % SUBJECTS;
                subject_iri(n)
            },
            |s| {
                let found: Vec<Triple> = state
                    .triples(Some(&s), None, None)
                    .collect::<Result<_, _>>()
                    .expect("describe");
                assert_eq!(found.len(), 2);
                found
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("scan_predicate_10k", |b| {
        let p = NamedNode::new_unchecked(format!("http://{DOMAIN}/#name"));
        b.iter(|| {
            let found = state.triples(None, Some(&p), None).count();
            assert_eq!(found as u64, SUBJECTS);
        })
    });
    group.finish();
}

/// A single writer's contiguous history of `n` operations.
fn history(n: u64) -> Vec<Operation> {
    let mut time = TreeClock::genesis();
    let mut ops: Vec<Operation> = Vec::new();
    for i in 0..n {
        time = time.ticked();
        let tid = time.hash();
        let deletes = match ops.last() {
            Some(prev) => vec![(subject(i - 1)[0].clone(), vec![prev.tid()])],
            None => vec![],
        };
        ops.push(Operation {
            from: time.ticks(),
            time: time.clone(),
            deletes,
            inserts: subject(i).into_iter().map(|t| (t, vec![tid])).collect(),
            principal: None,
            agreed: None,
        });
    }
    ops
}

fn fusion(c: &mut Criterion) {
    const OPS: u64 = 1_000;
    let ops = history(OPS);
    let mut group = c.benchmark_group("fusion");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(OPS));
    group.bench_function("fuse_all_1k", |b| {
        b.iter_batched(
            || ops.clone(),
            |ops| black_box(fuse_all(ops).expect("fuse")),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("pairwise_1k", |b| {
        b.iter(|| {
            let mut fused = ops[0].clone();
            for op in &ops[1..] {
                fused = fused.fuse(op).expect("fuse");
            }
            black_box(fused)
        })
    });
    group.finish();
}

criterion_group!(benches, writes, reads, fusion);
criterion_main!(benches);

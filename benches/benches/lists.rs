//! Lists (`http://m-ld.org/RdfLseq`) of 10,000 items, through the public json-rql API in a release
//! build, with a `follow` subscriber draining updates:
//!
//! - `lists/create_10k`: one transaction creating a list of 10,000 items;
//! - `lists/insert_random_10k`: one insert at a random index of a list of about 10,000 items;
//! - `lists/describe_10k`: `@describe` of the list, its items in order.
//!
//! Run with `cargo bench -p m-ld-benches --bench lists`.

// A benchmark harness: a failure should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::{followed_clone, runtime};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use m_ld::MeldClone;
use rand::Rng;
use serde_json::{Value, json};

const ITEMS: usize = 10_000;

fn items() -> Value {
    Value::Array((0..ITEMS).map(|i| json!(format!("item {i}"))).collect())
}

async fn list_clone() -> MeldClone {
    let clone = followed_clone().await;
    clone
        .write(&json!({"@id": "shopping", "@list": items()}))
        .await
        .expect("list");
    clone
}

fn lists(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("lists");
    group.sample_size(10);
    group.bench_function("create_10k", |b| {
        b.iter_batched(
            || rt.block_on(followed_clone()),
            |clone| {
                rt.block_on(clone.write(&json!({"@id": "shopping", "@list": items()})))
                    .expect("create")
            },
            BatchSize::PerIteration,
        );
    });
    let clone = rt.block_on(list_clone());
    let mut rng = rand::rng();
    let mut n = 0u64;
    group.sample_size(50);
    group.bench_function("insert_random_10k", |b| {
        b.iter(|| {
            let at = rng.random_range(0..ITEMS);
            n += 1;
            rt.block_on(
                clone.write(
                    &json!({"@id": "shopping", "@list": {at.to_string(): format!("new {n}")}}),
                ),
            )
            .expect("insert")
        });
    });
    group.bench_function("describe_10k", |b| {
        b.iter(|| {
            let list = rt
                .block_on(clone.read(&json!({"@describe": "shopping"})))
                .expect("describe");
            assert!(
                list[0]["@list"]
                    .as_array()
                    .is_some_and(|l| l.len() >= ITEMS)
            );
            list
        });
    });
    group.finish();
}

criterion_group!(benches, lists);
criterion_main!(benches);

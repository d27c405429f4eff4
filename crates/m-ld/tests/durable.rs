//! Durable clones on RocksDB through the facade (feature `rocksdb`): a journal retention keeps
//! the clone data directory bounded under a long write load, where keeping the whole journal
//! grows it; a locked directory is m-ld status 5034; a clone resumes from its directory.
//!
//! Run with `cargo test -p m-ld --features rocksdb --test durable -- --nocapture` to see the
//! directory sizes.

#![cfg(feature = "rocksdb")]
// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use m_ld::store_rocks::{RocksOptions, RocksStore};
use m_ld::{MeldClone, MeldConfig, MeldError};
use oxrdf::{Literal, NamedNode, Triple};
use serde_json::{Value, json};

const SUBJECTS: u64 = 100;

/// A genesis clone keeping `retain` journal entries (all if `None`), fusing contiguous entries
/// up to `footprint` bytes (not at all if 0).
fn config(retain: Option<u64>, footprint: u64) -> MeldConfig {
    MeldConfig::from_json(&json!({
        "@id": "durable", "@domain": "durable.m-ld.org", "genesis": true,
        "journal": {"retain": retain, "maxEntryFootprint": footprint}
    }))
    .unwrap()
}

/// One size sample of the directory: after `writes` writes, as RocksDB left it (`raw`), and
/// after a flush and full compaction (`compacted`, the live data).
#[derive(Debug, Clone, Copy)]
struct Sample {
    writes: u64,
    raw: u64,
    compacted: u64,
}

/// Overwrites one property of `SUBJECTS` subjects round-robin (each write deletes the value
/// written `SUBJECTS` writes before), `writes` times in all, sampling the directory size every
/// `every` writes. The data stays the same size throughout.
async fn overwrite_load(path: &Path, config: MeldConfig, writes: u64, every: u64) -> Vec<Sample> {
    let store = RocksStore::open(path, RocksOptions::default()).unwrap();
    let clone = MeldClone::open(store.clone(), config).await.unwrap();
    let triple = |i: u64| {
        Triple::new(
            NamedNode::new_unchecked(format!("http://durable.m-ld.org/s{}", i % SUBJECTS)),
            NamedNode::new_unchecked("http://durable.m-ld.org/#n"),
            Literal::from(i),
        )
    };
    let mut samples = Vec::new();
    for i in 0..writes {
        // The quad API, so that the load measures storage rather than json-rql translation.
        let deletes = match i.checked_sub(SUBJECTS) {
            Some(old) => vec![triple(old)],
            None => vec![],
        };
        clone
            .update_triples(deletes, vec![triple(i)])
            .await
            .unwrap();
        if (i + 1) % every == 0 {
            let raw = store.disk_size().unwrap();
            store.compact().unwrap();
            let compacted = store.disk_size().unwrap();
            samples.push(Sample {
                writes: i + 1,
                raw,
                compacted,
            });
        }
    }
    // The data is one value per subject: the latest.
    let id = format!("s{}", (writes - 1) % SUBJECTS);
    let last = clone.get(&id).await.unwrap();
    assert_eq!(last, Some(json!({"@id": id, "n": writes - 1})));
    clone.close().await.unwrap();
    samples
}

fn report(label: &str, samples: &[Sample]) {
    for s in samples {
        eprintln!(
            "{label}: {:>6} writes: {:>5} KiB as left, {:>5} KiB compacted",
            s.writes,
            s.raw / 1024,
            s.compacted / 1024
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_bounds_the_directory_under_a_long_write_load() {
    let dir = tempfile::tempdir().unwrap();
    // Fusion off, so that only the retention bounds the journal.
    let retained = overwrite_load(
        &dir.path().join("retain"),
        config(Some(1000), 0),
        50_000,
        5_000,
    )
    .await;
    report("retain 1000", &retained);
    // The journal reaches its retention within the first sample: from then on the live data
    // stays put.
    let first = retained[0].compacted;
    let peak = retained.iter().map(|s| s.compacted).max().unwrap();
    assert!(
        peak <= first + first / 4 + 16 * 1024,
        "compacted size grew from {first} to {peak} bytes"
    );
    // What RocksDB leaves between its own compactions stays bounded too: the write buffers'
    // worth of log and level-0 tables above the live data.
    let raw_peak = retained.iter().map(|s| s.raw).max().unwrap();
    assert!(raw_peak <= 32 << 20, "directory reached {raw_peak} bytes");

    // The control: keeping the whole journal, the same load grows the directory.
    let all = overwrite_load(&dir.path().join("all"), config(None, 0), 20_000, 5_000).await;
    report("retain all ", &all);
    let (at_5k, at_20k) = (all[0].compacted, all[3].compacted);
    assert!(
        at_20k > at_5k * 2,
        "without retention {at_5k} → {at_20k} bytes"
    );
    assert!(
        at_20k > peak * 2,
        "retention keeps far less than the journal"
    );

    // Fusion on (the default) with the retention: overwrites cancel out inside fusions.
    let fused = overwrite_load(
        &dir.path().join("fused"),
        config(Some(1000), 10_000),
        20_000,
        5_000,
    )
    .await;
    report("retain 1000, fused", &fused);
    let fused_peak = fused.iter().map(|s| s.compacted).max().unwrap();
    assert!(
        fused_peak <= peak,
        "fusion grows nothing: {fused_peak} > {peak} bytes"
    );
}

#[tokio::test]
async fn a_locked_directory_is_status_5034_and_data_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clone");
    let store = RocksStore::open(&path, RocksOptions::default()).unwrap();
    let clone = MeldClone::open(store, config(Some(10), 10_000))
        .await
        .unwrap();
    clone
        .write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let locked = MeldError::from(RocksStore::open(&path, RocksOptions::default()).unwrap_err());
    assert_eq!(locked.status(), 5034);
    assert_eq!(locked.to_json()["status"], json!(5034));
    assert!(
        locked.to_string().contains("Clone data is locked"),
        "{locked}"
    );
    // Other storage failures stay internal errors.
    let other = MeldError::Core(m_ld::core::CoreError::Store("disk on fire".into()));
    assert_eq!(other.status(), 5000);

    clone.close().await.unwrap();
    drop(clone);
    let store = RocksStore::open(&path, RocksOptions::default()).unwrap();
    let clone = MeldClone::open(store, config(Some(10), 10_000))
        .await
        .unwrap();
    let fred: Option<Value> = clone.get("fred").await.unwrap();
    assert_eq!(fred, Some(json!({"@id": "fred", "name": "Fred"})));
}

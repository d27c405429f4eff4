//! The four replication workloads of issue 4, defined once for the `replication` bench and for
//! the `replication` example runner that `cargo xtask bench-compare` drives (and that
//! `benches/js/bench.js` mirrors for m-ld-js):
//!
//! - `latency`: clone A writes one subject, and the time until clone B's `follow` delivers it is
//!   one sample; 1,000 such writes in sequence, reported as p50 and p99;
//! - `converge`: A writes 10,000 single-subject transactions flat out; the time from the first
//!   write until B has applied all of them;
//! - `snapshot`: A holds 20,000 triples (10,000 subjects of two properties); the time for a new
//!   clone to open, join by snapshot and hold the last subject;
//! - `revup`: B closes, A writes 1,000 single-subject transactions, B reopens on its store; the
//!   time from reopening until B is up to date and holds the last one.
//!
//! Every clone shares a fresh domain through an MQTT broker on 127.0.0.1, on an in-memory store.
//! Setup is never timed. This module measures; it does not judge (no targets, no assertions
//! beyond the data having arrived).

// Shared by the `replication` bench and example, each of which uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use m_ld::core::store::MemoryStore;
use m_ld::mqtt::{MqttConfig, MqttRemotes};
use m_ld::{MeldClone, MeldConfig};
use serde_json::{Value, json};

/// A workload failure: a clone error or a wait that ran out of patience.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// How long any one wait for replication lasts before the workload fails.
const PATIENCE: Duration = Duration::from_secs(120);

/// How often the joining or reviving clone is checked for the data.
const POLL: Duration = Duration::from_millis(1);

/// Subjects per transaction when loading the snapshot workload's data.
const LOAD_BATCH: u64 = 1_000;

/// The workload names, in report order.
pub const WORKLOADS: [&str; 4] = ["latency", "converge", "snapshot", "revup"];

/// The sizes of the four workloads.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Sequential writes timed one by one (`latency`).
    pub latency_writes: u64,
    /// Transactions written flat out (`converge`).
    pub converge_subjects: u64,
    /// Subjects (two triples each) held by the snapshot's source (`snapshot`).
    pub snapshot_subjects: u64,
    /// Transactions the reviving clone missed (`revup`).
    pub revup_ops: u64,
}

impl Sizes {
    /// The sizes the issue names.
    pub const FULL: Sizes = Sizes {
        latency_writes: 1_000,
        converge_subjects: 10_000,
        snapshot_subjects: 10_000,
        revup_ops: 1_000,
    };

    /// A tenth of [`Sizes::FULL`], for smoke runs.
    pub const QUICK: Sizes = Sizes {
        latency_writes: 100,
        converge_subjects: 1_000,
        snapshot_subjects: 1_000,
        revup_ops: 100,
    };
}

/// One measured figure of a run, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// `latency_p50`, `latency_p99`, `converge`, `snapshot` or `revup`.
    pub metric: &'static str,
    /// Milliseconds.
    pub ms: f64,
}

impl Figure {
    fn new(metric: &'static str, duration: Duration) -> Figure {
        Figure {
            metric,
            ms: duration.as_secs_f64() * 1e3,
        }
    }

    /// The JSON line the runners print: `{"engine","metric","ms"}`.
    pub fn to_json(&self, engine: &str) -> Value {
        json!({"engine": engine, "metric": self.metric, "ms": self.ms})
    }
}

/// The subject written by every workload: two triples.
pub fn subject(n: u64) -> Value {
    json!({"@id": format!("s{n}"), "name": format!("Name {n}"), "n": n})
}

/// A broker address and a fresh domain on it for each workload run.
#[derive(Debug, Clone)]
pub struct Bench {
    port: u16,
    domain: String,
}

impl Bench {
    /// Workloads on the MQTT broker at `127.0.0.1:port`, in a new domain.
    pub fn new(port: u16) -> Bench {
        Bench {
            port,
            domain: format!("r{:016x}.bench.m-ld.org", rand::random::<u64>()),
        }
    }

    async fn open(
        &self,
        id: &str,
        genesis: bool,
        store: MemoryStore,
    ) -> Result<MeldClone, BenchError> {
        let remotes = Arc::new(MqttRemotes::new(MqttConfig::new(
            "127.0.0.1",
            self.port,
            &self.domain,
            id,
        ))?);
        let config = MeldConfig {
            // B must not lag behind 10,000 flat-out updates.
            follow_buffer: 1 << 16,
            ..MeldConfig::new(id, &self.domain, genesis)
        };
        Ok(MeldClone::open_with_remotes(store, remotes, config).await?)
    }

    /// Runs the named workload once; `latency` gives two figures, the others one.
    pub async fn run(self, workload: &str, sizes: Sizes) -> Result<Vec<Figure>, BenchError> {
        match workload {
            "latency" => {
                let mut samples = self.latency(sizes.latency_writes).await?;
                samples.sort_unstable();
                Ok(vec![
                    Figure::new("latency_p50", percentile(&samples, 50)),
                    Figure::new("latency_p99", percentile(&samples, 99)),
                ])
            }
            "converge" => Ok(vec![Figure::new(
                "converge",
                self.converge(sizes.converge_subjects).await?,
            )]),
            "snapshot" => Ok(vec![Figure::new(
                "snapshot",
                self.snapshot(sizes.snapshot_subjects).await?,
            )]),
            "revup" => Ok(vec![Figure::new(
                "revup",
                self.revup(sizes.revup_ops).await?,
            )]),
            other => Err(format!("unknown workload {other:?}; one of {WORKLOADS:?}").into()),
        }
    }

    /// One sample per write: from A's write call until B's follow delivers that subject.
    pub async fn latency(&self, writes: u64) -> Result<Vec<Duration>, BenchError> {
        let a = self.open("a", true, MemoryStore::new()).await?;
        let b = self.open("b", false, MemoryStore::new()).await?;
        settled(&b).await?;
        let mut follow = b.follow()?;
        let mut samples = Vec::with_capacity(writes as usize);
        for n in 0..writes {
            let request = subject(n);
            let start = Instant::now();
            a.write(&request).await?;
            loop {
                let update = tokio::time::timeout(PATIENCE, follow.next())
                    .await
                    .map_err(|_| format!("B did not see write {n}"))?
                    .ok_or("B's follow ended")??;
                if update.insert.iter().any(|s| s["@id"] == request["@id"]) {
                    break;
                }
            }
            samples.push(start.elapsed());
        }
        a.close().await?;
        b.close().await?;
        Ok(samples)
    }

    /// From A's first write until B's follow has delivered every triple of every write.
    pub async fn converge(&self, subjects: u64) -> Result<Duration, BenchError> {
        let a = self.open("a", true, MemoryStore::new()).await?;
        let b = self.open("b", false, MemoryStore::new()).await?;
        settled(&b).await?;
        let mut follow = b.follow()?;
        let expected = 2 * subjects as usize;
        let counter = tokio::spawn(async move {
            let mut seen = 0;
            while seen < expected {
                match follow.next().await {
                    Some(Ok(update)) => seen += update.inserted_triples.len(),
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Err("B's follow ended".to_owned()),
                }
            }
            Ok(Instant::now())
        });
        let requests: Vec<Value> = (0..subjects).map(subject).collect();
        let start = Instant::now();
        for request in &requests {
            a.write(request).await?;
        }
        let done = tokio::time::timeout(PATIENCE, counter)
            .await
            .map_err(|_| "B did not converge in time")???;
        let elapsed = done - start;
        a.close().await?;
        b.close().await?;
        Ok(elapsed)
    }

    /// From a new clone's open call until it is up to date and holds A's last subject.
    pub async fn snapshot(&self, subjects: u64) -> Result<Duration, BenchError> {
        let a = self.open("a", true, MemoryStore::new()).await?;
        let mut next = 0;
        while next < subjects {
            let end = (next + LOAD_BATCH).min(subjects);
            a.write(&Value::Array((next..end).map(subject).collect()))
                .await?;
            next = end;
        }
        let last = format!("s{}", subjects - 1);
        let start = Instant::now();
        let b = self.open("b", false, MemoryStore::new()).await?;
        up_to_date(&b, &last).await?;
        let elapsed = start.elapsed();
        a.close().await?;
        b.close().await?;
        Ok(elapsed)
    }

    /// From B's reopening on its store until it is up to date and holds A's last subject.
    pub async fn revup(&self, ops: u64) -> Result<Duration, BenchError> {
        let a = self.open("a", true, MemoryStore::new()).await?;
        let b_store = MemoryStore::new();
        let b = self.open("b", false, b_store.clone()).await?;
        a.write(&json!({"@id": "start", "name": "Start"})).await?;
        up_to_date(&b, "start").await?;
        b.close().await?;
        for n in 0..ops {
            a.write(&subject(n)).await?;
        }
        let last = format!("s{}", ops - 1);
        let start = Instant::now();
        let b = self.open("b", false, b_store).await?;
        up_to_date(&b, &last).await?;
        let elapsed = start.elapsed();
        a.close().await?;
        b.close().await?;
        Ok(elapsed)
    }
}

/// Waits (bounded) until `clone` is not outdated.
async fn settled(clone: &MeldClone) -> Result<(), BenchError> {
    let deadline = Instant::now() + PATIENCE;
    while clone.status()?.outdated {
        if Instant::now() > deadline {
            return Err(format!("{} stayed outdated", clone.config().id).into());
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// Waits (bounded) until `clone` is not outdated and holds subject `id`.
async fn up_to_date(clone: &MeldClone, id: &str) -> Result<(), BenchError> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if !clone.status()?.outdated && clone.get(id).await?.is_some() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{} never held {id}", clone.config().id).into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The `p`th percentile (nearest rank) of sorted samples.
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

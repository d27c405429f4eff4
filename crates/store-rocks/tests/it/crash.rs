//! `kill -9` durability: a child process commits SU-Set transactions on a RocksStore and reports
//! each one as it is acknowledged; the parent kills it with `SIGKILL` at random moments (during
//! start-up and recovery too), reopens the store and checks that every acknowledged transaction
//! is there and that no transaction is half-applied. Rounds and seed can be set with
//! `M_LD_CRASH_ROUNDS` and `M_LD_CRASH_SEED`.

use std::collections::HashSet;
use std::path::Path;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use m_ld_core::CoreError;
use m_ld_core::suset::{Patch, SuSet};
use m_ld_store_rocks::{RocksOptions, RocksStore};
use oxrdf::Triple;

use crate::child::{Child, say};
use crate::common::{CloneDir, triple};

const DOMAIN: &str = "crash.m-ld.org";
/// Triples inserted by each transaction, besides its "latest" marker.
const TRIPLES_PER_TXN: u64 = 6;
const LIMIT: Duration = Duration::from_secs(120);

/// Transaction `n` inserts its triples and a "latest" marker, and deletes transaction
/// `n - 1`'s marker: a half-applied transaction shows as missing triples or two markers.
fn patch(n: u64) -> Patch {
    let subject = format!("t{n}");
    let mut inserts: Vec<Triple> = (1..=TRIPLES_PER_TXN)
        .map(|j| triple(&subject, &format!("p{j}"), &n.to_string()))
        .collect();
    inserts.push(marker(n));
    let deletes = if n > 1 { vec![marker(n - 1)] } else { vec![] };
    Patch { deletes, inserts }
}

fn marker(n: u64) -> Triple {
    triple(&format!("t{n}"), "latest", "true")
}

/// The graph after transactions `1..=ticks`.
fn expected(ticks: u64) -> HashSet<Triple> {
    let mut all = HashSet::new();
    for n in 1..=ticks {
        let p = patch(n);
        for t in &p.deletes {
            all.remove(t);
        }
        all.extend(p.inserts);
    }
    all
}

/// Child role: opens (or creates) the clone state, reports `READY`, then commits transaction
/// after transaction, reporting `ACK <ticks>` as each `transact` returns, until killed.
pub fn writer(dir: &Path, sync: bool) {
    let store =
        RocksStore::open(dir, RocksOptions::default().with_sync(sync)).expect("child opens store");
    let mut suset = match SuSet::open(store.clone()).expect("child opens state") {
        Some(suset) => suset,
        None => SuSet::genesis(store, DOMAIN).expect("child creates state"),
    };
    say("READY");
    // Bounded, in case the parent never kills us: it does so within milliseconds.
    for _ in 0..1_000_000 {
        let n = suset.clock().ticks() + 1;
        suset.transact(patch(n)).expect("child transacts");
        say(&format!("ACK {n}"));
    }
}

/// Reopens the state and checks it against `acked`; returns the ticks found.
fn verify(dir: &Path, acked: u64, round: usize) -> u64 {
    let store = RocksStore::open(dir, RocksOptions::default())
        .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
    let Some(suset) = SuSet::open(store).unwrap() else {
        assert_eq!(acked, 0, "round {round}: acknowledged writes but no state");
        return 0;
    };
    let ticks = suset.clock().ticks();
    assert!(
        ticks >= acked,
        "round {round}: acknowledged transaction lost: acked {acked}, found {ticks}"
    );
    let state = suset.state();
    let found: HashSet<Triple> = state
        .triples(None, None, None)
        .collect::<Result<_, CoreError>>()
        .unwrap();
    assert_eq!(
        found.len() as u64,
        state.len(),
        "round {round}: triple count"
    );
    assert!(
        found == expected(ticks),
        "round {round}: graph is not the result of transactions 1..={ticks}"
    );
    let journal: Vec<u64> = suset.journal().unwrap().iter().map(|e| e.tick).collect();
    assert_eq!(
        journal,
        (1..=ticks).collect::<Vec<_>>(),
        "round {round}: journal"
    );
    ticks
}

/// SplitMix64: enough randomness to pick kill moments, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn acks(messages: &[String]) -> Option<u64> {
    messages
        .iter()
        .filter_map(|m| m.strip_prefix("ACK ")?.parse::<u64>().ok())
        .max()
}

fn kill_repeatedly(role: &str, default_rounds: u64) {
    let rounds = env_u64("M_LD_CRASH_ROUNDS").unwrap_or(default_rounds) as usize;
    let seed = env_u64("M_LD_CRASH_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    eprintln!("{role}: {rounds} rounds, M_LD_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = CloneDir::new();
    let mut acked = 0;
    let mut found = 0;
    let mut killed_while_writing = 0;
    for round in 0..rounds {
        let child = Child::spawn(role, dir.path());
        let messages = match rng.below(5) {
            // Any moment: during start-up, recovery or writing (never in the first round, which
            // makes sure that something is acknowledged).
            0 if round > 0 => {
                thread::sleep(Duration::from_micros(rng.below(30_000)));
                child.kill()
            }
            // Soon after start-up: the first writes after a recovery.
            1 | 2 if round > 0 => {
                let (_, mut seen) = child.wait_for("READY", LIMIT);
                thread::sleep(Duration::from_micros(rng.below(8_000)));
                seen.extend(child.kill());
                seen
            }
            // While writing steadily.
            _ => {
                let (first, mut seen) = child.wait_for("ACK ", LIMIT);
                seen.push(first);
                thread::sleep(Duration::from_micros(rng.below(8_000)));
                seen.extend(child.kill());
                seen
            }
        };
        if let Some(last) = acks(&messages) {
            assert!(
                last > acked,
                "round {round}: child acknowledged {last} again"
            );
            acked = last;
            killed_while_writing += 1;
        }
        found = verify(dir.path(), acked, round);
    }
    eprintln!(
        "{role}: {acked} transactions acknowledged, {found} found, \
         {killed_while_writing}/{rounds} kills while writing"
    );
    assert!(found >= acked);
    assert!(acked > 0, "the child never acknowledged a transaction");
}

#[test]
fn kill_9_never_loses_an_acknowledged_transaction() {
    kill_repeatedly("crash-writer", 50);
}

#[test]
fn kill_9_with_synced_writes_never_loses_an_acknowledged_transaction() {
    kill_repeatedly("crash-writer-sync", 10);
}

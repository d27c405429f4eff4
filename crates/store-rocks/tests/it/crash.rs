//! `kill -9` durability: a child process commits SU-Set transactions on a RocksStore and reports
//! each one as it is acknowledged; the parent kills it with `SIGKILL` at random moments (during
//! start-up and recovery too), reopens the store and checks that every acknowledged transaction
//! is there and that no transaction is half-applied. One writer also administers its journal
//! (fusion and truncation) between transactions, so kills land inside compactions too. Rounds and
//! seed can be set with `M_LD_CRASH_ROUNDS` and `M_LD_CRASH_SEED`.

use std::collections::HashSet;
use std::path::Path;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use m_ld_core::CoreError;
use m_ld_core::suset::{JournalAdmin, Patch, Retention, SuSet};
use m_ld_store_rocks::{RocksOptions, RocksStore};
use oxrdf::Triple;

use crate::child::{Child, say};
use crate::common::{CloneDir, triple};

const DOMAIN: &str = "crash.m-ld.org";
/// Triples inserted by each transaction, besides its "latest" marker.
const TRIPLES_PER_TXN: u64 = 6;
const LIMIT: Duration = Duration::from_secs(120);
/// The administering writer compacts its journal after every this many transactions.
const ADMIN_EVERY: u64 = 3;
/// Its journal administration: small fusions, a short retention.
const ADMIN: JournalAdmin = JournalAdmin {
    retention: Retention::Entries(8),
    max_entry_footprint: 600,
};

/// How a child writer behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Commits transactions, nothing else.
    Plain,
    /// Commits with fsync per transaction.
    Synced,
    /// Commits, and administers its journal every [`ADMIN_EVERY`] transactions.
    Administering,
}

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
pub fn writer(dir: &Path, kind: Writer) {
    let options = RocksOptions::default().with_sync(kind == Writer::Synced);
    let store = RocksStore::open(dir, options).expect("child opens store");
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
        if kind == Writer::Administering && n % ADMIN_EVERY == 0 {
            say("COMPACT");
            suset.compact_journal(&ADMIN).expect("child compacts");
            say("COMPACTED");
        }
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
    verify_journal(&suset, ticks, round);
    ticks
}

/// The journal holds this single-writer clone's operations from just after its start up to
/// `ticks`, each keyed by its last tick, contiguous (fused entries included), and each entry
/// readable by its TID.
fn verify_journal(suset: &SuSet<RocksStore>, ticks: u64, round: usize) {
    let journal = suset.journal().unwrap();
    let start = suset.journal_start();
    let mut next_from = start + 1;
    for entry in &journal {
        let op = &entry.message.op;
        assert_eq!(
            (op.from, entry.message.prev),
            (next_from, next_from - 1),
            "round {round}: journal entry at {} is not contiguous (start {start})",
            entry.tick
        );
        assert_eq!(entry.tick, op.ticks(), "round {round}: entry key");
        assert!(
            suset.operation(&op.tid()).unwrap().as_ref() == Some(op),
            "round {round}: entry at {} not found by TID",
            entry.tick
        );
        next_from = op.ticks() + 1;
    }
    assert_eq!(
        next_from - 1,
        ticks,
        "round {round}: journal ends before the clock"
    );
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

/// Kills `role` children repeatedly, most rounds soon after the child says `busy` (a message
/// prefix); returns the journal starts seen after each round.
fn kill_repeatedly(role: &str, busy: &str, default_rounds: u64) -> Vec<u64> {
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
    let mut starts = Vec::new();
    let mut killed_compacting = 0;
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
            // While busy: writing steadily, or compacting.
            _ => {
                let (first, mut seen) = child.wait_for(busy, LIMIT);
                seen.push(first);
                thread::sleep(Duration::from_micros(rng.below(2_000)));
                seen.extend(child.kill());
                seen
            }
        };
        if messages.last().is_some_and(|m| m == "COMPACT") {
            killed_compacting += 1;
        }
        if let Some(last) = acks(&messages) {
            assert!(
                last > acked,
                "round {round}: child acknowledged {last} again"
            );
            acked = last;
            killed_while_writing += 1;
        }
        found = verify(dir.path(), acked, round);
        starts.push(journal_start(dir.path()));
    }
    eprintln!(
        "{role}: {acked} transactions acknowledged, {found} found, \
         {killed_while_writing}/{rounds} kills while writing, {killed_compacting} while compacting"
    );
    assert!(found >= acked);
    assert!(acked > 0, "the child never acknowledged a transaction");
    starts
}

fn journal_start(dir: &Path) -> u64 {
    let store = RocksStore::open(dir, RocksOptions::default()).unwrap();
    SuSet::open(store).unwrap().map_or(0, |s| s.journal_start())
}

#[test]
fn kill_9_never_loses_an_acknowledged_transaction() {
    let starts = kill_repeatedly("crash-writer", "ACK ", 50);
    assert!(
        starts.iter().all(|&s| s == 0),
        "nothing truncates this journal"
    );
}

#[test]
fn kill_9_with_synced_writes_never_loses_an_acknowledged_transaction() {
    kill_repeatedly("crash-writer-sync", "ACK ", 10);
}

#[test]
fn kill_9_during_journal_administration_never_loses_an_acknowledged_transaction() {
    let starts = kill_repeatedly("crash-writer-admin", "COMPACT", 50);
    // The kills must have landed while administration was under way, not before any.
    assert!(
        starts.last().is_some_and(|&s| s > 0),
        "the journal was never truncated: {starts:?}"
    );
}

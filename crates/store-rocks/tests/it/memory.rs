//! Peak resident memory of one clone holding 100,000 triples on RocksStore with the default
//! options: a child process loads them through the SU-Set (in 1,000 transactions of 100 triples
//! on one subject, or in 100 transactions of 1,000 subjects), reopens the store, reads them all
//! back, and reports its high-water mark (`VmHWM`), which must stay within 50 MiB.

use std::path::Path;
use std::time::Duration;

use m_ld_core::suset::{Patch, SuSet};
use m_ld_store_rocks::{RocksOptions, RocksStore};

use crate::child::{Child, say};
use crate::common::{CloneDir, triple};

const TRIPLES: u64 = 100_000;
const TRIPLES_PER_TXN: u64 = 100;
/// Subjects (of one triple each) per transaction of the wide load.
const WIDE_TXN: u64 = 1_000;
const PEAK_LIMIT_KIB: u64 = 50 * 1024;

/// A kernel figure from `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Child role: loads the triples, reopens the store, reads them back, reports `LOADED <n>` and
/// `PEAK_KIB <kib>`. With `wide`, each transaction inserts one triple on each of 1,000 subjects;
/// otherwise 100 triples on one subject.
pub fn load(dir: &Path, wide: bool) {
    let store = RocksStore::open(dir, RocksOptions::default()).expect("child opens store");
    let mut suset = SuSet::genesis(store, "memory.m-ld.org").expect("child creates state");
    let per_txn = if wide { WIDE_TXN } else { TRIPLES_PER_TXN };
    for n in 0..TRIPLES / per_txn {
        let inserts = (0..per_txn)
            .map(|j| {
                let value = format!("value {n} {j} of a modest literal");
                if wide {
                    triple(&format!("subject{}", n * per_txn + j), "property", &value)
                } else {
                    triple(
                        &format!("subject{n}"),
                        &format!("property{}", j % 10),
                        &value,
                    )
                }
            })
            .collect();
        suset
            .transact(Patch {
                deletes: vec![],
                inserts,
            })
            .expect("child transacts");
    }
    drop(suset);
    // Reopen (recovering the log) and read everything back.
    let store = RocksStore::open(dir, RocksOptions::default()).expect("child reopens store");
    let suset = SuSet::open(store)
        .expect("child reopens state")
        .expect("state found");
    let state = suset.state();
    let count = state
        .triples(None, None, None)
        .filter(Result::is_ok)
        .count();
    say(&format!("LOADED {count}"));
    say(&format!("RSS_KIB {}", status_kib("VmRSS")));
    say(&format!("PEAK_KIB {}", status_kib("VmHWM")));
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc/self/status")]
fn one_clone_of_100k_triples_peaks_under_50_mib() {
    peaks_under_50_mib("load");
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc/self/status")]
fn one_clone_of_100k_triples_in_100_wide_transactions_peaks_under_50_mib() {
    peaks_under_50_mib("load-wide");
}

fn peaks_under_50_mib(role: &str) {
    let dir = CloneDir::new();
    let child = Child::spawn(role, dir.path());
    let (loaded, _) = child.wait_for("LOADED", Duration::from_secs(600));
    let rest = child.finish();
    assert_eq!(loaded, format!("LOADED {TRIPLES}"));
    let peak: u64 = rest
        .iter()
        .find_map(|m| m.strip_prefix("PEAK_KIB ")?.parse().ok())
        .expect("child reports its peak");
    eprintln!("{role}: peak RSS {} KiB; {rest:?}", peak);
    assert!(
        peak <= PEAK_LIMIT_KIB,
        "peak RSS {peak} KiB exceeds {PEAK_LIMIT_KIB} KiB"
    );
}

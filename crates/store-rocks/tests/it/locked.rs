//! A clone data directory is open in one store at a time: a second open, in this process or
//! another, fails with m-ld's 5034 "Clone data is locked", and the lock dies with its holder.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use m_ld_core::store::{Batch, Store, StoreSnapshot};
use m_ld_store_rocks::{RocksError, RocksOptions, RocksStore, STATUS_CLONE_DATA_LOCKED};

use crate::child::{Child, say};
use crate::common::CloneDir;

const LIMIT: Duration = Duration::from_secs(60);

/// Child role: opens the store, reports `READY`, and holds it until stdin closes.
pub fn hold_lock(dir: &Path) {
    let store = RocksStore::open(dir, RocksOptions::default()).expect("child opens store");
    say("READY");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    drop(store);
    say("CLOSED");
}

fn assert_locked(result: Result<RocksStore, RocksError>) {
    match result {
        Err(e @ RocksError::Locked { .. }) => {
            assert_eq!(e.status(), STATUS_CLONE_DATA_LOCKED);
            assert_eq!(STATUS_CLONE_DATA_LOCKED, 5034);
            assert!(e.to_string().contains("Clone data is locked"), "{e}");
        }
        other => panic!("expected a locked directory, got {other:?}"),
    }
}

#[test]
fn a_second_open_in_this_process_is_locked() {
    let dir = CloneDir::new();
    let store = dir.open();
    assert_locked(RocksStore::open(dir.path(), RocksOptions::default()));
    // Handles share one open database rather than locking each other out.
    let handle = store.clone();
    let mut batch = Batch::new();
    batch.put(b"k".to_vec(), b"v".to_vec());
    handle.write(batch).unwrap();
    drop(store);
    drop(handle);
    let reopened = dir.open();
    assert!(reopened.snapshot().get(b"k").unwrap().is_some());
}

#[test]
fn an_open_in_another_process_is_locked_until_it_ends() {
    let dir = CloneDir::new();
    drop(dir.open());
    let holder = Child::spawn("hold-lock", dir.path());
    holder.wait_for("READY", LIMIT);
    assert_locked(RocksStore::open(dir.path(), RocksOptions::default()));
    let rest = holder.finish();
    assert_eq!(rest, vec!["CLOSED".to_string()]);
    drop(dir.open());
}

#[test]
fn a_killed_holder_releases_the_lock() {
    let dir = CloneDir::new();
    let holder = Child::spawn("hold-lock", dir.path());
    holder.wait_for("READY", LIMIT);
    assert_locked(RocksStore::open(dir.path(), RocksOptions::default()));
    let rest = holder.kill();
    assert!(rest.is_empty(), "{rest:?}");
    drop(dir.open());
}

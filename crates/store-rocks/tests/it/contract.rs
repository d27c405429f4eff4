//! RocksStore against m-ld-core's backend contract suite, with and without synced writes.

use m_ld_core::store::Store;
use m_ld_core::store::tests::check_store;
use m_ld_store_rocks::{RocksOptions, RocksSnapshot, RocksStore};

use crate::common::CloneDir;

fn check_with(options: RocksOptions) {
    let mut dirs = Vec::new();
    let result = check_store(|| {
        let dir = CloneDir::new();
        let store = RocksStore::open(dir.path(), options.clone()).expect("open store");
        dirs.push(dir);
        store
    });
    result.unwrap();
}

#[test]
fn rocks_store_meets_the_contract() {
    check_with(RocksOptions::default());
}

#[test]
fn synced_rocks_store_meets_the_contract() {
    check_with(RocksOptions::default().with_sync(true));
}

#[test]
fn store_and_snapshot_can_cross_threads() {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    send_sync_static::<RocksStore>();
    send_sync_static::<RocksSnapshot>();
    // A snapshot taken on one thread reads on another.
    let dir = CloneDir::new();
    let store = dir.open();
    let mut batch = m_ld_core::store::Batch::new();
    batch.put(b"k".to_vec(), b"v".to_vec());
    store.write(batch).unwrap();
    let snap = store.snapshot();
    let got = std::thread::spawn(move || {
        use m_ld_core::store::StoreSnapshot;
        snap.get(b"k").unwrap().map(|v| v.to_vec())
    })
    .join()
    .unwrap();
    assert_eq!(got.as_deref(), Some(&b"v"[..]));
}

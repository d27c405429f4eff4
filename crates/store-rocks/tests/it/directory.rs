//! Opening clone data directories: reopening after drop, and refusing (with a typed error and
//! without writing) anything that is not a healthy directory of this format.

use std::fs;
use std::path::Path;

use m_ld_core::CoreError;
use m_ld_core::store::{Batch, Store, StoreSnapshot};
use m_ld_store_rocks::{FORMAT_VERSION, RocksError, RocksOptions, RocksStore};

use crate::common::CloneDir;

fn put(store: &RocksStore, key: &[u8], value: &[u8]) {
    let mut batch = Batch::new();
    batch.put(key.to_vec(), value.to_vec());
    store.write(batch).unwrap();
}

fn get(store: &RocksStore, key: &[u8]) -> Option<Vec<u8>> {
    store.snapshot().get(key).unwrap().map(|v| v.to_vec())
}

fn open(path: &Path) -> Result<RocksStore, RocksError> {
    RocksStore::open(path, RocksOptions::default())
}

/// Every file under `path` with its bytes, to show that a refused open wrote nothing.
fn contents(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(path)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = if e.path().is_file() {
                fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// A store with a few writes, closed: the directory holds a real database.
fn populated(dir: &CloneDir) {
    let store = dir.open();
    for i in 0u8..10 {
        put(&store, &[b'k', i], &[i; 100]);
    }
    let mut batch = Batch::new();
    batch.delete(vec![b'k', 3]);
    store.write(batch).unwrap();
}

#[test]
fn reopening_after_drop_finds_every_write() {
    let dir = CloneDir::new();
    populated(&dir);
    let store = dir.open();
    assert_eq!(get(&store, &[b'k', 0]), Some(vec![0; 100]));
    assert_eq!(get(&store, &[b'k', 9]), Some(vec![9; 100]));
    assert_eq!(get(&store, &[b'k', 3]), None);
    let keys = store.snapshot().scan_prefix(b"k").count();
    assert_eq!(keys, 9);
    // Recovery flushed the log into a table: a second reopen reads from tables.
    drop(store);
    let store = dir.open();
    assert_eq!(get(&store, &[b'k', 5]), Some(vec![5; 100]));
}

#[test]
fn missing_directories_are_created_and_marked() {
    let dir = CloneDir::new();
    let nested = dir.path().join("a").join("b");
    let store = open(&nested).unwrap();
    put(&store, b"k", b"v");
    assert_eq!(store.path(), nested.as_path());
    assert_eq!(
        fs::read_to_string(nested.join("M-LD-STORE")).unwrap(),
        format!("m-ld-store-rocks format {FORMAT_VERSION}\n")
    );
}

#[test]
fn an_empty_directory_is_used() {
    let dir = CloneDir::new();
    fs::create_dir(dir.path()).unwrap();
    let store = dir.open();
    put(&store, b"k", b"v");
    drop(store);
    assert_eq!(get(&dir.open(), b"k"), Some(b"v".to_vec()));
}

#[test]
fn a_snapshot_outlives_its_store_and_keeps_the_database_open() {
    let dir = CloneDir::new();
    let store = dir.open();
    put(&store, b"k", b"old");
    let snap = store.snapshot();
    put(&store, b"k", b"new");
    drop(store);
    assert_eq!(snap.get(b"k").unwrap().as_deref(), Some(&b"old"[..]));
    let copy = snap.clone();
    drop(snap);
    // The database (and its lock) lives as long as any snapshot.
    assert!(matches!(open(dir.path()), Err(RocksError::Locked { .. })));
    assert_eq!(copy.scan_prefix(b"").count(), 1);
    drop(copy);
    assert_eq!(get(&dir.open(), b"k"), Some(b"new".to_vec()));
}

#[test]
fn a_file_is_not_a_store() {
    let dir = CloneDir::new();
    fs::create_dir(dir.path()).unwrap();
    let file = dir.path().join("data.ttl");
    fs::write(&file, b"precious").unwrap();
    let err = open(&file).unwrap_err();
    assert!(matches!(err, RocksError::NotAStore { .. }), "{err}");
    assert_eq!(err.status(), 5000);
    assert_eq!(fs::read(&file).unwrap(), b"precious");
}

#[test]
fn a_directory_of_other_files_is_not_a_store() {
    let dir = CloneDir::new();
    fs::create_dir(dir.path()).unwrap();
    fs::write(dir.path().join("notes.txt"), b"precious").unwrap();
    let before = contents(dir.path());
    let err = open(dir.path()).unwrap_err();
    assert!(matches!(err, RocksError::NotAStore { .. }), "{err}");
    assert_eq!(contents(dir.path()), before);
}

#[test]
fn a_foreign_rocksdb_is_not_a_store() {
    let dir = CloneDir::new();
    {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        let db = rocksdb::DB::open(&opts, dir.path()).unwrap();
        db.put(b"their", b"data").unwrap();
    }
    let before = contents(dir.path());
    let err = open(dir.path()).unwrap_err();
    assert!(matches!(err, RocksError::NotAStore { .. }), "{err}");
    assert_eq!(contents(dir.path()), before);
}

#[test]
fn a_newer_format_is_refused_and_left_intact() {
    let dir = CloneDir::new();
    populated(&dir);
    let marker = dir.path().join("M-LD-STORE");
    let ours = fs::read_to_string(&marker).unwrap();
    fs::write(
        &marker,
        format!("m-ld-store-rocks format {}\n", FORMAT_VERSION + 1),
    )
    .unwrap();
    let before = contents(dir.path());
    match open(dir.path()) {
        Err(RocksError::Format {
            found, supported, ..
        }) => {
            assert_eq!(found, FORMAT_VERSION + 1);
            assert_eq!(supported, FORMAT_VERSION);
        }
        other => panic!("expected a format error, got {other:?}"),
    }
    assert_eq!(contents(dir.path()), before);
    // Nothing was lost: with our marker back, the data is there.
    fs::write(&marker, ours).unwrap();
    assert_eq!(get(&dir.open(), &[b'k', 1]), Some(vec![1; 100]));
}

#[test]
fn a_garbled_marker_is_corrupt() {
    let dir = CloneDir::new();
    populated(&dir);
    fs::write(dir.path().join("M-LD-STORE"), b"\xff\xfe not a marker").unwrap();
    let before = contents(dir.path());
    let err = open(dir.path()).unwrap_err();
    assert!(matches!(err, RocksError::Corrupt { .. }), "{err}");
    assert_eq!(contents(dir.path()), before);
}

#[test]
fn a_lost_current_file_is_corrupt_and_nothing_is_purged() {
    let dir = CloneDir::new();
    populated(&dir);
    let current = dir.path().join("CURRENT");
    let saved = fs::read(&current).unwrap();
    fs::remove_file(&current).unwrap();
    let before = contents(dir.path());
    let err = open(dir.path()).unwrap_err();
    assert!(matches!(err, RocksError::Corrupt { .. }), "{err}");
    assert_eq!(contents(dir.path()), before);
    fs::write(&current, saved).unwrap();
    assert_eq!(get(&dir.open(), &[b'k', 2]), Some(vec![2; 100]));
}

#[test]
fn a_current_file_naming_no_manifest_is_corrupt() {
    let dir = CloneDir::new();
    populated(&dir);
    fs::write(dir.path().join("CURRENT"), b"MANIFEST-999999\n").unwrap();
    let err = open(dir.path()).unwrap_err();
    assert!(matches!(err, RocksError::Corrupt { .. }), "{err}");
}

#[test]
fn a_damaged_table_file_reads_as_a_typed_error() {
    let dir = CloneDir::new();
    populated(&dir);
    // Reopening recovered the log into a table file; damage the middle of its data.
    drop(dir.open());
    let table = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sst"))
        .expect("a table file");
    let mut bytes = fs::read(&table).unwrap();
    for b in &mut bytes[16..400] {
        *b ^= 0x5a;
    }
    fs::write(&table, bytes).unwrap();
    let corrupt = |e: &RocksError| matches!(e, RocksError::Corrupt { .. });
    match open(dir.path()) {
        Err(e) => assert!(corrupt(&e), "{e}"),
        Ok(store) => {
            let snap = store.snapshot();
            let failure = snap
                .scan_prefix(b"")
                .find_map(Result::err)
                .or_else(|| snap.get(&[b'k', 1]).err())
                .expect("reading a damaged table fails");
            match failure {
                CoreError::Store(source) => {
                    let e = source.downcast_ref::<RocksError>().expect("a RocksError");
                    assert!(corrupt(e), "{e}");
                }
                other => panic!("expected a store error, got {other}"),
            }
        }
    }
}

#[test]
fn rocks_errors_become_core_store_errors() {
    let e = RocksError::NotAStore {
        path: "x".into(),
        reason: "test".into(),
    };
    let core: CoreError = e.into();
    assert!(matches!(&core, CoreError::Store(s) if s.downcast_ref::<RocksError>().is_some()));
    assert_eq!(core.status(), 5000);
}

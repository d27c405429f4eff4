//! The [`Store`] implementation on RocksDB: opening a clone data directory, atomic batch writes
//! and consistent snapshots.
//!
//! Owns [`RocksStore`], [`RocksSnapshot`] and the key-range iterator. Keys and values are stored
//! exactly as m-ld-core hands them over, in RocksDB's default column family with bytewise order;
//! this module must not interpret them (triples, journal and metadata are core's business).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use m_ld_core::CoreError;
use m_ld_core::store::{Batch, BatchOp, Entry, Store, StoreSnapshot, Value};
use rocksdb::{
    DB, DBRawIteratorWithThreadMode, ReadOptions, SnapshotWithThreadMode, WriteBatch, WriteOptions,
};

use crate::dir::{self, Prepared};
use crate::{RocksError, RocksOptions};

/// A clone's persistent store: one RocksDB database in its own directory.
///
/// Cloning the handle shares the open database. The database closes (and its directory lock is
/// released) when the last handle and the last [`RocksSnapshot`] taken from it are dropped.
#[derive(Clone)]
pub struct RocksStore {
    inner: Arc<Inner>,
}

/// What every handle and snapshot shares.
struct Inner {
    db: DB,
    path: PathBuf,
    options: RocksOptions,
    write_options: WriteOptions,
}

impl Inner {
    fn error(&self, e: rocksdb::Error) -> CoreError {
        RocksError::from_rocks(&self.path, e).into()
    }
}

impl fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.inner.path)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl RocksStore {
    /// Opens the clone data directory at `path`, creating it (and a new, empty database) if it
    /// is missing or an empty directory.
    ///
    /// Fails, leaving the directory untouched, if `path` is not a directory of this crate's
    /// making ([`RocksError::NotAStore`]), was written by a newer format
    /// ([`RocksError::Format`]), is damaged ([`RocksError::Corrupt`]), or is open in another
    /// store, in this process or another ([`RocksError::Locked`], m-ld status 5034). Which
    /// domain the data belongs to is recorded by m-ld-core inside the data (see
    /// `m_ld_core::suset::SuSet::open`), not checked here.
    pub fn open(path: impl AsRef<Path>, options: RocksOptions) -> Result<RocksStore, RocksError> {
        let path = path.as_ref();
        let prepared = dir::prepare(path)?;
        let create = prepared == Prepared::Fresh;
        let db = DB::open(&options.db_options(create), path)
            .map_err(|e| RocksError::from_rocks(path, e))?;
        tracing::debug!(path = %path.display(), created = create, sync = options.sync, "opened RocksDB store");
        let write_options = options.write_options();
        Ok(RocksStore {
            inner: Arc::new(Inner {
                db,
                path: path.to_path_buf(),
                options,
                write_options,
            }),
        })
    }

    /// The clone data directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &RocksOptions {
        &self.inner.options
    }

    /// Syncs the write-ahead log to the device, so that every write returned so far survives a
    /// power loss even when [`RocksOptions::sync`] is off (e.g. at a checkpoint or on close).
    pub fn sync_wal(&self) -> Result<(), RocksError> {
        self.inner
            .db
            .flush_wal(true)
            .map_err(|e| RocksError::from_rocks(&self.inner.path, e))
    }

    /// Flushes the write buffers to table files and compacts the whole key range, so that the
    /// space of deleted and overwritten entries (a truncated journal, say) is reclaimed now
    /// rather than by RocksDB's background compactions, and the write-ahead log is emptied.
    pub fn compact(&self) -> Result<(), RocksError> {
        let error = |e| RocksError::from_rocks(&self.inner.path, e);
        self.inner.db.flush().map_err(error)?;
        let mut options = rocksdb::CompactOptions::default();
        // Rewrite the last level too, dropping deletion markers there.
        options.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        self.inner
            .db
            .compact_range_opt::<&[u8], &[u8]>(None, None, &options);
        Ok(())
    }

    /// The bytes the clone data directory takes on disk now (table files, logs and metadata).
    pub fn disk_size(&self) -> Result<u64, RocksError> {
        let path = &self.inner.path;
        let mut total = 0;
        let entries = std::fs::read_dir(path).map_err(|e| RocksError::Io {
            path: path.clone(),
            source: e,
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| RocksError::Io {
                path: path.clone(),
                source: e,
            })?;
            // A file RocksDB deletes meanwhile (an obsolete log or table) no longer counts.
            if let Ok(meta) = entry.metadata()
                && meta.is_file()
            {
                total += meta.len();
            }
        }
        Ok(total)
    }
}

impl Store for RocksStore {
    type Snapshot = RocksSnapshot;

    fn snapshot(&self) -> RocksSnapshot {
        RocksSnapshot {
            cell: Arc::new(SnapshotCell::new(Arc::clone(&self.inner), |inner| {
                inner.db.snapshot()
            })),
        }
    }

    /// Writes the batch to the write-ahead log and the memtable as one RocksDB write batch:
    /// after a crash it is recovered whole or not at all. When this returns, the batch is in the
    /// log file (in the operating system's cache, or on the device if
    /// [`RocksOptions::sync`] is set).
    fn write(&self, batch: Batch) -> Result<(), CoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut wb = WriteBatch::default();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put(k, v) => wb.put(k, v),
                BatchOp::Delete(k) => wb.delete(k),
            }
        }
        self.inner
            .db
            .write_opt(wb, &self.inner.write_options)
            .map_err(|e| self.inner.error(e))
    }
}

/// A RocksDB snapshot borrowing the database that the shared [`Inner`] owns.
type DbSnapshot<'db> = SnapshotWithThreadMode<'db, DB>;

self_cell::self_cell!(
    /// A RocksDB snapshot together with the database it borrows, so that it can outlive the
    /// [`RocksStore`] handle it came from. The snapshot is released before the database handle.
    struct SnapshotCell {
        owner: Arc<Inner>,
        #[covariant]
        dependent: DbSnapshot,
    }
);

/// An immutable, consistent view of a [`RocksStore`]: a RocksDB snapshot. Cheap to clone (the
/// clones share one RocksDB snapshot); it keeps the database open while held.
#[derive(Clone)]
pub struct RocksSnapshot {
    cell: Arc<SnapshotCell>,
}

impl fmt::Debug for RocksSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksSnapshot")
            .field("path", &self.cell.borrow_owner().path)
            .finish_non_exhaustive()
    }
}

impl StoreSnapshot for RocksSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, CoreError> {
        match self.cell.borrow_dependent().get_pinned(key) {
            Ok(value) => Ok(value.map(|v| Value::from(&*v))),
            Err(e) => Err(self.cell.borrow_owner().error(e)),
        }
    }

    fn scan_range<'a>(
        &'a self,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<Entry, CoreError>> + use<'a> {
        // An empty or inverted range yields nothing without touching RocksDB.
        let raw = match end {
            Some(end) if end <= start => None,
            _ => {
                let mut read = ReadOptions::default();
                if let Some(end) = end {
                    read.set_iterate_upper_bound(end);
                }
                let mut raw = self.cell.borrow_dependent().raw_iterator_opt(read);
                raw.seek(start);
                Some(raw)
            }
        };
        Scan {
            raw,
            inner: self.cell.borrow_owner(),
        }
    }
}

/// Entries of a key range, read through a snapshot's raw iterator.
struct Scan<'a> {
    /// `None` once exhausted or failed.
    raw: Option<DBRawIteratorWithThreadMode<'a, DB>>,
    inner: &'a Inner,
}

impl Iterator for Scan<'_> {
    type Item = Result<Entry, CoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.raw.as_mut()?;
        let entry = raw.item().map(|(k, v)| (Value::from(k), Value::from(v)));
        if let Some(entry) = entry {
            raw.next();
            return Some(Ok(entry));
        }
        // An invalid iterator is either at the end or failed; report a failure once.
        let status = raw.status();
        self.raw = None;
        status.err().map(|e| Err(self.inner.error(e)))
    }
}

impl std::iter::FusedIterator for Scan<'_> {}

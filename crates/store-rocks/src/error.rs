//! The single error type of m-ld-store-rocks.
//!
//! Owns [`RocksError`]: every way opening, reading or writing a RocksDB clone directory can fail,
//! classified so that callers can tell a locked directory from a foreign, newer or corrupt one.
//! It must not interpret clone metadata (domain, clocks): that is m-ld-core's job.

use std::path::PathBuf;

use m_ld_core::CoreError;
use thiserror::Error;

/// The m-ld error status (`MeldErrorStatus`) for "Clone data is locked".
pub const STATUS_CLONE_DATA_LOCKED: u16 = 5034;

/// Errors raised by the RocksDB store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RocksError {
    /// Another process (or another open [`RocksStore`](crate::RocksStore) in this one) holds the
    /// directory's lock (m-ld status 5034, "Clone data is locked").
    #[error("Clone data is locked: {path} is in use by another store")]
    Locked {
        /// The clone data directory.
        path: PathBuf,
        /// RocksDB's report.
        #[source]
        source: rocksdb::Error,
    },
    /// The path is not a clone data directory: a file, a directory holding other files, or a
    /// RocksDB database that m-ld did not create. Nothing was changed.
    #[error("Not a m-ld clone data directory: {path}: {reason}")]
    NotAStore {
        /// The path given.
        path: PathBuf,
        /// What was found there.
        reason: String,
    },
    /// The directory was written by a newer (or unknown) storage format of this crate. Nothing
    /// was changed.
    #[error(
        "Unsupported clone data format {found} in {path} (this engine reads format {supported})"
    )]
    Format {
        /// The clone data directory.
        path: PathBuf,
        /// The format version found.
        found: u64,
        /// The format version this engine reads and writes.
        supported: u64,
    },
    /// The directory's files are damaged (a bad format marker, a missing or broken manifest, a
    /// checksum mismatch). Nothing was changed.
    #[error("Corrupt clone data in {path}: {reason}")]
    Corrupt {
        /// The clone data directory.
        path: PathBuf,
        /// What is damaged.
        reason: String,
    },
    /// The file system refused an operation (permissions, no space, a vanished file).
    #[error("I/O error on clone data {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's report.
        #[source]
        source: std::io::Error,
    },
    /// RocksDB failed an operation for a reason not classified above.
    #[error("RocksDB failure: {0}")]
    Rocks(#[source] rocksdb::Error),
}

impl RocksError {
    /// The m-ld error status code (`MeldErrorStatus`) for this error: 5034 for a locked
    /// directory, 5000 (internal error) otherwise.
    pub fn status(&self) -> u16 {
        match self {
            RocksError::Locked { .. } => STATUS_CLONE_DATA_LOCKED,
            _ => 5000,
        }
    }

    /// Classifies a RocksDB error raised while opening or using the directory `path`.
    pub(crate) fn from_rocks(path: &std::path::Path, e: rocksdb::Error) -> RocksError {
        match e.kind() {
            rocksdb::ErrorKind::IOError if is_lock_failure(e.as_ref()) => RocksError::Locked {
                path: path.to_path_buf(),
                source: e,
            },
            // A file the manifest names has vanished (a lost MANIFEST or table file): the
            // directory is damaged, not the file system failing.
            rocksdb::ErrorKind::IOError if e.as_ref().contains("No such file or directory") => {
                RocksError::Corrupt {
                    path: path.to_path_buf(),
                    reason: e.into_string(),
                }
            }
            rocksdb::ErrorKind::Corruption => RocksError::Corrupt {
                path: path.to_path_buf(),
                reason: e.into_string(),
            },
            _ => RocksError::Rocks(e),
        }
    }
}

/// Whether a RocksDB I/O error message reports its `LOCK` file held: by another process
/// ("While lock file: …/LOCK: Resource temporarily unavailable") or by this one ("lock hold by
/// current process, …"). RocksDB gives no other way to tell; a bare "lock" would also match
/// "block".
fn is_lock_failure(message: &str) -> bool {
    message.contains("While lock file") || message.contains("lock hold by current process")
}

impl From<RocksError> for CoreError {
    fn from(e: RocksError) -> CoreError {
        CoreError::Store(Box::new(e))
    }
}

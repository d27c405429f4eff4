//! The clone data directory: what may be opened, and the storage format marker.
//!
//! Owns the checks made *before* RocksDB touches a directory (so that a file, a foreign
//! directory, a newer format or a directory that lost RocksDB's `CURRENT` file is refused without
//! a single byte written) and the versioned marker file that names the directory's format. It
//! must not open RocksDB or read clone data.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::RocksError;

/// The storage format this crate writes and reads: one RocksDB database, default column family
/// only, bytewise key order, keys and values exactly as m-ld-core encodes them.
pub const FORMAT_VERSION: u64 = 1;

/// The marker file naming the directory's format; written once, before the database is created.
pub(crate) const MARKER_FILE: &str = "M-LD-STORE";
const MARKER_TMP_FILE: &str = "M-LD-STORE.tmp";
const MARKER_PREFIX: &str = "m-ld-store-rocks format ";
/// RocksDB's pointer to its current manifest: present in every database it finished creating.
const CURRENT_FILE: &str = "CURRENT";

/// What [`prepare`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prepared {
    /// A marked directory with no database yet: RocksDB may create one.
    Fresh,
    /// A marked directory with a database of our format: open it, never create.
    Existing,
}

/// Checks `path` and, if it is missing or an empty directory, creates it with a format marker.
/// Nothing else is ever written: a directory that does not pass is left as it was.
pub(crate) fn prepare(path: &Path) -> Result<Prepared, RocksError> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => return Err(not_a_store(path, "not a directory")),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(path).map_err(|e| io_error(path, e))?;
            write_marker(path)?;
            return Ok(Prepared::Fresh);
        }
        Err(e) => return Err(io_error(path, e)),
    }
    let names = file_names(path)?;
    let has = |name: &str| names.iter().any(|n| n == name);
    match read_marker(path)? {
        Some(found) if found != FORMAT_VERSION => Err(RocksError::Format {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        }),
        Some(_) if has(CURRENT_FILE) => Ok(Prepared::Existing),
        Some(_) => {
            // A crash between writing the marker and RocksDB finishing its creation leaves no
            // CURRENT and no data. Table files or a write-ahead log without CURRENT mean that
            // RocksDB lost its manifest pointer: creating afresh would orphan (and then purge)
            // the data, so refuse.
            if names
                .iter()
                .any(|n| n.ends_with(".sst") || n.ends_with(".log"))
            {
                Err(RocksError::Corrupt {
                    path: path.to_path_buf(),
                    reason: "RocksDB's CURRENT file is missing but data files remain".into(),
                })
            } else {
                Ok(Prepared::Fresh)
            }
        }
        None if names.iter().all(|n| n == MARKER_TMP_FILE) => {
            write_marker(path)?;
            Ok(Prepared::Fresh)
        }
        None if has(CURRENT_FILE) => Err(not_a_store(
            path,
            "a RocksDB database without a m-ld format marker",
        )),
        None => Err(not_a_store(path, "the directory holds other files")),
    }
}

/// The format version named by the directory's marker, if it has one.
pub(crate) fn read_marker(path: &Path) -> Result<Option<u64>, RocksError> {
    let file = path.join(MARKER_FILE);
    let bytes = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&file, e)),
    };
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.trim_end().strip_prefix(MARKER_PREFIX))
        .and_then(|version| version.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| RocksError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("unreadable format marker {MARKER_FILE}"),
        })
}

/// Writes the marker atomically and durably: a synced temporary file renamed into place, then
/// the directory synced.
fn write_marker(path: &Path) -> Result<(), RocksError> {
    let tmp = path.join(MARKER_TMP_FILE);
    let file = path.join(MARKER_FILE);
    let mut f = fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
    f.write_all(format!("{MARKER_PREFIX}{FORMAT_VERSION}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| io_error(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, &file).map_err(|e| io_error(&file, e))?;
    sync_dir(path)
}

/// Makes the directory's entries (a rename, a new file) durable.
fn sync_dir(path: &Path) -> Result<(), RocksError> {
    fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(path, e))
}

fn file_names(path: &Path) -> Result<Vec<String>, RocksError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(path).map_err(|e| io_error(path, e))? {
        let entry = entry.map_err(|e| io_error(path, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

fn not_a_store(path: &Path, reason: &str) -> RocksError {
    RocksError::NotAStore {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn io_error(path: &Path, source: io::Error) -> RocksError {
    RocksError::Io {
        path: path.to_path_buf(),
        source,
    }
}

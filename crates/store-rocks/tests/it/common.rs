//! Helpers shared by the integration tests: temporary clone directories and test triples.
//!
//! Owns no assertions of its own.

use std::path::{Path, PathBuf};

use m_ld_store_rocks::{RocksOptions, RocksStore};
use oxrdf::{Literal, NamedNode, Triple};
use tempfile::TempDir;

/// A temporary directory holding one clone data directory (not yet created).
pub struct CloneDir {
    // Held for its drop, which removes the directory tree.
    _tmp: TempDir,
    path: PathBuf,
}

impl CloneDir {
    pub fn new() -> CloneDir {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let path = tmp.path().join("clone");
        CloneDir { _tmp: tmp, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn open(&self) -> RocksStore {
        RocksStore::open(&self.path, RocksOptions::default()).expect("open store")
    }
}

/// The IRI `http://test.m-ld.org/<local>`.
pub fn iri(local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("http://test.m-ld.org/{local}"))
}

/// The triple `<s> <p> "o"` on test IRIs.
pub fn triple(s: &str, p: &str, o: &str) -> Triple {
    Triple::new(iri(s), iri(p), Literal::new_simple_literal(o))
}

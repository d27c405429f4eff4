//! The facade's error type, [`MeldError`], and its mapping to m-ld error codes.
//!
//! Wraps the errors of the layers below (core, json-rql) and adds the API's own failures.

use thiserror::Error;

/// An error from the m-ld clone API. [`MeldError::status`] gives its m-ld error code
/// (`MeldErrorStatus` in the m-ld specification).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MeldError {
    /// The clone configuration is invalid.
    #[error("Bad configuration: {0}")]
    Config(String),
    /// A json-rql request could not be translated or evaluated.
    #[error(transparent)]
    Jrql(#[from] m_ld_jrql::JrqlError),
    /// The engine core failed (storage, clocks, operations).
    #[error(transparent)]
    Core(#[from] m_ld_core::CoreError),
    /// A genesis clone found other clones already live on its domain.
    #[error("Genesis clone trying to join a live domain")]
    GenesisConflict,
    /// An identifier is not a valid IRI.
    #[error("Invalid IRI {0:?}")]
    InvalidIri(String),
    /// A feature of m-ld that this engine does not implement yet (5011).
    #[error("Unsupported pattern: {0} is not supported yet")]
    Unsupported(String),
    /// The clone has been closed; no further calls are possible.
    #[error("Clone has closed")]
    Closed,
    /// A `follow` subscriber fell too far behind and missed updates; its stream ends here.
    #[error("Update subscriber lagged behind and missed {0} updates")]
    Lagged(u64),
    /// RDF import or export failed.
    #[error("RDF syntax error: {0}")]
    RdfSyntax(String),
}

impl MeldError {
    /// The m-ld error status code of this error (for example 5011 "Unsupported pattern").
    pub fn status(&self) -> u16 {
        match self {
            MeldError::Config(_) => 5000,
            MeldError::Jrql(e) => e.status(),
            MeldError::Core(e) => store_status(e).unwrap_or_else(|| e.status()),
            MeldError::GenesisConflict => 5000,
            MeldError::InvalidIri(_) => 4001,
            MeldError::Unsupported(_) => 5011,
            MeldError::Closed => 5032,
            MeldError::Lagged(_) => 5000,
            MeldError::RdfSyntax(_) => 4001,
        }
    }

    /// The error as the JSON object m-ld APIs report: `{"status": code, "message": text}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "status": self.status(), "message": self.to_string() })
    }
}

/// The status a storage backend gives its own failure (RocksDB: 5034 for a locked directory).
#[cfg(feature = "rocksdb")]
fn store_status(e: &m_ld_core::CoreError) -> Option<u16> {
    match e {
        m_ld_core::CoreError::Store(source) => source
            .downcast_ref::<m_ld_store_rocks::RocksError>()
            .map(m_ld_store_rocks::RocksError::status),
        _ => None,
    }
}

#[cfg(not(feature = "rocksdb"))]
fn store_status(_: &m_ld_core::CoreError) -> Option<u16> {
    None
}

/// A store that cannot be opened (for example [`RocksError::Locked`], 5034).
///
/// [`RocksError::Locked`]: m_ld_store_rocks::RocksError::Locked
#[cfg(feature = "rocksdb")]
impl From<m_ld_store_rocks::RocksError> for MeldError {
    fn from(e: m_ld_store_rocks::RocksError) -> MeldError {
        MeldError::Core(e.into())
    }
}

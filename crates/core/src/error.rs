//! The single error type of m-ld-core.
//!
//! Every variant has one meaning; [`CoreError::status`] maps it to a m-ld error code
//! (`MeldErrorStatus`). Helpers add variants here, one per distinct failure.

use thiserror::Error;

/// A boxed error from a pluggable backend (a [`Store`](crate) implementation).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors raised by the engine core.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A clock's JSON (or msgpack) form does not parse.
    #[error("Bad clock JSON: {0}")]
    BadClockJson(String),
    /// A clock operation was asked to do something its invariants forbid.
    #[error("Clock error: {0}")]
    Clock(&'static str),
    /// Bytes that should hold MessagePack do not decode.
    #[error("Bad MessagePack: {0}")]
    Msgpack(String),
    /// The storage backend failed.
    #[error("Storage failure: {0}")]
    Store(#[source] BoxError),
    /// Stored data does not decode: the store is corrupt or of another format.
    #[error("Corrupt data in store: {0}")]
    Corrupt(String),
}

impl CoreError {
    /// The m-ld error status code (`MeldErrorStatus`) for this error.
    pub fn status(&self) -> u16 {
        match self {
            CoreError::BadClockJson(_) | CoreError::Msgpack(_) => 5001,
            CoreError::Clock(_) => 5000,
            CoreError::Store(_) | CoreError::Corrupt(_) => 5000,
        }
    }
}

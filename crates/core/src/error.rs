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
    /// A transaction identity (TID) is not base64 of 1 to 20 bytes.
    #[error("Bad TID: {0}")]
    BadTid(String),
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
    /// The store holds data of a storage format version this engine cannot read.
    #[error("Unsupported storage format version {0}")]
    StoreFormat(u64),
    /// An RDF term the dataset cannot hold (e.g. an RDF 1.2 triple term).
    #[error("Unsupported term: {0}")]
    UnsupportedTerm(String),
    /// A remote operation arrived before its causes (a FIFO `prev` gap, or not causally ready).
    #[error("Update out of order: {0}")]
    OutOfOrder(String),
    /// An operation is malformed or inconsistent (e.g. fusing non-contiguous operations).
    #[error("Bad update: {0}")]
    BadOperation(String),
    /// The journal no longer holds the history asked for.
    #[error("Updates unavailable")]
    UpdatesUnavailable,
    /// A new clone's state was to be created in a store that already holds data.
    #[error("Store is not empty")]
    StoreNotEmpty,
    /// This clone is not live on its domain, so it cannot answer peers (5004).
    #[error("Meld is offline")]
    Offline,
    /// This clone is catching up with its peers, so what it could send them is incomplete (5035).
    #[error("Clone outdated")]
    Outdated,
    /// No other clone of the domain is reachable (5031).
    #[error("No visible clones")]
    NoVisibleClones,
    /// A peer rejected a request with a m-ld error status.
    #[error("Request rejected by peer with status {0}")]
    Rejected(u16),
    /// The messaging layer failed (not connected, timed out, or a peer vanished).
    #[error("Messaging failure: {0}")]
    Transport(String),
    /// A collaborator's snapshot cannot replace this clone's data (it lacks operations this
    /// clone has applied, or is concurrent with its last agreement).
    #[error("Unusable snapshot: {0}")]
    UnusableSnapshot(String),
    /// A constraint rejected a local write.
    #[error("Constraint violated: {0}")]
    ConstraintViolated(String),
    /// A buffer encoding code (docs/protocol.md §3.1) this engine cannot apply, e.g. SECURE without
    /// transport security (5001).
    #[error("Bad update: Unrecognised encoding {0}")]
    UnrecognisedEncoding(u64),
    /// A wire message exceeds a decoding limit, e.g. a gzip bomb (5001).
    #[error("Wire message too large: {0}")]
    WireTooLarge(String),
    /// A control response or notification from a peer is malformed (5002).
    #[error("Bad response: {0}")]
    BadResponse(String),
    /// A control request from a peer is malformed (5003).
    #[error("Request rejected: {0}")]
    BadRequest(String),
    /// A domain name m-ld cannot use (it must look like `example.org`).
    #[error("Bad domain name: {0}")]
    BadDomain(String),
    /// A remote operation uses a feature this engine does not support, such as shared-datatype
    /// updates (5011).
    #[error("Unsupported operation content: {0}")]
    UnsupportedUpdate(String),
    /// The domain uses a m-ld feature this engine does not implement (agreements, transport
    /// security, shared datatypes, extensions declared in the data): the clone refuses to take
    /// part rather than diverge silently (5011).
    #[error("The domain uses {0}, which this engine does not implement")]
    UnsupportedFeature(String),
    /// A list position identifier is malformed, or none fits between two neighbours
    /// (docs/protocol.md §6.2).
    #[error("Bad LSEQ position identifier: {0}")]
    BadPosId(String),
    /// A local write would produce an operation larger than allowed (4002).
    #[error("Delta too big: the operation takes {size} bytes, more than the maximum of {max}")]
    DeltaTooBig {
        /// The encoded size of the operation.
        size: usize,
        /// The configured (or transport) maximum.
        max: usize,
    },
}

impl CoreError {
    /// The m-ld error status code (`MeldErrorStatus`) for this error.
    pub fn status(&self) -> u16 {
        match self {
            CoreError::BadClockJson(_) | CoreError::BadTid(_) | CoreError::Msgpack(_) => 5001,
            CoreError::Clock(_) => 5000,
            CoreError::Store(_) | CoreError::Corrupt(_) => 5000,
            CoreError::StoreFormat(_) | CoreError::StoreNotEmpty => 5000,
            CoreError::UnsupportedTerm(_) => 5011,
            CoreError::OutOfOrder(_) => 5005,
            CoreError::BadOperation(_) | CoreError::ConstraintViolated(_) => 5001,
            CoreError::BadPosId(_) => 5001,
            CoreError::UpdatesUnavailable => 4041,
            CoreError::UnrecognisedEncoding(_) | CoreError::WireTooLarge(_) => 5001,
            CoreError::BadResponse(_) => 5002,
            CoreError::BadRequest(_) => 5003,
            CoreError::BadDomain(_) => 5000,
            CoreError::UnsupportedUpdate(_) | CoreError::UnsupportedFeature(_) => 5011,
            CoreError::UnusableSnapshot(_) => 5002,
            CoreError::Offline => 5004,
            CoreError::Outdated => 5035,
            CoreError::NoVisibleClones => 5031,
            CoreError::Rejected(status) => *status,
            CoreError::Transport(_) => 5000,
            CoreError::DeltaTooBig { .. } => 4002,
        }
    }

    /// The domain feature this error reveals, if it says that peers use a feature this engine
    /// does not implement (as opposed to a malformed message from one peer).
    pub fn unsupported_feature(&self) -> Option<String> {
        match self {
            CoreError::UnsupportedFeature(feature) => Some(feature.clone()),
            CoreError::UnrecognisedEncoding(3) => {
                Some("transport security (SECURE operation encoding)".into())
            }
            CoreError::UnsupportedUpdate(_) => Some("shared datatypes".into()),
            _ => None,
        }
    }
}

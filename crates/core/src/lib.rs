//! # m-ld-core
//!
//! The engine core of a m-ld clone: causal clocks ([`clock`]), SU-Set operations and their fusion and
//! cutting ([`operation`]), the persistent SU-Set dataset with its journal ([`suset`], [`journal`]),
//! the ordered key-value [`store`] abstraction with its in-memory default, and the wire dialect
//! pieces that identity depends on ([`wire`]).
//!
//! **Invariants.** This crate performs no I/O, reads no system clock and no randomness: time,
//! identity and randomness are inputs. It knows nothing of json-rql, JSON-LD contexts, MQTT or any
//! other transport. Its types are the RDF model of [`oxrdf`] plus m-ld's own CRDT types.

pub mod clock;
pub mod error;
pub mod wire;

pub mod causal;
pub mod constraint;
pub mod features;
pub mod journal;
pub(crate) mod keys;
pub mod list;
pub mod lseq;
pub mod operation;
pub mod remotes;
pub mod store;
pub mod suset;

pub use error::CoreError;

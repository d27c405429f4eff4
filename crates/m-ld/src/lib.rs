#![doc = include_str!("../README.md")]
//!
//! ## Modules
//! The facade re-exports the engine's focused crates: [`core`] (clocks, SU-Set, stores) and
//! [`jrql`] (json-rql). Most apps need only [`MeldClone`] and [`MeldConfig`].

mod clone;
mod config;
pub mod constraints;
mod error;
mod genid;
mod in_process;
mod journal;
mod live;
mod rdf;
mod state;
mod status;
mod update;

pub use clone::{Follow, MeldClone, MeldWriteState};
pub use config::MeldConfig;
pub use constraints::ConstraintConfig;
pub use error::MeldError;
pub use in_process::InProcessDomain;
pub use journal::JournalConfig;
/// What a json-rql request is (read, ask or write), as the query layer decides it.
pub use m_ld_jrql::{ReadKind, RequestKind};
pub use rdf::RdfFormat;
pub use state::MeldReadState;
pub use status::MeldStatus;
pub use update::MeldUpdate;

/// The engine core: clocks, SU-Set CRDT, journal and stores.
pub use m_ld_core as core;
/// json-rql and JSON-LD translation to and from RDF.
pub use m_ld_jrql as jrql;
/// Messaging over MQTT (feature `mqtt`; the embedded broker with `mqtt-broker`).
#[cfg(feature = "mqtt")]
pub use m_ld_mqtt as mqtt;
/// Durable storage on RocksDB (feature `rocksdb`).
#[cfg(feature = "rocksdb")]
pub use m_ld_store_rocks as store_rocks;

/// The workspace README's example, compiled and run as a doctest.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

//! Wire dialect pieces shared by every m-ld transport.
//!
//! Owns the byte-level encodings that m-ld-js peers depend on. It decodes into core types and must
//! not depend on the dataset, journal or store.

pub mod control;
pub mod encoding;
pub mod jsonld;
pub mod literal;
pub mod msgpack;
pub mod notify;
pub mod operation;
pub mod reified;

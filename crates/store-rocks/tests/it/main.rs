//! The one integration-test binary of m-ld-store-rocks (each binary linking RocksDB is large, so
//! every test lives here as a module).
//!
//! Tests that need a second process (a lock holder, a writer to `kill -9`, a memory probe)
//! re-run this binary as a child: see [`child`].

// Test helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod child;
mod common;
mod contract;
mod crash;
mod directory;
mod locked;
mod memory;
mod restart;

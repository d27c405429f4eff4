//! Pins the features of RocksDB's build tools, so that RocksDB's C++ is built once per target
//! directory whatever packages a command selects.
//!
//! Cargo unifies the features of build-time dependencies across the packages a command selects.
//! The workspace turns on `memchr`'s `default` feature among them; `cargo test -p
//! m-ld-store-rocks` alone did not, so bindgen (through `cexpr` and `nom`) and with it
//! `librocksdb-sys`'s build script got a different hash, and RocksDB was compiled a second time
//! (15 minutes). Naming `memchr` with its default features as a build dependency of the one
//! crate that uses RocksDB makes every selection agree. Nothing is built here.

fn main() {}

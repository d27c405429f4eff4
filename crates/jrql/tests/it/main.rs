//! Integration tests of m-ld-jrql through its public API only: golden tests from the
//! docs/jrql.md examples, the unsupported-key (5011) test, and property tests.

// A test binary: helpers outside #[test] functions may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod context;
mod fuzz;
mod labels;
mod lists;
mod reads;
mod unsupported;
mod values;
mod writes;

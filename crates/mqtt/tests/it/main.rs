//! Integration tests of m-ld-mqtt: clones sharing domains through an embedded broker (and,
//! when installed, Mosquitto and m-ld-js), raw MQTT peers speaking the protocol, and hostile
//! input. Brokers listen on 127.0.0.1 ephemeral ports only.

// Test helpers outside #[test] functions panic on failure too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod clones;
mod hostile;
mod interop;
mod probe;
mod protocol;
mod snapshots;

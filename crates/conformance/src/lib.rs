//! The m-ld compliance-suite harness: an orchestrator that implements the REST interface of
//! `@m-ld/m-ld-test` (`/start`, `/transact`, `/stop`, `/kill`, `/destroy`, `/partition`) by running
//! each clone as its own OS process, and the clone process protocol those processes speak.
//!
//! The orchestrator knows nothing of m-ld internals: it moves JSON between HTTP and clone processes,
//! owns each clone's data directory, and gives each clone its own TCP proxy to the MQTT broker so that
//! a partition really cuts the connection; the proxies may also emulate network latency (`delay`).
//! Clone processes may be this engine (`mld-clone`) or m-ld-js (a node script speaking the same
//! protocol), which is how mixed colonies are tested.

pub mod answer;
pub mod delay;
pub mod orchestrator;
pub mod protocol;
pub mod proxy;

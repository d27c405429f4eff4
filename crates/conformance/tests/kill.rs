//! Clone processes on RocksDB sharing a domain over MQTT: a clone killed with SIGKILL and
//! restarted on its directory rejoins and converges, and two clones that each wrote while the
//! other was down converge once both run.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use m_ld_mqtt::EmbeddedBroker;

mod common;
use common::{CloneProcess, PATIENCE};

/// Waits (bounded) until both clones hold exactly `expected` names.
async fn converged(a: &mut CloneProcess, b: &mut CloneProcess, expected: &[&str]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (na, nb) = (a.names().await, b.names().await);
        if na == expected && nb == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no convergence: {na:?} / {nb:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_stopped_clones_rejoin_and_converge() {
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = broker.port();
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));

    let mut a = CloneProcess::start("a", true, &a_dir, port).await;
    let mut b = CloneProcess::start("b", false, &b_dir, port).await;
    a.write_name("a1").await;
    b.write_name("b1").await;
    converged(&mut a, &mut b, &["a1", "b1"]).await;

    // B is killed right after an acknowledged write; A goes on writing.
    b.write_name("b2").await;
    b.kill().await;
    a.write_name("a2").await;
    a.write_name("a3").await;
    let mut b = CloneProcess::start("b", false, &b_dir, port).await;
    converged(&mut a, &mut b, &["a1", "a2", "a3", "b1", "b2"]).await;

    // Each writes while the other is down.
    a.stop().await;
    b.write_name("b3").await;
    b.stop().await;
    let mut a = CloneProcess::start("a", false, &a_dir, port).await;
    a.write_name("a4").await;
    let mut b = CloneProcess::start("b", false, &b_dir, port).await;
    converged(&mut a, &mut b, &["a1", "a2", "a3", "a4", "b1", "b2", "b3"]).await;
    a.stop().await;
    b.stop().await;
}

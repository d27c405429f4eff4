//! Set-up shared by the criterion benches: the runtime and a followed clone. Not timed.

// Each bench uses a part of this module.
#![allow(dead_code)]

use m_ld::{MeldClone, MeldConfig};
use tokio::runtime::Runtime;

/// The runtime benches run clones on: two workers, as the machines have two cores.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A new genesis clone with a subscriber that drains (and renders) every update.
pub async fn followed_clone() -> MeldClone {
    let clone = MeldClone::new(MeldConfig {
        follow_buffer: 1 << 16,
        ..MeldConfig::new("bench", "bench.m-ld.org", true)
    })
    .await
    .expect("clone");
    let mut follow = clone.follow().expect("follow");
    tokio::spawn(async move {
        while let Some(update) = follow.next().await {
            std::hint::black_box(update.expect("no lag in the benchmark"));
        }
    });
    clone
}

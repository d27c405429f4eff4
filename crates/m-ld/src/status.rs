//! [`MeldStatus`]: the clone's liveness as the m-ld specification defines it.

use serde_json::{Value, json};

/// The status of a clone: `online`, `outdated`, `silo` and its local clock `ticks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MeldStatus {
    /// The clone is attached to the domain and able to collaborate.
    pub online: bool,
    /// The clone is catching up with its peers.
    pub outdated: bool,
    /// The clone is online but no other clone is present: its data is not backed up.
    pub silo: bool,
    /// The clone's local clock ticks.
    pub ticks: u64,
}

impl MeldStatus {
    /// The m-ld JSON form, `{"online","outdated","silo","ticks"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "online": self.online,
            "outdated": self.outdated,
            "silo": self.silo,
            "ticks": self.ticks,
        })
    }

    /// Whether the liveness flags (ignoring `ticks`) equal another status's.
    pub fn same_liveness(&self, other: &MeldStatus) -> bool {
        (self.online, self.outdated, self.silo) == (other.online, other.outdated, other.silo)
    }
}

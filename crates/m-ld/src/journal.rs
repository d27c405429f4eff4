//! Journal administration of a clone: its configuration ([`JournalConfig`], the `journal` key of
//! a m-ld-js `MeldConfig` plus a retention) and the clerk that runs it every few journal entries.
//!
//! Owns when administration runs; what it does (fusion, truncation) is
//! [`SuSet::compact_journal`](m_ld_core::suset::SuSet::compact_journal) in core. It must not
//! touch the SU-Set otherwise.

use m_ld_core::store::Store;
use m_ld_core::suset::{JournalAdmin, Retention, SuSet};
use serde_json::Value;

use crate::MeldError;

/// How a clone administers its journal (`journal` in the JSON configuration):
///
/// ```json
/// {"journal": {"retain": 1000, "maxEntryFootprint": 10000, "adminDebounce": 1000}}
/// ```
///
/// - `retain`: the most journal entries kept (after fusion); absent or `null` keeps them all,
///   as m-ld-js does. A peer asking for a rev-up from before the kept entries is refused and
///   takes a snapshot instead.
/// - `maxEntryFootprint` (m-ld-js): contiguous entries are fused until a fusion's footprint
///   reaches this many bytes (default 10,000); `0` disables fusion.
/// - `adminDebounce` (m-ld-js): `0` turns automatic administration off; other values are
///   accepted, but administration runs every few entries rather than after a quiet time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalConfig {
    /// Fusion and retention settings.
    pub admin: JournalAdmin,
    /// Whether the clone administers its journal by itself, every few journal entries.
    pub automatic: bool,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            admin: JournalAdmin::default(),
            automatic: true,
        }
    }
}

impl JournalConfig {
    /// Reads the `journal` object of a JSON configuration. Unknown keys are rejected.
    pub fn from_json(value: &Value) -> Result<JournalConfig, MeldError> {
        let obj = value
            .as_object()
            .ok_or_else(|| MeldError::Config(format!("journal must be an object, not {value}")))?;
        let mut config = JournalConfig::default();
        for (key, value) in obj {
            match key.as_str() {
                "retain" => {
                    config.admin.retention = match value {
                        Value::Null => Retention::All,
                        _ => Retention::Entries(value.as_u64().ok_or_else(|| {
                            MeldError::Config(format!(
                                "journal.retain must be a non-negative integer, not {value}"
                            ))
                        })?),
                    }
                }
                "maxEntryFootprint" => {
                    config.admin.max_entry_footprint = value
                        .as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| {
                            MeldError::Config(format!(
                                "journal.maxEntryFootprint must be a non-negative integer, not {value}"
                            ))
                        })?;
                }
                "adminDebounce" => {
                    let ms = value.as_u64().ok_or_else(|| {
                        MeldError::Config(format!(
                            "journal.adminDebounce must be a non-negative integer, not {value}"
                        ))
                    })?;
                    config.automatic = ms > 0;
                }
                other => {
                    return Err(MeldError::Config(format!(
                        "unknown journal configuration key {other:?}"
                    )));
                }
            }
        }
        Ok(config)
    }

    /// How many journal entries may be added between two automatic administrations: often
    /// enough to keep the journal near its retention, rarely enough that each pass (which
    /// reads the kept entries and rewrites the dropped history) stays cheap per entry.
    fn interval(&self) -> u64 {
        match self.admin.retention {
            Retention::All => 256,
            Retention::Entries(keep) => (keep / 4).clamp(64, 4096),
        }
    }
}

/// Runs journal administration on a clone's SU-Set every [`JournalConfig::interval`] entries.
#[derive(Debug)]
pub(crate) struct Clerk {
    config: JournalConfig,
    /// Journal entries added since the last administration.
    pending: u64,
}

impl Clerk {
    pub(crate) fn new(config: JournalConfig) -> Clerk {
        Clerk { config, pending: 0 }
    }

    /// Notes `entries` new journal entries, and administers the journal if it is due, keeping
    /// every entry from local tick `unsent` on (operations not handed to the remotes yet, which
    /// only the journal can re-publish). A failure is logged, not returned: the entries that
    /// prompted it are committed already, and the next administration tries again.
    pub(crate) fn entries_added<S: Store>(
        &mut self,
        suset: &mut SuSet<S>,
        entries: u64,
        unsent: Option<u64>,
    ) {
        if !self.config.automatic || entries == 0 {
            return;
        }
        self.pending = self.pending.saturating_add(entries);
        if self.pending < self.config.interval() {
            return;
        }
        self.pending = 0;
        match suset.compact_journal_keeping(&self.config.admin, unsent) {
            Ok(done) => tracing::trace!(?done, "journal administered"),
            Err(e) => tracing::warn!("journal administration failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_journal_object() {
        let c = JournalConfig::from_json(&json!({"retain": 10, "maxEntryFootprint": 0})).unwrap();
        assert_eq!(c.admin.retention, Retention::Entries(10));
        assert_eq!(c.admin.max_entry_footprint, 0);
        assert!(c.automatic);
        let c = JournalConfig::from_json(&json!({"retain": null, "adminDebounce": 0})).unwrap();
        assert_eq!(c.admin.retention, Retention::All);
        assert!(!c.automatic);
        assert_eq!(
            JournalConfig::from_json(&json!({})).unwrap(),
            JournalConfig::default()
        );
        for bad in [
            json!([]),
            json!({"retain": -1}),
            json!({"retain": "10"}),
            json!({"maxEntryFootprint": 1.5}),
            json!({"retian": 10}),
        ] {
            assert!(JournalConfig::from_json(&bad).is_err(), "{bad}");
        }
    }

    /// A peer that fell behind a clone's retained journal catches up by snapshot, keeping the
    /// writes it made meanwhile, even more of them than its own retention.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_peer_behind_the_retention_recovers_by_snapshot() {
        use crate::{InProcessDomain, MeldClone, MeldConfig};
        use m_ld_core::store::MemoryStore;
        use std::time::Duration;

        async fn start(hub: &InProcessDomain, id: &str, genesis: bool) -> MeldClone {
            let config = MeldConfig::from_json(&json!({
                "@id": id, "@domain": "test.example.org", "genesis": genesis,
                "journal": {"retain": 10, "maxEntryFootprint": 0}
            }))
            .unwrap();
            MeldClone::open_with_remotes(MemoryStore::new(), hub.remotes(id), config)
                .await
                .unwrap()
        }
        let dump = |c: &MeldClone| c.read_state().unwrap().to_ntriples().unwrap();

        let hub = InProcessDomain::new();
        let a = start(&hub, "a", true).await;
        let b = start(&hub, "b", false).await;
        hub.partition("b", true);
        for n in 0..200 {
            a.write(&json!({"@id": format!("a{n}"), "n": n}))
                .await
                .unwrap();
        }
        // B's writes while cut off go nowhere: its journal keeps them all, past its retention,
        // to publish them once reconnected.
        for n in 0..300 {
            b.write(&json!({"@id": format!("b{n}"), "n": n}))
                .await
                .unwrap();
        }
        hub.partition("b", false);
        for _ in 0..500 {
            let settled = [&a, &b].iter().all(|c| !c.status().unwrap().outdated);
            if settled && dump(&a) == dump(&b) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let data = dump(&a);
        assert_eq!(data, dump(&b), "converged");
        assert!(data.contains("/b0>") && data.contains("/b299>"), "{data}");
        assert!(data.contains("/a0>") && data.contains("/a199>"), "{data}");
    }

    #[test]
    fn the_clerk_keeps_the_journal_near_its_retention() {
        let mut suset = SuSet::genesis(m_ld_core::store::MemoryStore::new(), "a.org").unwrap();
        let config = JournalConfig {
            admin: JournalAdmin {
                retention: Retention::Entries(10),
                max_entry_footprint: 0,
            },
            automatic: true,
        };
        let mut clerk = Clerk::new(config);
        for i in 0..500 {
            let t = oxrdf::Triple::new(
                oxrdf::NamedNode::new_unchecked("http://a.org/s"),
                oxrdf::NamedNode::new_unchecked("http://a.org/p"),
                oxrdf::Literal::from(i),
            );
            suset
                .transact(m_ld_core::suset::Patch {
                    deletes: vec![],
                    inserts: vec![t],
                })
                .unwrap();
            clerk.entries_added(&mut suset, 1, None);
            let journal = suset.journal().unwrap().len() as u64;
            assert!(journal < 10 + config.interval(), "{journal} entries");
        }
        assert!(suset.journal_start() > 400);
        // Off: the journal grows.
        let mut off = Clerk::new(JournalConfig {
            automatic: false,
            ..config
        });
        let before = suset.journal_start();
        for i in 0..200 {
            let t = oxrdf::Triple::new(
                oxrdf::NamedNode::new_unchecked("http://a.org/s"),
                oxrdf::NamedNode::new_unchecked("http://a.org/q"),
                oxrdf::Literal::from(i),
            );
            suset
                .transact(m_ld_core::suset::Patch {
                    deletes: vec![],
                    inserts: vec![t],
                })
                .unwrap();
            off.entries_added(&mut suset, 1, None);
        }
        assert_eq!(suset.journal_start(), before);
        assert!(suset.journal().unwrap().len() >= 200);
    }
}

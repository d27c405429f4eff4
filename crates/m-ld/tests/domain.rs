//! Clones sharing a domain in one process, through an `InProcessDomain`: joining by snapshot,
//! live operations, partitions and restarts all converge.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use m_ld::core::CoreError;
use m_ld::core::clock::TreeClock;
use m_ld::core::operation::OperationMessage;
use m_ld::core::remotes::{LocalClone, RemoteRevup, RemoteSnapshot, Remotes};

use m_ld::core::store::MemoryStore;
use m_ld::{InProcessDomain, MeldClone, MeldConfig, MeldError};
use serde_json::json;

const DOMAIN: &str = "test.example.org";

async fn start(
    hub: &InProcessDomain,
    id: &str,
    genesis: bool,
    store: MemoryStore,
) -> Result<MeldClone, MeldError> {
    MeldClone::open_with_remotes(store, hub.remotes(id), MeldConfig::new(id, DOMAIN, genesis)).await
}

fn dump(clone: &MeldClone) -> String {
    clone.read_state().unwrap().to_ntriples().unwrap()
}

/// Waits (bounded) until every clone holds the same data and none is outdated.
async fn converged(clones: &[&MeldClone]) -> String {
    for _ in 0..500 {
        let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
        let settled = clones.iter().all(|c| !c.status().unwrap().outdated);
        if settled && dumps.windows(2).all(|w| w[0] == w[1]) {
            return dumps[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
    panic!("clones did not converge: {dumps:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_clone_joins_by_snapshot_and_both_see_each_others_writes() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    assert!(a.status().unwrap().silo);
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let b = start(&hub, "b", false, MemoryStore::new()).await.unwrap();
    assert_eq!(
        b.get("fred").await.unwrap(),
        Some(json!({"@id": "fred", "name": "Fred"}))
    );
    let mut b_updates = b.follow().unwrap();
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    let update = tokio::time::timeout(Duration::from_secs(5), b_updates.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        update.insert,
        vec![json!({"@id": "wilma", "name": "Wilma"})]
    );
    b.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 3);
    assert!(!a.status().unwrap().silo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_three_clones_converge() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let b = start(&hub, "b", false, MemoryStore::new()).await.unwrap();
    let c = start(&hub, "c", false, MemoryStore::new()).await.unwrap();
    let writers = [a.clone(), b.clone(), c.clone()].map(|clone| {
        tokio::spawn(async move {
            for n in 0..20 {
                let id = clone.config().id.clone();
                clone
                    .write(&json!({"@id": "shared", "count": n, "by": id}))
                    .await
                    .unwrap();
                if n % 3 == 0 {
                    clone
                        .write(&json!({"@delete": {"@id": "shared", "count": "?c"}}))
                        .await
                        .unwrap();
                }
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    converged(&[&a, &b, &c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_that_wrote_while_partitioned_converge_when_healed() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let b = start(&hub, "b", false, MemoryStore::new()).await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    hub.partition("b", true);
    a.write(&json!({"@id": "fred", "age": 40})).await.unwrap();
    b.write(&json!({"@delete": {"@id": "fred", "name": "Fred"}, "@insert": {"@id": "fred", "name": "Freddy"}}))
        .await
        .unwrap();
    b.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    assert!(!b.status().unwrap().online);
    hub.partition("b", false);
    let data = converged(&[&a, &b]).await;
    assert!(
        data.contains("Freddy") && data.contains("Wilma") && data.contains("40"),
        "{data}"
    );
    assert!(!data.contains("\"Fred\""), "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_clone_catches_up_by_revup() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let b_store = MemoryStore::new();
    let b = start(&hub, "b", false, b_store.clone()).await.unwrap();
    b.write(&json!({"@id": "barney", "name": "Barney"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    b.close().await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    let b = start(&hub, "b", false, b_store).await.unwrap();
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 2, "{data}");
}

/// Clones a and b, where b (its data in the returned store) closed before a wrote Fred.
async fn fred_written_while_b_was_away(hub: &InProcessDomain) -> (MeldClone, MemoryStore) {
    let a = start(hub, "a", true, MemoryStore::new()).await.unwrap();
    let b_store = MemoryStore::new();
    let b = start(hub, "b", false, b_store.clone()).await.unwrap();
    converged(&[&a, &b]).await;
    b.close().await.unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    (a, b_store)
}

/// The first follower of `b` gets the catch-up update inserting Fred.
async fn first_follower_sees_fred(b: &MeldClone) {
    let mut updates = b.follow().unwrap();
    let update = tokio::time::timeout(Duration::from_secs(5), updates.next())
        .await
        .expect("the catch-up update")
        .unwrap()
        .unwrap();
    assert_eq!(
        update.to_json()["@insert"],
        json!([{"@id": "fred", "name": "Fred"}])
    );
}

/// The catch-up of a reopened clone runs after `open` returns; its updates still reach the
/// first follower, even one that subscribes only once the catch-up is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_follower_of_a_reopened_clone_sees_its_catch_up() {
    let hub = InProcessDomain::new();
    let (a, b_store) = fred_written_while_b_was_away(&hub).await;
    let b = start(&hub, "b", false, b_store).await.unwrap();
    converged(&[&a, &b]).await;
    first_follower_sees_fred(&b).await;
    // Later followers start from now.
    let mut later = b.follow().unwrap();
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    let update = tokio::time::timeout(Duration::from_secs(5), later.next())
        .await
        .expect("a later update")
        .unwrap()
        .unwrap();
    assert_eq!(update.to_json()["@insert"][0]["@id"], json!("wilma"));
}

/// A reopened clone may see its peers only after it attached (their presence arrives late), and
/// catch up before its app calls `follow`: the first follower still gets those updates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_follower_sees_a_catch_up_started_by_late_presence() {
    let hub = InProcessDomain::new();
    let (a, b_store) = fred_written_while_b_was_away(&hub).await;
    // b resumes alone (a silo), then sees a and catches up before anyone follows it.
    let mut late = Unreliable::new(hub.remotes("b"));
    late.late_presence = Some(Duration::from_millis(50));
    let config = MeldConfig::new("b", DOMAIN, false);
    let b = MeldClone::open_with_remotes(b_store, Arc::new(late), config)
        .await
        .unwrap();
    let status = b.status().unwrap();
    assert!(status.silo, "{status:?}");
    converged(&[&a, &b]).await;
    first_follower_sees_fred(&b).await;
}

/// A clone catching up after a partition refuses to rev peers up (5035), so that they ask a
/// peer whose data is complete: what it would send may lack what it is still catching up on,
/// and with no later operation to reveal the gap, the requester would miss it until the next
/// anti-entropy round. Once caught up, it answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_catching_up_refuses_to_rev_peers_up() {
    let hub = InProcessDomain::new();
    let a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let mut slow = Unreliable::new(hub.remotes("b"));
    slow.slow_revup = Some(Duration::from_millis(300));
    let local = Arc::clone(&slow.local);
    let config = MeldConfig::new("b", DOMAIN, false);
    let b = MeldClone::open_with_remotes(MemoryStore::new(), Arc::new(slow), config)
        .await
        .unwrap();
    let b_local = local.lock().unwrap().clone().expect("b attached");
    hub.partition("b", true);
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    // The hub delivers in the background: let it pass the partitioned clone by.
    tokio::time::sleep(Duration::from_millis(50)).await;
    hub.partition("b", false);
    let mut waited = 0;
    while !b.status().unwrap().outdated {
        assert!(waited < 500, "b never started catching up");
        waited += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let refused = b_local.revup_from(&TreeClock::genesis()).await;
    assert!(
        matches!(&refused, Err(e) if e.status() == 5035),
        "{:?}",
        refused.map(|r| r.is_some())
    );
    converged(&[&a, &b]).await;
    let answered = b_local.revup_from(&TreeClock::genesis()).await;
    assert!(answered.is_ok(), "{:?}", answered.err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_rules_are_enforced() {
    let hub = InProcessDomain::new();
    let lonely = start(&hub, "x", false, MemoryStore::new()).await;
    assert_eq!(lonely.err().map(|e| e.status()), Some(5031));
    let _a = start(&hub, "a", true, MemoryStore::new()).await.unwrap();
    let second = start(&hub, "z", true, MemoryStore::new()).await;
    assert!(matches!(second, Err(MeldError::GenesisConflict)));
    let same_id = start(&hub, "a", false, MemoryStore::new()).await;
    assert!(same_id.is_err());
}

/// Remotes that misbehave as MQTT may: they lose the next operation broadcast to their clone
/// when told to (a clone briefly away, with no presence change to tell anyone), and, with
/// `late_presence`, report the first peers seen as absent at first and as present only after
/// that delay (their retained presence records reached the broker after we subscribed). With
/// `slow_revup`, their clone's own rev-up requests wait that long before going out (it stays
/// outdated meanwhile).
struct Unreliable {
    inner: Arc<dyn Remotes>,
    lose_next: Arc<AtomicBool>,
    late_presence: Option<Duration>,
    slow_revup: Option<Duration>,
    /// The clone's side, once attached.
    local: Arc<std::sync::Mutex<Option<Arc<dyn LocalClone>>>>,
}

impl Unreliable {
    fn new(inner: Arc<dyn Remotes>) -> Self {
        Unreliable {
            inner,
            lose_next: Arc::default(),
            late_presence: None,
            slow_revup: None,
            local: Arc::default(),
        }
    }
}

struct UnreliableLocal {
    local: Arc<dyn LocalClone>,
    lose_next: Arc<AtomicBool>,
    late_presence: Option<Duration>,
    delaying: AtomicBool,
    presence_delayed: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl LocalClone for UnreliableLocal {
    fn id(&self) -> &str {
        self.local.id()
    }
    fn operation(&self, msg: OperationMessage) {
        if !self.lose_next.swap(false, Ordering::SeqCst) {
            self.local.operation(msg);
        }
    }
    fn presence(&self, others: Option<bool>) {
        let Some(delay) = self.late_presence else {
            return self.local.presence(others);
        };
        if others != Some(true) || self.presence_delayed.load(Ordering::SeqCst) {
            return self.local.presence(others);
        }
        // Peers are absent until the delay is over (once).
        self.local.presence(Some(false));
        if !self.delaying.swap(true, Ordering::SeqCst) {
            let local = Arc::clone(&self.local);
            let delayed = Arc::clone(&self.presence_delayed);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                delayed.store(true, Ordering::SeqCst);
                local.presence(Some(true));
            });
        }
    }
    fn refuse(&self, error: CoreError) {
        self.local.refuse(error);
    }
    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        self.local.snapshot(new_clock).await
    }
    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError> {
        self.local.revup_from(time).await
    }
}

#[async_trait::async_trait]
impl Remotes for Unreliable {
    async fn attach(&self, local: Arc<dyn LocalClone>) -> Result<(), CoreError> {
        let unreliable = UnreliableLocal {
            local,
            lose_next: Arc::clone(&self.lose_next),
            late_presence: self.late_presence,
            delaying: AtomicBool::new(false),
            presence_delayed: Arc::default(),
        };
        let unreliable: Arc<dyn LocalClone> = Arc::new(unreliable);
        *self.local.lock().unwrap() = Some(Arc::clone(&unreliable));
        self.inner.attach(unreliable).await
    }
    fn publish(&self, msg: &OperationMessage) -> Result<(), CoreError> {
        self.inner.publish(msg)
    }
    async fn set_present(&self, present: bool) -> Result<(), CoreError> {
        self.inner.set_present(present).await
    }
    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        self.inner.snapshot(new_clock).await
    }
    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError> {
        if let Some(delay) = self.slow_revup {
            tokio::time::sleep(delay).await;
        }
        self.inner.revup_from(time).await
    }
    async fn detach(&self) {
        self.inner.detach().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_last_operation_is_caught_up_without_a_later_one() {
    let hub = InProcessDomain::new();
    let config = |id: &str, genesis| {
        let mut config = MeldConfig::new(id, DOMAIN, genesis);
        config.network_timeout = Duration::from_millis(100);
        config
    };
    let a = MeldClone::open_with_remotes(MemoryStore::new(), hub.remotes("a"), config("a", true))
        .await
        .unwrap();
    let lossy = Unreliable::new(hub.remotes("b"));
    let lose_next = Arc::clone(&lossy.lose_next);
    let b = MeldClone::open_with_remotes(MemoryStore::new(), Arc::new(lossy), config("b", false))
        .await
        .unwrap();
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    converged(&[&a, &b]).await;
    lose_next.store(true, Ordering::SeqCst);
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    // The hub may deliver asynchronously: wait until B has lost the operation.
    for _ in 0..500 {
        if !lose_next.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !lose_next.load(Ordering::SeqCst),
        "the operation never reached B"
    );
    // No later operation reveals the gap: B must find it by itself.
    let data = converged(&[&a, &b]).await;
    assert_eq!(data.lines().count(), 2, "{data}");
}

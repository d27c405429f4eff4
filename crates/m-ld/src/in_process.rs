//! In-process messaging: several clones in one process share a domain through an
//! [`InProcessDomain`], with no broker. For tests and single-process apps.
//!
//! It behaves like a pub/sub broker: each clone's operations reach every other attached clone in
//! publish order; presence is tracked per clone; snapshot and rev-up requests go to present peers
//! in round-robin order. A clone can be *partitioned* (cut off, as if its connection dropped) and
//! healed, to exercise recovery. It owns no clone state and must not look inside operations.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use m_ld_core::CoreError;
use m_ld_core::clock::TreeClock;
use m_ld_core::operation::OperationMessage;
use m_ld_core::remotes::{LocalClone, RemoteRevup, RemoteSnapshot, Remotes};
use tokio::sync::mpsc;

/// A domain's in-process message hub. Cheap to clone; clones of it are the same hub.
#[derive(Clone)]
pub struct InProcessDomain {
    members: Arc<Mutex<Vec<Member>>>,
    /// Ids of partitioned clones. Apart from `members` because `publish` (called under a clone's
    /// engine lock) must never wait for the members lock, which deliveries hold while calling
    /// into clones.
    partitioned: Arc<Mutex<HashSet<String>>>,
    deliveries: mpsc::UnboundedSender<Delivery>,
}

struct Member {
    id: String,
    local: Arc<dyn LocalClone>,
    present: bool,
    partitioned: bool,
}

struct Delivery {
    from: String,
    msg: OperationMessage,
}

impl Default for InProcessDomain {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcessDomain {
    /// A new hub. Must be called within a tokio runtime: it runs one delivery task, which ends
    /// when the hub and all its remotes are dropped.
    pub fn new() -> Self {
        let members: Arc<Mutex<Vec<Member>>> = Arc::default();
        let (deliveries, mut queue) = mpsc::unbounded_channel::<Delivery>();
        let task_members = Arc::clone(&members);
        tokio::spawn(async move {
            while let Some(Delivery { from, msg }) = queue.recv().await {
                // Delivered under the hub lock, so a clone that attaches later sees every
                // operation that its collaborator has not yet applied.
                let members = lock(&task_members);
                for member in members.iter() {
                    if member.id != from && !member.partitioned {
                        member.local.operation(msg.clone());
                    }
                }
            }
        });
        InProcessDomain {
            members,
            partitioned: Arc::default(),
            deliveries,
        }
    }

    /// The remotes for the clone with identity `id`, to pass to
    /// [`MeldClone::open_with_remotes`](crate::MeldClone::open_with_remotes).
    pub fn remotes(&self, id: &str) -> Arc<dyn Remotes> {
        Arc::new(InProcessRemotes {
            domain: self.clone(),
            id: id.to_owned(),
            recently_sent: Mutex::default(),
        })
    }

    /// Cuts a clone off from the domain (`true`) or restores it (`false`). While cut off, it sends
    /// and receives nothing, and it and its peers see each other as gone.
    pub fn partition(&self, id: &str, partitioned: bool) {
        let mut members = lock(&self.members);
        {
            let mut cut = lock(&self.partitioned);
            if partitioned {
                cut.insert(id.to_owned());
            } else {
                cut.remove(id);
            }
        }
        for member in members.iter_mut().filter(|m| m.id == id) {
            member.partitioned = partitioned;
        }
        notify_presence(&members);
    }

    fn is_partitioned(&self, id: &str) -> bool {
        lock(&self.partitioned).contains(id)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The hub's state stays consistent across a panic in a clone's callback: recover it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Tells every member whether any other member is present (`None` if it is cut off).
fn notify_presence(members: &[Member]) {
    for member in members {
        let others = if member.partitioned {
            None
        } else {
            Some(
                members
                    .iter()
                    .any(|m| m.id != member.id && m.present && !m.partitioned),
            )
        };
        member.local.presence(others);
    }
}

/// One clone's connection to an [`InProcessDomain`].
struct InProcessRemotes {
    domain: InProcessDomain,
    id: String,
    recently_sent: Mutex<HashSet<String>>,
}

impl InProcessRemotes {
    /// Present peers, in round-robin order (m-ld-js `PubsubRemotes.nextSender`): those not
    /// recently asked first.
    fn collaborators(&self) -> Result<Vec<Arc<dyn LocalClone>>, CoreError> {
        if self.domain.is_partitioned(&self.id) {
            return Err(CoreError::Transport("partitioned from the domain".into()));
        }
        let members = lock(&self.domain.members);
        let present: Vec<&Member> = members
            .iter()
            .filter(|m| m.id != self.id && m.present && !m.partitioned)
            .collect();
        if present.is_empty() {
            return Err(CoreError::NoVisibleClones);
        }
        let mut recent = self
            .recently_sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if present.iter().all(|m| recent.contains(&m.id)) {
            recent.clear();
        }
        let (fresh, stale): (Vec<&&Member>, Vec<&&Member>) =
            present.iter().partition(|m| !recent.contains(&m.id));
        if let Some(first) = fresh.first() {
            recent.insert(first.id.clone());
        }
        Ok(fresh
            .into_iter()
            .chain(stale)
            .map(|m| Arc::clone(&m.local))
            .collect())
    }
}

#[async_trait]
impl Remotes for InProcessRemotes {
    async fn attach(&self, local: Arc<dyn LocalClone>) -> Result<(), CoreError> {
        let mut members = lock(&self.domain.members);
        if members.iter().any(|m| m.id == self.id) {
            return Err(CoreError::Transport(format!(
                "a clone with id {:?} is already attached",
                self.id
            )));
        }
        members.push(Member {
            id: self.id.clone(),
            local,
            present: false,
            partitioned: false,
        });
        notify_presence(&members);
        Ok(())
    }

    fn publish(&self, msg: &OperationMessage) -> Result<(), CoreError> {
        if self.domain.is_partitioned(&self.id) {
            return Err(CoreError::Transport("partitioned from the domain".into()));
        }
        self.domain
            .deliveries
            .send(Delivery {
                from: self.id.clone(),
                msg: msg.clone(),
            })
            .map_err(|_| CoreError::Transport("the domain hub has stopped".into()))
    }

    async fn set_present(&self, present: bool) -> Result<(), CoreError> {
        let mut members = lock(&self.domain.members);
        for member in members.iter_mut().filter(|m| m.id == self.id) {
            member.present = present;
        }
        notify_presence(&members);
        Ok(())
    }

    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        let mut last = CoreError::NoVisibleClones;
        for peer in self.collaborators()? {
            match peer.snapshot(new_clock).await {
                Ok(snapshot) => return Ok(snapshot),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError> {
        // As over MQTT: `None` if a peer said it cannot, an error if every peer refused.
        let mut unable = false;
        let mut last = CoreError::NoVisibleClones;
        for peer in self.collaborators()? {
            match peer.revup_from(time).await {
                Ok(Some(revup)) => return Ok(Some(revup)),
                Ok(None) => unable = true,
                Err(e) => {
                    tracing::debug!("peer {} cannot rev up: {e}", peer.id());
                    last = e;
                }
            }
        }
        if unable { Ok(None) } else { Err(last) }
    }

    async fn detach(&self) {
        let mut members = lock(&self.domain.members);
        members.retain(|m| m.id != self.id);
        notify_presence(&members);
    }
}

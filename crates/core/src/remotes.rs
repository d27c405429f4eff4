//! The contract between a clone and its messaging layer: [`Remotes`] (implemented by transport
//! adapters: MQTT, Ably, in-process) and [`LocalClone`] (implemented by the engine, called by the
//! adapter when peers send something).
//!
//! The shapes follow m-ld's recovery protocol (docs/protocol.md §2.4–§2.5, §4.5–§4.6): operations
//! are broadcast; a new clone asks one collaborator for a *snapshot*; a returning clone asks for a
//! *rev-up* (the operations it missed). Responses carry streams, because a snapshot can be large.
//!
//! This module defines types and traits only. It must not know any transport, encoding or
//! runtime; the async methods are plain futures (via `async-trait`) that adapters drive.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures_core::Stream;
use oxrdf::Triple;

use crate::CoreError;
use crate::clock::{GlobalClock, Tid, TreeClock};
use crate::operation::{Operation, OperationMessage};

/// A stream of items from a peer, each of which may fail (for example on a timeout).
pub type PeerStream<T> = Pin<Box<dyn Stream<Item = Result<T, CoreError>> + Send>>;

/// One item of snapshot data (docs/protocol.md §2.5 `Snapshot.Datum`).
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotDatum {
    /// A batch of triples, each with its TIDs. Entailed triples have no TIDs.
    Triples(Vec<(Triple, Vec<Tid>)>),
    /// The latest operation of a process, fused with its contiguous history, kept by the
    /// receiver so that it can cut fused operations it receives later.
    Operation(Operation),
}

/// A collaborator's snapshot of the domain (docs/protocol.md §4.6).
pub struct RemoteSnapshot {
    /// A clock forked for the requester, if it asked for one.
    pub clock: Option<TreeClock>,
    /// The collaborator's global wall clock.
    pub gwc: GlobalClock,
    /// The time of the collaborator's last agreement.
    pub agreed: Option<TreeClock>,
    /// The data.
    pub data: PeerStream<SnapshotDatum>,
    /// Operations the collaborator received while it was sending the data.
    pub updates: PeerStream<OperationMessage>,
}

/// A collaborator's rev-up: the operations the requester has not seen (docs/protocol.md §4.5).
pub struct RemoteRevup {
    /// The collaborator's global wall clock when it answered.
    pub gwc: GlobalClock,
    /// The operations, in the collaborator's journal order.
    pub updates: PeerStream<OperationMessage>,
}

impl std::fmt::Debug for RemoteSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSnapshot")
            .field("clock", &self.clock)
            .field("gwc", &self.gwc)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RemoteRevup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteRevup")
            .field("gwc", &self.gwc)
            .finish_non_exhaustive()
    }
}

/// A clone's messaging layer, as the engine uses it.
#[async_trait]
pub trait Remotes: Send + Sync + 'static {
    /// Connects `local` to the domain. From now on the adapter calls `local` with the operations
    /// and presence changes it sees, and with requests from peers.
    async fn attach(&self, local: Arc<dyn LocalClone>) -> Result<(), CoreError>;

    /// Broadcasts an operation to every other clone of the domain. It must not wait for peers;
    /// an adapter that is not connected reports an error and the operation reaches peers later
    /// through their rev-ups.
    fn publish(&self, msg: &OperationMessage) -> Result<(), CoreError>;

    /// Declares this clone present (able to answer snapshots and rev-ups) or not.
    async fn set_present(&self, present: bool) -> Result<(), CoreError>;

    /// Asks a collaborator for a snapshot; `new_clock` asks it to fork a clock for us.
    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError>;

    /// Asks collaborators for the operations after `time`; `None` if none can provide them
    /// (their journals start later), in which case the caller falls back to a snapshot.
    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError>;

    /// Leaves the domain: presence withdrawn, no more calls to the attached clone.
    async fn detach(&self);

    /// The largest encoded operation message this transport can carry, if it has a limit: the
    /// clone refuses local writes beyond it (4002) rather than commit what peers could never
    /// receive.
    fn max_operation_size(&self) -> Option<usize> {
        None
    }
}

/// The engine side of the messaging contract: what an adapter calls when peers act.
#[async_trait]
pub trait LocalClone: Send + Sync + 'static {
    /// The clone's `@id` (its transport identity).
    fn id(&self) -> &str;

    /// An operation broadcast by another clone. Duplicates and out-of-order arrivals are the
    /// engine's to handle; the adapter delivers each sender's operations in the order received.
    fn operation(&self, msg: OperationMessage);

    /// Whether any *other* clone is present: `Some(true)` or `Some(false)` while connected,
    /// `None` when the adapter has lost its connection.
    fn presence(&self, others_present: Option<bool>);

    /// Peers use a domain feature this engine does not implement (`error` names it, see
    /// [`CoreError::unsupported_feature`]): the clone leaves the domain rather than diverge.
    fn refuse(&self, error: CoreError);

    /// A peer asks this clone for a snapshot.
    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError>;

    /// A peer asks this clone for the operations after `time`.
    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError>;
}

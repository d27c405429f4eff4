//! Joining a domain and staying in it: start-up decisions (docs/protocol.md §4.8, §5.2), rev-up
//! recovery (§4.5), and the engine's side of the messaging contract ([`LocalClone`]).
//!
//! Owns the async orchestration between a clone and its [`Remotes`]; the data logic it drives
//! lives in core ([`SuSet`], `CausalBuffer`). It must not know any transport.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use m_ld_core::CoreError;
use m_ld_core::clock::{GlobalClock, Tid, TreeClock};
use m_ld_core::features;
use m_ld_core::journal::RevupTime;
use m_ld_core::operation::{Operation, OperationMessage};
use m_ld_core::remotes::{
    LocalClone, PeerStream, RemoteRevup, RemoteSnapshot, Remotes, SnapshotDatum,
};
use m_ld_core::store::{Store, StoreSnapshot};
use m_ld_core::suset::{DatasetState, SuSet, Update};
use oxrdf::Triple;

use crate::MeldError;
use crate::clone::{Inner, Slot};

/// How long a starting clone waits for its remotes to report who is present.
const PRESENCE_TIMEOUT: Duration = Duration::from_secs(5);

/// Triples per snapshot data item.
const SNAPSHOT_BATCH: usize = 1000;

/// Starts a clone with remotes: attach, learn who is present, then resume, join by snapshot, or
/// begin the domain, and declare ourselves present. A resumed clone catches up by rev-up in the
/// background (its status is `outdated` meanwhile).
pub(crate) async fn start<S: Store + Clone>(
    inner: &Arc<Inner<S>>,
    store: S,
) -> Result<(), MeldError> {
    let Some(remotes) = inner.remotes.clone() else {
        return Err(MeldError::Config("no remotes to start with".into()));
    };
    let local = Arc::new(LocalHandle {
        inner: Arc::downgrade(inner),
        id: inner.config.id.clone(),
        runtime: tokio::runtime::Handle::current(),
    });
    let mut presence = inner.presence.subscribe();
    remotes.attach(local).await?;
    let others =
        match tokio::time::timeout(PRESENCE_TIMEOUT, presence.wait_for(Option::is_some)).await {
            Ok(Ok(others)) => others.unwrap_or(false),
            _ => {
                remotes.detach().await;
                return Err(CoreError::Transport("no connection to the domain".into()).into());
            }
        };
    let result = begin(inner, remotes.as_ref(), store, others).await;
    let (suset, updates, resumed) = match result {
        Ok(found) => found,
        Err(e) => {
            remotes.detach().await;
            return Err(e);
        }
    };
    // A resumed clone catches up with its peers in the background: below if they were present
    // at the start, or as soon as their presence is seen, which can be before we return. Its
    // first follower gets those updates too: they are kept from the engine's creation.
    let running = inner.run(suset, true, resumed).and_then(|()| {
        inner.with_engine(|engine| {
            for msg in updates {
                engine.receive(msg)?;
            }
            Ok(())
        })
    });
    if let Err(e) = running {
        remotes.detach().await;
        return Err(e);
    }
    remotes.set_present(true).await?;
    if resumed {
        tokio::spawn(keep_early_updates(Arc::clone(inner), others));
    }
    tokio::spawn(anti_entropy(Arc::downgrade(inner)));
    Ok(())
}

/// Catches a resumed clone up (when peers were present at its start), then keeps the updates
/// since it opened for its first follower until one network timeout after the catch-up that
/// opening started. Peers first seen within a network timeout of opening start that catch-up
/// from [`LocalHandle::presence`].
async fn keep_early_updates<S: Store>(inner: Arc<Inner<S>>, others: bool) {
    if others {
        connect(Arc::clone(&inner)).await;
    }
    let timeout = inner.config.network_timeout;
    tokio::time::sleep(timeout).await;
    let Ok(mut status) = inner.with_engine(|engine| Ok(engine.status.subscribe())) else {
        return;
    };
    if status.borrow().outdated {
        // A catch-up is under way: keep them until it ends, and a while after.
        if status.wait_for(|s| !s.outdated).await.is_err() {
            return;
        }
        tokio::time::sleep(timeout).await;
    }
    let _ = inner.with_engine(|engine| {
        engine.early_updates = None;
        Ok(())
    });
}

/// How often a live clone asks a peer for operations it may have missed, in network timeouts.
const ANTI_ENTROPY_TIMEOUTS: u32 = 5;

/// Asks a peer (the next, round-robin) for anything we missed, every few network timeouts while
/// other clones are present. A broadcast lost while we were away is otherwise found only when a
/// later operation from its author reveals the gap; if the author writes no more, and the peer
/// we caught up from had not seen it either, we would miss it for good. Quiet: the status stays
/// as it is unless the rev-up finds trouble, which starts a full recovery.
async fn anti_entropy<S: Store>(inner: Weak<Inner<S>>) {
    use std::sync::atomic::Ordering::SeqCst;
    loop {
        let period = match inner.upgrade() {
            Some(inner) => inner.config.network_timeout * ANTI_ENTROPY_TIMEOUTS,
            None => return,
        };
        tokio::time::sleep(period).await;
        let Some(inner) = inner.upgrade() else { return };
        let Ok(clock) = inner.with_engine(|engine| Ok(engine.suset.clock().clone())) else {
            return;
        };
        let (Some(remotes), Some(true)) = (inner.remotes.clone(), *inner.presence.borrow()) else {
            continue;
        };
        if inner.recovering.load(SeqCst) {
            continue;
        }
        let trouble = match remotes.revup_from(&clock).await {
            Ok(Some(revup)) => revup_with(&inner, revup).await.err(),
            Ok(None) => Some(CoreError::UpdatesUnavailable.into()),
            // Nobody answered: nothing to learn now.
            Err(_) => None,
        };
        if let Some(e) = trouble {
            tracing::info!("catching up ({e})");
            tokio::spawn(connect(inner));
        }
    }
}

/// The clone state to run: resumed from the store, joined by snapshot, or a new genesis.
/// Returns the state, operations to apply once running, and whether it was resumed.
async fn begin<S: Store + Clone>(
    inner: &Inner<S>,
    remotes: &dyn Remotes,
    store: S,
    others: bool,
) -> Result<(SuSet<S>, Vec<OperationMessage>, bool), MeldError> {
    let domain = &inner.config.domain;
    match (inner.existing(&store)?, others) {
        (Some(suset), true) if suset.clock().is_id() => Err(MeldError::GenesisConflict),
        (Some(suset), _) => Ok((suset, Vec::new(), true)),
        (None, true) if inner.config.genesis => Err(MeldError::GenesisConflict),
        (None, true) => {
            let (suset, updates) = join_by_snapshot(inner, remotes, store).await?;
            Ok((suset, updates, false))
        }
        (None, false) if inner.config.genesis => {
            Ok((SuSet::genesis(store, domain)?, Vec::new(), false))
        }
        (None, false) => Err(CoreError::NoVisibleClones.into()),
    }
}

/// How many snapshots a new clone asks for before it fails to join.
const JOIN_ATTEMPTS: u32 = 4;

/// Joins the domain by snapshot. A snapshot that fails in transit (its collaborator left, was
/// killed or went silent, or refused) is asked again, of the next collaborator in turn: nothing
/// is written to the store until one arrives whole, so a failed attempt leaves no trace.
async fn join_by_snapshot<S: Store + Clone>(
    inner: &Inner<S>,
    remotes: &dyn Remotes,
    store: S,
) -> Result<(SuSet<S>, Vec<OperationMessage>), MeldError> {
    let domain = &inner.config.domain;
    let mut attempt = 1;
    loop {
        let joined = match remotes.snapshot(true).await {
            Ok(snapshot) => join(store.clone(), domain, snapshot).await,
            Err(e) => Err(e.into()),
        };
        match joined {
            Err(MeldError::Core(e @ (CoreError::Transport(_) | CoreError::Rejected(_))))
                if attempt < JOIN_ATTEMPTS =>
            {
                tracing::info!("snapshot attempt {attempt} failed (asking again): {e}");
                let step = inner.config.network_timeout.min(Duration::from_secs(5)) / 20;
                tokio::time::sleep(step * attempt).await;
                attempt += 1;
            }
            joined => return joined,
        }
    }
}

/// Creates a new clone's state from a collaborator's snapshot.
async fn join<S: Store>(
    store: S,
    domain: &str,
    snapshot: RemoteSnapshot,
) -> Result<(SuSet<S>, Vec<OperationMessage>), MeldError> {
    let RemoteSnapshot {
        clock,
        gwc,
        agreed,
        data,
        updates,
    } = snapshot;
    let clock = clock.ok_or_else(|| CoreError::Transport("snapshot without a clock".into()))?;
    // Each datum is staged as it arrives, while the collaborator sends the next; the store is
    // written once the whole snapshot is in and shows no unsupported feature.
    let mut joining = SuSet::joining(store, domain, clock, gwc, agreed)?;
    let (triples, operations, updates) = receive_snapshot(data, updates, |datum| match datum {
        SnapshotDatum::Triples(batch) => batch
            .iter()
            .try_for_each(|(triple, tids)| joining.add_triple(triple, tids)),
        SnapshotDatum::Operation(op) => joining.add_operation(op),
    })
    .await?;
    refuse_features(&triples, &operations, &updates)?;
    let suset = joining.finish()?;
    // Freeing the received data takes a while: not on the way to running.
    tokio::task::spawn_blocking(move || drop((triples, operations)));
    Ok((suset, updates))
}

/// The triples (in batches as received, sparing the copies of one growing list), latest
/// operations and concurrent updates of a snapshot, received in full.
type ReceivedSnapshot = (
    Vec<Vec<(Triple, Vec<Tid>)>>,
    Vec<Operation>,
    Vec<OperationMessage>,
);

/// Fails if a snapshot shows that the domain uses a feature this engine does not implement.
fn refuse_features(
    triples: &[Vec<(Triple, Vec<Tid>)>],
    operations: &[Operation],
    updates: &[OperationMessage],
) -> Result<(), CoreError> {
    let found = features::in_triples(triples.iter().flatten().map(|(t, _)| t))
        .or_else(|| operations.iter().find_map(features::in_operation))
        .or_else(|| {
            updates
                .iter()
                .find_map(|msg| features::in_operation(&msg.op))
        });
    match found {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Receives a snapshot's data and updates streams in full, handing each datum to `stage` as it
/// arrives.
async fn receive_snapshot(
    mut data: PeerStream<SnapshotDatum>,
    updates: PeerStream<OperationMessage>,
    mut stage: impl FnMut(&SnapshotDatum) -> Result<(), CoreError>,
) -> Result<ReceivedSnapshot, MeldError> {
    let mut triples = Vec::new();
    let mut operations = Vec::new();
    while let Some(datum) = data.next().await {
        let datum = datum?;
        stage(&datum)?;
        match datum {
            SnapshotDatum::Triples(batch) => triples.push(batch),
            SnapshotDatum::Operation(op) => operations.push(op),
        }
    }
    let updates = updates
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    Ok((triples, operations, updates))
}

/// Catches up with the domain (m-ld-js `DatasetEngine.connect`): by rev-up from a peer, then
/// re-publishing our own operations that the peer had not seen; or, when no peer's journal
/// reaches back far enough, by a snapshot that replaces our data.
pub(crate) async fn connect<S: Store>(inner: Arc<Inner<S>>) {
    use tracing::Instrument;
    let span = tracing::debug_span!("recovery", clone = %inner.config.id);
    recover_until_done(inner).instrument(span).await;
}

/// The body of [`connect`].
async fn recover_until_done<S: Store>(inner: Arc<Inner<S>>) {
    use std::sync::atomic::Ordering::SeqCst;
    // One recovery at a time; a request during one makes it run once more when it finishes.
    inner.recover_again.store(true, SeqCst);
    if inner.recovering.swap(true, SeqCst) {
        return;
    }
    let mut attempt: u32 = 0;
    loop {
        while inner.recover_again.swap(false, SeqCst) {
            match recover(&inner, attempt).await {
                Ok(()) => attempt = 0,
                Err(MeldError::Core(e)) if e.unsupported_feature().is_some() => {
                    inner.refuse(&e);
                    break;
                }
                Err(e) => {
                    tracing::warn!("recovery failed (will retry): {e}");
                    let _ = inner.with_engine(|engine| {
                        engine.recovery_failed = true;
                        Ok(())
                    });
                    // Retry while other clones are visible, after a jittered back-off (m-ld-js
                    // retries after `(poisson(2) + 1) * random() * networkTimeout`).
                    let others = *inner.presence.borrow();
                    let running = inner.with_engine(|_| Ok(())).is_ok();
                    if running && others == Some(true) {
                        attempt = attempt.saturating_add(1);
                        let jitter: f64 = rand::random();
                        let timeout = inner.config.network_timeout;
                        let (step, floor) = if refused_as_outdated(&e) {
                            // Peers busy catching up are soon done, or answer after their own
                            // failed attempt (as when all healed at once): ask again soon.
                            (timeout / 100, 0.1)
                        } else {
                            (timeout.min(Duration::from_secs(5)), 0.05)
                        };
                        let factor = (f64::from(attempt.min(4)) * jitter).max(floor);
                        tokio::time::sleep(step.mul_f64(factor)).await;
                        inner.recover_again.store(true, SeqCst);
                    }
                }
            }
        }
        inner.recovering.store(false, SeqCst);
        // A request that raced with the end of the loop must not be lost.
        if !inner.recover_again.load(SeqCst) || inner.recovering.swap(true, SeqCst) {
            break;
        }
    }
}

/// Whether a recovery failed because every peer asked was itself catching up (5035).
fn refused_as_outdated(e: &MeldError) -> bool {
    matches!(e, MeldError::Core(e) if e.status() == CoreError::Outdated.status())
}

/// How many recovery attempts in a row may end with a gap before one takes a snapshot.
const GAP_ATTEMPTS: u32 = 2;

/// One recovery attempt (`attempt` failed before it): rev-up, or snapshot when no peer can rev
/// us up.
async fn recover<S: Store>(inner: &Arc<Inner<S>>, attempt: u32) -> Result<(), MeldError> {
    let Some(remotes) = inner.remotes.clone() else {
        return Ok(());
    };
    let clock = inner.with_engine(|engine| {
        engine.outdated = true;
        engine.refresh_status();
        Ok(engine.suset.clock().clone())
    })?;
    tracing::debug!("catching up from {clock} (attempt {attempt})");
    match remotes.revup_from(&clock).await? {
        Some(revup) => match revup_with(inner, revup).await {
            // Rev-ups keep leaving a gap (perhaps a peer engine that serves rev-ups it cannot
            // complete): a snapshot fills it.
            Err(MeldError::Core(CoreError::OutOfOrder(why))) if attempt >= GAP_ATTEMPTS => {
                tracing::info!("rev-ups left a gap ({why}): recovering by snapshot");
                reset_with(inner, remotes.snapshot(false).await?).await?;
            }
            other => other?,
        },
        None => reset_with(inner, remotes.snapshot(false).await?).await?,
    }
    inner.with_engine(|engine| {
        engine.outdated = false;
        engine.behind = false;
        engine.recovery_failed = false;
        engine.refresh_status();
        Ok(())
    })
}

/// Applies a rev-up's operations, then re-publishes what the collaborator had not seen.
async fn revup_with<S: Store>(inner: &Inner<S>, revup: RemoteRevup) -> Result<(), MeldError> {
    let RemoteRevup { gwc, mut updates } = revup;
    let mut filled = true;
    while let Some(msg) = updates.next().await {
        let msg = msg?;
        tracing::trace!("rev-up operation {}<{}", msg.op.time, msg.prev);
        filled = inner.with_engine(|engine| Ok(engine.receive(msg)?))?;
    }
    inner.with_engine(|engine| {
        // Everything the collaborator lacks goes out now, in journal order, with our own
        // operations that could not be sent: other peers may lack them even if it does not.
        let own = match engine.unsent {
            Some(first) => Some(engine.suset.clock().ticked_to(first.saturating_sub(1))?),
            None => None,
        };
        let missed = Missed { gwc: &gwc, own };
        let unseen = match engine.suset.operations_since(&missed)? {
            Some(unseen) => unseen,
            None => engine
                .suset
                .operations_since(&gwc)?
                .ok_or(CoreError::UpdatesUnavailable)?,
        };
        engine.unsent = None;
        tracing::debug!(
            "rev-up done at {}; re-publishing {} operations the collaborator lacks",
            engine.suset.clock(),
            unseen.len()
        );
        for msg in unseen {
            engine.publish(&msg);
        }
        Ok(())
    })?;
    if filled {
        Ok(())
    } else {
        // Operations still wait on a gap: they came live from a clone the collaborator had not
        // heard from yet, or the collaborator could not fill it.
        Err(CoreError::OutOfOrder("operations still wait on a gap after a rev-up".into()).into())
    }
}

/// What to re-publish after a rev-up: what the collaborator's GWC lacks, and our own operations
/// from the first that could not be sent (`own`: our clock set back to just before it).
struct Missed<'a> {
    gwc: &'a GlobalClock,
    own: Option<TreeClock>,
}

impl RevupTime for Missed<'_> {
    fn ticks_of(&self, local: &TreeClock) -> u64 {
        let ticks = self.gwc.ticks_of(local);
        self.own
            .as_ref()
            .map_or(ticks, |own| ticks.min(own.ticks_of(local)))
    }

    fn lacks(&self, time: &TreeClock) -> bool {
        self.gwc.lacks(time) || self.own.as_ref().is_some_and(|own| own.lacks(time))
    }

    fn covers(&self, base: &GlobalClock) -> bool {
        self.gwc.covers(base)
    }
}

/// Replaces our data by a collaborator's snapshot, keeping (and re-publishing) our operations
/// that it lacks, and tells subscribers what changed.
async fn reset_with<S: Store>(inner: &Inner<S>, snapshot: RemoteSnapshot) -> Result<(), MeldError> {
    let RemoteSnapshot {
        gwc,
        agreed,
        data,
        updates,
        ..
    } = snapshot;
    let (triples, operations, updates) = receive_snapshot(data, updates, |_| Ok(())).await?;
    refuse_features(&triples, &operations, &updates)?;
    inner.with_engine(|engine| {
        let before: HashSet<Triple> = all_triples(&engine.suset)?;
        let reemit = engine
            .suset
            .reset(gwc, agreed, triples.into_iter().flatten(), operations)?;
        let after: HashSet<Triple> = all_triples(&engine.suset)?;
        engine.notify(Update {
            ticks: engine.suset.clock().ticks(),
            deletes: before.difference(&after).cloned().collect(),
            inserts: after.difference(&before).cloned().collect(),
        });
        engine.unsent = None;
        for msg in &reemit {
            engine.publish(msg);
        }
        for msg in updates {
            engine.receive(msg)?;
        }
        // Operations that waited for what the snapshot brought can go now.
        engine.drain()?;
        Ok(())
    })
}

fn all_triples<S: Store>(suset: &SuSet<S>) -> Result<HashSet<Triple>, MeldError> {
    Ok(suset
        .state()
        .triples(None, None, None)
        .collect::<Result<_, _>>()?)
}

/// The engine's side of the messaging contract. Holds the clone weakly, so remotes never keep
/// a closed clone alive.
struct LocalHandle<S: Store> {
    inner: Weak<Inner<S>>,
    id: String,
    runtime: tokio::runtime::Handle,
}

impl<S: Store> LocalHandle<S> {
    /// The items that `produce` sends (until it fails, which ends them with its error), produced
    /// on a blocking thread as the stream is read. `send` returns `false` once nobody reads.
    fn blocking_stream<T: Send + 'static>(
        &self,
        produce: impl FnOnce(&mut dyn FnMut(T) -> bool) -> Result<(), CoreError> + Send + 'static,
    ) -> PeerStream<T> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.runtime.spawn_blocking(move || {
            let mut send = |item| tx.send(Ok(item)).is_ok();
            if let Err(e) = produce(&mut send) {
                let _ = tx.send(Err(e));
            }
        });
        Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }

    fn inner(&self) -> Result<Arc<Inner<S>>, CoreError> {
        self.inner.upgrade().ok_or(CoreError::Offline)
    }
}

/// Maps a facade error to what a peer is told.
fn to_core(e: MeldError) -> CoreError {
    match e {
        MeldError::Core(e) => e,
        MeldError::Closed => CoreError::Offline,
        other => CoreError::Transport(other.to_string()),
    }
}

#[async_trait]
impl<S: Store> LocalClone for LocalHandle<S> {
    fn id(&self) -> &str {
        &self.id
    }

    fn operation(&self, msg: OperationMessage) {
        let Ok(inner) = self.inner() else { return };
        let Ok(mut slot) = inner.lock() else { return };
        let received = match &mut *slot {
            Slot::Starting(pending) => {
                pending.push(msg);
                Ok(true)
            }
            Slot::Running(engine) => engine.receive(msg),
            Slot::Closed => Ok(true),
        };
        drop(slot);
        match received {
            Ok(true) => {}
            Ok(false) => {
                self.runtime.spawn(connect(inner));
            }
            Err(e) => {
                let _guard = self.runtime.enter();
                inner.refuse(&e);
            }
        }
    }

    fn refuse(&self, error: CoreError) {
        if let Ok(inner) = self.inner() {
            let _guard = self.runtime.enter();
            inner.refuse(&error);
        }
    }

    fn presence(&self, others: Option<bool>) {
        let Ok(inner) = self.inner() else { return };
        inner.presence.send_replace(others);
        let reconnect = inner.with_engine(|engine| {
            let was = engine.others;
            engine.others = others;
            if others.is_none() {
                // Cut off: operations broadcast meanwhile will be missing.
                engine.behind = true;
                engine.recovery_failed = false;
            }
            engine.refresh_status();
            // m-ld-js revs up whenever other clones become visible (e.g. after a partition).
            Ok(engine.live && was != Some(true) && others == Some(true))
        });
        if matches!(reconnect, Ok(true)) {
            self.runtime.spawn(connect(inner));
        }
    }

    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        let inner = self.inner()?;
        let (snapshot, latest) = inner
            .with_engine(|engine| {
                if !engine.live {
                    return Err(CoreError::Offline.into());
                }
                Ok(engine.suset.take_snapshot_deferred(new_clock)?)
            })
            .map_err(to_core)?;
        // The dataset view is immutable: the latest operations are fused, and the triples read,
        // off the lock on two blocking threads, while the response goes out and then while the
        // transport encodes what is ready. An operation ready goes before the triples left: the
        // receiver decodes the largest items while we read and encode the triples.
        let operations = self.blocking_stream(move |send| {
            for op in latest.fuse()? {
                if !send(SnapshotDatum::Operation(op)) {
                    break;
                }
            }
            Ok(())
        });
        let state = snapshot.state;
        let triples = self.blocking_stream(move |send| read_snapshot_triples(&state, send));
        let data = futures::stream::select_with_strategy(operations, triples, |_: &mut ()| {
            futures::stream::PollNext::Left
        });
        Ok(RemoteSnapshot {
            clock: snapshot.clock,
            gwc: snapshot.gwc,
            agreed: snapshot.agreed,
            data: Box::pin(data),
            updates: stream_of(Vec::new()),
        })
    }

    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError> {
        let inner = self.inner()?;
        inner
            .with_engine(|engine| {
                if !engine.live {
                    return Err(CoreError::Offline.into());
                }
                if (engine.behind || engine.outdated) && !engine.recovery_failed {
                    // The requester asks another peer, or retries once we are done.
                    tracing::debug!(clone = %self.id, "refusing a rev-up of {time} while catching up");
                    return Err(CoreError::Outdated.into());
                }
                let Some(ops) = engine.suset.operations_since(time)? else {
                    tracing::debug!(clone = %self.id, "cannot rev up {time}: journal starts later");
                    return Ok(None);
                };
                tracing::debug!(
                    clone = %self.id,
                    "rev-up of {time}: {} operations, clock {}: {}",
                    ops.len(),
                    engine.suset.clock(),
                    ops.iter()
                        .map(|m| format!("{}<{}", m.op.time, m.prev))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                Ok(Some(RemoteRevup {
                    gwc: engine.suset.gwc().clone(),
                    updates: stream_of(ops.into_iter().map(Ok).collect()),
                }))
            })
            .map_err(to_core)
    }
}

/// Reads a snapshot's triples into `send`, in batches, until done or no longer wanted (`send`
/// returns `false`).
fn read_snapshot_triples<T: StoreSnapshot>(
    state: &DatasetState<T>,
    send: &mut dyn FnMut(SnapshotDatum) -> bool,
) -> Result<(), CoreError> {
    // List slot indexes are entailed, so sent without TIDs: m-ld-js clones do not recompute
    // them from a snapshot (docs/protocol.md §3.4).
    let entailed = m_ld_core::list::all_entailed_indexes(state)?;
    let triples = state
        .triples_with_tids()
        .chain(entailed.into_iter().map(|t| Ok((t, Vec::new()))));
    let mut batch = Vec::with_capacity(SNAPSHOT_BATCH);
    for triple in triples {
        batch.push(triple?);
        if batch.len() == SNAPSHOT_BATCH
            && !send(SnapshotDatum::Triples(std::mem::take(&mut batch)))
        {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        send(SnapshotDatum::Triples(batch));
    }
    Ok(())
}

fn stream_of<T: Send + 'static>(items: Vec<Result<T, CoreError>>) -> PeerStream<T> {
    Box::pin(futures::stream::iter(items))
}

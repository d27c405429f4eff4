//! [`MeldClone`]: a clone of a m-ld domain, the API an app talks to.
//!
//! Owns the clone's lifecycle (start, write, read, follow, close) and the mapping of json-rql to
//! core patches. The engine state ([`SuSet`] and its causal buffer) sits behind one mutex: a write
//! translates json-rql against the current state and commits one operation inside a single
//! critical section, with no `.await` in between, so writes are serialised and atomic. Reads take a
//! store snapshot and never block writers. Updates fan out to `follow` subscribers through a
//! bounded broadcast channel.
//!
//! With [`Remotes`], the clone joins its domain ([`crate::live`] holds the recovery logic): remote
//! operations are applied under the same mutex as local writes, and local operations are handed to
//! the remotes (which never block) inside the critical section, so they leave in commit order.

use std::sync::{Arc, Mutex, MutexGuard};

use m_ld_core::CoreError;
use m_ld_core::causal::CausalBuffer;
use m_ld_core::features;
use m_ld_core::operation::OperationMessage;
use m_ld_core::remotes::Remotes;
use m_ld_core::store::{MemoryStore, Store};
use m_ld_core::suset::{self, Applied, SuSet};
use m_ld_jrql::Context;
use oxrdf::Triple;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::genid::GenId;
use crate::rdf::{self, RdfFormat};
use crate::state::{MeldReadState, StateGraph};
use crate::update::Notice;
use crate::{MeldConfig, MeldError, MeldStatus, MeldUpdate};

/// A clone of a m-ld domain. Cheap to clone (a handle); all handles share one clone.
///
/// ```
/// # tokio_test_block_on(async {
/// use m_ld::{MeldClone, MeldConfig};
/// use serde_json::json;
///
/// let clone = MeldClone::new(MeldConfig::new("alice", "test.example.org", true)).await?;
/// clone.write(&json!({"@id": "fred", "name": "Fred"})).await?;
/// let fred = clone.read(&json!({"@describe": "fred"})).await?;
/// assert_eq!(fred, vec![json!({"@id": "fred", "name": "Fred"})]);
/// # Ok::<_, m_ld::MeldError>(()) });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) }
/// ```
pub struct MeldClone<S: Store = MemoryStore> {
    pub(crate) inner: Arc<Inner<S>>,
}

impl<S: Store> Clone for MeldClone<S> {
    fn clone(&self) -> Self {
        MeldClone {
            inner: Arc::clone(&self.inner),
        }
    }
}

pub(crate) struct Inner<S: Store> {
    pub(crate) config: MeldConfig,
    pub(crate) context: Arc<Context>,
    pub(crate) slot: Mutex<Slot<S>>,
    pub(crate) remotes: Option<Arc<dyn Remotes>>,
    /// What the remotes last said of other clones: `Some(present)` while connected.
    pub(crate) presence: watch::Sender<Option<bool>>,
    /// Recovery runs one at a time: set while a rev-up loop runs ...
    pub(crate) recovering: std::sync::atomic::AtomicBool,
    /// ... and set when another recovery was asked for meanwhile (it then runs again).
    pub(crate) recover_again: std::sync::atomic::AtomicBool,
    /// The unsupported domain feature that made the clone leave its domain, if it did.
    refused: std::sync::OnceLock<String>,
    /// The configured data constraints, installed on the SU-Set when the engine runs.
    constraints: Vec<Arc<dyn m_ld_core::constraint::Constraint>>,
}

/// The lifecycle of a clone's engine.
pub(crate) enum Slot<S: Store> {
    /// Joining the domain: operations that arrive are kept for when the engine exists.
    Starting(Vec<OperationMessage>),
    /// Running.
    Running(Box<Engine<S>>),
    /// Closed: every call fails with 5032.
    Closed,
}

/// The mutable heart of a clone: its SU-Set, the causal buffer of remote operations, and the
/// channels its changes go out on.
pub(crate) struct Engine<S: Store> {
    pub(crate) suset: SuSet<S>,
    pub(crate) causal: CausalBuffer,
    genid: GenId,
    /// The list position site: the clone id (docs/protocol.md §6.2).
    site: String,
    updates: broadcast::Sender<Arc<Notice>>,
    /// Updates since a resumed clone was opened, for the first [`MeldClone::follow`], kept
    /// while the catch-up with peers that opening started may be under way (see `live::start`).
    pub(crate) early_updates: Option<broadcast::Receiver<Arc<Notice>>>,
    pub(crate) status: watch::Sender<MeldStatus>,
    remotes: Option<Arc<dyn Remotes>>,
    /// Whether this clone has declared itself present on the domain.
    pub(crate) live: bool,
    /// Whether a recovery (rev-up) is in progress.
    pub(crate) outdated: bool,
    /// Whether this clone may lack operations its peers have: it was resumed, or cut off from
    /// the domain, and has not caught up since.
    pub(crate) behind: bool,
    /// Whether a recovery attempt has failed since this clone fell behind or began one.
    ///
    /// A clone behind or recovering refuses to rev peers up until then: what it could send may
    /// lack operations it is itself catching up on, and the requester, believing itself up to
    /// date, would miss them until the next anti-entropy round. After a failed attempt it
    /// answers with what it has, since its peers may be waiting on it as it waits on them.
    pub(crate) recovery_failed: bool,
    /// What the remotes last said of other clones.
    pub(crate) others: Option<bool>,
    /// The local tick of the first operation that could not be handed to the remotes. Later
    /// ones (writes and constraint resolutions) are then held back in the journal until a
    /// recovery re-publishes them all in order, so that no peer sees an operation before its
    /// predecessors (m-ld-js likewise delays new operations until missed ones are sent).
    pub(crate) unsent: Option<u64>,
    /// Runs journal administration every few entries.
    clerk: crate::journal::Clerk,
    /// The shapes declared in the data, told when each transaction ends.
    declared: Arc<crate::constraints::DeclaredShapes>,
}

impl MeldClone<MemoryStore> {
    /// Starts a clone held in memory, with no remotes: it must be the genesis clone of its domain.
    pub async fn new(config: MeldConfig) -> Result<Self, MeldError> {
        Self::open(MemoryStore::new(), config).await
    }
}

impl<S: Store + Clone> MeldClone<S> {
    /// Starts a clone on the given store, with no remotes. A store with data resumes that clone
    /// (its domain must match); an empty store starts a new clone, which must be `genesis`.
    pub async fn open(store: S, config: MeldConfig) -> Result<Self, MeldError> {
        let inner = Inner::new(config, None)?;
        let suset = match inner.existing(&store)? {
            Some(suset) => suset,
            None if inner.config.genesis => SuSet::genesis(store, &inner.config.domain)?,
            None => return Err(CoreError::NoVisibleClones.into()),
        };
        inner.presence.send_replace(Some(false));
        inner.run(suset, true, false)?;
        Ok(MeldClone { inner })
    }

    /// Starts a clone on the given store that shares its domain through `remotes`.
    ///
    /// A new genesis clone starts alone (it fails if other clones are already live); a new
    /// non-genesis clone joins by snapshot from a live peer (5031 if there is none); a clone with
    /// data resumes it and catches up by rev-up when peers are present.
    pub async fn open_with_remotes(
        store: S,
        remotes: Arc<dyn Remotes>,
        config: MeldConfig,
    ) -> Result<Self, MeldError> {
        let inner = Inner::new(config, Some(remotes))?;
        crate::live::start(&inner, store).await?;
        Ok(MeldClone { inner })
    }
}

impl<S: Store> Inner<S> {
    fn new(config: MeldConfig, remotes: Option<Arc<dyn Remotes>>) -> Result<Arc<Self>, MeldError> {
        config.validate()?;
        let context = Arc::new(Context::for_domain(
            &config.domain,
            config.context.as_ref(),
        )?);
        let constraints = crate::constraints::build_all(&config.constraints, &context)?;
        Ok(Arc::new(Inner {
            config,
            context,
            slot: Mutex::new(Slot::Starting(Vec::new())),
            remotes,
            presence: watch::channel(None).0,
            recovering: Default::default(),
            recover_again: Default::default(),
            refused: Default::default(),
            constraints,
        }))
    }

    /// The clone state already in `store`, checked against the configured domain.
    pub(crate) fn existing(&self, store: &S) -> Result<Option<SuSet<S>>, MeldError>
    where
        S: Clone,
    {
        match SuSet::open(store.clone())? {
            Some(suset) if suset.domain() != self.config.domain => Err(MeldError::Config(format!(
                "the store holds domain {:?}, not {:?}",
                suset.domain(),
                self.config.domain
            ))),
            found => Ok(found),
        }
    }

    /// Installs a running engine on `suset`, applying any operations that arrived meanwhile.
    ///
    /// A `resumed` clone (reopened on its store, with peers to catch up with) keeps the updates
    /// from now on for its first follower (see `Engine::early_updates`; the caller must drop
    /// them once the catch-up is over), and counts as behind its peers until it has caught up.
    pub(crate) fn run(
        &self,
        mut suset: SuSet<S>,
        live: bool,
        resumed: bool,
    ) -> Result<(), MeldError> {
        let transport_max = self.remotes.as_ref().and_then(|r| r.max_operation_size());
        suset.set_max_operation_size(match (self.config.max_operation_size, transport_max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        });
        for constraint in &self.constraints {
            suset.add_constraint(Box::new(crate::constraints::Shared(Arc::clone(constraint))));
        }
        // Then the extensions declared in the data (m-ld-js order: configured, declared, lists).
        let declared = Arc::new(crate::constraints::DeclaredShapes::load(&suset.state())?);
        suset.add_constraint(Box::new(crate::constraints::Shared(declared.clone())));
        // The default list rules are always installed (m-ld-js `DefaultList`): one position per
        // slot, and `@item` single-valued with m-ld-js's value comparison.
        suset.add_constraint(Box::new(m_ld_core::list::DefaultList::positions_only()));
        suset.add_constraint(Box::new(crate::constraints::SingleValued::new(
            oxrdf::NamedNode::new_unchecked(m_ld_core::list::ITEM),
        )));
        let others = *self.presence.borrow();
        let (updates, _) = broadcast::channel(self.config.follow_buffer);
        let mut engine = Box::new(Engine {
            suset,
            causal: CausalBuffer::new(),
            genid: GenId::new(),
            site: self.config.id.clone(),
            early_updates: resumed.then(|| updates.subscribe()),
            updates,
            status: watch::channel(MeldStatus::default()).0,
            remotes: self.remotes.clone(),
            live,
            outdated: false,
            behind: resumed,
            recovery_failed: false,
            others,
            unsent: None,
            clerk: crate::journal::Clerk::new(self.config.journal),
            declared,
        });
        engine.refresh_status();
        let mut slot = self.lock()?;
        let pending = match std::mem::replace(&mut *slot, Slot::Closed) {
            Slot::Starting(pending) => pending,
            other => {
                *slot = other;
                return Err(MeldError::Closed);
            }
        };
        for msg in pending {
            // A gap is recovered by the rev-up that follows the start.
            engine.receive(msg)?;
        }
        *slot = Slot::Running(engine);
        Ok(())
    }

    /// Leaves the domain because peers use a feature this engine does not implement: the clone
    /// closes, and every later call fails with that error (5011) rather than diverge silently.
    pub(crate) fn refuse(&self, error: &CoreError) {
        let feature = error
            .unsupported_feature()
            .unwrap_or_else(|| error.to_string());
        if self.refused.set(feature).is_err() {
            return;
        }
        tracing::error!("leaving domain {}: {error}", self.config.domain);
        if let Ok(mut slot) = self.lock()
            && let Slot::Running(engine) = std::mem::replace(&mut *slot, Slot::Closed)
        {
            engine.status.send_modify(|s| s.online = false);
        }
        if let (Some(remotes), Ok(runtime)) =
            (self.remotes.clone(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(async move { remotes.detach().await });
        }
    }

    /// The error for a call on a clone that is no longer running.
    fn closed(&self) -> MeldError {
        match self.refused.get() {
            Some(feature) => CoreError::UnsupportedFeature(feature.clone()).into(),
            None => MeldError::Closed,
        }
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Slot<S>>, MeldError> {
        // A poisoned lock means a panic mid-transaction; the store batch was not written, but the
        // in-memory engine may be inconsistent, so the clone refuses further calls.
        self.slot.lock().map_err(|_| MeldError::Closed)
    }

    pub(crate) fn with_engine<R>(
        &self,
        f: impl FnOnce(&mut Engine<S>) -> Result<R, MeldError>,
    ) -> Result<R, MeldError> {
        match &mut *self.lock()? {
            Slot::Running(engine) => f(engine),
            Slot::Starting(_) | Slot::Closed => Err(self.closed()),
        }
    }
}

impl<S: Store> MeldClone<S> {
    /// The clone's configuration.
    pub fn config(&self) -> &MeldConfig {
        &self.inner.config
    }

    /// The clone's JSON-LD context (domain defaults merged with the configured `@context`).
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    fn with_engine<R>(
        &self,
        f: impl FnOnce(&mut Engine<S>) -> Result<R, MeldError>,
    ) -> Result<R, MeldError> {
        self.inner.with_engine(f)
    }

    /// Applies a json-rql write: a subject or array of subjects to insert, `{"@graph": ...}`, or an
    /// update with `@delete`, `@insert`, `@update` and `@where`.
    ///
    /// The write commits in full or not at all. It commits synchronously within the first poll of
    /// the returned future: a future dropped before it is polled commits nothing; once polled, the
    /// write has committed (or failed) and dropping the future changes nothing.
    pub async fn write(&self, request: &Value) -> Result<(), MeldError> {
        self.write_now(request).map(|_| ())
    }

    /// The synchronous core of [`MeldClone::write`]; returns the clock ticks of the commit, or
    /// `None` if the write changed nothing.
    fn write_now(&self, request: &Value) -> Result<Option<u64>, MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| engine.write(&context, request))
    }

    /// Runs a write procedure: `procedure` gets exclusive access to the clone's current state and
    /// may read and write (each write is its own transaction) with nothing interleaved, remote
    /// operations included.
    pub fn write_procedure<R>(
        &self,
        procedure: impl FnOnce(&mut MeldWriteState<'_, S>) -> Result<R, MeldError>,
    ) -> Result<R, MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| {
            procedure(&mut MeldWriteState {
                engine,
                context: &context,
            })
        })
    }

    /// Deletes and inserts triples directly (the quad-level write API). Subjects must be IRIs.
    pub async fn update_triples(
        &self,
        deletes: Vec<Triple>,
        inserts: Vec<Triple>,
    ) -> Result<(), MeldError> {
        self.with_engine(|engine| engine.commit(suset::Patch { deletes, inserts }))
            .map(|_| ())
    }

    /// Inserts every triple of an RDF document (N-Triples/N-Quads in the default graph, or Turtle
    /// with relative IRIs against the domain `@base`). Blank nodes become skolem IRIs.
    pub async fn import(&self, format: RdfFormat, text: &str) -> Result<(), MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| {
            let genid = &mut engine.genid;
            let inserts = rdf::parse(format, text, &context, &mut || genid.next_id())?;
            engine.commit(suset::Patch {
                deletes: Vec::new(),
                inserts,
            })
        })
        .map(|_| ())
    }

    /// A consistent, immutable view of the clone's data now. Holding it never blocks writers.
    pub fn read_state(&self) -> Result<MeldReadState<S>, MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| Ok(engine.read_state(context)))
    }

    /// Answers a json-rql read (`@describe`, `@select`, `@distinct`, `@construct`) on the
    /// current state. [`RequestKind::of`](crate::RequestKind::of) tells a read from an ask
    /// ([`MeldClone::ask`]) and a write ([`MeldClone::write`]).
    pub async fn read(&self, request: &Value) -> Result<Vec<Value>, MeldError> {
        self.read_state()?.read(request)
    }

    /// Describes one subject by `@id`, or `None` if it has no properties.
    pub async fn get(&self, id: &str) -> Result<Option<Value>, MeldError> {
        self.read_state()?.get(id)
    }

    /// Whether a json-rql pattern (`{"@where": ...}`, json-rql's ASK) has a solution in the
    /// current state (m-ld-js `MeldReadState.ask`); the empty pattern `{}` always has one.
    pub async fn ask(&self, request: &Value) -> Result<bool, MeldError> {
        self.read_state()?.ask(request)
    }

    /// Deletes a subject: all its properties and every reference to it.
    pub async fn delete(&self, id: &str) -> Result<(), MeldError> {
        let request = delete_request(id);
        self.write(&request).await
    }

    /// Subscribes to every later update of the clone's data, local and remote, in order. The
    /// subscription buffers up to `followBuffer` updates; writers never wait for it. A subscriber
    /// that falls further behind receives one [`MeldError::Lagged`] and its stream ends: updates
    /// are never dropped silently.
    ///
    /// A clone that reopens its data revs up from its peers in the background, as soon as it
    /// sees them (which may be before `open` returns); the first `follow` during that catch-up
    /// (and one network timeout after it, or after opening) also delivers the updates since the
    /// clone was opened, so an app that follows right after opening misses none of them (as with
    /// m-ld-js, where nothing can happen between `clone()` and `follow()`).
    pub fn follow(&self) -> Result<Follow, MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| {
            let updates = match engine.early_updates.take() {
                Some(early) => early,
                None => engine.updates.subscribe(),
            };
            Ok(Follow {
                updates: Some(updates),
                context,
            })
        })
    }

    /// The clone's status now.
    pub fn status(&self) -> Result<MeldStatus, MeldError> {
        self.with_engine(|engine| Ok(engine.status()))
    }

    /// A watch of the clone's status. It changes when `online`, `outdated` or `silo` change (and
    /// then carries the ticks of that moment); it ends when the clone closes.
    pub fn status_changes(&self) -> Result<watch::Receiver<MeldStatus>, MeldError> {
        self.with_engine(|engine| Ok(engine.status.subscribe()))
    }

    /// Closes the clone: withdraws it from the domain, ends `follow` streams and status watches.
    /// Later calls fail with [`MeldError::Closed`] (5032). Closing twice is harmless.
    pub async fn close(&self) -> Result<(), MeldError> {
        let previous = std::mem::replace(&mut *self.inner.lock()?, Slot::Closed);
        if let Slot::Running(engine) = previous {
            engine.status.send_modify(|s| s.online = false);
        }
        if let Some(remotes) = &self.inner.remotes {
            remotes.detach().await;
        }
        Ok(())
    }
}

/// The m-ld-js `delete(id)` request: the subject's properties and every reference to it.
fn delete_request(id: &str) -> Value {
    serde_json::json!({
        "@delete": [
            {"@id": id, "?p": "?o"},
            {"@id": "?s", "?q": {"@id": id}}
        ],
        "@where": {"@union": [
            {"@id": id, "?p": "?o"},
            {"@id": "?s", "?q": {"@id": id}}
        ]}
    })
}

impl<S: Store> Engine<S> {
    fn read_state(&self, context: Arc<Context>) -> MeldReadState<S> {
        MeldReadState {
            state: self.suset.state(),
            context,
            ticks: self.suset.clock().ticks(),
        }
    }

    fn write(&mut self, context: &Context, request: &Value) -> Result<Option<u64>, MeldError> {
        let state = self.suset.state();
        let genid = &mut self.genid;
        let patch = m_ld_jrql::write(&StateGraph(&state), context, request, &mut || {
            genid.next_id()
        })?;
        if patch.agree.is_some() {
            // Agreements need voiding of concurrent operations, which this engine cannot do yet:
            // refuse rather than publish an agreement we would not honour ourselves.
            return Err(MeldError::Unsupported("@agree (agreements)".into()));
        }
        drop(state);
        self.commit(suset::Patch {
            deletes: patch.deletes,
            inserts: patch.inserts,
        })
    }

    /// Commits a patch as one operation, hands it to the remotes and tells subscribers.
    fn commit(&mut self, patch: suset::Patch) -> Result<Option<u64>, MeldError> {
        // Index-addressed list changes become list positions against the current state.
        let patch = m_ld_core::list::rewrite_local(&self.suset.state(), patch, &self.site)?;
        let before = self.list_before(patch.deletes.iter().chain(&patch.inserts));
        // Extensions declared in the data are checked by the declared-shapes constraint.
        let committed = self.suset.transact(patch);
        let Some(commit) = self.settle(committed)? else {
            return Ok(None);
        };
        let ticks = commit.update.ticks;
        self.publish(&commit.message);
        self.notify_since(commit.update, before.as_ref());
        self.clerk.entries_added(&mut self.suset, 1, self.unsent);
        Ok(Some(ticks))
    }

    /// Hands an operation to the remotes. A clone that is not connected keeps it in its journal;
    /// peers receive it through their next rev-up.
    pub(crate) fn publish(&mut self, msg: &OperationMessage) {
        if tracing::enabled!(target: "m_ld::ops", tracing::Level::TRACE) {
            tracing::trace!(target: "m_ld::ops", clone = %self.site, "publishing {}", describe_operation(msg));
        }
        if self.unsent.is_some() {
            tracing::debug!("operation at {} held back behind unsent ones", msg.op.time);
        } else if let Some(remotes) = &self.remotes
            && let Err(e) = remotes.publish(msg)
        {
            tracing::debug!("operation at {} not published now: {e}", msg.op.time);
            self.unsent = Some(msg.op.time.ticks());
        }
    }

    /// The state before a change, if subscribers will want list changes placed (holding a
    /// state makes the store copy what the change touches, so only then).
    fn list_before<'t>(
        &self,
        mut triples: impl Iterator<Item = &'t Triple>,
    ) -> Option<suset::DatasetState<S::Snapshot>> {
        let lists = self.updates.receiver_count() > 0
            && triples.any(|t| m_ld_core::list::pos_id_of(t.predicate.as_str()).is_some());
        lists.then(|| self.suset.state())
    }

    /// Tells subscribers of an update not made by [`Engine::commit`] or [`Engine::receive`]
    /// (a snapshot reset), first re-reading the declared shapes if it changed them.
    pub(crate) fn notify(&self, update: suset::Update) {
        if let Err(e) = self.declared.settle(
            || self.suset.state(),
            update.deletes.iter().chain(&update.inserts),
        ) {
            // A snapshot is checked for unsupported features before it is applied.
            tracing::error!("declared shapes unreadable after a reset: {e}");
        }
        self.notify_since(update, None);
    }

    /// Tells the declared shapes that a local write ended (committed if `Ok(Some)`).
    fn settle(
        &self,
        committed: Result<Option<suset::Commit>, CoreError>,
    ) -> Result<Option<suset::Commit>, CoreError> {
        match &committed {
            Ok(Some(commit)) => self.declared.settle(
                || self.suset.state(),
                commit.update.deletes.iter().chain(&commit.update.inserts),
            )?,
            Ok(None) | Err(_) => self.declared.abandon(),
        }
        committed
    }

    /// Tells subscribers of an update; `before` (the state before it, if known) places list
    /// changes as m-ld-js shows them.
    fn notify_since(
        &self,
        update: suset::Update,
        before: Option<&suset::DatasetState<S::Snapshot>>,
    ) {
        // No subscribers is not an error.
        if self.updates.receiver_count() == 0 {
            return;
        }
        let after = self.suset.state();
        let lists = m_ld_core::list::notes(
            before.map(|b| b as &dyn m_ld_core::constraint::ReadTriples),
            &after,
            &update.deletes,
            &update.inserts,
        )
        .unwrap_or_else(|e| {
            tracing::debug!("list changes not shown in an update: {e}");
            Default::default()
        });
        let _ = self.updates.send(Arc::new(Notice { update, lists }));
    }

    /// Receives a remote operation: causal buffering, application, notification, and broadcast
    /// of any constraint resolution. Returns `false` while received operations wait on a gap in
    /// our history (5005): the caller must recover by rev-up (they stay buffered, for the rev-up
    /// to release). Fails if the operation (or one it released) uses a domain feature this
    /// engine does not implement, such as an extension declared in the data other than SHACL
    /// shapes: that operation is not applied, and the caller must then [refuse](Inner::refuse)
    /// the domain.
    pub(crate) fn receive(&mut self, msg: OperationMessage) -> Result<bool, CoreError> {
        if let Some(e) = features::in_operation(&msg.op) {
            return Err(e);
        }
        let before = self.list_before(
            (msg.op.deletes.iter().map(|(t, _)| t)).chain(msg.op.inserts.iter().map(|(t, _)| t)),
        );
        let desc = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| format!("{} (prev {})", msg.op.time, msg.prev));
        self.causal.push(msg);
        let filled = self.drain_since(before.as_ref())?;
        if !filled {
            tracing::debug!(
                "operations wait on a gap (last received {}): a rev-up is needed",
                desc.unwrap_or_default()
            );
        }
        Ok(filled)
    }

    /// Applies every buffered operation that is ready; `false` if some wait on a gap. Fails as
    /// [`Engine::receive`] does.
    pub(crate) fn drain(&mut self) -> Result<bool, CoreError> {
        self.drain_since(None)
    }

    /// Applies the ready operations one at a time (m-ld-js `CausalBuffer` order), so that the
    /// declared shapes each one meets are those its predecessors left.
    fn drain_since(
        &mut self,
        before: Option<&suset::DatasetState<S::Snapshot>>,
    ) -> Result<bool, CoreError> {
        let mut entries = 0;
        let mut refused = None;
        while let Some(msg) = self.causal.pop_ready(self.suset.clock()) {
            if tracing::enabled!(target: "m_ld::ops", tracing::Level::TRACE) {
                tracing::trace!(target: "m_ld::ops", clone = %self.site, "applying {}", describe_operation(&msg));
            }
            match self.suset.apply(msg) {
                Ok(Applied::Applied { update, resolution }) => {
                    entries += 1;
                    let settled = self.declared.settle(
                        || self.suset.state(),
                        update.deletes.iter().chain(&update.inserts),
                    );
                    if let Some(resolution) = resolution {
                        entries += 1;
                        self.publish(&resolution);
                    }
                    self.notify_since(update, before);
                    if let Err(e) = settled {
                        refused = Some(e);
                        break;
                    }
                }
                Ok(_) => self.declared.abandon(),
                Err(e) => {
                    self.declared.abandon();
                    if e.unsupported_feature().is_some() {
                        refused = Some(e);
                        break;
                    }
                    tracing::warn!("remote operation dropped: {e}");
                }
            }
        }
        self.clerk
            .entries_added(&mut self.suset, entries, self.unsent);
        match refused {
            Some(e) => Err(e),
            None => Ok(!self.causal.waits_on_gap(self.suset.clock())),
        }
    }

    pub(crate) fn status(&self) -> MeldStatus {
        MeldStatus {
            ticks: self.suset.clock().ticks(),
            ..*self.status.borrow()
        }
    }

    /// Recomputes the status flags (m-ld-js `DatasetEngine.createStatus`) and tells watchers when
    /// they change.
    pub(crate) fn refresh_status(&mut self) {
        let online = self.others.is_some();
        let silo = self.live && self.others == Some(false);
        let outdated = self.outdated && !self.suset.clock().is_id();
        let ticks = self.suset.clock().ticks();
        self.status.send_if_modified(|s| {
            let next = MeldStatus {
                online,
                outdated,
                silo,
                ticks,
            };
            let changed = !s.same_liveness(&next);
            if changed {
                *s = next;
            }
            changed
        });
    }
}

/// Exclusive access to a clone's state inside [`MeldClone::write_procedure`].
pub struct MeldWriteState<'a, S: Store> {
    engine: &'a mut Engine<S>,
    context: &'a Arc<Context>,
}

impl<S: Store> MeldWriteState<'_, S> {
    /// The current state, including this procedure's writes so far.
    pub fn state(&self) -> MeldReadState<S> {
        self.engine.read_state(Arc::clone(self.context))
    }

    /// Answers a json-rql read on the current state.
    pub fn read(&self, request: &Value) -> Result<Vec<Value>, MeldError> {
        self.state().read(request)
    }

    /// Whether a json-rql pattern (`{"@where": ...}`) has a solution in the current state.
    pub fn ask(&self, request: &Value) -> Result<bool, MeldError> {
        self.state().ask(request)
    }

    /// Applies a json-rql write as one transaction; returns the new clock ticks, or `None` if it
    /// changed nothing.
    pub fn write(&mut self, request: &Value) -> Result<Option<u64>, MeldError> {
        self.engine.write(self.context, request)
    }
}

/// A subscription to a clone's updates, from [`MeldClone::follow`].
pub struct Follow {
    updates: Option<broadcast::Receiver<Arc<Notice>>>,
    context: Arc<Context>,
}

impl Follow {
    /// The next update; `None` once the clone has closed, or after a [`MeldError::Lagged`] error.
    pub async fn next(&mut self) -> Option<Result<MeldUpdate, MeldError>> {
        let updates = self.updates.as_mut()?;
        match updates.recv().await {
            Ok(update) => Some(Ok(render_update(&update, &self.context))),
            Err(broadcast::error::RecvError::Closed) => {
                self.updates = None;
                None
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                self.updates = None;
                Some(Err(MeldError::Lagged(missed)))
            }
        }
    }

    /// The next update if one is already waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Result<MeldUpdate, MeldError>> {
        let updates = self.updates.as_mut()?;
        match updates.try_recv() {
            Ok(update) => Some(Ok(render_update(&update, &self.context))),
            Err(broadcast::error::TryRecvError::Empty) => None,
            Err(broadcast::error::TryRecvError::Closed) => {
                self.updates = None;
                None
            }
            Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                self.updates = None;
                Some(Err(MeldError::Lagged(missed)))
            }
        }
    }

    /// This subscription as a `futures` stream.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<MeldUpdate, MeldError>> {
        futures::stream::unfold(self, |mut follow| async move {
            follow.next().await.map(|item| (item, follow))
        })
    }
}

fn render_update(notice: &Notice, context: &Context) -> MeldUpdate {
    let Notice { update, lists } = notice;
    let (delete, insert) = if lists.is_empty() {
        (
            m_ld_jrql::render_update_subjects(&update.deletes, context, &[]),
            m_ld_jrql::render_update_subjects(&update.inserts, context, &[]),
        )
    } else {
        // List positions under `@list` by index, and the slots' entailed index changes.
        let deleted: Vec<_> = lists
            .deleted
            .iter()
            .map(|(t, index)| (t.clone(), *index, None))
            .collect();
        let inserted: Vec<_> = lists
            .inserted
            .iter()
            .map(|(t, index, sub)| (t.clone(), *index, Some(*sub)))
            .collect();
        let deletes = [update.deletes.as_slice(), &lists.index_deletes].concat();
        let inserts = [update.inserts.as_slice(), &lists.index_inserts].concat();
        (
            m_ld_jrql::render_update_subjects(&deletes, context, &deleted),
            m_ld_jrql::render_update_subjects(&inserts, context, &inserted),
        )
    };
    MeldUpdate {
        ticks: update.ticks,
        delete,
        insert,
        update: Vec::new(),
        deleted_triples: update.deletes.clone().into(),
        inserted_triples: update.inserts.clone().into(),
    }
}

/// An operation in full, for tracing (`m_ld::ops` at TRACE): time, span, and every triple with
/// its TIDs.
fn describe_operation(msg: &OperationMessage) -> String {
    use std::fmt::Write as _;
    let op = &msg.op;
    let mut out = format!("{} from {} prev {}", op.time, op.from, msg.prev);
    for (label, pairs) in [("-", &op.deletes), ("+", &op.inserts)] {
        for (triple, tids) in pairs {
            let _ = write!(out, " {label}{{{triple} ");
            for tid in tids {
                let _ = write!(out, "{tid},");
            }
            out.push('}');
        }
    }
    out
}

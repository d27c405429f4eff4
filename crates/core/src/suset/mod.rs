//! The persistent SU-Set dataset of a clone: triples with their TIDs, the journal, the local
//! clock and the GWC, all kept in one [`Store`] and changed one atomic batch at a time.
//!
//! Owns local writes ([`SuSet::transact`]), application of causally-ready remote operations
//! ([`SuSet::apply`], docs/protocol.md §4.2–§4.4, including cutting of fused operations), rev-up
//! service ([`SuSet::operations_since`], §4.5), snapshots (§4.6) and the constraint hooks. It does
//! not order incoming operations (that is [`causal`](crate::causal)), and knows no wire format or
//! transport.
//!
//! **Invariant.** Every change (triples, TIDs, journal entries, clock, GWC) of one transaction
//! is written in one [`Batch`]; the in-memory clock and GWC change only after that write succeeds.

mod admin;
mod meta;
mod state;
mod working;

use std::collections::{HashMap, HashSet};

use oxrdf::{Literal, NamedNode, Term, Triple};

pub use self::admin::{Compaction, JournalAdmin, MAX_FUSION_SPAN, Retention};
pub use self::meta::FORMAT_VERSION;
use self::meta::Meta;
pub use self::state::DatasetState;
use self::working::Working;
use crate::CoreError;
use crate::clock::{GlobalClock, Tid, TreeClock};
use crate::constraint::Constraint;
use crate::journal::{self, RevupTime};
use crate::keys::{self, NsTable};
use crate::operation::{Operation, OperationMessage};
use crate::store::{Batch, Store, StoreSnapshot};

/// The most ticks a fused operation may span when its insert TIDs are checked.
const MAX_FUSED_SPAN: u64 = 1 << 20;

/// A change to the graph as concrete triples: what a json-rql write resolves to, and what
/// constraints see and assert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// Triples to delete.
    pub deletes: Vec<Triple>,
    /// Triples to insert.
    pub inserts: Vec<Triple>,
}

impl Patch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.deletes.is_empty() && self.inserts.is_empty()
    }
}

/// The effect of a transaction on the graph, for `follow` notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// The local clock ticks after the transaction.
    pub ticks: u64,
    /// Triples removed from the graph.
    pub deletes: Vec<Triple>,
    /// Triples inserted (they may have been present already, with other TIDs).
    pub inserts: Vec<Triple>,
}

/// The result of a local write.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// The operation to broadcast.
    pub message: OperationMessage,
    /// The change to the graph.
    pub update: Update,
}

/// The result of applying a remote operation.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned once per operation, never stored in bulk"
)]
pub enum Applied {
    /// The operation had been seen already; nothing changed.
    Duplicate,
    /// The operation was ignored (its sender is blocked, or it precedes the last agreement and
    /// is not one); nothing changed.
    Ignored,
    /// The operation was applied.
    Applied {
        /// The change to the graph (including any constraint resolution).
        update: Update,
        /// A constraint operation to broadcast, if constraints asserted anything.
        resolution: Option<OperationMessage>,
    },
}

/// Options of a local write beyond its patch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxnOptions {
    /// The principal IRI of the app user, stamped on the operation.
    pub principal: Option<String>,
    /// An agreement proof (`@agree`); `None`, `null` and `false` mean no agreement.
    pub agree: Option<serde_json::Value>,
}

/// What a collaborator sends a new clone (docs/protocol.md §4.6), as produced by
/// [`SuSet::take_snapshot`].
#[derive(Debug, Clone)]
pub struct Snapshot<T: StoreSnapshot> {
    /// The new clone's clock (a fork of the collaborator's), if one was asked for.
    pub clock: Option<TreeClock>,
    /// The collaborator's GWC.
    pub gwc: GlobalClock,
    /// The time of the collaborator's last agreement.
    pub agreed: Option<TreeClock>,
    /// The data: every triple with its TIDs.
    pub state: DatasetState<T>,
    /// The latest operation of each process, fused with its contiguous history, so that the
    /// receiver can cut fused operations it receives later.
    pub operations: Vec<Operation>,
}

/// A new clone's state being built from a collaborator's snapshot (docs/protocol.md §4.6), by
/// [`SuSet::joining`]: the triples and latest operations are staged as they arrive, and
/// nothing is written until [`Joining::finish`].
pub struct Joining<S: Store> {
    store: S,
    working: Working<'static, S::Snapshot>,
    /// The latest operations, in their stored form.
    pasts: Batch,
    domain: String,
    clock: TreeClock,
    gwc: GlobalClock,
    agreed: Option<TreeClock>,
}

impl<S: Store> std::fmt::Debug for Joining<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Joining")
            .field("domain", &self.domain)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<S: Store> Joining<S> {
    /// Stages a triple of the snapshot's data with its TIDs (none for an entailed triple). A
    /// triple that comes again gains the TIDs.
    pub fn add_triple(&mut self, triple: &Triple, tids: &[Tid]) -> Result<(), CoreError> {
        let e = self.working.entry(triple, true)?;
        for tid in tids {
            e.add(*tid);
        }
        Ok(())
    }

    /// Stages a latest operation (kept, not journaled, for cutting).
    pub fn add_operation(&mut self, op: &Operation) -> Result<(), CoreError> {
        for (triple, _) in op.deletes.iter().chain(&op.inserts) {
            self.working.register(triple);
        }
        journal::put_past_operation(&mut self.pasts, op, &self.working.ns)
    }

    /// Writes the new clone's state to the store, in one batch.
    pub fn finish(self) -> Result<SuSet<S>, CoreError> {
        let Joining {
            store,
            working,
            pasts,
            domain,
            clock,
            gwc,
            agreed,
        } = self;
        let (mut batch, delta) = working.into_batch(1 + pasts.len())?;
        batch.append(pasts);
        let start = clock.ticks();
        let meta = Meta {
            domain,
            clock: clock.update(&gwc)?,
            base: gwc.clone(),
            gwc,
            start,
            count: u64::try_from(delta).unwrap_or(0),
            agreed,
        };
        SuSet::create(store, meta, batch)
    }
}

/// A snapshot without its latest operations, and those operations to fuse
/// ([`SuSet::take_snapshot_deferred`]).
pub type DeferredSnapshot<T> = (Snapshot<T>, LatestOperations<T>);

/// The latest operation of each process of a snapshot's GWC, as [`SuSet::take_snapshot_deferred`]
/// leaves them to fuse.
#[derive(Debug, Clone)]
pub struct LatestOperations<T: StoreSnapshot> {
    state: DatasetState<T>,
    tids: Vec<Tid>,
}

impl<T: StoreSnapshot> LatestOperations<T> {
    /// The latest operation of each process, fused with its contiguous history, from the
    /// snapshot's view of the journal (processes whose latest operation is not kept are left
    /// out).
    pub fn fuse(&self) -> Result<Vec<Operation>, CoreError> {
        let (snap, ns) = (self.state.snapshot(), self.state.ns());
        let mut operations = Vec::with_capacity(self.tids.len());
        for tid in &self.tids {
            let Some(latest) = journal::operation(snap, tid, ns)? else {
                continue;
            };
            let history = journal::history_of(snap, latest, ns)?;
            if let Some(fused) = crate::operation::fuse_all(history)? {
                operations.push(fused);
            }
        }
        Ok(operations)
    }
}

/// The persistent state of a clone: dataset, TIDs, journal, local clock and GWC.
pub struct SuSet<S: Store> {
    store: S,
    meta: Meta,
    ns: NsTable,
    constraints: Vec<Box<dyn Constraint>>,
    /// The largest encoded operation message a local write may produce.
    max_operation_size: Option<usize>,
    admin: admin::AdminState,
}

impl<S: Store> std::fmt::Debug for SuSet<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuSet")
            .field("domain", &self.meta.domain)
            .field("clock", &self.meta.clock)
            .field("gwc", &self.meta.gwc)
            .field("triples", &self.meta.count)
            .finish_non_exhaustive()
    }
}

fn store_is_empty<T: StoreSnapshot>(snap: &T) -> Result<bool, CoreError> {
    match snap.scan_prefix(&[]).next() {
        None => Ok(true),
        Some(r) => r.map(|_| false),
    }
}

fn agreement(tick: u64, agree: Option<serde_json::Value>) -> Option<(u64, serde_json::Value)> {
    match agree {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => None,
        Some(proof) => Some((tick, proof)),
    }
}

impl<S: Store> SuSet<S> {
    /// Opens the clone state in `store`; `None` if the store is empty.
    pub fn open(store: S) -> Result<Option<SuSet<S>>, CoreError> {
        let snap = store.snapshot();
        let Some(bytes) = snap.get(keys::META_KEY)? else {
            return if store_is_empty(&snap)? {
                Ok(None)
            } else {
                Err(CoreError::Corrupt("store has data but no metadata".into()))
            };
        };
        let meta = Meta::decode(&bytes)?;
        let mut ns = NsTable::new();
        for r in snap.scan_prefix(&[keys::NS_PREFIX]) {
            let (k, v) = r?;
            let name = std::str::from_utf8(&v)
                .map_err(|_| CoreError::Corrupt("namespace is not UTF-8".into()))?;
            ns.restore(keys::read_ns_key(&k)?, name)?;
        }
        drop(snap);
        Ok(Some(SuSet {
            store,
            meta,
            ns,
            constraints: Vec::new(),
            max_operation_size: None,
            admin: admin::AdminState::default(),
        }))
    }

    /// Creates the state of a new genesis clone of `domain` in an empty store: clock `[]`, GWC
    /// genesis, empty journal.
    pub fn genesis(store: S, domain: &str) -> Result<SuSet<S>, CoreError> {
        let meta = Meta {
            domain: domain.to_string(),
            clock: TreeClock::genesis(),
            gwc: GlobalClock::genesis(),
            start: 0,
            base: GlobalClock::genesis(),
            count: 0,
            agreed: None,
        };
        Self::create(store, meta, Batch::new())
    }

    /// Creates the state of a new clone of `domain` in an empty store from a collaborator's
    /// snapshot (docs/protocol.md §4.6): `clock` is the forked clock it sent, `triples` its data
    /// and `operations` its latest operations (kept, not journaled, for cutting).
    pub fn join(
        store: S,
        domain: &str,
        clock: TreeClock,
        gwc: GlobalClock,
        agreed: Option<TreeClock>,
        triples: impl IntoIterator<Item = (Triple, Vec<Tid>)>,
        operations: impl IntoIterator<Item = Operation>,
    ) -> Result<SuSet<S>, CoreError> {
        let mut joining = Self::joining(store, domain, clock, gwc, agreed)?;
        for (triple, tids) in triples {
            joining.add_triple(&triple, &tids)?;
        }
        for op in operations {
            joining.add_operation(&op)?;
        }
        joining.finish()
    }

    /// [`SuSet::join`] one snapshot datum at a time, as they arrive: the data is staged in
    /// memory, and the store is written only by [`Joining::finish`]. Fails at once if the store
    /// is not empty.
    pub fn joining(
        store: S,
        domain: &str,
        clock: TreeClock,
        gwc: GlobalClock,
        agreed: Option<TreeClock>,
    ) -> Result<Joining<S>, CoreError> {
        let snap = store.snapshot();
        if !store_is_empty(&snap)? {
            return Err(CoreError::StoreNotEmpty);
        }
        Ok(Joining {
            working: Working::owning(snap, NsTable::new()),
            pasts: Batch::new(),
            store,
            domain: domain.to_string(),
            clock,
            gwc,
            agreed,
        })
    }

    fn create(store: S, meta: Meta, mut batch: Batch) -> Result<SuSet<S>, CoreError> {
        if !store_is_empty(&store.snapshot())? {
            return Err(CoreError::StoreNotEmpty);
        }
        batch.put(keys::META_KEY.to_vec(), meta.encode());
        store.write(batch)?;
        SuSet::open(store)?.ok_or_else(|| CoreError::Corrupt("created state not found".into()))
    }

    /// The domain name.
    pub fn domain(&self) -> &str {
        &self.meta.domain
    }

    /// The local clock.
    pub fn clock(&self) -> &TreeClock {
        &self.meta.clock
    }

    /// The global wall clock (latest public ticks and TID per process).
    pub fn gwc(&self) -> &GlobalClock {
        &self.meta.gwc
    }

    /// The time of the last agreement, if any.
    pub fn agreed(&self) -> Option<&TreeClock> {
        self.meta.agreed.as_ref()
    }

    /// Local ticks at the start of the journal: rev-ups from earlier cannot be served.
    pub fn journal_start(&self) -> u64 {
        self.meta.start
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Closes the state, handing back the store.
    pub fn into_store(self) -> S {
        self.store
    }

    /// An immutable view of the current dataset; it does not block writers.
    pub fn state(&self) -> DatasetState<S::Snapshot> {
        DatasetState::new(self.store.snapshot(), self.ns.clone(), self.meta.count)
    }

    /// Limits the encoded size of the operation message a local write may produce: larger writes
    /// fail with [`CoreError::DeltaTooBig`] (4002) and change nothing. `None` lifts the limit.
    pub fn set_max_operation_size(&mut self, max: Option<usize>) {
        self.max_operation_size = max;
    }

    /// Adds a constraint, consulted by every later write and remote operation.
    pub fn add_constraint(&mut self, constraint: Box<dyn Constraint>) {
        self.constraints.push(constraint);
    }

    /// Applies a local write (docs/protocol.md §4.2). Deletes of absent triples are dropped, a
    /// triple both deleted and inserted is just inserted, and an empty result changes nothing
    /// (`Ok(None)`, no tick). Otherwise the clock ticks and the operation is journaled.
    pub fn transact(&mut self, patch: Patch) -> Result<Option<Commit>, CoreError> {
        self.transact_with(patch, TxnOptions::default())
    }

    /// [`SuSet::transact`] with a principal and/or an agreement.
    pub fn transact_with(
        &mut self,
        patch: Patch,
        options: TxnOptions,
    ) -> Result<Option<Commit>, CoreError> {
        let snap = self.store.snapshot();
        let mut w = Working::new(&snap, self.ns.clone());
        w.reserve(patch.inserts.len() + patch.deletes.len());
        let time = self.meta.clock.ticked();
        let tid = time.hash();

        // Inserts first: a triple also deleted by the patch then carries our TID, and its delete
        // is dropped (`del(a) + ins(a) = ins(a)`).
        let Patch { deletes, inserts } = patch;
        let mut op_inserts = Vec::with_capacity(inserts.len());
        let mut inserted = Vec::with_capacity(inserts.len());
        for t in inserts {
            if w.entry(&t, true)?.add(tid) {
                inserted.push(t.clone());
                op_inserts.push((t, vec![tid]));
            }
        }
        let mut op_deletes = Vec::new();
        let mut removed = Vec::new();
        for t in deletes {
            let e = w.entry(&t, false)?;
            if e.present() && !e.has(&tid) {
                op_deletes.push((t.clone(), e.take()));
                removed.push(t);
            }
        }
        if op_deletes.is_empty() && op_inserts.is_empty() {
            return Ok(None);
        }
        let effective = Patch {
            deletes: removed,
            inserts: inserted,
        };
        for c in &self.constraints {
            c.check(&w.view(), &effective)?;
        }

        let prev = self.meta.gwc.get_ticks(&time).unwrap_or(0);
        let agreed = agreement(time.ticks(), options.agree);
        let op = Operation {
            from: time.ticks(),
            time: time.clone(),
            deletes: op_deletes,
            inserts: op_inserts,
            principal: options.principal,
            agreed,
        };
        let mut meta = self.meta.clone();
        meta.gwc = meta.gwc.set(&time)?;
        if op.agreed.is_some() {
            meta.agreed = Some(time.clone());
        }
        meta.clock = time;
        let message = OperationMessage { prev, op };
        if let Some(max) = self.max_operation_size {
            let size =
                crate::wire::operation::encode_operation_message(&message, &meta.domain)?.len();
            if size > max {
                return Err(CoreError::DeltaTooBig { size, max });
            }
        }
        let ns = w.ns.clone();
        let (mut batch, delta) = w.into_batch(3)?;
        meta.count = meta.count.saturating_add_signed(delta);
        journal::put_entry(&mut batch, meta.clock.ticks(), &message, &ns)?;
        batch.put(keys::META_KEY.to_vec(), meta.encode());
        drop(snap);
        self.store.write(batch)?;

        let update = Update {
            ticks: meta.clock.ticks(),
            deletes: effective.deletes,
            inserts: effective.inserts,
        };
        self.meta = meta;
        self.ns = ns;
        Ok(Some(Commit { message, update }))
    }

    /// Applies a causally-ready remote operation (docs/protocol.md §4.2–§4.4). Returns
    /// [`Applied::Duplicate`] if its ticks were seen already; fails with
    /// [`CoreError::OutOfOrder`] (nothing changed) if it is not causally ready or its `prev`
    /// shows a gap. A fused operation overlapping what was already applied is cut first. The
    /// local clock joins the operation's time and ticks twice (the second tick is the time of any
    /// constraint resolution).
    pub fn apply(&mut self, msg: OperationMessage) -> Result<Applied, CoreError> {
        let OperationMessage { prev, op } = msg;
        let time = op.time.clone();
        if self.meta.clock.any_non_id_lt(&time) {
            return Err(CoreError::OutOfOrder(format!(
                "operation {time} is not causally ready at {}",
                self.meta.clock
            )));
        }
        let seen = self.meta.clock.get_ticks(&time).unwrap_or(0);
        if time.ticks() <= seen {
            return Ok(Applied::Duplicate);
        }
        if prev > seen {
            return Err(CoreError::OutOfOrder(format!(
                "operation {time} follows tick {prev}, but only {seen} were seen"
            )));
        }
        if self.meta.gwc.is_blocked(&time).unwrap_or(false)
            || (op.agreed.is_none() && self.meta.agreed.as_ref().is_some_and(|a| time.any_lt(a)))
        {
            return Ok(Applied::Ignored);
        }
        check_operation(&op)?;
        let joined = self.meta.clock.update(&time)?;

        let snap = self.store.snapshot();
        let gwc_seen = self.meta.gwc.get_ticks(&time).unwrap_or(0);
        let op = if gwc_seen >= op.from {
            let history =
                journal::seen_history(&snap, &time, &op.principal, gwc_seen, op.from, &self.ns)?;
            let mut cut = op;
            for past in &history {
                cut = cut.cut(past)?;
            }
            cut
        } else {
            op
        };

        let mut w = Working::new(&snap, self.ns.clone());
        w.reserve(op.inserts.len() + op.deletes.len());
        let mut removed = Vec::new();
        for (t, theirs) in &op.deletes {
            let of_theirs = |e: &working::Touched| e.tids().iter().any(|tid| theirs.contains(tid));
            let twin = match js_integral_double(t) {
                Some(double) if !of_theirs(w.entry(t, false)?) => {
                    of_theirs(w.entry(&double, false)?).then_some(double)
                }
                _ => None,
            };
            let t = twin.as_ref().unwrap_or(t);
            let e = w.entry(t, false)?;
            if !e.present() {
                continue;
            }
            e.retain(|tid| !theirs.contains(tid));
            if !e.present() {
                removed.push(t.clone());
            }
        }
        let mut inserted = Vec::with_capacity(op.inserts.len());
        for (t, tids) in &op.inserts {
            let e = w.entry(t, true)?;
            for tid in tids {
                e.add(*tid);
            }
            inserted.push(t.clone());
        }
        let mut update = Update {
            ticks: 0,
            deletes: removed,
            inserts: inserted,
        };
        minimise(&mut update);

        let op_time = joined.ticked();
        let cxn_time = op_time.ticked();
        let cxn = self.resolve(&mut w, &update, &cxn_time)?;

        let mut meta = self.meta.clone();
        let ns = w.ns.clone();
        let (mut batch, delta) = w.into_batch(5)?;
        meta.count = meta.count.saturating_add_signed(delta);
        meta.gwc = meta.gwc.set(&time)?;
        if op.agreed.is_some() {
            meta.agreed = Some(time.clone());
        }
        let entry = OperationMessage { prev: gwc_seen, op };
        journal::put_entry(&mut batch, op_time.ticks(), &entry, &ns)?;
        let resolution = match cxn {
            Some((cxn_op, cxn_update)) => {
                let prev = meta.gwc.get_ticks(&cxn_time).unwrap_or(0);
                meta.gwc = meta.gwc.set(&cxn_time)?;
                let msg = OperationMessage { prev, op: cxn_op };
                journal::put_entry(&mut batch, cxn_time.ticks(), &msg, &ns)?;
                append(&mut update, cxn_update);
                Some(msg)
            }
            None => None,
        };
        meta.clock = cxn_time;
        update.ticks = meta.clock.ticks();
        batch.put(keys::META_KEY.to_vec(), meta.encode());
        drop(snap);
        self.store.write(batch)?;
        self.meta = meta;
        self.ns = ns;
        Ok(Applied::Applied { update, resolution })
    }

    /// Runs the constraints' `apply` hooks over the staged state; stages their assertions as one
    /// constraint operation at `cxn_time`, returned with its own update.
    fn resolve<T: StoreSnapshot>(
        &self,
        w: &mut Working<'_, T>,
        update: &Update,
        cxn_time: &TreeClock,
    ) -> Result<Option<(Operation, Update)>, CoreError> {
        if self.constraints.is_empty() {
            return Ok(None);
        }
        let patch = Patch {
            deletes: update.deletes.clone(),
            inserts: update.inserts.clone(),
        };
        let cxn_tid = cxn_time.hash();
        let mut deletes: Vec<(Triple, Vec<Tid>)> = Vec::new();
        let mut inserts: Vec<Triple> = Vec::new();
        let mut cxn_update = Update::default();
        for c in &self.constraints {
            let asserted = c.apply(&w.view(), &patch)?;
            for t in &asserted.deletes {
                let e = w.entry(t, false)?;
                if !e.present() {
                    continue;
                }
                let mut tids = e.take();
                // Deleting an insert of this same resolution cancels it.
                if let Ok(i) = tids.binary_search(&cxn_tid) {
                    tids.remove(i);
                    inserts.retain(|x| x != t);
                }
                cxn_update.inserts.retain(|x| x != t);
                if !tids.is_empty() {
                    match deletes.iter_mut().find(|(x, _)| x == t) {
                        Some((_, old)) => old.extend(tids),
                        None => deletes.push((t.clone(), tids)),
                    }
                    cxn_update.deletes.push(t.clone());
                }
            }
            for t in &asserted.inserts {
                if w.entry(t, true)?.add(cxn_tid) {
                    inserts.push(t.clone());
                    cxn_update.inserts.push(t.clone());
                }
            }
        }
        if deletes.is_empty() && inserts.is_empty() {
            return Ok(None);
        }
        minimise(&mut cxn_update);
        let op = Operation {
            from: cxn_time.ticks(),
            time: cxn_time.clone(),
            deletes,
            inserts: inserts.into_iter().map(|t| (t, vec![cxn_tid])).collect(),
            principal: None,
            agreed: None,
        };
        Ok(Some((op, cxn_update)))
    }

    /// The journal's operations since the requester's `time` (docs/protocol.md §4.5), in local
    /// order, with their original `prev`; `None` if `time` is before the journal's start.
    ///
    /// `time` is a requester's clock (serving a rev-up) or a collaborator's GWC (finding our
    /// operations it lacks, to re-emit them after a rev-up or snapshot).
    pub fn operations_since(
        &self,
        time: &impl RevupTime,
    ) -> Result<Option<Vec<OperationMessage>>, CoreError> {
        // Operations applied here before the journal's start (seen by its base) cannot be sent:
        // a requester lacking any of them must be revved up by someone else, or take a snapshot.
        if !time.covers(&self.meta.base) {
            return Ok(None);
        }
        let snap = self.store.snapshot();
        journal::operations_since(&snap, time, &self.meta.clock, self.meta.start, &self.ns)
    }

    /// Replaces the dataset by a collaborator's snapshot, for an existing clone that cannot be
    /// revved-up (docs/protocol.md §4.6, "Updates unavailable"). The local clock is kept (joined
    /// with the snapshot's GWC). Journal entries the snapshot's GWC has not seen are kept,
    /// re-applied on top of the snapshot data, and returned for re-emission; the journal then
    /// starts just before the first of them. Fails with [`CoreError::UnusableSnapshot`] (changing
    /// nothing) if the snapshot is concurrent with our last agreement, or lacks operations that
    /// were applied here before the journal's start (another collaborator must be asked).
    pub fn reset(
        &mut self,
        gwc: GlobalClock,
        agreed: Option<TreeClock>,
        triples: impl IntoIterator<Item = (Triple, Vec<Tid>)>,
        operations: impl IntoIterator<Item = Operation>,
    ) -> Result<Vec<OperationMessage>, CoreError> {
        if let Some(ours) = &self.meta.agreed
            && gwc.any_lt(ours)
        {
            return Err(CoreError::UnusableSnapshot(
                "it is concurrent with the last agreement".into(),
            ));
        }
        // Operations applied here before the journal's start cannot be re-applied on top of
        // the snapshot: it must have seen all of them.
        if gwc.any_lt(&self.meta.base) {
            return Err(CoreError::UnusableSnapshot(format!(
                "it has not seen operations from before the journal's start ({gwc} < {})",
                self.meta.base
            )));
        }
        let snap = self.store.snapshot();
        let mut unseen = Vec::new();
        let mut first_unseen = None;
        for entry in journal::entries_after(&snap, self.meta.start, &self.ns) {
            let entry = entry?;
            if gwc.any_lt(&entry.message.op.time) {
                first_unseen.get_or_insert(entry.tick);
                unseen.push(entry.message);
            }
        }
        // The new dataset: the snapshot's, then our unseen operations on top.
        let mut data: HashMap<Triple, Vec<Tid>> = HashMap::new();
        for (t, tids) in triples {
            let set = data.entry(t).or_default();
            set.extend(tids);
        }
        // Fused operations the snapshot saw in part are applied from where it stopped.
        let parts = admin::unseen_parts(&gwc, &unseen, &mut data)?;
        let mut meta = self.meta.clone();
        meta.base = gwc.clone();
        meta.gwc = gwc;
        for (msg, part) in unseen.iter().zip(&parts) {
            for (t, theirs) in &part.deletes {
                if let Some(tids) = data.get_mut(t) {
                    tids.retain(|tid| !theirs.contains(tid));
                }
            }
            for (t, tids) in &part.inserts {
                data.entry(t.clone()).or_default().extend(tids);
            }
            // A GWC that cannot record our operation has not seen the forks that led to us.
            meta.gwc = meta.gwc.set(&msg.op.time).map_err(|e| {
                CoreError::UnusableSnapshot(format!("it cannot hold {}: {e}", msg.op.time))
            })?;
        }
        if meta.gwc.any_lt(&self.meta.gwc) {
            return Err(CoreError::UnusableSnapshot(format!(
                "it has not seen operations applied here ({} < {})",
                meta.gwc, self.meta.gwc
            )));
        }
        let mut batch = Batch::new();
        for index in [keys::SPO, keys::POS, keys::OSP] {
            for r in snap.scan_prefix(&[index]) {
                batch.delete(r?.0);
            }
        }
        let mut ns = self.ns.clone();
        let mut new_ns = Vec::new();
        let mut count = 0u64;
        for (t, mut tids) in data {
            tids.sort();
            tids.dedup();
            if tids.is_empty() {
                continue;
            }
            ns.register_triple(t.as_ref(), |id, _| new_ns.push(id));
            let keys = keys::TripleKeys::new(t.as_ref(), &ns)?;
            batch.put(keys.spo, keys::encode_tids(&tids));
            batch.put(keys.pos, Vec::new());
            batch.put(keys.osp, Vec::new());
            count += 1;
        }
        for id in new_ns {
            if let Some(name) = ns.name(id) {
                batch.put(keys::ns_key(id), name.as_bytes().to_vec());
            }
        }
        for op in operations {
            journal::put_past_operation(&mut batch, &op, &ns)?;
        }
        meta.clock = meta.clock.update(&meta.gwc)?;
        meta.start = match first_unseen {
            Some(tick) => tick.saturating_sub(1),
            None => meta.clock.ticks(),
        };
        meta.count = count;
        meta.agreed = agreed;
        batch.put(keys::META_KEY.to_vec(), meta.encode());
        drop(snap);
        self.store.write(batch)?;
        self.meta = meta;
        self.ns = ns;
        Ok(unseen)
    }

    /// Every journal entry with its local tick, in local order (for diagnostics and tests).
    pub fn journal(&self) -> Result<Vec<journal::JournalEntry>, CoreError> {
        let snap = self.store.snapshot();
        journal::entries_after(&snap, 0, &self.ns).collect()
    }

    /// The operation with a TID, from the journal or a snapshot's past operations.
    pub fn operation(&self, tid: &Tid) -> Result<Option<Operation>, CoreError> {
        journal::operation(&self.store.snapshot(), tid, &self.ns)
    }

    /// Serves a snapshot (docs/protocol.md §4.6). With `new_clock`, forks the local clock at the
    /// last public tick: the right half is for the new clone and the left half, restored to the
    /// current ticks, becomes ours (persisted before returning).
    pub fn take_snapshot(&mut self, new_clock: bool) -> Result<Snapshot<S::Snapshot>, CoreError> {
        let (mut snapshot, latest) = self.take_snapshot_deferred(new_clock)?;
        snapshot.operations = latest.fuse()?;
        Ok(snapshot)
    }

    /// [`SuSet::take_snapshot`] without its latest operations (the snapshot's `operations` are
    /// empty), which the returned [`LatestOperations`] gives from the same view of the data:
    /// fusing them can wait until the response is out, and needs no access to the clone.
    pub fn take_snapshot_deferred(
        &mut self,
        new_clock: bool,
    ) -> Result<DeferredSnapshot<S::Snapshot>, CoreError> {
        let clock = if new_clock {
            let ours = &self.meta.clock;
            let public = self.meta.gwc.get_ticks(ours).unwrap_or(0);
            let (left, right) = ours.ticked_to(public)?.forked();
            let mut meta = self.meta.clone();
            meta.clock = left.ticked_to(ours.ticks())?;
            let mut batch = Batch::new();
            batch.put(keys::META_KEY.to_vec(), meta.encode());
            self.store.write(batch)?;
            self.meta = meta;
            Some(right)
        } else {
            None
        };
        let state = self.state();
        let genesis = TreeClock::genesis().hash();
        let mut done = HashSet::new();
        let tids = self
            .meta
            .gwc
            .tids()
            .into_iter()
            .filter(|tid| *tid != genesis && done.insert(*tid))
            .collect();
        let latest = LatestOperations {
            state: state.clone(),
            tids,
        };
        let snapshot = Snapshot {
            clock,
            gwc: self.meta.gwc.clone(),
            agreed: self.meta.agreed.clone(),
            state,
            operations: Vec::new(),
        };
        Ok((snapshot, latest))
    }
}

/// The `xsd:double` a remote delete of the integer-valued triple `t` may mean: the triple with
/// the canonical double of equal value. m-ld-js puts an integral double on the wire as a
/// MessagePack integer (docs/protocol.md §3.3), so its delete of `1.234567890123457E15` arrives
/// as the integer `1234567890123457`; [`SuSet::apply`] removes the double when the delete's TIDs
/// are those of the double's inserts and not of the integer's.
fn js_integral_double(t: &Triple) -> Option<Triple> {
    let Term::Literal(literal) = &t.object else {
        return None;
    };
    if literal.datatype().as_str() != m_ld_vocab::ns::XSD_INTEGER {
        return None;
    }
    let value: f64 = literal.value().parse().ok()?;
    let double = Literal::new_typed_literal(
        m_ld_vocab::js::canonical_double(value),
        NamedNode::new_unchecked(m_ld_vocab::ns::XSD_DOUBLE),
    );
    Some(Triple::new(t.subject.clone(), t.predicate.clone(), double))
}

/// Rejects operations whose lists are malformed: an insert TID outside the operation's own
/// ticks (which could resurrect another operation's insert) or a delete without TIDs.
fn check_operation(op: &Operation) -> Result<(), CoreError> {
    let ticks = op.time.ticks();
    if op.from > ticks || op.from == 0 {
        return Err(CoreError::BadOperation(format!(
            "range {}..={ticks} is empty",
            op.from
        )));
    }
    if op.deletes.iter().any(|(_, tids)| tids.is_empty()) {
        return Err(CoreError::BadOperation("a delete without TIDs".into()));
    }
    let mut wanted: HashSet<Tid> = op
        .inserts
        .iter()
        .flat_map(|(_, tids)| tids.iter().copied())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    wanted.remove(&op.time.hash());
    if wanted.is_empty() {
        return Ok(());
    }
    if ticks - op.from > MAX_FUSED_SPAN {
        return Err(CoreError::BadOperation("fused range too long".into()));
    }
    for tick in (op.from..ticks).rev() {
        wanted.remove(&op.time.ticked_to(tick)?.hash());
        if wanted.is_empty() {
            return Ok(());
        }
    }
    Err(CoreError::BadOperation(format!(
        "insert TIDs {wanted:?} are not from ticks {}..={ticks} of {}",
        op.from, op.time
    )))
}

/// `del(a) + ins(a) = ins(a)` (m-ld-js `MutableOperation.minimise`).
fn minimise(update: &mut Update) {
    if update.deletes.is_empty() || update.inserts.is_empty() {
        return;
    }
    let inserted: HashSet<&Triple> = update.inserts.iter().collect();
    update.deletes.retain(|t| !inserted.contains(t));
}

/// Sequential composition of updates (m-ld-js `MutableOperation.append`): `ins(a)` then
/// `del(a)` is `del(a)`.
fn append(update: &mut Update, next: Update) {
    let deleted: HashSet<&Triple> = next.deletes.iter().collect();
    update.inserts.retain(|t| !deleted.contains(t));
    for t in next.deletes {
        if !update.deletes.contains(&t) {
            update.deletes.push(t);
        }
    }
    for t in next.inserts {
        if !update.inserts.contains(&t) {
            update.inserts.push(t);
        }
    }
    minimise(update);
}

#[cfg(test)]
mod tests;

//! Journal administration: fusion of contiguous entries (docs/protocol.md §4.4) and truncation of
//! the journal past a retention, keeping what rev-ups, cutting and snapshots still need.
//!
//! Owns [`JournalAdmin`], [`Retention`], [`Compaction`] and [`SuSet::compact_journal`], and the
//! cut of the operations a reset re-applies by what the snapshot had already seen
//! ([`unseen_parts`]). It must not decide *when* to administer (the facade does), nor change
//! how operations are applied or journaled.
//!
//! **Invariants kept.**
//! - `meta.start`: rev-ups from local ticks before it are refused (`None`); truncation moves it
//!   to the last dropped entry's tick, and drops every entry at or before it.
//! - `meta.base`: a GWC that has seen every operation applied here before the journal's start;
//!   each dropped entry's operation time is folded into it, in journal order.
//! - For every process, the contiguous history ending at its latest operation (the GWC's TID)
//!   stays readable by TID: in the journal, or as one fused past operation (`X` key). Cutting of
//!   fused operations (§4.4) and the "latest operations" of snapshots (§4.6) read it there.
//!   Past operations off every such history are dropped.

use std::collections::{HashMap, HashSet};

use oxrdf::Triple;

use super::{MAX_FUSED_SPAN, SuSet};
use crate::CoreError;
use crate::clock::{GlobalClock, GwcValue, Tid, TreeClock};
use crate::journal::{self, JournalEntry};
use crate::keys::{self, NsTable};
use crate::operation::{Fusion, Operation, OperationMessage};
use crate::store::{Batch, Store, StoreSnapshot};

/// The most ticks one fused journal entry spans: a receiver that cuts it checks each tick, and
/// m-ld-core refuses fused operations spanning more than 2^20 ticks.
pub const MAX_FUSION_SPAN: u64 = 4096;

/// How much of its journal a clone keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retention {
    /// Every entry, as m-ld-js does: any clone can always be revved-up from here.
    #[default]
    All,
    /// At most this many entries (counted after fusion). Older entries are dropped; a clone
    /// that needs them gets `None` from [`SuSet::operations_since`] and must take a snapshot.
    Entries(u64),
}

/// Journal administration settings (m-ld-js `MeldConfig.journal`, plus a retention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalAdmin {
    /// How many entries to keep.
    pub retention: Retention,
    /// Contiguous entries are fused into one until the fusion's footprint (an estimate of its
    /// stored size, in bytes) reaches this, or it spans [`MAX_FUSION_SPAN`] ticks; `0` disables
    /// fusion (m-ld-js `journal.maxEntryFootprint`, default 10,000).
    pub max_entry_footprint: usize,
}

impl JournalAdmin {
    /// m-ld-js's default fusion threshold, in bytes.
    pub const DEFAULT_MAX_ENTRY_FOOTPRINT: usize = 10_000;
}

impl Default for JournalAdmin {
    fn default() -> Self {
        JournalAdmin {
            retention: Retention::All,
            max_entry_footprint: Self::DEFAULT_MAX_ENTRY_FOOTPRINT,
        }
    }
}

/// What one [`SuSet::compact_journal`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compaction {
    /// Entries merged into a later entry by fusion.
    pub fused: usize,
    /// Entries dropped from the journal's start (including any a reset left before it).
    pub truncated: usize,
    /// Past operations dropped because no history needs them any more.
    pub pasts_dropped: usize,
    /// The journal's start (local ticks) afterwards.
    pub start: u64,
}

/// Progress of administration kept in memory: where the next fusion pass resumes.
#[derive(Debug, Default)]
pub(super) struct AdminState {
    /// The local tick of the last entry the previous fusion pass looked at (it may still fuse
    /// with later entries); 0 to start from the journal's start.
    fused_to: u64,
}

impl<S: Store> SuSet<S> {
    /// Administers the journal: fuses runs of contiguous entries (up to
    /// [`JournalAdmin::max_entry_footprint`]), then drops the oldest entries beyond the
    /// [`JournalAdmin::retention`]. Each step is one atomic store write. Rev-ups from before the
    /// new start then return `None`; snapshots still carry each process's latest operation,
    /// fused with its contiguous history.
    pub fn compact_journal(&mut self, admin: &JournalAdmin) -> Result<Compaction, CoreError> {
        self.compact_journal_keeping(admin, None)
    }

    /// [`SuSet::compact_journal`], never dropping the entries at or after local tick
    /// `keep_from` (say, operations not yet handed to any peer, which only the journal can
    /// re-emit): the journal may then hold more entries than the retention.
    pub fn compact_journal_keeping(
        &mut self,
        admin: &JournalAdmin,
        keep_from: Option<u64>,
    ) -> Result<Compaction, CoreError> {
        let mut done = Compaction::default();
        if admin.max_entry_footprint > 0 {
            done.fused = self.fuse_entries(admin.max_entry_footprint)?;
        }
        let keep = match admin.retention {
            Retention::All => None,
            Retention::Entries(keep) => Some(keep),
        };
        let (truncated, dropped) = self.truncate_journal(keep, keep_from)?;
        done.truncated = truncated;
        done.pasts_dropped = dropped;
        done.start = self.meta.start;
        Ok(done)
    }

    /// Fuses runs of adjacent, contiguous entries, resuming where the last pass ended.
    fn fuse_entries(&mut self, max_footprint: usize) -> Result<usize, CoreError> {
        let snap = self.store.snapshot();
        // The last entry of the previous pass may still be extended.
        let after = self.admin.fused_to.max(self.meta.start.saturating_add(1)) - 1;
        let mut batch = Batch::new();
        let mut fused = 0;
        let mut run: Option<Run> = None;
        for r in journal::sized_entries_after(&snap, after, &self.ns) {
            let (entry, size) = r?;
            if let Some(current) = run.as_mut()
                && current.footprint() < max_footprint
                && entry.message.op.ticks().saturating_sub(current.op.from()) < MAX_FUSION_SPAN
                && current.op.is_contiguous(&entry.message.op)
            {
                current.extend(entry, size)?;
                continue;
            }
            if let Some(done) = run.take() {
                fused += done.commit(&mut batch, &self.ns)?;
            }
            run = Some(Run::new(entry, size));
        }
        let last = run.as_ref().map(|r| r.last_tick);
        if let Some(done) = run {
            fused += done.commit(&mut batch, &self.ns)?;
        }
        drop(snap);
        if !batch.is_empty() {
            self.store.write(batch)?;
        }
        if let Some(last) = last {
            self.admin.fused_to = last;
        }
        Ok(fused)
    }

    /// Drops the oldest entries beyond `keep` (none if `None`), but none at or after tick
    /// `keep_from`, and any a reset left before the start, moving the start and folding their
    /// times into the base. Returns the entries and past operations dropped.
    fn truncate_journal(
        &mut self,
        keep: Option<u64>,
        keep_from: Option<u64>,
    ) -> Result<(usize, usize), CoreError> {
        let snap = self.store.snapshot();
        let (excess, new_start) = match keep {
            None => (0, self.meta.start),
            Some(keep) => {
                let ticks: Vec<u64> =
                    journal::ticks_after(&snap, self.meta.start).collect::<Result<_, _>>()?;
                let excess =
                    usize::try_from((ticks.len() as u64).saturating_sub(keep)).unwrap_or(0);
                let protected = keep_from.map_or(ticks.len(), |from| {
                    ticks.partition_point(|&tick| tick < from)
                });
                let excess = excess.min(protected);
                let new_start = excess
                    .checked_sub(1)
                    .and_then(|last| ticks.get(last).copied())
                    .unwrap_or(self.meta.start);
                (excess, new_start)
            }
        };
        let leftovers = journal::ticks_after(&snap, 0)
            .next()
            .transpose()?
            .is_some_and(|first| first <= self.meta.start);
        if excess == 0 && !leftovers {
            return Ok((0, 0));
        }
        let mut batch = Batch::new();
        let mut base = Some(self.meta.base.clone());
        let mut pasts = PastHistories::new(&snap, &self.ns, &self.meta.gwc);
        let mut truncated = 0;
        for r in journal::entries_after(&snap, 0, &self.ns) {
            let JournalEntry { tick, message } = r?;
            if tick > new_start {
                break;
            }
            let op = message.op;
            journal::delete_entry(&mut batch, tick, &op.tid());
            truncated += 1;
            // Entries a reset left before the start were seen by its snapshot, hence by the base.
            if tick > self.meta.start {
                base = base.and_then(|b| fold(b, &op.time));
            }
            pasts.keep(op)?;
        }
        let dropped = pasts.finish(&mut batch)?;
        let mut meta = self.meta.clone();
        meta.start = new_start;
        // The current GWC has seen everything applied here: a safe (if stricter) base.
        meta.base = base.unwrap_or_else(|| self.meta.gwc.clone());
        batch.put(keys::META_KEY.to_vec(), meta.encode());
        drop(snap);
        self.store.write(batch)?;
        self.meta = meta;
        if self.admin.fused_to <= new_start {
            self.admin.fused_to = 0;
        }
        Ok((truncated, dropped))
    }
}

/// `base` having also seen the operation at `time`; `None` if the clocks do not fit.
fn fold(base: GlobalClock, time: &TreeClock) -> Option<GlobalClock> {
    if base
        .get_ticks(time)
        .is_some_and(|seen| seen >= time.ticks())
    {
        return Some(base);
    }
    base.set(time).ok()
}

/// A run of adjacent, contiguous journal entries being fused.
struct Run {
    /// The `prev` of the first constituent.
    prev: u64,
    /// The fusion so far.
    op: Fusion,
    /// The sum of the constituents' stored sizes.
    bytes: usize,
    /// The sum of the constituents' (triple, TID) pairs.
    pairs: usize,
    /// Every constituent but the last, by local tick and TID: their entries are replaced.
    replaced: Vec<(u64, Tid)>,
    /// The local tick of the last constituent, where the fused entry is kept.
    last_tick: u64,
}

impl Run {
    fn new(entry: JournalEntry, size: usize) -> Run {
        Run {
            prev: entry.message.prev,
            pairs: pair_count(&entry.message.op),
            op: Fusion::new(entry.message.op),
            bytes: size,
            replaced: Vec::new(),
            last_tick: entry.tick,
        }
    }

    fn extend(&mut self, entry: JournalEntry, size: usize) -> Result<(), CoreError> {
        self.replaced.push((self.last_tick, self.op.tid()));
        self.pairs = self.pairs.saturating_add(pair_count(&entry.message.op));
        self.op.push(entry.message.op)?;
        self.bytes = self.bytes.saturating_add(size);
        self.last_tick = entry.tick;
        Ok(())
    }

    /// The estimated stored size of the fusion: its pairs at the constituents' mean size per
    /// pair (inserts deleted inside the fusion cancel out, so it can be far below their sum).
    fn footprint(&self) -> usize {
        let per_pair = self.bytes / self.pairs.max(1);
        self.op.pairs().saturating_mul(per_pair.max(1))
    }

    /// Stages the fused entry in place of its constituents; returns how many entries went.
    fn commit(self, batch: &mut Batch, ns: &NsTable) -> Result<usize, CoreError> {
        if self.replaced.is_empty() {
            return Ok(0);
        }
        for (tick, tid) in &self.replaced {
            journal::delete_entry(batch, *tick, tid);
        }
        let msg = OperationMessage {
            prev: self.prev,
            op: self.op.into_operation(),
        };
        journal::put_entry(batch, self.last_tick, &msg, ns)?;
        Ok(self.replaced.len())
    }
}

/// Stored past operations up to this size are always fused with the history after them.
#[cfg(not(test))]
const SMALL_PIECE: usize = 64 * 1024;
#[cfg(test)]
const SMALL_PIECE: usize = 2 * 1024;

/// The TID of the operation just before `op` in its process's contiguous history, if any.
fn predecessor(op: &Operation) -> Option<Tid> {
    let before = op.from.checked_sub(1).filter(|&t| t > 0)?;
    op.time.ticked_to(before).ok().map(|t| t.hash())
}

/// The size of an operation's stored form.
fn encoded_len(op: &Operation, ns: &NsTable) -> Result<usize, CoreError> {
    let mut buf = Vec::new();
    op.encode(&mut buf, ns)?;
    Ok(buf.len())
}

/// The (triple, TID) pairs an operation deletes and inserts.
fn pair_count(op: &Operation) -> usize {
    op.deletes
        .iter()
        .chain(&op.inserts)
        .map(|(_, tids)| tids.len())
        .sum()
}

/// Whether the operation at `time` is on the contiguous history that ends at its process's
/// latest operation in `gwc` (its process has received nothing since). When in doubt, yes.
fn on_latest_history(gwc: &GlobalClock, time: &TreeClock) -> bool {
    match gwc.value(time) {
        Ok(GwcValue::Tid(latest)) => {
            let ticks = gwc.get_ticks(time).unwrap_or(0);
            if ticks < time.ticks() {
                return true;
            }
            time.ticked_to(ticks)
                .map(|t| t.hash() == latest)
                .unwrap_or(true)
        }
        Ok(GwcValue::Blocked) => false,
        Err(_) => true,
    }
}

/// The past operations (`X`) being rebuilt from dropped entries: one fused operation per
/// process history still needed.
struct PastHistories<'a, T: StoreSnapshot> {
    snap: &'a T,
    ns: &'a NsTable,
    gwc: &'a GlobalClock,
    /// Histories built from this pass's dropped entries, by the TID of their latest operation.
    built: HashMap<Tid, Fusion>,
    /// Stored past operations fused into a built history (to delete unless rewritten).
    merged: HashSet<Tid>,
}

impl<'a, T: StoreSnapshot> PastHistories<'a, T> {
    fn new(snap: &'a T, ns: &'a NsTable, gwc: &'a GlobalClock) -> Self {
        PastHistories {
            snap,
            ns,
            gwc,
            built: HashMap::new(),
            merged: HashSet::new(),
        }
    }

    /// Keeps a dropped entry's operation if its process's latest history needs it, fused onto
    /// the history before it.
    fn keep(&mut self, op: Operation) -> Result<(), CoreError> {
        if !on_latest_history(self.gwc, &op.time) {
            return Ok(());
        }
        // A built history before this one that is not contiguous with it is off every latest
        // history: it is dropped.
        let history = match predecessor(&op).and_then(|pred| self.built.remove(&pred)) {
            Some(mut prior) if prior.is_contiguous(&op) => {
                prior.push(op)?;
                prior
            }
            _ => Fusion::new(op),
        };
        self.built.insert(history.tid(), history);
        Ok(())
    }

    /// Fuses a built history onto the stored past operations before it, while they are not
    /// much larger than it: a long history is kept as a few pieces of decreasing size, so that
    /// each pass rewrites about as much as it drops, not the whole history.
    fn attach(&mut self, mut piece: Operation) -> Result<Operation, CoreError> {
        let mut size = encoded_len(&piece, self.ns)?;
        while let Some(pred) = predecessor(&piece) {
            let Some(bytes) = self.snap.get(&keys::tid_key(keys::PAST_OP, &pred))? else {
                break;
            };
            if bytes.len() > SMALL_PIECE && bytes.len() > 2 * size {
                break;
            }
            let prior = Operation::decode(&mut &bytes[..], self.ns)?;
            if !prior.is_contiguous(&piece) {
                break;
            }
            let mut fusion = Fusion::new(prior);
            fusion.push(piece)?;
            piece = fusion.into_operation();
            self.merged.insert(pred);
            size = encoded_len(&piece, self.ns)?;
        }
        Ok(piece)
    }

    /// Stages the built histories and drops past operations no history needs; returns how
    /// many were dropped.
    fn finish(mut self, batch: &mut Batch) -> Result<usize, CoreError> {
        let built = std::mem::take(&mut self.built);
        let mut pieces = HashMap::with_capacity(built.len());
        for history in built.into_values() {
            let piece = self.attach(history.into_operation())?;
            pieces.insert(piece.tid(), piece);
        }
        let mut dropped = 0;
        for tid in &self.merged {
            if !pieces.contains_key(tid) {
                journal::delete_past_operation(batch, tid);
                dropped += 1;
            }
        }
        for r in journal::past_times(self.snap) {
            let (tid, time) = r?;
            if self.merged.contains(&tid) || pieces.contains_key(&tid) {
                continue;
            }
            if !on_latest_history(self.gwc, &time) {
                journal::delete_past_operation(batch, &tid);
                dropped += 1;
            }
        }
        for op in pieces.values() {
            journal::put_past_operation(batch, op, self.ns)?;
        }
        Ok(dropped)
    }
}

/// The parts of a reset's re-applied operations (`unseen`, journal operations that a snapshot
/// with GWC `gwc` lacks) that the snapshot has not applied yet, in the same order.
///
/// A fused operation may be partly seen: the snapshot applied its constituents up to the GWC's
/// ticks for its process. Their inserts are dropped (re-adding them could resurrect a later
/// delete by another clone), and pairs of `data` (the snapshot's) that those constituents
/// inserted and a later constituent deleted (the fusion cancelled both) are removed.
pub(super) fn unseen_parts(
    gwc: &GlobalClock,
    unseen: &[OperationMessage],
    data: &mut HashMap<Triple, Vec<Tid>>,
) -> Result<Vec<Operation>, CoreError> {
    let mut parts = Vec::with_capacity(unseen.len());
    // TIDs of seen constituents, each with the triples its fusion still inserts with it.
    let mut seen: HashMap<Tid, HashSet<Triple>> = HashMap::new();
    for msg in unseen {
        let op = &msg.op;
        let seen_ticks = gwc.get_ticks(&op.time).unwrap_or(0);
        if seen_ticks < op.from {
            parts.push(op.clone());
            continue;
        }
        let last = seen_ticks.min(op.ticks());
        if last - op.from > MAX_FUSED_SPAN {
            return Err(CoreError::BadOperation("fused range too long".into()));
        }
        let mut prefix = HashSet::new();
        for tick in op.from..=last {
            let tid = op.time.ticked_to(tick)?.hash();
            prefix.insert(tid);
            seen.entry(tid).or_default();
        }
        let mut part = op.clone();
        for (t, tids) in &mut part.inserts {
            tids.retain(|tid| {
                if prefix.contains(tid) {
                    seen.entry(*tid).or_default().insert(t.clone());
                    false
                } else {
                    true
                }
            });
        }
        part.inserts.retain(|(_, tids)| !tids.is_empty());
        parts.push(part);
    }
    if !seen.is_empty() {
        for (t, tids) in data.iter_mut() {
            tids.retain(|tid| seen.get(tid).is_none_or(|kept| kept.contains(t)));
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use oxrdf::{Literal, NamedNode};

    use super::*;
    use crate::store::MemoryStore;
    use crate::suset::{Commit, Patch};

    const DOMAIN: &str = "test.m-ld.org";

    fn t(s: &str, o: &str) -> Triple {
        Triple::new(
            NamedNode::new_unchecked(format!("http://{DOMAIN}/{s}")),
            NamedNode::new_unchecked(format!("http://{DOMAIN}/#p")),
            Literal::new_simple_literal(o),
        )
    }

    fn ins(s: &str, o: &str) -> Patch {
        Patch {
            deletes: vec![],
            inserts: vec![t(s, o)],
        }
    }

    fn del(s: &str, o: &str) -> Patch {
        Patch {
            deletes: vec![t(s, o)],
            inserts: vec![],
        }
    }

    fn genesis() -> SuSet<MemoryStore> {
        SuSet::genesis(MemoryStore::new(), DOMAIN).unwrap()
    }

    fn commit(s: &mut SuSet<MemoryStore>, patch: Patch) -> Commit {
        s.transact(patch).unwrap().unwrap()
    }

    fn snapshot_of(
        from: &mut SuSet<MemoryStore>,
        new_clock: bool,
    ) -> super::super::Snapshot<crate::store::MemorySnapshot> {
        from.take_snapshot(new_clock).unwrap()
    }

    fn join(from: &mut SuSet<MemoryStore>) -> SuSet<MemoryStore> {
        let snap = snapshot_of(from, true);
        let triples: Vec<_> = snap
            .state
            .triples_with_tids()
            .collect::<Result<_, _>>()
            .unwrap();
        SuSet::join(
            MemoryStore::new(),
            DOMAIN,
            snap.clock.unwrap(),
            snap.gwc,
            snap.agreed,
            triples,
            snap.operations,
        )
        .unwrap()
    }

    fn reset_from(
        to: &mut SuSet<MemoryStore>,
        from: &mut SuSet<MemoryStore>,
    ) -> Vec<OperationMessage> {
        let snap = snapshot_of(from, false);
        let triples: Vec<_> = snap
            .state
            .triples_with_tids()
            .collect::<Result<_, _>>()
            .unwrap();
        to.reset(snap.gwc, snap.agreed, triples, snap.operations)
            .unwrap()
    }

    fn all(s: &SuSet<MemoryStore>) -> Vec<(Triple, Vec<Tid>)> {
        let mut v: Vec<_> = s
            .state()
            .triples_with_tids()
            .collect::<Result<_, _>>()
            .unwrap();
        v.sort_by_key(|(t, _)| t.to_string());
        v
    }

    fn keep(n: u64) -> JournalAdmin {
        JournalAdmin {
            retention: Retention::Entries(n),
            max_entry_footprint: 0,
        }
    }

    const FUSE: JournalAdmin = JournalAdmin {
        retention: Retention::All,
        max_entry_footprint: usize::MAX,
    };

    #[test]
    fn contiguous_local_entries_fuse_into_one() {
        let mut a = genesis();
        let mut b = join(&mut a);
        let mut commits = Vec::new();
        for i in 0..5 {
            commits.push(commit(&mut a, ins("x", &i.to_string())));
        }
        commits.push(commit(&mut a, del("x", "0")));
        // B has seen the first two.
        b.apply(commits[0].message.clone()).unwrap();
        b.apply(commits[1].message.clone()).unwrap();
        let before = all(&a);
        let done = a.compact_journal(&FUSE).unwrap();
        assert_eq!(done.fused, 5);
        let journal = a.journal().unwrap();
        assert_eq!(journal.len(), 1);
        let fused = &journal[0].message;
        assert_eq!((fused.op.from, fused.op.ticks(), fused.prev), (1, 6, 0));
        assert!(fused.op.deletes.is_empty(), "x0 insert and delete cancel");
        assert_eq!(fused.op.inserts.len(), 4);
        assert_eq!(all(&a), before, "fusion changes no data");
        // The fused entry stays findable by its (last) TID; constituents are gone.
        let last = commits.last().unwrap().message.op.tid();
        assert_eq!(a.operation(&last).unwrap().unwrap().from, 1);
        assert!(a.operation(&commits[2].message.op.tid()).unwrap().is_none());
        // A rev-up from inside the fusion sends it whole; the receiver cuts what it has seen.
        let revup = a.operations_since(b.clock()).unwrap().unwrap();
        assert_eq!(revup.len(), 1);
        for msg in revup {
            b.apply(msg).unwrap();
        }
        assert_eq!(all(&b), all(&a));
        // A second pass finds nothing more to fuse; a later write extends the fusion.
        assert_eq!(a.compact_journal(&FUSE).unwrap().fused, 0);
        commit(&mut a, ins("y", "1"));
        assert_eq!(a.compact_journal(&FUSE).unwrap().fused, 1);
        assert_eq!(a.journal().unwrap().len(), 1);
    }

    #[test]
    fn fusion_refuses_what_is_not_contiguous() {
        // (Fusion itself is property-tested against its history in `operation`.)
        let mut a = genesis();
        let ops: Vec<Operation> = (0..3)
            .map(|i| commit(&mut a, ins("x", &i.to_string())).message.op)
            .collect();
        let mut f = Fusion::new(ops[2].clone());
        assert!(f.push(ops[1].clone()).is_err());
        let mut f = Fusion::new(ops[0].clone());
        assert!(f.push(ops[2].clone()).is_err());
        f.push(ops[1].clone()).unwrap();
        f.push(ops[2].clone()).unwrap();
        assert_eq!(f.from(), ops[0].from);
    }

    #[test]
    fn fusion_stops_at_the_footprint_and_at_receipts() {
        let mut a = genesis();
        let mut b = join(&mut a);
        for i in 0..4 {
            commit(&mut a, ins("a", &i.to_string()));
        }
        let b1 = commit(&mut b, ins("b", "1"));
        a.apply(b1.message).unwrap();
        // Not contiguous with A's earlier ops: A received B's op in between.
        commit(&mut a, ins("a", "4"));
        // A footprint of one byte: nothing fuses.
        let one = JournalAdmin {
            retention: Retention::All,
            max_entry_footprint: 1,
        };
        let mut a_copy = SuSet::open(a.store().clone()).unwrap().unwrap();
        assert_eq!(a_copy.compact_journal(&one).unwrap().fused, 0);
        assert_eq!(a_copy.journal().unwrap().len(), 6);
        let done = a.compact_journal(&FUSE).unwrap();
        assert_eq!(done.fused, 3);
        let ranges: Vec<_> = a
            .journal()
            .unwrap()
            .iter()
            .map(|e| (e.message.op.from, e.message.op.ticks()))
            .collect();
        assert_eq!(ranges, vec![(1, 4), (1, 1), (7, 7)]);
    }

    #[test]
    fn entries_kept_from_a_tick_are_never_dropped() {
        let mut a = genesis();
        for i in 0..10 {
            commit(&mut a, ins("x", &i.to_string()));
        }
        // Ops from tick 6 on were never sent: at most ticks 1..=5 may go.
        let done = a.compact_journal_keeping(&keep(2), Some(6)).unwrap();
        assert_eq!((done.truncated, done.start), (5, 5));
        assert_eq!(a.journal().unwrap().len(), 5);
        // Once sent, the retention applies again.
        let done = a.compact_journal_keeping(&keep(2), None).unwrap();
        assert_eq!((done.truncated, done.start), (3, 8));
    }

    #[test]
    fn a_fusion_spans_at_most_the_span_limit() {
        let mut a = genesis();
        // Overwrites cancel out inside a fusion: only the span limit ends it.
        for i in 0..MAX_FUSION_SPAN + 10 {
            let old = i.to_string();
            let new = (i + 1).to_string();
            commit(
                &mut a,
                Patch {
                    deletes: vec![t("x", &old)],
                    inserts: vec![t("x", &new)],
                },
            );
        }
        a.compact_journal(&FUSE).unwrap();
        let ranges: Vec<_> = a
            .journal()
            .unwrap()
            .iter()
            .map(|e| (e.message.op.from, e.message.op.ticks()))
            .collect();
        assert_eq!(
            ranges,
            vec![
                (1, MAX_FUSION_SPAN),
                (MAX_FUSION_SPAN + 1, MAX_FUSION_SPAN + 10)
            ]
        );
    }

    #[test]
    fn truncation_keeps_rev_ups_inside_the_retention_only() {
        let mut a = genesis();
        let b = join(&mut a);
        let mut c = join(&mut a);
        let mut clocks = vec![a.clock().clone()];
        for i in 0..10 {
            commit(&mut a, ins("x", &i.to_string()));
            clocks.push(a.clock().clone());
        }
        let done = a.compact_journal(&keep(3)).unwrap();
        assert_eq!((done.truncated, done.start), (7, 7));
        assert_eq!(a.journal_start(), 7);
        assert_eq!(a.journal().unwrap().len(), 3);
        // From inside the retention: exactly the later entries.
        let revup = a.operations_since(&clocks[7]).unwrap().unwrap();
        assert_eq!(revup.len(), 3);
        assert!(a.operations_since(&clocks[9]).unwrap().unwrap().len() == 1);
        // From before it: refused, so the requester must take a snapshot.
        assert!(a.operations_since(&clocks[6]).unwrap().is_none());
        assert!(a.operations_since(b.clock()).unwrap().is_none());
        // The snapshot carries A's latest operation fused with its whole contiguous history.
        let snap = snapshot_of(&mut a, false);
        let ours: Vec<_> = snap
            .operations
            .iter()
            .filter(|op| op.time.get_ticks(a.clock()) == Some(10))
            .collect();
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0].from, 1);
        assert_eq!(ours[0].inserts.len(), 10);
        // A clone too far behind recovers by reset from the snapshot.
        let reemit = reset_from(&mut c, &mut a);
        assert!(reemit.is_empty());
        assert_eq!(all(&c), all(&a));
        // Restart keeps the start and base.
        let store = a.into_store();
        let a = SuSet::open(store).unwrap().unwrap();
        assert_eq!(a.journal_start(), 7);
        assert!(a.operations_since(&clocks[6]).unwrap().is_none());
    }

    #[test]
    fn truncated_history_still_cuts_fused_operations() {
        let mut a = genesis();
        let mut b = join(&mut a);
        let mut c = join(&mut a);
        let x = commit(&mut b, ins("x", "1"));
        let y = commit(&mut b, ins("y", "1"));
        // C deletes x after seeing it.
        c.apply(x.message.clone()).unwrap();
        let cx = commit(&mut c, del("x", "1"));
        // A sees B's two ops and C's delete, then drops them all from its journal.
        a.apply(x.message.clone()).unwrap();
        a.apply(y.message.clone()).unwrap();
        a.apply(cx.message.clone()).unwrap();
        let done = a.compact_journal(&keep(0)).unwrap();
        assert_eq!(done.truncated, 3);
        assert!(a.journal().unwrap().is_empty());
        // B's fusion of x then y (which re-carries x@1): A cuts it by its past operations.
        let fused = x.message.op.fuse(&y.message.op).unwrap();
        let z = commit(&mut b, ins("z", "1"));
        let fused = fused.fuse(&z.message.op).unwrap();
        a.apply(OperationMessage {
            prev: x.message.prev,
            op: fused,
        })
        .unwrap();
        assert!(
            !a.state().contains(&t("x", "1")).unwrap(),
            "no resurrection"
        );
        assert!(a.state().contains(&t("z", "1")).unwrap());
    }

    #[test]
    fn truncated_operations_fold_into_the_base() {
        let mut a = genesis();
        let mut b = join(&mut a);
        let mut c = join(&mut a);
        let b1 = commit(&mut b, ins("b", "1"));
        a.apply(b1.message).unwrap();
        commit(&mut a, ins("a", "1"));
        // C has not seen B's op; once A drops it from its journal, C's snapshot is unusable
        // for A (A could not re-apply B's op on top of it).
        a.compact_journal(&keep(1)).unwrap();
        let snap = snapshot_of(&mut c, false);
        let triples: Vec<_> = snap
            .state
            .triples_with_tids()
            .collect::<Result<_, _>>()
            .unwrap();
        let err = a
            .reset(snap.gwc, snap.agreed, triples, snap.operations)
            .unwrap_err();
        assert_eq!(err.status(), 5002, "{err}");
        // B's snapshot has seen everything before A's start: usable.
        let mut b2 = b;
        let reemit = reset_from(&mut a, &mut b2);
        assert_eq!(reemit.len(), 1, "A's own op, which B lacks");
    }

    #[test]
    fn entries_a_reset_left_before_the_start_are_dropped() {
        let mut a = genesis();
        let mut b = join(&mut a);
        let b1 = commit(&mut b, ins("b", "1"));
        a.apply(b1.message).unwrap();
        commit(&mut a, ins("a", "1"));
        let reemit = reset_from(&mut a, &mut b);
        assert_eq!(reemit.len(), 1, "A's own op, which B lacks");
        // The entry of B's op is left before the start; administration drops it, even keeping
        // every entry.
        let start = a.journal_start();
        assert!(a.journal().unwrap().iter().any(|e| e.tick <= start));
        let done = a.compact_journal(&JournalAdmin::default()).unwrap();
        assert_eq!(done.truncated, 1);
        let journal = a.journal().unwrap();
        assert_eq!(journal.len(), 1);
        assert!(journal[0].tick > a.journal_start());
    }

    #[test]
    fn past_operations_off_every_latest_history_are_dropped() {
        let mut a = genesis();
        let mut b = join(&mut a);
        let b1 = commit(&mut b, ins("b", "1"));
        let b1_tid = b1.message.op.tid();
        a.apply(b1.message).unwrap();
        let a1 = commit(&mut a, ins("a", "1"));
        let a2 = commit(&mut a, ins("a", "2"));
        // B receives A's ops, so its next op is not contiguous with b1.
        b.apply(a1.message).unwrap();
        b.apply(a2.message).unwrap();
        let b2 = commit(&mut b, ins("b", "2"));
        a.compact_journal(&keep(0)).unwrap();
        assert!(
            a.operation(&b1_tid).unwrap().is_some(),
            "B's latest op is kept as a past operation"
        );
        a.apply(b2.message.clone()).unwrap();
        let done = a.compact_journal(&keep(0)).unwrap();
        assert_eq!(done.truncated, 1);
        assert_eq!(done.pasts_dropped, 1, "b1 is off B's latest history now");
        assert!(a.operation(&b2.message.op.tid()).unwrap().is_some());
        // Exactly one past operation per process: A's and B's latest.
        let snap = a.store.snapshot();
        assert_eq!(journal::past_times(&snap).count(), 2);
    }

    #[test]
    fn a_long_dropped_history_is_kept_in_few_pieces_that_still_cut() {
        let mut a = genesis();
        let mut b = join(&mut a);
        let mut messages = Vec::new();
        for i in 0..600 {
            let op = commit(&mut a, ins(&format!("s{i}"), "a long enough literal value"));
            messages.push(op.message);
        }
        // B applies A's ops but one, dropping them from its journal every 100.
        for (i, msg) in messages[..599].iter().enumerate() {
            b.apply(msg.clone()).unwrap();
            if i % 100 == 99 {
                b.compact_journal(&keep(0)).unwrap();
            }
        }
        b.compact_journal(&keep(0)).unwrap();
        let snap = b.store.snapshot();
        let pieces = journal::past_times(&snap)
            .filter(|r| r.as_ref().unwrap().1.get_ticks(a.clock()) > Some(0))
            .count();
        assert!((2..=4).contains(&pieces), "{pieces} pieces of A's history");
        drop(snap);
        // The snapshot's latest operation of A is the whole history.
        let snap = snapshot_of(&mut b, false);
        let latest = snap
            .operations
            .iter()
            .find(|op| op.time.get_ticks(a.clock()) == Some(599))
            .unwrap();
        assert_eq!((latest.from, latest.inserts.len()), (1, 599));
        drop(snap);
        // A fusion of all A's ops is cut across the pieces.
        let mut fused = messages[0].op.clone();
        for msg in &messages[1..] {
            fused = fused.fuse(&msg.op).unwrap();
        }
        let a_del = commit(&mut a, del("s0", "a long enough literal value"));
        b.apply(OperationMessage { prev: 0, op: fused }).unwrap();
        b.apply(a_del.message).unwrap();
        assert_eq!(all(&b), all(&a));
    }

    #[test]
    fn reset_cuts_a_partly_seen_fusion() {
        let mut a = genesis();
        let mut b = join(&mut a);
        let x = commit(&mut a, ins("x", "1"));
        let y = commit(&mut a, ins("y", "1"));
        // x inserted then deleted inside A's fusion; the snapshot saw only the insert.
        commit(&mut a, del("y", "1"));
        commit(&mut a, ins("z", "1"));
        assert_eq!(a.compact_journal(&FUSE).unwrap().fused, 3);
        b.apply(x.message).unwrap();
        b.apply(y.message).unwrap();
        // B deletes x after seeing it.
        commit(&mut b, del("x", "1"));
        let reemit = reset_from(&mut a, &mut b);
        assert_eq!(reemit.len(), 1);
        let got: Vec<_> = all(&a).into_iter().map(|(t, _)| t).collect();
        assert_eq!(got, vec![t("z", "1")], "neither x nor y resurrects");
        // B converges too, cutting the re-emitted fusion.
        for msg in reemit {
            b.apply(msg).unwrap();
        }
        assert_eq!(all(&b), all(&a));
    }
}

//! SU-Set operations: their model, fusion of contiguous operations, cutting of an already-seen
//! prefix, and the compact binary form stored in the journal.
//!
//! Owns [`Operation`] (the fields of a m-ld-js `EncodedOperation`, docs/protocol.md §2.2, decoded
//! into RDF triples and [`Tid`]s) and [`OperationMessage`] (`prev` + operation). Fusion and cutting
//! (docs/protocol.md §4.4) are pure functions over operations, with one implementation each:
//! fusion is `Fusion` (a history pushed through it one operation at a time; [`Operation::fuse`]
//! and [`fuse_all`] use it, and so do journal administration and snapshots), and cutting is
//! [`Operation::cut`]; both keep their pairs in one `PairTable`. This module must not touch a store
//! or the wire JSON-LD codec (that lives with the wire codec); its binary form is internal to the
//! journal.

use std::hash::BuildHasher;

use oxrdf::Triple;

use crate::CoreError;
use crate::clock::{Tid, TreeClock};
use crate::keys::{self, NsTable};
use crate::wire::msgpack;

/// One SU-Set operation: the triples it deletes (each with the TIDs its author saw) and the
/// triples it inserts (each with the TIDs of the constituent ticks that inserted it), stamped
/// with its author's clock.
///
/// Field by field it models m-ld-js `EncodedOperation` (docs/protocol.md §2.2): `from` is index 1,
/// `time` index 2, `deletes`/`inserts` the decoded update tuple of index 3, `principal` index 5 and
/// `agreed` index 6. A triple appears at most once in each list, with a non-empty TID list.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The first tick of the causal range: `time.ticks()` unless the operation is a fusion.
    pub from: u64,
    /// The author's clock at the (last) operation.
    pub time: TreeClock,
    /// Deleted triples, each with the TIDs of the insertions it removes.
    pub deletes: Vec<(Triple, Vec<Tid>)>,
    /// Inserted triples, each with the TIDs it is inserted with (`[tid()]` for a plain
    /// operation; a fusion carries the TID of each constituent tick).
    pub inserts: Vec<(Triple, Vec<Tid>)>,
    /// The principal IRI, if the author's app has one.
    pub principal: Option<String>,
    /// The last agreement in the range: its tick and its proof.
    pub agreed: Option<(u64, serde_json::Value)>,
}

/// An operation with its sender's previous public tick, as broadcast (docs/protocol.md §2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct OperationMessage {
    /// The sender's previous public tick: its GWC ticks for its own process before this
    /// operation (for a fusion, before its first constituent).
    pub prev: u64,
    /// The operation.
    pub op: Operation,
}

impl Operation {
    /// The operation's identity: the hash of its time.
    pub fn tid(&self) -> Tid {
        self.time.hash()
    }

    /// The author's ticks at the (last) operation.
    pub fn ticks(&self) -> u64 {
        self.time.ticks()
    }

    /// Whether this operation fuses more than one tick.
    pub fn is_fused(&self) -> bool {
        self.from < self.time.ticks()
    }

    /// Whether `next` follows this operation immediately in its author's history, with nothing
    /// received by the author in between, and under the same principal (m-ld-js
    /// `MeldOperation.contiguous`).
    pub fn is_contiguous(&self, next: &Operation) -> bool {
        let Some(after) = self.time.ticks().checked_add(1) else {
            return false;
        };
        if after != next.from || self.principal != next.principal {
            return false;
        }
        match (
            self.time.ticked_to(next.from),
            next.time.ticked_to(next.from),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    /// Fuses this operation with the contiguous `next` one (docs/protocol.md §4.4): an insert
    /// deleted by `next` cancels out of both lists; the result spans both ranges and keeps the most
    /// recent agreement.
    pub fn fuse(&self, next: &Operation) -> Result<Operation, CoreError> {
        let mut fusion = Fusion::new(self.clone());
        fusion.push(next.clone())?;
        Ok(fusion.into_operation())
    }

    /// Cuts from this (fused) operation the prefix that `prev` has already applied
    /// (docs/protocol.md §4.4, m-ld-js `cutting().next(prev)`). `prev` must be this operation's
    /// own history, ending inside this operation's range but before its end. The result starts
    /// after `prev`.
    pub fn cut(&self, prev: &Operation) -> Result<Operation, CoreError> {
        let seen = prev.time.ticks();
        if seen < self.from || seen >= self.time.ticks() {
            return Err(CoreError::BadOperation(format!(
                "cannot cut {} (from {}) by {}",
                self.time, self.from, prev.time
            )));
        }
        if self.time.ticked_to(seen)? != prev.time {
            return Err(CoreError::BadOperation(format!(
                "{} is not in the history of {}",
                prev.time, self.time
            )));
        }
        let prev_inserts = PairTable::from_grouped(prev.inserts.clone());
        let mut deletes = PairTable::from_grouped(self.deletes.clone());
        let mut inserts = PairTable::from_grouped(self.inserts.clone());
        // Deletes that the prefix already applied.
        for (t, tids) in &prev.deletes {
            deletes.remove(t, tids);
        }
        // Deletes of the prefix's own inserts that the prefix itself already cancelled.
        if prev.from < self.from {
            let before = self.tids_of(prev.from..self.from)?;
            for (t, tid) in deletes.pairs_with(|d| before.contains(d)) {
                if !prev_inserts.contains(&t, &tid) {
                    deletes.remove_pair(&t, &tid);
                }
            }
        }
        // Inserts of the overlap: already applied, unless this operation later deleted them.
        let overlap = self.tids_of(self.from..seen + 1)?;
        for (t, tid) in prev_inserts.pairs_with(|i| overlap.contains(i)) {
            if !inserts.remove_pair(&t, &tid) {
                deletes.insert(t, vec![tid]);
            }
        }
        let agreed = match &self.agreed {
            Some((tick, _)) if *tick <= seen => None,
            other => other.clone(),
        };
        Ok(Operation {
            from: seen + 1,
            time: self.time.clone(),
            deletes: deletes.into_grouped(),
            inserts: inserts.into_grouped(),
            principal: self.principal.clone(),
            agreed,
        })
    }

    /// The TIDs of this operation's own ticks in `ticks` (each its time rewound to that tick).
    fn tids_of(&self, ticks: std::ops::Range<u64>) -> Result<foldhash::HashSet<Tid>, CoreError> {
        ticks
            .map(|tick| Ok(self.time.ticked_to(tick)?.hash()))
            .collect()
    }

    /// A copy with each TID list sorted and the triples in a canonical order, so that two
    /// operations with the same content compare equal.
    pub fn normalized(&self) -> Operation {
        fn norm(list: &[(Triple, Vec<Tid>)]) -> Vec<(Triple, Vec<Tid>)> {
            let mut list: Vec<(Triple, Vec<Tid>)> = list
                .iter()
                .map(|(t, tids)| {
                    let mut tids = tids.clone();
                    tids.sort();
                    tids.dedup();
                    (t.clone(), tids)
                })
                .collect();
            list.sort_by_cached_key(|(t, _)| t.to_string());
            list
        }
        Operation {
            deletes: norm(&self.deletes),
            inserts: norm(&self.inserts),
            ..self.clone()
        }
    }

    /// Appends the journal's binary form of this operation (see [`Operation::decode`]).
    pub(crate) fn encode(&self, buf: &mut Vec<u8>, ns: &NsTable) -> Result<(), CoreError> {
        let flags = u8::from(self.principal.is_some()) | (u8::from(self.agreed.is_some()) << 1);
        buf.push(flags);
        keys::write_varint(buf, self.from);
        keys::write_lp(buf, &clock_to_bytes(&self.time));
        if let Some(p) = &self.principal {
            keys::write_lp(buf, p.as_bytes());
        }
        if let Some((tick, proof)) = &self.agreed {
            keys::write_varint(buf, *tick);
            let json = serde_json::to_vec(proof)
                .map_err(|e| CoreError::BadOperation(format!("agreement proof: {e}")))?;
            keys::write_lp(buf, &json);
        }
        let tid = self.tid();
        for (list, implicit) in [(&self.deletes, None), (&self.inserts, Some(&tid))] {
            keys::write_varint(buf, list.len() as u64);
            let mut last_subject: Option<&oxrdf::NamedOrBlankNode> = None;
            for (t, tids) in list {
                if last_subject == Some(&t.subject) {
                    // Operations are subject-centric: a repeated subject is one byte.
                    buf.push(SAME_SUBJECT);
                } else {
                    keys::write_subject(buf, t.subject.as_ref(), ns);
                    last_subject = Some(&t.subject);
                }
                keys::write_iri(buf, t.predicate.as_str(), ns);
                keys::write_term(buf, t.object.as_ref(), ns)?;
                if implicit.is_some() && tids.len() == 1 && Some(&tids[0]) == implicit {
                    // The common case: a plain insert carries the operation's own TID.
                    keys::write_varint(buf, 0);
                } else {
                    keys::write_varint(buf, tids.len() as u64);
                    for tid in tids {
                        keys::write_tid(buf, tid);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads an operation written by [`Operation::encode`], advancing `input`.
    pub(crate) fn decode(input: &mut &[u8], ns: &NsTable) -> Result<Operation, CoreError> {
        let flags = keys::read_u8(input)?;
        let from = keys::read_varint(input)?;
        let time = clock_from_bytes(keys::read_lp(input)?)?;
        let principal = if flags & 1 != 0 {
            Some(keys::read_str(input)?.to_string())
        } else {
            None
        };
        let agreed = if flags & 2 != 0 {
            let tick = keys::read_varint(input)?;
            let proof = serde_json::from_slice(keys::read_lp(input)?)
                .map_err(|e| CoreError::Corrupt(format!("agreement proof: {e}")))?;
            Some((tick, proof))
        } else {
            None
        };
        let tid = time.hash();
        let mut lists = [Vec::new(), Vec::new()];
        for (i, list) in lists.iter_mut().enumerate() {
            let n = keys::read_len(input)?;
            list.reserve(n.min(input.len()));
            let mut last_subject: Option<oxrdf::NamedOrBlankNode> = None;
            for _ in 0..n {
                let subject = if input.first() == Some(&SAME_SUBJECT) {
                    *input = &input[1..];
                    last_subject
                        .clone()
                        .ok_or_else(|| CoreError::Corrupt("no subject to repeat".into()))?
                } else {
                    let subject = keys::read_subject(input, ns)?;
                    last_subject = Some(subject.clone());
                    subject
                };
                let predicate = keys::read_named(input, ns)?;
                let t = Triple::new(subject, predicate, keys::read_term(input, ns)?);
                let count = keys::read_len(input)?;
                let tids = if count == 0 && i == 1 {
                    vec![tid]
                } else if count == 0 {
                    return Err(CoreError::Corrupt("delete without TIDs".into()));
                } else {
                    let mut tids = Vec::with_capacity(count.min(input.len()));
                    for _ in 0..count {
                        tids.push(keys::read_tid(input)?);
                    }
                    tids
                };
                list.push((t, tids));
            }
        }
        let [deletes, inserts] = lists;
        Ok(Operation {
            from,
            time,
            deletes,
            inserts,
            principal,
            agreed,
        })
    }
}

/// In the journal form, a subject equal to the previous triple's (not a term tag).
const SAME_SUBJECT: u8 = 0;

/// The stored form of a clock: the msgpack of its JSON form.
pub(crate) fn clock_to_bytes(clock: &TreeClock) -> Vec<u8> {
    msgpack::encode(&clock.to_msgpack())
}

/// Reads a clock written by [`clock_to_bytes`].
pub(crate) fn clock_from_bytes(bytes: &[u8]) -> Result<TreeClock, CoreError> {
    msgpack::decode(bytes)
        .and_then(|v| TreeClock::from_msgpack(&v))
        .map_err(|e| CoreError::Corrupt(format!("stored clock: {e}")))
}

/// (triple, TID) pairs grouped by triple in order of first appearance, owning their triples
/// (moved in, never cloned): the one pair store of fusing and cutting operations.
#[derive(Default)]
pub(crate) struct PairTable {
    /// Each triple with its TIDs; a triple whose TIDs all went keeps its place.
    entries: Vec<(Triple, Vec<Tid>)>,
    /// The number of pairs.
    pairs: usize,
    /// The last entry of each triple hash, and for each entry the previous one with its hash.
    heads: foldhash::HashMap<u64, usize>,
    chain: Vec<usize>,
    hasher: foldhash::fast::RandomState,
}

/// The end of a hash chain.
const NO_ENTRY: usize = usize::MAX;

impl PairTable {
    pub(crate) fn from_grouped(list: Vec<(Triple, Vec<Tid>)>) -> PairTable {
        let mut table = PairTable {
            entries: Vec::with_capacity(list.len()),
            chain: Vec::with_capacity(list.len()),
            ..PairTable::default()
        };
        table.heads.reserve(list.len());
        for (t, tids) in list {
            table.insert(t, tids);
        }
        table
    }

    fn find(&self, hash: u64, t: &Triple) -> Option<usize> {
        let mut i = self.heads.get(&hash).copied().unwrap_or(NO_ENTRY);
        while i != NO_ENTRY {
            if self.entries[i].0 == *t {
                return Some(i);
            }
            i = self.chain[i];
        }
        None
    }

    fn index(&self, t: &Triple) -> Option<usize> {
        self.find(self.hasher.hash_one(t), t)
    }

    /// Adds the pairs of a triple (those it does not have yet).
    pub(crate) fn insert(&mut self, t: Triple, tids: Vec<Tid>) {
        let hash = self.hasher.hash_one(&t);
        match self.find(hash, &t) {
            Some(i) => {
                let have = &mut self.entries[i].1;
                for tid in tids {
                    if !have.contains(&tid) {
                        have.push(tid);
                        self.pairs += 1;
                    }
                }
            }
            None => {
                let mut have = Vec::with_capacity(tids.len());
                for tid in tids {
                    if !have.contains(&tid) {
                        have.push(tid);
                    }
                }
                self.pairs += have.len();
                let i = self.entries.len();
                self.entries.push((t, have));
                self.chain
                    .push(self.heads.insert(hash, i).unwrap_or(NO_ENTRY));
            }
        }
    }

    /// Removes the pairs of a triple that it has; returns which of `tids` it had.
    pub(crate) fn remove(&mut self, t: &Triple, tids: &[Tid]) -> Vec<bool> {
        let Some(i) = self.index(t) else {
            return vec![false; tids.len()];
        };
        let have = &mut self.entries[i].1;
        tids.iter()
            .map(|tid| match have.iter().position(|x| x == tid) {
                Some(at) => {
                    have.swap_remove(at);
                    self.pairs -= 1;
                    true
                }
                None => false,
            })
            .collect()
    }

    /// Removes one pair; whether it was there.
    fn remove_pair(&mut self, t: &Triple, tid: &Tid) -> bool {
        let Some(i) = self.index(t) else {
            return false;
        };
        let have = &mut self.entries[i].1;
        match have.iter().position(|x| x == tid) {
            Some(at) => {
                have.swap_remove(at);
                self.pairs -= 1;
                true
            }
            None => false,
        }
    }

    fn contains(&self, t: &Triple, tid: &Tid) -> bool {
        self.index(t)
            .is_some_and(|i| self.entries[i].1.contains(tid))
    }

    /// The pairs whose TID satisfies `keep`.
    fn pairs_with(&self, keep: impl Fn(&Tid) -> bool) -> Vec<(Triple, Tid)> {
        self.entries
            .iter()
            .flat_map(|(t, tids)| {
                tids.iter()
                    .filter(|tid| keep(tid))
                    .map(|tid| (t.clone(), *tid))
            })
            .collect()
    }

    /// The number of (triple, TID) pairs.
    pub(crate) fn pairs(&self) -> usize {
        self.pairs
    }

    /// The triples that still have TIDs, each with its TIDs sorted.
    pub(crate) fn into_grouped(self) -> Vec<(Triple, Vec<Tid>)> {
        self.entries
            .into_iter()
            .filter(|(_, tids)| !tids.is_empty())
            .map(|(t, mut tids)| {
                tids.sort();
                (t, tids)
            })
            .collect()
    }
}

/// An operation being fused with its contiguous successors one by one (docs/protocol.md §4.4,
/// m-ld-js `fusion().next(…)`): the one implementation of fusion. [`Operation::fuse`] is one
/// step of it; journal administration and snapshots push whole histories through it, in time
/// proportional to the successors' sizes rather than to the fusion's.
pub(crate) struct Fusion {
    /// The fusion so far, with empty lists (they are in `deletes` and `inserts`).
    head: Operation,
    deletes: PairTable,
    inserts: PairTable,
}

impl Fusion {
    pub(crate) fn new(mut op: Operation) -> Fusion {
        let deletes = PairTable::from_grouped(std::mem::take(&mut op.deletes));
        let inserts = PairTable::from_grouped(std::mem::take(&mut op.inserts));
        Fusion {
            head: op,
            deletes,
            inserts,
        }
    }

    /// The first tick of the fusion.
    pub(crate) fn from(&self) -> u64 {
        self.head.from
    }

    /// Whether `next` follows the fusion immediately ([`Operation::is_contiguous`]).
    pub(crate) fn is_contiguous(&self, next: &Operation) -> bool {
        self.head.is_contiguous(next)
    }

    /// Appends the contiguous `next`: an insert it deletes cancels out of both lists; the
    /// fusion takes its time and principal, and its agreement if it has one.
    pub(crate) fn push(&mut self, next: Operation) -> Result<(), CoreError> {
        if !self.is_contiguous(&next) {
            return Err(CoreError::BadOperation(format!(
                "cannot fuse non-contiguous operations {} and {}",
                self.head.time, next.time
            )));
        }
        let Operation {
            time,
            deletes,
            inserts,
            principal,
            agreed,
            ..
        } = next;
        for (t, tids) in deletes {
            // Each pair inserted by the fusion cancels out; the others are deleted.
            let cancelled = self.inserts.remove(&t, &tids);
            let (gone, kept): (Vec<_>, Vec<_>) = tids
                .into_iter()
                .zip(cancelled)
                .partition(|(_, cancelled)| *cancelled);
            if !gone.is_empty() {
                let gone: Vec<Tid> = gone.into_iter().map(|(tid, _)| tid).collect();
                self.deletes.remove(&t, &gone);
            }
            if !kept.is_empty() {
                self.deletes
                    .insert(t, kept.into_iter().map(|(tid, _)| tid).collect());
            }
        }
        for (t, tids) in inserts {
            self.inserts.insert(t, tids);
        }
        self.head.time = time;
        self.head.principal = principal;
        if agreed.is_some() {
            self.head.agreed = agreed;
        }
        Ok(())
    }

    /// The (triple, TID) pairs of the fusion.
    pub(crate) fn pairs(&self) -> usize {
        self.deletes.pairs() + self.inserts.pairs()
    }

    /// The TID of the fusion's last constituent.
    pub(crate) fn tid(&self) -> Tid {
        self.head.tid()
    }

    pub(crate) fn into_operation(self) -> Operation {
        Operation {
            deletes: self.deletes.into_grouped(),
            inserts: self.inserts.into_grouped(),
            ..self.head
        }
    }
}

/// The fusion of a contiguous history, oldest first: what repeated [`Operation::fuse`] gives,
/// in time proportional to the history's size; `None` if the history is empty.
pub fn fuse_all(
    history: impl IntoIterator<Item = Operation>,
) -> Result<Option<Operation>, CoreError> {
    let mut ops = history.into_iter();
    let Some(first) = ops.next() else {
        return Ok(None);
    };
    let mut fusion = Fusion::new(first);
    for op in ops {
        fusion.push(op)?;
    }
    Ok(Some(fusion.into_operation()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use oxrdf::{BlankNode, Literal, NamedNode};
    use proptest::prelude::*;

    use super::*;

    fn t(s: &str, o: &str) -> Triple {
        Triple::new(
            NamedNode::new_unchecked(format!("http://ex.org/{s}")),
            NamedNode::new_unchecked("http://ex.org/#p"),
            Literal::new_simple_literal(o),
        )
    }

    fn op(time: &TreeClock, deletes: &[(Triple, Vec<Tid>)], inserts: &[Triple]) -> Operation {
        Operation {
            from: time.ticks(),
            time: time.clone(),
            deletes: deletes.to_vec(),
            inserts: inserts
                .iter()
                .map(|t| (t.clone(), vec![time.hash()]))
                .collect(),
            principal: None,
            agreed: None,
        }
    }

    /// Genesis ticks 1, 2, 3 and an operation at each:
    /// 1 inserts a; 2 deletes a@1 and inserts b; 3 inserts c and deletes x@other.
    fn history() -> (Vec<TreeClock>, Vec<Operation>, Tid) {
        let t1 = TreeClock::genesis().ticked();
        let t2 = t1.ticked();
        let t3 = t2.ticked();
        let other = TreeClock::genesis().forked().1.ticked().hash();
        let op1 = op(&t1, &[], &[t("a", "1")]);
        let op2 = op(&t2, &[(t("a", "1"), vec![t1.hash()])], &[t("b", "2")]);
        let op3 = op(&t3, &[(t("x", "9"), vec![other])], &[t("c", "3")]);
        (vec![t1, t2, t3], vec![op1, op2, op3], other)
    }

    /// (triple, TID) pairs, the triple written out.
    type Pairs = BTreeSet<(String, Tid)>;

    /// A single writer's random history over five triples, which another process had
    /// already inserted some of: each operation deletes every pair it sees of the triples it
    /// deletes and inserts its own. Returns the state before, the operations, and the state
    /// after, as (triple, TID) pairs.
    fn random_history(
        before: &[bool],
        steps: &[Vec<(bool, usize)>],
    ) -> (Pairs, Vec<Operation>, Pairs) {
        let (writer, other) = TreeClock::genesis().forked();
        let other = other.ticked();
        let triple = |k: usize| t("s", &k.to_string());
        let mut live: Vec<Vec<Tid>> = (0..5)
            .map(|k| {
                if before[k] {
                    vec![other.hash()]
                } else {
                    vec![]
                }
            })
            .collect();
        let pairs = |live: &[Vec<Tid>]| -> Pairs {
            live.iter()
                .enumerate()
                .flat_map(|(k, tids)| tids.iter().map(move |tid| (triple(k).to_string(), *tid)))
                .collect()
        };
        let start = pairs(&live);
        let mut time = writer;
        let mut ops = Vec::new();
        for step in steps {
            time = time.ticked();
            let tid = time.hash();
            let (mut deletes, mut inserts) = (Vec::new(), Vec::new());
            for &(insert, k) in step {
                if insert {
                    if !inserts.iter().any(|(t, _)| *t == triple(k)) {
                        inserts.push((triple(k), vec![tid]));
                    }
                } else if !live[k].is_empty() && !deletes.iter().any(|(t, _)| *t == triple(k)) {
                    deletes.push((triple(k), std::mem::take(&mut live[k])));
                }
            }
            for &(insert, k) in step {
                if insert && !live[k].contains(&tid) {
                    live[k].push(tid);
                }
            }
            ops.push(Operation {
                from: time.ticks(),
                time: time.clone(),
                deletes,
                inserts,
                principal: None,
                agreed: None,
            });
        }
        (start, ops, pairs(&live))
    }

    fn flat(list: &[(Triple, Vec<Tid>)]) -> Pairs {
        list.iter()
            .flat_map(|(t, tids)| tids.iter().map(move |tid| (t.to_string(), *tid)))
            .collect()
    }

    proptest! {
        /// Applying the fusion of a history does what applying its operations one by one does,
        /// and fusing step by step gives what fusing all at once gives.
        #[test]
        fn a_fusion_applies_as_its_history(
            before in prop::collection::vec(any::<bool>(), 5),
            steps in prop::collection::vec(prop::collection::vec((any::<bool>(), 0..5usize), 0..4), 1..12),
        ) {
            let (start, ops, end) = random_history(&before, &steps);
            let fused = fuse_all(ops.clone()).unwrap().unwrap();
            // A fusion deletes only pairs there before it and inserts only pairs there after it
            // (an insert it cancelled leaves no delete behind).
            prop_assert!(flat(&fused.deletes).is_subset(&start));
            prop_assert!(flat(&fused.inserts).is_subset(&end));
            let mut state = start;
            for pair in flat(&fused.deletes) {
                state.remove(&pair);
            }
            state.extend(flat(&fused.inserts));
            prop_assert_eq!(&state, &end);
            prop_assert_eq!(fused.from, ops[0].from);
            prop_assert_eq!(&fused.time, &ops[ops.len() - 1].time);
            let stepwise = ops[1..].iter().fold(ops[0].clone(), |f, op| f.fuse(op).unwrap());
            prop_assert_eq!(stepwise.normalized(), fused.normalized());
        }

        /// Cutting a seen prefix (the fusion of the history up to some tick, which may start
        /// before the fusion being cut) from a fusion leaves the fusion of the rest.
        #[test]
        fn cutting_a_seen_prefix_leaves_the_fusion_of_the_rest(
            before in prop::collection::vec(any::<bool>(), 5),
            steps in prop::collection::vec(prop::collection::vec((any::<bool>(), 0..5usize), 0..4), 2..12),
            picks in (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        ) {
            let (_, ops, _) = random_history(&before, &steps);
            let n = ops.len();
            // 0 <= p <= j <= k < n - 1: prev fuses ops[p..=k], the cut one ops[j..].
            let k = picks.0.index(n - 1);
            let j = picks.1.index(k + 1);
            let p = picks.2.index(j + 1);
            let prev = fuse_all(ops[p..=k].to_vec()).unwrap().unwrap();
            let whole = fuse_all(ops[j..].to_vec()).unwrap().unwrap();
            let rest = fuse_all(ops[k + 1..].to_vec()).unwrap().unwrap();
            let cut = whole.cut(&prev).unwrap();
            prop_assert_eq!(cut.from, rest.from);
            prop_assert_eq!(flat(&cut.inserts), flat(&rest.inserts));
            prop_assert_eq!(flat(&cut.deletes), flat(&rest.deletes));
        }
    }

    #[test]
    fn tid_is_the_hash_of_time() {
        let (times, ops, _) = history();
        assert_eq!(ops[1].tid(), times[1].hash());
        assert!(!ops[1].is_fused());
    }

    #[test]
    fn consecutive_ops_are_contiguous_and_others_not() {
        let (_, ops, _) = history();
        assert!(ops[0].is_contiguous(&ops[1]));
        assert!(ops[1].is_contiguous(&ops[2]));
        assert!(!ops[0].is_contiguous(&ops[2]));
        assert!(!ops[1].is_contiguous(&ops[0]));
        let mut other_principal = ops[1].clone();
        other_principal.principal = Some("http://ex.org/alice".into());
        assert!(!ops[0].is_contiguous(&other_principal));
        // Receiving a remote operation between two writes breaks contiguity.
        let (_, remote) = TreeClock::genesis().forked();
        let remote = remote.ticked();
        let (left, _) = TreeClock::genesis().forked();
        let a1 = left.ticked();
        let a2 = a1.update(&remote).unwrap().ticked();
        assert_eq!(a2.ticks(), 2);
        assert!(!op(&a1, &[], &[t("a", "1")]).is_contiguous(&op(&a2, &[], &[t("b", "1")])));
        assert!(ops[0].fuse(&ops[2]).is_err());
    }

    #[test]
    fn fusion_cancels_insert_then_delete() {
        let (times, ops, other) = history();
        let f12 = ops[0].fuse(&ops[1]).unwrap();
        assert_eq!(f12.from, 1);
        assert_eq!(f12.time, times[1]);
        assert!(f12.is_fused());
        assert!(f12.deletes.is_empty(), "{f12:?}");
        assert_eq!(f12.inserts, vec![(t("b", "2"), vec![times[1].hash()])]);
        let f123 = f12.fuse(&ops[2]).unwrap();
        assert_eq!(f123.from, 1);
        assert_eq!(f123.deletes, vec![(t("x", "9"), vec![other])]);
        assert_eq!(
            f123.normalized().inserts,
            Operation {
                inserts: vec![
                    (t("b", "2"), vec![times[1].hash()]),
                    (t("c", "3"), vec![times[2].hash()])
                ],
                ..f123.clone()
            }
            .normalized()
            .inserts
        );
        // Fusion is associative.
        let f23 = ops[1].fuse(&ops[2]).unwrap();
        assert_eq!(ops[0].fuse(&f23).unwrap().normalized(), f123.normalized());
    }

    #[test]
    fn fusion_keeps_the_latest_agreement() {
        let (_, mut ops, _) = history();
        ops[0].agreed = Some((1, serde_json::json!(true)));
        let f = ops[0].fuse(&ops[1]).unwrap();
        assert_eq!(f.agreed, Some((1, serde_json::json!(true))));
        ops[1].agreed = Some((2, serde_json::json!("proof")));
        let f = ops[0].fuse(&ops[1]).unwrap();
        assert_eq!(f.agreed, Some((2, serde_json::json!("proof"))));
    }

    #[test]
    fn cutting_a_seen_prefix_leaves_the_rest() {
        let (_, ops, _) = history();
        let f123 = ops[0].fuse(&ops[1]).unwrap().fuse(&ops[2]).unwrap();
        // Seen op 1: the fusion had cancelled a@1, so the cut must delete it.
        let cut = f123.cut(&ops[0]).unwrap();
        assert_eq!(cut.from, 2);
        let f23 = ops[1].fuse(&ops[2]).unwrap();
        assert_eq!(cut.normalized(), f23.normalized());
        // Seen ops 1 and 2 (as a fusion): only op 3 remains.
        let cut = f123.cut(&ops[0].fuse(&ops[1]).unwrap()).unwrap();
        assert_eq!(cut.normalized(), ops[2].normalized());
        // Sequential cutting by each seen op gives the same.
        let seq = f123.cut(&ops[0]).unwrap().cut(&ops[1]).unwrap();
        assert_eq!(seq.normalized(), ops[2].normalized());
    }

    #[test]
    fn cutting_by_a_longer_history_drops_its_cancelled_deletes() {
        let (_, ops, _) = history();
        // The incoming fusion starts at 2; what we have seen starts at 1.
        let f23 = ops[1].fuse(&ops[2]).unwrap();
        let seen = ops[0].fuse(&ops[1]).unwrap();
        let cut = f23.cut(&seen).unwrap();
        assert_eq!(cut.normalized(), ops[2].normalized());
    }

    #[test]
    fn cutting_clears_a_seen_agreement_only() {
        let (_, mut ops, _) = history();
        ops[0].agreed = Some((1, serde_json::json!(true)));
        let f = ops[0].fuse(&ops[1]).unwrap().fuse(&ops[2]).unwrap();
        assert_eq!(f.agreed, Some((1, serde_json::json!(true))));
        assert_eq!(f.cut(&ops[0]).unwrap().agreed, None);
        ops[2].agreed = Some((3, serde_json::json!(true)));
        let f = ops[0].fuse(&ops[1]).unwrap().fuse(&ops[2]).unwrap();
        assert_eq!(
            f.cut(&ops[0]).unwrap().agreed,
            Some((3, serde_json::json!(true)))
        );
    }

    #[test]
    fn cutting_rejects_what_is_not_a_prefix() {
        let (_, ops, _) = history();
        let f23 = ops[1].fuse(&ops[2]).unwrap();
        // Nothing in range.
        assert!(f23.cut(&ops[0]).is_err());
        // The whole operation (a duplicate, not a cut).
        assert!(f23.cut(&ops[2]).is_err());
        // Another process's operation at the same ticks.
        let (_, right) = TreeClock::genesis().ticked().forked();
        let alien = op(&right.ticked(), &[], &[t("z", "0")]);
        assert_eq!(alien.ticks(), 2);
        assert!(f23.cut(&alien).is_err());
    }

    #[test]
    fn binary_form_round_trips() {
        let (_, ops, _) = history();
        let mut f = ops[0].fuse(&ops[1]).unwrap().fuse(&ops[2]).unwrap();
        f.principal = Some("http://ex.org/alice".into());
        f.agreed = Some((3, serde_json::json!({"proof": [1, 2]})));
        f.inserts.push((
            Triple::new(
                BlankNode::new_unchecked("b1"),
                NamedNode::new_unchecked("http://ex.org/#q"),
                Literal::new_language_tagged_literal_unchecked("hi", "en"),
            ),
            vec![ops[0].tid(), ops[2].tid()],
        ));
        let mut ns = NsTable::new();
        ns.register("http://ex.org/x");
        for op in [&ops[0], &ops[1], &ops[2], &f] {
            for table in [&ns, &NsTable::new()] {
                let mut buf = Vec::new();
                op.encode(&mut buf, table).unwrap();
                let mut input = &buf[..];
                assert_eq!(&Operation::decode(&mut input, table).unwrap(), op);
                assert!(input.is_empty());
                for cut in 0..buf.len() {
                    assert!(Operation::decode(&mut &buf[..cut], table).is_err());
                }
            }
        }
    }
}

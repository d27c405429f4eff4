//! SU-Set operations: their model, fusion of contiguous operations, cutting of an already-seen
//! prefix, and the compact binary form stored in the journal.
//!
//! Owns [`Operation`] (the fields of a m-ld-js `EncodedOperation`, docs/protocol.md §2.2, decoded
//! into RDF triples and [`Tid`]s) and [`OperationMessage`] (`prev` + operation). Fusion and cutting
//! (docs/protocol.md §4.4) are pure functions over operations. This module must not touch a store
//! or the wire JSON-LD codec (that lives with the wire codec); its binary form is internal to the
//! journal.

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
        if !self.is_contiguous(next) {
            return Err(CoreError::BadOperation(format!(
                "cannot fuse non-contiguous operations {} and {}",
                self.time, next.time
            )));
        }
        let mut deletes = PairSet::from_grouped(&self.deletes);
        let mut inserts = PairSet::from_grouped(&self.inserts);
        for (t, tid) in pairs(&next.deletes) {
            if !inserts.remove(t, tid) {
                deletes.insert(t, *tid);
            } else {
                // Insert-then-delete within the fusion: neither survives.
                deletes.remove(t, tid);
            }
        }
        for (t, tid) in pairs(&next.inserts) {
            inserts.insert(t, *tid);
        }
        Ok(Operation {
            from: self.from,
            time: next.time.clone(),
            deletes: deletes.into_grouped(),
            inserts: inserts.into_grouped(),
            principal: next.principal.clone(),
            agreed: next.agreed.clone().or_else(|| self.agreed.clone()),
        })
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
        let prev_inserts = PairSet::from_grouped(&prev.inserts);
        let mut deletes = PairSet::from_grouped(&self.deletes);
        let mut inserts = PairSet::from_grouped(&self.inserts);
        // Deletes that the prefix already applied.
        for (t, tid) in pairs(&prev.deletes) {
            deletes.remove(t, tid);
        }
        // Deletes of the prefix's own inserts that the prefix itself already cancelled.
        if prev.from < self.from {
            let mut gone = Vec::new();
            for tick in prev.from..self.from {
                let tid = self.time.ticked_to(tick)?.hash();
                for (t, d) in deletes.pairs() {
                    if *d == tid && !prev_inserts.contains(t, d) {
                        gone.push((t.clone(), tid));
                    }
                }
            }
            for (t, tid) in gone {
                deletes.remove(&t, &tid);
            }
        }
        // Inserts of the overlap: already applied, unless this operation later deleted them.
        for tick in self.from..=seen {
            let tid = self.time.ticked_to(tick)?.hash();
            for (t, i) in prev_inserts.pairs() {
                if *i != tid {
                    continue;
                }
                if !inserts.remove(t, i) {
                    deletes.insert(t, tid);
                }
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

/// All (triple, TID) pairs of a grouped list.
fn pairs(list: &[(Triple, Vec<Tid>)]) -> impl Iterator<Item = (&Triple, &Tid)> {
    list.iter()
        .flat_map(|(t, tids)| tids.iter().map(move |tid| (t, tid)))
}

/// A set of (triple, TID) pairs that remembers the first-seen order of its triples (for fusing and
/// cutting operations, here and in journal administration).
#[derive(Default)]
pub(crate) struct PairSet {
    order: Vec<Triple>,
    tids: foldhash::HashMap<Triple, Vec<Tid>>,
}

impl PairSet {
    pub(crate) fn from_grouped(list: &[(Triple, Vec<Tid>)]) -> PairSet {
        let mut set = PairSet::default();
        for (t, tid) in pairs(list) {
            set.insert(t, *tid);
        }
        set
    }

    pub(crate) fn insert(&mut self, t: &Triple, tid: Tid) {
        match self.tids.get_mut(t) {
            Some(tids) => {
                if !tids.contains(&tid) {
                    tids.push(tid);
                }
            }
            None => {
                self.order.push(t.clone());
                self.tids.insert(t.clone(), vec![tid]);
            }
        }
    }

    pub(crate) fn remove(&mut self, t: &Triple, tid: &Tid) -> bool {
        match self.tids.get_mut(t) {
            Some(tids) => match tids.iter().position(|x| x == tid) {
                Some(i) => {
                    tids.swap_remove(i);
                    true
                }
                None => false,
            },
            None => false,
        }
    }

    fn contains(&self, t: &Triple, tid: &Tid) -> bool {
        self.tids.get(t).is_some_and(|tids| tids.contains(tid))
    }

    fn pairs(&self) -> impl Iterator<Item = (&Triple, &Tid)> {
        self.order.iter().flat_map(move |t| {
            self.tids
                .get(t)
                .into_iter()
                .flat_map(move |tids| tids.iter().map(move |tid| (t, tid)))
        })
    }

    pub(crate) fn into_grouped(mut self) -> Vec<(Triple, Vec<Tid>)> {
        let mut out = Vec::with_capacity(self.order.len());
        for t in self.order {
            if let Some(mut tids) = self.tids.remove(&t)
                && !tids.is_empty()
            {
                tids.sort();
                out.push((t, tids));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use oxrdf::{BlankNode, Literal, NamedNode};

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

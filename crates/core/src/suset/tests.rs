//! Unit tests of the SU-Set rules, one behaviour per test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use oxrdf::{Literal, NamedNode, Term};

use super::*;
use crate::constraint::ReadTriples;
use crate::store::{MemorySnapshot, MemoryStore};

const DOMAIN: &str = "test.m-ld.org";

fn iri(s: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("http://{DOMAIN}/{s}"))
}

fn t(s: &str, p: &str, o: &str) -> Triple {
    Triple::new(
        iri(s),
        iri(&format!("#{p}")),
        Literal::new_simple_literal(o),
    )
}

fn ins(inserts: Vec<Triple>) -> Patch {
    Patch {
        deletes: vec![],
        inserts,
    }
}

fn del(deletes: Vec<Triple>) -> Patch {
    Patch {
        deletes,
        inserts: vec![],
    }
}

fn genesis() -> SuSet<MemoryStore> {
    SuSet::genesis(MemoryStore::new(), DOMAIN).unwrap()
}

/// A new clone joined from a snapshot of `from`.
fn join(from: &mut SuSet<MemoryStore>) -> SuSet<MemoryStore> {
    let snapshot = from.take_snapshot(true).unwrap();
    let triples: Vec<_> = snapshot
        .state
        .triples_with_tids()
        .collect::<Result<_, _>>()
        .unwrap();
    SuSet::join(
        MemoryStore::new(),
        DOMAIN,
        snapshot.clock.unwrap(),
        snapshot.gwc,
        snapshot.agreed,
        triples,
        snapshot.operations,
    )
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

fn commit(s: &mut SuSet<MemoryStore>, patch: Patch) -> Commit {
    s.transact(patch).unwrap().unwrap()
}

fn applied(a: Applied) -> (Update, Option<OperationMessage>) {
    match a {
        Applied::Applied { update, resolution } => (update, resolution),
        other => panic!("not applied: {other:?}"),
    }
}

#[test]
fn empty_store_opens_to_none_and_genesis_reopens() {
    let store = MemoryStore::new();
    assert!(SuSet::open(store.clone()).unwrap().is_none());
    let g = SuSet::genesis(store.clone(), DOMAIN).unwrap();
    assert_eq!(g.domain(), DOMAIN);
    assert_eq!(g.clock(), &TreeClock::genesis());
    assert_eq!(g.gwc(), &GlobalClock::genesis());
    assert!(g.state().is_empty());
    let reopened = SuSet::open(store.clone()).unwrap().unwrap();
    assert_eq!(reopened.domain(), DOMAIN);
    assert!(matches!(
        SuSet::genesis(store, DOMAIN),
        Err(CoreError::StoreNotEmpty)
    ));
}

#[test]
fn store_without_metadata_is_corrupt() {
    let store = MemoryStore::new();
    let mut b = Batch::new();
    b.put(vec![b'S', 1], vec![]);
    store.write(b).unwrap();
    assert!(matches!(SuSet::open(store), Err(CoreError::Corrupt(_))));
}

#[test]
fn local_insert_ticks_and_stamps_the_tid() {
    let mut g = genesis();
    let fred = t("fred", "name", "Fred");
    let c = commit(&mut g, ins(vec![fred.clone(), fred.clone()]));
    let time = TreeClock::genesis().ticked();
    assert_eq!(g.clock(), &time);
    assert_eq!(c.message.prev, 0);
    assert_eq!(c.message.op.from, 1);
    assert_eq!(c.message.op.time, time);
    assert_eq!(
        c.message.op.inserts,
        vec![(fred.clone(), vec![time.hash()])]
    );
    assert!(c.message.op.deletes.is_empty());
    assert_eq!(
        c.update,
        Update {
            ticks: 1,
            deletes: vec![],
            inserts: vec![fred.clone()]
        }
    );
    assert_eq!(all(&g), vec![(fred.clone(), vec![time.hash()])]);
    assert_eq!(g.state().len(), 1);
    assert_eq!(g.gwc().get_ticks(&time), Some(1));
    assert_eq!(g.gwc().tid(&time).unwrap(), time.hash());
    // The journal holds the operation, keyed by tick and by TID.
    let journal = g.journal().unwrap();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].tick, 1);
    assert_eq!(journal[0].message, c.message);
    assert_eq!(g.operation(&time.hash()).unwrap(), Some(c.message.op));
}

#[test]
fn second_write_has_prev_of_the_first() {
    let mut g = genesis();
    commit(&mut g, ins(vec![t("a", "p", "1")]));
    let c = commit(&mut g, ins(vec![t("b", "p", "1")]));
    assert_eq!(c.message.prev, 1);
    assert_eq!(c.message.op.from, 2);
}

#[test]
fn delete_carries_all_current_tids() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let x = t("x", "p", "1");
    let ca = commit(&mut a, ins(vec![x.clone()]));
    let cb = commit(&mut b, ins(vec![x.clone()]));
    applied(a.apply(cb.message.clone()).unwrap());
    let mut both = vec![ca.message.op.tid(), cb.message.op.tid()];
    both.sort();
    assert_eq!(a.state().tids(&x).unwrap(), both);
    let d = commit(&mut a, del(vec![x.clone()]));
    assert_eq!(d.message.op.deletes, vec![(x.clone(), both)]);
    assert_eq!(d.update.deletes, vec![x.clone()]);
    assert!(!a.state().contains(&x).unwrap());
    assert!(a.state().is_empty());
}

#[test]
fn ineffective_patches_do_not_tick() {
    let mut g = genesis();
    assert!(g.transact(Patch::default()).unwrap().is_none());
    assert!(
        g.transact(del(vec![t("nobody", "p", "x")]))
            .unwrap()
            .is_none()
    );
    assert_eq!(g.clock(), &TreeClock::genesis());
    assert!(g.journal().unwrap().is_empty());
}

#[test]
fn delete_and_insert_of_one_triple_is_an_insert() {
    let mut g = genesis();
    let x = t("x", "p", "1");
    let first = commit(&mut g, ins(vec![x.clone()]));
    let c = commit(
        &mut g,
        Patch {
            deletes: vec![x.clone()],
            inserts: vec![x.clone()],
        },
    );
    assert!(c.message.op.deletes.is_empty());
    assert_eq!(c.update.deletes, vec![]);
    assert_eq!(c.update.inserts, vec![x.clone()]);
    let mut tids = vec![first.message.op.tid(), c.message.op.tid()];
    tids.sort();
    assert_eq!(g.state().tids(&x).unwrap(), tids);
}

#[test]
fn every_pattern_shape_matches_by_prefix() {
    let mut g = genesis();
    let data = [
        t("fred", "name", "Fred"),
        t("fred", "nick", "Fred"),
        t("fred", "name", "Freddy"),
        t("wilma", "name", "Fred"),
        t("fredx", "name", "Fred"),
    ];
    commit(&mut g, ins(data.to_vec()));
    let state = g.state();
    let s = iri("fred");
    let p = iri("#name");
    let o: Term = Literal::new_simple_literal("Fred").into();
    for (ps, pp, po) in [
        (Some(&s), Some(&p), Some(&o)),
        (Some(&s), Some(&p), None),
        (Some(&s), None, Some(&o)),
        (Some(&s), None, None),
        (None, Some(&p), Some(&o)),
        (None, Some(&p), None),
        (None, None, Some(&o)),
        (None, None, None),
    ] {
        let mut got: Vec<Triple> = state.triples(ps, pp, po).collect::<Result<_, _>>().unwrap();
        got.sort_by_key(|t| t.to_string());
        let mut want: Vec<Triple> = data
            .iter()
            .filter(|t| {
                ps.is_none_or(|s| t.subject == s.clone().into())
                    && pp.is_none_or(|p| &t.predicate == p)
                    && po.is_none_or(|o| &t.object == o)
            })
            .cloned()
            .collect();
        want.sort_by_key(|t| t.to_string());
        assert_eq!(got, want, "{ps:?} {pp:?} {po:?}");
    }
    // Unknown terms match nothing.
    let nobody = iri("nobody");
    assert_eq!(state.triples(Some(&nobody), None, None).count(), 0);
    let elsewhere = NamedNode::new_unchecked("http://elsewhere.org/x");
    assert_eq!(state.triples(None, Some(&elsewhere), None).count(), 0);
}

#[test]
fn remote_insert_adds_the_sender_tids() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let x = t("x", "p", "1");
    let c = commit(&mut b, ins(vec![x.clone()]));
    let before = a.clock().clone();
    let (update, resolution) = applied(a.apply(c.message.clone()).unwrap());
    assert!(resolution.is_none());
    assert_eq!(update.inserts, vec![x.clone()]);
    assert_eq!(a.state().tids(&x).unwrap(), vec![c.message.op.tid()]);
    // Joined and ticked twice.
    let expected = before.update(&c.message.op.time).unwrap().ticked().ticked();
    assert_eq!(a.clock(), &expected);
    assert_eq!(update.ticks, expected.ticks());
    assert_eq!(
        a.gwc().get_ticks(&c.message.op.time),
        Some(c.message.op.ticks())
    );
    assert_eq!(a.gwc().tid(&c.message.op.time).unwrap(), c.message.op.tid());
    // Journaled at the first of the two ticks, with the original prev.
    let last = a.journal().unwrap().pop().unwrap();
    assert_eq!(last.tick, expected.ticks() - 1);
    assert_eq!(last.message, c.message);
}

#[test]
fn remote_delete_removes_only_seen_tids_add_wins() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let x = t("x", "p", "1");
    let ca = commit(&mut a, ins(vec![x.clone()]));
    b.apply(ca.message.clone()).unwrap();
    // B deletes what it saw; A concurrently re-inserts.
    let db = commit(&mut b, del(vec![x.clone()]));
    let ra = commit(&mut a, ins(vec![x.clone()]));
    let (update, _) = applied(a.apply(db.message).unwrap());
    assert!(update.deletes.is_empty(), "the triple survives");
    assert_eq!(a.state().tids(&x).unwrap(), vec![ra.message.op.tid()]);
    let (update, _) = applied(b.apply(ra.message).unwrap());
    assert_eq!(update.inserts, vec![x.clone()]);
    assert_eq!(all(&a), all(&b));
}

#[test]
fn remote_delete_of_unknown_tids_changes_nothing() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let x = t("x", "p", "1");
    let ca = commit(&mut a, ins(vec![x.clone()]));
    b.apply(ca.message.clone()).unwrap();
    let mut cb = commit(&mut b, del(vec![x.clone()]));
    // Tamper: claim a TID that A does not hold for x.
    cb.message.op.deletes[0].1 = vec![TreeClock::genesis().ticked().ticked().hash()];
    let (update, _) = applied(a.apply(cb.message).unwrap());
    assert!(update.deletes.is_empty());
    assert_eq!(a.state().tids(&x).unwrap(), vec![ca.message.op.tid()]);
}

fn typed(s: &str, p: &str, lexical: &str, datatype: &str) -> Triple {
    Triple::new(
        iri(s),
        iri(&format!("#{p}")),
        Literal::new_typed_literal(lexical, NamedNode::new_unchecked(datatype)),
    )
}

#[test]
fn a_js_delete_of_an_integral_double_sent_as_an_integer_removes_the_double() {
    use m_ld_vocab::ns::{XSD_DOUBLE, XSD_INTEGER};
    let mut a = genesis();
    let mut b = join(&mut a);
    let double = typed("x", "n", "1.234567890123457E15", XSD_DOUBLE);
    let integer = typed("x", "n", "1234567890123457", XSD_INTEGER);
    let ca = commit(&mut a, ins(vec![double.clone()]));
    b.apply(ca.message.clone()).unwrap();
    // m-ld-js deletes the double, but its wire form is the integer of equal value.
    let mut cb = commit(&mut b, del(vec![double.clone()]));
    cb.message.op.deletes[0].0 = integer.clone();
    let (update, _) = applied(a.apply(cb.message).unwrap());
    assert_eq!(update.deletes, vec![double.clone()]);
    assert!(all(&a).is_empty());
}

#[test]
fn an_integer_delete_removes_the_integer_when_its_tids_are_the_integers() {
    use m_ld_vocab::ns::{XSD_DOUBLE, XSD_INTEGER};
    let mut a = genesis();
    let mut b = join(&mut a);
    let double = typed("x", "n", "2.0E0", XSD_DOUBLE);
    let integer = typed("x", "n", "2", XSD_INTEGER);
    let ca = commit(&mut a, ins(vec![double.clone(), integer.clone()]));
    b.apply(ca.message.clone()).unwrap();
    // Both triples have the same TID: the integer itself matches, and only it goes.
    let cb = commit(&mut b, del(vec![integer.clone()]));
    let (update, _) = applied(a.apply(cb.message).unwrap());
    assert_eq!(update.deletes, vec![integer]);
    assert_eq!(all(&a).len(), 1);
    // A delete whose TIDs are neither triple's changes nothing.
    let mut cb = commit(&mut b, del(vec![double.clone()]));
    cb.message.op.deletes[0] = (
        typed("x", "n", "2", XSD_INTEGER),
        vec![TreeClock::genesis().ticked().ticked().hash()],
    );
    let (update, _) = applied(a.apply(cb.message).unwrap());
    assert!(update.deletes.is_empty());
    assert_eq!(all(&a).len(), 1);
}

#[test]
fn duplicates_are_detected_by_ticks_seen() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let c = commit(&mut b, ins(vec![t("x", "p", "1")]));
    applied(a.apply(c.message.clone()).unwrap());
    let clock = a.clock().clone();
    assert_eq!(a.apply(c.message).unwrap(), Applied::Duplicate);
    assert_eq!(a.clock(), &clock);
}

#[test]
fn a_prev_gap_is_out_of_order_and_changes_nothing() {
    let mut a = genesis();
    let mut b = join(&mut a);
    commit(&mut b, ins(vec![t("x", "p", "1")]));
    let second = commit(&mut b, ins(vec![t("y", "p", "1")]));
    let before = all(&a);
    let clock = a.clock().clone();
    let err = a.apply(second.message).unwrap_err();
    assert_eq!(err.status(), 5005);
    assert_eq!(a.clock(), &clock);
    assert_eq!(all(&a), before);
}

#[test]
fn an_operation_before_its_causes_is_out_of_order() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let mut c = join(&mut a);
    let cb = commit(&mut b, ins(vec![t("x", "p", "1")]));
    c.apply(cb.message.clone()).unwrap();
    let cc = commit(&mut c, ins(vec![t("y", "p", "1")]));
    // A has not seen B's op, which C's op depends on.
    let err = a.apply(cc.message.clone()).unwrap_err();
    assert_eq!(err.status(), 5005);
    a.apply(cb.message).unwrap();
    applied(a.apply(cc.message).unwrap());
}

#[test]
fn inserts_with_foreign_tids_are_rejected() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let mut c = commit(&mut b, ins(vec![t("x", "p", "1")]));
    c.message.op.inserts[0].1 = vec![TreeClock::genesis().ticked().hash()];
    assert_eq!(a.apply(c.message).unwrap_err().status(), 5001);
}

#[test]
fn fused_operation_is_cut_by_what_was_seen() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let x = t("x", "p", "1");
    let y = t("y", "p", "1");
    let c1 = commit(&mut b, ins(vec![x.clone()]));
    let c2 = commit(
        &mut b,
        Patch {
            deletes: vec![x.clone()],
            inserts: vec![y.clone()],
        },
    );
    let c3 = commit(&mut b, ins(vec![t("z", "p", "1")]));
    a.apply(c1.message.clone()).unwrap();
    // A third party (A itself) deletes nothing; but suppose A re-inserts x concurrently.
    let fused = c1
        .message
        .op
        .fuse(&c2.message.op)
        .unwrap()
        .fuse(&c3.message.op)
        .unwrap();
    assert!(fused.deletes.is_empty(), "x@1 cancelled inside the fusion");
    let msg = OperationMessage {
        prev: c1.message.prev,
        op: fused,
    };
    let (update, _) = applied(a.apply(msg.clone()).unwrap());
    assert_eq!(
        update.deletes,
        vec![x.clone()],
        "the cut deletes what the prefix inserted"
    );
    assert_eq!(all(&a), all(&b));
    // The journal holds the cut operation.
    let last = a.journal().unwrap().pop().unwrap();
    assert_eq!(last.message.op.from, 2);
    assert_eq!(last.message.prev, 1);
    // The whole fusion is now a duplicate.
    assert_eq!(a.apply(msg).unwrap(), Applied::Duplicate);
}

#[test]
fn cutting_does_not_resurrect_a_third_party_delete() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let mut c = join(&mut a);
    let x = t("x", "p", "1");
    let b1 = commit(&mut b, ins(vec![x.clone()]));
    let b2 = commit(&mut b, ins(vec![t("y", "p", "1")]));
    // C sees B's first op and deletes x.
    c.apply(b1.message.clone()).unwrap();
    let c1 = commit(&mut c, del(vec![x.clone()]));
    // A sees b1, then C's delete, then B's fusion of 1..2 (which re-carries x@b1).
    a.apply(b1.message.clone()).unwrap();
    a.apply(c1.message.clone()).unwrap();
    assert!(!a.state().contains(&x).unwrap());
    let fused = b1.message.op.fuse(&b2.message.op).unwrap();
    a.apply(OperationMessage {
        prev: b1.message.prev,
        op: fused,
    })
    .unwrap();
    assert!(!a.state().contains(&x).unwrap(), "x@b1 was deleted by C");
}

struct Failing {
    inner: MemoryStore,
    fail: Arc<AtomicBool>,
}

impl Store for Failing {
    type Snapshot = MemorySnapshot;

    fn snapshot(&self) -> MemorySnapshot {
        self.inner.snapshot()
    }

    fn write(&self, batch: Batch) -> Result<(), CoreError> {
        if self.fail.load(Ordering::SeqCst) {
            Err(CoreError::Store("disk on fire".into()))
        } else {
            self.inner.write(batch)
        }
    }
}

#[test]
fn a_failed_write_changes_nothing() {
    let fail = Arc::new(AtomicBool::new(false));
    let inner = MemoryStore::new();
    let mut g = SuSet::genesis(
        Failing {
            inner: inner.clone(),
            fail: fail.clone(),
        },
        DOMAIN,
    )
    .unwrap();
    g.transact(ins(vec![t("a", "p", "1")])).unwrap();
    let clock = g.clock().clone();
    let bytes = inner.byte_size();
    fail.store(true, Ordering::SeqCst);
    assert_eq!(
        g.transact(ins(vec![t("b", "p", "1")]))
            .unwrap_err()
            .status(),
        5000
    );
    assert_eq!(g.clock(), &clock);
    assert_eq!(inner.byte_size(), bytes);
    fail.store(false, Ordering::SeqCst);
    let c = g.transact(ins(vec![t("b", "p", "1")])).unwrap().unwrap();
    assert_eq!(c.message.op.ticks(), 2);
}

#[test]
fn restart_restores_everything() {
    let store = MemoryStore::new();
    let mut a = SuSet::genesis(store.clone(), DOMAIN).unwrap();
    let mut b = join(&mut a);
    commit(&mut a, ins(vec![t("a", "p", "1")]));
    let cb = commit(&mut b, ins(vec![t("b", "p", "1")]));
    a.apply(cb.message).unwrap();
    let (clock, gwc, data, journal) = (
        a.clock().clone(),
        a.gwc().clone(),
        all(&a),
        a.journal().unwrap(),
    );
    drop(a);
    let a = SuSet::open(store).unwrap().unwrap();
    assert_eq!(a.clock(), &clock);
    assert_eq!(a.gwc(), &gwc);
    assert_eq!(all(&a), data);
    assert_eq!(a.state().len(), 2);
    assert_eq!(a.journal().unwrap(), journal);
}

#[test]
fn rev_up_sends_what_the_requester_has_not_seen() {
    let mut a = genesis();
    commit(&mut a, ins(vec![t("a", "p", "0")]));
    let mut b = join(&mut a);
    assert_eq!(b.journal_start(), 1);
    let b_start = b.clock().clone();
    let a1 = commit(&mut a, ins(vec![t("a", "p", "1")]));
    let b1 = commit(&mut b, ins(vec![t("b", "p", "1")]));
    a.apply(b1.message.clone()).unwrap();
    let a2 = commit(&mut a, ins(vec![t("a", "p", "2")]));
    // B has seen only its own op: it gets A's two ops, not its own.
    let revup = a.operations_since(b.clock()).unwrap().unwrap();
    assert_eq!(revup, vec![a1.message.clone(), a2.message.clone()]);
    // From B's fork time, B's own op is included too.
    let revup = a.operations_since(&b_start).unwrap().unwrap();
    assert_eq!(revup, vec![a1.message, b1.message, a2.message.clone()]);
    // A clone that has seen everything gets nothing.
    assert!(a.operations_since(a.clock()).unwrap().unwrap().is_empty());
    // A clone from before B's journal start cannot be served by B.
    assert!(b.operations_since(&TreeClock::genesis()).unwrap().is_none());
    // Applying the rev-up brings B up to date.
    for msg in a.operations_since(b.clock()).unwrap().unwrap() {
        b.apply(msg).unwrap();
    }
    assert_eq!(all(&a), all(&b));
}

#[test]
fn snapshot_forks_the_clock_at_the_last_public_tick() {
    let mut a = genesis();
    commit(&mut a, ins(vec![t("a", "p", "1")]));
    let mut b = join(&mut a);
    let c = commit(&mut b, ins(vec![t("b", "p", "1")]));
    applied(a.apply(c.message.clone()).unwrap());
    // A ticked twice privately; a new fork starts at its last public tick (1).
    assert_eq!(a.clock().ticks(), 3);
    let snap = a.take_snapshot(true).unwrap();
    let fork = snap.clock.unwrap();
    assert_eq!(fork.ticks(), 1);
    assert_eq!(a.clock().ticks(), 3);
    assert_eq!(snap.operations.len(), 2, "latest op of A and of B");
    assert_eq!(snap.state.len(), 2);
    // B's first op ever: prev is the inherited tick 1.
    assert_eq!(c.message.prev, 1);
}

struct NoBobs;

impl Constraint for NoBobs {
    fn check(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<(), CoreError> {
        if patch
            .inserts
            .iter()
            .any(|t| t.object.to_string().contains("Bob"))
        {
            return Err(CoreError::ConstraintViolated("no Bobs".into()));
        }
        // The state reflects the patch.
        for t in &patch.inserts {
            assert!(state.contains(t)?);
        }
        Ok(())
    }

    fn apply(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<Patch, CoreError> {
        let mut out = Patch::default();
        for t in &patch.inserts {
            assert!(state.contains(t)?);
            if t.object.to_string().contains("Bob") {
                out.deletes.push(t.clone());
                out.inserts.push(Triple::new(
                    t.subject.clone(),
                    t.predicate.clone(),
                    Literal::new_simple_literal("Robert"),
                ));
            }
        }
        Ok(out)
    }
}

#[test]
fn a_failed_check_rejects_the_write() {
    let mut g = genesis();
    g.add_constraint(Box::new(NoBobs));
    let err = g.transact(ins(vec![t("x", "name", "Bob")])).unwrap_err();
    assert_eq!(err.status(), 5001);
    assert_eq!(g.clock(), &TreeClock::genesis());
    assert!(g.state().is_empty());
    assert!(
        g.transact(ins(vec![t("x", "name", "Alice")]))
            .unwrap()
            .is_some()
    );
}

#[test]
fn constraint_assertions_become_a_resolution() {
    let mut a = genesis();
    let mut b = join(&mut a);
    a.add_constraint(Box::new(NoBobs));
    let bob = t("x", "name", "Bob");
    let robert = t("x", "name", "Robert");
    let c = commit(&mut b, ins(vec![bob.clone()]));
    let (update, resolution) = applied(a.apply(c.message.clone()).unwrap());
    let resolution = resolution.expect("a resolution");
    assert_eq!(update.deletes, vec![bob.clone()]);
    assert_eq!(update.inserts, vec![robert.clone()]);
    assert!(!a.state().contains(&bob).unwrap());
    // The resolution deletes B's insert and inserts at the second tick.
    let cxn_time = a.clock().clone();
    assert_eq!(resolution.op.time, cxn_time);
    assert_eq!(
        resolution.op.deletes,
        vec![(bob.clone(), vec![c.message.op.tid()])]
    );
    assert_eq!(
        resolution.op.inserts,
        vec![(robert.clone(), vec![cxn_time.hash()])]
    );
    assert_eq!(resolution.prev, 0);
    assert_eq!(a.gwc().get_ticks(&cxn_time), Some(cxn_time.ticks()));
    // Both journaled; the resolution converges B.
    let journal = a.journal().unwrap();
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[1].message, resolution);
    b.apply(resolution).unwrap();
    assert_eq!(all(&a), all(&b));
}

fn snapshot_data(
    s: &mut SuSet<MemoryStore>,
) -> (Snapshot<MemorySnapshot>, Vec<(Triple, Vec<Tid>)>) {
    let snapshot = s.take_snapshot(false).unwrap();
    assert!(snapshot.clock.is_none());
    let triples = snapshot
        .state
        .triples_with_tids()
        .collect::<Result<_, _>>()
        .unwrap();
    (snapshot, triples)
}

#[test]
fn reset_keeps_and_returns_what_the_snapshot_lacks() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let x = t("x", "p", "1");
    let a1 = commit(&mut a, ins(vec![t("a", "p", "1")]));
    b.apply(a1.message).unwrap();
    let b1 = commit(&mut b, ins(vec![x.clone()]));
    let a2 = commit(&mut a, ins(vec![t("a", "p", "2")]));
    let b_clock = b.clock().clone();
    let (snapshot, triples) = snapshot_data(&mut a);
    let reemit = b
        .reset(snapshot.gwc, snapshot.agreed, triples, snapshot.operations)
        .unwrap();
    // B's own op is kept and handed back; A's a1 came with the snapshot.
    assert_eq!(reemit, vec![b1.message.clone()]);
    assert!(b.state().contains(&x).unwrap());
    assert!(b.state().contains(&t("a", "p", "2")).unwrap());
    assert_eq!(b.state().len(), 3);
    assert!(!b.clock().any_lt(&b_clock), "the clock is kept");
    assert_eq!(
        b.gwc().get_ticks(&a2.message.op.time),
        Some(a2.message.op.ticks())
    );
    // The journal keeps B's op servable: it starts just before it.
    assert_eq!(b.journal_start(), b1.message.op.ticks() - 1);
    assert!(b.operations_since(a.clock()).unwrap().is_none());
    let since_start = b.clock().ticked_to(b.journal_start()).unwrap();
    let from_b = b.operations_since(&since_start).unwrap().unwrap();
    assert_eq!(from_b, vec![b1.message.clone()]);
    // A applies the re-emitted op to converge.
    a.apply(b1.message).unwrap();
    assert_eq!(all(&a), all(&b));
    // Restart keeps the reset state.
    let store = b.into_store();
    let b = SuSet::open(store).unwrap().unwrap();
    assert_eq!(all(&a), all(&b));
}

#[test]
fn reset_refuses_a_snapshot_that_is_behind() {
    let mut a = genesis();
    let mut c = join(&mut a);
    commit(&mut a, ins(vec![t("a", "p", "1")]));
    let mut b = join(&mut a);
    let before = (b.clock().clone(), all(&b));
    let (snapshot, triples) = snapshot_data(&mut c);
    let err = b
        .reset(snapshot.gwc, snapshot.agreed, triples, snapshot.operations)
        .unwrap_err();
    assert_eq!(err.status(), 5002);
    assert_eq!((b.clock().clone(), all(&b)), before);
}

#[test]
fn reset_refuses_a_snapshot_lacking_operations_from_before_the_journal() {
    // A writes twice; C joins before seeing them; B resets from A (gaining both), then A resets
    // from B, which moves A's journal start past its own two writes. A snapshot from C now
    // lacks writes A can no longer re-apply: it must be refused, not silently lose them.
    let mut a = genesis();
    let mut b = join(&mut a);
    let mut c = join(&mut b);
    commit(&mut a, ins(vec![t("a", "p", "1")]));
    commit(&mut a, ins(vec![t("a", "p", "2")]));
    let (snapshot, triples) = snapshot_data(&mut a);
    b.reset(snapshot.gwc, snapshot.agreed, triples, snapshot.operations)
        .unwrap();
    let (snapshot, triples) = snapshot_data(&mut b);
    a.reset(snapshot.gwc, snapshot.agreed, triples, snapshot.operations)
        .unwrap();
    commit(&mut a, ins(vec![t("a", "p", "3")]));
    let before = (a.clock().clone(), all(&a));
    let (snapshot, triples) = snapshot_data(&mut c);
    let err = a
        .reset(snapshot.gwc, snapshot.agreed, triples, snapshot.operations)
        .unwrap_err();
    assert_eq!(err.status(), 5002);
    assert_eq!((a.clock().clone(), all(&a)), before);
    assert_eq!(a.state().len(), 3);
}

#[test]
fn own_operations_a_gwc_lacks_are_found_for_re_emission() {
    let mut a = genesis();
    let mut b = join(&mut a);
    let b1 = commit(&mut b, ins(vec![t("b", "p", "1")]));
    let b2 = commit(&mut b, ins(vec![t("b", "p", "2")]));
    a.apply(b1.message.clone()).unwrap();
    let lacking = b.operations_since(a.gwc()).unwrap().unwrap();
    assert_eq!(lacking, vec![b2.message]);
}

/// Checks what a constraint sees: the state with the patch applied.
struct Probe {
    subject: NamedNode,
    expect: Vec<Triple>,
}

impl Constraint for Probe {
    fn check(&self, state: &dyn ReadTriples, _patch: &Patch) -> Result<(), CoreError> {
        let s = oxrdf::NamedOrBlankNodeRef::NamedNode(self.subject.as_ref());
        let mut got: Vec<Triple> = state
            .matching(Some(s), None, None)
            .collect::<Result<_, _>>()?;
        got.sort_by_key(|t| t.to_string());
        let mut want = self.expect.clone();
        want.sort_by_key(|t| t.to_string());
        assert_eq!(got, want);
        for t in &want {
            assert!(state.contains(t)?);
            assert!(!state.tids(t)?.is_empty());
        }
        Ok(())
    }

    fn apply(&self, _: &dyn ReadTriples, _: &Patch) -> Result<Patch, CoreError> {
        Ok(Patch::default())
    }
}

#[test]
fn constraints_see_the_patched_state() {
    let mut g = genesis();
    let (a, b, c) = (t("x", "p", "a"), t("x", "p", "b"), t("x", "q", "c"));
    commit(&mut g, ins(vec![a.clone(), b.clone()]));
    g.add_constraint(Box::new(Probe {
        subject: iri("x"),
        expect: vec![b.clone(), c.clone()],
    }));
    let c2 = commit(
        &mut g,
        Patch {
            deletes: vec![a.clone()],
            inserts: vec![c.clone()],
        },
    );
    assert_eq!(c2.update.deletes, vec![a]);
}

#[test]
fn writes_over_the_operation_size_limit_fail_and_change_nothing() {
    let mut a = genesis();
    a.set_max_operation_size(Some(300));
    commit(&mut a, ins(vec![t("fred", "name", "Fred")]));
    let before = (a.clock().clone(), all(&a), a.journal().unwrap().len());
    let big: Vec<Triple> = (0..60)
        .map(|i| t(&format!("subject{i}"), "name", &format!("value {i}")))
        .collect();
    let err = a.transact(ins(big.clone())).unwrap_err();
    assert_eq!(err.status(), 4002, "{err}");
    assert!(err.to_string().contains("Delta too big"), "{err}");
    assert_eq!(
        (a.clock().clone(), all(&a), a.journal().unwrap().len()),
        before
    );
    a.set_max_operation_size(None);
    assert!(a.transact(ins(big)).unwrap().is_some());
}

#[test]
fn rev_up_is_refused_to_a_requester_lacking_what_preceded_the_journal() {
    // C joins before A's first write; B joins after it, so a1 is in B's snapshot, not its
    // journal. B cannot rev C up: sending a2 alone would leave C with a gap.
    let mut a = genesis();
    let mut c = join(&mut a);
    let a1 = commit(&mut a, ins(vec![t("a", "p", "1")]));
    let mut b = join(&mut a);
    let a2 = commit(&mut a, ins(vec![t("a", "p", "2")]));
    b.apply(a2.message.clone()).unwrap();
    assert!(b.operations_since(c.clock()).unwrap().is_none());
    // Once C has a1 (from A), B's journal is all it lacks.
    c.apply(a1.message).unwrap();
    let revup = b.operations_since(c.clock()).unwrap().unwrap();
    assert_eq!(revup, vec![a2.message]);
    for msg in revup {
        c.apply(msg).unwrap();
    }
    assert_eq!(all(&b), all(&c));
}

#[test]
fn after_a_reset_rev_ups_do_not_skip_what_came_with_the_snapshot() {
    // A resets from B while one of its own writes (a1) is unseen by B: A's journal keeps a1 but
    // b1 and b2 arrive in the snapshot, not the journal. C, which has neither, must not be revved
    // up by A alone: b3 (applied by A live) would follow a gap.
    let mut a = genesis();
    let mut b = join(&mut a);
    let mut c = join(&mut a);
    let a1 = commit(&mut a, ins(vec![t("a", "p", "1")]));
    commit(&mut b, ins(vec![t("b", "p", "1")]));
    commit(&mut b, ins(vec![t("b", "p", "2")]));
    let (snapshot, triples) = snapshot_data(&mut b);
    let reemit = a
        .reset(snapshot.gwc, snapshot.agreed, triples, snapshot.operations)
        .unwrap();
    assert_eq!(reemit, vec![a1.message.clone()]);
    let b3 = commit(&mut b, ins(vec![t("b", "p", "3")]));
    a.apply(b3.message).unwrap();
    match a.operations_since(c.clock()).unwrap() {
        None => {}
        Some(ops) => {
            for msg in ops {
                c.apply(msg).unwrap();
            }
            assert_eq!(all(&a), all(&c), "a rev-up must leave nothing out");
        }
    }
}

#[test]
fn joining_datum_by_datum_is_joining_at_once() {
    let mut a = genesis();
    for i in 0..3 {
        commit(
            &mut a,
            ins(vec![
                t(&format!("s{i}"), "p", "1"),
                t("x", "q", &i.to_string()),
            ]),
        );
    }
    commit(&mut a, del(vec![t("s0", "p", "1")]));
    let snapshot = a.take_snapshot(true).unwrap();
    let triples: Vec<_> = snapshot
        .state
        .triples_with_tids()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(snapshot.operations.len(), 1, "A's history, fused");
    let clock = snapshot.clock.clone().unwrap();
    let at_once = SuSet::join(
        MemoryStore::new(),
        DOMAIN,
        clock.clone(),
        snapshot.gwc.clone(),
        None,
        triples.clone(),
        snapshot.operations.clone(),
    )
    .unwrap();
    // The operation first, then the triples in two parts, one of them repeated.
    let store = MemoryStore::new();
    let mut joining =
        SuSet::joining(store.clone(), DOMAIN, clock, snapshot.gwc.clone(), None).unwrap();
    joining.add_operation(&snapshot.operations[0]).unwrap();
    for (triple, tids) in triples.iter().chain(&triples[..1]) {
        joining.add_triple(triple, tids).unwrap();
    }
    assert!(
        SuSet::open(store.clone()).unwrap().is_none(),
        "nothing is written before the end"
    );
    let joined = joining.finish().unwrap();
    assert_eq!(all(&joined), all(&at_once));
    assert_eq!(joined.clock(), at_once.clock());
    let tid = snapshot.operations[0].tid();
    assert_eq!(
        joined.operation(&tid).unwrap().map(|op| op.normalized()),
        Some(snapshot.operations[0].normalized())
    );
    // An abandoned join leaves the store empty; a store with data cannot be joined into.
    let store = MemoryStore::new();
    let mut joining = SuSet::joining(
        store.clone(),
        DOMAIN,
        snapshot.clock.clone().unwrap(),
        snapshot.gwc.clone(),
        None,
    )
    .unwrap();
    joining.add_triple(&triples[0].0, &triples[0].1).unwrap();
    drop(joining);
    assert!(SuSet::open(store).unwrap().is_none());
    let err = SuSet::joining(
        joined.into_store(),
        DOMAIN,
        snapshot.clock.unwrap(),
        snapshot.gwc,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, CoreError::StoreNotEmpty), "{err}");
}

#[test]
fn a_snapshot_carries_each_process_history_fused_as_fuse_does() {
    let mut a = genesis();
    let mut ops = Vec::new();
    for i in 0..5 {
        let patch = if i == 3 {
            del(vec![t("s1", "p", "1")])
        } else {
            ins(vec![t(&format!("s{i}"), "p", "1")])
        };
        ops.push(commit(&mut a, patch).message.op);
    }
    let mut expected = ops[0].clone();
    for op in &ops[1..] {
        expected = expected.fuse(op).unwrap();
    }
    let snapshot = a.take_snapshot(false).unwrap();
    assert_eq!(snapshot.operations.len(), 1);
    assert_eq!(snapshot.operations[0].normalized(), expected.normalized());
    assert_eq!(
        (snapshot.operations[0].from, snapshot.operations[0].ticks()),
        (1, 5)
    );
}

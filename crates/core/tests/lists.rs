//! The default list CRDT (`m_ld_core::list`) against m-ld-js and under concurrency:
//!
//! * a snapshot captured from m-ld-js 0.10.0 (`tests/data/wire/captures.json`, capture.log
//!   #45–#50) carries the entailed `@index` triples of its lists without TIDs: the indexes this
//!   engine entails from the same asserted data must be exactly those, and local inserts must
//!   fit between positions that m-ld-js generated;
//! * random list edits (inserts at indexes, deletes, moves) on 2–4 simulated clones, delivered
//!   in random causal orders, converge to one list with no slot in two positions.
//!
//! Cases: `PROPTEST_CASES` (proptest's default, 256, when unset).

// Test helpers outside #[test] functions fail loudly on bad test data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashSet};

use m_ld_core::causal::CausalBuffer;
use m_ld_core::clock::Tid;
use m_ld_core::constraint::ReadTriples;
use m_ld_core::list::{
    self, DefaultList, INDEX, ITEM, all_entailed_indexes, index_key, list_slots, rewrite_local,
};
use m_ld_core::operation::OperationMessage;
use m_ld_core::store::MemoryStore;
use m_ld_core::suset::{Applied, Patch, SuSet};
use m_ld_core::wire::encoding::WireLimits;
use m_ld_core::wire::notify::{Notification, SnapshotDatum};
use oxrdf::{Literal, NamedNode, NamedOrBlankNodeRef, Term, Triple};
use proptest::prelude::*;
use serde_json::Value as Json;

const DOMAIN: &str = "test.m-ld.org";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The triples of the snapshot m-ld-js sent in capture.log #45–#50.
fn captured_snapshot() -> Vec<(Triple, Vec<Tid>)> {
    let json: Json = serde_json::from_str(include_str!("data/wire/captures.json")).unwrap();
    let mut triples = Vec::new();
    for n in 45..=50 {
        let source = format!("capture.log #{n}");
        let capture = json["payloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["source"] == source.as_str())
            .unwrap();
        let bytes = unhex(capture["hex"].as_str().unwrap());
        let Notification::Next(datum) = Notification::decode(&bytes).unwrap() else {
            panic!("{source} is not a next notification");
        };
        let SnapshotDatum::Inserts(batch) =
            SnapshotDatum::decode(&datum, DOMAIN, &WireLimits::default()).unwrap()
        else {
            panic!("{source} is not an inserts batch");
        };
        triples.extend(batch);
    }
    triples
}

fn item_of(state: &dyn ReadTriples, slot: &NamedNode) -> String {
    let item = NamedNode::new_unchecked(ITEM);
    let found: Vec<Triple> = state
        .matching(
            Some(NamedOrBlankNodeRef::NamedNode(slot.as_ref())),
            Some(item.as_ref()),
            None,
        )
        .collect::<Result<_, _>>()
        .unwrap();
    match found.as_slice() {
        [t] => match &t.object {
            Term::Literal(l) => l.value().to_string(),
            other => other.to_string(),
        },
        [] => "<none>".into(),
        many => format!("<{} items>", many.len()),
    }
}

fn items(state: &dyn ReadTriples, list: &NamedNode) -> Vec<String> {
    list_slots(state, list)
        .unwrap()
        .iter()
        .map(|s| item_of(state, &s.slot))
        .collect()
}

#[test]
fn indexes_entailed_from_a_m_ld_js_snapshot_are_the_ones_it_sent() {
    let triples = captured_snapshot();
    // Joining from the whole snapshot keeps only the asserted triples.
    let joined = SuSet::join(
        MemoryStore::new(),
        DOMAIN,
        m_ld_core::clock::TreeClock::genesis(),
        m_ld_core::clock::GlobalClock::genesis(),
        None,
        triples.clone(),
        Vec::new(),
    )
    .unwrap();
    let stored = joined.state().triples_with_tids().count();
    assert_eq!(
        stored,
        triples.iter().filter(|(_, tids)| !tids.is_empty()).count()
    );
    let (sent_indexes, asserted): (Vec<_>, Vec<_>) = triples
        .into_iter()
        .partition(|(t, _)| t.predicate.as_str() == INDEX);
    assert!(!sent_indexes.is_empty());
    assert!(sent_indexes.iter().all(|(_, tids)| tids.is_empty()));
    assert!(asserted.iter().all(|(_, tids)| !tids.is_empty()));
    let suset = SuSet::join(
        MemoryStore::new(),
        DOMAIN,
        m_ld_core::clock::TreeClock::genesis(),
        m_ld_core::clock::GlobalClock::genesis(),
        None,
        asserted,
        Vec::new(),
    )
    .unwrap();
    let state = suset.state();
    let ours: BTreeSet<String> = all_entailed_indexes(&state)
        .unwrap()
        .iter()
        .map(Triple::to_string)
        .collect();
    let theirs: BTreeSet<String> = sent_indexes.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(ours, theirs);

    // A local insert fits between the positions m-ld-js generated.
    let shopping = NamedNode::new_unchecked(format!("http://{DOMAIN}/shopping"));
    let before = items(&state, &shopping);
    assert!(before.len() >= 2, "{before:?}");
    let slot = NamedNode::new_unchecked(format!("http://{DOMAIN}/.well-known/genid/rust1"));
    let patch = rewrite_local(
        &state,
        Patch {
            deletes: vec![],
            inserts: vec![
                Triple::new(shopping.clone(), index_key(1, None), slot.clone()),
                Triple::new(
                    slot,
                    NamedNode::new_unchecked(ITEM),
                    Literal::new_simple_literal("rust"),
                ),
            ],
        },
        "rustClone",
    )
    .unwrap();
    let mut suset = suset;
    suset.transact(patch).unwrap().unwrap();
    let mut expected = before;
    expected.insert(1, "rust".into());
    assert_eq!(items(&suset.state(), &shopping), expected);
}

// ---------------------------------------------------------------------------------------------
// Simulated concurrency

fn list_iri() -> NamedNode {
    NamedNode::new_unchecked(format!("http://{DOMAIN}/shopping"))
}

#[derive(Debug, Clone)]
enum Action {
    /// Insert `count` new items at an index (modulo length + 2, so sometimes beyond the end).
    Insert {
        clone: usize,
        at: usize,
        count: usize,
    },
    /// Delete the item at an index.
    Delete { clone: usize, at: usize },
    /// Move the slot at an index to another index.
    Move {
        clone: usize,
        from: usize,
        to: usize,
    },
    /// Deliver the oldest pending message from some sender to a clone.
    Deliver { to: usize, pick: usize },
}

fn action(n: usize) -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..n, any::<usize>(), 1usize..4)
            .prop_map(|(clone, at, count)| Action::Insert { clone, at, count }),
        2 => (0..n, any::<usize>()).prop_map(|(clone, at)| Action::Delete { clone, at }),
        3 => (0..n, any::<usize>(), any::<usize>())
            .prop_map(|(clone, from, to)| Action::Move { clone, from, to }),
        6 => (0..n, any::<usize>()).prop_map(|(to, pick)| Action::Deliver { to, pick }),
    ]
}

fn program() -> impl Strategy<Value = (usize, Vec<Action>)> {
    (2usize..=4).prop_flat_map(|n| (Just(n), proptest::collection::vec(action(n), 5..60)))
}

struct Clone {
    id: String,
    suset: SuSet<MemoryStore>,
    buffer: CausalBuffer,
}

struct Packet {
    from: usize,
    to: usize,
    msg: OperationMessage,
}

struct Sim {
    clones: Vec<Clone>,
    network: Vec<Packet>,
    minted: usize,
}

impl Sim {
    /// A genesis clone with a list of two items, and the others joined from its snapshots.
    fn new(n: usize) -> Sim {
        let mut genesis = SuSet::genesis(MemoryStore::new(), DOMAIN).unwrap();
        genesis.add_constraint(Box::new(DefaultList::new()));
        let mut clones = vec![Clone {
            id: "clone0".into(),
            suset: genesis,
            buffer: CausalBuffer::new(),
        }];
        let mut sim = Sim {
            clones: Vec::new(),
            network: Vec::new(),
            minted: 0,
        };
        let first = sim.insert_patch("clone0", 0, 2);
        clones[0].suset.transact(first).unwrap().unwrap();
        for i in 1..n {
            let snapshot = clones[0].suset.take_snapshot(true).unwrap();
            let triples: Vec<_> = snapshot
                .state
                .triples_with_tids()
                .collect::<Result<_, _>>()
                .unwrap();
            let mut suset = SuSet::join(
                MemoryStore::new(),
                DOMAIN,
                snapshot.clock.unwrap(),
                snapshot.gwc,
                snapshot.agreed,
                triples,
                snapshot.operations,
            )
            .unwrap();
            suset.add_constraint(Box::new(DefaultList::new()));
            clones.push(Clone {
                id: format!("clone{i}"),
                suset,
                buffer: CausalBuffer::new(),
            });
        }
        sim.clones = clones;
        sim
    }

    fn slots(&self, clone: usize) -> Vec<list::ListSlot> {
        list_slots(&self.clones[clone].suset.state(), &list_iri()).unwrap()
    }

    /// Inserts of `count` new slots at `index` (intermediate index keys).
    fn insert_patch(&mut self, id: &str, index: usize, count: usize) -> Patch {
        let mut inserts = Vec::new();
        for j in 0..count {
            self.minted += 1;
            let slot = NamedNode::new_unchecked(format!(
                "http://{DOMAIN}/.well-known/genid/{id}-{}",
                self.minted
            ));
            let sub = (count > 1).then_some(j);
            inserts.push(Triple::new(list_iri(), index_key(index, sub), slot.clone()));
            inserts.push(Triple::new(
                slot,
                NamedNode::new_unchecked(ITEM),
                Literal::new_simple_literal(format!("{id}-{}", self.minted)),
            ));
        }
        Patch {
            deletes: vec![],
            inserts,
        }
    }

    fn position_triple(slot: &list::ListSlot) -> Triple {
        Triple::new(
            list_iri(),
            NamedNode::new_unchecked(format!("{}{}", list::POS_ID_PREFIX, slot.pos)),
            slot.slot.clone(),
        )
    }

    fn write(&mut self, i: usize, action: &Action) {
        let slots = self.slots(i);
        let patch = match *action {
            Action::Insert { at, count, .. } => {
                let id = self.clones[i].id.clone();
                self.insert_patch(&id, at % (slots.len() + 2), count)
            }
            Action::Delete { at, .. } => {
                if slots.is_empty() {
                    return;
                }
                Patch {
                    deletes: vec![Self::position_triple(&slots[at % slots.len()])],
                    inserts: vec![],
                }
            }
            Action::Move { from, to, .. } => {
                if slots.is_empty() {
                    return;
                }
                let slot = &slots[from % slots.len()];
                Patch {
                    deletes: vec![Self::position_triple(slot)],
                    inserts: vec![Triple::new(
                        list_iri(),
                        index_key(to % (slots.len() + 1), None),
                        slot.slot.clone(),
                    )],
                }
            }
            Action::Deliver { .. } => return,
        };
        let clone = &mut self.clones[i];
        let patch = rewrite_local(&clone.suset.state(), patch, &clone.id).unwrap();
        if let Some(commit) = clone.suset.transact(patch).unwrap() {
            self.broadcast(i, commit.message);
        }
    }

    fn broadcast(&mut self, from: usize, msg: OperationMessage) {
        for to in 0..self.clones.len() {
            if to != from {
                self.network.push(Packet {
                    from,
                    to,
                    msg: msg.clone(),
                });
            }
        }
    }

    /// Delivers the oldest pending message of some sender to `to` (FIFO per sender).
    fn deliver(&mut self, to: usize, pick: usize) {
        let senders: BTreeSet<usize> = self
            .network
            .iter()
            .filter(|p| p.to == to)
            .map(|p| p.from)
            .collect();
        let Some(&sender) = senders.iter().nth(pick % senders.len().max(1)) else {
            return;
        };
        let k = self
            .network
            .iter()
            .position(|p| p.to == to && p.from == sender)
            .unwrap();
        let packet = self.network.remove(k);
        let clone = &mut self.clones[to];
        let applied = clone.buffer.receive(packet.msg, &mut clone.suset).unwrap();
        for outcome in applied {
            if let Applied::Applied {
                resolution: Some(resolution),
                ..
            } = outcome
            {
                self.broadcast(to, resolution);
            }
        }
    }

    fn run(&mut self, actions: &[Action]) {
        for action in actions {
            match *action {
                Action::Deliver { to, pick } => self.deliver(to, pick),
                Action::Insert { clone, .. }
                | Action::Delete { clone, .. }
                | Action::Move { clone, .. } => self.write(clone, action),
            }
        }
        let mut pick = 0;
        while let Some(p) = self.network.first() {
            let to = p.to;
            self.deliver(to, pick);
            pick += 1;
        }
    }
}

proptest! {
    #[test]
    fn concurrent_list_edits_converge_without_duplicates((n, actions) in program()) {
        let mut sim = Sim::new(n);
        sim.run(&actions);
        let lists: Vec<Vec<(String, String)>> = (0..n)
            .map(|i| {
                let state = sim.clones[i].suset.state();
                sim.slots(i)
                    .iter()
                    .map(|s| (s.slot.to_string(), item_of(&state, &s.slot)))
                    .collect()
            })
            .collect();
        for list in &lists[1..] {
            prop_assert_eq!(list, &lists[0]);
        }
        // No slot in two positions, and every slot has exactly one item (or none, if a delete
        // and a move of it were concurrent).
        let mut seen = HashSet::new();
        for (slot, item) in &lists[0] {
            prop_assert!(seen.insert(slot.clone()), "slot {} twice in {:?}", slot, lists[0]);
            prop_assert!(!item.contains(" items>"), "{} has {}", slot, item);
        }
    }
}

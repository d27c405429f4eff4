//! Convergence of simulated clones: random writes on 2–4 clones, delivered through causal
//! buffers in random orders, with duplicates, lost messages, fused operations (cut on receipt),
//! partitions, restarts from the store, late snapshot joins, snapshot resets, and journal
//! compaction (fusion of contiguous entries, truncation past a random retention). Every rev-up
//! must fill the requester's gaps completely. After full delivery every clone must hold the same
//! triples with the same TIDs, and that state must equal a reference model of SU-Set semantics
//! computed from the log of all operations.
//!
//! Cases: `PROPTEST_CASES` (proptest's default, 256, when unset).

// The simulation's helpers are test code outside `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use m_ld_core::causal::CausalBuffer;
use m_ld_core::clock::Tid;
use m_ld_core::operation::OperationMessage;
use m_ld_core::store::MemoryStore;
use m_ld_core::suset::{JournalAdmin, Patch, Retention, SuSet};
use oxrdf::{Literal, NamedNode, Triple};
use proptest::prelude::*;

const DOMAIN: &str = "test.m-ld.org";

/// The triple alphabet: 2 subjects × 2 predicates × 2 objects, to force conflicts.
fn triple(i: u8) -> Triple {
    let i = i % 8;
    Triple::new(
        NamedNode::new_unchecked(format!("http://{DOMAIN}/s{}", i & 1)),
        NamedNode::new_unchecked(format!("http://{DOMAIN}/#p{}", (i >> 1) & 1)),
        Literal::new_simple_literal(format!("o{}", (i >> 2) & 1)),
    )
}

#[derive(Debug, Clone)]
enum Action {
    /// A local write on a clone.
    Write {
        clone: usize,
        deletes: Vec<u8>,
        inserts: Vec<u8>,
    },
    /// Deliver one pending packet to a clone: the oldest from some sender, or any.
    Deliver { to: usize, pick: usize, fifo: bool },
    /// Re-send an already sent message to a clone.
    Duplicate { to: usize, pick: usize },
    /// Lose a pending packet to a clone (as MQTT does for a clone that is down): only rev-ups
    /// can make up for it.
    Lose { to: usize, pick: usize },
    /// Send a fusion of a run of a clone's own contiguous operations to another clone.
    Fuse {
        from: usize,
        to: usize,
        run: usize,
        start: usize,
        len: usize,
    },
    /// Cut a clone off the network, or reconnect it.
    Partition { clone: usize, on: bool },
    /// Restart a clone from its store (its causal buffer is lost), then rev-up from a peer.
    Restart { clone: usize, peer: usize },
    /// Start a clone from a snapshot of a running one.
    Join { clone: usize, from: usize },
    /// Replace a clone's data by a snapshot of another (recovery when rev-up is impossible),
    /// re-emitting what the snapshot lacks.
    Reset { clone: usize, from: usize },
    /// Administer a clone's journal: fuse contiguous entries up to a footprint (0: no fusion),
    /// then drop all but `keep` entries, among those every other clone has seen.
    Compact {
        clone: usize,
        keep: u64,
        footprint: usize,
    },
}

fn action(n: usize) -> impl Strategy<Value = Action> {
    let idx = || proptest::collection::vec(0u8..8, 0..3);
    prop_oneof![
        6 => (0..n, idx(), proptest::collection::vec(0u8..8, 1..3))
            .prop_map(|(clone, deletes, inserts)| Action::Write { clone, deletes, inserts }),
        3 => (0..n, proptest::collection::vec(0u8..8, 1..3))
            .prop_map(|(clone, deletes)| Action::Write { clone, deletes, inserts: vec![] }),
        8 => (0..n, any::<usize>(), prop::bool::weighted(0.8))
            .prop_map(|(to, pick, fifo)| Action::Deliver { to, pick, fifo }),
        1 => (0..n, any::<usize>()).prop_map(|(to, pick)| Action::Duplicate { to, pick }),
        1 => (0..n, any::<usize>()).prop_map(|(to, pick)| Action::Lose { to, pick }),
        2 => (0..n, 0..n, any::<usize>(), any::<usize>(), 2usize..5)
            .prop_map(|(from, to, run, start, len)| Action::Fuse { from, to, run, start, len }),
        1 => (0..n, any::<bool>()).prop_map(|(clone, on)| Action::Partition { clone, on }),
        1 => (0..n, 0..n).prop_map(|(clone, peer)| Action::Restart { clone, peer }),
        1 => (1..n, 0..n).prop_map(|(clone, from)| Action::Join { clone, from }),
        1 => (0..n, 0..n).prop_map(|(clone, from)| Action::Reset { clone, from }),
        2 => (0..n, 0u64..4, prop_oneof![Just(0usize), 1usize..400, Just(usize::MAX)])
            .prop_map(|(clone, keep, footprint)| Action::Compact { clone, keep, footprint }),
    ]
}

fn program() -> impl Strategy<Value = (usize, Vec<Action>)> {
    (2usize..=4).prop_flat_map(|n| (Just(n), proptest::collection::vec(action(n), 10..80)))
}

struct Clone {
    store: MemoryStore,
    suset: Option<SuSet<MemoryStore>>,
    buffer: CausalBuffer,
    partitioned: bool,
    /// Operations this clone originated, in order (for fusions).
    sent: Vec<OperationMessage>,
}

struct Packet {
    from: usize,
    to: usize,
    msg: OperationMessage,
}

struct Sim {
    clones: Vec<Clone>,
    network: Vec<Packet>,
    /// Every operation originated anywhere (the reference model's input).
    log: Vec<OperationMessage>,
    /// Successful resets (for the test's own sanity).
    resets: usize,
    /// Entries dropped by fusion and by truncation (for the test's own sanity).
    fused: usize,
    truncated: usize,
}

type State = BTreeMap<String, BTreeSet<Tid>>;

impl Sim {
    fn new(n: usize) -> Sim {
        let mut clones: Vec<Clone> = (0..n)
            .map(|_| Clone {
                store: MemoryStore::new(),
                suset: None,
                buffer: CausalBuffer::new(),
                partitioned: false,
                sent: Vec::new(),
            })
            .collect();
        clones[0].suset = Some(SuSet::genesis(clones[0].store.clone(), DOMAIN).unwrap());
        Sim {
            clones,
            network: Vec::new(),
            log: Vec::new(),
            resets: 0,
            fused: 0,
            truncated: 0,
        }
    }

    fn running(&self, i: usize) -> bool {
        self.clones[i].suset.is_some()
    }

    /// Joins clone `i` from a snapshot of running clone `from` (the snapshot-join clock fork).
    fn join(&mut self, i: usize, from: usize) {
        if self.running(i) || !self.running(from) || i == from {
            return;
        }
        let source = self.clones[from].suset.as_mut().unwrap();
        let snapshot = source.take_snapshot(true).unwrap();
        let triples: Vec<_> = snapshot
            .state
            .triples_with_tids()
            .collect::<Result<_, _>>()
            .unwrap();
        let suset = SuSet::join(
            self.clones[i].store.clone(),
            DOMAIN,
            snapshot.clock.unwrap(),
            snapshot.gwc,
            snapshot.agreed,
            triples,
            snapshot.operations,
        )
        .unwrap();
        self.clones[i].suset = Some(suset);
    }

    fn broadcast(&mut self, from: usize, msg: &OperationMessage) {
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

    fn write(&mut self, i: usize, deletes: &[u8], inserts: &[u8]) {
        let Some(suset) = self.clones[i].suset.as_mut() else {
            return;
        };
        let patch = Patch {
            deletes: deletes.iter().map(|&d| triple(d)).collect(),
            inserts: inserts.iter().map(|&d| triple(d)).collect(),
        };
        if let Some(commit) = suset.transact(patch).unwrap() {
            // The update reports exactly the effect on the graph.
            for t in &commit.update.inserts {
                assert!(suset.state().contains(t).unwrap());
            }
            for t in &commit.update.deletes {
                assert!(!suset.state().contains(t).unwrap());
            }
            self.clones[i].sent.push(commit.message.clone());
            self.log.push(commit.message.clone());
            self.broadcast(i, &commit.message);
        }
    }

    /// Feeds a message to a clone's causal buffer. A FIFO gap (5005) is recovered as m-ld-js
    /// does: drop the buffer and rev-up (here, from the message's sender).
    fn receive(&mut self, to: usize, from: Option<usize>, msg: OperationMessage) {
        let clone = &mut self.clones[to];
        let Some(suset) = clone.suset.as_mut() else {
            return;
        };
        let applied = clone.buffer.receive(msg, suset).unwrap();
        for a in applied {
            if let m_ld_core::suset::Applied::Applied {
                resolution: Some(r),
                ..
            } = a
            {
                panic!("no constraints, yet a resolution {r:?}");
            }
        }
        // A FIFO gap (5005) is recovered as the engine does: the message waits, and a rev-up
        // (here, from the message's sender) fills the gap.
        if clone.buffer.waits_on_gap(suset.clock())
            && let Some(peer) = from
        {
            self.revup(to, peer);
        }
    }

    fn revup(&mut self, to: usize, peer: usize) {
        if to == peer || !self.running(to) || !self.running(peer) {
            return;
        }
        let clock = self.clones[to].suset.as_ref().unwrap().clock().clone();
        let Some(msgs) = self.clones[peer]
            .suset
            .as_ref()
            .unwrap()
            .operations_since(&clock)
            .unwrap()
        else {
            // The peer's journal starts after our clock: recover by snapshot, as the engine does.
            self.reset(to, peer);
            return;
        };
        // A rev-up is the peer's promise that its operations fill every gap of the requester's
        // history: applied in order from the requester's clock, none may be out of order.
        let clone = &mut self.clones[to];
        let suset = clone.suset.as_mut().unwrap();
        let mut buffer = CausalBuffer::new();
        for msg in msgs {
            let desc = format!("{} (prev {})", msg.op.time, msg.prev);
            if let Err(e) = buffer.receive(msg, suset) {
                panic!("rev-up of clone {to} from {peer} left a gap at {desc}: {e}");
            }
        }
        assert!(
            buffer.is_empty(),
            "rev-up of clone {to} from {peer} left operations waiting for causes"
        );
        // Live messages that waited for the rev-up can go now.
        clone.buffer.deliver(suset).unwrap();
    }

    fn deliver(&mut self, to: usize, pick: usize, fifo: bool) {
        if !self.running(to) || self.clones[to].partitioned {
            return;
        }
        let open: Vec<usize> = (0..self.network.len())
            .filter(|&k| {
                let p = &self.network[k];
                p.to == to && !self.clones[p.from].partitioned
            })
            .collect();
        if open.is_empty() {
            return;
        }
        let k = if fifo {
            // The oldest packet from one sender.
            let senders: BTreeSet<usize> = open.iter().map(|&k| self.network[k].from).collect();
            let sender = *senders.iter().nth(pick % senders.len()).unwrap();
            *open
                .iter()
                .find(|&&k| self.network[k].from == sender)
                .unwrap()
        } else {
            open[pick % open.len()]
        };
        let packet = self.network.remove(k);
        self.receive(to, Some(packet.from), packet.msg);
    }

    fn fuse(&mut self, from: usize, to: usize, run: usize, start: usize, len: usize) {
        if from == to || !self.running(to) {
            return;
        }
        // Maximal runs of contiguous own operations.
        let sent = &self.clones[from].sent;
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < sent.len() {
            let mut j = i;
            while j + 1 < sent.len() && sent[j].op.is_contiguous(&sent[j + 1].op) {
                j += 1;
            }
            if j > i {
                runs.push((i, j));
            }
            i = j + 1;
        }
        if runs.is_empty() {
            return;
        }
        let (lo, hi) = runs[run % runs.len()];
        let first = lo + start % (hi - lo);
        let last = (first + len - 1).min(hi);
        let mut fused = sent[first].op.clone();
        for next in &sent[first + 1..=last] {
            fused = fused.fuse(&next.op).unwrap();
        }
        let msg = OperationMessage {
            prev: sent[first].prev,
            op: fused,
        };
        self.receive(to, Some(from), msg);
    }

    fn restart(&mut self, i: usize, peer: usize) {
        if !self.running(i) {
            return;
        }
        let before = self.clones[i].suset.take().unwrap();
        let (clock, gwc, data) = (
            before.clock().clone(),
            before.gwc().clone(),
            state_of(&before),
        );
        drop(before);
        let reopened = SuSet::open(self.clones[i].store.clone()).unwrap().unwrap();
        assert_eq!(reopened.clock(), &clock);
        assert_eq!(reopened.gwc(), &gwc);
        assert_eq!(state_of(&reopened), data);
        self.clones[i].suset = Some(reopened);
        self.clones[i].buffer.clear();
        self.revup(i, peer);
    }

    fn reset(&mut self, i: usize, from: usize) {
        if i == from || !self.running(i) || !self.running(from) {
            return;
        }
        let snapshot = self.clones[from]
            .suset
            .as_mut()
            .unwrap()
            .take_snapshot(false)
            .unwrap();
        let triples: Vec<_> = snapshot
            .state
            .triples_with_tids()
            .collect::<Result<_, _>>()
            .unwrap();
        let suset = self.clones[i].suset.as_mut().unwrap();
        match suset.reset(snapshot.gwc, snapshot.agreed, triples, snapshot.operations) {
            Ok(reemit) => {
                self.resets += 1;
                // As the engine does: what waited for the snapshot's operations can go now.
                let clone = &mut self.clones[i];
                clone.buffer.deliver(clone.suset.as_mut().unwrap()).unwrap();
                for msg in reemit {
                    self.broadcast(i, &msg);
                }
            }
            Err(e) => assert_eq!(e.status(), 5002, "unexpected error {e}"),
        }
    }

    /// Fuses clone `i`'s journal, then truncates it to `keep` entries, never dropping an entry
    /// that a running clone has not seen: an operation dropped before every clone has it would
    /// be unrecoverable (no rev-up serves it, and snapshots cannot carry it to a clone that has
    /// dropped operations of its own). Rev-ups from before the start still fail, and those
    /// clones recover by snapshot reset.
    fn compact(&mut self, i: usize, keep: u64, footprint: usize) {
        if !self.running(i) {
            return;
        }
        let fuse = JournalAdmin {
            retention: Retention::All,
            max_entry_footprint: footprint,
        };
        let suset = self.clones[i].suset.as_mut().unwrap();
        let before = state_of(suset);
        self.fused += suset.compact_journal(&fuse).unwrap().fused;
        let start = suset.journal_start();
        let journal: Vec<_> = suset
            .journal()
            .unwrap()
            .into_iter()
            .filter(|e| e.tick > start)
            .collect();
        let others: Vec<_> = (0..self.clones.len())
            .filter(|&c| c != i && self.running(c))
            .map(|c| self.clones[c].suset.as_ref().unwrap().clock().clone())
            .collect();
        let seen = journal
            .iter()
            .take_while(|e| others.iter().all(|c| !c.any_lt(&e.message.op.time)))
            .count() as u64;
        let keep = keep.max(journal.len() as u64 - seen);
        let suset = self.clones[i].suset.as_mut().unwrap();
        let done = suset
            .compact_journal(&JournalAdmin {
                retention: Retention::Entries(keep),
                max_entry_footprint: 0,
            })
            .unwrap();
        assert_eq!(state_of(suset), before, "compaction changed the data");
        self.truncated += done.truncated;
        let left = suset
            .journal()
            .unwrap()
            .into_iter()
            .filter(|e| e.tick > done.start)
            .count() as u64;
        assert_eq!(left, keep.min(journal.len() as u64));
        assert!(suset.journal().unwrap().iter().all(|e| e.tick > done.start));
    }

    fn run(&mut self, action: &Action) {
        match action {
            Action::Write {
                clone,
                deletes,
                inserts,
            } => self.write(*clone, deletes, inserts),
            Action::Deliver { to, pick, fifo } => self.deliver(*to, *pick, *fifo),
            Action::Duplicate { to, pick } => {
                if !self.log.is_empty() {
                    let msg = self.log[pick % self.log.len()].clone();
                    self.receive(*to, None, msg);
                }
            }
            Action::Fuse {
                from,
                to,
                run,
                start,
                len,
            } => self.fuse(*from, *to, *run, *start, *len),
            Action::Lose { to, pick } => {
                let pending: Vec<usize> = (0..self.network.len())
                    .filter(|&k| self.network[k].to == *to)
                    .collect();
                if !pending.is_empty() {
                    self.network.remove(pending[pick % pending.len()]);
                }
            }
            Action::Partition { clone, on } => self.clones[*clone].partitioned = *on,
            Action::Restart { clone, peer } => self.restart(*clone, *peer),
            Action::Join { clone, from } => self.join(*clone, *from),
            Action::Reset { clone, from } => self.reset(*clone, *from),
            Action::Compact {
                clone,
                keep,
                footprint,
            } => self.compact(*clone, *keep, *footprint),
        }
    }

    /// Heals partitions, starts every clone, delivers the network, then rev-ups every clone from
    /// every other until nothing changes.
    fn settle(&mut self) {
        let n = self.clones.len();
        for i in 0..n {
            self.clones[i].partitioned = false;
        }
        for i in 1..n {
            self.join(i, 0);
        }
        while !self.network.is_empty() {
            let packet = self.network.remove(0);
            self.receive(packet.to, Some(packet.from), packet.msg);
        }
        for _round in 0..4 * n {
            let clocks: Vec<_> = self.clocks();
            for to in 0..n {
                for peer in 0..n {
                    self.revup(to, peer);
                }
            }
            // Resets re-emit operations the snapshot lacked.
            while !self.network.is_empty() {
                let packet = self.network.remove(0);
                self.receive(packet.to, Some(packet.from), packet.msg);
            }
            if self.clocks() == clocks && self.clones.iter().all(|c| c.buffer.is_empty()) {
                return;
            }
        }
        panic!("no quiescence");
    }

    fn clocks(&self) -> Vec<String> {
        self.clones
            .iter()
            .map(|c| format!("{}", c.suset.as_ref().unwrap().clock()))
            .collect()
    }

    /// SU-Set semantics from the log: a (triple, TID) pair survives iff it was inserted and no
    /// operation deleted it.
    fn model(&self) -> State {
        let mut inserted: BTreeSet<(String, Tid)> = BTreeSet::new();
        let mut deleted: BTreeSet<(String, Tid)> = BTreeSet::new();
        for msg in &self.log {
            for (t, tids) in &msg.op.inserts {
                for tid in tids {
                    inserted.insert((t.to_string(), *tid));
                }
            }
            for (t, tids) in &msg.op.deletes {
                for tid in tids {
                    deleted.insert((t.to_string(), *tid));
                }
            }
        }
        let mut state = State::new();
        for (t, tid) in inserted.difference(&deleted) {
            state.entry(t.clone()).or_default().insert(*tid);
        }
        state
    }
}

fn state_of(suset: &SuSet<MemoryStore>) -> State {
    let state = suset.state();
    let mut out = State::new();
    for r in state.triples_with_tids() {
        let (t, tids) = r.unwrap();
        assert!(!tids.is_empty(), "{t} has no TIDs");
        out.insert(t.to_string(), tids.into_iter().collect());
    }
    assert_eq!(state.len(), out.len() as u64, "triple count");
    out
}

proptest! {
    #[test]
    fn clones_converge_to_the_su_set_model((n, actions) in program()) {
        let mut sim = Sim::new(n);
        for action in &actions {
            sim.run(action);
        }
        sim.settle();
        if std::env::var_os("CONVERGENCE_STATS").is_some() {
            eprintln!("STATS resets={} fused={} truncated={}", sim.resets, sim.fused, sim.truncated);
        }
        let model = sim.model();
        for (i, clone) in sim.clones.iter().enumerate() {
            let state = state_of(clone.suset.as_ref().unwrap());
            prop_assert_eq!(&state, &model, "clone {} differs from the model", i);
        }
        // Every clone has seen every operation.
        for clone in &sim.clones {
            let suset = clone.suset.as_ref().unwrap();
            for msg in &sim.log {
                prop_assert!(
                    suset.gwc().get_ticks(&msg.op.time).unwrap_or(0) >= msg.op.ticks(),
                    "{} has not seen {}", suset.clock(), msg.op.time
                );
            }
        }
    }
}

#[test]
fn model_is_not_trivially_empty() {
    // Guard against a generator that never produces data: a fixed program must leave triples.
    let mut sim = Sim::new(2);
    sim.write(0, &[], &[0, 1]);
    sim.join(1, 0);
    sim.write(1, &[0], &[2]);
    sim.write(0, &[], &[0]);
    sim.settle();
    let model = sim.model();
    assert_eq!(model.len(), 3);
    for clone in &sim.clones {
        assert_eq!(state_of(clone.suset.as_ref().unwrap()), model);
    }
}

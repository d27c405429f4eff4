//! Causal delivery of received operations (docs/protocol.md §4.3, m-ld-js `MessageService`).
//!
//! Owns [`CausalBuffer`]: messages that arrived before their causes wait here until the local
//! clock has seen every third-party tick their sender had, and every tick of the sender before
//! the message (its FIFO `prev`). A message that follows such a gap says that a rev-up is needed
//! ([`CausalBuffer::waits_on_gap`]), but it stays: the rev-up that fills the gap releases it,
//! whichever path (live or rev-up) brings the missing operations. The buffer does **not** own the
//! local clock: it reads it at each decision, from the caller or from the [`SuSet`] it delivers
//! to, so there is one clock and it only changes when an operation is applied. [`SuSet::apply`]
//! stays the authority on duplicates and order. It must not touch a store.

use crate::CoreError;
use crate::clock::TreeClock;
use crate::operation::OperationMessage;
use crate::store::Store;
use crate::suset::{Applied, SuSet};

/// A buffer of received operation messages awaiting causal readiness.
#[derive(Debug, Clone, Default)]
pub struct CausalBuffer {
    waiting: Vec<OperationMessage>,
    /// Whether messages were evicted because the buffer was full (only a rev-up recovers them).
    overflowed: bool,
}

/// The most messages a buffer holds; beyond it the oldest are dropped (and a rev-up is needed).
pub const CAPACITY: usize = 100_000;

/// Whether a message can be applied now: the local clock has seen every tick of every process
/// other than its sender (and us) that the sender had seen (JS `!anyNonIdLt`), and every tick of
/// its sender before it.
pub fn is_ready(clock: &TreeClock, msg: &OperationMessage) -> bool {
    !clock.any_non_id_lt(&msg.op.time) && !follows_gap(clock, msg)
}

/// Whether a message's sender had ticks before it (its `prev`) that the local clock has not
/// seen: operations were missed, and only a rev-up brings them (JS "Update out of order").
pub fn follows_gap(clock: &TreeClock, msg: &OperationMessage) -> bool {
    msg.prev > clock.get_ticks(&msg.op.time).unwrap_or(0)
}

/// Whether the local clock has already seen all of the message's ticks.
pub fn is_duplicate(clock: &TreeClock, msg: &OperationMessage) -> bool {
    msg.op.time.ticks() <= clock.get_ticks(&msg.op.time).unwrap_or(0)
}

impl CausalBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of waiting messages.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Drops every waiting message (e.g. when the clone restarts).
    pub fn clear(&mut self) {
        self.waiting.clear();
        self.overflowed = false;
    }

    /// Adds a received message to the buffer, dropping the oldest beyond [`CAPACITY`].
    pub fn push(&mut self, msg: OperationMessage) {
        if self.waiting.len() >= CAPACITY {
            self.waiting.remove(0);
            self.overflowed = true;
        }
        self.waiting.push(msg);
    }

    /// Whether a rev-up is needed: a waiting message follows a gap in its sender's history, or
    /// messages were dropped because the buffer was full. Asking resets the overflow mark.
    pub fn waits_on_gap(&mut self, clock: &TreeClock) -> bool {
        let overflowed = std::mem::take(&mut self.overflowed);
        overflowed || self.waiting.iter().any(|m| follows_gap(clock, m))
    }

    /// Removes and returns the first (in arrival order) waiting message that is ready at
    /// `clock`, dropping any that are now duplicates.
    pub fn pop_ready(&mut self, clock: &TreeClock) -> Option<OperationMessage> {
        self.waiting.retain(|m| !is_duplicate(clock, m));
        let i = self.waiting.iter().position(|m| is_ready(clock, m))?;
        Some(self.waiting.remove(i))
    }

    /// Receives a message for `suset`: buffers it, then applies every message that is ready, in
    /// arrival order, re-scanning after each delivery. Returns the outcomes of the applied
    /// messages (duplicates included as [`Applied::Duplicate`] when they reach the SU-Set).
    ///
    /// Messages that follow a gap wait (see [`CausalBuffer::waits_on_gap`]). On an error (a
    /// malformed operation) the failing message is dropped, the rest stay buffered, and the
    /// outcomes so far are lost with the error.
    pub fn receive<S: Store>(
        &mut self,
        msg: OperationMessage,
        suset: &mut SuSet<S>,
    ) -> Result<Vec<Applied>, CoreError> {
        self.push(msg);
        self.deliver(suset)
    }

    /// Applies every buffered message that is ready for `suset`, as [`CausalBuffer::receive`].
    pub fn deliver<S: Store>(&mut self, suset: &mut SuSet<S>) -> Result<Vec<Applied>, CoreError> {
        let mut out = Vec::new();
        while let Some(msg) = self.pop_ready(suset.clock()) {
            out.push(suset.apply(msg)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use oxrdf::{Literal, NamedNode, Triple};

    use super::*;
    use crate::store::MemoryStore;
    use crate::suset::Patch;

    fn t(s: &str) -> Triple {
        Triple::new(
            NamedNode::new_unchecked(format!("http://ex.org/{s}")),
            NamedNode::new_unchecked("http://ex.org/#p"),
            Literal::new_simple_literal("v"),
        )
    }

    fn write(s: &mut SuSet<MemoryStore>, name: &str) -> OperationMessage {
        s.transact(Patch {
            deletes: vec![],
            inserts: vec![t(name)],
        })
        .unwrap()
        .unwrap()
        .message
    }

    /// Genesis A and two clones B, C forked from it.
    fn clones() -> [SuSet<MemoryStore>; 3] {
        let mut a = SuSet::genesis(MemoryStore::new(), "d").unwrap();
        let fork = |a: &mut SuSet<MemoryStore>| {
            let snap = a.take_snapshot(true).unwrap();
            SuSet::join(
                MemoryStore::new(),
                "d",
                snap.clock.unwrap(),
                snap.gwc,
                None,
                Vec::new(),
                snap.operations,
            )
            .unwrap()
        };
        let b = fork(&mut a);
        let c = fork(&mut a);
        [a, b, c]
    }

    #[test]
    fn an_early_message_waits_for_its_cause() {
        let [mut a, mut b, mut c] = clones();
        let from_b = write(&mut b, "b");
        let mut buffer = CausalBuffer::new();
        buffer.receive(from_b.clone(), &mut c).unwrap();
        let from_c = write(&mut c, "c");
        // A gets C's op (which depends on B's) first: it waits.
        assert!(!is_ready(a.clock(), &from_c));
        let mut buffer = CausalBuffer::new();
        assert!(buffer.receive(from_c, &mut a).unwrap().is_empty());
        assert_eq!(buffer.len(), 1);
        // B's op releases both, in causal order.
        let applied = buffer.receive(from_b, &mut a).unwrap();
        assert_eq!(applied.len(), 2);
        assert!(buffer.is_empty());
        assert!(a.state().contains(&t("b")).unwrap());
        assert!(a.state().contains(&t("c")).unwrap());
    }

    #[test]
    fn duplicates_are_dropped() {
        let [mut a, mut b, _] = clones();
        let m = write(&mut b, "b");
        let mut buffer = CausalBuffer::new();
        assert_eq!(buffer.receive(m.clone(), &mut a).unwrap().len(), 1);
        assert!(is_duplicate(a.clock(), &m));
        assert!(buffer.receive(m, &mut a).unwrap().is_empty());
        assert!(buffer.is_empty());
    }

    #[test]
    fn ready_messages_leave_in_arrival_order() {
        let [a, mut b, mut c] = clones();
        let mb = write(&mut b, "b");
        let mc = write(&mut c, "c");
        let mut buffer = CausalBuffer::new();
        buffer.push(mc.clone());
        buffer.push(mb.clone());
        assert_eq!(buffer.pop_ready(a.clock()), Some(mc));
        assert_eq!(buffer.pop_ready(a.clock()), Some(mb));
        assert_eq!(buffer.pop_ready(a.clock()), None);
    }

    #[test]
    fn a_fifo_gap_is_reported_and_the_message_waits_for_the_gap_to_fill() {
        let [mut a, mut b, _] = clones();
        let first = write(&mut b, "b1");
        let second = write(&mut b, "b2");
        let mut buffer = CausalBuffer::new();
        assert!(buffer.receive(second, &mut a).unwrap().is_empty());
        assert!(buffer.waits_on_gap(a.clock()));
        assert_eq!(buffer.len(), 1);
        // The missing operation (from a rev-up, say) releases the waiting one.
        assert_eq!(buffer.receive(first, &mut a).unwrap().len(), 2);
        assert!(!buffer.waits_on_gap(a.clock()));
        assert!(buffer.is_empty());
        assert!(a.state().contains(&t("b2")).unwrap());
    }

    #[test]
    fn an_overflow_asks_for_a_rev_up_once() {
        let [a, mut b, _] = clones();
        let _first = write(&mut b, "b1");
        let later: Vec<_> = (0..3).map(|i| write(&mut b, &format!("b{i}"))).collect();
        let mut buffer = CausalBuffer::new();
        for m in later {
            buffer.push(m);
        }
        buffer.overflowed = true;
        assert!(buffer.waits_on_gap(a.clock()));
        buffer.waiting.clear();
        assert!(!buffer.waits_on_gap(a.clock()));
    }
}

//! Causal delivery of received operations (protocol §4.3, m-ld-js `MessageService`).
//!
//! Owns [`CausalBuffer`]: messages that arrived before their causes wait here until the local
//! clock has seen every third-party tick their sender had. The buffer does **not** own the local
//! clock: it reads it at each decision, from the caller or from the [`SuSet`] it delivers to, so
//! there is one clock and it only changes when an operation is applied. Duplicate detection and
//! the FIFO `prev` check stay with [`SuSet::apply`], which is the authority; the buffer only drops
//! messages that are already duplicates. It must not touch a store.

use crate::CoreError;
use crate::clock::TreeClock;
use crate::operation::OperationMessage;
use crate::store::Store;
use crate::suset::{Applied, SuSet};

/// A buffer of received operation messages awaiting causal readiness.
#[derive(Debug, Clone, Default)]
pub struct CausalBuffer {
    waiting: Vec<OperationMessage>,
}

/// Whether a message can be applied now: the local clock has seen every tick of every process
/// other than its sender (and us) that the sender had seen (JS `!anyNonIdLt`).
pub fn is_ready(clock: &TreeClock, msg: &OperationMessage) -> bool {
    !clock.any_non_id_lt(&msg.op.time)
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

    /// Drops every waiting message (e.g. when a rev-up replaces them).
    pub fn clear(&mut self) {
        self.waiting.clear();
    }

    /// Adds a received message to the buffer.
    pub fn push(&mut self, msg: OperationMessage) {
        self.waiting.push(msg);
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
    /// On an error (e.g. [`CoreError::OutOfOrder`]) the failing message is dropped, the rest
    /// stay buffered, and the outcomes so far are lost with the error; the caller normally
    /// clears the buffer and recovers by rev-up.
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

//! The journal: every operation a clone has applied, in local order, for rev-ups and cutting.
//!
//! Owns the stored form of journal entries (`J` + local tick → `prev` + operation), the TID →
//! entry index (`T`), past operations from snapshots (`X`), and the rev-up filter of
//! docs/protocol.md §4.5. It reads through a [`StoreSnapshot`] and adds writes to a [`Batch`]; it
//! must not decide *what* to journal (that is `suset`), nor touch the triple indexes.

use crate::CoreError;
use crate::clock::{GlobalClock, Tid, TreeClock};
use crate::keys::{self, NsTable};
use crate::operation::{Operation, OperationMessage};
use crate::store::{Batch, StoreSnapshot};

/// One journal entry: an applied operation with the `prev` tick its process had before it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// The local tick the entry is keyed by.
    pub tick: u64,
    /// The message: the author's previous public tick and the operation as applied here.
    pub message: OperationMessage,
}

/// Adds an entry at local `tick` (and its TID index) to `batch`.
pub(crate) fn put_entry(
    batch: &mut Batch,
    tick: u64,
    msg: &OperationMessage,
    ns: &NsTable,
) -> Result<(), CoreError> {
    // Room for the clock and about one short triple per list entry, to spare regrowth.
    let triples = msg.op.deletes.len() + msg.op.inserts.len();
    let mut value = Vec::with_capacity(128 + 32 * triples);
    keys::write_varint(&mut value, msg.prev);
    msg.op.encode(&mut value, ns)?;
    batch.put(keys::u64_key(keys::JOURNAL, tick), value);
    let mut tick_value = Vec::with_capacity(3);
    keys::write_varint(&mut tick_value, tick);
    batch.put(keys::tid_key(keys::TID_TICK, &msg.op.tid()), tick_value);
    Ok(())
}

/// Adds a past operation (from a snapshot; not a journal entry) to `batch`, keyed by its TID.
pub(crate) fn put_past_operation(
    batch: &mut Batch,
    op: &Operation,
    ns: &NsTable,
) -> Result<(), CoreError> {
    let mut value = Vec::with_capacity(128);
    op.encode(&mut value, ns)?;
    batch.put(keys::tid_key(keys::PAST_OP, &op.tid()), value);
    Ok(())
}

/// Removes the entry at local `tick`, whose operation has TID `tid`, and its TID index.
pub(crate) fn delete_entry(batch: &mut Batch, tick: u64, tid: &Tid) {
    batch.delete(keys::u64_key(keys::JOURNAL, tick));
    batch.delete(keys::tid_key(keys::TID_TICK, tid));
}

/// Removes the past operation with TID `tid`.
pub(crate) fn delete_past_operation(batch: &mut Batch, tid: &Tid) {
    batch.delete(keys::tid_key(keys::PAST_OP, tid));
}

/// Every past operation's TID with its author's time, in key order.
/// Only the head of each operation is read (the first fields of [`Operation::encode`]'s form),
/// so that large fused operations are not decoded.
pub(crate) fn past_times<'a, T: StoreSnapshot>(
    snap: &'a T,
) -> impl Iterator<Item = Result<(Tid, TreeClock), CoreError>> + 'a {
    snap.scan_prefix(&[keys::PAST_OP]).map(|r| {
        let (k, v) = r?;
        let tid = Tid::from_bytes(k.get(1..).unwrap_or_default())
            .map_err(|_| CoreError::Corrupt("bad past operation key".into()))?;
        let input = &mut &v[..];
        let _flags = keys::read_u8(input)?;
        let _from = keys::read_varint(input)?;
        let time = crate::operation::clock_from_bytes(keys::read_lp(input)?)?;
        Ok((tid, time))
    })
}

fn decode_entry(tick: u64, bytes: &[u8], ns: &NsTable) -> Result<JournalEntry, CoreError> {
    let mut input = bytes;
    let prev = keys::read_varint(&mut input)?;
    let op = Operation::decode(&mut input, ns)?;
    if !input.is_empty() {
        return Err(CoreError::Corrupt("trailing bytes in journal entry".into()));
    }
    Ok(JournalEntry {
        tick,
        message: OperationMessage { prev, op },
    })
}

/// The entry at a local tick.
pub(crate) fn entry<T: StoreSnapshot>(
    snap: &T,
    tick: u64,
    ns: &NsTable,
) -> Result<Option<JournalEntry>, CoreError> {
    match snap.get(&keys::u64_key(keys::JOURNAL, tick))? {
        Some(bytes) => decode_entry(tick, &bytes, ns).map(Some),
        None => Ok(None),
    }
}

/// The entries with a local tick greater than `after`, in local order, each with the size of
/// its stored form (its footprint).
pub(crate) fn sized_entries_after<'a, T: StoreSnapshot>(
    snap: &'a T,
    after: u64,
    ns: &'a NsTable,
) -> impl Iterator<Item = Result<(JournalEntry, usize), CoreError>> + 'a {
    let end = [keys::JOURNAL + 1];
    let start = match after.checked_add(1) {
        Some(first) => keys::u64_key(keys::JOURNAL, first),
        None => end.to_vec(),
    };
    snap.scan_range(&start, Some(&end)).map(move |r| {
        let (k, v) = r?;
        let entry = decode_entry(keys::read_u64_key(&k)?, &v, ns)?;
        Ok((entry, v.len()))
    })
}

/// The local ticks of the entries with a local tick greater than `after`, in local order,
/// without decoding them.
pub(crate) fn ticks_after<'a, T: StoreSnapshot>(
    snap: &'a T,
    after: u64,
) -> impl Iterator<Item = Result<u64, CoreError>> + 'a {
    let end = [keys::JOURNAL + 1];
    let start = match after.checked_add(1) {
        Some(first) => keys::u64_key(keys::JOURNAL, first),
        None => end.to_vec(),
    };
    snap.scan_range(&start, Some(&end))
        .map(|r| keys::read_u64_key(&r?.0))
}

/// The entries with a local tick greater than `after`, in local order.
pub(crate) fn entries_after<'a, T: StoreSnapshot>(
    snap: &'a T,
    after: u64,
    ns: &'a NsTable,
) -> impl Iterator<Item = Result<JournalEntry, CoreError>> + 'a {
    let end = [keys::JOURNAL + 1];
    let start = match after.checked_add(1) {
        Some(first) => keys::u64_key(keys::JOURNAL, first),
        // Nothing comes after the last tick.
        None => end.to_vec(),
    };
    snap.scan_range(&start, Some(&end)).map(move |r| {
        let (k, v) = r?;
        decode_entry(keys::read_u64_key(&k)?, &v, ns)
    })
}

/// The operation with the given TID, from the journal or from past operations of a snapshot.
pub(crate) fn operation<T: StoreSnapshot>(
    snap: &T,
    tid: &Tid,
    ns: &NsTable,
) -> Result<Option<Operation>, CoreError> {
    if let Some(tick) = snap.get(&keys::tid_key(keys::TID_TICK, tid))? {
        let tick = keys::read_varint(&mut &tick[..])?;
        return match entry(snap, tick, ns)? {
            Some(e) if e.message.op.tid() == *tid => Ok(Some(e.message.op)),
            _ => Err(CoreError::Corrupt(format!(
                "TID {tid} indexes a missing entry"
            ))),
        };
    }
    match snap.get(&keys::tid_key(keys::PAST_OP, tid))? {
        Some(bytes) => {
            let mut input = &bytes[..];
            Operation::decode(&mut input, ns).map(Some)
        }
        None => Ok(None),
    }
}

/// The operation as seen so far by the history whose latest tick is `seen`, walking back through
/// contiguous history down to `from` (m-ld-js `causalReduce`). Returns the constituents found,
/// oldest first, each with a time on the same contiguous history as `time`.
pub(crate) fn seen_history<T: StoreSnapshot>(
    snap: &T,
    time: &TreeClock,
    principal: &Option<String>,
    seen: u64,
    from: u64,
    ns: &NsTable,
) -> Result<Vec<Operation>, CoreError> {
    let mut history = Vec::new();
    let mut tick = seen;
    loop {
        let expected = time.ticked_to(tick)?;
        let Some(op) = operation(snap, &expected.hash(), ns)? else {
            break;
        };
        // A TID collision across a fork (a fork is not an event) is not our history.
        if op.time != expected || op.principal != *principal || op.from > tick {
            break;
        }
        let op_from = op.from;
        history.push(op);
        if op_from <= from || op_from == 0 {
            break;
        }
        tick = op_from - 1;
        if tick < from {
            break;
        }
    }
    history.reverse();
    Ok(history)
}

/// The contiguous history of `latest` (its process's operations that it immediately follows,
/// as far back as they are kept), oldest first and ending with `latest` itself.
pub(crate) fn history_of<T: StoreSnapshot>(
    snap: &T,
    latest: Operation,
    ns: &NsTable,
) -> Result<Vec<Operation>, CoreError> {
    let mut history = match latest.from.checked_sub(1).filter(|&tick| tick > 0) {
        Some(before) => seen_history(snap, &latest.time, &latest.principal, before, 1, ns)?,
        None => Vec::new(),
    };
    history.push(latest);
    Ok(history)
}

/// A requester's time in a rev-up: its clock (a rev-up request) or a collaborator's GWC (when
/// re-emitting our own operations after a rev-up or snapshot).
pub trait RevupTime {
    /// How many ticks of `local`'s process this time has seen.
    fn ticks_of(&self, local: &TreeClock) -> u64;
    /// Whether `time` has ticks this time has not seen (JS `anyLt`).
    fn lacks(&self, time: &TreeClock) -> bool;
    /// Whether this time has seen everything a journal's base has seen, so that the journal's
    /// entries are all it lacks.
    fn covers(&self, base: &GlobalClock) -> bool;
}

impl RevupTime for TreeClock {
    fn ticks_of(&self, local: &TreeClock) -> u64 {
        self.get_ticks(local).unwrap_or(0)
    }

    fn lacks(&self, time: &TreeClock) -> bool {
        self.any_lt(time)
    }

    fn covers(&self, base: &GlobalClock) -> bool {
        !self.any_lt(base)
    }
}

impl RevupTime for GlobalClock {
    fn ticks_of(&self, local: &TreeClock) -> u64 {
        self.get_ticks(local).unwrap_or(0)
    }

    fn lacks(&self, time: &TreeClock) -> bool {
        self.any_lt(time)
    }

    /// A collaborator's GWC, when finding our operations it lacks: the journal's entries are
    /// what can be re-emitted, so the base never stands in the way.
    fn covers(&self, _base: &GlobalClock) -> bool {
        true
    }
}

/// The journal's answer to a rev-up from a clone at `time` (docs/protocol.md §4.5): entries after
/// the requester's view of our ticks, skipping those it has fully seen. `None` when the requester
/// needs ticks from before `start`.
pub(crate) fn operations_since<T: StoreSnapshot>(
    snap: &T,
    time: &impl RevupTime,
    local: &TreeClock,
    start: u64,
    ns: &NsTable,
) -> Result<Option<Vec<OperationMessage>>, CoreError> {
    let tick = time.ticks_of(local);
    if tick < start {
        return Ok(None);
    }
    let mut out = Vec::new();
    for entry in entries_after(snap, tick, ns) {
        let entry = entry?;
        if time.lacks(&entry.message.op.time) {
            out.push(entry.message);
        }
    }
    Ok(Some(out))
}

//! The embedded in-memory [`Store`]: the default backend and the test oracle.
//!
//! Owns only the in-memory map and the locking around it. The map is a persistent B+tree
//! ([`btree`](super::btree)), so taking a snapshot is an O(1) clone that shares structure with
//! the live map, and a write copies only the nodes it touches while a snapshot still holds them.
//! A batch is sorted and deduplicated before the lock is taken, then merged into the tree in one
//! pass. Nothing here is durable.

use std::sync::{Arc, RwLock};

use super::btree::{Pending, Tree, pending_key};
use super::{Batch, BatchOp, Entry, Store, StoreSnapshot, Value};
use crate::CoreError;

/// An in-memory store. Cloning the handle shares the same data (like reopening the same
/// database), which is how tests simulate a clone restarting on its store.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    map: Arc<RwLock<Tree>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of entries (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.snapshot().map.len()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total bytes of all keys and values (a rough measure of the encoding's footprint).
    pub fn byte_size(&self) -> usize {
        self.snapshot()
            .map
            .range(&[], None)
            .map(|(k, v)| k.len() + v.len())
            .sum()
    }
}

/// An immutable view of a [`MemoryStore`].
#[derive(Debug, Clone)]
pub struct MemorySnapshot {
    map: Tree,
}

/// The batch's operations as changes sorted by key, keeping only the last one of each key.
fn sorted_changes(batch: Batch) -> Vec<Pending> {
    let mut changes: Vec<Pending> = batch
        .into_ops()
        .into_iter()
        .map(|op| match op {
            BatchOp::Put(k, v) => Some((k, Some(v))),
            BatchOp::Delete(k) => Some((k, None)),
        })
        .collect();
    if changes
        .windows(2)
        .all(|w| pending_key(&w[0]) < pending_key(&w[1]))
    {
        return changes;
    }
    if changes.len() <= SMALL_BATCH || u32::try_from(changes.len()).is_err() {
        // A stable sort keeps operations on one key in reversed batch order: latest first.
        changes.reverse();
        changes.sort_by(|a, b| pending_key(a).cmp(pending_key(b)));
        changes.dedup_by(|next, first| pending_key(next) == pending_key(first));
    } else {
        let mut order: Vec<Digit> = changes
            .iter()
            .enumerate()
            .map(|(i, c)| (digit(pending_key(c), 0), !(i as u32)))
            .collect();
        sort_by_digits(&mut order, &changes, 0);
        permute(&mut changes, &mut order);
        changes.retain(Option::is_some);
    }
    changes
}

/// Batches up to this long are sorted by plain comparisons.
const SMALL_BATCH: usize = 32;

/// Bytes of a key in one sort digit.
const DIGIT: usize = 15;

/// A key's sort digit at some depth, and the bitwise complement of its change's index in the
/// batch (so that, of equal keys, the latest operation sorts first).
type Digit = (u128, u32);

/// In place of a digit once sorted, marks a change superseded by a later one on the same key.
/// (No digit is this: a digit's last byte is at most `DIGIT + 1`.)
const SUPERSEDED: u128 = u128::MAX;

/// The sort digit of `key` at `depth`: its bytes `depth * DIGIT ..` (up to [`DIGIT`] of them,
/// zero-padded), then how many bytes it has from there (capped at `DIGIT + 1`, meaning "more").
/// Digits order as the keys do, as far as they reach.
fn digit(key: &[u8], depth: usize) -> u128 {
    let rest = key.get(depth * DIGIT..).unwrap_or(&[]);
    let mut bytes = [0u8; 16];
    let len = rest.len().min(DIGIT);
    bytes[..len].copy_from_slice(&rest[..len]);
    bytes[DIGIT] = rest.len().min(DIGIT + 1) as u8;
    u128::from_be_bytes(bytes)
}

/// Sorts `order` (digits at `depth`, complemented index into `changes`) by key, then latest
/// operation first, and marks all but the latest operation on each key [`SUPERSEDED`]: a
/// most-significant-digit radix sort whose digits are compared as integers, so that sorting
/// rarely reads key bytes through their pointers.
fn sort_by_digits(order: &mut [Digit], changes: &[Pending], depth: usize) {
    order.sort_unstable();
    let mut i = 0;
    while i < order.len() {
        let d = order[i].0;
        let run = order[i..].iter().take_while(|(x, _)| *x == d).count();
        if run > 1 {
            let slice = &mut order[i..i + run];
            if d as u8 as usize > DIGIT {
                // Keys that tie on a digit saying "more" differ, if at all, further on.
                for entry in slice.iter_mut() {
                    let key = changes.get(!entry.1 as usize).map_or(&[][..], pending_key);
                    entry.0 = digit(key, depth + 1);
                }
                sort_by_digits(slice, changes, depth + 1);
            } else {
                // Keys that end within a tying digit are equal.
                for entry in slice.iter_mut().skip(1) {
                    entry.0 = SUPERSEDED;
                }
            }
        }
        i += run.max(1);
    }
}

/// Moves `changes` into the sorted order (`order[i]` names the change for position `i`),
/// following the permutation's cycles in place, and drops superseded ones (leaving `None`);
/// `order` is used up.
fn permute(changes: &mut [Pending], order: &mut [Digit]) {
    // No complemented index is 0: batches are shorter than `u32::MAX`.
    const DONE: u32 = 0;
    for start in 0..order.len() {
        if order[start].1 == DONE {
            continue;
        }
        let mut first = changes.get_mut(start).and_then(Option::take);
        let mut at = start;
        loop {
            let (digit, index) = order[at];
            let from = !index as usize;
            order[at].1 = DONE;
            let moved = if from == start {
                first.take()
            } else {
                changes.get_mut(from).and_then(Option::take)
            };
            if let Some(slot) = changes.get_mut(at)
                && digit != SUPERSEDED
            {
                *slot = moved;
            }
            if from == start {
                break;
            }
            at = from;
        }
    }
}

impl Store for MemoryStore {
    type Snapshot = MemorySnapshot;

    fn snapshot(&self) -> MemorySnapshot {
        // A poisoned lock still guards a consistent map: a write mutates it only through
        // operations that cannot fail part-way.
        let map = match self.map.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        MemorySnapshot { map }
    }

    fn write(&self, batch: Batch) -> Result<(), CoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let changes = sorted_changes(batch);
        let mut guard = match self.map.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // All-or-nothing: applying sorted changes cannot fail.
        guard.apply(changes);
        Ok(())
    }
}

impl StoreSnapshot for MemorySnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, CoreError> {
        Ok(self.map.get(key).cloned())
    }

    fn scan_range<'a>(
        &'a self,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<Entry, CoreError>> + use<'a> {
        // An empty or inverted range yields nothing.
        let range = match end {
            Some(end) if end <= start => None,
            _ => Some(self.map.range(start, end)),
        };
        range
            .into_iter()
            .flatten()
            .map(|(k, v)| Ok((k.clone(), v.clone())))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn batches_sort_by_key_and_the_last_op_wins(
            ops in prop::collection::vec(
                (prop::collection::vec(prop::sample::select(vec![0u8, 1, 2, 0xFF]), 0..40), prop::option::of(any::<u8>())),
                0..120,
            ),
        ) {
            let mut batch = Batch::new();
            let mut model = std::collections::BTreeMap::new();
            for (k, v) in &ops {
                match v {
                    Some(v) => batch.put(k.clone(), vec![*v]),
                    None => batch.delete(k.clone()),
                }
                model.insert(k.clone(), *v);
            }
            let got: Vec<(Vec<u8>, Option<u8>)> = sorted_changes(batch)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.to_vec(), v.map(|v| v[0])))
                .collect();
            let want: Vec<(Vec<u8>, Option<u8>)> = model.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn long_keys_with_long_common_prefixes_sort() {
        let mut batch = Batch::new();
        let mut want = Vec::new();
        for i in (0..100u8).rev() {
            let mut key = vec![7u8; 70];
            key.push(i);
            batch.put(key.clone(), vec![i]);
            want.push(key);
        }
        want.reverse();
        let got: Vec<Vec<u8>> = sorted_changes(batch)
            .into_iter()
            .flatten()
            .map(|(k, _)| k.to_vec())
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn digits_order_like_keys() {
        let keys: [&[u8]; 7] = [
            b"",
            b"\0",
            b"ab",
            b"ab\0",
            &[b'a'; 15],
            &[b'a'; 16],
            &[b'a'; 40],
        ];
        for a in keys {
            for b in keys {
                let (da, db) = (digit(a, 0), digit(b, 0));
                if da != db {
                    assert_eq!(da.cmp(&db), a.cmp(b), "{a:?} {b:?}");
                } else {
                    assert!(
                        a == b || (a.len() > DIGIT && b.len() > DIGIT),
                        "{a:?} {b:?}"
                    );
                }
            }
        }
    }
}

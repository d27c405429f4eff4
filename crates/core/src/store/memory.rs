//! The embedded in-memory [`Store`]: the default backend and the test oracle.
//!
//! Owns only the in-memory map and the locking around it. The map is a persistent B+tree
//! ([`btree`](super::btree)), so taking a snapshot is an O(1) clone that shares structure with
//! the live map, and a write copies only the nodes it touches while a snapshot still holds them.
//! A batch is sorted and deduplicated before the lock is taken, then merged into the tree in one
//! pass. Nothing here is durable.

use std::sync::{Arc, RwLock};

use super::btree::{Change, Tree};
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
fn sorted_changes(batch: Batch) -> Vec<Change> {
    let mut changes: Vec<Change> = batch
        .into_ops()
        .into_iter()
        .map(|op| match op {
            BatchOp::Put(k, v) => (k, Some(v)),
            BatchOp::Delete(k) => (k, None),
        })
        .collect();
    if changes.windows(2).all(|w| w[0].0 < w[1].0) {
        return changes;
    }
    // A stable sort keeps operations on one key in batch order; the last of each run wins.
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    for change in changes {
        match out.last_mut() {
            Some(last) if last.0 == change.0 => *last = change,
            _ => out.push(change),
        }
    }
    out
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
        guard.apply(&changes);
        drop(guard);
        // The replaced values and keys are freed here, outside the lock.
        drop(changes);
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

//! The embedded in-memory [`Store`]: the default backend and the test oracle.
//!
//! Owns only the in-memory map. It is a persistent B-tree ([`imbl::OrdMap`]), so taking a
//! snapshot is an O(1) clone that shares structure with the live map, and a write copies only the
//! nodes it touches while a snapshot still holds them. Nothing here is durable.

use std::ops::Bound;
use std::sync::{Arc, RwLock};

use imbl::OrdMap;

use super::{Batch, BatchOp, Entry, Key, Store, StoreSnapshot, Value};
use crate::CoreError;

/// An in-memory store. Cloning the handle shares the same data (like reopening the same
/// database), which is how tests simulate a clone restarting on its store.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    map: Arc<RwLock<OrdMap<Key, Value>>>,
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
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum()
    }
}

/// An immutable view of a [`MemoryStore`].
#[derive(Debug, Clone)]
pub struct MemorySnapshot {
    map: OrdMap<Key, Value>,
}

impl Store for MemoryStore {
    type Snapshot = MemorySnapshot;

    fn snapshot(&self) -> MemorySnapshot {
        // A poisoned lock still guards a consistent map: every write either finished or did
        // not start mutating the shared map (it mutates a private copy first).
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
        let mut guard = match self.map.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Mutating in place is all-or-nothing here: none of these operations can fail.
        for op in batch.into_ops() {
            match op {
                BatchOp::Put(k, v) => {
                    guard.insert(k, v);
                }
                BatchOp::Delete(k) => {
                    guard.remove(&*k);
                }
            }
        }
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
        // An empty or inverted range yields nothing (rather than reaching the map's range
        // checks); the range borrows only the map, as the bounds are consumed here.
        let range = match end {
            Some(end) if end <= start => None,
            Some(end) => Some((Bound::Included(start), Bound::Excluded(end))),
            None => Some((Bound::Included(start), Bound::Unbounded)),
        };
        range
            .map(|r: (Bound<&[u8]>, Bound<&[u8]>)| self.map.range::<_, [u8]>(r))
            .into_iter()
            .flatten()
            .map(|(k, v)| Ok((k.clone(), v.clone())))
    }
}

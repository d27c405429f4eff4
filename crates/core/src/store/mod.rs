//! The ordered key-value store abstraction under a clone's persistent state.
//!
//! Owns the [`Store`] and [`StoreSnapshot`] traits, the atomic write [`Batch`], the embedded
//! in-memory default [`MemoryStore`] and a backend contract suite ([`tests`]) that every backend
//! can run. It knows nothing of triples, clocks or the journal: those encode themselves into keys
//! and values elsewhere (`keys`, `suset`, `journal`). It must stay backend-neutral: no I/O here.
//!
//! A store is a map from byte-string keys to byte-string values, ordered bytewise. Reads go
//! through an immutable [`StoreSnapshot`] (a consistent view that never blocks writers); writes
//! are whole [`Batch`]es, applied atomically: all or nothing.

use std::sync::Arc;

use crate::CoreError;

mod btree;
pub mod memory;
pub mod tests;

pub use memory::{MemorySnapshot, MemoryStore};

/// A store key: an immutable byte string, cheap to clone.
pub type Key = Arc<[u8]>;
/// A store value: an immutable byte string, cheap to clone.
pub type Value = Arc<[u8]>;

/// One key-value entry read from a store.
pub type Entry = (Key, Value);

/// A persistent ordered key-value store holding one clone's data.
pub trait Store: Send + Sync + 'static {
    /// The immutable view type of this store.
    type Snapshot: StoreSnapshot;

    /// A consistent, immutable view of the store as of the last completed write. Cheap to take;
    /// holding it never blocks writers.
    fn snapshot(&self) -> Self::Snapshot;

    /// Applies all the batch's operations, in order, atomically: after an error, none of them
    /// may be visible. Durability is per implementation (the memory store has none).
    fn write(&self, batch: Batch) -> Result<(), CoreError>;
}

/// An immutable, consistent view of a [`Store`].
pub trait StoreSnapshot: Clone + Send + Sync + 'static {
    /// The value at `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Value>, CoreError>;

    /// All entries whose key starts with `prefix`, in key order. The default scans the range
    /// `[prefix, prefix_end(prefix))`.
    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<Entry, CoreError>> + use<'a, Self> {
        let end = prefix_end(prefix);
        self.scan_range(prefix, end.as_deref())
    }

    /// All entries with `start <= key` and, if `end` is given, `key < end`, in key order.
    fn scan_range<'a>(
        &'a self,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<Entry, CoreError>> + use<'a, Self>;
}

/// One operation of a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Set `key` to a value.
    Put(Key, Value),
    /// Remove `key` (a no-op if it is absent).
    Delete(Key),
}

/// An ordered list of writes, applied atomically by [`Store::write`]. A later operation on the
/// same key wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<BatchOp>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `n` operations.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ops: Vec::with_capacity(n),
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: impl Into<Key>, value: impl Into<Value>) {
        self.ops.push(BatchOp::Put(key.into(), value.into()));
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: impl Into<Key>) {
        self.ops.push(BatchOp::Delete(key.into()));
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// Consumes the batch into its operations, in order (for backends).
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }

    /// Appends all the operations of `other` after this batch's.
    pub fn append(&mut self, other: Batch) {
        self.ops.extend(other.ops);
    }
}

/// The least key greater than every key starting with `prefix`, or `None` if there is none
/// (the prefix is empty or all `0xFF`). `[prefix, prefix_end(prefix))` is the prefix's range.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_byte_below_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
        assert_eq!(prefix_end(&[]), None);
    }

    #[test]
    fn batch_keeps_order() {
        let mut b = Batch::new();
        assert!(b.is_empty());
        b.put(b"k".to_vec(), b"1".to_vec());
        b.delete(b"k".to_vec());
        assert_eq!(b.len(), 2);
        assert!(matches!(b.ops()[1], BatchOp::Delete(_)));
    }
}

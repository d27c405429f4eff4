//! Fast hashing for the crate's internal sets: [`QuickState`], a randomly seeded hasher much
//! cheaper than SipHash on IRIs and literals, and [`IndexedSet`], an insertion-ordered set
//! that stores each item once and answers by position.
//!
//! Owns only hashing and set bookkeeping; must not know json-rql, RDF semantics or graphs.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

/// A quick, randomly seeded hash: a multiply-rotate over 8-byte words, several times faster
/// than SipHash on IRIs. It does not resist deliberate collisions (neither does spareval's
/// own join hashing); a collision only costs a comparison.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuickState(u64);

impl Default for QuickState {
    fn default() -> Self {
        QuickState(RandomState::new().hash_one(0x006d_6c64_u32))
    }
}

impl BuildHasher for QuickState {
    type Hasher = QuickHasher;

    fn build_hasher(&self) -> QuickHasher {
        QuickHasher(self.0)
    }
}

/// The [`Hasher`] of [`QuickState`].
pub(crate) struct QuickHasher(u64);

impl QuickHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for QuickHasher {
    fn finish(&self) -> u64 {
        // Spread the high bits (where multiplication leaves the entropy) into the low ones.
        let h = (self.0 ^ (self.0 >> 32)).wrapping_mul(Self::K);
        h ^ (h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }
}

/// A hasher for keys that are already hashes: it passes the `u64` through.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

/// The [`Hasher`] of [`PassThrough`].
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed; fold anything else in so that it is still a hash.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// An insertion-ordered set, each item stored once and known by its position.
///
/// A few items are compared directly. Beyond that, the index maps an item's hash to the
/// position of the latest item with that hash, and `chain` links each position to the
/// previous one with the same hash (64-bit hashes rarely collide, so chains are almost always
/// one long).
#[derive(Debug)]
pub(crate) struct IndexedSet<T> {
    items: Vec<T>,
    index: HashMap<u64, usize, PassThrough>,
    chain: Vec<Option<usize>>,
    hasher: QuickState,
}

impl<T> Default for IndexedSet<T> {
    fn default() -> Self {
        IndexedSet {
            items: Vec::new(),
            index: HashMap::default(),
            chain: Vec::new(),
            // Seeded when the index is first built.
            hasher: QuickState(0),
        }
    }
}

impl<T: Hash + Eq> IndexedSet<T> {
    /// Up to how many items they are compared directly, with no index.
    const LINEAR: usize = 8;

    /// An empty set with room for `capacity` items.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        IndexedSet {
            items: Vec::with_capacity(capacity),
            ..IndexedSet::default()
        }
    }

    fn is_indexed(&self) -> bool {
        !self.index.is_empty()
    }

    /// The position of an item with this hash equal to `item`, if any.
    fn find(&self, hash: u64, item: &T) -> Option<usize> {
        let mut at = self.index.get(&hash).copied();
        while let Some(i) = at {
            if self.items[i] == *item {
                return Some(i);
            }
            at = self.chain[i];
        }
        None
    }

    /// Indexes the item at the end of `items`.
    fn index_last(&mut self, hash: u64) {
        let position = self.items.len() - 1;
        self.chain.push(self.index.insert(hash, position));
    }

    /// The position of `item`, inserting it if it is new; and whether it was.
    pub(crate) fn insert_full(&mut self, item: T) -> (usize, bool) {
        if !self.is_indexed() {
            if let Some(position) = self.items.iter().position(|i| *i == item) {
                return (position, false);
            }
            if self.items.len() < Self::LINEAR {
                self.items.push(item);
                return (self.items.len() - 1, true);
            }
            self.hasher = QuickState::default();
            let capacity = self.items.capacity().max(2 * Self::LINEAR);
            self.index.reserve(capacity);
            self.chain.reserve(capacity);
            for position in 0..self.items.len() {
                let hash = self.hasher.hash_one(&self.items[position]);
                self.chain.push(self.index.insert(hash, position));
            }
        }
        let hash = self.hasher.hash_one(&item);
        if let Some(position) = self.find(hash, &item) {
            return (position, false);
        }
        self.items.push(item);
        self.index_last(hash);
        (self.items.len() - 1, true)
    }

    /// Inserts an item if it is new; whether it was.
    pub(crate) fn insert(&mut self, item: T) -> bool {
        self.insert_full(item).1
    }

    /// The position of an item, if it is in the set.
    pub(crate) fn position(&self, item: &T) -> Option<usize> {
        if self.is_indexed() {
            self.find(self.hasher.hash_one(item), item)
        } else {
            self.items.iter().position(|i| i == item)
        }
    }

    /// Whether an item is in the set.
    pub(crate) fn contains(&self, item: &T) -> bool {
        self.position(item).is_some()
    }

    /// Keeps only the items for which `keep` is true, in their order.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        let mut kept = std::mem::take(&mut self.items);
        kept.retain(keep);
        self.index.clear();
        self.chain.clear();
        for item in kept {
            self.insert(item);
        }
    }
}

impl<T> IndexedSet<T> {
    /// The item at a position.
    pub(crate) fn get(&self, position: usize) -> Option<&T> {
        self.items.get(position)
    }

    /// The items, in order of insertion.
    pub(crate) fn as_slice(&self) -> &[T] {
        &self.items
    }

    /// The items, in order of insertion.
    pub(crate) fn into_vec(self) -> Vec<T> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quick_hashes_differ_for_different_strings() {
        let state = QuickState::default();
        let a = state.hash_one("http://test.m-ld.org/s1");
        let b = state.hash_one("http://test.m-ld.org/s2");
        assert_ne!(a, b);
        assert_eq!(a, state.hash_one("http://test.m-ld.org/s1"));
        // Trailing bytes of a partial word still count.
        assert_ne!(state.hash_one("abcdefghi"), state.hash_one("abcdefghj"));
    }

    proptest! {
        #[test]
        fn indexed_sets_behave_as_ordered_sets(items in prop::collection::vec(0u16..64, 0..200)) {
            let mut set = IndexedSet::with_capacity(0);
            let mut expected: Vec<u16> = Vec::new();
            for item in items {
                let new = !expected.contains(&item);
                let (position, inserted) = set.insert_full(item);
                prop_assert_eq!(inserted, new);
                if new {
                    expected.push(item);
                }
                prop_assert_eq!(expected[position], item);
            }
            prop_assert_eq!(set.as_slice(), expected.as_slice());
            for probe in 0u16..64 {
                prop_assert_eq!(set.position(&probe), expected.iter().position(|e| *e == probe));
            }
            set.retain(|i| i % 3 != 0);
            expected.retain(|i| i % 3 != 0);
            prop_assert_eq!(set.as_slice(), expected.as_slice());
            for probe in 0u16..64 {
                prop_assert_eq!(set.contains(&probe), expected.contains(&probe));
            }
        }
    }
}

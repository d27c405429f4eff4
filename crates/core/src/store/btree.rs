//! A persistent (copy-on-write) B+tree of byte-string keys: the map inside the [`MemoryStore`].
//!
//! Owns only the tree: point lookups, ordered range iteration and the application of a sorted
//! run of puts and deletes in one pass. Nodes are shared through [`Arc`]s, so cloning a tree is
//! O(1) and a clone is an immutable snapshot; applying changes copies only the nodes that are
//! shared with a snapshot and changed, and mutates the others in place. It knows nothing of
//! batches' ordering rules (the store sorts and deduplicates first) and must not lock anything.
//!
//! [`MemoryStore`]: super::MemoryStore

use std::cmp::Ordering;
use std::sync::Arc;

use super::{Key, Value};

/// The most entries of a leaf and children of a branch (small in tests, to exercise deep trees).
const MAX: usize = if cfg!(test) { 8 } else { 64 };
/// A node smaller than this is merged with a sibling when its parent is next changed.
const MIN: usize = MAX / 4;

/// One change of a sorted run: a value to set, or `None` to remove the key.
pub(super) type Change = (Key, Option<Value>);

/// A change not yet applied (`None` once it has moved into the tree).
pub(super) type Pending = Option<Change>;

/// The key of a pending change (empty once applied).
pub(super) fn pending_key(change: &Pending) -> &[u8] {
    change.as_ref().map_or(&[], |(k, _)| k)
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Arc<Vec<(Key, Value)>>),
    Branch(Arc<Branch>),
}

#[derive(Debug, Clone)]
struct Branch {
    /// `seps[i]` is the least key that may be in `children[i + 1]`; every key of `children[i]`
    /// is below it. There is one separator fewer than there are children.
    seps: Vec<Key>,
    children: Vec<Node>,
}

/// Where `key` is in `items` sorted by `key_of`: `Ok` with its index if found, or `Err` with the
/// index where it would be inserted.
///
/// A branchy binary search that stops at a match: the processor can speculate on each comparison
/// and so fetch the next probe's key early, which matters as keys are behind pointers (the
/// standard library's branchless search waits for each key in turn).
fn search<T>(items: &[T], key: &[u8], key_of: impl Fn(&T) -> &[u8]) -> Result<usize, usize> {
    let (mut low, mut high) = (0, items.len());
    while low < high {
        let mid = low + (high - low) / 2;
        let Some(item) = items.get(mid) else {
            break;
        };
        match key_of(item).cmp(key) {
            Ordering::Less => low = mid + 1,
            Ordering::Greater => high = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(low)
}

impl Branch {
    /// The index of the child whose key range holds `key`.
    fn child_for(&self, key: &[u8]) -> usize {
        match search(&self.seps, key, |s| s) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

impl Node {
    fn empty() -> Node {
        Node::Leaf(Arc::new(Vec::new()))
    }

    /// Entries of a leaf or children of a branch.
    fn size(&self) -> usize {
        match self {
            Node::Leaf(entries) => entries.len(),
            Node::Branch(b) => b.children.len(),
        }
    }
}

/// A persistent ordered map from keys to values.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    root: Node,
    len: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            root: Node::empty(),
            len: 0,
        }
    }
}

impl Tree {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The value at `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Value> {
        let mut node = &self.root;
        loop {
            match node {
                Node::Branch(b) => node = b.children.get(b.child_for(key))?,
                Node::Leaf(entries) => {
                    let i = search(entries, key, |(k, _)| k).ok()?;
                    return entries.get(i).map(|(_, v)| v);
                }
            }
        }
    }

    /// The entries with `start <= key` and, if `end` is given, `key < end`, in key order.
    pub fn range(&self, start: &[u8], end: Option<&[u8]>) -> Range<'_> {
        let mut stack = Vec::new();
        let mut node = &self.root;
        let leaf = loop {
            match node {
                Node::Branch(b) => {
                    let i = b.child_for(start);
                    stack.push((&**b, i + 1));
                    match b.children.get(i) {
                        Some(child) => node = child,
                        None => break [].iter(),
                    }
                }
                Node::Leaf(entries) => {
                    let from = search(entries, start, |(k, _)| k).unwrap_or_else(|i| i);
                    break entries[from..].iter();
                }
            }
        };
        Range {
            stack,
            leaf,
            end: end.map(Box::from),
        }
    }

    /// Applies a run of changes, all pending and sorted by strictly increasing key, moving their
    /// keys and values into the tree.
    pub fn apply(&mut self, mut changes: Vec<Pending>) {
        if changes.is_empty() {
            return;
        }
        let mut delta = 0isize;
        apply(&mut self.root, &mut changes, &mut delta);
        self.len = self.len.saturating_add_signed(delta);
        // Grow while the root overflows; shrink while it is a branch of one child.
        while self.root.size() > MAX {
            let root = std::mem::replace(&mut self.root, Node::empty());
            let (seps, children) = split(root);
            self.root = Node::Branch(Arc::new(Branch { seps, children }));
        }
        while let Node::Branch(b) = &self.root
            && b.children.len() == 1
        {
            self.root = b.children[0].clone();
        }
    }
}

/// Applies sorted `changes` under `node`, leaving the node possibly over- or underfull (its
/// parent, or [`Tree::apply`] for the root, fixes that).
fn apply(node: &mut Node, changes: &mut [Pending], delta: &mut isize) {
    match node {
        Node::Leaf(entries) => apply_leaf(entries, changes, delta),
        Node::Branch(b) => {
            let b = Arc::make_mut(b);
            let mut at = 0;
            // Children left out of bounds, in increasing order (rarely any).
            let mut unbalanced = Vec::new();
            while at < changes.len() {
                let c = b.child_for(pending_key(&changes[at]));
                let end = match b.seps.get(c) {
                    Some(sep) => {
                        let rest = changes.get(at..).unwrap_or(&[]);
                        at + search(rest, sep, pending_key).unwrap_or_else(|i| i)
                    }
                    None => changes.len(),
                };
                // (`c` is always a child: there is one separator fewer than children.)
                if let Some(child) = b.children.get_mut(c) {
                    apply(child, &mut changes[at..end], delta);
                    if !(MIN..=MAX).contains(&child.size()) {
                        unbalanced.push(c);
                    }
                }
                at = end.max(at + 1);
            }
            // From the right, so that fixing a child moves only children already fixed.
            for c in unbalanced.into_iter().rev() {
                rebalance(b, c);
            }
        }
    }
}

fn apply_leaf(entries: &mut Arc<Vec<(Key, Value)>>, changes: &mut [Pending], delta: &mut isize) {
    if changes.len() * 8 < entries.len() {
        // A few changes: edit in place (copying the leaf first if a snapshot shares it).
        let entries = Arc::make_mut(entries);
        for (k, v) in changes.iter_mut().filter_map(Option::take) {
            match (search(entries, &k, |(e, _)| e), v) {
                (Ok(i), Some(v)) => entries[i].1 = v,
                (Ok(i), None) => {
                    entries.remove(i);
                    *delta -= 1;
                }
                (Err(i), Some(v)) => {
                    entries.insert(i, (k, v));
                    *delta += 1;
                }
                (Err(_), None) => {}
            }
        }
        return;
    }
    // Many changes: one merge pass, moving the old entries if the leaf is not shared.
    let mut merged = Vec::with_capacity(entries.len() + changes.len());
    match Arc::get_mut(entries) {
        Some(owned) => merge(
            std::mem::take(owned).into_iter(),
            changes,
            &mut merged,
            delta,
        ),
        None => merge(entries.iter().cloned(), changes, &mut merged, delta),
    }
    *entries = Arc::new(merged);
}

fn merge(
    old: impl Iterator<Item = (Key, Value)>,
    changes: &mut [Pending],
    out: &mut Vec<(Key, Value)>,
    delta: &mut isize,
) {
    let mut old = old.peekable();
    let mut changes = changes.iter_mut().filter_map(Option::take).peekable();
    loop {
        let order = match (old.peek(), changes.peek()) {
            (Some((k, _)), Some((c, _))) => k.cmp(c),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return,
        };
        match order {
            Ordering::Less => out.extend(old.next()),
            Ordering::Equal => {
                old.next();
                if let Some((k, v)) = changes.next() {
                    match v {
                        Some(v) => out.push((k, v)),
                        None => *delta -= 1,
                    }
                }
            }
            Ordering::Greater => {
                if let Some((k, Some(v))) = changes.next() {
                    out.push((k, v));
                    *delta += 1;
                }
            }
        }
    }
}

/// Restores the size bounds of a branch's child `c`: if underfull, it is merged with its left
/// neighbour (or its right one, if it is the first); if then overfull, it is split.
fn rebalance(b: &mut Branch, mut c: usize) {
    let Some(size) = b.children.get(c).map(Node::size) else {
        return;
    };
    if size < MIN && b.children.len() > 1 {
        let left = c.saturating_sub(1);
        let right = b.children.remove(left + 1);
        let boundary = b.seps.remove(left);
        join(&mut b.children[left], boundary, right);
        c = left;
    }
    if b.children[c].size() > MAX {
        let node = std::mem::replace(&mut b.children[c], Node::empty());
        let (seps, pieces) = split(node);
        b.children.splice(c..=c, pieces);
        b.seps.splice(c..c, seps);
    }
}

/// Appends `right` (whose keys are all at or above `boundary`) to `left`, of the same height.
fn join(left: &mut Node, boundary: Key, right: Node) {
    match (left, right) {
        (Node::Leaf(l), Node::Leaf(r)) => {
            let l = Arc::make_mut(l);
            match Arc::try_unwrap(r) {
                Ok(r) => l.extend(r),
                Err(r) => l.extend(r.iter().cloned()),
            }
        }
        (Node::Branch(l), Node::Branch(r)) => {
            let r = Arc::try_unwrap(r).unwrap_or_else(|r| (*r).clone());
            if r.children.is_empty() {
                return;
            }
            let l = Arc::make_mut(l);
            if l.children.is_empty() {
                *l = r;
                return;
            }
            l.seps.push(boundary);
            l.seps.extend(r.seps);
            l.children.extend(r.children);
        }
        // Siblings always have the same height; keep both rather than lose entries.
        (left, right) => {
            let l = std::mem::replace(left, Node::empty());
            *left = Node::Branch(Arc::new(Branch {
                seps: vec![boundary],
                children: vec![l, right],
            }));
        }
    }
}

/// Splits an overfull node into pieces of at most [`MAX`] of nearly equal size, with the
/// separators between them.
fn split(node: Node) -> (Vec<Key>, Vec<Node>) {
    let pieces = node.size().div_ceil(MAX).max(1);
    match node {
        Node::Leaf(entries) => {
            let entries = Arc::try_unwrap(entries).unwrap_or_else(|e| (*e).clone());
            let mut seps = Vec::with_capacity(pieces - 1);
            let mut out = Vec::with_capacity(pieces);
            let total = entries.len();
            let mut rest = entries.into_iter();
            for p in 0..pieces {
                let take = total * (p + 1) / pieces - total * p / pieces;
                let piece: Vec<(Key, Value)> = rest.by_ref().take(take).collect();
                if p > 0
                    && let Some((k, _)) = piece.first()
                {
                    seps.push(k.clone());
                }
                out.push(Node::Leaf(Arc::new(piece)));
            }
            (seps, out)
        }
        Node::Branch(b) => {
            let b = Arc::try_unwrap(b).unwrap_or_else(|b| (*b).clone());
            let total = b.children.len();
            let mut seps = Vec::with_capacity(pieces - 1);
            let mut out = Vec::with_capacity(pieces);
            let mut children = b.children.into_iter();
            let mut inner = b.seps.into_iter();
            for p in 0..pieces {
                let take = total * (p + 1) / pieces - total * p / pieces;
                if p > 0 {
                    seps.extend(inner.next());
                }
                let piece_children: Vec<Node> = children.by_ref().take(take).collect();
                let piece_seps: Vec<Key> = inner.by_ref().take(take.saturating_sub(1)).collect();
                out.push(Node::Branch(Arc::new(Branch {
                    seps: piece_seps,
                    children: piece_children,
                })));
            }
            (seps, out)
        }
    }
}

/// An ordered iteration over a range of a [`Tree`].
pub(super) struct Range<'a> {
    /// The branches above the current leaf, each with the index of the next child to visit.
    stack: Vec<(&'a Branch, usize)>,
    leaf: std::slice::Iter<'a, (Key, Value)>,
    end: Option<Box<[u8]>>,
}

impl<'a> Iterator for Range<'a> {
    type Item = &'a (Key, Value);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.leaf.next() {
                return match &self.end {
                    Some(end) if (*entry.0).cmp(end) != Ordering::Less => {
                        self.stack.clear();
                        self.leaf = [].iter();
                        None
                    }
                    _ => Some(entry),
                };
            }
            // Climb to the nearest branch with a child left, then down its leftmost path.
            let (branch, next) = loop {
                let (branch, next) = self.stack.pop()?;
                if next < branch.children.len() {
                    break (branch, next);
                }
            };
            self.stack.push((branch, next + 1));
            let mut node = &branch.children[next];
            loop {
                match node {
                    Node::Branch(b) => {
                        self.stack.push((b, 1));
                        match b.children.first() {
                            Some(first) => node = first,
                            None => break,
                        }
                    }
                    Node::Leaf(entries) => {
                        self.leaf = entries.iter();
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn key(n: u32) -> Key {
        Arc::from(n.to_be_bytes().as_slice())
    }

    /// Checks the structure: sorted keys, separators bounding their children, equal depth.
    fn check(tree: &Tree) -> Result<(), String> {
        fn walk(
            node: &Node,
            low: Option<&[u8]>,
            high: Option<&[u8]>,
            depth: usize,
            leaf_depth: &mut Option<usize>,
            count: &mut usize,
        ) -> Result<(), String> {
            match node {
                Node::Leaf(entries) => {
                    if *leaf_depth.get_or_insert(depth) != depth {
                        return Err("leaves at different depths".into());
                    }
                    if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
                        return Err("leaf not sorted".into());
                    }
                    for (k, _) in entries.iter() {
                        if low.is_some_and(|l| **k < *l) || high.is_some_and(|h| **k >= *h) {
                            return Err(format!("key {k:?} outside {low:?}..{high:?}"));
                        }
                    }
                    *count += entries.len();
                    Ok(())
                }
                Node::Branch(b) => {
                    if b.seps.len() + 1 != b.children.len() {
                        return Err("separator count".into());
                    }
                    for (i, child) in b.children.iter().enumerate() {
                        let l = if i == 0 { low } else { Some(&*b.seps[i - 1]) };
                        let h = b.seps.get(i).map(|s| &**s).or(high);
                        walk(child, l, h, depth + 1, leaf_depth, count)?;
                    }
                    Ok(())
                }
            }
        }
        let mut count = 0;
        walk(&tree.root, None, None, 0, &mut None, &mut count)?;
        if count != tree.len() {
            return Err(format!("len {} but {count} entries", tree.len()));
        }
        Ok(())
    }

    fn changes(ops: &[(u32, Option<u8>)]) -> Vec<Pending> {
        let mut sorted: BTreeMap<u32, Option<u8>> = BTreeMap::new();
        for (k, v) in ops {
            sorted.insert(*k, *v);
        }
        sorted
            .into_iter()
            .map(|(k, v)| Some((key(k), v.map(|v| Arc::from([v].as_slice())))))
            .collect()
    }

    fn apply_model(model: &mut BTreeMap<u32, u8>, ops: &[(u32, Option<u8>)]) {
        for (k, v) in ops {
            match v {
                Some(v) => model.insert(*k, *v),
                None => model.remove(k),
            };
        }
    }

    fn contents(tree: &Tree) -> Vec<(u32, u8)> {
        tree.range(&[], None)
            .map(|(k, v)| {
                let k: [u8; 4] = (**k).try_into().unwrap();
                (u32::from_be_bytes(k), v[0])
            })
            .collect()
    }

    #[test]
    fn bulk_load_then_small_edits_keep_the_structure() {
        let mut tree = Tree::default();
        let load: Vec<(u32, Option<u8>)> = (0..20_000).map(|k| (k * 2, Some(1))).collect();
        tree.apply(changes(&load));
        check(&tree).unwrap();
        assert_eq!(tree.len(), 20_000);
        let snapshot = tree.clone();
        for k in 0..300 {
            tree.apply(changes(&[(k * 7 + 1, Some(2)), (k * 6, None)]));
        }
        check(&tree).unwrap();
        check(&snapshot).unwrap();
        assert_eq!(snapshot.len(), 20_000);
        assert_eq!(snapshot.get(&key(1)), None);
        assert_eq!(tree.get(&key(1)).map(|v| v[0]), Some(2));
        assert_eq!(tree.get(&key(0)), None);
        // Deleting everything leaves an empty, working tree.
        let all: Vec<(u32, Option<u8>)> = (0..45_000).map(|k| (k, None)).collect();
        tree.apply(changes(&all));
        check(&tree).unwrap();
        assert_eq!(tree.len(), 0);
        assert_eq!(tree.range(&[], None).count(), 0);
    }

    proptest! {
        #[test]
        fn tree_matches_a_btreemap(
            batches in prop::collection::vec(
                prop::collection::vec((0u32..2000, prop::option::weighted(0.7, any::<u8>())), 0..300),
                1..12,
            ),
            start in 0u32..2000,
            len in 0u32..500,
        ) {
            let mut tree = Tree::default();
            let mut model = BTreeMap::new();
            let mut snapshots = Vec::new();
            for batch in &batches {
                snapshots.push((tree.clone(), model.clone()));
                tree.apply(changes(batch));
                apply_model(&mut model, batch);
                prop_assert_eq!(check(&tree), Ok(()));
                prop_assert_eq!(contents(&tree), model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
            }
            for (snap, model) in &snapshots {
                prop_assert_eq!(check(snap), Ok(()));
                prop_assert_eq!(contents(snap), model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
            }
            for k in [start, start + 1, start + len] {
                prop_assert_eq!(tree.get(&key(k)).map(|v| v[0]), model.get(&k).copied());
            }
            let end = start + len;
            let got: Vec<u32> = tree
                .range(&key(start), Some(&key(end)))
                .map(|(k, _)| u32::from_be_bytes((**k).try_into().unwrap()))
                .collect();
            let want: Vec<u32> = model.range(start..end).map(|(k, _)| *k).collect();
            prop_assert_eq!(got, want);
        }
    }
}

//! The tick tree shared by [`TreeClock`](super::TreeClock) and [`GlobalClock`](super::GlobalClock),
//! and the algorithms of m-ld-js `TickTree` that work on either kind.
//!
//! Owns the node representation (leaves carry a value: the ID flag of a tree clock or the TID of a
//! global clock) and the kind-independent algorithms: deep ticks, `getTicks`, `anyLt`. It must
//! not know the JSON forms or the hashing of either clock.
//!
//! A *bud* is the JS `leftBud`/`rightBud`: the child of a fork, or a zero-tick leaf standing in for
//! it when the node is a leaf. For the kind-independent algorithms the value of a bud does not
//! matter, so a missing bud is passed as `None`.

use std::sync::Arc;

/// A node of a tick tree. Children are shared, so clones and updates are cheap.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Node<V> {
    /// A leaf with its value and local ticks.
    Leaf {
        /// The leaf's value (`isId` for a tree clock, the TID for a global clock).
        value: V,
        /// Local ticks.
        ticks: u64,
    },
    /// A binary fork with the ticks that happened before it.
    Fork {
        /// Local ticks (before the fork).
        ticks: u64,
        /// Left and right children.
        kids: Arc<(Node<V>, Node<V>)>,
    },
}

impl<V> Node<V> {
    /// A fork node.
    pub fn fork(ticks: u64, left: Node<V>, right: Node<V>) -> Node<V> {
        Node::Fork {
            ticks,
            kids: Arc::new((left, right)),
        }
    }

    /// Ticks at this node, excluding any children.
    pub fn local(&self) -> u64 {
        match self {
            Node::Leaf { ticks, .. } | Node::Fork { ticks, .. } => *ticks,
        }
    }

    /// The children, if this is a fork.
    pub fn kids(&self) -> Option<(&Node<V>, &Node<V>)> {
        match self {
            Node::Leaf { .. } => None,
            Node::Fork { kids, .. } => Some((&kids.0, &kids.1)),
        }
    }

    /// The sum of all ticks in the tree (`deepTicks`).
    pub fn deep(&self) -> u64 {
        match self {
            Node::Leaf { ticks, .. } => *ticks,
            Node::Fork { ticks, kids } => ticks
                .saturating_add(kids.0.deep())
                .saturating_add(kids.1.deep()),
        }
    }

    /// Depth of the tree: 1 for a leaf.
    pub fn depth(&self) -> usize {
        match self.kids() {
            None => 1,
            Some((l, r)) => 1 + l.depth().max(r.depth()),
        }
    }
}

/// Splits an optional node into its optional buds.
fn buds<V>(n: Option<&Node<V>>) -> (Option<&Node<V>>, Option<&Node<V>>) {
    match n.and_then(Node::kids) {
        Some((l, r)) => (Some(l), Some(r)),
        None => (None, None),
    }
}

fn local<V>(n: Option<&Node<V>>) -> u64 {
    n.map_or(0, Node::local)
}

/// JS `_getTicks`: the ticks in `n` along the path to `filter`'s ID leaf, or `None` if `filter`
/// (a tree clock node; `None` means HALLOWS) has no ID.
pub fn get_ticks<V>(n: Option<&Node<V>>, filter: Option<&Node<bool>>) -> Option<u64> {
    if let Some(Node::Leaf { value: true, .. }) = filter {
        return Some(n.map_or(0, Node::deep));
    }
    let n_forked = n.is_some_and(|n| n.kids().is_some());
    let f_forked = filter.is_some_and(|f| f.kids().is_some());
    if n_forked || f_forked {
        let (nl, nr) = buds(n);
        let (fl, fr) = buds(filter);
        let left = get_ticks(nl, fl);
        let right = get_ticks(nr, fr);
        if left.is_some() || right.is_some() {
            return Some(
                local(n)
                    .saturating_add(left.unwrap_or(0))
                    .saturating_add(right.unwrap_or(0)),
            );
        }
    }
    None
}

/// JS `anyLt`: whether `b` has ticks somewhere that `a` has not seen.
pub fn any_lt<V, W>(a: &Node<V>, b: &Node<W>) -> bool {
    match (a.kids(), b.kids()) {
        (Some((al, ar)), Some((bl, br))) => any_lt(al, bl) || any_lt(ar, br),
        _ => a.deep() < b.deep(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(value: bool, ticks: u64) -> Node<bool> {
        Node::Leaf { value, ticks }
    }

    #[test]
    fn deep_ticks_sum_the_tree() {
        let n = Node::fork(
            1,
            leaf(false, 13),
            Node::fork(0, leaf(true, 2), leaf(false, 3)),
        );
        assert_eq!(n.deep(), 19);
        assert_eq!(n.depth(), 3);
    }

    #[test]
    fn get_ticks_follows_the_filter_id() {
        let n = Node::fork(1, leaf(false, 13), leaf(true, 5));
        let filter_left = Node::fork(0, leaf(true, 0), leaf(false, 0));
        assert_eq!(get_ticks(Some(&n), Some(&filter_left)), Some(14));
        assert_eq!(get_ticks(Some(&n), Some(&leaf(false, 0))), None);
        assert_eq!(get_ticks(Some(&n), Some(&leaf(true, 0))), Some(19));
    }
}

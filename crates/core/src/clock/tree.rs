//! [`TreeClock`]: the causal clock of one m-ld process, bit-exact with m-ld-js `TreeClock`
//! (docs/protocol.md §3.5–§3.7).
//!
//! Owns the tree clock algorithms (tick, fork, join, comparisons), its JSON and msgpack forms and
//! its hash (the operation [`Tid`]). It must not know about global clocks beyond the shared
//! [`TickTree`] view, nor about operations, journals or stores.

use std::fmt;

use sha1::{Digest, Sha1};

use super::form::{Form, Shape};
use super::node::{self, Node};
use super::tid::{MAX_TID_LEN, Tid};
use super::{MAX_CLOCK_DEPTH, TickTree, sealed};
use crate::CoreError;
use crate::wire::msgpack;

/// A node of a tree clock: leaves carry `isId`.
pub(super) type TNode = Node<bool>;

/// JS `TreeClock.GENESIS`: an ID leaf with no ticks.
const GENESIS: TNode = Node::Leaf {
    value: true,
    ticks: 0,
};

/// JS `TreeClock.HALLOWS`: a non-ID leaf with no ticks; the bud of any leaf.
pub(super) static HALLOWS: TNode = Node::Leaf {
    value: false,
    ticks: 0,
};

/// A causal clock carrying the identity of one process: a binary tree of tick counts with
/// exactly one ID leaf.
///
/// Values are immutable; every operation returns a new clock that shares unchanged branches.
/// Equality is structural (it tells the left and right of a fresh fork apart, unlike
/// [`TreeClock::hash`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TreeClock {
    root: TNode,
}

impl sealed::Sealed for TreeClock {
    type Value = bool;

    fn root(&self) -> &TNode {
        &self.root
    }
}

impl TickTree for TreeClock {}

impl TreeClock {
    /// The clock of a genesis clone: `[]`.
    pub fn genesis() -> TreeClock {
        TreeClock { root: GENESIS }
    }

    /// Wraps a node that is known to hold exactly one ID leaf.
    fn checked(root: TNode, what: &'static str) -> Result<TreeClock, CoreError> {
        if id_count(&root) == 1 {
            Ok(TreeClock { root })
        } else {
            Err(CoreError::Clock(what))
        }
    }

    /// The ticks of this clock's own process: the ticks on the path to the ID leaf.
    pub fn ticks(&self) -> u64 {
        ticks_of(&self.root).unwrap_or(0)
    }

    /// This clock with one more tick for its own process (JS `ticked()`).
    pub fn ticked(&self) -> TreeClock {
        TreeClock {
            root: tick_own(&self.root),
        }
    }

    /// JS `ticked(ticks)`: sets the ticks of this clock's own process, which may rewind them.
    ///
    /// Rewinding below the local ticks of a fork on the path to the ID collapses that fork into
    /// an ID leaf (the deeper processes are dropped), as in JS.
    pub fn ticked_to(&self, ticks: u64) -> Result<TreeClock, CoreError> {
        let root = ticked(&self.root, ticks, &self.root)?;
        TreeClock::checked(root, "ticked clock lost its identity")
    }

    /// JS `ticked(otherClock)`: sets the ticks of `process`'s process (as seen in this clock) to
    /// `process.ticks()`.
    ///
    /// Fails with "Ambiguous target" when `process`'s ID lies above a fork of this clock with
    /// ticks still to allocate, and (unlike JS, which returns an ID-less clock) when the result
    /// would lose this clock's own identity.
    pub fn ticked_like(&self, process: &TreeClock) -> Result<TreeClock, CoreError> {
        let root = ticked(&self.root, process.ticks(), &process.root)?;
        TreeClock::checked(root, "ticked clock lost its identity")
    }

    /// Forks this clock's identity into two: `(left, right)`. Neither is ticked, so both hash
    /// like this clock ("a fork is not an event").
    pub fn forked(&self) -> (TreeClock, TreeClock) {
        let (left, right) = forked(&self.root);
        (TreeClock { root: left }, TreeClock { root: right })
    }

    /// JS `update`: joins another clock (a [`TreeClock`] or a
    /// [`GlobalClock`](super::GlobalClock)) into this one, keeping the maximum ticks everywhere.
    ///
    /// Fails if `other` is forked where this clock has its ID leaf.
    pub fn update(&self, other: &impl TickTree) -> Result<TreeClock, CoreError> {
        let root = update(&self.root, sealed::Sealed::root(other))?;
        TreeClock::checked(root, "updated clock lost its identity")
    }

    /// The ticks of `filter`'s process as seen by this clock (JS `getTicks`), or `None` if
    /// `filter`'s ID leaf is not reachable in this clock's shape.
    pub fn get_ticks(&self, filter: &TreeClock) -> Option<u64> {
        node::get_ticks(Some(&self.root), Some(&filter.root))
    }

    /// JS `anyLt`: whether `other` has ticks somewhere that this clock has not seen.
    pub fn any_lt(&self, other: &impl TickTree) -> bool {
        node::any_lt(&self.root, sealed::Sealed::root(other))
    }

    /// JS `anyNonIdLt`: like [`TreeClock::any_lt`], ignoring both clocks' ID leaves. Used for
    /// causal readiness of a received operation.
    pub fn any_non_id_lt(&self, other: &TreeClock) -> bool {
        any_non_id_lt(&self.root, &other.root)
    }

    /// JS `nonIdTicks`: the ticks of every process but this one, or `None` if there are none
    /// (zero ticks in a fork do not count).
    pub fn non_id_ticks(&self) -> Option<u64> {
        non_id_ticks(&self.root)
    }

    /// Whether this clock is an unforked ID leaf (`[]` or `[n]`).
    pub fn is_id(&self) -> bool {
        matches!(self.root, Node::Leaf { value: true, .. })
    }

    /// JS `isZeroId`: whether the ID leaf has no ticks of its own (a just-forked clock).
    pub fn is_zero_id(&self) -> bool {
        is_zero_id(&self.root)
    }

    /// The msgpack bytes of `toJSON('forHash')`, from which the [`Tid`] is derived.
    pub fn for_hash_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        write_for_hash(&self.root, &mut out);
        out
    }

    /// JS `toJSON('forHash')`: the JSON form with forks of two zero children collapsed.
    pub fn to_json_for_hash(&self) -> serde_json::Value {
        // The bytes come from our own encoder of a clock, so they always decode; fall back to
        // the plain form rather than panic.
        msgpack::decode(&self.for_hash_bytes())
            .and_then(|v| msgpack::to_json(&v))
            .unwrap_or_else(|_| self.to_json())
    }

    /// The operation identity (TID) of this clock time (docs/protocol.md §3.6): the msgpack of the
    /// for-hash JSON, or its SHA-1 digest if that is longer than 20 bytes.
    pub fn hash(&self) -> Tid {
        let bytes = self.for_hash_bytes();
        if bytes.len() > MAX_TID_LEN {
            Tid::from_known_bytes(&Sha1::digest(&bytes))
        } else {
            // A clock always encodes to at least one byte.
            Tid::from_known_bytes(&bytes)
        }
    }

    /// The JSON form (`TreeClockJson`).
    pub fn to_json(&self) -> serde_json::Value {
        to_json(&self.root)
    }

    /// Parses the JSON form. Unlike JS, it also requires exactly one ID leaf and non-negative
    /// integer ticks.
    pub fn from_json(json: &serde_json::Value) -> Result<TreeClock, CoreError> {
        TreeClock::parse(json)
    }

    /// The JSON form as msgpack values (the form inside operations and control messages).
    pub fn to_msgpack(&self) -> rmpv::Value {
        to_msgpack(&self.root)
    }

    /// Parses the msgpack value form; the same rules as [`TreeClock::from_json`].
    pub fn from_msgpack(v: &rmpv::Value) -> Result<TreeClock, CoreError> {
        TreeClock::parse(v)
    }

    fn parse<F: Form>(v: &F) -> Result<TreeClock, CoreError> {
        let root = parse(v, 0).map_err(CoreError::BadClockJson)?;
        match id_count(&root) {
            1 => Ok(TreeClock { root }),
            0 => Err(CoreError::BadClockJson("no ID leaf".into())),
            _ => Err(CoreError::BadClockJson("more than one ID leaf".into())),
        }
    }
}

impl fmt::Display for TreeClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_json(&self.root, f)
    }
}

impl fmt::Debug for TreeClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_json(&self.root, f)
    }
}

/// The child of a fork, or HALLOWS for a leaf (JS `leftBud` / `rightBud`).
pub(super) fn bud(n: &TNode, right: bool) -> &TNode {
    match n.kids() {
        Some((l, r)) => {
            if right {
                r
            } else {
                l
            }
        }
        None => &HALLOWS,
    }
}

/// Whether there is an ID leaf anywhere in `n` (JS `hasId`).
pub(super) fn has_id(n: &TNode) -> bool {
    match n {
        Node::Leaf { value, .. } => *value,
        Node::Fork { kids, .. } => has_id(&kids.0) || has_id(&kids.1),
    }
}

fn id_count(n: &TNode) -> usize {
    match n {
        Node::Leaf { value, .. } => usize::from(*value),
        Node::Fork { kids, .. } => id_count(&kids.0).saturating_add(id_count(&kids.1)),
    }
}

/// JS `ticks`: the ticks on the path to the ID, `None` if there is no ID.
fn ticks_of(n: &TNode) -> Option<u64> {
    match n {
        Node::Leaf { value, ticks } => value.then_some(*ticks),
        Node::Fork { ticks, kids } => {
            let left = ticks_of(&kids.0);
            let right = ticks_of(&kids.1);
            if left.is_none() && right.is_none() {
                None
            } else {
                Some(
                    ticks
                        .saturating_add(left.unwrap_or(0))
                        .saturating_add(right.unwrap_or(0)),
                )
            }
        }
    }
}

/// JS `nonIdTicks`; note the truthiness test, so zero-tick branches count as none.
fn non_id_ticks(n: &TNode) -> Option<u64> {
    match n {
        Node::Leaf {
            value: false,
            ticks,
        } => Some(*ticks),
        Node::Leaf { value: true, .. } => None,
        Node::Fork { ticks, kids } => {
            let left = non_id_ticks(&kids.0);
            let right = non_id_ticks(&kids.1);
            let truthy = |t: Option<u64>| t.is_some_and(|t| t != 0);
            (truthy(left) || truthy(right)).then(|| {
                ticks
                    .saturating_add(left.unwrap_or(0))
                    .saturating_add(right.unwrap_or(0))
            })
        }
    }
}

/// `ticked()` without arguments: one more tick on the ID leaf. Equivalent to JS
/// `_ticked(ticks + 1, this)`, which cannot fail or rewind.
fn tick_own(n: &TNode) -> TNode {
    match n {
        Node::Leaf { value: true, ticks } => Node::Leaf {
            value: true,
            ticks: ticks.saturating_add(1),
        },
        Node::Leaf { value: false, .. } => n.clone(),
        Node::Fork { ticks, kids } => {
            if has_id(&kids.0) {
                Node::fork(*ticks, tick_own(&kids.0), kids.1.clone())
            } else {
                Node::fork(*ticks, kids.0.clone(), tick_own(&kids.1))
            }
        }
    }
}

/// JS `_ticked(ticks, process)`.
fn ticked(n: &TNode, ticks: u64, process: &TNode) -> Result<TNode, CoreError> {
    if !has_id(process) {
        return Ok(n.clone());
    }
    let local = n.local();
    if ticks < local {
        // Rewind: any fork here is dropped.
        return Ok(Node::Leaf {
            value: has_id(n),
            ticks,
        });
    }
    match process {
        // A leaf with an ID: the process is an ID leaf.
        Node::Leaf { .. } => match n {
            Node::Fork { kids, .. } => {
                if ticks > local {
                    Err(CoreError::Clock("Ambiguous target for ticks"))
                } else {
                    Ok(Node::fork(
                        local,
                        ticked(&kids.0, 0, &kids.0)?,
                        ticked(&kids.1, 0, &kids.1)?,
                    ))
                }
            }
            Node::Leaf { value, .. } => Ok(Node::Leaf {
                value: *value,
                ticks,
            }),
        },
        Node::Fork { kids: pk, .. } => {
            let rest = ticks - local;
            Ok(Node::fork(
                local,
                ticked(bud(n, false), rest, &pk.0)?,
                ticked(bud(n, true), rest, &pk.1)?,
            ))
        }
    }
}

/// JS `_forked`: splits the ID leaf into a fork of two IDs.
fn forked(n: &TNode) -> (TNode, TNode) {
    match n {
        Node::Leaf { value: true, ticks } => (
            Node::fork(*ticks, GENESIS, HALLOWS.clone()),
            Node::fork(*ticks, HALLOWS.clone(), GENESIS),
        ),
        // No ID here: nothing to fork (never reached from a valid clock).
        Node::Leaf { value: false, .. } => (n.clone(), n.clone()),
        Node::Fork { ticks, kids } => {
            if has_id(&kids.0) {
                let (a, b) = forked(&kids.0);
                (
                    Node::fork(*ticks, a, kids.1.clone()),
                    Node::fork(*ticks, b, kids.1.clone()),
                )
            } else {
                let (a, b) = forked(&kids.1);
                (
                    Node::fork(*ticks, kids.0.clone(), a),
                    Node::fork(*ticks, kids.0.clone(), b),
                )
            }
        }
    }
}

/// JS `update` (join) with any tick tree.
fn update<W>(n: &TNode, other: &Node<W>) -> Result<TNode, CoreError> {
    if let Node::Leaf { value: true, ticks } = n {
        return if other.kids().is_some() {
            Err(CoreError::Clock(
                "Trying to update from overlapping forked clock",
            ))
        } else if other.local() > *ticks {
            Ok(Node::Leaf {
                value: true,
                ticks: other.local(),
            })
        } else {
            Ok(n.clone())
        };
    }
    let local = n.local().max(other.local());
    Ok(match other.kids() {
        Some((ol, or)) => Node::fork(local, update(bud(n, false), ol)?, update(bud(n, true), or)?),
        None => match n {
            Node::Leaf { value, .. } => Node::Leaf {
                value: *value,
                ticks: local,
            },
            Node::Fork { kids, .. } => Node::Fork {
                ticks: local,
                kids: kids.clone(),
            },
        },
    })
}

fn any_non_id_lt(a: &TNode, b: &TNode) -> bool {
    match (a.kids(), b.kids()) {
        (Some((al, ar)), Some((bl, br))) => any_non_id_lt(al, bl) || any_non_id_lt(ar, br),
        _ => match (non_id_ticks(a), non_id_ticks(b)) {
            (Some(x), Some(y)) => x < y,
            _ => false,
        },
    }
}

fn is_zero_id(n: &TNode) -> bool {
    match n {
        Node::Leaf { value: true, ticks } => *ticks == 0,
        Node::Leaf { value: false, .. } => false,
        Node::Fork { kids, .. } => is_zero_id(&kids.0) || is_zero_id(&kids.1),
    }
}

fn write_leaf(is_id: bool, ticks: u64, out: &mut Vec<u8>) {
    if is_id {
        if ticks > 0 {
            out.push(0x91);
            msgpack::write_uint(out, ticks);
        } else {
            out.push(0x90);
        }
    } else {
        msgpack::write_uint(out, ticks);
    }
}

/// Writes the msgpack of `toJSON('forHash')`. Returns what JS `isZeroId(json)` says of the
/// written JSON: `Some(true)` for `[]`, `Some(false)` for `0`, `None` otherwise.
fn write_for_hash(n: &TNode, out: &mut Vec<u8>) -> Option<bool> {
    match n {
        Node::Leaf { value, ticks } => {
            write_leaf(*value, *ticks, out);
            (*ticks == 0).then_some(*value)
        }
        Node::Fork { ticks, kids } => {
            let mark = out.len();
            if *ticks == 0 {
                out.push(0x92);
            } else {
                out.push(0x93);
                msgpack::write_uint(out, *ticks);
            }
            let left = write_for_hash(&kids.0, out);
            let right = write_for_hash(&kids.1, out);
            if let (Some(l), Some(r)) = (left, right) {
                // Both children zero: collapse to a leaf ("a fork is not an event").
                out.truncate(mark);
                let is_id = l || r;
                write_leaf(is_id, *ticks, out);
                (*ticks == 0).then_some(is_id)
            } else {
                None
            }
        }
    }
}

fn to_json(n: &TNode) -> serde_json::Value {
    use serde_json::Value as J;
    match n {
        Node::Leaf { value: true, ticks } => J::Array(if *ticks > 0 {
            vec![J::from(*ticks)]
        } else {
            vec![]
        }),
        Node::Leaf {
            value: false,
            ticks,
        } => J::from(*ticks),
        Node::Fork { ticks, kids } => {
            let mut items = Vec::with_capacity(3);
            if *ticks > 0 {
                items.push(J::from(*ticks));
            }
            items.push(to_json(&kids.0));
            items.push(to_json(&kids.1));
            J::Array(items)
        }
    }
}

fn to_msgpack(n: &TNode) -> rmpv::Value {
    use rmpv::Value as M;
    match n {
        Node::Leaf { value: true, ticks } => M::Array(if *ticks > 0 {
            vec![M::from(*ticks)]
        } else {
            vec![]
        }),
        Node::Leaf {
            value: false,
            ticks,
        } => M::from(*ticks),
        Node::Fork { ticks, kids } => {
            let mut items = Vec::with_capacity(3);
            if *ticks > 0 {
                items.push(M::from(*ticks));
            }
            items.push(to_msgpack(&kids.0));
            items.push(to_msgpack(&kids.1));
            M::Array(items)
        }
    }
}

fn fmt_json(n: &TNode, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match n {
        Node::Leaf { value: true, ticks } => {
            if *ticks > 0 {
                write!(f, "[{ticks}]")
            } else {
                f.write_str("[]")
            }
        }
        Node::Leaf {
            value: false,
            ticks,
        } => write!(f, "{ticks}"),
        Node::Fork { ticks, kids } => {
            f.write_str("[")?;
            if *ticks > 0 {
                write!(f, "{ticks},")?;
            }
            fmt_json(&kids.0, f)?;
            f.write_str(",")?;
            fmt_json(&kids.1, f)?;
            f.write_str("]")
        }
    }
}

fn parse_ticks<F: Form>(v: &F) -> Result<u64, String> {
    match v.shape()? {
        Shape::Ticks(t) => Ok(t),
        Shape::Array(_) => Err("ticks must be a number, found an array".into()),
        Shape::Str(_) => Err("ticks must be a number, found a string".into()),
    }
}

/// JS `TreeClock.fromJson`, with numbers checked and nesting bounded.
fn parse<F: Form>(v: &F, depth: usize) -> Result<TNode, String> {
    if depth >= MAX_CLOCK_DEPTH {
        return Err(format!("nested deeper than {MAX_CLOCK_DEPTH}"));
    }
    match v.shape()? {
        Shape::Ticks(ticks) => Ok(Node::Leaf {
            value: false,
            ticks,
        }),
        Shape::Str(_) => Err("unexpected string".into()),
        Shape::Array(items) => match items {
            [] => Ok(GENESIS),
            [ticks] => Ok(Node::Leaf {
                value: true,
                ticks: parse_ticks(ticks)?,
            }),
            [left, right] => Ok(Node::fork(
                0,
                parse(left, depth + 1)?,
                parse(right, depth + 1)?,
            )),
            [ticks, left, right] => Ok(Node::fork(
                parse_ticks(ticks)?,
                parse(left, depth + 1)?,
                parse(right, depth + 1)?,
            )),
            _ => Err(format!("array of length {}", items.len())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MAX_CLOCK_DEPTH;
    use serde_json::json;

    fn clock(j: serde_json::Value) -> TreeClock {
        TreeClock::from_json(&j).unwrap()
    }

    #[test]
    fn protocol_hash_vectors() {
        // docs/protocol.md §3.6 table.
        let g = TreeClock::genesis();
        assert_eq!(g.hash().to_string(), "kA==");
        assert_eq!(g.ticked().hash().to_string(), "kQE=");
        let (l, r) = g.forked();
        assert_eq!(l.to_json(), json!([[], 0]));
        assert_eq!(r.to_json(), json!([0, []]));
        assert_eq!(l.hash(), g.hash());
        let two = g.ticked().ticked();
        let (a1, b1) = two.forked();
        assert_eq!(a1.to_json_for_hash(), json!([2]));
        let a1 = a1.ticked();
        assert_eq!(a1.to_string(), "[2,[1],0]");
        assert_eq!(a1.hash().to_string(), "kwKRAQA=");
        let b1 = b1.ticked().ticked();
        assert_eq!(b1.hash().to_string(), "kwIAkQI=");
        let (b2, c1) = b1.forked();
        assert_eq!(b2.to_json(), json!([2, 0, [2, [], 0]]));
        assert_eq!(b2.hash().to_string(), "kwIAkQI=");
        assert_eq!(c1.ticked().hash().to_string(), "kwIAkwIAkQE=");
        let mut deep = TreeClock::genesis();
        for _ in 0..8 {
            deep = deep.ticked().forked().1.ticked();
        }
        assert_eq!(deep.for_hash_bytes().len(), 26);
        assert_eq!(deep.hash().to_string(), "WxWWjo6rVM0GwX2EOd6n1iLBzC4=");
    }

    #[test]
    fn ticks_and_non_id_ticks() {
        let c = clock(json!([1, [13, 0, []], 5]));
        assert_eq!(c.ticks(), 14);
        // The left branch's non-ID leaf has zero ticks, which is not truthy.
        assert_eq!(c.non_id_ticks(), Some(6));
        assert_eq!(clock(json!([1, [13, 2, []], 5])).non_id_ticks(), Some(21));
        assert_eq!(clock(json!([1, [9], 5])).ticks(), 10);
        // Zero non-ID ticks are not truthy.
        assert_eq!(clock(json!([3, [2], 0])).non_id_ticks(), None);
        assert_eq!(TreeClock::genesis().non_id_ticks(), None);
    }

    #[test]
    fn ticked_rewinds_and_detects_ambiguity() {
        let b1 = clock(json!([2, 0, [2]]));
        assert_eq!(b1.ticked_to(3).unwrap().to_json(), json!([2, 0, [1]]));
        assert_eq!(b1.ticked_to(1).unwrap().to_json(), json!([1]));
        let forked = clock(json!([[2], 0]));
        assert!(matches!(
            forked.ticked_like(&clock(json!([5]))),
            Err(CoreError::Clock(_))
        ));
    }

    #[test]
    fn update_refuses_overlapping_fork() {
        let id = clock(json!([3]));
        assert!(id.update(&clock(json!([[1], 0]))).is_err());
        assert_eq!(id.update(&clock(json!([5]))).unwrap().to_json(), json!([5]));
        assert_eq!(id.update(&clock(json!([2]))).unwrap(), id);
    }

    #[test]
    fn deepest_clocks_work_on_a_small_stack() {
        // 2 MiB is the default stack of spawned and tokio worker threads.
        let run = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
            let mut c = TreeClock::genesis();
            while c.depth() < MAX_CLOCK_DEPTH - 1 {
                c = c.ticked().forked().1;
            }
            let c = c.ticked();
            assert_eq!(TreeClock::from_msgpack(&c.to_msgpack()).unwrap(), c);
            assert_eq!(TreeClock::from_json(&c.to_json()).unwrap(), c);
            let (l, r) = c.forked();
            assert_eq!(l.depth(), MAX_CLOCK_DEPTH);
            assert_eq!(TreeClock::from_json(&l.to_json()).unwrap(), l);
            let too_deep = l.forked().0;
            assert!(TreeClock::from_json(&too_deep.to_json()).is_err());
            assert!(TreeClock::from_msgpack(&too_deep.to_msgpack()).is_err());
            let (l, r) = (l.ticked(), r.ticked());
            let u = l.update(&r).unwrap();
            assert_eq!(u.get_ticks(&r), Some(r.ticks()));
            assert!(l.any_lt(&r) && r.any_lt(&l));
            // Each sees only the other's ID ticks, which anyNonIdLt ignores.
            assert!(!l.any_non_id_lt(&r) && !r.any_non_id_lt(&l));
            assert_eq!(u.ticked_to(0).unwrap(), TreeClock::genesis());
            assert_ne!(l.hash(), r.hash());
            assert!(u.to_string().len() > 2 * MAX_CLOCK_DEPTH);
        });
        assert!(run.unwrap().join().is_ok());
    }

    #[test]
    fn display_is_compact_json() {
        let c = clock(json!([1, [13, 0, []], 5]));
        assert_eq!(c.to_string(), "[1,[13,0,[]],5]");
        assert_eq!(format!("{c:?}"), "[1,[13,0,[]],5]");
        assert_eq!(c.to_string(), c.to_json().to_string());
    }
}

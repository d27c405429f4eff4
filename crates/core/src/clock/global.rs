//! [`GlobalClock`] ("GWC"): the latest public ticks and TID of every process, bit-exact with
//! m-ld-js `GlobalClock` (docs/protocol.md §3.5, §3.7).
//!
//! Owns the GWC tree, its leaf values ([`GwcValue`], including the `'!blocked!'` marker of
//! docs/protocol.md §2.6) and its JSON and msgpack forms. It must not know about journals or
//! operations: callers pass clock times and TIDs in.

use std::borrow::Cow;
use std::fmt;

use super::form::{Form, Shape};
use super::node::{self, Node};
use super::tid::Tid;
use super::tree::{self, TNode, TreeClock};
use super::{MAX_CLOCK_DEPTH, TickTree, sealed};
use crate::CoreError;

/// The text JS writes in a GWC leaf of a blocked process (not in the base64 alphabet).
pub const BLOCKED_MARKER: &str = "!blocked!";

/// The value of a GWC leaf.
///
/// JS keeps a string here: a TID, or `'!blocked!'` once a process has sent a bad operation and
/// is ignored from then on (`JournalState.block`). The empty string JS uses transiently never
/// appears in a reachable GWC and is rejected when parsing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum GwcValue {
    /// The TID of the latest operation seen from the process.
    Tid(Tid),
    /// The process is blocked (JSON `"!blocked!"`).
    Blocked,
}

impl GwcValue {
    fn parse(text: &str) -> Result<GwcValue, String> {
        if text == BLOCKED_MARKER {
            Ok(GwcValue::Blocked)
        } else {
            text.parse::<Tid>()
                .map(GwcValue::Tid)
                .map_err(|e| format!("bad GWC leaf: {e}"))
        }
    }
}

impl fmt::Display for GwcValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GwcValue::Tid(tid) => fmt::Display::fmt(tid, f),
            GwcValue::Blocked => f.write_str(BLOCKED_MARKER),
        }
    }
}

type GNode = Node<GwcValue>;

/// The public clock time ("GWC"): for every process, the ticks and [`GwcValue`] of the latest
/// operation seen from it. It shares its tree shape with the [`TreeClock`]s of the domain.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GlobalClock {
    root: GNode,
}

impl sealed::Sealed for GlobalClock {
    type Value = GwcValue;

    fn root(&self) -> &GNode {
        &self.root
    }
}

impl TickTree for GlobalClock {}

impl GlobalClock {
    /// JS `GlobalClock.GENESIS`: `[0,"kA=="]`.
    pub fn genesis() -> GlobalClock {
        GlobalClock {
            root: Node::Leaf {
                value: GwcValue::Tid(TreeClock::genesis().hash()),
                ticks: 0,
            },
        }
    }

    /// JS `set(time)`: records `time`'s process at `time.ticks()` with TID `time.hash()`.
    pub fn set(&self, time: &TreeClock) -> Result<GlobalClock, CoreError> {
        self.set_value(time, GwcValue::Tid(time.hash()))
    }

    /// JS `set(time, tid)`: records `time`'s process at `time.ticks()` with the given TID.
    pub fn set_tid(&self, time: &TreeClock, tid: Tid) -> Result<GlobalClock, CoreError> {
        self.set_value(time, GwcValue::Tid(tid))
    }

    /// JS `JournalState.block`: marks `time`'s process blocked (at `time.ticks()`).
    pub fn block(&self, time: &TreeClock) -> Result<GlobalClock, CoreError> {
        self.set_value(time, GwcValue::Blocked)
    }

    /// Records `time`'s process at `time.ticks()` with the given leaf value.
    ///
    /// Fails if `time` forks at a node whose local ticks differ from this clock's there ("a
    /// different process group").
    pub fn set_value(&self, time: &TreeClock, value: GwcValue) -> Result<GlobalClock, CoreError> {
        let root = set(&self.root, sealed::Sealed::root(time), value)?;
        Ok(GlobalClock { root })
    }

    /// The ticks of `process`'s process as recorded here (JS `getTicks`).
    pub fn get_ticks(&self, process: &TreeClock) -> Option<u64> {
        node::get_ticks(Some(&self.root), Some(sealed::Sealed::root(process)))
    }

    /// The leaf value for `process`'s process; fails if this clock is forked below that
    /// process's ID ("Global clock is in the future").
    pub fn value(&self, process: &TreeClock) -> Result<GwcValue, CoreError> {
        value_at(&self.root, sealed::Sealed::root(process))
            .ok_or(CoreError::Clock("Global clock is in the future"))
    }

    /// The TID of the latest operation of `process`'s process (JS `tid`). Fails as
    /// [`GlobalClock::value`] does, and also if the process is blocked.
    pub fn tid(&self, process: &TreeClock) -> Result<Tid, CoreError> {
        match self.value(process)? {
            GwcValue::Tid(tid) => Ok(tid),
            GwcValue::Blocked => Err(CoreError::Clock("process is blocked")),
        }
    }

    /// Whether `process`'s process is blocked (JS `JournalState.isBlocked`).
    pub fn is_blocked(&self, process: &TreeClock) -> Result<bool, CoreError> {
        Ok(self.value(process)? == GwcValue::Blocked)
    }

    /// JS `tids()`: the TIDs of all leaves, left to right, including the genesis TID `kA==` and
    /// repeats, but not blocked leaves.
    pub fn tids(&self) -> Vec<Tid> {
        let mut out = Vec::new();
        collect_values(&self.root, &mut |v| {
            if let GwcValue::Tid(tid) = v {
                out.push(*tid);
            }
        });
        out
    }

    /// All leaf values, left to right.
    pub fn values(&self) -> Vec<GwcValue> {
        let mut out = Vec::new();
        collect_values(&self.root, &mut |v| out.push(*v));
        out
    }

    /// JS `anyLt`: whether `other` has ticks somewhere that this clock has not seen.
    pub fn any_lt(&self, other: &impl TickTree) -> bool {
        node::any_lt(&self.root, sealed::Sealed::root(other))
    }

    /// The JSON form (`GlobalClockJson`).
    pub fn to_json(&self) -> serde_json::Value {
        to_json(&self.root)
    }

    /// Parses the JSON form: `[ticks, "tid"]` or `[ticks, [left, right]]`, where a TID is
    /// base64 of 1 to 20 bytes or `"!blocked!"`.
    pub fn from_json(json: &serde_json::Value) -> Result<GlobalClock, CoreError> {
        GlobalClock::parse(json)
    }

    /// The JSON form as msgpack values.
    pub fn to_msgpack(&self) -> rmpv::Value {
        to_msgpack(&self.root)
    }

    /// Parses the msgpack value form; the same rules as [`GlobalClock::from_json`].
    pub fn from_msgpack(v: &rmpv::Value) -> Result<GlobalClock, CoreError> {
        GlobalClock::parse(v)
    }

    fn parse<F: Form>(v: &F) -> Result<GlobalClock, CoreError> {
        let root = parse(v, 0).map_err(CoreError::BadClockJson)?;
        Ok(GlobalClock { root })
    }
}

impl fmt::Display for GlobalClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_json(&self.root, f)
    }
}

impl fmt::Debug for GlobalClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_json(&self.root, f)
    }
}

/// JS `leftBud`/`rightBud` of a GWC node: a leaf's buds inherit its value with zero ticks.
fn gbud(g: &GNode, right: bool) -> Cow<'_, GNode> {
    match g {
        Node::Fork { kids, .. } => Cow::Borrowed(if right { &kids.1 } else { &kids.0 }),
        Node::Leaf { value, .. } => Cow::Owned(Node::Leaf {
            value: *value,
            ticks: 0,
        }),
    }
}

/// JS `GlobalClock.set`.
fn set(g: &GNode, time: &TNode, value: GwcValue) -> Result<GNode, CoreError> {
    match time {
        Node::Leaf { value: true, ticks } => Ok(Node::Leaf {
            value,
            ticks: *ticks,
        }),
        Node::Fork { ticks, kids } if tree::has_id(time) => {
            if g.local() != *ticks {
                return Err(CoreError::Clock("time is from a different process group"));
            }
            Ok(Node::fork(
                g.local(),
                set(&gbud(g, false), &kids.0, value)?,
                set(&gbud(g, true), &kids.1, value)?,
            ))
        }
        // No ID in this part of the time: unchanged.
        _ => Ok(g.clone()),
    }
}

/// JS `GlobalClock._tid`: the value at `time`'s ID leaf, `None` if this clock is forked there
/// or `time` has no ID.
fn value_at(g: &GNode, time: &TNode) -> Option<GwcValue> {
    match (g, time) {
        (Node::Leaf { value, .. }, Node::Leaf { value: true, .. }) => Some(*value),
        (Node::Fork { .. }, Node::Leaf { value: true, .. }) => None,
        // Buds of a leaf inherit its value all the way down to the ID, if there is one.
        (Node::Leaf { value, .. }, _) => tree::has_id(time).then_some(*value),
        (Node::Fork { kids, .. }, _) => value_at(&kids.0, tree::bud(time, false))
            .or_else(|| value_at(&kids.1, tree::bud(time, true))),
    }
}

fn collect_values(g: &GNode, f: &mut impl FnMut(&GwcValue)) {
    match g {
        Node::Leaf { value, .. } => f(value),
        Node::Fork { kids, .. } => {
            collect_values(&kids.0, f);
            collect_values(&kids.1, f);
        }
    }
}

fn to_json(g: &GNode) -> serde_json::Value {
    use serde_json::Value as J;
    match g {
        Node::Leaf { value, ticks } => J::Array(vec![J::from(*ticks), J::from(value.to_string())]),
        Node::Fork { ticks, kids } => J::Array(vec![
            J::from(*ticks),
            J::Array(vec![to_json(&kids.0), to_json(&kids.1)]),
        ]),
    }
}

fn to_msgpack(g: &GNode) -> rmpv::Value {
    use rmpv::Value as M;
    match g {
        Node::Leaf { value, ticks } => M::Array(vec![M::from(*ticks), M::from(value.to_string())]),
        Node::Fork { ticks, kids } => M::Array(vec![
            M::from(*ticks),
            M::Array(vec![to_msgpack(&kids.0), to_msgpack(&kids.1)]),
        ]),
    }
}

fn fmt_json(g: &GNode, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match g {
        Node::Leaf { value, ticks } => write!(f, "[{ticks},\"{value}\"]"),
        Node::Fork { ticks, kids } => {
            write!(f, "[{ticks},[")?;
            fmt_json(&kids.0, f)?;
            f.write_str(",")?;
            fmt_json(&kids.1, f)?;
            f.write_str("]]")
        }
    }
}

fn parse<F: Form>(v: &F, depth: usize) -> Result<GNode, String> {
    if depth >= MAX_CLOCK_DEPTH {
        return Err(format!("nested deeper than {MAX_CLOCK_DEPTH}"));
    }
    let Shape::Array([ticks, part]) = v.shape()? else {
        return Err("a global clock node must be a 2-element array".into());
    };
    let Shape::Ticks(ticks) = ticks.shape()? else {
        return Err("global clock ticks must be a number".into());
    };
    match part.shape()? {
        Shape::Str(text) => Ok(Node::Leaf {
            value: GwcValue::parse(text)?,
            ticks,
        }),
        Shape::Array([left, right]) => Ok(Node::fork(
            ticks,
            parse(left, depth + 1)?,
            parse(right, depth + 1)?,
        )),
        _ => Err("a global clock part must be a TID or a 2-element array".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn clock(j: serde_json::Value) -> TreeClock {
        TreeClock::from_json(&j).unwrap()
    }

    #[test]
    fn protocol_gwc_vectors() {
        let g = GlobalClock::genesis();
        assert_eq!(g.to_json(), json!([0, "kA=="]));
        let g = g.set(&clock(json!([2]))).unwrap();
        assert_eq!(g.to_string(), r#"[2,"kQI="]"#);
        let g = g.set(&clock(json!([2, 0, [2]]))).unwrap();
        assert_eq!(g.to_json(), json!([2, [[0, "kQI="], [2, "kwIAkQI="]]]));
        let a1 = clock(json!([2, [1], 0]));
        let g = g.set(&a1).unwrap();
        assert_eq!(g.to_json(), json!([2, [[1, "kwKRAQA="], [2, "kwIAkQI="]]]));
        assert_eq!(g.get_ticks(&a1), Some(3));
        assert_eq!(g.tid(&a1).unwrap().to_string(), "kwKRAQA=");
        let tids: Vec<String> = g.tids().iter().map(Tid::to_string).collect();
        assert_eq!(tids, ["kwKRAQA=", "kwIAkQI="]);
    }

    #[test]
    fn blocked_marker_round_trips_and_is_reported() {
        let b = clock(json!([2, 0, [2]]));
        let g = GlobalClock::genesis().set(&clock(json!([2]))).unwrap();
        let g = g.block(&b).unwrap();
        assert_eq!(g.to_json(), json!([2, [[0, "kQI="], [2, "!blocked!"]]]));
        assert!(g.is_blocked(&b).unwrap());
        assert!(g.tid(&b).is_err());
        assert_eq!(g.tids().len(), 1);
        assert_eq!(GlobalClock::from_json(&g.to_json()).unwrap(), g);
    }

    #[test]
    fn tid_of_a_forked_region_is_in_the_future() {
        let g = GlobalClock::from_json(&json!([1, [[1, "kQE="], [0, "kQE="]]])).unwrap();
        assert!(g.tid(&clock(json!([2]))).is_err());
    }

    #[test]
    fn different_process_group_is_an_error() {
        let g = GlobalClock::genesis();
        assert!(g.set(&clock(json!([2, 0, [2]]))).is_err());
    }

    #[test]
    fn bad_gwc_json_is_an_error() {
        for bad in [
            json!([]),
            json!([1]),
            json!([1, ""]),
            json!([1, "kQE"]),
            json!([-1, "kQE="]),
            json!([1, [[1, "kQE="]]]),
            json!([1, "kQE=", 3]),
            json!({"a": 1}),
        ] {
            assert!(GlobalClock::from_json(&bad).is_err(), "{bad}");
        }
    }
}

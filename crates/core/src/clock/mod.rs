//! Tree clocks, global clocks and transaction identities (TIDs), bit-exact with m-ld-js 0.10
//! (`src/engine/clocks.ts`; docs/protocol.md §3.5–§3.7, §4.1).
//!
//! Owns [`TreeClock`] (a process's causal clock), [`GlobalClock`] (the "GWC" of latest public
//! ticks and TIDs), [`Tid`] and the [`TickTree`] view they share. It must not know about
//! operations, the SU-Set, the journal or stores, and does no I/O.
//!
//! Deliberate differences from JS, all on input JS itself never produces:
//! * parsing requires non-negative integer ticks (integral floats are accepted, as JS cannot
//!   tell them apart), exactly one ID leaf in a tree clock, base64 TIDs of 1 to 20 bytes (or
//!   `"!blocked!"`) in a global clock, and nesting of at most [`MAX_CLOCK_DEPTH`];
//! * operations that would leave a tree clock without its ID leaf fail instead of returning an
//!   ID-less clock;
//! * tick sums saturate at `u64::MAX` instead of losing precision.

mod form;
mod global;
mod node;
mod tid;
mod tree;

pub use global::{BLOCKED_MARKER, GlobalClock, GwcValue};
pub use tid::{MAX_TID_LEN, Tid};
pub use tree::TreeClock;

/// The deepest clock tree that parsing accepts.
pub const MAX_CLOCK_DEPTH: usize = 1000;

mod sealed {
    /// Gives the clock algorithms access to the tree of either clock kind.
    pub trait Sealed {
        /// The leaf value type.
        type Value;
        /// The root node.
        fn root(&self) -> &super::node::Node<Self::Value>;
    }
}

/// A tree of ticks: a [`TreeClock`] or a [`GlobalClock`]. Lets [`TreeClock::update`] and the
/// `any_lt` comparisons take either kind, as JS `TickTree` does.
pub trait TickTree: sealed::Sealed {
    /// Ticks at the root, before any fork (JS `localTicks`).
    fn local_ticks(&self) -> u64 {
        self.root().local()
    }

    /// The sum of all ticks in the tree (JS `deepTicks`).
    fn deep_ticks(&self) -> u64 {
        self.root().deep()
    }

    /// Whether the root is a fork.
    fn is_forked(&self) -> bool {
        self.root().kids().is_some()
    }

    /// The depth of the tree: 1 for a single leaf.
    fn depth(&self) -> usize {
        self.root().depth()
    }
}

//! Constraint hooks: app rules that may reject a local write or resolve the effect of a remote
//! operation.
//!
//! Owns the [`Constraint`] trait and the read-only [`ReadTriples`] view constraints see. It holds
//! no concrete constraint (the single-valued rule and friends come later) and must not write to a
//! store: a constraint only returns a verdict or a [`Patch`] of assertions, which the SU-Set turns
//! into a journaled constraint operation (m-ld-js `MeldConstraint`, docs/protocol.md §4.2, §6.3).

use oxrdf::{NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple};

use crate::CoreError;
use crate::clock::Tid;
pub use crate::suset::Patch;

/// Read access to a dataset state, as a constraint sees it.
pub trait ReadTriples {
    /// Whether the triple is in the graph.
    fn contains(&self, triple: &Triple) -> Result<bool, CoreError>;

    /// The triples matching a pattern (`None` is a variable), in no particular order.
    fn matching<'a>(
        &'a self,
        s: Option<NamedOrBlankNodeRef<'a>>,
        p: Option<NamedNodeRef<'a>>,
        o: Option<TermRef<'a>>,
    ) -> Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'a>;

    /// The TIDs of a triple (empty if it is absent).
    fn tids(&self, triple: &Triple) -> Result<Vec<Tid>, CoreError>;
}

/// A rule over the dataset.
///
/// In both hooks `state` already reflects `patch` (the effective change: deletes that removed a
/// triple from the graph, and inserts).
pub trait Constraint: Send + Sync {
    /// Called for a local write before it commits: an error rejects the whole write (nothing is
    /// written and the clock does not tick).
    fn check(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<(), CoreError>;

    /// Called after a remote operation is applied (before it commits): returns assertions to
    /// restore the rule (an empty patch if none). Non-empty assertions become a constraint
    /// operation, journaled and returned for broadcast as the `resolution`. An error fails the
    /// application of the remote operation (nothing is written).
    fn apply(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<Patch, CoreError>;
}

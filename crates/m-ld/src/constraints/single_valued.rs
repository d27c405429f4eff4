//! The single-valued rule (m-ld-js `SingleValued`, docs/protocol.md §6.3): a property with at most
//! one value per subject.
//!
//! Owns the rule only: a local write that leaves more than one value fails; a remote operation
//! that does is resolved to the maximum value, asserting deletion of the others.

use m_ld_core::CoreError;
use m_ld_core::constraint::{Constraint, Patch, ReadTriples};
use oxrdf::{NamedNode, Term, Triple};

use super::js::JsValue;
use super::{subject_label, subjects_with, values_label, values_of};

/// A property that may have only one value per subject.
///
/// - **check** (local writes): a write that leaves a subject it gives a value of the property
///   with more than one value fails with [`CoreError::ConstraintViolated`] (5001),
///   `Multiple values for <subject>: <property> <values>`.
/// - **apply** (remote operations): for each subject the operation gives a value of the
///   property, if more than one value results, the maximum stays and the deletion of the others
///   is asserted. The maximum is m-ld-js's: values are compared with JS `>` on their JSON form
///   (strings by UTF-16 code units, numbers numerically, the `@value` of value objects); a value
///   that is not greater (e.g. another reference) does not displace the current maximum.
#[derive(Clone)]
pub struct SingleValued {
    property: NamedNode,
}

impl std::fmt::Debug for SingleValued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleValued")
            .field("property", &self.property)
            .finish_non_exhaustive()
    }
}

impl SingleValued {
    /// The rule for `property`.
    pub fn new(property: NamedNode) -> Self {
        SingleValued { property }
    }

    /// The property.
    pub fn property(&self) -> &NamedNode {
        &self.property
    }
}

/// The index of the value that wins among `values` (m-ld-js
/// `values.reduce((max, v) => comparable(v) > comparable(max) ? v : max)`); `None` if empty.
pub(crate) fn winner(values: &[Term]) -> Option<usize> {
    let mut best: Option<(usize, JsValue<'_>)> = None;
    for (i, v) in values.iter().enumerate() {
        let js = JsValue::comparable(v.as_ref());
        best = match best {
            Some((_, ref max)) if !js.gt(max) => best,
            _ => Some((i, js)),
        };
    }
    best.map(|(i, _)| i)
}

impl Constraint for SingleValued {
    fn check(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<(), CoreError> {
        for subject in subjects_with(&patch.inserts, self.property.as_ref()) {
            let values = values_of(state, subject.as_ref(), self.property.as_ref())?;
            if values.len() > 1 {
                return Err(CoreError::ConstraintViolated(format!(
                    "Multiple values for {}: {}\n    {}",
                    subject_label(subject.as_ref()),
                    self.property.as_str(),
                    values_label(&values)
                )));
            }
        }
        Ok(())
    }

    fn apply(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<Patch, CoreError> {
        let mut resolution = Patch::default();
        for subject in subjects_with(&patch.inserts, self.property.as_ref()) {
            let values = values_of(state, subject.as_ref(), self.property.as_ref())?;
            if values.len() < 2 {
                continue;
            }
            let keep = winner(&values);
            for (i, value) in values.into_iter().enumerate() {
                if Some(i) != keep {
                    resolution.deletes.push(Triple::new(
                        subject.clone(),
                        self.property.clone(),
                        value,
                    ));
                }
            }
        }
        Ok(resolution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::values_of;
    use m_ld_core::store::MemoryStore;
    use m_ld_core::suset::{Applied, SuSet};
    use oxrdf::{Literal, NamedOrBlankNode};

    const NAME: &str = "http://test.example.org/#name";

    fn rule() -> SingleValued {
        SingleValued::new(NamedNode::new_unchecked(NAME))
    }

    fn fred() -> NamedOrBlankNode {
        NamedNode::new_unchecked("http://test.example.org/fred").into()
    }

    fn name(value: impl Into<Term>) -> Triple {
        Triple::new(fred(), NamedNode::new_unchecked(NAME), value)
    }

    fn text(s: &str) -> Term {
        Literal::new_simple_literal(s).into()
    }

    fn int(n: i64) -> Term {
        Literal::from(n).into()
    }

    fn iri(s: &str) -> Term {
        NamedNode::new_unchecked(format!("http://test.example.org/{s}")).into()
    }

    fn insert(triples: Vec<Triple>) -> Patch {
        Patch {
            deletes: vec![],
            inserts: triples,
        }
    }

    fn genesis() -> SuSet<MemoryStore> {
        let mut suset = SuSet::genesis(MemoryStore::new(), "test.example.org").unwrap();
        suset.add_constraint(Box::new(rule()));
        suset
    }

    fn pick(values: &[Term]) -> Term {
        let mut sorted = values.to_vec();
        sorted.sort_by(super::super::canonical_cmp);
        sorted[winner(&sorted).unwrap()].clone()
    }

    #[test]
    fn the_maximum_wins_by_js_comparison() {
        assert_eq!(pick(&[text("Flintstone"), text("Fred")]), text("Fred"));
        let freds: Vec<Term> = (0..5).map(|i| text(&format!("Fred{i}"))).collect();
        assert_eq!(pick(&freds), text("Fred4"));
        // Numbers numerically, not by lexical form.
        assert_eq!(pick(&[int(9), int(10), int(-3)]), int(10));
        // "a" (0x61) is greater than "[object Object]" (0x5B), which is greater than "F".
        assert_eq!(pick(&[iri("x"), text("a")]), text("a"));
        assert_eq!(pick(&[iri("x"), text("F")]), iri("x"));
        assert_eq!(winner(&[]), None);
        // References never displace the first.
        let refs = [iri("b"), iri("a")];
        assert_eq!(winner(&refs), Some(0));
    }

    #[test]
    fn a_local_write_with_two_values_is_rejected() {
        let mut suset = genesis();
        suset
            .transact(insert(vec![name(text("Fred"))]))
            .unwrap()
            .unwrap();
        let err = suset
            .transact(insert(vec![name(text("Flintstone"))]))
            .unwrap_err();
        assert!(matches!(err, CoreError::ConstraintViolated(_)), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(
                "Multiple values for http://test.example.org/fred: http://test.example.org/#name"
            ),
            "{message}"
        );
        assert_eq!(err.status(), 5001);
        // Replacing the value is fine, as is a write that does not touch the property.
        let replace = Patch {
            deletes: vec![name(text("Fred"))],
            inserts: vec![name(text("Flintstone"))],
        };
        assert!(suset.transact(replace).unwrap().is_some());
        let age = Triple::new(
            fred(),
            NamedNode::new_unchecked("http://test.example.org/#age"),
            int(40),
        );
        assert!(suset.transact(insert(vec![age])).unwrap().is_some());
    }

    #[test]
    fn a_remote_conflict_resolves_to_the_maximum_by_assertion() {
        let mut a = genesis();
        // b joins from a's snapshot, with a fork of a's clock.
        let snap = a.take_snapshot(true).unwrap();
        let mut b = SuSet::join(
            MemoryStore::new(),
            "test.example.org",
            snap.clock.unwrap(),
            snap.gwc,
            None,
            Vec::new(),
            snap.operations,
        )
        .unwrap();
        b.add_constraint(Box::new(rule()));
        let fred_op = a
            .transact(insert(vec![name(text("Fred"))]))
            .unwrap()
            .unwrap();
        let flint_op = b
            .transact(insert(vec![name(text("Flintstone"))]))
            .unwrap()
            .unwrap();
        // a keeps its own (greater) value; its resolution deletes "Flintstone".
        let Applied::Applied { update, resolution } = a.apply(flint_op.message).unwrap() else {
            panic!("not applied");
        };
        let a_resolution = resolution.expect("a resolves");
        assert!(update.inserts.is_empty(), "{update:?}");
        // b sees its value replaced.
        let Applied::Applied { update, resolution } = b.apply(fred_op.message).unwrap() else {
            panic!("not applied");
        };
        let b_resolution = resolution.expect("b resolves");
        assert_eq!(update.deletes, vec![name(text("Flintstone"))]);
        assert_eq!(update.inserts, vec![name(text("Fred"))]);
        // The resolutions are idempotent on the other side.
        a.apply(b_resolution).unwrap();
        b.apply(a_resolution).unwrap();
        for s in [&a, &b] {
            let state = s.state();
            let values = values_of(
                &state,
                fred().as_ref(),
                NamedNode::new_unchecked(NAME).as_ref(),
            )
            .unwrap();
            assert_eq!(values, vec![text("Fred")]);
        }
    }
}

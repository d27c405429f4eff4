//! SHACL property shapes as clone constraints (m-ld-js `@m-ld/m-ld/ext/shacl` `PropertyShape`):
//! `sh:path` with `sh:minCount` and `sh:maxCount` (and `sh:name`).
//!
//! Owns the cardinality rules only. Shapes come from the clone configuration
//! ([`ConstraintConfig::PropertyShape`](super::ConstraintConfig::PropertyShape)) or from the
//! domain data (m-ld-js `mld:controlled-shape`, see `declared.rs`). Resolutions are assertions
//! (journaled and broadcast), where m-ld-js entails a `maxCount` resolution locally and keeps
//! the removed values hidden: see `docs/divergences.md`.

use std::cmp::Ordering;

use m_ld_core::CoreError;
use m_ld_core::constraint::{Constraint, Patch, ReadTriples};
use oxrdf::{NamedNode, NamedOrBlankNode, Term, TermRef, Triple};

use super::js::{JsValue, utf16_cmp};
use super::{
    canonical_cmp, has_no_properties, subject_label, subjects_with, values_label, values_of,
};
use crate::MeldError;

/// A SHACL property shape: the number of values of `path` per subject.
///
/// Only subjects that a write or operation changes the property of are considered (as in
/// m-ld-js; `sh:targetClass` is not supported).
///
/// - **check** (local writes): more than `maxCount` values fail with `Too many values for
///   <subject> <property>: <values>`, fewer than `minCount` with `Too few values for …`
///   ([`CoreError::ConstraintViolated`], 5001). Deleting a subject entirely (no properties
///   left) is allowed despite `minCount`.
/// - **apply** (remote operations): with fewer than `minCount` values (and the subject not
///   entirely deleted), the greatest of the values the operation deleted are re-inserted, up to
///   `minCount`; with more than `maxCount`, the greatest `maxCount` values stay and the deletion
///   of the rest is asserted. "Greatest" is the descending SPARQL `ORDER BY` order m-ld-js sorts
///   with (`sortValues`): references above literals, references by IRI, literals by JS
///   comparison of their JSON values.
#[derive(Clone)]
pub struct PropertyShape {
    path: NamedNode,
    name: Vec<String>,
    min_count: Option<usize>,
    max_count: Option<usize>,
}

impl std::fmt::Debug for PropertyShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropertyShape")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("min_count", &self.min_count)
            .field("max_count", &self.max_count)
            .finish_non_exhaustive()
    }
}

impl PropertyShape {
    /// A shape for `path`; fails if `min_count` exceeds `max_count`.
    pub fn new(
        path: NamedNode,
        name: Vec<String>,
        min_count: Option<usize>,
        max_count: Option<usize>,
    ) -> Result<Self, MeldError> {
        if let (Some(min), Some(max)) = (min_count, max_count)
            && min > max
        {
            return Err(MeldError::Config(format!(
                "PropertyShape for {path}: minCount {min} exceeds maxCount {max}"
            )));
        }
        Ok(PropertyShape {
            path,
            name,
            min_count,
            max_count,
        })
    }

    /// `sh:path`.
    pub fn path(&self) -> &NamedNode {
        &self.path
    }

    /// `sh:name`.
    pub fn name(&self) -> &[String] {
        &self.name
    }

    /// `sh:minCount`.
    pub fn min_count(&self) -> Option<usize> {
        self.min_count
    }

    /// `sh:maxCount`.
    pub fn max_count(&self) -> Option<usize> {
        self.max_count
    }

    fn affected(&self, patch: &Patch) -> Vec<NamedOrBlankNode> {
        subjects_with(
            patch.deletes.iter().chain(&patch.inserts),
            self.path.as_ref(),
        )
    }

    fn violation(&self, mode: &str, subject: &NamedOrBlankNode, values: &[Term]) -> CoreError {
        CoreError::ConstraintViolated(format!(
            "{mode} values for {} {}: {}",
            subject_label(subject.as_ref()),
            self.path.as_str(),
            values_label(values)
        ))
    }

    fn triple(&self, subject: &NamedOrBlankNode, value: Term) -> Triple {
        Triple::new(subject.clone(), self.path.clone(), value)
    }
}

/// The ascending SPARQL `ORDER BY` order of m-ld-js `sortValues`, made total: literals before
/// references; literals by JS comparison of their JSON values (strings by UTF-16 code units,
/// numbers and booleans numerically, numbers before strings when mixed); references by IRI; then
/// by canonical term order.
pub(crate) fn shacl_cmp(a: &Term, b: &Term) -> Ordering {
    let is_ref = |t: &Term| !matches!(t, Term::Literal(_));
    let by_kind = is_ref(a).cmp(&is_ref(b));
    let by_value = match (a.as_ref(), b.as_ref()) {
        (TermRef::Literal(_), TermRef::Literal(_)) => js_total_cmp(
            &JsValue::comparable(a.as_ref()),
            &JsValue::comparable(b.as_ref()),
        ),
        (TermRef::NamedNode(x), TermRef::NamedNode(y)) => utf16_cmp(x.as_str(), y.as_str()),
        _ => Ordering::Equal,
    };
    by_kind.then(by_value).then_with(|| canonical_cmp(a, b))
}

/// A total order of JS primitives agreeing with JS `<` among strings and among numbers.
fn js_total_cmp(a: &JsValue<'_>, b: &JsValue<'_>) -> Ordering {
    let number = |v: &JsValue<'_>| match v {
        JsValue::Num(n) => Some(*n),
        JsValue::Bool(b) => Some(f64::from(u8::from(*b))),
        JsValue::Str(_) | JsValue::Object => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => match (a, b) {
            (JsValue::Str(x), JsValue::Str(y)) => utf16_cmp(x, y),
            _ => Ordering::Equal,
        },
    }
}

/// Sorts values greatest first.
fn sort_descending(values: &mut [Term]) {
    values.sort_by(|a, b| shacl_cmp(b, a));
}

impl Constraint for PropertyShape {
    fn check(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<(), CoreError> {
        for subject in self.affected(patch) {
            let values = values_of(state, subject.as_ref(), self.path.as_ref())?;
            if self.max_count.is_some_and(|max| values.len() > max) {
                return Err(self.violation("Too many", &subject, &values));
            }
            if self.min_count.is_some_and(|min| values.len() < min)
                && !has_no_properties(state, subject.as_ref())?
            {
                return Err(self.violation("Too few", &subject, &values));
            }
        }
        Ok(())
    }

    fn apply(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<Patch, CoreError> {
        let mut resolution = Patch::default();
        for subject in self.affected(patch) {
            let mut values = values_of(state, subject.as_ref(), self.path.as_ref())?;
            let n = values.len();
            if let Some(min) = self.min_count.filter(|min| n < *min) {
                if has_no_properties(state, subject.as_ref())? {
                    continue;
                }
                // Re-insert the greatest of the values this operation deleted.
                let mut deleted: Vec<Term> = patch
                    .deletes
                    .iter()
                    .filter(|t| t.subject == subject && t.predicate == self.path)
                    .map(|t| t.object.clone())
                    .filter(|o| !values.contains(o))
                    .collect();
                deleted.sort_by(canonical_cmp);
                deleted.dedup();
                sort_descending(&mut deleted);
                for value in deleted.into_iter().take(min - n) {
                    resolution.inserts.push(self.triple(&subject, value));
                }
            } else if let Some(max) = self.max_count.filter(|max| n > *max) {
                sort_descending(&mut values);
                for value in values.into_iter().skip(max) {
                    resolution.deletes.push(self.triple(&subject, value));
                }
            }
        }
        Ok(resolution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use m_ld_core::store::MemoryStore;
    use m_ld_core::suset::{Applied, SuSet};
    use oxrdf::Literal;

    const NAME: &str = "http://test.example.org/#name";
    const AGE: &str = "http://test.example.org/#age";

    fn shape(min: Option<usize>, max: Option<usize>) -> PropertyShape {
        PropertyShape::new(NamedNode::new_unchecked(NAME), vec![], min, max).unwrap()
    }

    fn fred() -> NamedOrBlankNode {
        NamedNode::new_unchecked("http://test.example.org/fred").into()
    }

    fn name(value: &str) -> Triple {
        Triple::new(
            fred(),
            NamedNode::new_unchecked(NAME),
            Literal::new_simple_literal(value),
        )
    }

    fn age(n: i64) -> Triple {
        Triple::new(fred(), NamedNode::new_unchecked(AGE), Literal::from(n))
    }

    fn patch(deletes: Vec<Triple>, inserts: Vec<Triple>) -> Patch {
        Patch { deletes, inserts }
    }

    /// Two clones of one domain, both with `shape`: b joined from a's snapshot.
    fn pair(shape: &PropertyShape, data: Vec<Triple>) -> (SuSet<MemoryStore>, SuSet<MemoryStore>) {
        let mut a = SuSet::genesis(MemoryStore::new(), "test.example.org").unwrap();
        a.add_constraint(Box::new(shape.clone()));
        a.transact(patch(vec![], data)).unwrap();
        let snap = a.take_snapshot(true).unwrap();
        let triples: Vec<(Triple, Vec<_>)> = snap
            .state
            .triples_with_tids()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut b = SuSet::join(
            MemoryStore::new(),
            "test.example.org",
            snap.clock.unwrap(),
            snap.gwc,
            None,
            triples,
            snap.operations,
        )
        .unwrap();
        b.add_constraint(Box::new(shape.clone()));
        (a, b)
    }

    fn names(s: &SuSet<MemoryStore>) -> Vec<String> {
        let state = s.state();
        let mut values: Vec<String> = values_of(
            &state,
            fred().as_ref(),
            NamedNode::new_unchecked(NAME).as_ref(),
        )
        .unwrap()
        .into_iter()
        .map(|t| match t {
            Term::Literal(l) => l.value().to_string(),
            other => other.to_string(),
        })
        .collect();
        values.sort();
        values
    }

    #[test]
    fn orders_like_sparql_order_by() {
        let lit = |s: &str| Term::from(Literal::new_simple_literal(s));
        let num = |n: i64| Term::from(Literal::from(n));
        let iri = |s: &str| Term::from(NamedNode::new_unchecked(s));
        let mut values = vec![
            iri("http://ex.org/b"),
            lit("Fred"),
            num(10),
            lit("Flintstone"),
            num(9),
            iri("http://ex.org/a"),
        ];
        sort_descending(&mut values);
        assert_eq!(
            values,
            vec![
                iri("http://ex.org/b"),
                iri("http://ex.org/a"),
                lit("Fred"),
                lit("Flintstone"),
                num(10),
                num(9),
            ]
        );
    }

    #[test]
    fn check_rejects_too_many_and_too_few_but_allows_a_full_delete() {
        let mut a = SuSet::genesis(MemoryStore::new(), "test.example.org").unwrap();
        a.add_constraint(Box::new(shape(Some(1), Some(1))));
        a.transact(patch(vec![], vec![name("Fred"), age(40)]))
            .unwrap();
        let err = a
            .transact(patch(vec![], vec![name("Flintstone")]))
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "Too many values for http://test.example.org/fred http://test.example.org/#name: "
            ),
            "{err}"
        );
        let err = a.transact(patch(vec![name("Fred")], vec![])).unwrap_err();
        assert!(
            err.to_string().contains(
                "Too few values for http://test.example.org/fred http://test.example.org/#name"
            ),
            "{err}"
        );
        // Replacing is fine; deleting the whole subject is fine.
        a.transact(patch(vec![name("Fred")], vec![name("Wilma")]))
            .unwrap()
            .unwrap();
        a.transact(patch(vec![name("Wilma"), age(40)], vec![]))
            .unwrap()
            .unwrap();
        assert!(names(&a).is_empty());
    }

    #[test]
    fn apply_keeps_the_greatest_max_count_values() {
        let shape = shape(None, Some(1));
        let (mut a, mut b) = pair(&shape, vec![]);
        let fred = a
            .transact(patch(vec![], vec![name("Fred")]))
            .unwrap()
            .unwrap();
        let flint = b
            .transact(patch(vec![], vec![name("Flintstone")]))
            .unwrap()
            .unwrap();
        let Applied::Applied { resolution, .. } = a.apply(flint.message).unwrap() else {
            panic!("not applied");
        };
        let a_res = resolution.unwrap();
        let Applied::Applied { resolution, .. } = b.apply(fred.message).unwrap() else {
            panic!("not applied");
        };
        a.apply(resolution.unwrap()).unwrap();
        b.apply(a_res).unwrap();
        assert_eq!(names(&a), vec!["Fred"]);
        assert_eq!(names(&b), vec!["Fred"]);
    }

    #[test]
    fn apply_reinstates_deleted_values_up_to_min_count() {
        // Concurrent deletes that each leave one value locally, but none together.
        let shape = shape(Some(1), None);
        let (mut a, mut b) = pair(&shape, vec![name("Fred"), name("Barney"), age(40)]);
        // a deletes "Fred" (leaving "Barney"), b deletes "Barney" (leaving "Fred").
        let a_op = a
            .transact(patch(vec![name("Fred")], vec![]))
            .unwrap()
            .unwrap();
        let b_op = b
            .transact(patch(vec![name("Barney")], vec![]))
            .unwrap()
            .unwrap();
        let Applied::Applied { resolution, update } = a.apply(b_op.message).unwrap() else {
            panic!("not applied");
        };
        // a re-inserts the value b deleted, the only one it can.
        assert_eq!(update.inserts, vec![name("Barney")]);
        let a_res = resolution.unwrap();
        let Applied::Applied { resolution, .. } = b.apply(a_op.message).unwrap() else {
            panic!("not applied");
        };
        a.apply(resolution.unwrap()).unwrap();
        b.apply(a_res).unwrap();
        assert_eq!(names(&a), names(&b));
        assert_eq!(names(&a), vec!["Barney", "Fred"]);
    }

    #[test]
    fn apply_does_not_reinstate_into_a_deleted_subject() {
        let shape = shape(Some(1), None);
        let (mut a, mut b) = pair(&shape, vec![name("Fred"), age(40)]);
        let b_op = b
            .transact(patch(vec![name("Fred"), age(40)], vec![]))
            .unwrap()
            .unwrap();
        let Applied::Applied { resolution, .. } = a.apply(b_op.message).unwrap() else {
            panic!("not applied");
        };
        assert!(resolution.is_none());
        assert!(names(&a).is_empty());
    }
}

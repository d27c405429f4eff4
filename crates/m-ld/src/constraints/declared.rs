//! SHACL shapes declared in the domain data (m-ld-js `ShapeConstrained` in the
//! `http://m-ld.org/extensions` list), as one clone constraint that follows the data.
//!
//! Owns [`DeclaredShapes`]: the property shapes of the committed state, applied to each local
//! write and remote operation exactly as configured shapes are ([`PropertyShape`]), and the
//! refusal (5011) of a write or operation that would declare an extension this engine does not
//! implement. Reading the declarations is m-ld-core's ([`DeclaredExtensions`]); this module must
//! not touch stores, clocks or messaging. The clone tells it when a transaction has ended
//! ([`DeclaredShapes::settle`], [`DeclaredShapes::abandon`]).
//!
//! As in m-ld-js (whose `CloneExtensions` re-reads extensions after each committed update), a
//! transaction is judged by the shapes declared *before* it: a write that declares a shape is not
//! checked against it, and neither is data written in the same operation.

use std::sync::{Mutex, MutexGuard, PoisonError};

use m_ld_core::CoreError;
use m_ld_core::constraint::{Constraint, Patch, ReadTriples};
use m_ld_core::features::DeclaredExtensions;
use oxrdf::{NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple};

use super::PropertyShape;

/// The shapes declared in a clone's data, as a constraint.
///
/// The shapes are those of the committed state. A transaction that touches a subject they were
/// read from (the extensions list, its slots, an extension, a shape) marks them stale; when it
/// ends, the clone calls [`DeclaredShapes::settle`] (committed) or [`DeclaredShapes::abandon`]
/// (not committed), and the shapes are re-read from the committed state if need be.
#[derive(Debug)]
pub(crate) struct DeclaredShapes {
    loaded: Mutex<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    declared: DeclaredExtensions,
    shapes: Vec<PropertyShape>,
    /// A transaction in progress touched the declarations.
    stale: bool,
}

impl Loaded {
    fn read(state: &dyn ReadTriples) -> Result<Self, CoreError> {
        let declared = DeclaredExtensions::read(state)?;
        let shapes = declared
            .shapes
            .iter()
            .map(|d| {
                PropertyShape::new(d.path.clone(), d.names.clone(), d.min_count, d.max_count)
                    .map_err(|e| CoreError::UnsupportedFeature(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Loaded {
            declared,
            shapes,
            stale: false,
        })
    }
}

impl DeclaredShapes {
    /// Reads the shapes declared in a committed state; fails (5011) if it declares extensions
    /// this engine does not implement.
    pub(crate) fn load(state: &dyn ReadTriples) -> Result<Self, CoreError> {
        Ok(DeclaredShapes {
            loaded: Mutex::new(Loaded::read(state)?),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Loaded> {
        // The guarded value is replaced whole, so a poisoned one is still consistent.
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of property shapes in force.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().shapes.len()
    }

    /// A transaction committed, changing `changed` (its update, resolutions included): re-reads
    /// the shapes from the committed state (got from `state` only then) if it touched them.
    pub(crate) fn settle<'a, R: ReadTriples>(
        &self,
        state: impl FnOnce() -> R,
        changed: impl IntoIterator<Item = &'a Triple>,
    ) -> Result<(), CoreError> {
        let mut loaded = self.lock();
        if loaded.stale || loaded.declared.touched_by(changed) {
            // Stays stale if the state cannot be read, so the next settle tries again.
            loaded.stale = true;
            *loaded = Loaded::read(&state())?;
            tracing::debug!("declared shapes now {:?}", loaded.shapes);
        }
        Ok(())
    }

    /// A transaction ended without committing: the committed state is unchanged.
    pub(crate) fn abandon(&self) {
        self.lock().stale = false;
    }

    /// Marks the shapes stale if `patch` touches their declarations, and then fails if the
    /// resulting `state` declares what this engine cannot honour.
    fn note(
        &self,
        loaded: &mut Loaded,
        state: &dyn ReadTriples,
        patch: &Patch,
    ) -> Result<(), CoreError> {
        if loaded
            .declared
            .touched_by(patch.deletes.iter().chain(&patch.inserts))
        {
            loaded.stale = true;
            DeclaredExtensions::read(state)?;
        }
        Ok(())
    }
}

impl Constraint for DeclaredShapes {
    fn check(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<(), CoreError> {
        let mut loaded = self.lock();
        self.note(&mut loaded, state, patch)?;
        for shape in &loaded.shapes {
            shape.check(state, patch)?;
        }
        Ok(())
    }

    fn apply(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<Patch, CoreError> {
        let mut loaded = self.lock();
        self.note(&mut loaded, state, patch)?;
        // Each shape sees the resolutions of those before it, as separately installed
        // constraints would.
        let mut resolution = Patch::default();
        for shape in &loaded.shapes {
            let asserted = shape.apply(&Resolved(state, &resolution), patch)?;
            for t in asserted.deletes {
                if let Some(i) = resolution.inserts.iter().position(|x| *x == t) {
                    resolution.inserts.remove(i);
                } else if !resolution.deletes.contains(&t) {
                    resolution.deletes.push(t);
                }
            }
            for t in asserted.inserts {
                if let Some(i) = resolution.deletes.iter().position(|x| *x == t) {
                    resolution.deletes.remove(i);
                } else if !resolution.inserts.contains(&t) {
                    resolution.inserts.push(t);
                }
            }
        }
        Ok(resolution)
    }
}

/// A state with a resolution so far applied over it.
struct Resolved<'a>(&'a dyn ReadTriples, &'a Patch);

impl ReadTriples for Resolved<'_> {
    fn contains(&self, triple: &Triple) -> Result<bool, CoreError> {
        if self.1.inserts.contains(triple) {
            Ok(true)
        } else if self.1.deletes.contains(triple) {
            Ok(false)
        } else {
            self.0.contains(triple)
        }
    }

    fn matching<'b>(
        &'b self,
        s: Option<NamedOrBlankNodeRef<'b>>,
        p: Option<NamedNodeRef<'b>>,
        o: Option<TermRef<'b>>,
    ) -> Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'b> {
        let Resolved(base, resolution) = *self;
        if resolution.deletes.is_empty() && resolution.inserts.is_empty() {
            return base.matching(s, p, o);
        }
        let hit = move |t: &Triple| {
            s.is_none_or(|s| t.subject.as_ref() == s)
                && p.is_none_or(|p| t.predicate.as_ref() == p)
                && o.is_none_or(|o| t.object.as_ref() == o)
        };
        let kept = base.matching(s, p, o).filter(move |t| {
            t.as_ref().map_or(true, |t| {
                !resolution.deletes.contains(t) && !resolution.inserts.contains(t)
            })
        });
        let added = resolution
            .inserts
            .iter()
            .filter(move |t| hit(t))
            .map(|t| Ok(t.clone()));
        Box::new(kept.chain(added))
    }

    fn tids(&self, triple: &Triple) -> Result<Vec<m_ld_core::clock::Tid>, CoreError> {
        if self.1.deletes.contains(triple) {
            Ok(Vec::new())
        } else {
            self.0.tids(triple)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use m_ld_core::features::{
        CONTROLLED_SHAPE, EXTENSIONS, JS_CLASS, JS_REQUIRE, SH_MAX_COUNT, SH_PATH, SHACL_REQUIRE,
        SHAPE_CONSTRAINED, SHAPE_CONSTRAINED_CLASS,
    };
    use m_ld_core::list;
    use m_ld_core::store::MemoryStore;
    use m_ld_core::suset::{Applied, SuSet};
    use oxrdf::{Literal, NamedNode, Term};

    const NAME: &str = "http://test.example.org/#name";
    const SHAPE: &str = "http://test.example.org/shape";
    const SLOT: &str = "http://test.example.org/.well-known/genid/slot";

    fn iri(s: &str) -> NamedNode {
        NamedNode::new_unchecked(s)
    }

    fn triple(s: &str, p: &str, o: impl Into<Term>) -> Triple {
        Triple::new(iri(s), iri(p), o)
    }

    fn name(value: &str) -> Triple {
        triple(
            "http://test.example.org/fred",
            NAME,
            Literal::new_simple_literal(value),
        )
    }

    /// `ShapeConstrained.declare(0, {sh:path name, sh:maxCount max})`.
    fn declaration(max: i64) -> Vec<Triple> {
        vec![
            triple(
                EXTENSIONS,
                "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
                iri(list::RDF_LSEQ),
            ),
            triple(EXTENSIONS, &format!("{}a", list::POS_ID_PREFIX), iri(SLOT)),
            triple(SLOT, list::ITEM, iri(SHAPE_CONSTRAINED)),
            triple(
                SHAPE_CONSTRAINED,
                JS_REQUIRE,
                Literal::new_simple_literal(SHACL_REQUIRE),
            ),
            triple(
                SHAPE_CONSTRAINED,
                JS_CLASS,
                Literal::new_simple_literal(SHAPE_CONSTRAINED_CLASS),
            ),
            triple(SHAPE_CONSTRAINED, CONTROLLED_SHAPE, iri(SHAPE)),
            triple(SHAPE, SH_PATH, iri(NAME)),
            triple(SHAPE, SH_MAX_COUNT, Literal::from(max)),
        ]
    }

    fn patch(deletes: Vec<Triple>, inserts: Vec<Triple>) -> Patch {
        Patch { deletes, inserts }
    }

    /// A genesis SU-Set with the declared shapes installed, as the clone installs them.
    fn genesis() -> (SuSet<MemoryStore>, std::sync::Arc<DeclaredShapes>) {
        let suset = SuSet::genesis(MemoryStore::new(), "test.example.org").unwrap();
        let shapes = std::sync::Arc::new(DeclaredShapes::load(&suset.state()).unwrap());
        let mut suset = suset;
        suset.add_constraint(Box::new(crate::constraints::Shared(shapes.clone())));
        (suset, shapes)
    }

    /// Commits a local write and settles the shapes, as the clone does.
    fn write(
        suset: &mut SuSet<MemoryStore>,
        shapes: &DeclaredShapes,
        p: Patch,
    ) -> Result<(), CoreError> {
        match suset.transact(p) {
            Ok(commit) => {
                let update = commit.map(|c| c.update).unwrap_or_default();
                shapes.settle(
                    || suset.state(),
                    update.deletes.iter().chain(&update.inserts),
                )
            }
            Err(e) => {
                shapes.abandon();
                Err(e)
            }
        }
    }

    #[test]
    fn a_declaration_applies_from_the_next_write() {
        let (mut suset, shapes) = genesis();
        // The declaring write is not checked against what it declares.
        let mut first = declaration(1);
        first.extend([name("Fred"), name("Flintstone")]);
        write(&mut suset, &shapes, patch(vec![], first)).unwrap();
        assert_eq!(shapes.len(), 1);
        let err = write(&mut suset, &shapes, patch(vec![], vec![name("Freddy")])).unwrap_err();
        assert!(err.to_string().contains("Too many values for"), "{err}");
        // Raising the count lifts the rule for later writes.
        write(
            &mut suset,
            &shapes,
            patch(
                vec![triple(SHAPE, SH_MAX_COUNT, Literal::from(1))],
                vec![triple(SHAPE, SH_MAX_COUNT, Literal::from(3))],
            ),
        )
        .unwrap();
        write(&mut suset, &shapes, patch(vec![], vec![name("Freddy")])).unwrap();
        // Removing the shape from the extension removes the rule.
        write(
            &mut suset,
            &shapes,
            patch(
                vec![triple(SHAPE_CONSTRAINED, CONTROLLED_SHAPE, iri(SHAPE))],
                vec![],
            ),
        )
        .unwrap();
        assert_eq!(shapes.len(), 0);
        write(&mut suset, &shapes, patch(vec![], vec![name("Fredo")])).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_shapes_in_force() {
        let (mut suset, shapes) = genesis();
        write(&mut suset, &shapes, patch(vec![], declaration(1))).unwrap();
        write(&mut suset, &shapes, patch(vec![], vec![name("Fred")])).unwrap();
        // Raising the count and breaking the old count at once fails the old check ...
        let err = write(
            &mut suset,
            &shapes,
            patch(
                vec![triple(SHAPE, SH_MAX_COUNT, Literal::from(1))],
                vec![
                    triple(SHAPE, SH_MAX_COUNT, Literal::from(2)),
                    name("Barney"),
                ],
            ),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Too many"), "{err}");
        // ... and the old count is still in force.
        assert!(write(&mut suset, &shapes, patch(vec![], vec![name("Barney")])).is_err());
        // Declaring an unknown extension is refused, changing nothing.
        let other = "http://ext.example.org/Other";
        let err = write(
            &mut suset,
            &shapes,
            patch(
                vec![],
                vec![
                    triple(
                        EXTENSIONS,
                        &format!("{}b", list::POS_ID_PREFIX),
                        iri(&format!("{SLOT}2")),
                    ),
                    triple(&format!("{SLOT}2"), list::ITEM, iri(other)),
                    triple(other, JS_REQUIRE, Literal::new_simple_literal("other")),
                ],
            ),
        )
        .unwrap_err();
        assert_eq!(err.status(), 5011, "{err}");
        assert!(err.to_string().contains(other), "{err}");
        assert_eq!(shapes.len(), 1);
    }

    #[test]
    fn remote_operations_resolve_with_the_declared_shapes() {
        let (mut a, a_shapes) = genesis();
        write(&mut a, &a_shapes, patch(vec![], declaration(1))).unwrap();
        let snap = a.take_snapshot(true).unwrap();
        let triples: Vec<_> = snap
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
        let b_shapes = std::sync::Arc::new(DeclaredShapes::load(&b.state()).unwrap());
        b.add_constraint(Box::new(crate::constraints::Shared(b_shapes.clone())));
        assert_eq!(b_shapes.len(), 1);
        let fred = a
            .transact(patch(vec![], vec![name("Fred")]))
            .unwrap()
            .unwrap();
        let flint = b
            .transact(patch(vec![], vec![name("Flintstone")]))
            .unwrap()
            .unwrap();
        let Applied::Applied { resolution, update } = b.apply(fred.message).unwrap() else {
            panic!("not applied");
        };
        // b keeps the m-ld-js maximum, "Fred".
        assert_eq!(update.deletes, vec![name("Flintstone")]);
        assert!(resolution.is_some());
        assert_eq!(update.inserts, vec![name("Fred")]);
        let Applied::Applied { resolution, .. } = a.apply(flint.message).unwrap() else {
            panic!("not applied");
        };
        assert!(resolution.is_some());
    }
}

//! Read access to a clone's triples: the [`Graph`] trait, its implementation for
//! [`oxrdf::Graph`] (tests, small tools), and the adapter that lets spareval evaluate SPARQL
//! algebra over any [`Graph`], handing it terms as small per-evaluation ids ([`TermId`]).
//!
//! Owns only triple access; must not know json-rql, contexts or rendering.

use crate::hash::IndexedSet;
use oxrdf::{NamedNode, NamedOrBlankNode, Term, Triple};
use spareval::{InternalQuad, QueryableDataset};
use std::cell::RefCell;
use std::convert::Infallible;
use std::iter::{empty, once};
use std::num::NonZeroU32;

/// Read access to the current triples of a clone (the default graph only).
///
/// Every combination of bound and unbound positions must be supported. Implementations return
/// owned triples; iteration order is not significant.
pub trait Graph {
    /// The error reading the graph can fail with.
    type Error: std::error::Error + Send + Sync + 'static;

    /// All triples matching the given subject, predicate and object (`None` matches anything).
    fn triples(
        &self,
        s: Option<&NamedNode>,
        p: Option<&NamedNode>,
        o: Option<&Term>,
    ) -> Box<dyn Iterator<Item = Result<Triple, Self::Error>> + '_>;
}

impl<G: Graph + ?Sized> Graph for &G {
    type Error = G::Error;

    fn triples(
        &self,
        s: Option<&NamedNode>,
        p: Option<&NamedNode>,
        o: Option<&Term>,
    ) -> Box<dyn Iterator<Item = Result<Triple, Self::Error>> + '_> {
        (**self).triples(s, p, o)
    }
}

impl Graph for oxrdf::Graph {
    type Error = Infallible;

    fn triples(
        &self,
        s: Option<&NamedNode>,
        p: Option<&NamedNode>,
        o: Option<&Term>,
    ) -> Box<dyn Iterator<Item = Result<Triple, Infallible>> + '_> {
        match (s, p, o) {
            (Some(s), Some(p), Some(o)) => {
                let triple = Triple::new(s.clone(), p.clone(), o.clone());
                if self.contains(&triple) {
                    Box::new(once(Ok(triple)))
                } else {
                    Box::new(empty())
                }
            }
            (Some(s), Some(p), None) => {
                let (subject, predicate) = (s.clone(), p.clone());
                Box::new(
                    self.objects_for_subject_predicate(s, p)
                        .map(move |object| {
                            Ok(Triple::new(
                                subject.clone(),
                                predicate.clone(),
                                object.into_owned(),
                            ))
                        })
                        .collect::<Vec<_>>()
                        .into_iter(),
                )
            }
            (Some(s), None, o) => {
                let object = o.cloned();
                Box::new(
                    self.triples_for_subject(s)
                        .filter(move |t| object.as_ref().is_none_or(|o| t.object == o.as_ref()))
                        .map(|t| Ok(t.into_owned())),
                )
            }
            (None, Some(p), Some(o)) => {
                let (predicate, object) = (p.clone(), o.clone());
                Box::new(
                    self.subjects_for_predicate_object(p, o)
                        .map(move |subject| {
                            Ok(Triple::new(
                                subject.into_owned(),
                                predicate.clone(),
                                object.clone(),
                            ))
                        })
                        .collect::<Vec<_>>()
                        .into_iter(),
                )
            }
            (None, p, Some(o)) => {
                let predicate = p.cloned();
                Box::new(
                    self.triples_for_object(o)
                        .filter(move |t| {
                            predicate.as_ref().is_none_or(|p| t.predicate == p.as_ref())
                        })
                        .map(|t| Ok(t.into_owned())),
                )
            }
            (None, Some(p), None) => {
                Box::new(self.triples_for_predicate(p).map(|t| Ok(t.into_owned())))
            }
            (None, None, None) => Box::new(self.iter().map(|t| Ok(t.into_owned()))),
        }
    }
}

/// A term as spareval handles it: one more than its position among the terms a query has
/// met.
///
/// Copying, comparing and hashing a small number is much cheaper than doing so with the term
/// (and its strings); equal ids are equal terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TermId(NonZeroU32);

impl TermId {
    fn of(position: usize) -> Option<TermId> {
        u32::try_from(position + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .map(TermId)
    }

    fn position(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// The terms one query evaluation has met, each stored once.
#[derive(Default)]
pub(crate) struct QueryTerms(RefCell<IndexedSet<Term>>);

impl QueryTerms {
    fn id<E>(&self, term: Term) -> Result<TermId, DatasetError<E>> {
        let position = self.0.borrow_mut().insert_full(term).0;
        TermId::of(position).ok_or(DatasetError::TooManyTerms)
    }

    fn term(&self, id: TermId) -> Option<Term> {
        self.0.borrow().get(id.position()).cloned()
    }
}

/// Why a [`GraphDataset`] failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DatasetError<E> {
    /// The graph failed.
    #[error(transparent)]
    Graph(E),
    /// spareval asked for a term by an id this evaluation never handed out.
    #[error("unknown internal term {0:?}")]
    UnknownTerm(TermId),
    /// The query met more distinct terms than can be numbered.
    #[error("the query meets too many distinct terms")]
    TooManyTerms,
}

/// Adapts a [`Graph`] to spareval's [`QueryableDataset`]: the graph is the default graph, and
/// there are no named graphs. Terms are handled as [`TermId`]s of `terms`.
pub(crate) struct GraphDataset<'a, G: ?Sized> {
    graph: &'a G,
    terms: &'a QueryTerms,
}

impl<'a, G: ?Sized> GraphDataset<'a, G> {
    /// The dataset of a graph, for one evaluation recording its terms in `terms`.
    pub(crate) fn new(graph: &'a G, terms: &'a QueryTerms) -> Self {
        GraphDataset { graph, terms }
    }
}

/// The IRI of a pattern position: `Ok(None)` if unbound, `Err(())` if bound to a term that
/// cannot be an IRI (so nothing matches).
fn named<'t>(
    terms: &'t IndexedSet<Term>,
    id: Option<&TermId>,
) -> Result<Option<&'t NamedNode>, ()> {
    match id.map(|id| terms.get(id.position())) {
        None => Ok(None),
        Some(Some(Term::NamedNode(n))) => Ok(Some(n)),
        Some(_) => Err(()),
    }
}

impl<'a, G: Graph + ?Sized> QueryableDataset<'a> for GraphDataset<'a, G> {
    type InternalTerm = TermId;
    type Error = DatasetError<G::Error>;

    fn internal_quads_for_pattern(
        &self,
        subject: Option<&TermId>,
        predicate: Option<&TermId>,
        object: Option<&TermId>,
        graph_name: Option<Option<&TermId>>,
    ) -> impl Iterator<Item = Result<InternalQuad<TermId>, Self::Error>> + use<'a, G> {
        let nothing =
            || -> Box<dyn Iterator<Item = Result<InternalQuad<TermId>, Self::Error>> + 'a> {
                Box::new(empty())
            };
        // Only the default graph exists.
        if graph_name != Some(None) {
            return nothing();
        }
        let (graph, terms) = (self.graph, self.terms);
        let triples = {
            let known = terms.0.borrow();
            let (Ok(s), Ok(p)) = (named(&known, subject), named(&known, predicate)) else {
                return nothing();
            };
            let o = match object.map(|id| known.get(id.position())) {
                None => None,
                Some(Some(Term::BlankNode(_)) | None) => return nothing(),
                Some(Some(o)) => Some(o),
            };
            graph.triples(s, p, o)
        };
        let (subject, predicate, object) = (subject.copied(), predicate.copied(), object.copied());
        Box::new(triples.map(move |triple| {
            let t = triple.map_err(DatasetError::Graph)?;
            // Bound positions keep their ids; only the other terms are looked up.
            let id = |bound: Option<TermId>, term: Term| match bound {
                Some(id) => Ok(id),
                None => terms.id(term),
            };
            let s = match t.subject {
                NamedOrBlankNode::NamedNode(n) => Term::NamedNode(n),
                NamedOrBlankNode::BlankNode(b) => Term::BlankNode(b),
            };
            Ok(InternalQuad {
                subject: id(subject, s)?,
                predicate: id(predicate, Term::NamedNode(t.predicate))?,
                object: id(object, t.object)?,
                graph_name: None,
            })
        }))
    }

    fn internalize_term(&self, term: Term) -> Result<TermId, Self::Error> {
        self.terms.id(term)
    }

    fn externalize_term(&self, term: TermId) -> Result<Term, Self::Error> {
        self.terms.term(term).ok_or(DatasetError::UnknownTerm(term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::Literal;

    fn nn(s: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("http://x/{s}"))
    }

    fn sample() -> oxrdf::Graph {
        let mut g = oxrdf::Graph::new();
        g.insert(&Triple::new(
            nn("fred"),
            nn("name"),
            Literal::new_simple_literal("Fred"),
        ));
        g.insert(&Triple::new(nn("fred"), nn("wife"), nn("wilma")));
        g.insert(&Triple::new(
            nn("wilma"),
            nn("name"),
            Literal::new_simple_literal("Wilma"),
        ));
        g
    }

    #[test]
    fn every_pattern_shape_is_supported() {
        let g = sample();
        let fred = nn("fred");
        let name = nn("name");
        let fred_name: Term = Literal::new_simple_literal("Fred").into();
        let wilma: Term = nn("wilma").into();
        let count = |s: Option<&NamedNode>, p: Option<&NamedNode>, o: Option<&Term>| {
            g.triples(s, p, o).filter(Result::is_ok).count()
        };
        assert_eq!(count(None, None, None), 3);
        assert_eq!(count(Some(&fred), None, None), 2);
        assert_eq!(count(Some(&fred), Some(&name), None), 1);
        assert_eq!(count(Some(&fred), Some(&name), Some(&fred_name)), 1);
        assert_eq!(count(Some(&fred), None, Some(&wilma)), 1);
        assert_eq!(count(None, Some(&name), None), 2);
        assert_eq!(count(None, Some(&name), Some(&fred_name)), 1);
        assert_eq!(count(None, None, Some(&wilma)), 1);
        assert_eq!(count(Some(&fred), Some(&name), Some(&wilma)), 0);
    }
}

//! Read access to a clone's triples: the [`Graph`] trait, its implementation for
//! [`oxrdf::Graph`] (tests, small tools), and the adapter that lets spareval evaluate SPARQL
//! algebra over any [`Graph`].
//!
//! Owns only triple access; must not know json-rql, contexts or rendering.

use oxrdf::{NamedNode, NamedOrBlankNode, Term, TermRef, Triple};
use spareval::{InternalQuad, QueryableDataset};
use std::convert::Infallible;
use std::iter::{empty, once};

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

/// Adapts a [`Graph`] to spareval's [`QueryableDataset`]: the graph is the default graph, and
/// there are no named graphs.
pub(crate) struct GraphDataset<'a, G: ?Sized>(pub &'a G);

impl<'a, G: Graph + ?Sized> QueryableDataset<'a> for GraphDataset<'a, G> {
    type InternalTerm = Term;
    type Error = G::Error;

    fn internal_quads_for_pattern(
        &self,
        subject: Option<&Term>,
        predicate: Option<&Term>,
        object: Option<&Term>,
        graph_name: Option<Option<&Term>>,
    ) -> impl Iterator<Item = Result<InternalQuad<Term>, G::Error>> + use<'a, G> {
        let graph: &'a G = self.0;
        let nothing = || -> Box<dyn Iterator<Item = Result<InternalQuad<Term>, G::Error>> + 'a> {
            Box::new(empty())
        };
        // Only the default graph exists.
        if graph_name != Some(None) {
            return nothing();
        }
        let subject = match subject {
            None => None,
            Some(Term::NamedNode(s)) => Some(s),
            Some(_) => return nothing(),
        };
        let predicate = match predicate {
            None => None,
            Some(Term::NamedNode(p)) => Some(p),
            Some(_) => return nothing(),
        };
        if let Some(o) = object
            && matches!(o.as_ref(), TermRef::BlankNode(_))
        {
            return nothing();
        }
        Box::new(graph.triples(subject, predicate, object).map(|triple| {
            triple.map(|t| InternalQuad {
                subject: match t.subject {
                    NamedOrBlankNode::NamedNode(n) => Term::NamedNode(n),
                    NamedOrBlankNode::BlankNode(b) => Term::BlankNode(b),
                },
                predicate: Term::NamedNode(t.predicate),
                object: t.object,
                graph_name: None,
            })
        }))
    }

    fn internalize_term(&self, term: Term) -> Result<Term, G::Error> {
        Ok(term)
    }

    fn externalize_term(&self, term: Term) -> Result<Term, G::Error> {
        Ok(term)
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

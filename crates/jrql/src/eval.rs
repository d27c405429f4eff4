//! Evaluation of SPARQL algebra over a [`Graph`] with spareval, consumed synchronously
//! (spareval's result iterators are not `Send`).
//!
//! Owns only running patterns and mapping evaluator errors; must not translate or render.

use crate::error::JrqlError;
use crate::graph::{DatasetError, Graph, GraphDataset, QueryTerms};
use oxrdf::{Term, Variable};
use spareval::{QueryEvaluationError, QueryEvaluator, QueryResults};
use spargebra::Query;
use spargebra::algebra::GraphPattern;
use std::error::Error;

fn evaluation_error<E: Error + Send + Sync + 'static>(error: QueryEvaluationError) -> JrqlError {
    match error {
        QueryEvaluationError::Dataset(e) => match e.downcast::<DatasetError<E>>() {
            Ok(e) => match *e {
                DatasetError::Graph(e) => JrqlError::Graph(Box::new(e)),
                other => JrqlError::Evaluation(other.to_string()),
            },
            Err(e) => JrqlError::Graph(e),
        },
        other => JrqlError::Evaluation(other.to_string()),
    }
}

/// Up to how many values a row is gathered on the stack.
const STACK_ROW: usize = 8;

/// Calls `f` with a row of `width` unbound values, on the stack when it is short.
pub(crate) fn with_blank_row<'t, R>(
    width: usize,
    f: impl FnOnce(&mut [Option<&'t Term>]) -> R,
) -> R {
    if width <= STACK_ROW {
        let mut stack = [None; STACK_ROW];
        f(&mut stack[..width])
    } else {
        f(&mut vec![None; width])
    }
}

/// Evaluates a pattern, calling `row` for each solution with the values of `variables` (in
/// that order; `None` where unbound).
pub(crate) fn for_each_solution<G: Graph + ?Sized>(
    graph: &G,
    pattern: GraphPattern,
    variables: &[Variable],
    mut row: impl FnMut(&[Option<&Term>]) -> Result<(), JrqlError>,
) -> Result<(), JrqlError> {
    tracing::trace!(%pattern, "evaluating");
    // Plans of triple patterns and joins only are run directly, as spareval would run them.
    if let Some(prepared) = crate::direct::prepare(&pattern) {
        let columns = prepared.columns(variables);
        return prepared.run(graph, &mut |tuple| {
            project(&columns, |i| *tuple.get(i)?, &mut row)
        });
    }
    spareval_solutions(graph, pattern, variables, row)
}

/// [`for_each_solution`] by spareval, whatever the plan.
pub(crate) fn spareval_solutions<G: Graph + ?Sized>(
    graph: &G,
    pattern: GraphPattern,
    variables: &[Variable],
    mut row: impl FnMut(&[Option<&Term>]) -> Result<(), JrqlError>,
) -> Result<(), JrqlError> {
    let query = Query::Select {
        dataset: None,
        pattern,
        base_iri: None,
    };
    let terms = QueryTerms::default();
    let evaluator = QueryEvaluator::new();
    let results = evaluator
        .prepare(&query)
        .execute(GraphDataset::new(graph, &terms))
        .map_err(evaluation_error::<G::Error>)?;
    let QueryResults::Solutions(solutions) = results else {
        return Err(JrqlError::Evaluation("expected solutions".into()));
    };
    let columns: Vec<Option<usize>> = variables
        .iter()
        .map(|v| solutions.variables().iter().position(|s| s == v))
        .collect();
    for solution in solutions {
        let solution = solution.map_err(evaluation_error::<G::Error>)?;
        let all = solution.values();
        project(&columns, |i| all.get(i)?.as_ref(), &mut row)?;
    }
    Ok(())
}

/// Hands `row` the values of `columns` (a source position each, `None` for unbound).
fn project<'t>(
    columns: &[Option<usize>],
    at: impl Fn(usize) -> Option<&'t Term>,
    row: &mut impl FnMut(&[Option<&Term>]) -> Result<(), JrqlError>,
) -> Result<(), JrqlError> {
    with_blank_row(columns.len(), |values| {
        for (slot, c) in values.iter_mut().zip(columns) {
            *slot = c.and_then(&at);
        }
        row(values)
    })
}

/// Whether a pattern has any solution.
pub(crate) fn ask<G: Graph + ?Sized>(graph: &G, pattern: GraphPattern) -> Result<bool, JrqlError> {
    let query = Query::Ask {
        dataset: None,
        pattern,
        base_iri: None,
    };
    let terms = QueryTerms::default();
    let evaluator = QueryEvaluator::new();
    match evaluator
        .prepare(&query)
        .execute(GraphDataset::new(graph, &terms))
        .map_err(evaluation_error::<G::Error>)?
    {
        QueryResults::Boolean(b) => Ok(b),
        _ => Err(JrqlError::Evaluation("expected a boolean".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algebra::bgp;
    use oxrdf::{Literal, NamedNode, Triple};
    use spargebra::term::{NamedNodePattern, TermPattern, TriplePattern};

    #[test]
    fn solutions_come_in_the_requested_column_order() {
        let mut graph = oxrdf::Graph::new();
        graph.insert(&Triple::new(
            NamedNode::new_unchecked("http://x/s"),
            NamedNode::new_unchecked("http://x/p"),
            Literal::new_simple_literal("o"),
        ));
        let (s, o, missing) = (
            Variable::new_unchecked("s"),
            Variable::new_unchecked("o"),
            Variable::new_unchecked("missing"),
        );
        let pattern = bgp(vec![TriplePattern {
            subject: TermPattern::Variable(s.clone()),
            predicate: NamedNodePattern::NamedNode(NamedNode::new_unchecked("http://x/p")),
            object: TermPattern::Variable(o.clone()),
        }]);
        let mut rows = Vec::new();
        for_each_solution(&graph, pattern.clone(), &[o, missing, s], |row| {
            rows.push(
                row.iter()
                    .map(|t| t.map(ToString::to_string))
                    .collect::<Vec<_>>(),
            );
            Ok(())
        })
        .unwrap();
        assert_eq!(
            rows,
            vec![vec![
                Some("\"o\"".into()),
                None,
                Some("<http://x/s>".into())
            ]]
        );
        assert!(ask(&graph, pattern).unwrap());
        assert!(ask(&graph, bgp(vec![])).unwrap());
    }

    fn var(name: &str) -> Variable {
        Variable::new_unchecked(name)
    }

    fn iri(name: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("http://x/{name}"))
    }

    fn pattern(s: TermPattern, p: &str, o: TermPattern) -> TriplePattern {
        TriplePattern {
            subject: s,
            predicate: NamedNodePattern::NamedNode(iri(p)),
            object: o,
        }
    }

    #[test]
    fn joins_match_equal_terms_met_in_different_scans() {
        let mut graph = oxrdf::Graph::new();
        for i in 0..30 {
            let s = iri(&format!("s{i}"));
            graph.insert(&Triple::new(
                s.clone(),
                iri("name"),
                Literal::new_simple_literal(format!("n{}", i % 7)),
            ));
            if i % 2 == 0 {
                graph.insert(&Triple::new(
                    s.clone(),
                    iri("knows"),
                    iri(&format!("s{}", i + 1)),
                ));
            }
            graph.insert(&Triple::new(
                s,
                iri("kind"),
                oxrdf::BlankNode::new_unchecked("k"),
            ));
        }
        let v = |n: &str| TermPattern::Variable(var(n));
        // ?a knows ?b . ?b name ?n . ?a name ?n2 — ?b is met as an object, then as a subject.
        let joined = bgp(vec![
            pattern(v("a"), "knows", v("b")),
            pattern(v("b"), "name", v("n")),
            pattern(v("a"), "name", v("m")),
        ]);
        let mut rows = Vec::new();
        for_each_solution(
            &graph,
            joined,
            &[var("a"), var("b"), var("n"), var("m")],
            |row| {
                rows.push(
                    row.iter()
                        .map(|t| t.map(ToString::to_string))
                        .collect::<Vec<_>>(),
                );
                Ok(())
            },
        )
        .unwrap();
        rows.sort();
        assert_eq!(rows.len(), 15);
        for row in &rows {
            let a: usize = row[0].as_deref().unwrap()[11..]
                .trim_end_matches('>')
                .parse()
                .unwrap();
            assert_eq!(row[1], Some(format!("<http://x/s{}>", a + 1)));
            assert_eq!(row[2], Some(format!("\"n{}\"", (a + 1) % 7)));
            assert_eq!(row[3], Some(format!("\"n{}\"", a % 7)));
        }
        // Blank node objects are returned, but never match as a bound pattern value.
        let mut blanks = 0;
        let kinds = bgp(vec![pattern(v("s"), "kind", v("k"))]);
        for_each_solution(&graph, kinds, &[var("k")], |row| {
            blanks += usize::from(matches!(row[0], Some(Term::BlankNode(_))));
            Ok(())
        })
        .unwrap();
        assert_eq!(blanks, 30);
    }

    /// A graph whose every read fails.
    struct Failing;

    #[derive(Debug, thiserror::Error)]
    #[error("the disk is on fire")]
    struct Fire;

    impl Graph for Failing {
        type Error = Fire;

        fn triples(
            &self,
            _: Option<&NamedNode>,
            _: Option<&NamedNode>,
            _: Option<&Term>,
        ) -> Box<dyn Iterator<Item = Result<Triple, Fire>> + '_> {
            Box::new(std::iter::once(Err(Fire)))
        }
    }

    #[test]
    fn graph_errors_are_reported_as_themselves() {
        let p = bgp(vec![pattern(
            TermPattern::Variable(var("s")),
            "p",
            TermPattern::Variable(var("o")),
        )]);
        let err = for_each_solution(&Failing, p.clone(), &[var("s")], |_| Ok(())).unwrap_err();
        let JrqlError::Graph(source) = &err else {
            panic!("{err:?}")
        };
        assert!(source.downcast_ref::<Fire>().is_some());
        assert_eq!(err.status(), 5000);
        assert!(matches!(ask(&Failing, p), Err(JrqlError::Graph(_))));
    }
}

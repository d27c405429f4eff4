//! Evaluation of SPARQL algebra over a [`Graph`] with spareval, consumed synchronously
//! (spareval's result iterators are not `Send`).
//!
//! Owns only running patterns and mapping evaluator errors; must not translate or render.

use crate::error::JrqlError;
use crate::graph::{Graph, GraphDataset};
use oxrdf::{Term, Variable};
use spareval::{QueryEvaluationError, QueryEvaluator, QueryResults};
use spargebra::Query;
use spargebra::algebra::GraphPattern;

fn evaluation_error(error: QueryEvaluationError) -> JrqlError {
    match error {
        QueryEvaluationError::Dataset(e) => JrqlError::Graph(e),
        other => JrqlError::Evaluation(other.to_string()),
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
    let query = Query::Select {
        dataset: None,
        pattern,
        base_iri: None,
    };
    let evaluator = QueryEvaluator::new();
    let results = evaluator
        .prepare(&query)
        .execute(GraphDataset(graph))
        .map_err(evaluation_error)?;
    let QueryResults::Solutions(solutions) = results else {
        return Err(JrqlError::Evaluation("expected solutions".into()));
    };
    let columns: Vec<Option<usize>> = variables
        .iter()
        .map(|v| solutions.variables().iter().position(|s| s == v))
        .collect();
    for solution in solutions {
        let solution = solution.map_err(evaluation_error)?;
        let all = solution.values();
        let values: Vec<Option<&Term>> = columns
            .iter()
            .map(|c| c.and_then(|i| all.get(i)?.as_ref()))
            .collect();
        row(&values)?;
    }
    Ok(())
}

/// Whether a pattern has any solution.
pub(crate) fn ask<G: Graph + ?Sized>(graph: &G, pattern: GraphPattern) -> Result<bool, JrqlError> {
    let query = Query::Ask {
        dataset: None,
        pattern,
        base_iri: None,
    };
    let evaluator = QueryEvaluator::new();
    match evaluator
        .prepare(&query)
        .execute(GraphDataset(graph))
        .map_err(evaluation_error)?
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
}

//! Direct evaluation of the query plans that are only hash joins of triple patterns (the usual
//! json-rql `@where`: subjects with properties), giving exactly spareval's solutions in exactly
//! its order, without its general machinery (term interning, tuple sets, solution decoding).
//!
//! The plan is spareval's own: the pattern is optimised by the same sparopt optimiser spareval
//! runs, and only plans made of default-graph triple patterns joined on shared variables (under
//! an optional projection) are run here; [`prepare`] declines every other plan, which `eval`
//! then leaves to spareval. Owns only that evaluation; must not translate or render.

use crate::error::JrqlError;
use crate::eval::with_blank_row;
use crate::graph::Graph;
use crate::hash::{PassThrough, QuickState};
use oxrdf::{NamedNode, Term, Variable};
use spargebra::algebra::GraphPattern;
use spargebra::term::{GroundTermPattern, NamedNodePattern};
use sparopt::Optimizer;
use sparopt::algebra::{GraphPattern as Plan, JoinAlgorithm};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

/// A position of a triple pattern.
enum Position {
    /// A fixed term.
    Fixed(Term),
    /// A variable, by its slot in the tuples.
    Slot(usize),
}

/// A node of a plan this module runs.
enum Node {
    /// A triple pattern of the default graph.
    Scan([Position; 3]),
    /// spareval's hash join: `build` is gathered, then each solution of `probe` is joined with
    /// the gathered ones that agree on `keys`, latest gathered first.
    Join {
        build: Box<Node>,
        probe: Box<Node>,
        keys: Vec<usize>,
    },
}

/// A plan ready to run on any graph.
pub(crate) struct Prepared {
    node: Node,
    /// The variable of each slot.
    slots: Vec<Variable>,
    /// The variables the solutions have, if the plan projects them.
    projection: Option<Vec<Variable>>,
}

/// The plan spareval would run for `pattern`, if it is one this module runs.
pub(crate) fn prepare(pattern: &GraphPattern) -> Option<Prepared> {
    let plan = Optimizer::optimize_graph_pattern(Plan::from(pattern));
    let (inner, projection) = match plan {
        Plan::Project { inner, variables } => (*inner, Some(variables)),
        other => (other, None),
    };
    let mut slots = Vec::new();
    let node = node(&inner, &mut slots)?;
    Some(Prepared {
        node,
        slots,
        projection,
    })
}

fn slot(variable: &Variable, slots: &mut Vec<Variable>) -> usize {
    match slots.iter().position(|v| v == variable) {
        Some(i) => i,
        None => {
            slots.push(variable.clone());
            slots.len() - 1
        }
    }
}

fn ground(pattern: &GroundTermPattern, slots: &mut Vec<Variable>) -> Option<Position> {
    if let GroundTermPattern::Variable(v) = pattern {
        return Some(Position::Slot(slot(v, slots)));
    }
    if let GroundTermPattern::NamedNode(n) = pattern {
        return Some(Position::Fixed(Term::NamedNode(n.clone())));
    }
    if let GroundTermPattern::Literal(l) = pattern {
        return Some(Position::Fixed(Term::Literal(l.clone())));
    }
    None
}

fn node(plan: &Plan, slots: &mut Vec<Variable>) -> Option<Node> {
    match plan {
        Plan::QuadPattern {
            subject,
            predicate,
            object,
            graph_name: None,
        } => {
            let s = ground(subject, slots)?;
            let p = match predicate {
                NamedNodePattern::NamedNode(n) => Position::Fixed(Term::NamedNode(n.clone())),
                NamedNodePattern::Variable(v) => Position::Slot(slot(v, slots)),
            };
            let o = ground(object, slots)?;
            Some(Node::Scan([s, p, o]))
        }
        Plan::Join {
            left,
            right,
            algorithm: JoinAlgorithm::HashBuildLeftProbeRight { keys },
        } if !keys.is_empty() => {
            let build = node(left, slots)?;
            let probe = node(right, slots)?;
            let keys = keys.iter().map(|k| slot(k, slots)).collect();
            Some(Node::Join {
                build: Box::new(build),
                probe: Box::new(probe),
                keys,
            })
        }
        _ => None,
    }
}

/// Called with each solution's values by slot (`None` where unbound).
type Emit<'e> = dyn FnMut(&[Option<&Term>]) -> Result<(), JrqlError> + 'e;

impl Prepared {
    /// Where each of `variables` is in a solution's slots (`None` if the solutions lack it).
    pub(crate) fn columns(&self, variables: &[Variable]) -> Vec<Option<usize>> {
        variables
            .iter()
            .map(|v| {
                let visible = self.projection.as_ref().is_none_or(|p| p.contains(v));
                visible
                    .then(|| self.slots.iter().position(|s| s == v))
                    .flatten()
            })
            .collect()
    }

    /// Runs the plan on `graph`, calling `emit` with each solution's values by slot, in
    /// spareval's order.
    pub(crate) fn run<G: Graph + ?Sized>(
        &self,
        graph: &G,
        emit: &mut Emit<'_>,
    ) -> Result<(), JrqlError> {
        run(graph, &self.node, self.slots.len(), emit)
    }
}

fn graph_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> JrqlError {
    JrqlError::Graph(Box::new(e))
}

/// Binds a slot to a term, unless it is already bound to another (a variable repeated in one
/// pattern); whether the tuple still holds.
fn bind<'t>(tuple: &mut [Option<&'t Term>], position: &Position, term: &'t Term) -> bool {
    let Position::Slot(i) = position else {
        // The graph matched the fixed term.
        return true;
    };
    match tuple.get_mut(*i) {
        Some(Some(bound)) => *bound == term,
        Some(slot) => {
            *slot = Some(term);
            true
        }
        None => false,
    }
}

fn run<G: Graph + ?Sized>(
    graph: &G,
    node: &Node,
    width: usize,
    emit: &mut Emit<'_>,
) -> Result<(), JrqlError> {
    match node {
        Node::Scan(positions) => scan(graph, positions, width, emit),
        Node::Join { build, probe, keys } => {
            let mut built: Vec<Vec<Option<Term>>> = Vec::new();
            run(graph, build, width, &mut |tuple| {
                built.push(tuple.iter().map(|t| t.cloned()).collect());
                Ok(())
            })?;
            // spareval does not run the probe side of an empty join.
            if built.is_empty() {
                return Ok(());
            }
            let hasher = QuickState::default();
            let key_hash = |tuple: &[Option<&Term>]| {
                let mut h = hasher.build_hasher();
                for k in keys {
                    if let Some(Some(term)) = tuple.get(*k) {
                        term.hash(&mut h);
                    }
                }
                h.finish()
            };
            // Each hash's latest gathered tuple, and each tuple's previous one with its hash.
            let mut latest: HashMap<u64, usize, PassThrough> =
                HashMap::with_capacity_and_hasher(built.len(), PassThrough);
            let mut previous: Vec<Option<usize>> = Vec::with_capacity(built.len());
            let mut refs: Vec<Option<&Term>> = vec![None; width];
            for (i, tuple) in built.iter().enumerate() {
                for (r, t) in refs.iter_mut().zip(tuple) {
                    *r = t.as_ref();
                }
                previous.push(latest.insert(key_hash(&refs), i));
            }
            run(graph, probe, width, &mut |tuple| {
                let mut at = latest.get(&key_hash(tuple)).copied();
                while let Some(i) = at {
                    at = previous.get(i).copied().flatten();
                    let Some(other) = built.get(i) else {
                        continue;
                    };
                    // Solutions agree where both are bound (spareval's `combine_with`).
                    let agree =
                        tuple
                            .iter()
                            .zip(other)
                            .all(|(mine, theirs)| match (mine, theirs) {
                                (Some(a), Some(b)) => *a == b,
                                _ => true,
                            });
                    if agree {
                        with_blank_row(width, |joined| {
                            for ((slot, mine), theirs) in joined.iter_mut().zip(tuple).zip(other) {
                                *slot = mine.or(theirs.as_ref());
                            }
                            emit(joined)
                        })?;
                    }
                }
                Ok(())
            })
        }
    }
}

fn scan<G: Graph + ?Sized>(
    graph: &G,
    [s, p, o]: &[Position; 3],
    width: usize,
    emit: &mut Emit<'_>,
) -> Result<(), JrqlError> {
    // As spareval's dataset adapter: a fixed subject or predicate that is no IRI matches nothing.
    let named = |position: &Position| -> Result<Option<NamedNode>, ()> {
        match position {
            Position::Fixed(Term::NamedNode(n)) => Ok(Some(n.clone())),
            Position::Fixed(_) => Err(()),
            Position::Slot(_) => Ok(None),
        }
    };
    let (Ok(fixed_s), Ok(fixed_p)) = (named(s), named(p)) else {
        return Ok(());
    };
    let fixed_o = match o {
        Position::Fixed(Term::BlankNode(_)) => return Ok(()),
        Position::Fixed(term) => Some(term),
        Position::Slot(_) => None,
    };
    for triple in graph.triples(fixed_s.as_ref(), fixed_p.as_ref(), fixed_o) {
        let triple = triple.map_err(graph_error)?;
        let terms = [
            Term::from(triple.subject),
            Term::NamedNode(triple.predicate),
            triple.object,
        ];
        with_blank_row(width, |tuple| {
            let holds = [s, p, o]
                .iter()
                .zip(&terms)
                .all(|(position, term)| bind(tuple, position, term));
            if holds { emit(tuple) } else { Ok(()) }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{for_each_solution, spareval_solutions};
    use oxrdf::{BlankNode, Literal, Triple};
    use proptest::prelude::*;
    use spargebra::term::{TermPattern, TriplePattern};

    fn iri(n: u8) -> NamedNode {
        NamedNode::new_unchecked(format!("http://x/i{n}"))
    }

    /// Terms 0..4 are IRIs, 5 a blank node, 6 and 7 plain literals, 8 an integer.
    fn term(n: u8) -> Term {
        match n {
            0..=4 => iri(n).into(),
            5 => BlankNode::new_unchecked("b").into(),
            6 => Literal::new_simple_literal("a").into(),
            7 => Literal::new_simple_literal("b").into(),
            _ => Literal::new_typed_literal("1", oxrdf::vocab::xsd::INTEGER).into(),
        }
    }

    fn var(n: u8) -> Variable {
        Variable::new_unchecked(format!("v{n}"))
    }

    /// A position: a variable (`Err`) or a term.
    fn position(p: Result<u8, u8>) -> TermPattern {
        match p {
            Err(v) => TermPattern::Variable(var(v)),
            Ok(5) => TermPattern::BlankNode(BlankNode::new_unchecked("q")),
            Ok(t) => match term(t) {
                Term::NamedNode(n) => n.into(),
                Term::Literal(l) => l.into(),
                Term::BlankNode(b) => b.into(),
            },
        }
    }

    fn rows(
        graph: &oxrdf::Graph,
        pattern: &GraphPattern,
        direct: bool,
    ) -> Result<Vec<Vec<Option<String>>>, String> {
        let variables: Vec<Variable> = (0..5).map(var).collect();
        let mut rows = Vec::new();
        let collect = |row: &[Option<&Term>]| {
            rows.push(row.iter().map(|t| t.map(ToString::to_string)).collect());
            Ok(())
        };
        let done = if direct {
            for_each_solution(graph, pattern.clone(), &variables, collect)
        } else {
            spareval_solutions(graph, pattern.clone(), &variables, collect)
        };
        done.map_err(|e| e.to_string())?;
        Ok(rows)
    }

    fn position_strategy() -> impl Strategy<Value = Result<u8, u8>> {
        prop_oneof![(0u8..4).prop_map(Err), (0u8..9).prop_map(Ok)]
    }

    proptest! {
        #[test]
        fn direct_runs_give_sparevals_solutions_in_its_order(
            triples in prop::collection::vec((0u8..6, 0u8..3, 0u8..9), 0..40),
            patterns in prop::collection::vec(
                (position_strategy(), prop_oneof![(0u8..4).prop_map(Err), (0u8..3).prop_map(Ok)], position_strategy()),
                1..5,
            ),
            projected in prop::option::of(prop::collection::vec(0u8..5, 0..4)),
        ) {
            let mut graph = oxrdf::Graph::new();
            for (s, p, o) in triples {
                let subject: oxrdf::NamedOrBlankNode = match term(s) {
                    Term::NamedNode(n) => n.into(),
                    _ => BlankNode::new_unchecked("b").into(),
                };
                graph.insert(&Triple::new(subject, iri(p), term(o)));
            }
            let bgp = GraphPattern::Bgp {
                patterns: patterns
                    .into_iter()
                    .map(|(s, p, o)| TriplePattern {
                        subject: position(s),
                        predicate: match p {
                            Err(v) => NamedNodePattern::Variable(var(v)),
                            Ok(p) => NamedNodePattern::NamedNode(iri(p)),
                        },
                        object: position(o),
                    })
                    .collect(),
            };
            let pattern = match projected {
                Some(vs) => GraphPattern::Project {
                    inner: Box::new(bgp),
                    variables: {
                        let mut vars: Vec<Variable> = vs.into_iter().map(var).collect();
                        vars.dedup();
                        vars
                    },
                },
                None => bgp,
            };
            prop_assert_eq!(rows(&graph, &pattern, true), rows(&graph, &pattern, false));
        }
    }

    #[test]
    fn wide_solutions_run_directly() {
        // A chain of ten patterns: more variables than a stack tuple holds.
        let pattern = GraphPattern::Bgp {
            patterns: (0..10)
                .map(|i| TriplePattern {
                    subject: var(i).into(),
                    predicate: iri(0).into(),
                    object: var(i + 1).into(),
                })
                .collect(),
        };
        assert!(prepare(&pattern).is_some());
        let mut graph = oxrdf::Graph::new();
        for (s, o) in [(0, 1), (1, 2), (2, 0), (1, 0), (3, 3), (2, 2)] {
            graph.insert(&Triple::new(iri(s), iri(0), iri(o)));
        }
        let direct = rows(&graph, &pattern, true).unwrap();
        assert!(!direct.is_empty());
        assert_eq!(direct, rows(&graph, &pattern, false).unwrap());
    }

    #[test]
    fn subjects_with_properties_run_directly() {
        let (s, name, n) = (var(0), var(1), var(2));
        let pattern = GraphPattern::Project {
            inner: Box::new(GraphPattern::Bgp {
                patterns: vec![
                    TriplePattern {
                        subject: s.clone().into(),
                        predicate: iri(0).into(),
                        object: name.clone().into(),
                    },
                    TriplePattern {
                        subject: s.clone().into(),
                        predicate: iri(1).into(),
                        object: n.clone().into(),
                    },
                ],
            }),
            variables: vec![s, name, n],
        };
        assert!(prepare(&pattern).is_some());
        let mut graph = oxrdf::Graph::new();
        for i in 0..20u8 {
            let subject = NamedNode::new_unchecked(format!("http://x/s{i}"));
            graph.insert(&Triple::new(subject.clone(), iri(0), term(6 + i % 2)));
            if i % 3 != 0 {
                graph.insert(&Triple::new(subject.clone(), iri(1), term(8)));
                graph.insert(&Triple::new(subject, iri(1), term(i % 5)));
            }
        }
        let direct = rows(&graph, &pattern, true).unwrap();
        assert_eq!(direct.len(), 26);
        assert_eq!(direct, rows(&graph, &pattern, false).unwrap());
        // Anything else is left to spareval.
        let filtered = GraphPattern::Filter {
            expr: spargebra::algebra::Expression::Equal(
                Box::new(spargebra::algebra::Expression::Variable(var(1))),
                Box::new(spargebra::algebra::Expression::Literal(Literal::from(true))),
            ),
            inner: Box::new(pattern),
        };
        assert!(prepare(&filtered).is_none());
    }
}

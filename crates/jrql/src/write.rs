//! Writes (docs/jrql.md §1.8): subject, array and `@graph` inserts, and updates with
//! `@delete`, `@insert`, `@update` and `@where`, producing a [`Patch`] of concrete triples.
//!
//! Owns only the translation of writes into deletes and inserts; must not apply them, compute
//! operation identities, or know about clocks.

use crate::algebra::{bgp, filter, has, is_group};
use crate::context::Context;
use crate::error::JrqlError;
use crate::eval::for_each_solution;
use crate::graph::Graph;
use crate::hash::IndexedSet;
use crate::kind::RequestKind;
use crate::pattern::{Mode, PatternTriple, Patterns, Translator};
use crate::read::request_object;
use crate::value_order::value_sort_key;
use oxrdf::{NamedNode, NamedOrBlankNode, Term, Triple, Variable};
use serde_json::Value;
use spargebra::algebra::GraphPattern;
use spargebra::term::{NamedNodePattern, TermPattern, TriplePattern};
use std::collections::{HashMap, HashSet};

/// The effect of a write: triples to delete and to insert.
///
/// Triples are concrete and de-duplicated; a triple never appears in both lists. Deletes may
/// name triples that do not exist. An empty patch is a no-op.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patch {
    /// Triples to delete.
    pub deletes: Vec<Triple>,
    /// Triples to insert.
    pub inserts: Vec<Triple>,
    /// The `@agree` value, if the write asked for an agreement (experimental; only truthy
    /// values are kept).
    pub agree: Option<Value>,
}

impl Patch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.deletes.is_empty() && self.inserts.is_empty()
    }
}

/// An insertion-ordered set of triples.
type TripleSet = IndexedSet<Triple>;

/// Translates a write request into a patch against the current graph.
///
/// `genid` supplies unique suffixes for the skolem IRIs of anonymous subjects
/// (`{domain base}.well-known/genid/{id}`).
pub fn write<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    request: &Value,
    genid: &mut dyn FnMut() -> String,
) -> Result<Patch, JrqlError> {
    if let Value::Array(_) = request {
        return insert(ctx, request, genid);
    }
    let (object, ctx) = request_object(ctx, request, "a write")?;
    let ctx = ctx.as_ref();
    match RequestKind::of_object(object) {
        RequestKind::Write => {}
        RequestKind::Read(_) => {
            return Err(JrqlError::unsupported(
                "write",
                "Write type not supported: a read pattern cannot be written",
            ));
        }
        RequestKind::Ask => {
            return Err(JrqlError::unsupported(
                "write",
                "Write type not supported: a pattern with only @where is an ask",
            ));
        }
    }
    if object
        .keys()
        .any(|k| matches!(k.as_str(), "@insert" | "@delete" | "@update"))
    {
        return update(graph, ctx, object, genid);
    }
    if is_group(object) {
        if let Some(key) = object.keys().find(|k| *k != "@graph" && *k != "@context") {
            return Err(JrqlError::unsupported(
                key.as_str(),
                "Write type not supported: only @graph can be written as a group",
            ));
        }
        return insert(ctx, object.get("@graph").unwrap_or(&Value::Null), genid);
    }
    if has(object, "@context") {
        // The context has been applied; the rest is the subject.
        let mut subject = object.clone();
        subject.shift_remove("@context");
        return insert(ctx, &Value::Object(subject), genid);
    }
    insert(ctx, request, genid)
}

fn insert(
    ctx: &Context,
    subjects: &Value,
    genid: &mut dyn FnMut() -> String,
) -> Result<Patch, JrqlError> {
    let mut translator = Translator::new(ctx);
    let mut patterns = Patterns::default();
    translator.subjects(subjects, Mode::Load, false, &mut patterns)?;
    if !patterns.binds.is_empty() || has_variables(&translator, &patterns) {
        return Err(JrqlError::bad(
            "the inserted data has variables, but there is no @where to bind them",
        ));
    }
    let minted = mint(ctx, &translator, genid);
    let mut inserts = TripleSet::with_capacity(patterns.triples.len());
    for t in patterns.triples {
        if let Some(triple) = fill_owned(t.triple, &|v| minted.get(v).cloned()) {
            inserts.insert(triple);
        }
    }
    Ok(Patch {
        deletes: Vec::new(),
        inserts: inserts.into_vec(),
        agree: None,
    })
}

/// Skolem IRIs for the anonymous subjects of one write (or one solution of it).
fn mint(
    ctx: &Context,
    translator: &Translator<'_>,
    genid: &mut dyn FnMut() -> String,
) -> HashMap<Variable, Term> {
    translator
        .skolem_vars
        .iter()
        .map(|v| {
            let iri = NamedNode::new_unchecked(ctx.skolem_iri(&genid()));
            (v.clone(), Term::NamedNode(iri))
        })
        .collect()
}

fn pattern_variables(triple: &TriplePattern) -> impl Iterator<Item = &Variable> {
    let subject = match &triple.subject {
        TermPattern::Variable(v) => Some(v),
        _ => None,
    };
    let predicate = match &triple.predicate {
        NamedNodePattern::Variable(v) => Some(v),
        NamedNodePattern::NamedNode(_) => None,
    };
    let object = match &triple.object {
        TermPattern::Variable(v) => Some(v),
        _ => None,
    };
    subject.into_iter().chain(predicate).chain(object)
}

/// Whether any pattern has a variable other than a subject to be minted.
fn has_variables(translator: &Translator<'_>, patterns: &Patterns) -> bool {
    patterns
        .triples
        .iter()
        .any(|t| is_variable_pattern(translator, &t.triple))
}

fn is_variable_pattern(translator: &Translator<'_>, triple: &TriplePattern) -> bool {
    pattern_variables(triple).any(|v| !translator.is_skolem(v))
}

/// A concrete triple from a pattern, or `None` if a variable is unbound or a bound value
/// cannot stand in its position.
fn fill(triple: &TriplePattern, bound: &impl Fn(&Variable) -> Option<Term>) -> Option<Triple> {
    fill_owned(triple.clone(), bound)
}

/// [`fill`], taking the pattern's terms rather than copying them.
fn fill_owned(triple: TriplePattern, bound: &impl Fn(&Variable) -> Option<Term>) -> Option<Triple> {
    let subject = match triple.subject {
        TermPattern::NamedNode(n) => n,
        TermPattern::Variable(v) => match bound(&v)? {
            Term::NamedNode(n) => n,
            _ => return None,
        },
        _ => return None,
    };
    let predicate = match triple.predicate {
        NamedNodePattern::NamedNode(n) => n,
        NamedNodePattern::Variable(v) => match bound(&v)? {
            Term::NamedNode(n) => n,
            _ => return None,
        },
    };
    let object = match triple.object {
        TermPattern::NamedNode(n) => Term::NamedNode(n),
        TermPattern::Literal(l) => Term::Literal(l),
        TermPattern::Variable(v) => match bound(&v)? {
            Term::BlankNode(_) => return None,
            term => term,
        },
        _ => return None,
    };
    Some(Triple {
        subject: NamedOrBlankNode::NamedNode(subject),
        predicate,
        object,
    })
}

const UPDATE_KEYS: [&str; 6] = [
    "@context", "@insert", "@delete", "@update", "@where", "@agree",
];

fn update<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    object: &serde_json::Map<String, Value>,
    genid: &mut dyn FnMut() -> String,
) -> Result<Patch, JrqlError> {
    for key in object.keys() {
        if UPDATE_KEYS.contains(&key.as_str()) {
            continue;
        }
        if key.starts_with('@') {
            return Err(JrqlError::unsupported(
                key.as_str(),
                "not supported in an update",
            ));
        }
        return Err(JrqlError::bad(format!(
            "an update cannot have the property {key:?}; put subjects in @insert"
        )));
    }
    let mut translator = Translator::new(ctx);
    let mut deletes = Patterns::default();
    if let Some(d) = object.get("@delete") {
        translator.subjects(d, Mode::Match, false, &mut deletes)?;
    }
    // Matched before the inserts, so that a blank node label used in both is a variable that
    // the inserts take from the solutions; a label only inserted names a new subject.
    let where_pattern = match object.get("@where") {
        Some(w) => Some(translator.where_clause(w)?),
        None => None,
    };
    let mut inserts = Patterns::default();
    if let Some(i) = object.get("@insert") {
        translator.subjects(i, Mode::Load, false, &mut inserts)?;
    }
    let mut updates = Patterns::default();
    if let Some(u) = object.get("@update") {
        translator.subjects(u, Mode::Load, true, &mut updates)?;
    }
    // New (minted) subjects have nothing to replace.
    for t in &mut updates.triples {
        if let TermPattern::Variable(v) = &t.triple.subject
            && translator.is_skolem(v)
        {
            t.before = None;
        }
    }
    let delete_has_vars = has_variables(&translator, &deletes);
    let insert_has_vars =
        has_variables(&translator, &inserts) || has_variables(&translator, &updates);
    let replaces: Vec<TriplePattern> = updates
        .triples
        .iter()
        .filter_map(|t| {
            let before = t.before.clone()?;
            Some(TriplePattern {
                subject: t.triple.subject.clone(),
                predicate: t.triple.predicate.clone(),
                object: TermPattern::Variable(before),
            })
        })
        .collect();

    let has_where = where_pattern.is_some();
    let base = match where_pattern {
        Some(pattern) => Some(filter(pattern, deletes.filters.clone())),
        None if delete_has_vars => Some(filter(
            bgp(deletes.triple_patterns()),
            deletes.filters.clone(),
        )),
        None if !replaces.is_empty() => Some(bgp(Vec::new())),
        None => None,
    };
    if base.is_none() && insert_has_vars {
        return Err(JrqlError::bad(
            "@insert has variables, but there is no @where (or @delete pattern) to bind them",
        ));
    }

    let mut delete_set = TripleSet::default();
    let mut insert_set = TripleSet::default();
    // Fixed inserts with no @where always apply (m-ld-spec#76), unless they share a minted
    // subject with inserts that depend on solutions.
    let solution_skolems: HashSet<&Variable> = inserts
        .triples
        .iter()
        .chain(&updates.triples)
        .filter(|t| is_variable_pattern(&translator, &t.triple))
        .flat_map(|t| pattern_variables(&t.triple))
        .filter(|v| translator.is_skolem(v))
        .collect();
    let always_insert = |t: &PatternTriple| {
        !has_where
            && !is_variable_pattern(&translator, &t.triple)
            && !pattern_variables(&t.triple).any(|v| solution_skolems.contains(v))
    };
    let fixed_inserts: Vec<&PatternTriple> = inserts
        .triples
        .iter()
        .chain(&updates.triples)
        .filter(|t| always_insert(t))
        .collect();
    let solution_inserts: Vec<&PatternTriple> = inserts
        .triples
        .iter()
        .chain(&updates.triples)
        .filter(|t| !always_insert(t))
        .collect();

    if let Some(mut pattern) = base {
        for replace in &replaces {
            pattern = GraphPattern::LeftJoin {
                left: Box::new(pattern),
                right: Box::new(bgp(vec![replace.clone()])),
                expression: None,
            };
        }
        for (variable, expression) in inserts.binds.iter().chain(&updates.binds) {
            pattern = GraphPattern::Extend {
                inner: Box::new(pattern),
                variable: variable.clone(),
                expression: expression.clone(),
            };
        }
        let delete_templates: Vec<&TriplePattern> = deletes
            .triples
            .iter()
            .map(|t| &t.triple)
            .chain(&replaces)
            .collect();
        let mut variables: Vec<Variable> = Vec::new();
        for triple in delete_templates
            .iter()
            .copied()
            .chain(solution_inserts.iter().map(|t| &t.triple))
        {
            for v in pattern_variables(triple) {
                if !translator.is_skolem(v) && !variables.contains(v) {
                    variables.push(v.clone());
                }
            }
        }
        let pattern = GraphPattern::Project {
            inner: Box::new(pattern),
            variables: variables.clone(),
        };
        let columns: HashMap<&Variable, usize> =
            variables.iter().enumerate().map(|(i, v)| (v, i)).collect();
        let mut rows: Vec<Vec<Option<Term>>> = Vec::new();
        for_each_solution(graph, pattern, &variables, |row| {
            rows.push(row.iter().map(|t| t.cloned()).collect());
            Ok(())
        })?;
        // In m-ld-js's store order (as its index scan yields them), so that the patch, and so
        // the update notification, lists matched values as m-ld-js does.
        if rows.len() > 1 {
            rows.sort_by_cached_key(|row| {
                // Column by column, unbound first.
                row.iter()
                    .map(|term| term.as_ref().map(|t| value_sort_key(ctx, t)))
                    .collect::<Vec<_>>()
            });
        }
        for row in &rows {
            let minted = mint(ctx, &translator, genid);
            let bound = |v: &Variable| {
                if let Some(term) = minted.get(v) {
                    return Some(term.clone());
                }
                columns.get(v).and_then(|&i| row.get(i).cloned().flatten())
            };
            for template in &delete_templates {
                if let Some(triple) = fill(template, &bound) {
                    delete_set.insert(triple);
                }
            }
            for template in &solution_inserts {
                if let Some(triple) = fill(&template.triple, &bound) {
                    insert_set.insert(triple);
                }
            }
        }
        // Matched against the data, an existing triple both deleted and inserted is left as it
        // is (m-ld-js optimises such re-inserts away once it has the solutions). One that does
        // not exist is inserted: m-ld-js drops that insert too, losing the write.
        let mut overlap: HashSet<Triple> = HashSet::new();
        for triple in delete_set.as_slice() {
            if insert_set.contains(triple) && exists(graph, triple)? {
                overlap.insert(triple.clone());
            }
        }
        if !overlap.is_empty() {
            delete_set.retain(|t| !overlap.contains(t));
            insert_set.retain(|t| !overlap.contains(t));
        }
    } else {
        for t in &deletes.triples {
            if let Some(triple) = fill(&t.triple, &|_| None) {
                delete_set.insert(triple);
            }
        }
    }
    if !fixed_inserts.is_empty() {
        let minted = mint(ctx, &translator, genid);
        for t in fixed_inserts {
            if let Some(triple) = fill(&t.triple, &|v| minted.get(v).cloned()) {
                insert_set.insert(triple);
            }
        }
    }

    // Fixed inserts are always applied, and del(a) + ins(a) = ins(a): an existing triple is
    // inserted again (a new identity, which survives a concurrent delete of the old), as
    // m-ld-js does; this decides what clones converge to.
    delete_set.retain(|t| !insert_set.contains(t));
    Ok(Patch {
        deletes: delete_set.into_vec(),
        inserts: insert_set.into_vec(),
        agree: agreement(object.get("@agree")),
    })
}

fn exists<G: Graph + ?Sized>(graph: &G, triple: &Triple) -> Result<bool, JrqlError> {
    let NamedOrBlankNode::NamedNode(subject) = &triple.subject else {
        return Ok(false);
    };
    match graph
        .triples(Some(subject), Some(&triple.predicate), Some(&triple.object))
        .next()
    {
        None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(e)) => Err(JrqlError::Graph(Box::new(e))),
    }
}

/// The `@agree` value if it is truthy (JavaScript semantics).
fn agreement(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::Literal;
    use serde_json::json;

    #[test]
    fn agreement_is_truthy_values_only() {
        assert_eq!(agreement(Some(&json!(true))), Some(json!(true)));
        assert_eq!(
            agreement(Some(&json!({ "proof": 1 }))),
            Some(json!({ "proof": 1 }))
        );
        for falsy in [json!(null), json!(false), json!(""), json!(0)] {
            assert_eq!(agreement(Some(&falsy)), None, "{falsy}");
        }
        assert_eq!(agreement(None), None);
    }

    #[test]
    fn filling_respects_positions() {
        let s = Variable::new_unchecked("s");
        let o = Variable::new_unchecked("o");
        let pattern = TriplePattern {
            subject: TermPattern::Variable(s.clone()),
            predicate: NamedNodePattern::NamedNode(NamedNode::new_unchecked("http://x/p")),
            object: TermPattern::Variable(o.clone()),
        };
        let literal = Term::Literal(Literal::new_simple_literal("x"));
        let iri = Term::NamedNode(NamedNode::new_unchecked("http://x/s"));
        let bind = |subject: Term, object: Option<Term>| {
            move |v: &Variable| {
                if v.as_str() == "s" {
                    Some(subject.clone())
                } else {
                    object.clone()
                }
            }
        };
        assert!(fill(&pattern, &bind(iri.clone(), Some(literal.clone()))).is_some());
        assert!(
            fill(&pattern, &bind(literal.clone(), Some(literal.clone()))).is_none(),
            "literal subject"
        );
        assert!(fill(&pattern, &bind(iri, None)).is_none(), "unbound object");
    }

    #[test]
    fn triple_sets_keep_first_order() {
        let t = |o: &str| {
            Triple::new(
                NamedNode::new_unchecked("http://x/s"),
                NamedNode::new_unchecked("http://x/p"),
                Literal::new_simple_literal(o),
            )
        };
        let mut set = TripleSet::default();
        for o in ["b", "a", "b", "c"] {
            set.insert(t(o));
        }
        set.retain(|triple| *triple != t("a"));
        assert_eq!(set.as_slice(), [t("b"), t("c")]);
        assert!(!set.contains(&t("a")));
        // Beyond a few triples, the set is indexed by hash.
        let many: Vec<Triple> = (0..100).map(|i| t(&format!("o{}", i % 40))).collect();
        let mut set = TripleSet::default();
        for triple in many {
            set.insert(triple);
        }
        assert_eq!(set.as_slice().len(), 40);
        assert!(set.contains(&t("o39")) && !set.contains(&t("o40")));
    }
}

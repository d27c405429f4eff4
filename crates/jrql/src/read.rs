//! Reads: `@describe` (with the fast path for fixed ids), `@select` / `@distinct`,
//! `@construct`, and `ask` (docs/jrql.md §1.5).
//!
//! Owns only the orchestration of reads; must not produce writes.

use crate::algebra::{self, check_read_keys, join};
use crate::construct::{Construct, with_template_filters};
use crate::context::Context;
use crate::error::{JrqlError, abridge};
use crate::eval::{ask as eval_ask, for_each_solution};
use crate::graph::Graph;
use crate::kind::{ReadKind, RequestKind};
use crate::list;
use crate::pattern::Translator;
use crate::render::{render_object, render_subject};
use crate::value_order::value_order;
use oxrdf::{NamedNode, NamedOrBlankNode, Term, Triple};
use serde_json::{Map, Value};
use spargebra::term::TermPattern;
use std::borrow::Cow;
use std::collections::HashSet;

/// The request as an object with its per-request context applied.
pub(crate) fn request_object<'v, 'c>(
    ctx: &'c Context,
    request: &'v Value,
    kind: &str,
) -> Result<(&'v Map<String, Value>, Cow<'c, Context>), JrqlError> {
    let Value::Object(object) = request else {
        return Err(JrqlError::bad(format!(
            "{kind} must be a JSON object, found {}",
            abridge(request)
        )));
    };
    let ctx = match algebra::get(object, "@context") {
        Some(local) => Cow::Owned(ctx.with_local(local)?),
        None => Cow::Borrowed(ctx),
    };
    Ok((object, ctx))
}

/// Runs a read pattern: `@describe`, `@select`, `@distinct` or `@construct` (a request that
/// [`RequestKind::of`] classifies as a read; anything else answers 5011).
pub fn read<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    request: &Value,
) -> Result<Vec<Value>, JrqlError> {
    let (object, ctx) = request_object(ctx, request, "a read")?;
    let ctx = ctx.as_ref();
    match RequestKind::of_object(object) {
        RequestKind::Read(ReadKind::Describe) => describe(graph, ctx, object),
        RequestKind::Read(ReadKind::Select | ReadKind::Distinct) => select(graph, ctx, object),
        RequestKind::Read(ReadKind::Construct) => construct(graph, ctx, object),
        RequestKind::Ask => Err(JrqlError::unsupported(
            "read",
            "Read type not supported: a pattern with only @where is an ask (use ask)",
        )),
        RequestKind::Write => Err(JrqlError::unsupported(
            "read",
            "Read type not supported: expected @describe, @select, @distinct or @construct",
        )),
    }
}

/// Whether the pattern (`{"@where": …}`, a request that [`RequestKind::of`] classifies as an
/// ask, or the empty pattern `{}`, which always matches) has any solution.
pub fn ask<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    request: &Value,
) -> Result<bool, JrqlError> {
    let (object, ctx) = request_object(ctx, request, "an ask")?;
    match RequestKind::of_object(object) {
        RequestKind::Ask => {}
        // The empty pattern (m-ld-js asks `{}` when a query has no `@where`).
        RequestKind::Write if object.keys().all(|k| k == "@context") => {}
        RequestKind::Read(_) => {
            return Err(JrqlError::bad(
                "ask takes a query pattern with @where, not a read",
            ));
        }
        RequestKind::Write => {
            return Err(JrqlError::bad(
                "ask takes a query pattern with @where, not a write",
            ));
        }
    }
    check_read_keys(object, &["@context", "@where", "@values"], "an ask")?;
    let mut translator = Translator::new(ctx.as_ref());
    let mut pattern = match object.get("@where") {
        Some(where_) => translator.where_clause(where_)?,
        None => algebra::bgp(Vec::new()),
    };
    if let Some(values) = object.get("@values") {
        pattern = join(pattern, translator.values_table(values)?);
    }
    eval_ask(graph, pattern)
}

/// Describes subjects by id: each subject with all its top-level properties, in the given
/// order; ids with no properties are omitted. This is the fast path (no query evaluation).
pub fn describe_subjects<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    ids: &[NamedNode],
) -> Result<Vec<Value>, JrqlError> {
    let mut subjects = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(subject) = describe_one(graph, ctx, id)? {
            subjects.push(subject);
        }
    }
    Ok(subjects)
}

fn describe_one<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    id: &NamedNode,
) -> Result<Option<Value>, JrqlError> {
    let graph_error = |e: G::Error| JrqlError::Graph(Box::new(e));
    let triples: Vec<Triple> = graph
        .triples(Some(id), None, None)
        .collect::<Result<_, _>>()
        .map_err(graph_error)?;
    if triples.is_empty() {
        return Ok(None);
    }
    // A list's positions are rendered as its `@list`, in position order, with the slots'
    // items (m-ld-js `JrqlGraph.describe1`); a position whose slot has no item is omitted.
    let item = NamedNode::new_unchecked(list::ITEM);
    let mut properties = Vec::with_capacity(triples.len());
    let mut items: Vec<(&str, Term)> = Vec::new();
    for t in &triples {
        if t.predicate.as_str().starts_with(list::POS_ID_PREFIX)
            && let Term::NamedNode(slot) = &t.object
        {
            for found in graph.triples(Some(slot), Some(&item), None) {
                items.push((t.predicate.as_str(), found.map_err(graph_error)?.object));
            }
            continue;
        }
        properties.push((&t.predicate, &t.object));
    }
    let subject_id = NamedOrBlankNode::NamedNode(id.clone());
    let id = crate::render::render_subject_id(ctx, &subject_id);
    if items.is_empty() {
        return Ok(render_subject(ctx, id, &mut properties));
    }
    items.sort_by(|a, b| a.0.cmp(b.0).then_with(|| value_order(ctx, &a.1, &b.1)));
    let list: Vec<Value> = items
        .iter()
        .map(|(_, item)| render_object(ctx, item, None))
        .collect();
    let mut subject = match render_subject(ctx, id.clone(), &mut properties) {
        Some(Value::Object(subject)) => subject,
        _ => {
            let mut subject = Map::new();
            subject.insert("@id".into(), Value::String(id));
            subject
        }
    };
    subject.insert("@list".into(), Value::Array(list));
    Ok(Some(Value::Object(subject)))
}

const DESCRIBE_KEYS: [&str; 7] = [
    "@context",
    "@describe",
    "@where",
    "@values",
    "@orderBy",
    "@limit",
    "@offset",
];

fn describe<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    object: &Map<String, Value>,
) -> Result<Vec<Value>, JrqlError> {
    check_read_keys(object, &DESCRIBE_KEYS, "a describe")?;
    let Some(targets) = object.get("@describe") else {
        return Ok(Vec::new());
    };
    let mut translator = Translator::new(ctx);
    let has_variables = algebra::items(targets).iter().any(|t| {
        t.as_str()
            .is_some_and(|s| crate::pattern::var_token(s).is_some())
    });
    if !has_variables && let Some(where_) = object.get("@where") {
        // Not needed for fixed ids, but still checked, so that nothing is silently ignored.
        translator.where_clause(where_)?;
    }
    let mut results = Vec::new();
    let mut seen: HashSet<NamedNode> = HashSet::new();
    for target in algebra::items(targets) {
        let Value::String(target) = target else {
            return Err(JrqlError::bad(format!(
                "@describe takes ids or variables, found {}",
                abridge(target)
            )));
        };
        match translator.id_term(target)? {
            TermPattern::NamedNode(id) => {
                if seen.insert(id.clone())
                    && let Some(subject) = describe_one(graph, ctx, &id)?
                {
                    results.push(subject);
                }
            }
            TermPattern::Variable(variable) => {
                let where_ = object.get("@where").cloned().unwrap_or(Value::Null);
                let mut pattern = translator.where_clause(&where_)?;
                if let Some(values) = object.get("@values") {
                    pattern = join(pattern, translator.values_table(values)?);
                }
                let projection = Some(vec![algebra::Projected::Var(variable.clone())]);
                let (pattern, variables) =
                    translator.solution_modifiers(object, pattern, projection, true)?;
                let mut ids = Vec::new();
                for_each_solution(graph, pattern, &variables, |row| {
                    if let Some(Some(Term::NamedNode(id))) = row.first() {
                        ids.push(id.clone());
                    }
                    Ok(())
                })?;
                for id in ids {
                    if seen.insert(id.clone())
                        && let Some(subject) = describe_one(graph, ctx, &id)?
                    {
                        results.push(subject);
                    }
                }
            }
            other => {
                return Err(JrqlError::bad(format!("cannot describe {other}")));
            }
        }
    }
    Ok(results)
}

fn select<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    object: &Map<String, Value>,
) -> Result<Vec<Value>, JrqlError> {
    let mut translator = Translator::new(ctx);
    let (pattern, variables) = translator.select_query(object)?;
    let keys: Vec<String> = variables
        .iter()
        .map(|v| format!("?{}", v.as_str()))
        .collect();
    let mut rows = Vec::new();
    for_each_solution(graph, pattern, &variables, |row| {
        let mut subject = Map::with_capacity(keys.len() + 1);
        subject.insert("@id".into(), Value::String(row_id(rows.len())));
        for (key, value) in keys.iter().zip(row) {
            if let Some(term) = value {
                subject.insert(key.clone(), render_object(ctx, term, None));
            }
        }
        rows.push(Value::Object(subject));
        Ok(())
    })?;
    Ok(rows)
}

/// The blank `@id` of the `n`th select row, `_:b{n}`.
fn row_id(n: usize) -> String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut id = String::with_capacity(3 + digits.len() - start);
    id.push_str("_:b");
    id.extend(digits[start..].iter().map(|&d| char::from(d)));
    id
}

const CONSTRUCT_KEYS: [&str; 4] = ["@context", "@construct", "@where", "@values"];

fn construct<G: Graph + ?Sized>(
    graph: &G,
    ctx: &Context,
    object: &Map<String, Value>,
) -> Result<Vec<Value>, JrqlError> {
    check_read_keys(object, &CONSTRUCT_KEYS, "a construct")?;
    let mut translator = Translator::new(ctx);
    let template = object.get("@construct").unwrap_or(&Value::Null);
    let construct = Construct::parse(&mut translator, template)?;
    let pattern = match object.get("@where") {
        Some(where_) => {
            let pattern = translator.where_clause(where_)?;
            with_template_filters(&construct, pattern)
        }
        None => match construct.pattern(&mut translator) {
            Some(pattern) => pattern,
            None => return Ok(Vec::new()),
        },
    };
    let pattern = match object.get("@values") {
        Some(values) => join(pattern, translator.values_table(values)?),
        None => pattern,
    };
    construct.run(&mut translator, graph, pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_must_be_objects_and_local_contexts_apply() {
        let ctx = Context::for_domain("test.example.org", None).unwrap();
        assert_eq!(
            request_object(&ctx, &json!([1]), "a read")
                .unwrap_err()
                .status(),
            4001
        );
        let request = json!({ "@context": { "@vocab": "http://v.org/" }, "@describe": "x" });
        let (object, local) = request_object(&ctx, &request, "a read").unwrap();
        assert!(object.contains_key("@describe"));
        assert_eq!(local.vocab(), Some("http://v.org/"));
        assert!(matches!(local, Cow::Owned(_)));
        let (_, same) = request_object(&ctx, &json!({ "@describe": "x" }), "a read").unwrap();
        assert!(matches!(same, Cow::Borrowed(_)));
    }

    #[test]
    fn row_ids_are_decimal() {
        for n in [0, 7, 10, 99, 12345, usize::MAX] {
            assert_eq!(row_id(n), format!("_:b{n}"));
        }
    }

    #[test]
    fn describing_nothing_is_empty() {
        let ctx = Context::for_domain("test.example.org", None).unwrap();
        let graph = oxrdf::Graph::new();
        assert!(
            read(&graph, &ctx, &json!({ "@describe": [] }))
                .unwrap()
                .is_empty()
        );
        assert!(
            read(&graph, &ctx, &json!({ "@describe": "?s" }))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            read(&graph, &ctx, &json!({ "@describe": 1 }))
                .unwrap_err()
                .status(),
            4001
        );
    }
}

//! Rendering RDF back to json-rql (docs/jrql.md §1.4): subject ids compacted against `@base`,
//! property keys chosen by term selection against the value, one value as a scalar and several
//! as an array (in m-ld-js's store order for reads, in the update's order for updates), literals in their m-ld JSON forms (§1.3), references as `{"@id"}`.
//!
//! Owns only triples → JSON; must not evaluate queries or parse patterns.

use crate::context::{Context, TermDefinition, TypeMapping};
use crate::hash::IndexedSet;
use crate::list;
use crate::ns;
use crate::value::{inline_json, parse_json_literal};
use crate::value_order::value_order;
use oxrdf::{Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Renders triples as a list of partial subjects (the m-ld `GraphSubjects` shape), one per
/// distinct subject in order of first appearance. Only the given triples' properties appear;
/// the values of a multi-valued property are in m-ld-js's store order (as a read shows them).
pub fn render_subjects(triples: &[Triple], ctx: &Context) -> Vec<Value> {
    render_subjects_in(triples, ctx, ValueOrder::Store)
}

/// How the values of one multi-valued property are listed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueOrder {
    /// m-ld-js's store order ([`value_order`]), as reads list them.
    Store,
    /// The order of the triples given, as m-ld-js lists them in update notifications (it
    /// renders the triples of an update in the order its patch holds them).
    Given,
}

fn render_subjects_in(triples: &[Triple], ctx: &Context, order: ValueOrder) -> Vec<Value> {
    let Some(first) = triples.first() else {
        return Vec::new();
    };
    if triples.iter().all(|t| t.subject == first.subject) {
        // One subject, as in most updates: no grouping needed.
        let mut properties: Vec<(&NamedNode, &Term)> =
            triples.iter().map(|t| (&t.predicate, &t.object)).collect();
        let id = render_subject_id(ctx, &first.subject);
        return render_subject_with(ctx, id, &mut properties, &mut KeyCache::default(), order)
            .into_iter()
            .collect();
    }
    let groups = SubjectGroups::of(triples);
    let mut properties: Vec<(&NamedNode, &Term)> = Vec::with_capacity(triples.len());
    let mut start = vec![0; groups.subjects.len() + 1];
    for &g in &groups.group_of {
        start[g + 1] += 1;
    }
    for g in 0..groups.subjects.len() {
        start[g + 1] += start[g];
    }
    // Place each triple's property in its subject's run, keeping the triples' order.
    let mut next = start.clone();
    properties.resize(triples.len(), (&first.predicate, &first.object));
    for (triple, &g) in triples.iter().zip(&groups.group_of) {
        properties[next[g]] = (&triple.predicate, &triple.object);
        next[g] += 1;
    }
    let mut keys = KeyCache::default();
    let mut subjects = Vec::with_capacity(groups.subjects.len());
    for (g, subject) in groups.subjects.iter().enumerate() {
        let id = render_subject_id(ctx, subject);
        let run = &mut properties[start[g]..start[g + 1]];
        if let Some(rendered) = render_subject_with(ctx, id, run, &mut keys, order) {
            subjects.push(rendered);
        }
    }
    subjects
}

/// Renders the triples an update deletes or inserts, as m-ld-js shows them in its update
/// notifications: as [`render_subjects`], but with the values of a multi-valued property in
/// the order of `triples` (m-ld-js lists them in its patch's order, so a written array keeps
/// its order), and with list positions shown as in m-ld-js's updates
/// (docs/jrql.md §1.10): each triple of `positions` (a list's position of a slot) is rendered
/// under its list's `@list`, keyed by its index. With a sub-index (inserted positions), the
/// key holds an array of the slots inserted there, in sub-index order; without (deleted
/// positions), the slot itself. Positions not among `triples` are ignored.
pub fn render_update_subjects(
    triples: &[Triple],
    ctx: &Context,
    positions: &[(Triple, usize, Option<usize>)],
) -> Vec<Value> {
    if positions.is_empty() {
        return render_subjects_in(triples, ctx, ValueOrder::Given);
    }
    let all: std::collections::HashSet<&Triple> = triples.iter().collect();
    let keyed: std::collections::HashSet<&Triple> = positions
        .iter()
        .map(|(t, _, _)| t)
        .filter(|t| all.contains(t))
        .collect();
    let rest: Vec<Triple> = triples
        .iter()
        .filter(|t| !keyed.contains(t))
        .cloned()
        .collect();
    let mut subjects = render_subjects_in(&rest, ctx, ValueOrder::Given);
    let mut ordered: Vec<&(Triple, usize, Option<usize>)> = positions
        .iter()
        .filter(|(t, _, _)| keyed.contains(t))
        .collect();
    ordered.sort_by_key(|(_, index, sub)| (*index, *sub));
    // Where each subject is in the output, by `@id` (a lookup per slot must not scan them all).
    let mut at_of: std::collections::HashMap<String, usize> = subjects
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((s.get("@id")?.as_str()?.to_owned(), i)))
        .collect();
    for (triple, index, sub) in ordered {
        let id = render_subject_id(ctx, &triple.subject);
        let at = match at_of.get(&id) {
            Some(&at) => at,
            None => {
                let mut subject = Map::new();
                subject.insert("@id".into(), Value::String(id.clone()));
                subjects.push(Value::Object(subject));
                at_of.insert(id, subjects.len() - 1);
                subjects.len() - 1
            }
        };
        let Some(subject) = subjects[at].as_object_mut() else {
            continue;
        };
        let list = subject
            .entry("@list")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(list) = list.as_object_mut() else {
            continue;
        };
        let slot = render_object(ctx, &triple.object, None);
        let key = index.to_string();
        match (sub, list.get_mut(&key)) {
            (Some(_), Some(Value::Array(slots))) => slots.push(slot),
            (Some(_), _) => {
                list.insert(key, Value::Array(vec![slot]));
            }
            (None, Some(Value::Array(slots))) => slots.push(slot),
            (None, Some(existing)) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, slot]);
            }
            (None, None) => {
                list.insert(key, slot);
            }
        }
    }
    subjects
}

/// The distinct subjects of some triples, in order of first appearance, and the position of
/// each triple's subject among them.
struct SubjectGroups<'t> {
    subjects: Vec<&'t NamedOrBlankNode>,
    group_of: Vec<usize>,
}

impl<'t> SubjectGroups<'t> {
    fn of(triples: &'t [Triple]) -> Self {
        let mut subjects: IndexedSet<&'t NamedOrBlankNode> = IndexedSet::default();
        let mut group_of = Vec::with_capacity(triples.len());
        let mut current: Option<(&'t NamedOrBlankNode, usize)> = None;
        for triple in triples {
            let subject = &triple.subject;
            // Triples of one subject usually come together.
            let g = match current {
                Some((s, g)) if s == subject => g,
                _ => subjects.insert_full(subject).0,
            };
            current = Some((subject, g));
            group_of.push(g);
        }
        SubjectGroups {
            subjects: subjects.into_vec(),
            group_of,
        }
    }
}

/// The `@id` of a subject: compacted against `@base`, or `_:label` for a blank node.
pub(crate) fn render_subject_id(ctx: &Context, subject: &NamedOrBlankNode) -> String {
    match subject {
        NamedOrBlankNode::NamedNode(n) => ctx.compact_iri(n.as_str(), false),
        NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
    }
}

/// Renders one subject from its (predicate, object) pairs, or `None` if it has none.
///
/// Keys follow `"@id"` in predicate-IRI order (as m-ld-js emits them); values are
/// de-duplicated and sorted.
pub(crate) fn render_subject(
    ctx: &Context,
    id: String,
    properties: &mut [(&NamedNode, &Term)],
) -> Option<Value> {
    render_subject_with(
        ctx,
        id,
        properties,
        &mut KeyCache::default(),
        ValueOrder::Store,
    )
}

/// The keys chosen for predicates whose key does not depend on the value (no term maps to
/// them), remembered over the subjects of one rendering.
#[derive(Default)]
struct KeyCache<'p> {
    keys: Vec<(&'p str, String)>,
}

impl<'p> KeyCache<'p> {
    const SIZE: usize = 32;

    /// The key and term definition for a property value.
    fn select<'c>(
        &mut self,
        ctx: &'c Context,
        predicate: &'p NamedNode,
        object: &Term,
    ) -> (String, Option<&'c TermDefinition>) {
        let iri = predicate.as_str();
        if let Some((_, key)) = self.keys.iter().find(|(p, _)| *p == iri) {
            return (key.clone(), None);
        }
        let independent = ctx.terms_for_iri(iri).is_empty()
            && !(iri == ns::RDF_TYPE && matches!(object, Term::NamedNode(_)));
        let (key, def) = select_key(ctx, iri, object);
        if independent && self.keys.len() < Self::SIZE {
            self.keys.push((iri, key.clone()));
        }
        (key, def)
    }
}

/// One key's values while a subject is rendered.
enum Values {
    One(Value),
    Many(Vec<Value>),
}

impl Values {
    fn push(&mut self, value: Value) {
        match self {
            Values::Many(values) => values.push(value),
            Values::One(_) => {
                let Values::One(first) = std::mem::replace(self, Values::Many(Vec::new())) else {
                    return;
                };
                *self = Values::Many(vec![first, value]);
            }
        }
    }

    fn into_value(self) -> Value {
        match self {
            Values::One(value) => value,
            Values::Many(values) => collapse(values),
        }
    }
}

/// [`render_subject`], with keys remembered over several subjects.
fn render_subject_with<'p>(
    ctx: &Context,
    id: String,
    properties: &mut [(&'p NamedNode, &Term)],
    keys: &mut KeyCache<'p>,
    order: ValueOrder,
) -> Option<Value> {
    if properties.is_empty() {
        return None;
    }
    if properties.len() > 1 {
        match order {
            ValueOrder::Store => properties.sort_by(|a, b| {
                a.0.as_str()
                    .cmp(b.0.as_str())
                    .then_with(|| value_order(ctx, a.1, b.1))
            }),
            ValueOrder::Given => {
                // Stable: each predicate's values keep their order; later duplicates go.
                properties.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
                let mut seen = std::collections::HashSet::with_capacity(properties.len());
                let mut kept = 0;
                for i in 0..properties.len() {
                    if seen.insert(properties[i]) {
                        properties.swap(kept, i);
                        kept += 1;
                    }
                }
                return render_subject_sorted(ctx, id, &properties[..kept], keys);
            }
        }
    }
    render_subject_sorted(ctx, id, properties, keys)
}

/// Renders a subject from (predicate, object) pairs grouped by predicate, without adjacent
/// duplicates.
fn render_subject_sorted<'p>(
    ctx: &Context,
    id: String,
    properties: &[(&'p NamedNode, &Term)],
    keys: &mut KeyCache<'p>,
) -> Option<Value> {
    let mut keyed: Vec<(String, Values)> = Vec::with_capacity(properties.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut previous: Option<(&NamedNode, &Term)> = None;
    for &(predicate, object) in properties.iter() {
        // Grouped, so duplicates are adjacent.
        if previous == Some((predicate, object)) {
            continue;
        }
        previous = Some((predicate, object));
        let (key, value) = render_property_with(ctx, predicate, object, keys);
        let found = if keyed.len() <= KEYED_LINEAR {
            keyed.iter().position(|(k, _)| *k == key)
        } else {
            if index.is_empty() {
                index.extend(keyed.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)));
            }
            index.get(&key).copied()
        };
        match found {
            Some(i) => keyed[i].1.push(value),
            None => {
                if !index.is_empty() {
                    index.insert(key.clone(), keyed.len());
                }
                keyed.push((key, Values::One(value)));
            }
        }
    }
    let mut subject = Map::with_capacity(keyed.len() + 1);
    subject.insert("@id".into(), Value::String(id));
    for (key, values) in keyed {
        subject.insert(key, values.into_value());
    }
    Some(Value::Object(subject))
}

/// Up to how many keys of a subject are found by comparison rather than by hashing.
const KEYED_LINEAR: usize = 16;

/// One value as itself, several as an array.
pub(crate) fn collapse(mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        values.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(values)
    }
}

/// The key and rendered value for one property value.
pub(crate) fn render_property(
    ctx: &Context,
    predicate: &NamedNode,
    object: &Term,
) -> (String, Value) {
    render_property_with(ctx, predicate, object, &mut KeyCache::default())
}

fn render_property_with<'p>(
    ctx: &Context,
    predicate: &'p NamedNode,
    object: &Term,
    keys: &mut KeyCache<'p>,
) -> (String, Value) {
    if predicate.as_str() == ns::RDF_TYPE
        && let Term::NamedNode(class) = object
    {
        return (
            "@type".into(),
            Value::String(ctx.compact_iri(class.as_str(), true)),
        );
    }
    if let Some(keyword) = list_keyword(predicate.as_str()) {
        return (keyword.into(), render_object(ctx, object, None));
    }
    let (key, def) = keys.select(ctx, predicate, object);
    let value = render_object(ctx, object, def);
    (key, value)
}

/// The json-rql keyword for a list slot's predicate (`@item`, `@index`), if it is one.
fn list_keyword(predicate: &str) -> Option<&'static str> {
    match predicate {
        list::ITEM => Some("@item"),
        list::INDEX => Some("@index"),
        _ => None,
    }
}

/// JSON-LD term selection, reduced: a term for the predicate whose coercion matches the value
/// exactly, else a plain term, else the `@vocab`-relative, compact or absolute IRI (never a
/// form that a defined term would capture).
pub(crate) fn select_key<'c>(
    ctx: &'c Context,
    predicate: &str,
    object: &Term,
) -> (String, Option<&'c TermDefinition>) {
    let terms = ctx.terms_for_iri(predicate);
    if !terms.is_empty() {
        let defs = || terms.iter().filter_map(|t| ctx.term(t).map(|d| (t, d)));
        if let Some((term, def)) = defs().find(|(_, d)| matches_exactly(d, object)) {
            return (term.clone(), Some(def));
        }
        if let Some((term, def)) = defs().find(|(_, d)| d.is_plain()) {
            return (term.clone(), Some(def));
        }
    }
    let key = match ctx.vocab_suffix(predicate) {
        Some(suffix) => suffix.to_string(),
        None => ctx
            .compact_with_prefix(predicate)
            .unwrap_or_else(|| predicate.to_string()),
    };
    (key, None)
}

fn matches_exactly(def: &TermDefinition, object: &Term) -> bool {
    match (&def.type_mapping, object) {
        (Some(TypeMapping::Id | TypeMapping::Vocab), Term::NamedNode(_)) => true,
        (Some(TypeMapping::Json), Term::Literal(l)) => l.datatype().as_str() == ns::RDF_JSON,
        (Some(TypeMapping::Datatype(dt)), Term::Literal(l)) => {
            l.language().is_none() && l.datatype().as_str() == dt
        }
        (None, Term::Literal(l)) => match (&def.language, l.language()) {
            (Some(Some(tag)), Some(lang)) => tag.eq_ignore_ascii_case(lang),
            (Some(None), None) => l.datatype().as_str() == ns::XSD_STRING,
            _ => false,
        },
        _ => false,
    }
}

/// The language a plain string under this term would be expanded with.
fn effective_language<'c>(ctx: &'c Context, def: Option<&'c TermDefinition>) -> Option<&'c str> {
    match def {
        Some(def) if def.type_mapping.is_some() => None,
        Some(TermDefinition {
            language: Some(language),
            ..
        }) => language.as_deref(),
        _ => ctx.default_language(),
    }
}

/// Renders a value under a property whose term definition is `def` (if any).
pub(crate) fn render_object(ctx: &Context, object: &Term, def: Option<&TermDefinition>) -> Value {
    let mapping = def.and_then(|d| d.type_mapping.as_ref());
    match object {
        Term::NamedNode(iri) => match mapping {
            Some(TypeMapping::Id) => Value::String(ctx.compact_iri(iri.as_str(), false)),
            Some(TypeMapping::Vocab) => Value::String(ctx.compact_iri(iri.as_str(), true)),
            _ => reference(ctx.compact_iri(iri.as_str(), false)),
        },
        Term::BlankNode(b) => reference(format!("_:{}", b.as_str())),
        Term::Literal(literal) => render_literal(ctx, literal, def),
    }
}

fn reference(id: String) -> Value {
    let mut object = Map::with_capacity(1);
    object.insert("@id".into(), Value::String(id));
    Value::Object(object)
}

fn render_literal(ctx: &Context, literal: &Literal, def: Option<&TermDefinition>) -> Value {
    let mapping = def.and_then(|d| d.type_mapping.as_ref());
    if let Some(tag) = literal.language() {
        // Always a value object, as m-ld-js shows a language-tagged string (`jrqlValue`), even
        // where the term or default language would compact it to a plain string: apps written
        // for m-ld-js read this shape.
        let mut object = Map::new();
        object.insert("@value".into(), Value::String(literal.value().to_string()));
        object.insert("@language".into(), Value::String(tag.to_string()));
        return Value::Object(object);
    }
    let datatype = literal.datatype().as_str();
    if datatype == ns::RDF_JSON
        && let Some(json) = parse_json_literal(literal)
    {
        if mapping == Some(&TypeMapping::Json) {
            return json;
        }
        let mut object = Map::new();
        object.insert("@value".into(), json);
        object.insert("@type".into(), Value::String("@json".into()));
        return Value::Object(object);
    }
    if let Some(inline) = inline_json(literal) {
        let coerced = match mapping {
            None => true,
            Some(TypeMapping::Datatype(dt)) => dt == datatype || !inline.is_string(),
            Some(_) => !inline.is_string(),
        };
        let default_language_applies = inline.is_string() && effective_language(ctx, def).is_some();
        if coerced && !default_language_applies {
            return inline;
        }
        // A plain JSON value here would be re-expanded differently: be explicit.
        let mut object = Map::new();
        object.insert("@value".into(), inline);
        if datatype != ns::XSD_STRING {
            object.insert(
                "@type".into(),
                Value::String(ctx.compact_iri(datatype, true)),
            );
        }
        return Value::Object(object);
    }
    if let Some(TypeMapping::Datatype(dt)) = mapping
        && dt == datatype
    {
        return Value::String(literal.value().to_string());
    }
    let mut object = Map::new();
    object.insert(
        "@type".into(),
        Value::String(ctx.compact_iri(datatype, true)),
    );
    object.insert("@value".into(), Value::String(literal.value().to_string()));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context::for_domain("test.example.org", None).unwrap()
    }

    fn iri(s: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("http://test.example.org/{s}"))
    }

    fn typed(v: &str, t: &str) -> Term {
        Literal::new_typed_literal(v, NamedNode::new_unchecked(t)).into()
    }

    #[test]
    fn renders_the_features_example_subject() {
        let fred = iri("fred");
        let t = |p: &str, o: Term| Triple::new(fred.clone(), iri(p), o);
        let triples = vec![
            Triple::new(
                fred.clone(),
                NamedNode::new_unchecked(ns::RDF_TYPE),
                iri("#Person"),
            ),
            t("#name", Literal::new_simple_literal("Fred").into()),
            t("#nick", Literal::new_simple_literal("Freddy").into()),
            t("#nick", Literal::new_simple_literal("F").into()),
            t("#age", typed("40", ns::XSD_INTEGER)),
            t("#wife", iri("wilma").into()),
            t(
                "#born",
                typed("2000-01-01", "http://www.w3.org/2001/XMLSchema#date"),
            ),
            t("#stats", iri(".well-known/genid/abc").into()),
        ];
        let rendered = render_subjects(&triples, &ctx());
        let expected = json!([{
            "@id": "fred", "age": 40,
            "born": { "@type": "http://www.w3.org/2001/XMLSchema#date", "@value": "2000-01-01" },
            "name": "Fred", "nick": ["F", "Freddy"],
            "stats": { "@id": ".well-known/genid/abc" },
            "wife": { "@id": "wilma" }, "@type": "Person"
        }]);
        assert_eq!(rendered, vec![expected[0].clone()]);
        // Key order: @id, then predicate IRI order (rdf:type sorts last for this domain).
        let keys: Vec<&String> = rendered[0].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "@id", "age", "born", "name", "nick", "stats", "wife", "@type"
            ]
        );
    }

    #[test]
    fn partial_subjects_group_by_subject_in_order() {
        let triples = vec![
            Triple::new(iri("b"), iri("#x"), Literal::new_simple_literal("1")),
            Triple::new(iri("a"), iri("#x"), Literal::new_simple_literal("2")),
            Triple::new(iri("b"), iri("#y"), Literal::new_simple_literal("3")),
        ];
        let rendered = render_subjects(&triples, &ctx());
        assert_eq!(
            rendered,
            vec![
                json!({"@id": "b", "x": "1", "y": "3"}),
                json!({"@id": "a", "x": "2"})
            ]
        );
    }

    /// Grouping as first written: a map from subject to its properties, in first-seen order.
    fn render_by_map(triples: &[Triple], ctx: &Context) -> Vec<Value> {
        let mut order: Vec<&NamedOrBlankNode> = Vec::new();
        let mut by_subject: HashMap<&NamedOrBlankNode, Vec<(&NamedNode, &Term)>> = HashMap::new();
        for triple in triples {
            by_subject
                .entry(&triple.subject)
                .or_insert_with(|| {
                    order.push(&triple.subject);
                    Vec::new()
                })
                .push((&triple.predicate, &triple.object));
        }
        order
            .into_iter()
            .filter_map(|subject| {
                let mut properties = by_subject.remove(subject)?;
                render_subject(ctx, render_subject_id(ctx, subject), &mut properties)
            })
            .collect()
    }

    #[test]
    fn interleaved_and_repeated_subjects_group_as_by_a_map() {
        let c = ctx()
            .with_local(&json!({"ex": "http://ex.org/", "d": {"@id": "ex:d", "@type": "@id"}}))
            .unwrap();
        let mut triples = Vec::new();
        for round in 0..3 {
            for i in (0..20).rev() {
                let s = iri(&format!("s{i}"));
                triples.push(Triple::new(
                    s.clone(),
                    iri("#n"),
                    typed(&(i * round).to_string(), ns::XSD_INTEGER),
                ));
                triples.push(Triple::new(
                    s.clone(),
                    NamedNode::new_unchecked("http://ex.org/d"),
                    iri(&format!("o{}", i % 3)),
                ));
                triples.push(Triple::new(
                    s.clone(),
                    NamedNode::new_unchecked("http://ex.org/d"),
                    Literal::new_simple_literal("plain"),
                ));
                triples.push(Triple::new(
                    s,
                    NamedNode::new_unchecked(ns::RDF_TYPE),
                    iri("#T"),
                ));
            }
        }
        triples.push(Triple::new(
            oxrdf::BlankNode::new_unchecked("b1"),
            iri("#n"),
            Literal::new_simple_literal("x"),
        ));
        let rendered = render_subjects(&triples, &c);
        assert_eq!(rendered.len(), 21);
        assert_eq!(rendered, render_by_map(&triples, &c));
        // Values of one subject from all rounds are merged, de-duplicated and sorted.
        assert_eq!(
            rendered[0],
            json!({"@id": "s19", "n": [0, 19, 38], "d": "o1", "ex:d": "plain", "@type": "T"})
        );
    }

    #[test]
    fn literal_forms() {
        let c = ctx();
        let r = |t: Term| render_object(&c, &t, None);
        assert_eq!(r(typed("1.8E0", ns::XSD_DOUBLE)), json!(1.8));
        assert_eq!(r(typed("2.0E0", ns::XSD_DOUBLE)), json!(2));
        assert_eq!(r(typed("true", ns::XSD_BOOLEAN)), json!(true));
        assert_eq!(
            r(Literal::new_language_tagged_literal("Bonjour", "fr")
                .unwrap()
                .into()),
            json!({"@value": "Bonjour", "@language": "fr"})
        );
        assert_eq!(
            r(typed(r#"{"a":1}"#, ns::RDF_JSON)),
            json!({"@value": {"a": 1}, "@type": "@json"})
        );
        assert_eq!(
            r(typed("foo", "http://ex.org/dt")),
            json!({"@type": "http://ex.org/dt", "@value": "foo"})
        );
        assert_eq!(r(iri("#Big").into()), json!({"@id": "#Big"}));
    }

    #[test]
    fn term_coercions_shape_output() {
        let c = ctx()
            .with_local(&json!({
                "wife": {"@type": "@id"},
                "kind": {"@type": "@vocab"},
                "label": {"@language": "fr"},
                "data": {"@type": "@json"},
                "born": {"@type": "http://www.w3.org/2001/XMLSchema#date"},
                "xsd": "http://www.w3.org/2001/XMLSchema#"
            }))
            .unwrap();
        let s = iri("s");
        let t = |p: &str, o: Term| Triple::new(s.clone(), iri(p), o);
        let triples = vec![
            t("#wife", iri("wilma").into()),
            t("#kind", iri("#Big").into()),
            t(
                "#label",
                Literal::new_language_tagged_literal("Chose", "fr")
                    .unwrap()
                    .into(),
            ),
            t("#data", typed("[1,2]", ns::RDF_JSON)),
            t(
                "#born",
                typed("2000-01-01", "http://www.w3.org/2001/XMLSchema#date"),
            ),
            t("#born", Literal::new_simple_literal("unknown").into()),
        ];
        let rendered = render_subjects(&triples, &c);
        assert_eq!(
            rendered,
            vec![json!({
                "@id": "s",
                "born": "2000-01-01",
                "http://test.example.org/#born": "unknown",
                "data": [1, 2],
                "kind": "Big",
                // A language-tagged string is a value object, as m-ld-js shows it.
                "label": {"@value": "Chose", "@language": "fr"},
                "wife": "wilma"
            })]
        );
    }
}

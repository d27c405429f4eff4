//! `@construct`: templates (fixed, variable or absent ids; fixed or variable keys; nested
//! templates; inline filters), the match pattern used when there is no `@where`, and the
//! filling of templates from solutions (docs/jrql.md §1.5).
//!
//! Without `@where`, each template property is matched on its own (a union of one branch per
//! property, fixed values included), and the solutions fill the templates, as m-ld-js does. A
//! fixed template value (`"@type": "Wife"`, `"kind": "flintstone"`) is part of every result of
//! its template, whatever the solution that made the result (m-ld-js `SubjectTemplate`: literal
//! values populate every new result), with or without `@where`; so is a nested template's, whose
//! result is shown even where its id is not bound (one result, with a blank id).
//!
//! A `@list` in a template (m-ld-js `ConstructTemplate` list properties) is filled as an
//! array indexed by position, `{"@list": ["Bread", "Milk"]}`; when only some indexes match, the
//! others are `null` (the JSON of m-ld-js's sparse array: `{"@list": {"1": "?"}}` gives
//! `[null, "Milk"]`). Its keys are indexes or variables bound to indexes; its items are values, nested
//! templates (the item subject), or slot templates (objects with `@item`, giving the slot).
//!
//! Owns only construct templates; must not know describe/select or writes.

use crate::algebra::{bgp, filter, union_of};
use crate::context::TermDefinition;
use crate::error::{JrqlError, abridge};
use crate::eval::for_each_solution;
use crate::graph::Graph;
use crate::list::{self, ListIndex};
use crate::ns;
use crate::pattern::{Translator, inline_constraint};
use crate::render::{collapse, render_object, select_key};
use crate::value_order::value_order;
use oxrdf::{Literal, NamedNode, Term, Variable};
use serde_json::{Map, Value};
use spargebra::algebra::{Expression, GraphPattern};
use spargebra::term::{NamedNodePattern, TermPattern, TriplePattern};
use std::collections::HashMap;

enum TemplateId {
    Fixed(NamedNode),
    Var(Variable),
    Absent,
}

enum TemplateKey {
    /// A fixed key, output as written.
    Fixed { key: String, predicate: NamedNode },
    /// `@type`.
    Type,
    /// A variable key.
    Var(Variable),
}

enum TemplateValue {
    Var(Variable),
    /// A fixed value, shown as written (m-ld-js shows template literals as they are) in every
    /// result of its template.
    Fixed(Term, Value),
    Nested(usize),
}

struct TemplateProperty {
    key: TemplateKey,
    value: TemplateValue,
}

/// The index of a `@list` entry.
enum ListKey {
    At(usize),
    /// A variable bound to the index (the slot's `@index`).
    Var(Variable),
}

/// What a `@list` entry shows at its index.
enum ListItem {
    /// The slot's `@item` value (the slot itself is matched by the hidden variable).
    Value {
        slot: Variable,
        value: TemplateValue,
    },
    /// A slot template (an object with `@item`), by template index.
    Slot(usize),
}

/// A `@list` entry of a template: `list ?position slot . slot @index key`, and its item.
struct ListEntry {
    key: ListKey,
    position: Variable,
    item: ListItem,
}

struct Template {
    id: TemplateId,
    properties: Vec<TemplateProperty>,
    list: Vec<ListEntry>,
}

/// A parsed construct request.
pub(crate) struct Construct {
    templates: Vec<Template>,
    roots: Vec<usize>,
    /// Inline filters of the templates.
    filters: Vec<Expression>,
}

impl Construct {
    pub(crate) fn parse(
        translator: &mut Translator<'_>,
        json: &Value,
    ) -> Result<Construct, JrqlError> {
        let mut construct = Construct {
            templates: Vec::new(),
            roots: Vec::new(),
            filters: Vec::new(),
        };
        for item in crate::algebra::items(json) {
            let Value::Object(object) = item else {
                return Err(JrqlError::bad(format!(
                    "@construct must be a subject template or an array of them, found {}",
                    abridge(item)
                )));
            };
            let root = construct.template(translator, object)?;
            construct.roots.push(root);
        }
        Ok(construct)
    }

    fn template(
        &mut self,
        translator: &mut Translator<'_>,
        object: &Map<String, Value>,
    ) -> Result<usize, JrqlError> {
        let id = match object.get("@id") {
            None => TemplateId::Absent,
            Some(Value::String(id)) => match translator.id_term(id)? {
                TermPattern::NamedNode(n) => TemplateId::Fixed(n),
                TermPattern::Variable(v) => TemplateId::Var(v),
                _ => return Err(JrqlError::bad(format!("invalid template @id {id:?}"))),
            },
            Some(other) => {
                return Err(JrqlError::bad(format!(
                    "@id must be a string, found {}",
                    abridge(other)
                )));
            }
        };
        let index = self.templates.len();
        self.templates.push(Template {
            id,
            properties: Vec::new(),
            list: Vec::new(),
        });
        for (key, value) in object {
            let template_key = match key.as_str() {
                "@id" => continue,
                "@type" => TemplateKey::Type,
                "@context" => {
                    return Err(JrqlError::unsupported(
                        "@context",
                        "nested contexts are not supported",
                    ));
                }
                "@list" => {
                    self.list_entries(translator, index, value)?;
                    continue;
                }
                "@item" => TemplateKey::Fixed {
                    key: key.clone(),
                    predicate: NamedNode::new_unchecked(list::ITEM),
                },
                "@index" => TemplateKey::Fixed {
                    key: key.clone(),
                    predicate: NamedNode::new_unchecked(list::INDEX),
                },
                k if k.starts_with('@') => {
                    return Err(JrqlError::unsupported(
                        k,
                        "not supported in a @construct template",
                    ));
                }
                k => match translator.vocab_term(k)? {
                    TermPattern::Variable(v) => TemplateKey::Var(v),
                    TermPattern::NamedNode(predicate) => TemplateKey::Fixed {
                        key: k.to_string(),
                        predicate,
                    },
                    _ => return Err(JrqlError::bad(format!("{k:?} is not a property"))),
                },
            };
            let def = translator.ctx.term(key).cloned();
            let mut values = Vec::new();
            self.values(translator, key, def.as_ref(), value, &mut values)?;
            for value in values {
                let key = match &template_key {
                    TemplateKey::Fixed { key, predicate } => TemplateKey::Fixed {
                        key: key.clone(),
                        predicate: predicate.clone(),
                    },
                    TemplateKey::Type => TemplateKey::Type,
                    TemplateKey::Var(v) => TemplateKey::Var(v.clone()),
                };
                if let Some(template) = self.templates.get_mut(index) {
                    template.properties.push(TemplateProperty { key, value });
                }
            }
        }
        Ok(index)
    }

    fn values(
        &mut self,
        translator: &mut Translator<'_>,
        key: &str,
        def: Option<&TermDefinition>,
        value: &Value,
        out: &mut Vec<TemplateValue>,
    ) -> Result<(), JrqlError> {
        match value {
            Value::Null => Ok(()),
            Value::Array(items) => items
                .iter()
                .try_for_each(|item| self.values(translator, key, def, item, out)),
            Value::Object(object) => {
                if let Some(set) = object.get("@set") {
                    return self.values(translator, key, def, set, out);
                }
                if let Some(operators) = inline_constraint(object) {
                    let variable = translator.constraint_variable(object)?;
                    for (operator, args) in operators {
                        let expression = translator.inline_operator(operator, &variable, args)?;
                        self.filters.push(expression);
                    }
                    out.push(TemplateValue::Var(variable));
                    return Ok(());
                }
                let is_value = object.contains_key("@value")
                    || (object.len() == 1
                        && (object.contains_key("@id") || object.contains_key("@vocab")));
                if is_value {
                    let term = translator.term_expression(object)?;
                    out.push(fixed_or_var(term, value)?);
                    return Ok(());
                }
                let nested = self.template(translator, object)?;
                out.push(TemplateValue::Nested(nested));
                Ok(())
            }
            atom => {
                let term = translator.atom(key, def, atom)?;
                out.push(fixed_or_var(term, atom)?);
                Ok(())
            }
        }
    }

    /// Reads the `@list` of template `index` (m-ld-js match mode: no sub-indexes).
    fn list_entries(
        &mut self,
        translator: &mut Translator<'_>,
        index: usize,
        value: &Value,
    ) -> Result<(), JrqlError> {
        for (list_index, item) in list::list_items(value, false)? {
            let key = match list_index {
                ListIndex::At(i, None) => ListKey::At(i),
                ListIndex::At(i, Some(j)) => {
                    return Err(JrqlError::bad(format!(
                        "list index \"{i},{j}\": a sub-index cannot be constructed"
                    )));
                }
                ListIndex::Var(Some(name)) => {
                    ListKey::Var(translator.variable(&format!("?{name}")).ok_or_else(|| {
                        JrqlError::bad(format!("list index ?{name} is not a variable"))
                    })?)
                }
                ListIndex::Var(None) => ListKey::Var(translator.fresh()),
            };
            let mut entries = Vec::new();
            match item {
                Value::Object(slot) if slot.contains_key("@item") => {
                    let nested = self.template(translator, slot)?;
                    // The slot is joined on its identity, so it needs one.
                    if let Some(t) = self.templates.get_mut(nested)
                        && matches!(t.id, TemplateId::Absent)
                    {
                        t.id = TemplateId::Var(translator.fresh());
                    }
                    entries.push(ListItem::Slot(nested));
                }
                other => {
                    let mut values = Vec::new();
                    self.values(translator, "@list", None, other, &mut values)?;
                    for value in values {
                        entries.push(ListItem::Value {
                            slot: translator.fresh(),
                            value,
                        });
                    }
                }
            }
            for item in entries {
                let entry = ListEntry {
                    key: match &key {
                        ListKey::At(i) => ListKey::At(*i),
                        ListKey::Var(v) => ListKey::Var(v.clone()),
                    },
                    position: translator.fresh(),
                    item,
                };
                if let Some(template) = self.templates.get_mut(index) {
                    template.list.push(entry);
                }
            }
        }
        Ok(())
    }

    /// The match pattern when there is no `@where`: a union of one branch per template
    /// property (following nested templates).
    pub(crate) fn pattern(&self, translator: &mut Translator<'_>) -> Option<GraphPattern> {
        let mut branches = Vec::new();
        for &root in &self.roots {
            self.branches(translator, root, &mut branches);
        }
        let filters = self.filters.clone();
        let alternatives = branches.into_iter().map(bgp).collect();
        union_of(alternatives).map(|union| filter_if_bound(union, filters))
    }

    fn branches(
        &self,
        translator: &mut Translator<'_>,
        index: usize,
        out: &mut Vec<Vec<TriplePattern>>,
    ) {
        let Some(template) = self.templates.get(index) else {
            return;
        };
        for property in &template.properties {
            let subject = match &template.id {
                TemplateId::Fixed(n) => TermPattern::NamedNode(n.clone()),
                TemplateId::Var(v) => TermPattern::Variable(v.clone()),
                TemplateId::Absent => TermPattern::Variable(translator.fresh()),
            };
            let predicate = match &property.key {
                TemplateKey::Fixed { predicate, .. } => {
                    NamedNodePattern::NamedNode(predicate.clone())
                }
                TemplateKey::Type => {
                    NamedNodePattern::NamedNode(NamedNode::new_unchecked(ns::RDF_TYPE))
                }
                TemplateKey::Var(v) => NamedNodePattern::Variable(v.clone()),
            };
            let triple = |object: TermPattern| TriplePattern {
                subject: subject.clone(),
                predicate: predicate.clone(),
                object,
            };
            match &property.value {
                TemplateValue::Var(v) => out.push(vec![triple(TermPattern::Variable(v.clone()))]),
                TemplateValue::Fixed(term, _) => out.push(vec![triple(term.clone().into())]),
                TemplateValue::Nested(nested) => {
                    let mut nested_branches = Vec::new();
                    self.branches(translator, *nested, &mut nested_branches);
                    for mut triples in nested_branches {
                        // Each nested branch starts at the nested subject.
                        let Some(nested_id) = triples.first().map(|t| t.subject.clone()) else {
                            continue;
                        };
                        triples.insert(0, triple(nested_id));
                        out.push(triples);
                    }
                }
            }
        }
        for entry in &template.list {
            let subject = match &template.id {
                TemplateId::Fixed(n) => TermPattern::NamedNode(n.clone()),
                TemplateId::Var(v) => TermPattern::Variable(v.clone()),
                TemplateId::Absent => TermPattern::Variable(translator.fresh()),
            };
            self.list_branches(translator, subject, entry, out);
        }
    }

    /// The branches of one `@list` entry of the list subject `subject`: the slot at a position
    /// of the list with the entry's index, then what the entry shows of it.
    fn list_branches(
        &self,
        translator: &mut Translator<'_>,
        subject: TermPattern,
        entry: &ListEntry,
        out: &mut Vec<Vec<TriplePattern>>,
    ) {
        let index = match &entry.key {
            ListKey::At(i) => TermPattern::Literal(Literal::new_typed_literal(
                i.to_string(),
                NamedNode::new_unchecked(ns::XSD_INTEGER),
            )),
            ListKey::Var(v) => TermPattern::Variable(v.clone()),
        };
        let head = |slot: TermPattern| {
            vec![
                TriplePattern {
                    subject: subject.clone(),
                    predicate: NamedNodePattern::Variable(entry.position.clone()),
                    object: slot.clone(),
                },
                TriplePattern {
                    subject: slot,
                    predicate: NamedNodePattern::NamedNode(NamedNode::new_unchecked(list::INDEX)),
                    object: index.clone(),
                },
            ]
        };
        match &entry.item {
            ListItem::Value { slot, value } => {
                let slot = TermPattern::Variable(slot.clone());
                let item = |object: TermPattern| TriplePattern {
                    subject: slot.clone(),
                    predicate: NamedNodePattern::NamedNode(NamedNode::new_unchecked(list::ITEM)),
                    object,
                };
                match value {
                    TemplateValue::Var(v) => {
                        let mut triples = head(slot.clone());
                        triples.push(item(TermPattern::Variable(v.clone())));
                        out.push(triples);
                    }
                    TemplateValue::Fixed(term, _) => {
                        let mut triples = head(slot.clone());
                        triples.push(item(term.clone().into()));
                        out.push(triples);
                    }
                    TemplateValue::Nested(nested) => {
                        let mut nested_branches = Vec::new();
                        self.branches(translator, *nested, &mut nested_branches);
                        for triples in nested_branches {
                            let Some(nested_id) = triples.first().map(|t| t.subject.clone()) else {
                                continue;
                            };
                            let mut all = head(slot.clone());
                            all.push(item(nested_id));
                            all.extend(triples);
                            out.push(all);
                        }
                    }
                }
            }
            ListItem::Slot(nested) => {
                let slot = match self.templates.get(*nested).map(|t| &t.id) {
                    Some(TemplateId::Fixed(n)) => TermPattern::NamedNode(n.clone()),
                    Some(TemplateId::Var(v)) => TermPattern::Variable(v.clone()),
                    Some(TemplateId::Absent) | None => return,
                };
                let mut nested_branches = Vec::new();
                self.branches(translator, *nested, &mut nested_branches);
                if nested_branches.is_empty() {
                    out.push(head(slot.clone()));
                }
                for triples in nested_branches {
                    let mut all = head(slot.clone());
                    all.extend(triples);
                    out.push(all);
                }
            }
        }
    }

    /// Variables whose values fill the templates.
    fn variables(&self) -> Vec<Variable> {
        let mut variables: Vec<Variable> = Vec::new();
        let mut add = |v: &Variable| {
            if !variables.contains(v) {
                variables.push(v.clone());
            }
        };
        for template in &self.templates {
            if let TemplateId::Var(v) = &template.id {
                add(v);
            }
            for property in &template.properties {
                if let TemplateKey::Var(v) = &property.key {
                    add(v);
                }
                if let TemplateValue::Var(v) = &property.value {
                    add(v);
                }
            }
            for entry in &template.list {
                if let ListKey::Var(v) = &entry.key {
                    add(v);
                }
                if let ListItem::Value {
                    value: TemplateValue::Var(v),
                    ..
                } = &entry.item
                {
                    add(v);
                }
            }
        }
        variables
    }

    /// Evaluates the pattern and fills the templates.
    pub(crate) fn run<G: Graph + ?Sized>(
        &self,
        translator: &mut Translator<'_>,
        graph: &G,
        pattern: GraphPattern,
    ) -> Result<Vec<Value>, JrqlError> {
        let variables = self.variables();
        let columns: HashMap<&Variable, usize> =
            variables.iter().enumerate().map(|(i, v)| (v, i)).collect();
        let mut results = Results {
            by_template: (0..self.templates.len()).map(|_| Vec::new()).collect(),
            index: (0..self.templates.len()).map(|_| HashMap::new()).collect(),
            blanks: 0,
        };
        let pattern = GraphPattern::Project {
            inner: Box::new(pattern),
            variables: variables.clone(),
        };
        for_each_solution(graph, pattern, &variables, |row| {
            let bound = |v: &Variable| columns.get(v).and_then(|&i| row.get(i).copied().flatten());
            for &root in &self.roots {
                self.fill(translator, root, &bound, &mut results);
            }
            Ok(())
        })?;
        let mut output = Vec::new();
        for &root in &self.roots {
            let count = results.by_template.get(root).map_or(0, Vec::len);
            for i in 0..count {
                if let Some(subject) = self.render(translator, &results, root, i) {
                    output.push(subject);
                }
            }
        }
        Ok(output)
    }

    /// Adds a solution to a template's results; returns the index of the result it filled, if
    /// that result is worth showing.
    fn fill<'t>(
        &self,
        translator: &Translator<'_>,
        index: usize,
        bound: &impl Fn(&Variable) -> Option<&'t Term>,
        results: &mut Results,
    ) -> Option<usize> {
        let template = self.templates.get(index)?;
        let id_term = match &template.id {
            TemplateId::Var(v) => bound(v).cloned(),
            TemplateId::Fixed(n) => Some(Term::NamedNode(n.clone())),
            TemplateId::Absent => None,
        };
        let identified = id_term.is_some();
        let position = results.index.get(index)?.get(&id_term).copied();
        let position = match position {
            Some(p) => p,
            None => {
                let id = match &id_term {
                    Some(Term::NamedNode(n)) => translator.ctx.compact_iri(n.as_str(), false),
                    Some(other) => other.to_string(),
                    None => {
                        results.blanks += 1;
                        format!("_:b{}", results.blanks)
                    }
                };
                let list = results.by_template.get_mut(index)?;
                list.push(ResultSubject {
                    id_term: id_term.clone(),
                    id,
                    properties: Vec::new(),
                });
                let position = list.len() - 1;
                results.index.get_mut(index)?.insert(id_term, position);
                position
            }
        };
        for (property_index, property) in template.properties.iter().enumerate() {
            let key: PropertyKey = match &property.key {
                TemplateKey::Fixed { key, .. } => PropertyKey::Fixed(key.clone()),
                TemplateKey::Type => PropertyKey::Fixed("@type".into()),
                TemplateKey::Var(v) => match bound(v) {
                    Some(Term::NamedNode(p)) => PropertyKey::Predicate(p.clone()),
                    _ => continue,
                },
            };
            let value = match &property.value {
                TemplateValue::Var(v) => match bound(v) {
                    Some(term) => ResultValue::Term(term.clone()),
                    None => continue,
                },
                TemplateValue::Fixed(..) => {
                    ResultValue::Fixed(index, WrittenAt::Property(property_index))
                }
                TemplateValue::Nested(nested) => {
                    match self.fill(translator, *nested, bound, results) {
                        Some(i) => ResultValue::Nested(*nested, i),
                        None => continue,
                    }
                }
            };
            if let Some(result) = results
                .by_template
                .get_mut(index)
                .and_then(|list| list.get_mut(position))
            {
                result.add(key, value);
            }
        }
        for (entry_index, entry) in template.list.iter().enumerate() {
            let at = match &entry.key {
                ListKey::At(i) => Some(*i),
                ListKey::Var(v) => bound(v).and_then(list_index_of),
            };
            let Some(at) = at else { continue };
            let value = match &entry.item {
                ListItem::Value {
                    value: TemplateValue::Var(v),
                    ..
                } => match bound(v) {
                    Some(term) => ResultValue::Term(term.clone()),
                    None => continue,
                },
                ListItem::Value {
                    value: TemplateValue::Fixed(..),
                    ..
                } => ResultValue::Fixed(index, WrittenAt::Item(entry_index)),
                ListItem::Value {
                    value: TemplateValue::Nested(nested),
                    ..
                }
                | ListItem::Slot(nested) => match self.fill(translator, *nested, bound, results) {
                    Some(i) => ResultValue::Nested(*nested, i),
                    None => continue,
                },
            };
            if let Some(result) = results
                .by_template
                .get_mut(index)
                .and_then(|list| list.get_mut(position))
            {
                result.add(PropertyKey::List(at), value);
            }
        }
        let result = results.by_template.get(index)?.get(position)?;
        (identified || !result.properties.is_empty()).then_some(position)
    }

    /// A fixed value of template `template` and how it is written there.
    fn written(&self, template: usize, at: WrittenAt) -> Option<(&Term, &Value)> {
        let template = self.templates.get(template)?;
        let value = match at {
            WrittenAt::Property(i) => &template.properties.get(i)?.value,
            WrittenAt::Item(i) => match &template.list.get(i)?.item {
                ListItem::Value { value, .. } => value,
                ListItem::Slot(_) => return None,
            },
        };
        match value {
            TemplateValue::Fixed(term, written) => Some((term, written)),
            _ => None,
        }
    }

    fn render(
        &self,
        translator: &Translator<'_>,
        results: &Results,
        template: usize,
        index: usize,
    ) -> Option<Value> {
        let ctx = translator.ctx;
        let result = results.by_template.get(template)?.get(index)?;
        if result.id_term.is_none() && result.properties.is_empty() {
            return None;
        }
        let mut subject = Map::new();
        subject.insert("@id".into(), Value::String(result.id.clone()));
        let mut keyed: Vec<(String, KeyValues<'_>)> = Vec::new();
        let mut listed: Vec<(usize, KeyValues<'_>)> = Vec::new();
        for (key, values) in &result.properties {
            if let PropertyKey::List(at) = key {
                let mut rendered = KeyValues::default();
                for value in values {
                    match value {
                        ResultValue::Term(term) => rendered
                            .matched
                            .push((Some(term), render_object(ctx, term, None))),
                        ResultValue::Fixed(t, at) => {
                            rendered.written.push(self.written(*t, *at)?.1.clone());
                        }
                        ResultValue::Nested(t, i) => rendered
                            .matched
                            .push((None, self.render(translator, results, *t, *i)?)),
                    }
                }
                listed.push((*at, rendered));
                continue;
            }
            for value in values {
                let (key, rendered, term) = match (key, value) {
                    (PropertyKey::Fixed(k), ResultValue::Fixed(t, at)) => {
                        let (_, written) = self.written(*t, *at)?;
                        match keyed.iter_mut().find(|(existing, _)| existing == k) {
                            Some((_, values)) => values.written.push(written.clone()),
                            None => keyed.push((k.clone(), KeyValues::written(written))),
                        }
                        continue;
                    }
                    (PropertyKey::Predicate(p), ResultValue::Fixed(t, at)) => {
                        let (term, written) = self.written(*t, *at)?;
                        let key = crate::render::render_property(ctx, p, term).0;
                        match keyed.iter_mut().find(|(existing, _)| *existing == key) {
                            Some((_, values)) => values.written.push(written.clone()),
                            None => keyed.push((key, KeyValues::written(written))),
                        }
                        continue;
                    }
                    (PropertyKey::Fixed(k), ResultValue::Term(term)) if k == "@type" => {
                        let rendered = match term {
                            Term::NamedNode(n) => Value::String(ctx.compact_iri(n.as_str(), true)),
                            other => render_object(ctx, other, None),
                        };
                        (k.clone(), rendered, Some(term))
                    }
                    (PropertyKey::Fixed(k), ResultValue::Term(term)) => {
                        (k.clone(), render_object(ctx, term, ctx.term(k)), Some(term))
                    }
                    (PropertyKey::Predicate(p), ResultValue::Term(term)) => {
                        let (k, v) = crate::render::render_property(ctx, p, term);
                        (k, v, Some(term))
                    }
                    (PropertyKey::List(_), _) => continue,
                    (key, ResultValue::Nested(t, i)) => {
                        let k = match key {
                            PropertyKey::Fixed(k) => k.clone(),
                            PropertyKey::Predicate(p) => {
                                select_key(ctx, p.as_str(), &Term::NamedNode(p.clone())).0
                            }
                            PropertyKey::List(_) => continue,
                        };
                        let nested = self.render(translator, results, *t, *i)?;
                        (k, nested, None)
                    }
                };
                match keyed.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, values)) => values.matched.push((term, rendered)),
                    None => keyed.push((
                        key,
                        KeyValues {
                            written: Vec::new(),
                            matched: vec![(term, rendered)],
                        },
                    )),
                }
            }
        }
        for (key, values) in keyed {
            subject.insert(key, values.into_value(ctx));
        }
        if let Some(last) = listed.iter().map(|(at, _)| *at).max() {
            // A JS array indexed by position, as m-ld-js fills it: the positions that did not
            // match are holes, `null` in JSON.
            let mut items = vec![Value::Null; last + 1];
            for (at, values) in listed {
                items[at] = values.into_value(ctx);
            }
            subject.insert("@list".into(), Value::Array(items));
        }
        Some(Value::Object(subject))
    }
}

/// Filters that may refer to variables of only some union branches: an unbound variable
/// fails the filter in the branches that lack it, so each filter is guarded by `BOUND`.
fn filter_if_bound(pattern: GraphPattern, filters: Vec<Expression>) -> GraphPattern {
    let guarded = filters
        .into_iter()
        .map(|f| {
            let mut variables = Vec::new();
            collect_variables(&f, &mut variables);
            variables.into_iter().fold(f, |expr, v| {
                Expression::Or(
                    Box::new(Expression::Not(Box::new(Expression::Bound(v)))),
                    Box::new(expr),
                )
            })
        })
        .collect();
    filter(pattern, guarded)
}

fn collect_variables(expression: &Expression, out: &mut Vec<Variable>) {
    match expression {
        Expression::Variable(v) | Expression::Bound(v) => {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        Expression::Or(a, b)
        | Expression::And(a, b)
        | Expression::Equal(a, b)
        | Expression::SameTerm(a, b)
        | Expression::Greater(a, b)
        | Expression::GreaterOrEqual(a, b)
        | Expression::Less(a, b)
        | Expression::LessOrEqual(a, b)
        | Expression::Add(a, b)
        | Expression::Subtract(a, b)
        | Expression::Multiply(a, b)
        | Expression::Divide(a, b) => {
            collect_variables(a, out);
            collect_variables(b, out);
        }
        Expression::UnaryPlus(a) | Expression::UnaryMinus(a) | Expression::Not(a) => {
            collect_variables(a, out);
        }
        Expression::In(a, list) => {
            collect_variables(a, out);
            list.iter().for_each(|e| collect_variables(e, out));
        }
        Expression::If(a, b, c) => {
            collect_variables(a, out);
            collect_variables(b, out);
            collect_variables(c, out);
        }
        Expression::Coalesce(list) | Expression::FunctionCall(_, list) => {
            list.iter().for_each(|e| collect_variables(e, out));
        }
        Expression::NamedNode(_) | Expression::Literal(_) | Expression::Exists(_) => {}
    }
}

/// With a `@where`, the templates' inline filters constrain its solutions.
pub(crate) fn with_template_filters(construct: &Construct, pattern: GraphPattern) -> GraphPattern {
    filter(pattern, construct.filters.clone())
}

/// A template value: a variable to fill, or a fixed value as `written`.
fn fixed_or_var(term: TermPattern, written: &Value) -> Result<TemplateValue, JrqlError> {
    Ok(match term {
        TermPattern::Variable(v) => TemplateValue::Var(v),
        TermPattern::NamedNode(n) => TemplateValue::Fixed(Term::NamedNode(n), written.clone()),
        TermPattern::Literal(l) => TemplateValue::Fixed(Term::Literal(l), written.clone()),
        other => return Err(JrqlError::bad(format!("{other} cannot be constructed"))),
    })
}

/// The values of one key of a constructed subject.
#[derive(Default)]
struct KeyValues<'t> {
    /// Fixed template values, as written, in template order.
    written: Vec<Value>,
    /// Values filled from solutions.
    matched: Vec<RenderedValue<'t>>,
}

impl KeyValues<'_> {
    fn written(value: &Value) -> Self {
        KeyValues {
            written: vec![value.clone()],
            matched: Vec::new(),
        }
    }

    /// As m-ld-js fills a template: its fixed values as written, in template order, then the
    /// values from solutions (in m-ld-js value order), each value once.
    fn into_value(self, ctx: &crate::context::Context) -> Value {
        let KeyValues {
            written,
            mut matched,
        } = self;
        let mut values: Vec<Value> = Vec::with_capacity(written.len() + matched.len());
        for value in written {
            if !values.contains(&value) {
                values.push(value);
            }
        }
        let fixed = values.len();
        sort_rendered(ctx, &mut matched);
        matched.dedup_by(|a, b| a.1 == b.1);
        for (_, value) in matched {
            if !values[..fixed].contains(&value) {
                values.push(value);
            }
        }
        collapse(values)
    }
}

/// A rendered value with the term it came from (none for nested subjects), for sorting.
type RenderedValue<'t> = (Option<&'t Term>, Value);

/// Sorts the values of one key: terms in m-ld-js value order, then nested subjects.
fn sort_rendered(ctx: &crate::context::Context, values: &mut [RenderedValue<'_>]) {
    values.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => value_order(ctx, x, y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.to_string().cmp(&b.1.to_string()),
    });
}

/// The list index a bound index variable holds: a non-negative integer literal.
fn list_index_of(term: &Term) -> Option<usize> {
    match term {
        Term::Literal(l) if l.datatype().as_str() == ns::XSD_INTEGER => l.value().parse().ok(),
        _ => None,
    }
}

#[derive(PartialEq)]
enum PropertyKey {
    Fixed(String),
    Predicate(NamedNode),
    /// An index of the subject's `@list`.
    List(usize),
}

#[derive(PartialEq)]
enum ResultValue {
    Term(Term),
    /// A fixed value of a template (by index), where it is written in it.
    Fixed(usize, WrittenAt),
    Nested(usize, usize),
}

/// Where a fixed value is written in its template.
#[derive(PartialEq, Clone, Copy)]
enum WrittenAt {
    Property(usize),
    Item(usize),
}

struct ResultSubject {
    id_term: Option<Term>,
    id: String,
    properties: Vec<(PropertyKey, Vec<ResultValue>)>,
}

impl ResultSubject {
    fn add(&mut self, key: PropertyKey, value: ResultValue) {
        match self.properties.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => {
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            None => self.properties.push((key, vec![value])),
        }
    }
}

struct Results {
    by_template: Vec<Vec<ResultSubject>>,
    index: Vec<HashMap<Option<Term>, usize>>,
    blanks: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use serde_json::json;

    fn parse(json: Value) -> Result<(Construct, usize), JrqlError> {
        let ctx = Context::for_domain("test.example.org", None)?;
        let mut translator = Translator::new(&ctx);
        let construct = Construct::parse(&mut translator, &json)?;
        let branches = match construct.pattern(&mut translator) {
            None => 0,
            Some(pattern) => count_branches(&pattern),
        };
        Ok((construct, branches))
    }

    fn count_branches(pattern: &GraphPattern) -> usize {
        match pattern {
            GraphPattern::Union { left, right } => count_branches(left) + count_branches(right),
            GraphPattern::Filter { inner, .. } => count_branches(inner),
            _ => 1,
        }
    }

    #[test]
    fn one_branch_per_template_leaf() {
        let (construct, branches) = parse(
            json!({ "@id": "fred", "wife": { "@id": "?w", "name": "?", "age": "?" }, "nick": "?", "@type": "Person" }),
        )
        .unwrap();
        assert_eq!(branches, 4);
        assert_eq!(construct.roots.len(), 1);
        assert_eq!(construct.templates.len(), 2);
        // The fixed @type value is a template value, not a variable to fill.
        let fixed = construct.templates[0]
            .properties
            .iter()
            .filter(|p| matches!(p.value, TemplateValue::Fixed(..)))
            .count();
        assert_eq!(fixed, 1);
        assert_eq!(
            construct.variables().len(),
            4,
            "?w and the three anonymous variables"
        );
    }

    #[test]
    fn references_are_values_not_templates() {
        let (construct, branches) =
            parse(json!({ "@id": "fred", "wife": { "@id": "wilma" } })).unwrap();
        assert_eq!(construct.templates.len(), 1);
        assert_eq!(branches, 1);
    }

    #[test]
    fn unsupported_template_keys() {
        // Lists construct, but not at sub-indexes.
        assert_eq!(
            parse(json!({ "@id": "x", "@list": ["?a", "?b"] }))
                .map(|(_, branches)| branches)
                .ok(),
            Some(2)
        );
        assert_eq!(
            parse(json!({ "@id": "x", "@list": { "0,1": "?" } }))
                .err()
                .map(|e| e.status()),
            Some(4001)
        );
        assert_eq!(
            parse(json!({ "@id": "x", "@foo": 1 }))
                .err()
                .map(|e| e.status()),
            Some(5011)
        );
        assert_eq!(parse(json!("x")).err().map(|e| e.status()), Some(4001));
    }

    #[test]
    fn branch_filters_pass_where_their_variables_are_unbound() {
        let filtered = filter_if_bound(
            bgp(vec![]),
            vec![Expression::Greater(
                Box::new(Expression::Variable(Variable::new_unchecked("a"))),
                Box::new(Expression::Literal(Literal::from(1))),
            )],
        );
        let GraphPattern::Filter { expr, .. } = filtered else {
            panic!()
        };
        assert!(
            matches!(expr, Expression::Or(ref guard, _) if matches!(**guard, Expression::Not(_)))
        );
    }
}

//! json-rql subjects → SPARQL triple patterns: identifiers, property keys, variables, values
//! (docs/jrql.md §1.3), nested subjects, inline filters and inline binds. Holds the
//! [`Translator`], the per-request state (context, fresh variables, skolem minting) that the
//! expression, group and query translations extend.
//!
//! Owns only the shape of subjects; must not evaluate anything or read the graph.

use crate::context::{Context, TermDefinition, TypeMapping};
use crate::error::{JrqlError, abridge};
use crate::list;
use crate::ns;
use crate::value::{boolean_literal, double_lexical, json_literal, number_lexical, number_literal};
use oxrdf::{Literal, NamedNode, Variable};
use serde_json::{Map, Value};
use spargebra::algebra::Expression;
use spargebra::term::{NamedNodePattern, TermPattern, TriplePattern};
use std::collections::HashMap;

/// How subjects are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Querying: missing ids are fresh variables; inline constraints are filters; a top-level
    /// reference matches any property of its subject.
    Match,
    /// Writing: missing ids are skolem IRIs; inline constraints are binds; variables are
    /// allowed, to be filled from solutions.
    Load,
}

/// A triple pattern produced from a subject, with the variable standing for the value it
/// replaces when it comes from an `@update` or an inline bind.
#[derive(Clone, Debug)]
pub(crate) struct PatternTriple {
    pub triple: TriplePattern,
    pub before: Option<Variable>,
}

/// Everything a group of subjects translates to.
#[derive(Default, Debug)]
pub(crate) struct Patterns {
    pub triples: Vec<PatternTriple>,
    /// Inline filters found in match mode, to be ANDed over the group.
    pub filters: Vec<Expression>,
    /// Inline binds found in load mode, `(result, expression)`, to extend solutions.
    pub binds: Vec<(Variable, Expression)>,
}

impl Patterns {
    pub(crate) fn triple_patterns(&self) -> Vec<TriplePattern> {
        self.triples.iter().map(|t| t.triple.clone()).collect()
    }
}

/// Prefix of the names of variables the engine introduces. `-` cannot start a json-rql
/// variable name, so these never clash with the user's and are never selected by `*`.
const HIDDEN_PREFIX: char = '-';

/// Whether a variable was introduced by the engine rather than named by the user.
pub(crate) fn is_hidden(variable: &Variable) -> bool {
    variable.as_str().starts_with(HIDDEN_PREFIX)
}

/// A json-rql variable token: `"?"` (anonymous) or `"?name"` with a SPARQL VARNAME.
pub(crate) enum VarToken {
    Anonymous,
    Named(Variable),
}

/// Parses a string as a variable token, if it is one.
pub(crate) fn var_token(s: &str) -> Option<VarToken> {
    let name = s.strip_prefix('?')?;
    if name.is_empty() {
        return Some(VarToken::Anonymous);
    }
    Variable::new(name).ok().map(VarToken::Named)
}

/// Per-request translation state.
pub(crate) struct Translator<'c> {
    pub ctx: &'c Context,
    next_var: usize,
    /// Hidden variables standing for subjects to be given skolem IRIs when written.
    pub skolem_vars: Vec<Variable>,
    /// The same, for lookups (a large write has one per anonymous subject).
    skolem_set: std::collections::HashSet<Variable>,
    /// Named user variables, in order of first appearance.
    pub user_vars: Vec<Variable>,
    /// Blank node labels seen so far, each standing for one hidden variable for the whole
    /// request: a variable to match where first seen matching (`@where`, `@delete`), a subject
    /// to be minted where first seen loading (`@insert`, `@update`, plain inserts).
    blank_vars: HashMap<String, Variable>,
    /// How subjects are being read, for the labels [`Translator::id_term`] meets.
    label_mode: Mode,
    /// Vocabulary expansions already made (a request repeats a few keys over many subjects).
    vocab_cache: Vec<(String, NamedNode)>,
    /// How many vocabulary terms have been expanded; small requests remember none.
    vocab_expansions: usize,
}

/// How many distinct vocabulary expansions a [`Translator`] remembers.
const VOCAB_CACHE_SIZE: usize = 32;

/// After how many expansions a [`Translator`] starts remembering them (remembering costs more
/// than it saves in a request of one small subject).
const VOCAB_CACHE_AFTER: usize = 8;

impl<'c> Translator<'c> {
    pub(crate) fn new(ctx: &'c Context) -> Self {
        Translator {
            ctx,
            next_var: 0,
            skolem_vars: Vec::new(),
            skolem_set: std::collections::HashSet::new(),
            user_vars: Vec::new(),
            blank_vars: HashMap::new(),
            label_mode: Mode::Match,
            vocab_cache: Vec::new(),
            vocab_expansions: 0,
        }
    }

    /// A fresh hidden variable.
    pub(crate) fn fresh(&mut self) -> Variable {
        self.next_var += 1;
        Variable::new_unchecked(format!("{HIDDEN_PREFIX}{}", self.next_var))
    }

    fn note_user_var(&mut self, variable: &Variable) {
        if !self.user_vars.contains(variable) {
            self.user_vars.push(variable.clone());
        }
    }

    /// The variable for a token string, if it is one (anonymous tokens are fresh variables).
    pub(crate) fn variable(&mut self, s: &str) -> Option<Variable> {
        match var_token(s)? {
            VarToken::Anonymous => Some(self.fresh()),
            VarToken::Named(v) => {
                self.note_user_var(&v);
                Some(v)
            }
        }
    }

    /// A hidden variable for a subject that will be given a skolem IRI when written (one per
    /// solution, so that no two writes share an anonymous subject).
    fn skolem_var(&mut self) -> Variable {
        self.next_var += 1;
        let variable = Variable::new_unchecked(format!("{HIDDEN_PREFIX}s{}", self.next_var));
        self.skolem_vars.push(variable.clone());
        self.skolem_set.insert(variable.clone());
        variable
    }

    /// Whether a variable stands for a subject to be minted.
    pub(crate) fn is_skolem(&self, variable: &Variable) -> bool {
        self.skolem_set.contains(variable)
    }

    /// Expands an identifier (subject id or reference) to an IRI, a variable, or, for a blank
    /// node label (`_:b1`), the label's hidden variable.
    ///
    /// A label names one node within one request (JSON-LD: within one document). Where it is
    /// first met matching (`@where`, `@delete`, reads) it is a variable, as in SPARQL, shared
    /// by every use of the label in the request; where it is first met loading (`@insert`,
    /// `@update`, plain inserts) it is a subject to be minted a skolem IRI, like an anonymous
    /// subject (one per solution), shared by every use of the label in the request. The same
    /// label in another request is another node.
    pub(crate) fn id_term(&mut self, id: &str) -> Result<TermPattern, JrqlError> {
        if let Some(v) = self.variable(id) {
            return Ok(TermPattern::Variable(v));
        }
        if let Some(label) = id.strip_prefix("_:") {
            if let Some(var) = self.blank_vars.get(label) {
                return Ok(TermPattern::Variable(var.clone()));
            }
            let var = match self.label_mode {
                Mode::Match => {
                    let next = self.blank_vars.len() + 1;
                    Variable::new_unchecked(format!("{HIDDEN_PREFIX}b{next}"))
                }
                Mode::Load => self.skolem_var(),
            };
            self.blank_vars.insert(label.to_string(), var.clone());
            return Ok(TermPattern::Variable(var));
        }
        Ok(TermPattern::NamedNode(NamedNode::new_unchecked(
            self.ctx.expand_iri(id, false)?,
        )))
    }

    /// Expands a vocabulary term (property key, `@type` value, `@vocab` reference).
    pub(crate) fn vocab_term(&mut self, term: &str) -> Result<TermPattern, JrqlError> {
        if let Some(v) = self.variable(term) {
            return Ok(TermPattern::Variable(v));
        }
        Ok(TermPattern::NamedNode(self.vocab_iri(term)?))
    }

    /// The IRI of a vocabulary term (not a variable), remembered for the rest of the request.
    fn vocab_iri(&mut self, term: &str) -> Result<NamedNode, JrqlError> {
        if let Some((_, iri)) = self.vocab_cache.iter().find(|(t, _)| t == term) {
            return Ok(iri.clone());
        }
        let iri = NamedNode::new_unchecked(self.ctx.expand_iri(term, true)?);
        self.vocab_expansions += 1;
        if self.vocab_expansions > VOCAB_CACHE_AFTER && self.vocab_cache.len() < VOCAB_CACHE_SIZE {
            self.vocab_cache.push((term.to_string(), iri.clone()));
        }
        Ok(iri)
    }

    /// Translates a subject, or an array of subjects (nested arrays flattened, nulls ignored),
    /// appending to `out`.
    pub(crate) fn subjects(
        &mut self,
        json: &Value,
        mode: Mode,
        update: bool,
        out: &mut Patterns,
    ) -> Result<(), JrqlError> {
        let outer_mode = std::mem::replace(&mut self.label_mode, mode);
        let translated = self.subjects_in_mode(json, mode, update, out);
        self.label_mode = outer_mode;
        translated
    }

    fn subjects_in_mode(
        &mut self,
        json: &Value,
        mode: Mode,
        update: bool,
        out: &mut Patterns,
    ) -> Result<(), JrqlError> {
        match json {
            Value::Null => Ok(()),
            Value::Array(items) => {
                // About a triple per key: room for them all now, rather than by doublings that
                // copy a large array over and over.
                let keys: usize = items
                    .iter()
                    .filter_map(Value::as_object)
                    .map(Map::len)
                    .sum();
                out.triples.reserve(keys);
                items
                    .iter()
                    .try_for_each(|item| self.subjects_in_mode(item, mode, update, out))
            }
            Value::Object(object) => self.subject(object, mode, update, None, out).map(|_| ()),
            other => Err(JrqlError::bad(format!(
                "expected a subject (JSON object), found {}",
                abridge(other)
            ))),
        }
    }

    /// Translates one subject; `outer` is the referencing subject and property, if nested.
    /// Returns the subject's identity term.
    fn subject(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        update: bool,
        outer: Option<(&TermPattern, &NamedNodePattern)>,
        out: &mut Patterns,
    ) -> Result<Option<TermPattern>, JrqlError> {
        for key in object.keys() {
            check_subject_key(key)?;
        }
        let has_properties = object.keys().any(|k| k != "@id");
        let id = match crate::algebra::get(object, "@id") {
            Some(Value::String(id)) => self.id_term(id)?,
            Some(other) => {
                return Err(JrqlError::bad(format!(
                    "@id must be a string, found {}",
                    abridge(other)
                )));
            }
            None if outer.is_none() && !has_properties => return Ok(None),
            None => match mode {
                Mode::Match => TermPattern::Variable(self.fresh()),
                Mode::Load => TermPattern::Variable(self.skolem_var()),
            },
        };
        match outer {
            Some((outer_id, property)) => self.push(
                out,
                update,
                TriplePattern {
                    subject: outer_id.clone(),
                    predicate: property.clone(),
                    object: id.clone(),
                },
                None,
            ),
            None if mode == Mode::Match && !has_properties => {
                // A top-level reference matches a subject having any property.
                let (p, o) = (self.fresh(), self.fresh());
                out.triples.push(PatternTriple {
                    triple: TriplePattern {
                        subject: id.clone(),
                        predicate: NamedNodePattern::Variable(p),
                        object: TermPattern::Variable(o),
                    },
                    before: None,
                });
            }
            None => {}
        }
        self.properties(&id, object, mode, update, out)?;
        Ok(Some(id))
    }

    /// Translates the properties of a subject (all keys but `@id`) whose identity is `id`.
    fn properties(
        &mut self,
        id: &TermPattern,
        object: &Map<String, Value>,
        mode: Mode,
        update: bool,
        out: &mut Patterns,
    ) -> Result<(), JrqlError> {
        for (key, value) in object {
            if key == "@id" {
                continue;
            }
            if key == "@list" {
                self.list(id, value, mode, update, out)?;
                continue;
            }
            let predicate = match key.as_str() {
                "@type" => NamedNodePattern::NamedNode(NamedNode::new_unchecked(ns::RDF_TYPE)),
                "@item" => NamedNodePattern::NamedNode(NamedNode::new_unchecked(list::ITEM)),
                "@index" => NamedNodePattern::NamedNode(NamedNode::new_unchecked(list::INDEX)),
                _ => match self.vocab_term(key)? {
                    TermPattern::Variable(v) => NamedNodePattern::Variable(v),
                    TermPattern::NamedNode(n) => NamedNodePattern::NamedNode(n),
                    _ => return Err(JrqlError::bad(format!("{key:?} is not a property"))),
                },
            };
            let ctx = self.ctx;
            let def = ctx.term(key);
            self.values(id, key, &predicate, def, value, mode, update, out)?;
        }
        Ok(())
    }

    /// Translates a `@list` value of the list subject `list` (m-ld-js `SubjectQuads.listQuads`).
    ///
    /// Every item is a slot `S`, with `list KEY S` and `S @item value`. When writing, `KEY` is
    /// the intermediate predicate of the index (`data:application/mld-li,i[,j]`), which the
    /// engine turns into a position; when matching, it is a variable (to be bound to the
    /// position predicate) and the slot's entailed `@index` is matched too. A variable index
    /// `?i` names hidden variables for its key and slot, so that the same `?i` in `@delete`
    /// and `@insert` refers to the same position.
    fn list(
        &mut self,
        list_id: &TermPattern,
        value: &Value,
        mode: Mode,
        update: bool,
        out: &mut Patterns,
    ) -> Result<(), JrqlError> {
        for (index, item) in list::list_items(value, mode == Mode::Load)? {
            let slot = as_slot(item);
            let given_id = match crate::algebra::get(&slot, "@id") {
                Some(Value::String(id)) => Some(self.id_term(id)?),
                Some(other) => {
                    return Err(JrqlError::bad(format!(
                        "@id must be a string, found {}",
                        abridge(other)
                    )));
                }
                None => None,
            };
            let sub_var = |name: &str, part: &str| {
                Variable::new_unchecked(format!("{HIDDEN_PREFIX}{name}-{part}"))
            };
            let (key, slot_id, index_value) = match index {
                list::ListIndex::Var(name) => {
                    let variable = match name {
                        Some(name) => self.variable(&format!("?{name}")).ok_or_else(|| {
                            JrqlError::bad(format!("list index ?{name} is not a variable"))
                        })?,
                        None => self.fresh(),
                    };
                    let name = variable.as_str().to_string();
                    let slot_id =
                        given_id.unwrap_or_else(|| TermPattern::Variable(sub_var(&name, "slotId")));
                    (
                        NamedNodePattern::Variable(sub_var(&name, "listKey")),
                        slot_id,
                        TermPattern::Variable(variable),
                    )
                }
                list::ListIndex::At(i, sub) => {
                    let number = TermPattern::Literal(Literal::new_typed_literal(
                        i.to_string(),
                        NamedNode::new_unchecked(ns::XSD_INTEGER),
                    ));
                    match mode {
                        Mode::Load => (
                            NamedNodePattern::NamedNode(NamedNode::new_unchecked(
                                list::index_key_iri(i, sub),
                            )),
                            given_id.unwrap_or_else(|| TermPattern::Variable(self.skolem_var())),
                            number,
                        ),
                        Mode::Match => {
                            let key = match &given_id {
                                Some(TermPattern::Variable(v)) => sub_var(v.as_str(), "listKey"),
                                _ => self.fresh(),
                            };
                            let slot_id =
                                given_id.unwrap_or_else(|| TermPattern::Variable(self.fresh()));
                            (NamedNodePattern::Variable(key), slot_id, number)
                        }
                    }
                }
            };
            self.push(
                out,
                update,
                TriplePattern {
                    subject: list_id.clone(),
                    predicate: key,
                    object: slot_id.clone(),
                },
                None,
            );
            self.properties(&slot_id, &slot, mode, update, out)?;
            // The index is entailed: only ever matched, never written.
            if mode == Mode::Match && !slot.contains_key("@index") {
                out.triples.push(PatternTriple {
                    triple: TriplePattern {
                        subject: slot_id,
                        predicate: NamedNodePattern::NamedNode(NamedNode::new_unchecked(
                            list::INDEX,
                        )),
                        object: index_value,
                    },
                    before: None,
                });
            }
        }
        Ok(())
    }

    fn push(
        &mut self,
        out: &mut Patterns,
        update: bool,
        triple: TriplePattern,
        before: Option<Variable>,
    ) {
        let before = match before {
            Some(b) => Some(b),
            None if update => Some(self.fresh()),
            None => None,
        };
        out.triples.push(PatternTriple { triple, before });
    }

    #[allow(clippy::too_many_arguments)]
    fn values(
        &mut self,
        subject: &TermPattern,
        key: &str,
        predicate: &NamedNodePattern,
        def: Option<&TermDefinition>,
        value: &Value,
        mode: Mode,
        update: bool,
        out: &mut Patterns,
    ) -> Result<(), JrqlError> {
        let is_json = def.is_some_and(|d| d.type_mapping == Some(TypeMapping::Json));
        match value {
            Value::Null => Ok(()),
            Value::Array(items) if !is_json => items.iter().try_for_each(|item| {
                self.values(subject, key, predicate, def, item, mode, update, out)
            }),
            Value::Object(object) if !is_json || object.contains_key("@value") => {
                if let Some(set) = object.get("@set") {
                    if object.len() > 1 {
                        return Err(JrqlError::bad(format!(
                            "@set cannot have other keys: {}",
                            abridge(value)
                        )));
                    }
                    return self.values(subject, key, predicate, def, set, mode, update, out);
                }
                if let Some(operators) = inline_constraint(object) {
                    return self
                        .inline_constraint(subject, predicate, object, operators, mode, out);
                }
                if object.contains_key("@value") {
                    let object_term = self.value_object(object)?;
                    return self.emit(subject, predicate, object_term, update, out);
                }
                if key == "@type" {
                    let class = self.type_reference(object)?;
                    return self.emit(subject, predicate, class, update, out);
                }
                if let Some(vocab) = object.get("@vocab") {
                    if object.len() > 1 {
                        return Err(JrqlError::bad(format!(
                            "a @vocab reference cannot have other keys: {}",
                            abridge(value)
                        )));
                    }
                    let Value::String(vocab) = vocab else {
                        return Err(JrqlError::bad(format!(
                            "@vocab must be a string, found {}",
                            abridge(vocab)
                        )));
                    };
                    let iri = self.vocab_term(vocab)?;
                    return self.emit(subject, predicate, iri, update, out);
                }
                self.subject(object, mode, update, Some((subject, predicate)), out)?;
                Ok(())
            }
            atom => {
                let object_term = self.atom(key, def, atom)?;
                self.emit(subject, predicate, object_term, update, out)
            }
        }
    }

    fn emit(
        &mut self,
        subject: &TermPattern,
        predicate: &NamedNodePattern,
        object: TermPattern,
        update: bool,
        out: &mut Patterns,
    ) -> Result<(), JrqlError> {
        self.push(
            out,
            update,
            TriplePattern {
                subject: subject.clone(),
                predicate: predicate.clone(),
                object,
            },
            None,
        );
        Ok(())
    }

    fn inline_constraint(
        &mut self,
        subject: &TermPattern,
        predicate: &NamedNodePattern,
        object: &Map<String, Value>,
        operators: Vec<(&String, &Value)>,
        mode: Mode,
        out: &mut Patterns,
    ) -> Result<(), JrqlError> {
        let variable = self.constraint_variable(object)?;
        match mode {
            Mode::Match => {
                for (operator, args) in operators {
                    let filter = self.inline_operator(operator, &variable, args)?;
                    out.filters.push(filter);
                }
                out.triples.push(PatternTriple {
                    triple: TriplePattern {
                        subject: subject.clone(),
                        predicate: predicate.clone(),
                        object: TermPattern::Variable(variable),
                    },
                    before: None,
                });
            }
            Mode::Load => {
                let [(operator, args)] = operators.as_slice() else {
                    return Err(JrqlError::bad(format!(
                        "an inline bind must have exactly one operator: {}",
                        abridge(&Value::Object(object.clone()))
                    )));
                };
                let expression = self.inline_operator(operator, &variable, args)?;
                let result = self.fresh();
                out.binds.push((result.clone(), expression));
                out.triples.push(PatternTriple {
                    triple: TriplePattern {
                        subject: subject.clone(),
                        predicate: predicate.clone(),
                        object: TermPattern::Variable(result),
                    },
                    before: Some(variable),
                });
            }
        }
        Ok(())
    }

    /// The variable an inline constraint applies to: its `@value` (m-ld) or `@id` (json-rql)
    /// variable, or a fresh one.
    pub(crate) fn constraint_variable(
        &mut self,
        object: &Map<String, Value>,
    ) -> Result<Variable, JrqlError> {
        let (key, value) = match (object.get("@value"), object.get("@id")) {
            (None, None) => return Ok(self.fresh()),
            (Some(value), None) => ("@value", value),
            (None, Some(id)) => ("@id", id),
            (Some(_), Some(_)) => {
                return Err(JrqlError::bad(format!(
                    "an inline constraint cannot have both @value and @id: {}",
                    abridge(&Value::Object(object.clone()))
                )));
            }
        };
        match value {
            Value::String(s) => self.variable(s).ok_or_else(|| {
                JrqlError::bad(format!(
                    "the {key} of an inline constraint must be a variable, found {s:?}"
                ))
            }),
            other => Err(JrqlError::bad(format!(
                "the {key} of an inline constraint must be a variable, found {}",
                abridge(other)
            ))),
        }
    }

    /// A `@type` value given as an object: a reference or vocabulary reference.
    fn type_reference(&mut self, object: &Map<String, Value>) -> Result<TermPattern, JrqlError> {
        match (object.get("@id"), object.get("@vocab"), object.len()) {
            (Some(Value::String(id)), None, 1) => self.id_term(id),
            (None, Some(Value::String(vocab)), 1) => self.vocab_term(vocab),
            _ => Err(JrqlError::bad(format!(
                "@type values must be strings or references, found {}",
                abridge(&Value::Object(object.clone()))
            ))),
        }
    }

    /// A JSON-LD value object `{"@value", "@type"?, "@language"?}` (the `@value` may be a
    /// variable).
    pub(crate) fn value_object(
        &mut self,
        object: &Map<String, Value>,
    ) -> Result<TermPattern, JrqlError> {
        for key in object.keys() {
            match key.as_str() {
                "@value" | "@type" | "@language" => {}
                "@id" => {
                    return Err(JrqlError::unsupported(
                        "@id",
                        "value objects with an identity (shared datatypes) are not supported",
                    ));
                }
                "@index" | "@direction" => {
                    return Err(JrqlError::unsupported(
                        key.as_str(),
                        "not supported in a value object",
                    ));
                }
                other if other.starts_with('@') => {
                    return Err(JrqlError::unsupported(
                        other,
                        "unknown or unsupported keyword in a value object",
                    ));
                }
                other => {
                    return Err(JrqlError::bad(format!(
                        "unexpected key {other:?} in value object {}",
                        abridge(&Value::Object(object.clone()))
                    )));
                }
            }
        }
        let value = object.get("@value").unwrap_or(&Value::Null);
        if let Value::String(s) = value
            && let Some(v) = self.variable(s)
        {
            return Ok(TermPattern::Variable(v));
        }
        let language = object.get("@language");
        let datatype = object.get("@type");
        let literal = match (datatype, language) {
            (Some(_), Some(_)) => {
                return Err(JrqlError::bad(format!(
                    "a value object cannot have both @type and @language: {}",
                    abridge(&Value::Object(object.clone()))
                )));
            }
            (None, Some(Value::String(tag))) => match value {
                Value::String(s) => language_literal(s, tag)?,
                other => {
                    return Err(JrqlError::bad(format!(
                        "a language-tagged @value must be a string, found {}",
                        abridge(other)
                    )));
                }
            },
            (None, Some(other)) => {
                return Err(JrqlError::bad(format!(
                    "@language must be a string, found {}",
                    abridge(other)
                )));
            }
            (Some(Value::String(t)), None) if t == "@json" => json_literal(value),
            (Some(Value::String(t)), None) => {
                let datatype = self.ctx.expand_iri(t, true)?;
                typed_literal(value, &datatype)?
            }
            (Some(other), None) => {
                return Err(JrqlError::bad(format!(
                    "the @type of a value object must be a string, found {}",
                    abridge(other)
                )));
            }
            (None, None) => match value {
                Value::String(s) => Literal::new_simple_literal(s.clone()),
                Value::Number(n) => number_literal(n),
                Value::Bool(b) => boolean_literal(*b),
                other => {
                    return Err(JrqlError::bad(format!(
                        "@value must be a string, number or boolean, found {}",
                        abridge(other)
                    )));
                }
            },
        };
        Ok(TermPattern::Literal(literal))
    }

    /// An atomic property value (string, number, boolean, or any JSON under a `@json` term),
    /// coerced by the property's term definition.
    pub(crate) fn atom(
        &mut self,
        key: &str,
        def: Option<&TermDefinition>,
        value: &Value,
    ) -> Result<TermPattern, JrqlError> {
        if let Value::String(s) = value
            && let Some(v) = self.variable(s)
        {
            return Ok(TermPattern::Variable(v));
        }
        if key == "@type" {
            return match value {
                Value::String(s) => self.vocab_term(s),
                other => Err(JrqlError::bad(format!(
                    "@type values must be strings, found {}",
                    abridge(other)
                ))),
            };
        }
        let mapping = def.and_then(|d| d.type_mapping.as_ref());
        if mapping == Some(&TypeMapping::Json) {
            return Ok(TermPattern::Literal(json_literal(value)));
        }
        let literal = match value {
            Value::String(s) => match mapping {
                Some(TypeMapping::Id) => return self.id_term(s),
                Some(TypeMapping::Vocab) => return self.vocab_term(s),
                Some(TypeMapping::Datatype(dt)) => typed_literal(value, dt)?,
                Some(TypeMapping::Json) | None => {
                    let language = match def.and_then(|d| d.language.as_ref()) {
                        Some(language) => language.as_deref(),
                        None => self.ctx.default_language(),
                    };
                    match language {
                        Some(tag) => language_literal(s, tag)?,
                        None => Literal::new_simple_literal(s.clone()),
                    }
                }
            },
            Value::Number(n) => match mapping {
                Some(TypeMapping::Datatype(dt)) => {
                    Literal::new_typed_literal(number_lexical(n), NamedNode::new_unchecked(dt))
                }
                _ => number_literal(n),
            },
            Value::Bool(b) => match mapping {
                Some(TypeMapping::Datatype(dt)) => {
                    Literal::new_typed_literal(b.to_string(), NamedNode::new_unchecked(dt))
                }
                _ => boolean_literal(*b),
            },
            other => {
                return Err(JrqlError::bad(format!(
                    "unexpected value {} for {key:?}",
                    abridge(other)
                )));
            }
        };
        Ok(TermPattern::Literal(literal))
    }
}

/// A literal of the given datatype from a JSON string, number or boolean; `xsd:double` lexical
/// forms are canonicalised.
pub(crate) fn typed_literal(value: &Value, datatype: &str) -> Result<Literal, JrqlError> {
    let dt = NamedNode::new_unchecked(datatype);
    match value {
        Value::String(s) if datatype == ns::XSD_DOUBLE => match double_lexical(s) {
            Some(lexical) => Ok(Literal::new_typed_literal(lexical, dt)),
            None => Err(JrqlError::bad(format!("{s:?} is not a valid xsd:double"))),
        },
        Value::String(s) => Ok(Literal::new_typed_literal(s.clone(), dt)),
        Value::Number(n) => Ok(Literal::new_typed_literal(number_lexical(n), dt)),
        Value::Bool(b) => Ok(Literal::new_typed_literal(b.to_string(), dt)),
        other => Err(JrqlError::bad(format!(
            "@value must be a string, number or boolean unless @type is @json, found {}",
            abridge(other)
        ))),
    }
}

fn language_literal(value: &str, tag: &str) -> Result<Literal, JrqlError> {
    Literal::new_language_tagged_literal(value, tag)
        .map_err(|e| JrqlError::bad(format!("invalid language tag {tag:?}: {e}")))
}

/// The operator entries of an inline constraint (`{"@gt": 40}`, `{"@value": "?a", "@gt": 38}`
/// or json-rql's `{"@id": "?a", "@gt": 38}`), or `None` if the object is not one.
pub(crate) fn inline_constraint(object: &Map<String, Value>) -> Option<Vec<(&String, &Value)>> {
    let mut operators = Vec::new();
    for (key, value) in object {
        if key == "@value" || key == "@id" {
            continue;
        }
        if !crate::expr::is_operator(key) {
            return None;
        }
        operators.push((key, value));
    }
    (!operators.is_empty()).then_some(operators)
}

/// A list item as a slot subject: an object with `@item` is already one; a nested array is a
/// nested list; anything else is the slot's item.
fn as_slot(item: &Value) -> Map<String, Value> {
    let mut slot = Map::new();
    match item {
        Value::Object(object) if object.contains_key("@item") => return object.clone(),
        Value::Array(_) => {
            let mut nested = Map::new();
            nested.insert("@list".into(), item.clone());
            slot.insert("@item".into(), Value::Object(nested));
        }
        other => {
            slot.insert("@item".into(), other.clone());
        }
    }
    slot
}

/// Rejects subject keys this engine does not support, naming them (5011).
fn check_subject_key(key: &str) -> Result<(), JrqlError> {
    if !key.starts_with('@') {
        return Ok(());
    }
    match key {
        "@id" | "@type" => Ok(()),
        "@context" => Err(JrqlError::unsupported(
            "@context",
            "nested contexts are not supported; put @context at the top level",
        )),
        "@list" | "@item" | "@index" => Ok(()),
        "@value" | "@language" | "@set" => {
            Err(JrqlError::bad(format!("{key} is not allowed in a subject")))
        }
        _ if crate::expr::is_operator(key) => Err(JrqlError::bad(format!(
            "operator {key} is not allowed as a subject key"
        ))),
        _ => Err(JrqlError::unsupported(
            key,
            "unknown or unsupported keyword in a subject",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context::for_domain("test.example.org", None).unwrap()
    }

    fn translate(json: Value, mode: Mode, update: bool) -> (Patterns, Vec<Variable>) {
        let ctx = ctx();
        let mut translator = Translator::new(&ctx);
        let mut out = Patterns::default();
        translator.subjects(&json, mode, update, &mut out).unwrap();
        (out, translator.skolem_vars.clone())
    }

    #[test]
    fn variable_tokens() {
        assert!(matches!(var_token("?"), Some(VarToken::Anonymous)));
        assert!(matches!(var_token("?name_1"), Some(VarToken::Named(v)) if v.as_str() == "name_1"));
        assert!(var_token("?not valid").is_none());
        assert!(var_token("name").is_none());
        let ctx = ctx();
        let mut translator = Translator::new(&ctx);
        let a = translator.variable("?").unwrap();
        let b = translator.variable("?").unwrap();
        assert_ne!(a, b, "each anonymous variable is fresh");
        assert!(is_hidden(&a));
        assert!(!is_hidden(&translator.variable("?x").unwrap()));
        assert_eq!(translator.user_vars, vec![Variable::new_unchecked("x")]);
    }

    #[test]
    fn nested_subjects_join_in_match_mode() {
        let (out, _) = translate(
            json!({ "@id": "fred", "wife": { "@id": "?w", "name": "Wilma" } }),
            Mode::Match,
            false,
        );
        let text: Vec<String> = out.triples.iter().map(|t| t.triple.to_string()).collect();
        assert_eq!(
            text,
            [
                "<http://test.example.org/fred> <http://test.example.org/#wife> ?w",
                "?w <http://test.example.org/#name> \"Wilma\"",
            ]
        );
    }

    #[test]
    fn top_level_reference_matches_any_property() {
        let (out, _) = translate(json!({ "@id": "fred" }), Mode::Match, false);
        assert_eq!(out.triples.len(), 1);
        let t = &out.triples[0].triple;
        assert!(matches!(t.predicate, NamedNodePattern::Variable(_)));
        assert!(matches!(t.object, TermPattern::Variable(_)));
        let (out, _) = translate(json!({ "@id": "fred" }), Mode::Load, false);
        assert!(out.triples.is_empty());
    }

    #[test]
    fn inline_constraints_are_filters_or_binds() {
        let (out, _) = translate(
            json!({ "@id": "?s", "age": { "@gt": 40 } }),
            Mode::Match,
            false,
        );
        assert_eq!(out.filters.len(), 1);
        assert!(out.binds.is_empty());
        let (out, _) = translate(
            json!({ "@id": "fred", "likes": { "@value": "?l", "@plus": 1 } }),
            Mode::Load,
            false,
        );
        assert_eq!(out.binds.len(), 1);
        assert_eq!(out.triples[0].before, Some(Variable::new_unchecked("l")));
    }

    #[test]
    fn anonymous_subjects_are_skolem_variables_when_loading() {
        let (out, skolems) = translate(
            json!({ "@id": "fred", "stats": { "height": 5 } }),
            Mode::Load,
            false,
        );
        assert_eq!(skolems.len(), 1);
        assert_eq!(out.triples.len(), 2);
        assert_eq!(
            out.triples[1].triple.subject,
            TermPattern::Variable(skolems[0].clone())
        );
        let (_, skolems) = translate(
            json!({ "@id": "fred", "stats": { "height": 5 } }),
            Mode::Match,
            false,
        );
        assert!(skolems.is_empty());
    }

    #[test]
    fn updates_record_the_replaced_value() {
        let (out, _) = translate(json!({ "@id": "fred", "height": 6 }), Mode::Load, true);
        assert!(out.triples[0].before.as_ref().is_some_and(is_hidden));
    }

    #[test]
    fn typed_literals() {
        let double = typed_literal(&json!("2.50"), ns::XSD_DOUBLE).unwrap();
        assert_eq!(double.value(), "2.5E0");
        assert!(typed_literal(&json!("abc"), ns::XSD_DOUBLE).is_err());
        for bad in ["INF", "NaN", "1.5abc", "0x10", ""] {
            assert!(typed_literal(&json!(bad), ns::XSD_DOUBLE).is_err(), "{bad}");
        }
        let infinity = typed_literal(&json!("-Infinity"), ns::XSD_DOUBLE).unwrap();
        assert_eq!(infinity.value(), "-Infinity");
        let int = typed_literal(&json!(5), "http://ex.org/dt").unwrap();
        assert_eq!(int.value(), "5");
        assert!(typed_literal(&json!({ "a": 1 }), "http://ex.org/dt").is_err());
    }

    #[test]
    fn value_object_errors() {
        let ctx = ctx();
        let mut translator = Translator::new(&ctx);
        let both = json!({ "@value": "x", "@type": "T", "@language": "en" });
        assert_eq!(
            translator
                .value_object(both.as_object().unwrap())
                .unwrap_err()
                .status(),
            4001
        );
        let bad_tag = json!({ "@value": "x", "@language": "not a tag!" });
        assert!(
            translator
                .value_object(bad_tag.as_object().unwrap())
                .is_err()
        );
        let shared = json!({ "@value": "x", "@id": "y" });
        assert_eq!(
            translator
                .value_object(shared.as_object().unwrap())
                .unwrap_err()
                .status(),
            5011
        );
    }
}

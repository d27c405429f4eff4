//! The fixed-context JSON-LD of operation bodies and snapshot batches (docs/protocol.md §3.2–§3.4,
//! m-ld-js `MeldEncoder`, `SubjectQuads` in serial mode and `SubjectGraph.fromRDF`).
//!
//! Owns the per-domain context ([`DomainContext`]: `@base` `http://{domain}/`, `@vocab`
//! `http://{domain}/#` and the terms `rdf`, `xs`, `tid`, `op`, `s`, `p`, `o`), IRI expansion and
//! compaction against it, the literal value rules, and the two document forms: plain subjects
//! (inserts of a plain operation) and reified statements with their TIDs (deletes, fused inserts,
//! snapshot batches). Values are [`rmpv::Value`]s as they come out of MessagePack. It must not
//! know about clocks, operation envelopes or buffer encodings.
//!
//! # Decoding
//!
//! The decoder implements exactly the m-ld-js expansion rules, not general JSON-LD:
//! * keys: `@type` (rdf:type), `@item` and `@index` (json-rql), the terms, `rdf:`/`xs:`
//!   prefixes, other `scheme:` strings as absolute IRIs, anything else appended to `@vocab`;
//!   `@id` and `@context` keys are skipped, `null` values ignored, other keywords rejected;
//! * `@id` values, `{"@id"}` references, `s`/`p` values and value-object `@type`s: `rdf:`/`xs:`
//!   prefixes, absolute IRIs, else RFC 3986 resolution against `@base` (terms do not apply);
//! * `@type` values and `{"@vocab"}` references: as keys;
//! * arrays nest and flatten, `{"@set": …}` is elided, nested subject objects are followed;
//! * a `_:` label is a blank node only as a subject `@id`; blank nodes must be reification ids
//!   (reified form) and are rejected anywhere else, as are subjects without `@id` in plain form.
//!
//! Literal values follow §3.3: strings are `xs:string`; booleans `xs:boolean`; numbers that
//! jsonld.js takes for integers ([`js::is_double`]) are `xs:integer` with `toFixed(0)`, others
//! `xs:double` in [`js::canonical_double`] form; value objects give their `@type` (an `xs:double`
//! lexical form is re-canonicalised) or `@language`. Unlike m-ld-js, language tags are kept
//! (JS drops them when decoding).
//!
//! **Indirected data** (a value object with a non-empty `@id`, the data id): the two datatypes
//! m-ld-js always indirects are held *by value*, so the triple needs no side store:
//! `xs:base64Binary` becomes a literal whose lexical form is the standard base64 of the bytes,
//! and `@json`/`rdf:JSON` a literal whose lexical form is the compact JSON text. The encoder
//! recomputes the data id (`base64(sha1(bytes))`, `base64(sha1(json text))`), so JS peers see
//! the same triple identity as their own writes. For any other datatype the literal's lexical
//! form is the data id, as in JS, and the attached data is dropped. A bare binary value also
//! becomes the base64 literal.
//!
//! # Encoding
//!
//! The encoder writes what m-ld-js writes for the same triples where it can: keys and `@type`
//! values vocab-relative (`name`), ids and datatypes base-relative (`fred`, `#name`), `rdf:` and
//! `xs:` compact IRIs, else absolute IRIs. Every compact form is checked to expand back to the
//! same IRI (unlike JS, which writes `#a:b` as the key `a:b`); an IRI no form can carry (an
//! absolute IRI with the scheme `rdf` or `xs`) is [`CoreError::UnsupportedTerm`]. Blank labels
//! of reified statements are `_:b0`, `_:b1`… per document, or in operations `_:d<ticks>_<i>`
//! and `_:i<ticks>_<i>`, unique across the author's operations (m-ld-js fuses by label).

use std::collections::HashMap;
use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oxiri::Iri;
use oxrdf::{Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use rmpv::Value;
use sha1::{Digest, Sha1};

use crate::CoreError;
use crate::clock::Tid;
use crate::wire::encoding::WireLimits;
use crate::wire::literal::js_integer_text;
use crate::wire::msgpack;
/// The vocabulary of the operation context (prefixes `rdf` and `xs`; terms `s`, `p`, `o`,
/// `tid`, `op`).
pub use m_ld_vocab::ns::{
    JRQL_INDEX, JRQL_ITEM, MLD_OP, MLD_TID, RDF_JSON, RDF_NS, RDF_OBJECT, RDF_PREDICATE,
    RDF_SUBJECT, RDF_TYPE, XSD_NS as XS_NS,
};
use m_ld_vocab::ns::{
    XSD_BASE64_BINARY as XSD_BASE64, XSD_BOOLEAN, XSD_DOUBLE, XSD_INTEGER, XSD_STRING,
};
use m_ld_vocab::{DomainName, js};

/// The deepest nesting of arrays and subject objects a document may have.
const MAX_NESTING: usize = 32;

/// JS `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The defined terms of the operation context, for vocab-relative expansion.
fn term(key: &str) -> Option<&'static str> {
    Some(match key {
        "s" => RDF_SUBJECT,
        "p" => RDF_PREDICATE,
        "o" => RDF_OBJECT,
        "tid" => MLD_TID,
        "op" => MLD_OP,
        "rdf" => RDF_NS,
        "xs" => XS_NS,
        _ => return None,
    })
}

/// The prefixes usable in compact IRIs (terms whose IRI ends in a gen-delim).
const PREFIXES: [(&str, &str); 2] = [("rdf", RDF_NS), ("xs", XS_NS)];

/// The JSON-LD context of operations on one domain (JS `DomainContext` with
/// `OPERATION_CONTEXT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainContext {
    domain: String,
    base: Iri<String>,
    vocab: String,
}

impl DomainContext {
    /// The context of a domain, which must be a valid domain name ([`m_ld_vocab::domain`]).
    pub fn new(domain: &str) -> Result<DomainContext, CoreError> {
        let name = DomainName::new(domain).map_err(|e| CoreError::BadDomain(e.0))?;
        let base =
            Iri::parse(name.base()).map_err(|e| CoreError::BadDomain(format!("{domain}: {e}")))?;
        Ok(DomainContext {
            vocab: name.vocab(),
            domain: name.as_str().to_owned(),
            base,
        })
    }

    /// The domain name.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `@base`: `http://{domain}/`.
    pub fn base(&self) -> &str {
        self.base.as_str()
    }

    /// `@vocab`: `http://{domain}/#`.
    pub fn vocab(&self) -> &str {
        &self.vocab
    }

    /// Expands an IRI in `@id` position (base-relative; JS `expandTerm(value)`).
    pub fn expand_iri(&self, value: &str) -> Result<NamedNode, CoreError> {
        self.expand(value, false).map_err(CoreError::BadOperation)
    }

    /// Expands an IRI in key or `@type` position (vocab-relative; JS
    /// `expandTerm(value, {vocab: true})`).
    pub fn expand_vocab(&self, value: &str) -> Result<NamedNode, CoreError> {
        self.expand(value, true).map_err(CoreError::BadOperation)
    }

    /// Compacts an IRI for `@id` position: a compact IRI, else base-relative, else absolute.
    pub fn compact_iri(&self, iri: &str) -> Result<String, CoreError> {
        if let Some(curie) = self.curie(iri, false) {
            return Ok(curie);
        }
        if let Some(rest) = iri.strip_prefix(self.base()) {
            if is_plain_relative(rest) {
                // Expands back by appending: no need to check.
                return Ok(rest.to_owned());
            }
            let relative = if rest.is_empty() { "./" } else { rest };
            if self.round_trips(relative, iri, false) {
                return Ok(relative.to_owned());
            }
            let dotted = format!("./{rest}");
            if self.round_trips(&dotted, iri, false) {
                return Ok(dotted);
            }
        }
        if self.round_trips(iri, iri, false) {
            Ok(iri.to_owned())
        } else {
            Err(CoreError::UnsupportedTerm(format!(
                "IRI <{iri}> cannot be written in the operation context"
            )))
        }
    }

    /// Compacts an IRI for key or `@type` position: vocab-relative, else a compact IRI, else
    /// absolute.
    pub fn compact_vocab(&self, iri: &str) -> Result<String, CoreError> {
        if let Some(rest) = iri.strip_prefix(self.vocab.as_str())
            && !rest.is_empty()
            && ((is_plain_fragment(rest) && term(rest).is_none())
                || self.round_trips(rest, iri, true))
        {
            return Ok(rest.to_owned());
        }
        if let Some(curie) = self.curie(iri, true) {
            return Ok(curie);
        }
        if self.round_trips(iri, iri, true) {
            Ok(iri.to_owned())
        } else {
            Err(CoreError::UnsupportedTerm(format!(
                "IRI <{iri}> cannot be written as a key in the operation context"
            )))
        }
    }

    fn curie(&self, iri: &str, vocab: bool) -> Option<String> {
        PREFIXES.iter().find_map(|(prefix, ns)| {
            let suffix = iri.strip_prefix(ns).filter(|s| !s.is_empty())?;
            let curie = format!("{prefix}:{suffix}");
            self.round_trips(&curie, iri, vocab).then_some(curie)
        })
    }

    fn round_trips(&self, compact: &str, iri: &str, vocab: bool) -> bool {
        self.expand(compact, vocab)
            .is_ok_and(|node| node.as_str() == iri)
    }

    /// JS `expandIri` with this context, for anything but a blank node label.
    fn expand(&self, value: &str, vocab: bool) -> Result<NamedNode, String> {
        // The common cases, without parsing: what the general rules below give them.
        if vocab {
            if is_plain_fragment(value) && term(value).is_none() {
                return Ok(NamedNode::new_unchecked(concat(&self.vocab, value)));
            }
        } else if is_plain_relative(value) {
            return Ok(NamedNode::new_unchecked(concat(self.base(), value)));
        }
        if value.starts_with('@') {
            return Err(format!("keyword {value:?} where an IRI is needed"));
        }
        if vocab && let Some(iri) = term(value) {
            return Ok(NamedNode::new_unchecked(iri));
        }
        if let Some(colon) = value.find(':').filter(|c| *c > 0) {
            let (prefix, suffix) = (&value[..colon], &value[colon + 1..]);
            if prefix == "_" {
                return Err(format!("blank node {value:?} where an IRI is needed"));
            }
            if suffix.starts_with("//") {
                return absolute(value);
            }
            if let Some((_, ns)) = PREFIXES.iter().find(|(p, _)| *p == prefix) {
                return absolute(&format!("{ns}{suffix}"));
            }
            if is_absolute_iri(value) {
                return absolute(value);
            }
        }
        if vocab {
            absolute(&format!("{}{value}", self.vocab))
        } else {
            self.base
                .resolve(value)
                .map(|iri| NamedNode::new_unchecked(iri.into_inner()))
                .map_err(|e| format!("bad IRI {value:?}: {e}"))
        }
    }
}

fn concat(a: &str, b: &str) -> String {
    let mut out = String::with_capacity(a.len() + b.len());
    out.push_str(a);
    out.push_str(b);
    out
}

/// Whether `value` is non-empty and made of RFC 3986 unreserved characters only (ASCII letters,
/// digits, `-`, `.`, `_`, `~`): valid anywhere in an IRI, needing no normalisation, and
/// holding no `:` (so not a compact or absolute IRI) nor a leading `@`.
fn is_plain_fragment(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `value`, resolved against the `@base` `http://{domain}/` (path `/`, no query), is
/// just appended to it (RFC 3986 §5.2): a single plain path segment that is not a dot segment,
/// or a plain fragment reference `#…`.
fn is_plain_relative(value: &str) -> bool {
    match value.strip_prefix('#') {
        Some(fragment) => is_plain_fragment(fragment),
        None => is_plain_fragment(value) && value != "." && value != "..",
    }
}

fn absolute(iri: &str) -> Result<NamedNode, String> {
    NamedNode::new(iri).map_err(|e| format!("bad IRI {iri:?}: {e}"))
}

/// jsonld.js `isAbsolute` for a non-blank value: `^[A-Za-z][A-Za-z0-9+,\-.]*:[^\s]*$`.
fn is_absolute_iri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | ',' | '-' | '.'))
        && !rest.chars().any(js::is_white_space)
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// A subject or object node of a decoded statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Node {
    Iri(NamedNode),
    /// A blank node with a label from the document (`_:label`), shared by its statements.
    Blank(Rc<str>),
    /// A subject object without `@id`: a blank node of its own.
    Fresh(usize),
}

#[derive(Debug)]
enum Object {
    Node(Node),
    Literal(Literal),
}

/// The predicate of a statement: a well-known IRI (no allocation), or any other.
#[derive(Debug)]
enum Predicate {
    Known(&'static str),
    Iri(NamedNode),
}

impl Predicate {
    fn as_str(&self) -> &str {
        match self {
            Predicate::Known(iri) => iri,
            Predicate::Iri(iri) => iri.as_str(),
        }
    }

    fn into_named_node(self) -> NamedNode {
        match self {
            Predicate::Known(iri) => NamedNode::new_unchecked(iri),
            Predicate::Iri(iri) => iri,
        }
    }
}

/// One RDF statement of a document, before blank nodes are resolved.
#[derive(Debug)]
struct Statement {
    subject: Node,
    predicate: Predicate,
    object: Object,
}

/// The document parser (JS `SubjectQuads` in serial mode).
struct Parser<'a> {
    ctx: &'a DomainContext,
    limit: usize,
    /// Set when the statement limit stopped parsing.
    overflow: bool,
    fresh: usize,
    out: Vec<Statement>,
}

type Entries = [(Value, Value)];

/// The value of `key` in a map, or `None`.
fn get<'v>(entries: &'v Entries, key: &str) -> Option<&'v Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// Maps with at most this many entries are checked for duplicate keys pairwise.
const PAIRWISE_KEYS: usize = 16;

/// Checks that a map has only string keys, each once.
fn check_keys(entries: &Entries) -> Result<(), String> {
    if entries.len() <= PAIRWISE_KEYS {
        for (i, (k, _)) in entries.iter().enumerate() {
            let key = k
                .as_str()
                .ok_or_else(|| format!("map key {k} is not a string"))?;
            if entries[..i]
                .iter()
                .any(|(other, _)| other.as_str() == Some(key))
            {
                return Err(format!("duplicate key {key:?}"));
            }
        }
        return Ok(());
    }
    let mut seen = foldhash::HashSet::with_capacity_and_hasher(entries.len(), Default::default());
    for (k, _) in entries {
        let key = k
            .as_str()
            .ok_or_else(|| format!("map key {k} is not a string"))?;
        if !seen.insert(key) {
            return Err(format!("duplicate key {key:?}"));
        }
    }
    Ok(())
}

const VALUE_KEYS: [&str; 4] = ["@value", "@type", "@language", "@id"];

fn is_value_object(entries: &Entries) -> bool {
    get(entries, "@value").is_some()
        && entries
            .iter()
            .all(|(k, _)| k.as_str().is_some_and(|k| VALUE_KEYS.contains(&k)))
}

fn is_vocab_reference(entries: &Entries) -> bool {
    entries.len() == 1 && get(entries, "@vocab").is_some()
}

impl Parser<'_> {
    fn push(&mut self, subject: Node, predicate: Predicate, object: Object) -> Result<(), String> {
        if self.out.len() >= self.limit {
            self.overflow = true;
            return Err(format!("more than {} statements", self.limit));
        }
        self.out.push(Statement {
            subject,
            predicate,
            object,
        });
        Ok(())
    }

    /// JS `SubjectQuads.process`.
    fn process(
        &mut self,
        value: &Value,
        outer: Option<(&Node, &str)>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_NESTING {
            return Err(format!("nested deeper than {MAX_NESTING}"));
        }
        match value {
            // JS skips null and undefined values.
            Value::Nil => Ok(()),
            _ if msgpack::is_undefined(value) => Ok(()),
            Value::Array(items) => {
                for item in items {
                    self.process(item, outer, depth + 1)?;
                }
                Ok(())
            }
            Value::Map(entries) => {
                check_keys(entries)?;
                if let Some(set) = get(entries, "@set") {
                    self.process(set, outer, depth + 1)
                } else if is_value_object(entries) || is_vocab_reference(entries) {
                    self.atom(outer, value)
                } else {
                    self.subject(entries, outer, depth)
                }
            }
            _ => self.atom(outer, value),
        }
    }

    /// JS `SubjectQuads.subjectQuads`.
    fn subject(
        &mut self,
        entries: &Entries,
        outer: Option<(&Node, &str)>,
        depth: usize,
    ) -> Result<(), String> {
        let sid = match get(entries, "@id").filter(|id| !msgpack::is_undefined(id)) {
            None | Some(Value::Nil) => {
                self.fresh += 1;
                Node::Fresh(self.fresh)
            }
            Some(Value::String(id)) => {
                let id = id.as_str().ok_or("@id is not UTF-8")?;
                match id.strip_prefix("_:") {
                    Some(label) => Node::Blank(Rc::from(label)),
                    None => Node::Iri(self.ctx.expand(id, false)?),
                }
            }
            Some(other) => return Err(format!("@id {other} is not a string")),
        };
        if let Some((outer, key)) = outer {
            let predicate = self.predicate(key)?;
            self.push(outer.clone(), predicate, Object::Node(sid.clone()))?;
        }
        for (k, v) in entries {
            let key = k.as_str().unwrap_or_default();
            match key {
                "@id" | "@context" => {}
                "@list" => return Err("@list is not allowed in operations".into()),
                _ if v.is_nil() || msgpack::is_undefined(v) => {}
                _ => self.process(v, Some((&sid, key)), depth + 1)?,
            }
        }
        Ok(())
    }

    fn atom(&mut self, outer: Option<(&Node, &str)>, value: &Value) -> Result<(), String> {
        let Some((subject, key)) = outer else {
            return Err(format!("top-level value {value} is not a subject"));
        };
        let predicate = self.predicate(key)?;
        let object = self.object(key, value)?;
        self.push(subject.clone(), predicate, object)
    }

    fn predicate(&self, key: &str) -> Result<Predicate, String> {
        Ok(Predicate::Known(match key {
            "@type" => RDF_TYPE,
            "@index" => JRQL_INDEX,
            "@item" => JRQL_ITEM,
            // What vocab expansion makes of a term, without allocating.
            _ => match term(key) {
                Some(iri) => iri,
                None => return self.ctx.expand(key, true).map(Predicate::Iri),
            },
        }))
    }

    /// JS `SubjectQuads.objectTerm` with `expandValue`, in serial mode.
    fn object(&self, key: &str, value: &Value) -> Result<Object, String> {
        let empty = Vec::new();
        let entries = value.as_map().unwrap_or(&empty);
        if is_vocab_reference(entries) {
            let iri = get(entries, "@vocab")
                .and_then(Value::as_str)
                .ok_or("bad @vocab")?;
            return Ok(Object::Node(Node::Iri(self.ctx.expand(iri, true)?)));
        }
        let is_value_object = value.is_map();
        let (raw, explicit_type, language, data_id) = if is_value_object {
            let text = |k: &str| match get(entries, k) {
                None | Some(Value::Nil) => Ok(None),
                Some(Value::String(s)) => s
                    .as_str()
                    .map(Some)
                    .ok_or_else(|| format!("{k} is not UTF-8")),
                Some(other) => Err(format!("{k} {other} is not a string")),
            };
            let raw = get(entries, "@value").unwrap_or(&Value::Nil);
            (raw, text("@type")?, text("@language")?, text("@id")?)
        } else {
            (value, None, None, None)
        };
        let data_id = data_id.filter(|id| !id.is_empty());
        // The datatype: explicit, else coerced by the term (only `s` and `p` are typed @id).
        let datatype = match explicit_type {
            Some("@json") => Some(RDF_JSON.to_owned()),
            Some(t) => Some(self.ctx.expand(t, false)?.into_string()),
            None => None,
        };
        let coerced_id = datatype.is_none() && matches!(key, "s" | "p");
        let is_json = explicit_type == Some("@json")
            || (data_id.is_some() && datatype.as_deref() == Some(RDF_JSON));
        if is_json {
            return json_literal(raw).map(Object::Literal);
        }
        let (lexical, default_type) = match raw {
            Value::Binary(bytes) => {
                let literal = Literal::new_typed_literal(
                    STANDARD.encode(bytes),
                    NamedNode::new_unchecked(XSD_BASE64),
                );
                return Ok(Object::Literal(literal));
            }
            Value::String(s) => {
                let s = s.as_str().ok_or("string value is not UTF-8")?;
                if key == "@type" || coerced_id {
                    let iri = self.ctx.expand(s, key == "@type")?;
                    return Ok(Object::Node(Node::Iri(iri)));
                }
                if let (Some(tag), None) = (language, &datatype) {
                    return Literal::new_language_tagged_literal(s, tag)
                        .map(Object::Literal)
                        .map_err(|e| format!("bad language tag {tag:?}: {e}"));
                }
                if datatype.is_none() && data_id.is_none() {
                    return Ok(Object::Literal(Literal::new_simple_literal(s)));
                }
                if datatype.as_deref() == Some(XSD_DOUBLE) {
                    (js::canonical_double(js::parse_float(s)), XSD_STRING)
                } else {
                    (s.to_owned(), XSD_STRING)
                }
            }
            Value::Boolean(b) => (b.to_string(), XSD_BOOLEAN),
            Value::Integer(i) => (js_integer_text(i), XSD_INTEGER),
            Value::F32(_) | Value::F64(_) => {
                let f = raw.as_f64().unwrap_or(f64::NAN);
                if js::is_double(f) {
                    (js::canonical_double(f), XSD_DOUBLE)
                } else {
                    (js::to_fixed(f, 0), XSD_INTEGER)
                }
            }
            other => return Err(format!("{other} cannot be a literal value")),
        };
        let datatype = datatype.unwrap_or_else(|| default_type.to_owned());
        let lexical = match data_id {
            // Indirected data of another datatype: the literal is the data id (JS identity).
            Some(id) if datatype != XSD_BASE64 => id.to_owned(),
            _ => lexical,
        };
        Ok(Object::Literal(Literal::new_typed_literal(
            lexical,
            NamedNode::new_unchecked(datatype),
        )))
    }
}

/// A JSON literal held by value: its compact JSON text.
fn json_literal(raw: &Value) -> Result<Literal, String> {
    let json = msgpack::to_json(raw).map_err(|e| format!("bad JSON value: {e}"))?;
    let text = serde_json::to_string(&json).map_err(|e| format!("bad JSON value: {e}"))?;
    Ok(Literal::new_typed_literal(
        text,
        NamedNode::new_unchecked(RDF_JSON),
    ))
}

fn parse(
    ctx: &DomainContext,
    value: &Value,
    limits: &WireLimits,
) -> Result<Vec<Statement>, CoreError> {
    let mut parser = Parser {
        ctx,
        limit: limits.max_statements,
        overflow: false,
        fresh: 0,
        out: Vec::new(),
    };
    match parser.process(value, None, 0) {
        Ok(()) => Ok(parser.out),
        Err(e) if parser.overflow => Err(CoreError::WireTooLarge(e)),
        Err(e) => Err(CoreError::BadOperation(e)),
    }
}

fn node_term(node: Node, position: &str) -> Result<NamedNode, CoreError> {
    match node {
        Node::Iri(iri) => Ok(iri),
        Node::Blank(_) | Node::Fresh(_) => Err(CoreError::BadOperation(format!(
            "blank node as {position}: m-ld triples have IRI subjects and objects"
        ))),
    }
}

fn object_term(object: Object, position: &str) -> Result<Term, CoreError> {
    match object {
        Object::Literal(literal) => Ok(Term::Literal(literal)),
        Object::Node(node) => node_term(node, position).map(Term::NamedNode),
    }
}

/// Decodes the plain subject form (the inserts of a plain operation) into distinct triples,
/// in document order.
pub fn triples_from_subjects(
    ctx: &DomainContext,
    value: &Value,
    limits: &WireLimits,
) -> Result<Vec<Triple>, CoreError> {
    let statements = parse(ctx, value, limits)?;
    let mut triples = Vec::with_capacity(statements.len());
    for st in statements {
        triples.push(Triple::new(
            node_term(st.subject, "subject")?,
            st.predicate.into_named_node(),
            object_term(st.object, "object")?,
        ));
    }
    Ok(dedup_in_order(triples))
}

/// A reification under construction (JS `unreifyTriplesData`).
#[derive(Default)]
struct Reification {
    subject: Option<NamedNode>,
    predicate: Option<NamedNode>,
    object: Option<Term>,
    tids: Vec<Tid>,
    updates: bool,
}

/// What the reified form of a document held.
#[derive(Debug)]
pub struct Reified {
    /// Each distinct triple with its TIDs (possibly none), in document order.
    pub triples: Vec<(Triple, Vec<Tid>)>,
    /// Whether any statement carried a shared-datatype operation (`op`).
    pub has_updates: bool,
}

/// Decodes the reified form: one blank node per triple with `s`, `p`, `o` and any `tid`s.
/// Statements about the same triple are merged; other properties are ignored, as in JS.
pub fn triples_from_reified(
    ctx: &DomainContext,
    value: &Value,
    limits: &WireLimits,
) -> Result<Reified, CoreError> {
    let statements = parse(ctx, value, limits)?;
    let mut order: Vec<Reification> = Vec::new();
    let mut index: foldhash::HashMap<Node, usize> = foldhash::HashMap::default();
    // A reification's statements come one after another: only a new subject is looked up.
    let mut last: Option<(Node, usize)> = None;
    for st in statements {
        if let Node::Iri(iri) = &st.subject {
            return Err(CoreError::BadOperation(format!(
                "reified statement about <{}> instead of a blank node",
                iri.as_str()
            )));
        }
        let i = match &last {
            Some((node, i)) if *node == st.subject => *i,
            _ => {
                let i = *index.entry(st.subject.clone()).or_insert_with(|| {
                    order.push(Reification::default());
                    order.len() - 1
                });
                last = Some((st.subject, i));
                i
            }
        };
        let r = &mut order[i];
        match st.predicate.as_str() {
            RDF_SUBJECT => only_one(&mut r.subject, node_object(st.object, "rdf:subject")?)?,
            RDF_PREDICATE => {
                only_one(&mut r.predicate, node_object(st.object, "rdf:predicate")?)?;
            }
            RDF_OBJECT => only_one(&mut r.object, object_term(st.object, "rdf:object")?)?,
            MLD_TID => match st.object {
                Object::Literal(lit) => r.tids.push(lit.value().parse()?),
                Object::Node(_) => {
                    return Err(CoreError::BadOperation("a tid is not a string".into()));
                }
            },
            MLD_OP => r.updates = true,
            _ => {}
        }
    }
    let mut triples: Vec<(Triple, Vec<Tid>)> = Vec::with_capacity(order.len());
    let mut has_updates = false;
    for r in order {
        has_updates |= r.updates;
        let (Some(s), Some(p), Some(o)) = (r.subject, r.predicate, r.object) else {
            return Err(CoreError::BadOperation(
                "incomplete reified statement (needs s, p and o)".into(),
            ));
        };
        let mut tids = r.tids;
        dedup_tids(&mut tids);
        triples.push((Triple::new(s, p, o), tids));
    }
    Ok(Reified {
        triples: merge_in_order(triples),
        has_updates,
    })
}

/// Sets a reification's subject, predicate or object, refusing a second, different one: a
/// reification of two triples is ambiguous, and taking either would lose the other (m-ld-js
/// produces such documents when it fuses operations whose blank-node labels collide, see
/// docs/compliance.md, and decodes them by keeping the last value).
fn only_one<T: PartialEq + std::fmt::Display>(
    slot: &mut Option<T>,
    value: T,
) -> Result<(), CoreError> {
    match slot {
        Some(have) if *have != value => Err(CoreError::BadOperation(format!(
            "a reified statement names two different terms ({have} and {value}) in one position"
        ))),
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// Removes repeated TIDs, keeping the first of each.
pub(crate) fn dedup_tids(tids: &mut Vec<Tid>) {
    if tids.len() > 1 {
        let mut i = 1;
        while i < tids.len() {
            if tids[..i].contains(&tids[i]) {
                tids.remove(i);
            } else {
                i += 1;
            }
        }
    }
}

/// The index of the first equal item before each item that repeats an earlier one, if any.
fn first_occurrences<T: std::hash::Hash + Eq>(items: &[T]) -> Option<Vec<Option<usize>>> {
    let mut first: foldhash::HashMap<&T, usize> =
        HashMap::with_capacity_and_hasher(items.len(), Default::default());
    let mut repeats: Option<Vec<Option<usize>>> = None;
    for (i, item) in items.iter().enumerate() {
        match first.entry(item) {
            std::collections::hash_map::Entry::Occupied(e) => {
                repeats.get_or_insert_with(|| vec![None; items.len()])[i] = Some(*e.get());
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(i);
            }
        }
    }
    repeats
}

/// Distinct triples, in order of first appearance.
fn dedup_in_order(triples: Vec<Triple>) -> Vec<Triple> {
    match first_occurrences(&triples) {
        None => triples,
        Some(repeats) => triples
            .into_iter()
            .zip(repeats)
            .filter_map(|(t, first)| first.is_none().then_some(t))
            .collect(),
    }
}

/// Distinct triples in order of first appearance, each with the TIDs of all its occurrences
/// (without repeats, in order of appearance).
pub(crate) fn merge_in_order(triples: Vec<(Triple, Vec<Tid>)>) -> Vec<(Triple, Vec<Tid>)> {
    let keys: Vec<&Triple> = triples.iter().map(|(t, _)| t).collect();
    let Some(repeats) = first_occurrences(&keys) else {
        return triples;
    };
    drop(keys);
    // Each kept triple's position in the output, for merging its repeats into it.
    let mut position = vec![0; triples.len()];
    let mut out: Vec<(Triple, Vec<Tid>)> = Vec::with_capacity(triples.len());
    for (i, ((triple, tids), first)) in triples.into_iter().zip(repeats).enumerate() {
        match first {
            None => {
                position[i] = out.len();
                out.push((triple, tids));
            }
            Some(first) => {
                let kept = &mut out[position[first]].1;
                for tid in tids {
                    if !kept.contains(&tid) {
                        kept.push(tid);
                    }
                }
            }
        }
    }
    out
}

fn node_object(object: Object, position: &str) -> Result<NamedNode, CoreError> {
    match object {
        Object::Node(node) => node_term(node, position),
        Object::Literal(lit) => Err(CoreError::BadOperation(format!(
            "literal {lit} as {position}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

fn key(k: &str) -> Value {
    Value::from(k)
}

/// `{}`, the single object, or an array, as JS compaction writes a document.
fn document(mut objects: Vec<Value>) -> Value {
    match objects.len() {
        0 => Value::Map(Vec::new()),
        1 => objects.pop().unwrap_or(Value::Nil),
        _ => Value::Array(objects),
    }
}

fn subject_iri(triple: &Triple) -> Result<&NamedNode, CoreError> {
    match &triple.subject {
        NamedOrBlankNode::NamedNode(iri) => Ok(iri),
        NamedOrBlankNode::BlankNode(b) => Err(CoreError::UnsupportedTerm(format!(
            "blank node subject {b}: m-ld triples have IRI subjects"
        ))),
    }
}

/// The wire value of an object term: `{"@id": …}` for an IRI, else a literal value.
pub fn object_value(ctx: &DomainContext, object: &Term) -> Result<Value, CoreError> {
    match object {
        Term::NamedNode(iri) => Ok(Value::Map(vec![(
            key("@id"),
            Value::from(ctx.compact_iri(iri.as_str())?),
        )])),
        Term::Literal(literal) => literal_value(ctx, literal),
        other => Err(CoreError::UnsupportedTerm(format!(
            "{other} as an object: m-ld objects are IRIs or literals"
        ))),
    }
}

/// The wire value of a literal (JS `jrqlValue` in serial mode, docs/protocol.md §3.3), chosen so
/// that m-ld-js decodes it to the same literal (see the module docs).
pub fn literal_value(ctx: &DomainContext, literal: &Literal) -> Result<Value, CoreError> {
    let lexical = literal.value();
    if let Some(language) = literal.language() {
        return Ok(Value::Map(vec![
            (key("@value"), Value::from(lexical)),
            (key("@language"), Value::from(language)),
        ]));
    }
    let datatype = literal.datatype().as_str();
    let typed = || -> Result<Value, CoreError> {
        Ok(Value::Map(vec![
            (key("@value"), Value::from(lexical)),
            (key("@type"), Value::from(ctx.compact_iri(datatype)?)),
        ]))
    };
    match datatype {
        XSD_STRING => Ok(Value::from(lexical)),
        XSD_BOOLEAN => match lexical {
            "true" => Ok(Value::Boolean(true)),
            "false" => Ok(Value::Boolean(false)),
            _ => typed(),
        },
        XSD_INTEGER => match canonical_safe_integer(lexical) {
            Some(n) => Ok(Value::from(n)),
            None => typed(),
        },
        XSD_DOUBLE => {
            let f = js::parse_float(lexical);
            if f.is_finite() && js::is_double(f) && js::canonical_double(f) == lexical {
                Ok(Value::F64(f))
            } else {
                typed()
            }
        }
        XSD_BASE64 => match STANDARD.decode(lexical) {
            Ok(bytes) if STANDARD.encode(&bytes) == lexical => {
                let id = STANDARD.encode(Sha1::digest(&bytes));
                Ok(Value::Map(vec![
                    (key("@value"), Value::Binary(bytes)),
                    (key("@type"), Value::from(ctx.compact_iri(XSD_BASE64)?)),
                    (key("@id"), Value::from(id)),
                ]))
            }
            _ => typed(),
        },
        RDF_JSON => match canonical_json(lexical) {
            Some(json) => {
                let id = STANDARD.encode(Sha1::digest(lexical.as_bytes()));
                Ok(Value::Map(vec![
                    (key("@value"), json),
                    (key("@type"), key("@json")),
                    (key("@id"), Value::from(id)),
                ]))
            }
            None => typed(),
        },
        _ => typed(),
    }
}

/// The integer of a canonical `xs:integer` lexical form that JS holds exactly.
fn canonical_safe_integer(lexical: &str) -> Option<i64> {
    let n: i64 = lexical.parse().ok()?;
    (n.unsigned_abs() <= MAX_SAFE_INTEGER && n.to_string() == lexical).then_some(n)
}

/// The wire value of JSON text that decodes back to exactly the same text, if it is such.
fn canonical_json(lexical: &str) -> Option<Value> {
    let json: serde_json::Value = serde_json::from_str(lexical).ok()?;
    let value = msgpack::from_json(&json);
    let back = msgpack::to_json(&value).ok()?;
    (serde_json::to_string(&back).ok()? == lexical).then_some(value)
}

/// The property values of one subject object under construction.
struct SubjectObject {
    id: String,
    properties: Vec<(String, Vec<Value>)>,
}

impl SubjectObject {
    fn add(&mut self, key: String, value: Value) {
        match self.properties.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => self.properties.push((key, vec![value])),
        }
    }

    fn into_value(self) -> Value {
        let mut entries = Vec::with_capacity(self.properties.len() + 1);
        entries.push((key("@id"), Value::from(self.id)));
        for (k, mut values) in self.properties {
            let value = if values.len() == 1 {
                values.pop().unwrap_or(Value::Nil)
            } else {
                Value::Array(values)
            };
            entries.push((Value::from(k), value));
        }
        Value::Map(entries)
    }
}

/// Encodes triples in the plain subject form (JS `SubjectGraph.fromRDF` of the inserts of a
/// plain operation): one object per subject, in order of first appearance.
pub fn subjects_value<'t>(
    ctx: &DomainContext,
    triples: impl IntoIterator<Item = &'t Triple>,
) -> Result<Value, CoreError> {
    let mut subjects: Vec<SubjectObject> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for triple in triples {
        let subject = subject_iri(triple)?;
        let i = match index.get(subject.as_str()) {
            Some(i) => *i,
            None => {
                subjects.push(SubjectObject {
                    id: ctx.compact_iri(subject.as_str())?,
                    properties: Vec::new(),
                });
                index.insert(subject.as_str(), subjects.len() - 1);
                subjects.len() - 1
            }
        };
        let (k, v) = property(ctx, &triple.predicate, &triple.object)?;
        subjects[i].add(k, v);
    }
    Ok(document(
        subjects
            .into_iter()
            .map(SubjectObject::into_value)
            .collect(),
    ))
}

/// The key and value of one triple in subject form (JS `jrqlProperty` and `jrqlValue`).
fn property(
    ctx: &DomainContext,
    predicate: &NamedNode,
    object: &Term,
) -> Result<(String, Value), CoreError> {
    match (predicate.as_str(), object) {
        (RDF_TYPE, Term::NamedNode(class)) => {
            if let Ok(compact) = ctx.compact_vocab(class.as_str()) {
                return Ok(("@type".into(), Value::from(compact)));
            }
        }
        (JRQL_ITEM, _) => return Ok(("@item".into(), object_value(ctx, object)?)),
        (JRQL_INDEX, _) => return Ok(("@index".into(), object_value(ctx, object)?)),
        _ => {}
    }
    Ok((
        ctx.compact_vocab(predicate.as_str())?,
        object_value(ctx, object)?,
    ))
}

/// Encodes triples in the reified form, each with its TIDs (JS `reifyTriplesTids` then
/// `SubjectGraph.fromRDF`): `{"@id": "_:bN", "s", "p", "o", "tid"}`, with `tid` a string for
/// one TID, an array for several and absent for none.
pub fn reified_value(
    ctx: &DomainContext,
    triples: &[(Triple, Vec<Tid>)],
) -> Result<Value, CoreError> {
    reified_value_labelled(ctx, triples, "b")
}

/// [`reified_value`] with blank-node labels `_:<prefix><i>`. m-ld-js keeps a decoded triple's
/// label and reuses it when it re-encodes the triple, so when it fuses operations from its
/// journal, two triples that arrived with the same label in different operations merge into
/// one reification (a corrupt fused operation). Operations therefore label their triples
/// uniquely across the author's operations (see `encoded_operation_value`).
pub fn reified_value_labelled(
    ctx: &DomainContext,
    triples: &[(Triple, Vec<Tid>)],
    prefix: &str,
) -> Result<Value, CoreError> {
    let mut objects = Vec::with_capacity(triples.len());
    for (i, (triple, tids)) in triples.iter().enumerate() {
        let subject = subject_iri(triple)?;
        let mut entries = vec![
            (key("@id"), Value::from(format!("_:{prefix}{i}"))),
            (key("s"), Value::from(ctx.compact_iri(subject.as_str())?)),
            (
                key("p"),
                Value::from(ctx.compact_iri(triple.predicate.as_str())?),
            ),
            (key("o"), object_value(ctx, &triple.object)?),
        ];
        match tids.as_slice() {
            [] => {}
            [tid] => entries.push((key("tid"), Value::from(tid.to_base64()))),
            tids => entries.push((
                key("tid"),
                Value::Array(tids.iter().map(|t| Value::from(t.to_base64())).collect()),
            )),
        }
        objects.push(Value::Map(entries));
    }
    Ok(document(objects))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> DomainContext {
        DomainContext::new("test.m-ld.org").unwrap()
    }

    #[test]
    fn domains_are_checked() {
        for good in ["test.m-ld.org", "a.io", "x_y.b-c.d.museum", "1.ab"] {
            assert!(DomainContext::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "org",
            "a.b",
            "a.toolong",
            "A.org",
            "a..org",
            "-a.org",
            "a-.org",
            "a.org.",
            "a b.org",
            "a/b.org",
            "a.o1",
        ] {
            let err = DomainContext::new(bad).unwrap_err();
            assert!(matches!(err, CoreError::BadDomain(_)), "{bad}");
        }
        let c = ctx();
        assert_eq!(c.base(), "http://test.m-ld.org/");
        assert_eq!(c.vocab(), "http://test.m-ld.org/#");
    }

    /// The expansion vectors of docs/protocol.md §3.2 (as m-ld-js 0.10 expands them).
    #[test]
    fn expansion_matches_js() {
        let c = ctx();
        let cases = [
            (
                "fred",
                "http://test.m-ld.org/fred",
                "http://test.m-ld.org/#fred",
            ),
            (
                "name",
                "http://test.m-ld.org/name",
                "http://test.m-ld.org/#name",
            ),
            (
                "a/b",
                "http://test.m-ld.org/a/b",
                "http://test.m-ld.org/#a/b",
            ),
            ("rdf:type", RDF_TYPE, RDF_TYPE),
            (
                "xs:dateTime",
                "http://www.w3.org/2001/XMLSchema#dateTime",
                "http://www.w3.org/2001/XMLSchema#dateTime",
            ),
            ("s", "http://test.m-ld.org/s", RDF_SUBJECT),
            ("tid", "http://test.m-ld.org/tid", MLD_TID),
            ("http://x.org/y", "http://x.org/y", "http://x.org/y"),
            (
                ".well-known/genid/abc",
                "http://test.m-ld.org/.well-known/genid/abc",
                "http://test.m-ld.org/#.well-known/genid/abc",
            ),
            ("?x", "http://test.m-ld.org/?x", "http://test.m-ld.org/#?x"),
            ("", "http://test.m-ld.org/", "http://test.m-ld.org/#"),
            (
                "../up",
                "http://test.m-ld.org/up",
                "http://test.m-ld.org/#../up",
            ),
            ("a:b", "a:b", "a:b"),
        ];
        for (value, base, vocab) in cases {
            assert_eq!(c.expand_iri(value).unwrap().as_str(), base, "{value}");
            assert_eq!(c.expand_vocab(value).unwrap().as_str(), vocab, "{value}");
        }
        for bad in ["_:b0", "@type", "a b", "http://x.org/a b"] {
            assert!(c.expand_iri(bad).is_err(), "{bad}");
        }
        // JS makes `http://test.m-ld.org/##name` of this, which is not an IRI.
        assert_eq!(
            c.expand_iri("#name").unwrap().as_str(),
            "http://test.m-ld.org/#name"
        );
        assert!(c.expand_vocab("#name").is_err());
    }

    /// The compaction vectors of docs/protocol.md §3.2, except `#a:b` as a key, which JS writes
    /// lossily.
    #[test]
    fn compaction_matches_js_where_it_round_trips() {
        let c = ctx();
        let cases = [
            (
                "http://test.m-ld.org/fred",
                "fred",
                "http://test.m-ld.org/fred",
            ),
            ("http://test.m-ld.org/#name", "#name", "name"),
            (
                "http://test.m-ld.org/a/b?q=1",
                "a/b?q=1",
                "http://test.m-ld.org/a/b?q=1",
            ),
            ("http://test.m-ld.org/#s", "#s", "http://test.m-ld.org/#s"),
            (RDF_TYPE, "rdf:type", "rdf:type"),
            (MLD_TID, MLD_TID, MLD_TID),
            (
                "http://www.w3.org/2001/XMLSchema#dateTime",
                "xs:dateTime",
                "xs:dateTime",
            ),
            (
                "http://other.org/x",
                "http://other.org/x",
                "http://other.org/x",
            ),
            ("http://test.m-ld.org/", "./", "http://test.m-ld.org/"),
            ("http://test.m-ld.org/#", "#", "http://test.m-ld.org/#"),
            (
                "http://test.m-ld.org/#a:b",
                "#a:b",
                "http://test.m-ld.org/#a:b",
            ),
            ("urn:uuid:1234", "urn:uuid:1234", "urn:uuid:1234"),
            (
                "http://test.m-ld.org/a:b",
                "./a:b",
                "http://test.m-ld.org/a:b",
            ),
            ("http://test.m-ld.org//x", ".//x", "http://test.m-ld.org//x"),
        ];
        for (iri, id, vocab) in cases {
            assert_eq!(c.compact_iri(iri).unwrap(), id, "{iri}");
            assert_eq!(c.compact_vocab(iri).unwrap(), vocab, "{iri}");
            assert_eq!(c.expand_iri(id).unwrap().as_str(), iri);
            assert_eq!(c.expand_vocab(vocab).unwrap().as_str(), iri);
        }
        // An absolute IRI confused with a prefix cannot be written at all.
        assert!(c.compact_iri("xs:foo").is_err());
        assert!(c.compact_vocab("rdf:foo").is_err());
    }
}

//! Resolved JSON-LD contexts for a m-ld domain: `@base`, `@vocab`, default `@language`,
//! prefixes and term definitions, with IRI expansion and compaction (JSON-LD 1.1 rules, reduced
//! to what json-rql needs).
//!
//! Owns only context processing and IRI strings; must not touch patterns, values, graphs or
//! query evaluation.

use crate::error::JrqlError;
use crate::ns;
use m_ld_vocab::DomainName;
use oxiri::Iri;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

/// How a term coerces string values (JSON-LD "type mapping").
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TypeMapping {
    /// `"@type": "@id"`: strings are IRIs resolved against `@base`.
    Id,
    /// `"@type": "@vocab"`: strings are IRIs resolved against `@vocab`.
    Vocab,
    /// `"@type": "@json"`: values are JSON literals.
    Json,
    /// `"@type": "<datatype IRI>"`: strings are literals of that datatype.
    Datatype(String),
}

/// A processed term definition.
#[derive(Clone, Debug)]
pub(crate) struct TermDefinition {
    /// The absolute IRI the term maps to.
    pub iri: String,
    /// Value coercion, if any.
    pub type_mapping: Option<TypeMapping>,
    /// `Some(Some(tag))` for `"@language": tag`, `Some(None)` for `"@language": null`.
    pub language: Option<Option<String>>,
    /// Whether the term may be used as the prefix of a compact IRI when compacting.
    pub prefix: bool,
}

impl TermDefinition {
    /// Whether this term carries no coercion, so it can hold any kind of value.
    pub(crate) fn is_plain(&self) -> bool {
        self.type_mapping.is_none() && self.language.is_none()
    }
}

#[derive(Debug, Default)]
struct Terms {
    defs: HashMap<String, TermDefinition>,
    /// IRI → terms mapping to it, shortest first then lexical.
    inverse: HashMap<String, Vec<String>>,
    /// Prefix-capable terms as (term, IRI), shortest term first then lexical.
    prefixes: Vec<(String, String)>,
}

impl Terms {
    fn rebuild_indexes(&mut self) {
        let mut inverse: HashMap<String, Vec<String>> = HashMap::new();
        let mut prefixes = Vec::new();
        for (term, def) in &self.defs {
            inverse
                .entry(def.iri.clone())
                .or_default()
                .push(term.clone());
            if def.prefix {
                prefixes.push((term.clone(), def.iri.clone()));
            }
        }
        for terms in inverse.values_mut() {
            terms.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        }
        prefixes.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
        self.inverse = inverse;
        self.prefixes = prefixes;
    }
}

/// A `@base` IRI, with whether plain relative paths resolve against it by concatenation.
#[derive(Debug)]
struct Base {
    iri: Iri<String>,
    /// The path ends in '/' and has no dot-segments or percent-escapes, and there is no query
    /// or fragment: a relative reference of plain path segments (see [`is_plain_path`])
    /// resolves to the base followed by the reference, exactly as RFC 3986 §5.2 would.
    appendable: bool,
}

impl Base {
    fn new(iri: Iri<String>) -> Base {
        let path = iri.path();
        let appendable = iri.query().is_none()
            && iri.fragment().is_none()
            && path.ends_with('/')
            && !path.contains('%')
            && !path
                .split('/')
                .any(|segment| segment == "." || segment == "..");
        Base { iri, appendable }
    }
}

impl Deref for Base {
    type Target = Iri<String>;

    fn deref(&self) -> &Iri<String> {
        &self.iri
    }
}

/// A relative reference made only of path segments of unreserved characters (RFC 3986
/// `ALPHA / DIGIT / "-" / "." / "_" / "~"`), not starting with '/', with no dot-segments.
/// Against an appendable [`Base`] it resolves to the base followed by itself.
fn is_plain_path(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.first().is_none_or(|&b| b == b'/') {
        return false;
    }
    let unreserved =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/');
    bytes.iter().all(|&b| unreserved(b))
        && !s
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

/// Two strings joined, allocated once.
fn concat(a: &str, b: &str) -> String {
    let mut joined = String::with_capacity(a.len() + b.len());
    joined.push_str(a);
    joined.push_str(b);
    joined
}

/// The resolved JSON-LD context of a m-ld domain, optionally layered with a per-request
/// context.
///
/// Subject ids resolve against `@base` (default `http://{domain}/`); property keys and `@type`
/// values against `@vocab` (default `http://{domain}/#`).
#[derive(Clone, Debug)]
pub struct Context {
    domain_base: Arc<str>,
    domain_vocab: Arc<str>,
    base: Option<Arc<Base>>,
    vocab: Option<Arc<str>>,
    language: Option<Arc<str>>,
    terms: Arc<Terms>,
}

/// Characters that end an IRI usable as a compact-IRI prefix (JSON-LD gen-delims).
fn ends_with_gen_delim(iri: &str) -> bool {
    iri.ends_with([':', '/', '?', '#', '[', ']', '@'])
}

impl Context {
    /// The context of a domain, with the domain's `@base`/`@vocab` defaults and the user's
    /// configured `@context` merged over them.
    pub fn for_domain(domain: &str, user_context: Option<&Value>) -> Result<Context, JrqlError> {
        let name = DomainName::new(domain).map_err(|e| JrqlError::InvalidDomain(e.0))?;
        let (base, vocab) = (name.base(), name.vocab());
        let base_iri = Iri::parse(base.clone())
            .map_err(|e| JrqlError::InvalidDomain(format!("{domain}: {e}")))?;
        let context = Context {
            domain_base: base.into(),
            domain_vocab: vocab.clone().into(),
            base: Some(Arc::new(Base::new(base_iri))),
            vocab: Some(vocab.into()),
            language: None,
            terms: Arc::new(Terms::default()),
        };
        match user_context {
            Some(local) => context.with_local(local),
            None => Ok(context),
        }
    }

    /// This context with a per-request `@context` layered on top.
    pub fn with_local(&self, local: &Value) -> Result<Context, JrqlError> {
        let mut next = self.clone();
        next.process(local)?;
        Ok(next)
    }

    /// The domain's own base IRI, `http://{domain}/`, used to mint skolem IRIs.
    pub fn domain_base(&self) -> &str {
        &self.domain_base
    }

    /// A skolem IRI for a minted identifier suffix: `{domain base}.well-known/genid/{id}`.
    pub fn skolem_iri(&self, id: &str) -> String {
        format!("{}{}{}", self.domain_base, ns::GENID_PATH, id)
    }

    /// The current `@vocab` mapping, if any.
    pub fn vocab(&self) -> Option<&str> {
        self.vocab.as_deref()
    }

    /// The current `@base` IRI, if any.
    pub fn base(&self) -> Option<&str> {
        self.base.as_deref().map(|base| base.as_str())
    }

    /// The context's default `@language`, if any.
    pub(crate) fn default_language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    /// The definition of a term, if the context defines it.
    pub(crate) fn term(&self, term: &str) -> Option<&TermDefinition> {
        self.terms.defs.get(term)
    }

    /// Terms mapping exactly to an IRI, shortest first.
    pub(crate) fn terms_for_iri(&self, iri: &str) -> &[String] {
        self.terms.inverse.get(iri).map_or(&[], Vec::as_slice)
    }

    fn process(&mut self, local: &Value) -> Result<(), JrqlError> {
        match local {
            Value::Null => {
                self.base = Iri::parse(self.domain_base.to_string())
                    .ok()
                    .map(|iri| Arc::new(Base::new(iri)));
                self.vocab = Some(self.domain_vocab.clone());
                self.language = None;
                self.terms = Arc::new(Terms::default());
                Ok(())
            }
            Value::Array(contexts) => contexts.iter().try_for_each(|c| self.process(c)),
            Value::String(url) => Err(JrqlError::unsupported(
                "@context",
                format!("remote context {url:?} cannot be loaded"),
            )),
            Value::Object(object) => self.process_object(object),
            other => Err(JrqlError::BadContext(format!(
                "expected an object, found {}",
                crate::error::abridge(other)
            ))),
        }
    }

    fn process_object(&mut self, object: &Map<String, Value>) -> Result<(), JrqlError> {
        if let Some(base) = object.get("@base") {
            self.base = match base {
                Value::Null => None,
                Value::String(s) => Some(Arc::new(Base::new(self.resolve_base(s)?))),
                other => {
                    return Err(JrqlError::BadContext(format!(
                        "@base must be a string or null, found {}",
                        crate::error::abridge(other)
                    )));
                }
            };
        }
        for (key, value) in object {
            match key.as_str() {
                "@base" => {}
                "@vocab" => {
                    self.vocab = match value {
                        Value::Null => None,
                        Value::String(s) => Some(self.vocab_mapping(s)?.into()),
                        other => {
                            return Err(JrqlError::BadContext(format!(
                                "@vocab must be a string or null, found {}",
                                crate::error::abridge(other)
                            )));
                        }
                    }
                }
                "@language" => {
                    self.language = match value {
                        Value::Null => None,
                        Value::String(s) => Some(s.to_ascii_lowercase().into()),
                        other => {
                            return Err(JrqlError::BadContext(format!(
                                "@language must be a string or null, found {}",
                                crate::error::abridge(other)
                            )));
                        }
                    }
                }
                "@version" if value.as_f64() != Some(1.1) => {
                    return Err(JrqlError::BadContext(format!(
                        "@version must be 1.1, found {value}"
                    )));
                }
                "@version" => {}
                k if k.starts_with('@') => {
                    return Err(JrqlError::unsupported(
                        k,
                        "this context keyword is not supported",
                    ));
                }
                _ => {}
            }
        }
        let mut terms = Terms {
            defs: self.terms.defs.clone(),
            ..Terms::default()
        };
        let mut defined = HashMap::new();
        for key in object.keys().filter(|k| !k.starts_with('@')) {
            self.define_term(&mut terms, object, key, &mut defined)?;
        }
        terms.rebuild_indexes();
        self.terms = Arc::new(terms);
        Ok(())
    }

    fn resolve_base(&self, s: &str) -> Result<Iri<String>, JrqlError> {
        if let Ok(iri) = Iri::parse(s.to_string()) {
            return Ok(iri);
        }
        match &self.base {
            Some(base) => base.resolve(s).map_err(|e| JrqlError::BadIri {
                iri: s.to_string(),
                reason: e.to_string(),
            }),
            None => Err(JrqlError::BadIri {
                iri: s.to_string(),
                reason: "relative @base with no base to resolve against".into(),
            }),
        }
    }

    fn vocab_mapping(&self, s: &str) -> Result<String, JrqlError> {
        if let Some((prefix, suffix)) = s.split_once(':')
            && !suffix.starts_with("//")
            && let Some(def) = self.terms.defs.get(prefix)
        {
            return Ok(format!("{}{suffix}", def.iri));
        }
        if Iri::parse(s).is_ok() {
            return Ok(s.to_string());
        }
        self.resolve_against_base(s)
    }

    /// Defines `term` from the local context object, first defining any terms its IRI depends
    /// on (JSON-LD "create term definition", reduced).
    fn define_term(
        &self,
        terms: &mut Terms,
        local: &Map<String, Value>,
        term: &str,
        defined: &mut HashMap<String, bool>,
    ) -> Result<(), JrqlError> {
        match defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => {
                return Err(JrqlError::BadContext(format!(
                    "cyclic term definition for {term:?}"
                )));
            }
            None => {}
        }
        let Some(value) = local.get(term) else {
            return Ok(());
        };
        if term.is_empty() {
            return Err(JrqlError::BadContext("a term cannot be empty".into()));
        }
        defined.insert(term.to_string(), false);
        let definition = match value {
            Value::Null => None,
            Value::String(id) => {
                let iri = self.term_iri(terms, local, term, id, defined)?;
                Some(TermDefinition {
                    prefix: ends_with_gen_delim(&iri),
                    iri,
                    type_mapping: None,
                    language: None,
                })
            }
            Value::Object(def) => self.expanded_term(terms, local, term, def, defined)?,
            other => {
                return Err(JrqlError::BadContext(format!(
                    "term {term:?} must be defined by a string, object or null, found {}",
                    crate::error::abridge(other)
                )));
            }
        };
        match definition {
            Some(def) => terms.defs.insert(term.to_string(), def),
            None => terms.defs.remove(term),
        };
        defined.insert(term.to_string(), true);
        Ok(())
    }

    fn expanded_term(
        &self,
        terms: &mut Terms,
        local: &Map<String, Value>,
        term: &str,
        def: &Map<String, Value>,
        defined: &mut HashMap<String, bool>,
    ) -> Result<Option<TermDefinition>, JrqlError> {
        for key in def.keys() {
            match key.as_str() {
                "@id" | "@type" | "@language" | "@prefix" => {}
                "@reverse" | "@container" | "@context" | "@nest" | "@index" | "@protected"
                | "@direction" | "@propagate" => {
                    return Err(JrqlError::unsupported(
                        key,
                        format!("in the definition of term {term:?}"),
                    ));
                }
                other => {
                    return Err(JrqlError::BadContext(format!(
                        "unknown key {other:?} in the definition of term {term:?}"
                    )));
                }
            }
        }
        let iri = match def.get("@id") {
            Some(Value::Null) => return Ok(None),
            Some(Value::String(id)) => self.term_iri(terms, local, term, id, defined)?,
            None => self.term_iri(terms, local, term, term, defined)?,
            Some(other) => {
                return Err(JrqlError::BadContext(format!(
                    "@id of term {term:?} must be a string, found {}",
                    crate::error::abridge(other)
                )));
            }
        };
        let type_mapping = match def.get("@type") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => match t.as_str() {
                "@id" => Some(TypeMapping::Id),
                "@vocab" => Some(TypeMapping::Vocab),
                "@json" => Some(TypeMapping::Json),
                "@none" => None,
                k if k.starts_with('@') => {
                    return Err(JrqlError::BadContext(format!(
                        "@type {k:?} of term {term:?} is not a valid type mapping"
                    )));
                }
                datatype => Some(TypeMapping::Datatype(
                    self.term_iri(terms, local, "", datatype, defined)?,
                )),
            },
            Some(other) => {
                return Err(JrqlError::BadContext(format!(
                    "@type of term {term:?} must be a string, found {}",
                    crate::error::abridge(other)
                )));
            }
        };
        let language = match def.get("@language") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(tag)) => Some(Some(tag.to_ascii_lowercase())),
            Some(other) => {
                return Err(JrqlError::BadContext(format!(
                    "@language of term {term:?} must be a string or null, found {}",
                    crate::error::abridge(other)
                )));
            }
        };
        let prefix = match def.get("@prefix") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(JrqlError::BadContext(format!(
                    "@prefix of term {term:?} must be a boolean, found {other}"
                )));
            }
        };
        Ok(Some(TermDefinition {
            iri,
            type_mapping,
            language,
            prefix,
        }))
    }

    /// Expands the IRI of a term definition (vocabulary-relative), defining any terms of the
    /// same local context it depends on first.
    fn term_iri(
        &self,
        terms: &mut Terms,
        local: &Map<String, Value>,
        term: &str,
        id: &str,
        defined: &mut HashMap<String, bool>,
    ) -> Result<String, JrqlError> {
        if id.starts_with('@') {
            return Err(JrqlError::unsupported(
                id,
                format!("keyword aliases (term {term:?}) are not supported"),
            ));
        }
        if id != term && local.contains_key(id) {
            self.define_term(terms, local, id, defined)?;
        }
        if let Some((prefix, suffix)) = id.split_once(':') {
            if prefix == "_" {
                return Err(JrqlError::BadContext(format!(
                    "term {term:?} cannot map to a blank node"
                )));
            }
            if !suffix.starts_with("//") {
                if prefix != term && local.contains_key(prefix) {
                    self.define_term(terms, local, prefix, defined)?;
                }
                if let Some(def) = terms.defs.get(prefix) {
                    return Ok(format!("{}{suffix}", def.iri));
                }
            }
            if Iri::parse(id).is_ok() {
                return Ok(id.to_string());
            }
        }
        if id != term
            && let Some(def) = terms.defs.get(id)
        {
            return Ok(def.iri.clone());
        }
        match &self.vocab {
            Some(vocab) => Ok(format!("{vocab}{id}")),
            None => Err(JrqlError::BadContext(format!(
                "term {term:?} has no IRI: {id:?} is not absolute and there is no @vocab"
            ))),
        }
    }

    /// Expands a compact IRI, term, relative or absolute IRI to an absolute IRI.
    ///
    /// With `vocab`, terms and `@vocab` apply (property keys, `@type` values); otherwise the
    /// value resolves against `@base` (subject ids, references). `"@type"` with `vocab` expands
    /// to `rdf:type`. Blank node identifiers and other keywords are errors.
    pub fn expand_iri(&self, s: &str, vocab: bool) -> Result<String, JrqlError> {
        if s.starts_with('@') {
            if vocab && s == "@type" {
                return Ok(ns::RDF_TYPE.to_string());
            }
            return Err(JrqlError::BadIri {
                iri: s.to_string(),
                reason: "a keyword is not an IRI".into(),
            });
        }
        if vocab && let Some(def) = self.terms.defs.get(s) {
            return Ok(def.iri.clone());
        }
        if let Some((prefix, suffix)) = s.split_once(':') {
            if prefix == "_" {
                return Err(JrqlError::BadIri {
                    iri: s.to_string(),
                    reason: "blank node identifiers are not supported; use an IRI".into(),
                });
            }
            if !suffix.starts_with("//")
                && let Some(def) = self.terms.defs.get(prefix)
            {
                return Ok(concat(&def.iri, suffix));
            }
            if Iri::parse(s).is_ok() {
                return Ok(s.to_string());
            }
        }
        if vocab && let Some(v) = &self.vocab {
            return Ok(concat(v, s));
        }
        self.resolve_against_base(s)
    }

    fn resolve_against_base(&self, s: &str) -> Result<String, JrqlError> {
        match &self.base {
            // The common case of a simple name: no need for full RFC 3986 resolution.
            Some(base) if base.appendable && is_plain_path(s) => Ok(concat(base.as_str(), s)),
            Some(base) => match base.resolve(s) {
                Ok(iri) => Ok(iri.into_inner()),
                // Be as lenient as JSON-LD processors: characters that are not allowed in an
                // IRI (such as spaces) are kept rather than rejected.
                Err(_) => Ok(base.resolve_unchecked(s).into_inner()),
            },
            None => match Iri::parse(s) {
                Ok(_) => Ok(s.to_string()),
                Err(e) => Err(JrqlError::BadIri {
                    iri: s.to_string(),
                    reason: format!("no @base to resolve against ({e})"),
                }),
            },
        }
    }

    /// Compacts an absolute IRI: to a term or `@vocab`-relative name with `vocab` (property
    /// keys, `@type` values), to a compact IRI with a prefix, or (without `vocab`) relative to
    /// `@base`; otherwise the IRI is returned unchanged. Every form re-expands to `iri`.
    pub fn compact_iri(&self, iri: &str, vocab: bool) -> String {
        if vocab {
            let terms = self.terms_for_iri(iri);
            let plain = terms
                .iter()
                .find(|t| self.term(t).is_some_and(TermDefinition::is_plain));
            if let Some(term) = plain.or(terms.first()) {
                return term.clone();
            }
            if let Some(suffix) = self.vocab_suffix(iri) {
                return suffix.to_string();
            }
        }
        if let Some(curie) = self.compact_with_prefix(iri) {
            return curie;
        }
        if !vocab && let Some(relative) = self.relative_to_base(iri) {
            return relative;
        }
        iri.to_string()
    }

    /// The `@vocab`-relative form of an IRI, if it re-expands unambiguously.
    pub(crate) fn vocab_suffix<'i>(&self, iri: &'i str) -> Option<&'i str> {
        let vocab = self.vocab.as_deref()?;
        let suffix = iri.strip_prefix(vocab)?;
        let unambiguous = !suffix.is_empty()
            && !suffix.contains(':')
            && !suffix.starts_with('@')
            && !self.terms.defs.contains_key(suffix);
        unambiguous.then_some(suffix)
    }

    /// The shortest compact IRI `prefix:suffix` for an IRI, if any prefix applies.
    pub(crate) fn compact_with_prefix(&self, iri: &str) -> Option<String> {
        let mut best: Option<String> = None;
        for (term, prefix_iri) in &self.terms.prefixes {
            let Some(suffix) = iri.strip_prefix(prefix_iri.as_str()) else {
                continue;
            };
            if suffix.is_empty() || suffix.starts_with("//") {
                continue;
            }
            let candidate = format!("{term}:{suffix}");
            let clashes = self
                .terms
                .defs
                .get(&candidate)
                .is_some_and(|def| def.iri != iri);
            if clashes {
                continue;
            }
            let better = best.as_ref().is_none_or(|b| {
                candidate.len() < b.len() || (candidate.len() == b.len() && candidate < *b)
            });
            if better {
                best = Some(candidate);
            }
        }
        best
    }

    /// The form of `iri` relative to `@base`, if it shares the base's scheme and authority and
    /// re-resolves to the same IRI.
    pub(crate) fn relative_to_base(&self, iri: &str) -> Option<String> {
        let base = self.base.as_deref()?;
        let base_str = base.as_str();
        // Fast path: a simple name directly under a base ending in '/'.
        if base.appendable
            && let Some(rest) = iri.strip_prefix(base_str)
            && is_simple_relative(rest)
        {
            return Some(rest.to_string());
        }
        let target = Iri::parse(iri).ok()?;
        if target.scheme() != base.scheme() || target.authority() != base.authority() {
            return None;
        }
        let base_segments: Vec<&str> = base.path().split('/').collect();
        let iri_segments: Vec<&str> = target.path().split('/').collect();
        let keep_last = usize::from(target.query().is_none() && target.fragment().is_none());
        let (mut b, mut i) = (0, 0);
        while b < base_segments.len()
            && iri_segments.len() - i > keep_last
            && base_segments[b] == iri_segments[i]
        {
            b += 1;
            i += 1;
        }
        let mut relative = String::new();
        if b < base_segments.len() {
            for _ in 0..(base_segments.len() - b - 1) {
                relative.push_str("../");
            }
        }
        relative.push_str(&iri_segments[i..].join("/"));
        if let Some(query) = target.query() {
            relative.push('?');
            relative.push_str(query);
        }
        if let Some(fragment) = target.fragment() {
            relative.push('#');
            relative.push_str(fragment);
        }
        if relative.is_empty() {
            relative.push_str("./");
        }
        let first_segment = relative.split(['/', '?', '#']).next().unwrap_or_default();
        if first_segment.contains(':') || relative.starts_with('@') {
            relative.insert_str(0, "./");
        }
        let round_trip = base.resolve(&relative).ok()?;
        (round_trip.as_str() == iri).then_some(relative)
    }
}

/// A relative reference that resolves to `base + rest` against a base ending in '/': no
/// dot-segments, no scheme-like first segment, not a keyword.
fn is_simple_relative(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    if matches!(bytes.first(), None | Some(b'/' | b'?' | b'#' | b'@' | b'.')) {
        return false;
    }
    let is_dot_segment = |segment: &[u8]| segment == b"." || segment == b"..";
    // Within the path (before any '?' or '#'), and within its first segment.
    let (mut in_path, mut in_first_segment) = (true, true);
    let mut segment_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b <= b' ' || b == b'%' || b == b'\\' {
            return false;
        }
        if !in_path {
            continue;
        }
        match b {
            b'/' | b'?' | b'#' => {
                if is_dot_segment(&bytes[segment_start..i]) {
                    return false;
                }
                in_first_segment = false;
                in_path = b == b'/';
                segment_start = i + 1;
            }
            b':' if in_first_segment => return false,
            _ => {}
        }
    }
    !(in_path && is_dot_segment(&bytes[segment_start..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Full RFC 3986 resolution, as `resolve_against_base` does it without the fast path.
    fn rfc_resolve(base: &str, s: &str) -> String {
        let base = Iri::parse(base.to_string()).unwrap();
        match base.resolve(s) {
            Ok(iri) => iri.into_inner(),
            Err(_) => base.resolve_unchecked(s).into_inner(),
        }
    }

    /// `is_simple_relative` as first written, with string splitting.
    fn is_simple_relative_by_splitting(rest: &str) -> bool {
        let Some(first) = rest.chars().next() else {
            return false;
        };
        if matches!(first, '/' | '?' | '#' | '@' | '.') {
            return false;
        }
        let first_segment = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if first_segment.contains(':') {
            return false;
        }
        let path = rest.split(['?', '#']).next().unwrap_or_default();
        !path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
            && rest.bytes().all(|b| b > b' ' && b != b'%' && b != b'\\')
    }

    const BASES: [&str; 9] = [
        "http://test.m-ld.org/",
        "http://d.org/a/b/",
        "http://d.org/a/b",
        "http://d.org/a/../b/",
        "http://d.org/a/./",
        "http://d.org/a/?q/",
        "http://",
        "urn:x/",
        "http://d.org/%2E/",
    ];

    fn reference() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9._~/-]{0,12}",
            "[a-z.:/?#@%]{0,8}",
            prop::sample::select(vec![
                ".", "..", "./x", "../x", "a/./b", "a/../b", "a/..", "x/.", "...", ".x", "a//b",
                "s1", "~u", "-", "_", "a/b/", "",
            ])
            .prop_map(String::from),
        ]
    }

    proptest! {
        #[test]
        fn plain_paths_resolve_as_rfc3986_does(base in prop::sample::select(BASES.to_vec()),
                                               s in reference()) {
            let c = Context::for_domain("test.m-ld.org", Some(&json!({"@base": base}))).unwrap();
            if let Ok(expanded) = c.expand_iri(&s, false) {
                // Whatever the path taken, expansion is RFC 3986 resolution.
                prop_assert_eq!(expanded, rfc_resolve(c.base().unwrap(), &s));
            }
        }

        #[test]
        fn simple_relatives_are_recognised_as_before(s in "[a-z./:?#@%\\\\ ]{0,10}") {
            prop_assert_eq!(is_simple_relative(&s), is_simple_relative_by_splitting(&s));
        }
    }

    #[test]
    fn only_plain_bases_are_appendable() {
        let appendable = |base: &str| Base::new(Iri::parse(base.to_string()).unwrap()).appendable;
        assert!(appendable("http://test.m-ld.org/"));
        assert!(appendable("http://d.org/a/b/"));
        assert!(appendable("urn:x/"));
        for not in [
            "http://d.org/a/b",
            "http://d.org/a/../b/",
            "http://d.org/a/./",
            "http://d.org/a/?q/",
            "http://d.org/a/#f/",
            "http://",
            "http://d.org/%2E/",
        ] {
            assert!(!appendable(not), "{not}");
        }
        assert!(is_plain_path("s1") && is_plain_path(".well-known/genid/x"));
        for not in [
            "", "/x", "a:b", "a/../b", "..", "a/.", "a b", "a?q", "#f", "é",
        ] {
            assert!(!is_plain_path(not), "{not}");
        }
    }

    fn ctx() -> Context {
        Context::for_domain("test.m-ld.org", None).unwrap()
    }

    #[test]
    fn an_invalid_domain_is_refused() {
        let err = Context::for_domain("Not Valid", None).unwrap_err();
        assert!(err.to_string().contains("Not Valid"));
    }

    #[test]
    fn defaults_are_base_and_vocab_of_the_domain() {
        let c = ctx();
        assert_eq!(c.base(), Some("http://test.m-ld.org/"));
        assert_eq!(c.vocab(), Some("http://test.m-ld.org/#"));
        assert_eq!(
            c.expand_iri("fred", false).unwrap(),
            "http://test.m-ld.org/fred"
        );
        assert_eq!(
            c.expand_iri("name", true).unwrap(),
            "http://test.m-ld.org/#name"
        );
        assert_eq!(
            c.skolem_iri("abc"),
            "http://test.m-ld.org/.well-known/genid/abc"
        );
    }

    #[test]
    fn expansion_of_ids_follows_rfc3986() {
        let c = ctx();
        for (value, expected) in [
            ("#name", "http://test.m-ld.org/#name"),
            (
                ".well-known/genid/x",
                "http://test.m-ld.org/.well-known/genid/x",
            ),
            ("a/b?q=1", "http://test.m-ld.org/a/b?q=1"),
            ("./", "http://test.m-ld.org/"),
            ("../x", "http://test.m-ld.org/x"),
            ("http://other.org/y", "http://other.org/y"),
            ("urn:x:y", "urn:x:y"),
        ] {
            assert_eq!(c.expand_iri(value, false).unwrap(), expected, "{value}");
        }
        assert!(c.expand_iri("_:b0", false).is_err());
        assert!(c.expand_iri("@id", false).is_err());
        assert_eq!(c.expand_iri("@type", true).unwrap(), ns::RDF_TYPE);
    }

    #[test]
    fn compaction_vectors_from_the_protocol_table() {
        let c = ctx();
        for (iri, as_id, as_vocab) in [
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
            (
                "http://test.m-ld.org/.well-known/genid/abc",
                ".well-known/genid/abc",
                "http://test.m-ld.org/.well-known/genid/abc",
            ),
            ("http://test.m-ld.org/", "./", "http://test.m-ld.org/"),
            // Fixes a jsonld.js round-trip bug: "a:b" would re-expand to the IRI a:b.
            (
                "http://test.m-ld.org/#a:b",
                "#a:b",
                "http://test.m-ld.org/#a:b",
            ),
            ("urn:x", "urn:x", "urn:x"),
            (
                "http://other.org/x",
                "http://other.org/x",
                "http://other.org/x",
            ),
        ] {
            assert_eq!(c.compact_iri(iri, false), as_id, "{iri} as id");
            assert_eq!(c.compact_iri(iri, true), as_vocab, "{iri} as vocab");
            assert_eq!(c.expand_iri(as_id, false).unwrap(), iri);
            assert_eq!(c.expand_iri(as_vocab, true).unwrap(), iri);
        }
    }

    #[test]
    fn relative_compaction_round_trips() {
        let c = Context::for_domain("d.org", Some(&json!({"@base": "http://d.org/a/b/"}))).unwrap();
        for iri in [
            "http://d.org/a/b/c",
            "http://d.org/a/x",
            "http://d.org/",
            "http://d.org",
            "http://d.org/a/b/",
            "http://d.org/a/b/c:d",
            "http://d.org/a/b/@x",
            "http://d.org/a/b/?q",
            "http://d.org/a/b/#f",
        ] {
            let compact = c.compact_iri(iri, false);
            assert_eq!(
                c.expand_iri(&compact, false).unwrap(),
                iri,
                "{iri} → {compact}"
            );
        }
        assert_eq!(c.compact_iri("http://d.org/a/x", false), "../x");
        // A base with dot-segments is not simply prefixed: compaction must still round-trip.
        let c =
            Context::for_domain("d.org", Some(&json!({"@base": "http://d.org/a/../b/"}))).unwrap();
        for iri in ["http://d.org/a/../b/c", "http://d.org/b/c"] {
            let compact = c.compact_iri(iri, false);
            assert_eq!(
                c.expand_iri(&compact, false).unwrap(),
                iri,
                "{iri} → {compact}"
            );
        }
    }

    #[test]
    fn prefixes_and_terms() {
        let c = Context::for_domain(
            "test.m-ld.org",
            Some(&json!({
                "ex": "http://ex.org/",
                "s": {"@id": "http://test.m-ld.org/#s", "@type": "@id"},
                "nm": "ex:name",
                "knows": {"@id": "ex:knows", "@type": "@vocab"}
            })),
        )
        .unwrap();
        assert_eq!(c.expand_iri("ex:x", false).unwrap(), "http://ex.org/x");
        assert_eq!(c.compact_iri("http://ex.org/x", false), "ex:x");
        assert_eq!(c.compact_iri("http://ex.org/x", true), "ex:x");
        assert_eq!(c.expand_iri("nm", true).unwrap(), "http://ex.org/name");
        assert_eq!(c.compact_iri("http://ex.org/name", true), "nm");
        // A vocab suffix that is a defined term is not used.
        assert_eq!(
            c.compact_iri("http://test.m-ld.org/#s", true),
            "s",
            "exact term match"
        );
        assert_eq!(c.compact_iri("http://test.m-ld.org/#s", false), "#s");
        // Terms are not applied to ids.
        assert_eq!(c.expand_iri("s", false).unwrap(), "http://test.m-ld.org/s");
        assert_eq!(
            c.term("knows").unwrap().type_mapping,
            Some(TypeMapping::Vocab)
        );
    }

    #[test]
    fn vocab_suffix_clashing_with_a_term_stays_absolute() {
        let c = Context::for_domain("test.m-ld.org", Some(&json!({"s": "http://other.org/s"})))
            .unwrap();
        assert_eq!(
            c.compact_iri("http://test.m-ld.org/#s", true),
            "http://test.m-ld.org/#s"
        );
    }

    #[test]
    fn per_request_context_layers_over_domain_context() {
        let c =
            Context::for_domain("test.m-ld.org", Some(&json!({"ex": "http://ex.org/"}))).unwrap();
        let local = c
            .with_local(&json!({"nm": "http://test.m-ld.org/#name"}))
            .unwrap();
        assert_eq!(local.expand_iri("ex:a", true).unwrap(), "http://ex.org/a");
        assert_eq!(
            local.expand_iri("nm", true).unwrap(),
            "http://test.m-ld.org/#name"
        );
        assert_eq!(local.compact_iri("http://test.m-ld.org/#name", true), "nm");
        assert_eq!(c.compact_iri("http://test.m-ld.org/#name", true), "name");
    }

    #[test]
    fn base_and_vocab_overrides() {
        let c = Context::for_domain(
            "test.m-ld.org",
            Some(&json!({"@base": "http://b.org/x/", "@vocab": "http://v.org/"})),
        )
        .unwrap();
        assert_eq!(c.expand_iri("fred", false).unwrap(), "http://b.org/x/fred");
        assert_eq!(c.expand_iri("name", true).unwrap(), "http://v.org/name");
        assert_eq!(c.compact_iri("http://v.org/name", true), "name");
        assert_eq!(c.domain_base(), "http://test.m-ld.org/");
    }

    #[test]
    fn unsupported_context_features_answer_5011() {
        let c = ctx();
        for local in [
            json!({"parentOf": {"@reverse": "childOf"}}),
            json!({"items": {"@id": "ex:items", "@container": "@list"}}),
            json!({"@import": "http://x.org/ctx"}),
            json!("http://x.org/ctx"),
            json!({"id": "@id"}),
        ] {
            let err = c.with_local(&local).unwrap_err();
            assert_eq!(err.status(), 5011, "{local} → {err}");
        }
        let err = c.with_local(&json!({"a": 1})).unwrap_err();
        assert_eq!(err.status(), 4001);
    }

    #[test]
    fn term_dependencies_resolve_in_any_order() {
        let c = Context::for_domain(
            "test.m-ld.org",
            Some(&json!({"b": "a:x", "a": "http://a.org/"})),
        )
        .unwrap();
        assert_eq!(c.expand_iri("b", true).unwrap(), "http://a.org/x");
        let cyclic = ctx().with_local(&json!({"a": "b", "b": "a"}));
        assert!(cyclic.is_err());
    }
}

//! Data constraints a clone enforces: the `constraints` of its configuration, read into
//! [`ConstraintConfig`]s and built into core [`Constraint`]s ([`SingleValued`],
//! [`PropertyShape`]) that the clone installs on its SU-Set, and the SHACL shapes declared in the
//! domain data (`declared.rs`, m-ld-js `ShapeConstrained`).
//!
//! Owns the constraint rules and their configuration form. A constraint only judges a local write
//! (`check`) or returns assertions that resolve a remote operation (`apply`); the SU-Set journals
//! and broadcasts those (docs/protocol.md §6.3). This module must not touch stores, clocks or
//! messaging.
//!
//! Conflicts resolve as m-ld-js resolves them, so that Rust and JS clones of a domain pick the
//! same winner: see [`SingleValued`] and [`PropertyShape`] for the rules, and
//! `docs/divergences.md` for where they differ.

mod declared;
mod js;
pub mod shacl;
mod single_valued;

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use m_ld_core::CoreError;
pub use m_ld_core::constraint::{Constraint, Patch, ReadTriples};
use m_ld_jrql::Context;
use oxrdf::{NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef};
use serde_json::{Map, Value};

pub(crate) use self::declared::DeclaredShapes;
pub use self::shacl::PropertyShape;
pub use self::single_valued::SingleValued;
use crate::MeldError;

/// The SHACL namespace.
pub const SH: &str = "http://www.w3.org/ns/shacl#";

/// A constraint declared in the clone configuration's `constraints` array.
///
/// JSON forms:
/// - `{"@type": "single-valued", "property": P}` (m-ld-js `SingleValuedConfig`): `P` may have
///   only one value per subject.
/// - `{"@type": "PropertyShape", "path": P, "name"?: N, "minCount"?: n, "maxCount"?: n,
///   "count"?: n}` (m-ld-js `PropertyShape.declare`): a SHACL property shape. The type may also
///   be written `sh:PropertyShape` or `http://www.w3.org/ns/shacl#PropertyShape`, and each key
///   `sh:path`, `http://www.w3.org/ns/shacl#path` and so on. `count` sets both counts. `P` may
///   be a string or `{"@vocab": P}`.
///
/// Properties (`P`) expand against the clone's `@context` like property keys (so `"name"` is
/// `@vocab`-relative). Unknown types and keys are configuration errors.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConstraintConfig {
    /// `single-valued`: the property has at most one value per subject.
    SingleValued {
        /// The property, as written (expanded when the clone starts).
        property: String,
    },
    /// A SHACL property shape.
    PropertyShape(PropertyShapeConfig),
}

/// The configuration of a SHACL property shape ([`ConstraintConfig::PropertyShape`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PropertyShapeConfig {
    /// `sh:path`: the property, as written (expanded when the clone starts).
    pub path: String,
    /// `sh:name`: names of the shape, used in error messages.
    pub name: Vec<String>,
    /// `sh:minCount`: the fewest values a subject with the property may keep.
    pub min_count: Option<usize>,
    /// `sh:maxCount`: the most values a subject may have.
    pub max_count: Option<usize>,
}

impl ConstraintConfig {
    /// Reads the `constraints` configuration value: an array of constraint objects (a single
    /// object is accepted as an array of one).
    pub fn list_from_json(json: &Value) -> Result<Vec<ConstraintConfig>, MeldError> {
        match json {
            Value::Array(items) => items.iter().map(ConstraintConfig::from_json).collect(),
            Value::Object(_) => Ok(vec![ConstraintConfig::from_json(json)?]),
            Value::Null => Ok(Vec::new()),
            other => Err(config_error(format!(
                "constraints must be an array of constraint objects, not {other}"
            ))),
        }
    }

    /// Reads one constraint object.
    pub fn from_json(json: &Value) -> Result<ConstraintConfig, MeldError> {
        let obj = json
            .as_object()
            .ok_or_else(|| config_error(format!("a constraint must be an object, not {json}")))?;
        match obj.get("@type") {
            Some(Value::String(t)) if t == "single-valued" => single_valued_from_json(obj),
            Some(Value::String(t)) if is_sh(t, "PropertyShape", true) => {
                Ok(ConstraintConfig::PropertyShape(shape_from_json(obj)?))
            }
            Some(other) => Err(config_error(format!(
                "unknown constraint type {other} (expected \"single-valued\" or \
                 \"PropertyShape\")"
            ))),
            None => Err(config_error(format!("constraint {json} has no @type"))),
        }
    }

    /// Builds the constraint, expanding its properties with the clone's context.
    pub fn build(&self, context: &Context) -> Result<Arc<dyn Constraint>, MeldError> {
        Ok(match self {
            ConstraintConfig::SingleValued { property } => {
                Arc::new(SingleValued::new(expand_property(context, property)?))
            }
            ConstraintConfig::PropertyShape(shape) => Arc::new(PropertyShape::new(
                expand_property(context, &shape.path)?,
                shape.name.clone(),
                shape.min_count,
                shape.max_count,
            )?),
        })
    }
}

/// Builds every configured constraint.
pub(crate) fn build_all(
    configs: &[ConstraintConfig],
    context: &Context,
) -> Result<Vec<Arc<dyn Constraint>>, MeldError> {
    configs.iter().map(|c| c.build(context)).collect()
}

/// A shared constraint, as the SU-Set takes it (one boxed constraint per installation).
pub(crate) struct Shared(pub(crate) Arc<dyn Constraint>);

impl Constraint for Shared {
    fn check(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<(), CoreError> {
        self.0.check(state, patch)
    }

    fn apply(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<Patch, CoreError> {
        self.0.apply(state, patch)
    }
}

fn config_error(message: String) -> MeldError {
    MeldError::Config(message)
}

/// Whether `key` names the SHACL term `local`: `sh:local`, the full IRI, or (with `bare`)
/// just `local`.
fn is_sh(key: &str, local: &str, bare: bool) -> bool {
    (bare && key == local)
        || key.strip_prefix("sh:") == Some(local)
        || key.strip_prefix(SH) == Some(local)
}

fn single_valued_from_json(obj: &Map<String, Value>) -> Result<ConstraintConfig, MeldError> {
    let mut property = None;
    for (key, value) in obj {
        match key.as_str() {
            "@type" => {}
            "property" => property = Some(property_from_json("property", value)?),
            other => {
                return Err(config_error(format!(
                    "unknown key {other:?} in a single-valued constraint"
                )));
            }
        }
    }
    let property = property
        .ok_or_else(|| config_error("a single-valued constraint needs a property".into()))?;
    Ok(ConstraintConfig::SingleValued { property })
}

fn shape_from_json(obj: &Map<String, Value>) -> Result<PropertyShapeConfig, MeldError> {
    let mut shape = PropertyShapeConfig::default();
    let mut path = None;
    let mut count = None;
    for (key, value) in obj {
        let key = key.as_str();
        if key == "@type" || key == "@id" {
            continue;
        } else if is_sh(key, "path", true) {
            path = Some(property_from_json(key, value)?);
        } else if is_sh(key, "name", true) {
            shape.name = names_from_json(value)?;
        } else if is_sh(key, "minCount", true) {
            shape.min_count = count_from_json(key, value)?;
        } else if is_sh(key, "maxCount", true) {
            shape.max_count = count_from_json(key, value)?;
        } else if key == "count" {
            count = count_from_json(key, value)?;
        } else {
            return Err(config_error(format!(
                "unknown or unsupported key {key:?} in a PropertyShape constraint"
            )));
        }
    }
    shape.path = path.ok_or_else(|| config_error("a PropertyShape needs a path".into()))?;
    if let Some(n) = count {
        if shape.min_count.is_some() || shape.max_count.is_some() {
            return Err(config_error(
                "a PropertyShape has either count or minCount/maxCount".into(),
            ));
        }
        shape.min_count = Some(n);
        shape.max_count = Some(n);
    }
    Ok(shape)
}

fn property_from_json(key: &str, value: &Value) -> Result<String, MeldError> {
    match value {
        Value::String(p) => Ok(p.clone()),
        Value::Object(o) if o.len() == 1 => match o.get("@vocab").or_else(|| o.get("@id")) {
            Some(Value::String(p)) => Ok(p.clone()),
            _ => Err(config_error(format!(
                "{key} must name a property, not {value}"
            ))),
        },
        _ => Err(config_error(format!(
            "{key} must name a property, not {value}"
        ))),
    }
}

fn names_from_json(value: &Value) -> Result<Vec<String>, MeldError> {
    let name = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => match o.get("@value") {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(config_error(format!(
                "a shape name must be a string, not {v}"
            ))),
        },
        _ => Err(config_error(format!(
            "a shape name must be a string, not {v}"
        ))),
    };
    match value {
        Value::Array(items) => items.iter().map(name).collect(),
        Value::Null => Ok(Vec::new()),
        single => Ok(vec![name(single)?]),
    }
}

fn count_from_json(key: &str, value: &Value) -> Result<Option<usize>, MeldError> {
    let number = match value {
        Value::Null => return Ok(None),
        Value::Object(o) => o.get("@value").unwrap_or(value),
        _ => value,
    };
    number
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| config_error(format!("{key} must be a non-negative integer, not {value}")))
}

/// Expands a configured property like a property key: terms and `@vocab` apply.
fn expand_property(context: &Context, property: &str) -> Result<NamedNode, MeldError> {
    let iri = context.expand_iri(property, true)?;
    NamedNode::new(&iri).map_err(|_| MeldError::InvalidIri(iri))
}

/// The distinct subjects that `triples` give a value of `property`, in first-seen order.
fn subjects_with<'a>(
    triples: impl IntoIterator<Item = &'a oxrdf::Triple>,
    property: NamedNodeRef<'_>,
) -> Vec<NamedOrBlankNode> {
    let mut seen = HashSet::new();
    let mut subjects: Vec<NamedOrBlankNode> = Vec::new();
    for t in triples {
        if t.predicate.as_ref() == property && seen.insert(&t.subject) {
            subjects.push(t.subject.clone());
        }
    }
    subjects
}

/// The values of `property` for `subject` in `state`, in canonical term order.
fn values_of(
    state: &dyn ReadTriples,
    subject: NamedOrBlankNodeRef<'_>,
    property: NamedNodeRef<'_>,
) -> Result<Vec<Term>, CoreError> {
    let mut values = state
        .matching(Some(subject), Some(property), None)
        .map(|t| t.map(|t| t.object))
        .collect::<Result<Vec<_>, _>>()?;
    // Canonical order (see `canonical_cmp`), each term rendered once.
    values.sort_by_cached_key(ToString::to_string);
    values.dedup();
    Ok(values)
}

/// Whether `subject` has no properties left in `state`.
fn has_no_properties(
    state: &dyn ReadTriples,
    subject: NamedOrBlankNodeRef<'_>,
) -> Result<bool, CoreError> {
    match state.matching(Some(subject), None, None).next() {
        None => Ok(true),
        Some(t) => t.map(|_| false),
    }
}

/// A fixed total order of terms (by their N-Triples form), so that every clone sees the values
/// of a property in the same order whatever its store.
fn canonical_cmp(a: &Term, b: &Term) -> Ordering {
    a.to_string().cmp(&b.to_string())
}

/// A subject as m-ld-js writes it in messages: its absolute IRI.
fn subject_label(subject: NamedOrBlankNodeRef<'_>) -> String {
    match subject {
        NamedOrBlankNodeRef::NamedNode(n) => n.as_str().to_string(),
        NamedOrBlankNodeRef::BlankNode(b) => b.to_string(),
    }
}

/// Values as m-ld-js writes them in messages (comma-separated): literals by their lexical form,
/// references by their IRI.
fn values_label(values: &[Term]) -> String {
    let label = |v: &Term| match v.as_ref() {
        TermRef::Literal(l) => l.value().to_string(),
        TermRef::NamedNode(n) => n.as_str().to_string(),
        other => other.to_string(),
    };
    values.iter().map(label).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_single_valued_and_shape_configs() {
        let list = ConstraintConfig::list_from_json(&json!([
            {"@type": "single-valued", "property": "name"},
            {"@type": "sh:PropertyShape", "sh:path": {"@vocab": "name"}, "sh:maxCount": 2,
             "sh:name": "Name"},
            {"@type": "http://www.w3.org/ns/shacl#PropertyShape", "path": "age", "count": 1}
        ]))
        .unwrap();
        assert_eq!(
            list,
            vec![
                ConstraintConfig::SingleValued {
                    property: "name".into()
                },
                ConstraintConfig::PropertyShape(PropertyShapeConfig {
                    path: "name".into(),
                    name: vec!["Name".into()],
                    min_count: None,
                    max_count: Some(2),
                }),
                ConstraintConfig::PropertyShape(PropertyShapeConfig {
                    path: "age".into(),
                    name: vec![],
                    min_count: Some(1),
                    max_count: Some(1),
                }),
            ]
        );
    }

    #[test]
    fn rejects_unknown_or_malformed_constraints() {
        for bad in [
            json!([{"@type": "unique", "property": "name"}]),
            json!([{"property": "name"}]),
            json!([{"@type": "single-valued"}]),
            json!([{"@type": "single-valued", "property": 5}]),
            json!([{"@type": "single-valued", "property": "name", "extra": 1}]),
            json!([{"@type": "PropertyShape", "maxCount": 1}]),
            json!([{"@type": "PropertyShape", "path": "name", "maxCount": -1}]),
            json!([{"@type": "PropertyShape", "path": "name", "count": 1, "minCount": 1}]),
            json!([{"@type": "PropertyShape", "path": "name", "targetClass": "Person"}]),
            json!("single-valued"),
            json!([5]),
        ] {
            let err = ConstraintConfig::list_from_json(&bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} should be rejected"));
            assert!(matches!(err, MeldError::Config(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn expands_properties_with_the_context() {
        let context = Arc::new(
            Context::for_domain("test.example.org", Some(&json!({"ex": "http://ex.org/"})))
                .unwrap(),
        );
        assert_eq!(
            expand_property(&context, "ex:name").unwrap().as_str(),
            "http://ex.org/name"
        );
        let vocab = expand_property(&context, "name").unwrap();
        assert!(vocab.as_str().ends_with("name"), "{vocab}");
        assert!(
            ConstraintConfig::SingleValued {
                property: "@id".into()
            }
            .build(&context)
            .is_err()
        );
        let bad_shape = ConstraintConfig::PropertyShape(PropertyShapeConfig {
            path: "name".into(),
            min_count: Some(2),
            max_count: Some(1),
            ..Default::default()
        });
        assert!(bad_shape.build(&context).is_err());
    }
}

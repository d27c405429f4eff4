//! Domain features recognised in data and operations: the extensions a domain declares in its
//! data, and the features this engine does not implement.
//!
//! m-ld domains can use agreements (`agreed` operations), transport security (SECURE encoded
//! messages), shared datatypes (a third update element) and extensions declared in the domain
//! data (the `http://m-ld.org/extensions` list, m-ld-js `CloneExtensions`). A clone that took part
//! in such a domain without honouring the feature would silently diverge from its peers, so the
//! engine refuses instead. The one declared extension this engine implements is m-ld-js
//! `ShapeConstrained` (`@m-ld/m-ld/ext/shacl`) with SHACL property shapes: [`DeclaredExtensions`]
//! reads its shapes from a state, and refuses ([`CoreError::UnsupportedFeature`], 5011) any other
//! extension, or a declaration it cannot read.
//!
//! This module only reads values; it must not write to a store. The wire codec reports the
//! encoded features ([`CoreError::unsupported_feature`]), the facade turns shape declarations
//! into constraints and decides when to refuse.

use std::collections::{HashMap, HashSet};

use oxrdf::{
    Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple,
};

use crate::CoreError;
use crate::clock::Tid;
use crate::constraint::ReadTriples;
use crate::list;
use crate::operation::Operation;

/// The subject of the list of extensions declared in a domain's data.
pub const EXTENSIONS: &str = "http://m-ld.org/extensions";
/// The CommonJS module of an extension (`http://js.m-ld.org/#require`).
pub const JS_REQUIRE: &str = "http://js.m-ld.org/#require";
/// The ECMAScript module of an extension (`http://js.m-ld.org/#module`).
pub const JS_MODULE: &str = "http://js.m-ld.org/#module";
/// The class an extension module exports (`http://js.m-ld.org/#class`).
pub const JS_CLASS: &str = "http://js.m-ld.org/#class";
/// The shapes a `ShapeConstrained` extension controls (`mld:controlled-shape`).
pub const CONTROLLED_SHAPE: &str = "http://m-ld.org/#controlled-shape";
/// The `@id` m-ld-js `ShapeConstrained.declare` gives the extension.
pub const SHAPE_CONSTRAINED: &str = "http://ext.m-ld.org/shacl/ShapeConstrained";
/// The CommonJS module of m-ld-js `ShapeConstrained`.
pub const SHACL_REQUIRE: &str = "@m-ld/m-ld/ext/shacl";
/// The ECMAScript module of m-ld-js `ShapeConstrained`.
pub const SHACL_MODULE: &str = "@m-ld/m-ld/ext/shacl.js";
/// The class name of m-ld-js `ShapeConstrained`.
pub const SHAPE_CONSTRAINED_CLASS: &str = "ShapeConstrained";
/// `sh:path`.
pub const SH_PATH: &str = "http://www.w3.org/ns/shacl#path";
/// `sh:name`.
pub const SH_NAME: &str = "http://www.w3.org/ns/shacl#name";
/// `sh:minCount`.
pub const SH_MIN_COUNT: &str = "http://www.w3.org/ns/shacl#minCount";
/// `sh:maxCount`.
pub const SH_MAX_COUNT: &str = "http://www.w3.org/ns/shacl#maxCount";

use m_ld_vocab::ns::{RDF_TYPE, XSD_DOUBLE, XSD_INTEGER};

/// The unsupported feature a whole graph (e.g. a snapshot's triples) declares, if any: an
/// extension other than `ShapeConstrained`, or a declaration that cannot be read.
///
/// The triples must be a complete state: the declaration of an extension spans several
/// subjects, so a part of a graph (such as one operation) can look incomplete.
pub fn in_triples<'a>(triples: impl IntoIterator<Item = &'a Triple>) -> Option<CoreError> {
    let triples: Vec<&Triple> = triples.into_iter().collect();
    if !triples.iter().any(|t| is_extensions(t.subject.as_ref())) {
        return None;
    }
    DeclaredExtensions::read(&Graph::new(&triples)).err()
}

/// The unsupported feature an operation uses by itself, if any: agreements, or a value of the
/// extensions list subject that is not part of a list. (Whether the extensions it declares are
/// implemented depends on the state it applies to: see [`DeclaredExtensions`].)
pub fn in_operation(op: &Operation) -> Option<CoreError> {
    if op.agreed.is_some() {
        return Some(CoreError::UnsupportedFeature("agreements".into()));
    }
    op.inserts
        .iter()
        .find_map(|(t, _)| not_a_list_value(t).err())
}

/// Fails if a triple is about the extensions list subject but is not part of the list.
fn not_a_list_value(t: &Triple) -> Result<(), CoreError> {
    if !is_extensions(t.subject.as_ref()) {
        return Ok(());
    }
    let p = t.predicate.as_str();
    let fits = if p == RDF_TYPE {
        t.object == Term::NamedNode(NamedNode::new_unchecked(list::RDF_LSEQ))
    } else {
        list::pos_id_of(p).is_some() && matches!(t.object, Term::NamedNode(_))
    };
    if fits {
        Ok(())
    } else {
        Err(unsupported(format!(
            "an unrecognised value {} {} of the extensions list",
            t.predicate, t.object
        )))
    }
}

/// A SHACL property shape declared in the data (m-ld-js `PropertyShape.declare`): `sh:path`,
/// `sh:name`, `sh:minCount` and `sh:maxCount`. Other SHACL properties (such as
/// `sh:targetClass`) are not read: m-ld-js 0.10 does not honour them on property shapes either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeDeclaration {
    /// The shape subject.
    pub id: NamedOrBlankNode,
    /// `sh:path`: the property.
    pub path: NamedNode,
    /// `sh:name`: names of the shape.
    pub names: Vec<String>,
    /// `sh:minCount`.
    pub min_count: Option<usize>,
    /// `sh:maxCount`.
    pub max_count: Option<usize>,
}

/// The extensions a domain declares in its data, as read from one state.
///
/// The list `http://m-ld.org/extensions` holds extension subjects in priority order. An
/// extension is m-ld-js `ShapeConstrained` when its class (`http://js.m-ld.org/#class`) is
/// `ShapeConstrained` and its module is `@m-ld/m-ld/ext/shacl` (`#require`), or, with no
/// CommonJS module, `@m-ld/m-ld/ext/shacl.js` (`#module`): as m-ld-js loads extensions, the
/// `@id` does not matter. Its `mld:controlled-shape` values are shapes; a shape with `sh:path`
/// is a property shape, and one without is a node shape, which m-ld-js does not validate with
/// (so neither does this engine).
///
/// Several values of a count (from concurrent edits) count as their maximum, as in m-ld-js.
/// Reading fails with [`CoreError::UnsupportedFeature`] (5011) on any other extension, on other
/// properties of the list subject, and on shapes whose values cannot be read (several or
/// non-IRI paths, counts that are not non-negative integers, `sh:minCount` above
/// `sh:maxCount`): m-ld-js would fail to load such an extension and carry on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredExtensions {
    /// The declared property shapes, by extension priority then shape IRI, each once.
    pub shapes: Vec<ShapeDeclaration>,
    /// Every subject the declarations were read from (the list, its slots, the extensions and
    /// their shapes): only a change to one of these can change the declarations.
    pub subjects: HashSet<NamedOrBlankNode>,
}

impl Default for DeclaredExtensions {
    fn default() -> Self {
        DeclaredExtensions {
            shapes: Vec::new(),
            subjects: HashSet::from([extensions_subject().into()]),
        }
    }
}

impl DeclaredExtensions {
    /// Reads the declared extensions from a state.
    pub fn read(state: &dyn ReadTriples) -> Result<Self, CoreError> {
        let mut declared = DeclaredExtensions::default();
        let list = extensions_subject();
        for t in collect(state.matching(Some(list.as_ref().into()), None, None))? {
            not_a_list_value(&t)?;
        }
        let mut extensions: Vec<NamedNode> = Vec::new();
        for slot in list::list_slots(state, &list)? {
            declared.subjects.insert(slot.slot.clone().into());
            let item = NamedNode::new_unchecked(list::ITEM);
            for t in
                collect(state.matching(Some(slot.slot.as_ref().into()), Some(item.as_ref()), None))?
            {
                match t.object {
                    Term::NamedNode(ext) if !extensions.contains(&ext) => extensions.push(ext),
                    Term::NamedNode(_) => {}
                    other => {
                        return Err(unsupported(format!(
                            "an extension list item {other} that is not an extension subject"
                        )));
                    }
                }
            }
        }
        let mut seen_shapes = HashSet::new();
        for ext in extensions {
            declared.subjects.insert(ext.clone().into());
            let mut shapes = shape_constrained(state, &ext)?;
            shapes.sort_by_cached_key(ToString::to_string);
            for shape in shapes {
                declared.subjects.insert(shape.clone());
                if seen_shapes.insert(shape.clone())
                    && let Some(decl) = read_shape(state, &shape)?
                {
                    declared.shapes.push(decl);
                }
            }
        }
        Ok(declared)
    }

    /// Whether any of `triples` is about a subject the declarations were read from, so that
    /// the declarations may differ after them.
    pub fn touched_by<'a>(&self, triples: impl IntoIterator<Item = &'a Triple>) -> bool {
        triples
            .into_iter()
            .any(|t| self.subjects.contains(&t.subject))
    }
}

fn extensions_subject() -> NamedNode {
    NamedNode::new_unchecked(EXTENSIONS)
}

fn is_extensions(subject: NamedOrBlankNodeRef<'_>) -> bool {
    matches!(subject, NamedOrBlankNodeRef::NamedNode(s) if s.as_str() == EXTENSIONS)
}

fn unsupported(what: String) -> CoreError {
    CoreError::UnsupportedFeature(format!(
        "extensions declared in its data (<{EXTENSIONS}>): {what}"
    ))
}

fn collect<'a>(
    iter: Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'a>,
) -> Result<Vec<Triple>, CoreError> {
    iter.collect()
}

/// The string values of a property of a subject (literals by their lexical form).
fn strings(triples: &[Triple], property: &str) -> Vec<String> {
    triples
        .iter()
        .filter(|t| t.predicate.as_str() == property)
        .map(|t| match &t.object {
            Term::Literal(l) => l.value().to_string(),
            other => other.to_string(),
        })
        .collect()
}

/// The controlled shapes of an extension subject, which must be m-ld-js `ShapeConstrained`.
fn shape_constrained(
    state: &dyn ReadTriples,
    ext: &NamedNode,
) -> Result<Vec<NamedOrBlankNode>, CoreError> {
    let triples = collect(state.matching(Some(ext.as_ref().into()), None, None))?;
    let require = strings(&triples, JS_REQUIRE);
    let module = strings(&triples, JS_MODULE);
    let class = strings(&triples, JS_CLASS);
    let one = |values: &[String], of: &str| values.len() == 1 && values[0] == of;
    let is_shacl = one(&class, SHAPE_CONSTRAINED_CLASS)
        && (one(&require, SHACL_REQUIRE) || (require.is_empty() && one(&module, SHACL_MODULE)));
    if !is_shacl {
        let mut described = Vec::new();
        for (key, values) in [("require", require), ("module", module), ("class", class)] {
            if !values.is_empty() {
                described.push(format!("{key} {:?}", values.join(", ")));
            }
        }
        if described.is_empty() {
            described.push("no module or class".into());
        }
        return Err(unsupported(format!(
            "the extension {ext} ({}); only ShapeConstrained from {SHACL_REQUIRE} is \
             implemented",
            described.join(", ")
        )));
    }
    triples
        .into_iter()
        .filter(|t| t.predicate.as_str() == CONTROLLED_SHAPE)
        .map(|t| match t.object {
            Term::NamedNode(n) => Ok(n.into()),
            Term::BlankNode(b) => Ok(b.into()),
            other => Err(unsupported(format!(
                "a controlled shape {other} of {ext} that is not a shape subject"
            ))),
        })
        .collect()
}

/// A property shape, or `None` for a shape without `sh:path` (a node shape).
fn read_shape(
    state: &dyn ReadTriples,
    id: &NamedOrBlankNode,
) -> Result<Option<ShapeDeclaration>, CoreError> {
    let triples = collect(state.matching(Some(id.as_ref()), None, None))?;
    let bad = |what: String| unsupported(format!("the shape {id}: {what}"));
    let paths: Vec<&Term> = triples
        .iter()
        .filter(|t| t.predicate.as_str() == SH_PATH)
        .map(|t| &t.object)
        .collect();
    let path = match paths.as_slice() {
        [] => return Ok(None),
        [Term::NamedNode(path)] => path.clone(),
        [other] => return Err(bad(format!("sh:path {other} is not a property IRI"))),
        _ => return Err(bad("several values of sh:path".into())),
    };
    let count = |property: &str, name: &str| -> Result<Option<usize>, CoreError> {
        let values: Vec<&Term> = triples
            .iter()
            .filter(|t| t.predicate.as_str() == property)
            .map(|t| &t.object)
            .collect();
        // Several values (from concurrent edits) merge to their maximum, as m-ld-js
        // `JsContainerType` merges an optional number.
        let mut max = None;
        for value in values {
            let n = match value {
                Term::Literal(l) => count_of(l)
                    .ok_or_else(|| bad(format!("{name} {l} is not a non-negative integer")))?,
                other => return Err(bad(format!("{name} {other} is not a number"))),
            };
            max = max.max(Some(n));
        }
        Ok(max)
    };
    let min_count = count(SH_MIN_COUNT, "sh:minCount")?;
    let max_count = count(SH_MAX_COUNT, "sh:maxCount")?;
    if let (Some(min), Some(max)) = (min_count, max_count)
        && min > max
    {
        return Err(bad(format!("sh:minCount {min} exceeds sh:maxCount {max}")));
    }
    let mut names = strings(&triples, SH_NAME);
    names.sort();
    Ok(Some(ShapeDeclaration {
        id: id.clone(),
        path,
        names,
        min_count,
        max_count,
    }))
}

/// A count as m-ld-js reads it: a JSON number (an `xsd:integer`, or an `xsd:double` with an
/// integral value), non-negative.
fn count_of(literal: &Literal) -> Option<usize> {
    let datatype = literal.datatype().as_str();
    if datatype == XSD_INTEGER {
        literal.value().trim().parse::<usize>().ok()
    } else if datatype == XSD_DOUBLE {
        let n: f64 = literal.value().trim().parse().ok()?;
        // Counts beyond 2^53 are not exact in JS either; no domain needs them.
        (n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < 9_007_199_254_740_992.0)
            .then(|| format!("{n:.0}").parse().ok())
            .flatten()
    } else {
        None
    }
}

/// A whole graph held as triples, indexed by subject: what [`in_triples`] reads.
struct Graph<'a> {
    by_subject: HashMap<NamedOrBlankNodeRef<'a>, Vec<&'a Triple>>,
}

impl<'a> Graph<'a> {
    fn new(triples: &[&'a Triple]) -> Self {
        let mut by_subject: HashMap<NamedOrBlankNodeRef<'a>, Vec<&'a Triple>> = HashMap::new();
        for t in triples {
            by_subject.entry(t.subject.as_ref()).or_default().push(t);
        }
        Graph { by_subject }
    }
}

impl ReadTriples for Graph<'_> {
    fn contains(&self, triple: &Triple) -> Result<bool, CoreError> {
        Ok(self
            .by_subject
            .get(&triple.subject.as_ref())
            .is_some_and(|ts| ts.contains(&triple)))
    }

    fn matching<'b>(
        &'b self,
        s: Option<NamedOrBlankNodeRef<'b>>,
        p: Option<NamedNodeRef<'b>>,
        o: Option<TermRef<'b>>,
    ) -> Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'b> {
        let hit = move |t: &Triple| {
            p.is_none_or(|p| t.predicate.as_ref() == p) && o.is_none_or(|o| t.object.as_ref() == o)
        };
        match s {
            Some(s) => Box::new(
                self.by_subject
                    .get(&s)
                    .into_iter()
                    .flatten()
                    .filter(move |t| hit(t))
                    .map(|t| Ok((*t).clone())),
            ),
            None => Box::new(
                self.by_subject
                    .values()
                    .flatten()
                    .filter(move |t| hit(t))
                    .map(|t| Ok((*t).clone())),
            ),
        }
    }

    fn tids(&self, _triple: &Triple) -> Result<Vec<Tid>, CoreError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TreeClock;

    const NAME: &str = "http://test.m-ld.org/#name";

    fn iri(s: &str) -> NamedNode {
        NamedNode::new_unchecked(s)
    }

    fn triple(s: &str, p: &str, o: impl Into<Term>) -> Triple {
        Triple::new(iri(s), iri(p), o)
    }

    fn int(n: i64) -> Literal {
        Literal::from(n)
    }

    fn lit(s: &str) -> Literal {
        Literal::new_simple_literal(s)
    }

    /// The extensions list with one slot holding `ext`.
    fn listed(ext: &str) -> Vec<Triple> {
        let slot = "http://test.m-ld.org/.well-known/genid/slot0";
        vec![
            triple(EXTENSIONS, RDF_TYPE, iri(list::RDF_LSEQ)),
            triple(EXTENSIONS, &format!("{}a", list::POS_ID_PREFIX), iri(slot)),
            triple(slot, list::ITEM, iri(ext)),
        ]
    }

    /// A `ShapeConstrained.declare(0, shape)` graph, with the shape's own triples.
    fn declared(shape: Vec<Triple>) -> Vec<Triple> {
        let mut triples = listed(SHAPE_CONSTRAINED);
        triples.extend([
            triple(SHAPE_CONSTRAINED, JS_REQUIRE, lit(SHACL_REQUIRE)),
            triple(SHAPE_CONSTRAINED, JS_MODULE, lit(SHACL_MODULE)),
            triple(SHAPE_CONSTRAINED, JS_CLASS, lit(SHAPE_CONSTRAINED_CLASS)),
            triple(
                SHAPE_CONSTRAINED,
                CONTROLLED_SHAPE,
                iri("http://test.m-ld.org/shape1"),
            ),
        ]);
        triples.extend(shape);
        triples
    }

    fn shape(props: &[(&str, Term)]) -> Vec<Triple> {
        props
            .iter()
            .map(|(p, o)| triple("http://test.m-ld.org/shape1", p, o.clone()))
            .collect()
    }

    fn read(triples: &[Triple]) -> Result<DeclaredExtensions, CoreError> {
        let refs: Vec<&Triple> = triples.iter().collect();
        DeclaredExtensions::read(&Graph::new(&refs))
    }

    fn op(triples: Vec<Triple>, agreed: bool) -> Operation {
        let time = TreeClock::genesis().ticked();
        Operation {
            from: 1,
            deletes: Vec::new(),
            inserts: triples
                .into_iter()
                .map(|t| (t, vec![time.hash()]))
                .collect(),
            agreed: agreed.then(|| (1, serde_json::Value::Bool(true))),
            principal: None,
            time,
        }
    }

    #[test]
    fn plain_data_declares_nothing() {
        let fred = [triple("http://test.m-ld.org/fred", NAME, lit("Fred"))];
        assert!(in_triples(&fred).is_none());
        let declared = read(&fred).unwrap();
        assert!(declared.shapes.is_empty());
        assert!(!declared.touched_by(&fred));
        assert!(declared.touched_by(&[triple(EXTENSIONS, NAME, lit("x"))]));
        assert!(in_operation(&op(fred.to_vec(), false)).is_none());
    }

    #[test]
    fn reads_a_declared_property_shape() {
        let triples = declared(shape(&[
            (SH_PATH, iri(NAME).into()),
            (SH_NAME, lit("Name").into()),
            (SH_MIN_COUNT, int(1).into()),
            (
                SH_MAX_COUNT,
                Literal::new_typed_literal("2", iri(XSD_DOUBLE)).into(),
            ),
        ]));
        let declared = read(&triples).unwrap();
        assert_eq!(
            declared.shapes,
            vec![ShapeDeclaration {
                id: iri("http://test.m-ld.org/shape1").into(),
                path: iri(NAME),
                names: vec!["Name".into()],
                min_count: Some(1),
                max_count: Some(2),
            }]
        );
        // Every subject read from is watched: the list, its slot, the extension, the shape.
        assert_eq!(declared.subjects.len(), 4);
        assert!(declared.touched_by(&shape(&[(SH_MAX_COUNT, int(3).into())])));
        assert!(in_triples(&triples).is_none());
    }

    #[test]
    fn concurrent_counts_merge_to_their_maximum() {
        let triples = declared(shape(&[
            (SH_PATH, iri(NAME).into()),
            (SH_MAX_COUNT, int(3).into()),
            (SH_MAX_COUNT, int(2).into()),
        ]));
        assert_eq!(read(&triples).unwrap().shapes[0].max_count, Some(3));
    }

    #[test]
    fn a_shape_without_a_path_is_a_node_shape_and_not_enforced() {
        let triples = declared(shape(&[(SH_MIN_COUNT, int(1).into())]));
        let declared = read(&triples).unwrap();
        assert!(declared.shapes.is_empty());
        assert!(declared.touched_by(&shape(&[(SH_PATH, iri(NAME).into())])));
    }

    #[test]
    fn other_extensions_are_refused_naming_them() {
        let statutes = "http://ext.m-ld.org/statutes/Statutory";
        let mut triples = listed(statutes);
        triples.push(triple(statutes, JS_REQUIRE, lit("@m-ld/m-ld/ext/statutes")));
        triples.push(triple(statutes, JS_CLASS, lit("Statutory")));
        let err = in_triples(&triples).unwrap();
        assert_eq!(err.status(), 5011);
        let message = err.to_string();
        assert!(message.contains(statutes), "{message}");
        assert!(message.contains("@m-ld/m-ld/ext/statutes"), "{message}");
        // The id alone does not make an extension: m-ld-js loads by module and class.
        assert!(in_triples(&listed(SHAPE_CONSTRAINED)).is_some());
        // A ShapeConstrained class from another module is another extension.
        let mut other = listed(SHAPE_CONSTRAINED);
        other.push(triple(SHAPE_CONSTRAINED, JS_REQUIRE, lit("my-shapes")));
        other.push(triple(SHAPE_CONSTRAINED, JS_CLASS, lit("ShapeConstrained")));
        assert!(in_triples(&other).is_some());
        // The ECMAScript module alone is enough.
        let mut esm = listed(SHAPE_CONSTRAINED);
        esm.push(triple(SHAPE_CONSTRAINED, JS_MODULE, lit(SHACL_MODULE)));
        esm.push(triple(SHAPE_CONSTRAINED, JS_CLASS, lit("ShapeConstrained")));
        assert!(in_triples(&esm).is_none());
        // Anything else on the list subject is refused.
        let err = in_triples(&[triple(EXTENSIONS, NAME, lit("x"))]).unwrap();
        assert!(err.to_string().contains("extensions"), "{err}");
    }

    #[test]
    fn unreadable_shapes_are_refused() {
        for bad in [
            shape(&[(SH_PATH, lit("name").into())]),
            shape(&[
                (SH_PATH, iri(NAME).into()),
                (SH_PATH, iri("http://x/y").into()),
            ]),
            shape(&[(SH_PATH, iri(NAME).into()), (SH_MAX_COUNT, int(-1).into())]),
            shape(&[(SH_PATH, iri(NAME).into()), (SH_MAX_COUNT, lit("1").into())]),
            shape(&[
                (SH_PATH, iri(NAME).into()),
                (
                    SH_MAX_COUNT,
                    Literal::new_typed_literal("1.5", iri(XSD_DOUBLE)).into(),
                ),
            ]),
            shape(&[
                (SH_PATH, iri(NAME).into()),
                (SH_MIN_COUNT, int(2).into()),
                (SH_MAX_COUNT, int(1).into()),
            ]),
        ] {
            let err = read(&declared(bad.clone())).unwrap_err();
            assert_eq!(err.status(), 5011, "{bad:?}: {err}");
            assert!(err.to_string().contains("shape1"), "{err}");
        }
    }

    #[test]
    fn agreements_are_recognised_in_operations() {
        let err = in_operation(&op(Vec::new(), true)).unwrap();
        assert!(err.to_string().contains("agreements"), "{err}");
        // Extensions depend on the state an operation meets, not on the operation alone ...
        assert!(in_operation(&op(listed(SHAPE_CONSTRAINED), false)).is_none());
        // ... but the list subject holds nothing else.
        let err = in_operation(&op(vec![triple(EXTENSIONS, NAME, lit("x"))], false)).unwrap();
        assert!(err.to_string().contains("extensions"), "{err}");
    }

    #[test]
    fn wire_errors_name_their_feature() {
        assert!(
            CoreError::UnrecognisedEncoding(3)
                .unsupported_feature()
                .is_some()
        );
        assert!(
            CoreError::UnrecognisedEncoding(9)
                .unsupported_feature()
                .is_none()
        );
        assert!(
            CoreError::UnsupportedUpdate("x".into())
                .unsupported_feature()
                .is_some()
        );
        assert!(
            CoreError::BadOperation("x".into())
                .unsupported_feature()
                .is_none()
        );
    }
}

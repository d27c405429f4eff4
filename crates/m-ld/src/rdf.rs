//! RDF import and export of a whole domain: N-Triples/N-Quads and Turtle, through `oxttl`.
//!
//! Owns the mapping between RDF documents and clone triples: blank nodes in imported data are
//! skolemised (m-ld stores named subjects only) and named graphs are refused (m-ld data is one
//! default graph). It must not evaluate json-rql.

use std::collections::HashMap;

use m_ld_jrql::Context;
use oxrdf::{GraphName, NamedNode, NamedOrBlankNode, Term, Triple};
use oxttl::{NQuadsParser, TurtleParser, TurtleSerializer};

use crate::MeldError;

/// An RDF syntax accepted by [`crate::MeldClone::import`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdfFormat {
    /// N-Triples or N-Quads (default graph only).
    NQuads,
    /// Turtle, with relative IRIs resolved against the domain's `@base`.
    Turtle,
}

/// Parses a document into triples, skolemising blank nodes with `genid`.
pub(crate) fn parse(
    format: RdfFormat,
    text: &str,
    context: &Context,
    genid: &mut dyn FnMut() -> String,
) -> Result<Vec<Triple>, MeldError> {
    let base = context.expand_iri("", false)?;
    let mut skolems: HashMap<String, NamedNode> = HashMap::new();
    let mut skolem = |label: &str| -> Result<NamedNode, MeldError> {
        if let Some(node) = skolems.get(label) {
            return Ok(node.clone());
        }
        let node = NamedNode::new(context.skolem_iri(&genid()))
            .map_err(|e| MeldError::RdfSyntax(e.to_string()))?;
        skolems.insert(label.to_owned(), node.clone());
        Ok(node)
    };
    let quads: Vec<oxrdf::Quad> = match format {
        RdfFormat::NQuads => NQuadsParser::new()
            .for_slice(text.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| MeldError::RdfSyntax(e.to_string()))?,
        RdfFormat::Turtle => TurtleParser::new()
            .with_base_iri(&base)
            .map_err(|e| MeldError::RdfSyntax(e.to_string()))?
            .for_slice(text.as_bytes())
            .map(|t| t.map(|t| t.in_graph(GraphName::DefaultGraph)))
            .collect::<Result<_, _>>()
            .map_err(|e| MeldError::RdfSyntax(e.to_string()))?,
    };
    let mut triples = Vec::with_capacity(quads.len());
    for quad in quads {
        if quad.graph_name != GraphName::DefaultGraph {
            return Err(MeldError::RdfSyntax(format!(
                "m-ld data has one default graph; found named graph {}",
                quad.graph_name
            )));
        }
        let subject = match quad.subject {
            NamedOrBlankNode::NamedNode(n) => n,
            NamedOrBlankNode::BlankNode(b) => skolem(b.as_str())?,
        };
        let object = match quad.object {
            Term::BlankNode(b) => Term::NamedNode(skolem(b.as_str())?),
            other => other,
        };
        triples.push(Triple::new(subject, quad.predicate, object));
    }
    Ok(triples)
}

/// Serialises triples as Turtle with the domain base as `@base` and its vocabulary as the empty prefix.
pub(crate) fn to_turtle(triples: &[Triple], context: &Context) -> Result<String, MeldError> {
    let base = context.expand_iri("", false)?;
    let vocab = context.expand_iri("", true)?;
    let mut serializer = TurtleSerializer::new()
        .with_base_iri(&base)
        .and_then(|s| s.with_prefix("", &vocab))
        .map_err(|e| MeldError::RdfSyntax(e.to_string()))?
        .for_writer(Vec::new());
    let mut sorted: Vec<&Triple> = triples.iter().collect();
    sorted.sort_unstable_by_key(|t| t.to_string());
    for t in sorted {
        serializer
            .serialize_triple(t)
            .map_err(|e| MeldError::RdfSyntax(e.to_string()))?;
    }
    let bytes = serializer
        .finish()
        .map_err(|e| MeldError::RdfSyntax(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| MeldError::RdfSyntax(e.to_string()))
}

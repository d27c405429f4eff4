//! Domain features this engine does not implement, recognised in data and operations.
//!
//! m-ld domains can use agreements (`agreed` operations), transport security (SECURE encoded
//! messages), shared datatypes (a third update element) and extensions declared in the domain
//! data (the `http://m-ld.org/extensions` list). A clone that took part in such a domain without
//! honouring the feature would silently diverge from its peers, so the engine refuses instead.
//! This module only recognises the features in values; the wire codec reports the encoded ones
//! ([`CoreError::unsupported_feature`]) and the clone decides what to do.

use oxrdf::{NamedOrBlankNodeRef, Triple};

use crate::CoreError;
use crate::operation::Operation;

/// The subject of the list of extensions declared in a domain's data.
pub const EXTENSIONS: &str = "http://m-ld.org/extensions";

/// The unsupported feature a set of triples declares, if any.
pub fn in_triples<'a>(triples: impl IntoIterator<Item = &'a Triple>) -> Option<CoreError> {
    triples
        .into_iter()
        .any(declares_extensions)
        .then(extensions_error)
}

/// The unsupported feature an operation uses, if any.
pub fn in_operation(op: &Operation) -> Option<CoreError> {
    if op.agreed.is_some() {
        return Some(CoreError::UnsupportedFeature("agreements".into()));
    }
    in_triples(op.deletes.iter().chain(&op.inserts).map(|(t, _)| t))
}

fn declares_extensions(triple: &Triple) -> bool {
    matches!(triple.subject.as_ref(), NamedOrBlankNodeRef::NamedNode(s) if s.as_str() == EXTENSIONS)
}

fn extensions_error() -> CoreError {
    CoreError::UnsupportedFeature(format!("extensions declared in its data (<{EXTENSIONS}>)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TreeClock;
    use oxrdf::{Literal, NamedNode};

    fn triple(s: &str) -> Triple {
        Triple::new(
            NamedNode::new_unchecked(s),
            NamedNode::new_unchecked("http://m-ld.org/RdfLseq/?=3a_______________"),
            Literal::new_simple_literal("x"),
        )
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
    fn plain_data_uses_no_feature() {
        assert!(in_triples(&[triple("http://test.m-ld.org/fred")]).is_none());
        assert!(in_operation(&op(vec![triple("http://test.m-ld.org/fred")], false)).is_none());
    }

    #[test]
    fn declared_extensions_and_agreements_are_recognised() {
        let err = in_triples(&[triple(EXTENSIONS)]).map(|e| e.status());
        assert_eq!(err, Some(5011));
        let err = in_operation(&op(vec![triple(EXTENSIONS)], false)).unwrap();
        assert!(err.to_string().contains("extensions"), "{err}");
        let err = in_operation(&op(Vec::new(), true)).unwrap();
        assert!(err.to_string().contains("agreements"), "{err}");
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

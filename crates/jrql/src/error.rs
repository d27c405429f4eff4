//! The crate's single error type, [`JrqlError`], and its mapping to m-ld error status codes.
//!
//! Owns only error values and their messages; must not touch patterns, graphs or contexts.

use std::error::Error;

/// Everything that can go wrong translating or evaluating json-rql.
///
/// Each variant has one meaning; [`JrqlError::status`] gives the m-ld error code a clone reports
/// for it. Messages name the offending key and (abridged) value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JrqlError {
    /// A json-rql or JSON-LD construct this engine does not support (m-ld 5011).
    #[error("Unsupported pattern: {key}: {detail}")]
    Unsupported {
        /// The json-rql key (or pattern kind) that is not supported.
        key: String,
        /// What about it is not supported.
        detail: String,
    },
    /// A pattern that is malformed, or is not a read or write of the kind requested (m-ld 4001).
    #[error("Pattern is not read or writeable: {0}")]
    BadPattern(String),
    /// An identifier that cannot be expanded to an absolute IRI (m-ld 4001).
    #[error("Pattern is not read or writeable: cannot resolve IRI {iri:?}: {reason}")]
    BadIri {
        /// The identifier as written.
        iri: String,
        /// Why it cannot be resolved.
        reason: String,
    },
    /// A JSON-LD `@context` that is malformed (m-ld 4001).
    #[error("Pattern is not read or writeable: invalid @context: {0}")]
    BadContext(String),
    /// A domain name that does not match m-ld's rules (m-ld 5000).
    #[error("Domain not specified or not valid: {0:?}")]
    InvalidDomain(String),
    /// The underlying graph failed while being read (m-ld 5000).
    #[error("Graph read failed: {0}")]
    Graph(#[source] Box<dyn Error + Send + Sync>),
    /// The query evaluator failed for a reason other than the graph (m-ld 5000).
    #[error("Query evaluation failed: {0}")]
    Evaluation(String),
}

impl JrqlError {
    /// The m-ld error status code for this error (`MeldErrorStatus`).
    pub fn status(&self) -> u16 {
        match self {
            JrqlError::Unsupported { .. } => 5011,
            JrqlError::BadPattern(_) | JrqlError::BadIri { .. } | JrqlError::BadContext(_) => 4001,
            JrqlError::InvalidDomain(_) | JrqlError::Graph(_) | JrqlError::Evaluation(_) => 5000,
        }
    }

    /// Shorthand for an [`JrqlError::Unsupported`] error.
    pub(crate) fn unsupported(key: impl Into<String>, detail: impl Into<String>) -> Self {
        JrqlError::Unsupported {
            key: key.into(),
            detail: detail.into(),
        }
    }

    /// Shorthand for a [`JrqlError::BadPattern`] error.
    pub(crate) fn bad(message: impl Into<String>) -> Self {
        JrqlError::BadPattern(message.into())
    }
}

/// Renders a JSON value for an error message, abridged to a readable length.
pub(crate) fn abridge(value: &serde_json::Value) -> String {
    const MAX: usize = 80;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        text
    } else {
        let mut cut: String = text.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_codes_follow_meld_error_status() {
        assert_eq!(JrqlError::unsupported("@optional", "x").status(), 5011);
        assert_eq!(JrqlError::bad("x").status(), 4001);
        assert_eq!(JrqlError::InvalidDomain("X".into()).status(), 5000);
        assert_eq!(JrqlError::Evaluation("x".into()).status(), 5000);
    }

    #[test]
    fn messages_name_the_key() {
        let e = JrqlError::unsupported("@orderBy", "not here");
        assert!(e.to_string().contains("@orderBy"));
    }

    #[test]
    fn abridge_cuts_long_values() {
        let long = json!("x".repeat(500));
        assert!(abridge(&long).chars().count() <= 81);
        assert_eq!(abridge(&json!({"a": 1})), r#"{"a":1}"#);
    }
}

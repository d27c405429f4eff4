//! [`RequestKind`]: what a json-rql request is (a read of some type, an ask, or a write), decided
//! once, from its keys, for the query layer ([`crate::read()`], [`crate::ask()`],
//! [`crate::write()`] and sub-queries in `@where`) and for every front end (CLI, clone
//! processes, HTTP APIs) alike.
//!
//! Owns only the classification; must not translate or validate the rest of the request (each
//! entry point checks its own keys and answers 4001 or 5011 for what it cannot take).

use crate::algebra;
use crate::error::{JrqlError, abridge};
use serde_json::{Map, Value};

/// The type of a json-rql read (a query with a result clause).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadKind {
    /// `@describe`: whole subjects, by id or variable.
    Describe,
    /// `@select`: rows of variable bindings (with `"@distinct": true`, de-duplicated).
    Select,
    /// `@distinct` as the result clause (json-rql's SELECT DISTINCT): de-duplicated rows.
    Distinct,
    /// `@construct`: subjects built from a template.
    Construct,
}

impl ReadKind {
    /// The json-rql key that names this read type.
    pub fn key(self) -> &'static str {
        match self {
            ReadKind::Describe => "@describe",
            ReadKind::Select => "@select",
            ReadKind::Distinct => "@distinct",
            ReadKind::Construct => "@construct",
        }
    }

    /// The read type of a JSON object, if it is a read. The first of `@describe`, `@select`,
    /// `@distinct` (not a boolean: that is the flag of a `@select`) and `@construct` decides.
    pub(crate) fn of_object(object: &Map<String, Value>) -> Option<ReadKind> {
        // Most objects are subjects with no keyword at all: no need to look further.
        if !object.keys().any(|k| k.starts_with('@')) {
            return None;
        }
        if algebra::has(object, "@describe") {
            Some(ReadKind::Describe)
        } else if algebra::has(object, "@select") {
            Some(ReadKind::Select)
        } else if algebra::get(object, "@distinct").is_some_and(|d| !d.is_boolean()) {
            Some(ReadKind::Distinct)
        } else if algebra::has(object, "@construct") {
            Some(ReadKind::Construct)
        } else {
            None
        }
    }
}

/// What a json-rql request asks of a clone, as the query layer decides it.
///
/// - [`RequestKind::Read`]: an object with a result clause, `@describe`, `@select`,
///   `@distinct` (json-rql's SELECT DISTINCT) or `@construct`; answered with subjects by
///   [`crate::read()`]. A result clause makes an object a read whatever else it has (the read
///   refuses keys it does not take, such as `@insert`, with 5011).
/// - [`RequestKind::Ask`]: an object with `@where` and no result clause and no `@insert`,
///   `@delete` or `@update` (json-rql's ASK); answered with a boolean by [`crate::ask()`].
/// - [`RequestKind::Write`]: anything else that is an object or an array: subjects, a
///   `@graph` group, or an update; applied by [`crate::write()`]. The empty object `{}` is
///   an (empty) write, as in m-ld-js.
///
/// A value that is neither a JSON object nor an array is not a request at all (4001).
///
/// ```
/// use m_ld_jrql::{ReadKind, RequestKind};
/// use serde_json::json;
///
/// let distinct = json!({ "@distinct": "?n", "@where": { "@id": "?s", "name": "?n" } });
/// assert_eq!(RequestKind::of(&distinct)?, RequestKind::Read(ReadKind::Distinct));
/// assert_eq!(RequestKind::of(&json!({ "@where": { "@id": "fred" } }))?, RequestKind::Ask);
/// assert_eq!(RequestKind::of(&json!({ "@id": "fred", "name": "Fred" }))?, RequestKind::Write);
/// assert_eq!(RequestKind::of(&json!("fred")).unwrap_err().status(), 4001);
/// # Ok::<(), m_ld_jrql::JrqlError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// A read, answered with subjects.
    Read(ReadKind),
    /// An ask, answered with whether its `@where` has a solution.
    Ask,
    /// A write, answered with nothing (its effect is an update).
    Write,
}

impl RequestKind {
    /// Classifies a request (see [`RequestKind`]). Fails with 4001 only if the request is
    /// neither a JSON object nor an array.
    pub fn of(request: &Value) -> Result<RequestKind, JrqlError> {
        match request {
            Value::Array(_) => Ok(RequestKind::Write),
            Value::Object(object) => Ok(RequestKind::of_object(object)),
            other => Err(JrqlError::bad(format!(
                "a request must be a JSON object or array, found {}",
                abridge(other)
            ))),
        }
    }

    pub(crate) fn of_object(object: &Map<String, Value>) -> RequestKind {
        if let Some(read) = ReadKind::of_object(object) {
            return RequestKind::Read(read);
        }
        let updates = ["@insert", "@delete", "@update"]
            .iter()
            .any(|k| algebra::has(object, k));
        if algebra::has(object, "@where") && !updates {
            RequestKind::Ask
        } else {
            RequestKind::Write
        }
    }

    /// Whether the request is a read (answered with subjects).
    pub fn is_read(self) -> bool {
        matches!(self, RequestKind::Read(_))
    }

    /// The read type, if the request is a read.
    pub fn read_kind(self) -> Option<ReadKind> {
        match self {
            RequestKind::Read(kind) => Some(kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(request: Value) -> RequestKind {
        RequestKind::of(&request).unwrap()
    }

    #[test]
    fn result_clauses_make_reads() {
        let read = |k| RequestKind::Read(k);
        assert_eq!(
            kind(json!({ "@describe": "fred" })),
            read(ReadKind::Describe)
        );
        assert_eq!(kind(json!({ "@select": "?s" })), read(ReadKind::Select));
        assert_eq!(kind(json!({ "@construct": {} })), read(ReadKind::Construct));
        assert_eq!(kind(json!({ "@distinct": "?s" })), read(ReadKind::Distinct));
        assert_eq!(
            kind(json!({ "@distinct": ["?s"] })),
            read(ReadKind::Distinct)
        );
        // The flag form belongs to a select; alone, it is not a result clause.
        assert_eq!(
            kind(json!({ "@select": "?s", "@distinct": true })),
            read(ReadKind::Select)
        );
        assert_eq!(
            kind(json!({ "@distinct": true, "@where": {} })),
            RequestKind::Ask
        );
        // A result clause wins over write keys (the read refuses them).
        assert_eq!(
            kind(json!({ "@insert": {}, "@select": "?s" })),
            read(ReadKind::Select)
        );
        assert_eq!(
            kind(json!({ "@describe": "a", "@construct": {} })),
            read(ReadKind::Describe)
        );
    }

    #[test]
    fn a_where_alone_is_an_ask_and_the_rest_writes() {
        assert_eq!(
            kind(json!({ "@where": { "@id": "fred" } })),
            RequestKind::Ask
        );
        assert_eq!(
            kind(json!({ "@context": {}, "@where": [], "@values": [] })),
            RequestKind::Ask
        );
        for write in [
            json!({ "@insert": {}, "@where": {} }),
            json!({ "@delete": {}, "@where": {} }),
            json!({ "@update": {}, "@where": {} }),
            json!({ "@id": "fred", "name": "Fred" }),
            json!({ "@graph": [] }),
            json!({}),
            json!([]),
            json!({ "name": "@select" }),
        ] {
            assert_eq!(kind(write.clone()), RequestKind::Write, "{write}");
        }
    }

    #[test]
    fn only_objects_and_arrays_are_requests() {
        for bad in [json!(null), json!(1), json!("x"), json!(true)] {
            assert_eq!(RequestKind::of(&bad).unwrap_err().status(), 4001);
        }
    }

    #[test]
    fn accessors() {
        assert!(RequestKind::Read(ReadKind::Construct).is_read());
        assert!(!RequestKind::Ask.is_read());
        assert_eq!(
            RequestKind::Read(ReadKind::Distinct).read_kind(),
            Some(ReadKind::Distinct)
        );
        assert_eq!(RequestKind::Write.read_kind(), None);
        assert_eq!(ReadKind::Distinct.key(), "@distinct");
    }
}

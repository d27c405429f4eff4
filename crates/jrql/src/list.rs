//! json-rql list syntax (docs/jrql.md §1.10): the IRIs of m-ld's default list representation and
//! the reading of `@list` values (arrays, index-keyed objects, variable keys, sub-index arrays).
//!
//! Owns only the syntax of lists; must not read a graph or compute positions. Index-addressed
//! inserts are written with intermediate predicates `data:application/mld-li,<index>[,<sub>]`,
//! which the engine core (`m_ld_core::list`) rewrites into position identifiers against the
//! clone's state before the write commits.

use crate::error::JrqlError;
use serde_json::Value;

/// A slot's entailed index (`@index`).
pub use m_ld_vocab::ns::JRQL_INDEX as INDEX;
/// A slot's item (`@item`).
pub use m_ld_vocab::ns::JRQL_ITEM as ITEM;
/// The prefix of intermediate index-insert predicates.
pub use m_ld_vocab::ns::LIST_INDEX_KEY_PREFIX as INDEX_KEY_PREFIX;
/// The prefix of position predicates (`L <RdfLseq/?=POSID> S`).
pub use m_ld_vocab::ns::RDF_LSEQ_POS_ID_PREFIX as POS_ID_PREFIX;

/// Where an item of a `@list` value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListIndex {
    /// A variable key (`"?"` is `None`).
    Var(Option<String>),
    /// A numeric index, with a sub-index for several items inserted at one index.
    At(usize, Option<usize>),
}

/// The intermediate predicate IRI of an insert at an index.
pub(crate) fn index_key_iri(index: usize, sub: Option<usize>) -> String {
    match sub {
        None => format!("{INDEX_KEY_PREFIX}{index}"),
        Some(sub) => format!("{INDEX_KEY_PREFIX}{index},{sub}"),
    }
}

/// A natural number key: `3`, `"3"`, `"3,1"` or `"data:application/mld-li,3[,1]"`.
fn index_key(key: &str) -> Option<(usize, Option<usize>)> {
    let key = key.strip_prefix(INDEX_KEY_PREFIX).unwrap_or(key);
    let natural = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<usize>().ok())
            .flatten()
    };
    match key.split_once(',') {
        None => natural(key).map(|i| (i, None)),
        Some((i, j)) => Some((natural(i)?, Some(natural(j)?))),
    }
}

/// The items of a `@list` value with their indexes. An array gives its positions; an object
/// gives its keys (numbers, numeric strings or variables); any other value is one item at 0.
/// When `sub_items` (writing), an array under a numeric key of an object is several items
/// inserted at that index, in order.
pub(crate) fn list_items(
    list: &Value,
    sub_items: bool,
) -> Result<Vec<(ListIndex, &Value)>, JrqlError> {
    match list {
        Value::Array(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, item)| (ListIndex::At(i, None), item))
            .collect()),
        Value::Object(object) if !is_item_object(object) => {
            let mut out = Vec::with_capacity(object.len());
            for (key, item) in object {
                if let Some(name) = key.strip_prefix('?') {
                    let name = (!name.is_empty()).then(|| name.to_string());
                    out.push((ListIndex::Var(name), item));
                    continue;
                }
                let Some((index, sub)) = index_key(key) else {
                    return Err(JrqlError::bad(format!(
                        "list index {key:?} is not a natural number or a variable"
                    )));
                };
                match item {
                    Value::Array(items) if sub_items && sub.is_none() => {
                        for (j, item) in items.iter().enumerate() {
                            out.push((ListIndex::At(index, Some(j)), item));
                        }
                    }
                    _ => out.push((ListIndex::At(index, sub), item)),
                }
            }
            Ok(out)
        }
        Value::Null => Ok(Vec::new()),
        other => Ok(vec![(ListIndex::At(0, None), other)]),
    }
}

/// Whether an object under `@list` is a single item (a subject, reference or value) rather
/// than an index-keyed object.
fn is_item_object(object: &serde_json::Map<String, Value>) -> bool {
    object.keys().any(|k| k.starts_with('@'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn index_keys() {
        assert_eq!(index_key("3"), Some((3, None)));
        assert_eq!(index_key("3,1"), Some((3, Some(1))));
        assert_eq!(index_key("data:application/mld-li,4"), Some((4, None)));
        assert_eq!(index_key("-1"), None);
        assert_eq!(index_key("x"), None);
        assert_eq!(index_key(""), None);
        assert_eq!(index_key_iri(2, Some(0)), "data:application/mld-li,2,0");
    }

    #[test]
    fn arrays_objects_and_atoms() {
        let list = json!(["a", "b"]);
        let items = list_items(&list, true).unwrap();
        assert_eq!(items[1], (ListIndex::At(1, None), &json!("b")));
        let list = json!({ "1": ["x", "y"], "?i": "z", "?": "w" });
        let items = list_items(&list, true).unwrap();
        assert_eq!(items[0], (ListIndex::At(1, Some(0)), &json!("x")));
        assert_eq!(items[1], (ListIndex::At(1, Some(1)), &json!("y")));
        assert_eq!(items[2], (ListIndex::Var(Some("i".into())), &json!("z")));
        assert_eq!(items[3], (ListIndex::Var(None), &json!("w")));
        // Matching: no sub-items.
        let list = json!({ "1": ["x", "y"] });
        assert_eq!(list_items(&list, false).unwrap().len(), 1);
        assert_eq!(
            list_items(&json!("a"), true).unwrap(),
            [(ListIndex::At(0, None), &json!("a"))]
        );
        assert!(list_items(&json!({ "x": 1 }), true).is_err());
        let item = json!({ "@id": "fred" });
        assert_eq!(list_items(&item, true).unwrap().len(), 1);
    }
}

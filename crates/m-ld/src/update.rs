//! [`MeldUpdate`]: what `follow` subscribers receive, in the exact m-ld-js JSON shape
//! `{"@ticks", "@delete", "@insert", "@update"}`.

use std::sync::Arc;

use oxrdf::Triple;
use serde_json::{Value, json};

/// An update as the engine hands it to `follow` subscribers, before rendering: the change to
/// the graph, and how it changed lists.
#[derive(Debug)]
pub(crate) struct Notice {
    pub(crate) update: m_ld_core::suset::Update,
    pub(crate) lists: m_ld_core::list::ListNotes,
}

/// One update to the clone's data, from a local write or a remote operation.
///
/// `delete` and `insert` hold *partial subjects*: only the properties that changed.
#[derive(Debug, Clone, PartialEq)]
pub struct MeldUpdate {
    /// The clone's local clock ticks at this update (as in `MeldStatus::ticks`).
    pub ticks: u64,
    /// Partial subjects whose properties were deleted.
    pub delete: Vec<Value>,
    /// Partial subjects whose properties were inserted.
    pub insert: Vec<Value>,
    /// Shared-datatype operations (always empty until shared datatypes are supported).
    pub update: Vec<Value>,
    /// The deleted triples, as RDF.
    pub deleted_triples: Arc<[Triple]>,
    /// The inserted triples, as RDF.
    pub inserted_triples: Arc<[Triple]>,
}

impl MeldUpdate {
    /// The m-ld JSON form, e.g.
    /// `{"@ticks":1,"@delete":[],"@insert":[{"@id":"fred","name":"Fred"}],"@update":[]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "@ticks": self.ticks,
            "@delete": self.delete,
            "@insert": self.insert,
            "@update": self.update,
        })
    }
}

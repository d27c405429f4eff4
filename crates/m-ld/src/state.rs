//! [`MeldReadState`]: an immutable, consistent view of a clone's data at one moment.
//!
//! A read state is a store snapshot: holding one never blocks writers (unlike m-ld-js, whose read
//! procedures hold a lock), and it never changes. It answers json-rql reads, the `get`/`ask`
//! helpers, triple-pattern matches and RDF exports. It must not write.

use std::sync::Arc;

use m_ld_core::CoreError;
use m_ld_core::store::{MemoryStore, Store, StoreSnapshot};
use m_ld_core::suset::DatasetState;
use m_ld_jrql::{Context, Graph};
use oxrdf::{NamedNode, Term, Triple};
use serde_json::Value;

use crate::MeldError;

/// Adapts a core dataset view to the json-rql [`Graph`] trait.
pub(crate) struct StateGraph<'a, T: StoreSnapshot>(pub(crate) &'a DatasetState<T>);

impl<T: StoreSnapshot> Graph for StateGraph<'_, T> {
    type Error = CoreError;

    fn triples(
        &self,
        s: Option<&NamedNode>,
        p: Option<&NamedNode>,
        o: Option<&Term>,
    ) -> Box<dyn Iterator<Item = Result<Triple, CoreError>> + '_> {
        let stored = self.0.triples(s, p, o);
        // List slot indexes are entailed from the list order, not stored.
        if p.is_some_and(|p| p.as_str() != m_ld_core::list::INDEX) {
            return Box::new(stored);
        }
        match m_ld_core::list::entailed_indexes(self.0, s, o) {
            Ok(entailed) => Box::new(stored.chain(entailed.into_iter().map(Ok))),
            Err(e) => Box::new(stored.chain(std::iter::once(Err(e)))),
        }
    }
}

/// An immutable view of a clone's data. Cheap to clone; safe to keep and to send between threads.
pub struct MeldReadState<S: Store = MemoryStore> {
    pub(crate) state: DatasetState<S::Snapshot>,
    pub(crate) context: Arc<Context>,
    pub(crate) ticks: u64,
}

impl<S: Store> Clone for MeldReadState<S> {
    fn clone(&self) -> Self {
        MeldReadState {
            state: self.state.clone(),
            context: Arc::clone(&self.context),
            ticks: self.ticks,
        }
    }
}

impl<S: Store> MeldReadState<S> {
    /// The clone's local clock ticks when this state was taken.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// The clone's JSON-LD context (domain defaults merged with the configured `@context`).
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Answers a json-rql read (`@describe`, `@select`, `@distinct` or `@construct`) with its
    /// result subjects.
    pub fn read(&self, request: &Value) -> Result<Vec<Value>, MeldError> {
        // json-rql applies a request's own `@context` over the clone's.
        Ok(m_ld_jrql::read(
            &StateGraph(&self.state),
            &self.context,
            request,
        )?)
    }

    /// Describes one subject by its `@id` (compact or absolute), or `None` if it has no properties.
    pub fn get(&self, id: &str) -> Result<Option<Value>, MeldError> {
        let iri = self.context.expand_iri(id, false)?;
        let node = NamedNode::new(iri).map_err(|e| MeldError::InvalidIri(e.to_string()))?;
        let mut found =
            m_ld_jrql::describe_subjects(&StateGraph(&self.state), &self.context, &[node])?;
        Ok(found.pop())
    }

    /// Whether a json-rql pattern (`{"@where": ...}`, json-rql's ASK, as m-ld-js
    /// `MeldReadState.ask`) has any solution; the empty pattern `{}` always has one.
    pub fn ask(&self, request: &Value) -> Result<bool, MeldError> {
        Ok(m_ld_jrql::ask(
            &StateGraph(&self.state),
            &self.context,
            request,
        )?)
    }

    /// Triples matching a pattern; `None` matches anything. Every pattern shape is served by an index.
    pub fn triples(
        &self,
        s: Option<&NamedNode>,
        p: Option<&NamedNode>,
        o: Option<&Term>,
    ) -> Result<Vec<Triple>, MeldError> {
        Ok(self.state.triples(s, p, o).collect::<Result<Vec<_>, _>>()?)
    }

    /// Every triple of the domain as N-Triples (m-ld data lives in the default graph), sorted so that
    /// equal datasets export equal text.
    pub fn to_ntriples(&self) -> Result<String, MeldError> {
        let mut lines: Vec<String> = self
            .state
            .triples(None, None, None)
            .map(|t| t.map(|t| format!("{t} .\n")))
            .collect::<Result<_, _>>()?;
        lines.sort_unstable();
        Ok(lines.concat())
    }

    /// Every triple of the domain as Turtle, with the domain's `@base`-relative prefixes.
    pub fn to_turtle(&self) -> Result<String, MeldError> {
        crate::rdf::to_turtle(&self.triples(None, None, None)?, &self.context)
    }
}

//! A minimal clone for tests: an in-memory graph, a domain context, and a counter for ids.

use m_ld_jrql::{Context, JrqlError, Patch};
use oxrdf::Graph;
use serde_json::{Value, json};

pub const DOMAIN: &str = "test.example.org";

pub struct TestClone {
    pub graph: Graph,
    pub ctx: Context,
    next_id: usize,
}

impl TestClone {
    pub fn new() -> Self {
        Self::with_context(None)
    }

    pub fn with_context(context: Option<Value>) -> Self {
        TestClone {
            graph: Graph::new(),
            ctx: Context::for_domain(DOMAIN, context.as_ref()).unwrap(),
            next_id: 0,
        }
    }

    /// Translates a write without applying it.
    pub fn patch(&mut self, request: Value) -> Result<Patch, JrqlError> {
        let next_id = &mut self.next_id;
        let mut genid = || {
            *next_id += 1;
            format!("g{next_id}")
        };
        m_ld_jrql::write(&self.graph, &self.ctx, &request, &mut genid)
    }

    /// Translates and applies a write.
    pub fn write(&mut self, request: Value) -> Patch {
        let patch = self
            .patch(request.clone())
            .unwrap_or_else(|e| panic!("{request}: {e}"));
        self.apply(&patch);
        patch
    }

    pub fn apply(&mut self, patch: &Patch) {
        for t in &patch.deletes {
            self.graph.remove(t);
        }
        for t in &patch.inserts {
            self.graph.insert(t);
        }
    }

    pub fn try_read(&self, request: Value) -> Result<Vec<Value>, JrqlError> {
        m_ld_jrql::read(&self.graph, &self.ctx, &request)
    }

    pub fn read(&self, request: Value) -> Vec<Value> {
        self.try_read(request.clone())
            .unwrap_or_else(|e| panic!("{request}: {e}"))
    }

    pub fn ask(&self, request: Value) -> bool {
        m_ld_jrql::ask(&self.graph, &self.ctx, &request)
            .unwrap_or_else(|e| panic!("{request}: {e}"))
    }

    pub fn describe(&self, id: &str) -> Vec<Value> {
        self.read(json!({ "@describe": id }))
    }

    /// Select rows without their synthetic `@id`s.
    pub fn select(&self, request: Value) -> Vec<Value> {
        self.read(request)
            .into_iter()
            .map(|mut row| {
                let id = row.as_object_mut().unwrap().shift_remove("@id").unwrap();
                assert!(id.as_str().unwrap().starts_with("_:"), "row @id {id}");
                row
            })
            .collect()
    }

    /// Rendered patch, as a `MeldUpdate`'s `@delete` and `@insert`.
    pub fn update_json(&self, patch: &Patch) -> Value {
        json!({
            "@delete": m_ld_jrql::render_update_subjects(&patch.deletes, &self.ctx, &[]),
            "@insert": m_ld_jrql::render_update_subjects(&patch.inserts, &self.ctx, &[]),
        })
    }
}

/// The Flintstones, as used throughout docs/jrql.md.
pub fn flintstones() -> TestClone {
    let mut clone = TestClone::new();
    clone.write(json!([
        { "@id": "fred", "@type": "Person", "name": "Fred", "age": 40,
          "nick": ["Freddy", "F"], "wife": { "@id": "wilma" } },
        { "@id": "wilma", "@type": ["Person", "Wife"], "name": "Wilma", "age": 38 },
        { "@id": "barney", "@type": "Person", "name": "Barney", "age": 39 }
    ]));
    clone
}

/// Sorts rows by their JSON text, for order-insensitive comparison.
pub fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by_key(|v| v.to_string());
    values
}

pub fn status(result: Result<impl std::fmt::Debug, JrqlError>) -> u16 {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.status(),
    }
}

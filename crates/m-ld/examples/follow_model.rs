//! Following a clone's updates into an app's own model: a map of subjects kept in step with the
//! domain from the `@delete` and `@insert` of each update, local and remote, then checked against
//! a fresh read.
//!
//! Run with `cargo run -p m-ld --example follow_model`.

// An example stops at the first surprise.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use m_ld::core::store::MemoryStore;
use m_ld::{InProcessDomain, MeldClone, MeldConfig, MeldError, MeldUpdate};
use serde_json::{Map, Value, json};

const DOMAIN: &str = "example.m-ld.org";

/// The app's model: each subject's properties, each a set of values.
#[derive(Default, Debug, PartialEq)]
struct Model(BTreeMap<String, BTreeMap<String, Vec<Value>>>);

impl Model {
    fn apply(&mut self, update: &MeldUpdate) {
        let json = update.to_json();
        for subject in json["@delete"].as_array().into_iter().flatten() {
            self.edit(subject, |values, value| values.retain(|v| v != value));
        }
        for subject in json["@insert"].as_array().into_iter().flatten() {
            self.edit(subject, |values, value| {
                if !values.contains(value) {
                    values.push(value.clone());
                }
            });
        }
        // Subjects with no properties left are gone.
        self.0.retain(|_, properties| {
            properties.retain(|_, values| !values.is_empty());
            !properties.is_empty()
        });
    }

    fn edit(&mut self, subject: &Value, mut change: impl FnMut(&mut Vec<Value>, &Value)) {
        let Some(id) = subject["@id"].as_str() else {
            return;
        };
        let properties = self.0.entry(id.to_owned()).or_default();
        for (property, values) in subject.as_object().into_iter().flatten() {
            if property == "@id" {
                continue;
            }
            let list = properties.entry(property.clone()).or_default();
            match values {
                Value::Array(values) => values.iter().for_each(|v| change(list, v)),
                value => change(list, value),
            }
        }
    }

    /// The model built from subjects as `@describe` renders them.
    fn of_subjects(subjects: &[Value]) -> Model {
        let mut model = Model::default();
        for subject in subjects {
            model.edit(subject, |values, value| values.push(value.clone()));
        }
        model
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), MeldError> {
    let domain = InProcessDomain::new();
    let open = |id: &str, genesis| {
        MeldClone::open_with_remotes(
            MemoryStore::new(),
            domain.remotes(id),
            MeldConfig::new(id, DOMAIN, genesis),
        )
    };
    let app = open("app", true).await?;
    let other = open("other", false).await?;
    let mut updates = app.follow()?;
    let mut model = Model::default();

    app.write(&json!({"@id": "fred", "name": "Fred", "tags": ["a", "b"]}))
        .await?;
    other
        .write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await?;
    // Once the other clone has Fred, it changes one of his tags.
    while other.get("fred").await?.is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    other
        .write(&json!({"@delete": {"@id": "fred", "tags": "a"}, "@insert": {"@id": "fred", "tags": "c"}}))
        .await?;
    // Three updates so far: one local, two remote (in the order they were applied here).
    for _ in 0..3 {
        let update = updates.next().await.expect("an update")?;
        println!("update {}", update.to_json());
        model.apply(&update);
    }
    // Now that the app has Wilma, it deletes her name.
    app.write(&json!({"@delete": {"@id": "wilma", "name": "Wilma"}}))
        .await?;
    let update = updates.next().await.expect("an update")?;
    println!("update {}", update.to_json());
    model.apply(&update);
    let mut subjects = Map::new();
    subjects.insert("@describe".into(), json!("?s"));
    subjects.insert("@where".into(), json!({"@id": "?s", "?p": "?o"}));
    let now = Model::of_subjects(&app.read(&Value::Object(subjects)).await?);
    println!("model {model:?}");
    assert_eq!(model, now, "the model follows the domain");
    assert_eq!(model.0["fred"]["tags"], vec![json!("b"), json!("c")]);
    app.close().await?;
    other.close().await
}

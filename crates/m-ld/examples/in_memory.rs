//! A clone held in memory: write subjects, read them back with `@describe` and `@select`, and
//! follow the updates.
//!
//! Run with `cargo run -p m-ld --example in_memory`.

// An example stops at the first surprise.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use m_ld::{MeldClone, MeldConfig, MeldError};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), MeldError> {
    // A genesis clone: the first (here, the only) clone of its domain.
    let clone = MeldClone::new(MeldConfig::new("alice", "example.m-ld.org", true)).await?;
    let mut updates = clone.follow()?;

    clone
        .write(&json!([
            {"@id": "fred", "name": "Fred", "age": 40, "wife": {"@id": "wilma"}},
            {"@id": "wilma", "name": "Wilma", "age": 38}
        ]))
        .await?;
    let update = updates.next().await.expect("an update")?;
    println!("update: {}", update.to_json());

    let fred = clone.read(&json!({"@describe": "fred"})).await?;
    println!("fred: {}", json!(fred));
    assert_eq!(fred[0]["wife"], json!({"@id": "wilma"}));

    // Who is older than 39?
    let rows = clone
        .read(&json!({
            "@select": "?name",
            "@where": {"@graph": {"@id": "?p", "name": "?name", "age": "?age"},
                       "@filter": {"@gt": ["?age", 39]}}
        }))
        .await?;
    println!("older than 39: {}", json!(rows));
    // Each row is a subject keyed by variable (with a blank `@id`, as m-ld-js renders rows).
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["?name"], json!("Fred"));

    // Change a value: delete the old one and insert the new one in one write.
    clone
        .write(&json!({"@update": {"@id": "fred", "age": 41}}))
        .await?;
    assert_eq!(clone.get("fred").await?.expect("fred")["age"], json!(41));
    clone.close().await
}

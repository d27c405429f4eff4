//! Importing Turtle into a clone, then querying it in json-rql and exporting it again.
//!
//! Run with `cargo run -p m-ld --example import_turtle`.

// An example stops at the first surprise.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use m_ld::{MeldClone, MeldConfig, MeldError, RdfFormat};
use serde_json::json;

const TURTLE: &str = r#"
@prefix : <http://example.m-ld.org/#> .
@prefix schema: <http://schema.org/> .

<fred> :name "Fred" ; :age 40 ; schema:knows <barney> .
<barney> :name "Barney" ; :age 38 .
"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), MeldError> {
    let clone = MeldClone::new(MeldConfig::new("importer", "example.m-ld.org", true)).await?;
    // Relative IRIs resolve against the domain's base (`http://example.m-ld.org/`).
    clone.import(RdfFormat::Turtle, TURTLE).await?;

    let rows = clone
        .read(&json!({
            "@select": ["?name", "?age"],
            "@where": {"@id": "?p", "name": "?name", "age": "?age"},
            "@orderBy": "?age"
        }))
        .await?;
    println!("people: {}", json!(rows));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["?name"], json!("Barney"));

    let fred = clone.get("fred").await?.expect("fred");
    println!("fred: {fred}");
    assert_eq!(fred["http://schema.org/knows"], json!({"@id": "barney"}));

    let turtle = clone.read_state()?.to_turtle()?;
    println!("exported:\n{turtle}");
    assert!(turtle.contains("Barney"));
    clone.close().await
}

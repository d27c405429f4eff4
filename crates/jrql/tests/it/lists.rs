//! Golden tests of json-rql list shapes (docs/jrql.md §1.10): what `@list` writes translate to
//! (slots with `@item`, intermediate index keys `data:application/mld-li,i[,j]` for the engine
//! to turn into positions), what list patterns match (positions and entailed `@index`es, here
//! written into the test graph by hand), and how lists are described.

use crate::support::*;
use serde_json::json;

const POS: &str = "http://m-ld.org/RdfLseq/?=";

/// The patch's triples as sorted N-Triples lines.
fn lines(triples: &[oxrdf::Triple]) -> Vec<String> {
    let mut lines: Vec<String> = triples.iter().map(|t| t.to_string()).collect();
    lines.sort();
    lines
}

fn iri(local: &str) -> String {
    format!("<http://{DOMAIN}/{local}>")
}

fn genid(n: usize) -> String {
    iri(&format!(".well-known/genid/g{n}"))
}

fn int(n: usize) -> String {
    format!("\"{n}\"^^<http://www.w3.org/2001/XMLSchema#integer>")
}

const ITEM: &str = "<http://json-rql.org/#item>";

fn key(index: &str) -> String {
    format!("<data:application/mld-li,{index}>")
}

#[test]
fn an_array_writes_slots_at_index_keys() {
    let mut clone = TestClone::new();
    let patch = clone
        .patch(json!({ "@id": "shopping", "@list": ["Bread", "Milk"] }))
        .unwrap();
    assert!(patch.deletes.is_empty());
    let mut expected = vec![
        format!("{} {} {}", iri("shopping"), key("0"), genid(1)),
        format!("{} {ITEM} \"Bread\"", genid(1)),
        format!("{} {} {}", iri("shopping"), key("1"), genid(2)),
        format!("{} {ITEM} \"Milk\"", genid(2)),
    ];
    expected.sort();
    assert_eq!(lines(&patch.inserts), expected);
}

#[test]
fn index_objects_sub_index_arrays_and_slots() {
    let mut clone = TestClone::new();
    let patch = clone
        .patch(json!({
            "@id": "shopping",
            "@list": { "2": ["Bread", "Jam"], "5": { "@id": "mySlot", "@item": "Milk" } }
        }))
        .unwrap();
    let mut expected = vec![
        format!("{} {} {}", iri("shopping"), key("2,0"), genid(1)),
        format!("{} {ITEM} \"Bread\"", genid(1)),
        format!("{} {} {}", iri("shopping"), key("2,1"), genid(2)),
        format!("{} {ITEM} \"Jam\"", genid(2)),
        format!("{} {} {}", iri("shopping"), key("5"), iri("mySlot")),
        format!("{} {ITEM} \"Milk\"", iri("mySlot")),
    ];
    expected.sort();
    assert_eq!(lines(&patch.inserts), expected);
}

#[test]
fn nested_arrays_are_nested_lists() {
    let mut clone = TestClone::new();
    let patch = clone
        .patch(json!({ "@id": "matrix", "@list": [["a"]] }))
        .unwrap();
    // matrix -0-> slot1 -@item-> nested list (skolem) -0-> slot2 -@item-> "a"
    let text = lines(&patch.inserts).join("\n");
    assert_eq!(patch.inserts.len(), 4, "{text}");
    assert!(text.contains(&format!("{} {} ", iri("matrix"), key("0"))));
    assert_eq!(text.matches(ITEM).count(), 2);
    assert!(text.contains("\"a\""));
    // A property value with @list is a nested list subject too.
    let patch = clone
        .patch(json!({ "@id": "fred", "likes": { "@list": ["x"] } }))
        .unwrap();
    assert_eq!(patch.inserts.len(), 3);
}

/// A graph holding `shopping` = [Bread, Milk, Spam] at hand-made positions, with the indexes
/// the engine would entail.
fn shopping() -> TestClone {
    let mut clone = TestClone::new();
    let slots = [
        ("s1", "3a", "Bread", 0),
        ("s2", "5a", "Milk", 1),
        ("s3", "7a", "Spam", 2),
    ];
    let mut subjects = vec![json!({ "@id": "shopping", "@type": "http://m-ld.org/RdfLseq" })];
    for (slot, pos, item, index) in slots {
        let pos = format!("{POS}{pos}_______________");
        subjects[0][pos] = json!({ "@id": slot });
        subjects.push(json!({ "@id": slot, "@item": item, "@index": index }));
    }
    let patch = clone.patch(json!(subjects)).unwrap();
    clone.apply(&patch);
    clone
}

#[test]
fn lists_are_described_in_position_order() {
    let clone = shopping();
    assert_eq!(
        clone.describe("shopping"),
        [json!({
            "@id": "shopping",
            "@type": "http://m-ld.org/RdfLseq",
            "@list": ["Bread", "Milk", "Spam"]
        })]
    );
    assert_eq!(
        clone.describe("s2"),
        [json!({ "@id": "s2", "@index": 1, "@item": "Milk" })]
    );
}

#[test]
fn deletes_by_index_and_by_value_match_positions() {
    let mut clone = shopping();
    let patch = clone
        .patch(json!({ "@delete": { "@id": "shopping", "@list": { "1": "?" } } }))
        .unwrap();
    let expected = vec![
        format!("{} <{POS}5a_______________> {}", iri("shopping"), iri("s2")),
        format!("{} <http://json-rql.org/#index> {}", iri("s2"), int(1)),
        format!("{} {ITEM} \"Milk\"", iri("s2")),
    ];
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(lines(&patch.deletes), expected_sorted);
    let patch = clone
        .patch(json!({ "@delete": { "@id": "shopping", "@list": { "?": "Spam" } } }))
        .unwrap();
    assert!(
        lines(&patch.deletes)
            .iter()
            .any(|l| l.contains("7a___") && l.contains(&iri("s3")))
    );
}

#[test]
fn replace_and_move_by_slot() {
    let mut clone = shopping();
    let patch = clone
        .patch(json!({
            "@delete": { "@id": "shopping", "@list": { "?i": "Bread" } },
            "@insert": { "@id": "shopping", "@list": { "?i": "Toast" } }
        }))
        .unwrap();
    // The position stays: only the item changes.
    assert_eq!(
        lines(&patch.deletes),
        [
            format!("{} <http://json-rql.org/#index> {}", iri("s1"), int(0)),
            format!("{} {ITEM} \"Bread\"", iri("s1")),
        ]
    );
    assert_eq!(
        lines(&patch.inserts),
        [format!("{} {ITEM} \"Toast\"", iri("s1"))]
    );
    let patch = clone
        .patch(json!({
            "@delete": { "@id": "shopping", "@list": { "1": { "@id": "?slot", "@item": "Milk" } } },
            "@insert": { "@id": "shopping", "@list": { "0": { "@id": "?slot", "@item": "Milk" } } }
        }))
        .unwrap();
    assert_eq!(
        lines(&patch.inserts),
        [format!("{} {} {}", iri("shopping"), key("0"), iri("s2"))]
    );
    assert!(
        lines(&patch.deletes)
            .iter()
            .any(|l| l.contains("5a___") && l.contains(&iri("s2")))
    );
}

#[test]
fn queries_by_index_item_and_slot() {
    let clone = shopping();
    assert_eq!(
        clone.select(json!({
            "@select": "?i", "@where": { "@id": "shopping", "@list": { "?i": "Spam" } }
        })),
        [json!({ "?i": 2 })]
    );
    assert_eq!(
        clone.select(json!({
            "@select": "?item", "@where": { "@id": "shopping", "@list": { "1": "?item" } }
        })),
        [json!({ "?item": "Milk" })]
    );
    assert_eq!(
        clone.select(json!({
            "@select": "?slot",
            "@where": { "@id": "shopping", "@list": { "?": { "@id": "?slot", "@item": "Bread" } } }
        })),
        [json!({ "?slot": { "@id": "s1" } })]
    );
    assert_eq!(
        clone.select(json!({
            "@select": "?list", "@where": { "@id": "?list", "@list": { "2": "Spam" } }
        })),
        [json!({ "?list": { "@id": "shopping" } })]
    );
}

#[test]
fn slot_keywords_render_in_updates() {
    let clone = shopping();
    let slot = clone
        .graph
        .iter()
        .filter(|t| t.subject.to_string() == iri("s1"))
        .map(|t| t.into_owned())
        .collect::<Vec<_>>();
    assert_eq!(
        m_ld_jrql::render_subjects(&slot, &clone.ctx),
        [json!({ "@id": "s1", "@index": 0, "@item": "Bread" })]
    );
}

#[test]
fn malformed_list_keys_are_bad_patterns() {
    let mut clone = TestClone::new();
    assert_eq!(
        status(clone.patch(json!({ "@id": "l", "@list": { "x": "a" } }))),
        4001
    );
    assert_eq!(
        status(clone.patch(json!({ "@id": "l", "@list": { "-1": "a" } }))),
        4001
    );
}

#[test]
fn construct_templates_show_lists_as_position_arrays() {
    let clone = shopping();
    let all = json!({
        "@id": "shopping",
        "@list": ["Bread", "Milk", "Spam"]
    });
    assert_eq!(
        clone.read(json!({ "@construct": { "@id": "shopping", "@list": { "?": "?" } } })),
        std::slice::from_ref(&all)
    );
    // One index gives a sparse list: a JS array with holes, null in JSON (as m-ld-js).
    assert_eq!(
        clone.read(json!({ "@construct": { "@id": "shopping", "@list": { "1": "?" } } })),
        [json!({ "@id": "shopping", "@list": [null, "Milk"] })]
    );
    // A fixed item matches where it is.
    assert_eq!(
        clone.read(json!({ "@construct": { "@id": "?list", "@list": { "?i": "Spam" } } })),
        [json!({ "@id": "shopping", "@list": [null, null, "Spam"] })]
    );
    // With a where clause binding the index and the item.
    assert_eq!(
        clone.read(json!({
            "@construct": { "@id": "shopping", "@list": { "?i": "?item" } },
            "@where": { "@id": "shopping", "@list": { "?i": "?item" } }
        })),
        [all]
    );
    // Slot templates give the slots.
    assert_eq!(
        clone.read(json!({
            "@construct": { "@id": "shopping", "@list": { "?": { "@id": "?slot", "@item": "?" } } }
        })),
        [json!({ "@id": "shopping", "@list": [
            { "@id": "s1", "@item": "Bread" },
            { "@id": "s2", "@item": "Milk" },
            { "@id": "s3", "@item": "Spam" }
        ] })]
    );
    // Other properties construct alongside.
    assert_eq!(
        clone.read(json!({
            "@construct": { "@id": "shopping", "@type": "?t", "@list": { "0": "?" } }
        })),
        [json!({ "@id": "shopping", "@type": "http://m-ld.org/RdfLseq", "@list": ["Bread"] })]
    );
    // A nested list template: the list subject is anonymous (a blank id), as in m-ld-js.
    let mut clone = clone;
    clone.write(json!({ "@id": "fred", "likes": { "@id": "shopping" } }));
    let nested = clone.read(json!({
        "@construct": { "@id": "fred", "likes": { "@list": { "2": "?" } } }
    }));
    assert_eq!(nested.len(), 1, "{nested:?}");
    assert!(
        nested[0]["likes"]["@id"]
            .as_str()
            .unwrap()
            .starts_with("_:")
    );
    assert_eq!(nested[0]["likes"]["@list"], json!([null, null, "Spam"]));
    // No solution, no subject (as m-ld-js).
    assert_eq!(
        clone.read(json!({ "@construct": { "@id": "shopping", "@list": { "7": "?" } } })),
        Vec::<serde_json::Value>::new()
    );
}

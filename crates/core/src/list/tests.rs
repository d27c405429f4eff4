//! Tests of the list rules: index rewriting, position conflicts, entailed indexes and notes.

use super::*;
use crate::clock::Tid;
use oxrdf::{Graph, NamedNodeRef, TermRef};

/// A plain graph as a constraint's view.
struct View(Graph);

impl ReadTriples for View {
    fn contains(&self, triple: &Triple) -> Result<bool, CoreError> {
        Ok(self.0.contains(triple))
    }

    fn matching<'a>(
        &'a self,
        s: Option<NamedOrBlankNodeRef<'a>>,
        p: Option<NamedNodeRef<'a>>,
        o: Option<TermRef<'a>>,
    ) -> Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'a> {
        Box::new(
            self.0
                .iter()
                .filter(move |t| {
                    s.is_none_or(|s| t.subject == s)
                        && p.is_none_or(|p| t.predicate == p)
                        && o.is_none_or(|o| t.object == o)
                })
                .map(|t| Ok(t.into_owned())),
        )
    }

    fn tids(&self, _: &Triple) -> Result<Vec<Tid>, CoreError> {
        Ok(Vec::new())
    }
}

impl View {
    fn apply(&mut self, patch: &Patch) {
        for t in &patch.deletes {
            self.0.remove(t);
        }
        for t in &patch.inserts {
            self.0.insert(t);
        }
    }

    /// The items of a list, in order.
    fn items(&self, list: &NamedNode) -> Vec<String> {
        list_slots(self, list)
            .unwrap()
            .iter()
            .map(|s| {
                let items = DefaultList::items(self, s.slot.as_ref().into()).unwrap();
                match items.as_slice() {
                    [t] => match &t.object {
                        Term::Literal(l) => l.value().to_string(),
                        other => other.to_string(),
                    },
                    _ => "?".into(),
                }
            })
            .collect()
    }
}

fn nn(s: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("http://test.m-ld.org/{s}"))
}

fn list() -> NamedNode {
    nn("shopping")
}

fn item(slot: &NamedNode, value: &str) -> Triple {
    Triple::new(
        slot.clone(),
        NamedNode::new_unchecked(ITEM),
        Literal::new_simple_literal(value),
    )
}

/// The intermediate triples of inserting `values` at `index` (sub-indexes when several).
fn insert_at(index: usize, values: &[&str], prefix: &str) -> Vec<Triple> {
    let mut out = Vec::new();
    for (j, v) in values.iter().enumerate() {
        let slot = nn(&format!("{prefix}{v}"));
        let sub = (values.len() > 1).then_some(j);
        out.push(Triple::new(list(), index_key(index, sub), slot.clone()));
        out.push(item(&slot, v));
    }
    out
}

fn write(view: &mut View, patch: Patch, site: &str) -> Patch {
    let rewritten = rewrite_local(view, patch, site).unwrap();
    view.apply(&rewritten);
    DefaultList::new().check(view, &rewritten).unwrap();
    rewritten
}

fn new_list(values: &[&str]) -> View {
    let mut view = View(Graph::new());
    let inserts = values
        .iter()
        .enumerate()
        .flat_map(|(i, v)| insert_at(i, &[v], "slot-"))
        .collect();
    write(
        &mut view,
        Patch {
            deletes: vec![],
            inserts,
        },
        "cloneA",
    );
    view
}

#[test]
fn index_keys_round_trip() {
    assert_eq!(
        index_key_of(index_key(3, None).as_str()).unwrap().unwrap(),
        (3, None)
    );
    assert_eq!(
        index_key_of(index_key(0, Some(2)).as_str())
            .unwrap()
            .unwrap(),
        (0, Some(2))
    );
    assert!(index_key_of("data:application/mld-li,x").unwrap().is_err());
    assert!(index_key_of("http://x/y").is_none());
}

#[test]
fn a_new_list_gets_a_type_and_the_captured_positions() {
    let view = new_list(&["Bread", "Milk"]);
    let slots = list_slots(&view, &list()).unwrap();
    let pos: Vec<&str> = slots.iter().map(|s| s.pos.as_str()).collect();
    assert_eq!(pos, ["3cloneA__________", "7cloneA__________"]);
    assert!(view.0.contains(&Triple::new(
        list(),
        NamedNode::new_unchecked(RDF_TYPE),
        NamedNode::new_unchecked(RDF_LSEQ)
    )));
    assert!(
        !view
            .0
            .iter()
            .any(|t| t.predicate.as_str().starts_with(INDEX_KEY_PREFIX))
    );
    assert_eq!(view.items(&list()), ["Bread", "Milk"]);
}

#[test]
fn inserts_by_index_go_between_neighbours() {
    let mut view = new_list(&["Bread", "Milk"]);
    let patch = write(
        &mut view,
        Patch {
            deletes: vec![],
            inserts: insert_at(1, &["Eggs"], "b-"),
        },
        "cloneB",
    );
    assert!(
        patch
            .inserts
            .iter()
            .any(|t| t.predicate.as_str() == format!("{POS_ID_PREFIX}4cloneB__________"))
    );
    assert_eq!(view.items(&list()), ["Bread", "Eggs", "Milk"]);
    // Beyond the end appends; several items at one index keep their sub-index order.
    write(
        &mut view,
        Patch {
            deletes: vec![],
            inserts: insert_at(10, &["Jam"], "c-"),
        },
        "cloneA",
    );
    write(
        &mut view,
        Patch {
            deletes: vec![],
            inserts: insert_at(0, &["X", "Y", "Z"], "d-"),
        },
        "cloneA",
    );
    assert_eq!(
        view.items(&list()),
        ["X", "Y", "Z", "Bread", "Eggs", "Milk", "Jam"]
    );
}

#[test]
fn indexes_are_entailed_from_the_order() {
    let view = new_list(&["Bread", "Milk", "Spam"]);
    let all = all_entailed_indexes(&view).unwrap();
    assert_eq!(all.len(), 3);
    let milk = nn("slot-Milk");
    assert_eq!(
        entailed_indexes(&view, Some(&milk), None).unwrap(),
        [index_triple(&milk, 1)]
    );
    let two = index_triple(&nn("slot-Spam"), 2).object;
    assert_eq!(
        entailed_indexes(&view, None, Some(&two)).unwrap(),
        [index_triple(&nn("slot-Spam"), 2)]
    );
    let text = Term::Literal(Literal::new_simple_literal("2"));
    assert!(
        entailed_indexes(&view, None, Some(&text))
            .unwrap()
            .is_empty()
    );
}

fn position_of(view: &View, slot: &NamedNode) -> Triple {
    view.0
        .iter()
        .find(|t| t.object == slot.as_ref().into() && pos_id_of(t.predicate.as_str()).is_some())
        .unwrap()
        .into_owned()
}

#[test]
fn deleting_a_position_deletes_the_slot_unless_it_moves() {
    let mut view = new_list(&["Bread", "Milk", "Spam"]);
    let bread = nn("slot-Bread");
    let milk = nn("slot-Milk");
    // Move Milk to the head: delete its position, insert it at index 0.
    let milk_at = position_of(&view, &milk);
    let patch = write(
        &mut view,
        Patch {
            deletes: vec![milk_at, index_triple(&milk, 1)],
            inserts: vec![Triple::new(list(), index_key(0, None), milk.clone())],
        },
        "cloneA",
    );
    assert!(!patch.deletes.iter().any(|t| t.predicate.as_str() == INDEX));
    assert_eq!(view.items(&list()), ["Milk", "Bread", "Spam"]);
    // Delete Bread: its item goes too.
    let bread_at = position_of(&view, &bread);
    let patch = write(
        &mut view,
        Patch {
            deletes: vec![bread_at],
            inserts: vec![],
        },
        "cloneA",
    );
    assert!(patch.deletes.contains(&item(&bread, "Bread")));
    assert_eq!(view.items(&list()), ["Milk", "Spam"]);
}

#[test]
fn a_slot_cannot_take_two_positions_locally() {
    let view = new_list(&["Bread", "Milk"]);
    let milk = nn("slot-Milk");
    let err = rewrite_local(
        &view,
        Patch {
            deletes: vec![],
            inserts: vec![Triple::new(list(), index_key(0, None), milk)],
        },
        "cloneA",
    )
    .unwrap_err();
    assert!(matches!(err, CoreError::ConstraintViolated(_)), "{err}");
}

#[test]
fn a_second_item_is_rejected_locally() {
    let mut view = new_list(&["Bread"]);
    let patch = Patch {
        deletes: vec![],
        inserts: vec![item(&nn("slot-Bread"), "Toast")],
    };
    view.apply(&patch);
    assert!(DefaultList::new().check(&view, &patch).is_err());
}

#[test]
fn concurrent_moves_keep_the_lowest_position() {
    let mut view = new_list(&["Bread", "Milk", "Spam"]);
    let milk = nn("slot-Milk");
    let old = position_of(&view, &milk);
    let ours = Triple::new(
        list(),
        NamedNode::new_unchecked(format!("{POS_ID_PREFIX}1cloneB__________")),
        milk.clone(),
    );
    let theirs = Triple::new(
        list(),
        NamedNode::new_unchecked(format!("{POS_ID_PREFIX}1cloneA__________")),
        milk.clone(),
    );
    view.apply(&Patch {
        deletes: vec![old],
        inserts: vec![ours.clone(), theirs.clone()],
    });
    let remote = Patch {
        deletes: vec![],
        inserts: vec![theirs.clone()],
    };
    let asserted = DefaultList::new().apply(&view, &remote).unwrap();
    assert_eq!(asserted.deletes, [ours]);
    view.apply(&asserted);
    assert_eq!(view.items(&list()), ["Milk", "Bread", "Spam"]);
}

#[test]
fn concurrent_items_keep_the_greatest() {
    let mut view = new_list(&["Bread"]);
    let bread = nn("slot-Bread");
    let toast = item(&bread, "Toast");
    view.apply(&Patch {
        deletes: vec![],
        inserts: vec![toast.clone()],
    });
    let asserted = DefaultList::new()
        .apply(
            &view,
            &Patch {
                deletes: vec![],
                inserts: vec![toast],
            },
        )
        .unwrap();
    assert_eq!(asserted.deletes, [item(&bread, "Bread")]);
    assert_eq!(
        item_order(&Literal::from(10).into(), &Literal::from(9).into()),
        Ordering::Greater
    );
}

#[test]
fn notes_place_positions_and_index_changes() {
    let before = new_list(&["Bread", "Milk"]);
    let mut after = View(before.0.clone());
    let patch = write(
        &mut after,
        Patch {
            deletes: vec![],
            inserts: insert_at(1, &["Eggs", "Jam"], "b-"),
        },
        "cloneB",
    );
    let got = notes(Some(&before), &after, &patch.deletes, &patch.inserts).unwrap();
    let at: Vec<(usize, usize)> = got.inserted.iter().map(|(_, i, j)| (*i, *j)).collect();
    assert_eq!(at, [(1, 0), (1, 1)]);
    assert!(got.deleted.is_empty());
    let milk = nn("slot-Milk");
    assert_eq!(got.index_deletes, [index_triple(&milk, 1)]);
    assert!(got.index_inserts.contains(&index_triple(&milk, 3)));
    assert!(got.index_inserts.contains(&index_triple(&nn("b-Eggs"), 1)));
    assert_eq!(got.index_inserts.len(), 3);

    // Deleting the head: its old index, and everyone after moves up.
    let bread = nn("slot-Bread");
    let bread_at = position_of(&after, &bread);
    let mut later = View(after.0.clone());
    let patch = write(
        &mut later,
        Patch {
            deletes: vec![bread_at.clone()],
            inserts: vec![],
        },
        "cloneA",
    );
    let got = notes(Some(&after), &later, &patch.deletes, &patch.inserts).unwrap();
    assert_eq!(got.deleted, [(bread_at, 0)]);
    assert!(got.index_deletes.contains(&index_triple(&bread, 0)));
    assert!(got.index_inserts.contains(&index_triple(&milk, 2)));
}

#[test]
fn inserts_beyond_the_end_keep_index_order() {
    let mut view = new_list(&["Bread"]);
    let inserts = [insert_at(20, &["B"], "x-"), insert_at(10, &["A"], "x-")].concat();
    write(
        &mut view,
        Patch {
            deletes: vec![],
            inserts,
        },
        "cloneA",
    );
    assert_eq!(view.items(&list()), ["Bread", "A", "B"]);
}

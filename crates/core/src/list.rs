//! The default list CRDT, `http://m-ld.org/RdfLseq` (docs/protocol.md §6.1–§6.3, m-ld-js
//! `DefaultList`).
//!
//! A list `L` has `rdf:type <http://m-ld.org/RdfLseq>`; each item sits in a slot `S`, with
//! `L <http://m-ld.org/RdfLseq/?=POSID> S` and `S <http://json-rql.org/#item> value`. Items
//! order by position identifier ([`PosId`]). A slot's index `S <http://json-rql.org/#index> n`
//! is entailed: it is never stored nor sent in operations, only computed from the order
//! ([`entailed_indexes`], [`all_entailed_indexes`]) for reads and for snapshots served to
//! m-ld-js clones.
//!
//! Owns the list rules over triples: [`rewrite_local`] turns index-addressed inserts (the
//! intermediate predicates `data:application/mld-li,<index>[,<sub-index>]` that json-rql writes
//! produce) into position identifiers against the current state, and [`DefaultList`] is the
//! [`Constraint`] that keeps `@item` single-valued and a slot in one position under concurrency.
//! It must not know json-rql syntax, and reads only through [`ReadTriples`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use oxrdf::{Literal, NamedNode, NamedOrBlankNode, NamedOrBlankNodeRef, Term, Triple};

use crate::CoreError;
use crate::constraint::{Constraint, ReadTriples};
use crate::lseq::PosId;
use crate::suset::Patch;

/// A slot's entailed index (`@index`).
pub use m_ld_vocab::ns::JRQL_INDEX as INDEX;
/// A slot's item (`@item`).
pub use m_ld_vocab::ns::JRQL_ITEM as ITEM;
/// The prefix of the intermediate predicates of index-addressed inserts:
/// `data:application/mld-li,<index>` or `data:application/mld-li,<index>,<sub-index>`.
pub use m_ld_vocab::ns::LIST_INDEX_KEY_PREFIX as INDEX_KEY_PREFIX;
/// The class of default lists.
pub use m_ld_vocab::ns::RDF_LSEQ;
/// The prefix of position predicates: `L <RdfLseq/?=POSID> S`.
pub use m_ld_vocab::ns::RDF_LSEQ_POS_ID_PREFIX as POS_ID_PREFIX;
use m_ld_vocab::ns::{RDF_TYPE, XSD_INTEGER};

/// The position identifier text in a position predicate, if it is one.
pub fn pos_id_of(predicate: &str) -> Option<&str> {
    predicate.strip_prefix(POS_ID_PREFIX)
}

/// The position predicate of a position identifier.
pub fn pos_predicate(pos: &PosId) -> Result<NamedNode, CoreError> {
    NamedNode::new(format!("{POS_ID_PREFIX}{pos}"))
        .map_err(|e| CoreError::BadPosId(format!("{pos:?} cannot be in an IRI: {e}")))
}

/// The `(index, sub-index)` of an intermediate index-insert predicate, if it is one.
pub fn index_key_of(predicate: &str) -> Option<Result<(usize, Option<usize>), CoreError>> {
    let rest = predicate.strip_prefix(INDEX_KEY_PREFIX)?;
    let parse = |s: &str| {
        s.parse::<usize>()
            .map_err(|_| CoreError::ConstraintViolated(format!("bad list index key {predicate:?}")))
    };
    Some(match rest.split_once(',') {
        None => parse(rest).map(|i| (i, None)),
        Some((i, j)) => parse(i).and_then(|i| parse(j).map(|j| (i, Some(j)))),
    })
}

/// The intermediate predicate of an insert at `index` (and `sub`-index, for several items
/// inserted at one index).
pub fn index_key(index: usize, sub: Option<usize>) -> NamedNode {
    NamedNode::new_unchecked(match sub {
        None => format!("{INDEX_KEY_PREFIX}{index}"),
        Some(sub) => format!("{INDEX_KEY_PREFIX}{index},{sub}"),
    })
}

/// An entailed index triple `S @index n`.
pub fn index_triple(slot: &NamedNode, index: usize) -> Triple {
    Triple::new(
        slot.clone(),
        NamedNode::new_unchecked(INDEX),
        Literal::new_typed_literal(index.to_string(), NamedNode::new_unchecked(XSD_INTEGER)),
    )
}

/// One position of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSlot {
    /// The position identifier, as stored (not necessarily well-formed).
    pub pos: String,
    /// The slot subject.
    pub slot: NamedNode,
}

fn collect<'a>(
    iter: Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'a>,
) -> Result<Vec<Triple>, CoreError> {
    iter.collect()
}

fn named(s: &NamedOrBlankNode) -> Option<&NamedNode> {
    match s {
        NamedOrBlankNode::NamedNode(n) => Some(n),
        NamedOrBlankNode::BlankNode(_) => None,
    }
}

/// The positions of a list, in list order (by position identifier string).
pub fn list_slots(state: &dyn ReadTriples, list: &NamedNode) -> Result<Vec<ListSlot>, CoreError> {
    let mut slots: Vec<ListSlot> = collect(state.matching(
        Some(NamedOrBlankNodeRef::NamedNode(list.as_ref())),
        None,
        None,
    ))?
    .into_iter()
    .filter_map(|t| {
        let pos = pos_id_of(t.predicate.as_str())?.to_string();
        match t.object {
            Term::NamedNode(slot) => Some(ListSlot { pos, slot }),
            _ => None,
        }
    })
    .collect();
    slots.sort_by(|a, b| a.pos.cmp(&b.pos).then_with(|| a.slot.cmp(&b.slot)));
    Ok(slots)
}

/// The lists (and positions) a slot occupies.
fn lists_of(state: &dyn ReadTriples, slot: &NamedNode) -> Result<Vec<NamedNode>, CoreError> {
    let mut lists: Vec<NamedNode> =
        collect(state.matching(None, None, Some(oxrdf::TermRef::NamedNode(slot.as_ref()))))?
            .into_iter()
            .filter(|t| pos_id_of(t.predicate.as_str()).is_some())
            .filter_map(|t| named(&t.subject).cloned())
            .collect();
    lists.sort();
    lists.dedup();
    Ok(lists)
}

/// The subjects typed as default lists.
fn all_lists(state: &dyn ReadTriples) -> Result<Vec<NamedNode>, CoreError> {
    let rdf_type = NamedNode::new_unchecked(RDF_TYPE);
    let lseq = Term::NamedNode(NamedNode::new_unchecked(RDF_LSEQ));
    let mut lists: Vec<NamedNode> =
        collect(state.matching(None, Some(rdf_type.as_ref()), Some(lseq.as_ref())))?
            .iter()
            .filter_map(|t| named(&t.subject).cloned())
            .collect();
    lists.sort();
    lists.dedup();
    Ok(lists)
}

fn push_indexes(
    state: &dyn ReadTriples,
    list: &NamedNode,
    only_slot: Option<&NamedNode>,
    object: Option<&Term>,
    out: &mut Vec<Triple>,
) -> Result<(), CoreError> {
    for (index, slot) in list_slots(state, list)?.iter().enumerate() {
        if only_slot.is_some_and(|s| *s != slot.slot) {
            continue;
        }
        let triple = index_triple(&slot.slot, index);
        if object.is_none_or(|o| *o == triple.object) && !out.contains(&triple) {
            out.push(triple);
        }
    }
    Ok(())
}

/// The entailed `S @index n` triples matching a subject and object pattern (`None` matches
/// anything): a slot's index is its position in the list's order.
pub fn entailed_indexes(
    state: &dyn ReadTriples,
    s: Option<&NamedNode>,
    o: Option<&Term>,
) -> Result<Vec<Triple>, CoreError> {
    if let Some(Term::Literal(l)) = o
        && l.datatype().as_str() != XSD_INTEGER
    {
        return Ok(Vec::new());
    }
    if matches!(o, Some(Term::NamedNode(_) | Term::BlankNode(_))) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    match s {
        Some(slot) => {
            // Only slots have indexes, and a slot has an item: one seek rules out other
            // subjects without scanning everything that refers to them.
            let item = NamedNode::new_unchecked(ITEM);
            let is_slot = state
                .matching(
                    Some(NamedOrBlankNodeRef::NamedNode(slot.as_ref())),
                    Some(item.as_ref()),
                    None,
                )
                .next()
                .transpose()?
                .is_some();
            if !is_slot {
                return Ok(out);
            }
            for list in lists_of(state, slot)? {
                push_indexes(state, &list, Some(slot), o, &mut out)?;
            }
        }
        None => {
            for list in all_lists(state)? {
                push_indexes(state, &list, None, o, &mut out)?;
            }
        }
    }
    Ok(out)
}

/// Every entailed index triple of every default list (for snapshots: m-ld-js clones do not
/// recompute them when they load one, docs/protocol.md §3.4).
pub fn all_entailed_indexes(state: &dyn ReadTriples) -> Result<Vec<Triple>, CoreError> {
    entailed_indexes(state, None, None)
}

/// One index-addressed insert of a local write.
#[derive(Debug)]
struct IndexInsert {
    index: usize,
    sub: Option<usize>,
    order: usize,
    slot: NamedNode,
}

/// The list changes of one local write, per list.
#[derive(Debug, Default)]
struct ListChanges {
    index_inserts: Vec<IndexInsert>,
    pos_inserts: Vec<(String, NamedNode)>,
    pos_deletes: HashSet<String>,
}

/// Rewrites a local write's list changes against the current `state` (docs/protocol.md §6.2, "Index
/// rewrite", check mode), for the clone whose id is `site`:
///
/// * inserts at an index (`L <data:application/mld-li,i[,j]> S`) get position identifiers between
///   their neighbours (`i` counts positions before the write; `i` beyond the end appends; `j`
///   orders several items at one index);
/// * a list without any type is typed as a default list;
/// * deleting a slot's position deletes the slot's properties too, unless the slot moves;
/// * entailed `@index` triples are dropped.
///
/// Fails if a slot would occupy two positions of a list.
pub fn rewrite_local(
    state: &dyn ReadTriples,
    patch: Patch,
    site: &str,
) -> Result<Patch, CoreError> {
    let is_list_change = |t: &Triple| {
        let p = t.predicate.as_str();
        p == INDEX || p.starts_with(POS_ID_PREFIX) || p.starts_with(INDEX_KEY_PREFIX)
    };
    if !patch
        .inserts
        .iter()
        .chain(&patch.deletes)
        .any(is_list_change)
    {
        return Ok(patch);
    }
    let Patch {
        mut deletes,
        inserts,
    } = patch;
    deletes.retain(|t| t.predicate.as_str() != INDEX);
    let mut changes: BTreeMap<NamedNode, ListChanges> = BTreeMap::new();
    let mut kept_inserts = Vec::with_capacity(inserts.len());
    for (order, t) in inserts.into_iter().enumerate() {
        let p = t.predicate.as_str();
        if p == INDEX {
            continue;
        }
        let Some(list) = named(&t.subject).cloned() else {
            kept_inserts.push(t);
            continue;
        };
        if let Some(key) = index_key_of(p) {
            let (index, sub) = key?;
            let Term::NamedNode(slot) = t.object else {
                return Err(CoreError::ConstraintViolated(format!(
                    "a list item at index {index} of <{list}> must be a slot"
                )));
            };
            changes
                .entry(list)
                .or_default()
                .index_inserts
                .push(IndexInsert {
                    index,
                    sub,
                    order,
                    slot,
                });
            continue;
        }
        if let (Some(pos), Term::NamedNode(slot)) = (pos_id_of(p), &t.object) {
            changes
                .entry(list)
                .or_default()
                .pos_inserts
                .push((pos.to_string(), slot.clone()));
        }
        kept_inserts.push(t);
    }
    for t in &deletes {
        if let (Some(list), Some(pos), Term::NamedNode(_)) = (
            named(&t.subject),
            pos_id_of(t.predicate.as_str()),
            &t.object,
        ) {
            changes
                .entry(list.clone())
                .or_default()
                .pos_deletes
                .insert(pos.to_string());
        }
    }
    let mut inserts = kept_inserts;
    for (list, change) in changes {
        rewrite_list(state, &list, change, site, &mut deletes, &mut inserts)?;
    }
    Ok(Patch { deletes, inserts })
}

fn rewrite_list(
    state: &dyn ReadTriples,
    list: &NamedNode,
    change: ListChanges,
    site: &str,
    deletes: &mut Vec<Triple>,
    inserts: &mut Vec<Triple>,
) -> Result<(), CoreError> {
    let existing = list_slots(state, list)?;
    let ListChanges {
        mut index_inserts,
        pos_inserts,
        pos_deletes,
    } = change;

    // A list with no type at all becomes a default list.
    if !index_inserts.is_empty() || !pos_inserts.is_empty() {
        let rdf_type = NamedNode::new_unchecked(RDF_TYPE);
        let typed = state
            .matching(
                Some(NamedOrBlankNodeRef::NamedNode(list.as_ref())),
                Some(rdf_type.as_ref()),
                None,
            )
            .next()
            .transpose()?
            .is_some()
            || inserts
                .iter()
                .any(|t| t.predicate == rdf_type && named(&t.subject) == Some(list));
        if !typed {
            inserts.push(Triple::new(
                list.clone(),
                rdf_type,
                NamedNode::new_unchecked(RDF_LSEQ),
            ));
        }
    }

    // Where every slot ends up: one position at most.
    let mut final_pos: HashMap<&NamedNode, String> = HashMap::new();
    for e in &existing {
        if !pos_deletes.contains(&e.pos) {
            final_pos.insert(&e.slot, e.pos.clone());
        }
    }
    let twice = |slot: &NamedNode| {
        CoreError::ConstraintViolated(format!(
            "slot <{slot}> cannot appear more than once in list <{list}>"
        ))
    };
    for (pos, slot) in &pos_inserts {
        match final_pos.get(slot) {
            Some(p) if p == pos => {}
            Some(_) => return Err(twice(slot)),
            None => {
                final_pos.insert(slot, pos.clone());
            }
        }
    }
    for insert in &index_inserts {
        if final_pos
            .insert(&insert.slot, format!("@{}", insert.index))
            .is_some()
        {
            return Err(twice(&insert.slot));
        }
    }

    // Deleted positions whose slot goes nowhere take the slot's properties with them.
    for e in &existing {
        if pos_deletes.contains(&e.pos) && !final_pos.contains_key(&e.slot) {
            for t in collect(state.matching(
                Some(NamedOrBlankNodeRef::NamedNode(e.slot.as_ref())),
                None,
                None,
            ))? {
                if !inserts.contains(&t) && !deletes.contains(&t) {
                    deletes.push(t);
                }
            }
        }
    }

    if index_inserts.is_empty() {
        return Ok(());
    }
    // Surviving positions, and explicitly inserted ones: the fixed points new ones go between.
    let surviving: Vec<(usize, &String)> = existing
        .iter()
        .enumerate()
        .filter(|(_, e)| !pos_deletes.contains(&e.pos))
        .map(|(i, e)| (i, &e.pos))
        .collect();
    let mut fixed: Vec<&String> = surviving.iter().map(|(_, p)| *p).collect();
    fixed.extend(pos_inserts.iter().map(|(p, _)| p));
    fixed.sort();
    fixed.dedup();

    // Group the inserts by the first surviving position at or after their index: each group
    // goes in one gap.
    index_inserts.sort_by_key(|insert| {
        (
            insert.index.min(existing.len()),
            insert.index,
            insert.sub,
            insert.order,
        )
    });
    let upper_of = |index: usize| surviving.iter().find(|(i, _)| *i >= index).map(|(_, p)| *p);
    let mut start = 0;
    while start < index_inserts.len() {
        let upper = upper_of(index_inserts[start].index);
        let mut end = start + 1;
        while end < index_inserts.len() && upper_of(index_inserts[end].index) == upper {
            end += 1;
        }
        let lower = match upper {
            Some(u) => fixed.iter().rev().find(|p| **p < u).copied(),
            None => fixed.last().copied(),
        };
        let parse = |p: Option<&String>| p.map(|p| PosId::parse(p)).transpose();
        let (lower, upper) = (parse(lower)?, parse(upper)?);
        let ids = PosId::between(lower.as_ref(), upper.as_ref(), site, end - start)?;
        for (insert, id) in index_inserts[start..end].iter().zip(ids) {
            inserts.push(Triple::new(
                list.clone(),
                pos_predicate(&id)?,
                insert.slot.clone(),
            ));
        }
        start = end;
    }
    Ok(())
}

/// JavaScript-like ordering of `@item` values for the single-valued rule (m-ld-js keeps the
/// greatest by `>`: numbers numerically, strings by code unit), made total for determinism.
fn item_order(a: &Term, b: &Term) -> Ordering {
    fn number(t: &Term) -> Option<f64> {
        let Term::Literal(l) = t else { return None };
        let local = l
            .datatype()
            .as_str()
            .strip_prefix("http://www.w3.org/2001/XMLSchema#")?;
        matches!(
            local,
            "integer" | "double" | "decimal" | "float" | "int" | "long"
        )
        .then(|| l.value().trim().parse().ok())
        .flatten()
    }
    match (a, b, number(a), number(b)) {
        (_, _, Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Term::Literal(x), Term::Literal(y), None, None) => x.value().cmp(y.value()),
        _ => Ordering::Equal,
    }
    .then_with(|| a.to_string().cmp(&b.to_string()))
}

/// The default list rules as a [`Constraint`] (m-ld-js `DefaultList`, always installed):
///
/// * `@item` is single-valued: a local write leaving a slot with two items is rejected; after a
///   remote operation, the greatest item is kept and the others' deletion asserted;
/// * after a remote operation, a slot at two positions of a list (concurrent moves) keeps the
///   lowest position and the others' deletion is asserted.
///
/// An engine that resolves `@item` conflicts with its own single-valued rule (to match m-ld-js's
/// value comparison exactly) installs [`DefaultList::positions_only`] next to it.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultList {
    positions_only: bool,
}

impl DefaultList {
    /// Both rules: single-valued `@item` and one position per slot.
    pub fn new() -> Self {
        DefaultList::default()
    }

    /// Only the one-position-per-slot rule; `@item` is left to another constraint.
    pub fn positions_only() -> Self {
        DefaultList {
            positions_only: true,
        }
    }

    fn items(
        state: &dyn ReadTriples,
        slot: NamedOrBlankNodeRef<'_>,
    ) -> Result<Vec<Triple>, CoreError> {
        let item = NamedNode::new_unchecked(ITEM);
        collect(state.matching(Some(slot), Some(item.as_ref()), None))
    }
}

fn is_item(t: &Triple) -> bool {
    t.predicate.as_str() == ITEM
}

impl Constraint for DefaultList {
    fn check(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<(), CoreError> {
        if self.positions_only {
            return Ok(());
        }
        let mut seen = HashSet::new();
        for t in patch.inserts.iter().filter(|t| is_item(t)) {
            if !seen.insert(&t.subject) {
                continue;
            }
            if Self::items(state, t.subject.as_ref())?.len() > 1 {
                return Err(CoreError::ConstraintViolated(format!(
                    "a list slot has one item: {} would have several",
                    t.subject
                )));
            }
        }
        Ok(())
    }

    fn apply(&self, state: &dyn ReadTriples, patch: &Patch) -> Result<Patch, CoreError> {
        let mut asserted = Patch::default();
        let mut seen = HashSet::new();
        let items = patch
            .inserts
            .iter()
            .filter(|t| !self.positions_only && is_item(t));
        for t in items {
            if !seen.insert(&t.subject) {
                continue;
            }
            let mut items = Self::items(state, t.subject.as_ref())?;
            if items.len() > 1 {
                items.sort_by(|a, b| item_order(&a.object, &b.object));
                items.pop();
                asserted.deletes.extend(items);
            }
        }
        let mut seen = HashSet::new();
        for t in &patch.inserts {
            let (Some(list), Some(_), Term::NamedNode(slot)) = (
                named(&t.subject),
                pos_id_of(t.predicate.as_str()),
                &t.object,
            ) else {
                continue;
            };
            if !seen.insert((list, slot)) {
                continue;
            }
            let mut positions: Vec<Triple> = collect(state.matching(
                Some(NamedOrBlankNodeRef::NamedNode(list.as_ref())),
                None,
                Some(oxrdf::TermRef::NamedNode(slot.as_ref())),
            ))?
            .into_iter()
            .filter(|p| pos_id_of(p.predicate.as_str()).is_some())
            .collect();
            if positions.len() > 1 {
                positions.sort_by(|a, b| a.predicate.as_str().cmp(b.predicate.as_str()));
                asserted.deletes.extend(positions.into_iter().skip(1));
            }
        }
        Ok(asserted)
    }
}

/// What an update notification needs to show list changes as m-ld-js does (docs/jrql.md §1.10):
/// where each changed position sits, and the entailed index changes of the affected slots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListNotes {
    /// Each deleted position triple `L P S`, with the slot's index before the update.
    pub deleted: Vec<(Triple, usize)>,
    /// Each inserted position triple `L P S`, with the index (in the list before the update)
    /// it was inserted at, and its order among the positions inserted there.
    pub inserted: Vec<(Triple, usize, usize)>,
    /// Slot indexes the update removed (`S @index old`).
    pub index_deletes: Vec<Triple>,
    /// Slot indexes the update entailed (`S @index new`).
    pub index_inserts: Vec<Triple>,
}

impl ListNotes {
    /// Whether the update changed no list.
    pub fn is_empty(&self) -> bool {
        self.deleted.is_empty() && self.inserted.is_empty()
    }
}

fn position_of(t: &Triple) -> Option<(&NamedNode, &str, &NamedNode)> {
    match (
        named(&t.subject),
        pos_id_of(t.predicate.as_str()),
        &t.object,
    ) {
        (Some(list), Some(pos), Term::NamedNode(slot)) => Some((list, pos, slot)),
        _ => None,
    }
}

/// The list notes of an update that deleted `deletes` and inserted `inserts`, from the states
/// before (if known) and after it.
pub fn notes(
    before: Option<&dyn ReadTriples>,
    after: &dyn ReadTriples,
    deletes: &[Triple],
    inserts: &[Triple],
) -> Result<ListNotes, CoreError> {
    let mut notes = ListNotes::default();
    let lists: BTreeMap<&NamedNode, ()> = deletes
        .iter()
        .chain(inserts)
        .filter_map(position_of)
        .map(|(list, _, _)| (list, ()))
        .collect();
    for list in lists.keys() {
        let old = match before {
            Some(before) => list_slots(before, list)?,
            None => Vec::new(),
        };
        let new = list_slots(after, list)?;
        // Lookups by slot and by position: a list change can touch every slot of a long list.
        let by_slot = |slots: &[ListSlot]| -> HashMap<NamedNode, usize> {
            slots
                .iter()
                .enumerate()
                .map(|(i, s)| (s.slot.clone(), i))
                .collect()
        };
        let (old_at, new_at) = (by_slot(&old), by_slot(&new));
        let old_by_pos: HashMap<(&str, &NamedNode), usize> = old
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.pos.as_str(), &s.slot), i))
            .collect();
        for t in deletes {
            if let Some((l, pos, slot)) = position_of(t)
                && l == *list
                && let Some(&i) = old_by_pos.get(&(pos, slot))
            {
                notes.deleted.push((t.clone(), i));
            }
        }
        // `old` is in position order: how many positions come before `pos`.
        let before_pos = |pos: &str| old.partition_point(|s| s.pos.as_str() < pos);
        let mut added: Vec<(usize, &str, &Triple)> = inserts
            .iter()
            .filter_map(|t| {
                let (l, pos, _) = position_of(t)?;
                (l == *list).then(|| (before_pos(pos), pos, t))
            })
            .collect();
        added.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut sub = 0;
        for (n, (at, _, t)) in added.iter().enumerate() {
            sub = if n > 0 && added[n - 1].0 == *at {
                sub + 1
            } else {
                0
            };
            notes.inserted.push(((*t).clone(), *at, sub));
        }
        // Index changes: every slot of the list when the old order is known, else the slots
        // just inserted.
        let mut slots: Vec<&NamedNode> = Vec::new();
        if before.is_some() {
            slots.extend(old.iter().map(|s| &s.slot));
            slots.extend(new.iter().map(|s| &s.slot));
        } else {
            slots.extend(
                added
                    .iter()
                    .filter_map(|(_, _, t)| position_of(t).map(|p| p.2)),
            );
        }
        let mut seen = HashSet::new();
        for slot in slots {
            if !seen.insert(slot) {
                continue;
            }
            let (was, now) = (old_at.get(slot).copied(), new_at.get(slot).copied());
            if was != now {
                if let Some(i) = was {
                    notes.index_deletes.push(index_triple(slot, i));
                }
                if let Some(i) = now {
                    notes.index_inserts.push(index_triple(slot, i));
                }
            }
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests;

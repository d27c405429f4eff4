//! The working set of one SU-Set transaction: TID changes staged over a store snapshot.
//!
//! Owns the overlay that lets a transaction (local write, remote operation, constraint
//! assertions) read its own staged changes, and turns them into one atomic [`Batch`]. It must not
//! write to the store, tick clocks or journal anything: `suset` does that.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use oxrdf::{NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple};

use crate::CoreError;
use crate::clock::Tid;
use crate::constraint::ReadTriples;
use crate::keys::{self, NsTable, TripleKeys};
use crate::store::{Batch, StoreSnapshot};

/// One triple touched by the transaction.
pub(crate) struct Touched {
    pos: Vec<u8>,
    osp: Vec<u8>,
    /// Whether the triple was in the graph before the transaction.
    existed: bool,
    /// Its TIDs before the transaction.
    before: Vec<Tid>,
    /// Its TIDs now (sorted, unique); the triple is in the graph iff this is non-empty.
    pub now: Vec<Tid>,
}

impl Touched {
    /// Adds a TID, keeping the set sorted; returns whether it was new.
    pub fn add(&mut self, tid: Tid) -> bool {
        match self.now.binary_search(&tid) {
            Ok(_) => false,
            Err(i) => {
                self.now.insert(i, tid);
                true
            }
        }
    }

    /// Whether the triple is in the graph now.
    pub fn present(&self) -> bool {
        !self.now.is_empty()
    }
}

/// Staged changes to triples and their TIDs, over a snapshot.
pub(crate) struct Working<'s, T: StoreSnapshot> {
    snap: &'s T,
    /// The namespace table, including namespaces added by this transaction.
    pub ns: NsTable,
    new_ns: Vec<u32>,
    touched: HashMap<Vec<u8>, Touched>,
}

impl<'s, T: StoreSnapshot> Working<'s, T> {
    pub fn new(snap: &'s T, ns: NsTable) -> Self {
        Self {
            snap,
            ns,
            new_ns: Vec::new(),
            touched: HashMap::new(),
        }
    }

    /// The staged state of a triple, loading it from the snapshot on first touch. With
    /// `register`, the triple's namespaces are added to the table first (for triples that may be
    /// written); without it, a triple of unknown namespaces simply reads as absent.
    pub fn entry(&mut self, triple: &Triple, register: bool) -> Result<&mut Touched, CoreError> {
        if register {
            let new_ns = &mut self.new_ns;
            self.ns
                .register_triple(triple.as_ref(), |id, _| new_ns.push(id));
        }
        let TripleKeys { spo, pos, osp } = TripleKeys::new(triple.as_ref(), &self.ns)?;
        match self.touched.entry(spo) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let stored = self.snap.get(e.key())?;
                let existed = stored.is_some();
                let before = match stored {
                    Some(v) => keys::decode_tids(&v)?,
                    None => Vec::new(),
                };
                Ok(e.insert(Touched {
                    pos,
                    osp,
                    existed,
                    now: before.clone(),
                    before,
                }))
            }
        }
    }

    /// A read-only view of the snapshot with the staged changes applied.
    pub fn view(&self) -> WorkingView<'_, 's, T> {
        WorkingView { w: self }
    }

    /// The store writes for the staged changes, and the change in the triple count.
    pub fn into_batch(self) -> (Batch, i64) {
        let mut batch = Batch::new();
        let mut delta = 0i64;
        for id in &self.new_ns {
            if let Some(name) = self.ns.name(*id) {
                batch.put(keys::ns_key(*id), name.as_bytes().to_vec());
            }
        }
        for (spo, t) in self.touched {
            match (t.existed, t.present()) {
                // (An entry stored without TIDs that nothing changed is left alone.)
                (true, false) if t.now != t.before => {
                    batch.delete(spo);
                    batch.delete(t.pos);
                    batch.delete(t.osp);
                    delta -= 1;
                }
                (false, true) => {
                    batch.put(spo, keys::encode_tids(&t.now));
                    batch.put(t.pos, Vec::new());
                    batch.put(t.osp, Vec::new());
                    delta += 1;
                }
                (true, true) if t.now != t.before => {
                    batch.put(spo, keys::encode_tids(&t.now));
                }
                _ => {}
            }
        }
        (batch, delta)
    }

    fn staged(&self, triple: &Triple) -> Result<Option<&Touched>, CoreError> {
        let mut key = Vec::with_capacity(64);
        key.push(keys::SPO);
        keys::write_triple(&mut key, triple.as_ref(), &self.ns)?;
        Ok(self.touched.get(&key))
    }
}

/// [`ReadTriples`] over a [`Working`] set: what constraints see.
pub(crate) struct WorkingView<'w, 's, T: StoreSnapshot> {
    w: &'w Working<'s, T>,
}

impl<T: StoreSnapshot> ReadTriples for WorkingView<'_, '_, T> {
    fn contains(&self, triple: &Triple) -> Result<bool, CoreError> {
        Ok(!self.tids(triple)?.is_empty())
    }

    fn matching<'a>(
        &'a self,
        s: Option<NamedOrBlankNodeRef<'a>>,
        p: Option<NamedNodeRef<'a>>,
        o: Option<TermRef<'a>>,
    ) -> Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'a> {
        let prefix = match keys::pattern_prefix(s, p, o, &self.w.ns) {
            Ok(prefix) => prefix,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        let ns = &self.w.ns;
        let stored = self.w.snap.scan_prefix(&prefix).filter_map(move |r| {
            let t = r.and_then(|(k, _)| keys::triple_of_key(&k, ns));
            match t {
                Ok(t) => match self.w.staged(&t) {
                    Ok(Some(staged)) if !staged.present() => None,
                    Ok(_) => Some(Ok(t)),
                    Err(e) => Some(Err(e)),
                },
                Err(e) => Some(Err(e)),
            }
        });
        let added = self.w.touched.iter().filter_map(move |(spo, t)| {
            if t.existed || !t.present() {
                return None;
            }
            let triple = match keys::triple_of_key(spo, ns) {
                Ok(triple) => triple,
                Err(e) => return Some(Err(e)),
            };
            let hit = s.is_none_or(|s| triple.subject.as_ref() == s)
                && p.is_none_or(|p| triple.predicate.as_ref() == p)
                && o.is_none_or(|o| triple.object.as_ref() == o);
            hit.then_some(Ok(triple))
        });
        Box::new(stored.chain(added))
    }

    fn tids(&self, triple: &Triple) -> Result<Vec<Tid>, CoreError> {
        if let Some(staged) = self.w.staged(triple)? {
            return Ok(staged.now.clone());
        }
        let mut key = Vec::with_capacity(64);
        key.push(keys::SPO);
        keys::write_triple(&mut key, triple.as_ref(), &self.w.ns)?;
        match self.w.snap.get(&key)? {
            Some(v) => keys::decode_tids(&v),
            None => Ok(Vec::new()),
        }
    }
}

//! The working set of one SU-Set transaction: TID changes staged over a store snapshot.
//!
//! Owns the overlay that lets a transaction (local write, remote operation, constraint
//! assertions) read its own staged changes, and turns them into one atomic [`Batch`]. It must not
//! write to the store, tick clocks or journal anything: `suset` does that.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use foldhash::HashMap;
use oxrdf::{NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple};

use crate::CoreError;
use crate::clock::Tid;
use crate::constraint::ReadTriples;
use crate::keys::{self, NsTable};
use crate::store::{Batch, Key, StoreSnapshot, Value};

/// One triple touched by the transaction.
pub(crate) struct Touched {
    spo: Key,
    /// The ends of the subject's and the predicate's encodings in `spo`.
    ends: [usize; 2],
    /// Its stored TID set before the transaction, if the triple was stored.
    before: Option<Value>,
    /// Its TIDs now; the triple is in the graph iff this is non-empty.
    now: TidSet,
}

/// A triple's TIDs, without a heap allocation for the common single TID. New TIDs are added in
/// order; stored sets keep their stored order.
#[derive(Debug, Clone, Default)]
enum TidSet {
    #[default]
    Empty,
    One(Tid),
    Many(Vec<Tid>),
}

impl TidSet {
    fn from_vec(mut tids: Vec<Tid>) -> TidSet {
        match tids.len() {
            0 => TidSet::Empty,
            1 => tids.pop().map_or(TidSet::Empty, TidSet::One),
            _ => TidSet::Many(tids),
        }
    }

    fn as_slice(&self) -> &[Tid] {
        match self {
            TidSet::Empty => &[],
            TidSet::One(tid) => std::slice::from_ref(tid),
            TidSet::Many(tids) => tids,
        }
    }

    fn into_vec(self) -> Vec<Tid> {
        match self {
            TidSet::Empty => Vec::new(),
            TidSet::One(tid) => vec![tid],
            TidSet::Many(tids) => tids,
        }
    }
}

impl Touched {
    /// Adds a TID, keeping the set sorted; returns whether it was new.
    pub fn add(&mut self, tid: Tid) -> bool {
        let many = match &mut self.now {
            TidSet::Empty => {
                self.now = TidSet::One(tid);
                return true;
            }
            TidSet::One(one) if *one == tid => return false,
            TidSet::One(one) => vec![*one],
            TidSet::Many(tids) => std::mem::take(tids),
        };
        let mut many = many;
        let added = match many.binary_search(&tid) {
            Ok(_) => false,
            Err(i) => {
                many.insert(i, tid);
                true
            }
        };
        self.now = TidSet::from_vec(many);
        added
    }

    /// Whether the triple is in the graph now.
    pub fn present(&self) -> bool {
        !self.now.as_slice().is_empty()
    }

    /// Whether the triple has a TID now.
    pub fn has(&self, tid: &Tid) -> bool {
        self.now.as_slice().contains(tid)
    }

    /// The triple's TIDs now.
    pub fn tids(&self) -> &[Tid] {
        self.now.as_slice()
    }

    /// Removes and returns all the triple's TIDs.
    pub fn take(&mut self) -> Vec<Tid> {
        std::mem::take(&mut self.now).into_vec()
    }

    /// Keeps only the TIDs for which `keep` holds.
    pub fn retain(&mut self, keep: impl FnMut(&Tid) -> bool) {
        let mut tids = self.take();
        tids.retain(keep);
        self.now = TidSet::from_vec(tids);
    }
}

/// Staged changes to triples and their TIDs, over a snapshot.
pub(crate) struct Working<'s, T: StoreSnapshot> {
    /// Borrowed for one transaction, or owned by a join that spans many receipts.
    snap: Cow<'s, T>,
    /// The namespace table, including namespaces added by this transaction.
    pub ns: NsTable,
    new_ns: Vec<u32>,
    /// The touched triples, in order of first touch.
    touched: Vec<Touched>,
    /// The position in `touched` of each triple's `S` key.
    index: HashMap<Key, usize>,
    /// Working space for key encoding.
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

impl<T: StoreSnapshot> Working<'static, T> {
    /// A working set that owns its snapshot, to be kept across awaits.
    pub fn owning(snap: T, ns: NsTable) -> Self {
        Self::over(Cow::Owned(snap), ns)
    }
}

impl<'s, T: StoreSnapshot> Working<'s, T> {
    pub fn new(snap: &'s T, ns: NsTable) -> Self {
        Self::over(Cow::Borrowed(snap), ns)
    }

    fn over(snap: Cow<'s, T>, ns: NsTable) -> Self {
        Self {
            snap,
            ns,
            new_ns: Vec::new(),
            touched: Vec::new(),
            index: HashMap::default(),
            buf: Vec::with_capacity(64),
            scratch: Vec::with_capacity(64),
        }
    }

    /// Registers the namespaces of a triple that is not staged (say, of an operation kept beside
    /// the data), so that its stored form can use them.
    pub fn register(&mut self, triple: &Triple) {
        let new_ns = &mut self.new_ns;
        self.ns
            .register_triple(triple.as_ref(), |id, _| new_ns.push(id));
    }

    /// Makes room for `n` more touched triples.
    pub fn reserve(&mut self, n: usize) {
        self.touched.reserve(n);
        self.index.reserve(n);
    }

    /// The staged state of a triple, loading it from the snapshot on first touch. With
    /// `register`, the triple's namespaces are added to the table first (for triples that may be
    /// written); without it, a triple of unknown namespaces simply reads as absent.
    pub fn entry(&mut self, triple: &Triple, register: bool) -> Result<&mut Touched, CoreError> {
        let buf = &mut self.buf;
        buf.clear();
        buf.push(keys::SPO);
        let added = register.then_some(&mut self.new_ns);
        let ends = keys::write_spo(buf, triple.as_ref(), &mut self.ns, added)?;
        let spo: Key = Arc::from(&buf[..]);
        let i = match self.index.entry(spo) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let spo = e.key().clone();
                let before = self.snap.get(&spo)?;
                let now = match &before {
                    Some(v) => TidSet::from_vec(keys::decode_tids(v)?),
                    None => TidSet::Empty,
                };
                let i = self.touched.len();
                self.touched.push(Touched {
                    spo,
                    ends,
                    before,
                    now,
                });
                *e.insert(i)
            }
        };
        Ok(&mut self.touched[i])
    }

    /// A read-only view of the snapshot with the staged changes applied.
    pub fn view(&self) -> WorkingView<'_, 's, T> {
        WorkingView {
            w: self,
            added: std::cell::OnceCell::new(),
        }
    }

    /// The store writes for the staged changes, and the change in the triple count. (It fails
    /// only on an internal inconsistency of a key's encoding.)
    /// `extra` is room to leave for the caller's own operations.
    pub fn into_batch(self, extra: usize) -> Result<(Batch, i64), CoreError> {
        let mut batch = Batch::with_capacity(self.new_ns.len() + 3 * self.touched.len() + extra);
        let mut delta = 0i64;
        for id in &self.new_ns {
            if let Some(name) = self.ns.name(*id) {
                batch.put(keys::ns_key(*id), name.as_bytes().to_vec());
            }
        }
        let empty: Value = Arc::from(&[][..]);
        let mut tids = self.scratch;
        let mut buf = self.buf;
        // TID sets repeat (a local write gives every triple its one TID): share their values.
        let mut shared: Value = empty.clone();
        let mut value = |tids: &[u8]| {
            if *shared != *tids {
                shared = Value::from(tids);
            }
            shared.clone()
        };
        drop(self.index);
        for t in self.touched {
            let present = t.present();
            let spo = t.spo;
            tids.clear();
            for tid in t.now.as_slice() {
                keys::write_tid(&mut tids, tid);
            }
            match t.before {
                // Unchanged (including an entry stored without TIDs that nothing changed).
                Some(before) if *before == tids[..] => {}
                Some(_) if !present => {
                    let (pos, osp) = keys::pos_osp_keys(&spo, t.ends, &mut buf)?;
                    batch.delete(spo);
                    batch.delete(pos);
                    batch.delete(osp);
                    delta -= 1;
                }
                Some(_) => batch.put(spo, value(&tids)),
                None if !present => {}
                None => {
                    let (pos, osp) = keys::pos_osp_keys(&spo, t.ends, &mut buf)?;
                    batch.put(spo, value(&tids));
                    batch.put(pos, empty.clone());
                    batch.put(osp, empty.clone());
                    delta += 1;
                }
            }
        }
        Ok((batch, delta))
    }

    fn staged(&self, triple: &Triple) -> Result<Option<&Touched>, CoreError> {
        let mut key = Vec::with_capacity(64);
        key.push(keys::SPO);
        keys::write_triple(&mut key, triple.as_ref(), &self.ns)?;
        Ok(self.index.get(&key[..]).map(|&i| &self.touched[i]))
    }
}

/// [`ReadTriples`] over a [`Working`] set: what constraints see.
pub(crate) struct WorkingView<'w, 's, T: StoreSnapshot> {
    w: &'w Working<'s, T>,
    /// The `S` keys of the triples the transaction adds, sorted, with their `touched` positions.
    /// Built on the first match: constraints match once per affected subject, and a scan of every
    /// touched triple each time would make large transactions quadratic.
    added: std::cell::OnceCell<Vec<(&'w [u8], usize)>>,
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
        // Added triples: by key range when the pattern's prefix is an `S` key, else all.
        let added = self.added.get_or_init(|| {
            let mut added: Vec<(&[u8], usize)> = self
                .w
                .touched
                .iter()
                .enumerate()
                .filter(|(_, t)| t.before.is_none() && t.present())
                .map(|(i, t)| (&t.spo[..], i))
                .collect();
            added.sort_unstable();
            added
        });
        let range = if prefix.first() == Some(&keys::SPO) {
            let from = added.partition_point(|(k, _)| *k < &prefix[..]);
            let to = from
                + added[from..]
                    .iter()
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .count();
            &added[from..to]
        } else {
            &added[..]
        };
        let added = range.iter().filter_map(move |&(_, i)| {
            let t = &self.w.touched[i];
            let triple = match keys::triple_of_key(&t.spo, ns) {
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
            return Ok(staged.tids().to_vec());
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

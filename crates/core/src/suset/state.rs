//! [`DatasetState`]: an immutable view of a clone's triples and their TIDs.
//!
//! Owns pattern matching over the three triple indexes of a store snapshot. It must not write
//! anything; holding a state never blocks the SU-Set's writers.

use oxrdf::{NamedNode, NamedNodeRef, NamedOrBlankNodeRef, Term, TermRef, Triple};

use crate::CoreError;
use crate::clock::Tid;
use crate::constraint::ReadTriples;
use crate::keys::{self, NsTable};
use crate::store::StoreSnapshot;

/// An immutable view of the dataset at one moment: triples and their TIDs.
#[derive(Debug, Clone)]
pub struct DatasetState<T: StoreSnapshot> {
    snap: T,
    ns: NsTable,
    len: u64,
}

impl<T: StoreSnapshot> DatasetState<T> {
    pub(crate) fn new(snap: T, ns: NsTable, len: u64) -> Self {
        Self { snap, ns, len }
    }

    /// The underlying store snapshot.
    pub fn snapshot(&self) -> &T {
        &self.snap
    }

    /// The namespace table of the view.
    pub(crate) fn ns(&self) -> &NsTable {
        &self.ns
    }

    /// The triples matching a pattern of IRIs (`None` is a variable). Every shape is one prefix
    /// scan of one index.
    pub fn triples<'a>(
        &'a self,
        s: Option<&NamedNode>,
        p: Option<&NamedNode>,
        o: Option<&Term>,
    ) -> impl Iterator<Item = Result<Triple, CoreError>> + use<'a, T> {
        self.matching(
            s.map(|s| NamedOrBlankNodeRef::NamedNode(s.as_ref())),
            p.map(NamedNode::as_ref),
            o.map(Term::as_ref),
        )
    }

    /// The triples matching a pattern of any subject, predicate and object terms.
    pub fn matching<'a>(
        &'a self,
        s: Option<NamedOrBlankNodeRef<'_>>,
        p: Option<NamedNodeRef<'_>>,
        o: Option<TermRef<'_>>,
    ) -> impl Iterator<Item = Result<Triple, CoreError>> + use<'a, T> {
        let (err, prefix) = match keys::pattern_prefix(s, p, o, &self.ns) {
            Ok(prefix) => (None, Some(prefix)),
            Err(e) => (Some(e), None),
        };
        let ns = &self.ns;
        let scan = prefix.map(|prefix| self.snap.scan_prefix(&prefix));
        err.map(Err).into_iter().chain(
            scan.into_iter()
                .flatten()
                .map(move |r| r.and_then(|(k, _)| keys::triple_of_key(&k, ns))),
        )
    }

    /// Every triple with its TIDs, in subject order.
    pub fn triples_with_tids<'a>(
        &'a self,
    ) -> impl Iterator<Item = Result<(Triple, Vec<Tid>), CoreError>> + use<'a, T> {
        let ns = &self.ns;
        self.snap.scan_prefix(&[keys::SPO]).map(move |r| {
            let (k, v) = r?;
            Ok((keys::triple_of_key(&k, ns)?, keys::decode_tids(&v)?))
        })
    }

    /// Whether the triple is in the graph.
    pub fn contains(&self, triple: &Triple) -> Result<bool, CoreError> {
        Ok(self.snap.get(&self.spo_key(triple)?)?.is_some())
    }

    /// The TIDs of a triple: empty if it is not in the graph.
    pub fn tids(&self, triple: &Triple) -> Result<Vec<Tid>, CoreError> {
        match self.snap.get(&self.spo_key(triple)?)? {
            Some(v) => keys::decode_tids(&v),
            None => Ok(Vec::new()),
        }
    }

    /// The number of triples in the graph.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn spo_key(&self, triple: &Triple) -> Result<Vec<u8>, CoreError> {
        let mut key = Vec::with_capacity(64);
        key.push(keys::SPO);
        keys::write_triple(&mut key, triple.as_ref(), &self.ns)?;
        Ok(key)
    }
}

impl<T: StoreSnapshot> ReadTriples for DatasetState<T> {
    fn contains(&self, triple: &Triple) -> Result<bool, CoreError> {
        DatasetState::contains(self, triple)
    }

    fn matching<'a>(
        &'a self,
        s: Option<NamedOrBlankNodeRef<'a>>,
        p: Option<NamedNodeRef<'a>>,
        o: Option<TermRef<'a>>,
    ) -> Box<dyn Iterator<Item = Result<Triple, CoreError>> + 'a> {
        Box::new(DatasetState::matching(self, s, p, o))
    }

    fn tids(&self, triple: &Triple) -> Result<Vec<Tid>, CoreError> {
        DatasetState::tids(self, triple)
    }
}

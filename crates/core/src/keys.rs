//! The on-store byte layout of a clone: key spaces, the compact term encoding, triple index keys
//! and TID-set values.
//!
//! Owns every key prefix and the binary forms stored under them, so that the layout is decided in
//! one place. It must not touch a [`Store`](crate::store::Store) itself, nor know about clocks
//! beyond a [`Tid`]'s bytes: the `suset` and `journal` modules do the reading and writing.
//!
//! # Layout (format version 1)
//!
//! | key | value |
//! |---|---|
//! | `0x00` | the metadata record (see `suset::meta`) |
//! | `0x01` + u32 BE id | a namespace IRI of the [`NsTable`] |
//! | `S` + enc(s) enc(p) enc(o) | the triple's TID set ([`encode_tids`]) |
//! | `P` + enc(p) enc(o) enc(s) | empty |
//! | `O` + enc(o) enc(s) enc(p) | empty |
//! | `J` + u64 BE local tick | a journal entry (see `journal`) |
//! | `T` + TID bytes | u64 BE local tick of the journal entry holding the operation with that TID |
//! | `X` + TID bytes | a past operation received in a snapshot (not a journal entry) |
//!
//! A triple is in the graph iff its `S` key exists; the three index keys are always written and
//! removed together. Each of the eight triple pattern shapes is one prefix scan of one index
//! (`S?O` uses `O`, `?PO` uses `P`).
//!
//! # Term encoding
//!
//! Each term is a tag byte followed by LEB128 lengths and raw UTF-8, so the encoding is
//! prefix-free (self-delimiting): the encoding of a term is never a proper prefix of another's,
//! which is what makes `enc(s)` a correct prefix for "subject = s". IRIs are split after their
//! last `/`, `#` or `:`; the namespace part is replaced by a small id from the [`NsTable`] when
//! it has one. Literals of the common XSD datatypes have their own tags. The encoding is
//! canonical for a given table: a namespace is added on its first use and never removed, and once
//! the table is full no namespace is added, so an IRI always encodes the same way.

use std::sync::Arc;

use foldhash::HashMap;

use oxrdf::vocab::xsd;
use oxrdf::{
    BlankNode, Literal, LiteralRef, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef,
    Term, TermRef, Triple, TripleRef,
};

use crate::CoreError;
use crate::clock::Tid;
use crate::store::Key;

/// Key of the metadata record.
pub const META_KEY: &[u8] = &[0x00];
/// Prefix of namespace table entries.
pub const NS_PREFIX: u8 = 0x01;
/// Prefix of the subject-predicate-object index (its values are TID sets).
pub const SPO: u8 = b'S';
/// Prefix of the predicate-object-subject index.
pub const POS: u8 = b'P';
/// Prefix of the object-subject-predicate index.
pub const OSP: u8 = b'O';
/// Prefix of journal entries, keyed by local tick.
pub const JOURNAL: u8 = b'J';
/// Prefix of the TID → journal tick index.
pub const TID_TICK: u8 = b'T';
/// Prefix of past operations from a snapshot, keyed by TID.
pub const PAST_OP: u8 = b'X';

/// `rdf:JSON` (only named by oxrdf under its `rdf-12` feature).
const RDF_JSON: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON");

/// The most namespaces a table holds; later namespaces are stored inline.
pub const MAX_NAMESPACES: usize = 1024;

// Term tags. Never renumber: they are stored.
const T_IRI_NS: u8 = 1;
const T_IRI: u8 = 2;
const T_BNODE: u8 = 3;
const T_STRING: u8 = 4;
const T_LANG: u8 = 5;
const T_TYPED: u8 = 6;
const T_INTEGER: u8 = 7;
const T_DECIMAL: u8 = 8;
const T_DOUBLE: u8 = 9;
const T_BOOLEAN: u8 = 10;
const T_DATE_TIME: u8 = 11;
const T_DATE: u8 = 12;
const T_JSON: u8 = 13;

fn corrupt(what: &str) -> CoreError {
    CoreError::Corrupt(what.to_string())
}

// ---------------------------------------------------------------------------------------------
// Integers

/// Appends `n` as unsigned LEB128.
pub fn write_varint(buf: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// Reads an unsigned LEB128 integer, advancing `input`.
pub fn read_varint(input: &mut &[u8]) -> Result<u64, CoreError> {
    let mut n: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input
            .split_first()
            .ok_or_else(|| corrupt("truncated varint"))?;
        *input = rest;
        let bits = u64::from(b & 0x7F);
        if shift == 63 && bits > 1 {
            return Err(corrupt("varint overflow"));
        }
        n |= bits << shift;
        if b & 0x80 == 0 {
            return Ok(n);
        }
    }
    Err(corrupt("varint overflow"))
}

/// Reads a varint that must fit a `usize` length.
pub fn read_len(input: &mut &[u8]) -> Result<usize, CoreError> {
    usize::try_from(read_varint(input)?).map_err(|_| corrupt("length overflow"))
}

/// Splits `n` bytes off the front of `input`.
pub fn read_bytes<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], CoreError> {
    if input.len() < n {
        return Err(corrupt("truncated bytes"));
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

/// Appends a length-prefixed byte string.
pub fn write_lp(buf: &mut Vec<u8>, bytes: &[u8]) {
    write_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Reads a length-prefixed byte string.
pub fn read_lp<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], CoreError> {
    let n = read_len(input)?;
    read_bytes(input, n)
}

/// Reads a length-prefixed UTF-8 string.
pub fn read_str<'a>(input: &mut &'a [u8]) -> Result<&'a str, CoreError> {
    std::str::from_utf8(read_lp(input)?).map_err(|_| corrupt("invalid UTF-8"))
}

/// Reads one byte.
pub fn read_u8(input: &mut &[u8]) -> Result<u8, CoreError> {
    Ok(read_bytes(input, 1)?[0])
}

/// A key of a one-byte prefix and `n` in an order-preserving compact form: a byte holding the
/// number of significant big-endian bytes, then those bytes. Keys sort numerically, and small
/// numbers are short (tick 300 takes 4 bytes in all).
pub fn u64_key(prefix: u8, n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = (n.leading_zeros() / 8) as usize;
    let mut key = Vec::with_capacity(2 + 8 - skip);
    key.push(prefix);
    key.push((8 - skip) as u8);
    key.extend_from_slice(&bytes[skip..]);
    key
}

/// Reads the number of a [`u64_key`].
pub fn read_u64_key(key: &[u8]) -> Result<u64, CoreError> {
    let n = usize::from(*key.get(1).ok_or_else(|| corrupt("bad u64 key"))?);
    let digits = key.get(2..).filter(|d| d.len() == n && n <= 8);
    let digits = digits.ok_or_else(|| corrupt("bad u64 key"))?;
    if digits.first() == Some(&0) {
        return Err(corrupt("non-minimal u64 key"));
    }
    Ok(digits
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// A key made of a one-byte prefix and a TID's bytes.
pub fn tid_key(prefix: u8, tid: &Tid) -> Vec<u8> {
    let bytes = tid.as_bytes();
    let mut key = Vec::with_capacity(1 + bytes.len());
    key.push(prefix);
    key.extend_from_slice(bytes);
    key
}

// ---------------------------------------------------------------------------------------------
// Namespaces

/// Splits an IRI after its last `/`, `#` or `:` into (namespace, local name).
pub fn split_iri(iri: &str) -> (&str, &str) {
    // The delimiters are ASCII, so a byte search finds a char boundary.
    match iri.bytes().rposition(|b| matches!(b, b'/' | b'#' | b':')) {
        Some(i) => iri.split_at(i + 1),
        None => ("", iri),
    }
}

/// The clone's namespace table: small ids for IRI namespaces, so that index keys and journal
/// entries carry a varint instead of a repeated IRI prefix. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct NsTable {
    inner: Arc<NsInner>,
}

#[derive(Debug, Clone, Default)]
struct NsInner {
    by_name: HashMap<Box<str>, u32>,
    by_id: Vec<Box<str>>,
}

impl NsTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of a namespace, if it has one.
    pub fn id(&self, ns: &str) -> Option<u32> {
        self.inner.by_name.get(ns).copied()
    }

    /// The namespace with an id.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.inner.by_id.get(id as usize).map(|s| &**s)
    }

    /// The number of namespaces.
    pub fn len(&self) -> usize {
        self.inner.by_id.len()
    }

    /// Adds the namespace of `iri` if it has none and the table is not full. Returns the id of
    /// the new entry to persist, if one was added. Copies the table if it is shared.
    pub fn register(&mut self, iri: &str) -> Option<u32> {
        let (ns, _) = split_iri(iri);
        if ns.is_empty() || self.inner.by_name.contains_key(ns) {
            return None;
        }
        self.add(ns)
    }

    /// Adds a namespace known to be absent, unless the table is full.
    fn add(&mut self, ns: &str) -> Option<u32> {
        if self.len() >= MAX_NAMESPACES {
            return None;
        }
        let inner = Arc::make_mut(&mut self.inner);
        let id = inner.by_id.len() as u32;
        inner.by_name.insert(ns.into(), id);
        inner.by_id.push(ns.into());
        Some(id)
    }

    /// Adds the namespaces of every IRI in the triple (including a literal's datatype), calling
    /// `added` for each new one.
    pub fn register_triple(&mut self, t: TripleRef<'_>, mut added: impl FnMut(u32, &str)) {
        let s = match t.subject {
            NamedOrBlankNodeRef::NamedNode(s) => Some(s.as_str()),
            NamedOrBlankNodeRef::BlankNode(_) => None,
        };
        let o = match t.object {
            TermRef::NamedNode(o) => Some(o.as_str()),
            TermRef::Literal(l) if literal_tag(l).is_none() && l.language().is_none() => {
                Some(l.datatype().as_str())
            }
            _ => None,
        };
        for iri in [s, Some(t.predicate.as_str()), o].into_iter().flatten() {
            if let Some(id) = self.register(iri)
                && let Some(ns) = self.name(id)
            {
                added(id, ns);
            }
        }
    }

    /// Restores a stored entry (when opening a store); ids must arrive densely in order.
    pub fn restore(&mut self, id: u32, ns: &str) -> Result<(), CoreError> {
        if id as usize != self.len() || self.inner.by_name.contains_key(ns) {
            return Err(corrupt("namespace table out of sequence"));
        }
        let inner = Arc::make_mut(&mut self.inner);
        inner.by_name.insert(ns.into(), id);
        inner.by_id.push(ns.into());
        Ok(())
    }
}

/// The key of a namespace entry.
pub fn ns_key(id: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(5);
    key.push(NS_PREFIX);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Reads the id of a namespace entry key.
pub fn read_ns_key(key: &[u8]) -> Result<u32, CoreError> {
    let bytes: [u8; 4] = key
        .get(1..5)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("bad namespace key"))?;
    Ok(u32::from_be_bytes(bytes))
}

// ---------------------------------------------------------------------------------------------
// Terms

fn literal_tag(l: LiteralRef<'_>) -> Option<u8> {
    if l.language().is_some() {
        return None;
    }
    let dt = l.datatype();
    Some(if dt == xsd::STRING {
        T_STRING
    } else if dt == xsd::INTEGER {
        T_INTEGER
    } else if dt == xsd::DECIMAL {
        T_DECIMAL
    } else if dt == xsd::DOUBLE {
        T_DOUBLE
    } else if dt == xsd::BOOLEAN {
        T_BOOLEAN
    } else if dt == xsd::DATE_TIME {
        T_DATE_TIME
    } else if dt == xsd::DATE {
        T_DATE
    } else if dt == RDF_JSON {
        T_JSON
    } else {
        return None;
    })
}

fn tag_datatype(tag: u8) -> Option<NamedNodeRef<'static>> {
    Some(match tag {
        T_INTEGER => xsd::INTEGER,
        T_DECIMAL => xsd::DECIMAL,
        T_DOUBLE => xsd::DOUBLE,
        T_BOOLEAN => xsd::BOOLEAN,
        T_DATE_TIME => xsd::DATE_TIME,
        T_DATE => xsd::DATE,
        T_JSON => RDF_JSON,
        _ => return None,
    })
}

/// How the writers find the id of a (non-empty) namespace: by looking it up, or by also adding
/// it to the table (see [`write_spo`]).
trait NsIds {
    fn ns_id(&mut self, name: &str) -> Option<u32>;
}

impl NsIds for &NsTable {
    fn ns_id(&mut self, name: &str) -> Option<u32> {
        self.id(name)
    }
}

/// Looks namespaces up, adding absent ones (and noting their ids) while the table has room.
struct Registering<'a> {
    ns: &'a mut NsTable,
    added: &'a mut Vec<u32>,
}

impl NsIds for Registering<'_> {
    fn ns_id(&mut self, name: &str) -> Option<u32> {
        if let Some(id) = self.ns.id(name) {
            return Some(id);
        }
        let id = self.ns.add(name)?;
        self.added.push(id);
        Some(id)
    }
}

fn write_iri_with(buf: &mut Vec<u8>, iri: &str, ns: &mut impl NsIds) {
    let (name, local) = split_iri(iri);
    match (!name.is_empty()).then(|| ns.ns_id(name)).flatten() {
        Some(id) => {
            buf.push(T_IRI_NS);
            write_varint(buf, u64::from(id));
            write_lp(buf, local.as_bytes());
        }
        None => {
            buf.push(T_IRI);
            write_lp(buf, iri.as_bytes());
        }
    }
}

fn write_term_with(
    buf: &mut Vec<u8>,
    term: TermRef<'_>,
    ns: &mut impl NsIds,
) -> Result<(), CoreError> {
    match term {
        TermRef::NamedNode(n) => write_iri_with(buf, n.as_str(), ns),
        TermRef::BlankNode(b) => {
            buf.push(T_BNODE);
            write_lp(buf, b.as_str().as_bytes());
        }
        TermRef::Literal(l) => {
            if let Some(lang) = l.language() {
                buf.push(T_LANG);
                write_lp(buf, lang.as_bytes());
            } else if let Some(tag) = literal_tag(l) {
                buf.push(tag);
            } else {
                buf.push(T_TYPED);
                write_iri_with(buf, l.datatype().as_str(), ns);
            }
            write_lp(buf, l.value().as_bytes());
        }
        #[allow(unreachable_patterns)]
        _ => return Err(CoreError::UnsupportedTerm(term.to_string())),
    }
    Ok(())
}

fn write_subject_with(buf: &mut Vec<u8>, s: NamedOrBlankNodeRef<'_>, ns: &mut impl NsIds) {
    match s {
        NamedOrBlankNodeRef::NamedNode(n) => write_iri_with(buf, n.as_str(), ns),
        NamedOrBlankNodeRef::BlankNode(b) => {
            buf.push(T_BNODE);
            write_lp(buf, b.as_str().as_bytes());
        }
    }
}

/// Appends the encoding of an IRI.
pub fn write_iri(buf: &mut Vec<u8>, iri: &str, mut ns: &NsTable) {
    write_iri_with(buf, iri, &mut ns);
}

/// Appends the encoding of a term.
pub fn write_term(buf: &mut Vec<u8>, term: TermRef<'_>, mut ns: &NsTable) -> Result<(), CoreError> {
    write_term_with(buf, term, &mut ns)
}

/// Appends the encoding of a subject.
pub fn write_subject(buf: &mut Vec<u8>, s: NamedOrBlankNodeRef<'_>, mut ns: &NsTable) {
    write_subject_with(buf, s, &mut ns);
}

fn read_iri_after_tag(tag: u8, input: &mut &[u8], ns: &NsTable) -> Result<NamedNode, CoreError> {
    match tag {
        T_IRI_NS => {
            let id = u32::try_from(read_varint(input)?).map_err(|_| corrupt("namespace id"))?;
            let name = ns.name(id).ok_or_else(|| corrupt("unknown namespace id"))?;
            let local = read_str(input)?;
            let mut iri = String::with_capacity(name.len() + local.len());
            iri.push_str(name);
            iri.push_str(local);
            Ok(NamedNode::new_unchecked(iri))
        }
        T_IRI => Ok(NamedNode::new_unchecked(read_str(input)?)),
        _ => Err(corrupt("expected an IRI")),
    }
}

/// Reads one encoded term, advancing `input`.
pub fn read_term(input: &mut &[u8], ns: &NsTable) -> Result<Term, CoreError> {
    let tag = read_u8(input)?;
    Ok(match tag {
        T_IRI_NS | T_IRI => Term::NamedNode(read_iri_after_tag(tag, input, ns)?),
        T_BNODE => Term::BlankNode(BlankNode::new_unchecked(read_str(input)?)),
        T_STRING => Term::Literal(Literal::new_simple_literal(read_str(input)?)),
        T_LANG => {
            let lang = read_str(input)?;
            let value = read_str(input)?;
            Term::Literal(Literal::new_language_tagged_literal_unchecked(value, lang))
        }
        T_TYPED => {
            let dt_tag = read_u8(input)?;
            let dt = read_iri_after_tag(dt_tag, input, ns)?;
            Term::Literal(Literal::new_typed_literal(read_str(input)?, dt))
        }
        _ => {
            let dt = tag_datatype(tag).ok_or_else(|| corrupt("unknown term tag"))?;
            Term::Literal(Literal::new_typed_literal(read_str(input)?, dt))
        }
    })
}

/// Reads one encoded subject (an IRI or blank node).
pub fn read_subject(input: &mut &[u8], ns: &NsTable) -> Result<NamedOrBlankNode, CoreError> {
    match read_term(input, ns)? {
        Term::NamedNode(n) => Ok(n.into()),
        Term::BlankNode(b) => Ok(b.into()),
        _ => Err(corrupt("a literal in subject position")),
    }
}

/// Reads one encoded IRI.
pub fn read_named(input: &mut &[u8], ns: &NsTable) -> Result<NamedNode, CoreError> {
    let tag = read_u8(input)?;
    read_iri_after_tag(tag, input, ns)
}

/// Appends the encoding of a triple's terms in subject, predicate, object order.
pub fn write_triple(buf: &mut Vec<u8>, t: TripleRef<'_>, ns: &NsTable) -> Result<(), CoreError> {
    write_subject(buf, t.subject, ns);
    write_iri(buf, t.predicate.as_str(), ns);
    write_term(buf, t.object, ns)
}

// ---------------------------------------------------------------------------------------------
// Triple index keys

/// Appends a triple's terms in subject, predicate, object order (to an `S` prefix byte, this makes
/// the `S` key), returning the ends of the subject's and the predicate's encodings in `buf`. With
/// `added`, the namespaces of the triple's IRIs are first added to the table, as
/// [`NsTable::register_triple`] would, and the id of each new one is pushed to `added`.
pub fn write_spo(
    buf: &mut Vec<u8>,
    t: TripleRef<'_>,
    ns: &mut NsTable,
    added: Option<&mut Vec<u32>>,
) -> Result<[usize; 2], CoreError> {
    match added {
        Some(added) => write_spo_with(buf, t, &mut Registering { ns, added }),
        None => write_spo_with(buf, t, &mut &*ns),
    }
}

fn write_spo_with(
    buf: &mut Vec<u8>,
    t: TripleRef<'_>,
    ns: &mut impl NsIds,
) -> Result<[usize; 2], CoreError> {
    write_subject_with(buf, t.subject, ns);
    let s_end = buf.len();
    write_iri_with(buf, t.predicate.as_str(), ns);
    let p_end = buf.len();
    write_term_with(buf, t.object, ns)?;
    Ok([s_end, p_end])
}

/// The `P` and `O` keys of the triple whose `S` key is `spo`, where `ends` are the ends of its
/// subject and predicate encodings in `spo` (as [`write_spo`] returns them after the prefix
/// byte). `scratch` is working space.
pub fn pos_osp_keys(
    spo: &[u8],
    ends: [usize; 2],
    scratch: &mut Vec<u8>,
) -> Result<(Key, Key), CoreError> {
    let [s_end, p_end] = ends;
    let (Some(s), Some(p), Some(o)) = (spo.get(1..s_end), spo.get(s_end..p_end), spo.get(p_end..))
    else {
        return Err(corrupt("bad triple key bounds"));
    };
    scratch.clear();
    scratch.push(POS);
    scratch.extend_from_slice(p);
    scratch.extend_from_slice(o);
    scratch.extend_from_slice(s);
    let pos = Arc::from(&scratch[..]);
    scratch.clear();
    scratch.push(OSP);
    scratch.extend_from_slice(o);
    scratch.extend_from_slice(s);
    scratch.extend_from_slice(p);
    Ok((pos, Arc::from(&scratch[..])))
}

/// The three index keys of one triple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TripleKeys {
    /// `S` + s p o: holds the TID set.
    pub spo: Vec<u8>,
    /// `P` + p o s.
    pub pos: Vec<u8>,
    /// `O` + o s p.
    pub osp: Vec<u8>,
}

impl TripleKeys {
    /// Encodes the keys of a triple.
    pub fn new(t: TripleRef<'_>, ns: &NsTable) -> Result<TripleKeys, CoreError> {
        let mut spo = Vec::with_capacity(64);
        spo.push(SPO);
        write_subject(&mut spo, t.subject, ns);
        let s_end = spo.len();
        write_iri(&mut spo, t.predicate.as_str(), ns);
        let p_end = spo.len();
        write_term(&mut spo, t.object, ns)?;
        let (s, p, o) = (&spo[1..s_end], &spo[s_end..p_end], &spo[p_end..]);
        let mut pos = Vec::with_capacity(spo.len());
        pos.push(POS);
        pos.extend_from_slice(p);
        pos.extend_from_slice(o);
        pos.extend_from_slice(s);
        let mut osp = Vec::with_capacity(spo.len());
        osp.push(OSP);
        osp.extend_from_slice(o);
        osp.extend_from_slice(s);
        osp.extend_from_slice(p);
        Ok(TripleKeys { spo, pos, osp })
    }
}

/// Decodes the triple of any index key (`S`, `P` or `O`).
pub fn triple_of_key(key: &[u8], ns: &NsTable) -> Result<Triple, CoreError> {
    let (&index, mut rest) = key
        .split_first()
        .ok_or_else(|| corrupt("empty index key"))?;
    let input = &mut rest;
    let t = match index {
        SPO => {
            let s = read_subject(input, ns)?;
            let p = read_named(input, ns)?;
            let o = read_term(input, ns)?;
            Triple::new(s, p, o)
        }
        POS => {
            let p = read_named(input, ns)?;
            let o = read_term(input, ns)?;
            let s = read_subject(input, ns)?;
            Triple::new(s, p, o)
        }
        OSP => {
            let o = read_term(input, ns)?;
            let s = read_subject(input, ns)?;
            let p = read_named(input, ns)?;
            Triple::new(s, p, o)
        }
        _ => return Err(corrupt("not an index key")),
    };
    if !input.is_empty() {
        return Err(corrupt("trailing bytes in index key"));
    }
    Ok(t)
}

/// The index prefix serving a triple pattern (each `None` is a variable): the index is chosen
/// so that the fixed terms form a prefix. For a fully fixed pattern it is the whole `S` key.
pub fn pattern_prefix(
    s: Option<NamedOrBlankNodeRef<'_>>,
    p: Option<NamedNodeRef<'_>>,
    o: Option<TermRef<'_>>,
    ns: &NsTable,
) -> Result<Vec<u8>, CoreError> {
    let mut key = Vec::with_capacity(64);
    match (s, p, o) {
        (Some(s), p, None) | (Some(s), p @ Some(_), Some(_)) => {
            key.push(SPO);
            write_subject(&mut key, s, ns);
            if let Some(p) = p {
                write_iri(&mut key, p.as_str(), ns);
                if let Some(o) = o {
                    write_term(&mut key, o, ns)?;
                }
            }
        }
        (None, Some(p), o) => {
            key.push(POS);
            write_iri(&mut key, p.as_str(), ns);
            if let Some(o) = o {
                write_term(&mut key, o, ns)?;
            }
        }
        (s, None, Some(o)) => {
            key.push(OSP);
            write_term(&mut key, o, ns)?;
            if let Some(s) = s {
                write_subject(&mut key, s, ns);
            }
        }
        (None, None, None) => key.push(SPO),
    }
    Ok(key)
}

// ---------------------------------------------------------------------------------------------
// TID sets

/// Encodes a TID set (each TID as a length byte and its bytes).
pub fn encode_tids<'a>(tids: impl IntoIterator<Item = &'a Tid>) -> Vec<u8> {
    let mut buf = Vec::new();
    for tid in tids {
        write_tid(&mut buf, tid);
    }
    buf
}

/// Decodes a TID set written by [`encode_tids`].
pub fn decode_tids(mut input: &[u8]) -> Result<Vec<Tid>, CoreError> {
    let mut tids = Vec::with_capacity(input.len() / 6 + 1);
    while let Some((&n, rest)) = input.split_first() {
        input = rest;
        let bytes = read_bytes(&mut input, usize::from(n))?;
        tids.push(Tid::from_bytes(bytes).map_err(|_| corrupt("bad TID in set"))?);
    }
    Ok(tids)
}

/// Appends a TID as a length byte and its bytes.
pub fn write_tid(buf: &mut Vec<u8>, tid: &Tid) {
    let bytes = tid.as_bytes();
    buf.push(bytes.len() as u8);
    buf.extend_from_slice(bytes);
}

/// Reads a TID written by [`write_tid`].
pub fn read_tid(input: &mut &[u8]) -> Result<Tid, CoreError> {
    let n = read_u8(input)?;
    let bytes = read_bytes(input, usize::from(n))?;
    Tid::from_bytes(bytes).map_err(|_| corrupt("bad TID"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::vocab::xsd;

    fn nn(s: &str) -> NamedNode {
        NamedNode::new_unchecked(s)
    }

    fn terms() -> Vec<Term> {
        vec![
            nn("http://ex.org/a").into(),
            nn("http://ex.org/ab").into(),
            nn("http://ex.org/#name").into(),
            nn("urn:uuid:1234").into(),
            nn("noslash").into(),
            nn("http://ex.org/").into(),
            BlankNode::new_unchecked("b0").into(),
            BlankNode::new_unchecked("b00").into(),
            Literal::new_simple_literal("").into(),
            Literal::new_simple_literal("Fred").into(),
            Literal::new_simple_literal("Fred ").into(),
            Literal::new_language_tagged_literal_unchecked("Fred", "en").into(),
            Literal::new_language_tagged_literal_unchecked("Fred", "en-gb").into(),
            Literal::new_typed_literal("40", xsd::INTEGER).into(),
            Literal::new_typed_literal("1.8", xsd::DOUBLE).into(),
            Literal::new_typed_literal("1.8", xsd::DECIMAL).into(),
            Literal::new_typed_literal("true", xsd::BOOLEAN).into(),
            Literal::new_typed_literal("2020-01-01", xsd::DATE).into(),
            Literal::new_typed_literal("2020-01-01T00:00:00Z", xsd::DATE_TIME).into(),
            Literal::new_typed_literal("{}", RDF_JSON).into(),
            Literal::new_typed_literal("x", nn("http://ex.org/dt")).into(),
            Literal::new_typed_literal("x", nn("http://other.org/dt")).into(),
            Literal::new_typed_literal("40", nn("http://ex.org/#integer")).into(),
            Literal::new_simple_literal("ünïcödé \u{0} \u{FFFF}").into(),
        ]
    }

    fn table() -> NsTable {
        let mut ns = NsTable::new();
        ns.register("http://ex.org/x");
        ns.register("http://ex.org/#x");
        ns
    }

    fn enc(t: &Term, ns: &NsTable) -> Vec<u8> {
        let mut buf = Vec::new();
        write_term(&mut buf, t.as_ref(), ns).unwrap();
        buf
    }

    #[test]
    fn varint_round_trips_at_boundaries() {
        for n in [
            0,
            1,
            127,
            128,
            255,
            16383,
            16384,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            write_varint(&mut buf, n);
            let mut input = &buf[..];
            assert_eq!(read_varint(&mut input).unwrap(), n);
            assert!(input.is_empty());
        }
        assert!(read_varint(&mut &[0x80u8][..]).is_err());
        assert!(read_varint(&mut &[0xFFu8; 11][..]).is_err());
    }

    #[test]
    fn u64_keys_round_trip_and_sort_numerically() {
        let ns = [
            0,
            1,
            255,
            256,
            300,
            65535,
            65536,
            u64::from(u32::MAX),
            u64::MAX,
        ];
        let keys: Vec<Vec<u8>> = ns.iter().map(|&n| u64_key(JOURNAL, n)).collect();
        for (n, k) in ns.iter().zip(&keys) {
            assert_eq!(read_u64_key(k).unwrap(), *n);
        }
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(u64_key(JOURNAL, 300).len(), 4);
        assert!(read_u64_key(&[JOURNAL, 2, 0, 1]).is_err());
        assert!(read_u64_key(&[JOURNAL, 3, 1]).is_err());
        assert!(read_u64_key(&[JOURNAL, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1]).is_err());
    }

    #[test]
    fn terms_round_trip_with_and_without_namespaces() {
        for ns in [NsTable::new(), table()] {
            for t in terms() {
                let buf = enc(&t, &ns);
                let mut input = &buf[..];
                assert_eq!(read_term(&mut input, &ns).unwrap(), t);
                assert!(input.is_empty());
            }
        }
    }

    #[test]
    fn term_encoding_is_prefix_free() {
        let ns = table();
        let encs: Vec<Vec<u8>> = terms().iter().map(|t| enc(t, &ns)).collect();
        for (i, a) in encs.iter().enumerate() {
            for (j, b) in encs.iter().enumerate() {
                if i != j {
                    assert!(
                        !b.starts_with(a),
                        "{:?} is a prefix of {:?}",
                        terms()[i],
                        terms()[j]
                    );
                }
            }
        }
    }

    #[test]
    fn namespaces_shrink_iris() {
        let ns = table();
        let t: Term = nn("http://ex.org/fred").into();
        assert_eq!(enc(&t, &ns).len(), 1 + 1 + 1 + 4);
        assert_eq!(
            enc(&t, &NsTable::new()).len(),
            1 + 1 + "http://ex.org/fred".len()
        );
    }

    #[test]
    fn namespace_table_is_capped_and_restorable() {
        let mut ns = NsTable::new();
        for i in 0..MAX_NAMESPACES + 10 {
            ns.register(&format!("http://ex.org/{i}/x"));
        }
        assert_eq!(ns.len(), MAX_NAMESPACES);
        assert!(ns.register("http://new.org/x").is_none());
        let mut restored = NsTable::new();
        for id in 0..ns.len() as u32 {
            restored.restore(id, ns.name(id).unwrap()).unwrap();
        }
        assert_eq!(restored.id("http://ex.org/5/"), Some(5));
        assert!(restored.restore(3, "http://dup.org/").is_err());
    }

    #[test]
    fn shared_namespace_table_copies_on_register() {
        let mut a = table();
        let b = a.clone();
        a.register("http://new.org/x").unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(b.len(), 2);
    }

    fn triple(s: &str, p: &str, o: Term) -> Triple {
        Triple::new(nn(s), nn(p), o)
    }

    #[test]
    fn every_index_key_decodes_to_its_triple() {
        let ns = table();
        for o in terms() {
            let t = triple("http://ex.org/fred", "http://ex.org/#name", o);
            let keys = TripleKeys::new(t.as_ref(), &ns).unwrap();
            for key in [&keys.spo, &keys.pos, &keys.osp] {
                assert_eq!(triple_of_key(key, &ns).unwrap(), t);
            }
        }
    }

    #[test]
    fn write_spo_makes_the_same_keys_and_registers_like_register_triple() {
        let mut scratch = Vec::new();
        for o in terms() {
            let t = Triple::new(nn("http://new.org/s/fred"), nn("http://other.org/#p"), o);
            // Looking up only: the table is left alone.
            let mut ns = table();
            let mut buf = vec![SPO];
            let ends = write_spo(&mut buf, t.as_ref(), &mut ns, None).unwrap();
            assert_eq!(ns.len(), 2);
            let keys = TripleKeys::new(t.as_ref(), &ns).unwrap();
            let (pos, osp) = pos_osp_keys(&buf, ends, &mut scratch).unwrap();
            assert_eq!(
                (&buf[..], &*pos, &*osp),
                (&keys.spo[..], &keys.pos[..], &keys.osp[..])
            );
            // Registering: the same namespaces and keys as register_triple then TripleKeys.
            let mut want_ns = table();
            let mut want_added = Vec::new();
            want_ns.register_triple(t.as_ref(), |id, _| want_added.push(id));
            let want = TripleKeys::new(t.as_ref(), &want_ns).unwrap();
            let mut added = Vec::new();
            let mut buf = vec![SPO];
            let ends = write_spo(&mut buf, t.as_ref(), &mut ns, Some(&mut added)).unwrap();
            assert_eq!(added, want_added);
            assert_eq!(ns.len(), want_ns.len());
            let (pos, osp) = pos_osp_keys(&buf, ends, &mut scratch).unwrap();
            assert_eq!(
                (&buf[..], &*pos, &*osp),
                (&want.spo[..], &want.pos[..], &want.osp[..])
            );
        }
        assert!(pos_osp_keys(b"S", [3, 2], &mut scratch).is_err());
    }

    #[test]
    fn every_pattern_shape_is_a_prefix_of_matching_keys_only() {
        let ns = table();
        let a = triple(
            "http://ex.org/a",
            "http://ex.org/#p",
            nn("http://ex.org/b").into(),
        );
        let others = [
            triple(
                "http://ex.org/ab",
                "http://ex.org/#p",
                nn("http://ex.org/b").into(),
            ),
            triple(
                "http://ex.org/a",
                "http://ex.org/#pq",
                nn("http://ex.org/b").into(),
            ),
            triple(
                "http://ex.org/a",
                "http://ex.org/#p",
                nn("http://ex.org/bc").into(),
            ),
        ];
        let s = a.subject.as_ref();
        let p = a.predicate.as_ref();
        let o = a.object.as_ref();
        for (ps, pp, po) in [
            (Some(s), Some(p), Some(o)),
            (Some(s), Some(p), None),
            (Some(s), None, Some(o)),
            (Some(s), None, None),
            (None, Some(p), Some(o)),
            (None, Some(p), None),
            (None, None, Some(o)),
            (None, None, None),
        ] {
            let prefix = pattern_prefix(ps, pp, po, &ns).unwrap();
            let all_keys = |t: &Triple| {
                let k = TripleKeys::new(t.as_ref(), &ns).unwrap();
                [k.spo, k.pos, k.osp]
            };
            assert!(all_keys(&a).iter().any(|k| k.starts_with(&prefix)));
            for other in &others {
                let matches = ps.is_none_or(|s| other.subject.as_ref() == s)
                    && pp.is_none_or(|p| other.predicate.as_ref() == p)
                    && po.is_none_or(|o| other.object.as_ref() == o);
                let hit = all_keys(other).iter().any(|k| k.starts_with(&prefix));
                assert_eq!(hit, matches, "{ps:?} {pp:?} {po:?} vs {other}");
            }
        }
    }

    #[test]
    fn tid_sets_round_trip() {
        let tids = [
            Tid::from_bytes(&[0x90]).unwrap(),
            Tid::from_bytes(&[0x93, 1, 0x91, 6, 4]).unwrap(),
            Tid::from_bytes(&[7; 20]).unwrap(),
        ];
        let enc = encode_tids(&tids);
        assert_eq!(decode_tids(&enc).unwrap(), tids.to_vec());
        assert!(decode_tids(&enc[..enc.len() - 1]).is_err());
        assert!(decode_tids(&[]).unwrap().is_empty());
    }

    #[test]
    fn corrupt_keys_are_errors_not_panics() {
        let ns = table();
        for bad in [
            &b""[..],
            b"S",
            b"S\x01\x09",
            b"Z\x02\x00",
            b"S\x02\x05ab",
            b"S\x63",
        ] {
            assert!(triple_of_key(bad, &ns).is_err());
        }
    }
}

//! Fast encoding and decoding of reified-triple documents (snapshot `inserts` batches, the
//! update tuple of a fused operation) straight to and from their MessagePack bytes, without
//! building a value tree.
//!
//! [`write_document`] writes exactly the bytes of [`jsonld::reified_value_labelled`]'s value
//! (the tests compare them); the JSON-LD rules stay there. For decoding, this module owns only
//! the fast path: it accepts the plain shape that m-ld-js and this engine write (an
//! array of, or a single, `{"@id": "_:…", "s": str, "p": str, "o": scalar, "tid": str | [str]}`
//! with distinct labels) and gives up (`None`) on anything else, including every input the
//! general decoder ([`jsonld::triples_from_reified`]) would refuse. Callers then run the general
//! decoder, which owns the rules and the errors. Where the fast path succeeds, its result is
//! exactly the general decoder's (the tests compare them). This module must not decide any
//! JSON-LD rule of its own: IRIs are expanded and compacted by [`DomainContext`], literals follow
//! `jsonld`'s rules, and a shape it is unsure of goes to the general decoder.

use std::fmt::Write;

use oxrdf::vocab::xsd;
use oxrdf::{Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use rmpv::Integer;

use crate::CoreError;
use crate::clock::Tid;
use crate::wire::encoding::WireLimits;
use crate::wire::jsonld::{self, DomainContext};
use crate::wire::literal::js_integer_text;
use crate::wire::msgpack;
use m_ld_vocab::js;

/// Appends the MessagePack of `jsonld::reified_value_labelled(ctx, triples, prefix)` to `out`:
/// `{}` for no triples, the single object for one, else an array of objects.
pub fn write_document(
    out: &mut Vec<u8>,
    ctx: &DomainContext,
    triples: &[(Triple, Vec<Tid>)],
    prefix: &str,
) -> Result<(), CoreError> {
    match triples.len() {
        0 => msgpack::write_map_len(out, 0),
        1 => {}
        n => msgpack::write_array_len(out, n),
    }
    let mut label = String::with_capacity(prefix.len() + 8);
    for (i, (triple, tids)) in triples.iter().enumerate() {
        let subject = match &triple.subject {
            NamedOrBlankNode::NamedNode(iri) => iri,
            NamedOrBlankNode::BlankNode(b) => {
                return Err(CoreError::UnsupportedTerm(format!(
                    "blank node subject {b}: m-ld triples have IRI subjects"
                )));
            }
        };
        msgpack::write_map_len(out, if tids.is_empty() { 4 } else { 5 });
        msgpack::write_str(out, "@id");
        label.clear();
        let _ = write!(label, "_:{prefix}{i}");
        msgpack::write_str(out, &label);
        msgpack::write_str(out, "s");
        msgpack::write_str(out, &ctx.compact_iri(subject.as_str())?);
        msgpack::write_str(out, "p");
        msgpack::write_str(out, &ctx.compact_iri(triple.predicate.as_str())?);
        msgpack::write_str(out, "o");
        match &triple.object {
            Term::Literal(lit) if lit.datatype() == xsd::STRING && lit.language().is_none() => {
                msgpack::write_str(out, lit.value());
            }
            object => msgpack::encode_into(&jsonld::object_value(ctx, object)?, out),
        }
        match tids.as_slice() {
            [] => {}
            [tid] => {
                msgpack::write_str(out, "tid");
                msgpack::write_str(out, &tid.to_base64());
            }
            tids => {
                msgpack::write_str(out, "tid");
                msgpack::write_array_len(out, tids.len());
                for tid in tids {
                    msgpack::write_str(out, &tid.to_base64());
                }
            }
        }
    }
    Ok(())
}

/// Triples with their TIDs, as decoded.
type Pairs = Vec<(Triple, Vec<Tid>)>;

/// Reads MessagePack values without allocating; `None` for anything unexpected.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// A scalar value as the fast path takes it.
enum Scalar<'a> {
    Str(&'a str),
    Int(Integer),
    Float(f64),
    Bool(bool),
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Some(out)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn be<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn len(&mut self, width: u8) -> Option<usize> {
        let n = match width {
            1 => u32::from(self.byte()?),
            2 => u32::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?),
        };
        usize::try_from(n).ok()
    }

    /// The length of an array, if the next value is one.
    fn array(&mut self) -> Option<usize> {
        match self.peek()? {
            m @ 0x90..=0x9f => {
                self.pos += 1;
                Some(usize::from(m & 0x0f))
            }
            0xdc => {
                self.pos += 1;
                self.len(2)
            }
            0xdd => {
                self.pos += 1;
                self.len(4)
            }
            _ => None,
        }
    }

    /// The number of entries of a map, if the next value is one.
    fn map(&mut self) -> Option<usize> {
        match self.peek()? {
            m @ 0x80..=0x8f => {
                self.pos += 1;
                Some(usize::from(m & 0x0f))
            }
            0xde => {
                self.pos += 1;
                self.len(2)
            }
            0xdf => {
                self.pos += 1;
                self.len(4)
            }
            _ => None,
        }
    }

    /// A string, if the next value is a valid UTF-8 one.
    fn str(&mut self) -> Option<&'a str> {
        let len = match self.peek()? {
            m @ 0xa0..=0xbf => {
                self.pos += 1;
                usize::from(m & 0x1f)
            }
            m @ 0xd9..=0xdb => {
                self.pos += 1;
                self.len(1 << (m - 0xd9))?
            }
            _ => return None,
        };
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// A string, number or boolean.
    fn scalar(&mut self) -> Option<Scalar<'a>> {
        if let Some(s) = self.str() {
            return Some(Scalar::Str(s));
        }
        let marker = self.byte()?;
        Some(match marker {
            0x00..=0x7f => Scalar::Int(Integer::from(marker)),
            0xe0..=0xff => Scalar::Int(Integer::from(i8::from_be_bytes([marker]))),
            0xc2 => Scalar::Bool(false),
            0xc3 => Scalar::Bool(true),
            0xca => Scalar::Float(f64::from(f32::from_be_bytes(self.be()?))),
            0xcb => Scalar::Float(f64::from_be_bytes(self.be()?)),
            0xcc => Scalar::Int(Integer::from(self.byte()?)),
            0xcd => Scalar::Int(Integer::from(u16::from_be_bytes(self.be()?))),
            0xce => Scalar::Int(Integer::from(u32::from_be_bytes(self.be()?))),
            0xcf => Scalar::Int(Integer::from(u64::from_be_bytes(self.be()?))),
            0xd0 => Scalar::Int(Integer::from(i8::from_be_bytes(self.be()?))),
            0xd1 => Scalar::Int(Integer::from(i16::from_be_bytes(self.be()?))),
            0xd2 => Scalar::Int(Integer::from(i32::from_be_bytes(self.be()?))),
            0xd3 => Scalar::Int(Integer::from(i64::from_be_bytes(self.be()?))),
            _ => return None,
        })
    }
}

/// The literal the general decoder makes of a scalar `o` value.
fn literal(value: Scalar<'_>) -> Literal {
    let typed =
        |lexical: String, datatype: NamedNode| Literal::new_typed_literal(lexical, datatype);
    match value {
        Scalar::Str(s) => Literal::new_simple_literal(s),
        Scalar::Int(i) => typed(js_integer_text(&i), xsd::INTEGER.into_owned()),
        Scalar::Bool(b) => typed(b.to_string(), xsd::BOOLEAN.into_owned()),
        Scalar::Float(f) if js::is_double(f) => {
            typed(js::canonical_double(f), xsd::DOUBLE.into_owned())
        }
        Scalar::Float(f) => typed(js::to_fixed(f, 0), xsd::INTEGER.into_owned()),
    }
}

/// Parses one document of reified triples, counting its statements into `statements`.
fn document(
    cursor: &mut Cursor<'_>,
    ctx: &DomainContext,
    statements: &mut usize,
    limit: usize,
) -> Option<Vec<(Triple, Vec<Tid>)>> {
    let objects = match cursor.array() {
        Some(n) => n,
        None => {
            // A single object, or `{}` for none.
            let save = cursor.pos;
            if cursor.map()? == 0 {
                return Some(Vec::new());
            }
            cursor.pos = save;
            1
        }
    };
    // Every object takes at least one byte.
    if objects > cursor.bytes.len() - cursor.pos {
        return None;
    }
    let mut triples = Vec::with_capacity(objects);
    let mut labels: foldhash::HashSet<&str> =
        foldhash::HashSet::with_capacity_and_hasher(objects, Default::default());
    for _ in 0..objects {
        let entries = cursor.map()?;
        let (mut label, mut s, mut p, mut o) = (None, None, None, None);
        let mut tids: Option<Vec<Tid>> = None;
        for _ in 0..entries {
            match cursor.str()? {
                "@id" if label.is_none() => label = Some(cursor.str()?.strip_prefix("_:")?),
                "s" if s.is_none() => s = Some(ctx.expand_iri(cursor.str()?).ok()?),
                "p" if p.is_none() => p = Some(ctx.expand_iri(cursor.str()?).ok()?),
                "o" if o.is_none() => o = Some(literal(cursor.scalar()?)),
                "tid" if tids.is_none() => {
                    let found = match cursor.array() {
                        Some(n) => {
                            if n > cursor.bytes.len() - cursor.pos {
                                return None;
                            }
                            let mut found = Vec::with_capacity(n);
                            for _ in 0..n {
                                found.push(cursor.str()?.parse().ok()?);
                            }
                            found
                        }
                        None => vec![cursor.str()?.parse().ok()?],
                    };
                    tids = Some(found);
                }
                _ => return None,
            }
        }
        let (Some(label), Some(s), Some(p), Some(o)) = (label, s, p, o) else {
            return None;
        };
        if !labels.insert(label) {
            return None;
        }
        let mut tids = tids.unwrap_or_default();
        *statements = statements.checked_add(3 + tids.len())?;
        if *statements > limit {
            return None;
        }
        jsonld::dedup_tids(&mut tids);
        triples.push((Triple::new(s, p, Term::Literal(o)), tids));
    }
    Some(jsonld::merge_in_order(triples))
}

/// The triples of a reified document (`jsonld::triples_from_reified(..).triples` of its
/// MessagePack), or `None` to leave it to the general decoder.
pub fn triples(
    bytes: &[u8],
    ctx: &DomainContext,
    limits: &WireLimits,
) -> Option<Vec<(Triple, Vec<Tid>)>> {
    let mut cursor = Cursor { bytes, pos: 0 };
    let mut statements = 0;
    let triples = document(&mut cursor, ctx, &mut statements, limits.max_statements)?;
    cursor.at_end().then_some(triples)
}

/// The deletes and inserts of a fused operation's update tuple `[deletes, inserts]`, both
/// reified, every triple with TIDs; or `None` to leave it to the general decoder.
pub fn fused_update(
    bytes: &[u8],
    ctx: &DomainContext,
    limits: &WireLimits,
) -> Option<(Pairs, Pairs)> {
    let mut cursor = Cursor { bytes, pos: 0 };
    if cursor.array()? != 2 {
        return None;
    }
    // The general decoder counts each part's statements apart.
    let (mut in_deletes, mut in_inserts) = (0, 0);
    let deletes = document(&mut cursor, ctx, &mut in_deletes, limits.max_statements)?;
    let inserts = document(&mut cursor, ctx, &mut in_inserts, limits.max_statements)?;
    let all_have_tids = deletes
        .iter()
        .chain(&inserts)
        .all(|(_, tids)| !tids.is_empty());
    (cursor.at_end() && all_have_tids).then_some((deletes, inserts))
}

#[cfg(test)]
mod tests {
    use oxrdf::vocab::xsd;
    use proptest::prelude::*;
    use rmpv::Value;

    use super::*;
    use crate::clock::TreeClock;
    use crate::wire::msgpack;

    fn ctx() -> DomainContext {
        DomainContext::new("test.m-ld.org").unwrap()
    }

    fn tid(n: u64) -> Tid {
        let mut clock = TreeClock::genesis();
        for _ in 0..n {
            clock = clock.ticked();
        }
        clock.hash()
    }

    fn general(value: &Value) -> Option<Vec<(Triple, Vec<Tid>)>> {
        jsonld::triples_from_reified(&ctx(), value, &WireLimits::default())
            .ok()
            .map(|r| r.triples)
    }

    fn fast(value: &Value) -> Option<Vec<(Triple, Vec<Tid>)>> {
        triples(&msgpack::encode(value), &ctx(), &WireLimits::default())
    }

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        )
    }

    fn reification(label: &str, s: &str, o: Value, tids: Option<Value>) -> Value {
        let mut entries = vec![
            ("@id", Value::from(label)),
            ("s", Value::from(s)),
            ("p", Value::from("#name")),
            ("o", o),
        ];
        if let Some(tids) = tids {
            entries.push(("tid", tids));
        }
        object(&entries)
    }

    #[test]
    fn what_we_encode_decodes_fast_as_in_general() {
        let c = ctx();
        let iri = |s: &str| NamedNode::new(format!("http://test.m-ld.org/{s}")).unwrap();
        let lit = |v: &str, dt: oxrdf::NamedNodeRef<'_>| Literal::new_typed_literal(v, dt);
        let objects = [
            Literal::new_simple_literal("Fred"),
            Literal::new_simple_literal(""),
            lit("42", xsd::INTEGER),
            lit("-7", xsd::INTEGER),
            lit("123456789012", xsd::INTEGER),
            lit("1.8E0", xsd::DOUBLE),
            lit("true", xsd::BOOLEAN),
        ];
        let mut list: Vec<(Triple, Vec<Tid>)> = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            let tids = (0..i as u64 % 3).map(|n| tid(n + 1)).collect();
            list.push((
                Triple::new(iri(&format!("s{i}")), iri("#p"), o.clone()),
                tids,
            ));
        }
        for n in [0, 1, list.len()] {
            let value = jsonld::reified_value(&c, &list[..n]).unwrap();
            let got = fast(&value).expect("the fast path takes what we write");
            assert_eq!(Some(got.clone()), general(&value));
            assert_eq!(got, list[..n].to_vec());
        }
    }

    #[test]
    fn documents_are_written_as_the_general_encoder_writes_them() {
        let c = ctx();
        let iri = |s: &str| NamedNode::new(format!("http://test.m-ld.org/{s}")).unwrap();
        let objects: Vec<Term> = vec![
            Literal::new_simple_literal("Fred").into(),
            Literal::new_language_tagged_literal("Fred", "en")
                .unwrap()
                .into(),
            Literal::new_typed_literal("42", xsd::INTEGER).into(),
            Literal::new_typed_literal("1.8E0", xsd::DOUBLE).into(),
            Literal::new_typed_literal("x", NamedNode::new("http://ex.org/dt").unwrap()).into(),
            iri("wilma").into(),
            NamedNode::new("http://ex.org/other").unwrap().into(),
        ];
        let list: Vec<(Triple, Vec<Tid>)> = objects
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let tids = (0..i as u64 % 3).map(|n| tid(n + 1)).collect();
                (Triple::new(iri(&format!("s{i}")), iri("#p"), o), tids)
            })
            .collect();
        for n in [0, 1, 2, list.len()] {
            for prefix in ["b", "i7_"] {
                let mut bytes = Vec::new();
                write_document(&mut bytes, &c, &list[..n], prefix).unwrap();
                let value = jsonld::reified_value_labelled(&c, &list[..n], prefix).unwrap();
                assert_eq!(bytes, msgpack::encode(&value), "{n} {prefix}");
            }
        }
        let blank = Triple::new(
            oxrdf::BlankNode::default(),
            iri("#p"),
            Literal::new_simple_literal("x"),
        );
        assert!(write_document(&mut Vec::new(), &c, &[(blank, vec![tid(1)])], "b").is_err());
    }

    #[test]
    fn repeated_triples_merge_their_tids_as_in_general() {
        let one = |label: &str, t: u64| {
            reification(
                label,
                "fred",
                Value::from("Fred"),
                Some(Value::from(tid(t).to_base64())),
            )
        };
        let doc = Value::Array(vec![one("_:a", 1), one("_:b", 2), one("_:c", 1)]);
        let got = fast(&doc).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, vec![tid(1), tid(2)]);
        assert_eq!(Some(got), general(&doc));
        let tids = Value::Array(vec![Value::from(tid(3).to_base64()); 2]);
        let doc = reification("_:a", "fred", Value::from(1), Some(tids));
        assert_eq!(fast(&doc), general(&doc));
        assert_eq!(fast(&doc).unwrap()[0].1, vec![tid(3)]);
    }

    /// m-ld-js fuses operations keeping their blank-node labels, which repeat across its
    /// process restarts: two reifications under one label come out as one node with two
    /// subjects, objects and all their TIDs (docs/compliance.md, "m-ld-js defects met"). The
    /// last value would win and the other triple be lost: refused instead.
    #[test]
    fn a_label_naming_two_triples_is_refused() {
        let t = |n| Some(Value::from(tid(n).to_base64()));
        let merged = Value::Array(vec![
            reification("_:df_14_0", "x", Value::from(1), t(1)),
            reification("_:df_14_0", "y", Value::from(2), t(2)),
        ]);
        assert_eq!(fast(&merged), None);
        let err = jsonld::triples_from_reified(&ctx(), &merged, &WireLimits::default());
        assert!(matches!(err, Err(CoreError::BadOperation(_))), "{err:?}");
        // As m-ld-js's JSON-LD compaction writes it: one node, arrays in every position.
        let compacted = object(&[
            ("@id", Value::from("_:df_14_0")),
            ("s", Value::Array(vec![Value::from("x"), Value::from("y")])),
            ("p", Value::from("#p")),
            ("o", Value::Array(vec![Value::from(1), Value::from(2)])),
            (
                "tid",
                Value::Array(vec![
                    Value::from(tid(1).to_base64()),
                    Value::from(tid(2).to_base64()),
                ]),
            ),
        ]);
        let err = jsonld::triples_from_reified(&ctx(), &compacted, &WireLimits::default());
        assert!(matches!(err, Err(CoreError::BadOperation(_))), "{err:?}");
        // The same triple twice under one label is no ambiguity: its TIDs merge.
        let same = Value::Array(vec![
            reification("_:a", "x", Value::from(1), t(1)),
            reification("_:a", "x", Value::from(1), t(2)),
        ]);
        let got = general(&same).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, vec![tid(1), tid(2)]);
    }

    #[test]
    fn other_shapes_are_left_to_the_general_decoder() {
        let t = Some(Value::from(tid(1).to_base64()));
        let cases = [
            // A repeated label (the general decoder refuses different triples under it, see
            // `a_label_naming_two_triples_is_refused`).
            Value::Array(vec![
                reification("_:a", "x", Value::from(1), t.clone()),
                reification("_:a", "y", Value::from(2), t.clone()),
            ]),
            // An IRI subject, a value object, a reference, null, an unknown key, no label.
            reification("fred", "x", Value::from(1), t.clone()),
            reification(
                "_:a",
                "x",
                object(&[("@value", Value::from("v"))]),
                t.clone(),
            ),
            reification("_:a", "x", object(&[("@id", Value::from("y"))]), t.clone()),
            reification("_:a", "x", Value::Nil, t.clone()),
            object(&[("@id", Value::from("_:a")), ("q", Value::from(1))]),
            object(&[
                ("s", Value::from("x")),
                ("p", Value::from("#p")),
                ("o", Value::from(1)),
            ]),
            // A bad TID, a blank node as a triple's subject, a nested array.
            reification("_:a", "x", Value::from(1), Some(Value::from("not base64!"))),
            reification("_:a", "_:x", Value::from(1), t.clone()),
            Value::Array(vec![Value::Array(vec![])]),
        ];
        for doc in cases {
            assert_eq!(fast(&doc), None, "{doc}");
        }
        // IRIs are expanded by the general rules.
        for s in ["a:b", "rdf:type", "../up", "?q", "http://ex.org/x"] {
            let doc = reification("_:a", s, Value::from(1), t.clone());
            assert!(fast(&doc).is_some(), "{s}");
            assert_eq!(fast(&doc), general(&doc), "{s}");
        }
        // Trailing bytes, and too many statements.
        let doc = reification("_:a", "x", Value::from(1), t.clone());
        let mut bytes = msgpack::encode(&doc);
        bytes.push(0xc0);
        assert_eq!(triples(&bytes, &ctx(), &WireLimits::default()), None);
        let tight = WireLimits {
            max_statements: 3,
            ..WireLimits::default()
        };
        assert_eq!(triples(&msgpack::encode(&doc), &ctx(), &tight), None);
        assert!(jsonld::triples_from_reified(&ctx(), &doc, &tight).is_err());
    }

    fn arb_object() -> impl Strategy<Value = Term> {
        prop_oneof![
            any::<String>().prop_map(|s| Literal::new_simple_literal(s).into()),
            any::<i64>()
                .prop_map(|n| Literal::new_typed_literal(n.to_string(), xsd::INTEGER).into()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| {
                    Literal::new_typed_literal(js::canonical_double(f), xsd::DOUBLE).into()
                }),
            any::<bool>()
                .prop_map(|b| Literal::new_typed_literal(b.to_string(), xsd::BOOLEAN).into()),
            "[a-z]{1,4}"
                .prop_map(|s| NamedNode::new_unchecked(format!("http://test.m-ld.org/{s}")).into()),
        ]
    }

    fn arb_triples() -> impl Strategy<Value = Vec<(Triple, Vec<Tid>)>> {
        let subject = prop_oneof![
            "[a-z0-9._~-]{1,5}",
            Just("..".to_owned()),
            Just("a%20b".to_owned())
        ];
        let predicate = prop_oneof!["#[a-z]{1,3}", Just("#s".to_owned()), Just("p/q".to_owned())];
        prop::collection::vec(
            (
                subject,
                predicate,
                arb_object(),
                prop::collection::vec(0u64..4, 0..3),
            ),
            0..12,
        )
        .prop_map(|items| {
            items
                .into_iter()
                .map(|(s, p, o, tids)| {
                    let iri =
                        |x: &str| NamedNode::new(format!("http://test.m-ld.org/{x}")).unwrap();
                    let tids = tids.into_iter().map(|n| tid(n + 1)).collect();
                    (Triple::new(iri(&s), iri(&p), o), tids)
                })
                .collect()
        })
    }

    proptest! {
        /// The context's shortcuts for plain names give what RFC 3986 resolution against the
        /// base, and appending to the vocabulary, give.
        #[test]
        fn plain_names_expand_and_compact_by_the_rules(
            name in "[A-Za-z0-9._~-]{1,8}",
            fragment in prop::bool::ANY,
        ) {
            let c = ctx();
            let base = oxiri::Iri::parse("http://test.m-ld.org/".to_owned()).unwrap();
            let relative = if fragment { format!("#{name}") } else { name.clone() };
            let resolved = base.resolve(&relative).unwrap().into_inner();
            prop_assert_eq!(c.expand_iri(&relative).unwrap().into_string(), resolved.clone());
            let compact = c.compact_iri(&resolved).unwrap();
            prop_assert_eq!(c.expand_iri(&compact).unwrap().into_string(), resolved);
            if !["s", "p", "o", "tid", "op", "rdf", "xs"].contains(&name.as_str()) {
                let vocab = format!("http://test.m-ld.org/#{name}");
                prop_assert_eq!(c.expand_vocab(&name).unwrap().into_string(), vocab.clone());
                prop_assert_eq!(c.compact_vocab(&vocab).unwrap(), name);
            }
        }

        /// Written documents are the general encoder's bytes, and decode fast exactly as in
        /// general (repeated triples merge, as the general decoder merges them).
        #[test]
        fn fast_paths_agree_with_the_general_codec(list in arb_triples()) {
            let c = ctx();
            let value = jsonld::reified_value_labelled(&c, &list, "b").unwrap();
            let mut bytes = Vec::new();
            write_document(&mut bytes, &c, &list, "b").unwrap();
            prop_assert_eq!(&bytes, &msgpack::encode(&value));
            let got = triples(&bytes, &c, &WireLimits::default());
            let want = general(&value);
            prop_assert!(want.is_some());
            let scalars = list.iter().all(|(t, _)| {
                !matches!(jsonld::object_value(&c, &t.object), Ok(Value::Map(_)))
            });
            if scalars {
                prop_assert!(got.is_some(), "the fast path takes scalar objects");
            }
            if got.is_some() {
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn fused_updates_need_tids_everywhere() {
        let t = Some(Value::from(tid(1).to_base64()));
        let with = reification("_:a", "x", Value::from(1), t);
        let without = reification("_:b", "y", Value::from(2), None);
        let tuple =
            |d: &Value, i: &Value| msgpack::encode(&Value::Array(vec![d.clone(), i.clone()]));
        let limits = WireLimits::default();
        let (deletes, inserts) =
            fused_update(&tuple(&Value::Map(vec![]), &with), &ctx(), &limits).unwrap();
        assert!(deletes.is_empty());
        assert_eq!(inserts, general(&with).unwrap());
        assert!(fused_update(&tuple(&with, &without), &ctx(), &limits).is_none());
        let three = msgpack::encode(&Value::Array(vec![with.clone(), with.clone(), with]));
        assert!(fused_update(&three, &ctx(), &limits).is_none());
    }
}

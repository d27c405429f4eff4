//! Operation messages on the wire (docs/protocol.md §2.2): the envelope `{prev, enc, attr}` and the
//! `EncodedOperation` array inside it (m-ld-js `MeldOperationMessage`, `EncodedOperation`,
//! `MeldOperation.fromOperation` / `fromEncoded`).
//!
//! Owns the mapping between [`Operation`] / [`OperationMessage`] and their bytes. It must not
//! decide anything about causality, fusion or the dataset (that is
//! [`operation`](crate::operation) and [`suset`](crate::suset)).
//!
//! Encoding writes exactly what m-ld-js writes for every field it checks: the envelope map in
//! the order `prev`, `enc`, `attr` with `attr: nil`; `enc` and `update` as binary; the 7-element
//! array `[5, from, time, update, encoding, principalId, agreed]`. The update tuple is
//! `[deletes, inserts]`: deletes always reified with their TIDs, inserts as plain subjects when
//! `from == time.ticks` (every insert then carries the operation's own TID) and reified
//! otherwise (a fusion). The body is gzipped above 1 KiB.
//!
//! Decoding accepts versions 3 and up (a version 3 array has only five elements), JSON, any
//! integer form, and an `attr` attribution (ignored: this engine has no transport security).
//! A third "updates" element of the tuple (shared datatypes) that holds anything is
//! [`CoreError::UnsupportedUpdate`]; everything malformed is a 5001 error (mostly
//! [`CoreError::BadOperation`]). Triples without TIDs cannot be part of an operation.

use oxrdf::Triple;
use rmpv::Value;

use crate::CoreError;
use crate::clock::{Tid, TreeClock};
use crate::operation::{Operation, OperationMessage};
use crate::wire::encoding::{
    WireLimits, decode_buffer, encode_packed, encodings_from_value, encodings_to_value,
    msgpack_bytes,
};
use crate::wire::jsonld::{self, DomainContext};
use crate::wire::msgpack;
use crate::wire::reified;

/// The `EncodedOperation` version this engine writes.
pub const OPERATION_VERSION: u64 = 5;

/// The oldest `EncodedOperation` version m-ld-js (and this engine) reads.
pub const MIN_OPERATION_VERSION: u64 = 3;

fn bad(msg: impl Into<String>) -> CoreError {
    CoreError::BadOperation(msg.into())
}

/// A JS number that must be a natural number (an integer, or an integral float).
pub(crate) fn natural(value: &Value) -> Option<u64> {
    match value {
        Value::Integer(i) => i.as_u64(),
        Value::F32(_) | Value::F64(_) => {
            let f = value.as_f64()?;
            (f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f))
                .then_some(f as u64)
        }
        _ => None,
    }
}

/// The value of `key` in a msgpack map.
pub(crate) fn field<'v>(entries: &'v [(Value, Value)], key: &str) -> Option<&'v Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// The value unless it is absent in JS terms (missing, `null` or `undefined`).
pub(crate) fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_nil() && !msgpack::is_undefined(v))
}

/// Encodes an operation as its `EncodedOperation` array value.
pub fn encoded_operation_value(op: &Operation, ctx: &DomainContext) -> Result<Value, CoreError> {
    let ticks = op.time.ticks();
    if op.from > ticks {
        return Err(bad(format!("from {} is after time {}", op.from, op.time)));
    }
    // Labels unique across this author's operations (its ticks differ), deletes apart from
    // inserts: m-ld-js fuses operations by their labelled triples. The tuple `[deletes,
    // inserts]` is packed as it is written (reified documents straight to bytes).
    let mut packed = Vec::with_capacity(64 * (op.deletes.len() + op.inserts.len()) + 8);
    msgpack::write_array_len(&mut packed, 2);
    reified::write_document(
        &mut packed,
        ctx,
        with_tids(&op.deletes, "deleted")?,
        &format!("d{ticks}_"),
    )?;
    if op.from == ticks {
        let tid = op.tid();
        for (triple, tids) in &op.inserts {
            if tids.as_slice() != [tid] {
                return Err(bad(format!(
                    "insert {triple} of a plain operation must have its TID {tid} only"
                )));
            }
        }
        let inserts = jsonld::subjects_value(ctx, op.inserts.iter().map(|(t, _)| t))?;
        msgpack::encode_into(&inserts, &mut packed);
    } else {
        reified::write_document(
            &mut packed,
            ctx,
            with_tids(&op.inserts, "inserted")?,
            &format!("i{ticks}_"),
        )?;
    }
    let (update, encodings) = encode_packed(packed)?;
    let principal = match &op.principal {
        Some(iri) => Value::from(ctx.compact_iri(iri)?),
        None => Value::Nil,
    };
    let agreed = match &op.agreed {
        Some((tick, proof)) => Value::Array(vec![Value::from(*tick), msgpack::from_json(proof)]),
        None => Value::Nil,
    };
    Ok(Value::Array(vec![
        Value::from(OPERATION_VERSION),
        Value::from(op.from),
        op.time.to_msgpack(),
        Value::Binary(update),
        encodings_to_value(&encodings),
        principal,
        agreed,
    ]))
}

fn with_tids<'a>(
    list: &'a [(Triple, Vec<Tid>)],
    what: &str,
) -> Result<&'a [(Triple, Vec<Tid>)], CoreError> {
    match list.iter().find(|(_, tids)| tids.is_empty()) {
        Some((triple, _)) => Err(bad(format!("{what} triple {triple} has no TIDs"))),
        None => Ok(list),
    }
}

/// Decodes an `EncodedOperation` array value.
pub fn operation_from_value(
    value: &Value,
    ctx: &DomainContext,
    limits: &WireLimits,
) -> Result<Operation, CoreError> {
    let items = value
        .as_array()
        .ok_or_else(|| bad("encoded operation is not an array"))?;
    if items.len() < 5 {
        return Err(bad(format!(
            "encoded operation has {} elements",
            items.len()
        )));
    }
    let version = natural(&items[0]).ok_or_else(|| bad("bad operation version"))?;
    if version < MIN_OPERATION_VERSION {
        return Err(bad(format!("operation version {version} is not supported")));
    }
    let from = natural(&items[1]).ok_or_else(|| bad("bad operation from"))?;
    let time = TreeClock::from_msgpack(&items[2])?;
    let update = match &items[3] {
        Value::Binary(bytes) => bytes,
        _ => return Err(bad("operation update is not binary")),
    };
    let encodings = encodings_from_value(&items[4])?;
    let principal = match present(items.get(5)) {
        None => None,
        Some(Value::String(s)) => {
            let s = s.as_str().ok_or_else(|| bad("principal is not UTF-8"))?;
            Some(ctx.expand_iri(s)?.into_string())
        }
        Some(other) => return Err(bad(format!("principal {other} is not a string"))),
    };
    let agreed = match present(items.get(6)) {
        None => None,
        Some(Value::Array(pair)) if !pair.is_empty() => {
            let tick = natural(&pair[0]).ok_or_else(|| bad("bad agreement tick"))?;
            let proof = match present(pair.get(1)) {
                Some(p) => msgpack::to_json(p)?,
                None => serde_json::Value::Null,
            };
            Some((tick, proof))
        }
        Some(other) => return Err(bad(format!("bad agreement {other}"))),
    };
    let ticks = time.ticks();
    if from > ticks {
        return Err(bad(format!("from {from} is after time {time}")));
    }
    // A fused operation's usual update decodes straight from its bytes; anything else in general.
    let tuple = match msgpack_bytes(update, &encodings, limits)? {
        Some(bytes) => {
            if from < ticks
                && let Some((deletes, inserts)) = reified::fused_update(&bytes, ctx, limits)
            {
                return Ok(Operation {
                    from,
                    time,
                    deletes,
                    inserts,
                    principal,
                    agreed,
                });
            }
            msgpack::decode(&bytes)?
        }
        None => decode_buffer(update, &encodings, limits)?,
    };
    let parts = tuple
        .as_array()
        .ok_or_else(|| bad("operation update is not an array"))?;
    let empty = Value::Nil;
    let part = |i: usize| parts.get(i).unwrap_or(&empty);
    let deletes = require_tids(
        jsonld::triples_from_reified(ctx, part(0), limits)?.triples,
        "deleted",
    )?;
    let inserts = if from == ticks {
        let tid = time.hash();
        jsonld::triples_from_subjects(ctx, part(1), limits)?
            .into_iter()
            .map(|t| (t, vec![tid]))
            .collect()
    } else {
        require_tids(
            jsonld::triples_from_reified(ctx, part(1), limits)?.triples,
            "inserted",
        )?
    };
    if let Some(updates) = parts.get(2) {
        let updates = jsonld::triples_from_reified(ctx, updates, limits)?;
        if updates.has_updates || !updates.triples.is_empty() {
            return Err(CoreError::UnsupportedUpdate(
                "shared-datatype updates are not supported".into(),
            ));
        }
    }
    Ok(Operation {
        from,
        time,
        deletes,
        inserts,
        principal,
        agreed,
    })
}

fn require_tids(
    list: Vec<(Triple, Vec<Tid>)>,
    what: &str,
) -> Result<Vec<(Triple, Vec<Tid>)>, CoreError> {
    with_tids(&list, what)?;
    Ok(list)
}

/// Encodes an operation as `EncodedOperation` bytes: the `enc` of its message, and the form a
/// journal may keep.
pub fn encode_operation(op: &Operation, domain: &str) -> Result<Vec<u8>, CoreError> {
    let ctx = DomainContext::new(domain)?;
    Ok(msgpack::encode(&encoded_operation_value(op, &ctx)?))
}

/// Decodes `EncodedOperation` bytes.
pub fn decode_operation(
    bytes: &[u8],
    domain: &str,
    limits: &WireLimits,
) -> Result<Operation, CoreError> {
    let ctx = DomainContext::new(domain)?;
    operation_from_value(&msgpack::decode(bytes)?, &ctx, limits)
}

/// The operation message envelope `{prev, enc, attr: nil}` around `EncodedOperation` bytes.
pub fn operation_message_bytes(prev: u64, encoded_operation: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_operation.len() + 24);
    msgpack::write_map_len(&mut out, 3);
    msgpack::write_str(&mut out, "prev");
    msgpack::write_uint(&mut out, prev);
    msgpack::write_str(&mut out, "enc");
    msgpack::write_bin(&mut out, encoded_operation);
    msgpack::write_str(&mut out, "attr");
    out.push(0xc0);
    out
}

/// Encodes an operation message (docs/protocol.md §2.2).
pub fn encode_operation_message(
    msg: &OperationMessage,
    domain: &str,
) -> Result<Vec<u8>, CoreError> {
    Ok(operation_message_bytes(
        msg.prev,
        &encode_operation(&msg.op, domain)?,
    ))
}

/// Reads the envelope of an operation message as JS `MeldOperationMessage.fromBuffer` does:
/// `prev` a number, `enc` binary, `attr` present and `null` or a map. Returns `prev` and the
/// `EncodedOperation` bytes.
pub fn split_operation_message(bytes: &[u8]) -> Result<(u64, Vec<u8>), CoreError> {
    let value = msgpack::decode(bytes)?;
    let entries = value
        .as_map()
        .ok_or_else(|| bad("operation message is not a map"))?;
    let prev = field(entries, "prev")
        .and_then(natural)
        .ok_or_else(|| bad("operation message prev is not a natural number"))?;
    let enc = match field(entries, "enc") {
        Some(Value::Binary(enc)) => enc.clone(),
        _ => return Err(bad("operation message enc is not binary")),
    };
    match field(entries, "attr") {
        Some(Value::Nil | Value::Map(_)) => Ok((prev, enc)),
        _ => Err(bad("operation message attr is not null or an object")),
    }
}

/// Decodes an operation message (docs/protocol.md §2.2).
pub fn decode_operation_message(
    bytes: &[u8],
    domain: &str,
    limits: &WireLimits,
) -> Result<OperationMessage, CoreError> {
    let (prev, enc) = split_operation_message(bytes)?;
    Ok(OperationMessage {
        prev,
        op: decode_operation(&enc, domain, limits)?,
    })
}

#[cfg(test)]
mod tests {
    use oxrdf::{Literal, NamedNode};

    use super::*;

    const DOMAIN: &str = "test.m-ld.org";

    fn iri(s: &str) -> NamedNode {
        NamedNode::new(format!("http://test.m-ld.org/{s}")).unwrap()
    }

    fn fred_op() -> Operation {
        let time = TreeClock::genesis().ticked();
        let t = Triple::new(
            iri("fred"),
            iri("#name"),
            Literal::new_simple_literal("Fred"),
        );
        Operation {
            from: 1,
            time: time.clone(),
            deletes: vec![],
            inserts: vec![(t, vec![time.hash()])],
            principal: None,
            agreed: None,
        }
    }

    #[test]
    fn a_plain_operation_is_written_like_js() {
        let bytes = encode_operation_message(
            &OperationMessage {
                prev: 0,
                op: fred_op(),
            },
            DOMAIN,
        )
        .unwrap();
        let value = msgpack::decode(&bytes).unwrap();
        let keys: Vec<_> = value
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, ["prev", "enc", "attr"]);
        let (prev, enc) = split_operation_message(&bytes).unwrap();
        assert_eq!(prev, 0);
        let arr = msgpack::decode(&enc).unwrap();
        assert_eq!(arr[0], Value::from(5));
        let update = msgpack::decode(arr[3].as_slice().unwrap()).unwrap();
        let json = msgpack::to_json(&update).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{}, {"@id": "fred", "name": "Fred"}])
        );
    }

    /// The blank-node labels of an encoded operation's reified triples.
    fn labels(op: &Operation) -> Vec<String> {
        let arr = encoded_operation_value(op, &DomainContext::new(DOMAIN).unwrap()).unwrap();
        let update = msgpack::decode(arr[3].as_slice().unwrap()).unwrap();
        let json = msgpack::to_json(&update).unwrap();
        let mut labels = Vec::new();
        for part in json.as_array().unwrap() {
            let objects = match part {
                serde_json::Value::Array(objects) => objects.clone(),
                object => vec![object.clone()],
            };
            labels.extend(
                objects
                    .iter()
                    .filter_map(|o| Some(o.get("@id")?.as_str()?.to_owned()))
                    .filter(|id| id.starts_with("_:")),
            );
        }
        labels
    }

    /// m-ld-js fuses an author's contiguous operations by their labelled triples: two deletes
    /// with one label in consecutive operations would merge into one corrupt reification.
    #[test]
    fn reified_labels_differ_across_an_authors_operations() {
        let first = fred_op();
        let t = |o: &str| Triple::new(iri("fred"), iri("#n"), Literal::new_simple_literal(o));
        let deleting = |time: &TreeClock, o: &str| Operation {
            from: time.ticks(),
            time: time.clone(),
            deletes: vec![(t(o), vec![first.tid()])],
            inserts: vec![(t("x"), vec![time.hash()])],
            principal: None,
            agreed: None,
        };
        let second = deleting(&first.time.ticked(), "a");
        let third = deleting(&second.time.ticked(), "b");
        let (a, b) = (labels(&second), labels(&third));
        assert_eq!((a.len(), b.len()), (1, 1));
        assert_ne!(a, b);
        // A fused operation labels deletes and inserts apart.
        let fused = Operation {
            from: 2,
            inserts: vec![(t("x"), vec![second.tid()]), (t("y"), vec![third.tid()])],
            ..third.clone()
        };
        let all = labels(&fused);
        let distinct: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!((all.len(), distinct.len()), (3, 3));
    }

    #[test]
    fn plain_inserts_must_carry_the_operation_tid() {
        let mut op = fred_op();
        op.inserts[0].1 = vec![TreeClock::genesis().hash()];
        assert!(encode_operation(&op, DOMAIN).is_err());
        op.inserts[0].1 = vec![];
        assert!(encode_operation(&op, DOMAIN).is_err());
        let mut op = fred_op();
        op.from = 2;
        assert!(encode_operation(&op, DOMAIN).is_err());
    }

    #[test]
    fn envelopes_are_checked_as_js_does() {
        let enc = encode_operation(&fred_op(), DOMAIN).unwrap();
        let good = operation_message_bytes(7, &enc);
        assert_eq!(split_operation_message(&good).unwrap().0, 7);
        let env = |prev: Value, enc: Value, attr: Option<Value>| {
            let mut entries = vec![(Value::from("prev"), prev), (Value::from("enc"), enc)];
            if let Some(attr) = attr {
                entries.push((Value::from("attr"), attr));
            }
            msgpack::encode(&Value::Map(entries))
        };
        let bin = Value::Binary(enc.clone());
        assert!(
            split_operation_message(&env(Value::F64(7.0), bin.clone(), Some(Value::Nil))).is_ok()
        );
        let attr = Value::Map(vec![(Value::from("pid"), Value::from("x"))]);
        assert!(split_operation_message(&env(Value::from(7), bin.clone(), Some(attr))).is_ok());
        for bad in [
            env(Value::from(7), bin.clone(), None),
            env(Value::from(-1), bin.clone(), Some(Value::Nil)),
            env(Value::from("7"), bin.clone(), Some(Value::Nil)),
            env(Value::from(7), Value::from("str"), Some(Value::Nil)),
            env(Value::from(7), bin.clone(), Some(Value::from(1))),
        ] {
            let err = split_operation_message(&bad).unwrap_err();
            assert_eq!(err.status(), 5001, "{err}");
        }
    }

    #[test]
    fn old_versions_and_short_arrays() {
        let ctx = DomainContext::new(DOMAIN).unwrap();
        let limits = WireLimits::default();
        let Value::Array(mut items) = encoded_operation_value(&fred_op(), &ctx).unwrap() else {
            panic!("not an array");
        };
        items.truncate(5);
        items[0] = Value::from(3);
        let op = operation_from_value(&Value::Array(items.clone()), &ctx, &limits).unwrap();
        assert_eq!(op, fred_op());
        items[0] = Value::from(2);
        assert!(operation_from_value(&Value::Array(items.clone()), &ctx, &limits).is_err());
        items[0] = Value::from(5);
        items.truncate(4);
        assert!(operation_from_value(&Value::Array(items), &ctx, &limits).is_err());
    }

    #[test]
    fn shared_datatype_updates_are_unsupported() {
        let ctx = DomainContext::new(DOMAIN).unwrap();
        let time = TreeClock::genesis().ticked();
        let upd = serde_json::json!([{}, {}, {"@id": "_:u", "s": "fred", "p": "#n",
            "o": {"@value": "x", "@type": "@json", "@id": "\u{0}"},
            "op": {"@value": [1], "@type": "@json", "@id": "\u{0}"}}]);
        let bytes = msgpack::encode(&msgpack::from_json(&upd));
        let arr = Value::Array(vec![
            Value::from(5),
            Value::from(1),
            time.to_msgpack(),
            Value::Binary(bytes),
            Value::Array(vec![Value::from(1)]),
        ]);
        let err = operation_from_value(&arr, &ctx, &WireLimits::default()).unwrap_err();
        assert!(matches!(err, CoreError::UnsupportedUpdate(_)), "{err}");
        let empty = msgpack::encode(&msgpack::from_json(&serde_json::json!([{}, {}, {}])));
        let Value::Array(mut items) = arr else {
            panic!("not an array");
        };
        items[3] = Value::Binary(empty);
        assert!(operation_from_value(&Value::Array(items), &ctx, &WireLimits::default()).is_ok());
    }
}

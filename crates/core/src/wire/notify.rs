//! Notification channels (docs/protocol.md §2.5, §3.4, m-ld-js `PubsubRemotes.notifier` /
//! `onNotify`, `Snapshot.Datum`): the `{next}` / `{complete}` / `{error}` messages of a stream,
//! and the snapshot data items carried in `next`.
//!
//! Owns [`Notification`] and [`SnapshotDatum`] and their bytes. It must not know which channel
//! carries what, nor how many triples to put in a batch (the caller chooses; JS sends 10).
//! Operation messages on update channels are [`operation`](super::operation)'s.
//!
//! Decoding follows JS: the keys are checked in the order `next`, `complete`, `error`, each
//! only if its value is truthy; a notification with none of them is an error here (JS ignores
//! it silently). A datum is `{inserts: bin, encoding}` (reified triples with their TIDs, where
//! entailed triples have none) or `{operation: EncodedOperation}`. Every decoding failure is a
//! [`CoreError::BadResponse`] (5002), the stream being part of a response; the size limits of
//! [`WireLimits`] apply as for operations.

use oxrdf::Triple;
use rmpv::Value;

use crate::CoreError;
use crate::clock::Tid;
use crate::operation::Operation;
use crate::wire::encoding::{
    WireLimits, decode_buffer, encode_packed, encodings_from_value, encodings_to_value,
    msgpack_bytes,
};
use crate::wire::jsonld::{self, DomainContext};
use crate::wire::msgpack;
use crate::wire::operation::{encoded_operation_value, field, natural, operation_from_value};
use crate::wire::reified;

/// One message on a notification channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    /// The next item: a MessagePack snapshot datum or operation message bytes.
    Next(Vec<u8>),
    /// The end of the stream.
    Complete,
    /// The stream failed.
    Error(NotifyError),
}

/// The error of a failed stream (JS `toJSON(error)`, read back by `MeldError.from`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyError {
    /// The `MeldErrorStatus`, if the error had one.
    pub status: Option<u16>,
    /// The error message.
    pub message: String,
}

impl Notification {
    /// Encodes the notification: `{next: bin}`, `{complete: true}` or
    /// `{error: {status, message}}`.
    pub fn encode(&self) -> Vec<u8> {
        let (k, v) = match self {
            Notification::Next(bytes) => ("next", Value::Binary(bytes.clone())),
            Notification::Complete => ("complete", Value::Boolean(true)),
            Notification::Error(e) => {
                let mut entries = Vec::with_capacity(2);
                if let Some(status) = e.status {
                    entries.push((Value::from("status"), Value::from(status)));
                }
                entries.push((Value::from("message"), Value::from(e.message.as_str())));
                ("error", Value::Map(entries))
            }
        };
        msgpack::encode(&Value::Map(vec![(Value::from(k), v)]))
    }

    /// Decodes a notification.
    pub fn decode(bytes: &[u8]) -> Result<Notification, CoreError> {
        let value = msgpack::decode(bytes).map_err(bad)?;
        let entries = value
            .as_map()
            .ok_or_else(|| bad("notification is not a map"))?;
        let truthy = |key: &str| field(entries, key).filter(|v| is_truthy(v));
        if let Some(next) = truthy("next") {
            match next {
                Value::Binary(bytes) => Ok(Notification::Next(bytes.clone())),
                _ => Err(bad("notification next is not binary")),
            }
        } else if truthy("complete").is_some() {
            Ok(Notification::Complete)
        } else if let Some(error) = truthy("error") {
            let (status, message) = match error {
                Value::Map(e) => (
                    field(e, "status")
                        .and_then(natural)
                        .and_then(|s| u16::try_from(s).ok()),
                    field(e, "message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                ),
                other => (None, other.as_str().unwrap_or_default().to_owned()),
            };
            Ok(Notification::Error(NotifyError { status, message }))
        } else {
            Err(bad("notification has no next, complete or error"))
        }
    }
}

/// JS truthiness of a decoded value.
fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Nil => false,
        Value::Boolean(b) => *b,
        Value::Integer(i) => i.as_i64() != Some(0),
        Value::F32(_) | Value::F64(_) => v.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.as_bytes().is_empty(),
        Value::Ext(..) => !msgpack::is_undefined(v),
        Value::Binary(_) | Value::Array(_) | Value::Map(_) => true,
    }
}

fn bad(e: impl ToString) -> CoreError {
    CoreError::BadResponse(e.to_string())
}

/// One item of snapshot data.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotDatum {
    /// A batch of triples with their TIDs; entailed triples (list indexes) have none.
    Inserts(Vec<(Triple, Vec<Tid>)>),
    /// A latest operation of some process, for cutting later fusions.
    Operation(Operation),
}

impl SnapshotDatum {
    /// Encodes the datum (the bytes of a [`Notification::Next`]).
    pub fn encode(&self, domain: &str) -> Result<Vec<u8>, CoreError> {
        let ctx = DomainContext::new(domain)?;
        let value = match self {
            SnapshotDatum::Inserts(triples) => {
                let mut packed = Vec::with_capacity(64 * triples.len() + 8);
                reified::write_document(&mut packed, &ctx, triples, "b")?;
                let (inserts, encodings) = encode_packed(packed)?;
                Value::Map(vec![
                    (Value::from("inserts"), Value::Binary(inserts)),
                    (Value::from("encoding"), encodings_to_value(&encodings)),
                ])
            }
            SnapshotDatum::Operation(op) => Value::Map(vec![(
                Value::from("operation"),
                encoded_operation_value(op, &ctx)?,
            )]),
        };
        Ok(msgpack::encode(&value))
    }

    /// Decodes a datum.
    pub fn decode(
        bytes: &[u8],
        domain: &str,
        limits: &WireLimits,
    ) -> Result<SnapshotDatum, CoreError> {
        let ctx = DomainContext::new(domain)?;
        SnapshotDatum::parse(bytes, &ctx, limits).map_err(|e| match e {
            CoreError::BadResponse(_) => e,
            other => bad(other),
        })
    }

    fn parse(
        bytes: &[u8],
        ctx: &DomainContext,
        limits: &WireLimits,
    ) -> Result<SnapshotDatum, CoreError> {
        let value = msgpack::decode(bytes)?;
        let entries = value
            .as_map()
            .ok_or_else(|| bad("snapshot datum is not a map"))?;
        if let Some(inserts) = field(entries, "inserts") {
            let Value::Binary(inserts) = inserts else {
                return Err(bad("snapshot inserts are not binary"));
            };
            let encodings = encodings_from_value(
                field(entries, "encoding").ok_or_else(|| bad("snapshot inserts lack encoding"))?,
            )?;
            // The usual shape decodes straight from the bytes; anything else in general.
            let body = match msgpack_bytes(inserts, &encodings, limits)? {
                Some(bytes) => {
                    if let Some(triples) = reified::triples(&bytes, ctx, limits) {
                        return Ok(SnapshotDatum::Inserts(triples));
                    }
                    msgpack::decode(&bytes)?
                }
                None => decode_buffer(inserts, &encodings, limits)?,
            };
            Ok(SnapshotDatum::Inserts(
                jsonld::triples_from_reified(ctx, &body, limits)?.triples,
            ))
        } else if let Some(op) = field(entries, "operation") {
            Ok(SnapshotDatum::Operation(operation_from_value(
                op, ctx, limits,
            )?))
        } else {
            Err(bad("snapshot datum has neither inserts nor operation"))
        }
    }
}

/// The datum `{operation: …}` around `EncodedOperation` bytes a journal keeps (the bytes are
/// spliced in as they are; they must hold one MessagePack array).
pub fn snapshot_operation_bytes(encoded_operation: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_operation.len() + 11);
    msgpack::write_map_len(&mut out, 1);
    msgpack::write_str(&mut out, "operation");
    out.extend_from_slice(encoded_operation);
    out
}

#[cfg(test)]
mod tests {
    use oxrdf::{Literal, NamedNode};

    use super::*;
    use crate::clock::TreeClock;

    #[test]
    fn notifications_round_trip() {
        for n in [
            Notification::Next(vec![1, 2, 3]),
            Notification::Complete,
            Notification::Error(NotifyError {
                status: Some(5004),
                message: "Meld is offline".into(),
            }),
            Notification::Error(NotifyError {
                status: None,
                message: "oops".into(),
            }),
        ] {
            assert_eq!(Notification::decode(&n.encode()).unwrap(), n);
        }
        assert_eq!(Notification::Complete.encode(), b"\x81\xa8complete\xc3");
    }

    #[test]
    fn falsy_notifications_are_skipped_in_js_order() {
        let both = msgpack::encode(&msgpack::from_json(
            &serde_json::json!({"complete": false, "error": {"message": "x"}}),
        ));
        assert!(matches!(
            Notification::decode(&both).unwrap(),
            Notification::Error(_)
        ));
        let none = msgpack::encode(&msgpack::from_json(&serde_json::json!({"next": null})));
        assert_eq!(Notification::decode(&none).unwrap_err().status(), 5002);
    }

    #[test]
    fn snapshot_data_round_trip() {
        let s = NamedNode::new_unchecked("http://test.m-ld.org/fred");
        let tid = TreeClock::genesis().ticked().hash();
        let inserts = SnapshotDatum::Inserts(vec![
            (
                Triple::new(
                    s.clone(),
                    NamedNode::new_unchecked("http://test.m-ld.org/#n"),
                    Literal::new_simple_literal("F"),
                ),
                vec![tid],
            ),
            (
                Triple::new(
                    s,
                    NamedNode::new_unchecked(jsonld::JRQL_INDEX),
                    Literal::new_typed_literal(
                        "0",
                        NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#integer"),
                    ),
                ),
                vec![],
            ),
        ]);
        let bytes = inserts.encode("test.m-ld.org").unwrap();
        let limits = WireLimits::default();
        assert_eq!(
            SnapshotDatum::decode(&bytes, "test.m-ld.org", &limits).unwrap(),
            inserts
        );
        assert!(SnapshotDatum::decode(&bytes, "not a domain", &limits).is_err());
        assert!(SnapshotDatum::decode(&[0x80], "test.m-ld.org", &limits).is_err());
    }
}

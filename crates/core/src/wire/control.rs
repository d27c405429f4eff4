//! Control messages (docs/protocol.md §2.3–§2.4, m-ld-js `ControlMessage.ts`): snapshot and rev-up
//! requests, their responses, rejections, and the ACK.
//!
//! Owns the envelope `{enc, attr}` around the MessagePack control JSON and the typed
//! [`Request`], [`Response`] and [`Reply`] forms. It must not decide how to answer a request
//! or which peer to ask (that is the engine's remotes logic).
//!
//! Encoding is byte-exact with m-ld-js: `{enc: bin, attr: nil}` and an inner map that starts
//! with `@type` and has the other keys in JS order. A snapshot response without a clock is
//! written with `clock: []` rather than JS `undefined`, because JS cannot parse its own
//! `undefined` there (docs/protocol.md §7.2); decoding accepts `undefined` (`d4 00 00`) as no
//! clock.
//!
//! Decoding follows JS: the envelope needs a binary `enc` and an `attr` that is `null` or a
//! map (an attribution is accepted and ignored: no transport security), the inner value a
//! string `@type`. Malformed requests are [`CoreError::BadRequest`] (5003, what the responder
//! rejects them with); malformed responses are [`CoreError::BadResponse`] (5002).

use rmpv::Value;

use crate::CoreError;
use crate::clock::{GlobalClock, TreeClock};
use crate::wire::msgpack;
use crate::wire::operation::{field, natural, present};

/// `@type` of a snapshot request.
pub const SNAPSHOT_REQUEST: &str = "http://control.m-ld.org/request/snapshot";
/// `@type` of a rev-up request.
pub const REVUP_REQUEST: &str = "http://control.m-ld.org/request/revup";
/// `@type` of a snapshot response.
pub const SNAPSHOT_RESPONSE: &str = "http://control.m-ld.org/response/snapshot";
/// `@type` of a rev-up response.
pub const REVUP_RESPONSE: &str = "http://control.m-ld.org/response/revup";
/// `@type` of a rejection.
pub const REJECTED_RESPONSE: &str = "http://control.m-ld.org/response/rejected";

/// The acknowledgement of a response: MessagePack `null`.
pub const ACK: &[u8] = &[0xc0];

/// The requester's time in a rev-up request.
#[derive(Debug, Clone, PartialEq)]
pub enum RevupTime {
    /// A tree clock with its ID leaf: what m-ld-js clones send.
    Clock(TreeClock),
    /// A well-formed clock tree without an ID leaf, kept as JSON (m-ld-js accepts these, e.g.
    /// `0` for "nothing seen"; raw peers send them). A responder may treat every tick in it
    /// as seen, or reject the request.
    Unidentified(serde_json::Value),
}

/// A control request, sent to one collaborator.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Asks for a snapshot; `new_clock` asks for a forked clock for a new clone.
    Snapshot {
        /// Whether the requester needs a new clock.
        new_clock: bool,
    },
    /// Asks for the operations after `time`.
    Revup {
        /// The requester's current clock.
        time: RevupTime,
    },
}

/// A snapshot response (JS `SnapshotResponse`).
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotResponse {
    /// The requester's new clock, if it asked for one.
    pub clock: Option<TreeClock>,
    /// The responder's global clock.
    pub gwc: GlobalClock,
    /// The time of the last agreement in the snapshot.
    pub agreed: TreeClock,
    /// The channel of the snapshot data.
    pub data_address: String,
    /// The channel of operations that arrive while the snapshot is sent.
    pub updates_address: String,
}

/// A control response.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// A snapshot is ready on two channels.
    Snapshot(SnapshotResponse),
    /// A rev-up is ready on a channel, or (`gwc: None`) the responder cannot provide it.
    Revup {
        /// The responder's global clock; `None` if it cannot provide the rev-up.
        gwc: Option<GlobalClock>,
        /// The channel of the operations; with `gwc: None`, the responder's clone id.
        updates_address: String,
    },
    /// The request was rejected with a m-ld error status.
    Rejected {
        /// The `MeldErrorStatus`.
        status: u16,
    },
}

/// What arrives on a reply topic: a response, or the ACK of one.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The requester is ready for the response's streams.
    Ack,
    /// A response (a requester that gives up replies with [`Response::Rejected`]).
    Response(Response),
}

fn envelope(json: Value) -> Vec<u8> {
    let enc = msgpack::encode(&json);
    let mut out = Vec::with_capacity(enc.len() + 16);
    msgpack::write_map_len(&mut out, 2);
    msgpack::write_str(&mut out, "enc");
    msgpack::write_bin(&mut out, &enc);
    msgpack::write_str(&mut out, "attr");
    out.push(0xc0);
    out
}

fn control(ty: &str, rest: Vec<(&str, Value)>) -> Value {
    let mut entries = Vec::with_capacity(rest.len() + 1);
    entries.push((Value::from("@type"), Value::from(ty)));
    entries.extend(rest.into_iter().map(|(k, v)| (Value::from(k), v)));
    Value::Map(entries)
}

/// Opens an envelope (JS `ControlMessage.decodeBuffer`): the inner control map and its type.
fn open(bytes: &[u8]) -> Result<(String, Vec<(Value, Value)>), String> {
    let outer = msgpack::decode(bytes).map_err(|e| e.to_string())?;
    let entries = outer.as_map().ok_or("control message is not a map")?;
    let enc = match field(entries, "enc") {
        Some(Value::Binary(enc)) => enc,
        _ => return Err("control message enc is not binary".into()),
    };
    if !matches!(field(entries, "attr"), Some(Value::Nil | Value::Map(_))) {
        return Err("control message attr is not null or an object".into());
    }
    let inner = match msgpack::decode(enc).map_err(|e| e.to_string())? {
        Value::Map(inner) => inner,
        _ => return Err("control JSON is not an object".into()),
    };
    let ty = field(&inner, "@type")
        .and_then(Value::as_str)
        .ok_or("control JSON has no string @type")?
        .to_owned();
    Ok((ty, inner))
}

fn string(inner: &[(Value, Value)], key: &str) -> Result<String, String> {
    field(inner, key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("{key} is not a string"))
}

fn required<'v>(inner: &'v [(Value, Value)], key: &str) -> Result<&'v Value, String> {
    field(inner, key).ok_or_else(|| format!("no {key}"))
}

impl Request {
    /// Encodes the request with its envelope.
    pub fn encode(&self) -> Vec<u8> {
        envelope(match self {
            Request::Snapshot { new_clock } => control(
                SNAPSHOT_REQUEST,
                vec![("newClock", Value::Boolean(*new_clock))],
            ),
            Request::Revup { time } => control(
                REVUP_REQUEST,
                vec![(
                    "time",
                    match time {
                        RevupTime::Clock(clock) => clock.to_msgpack(),
                        RevupTime::Unidentified(json) => msgpack::from_json(json),
                    },
                )],
            ),
        })
    }

    /// Decodes a request (JS `Request.fromBuffer`); errors are [`CoreError::BadRequest`].
    pub fn decode(bytes: &[u8]) -> Result<Request, CoreError> {
        Request::parse(bytes).map_err(CoreError::BadRequest)
    }

    fn parse(bytes: &[u8]) -> Result<Request, String> {
        let (ty, inner) = open(bytes)?;
        match ty.as_str() {
            SNAPSHOT_REQUEST => {
                let new_clock = match present(field(&inner, "newClock")) {
                    None => false,
                    Some(Value::Boolean(b)) => *b,
                    Some(other) => return Err(format!("newClock {other} is not a boolean")),
                };
                Ok(Request::Snapshot { new_clock })
            }
            REVUP_REQUEST => {
                let time = required(&inner, "time")?;
                Ok(Request::Revup {
                    time: revup_time(time)?,
                })
            }
            other => Err(format!("unknown request type {other}")),
        }
    }
}

fn revup_time(time: &Value) -> Result<RevupTime, String> {
    match TreeClock::from_msgpack(time) {
        Ok(clock) => Ok(RevupTime::Clock(clock)),
        Err(e) => {
            // Without an ID leaf, the tree is well-formed if adding one beside it makes a clock.
            let probe = Value::Array(vec![time.clone(), Value::Array(vec![])]);
            if TreeClock::from_msgpack(&probe).is_ok() {
                let json = msgpack::to_json(time).map_err(|e| e.to_string())?;
                Ok(RevupTime::Unidentified(json))
            } else {
                Err(e.to_string())
            }
        }
    }
}

impl Response {
    /// Encodes the response with its envelope.
    pub fn encode(&self) -> Vec<u8> {
        envelope(match self {
            Response::Snapshot(r) => control(
                SNAPSHOT_RESPONSE,
                vec![
                    (
                        "clock",
                        // JS cannot parse a missing clock (docs/protocol.md §7.2); `[]` is ignored
                        // by a requester that has a clock of its own.
                        r.clock.as_ref().map_or_else(
                            || TreeClock::genesis().to_msgpack(),
                            TreeClock::to_msgpack,
                        ),
                    ),
                    ("gwc", r.gwc.to_msgpack()),
                    ("agreed", r.agreed.to_msgpack()),
                    ("dataAddress", Value::from(r.data_address.as_str())),
                    ("updatesAddress", Value::from(r.updates_address.as_str())),
                ],
            ),
            Response::Revup {
                gwc,
                updates_address,
            } => control(
                REVUP_RESPONSE,
                vec![
                    (
                        "gwc",
                        gwc.as_ref().map_or(Value::Nil, GlobalClock::to_msgpack),
                    ),
                    ("updatesAddress", Value::from(updates_address.as_str())),
                ],
            ),
            Response::Rejected { status } => {
                control(REJECTED_RESPONSE, vec![("status", Value::from(*status))])
            }
        })
    }

    /// Decodes a response (JS `Response.fromBuffer`); errors are [`CoreError::BadResponse`].
    pub fn decode(bytes: &[u8]) -> Result<Response, CoreError> {
        Response::parse(bytes).map_err(CoreError::BadResponse)
    }

    fn parse(bytes: &[u8]) -> Result<Response, String> {
        let (ty, inner) = open(bytes)?;
        let gwc = |v: &Value| GlobalClock::from_msgpack(v).map_err(|e| e.to_string());
        let clock = |v: &Value| TreeClock::from_msgpack(v).map_err(|e| e.to_string());
        match ty.as_str() {
            SNAPSHOT_RESPONSE => Ok(Response::Snapshot(SnapshotResponse {
                clock: match present(field(&inner, "clock")) {
                    Some(c) => Some(clock(c)?),
                    None => None,
                },
                gwc: gwc(required(&inner, "gwc")?)?,
                agreed: clock(required(&inner, "agreed")?)?,
                data_address: string(&inner, "dataAddress")?,
                updates_address: string(&inner, "updatesAddress")?,
            })),
            REVUP_RESPONSE => Ok(Response::Revup {
                gwc: match present(field(&inner, "gwc")) {
                    Some(g) => Some(gwc(g)?),
                    None => None,
                },
                updates_address: string(&inner, "updatesAddress")?,
            }),
            REJECTED_RESPONSE => {
                let status = field(&inner, "status")
                    .and_then(natural)
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or("rejection status is not a status code")?;
                Ok(Response::Rejected { status })
            }
            other => Err(format!("unknown response type {other}")),
        }
    }
}

impl Reply {
    /// Encodes the reply: the ACK bytes, or the response.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Reply::Ack => ACK.to_vec(),
            Reply::Response(r) => r.encode(),
        }
    }

    /// Decodes what arrived on a reply topic; errors are [`CoreError::BadResponse`].
    pub fn decode(bytes: &[u8]) -> Result<Reply, CoreError> {
        if bytes == ACK {
            Ok(Reply::Ack)
        } else {
            Response::decode(bytes).map(Reply::Response)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let time = TreeClock::genesis().ticked().forked().1.ticked();
        for req in [
            Request::Snapshot { new_clock: true },
            Request::Snapshot { new_clock: false },
            Request::Revup {
                time: RevupTime::Clock(time),
            },
            Request::Revup {
                time: RevupTime::Unidentified(serde_json::json!(0)),
            },
            Request::Revup {
                time: RevupTime::Unidentified(serde_json::json!([2, 1, 3])),
            },
        ] {
            assert_eq!(Request::decode(&req.encode()).unwrap(), req);
        }
    }

    #[test]
    fn bad_requests_are_rejections() {
        let bad_time = envelope(control(REVUP_REQUEST, vec![("time", Value::from("x"))]));
        let two_ids = envelope(control(
            REVUP_REQUEST,
            vec![("time", msgpack::from_json(&serde_json::json!([[], []])))],
        ));
        let unknown = envelope(control("http://control.m-ld.org/request/other", vec![]));
        let no_type = envelope(Value::Map(vec![]));
        for bytes in [bad_time, two_ids, unknown, no_type, vec![0xc0], vec![]] {
            let err = Request::decode(&bytes).unwrap_err();
            assert_eq!(err.status(), 5003, "{err}");
        }
    }

    #[test]
    fn responses_round_trip() {
        let gwc = GlobalClock::genesis();
        let clock = TreeClock::genesis().ticked();
        for res in [
            Response::Snapshot(SnapshotResponse {
                clock: Some(clock.clone()),
                gwc: gwc.clone(),
                agreed: TreeClock::genesis(),
                data_address: "d".into(),
                updates_address: "u".into(),
            }),
            Response::Revup {
                gwc: Some(gwc.clone()),
                updates_address: "u".into(),
            },
            Response::Revup {
                gwc: None,
                updates_address: "cloneB".into(),
            },
            Response::Rejected { status: 5004 },
        ] {
            assert_eq!(Response::decode(&res.encode()).unwrap(), res);
            let reply = Reply::Response(res);
            assert_eq!(Reply::decode(&reply.encode()).unwrap(), reply);
        }
        assert_eq!(Reply::decode(&Reply::Ack.encode()).unwrap(), Reply::Ack);
    }

    #[test]
    fn a_missing_snapshot_clock_is_sent_as_genesis() {
        let res = Response::Snapshot(SnapshotResponse {
            clock: None,
            gwc: GlobalClock::genesis(),
            agreed: TreeClock::genesis(),
            data_address: "d".into(),
            updates_address: "u".into(),
        });
        match Response::decode(&res.encode()).unwrap() {
            Response::Snapshot(r) => assert_eq!(r.clock, Some(TreeClock::genesis())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_responses_are_5002() {
        let no_gwc = envelope(control(
            SNAPSHOT_RESPONSE,
            vec![("agreed", Value::Array(vec![]))],
        ));
        let bad_status = envelope(control(
            REJECTED_RESPONSE,
            vec![("status", Value::from(-1))],
        ));
        let no_address = envelope(control(REVUP_RESPONSE, vec![("gwc", Value::Nil)]));
        for bytes in [no_gwc, bad_status, no_address, vec![0x80]] {
            let err = Reply::decode(&bytes).unwrap_err();
            assert_eq!(err.status(), 5002, "{err}");
        }
    }
}

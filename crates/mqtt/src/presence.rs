//! The presence map (docs/protocol.md §1.3, m-ld-js `MqttPresence`): which clones of the domain are
//! present, learned from retained records on `__presence/<domain>/<client>`.
//!
//! Owns the map and the record format. It must not publish or decide anything about readiness
//! or liveness (that is the remotes' event loop).
//!
//! A record is a JSON object from consumer id to address; m-ld clones publish
//! `{"<id>":"<domain>/control"}`. Records are kept in arrival order (a replaced record keeps its
//! place, as a JS object key does), and [`Presence::present`] lists consumer ids in that order.

use serde_json::Value;

use crate::topics::{filter_matches, is_level};

/// The payload that clears a record (a leave, or the will).
pub(crate) const LEAVE: &[u8] = b"";
/// The payload a clone sends itself, not retained, to learn that the retained records the broker
/// sent on subscription have all arrived.
pub(crate) const GHOST: &[u8] = b"-";

/// Present clones, by MQTT client id, each with its consumers and their addresses.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    records: Vec<(String, Vec<(String, String)>)>,
}

impl Presence {
    /// Forgets everything (on disconnection).
    pub fn clear(&mut self) {
        self.records.clear();
    }

    /// Removes `client`'s record.
    pub fn left(&mut self, client: &str) {
        self.records.retain(|(c, _)| c != client);
    }

    /// Stores `client`'s record from its payload. A payload that is not a JSON object of strings
    /// is an error and changes nothing.
    pub fn arrived(&mut self, client: &str, payload: &[u8]) -> Result<(), String> {
        let consumers = parse_record(payload)?;
        match self.records.iter_mut().find(|(c, _)| c == client) {
            Some((_, existing)) => *existing = consumers,
            None => self.records.push((client.to_owned(), consumers)),
        }
        Ok(())
    }

    /// Consumer ids whose address matches `address`, in arrival order, without repeats. Ids
    /// that cannot be a topic level (so cannot be sent to) are left out.
    pub fn present(&self, address: &str) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for (_, consumers) in &self.records {
            for (consumer, at) in consumers {
                if filter_matches(at, address) && is_level(consumer) && !ids.contains(consumer) {
                    ids.push(consumer.clone());
                }
            }
        }
        ids
    }
}

/// The record a clone publishes when it is present: `{"<id>":"<control address>"}`.
pub(crate) fn record(id: &str, control: &str) -> Vec<u8> {
    let mut map = serde_json::Map::new();
    map.insert(id.to_owned(), Value::String(control.to_owned()));
    Value::Object(map).to_string().into_bytes()
}

fn parse_record(payload: &[u8]) -> Result<Vec<(String, String)>, String> {
    let json: Value = serde_json::from_slice(payload).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(map) = json else {
        return Err("not a JSON object".into());
    };
    map.into_iter()
        .map(|(consumer, address)| match address {
            Value::String(address) => Ok((consumer, address)),
            other => Err(format!("address of {consumer:?} is {other}, not a string")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTROL: &str = "test.m-ld.org/control";

    #[test]
    fn the_record_is_the_js_one() {
        assert_eq!(
            record("cloneA", CONTROL),
            br#"{"cloneA":"test.m-ld.org/control"}"#.to_vec()
        );
        // Escaped as JSON.stringify would.
        assert_eq!(
            record("a\"b", CONTROL),
            br#"{"a\"b":"test.m-ld.org/control"}"#
        );
    }

    #[test]
    fn present_clones_keep_arrival_order() {
        let mut p = Presence::default();
        p.arrived("c", &record("c", CONTROL)).unwrap();
        p.arrived("a", &record("a", CONTROL)).unwrap();
        p.arrived("b", &record("b", CONTROL)).unwrap();
        assert_eq!(p.present(CONTROL), ["c", "a", "b"]);
        // A replaced record keeps its place.
        p.arrived("c", &record("c", CONTROL)).unwrap();
        assert_eq!(p.present(CONTROL), ["c", "a", "b"]);
        p.left("a");
        assert_eq!(p.present(CONTROL), ["c", "b"]);
        p.arrived("a", &record("a", CONTROL)).unwrap();
        assert_eq!(p.present(CONTROL), ["c", "b", "a"]);
        p.clear();
        assert!(p.present(CONTROL).is_empty());
    }

    #[test]
    fn only_consumers_at_the_address_are_present() {
        let mut p = Presence::default();
        p.arrived("a", br#"{"a":"other.org/control"}"#).unwrap();
        p.arrived("b", br#"{"b":"test.m-ld.org/+"}"#).unwrap();
        p.arrived("c", br#"{}"#).unwrap();
        p.arrived(
            "d",
            br#"{"d/x":"test.m-ld.org/control","+":"test.m-ld.org/control"}"#,
        )
        .unwrap();
        assert_eq!(p.present(CONTROL), ["b"]);
    }

    #[test]
    fn malformed_records_change_nothing() {
        let mut p = Presence::default();
        p.arrived("a", &record("a", CONTROL)).unwrap();
        for bad in [
            &b"-x"[..],
            b"[]",
            b"\"a\"",
            br#"{"a":1}"#,
            b"\xff\xfe",
            b"{",
        ] {
            assert!(p.arrived("a", bad).is_err(), "{bad:?}");
        }
        assert_eq!(p.present(CONTROL), ["a"]);
    }
}

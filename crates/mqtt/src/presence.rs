//! The presence map (docs/protocol.md §1.3, m-ld-js `MqttPresence`): which clones of the domain are
//! present, learned from retained records on `__presence/<domain>/<client>`.
//!
//! Owns the map and the record format. It must not publish or decide anything about readiness
//! or liveness (that is the remotes' event loop).
//!
//! A record is a JSON object from consumer id to address; m-ld clones publish
//! `{"<id>":"<domain>/control"}`. Records are kept in arrival order (a replaced record keeps its
//! place, as a JS object key does), and [`Presence::present`] lists consumer ids in that order.
//!
//! Each consumer's stay is numbered ([`Presence::stay`]): a clone that leaves and comes back (a
//! process closing a clone and opening one with the same id) is present again under a new
//! number, so a wait on the clone that left can tell that it is gone.

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
    /// Each client's consumers: id, address, and the number of the stay it began.
    records: Vec<(String, Vec<Consumer>)>,
    /// The number of the last stay begun.
    stays: u64,
}

#[derive(Debug)]
struct Consumer {
    id: String,
    address: String,
    stay: u64,
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
        let parsed = parse_record(payload)?;
        let existing = self.records.iter().position(|(c, _)| c == client);
        let before = existing.map(|i| std::mem::take(&mut self.records[i].1));
        let consumers = parsed
            .into_iter()
            .map(|(id, address)| {
                // A consumer the client's record already held at that address stays on.
                let stay = before
                    .iter()
                    .flatten()
                    .find(|c| c.id == id && c.address == address)
                    .map(|c| c.stay)
                    .unwrap_or_else(|| {
                        self.stays += 1;
                        self.stays
                    });
                Consumer { id, address, stay }
            })
            .collect();
        match existing {
            Some(i) => self.records[i].1 = consumers,
            None => self.records.push((client.to_owned(), consumers)),
        }
        Ok(())
    }

    /// The number of `id`'s present stay at `address`, if it is present there.
    pub fn stay(&self, id: &str, address: &str) -> Option<u64> {
        self.records
            .iter()
            .flat_map(|(_, consumers)| consumers)
            .find(|c| c.id == id && filter_matches(&c.address, address))
            .map(|c| c.stay)
    }

    /// Consumer ids whose address matches `address`, in arrival order, without repeats. Ids
    /// that cannot be a topic level (so cannot be sent to) are left out.
    pub fn present(&self, address: &str) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for (_, consumers) in &self.records {
            for Consumer {
                id, address: at, ..
            } in consumers
            {
                if filter_matches(at, address) && is_level(id) && !ids.contains(id) {
                    ids.push(id.clone());
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
    fn a_clone_that_leaves_and_returns_is_on_a_new_stay() {
        let mut p = Presence::default();
        p.arrived("a", &record("a", CONTROL)).unwrap();
        let first = p.stay("a", CONTROL).unwrap();
        // The same record again (a re-announcement) is the same stay.
        p.arrived("a", &record("a", CONTROL)).unwrap();
        assert_eq!(p.stay("a", CONTROL), Some(first));
        p.left("a");
        assert_eq!(p.stay("a", CONTROL), None);
        p.arrived("a", &record("a", CONTROL)).unwrap();
        let second = p.stay("a", CONTROL).unwrap();
        assert_ne!(second, first);
        p.clear();
        p.arrived("a", &record("a", CONTROL)).unwrap();
        assert_ne!(p.stay("a", CONTROL), Some(second));
        assert_eq!(p.stay("b", CONTROL), None);
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

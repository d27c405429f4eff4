//! The versioned metadata record of a clone's store (key `0x00`).
//!
//! Owns the record's binary form: storage format version, domain, local clock, GWC, journal
//! start and base, triple count and last agreement. It must not interpret them (that is the SU-Set's job).

use crate::CoreError;
use crate::clock::{GlobalClock, TreeClock};
use crate::keys;
use crate::operation::{clock_from_bytes, clock_to_bytes};
use crate::wire::msgpack;

/// The storage format this engine writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// The clone state that is not in the triple indexes or the journal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Meta {
    /// The domain name.
    pub domain: String,
    /// The local clock.
    pub clock: TreeClock,
    /// The global wall clock: latest public ticks and TID per process.
    pub gwc: GlobalClock,
    /// Local ticks at the journal's start: rev-ups from before it cannot be served.
    pub start: u64,
    /// A GWC that has seen every operation applied here before the journal's start: a snapshot
    /// that has not seen all of it would lose operations on a reset.
    pub base: GlobalClock,
    /// The number of triples in the graph.
    pub count: u64,
    /// The time of the last agreement, if any.
    pub agreed: Option<TreeClock>,
}

impl Meta {
    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64 + self.domain.len());
        keys::write_varint(&mut buf, FORMAT_VERSION);
        keys::write_lp(&mut buf, self.domain.as_bytes());
        keys::write_lp(&mut buf, &clock_to_bytes(&self.clock));
        keys::write_lp(&mut buf, &msgpack::encode(&self.gwc.to_msgpack()));
        keys::write_varint(&mut buf, self.start);
        keys::write_lp(&mut buf, &msgpack::encode(&self.base.to_msgpack()));
        keys::write_varint(&mut buf, self.count);
        match &self.agreed {
            Some(agreed) => {
                buf.push(1);
                keys::write_lp(&mut buf, &clock_to_bytes(agreed));
            }
            None => buf.push(0),
        }
        buf
    }

    /// Reads the record.
    pub fn decode(bytes: &[u8]) -> Result<Meta, CoreError> {
        let input = &mut &bytes[..];
        let version = keys::read_varint(input)?;
        if version != FORMAT_VERSION {
            return Err(CoreError::StoreFormat(version));
        }
        let domain = keys::read_str(input)?.to_string();
        let clock = clock_from_bytes(keys::read_lp(input)?)?;
        let gwc = msgpack::decode(keys::read_lp(input)?)
            .and_then(|v| GlobalClock::from_msgpack(&v))
            .map_err(|e| CoreError::Corrupt(format!("stored GWC: {e}")))?;
        let start = keys::read_varint(input)?;
        let base = msgpack::decode(keys::read_lp(input)?)
            .and_then(|v| GlobalClock::from_msgpack(&v))
            .map_err(|e| CoreError::Corrupt(format!("stored journal base: {e}")))?;
        let count = keys::read_varint(input)?;
        let agreed = match keys::read_u8(input)? {
            0 => None,
            1 => Some(clock_from_bytes(keys::read_lp(input)?)?),
            _ => return Err(CoreError::Corrupt("bad agreement flag".into())),
        };
        if !input.is_empty() {
            return Err(CoreError::Corrupt("trailing bytes in metadata".into()));
        }
        Ok(Meta {
            domain,
            clock,
            gwc,
            start,
            base,
            count,
            agreed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips() {
        let one = TreeClock::genesis().ticked();
        let (left, right) = one.forked();
        let clock = right.ticked();
        let gwc = GlobalClock::genesis()
            .set(&one)
            .and_then(|g| g.set(&left.ticked()))
            .unwrap();
        for agreed in [None, Some(clock.clone())] {
            let meta = Meta {
                domain: "test.m-ld.org".into(),
                clock: clock.clone(),
                gwc: gwc.clone(),
                start: 1,
                base: GlobalClock::genesis().set(&one).unwrap(),
                count: 42,
                agreed,
            };
            assert_eq!(Meta::decode(&meta.encode()).unwrap(), meta);
        }
    }

    #[test]
    fn other_versions_and_garbage_are_rejected() {
        let meta = Meta {
            domain: "d".into(),
            clock: TreeClock::genesis(),
            gwc: GlobalClock::genesis(),
            start: 0,
            base: GlobalClock::genesis(),
            count: 0,
            agreed: None,
        };
        let mut bytes = meta.encode();
        bytes[0] = 2;
        assert!(matches!(
            Meta::decode(&bytes),
            Err(CoreError::StoreFormat(2))
        ));
        let bytes = meta.encode();
        assert!(Meta::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(Meta::decode(&long).is_err());
    }
}

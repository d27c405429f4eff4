//! Transaction identities (TIDs): the raw bytes behind an m-ld-js `TreeClock.hash` string.
//!
//! Owns the [`Tid`] value type and its base64 text form. It must not know how a TID is derived
//! from a clock (that is [`TreeClock::hash`](super::TreeClock::hash)).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::CoreError;

/// The most raw bytes a TID holds: a SHA-1 digest, or a msgpack clock of at most 20 bytes.
pub const MAX_TID_LEN: usize = 20;

/// Longest base64 text of a TID (20 bytes → 28 characters with padding).
const MAX_TID_TEXT: usize = 28;

/// A transaction identity: 1 to 20 raw bytes, written as standard padded base64 (e.g. `kQE=`).
///
/// It is a `Copy` value with no heap storage. Ordering is bytewise on [`Tid::as_bytes`].
#[derive(Clone, Copy)]
pub struct Tid {
    bytes: [u8; MAX_TID_LEN],
    len: u8,
}

impl Tid {
    /// The TID with the given raw bytes; it fails unless there are 1 to 20 of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Tid, CoreError> {
        if bytes.is_empty() || bytes.len() > MAX_TID_LEN {
            return Err(CoreError::BadTid(format!(
                "{} raw bytes (want 1 to {MAX_TID_LEN})",
                bytes.len()
            )));
        }
        let mut tid = Tid {
            bytes: [0; MAX_TID_LEN],
            len: bytes.len() as u8,
        };
        tid.bytes[..bytes.len()].copy_from_slice(bytes);
        Ok(tid)
    }

    /// A TID from bytes the caller knows to be 1 to 20 long (extra bytes are dropped).
    pub(super) fn from_known_bytes(bytes: &[u8]) -> Tid {
        let len = bytes.len().min(MAX_TID_LEN);
        let mut tid = Tid {
            bytes: [0; MAX_TID_LEN],
            len: len as u8,
        };
        tid.bytes[..len].copy_from_slice(&bytes[..len]);
        tid
    }

    /// Parses standard padded base64 (canonical form only, as JS `Buffer.toString('base64')`).
    pub fn from_base64(text: &str) -> Result<Tid, CoreError> {
        if text.len() > MAX_TID_TEXT {
            return Err(CoreError::BadTid(format!("{text:?} is too long")));
        }
        let mut buf = [0u8; MAX_TID_TEXT];
        let n = STANDARD
            .decode_slice(text, &mut buf)
            .map_err(|e| CoreError::BadTid(format!("{text:?}: {e}")))?;
        Tid::from_bytes(&buf[..n])
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The standard padded base64 text, as m-ld-js uses for TIDs.
    pub fn to_base64(&self) -> String {
        self.to_string()
    }
}

impl PartialEq for Tid {
    fn eq(&self, other: &Tid) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Tid {}

impl Hash for Tid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for Tid {
    fn partial_cmp(&self, other: &Tid) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Tid {
    fn cmp(&self, other: &Tid) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Display for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; MAX_TID_TEXT];
        let n = STANDARD
            .encode_slice(self.as_bytes(), &mut buf)
            .map_err(|_| fmt::Error)?;
        // Base64 output is ASCII.
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tid({self})")
    }
}

impl FromStr for Tid {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Tid, CoreError> {
        Tid::from_base64(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        let tid: Tid = "kQE=".parse().unwrap();
        assert_eq!(tid.as_bytes(), &[0x91, 0x01]);
        assert_eq!(tid.to_string(), "kQE=");
        assert_eq!(format!("{tid:?}"), "Tid(kQE=)");
        let long = Tid::from_bytes(&[0xff; 20]).unwrap();
        assert_eq!(long.to_base64().len(), 28);
        assert_eq!(long.to_base64().parse::<Tid>().unwrap(), long);
    }

    #[test]
    fn bad_tids_are_errors() {
        for bad in ["", "kQE", "kQF=", "!blocked!", "kQE=kQE=", &"A".repeat(32)] {
            assert!(bad.parse::<Tid>().is_err(), "{bad}");
        }
        assert!(Tid::from_bytes(&[]).is_err());
        assert!(Tid::from_bytes(&[0; 21]).is_err());
    }

    #[test]
    fn ordering_and_equality_use_the_bytes() {
        let a = Tid::from_bytes(&[1]).unwrap();
        let b = Tid::from_bytes(&[1, 0]).unwrap();
        let c = Tid::from_bytes(&[2]).unwrap();
        assert_ne!(a, b);
        assert!(a < b && b < c);
    }
}

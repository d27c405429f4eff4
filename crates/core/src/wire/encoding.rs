//! Buffer encodings of operation bodies and snapshot batches (docs/protocol.md §3.1, m-ld-js
//! `MeldEncoder.bufferFromJson` / `jsonFromBuffer`).
//!
//! Owns the `encoding` code list (`0` JSON, `1` MessagePack, `2` gzip, `3` SECURE), the
//! compression threshold, and the size limits that guard decoding against decompression bombs
//! ([`WireLimits`]). It must not know what the encoded values mean.
//!
//! Encoding is MessagePack, gzipped when the MessagePack is longer than
//! [`COMPRESS_THRESHOLD_BYTES`]. The gzip header carries no timestamp (this crate reads no clock)
//! and the Unix OS byte, as `fflate` writes it; decoders accept any RFC 1952 member. We deflate
//! at the fastest level (1), not `fflate`'s default (6): about seven times faster on operation
//! bodies and snapshot batches, for output some 20–40% larger, and just as standard.
//!
//! Decoding applies the codes in reverse order, as JS does. JSON (`0`) is accepted; SECURE (`3`)
//! and unknown codes are [`CoreError::UnrecognisedEncoding`]. The result must be a value, not
//! bytes (JS would then misread the bytes as a body, so the list must end with JSON or
//! MessagePack).

use std::borrow::Cow;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::GzBuilder;
use flate2::read::GzDecoder;

use crate::CoreError;
use crate::wire::msgpack;

/// Encoded MessagePack longer than this is gzipped (JS `COMPRESS_THRESHOLD_BYTES`).
pub const COMPRESS_THRESHOLD_BYTES: usize = 1024;

/// The most encoding codes a buffer may list.
const MAX_ENCODINGS: usize = 8;

/// The OS byte `fflate` writes into gzip headers (Unix).
const GZIP_OS_UNIX: u8 = 3;

/// One step of a buffer encoding (JS `BufferEncoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufferEncoding {
    /// UTF-8 JSON text (`0`); JS only writes it in tests.
    Json,
    /// MessagePack (`1`).
    Msgpack,
    /// gzip, RFC 1952 (`2`).
    Gzip,
    /// Transport security (`3`); only meaningful with a security extension, which this engine
    /// does not have.
    Secure,
}

impl BufferEncoding {
    /// The wire code.
    pub fn code(self) -> u64 {
        match self {
            BufferEncoding::Json => 0,
            BufferEncoding::Msgpack => 1,
            BufferEncoding::Gzip => 2,
            BufferEncoding::Secure => 3,
        }
    }

    /// The encoding with a wire code, if it is one of the four.
    pub fn from_code(code: u64) -> Option<BufferEncoding> {
        match code {
            0 => Some(BufferEncoding::Json),
            1 => Some(BufferEncoding::Msgpack),
            2 => Some(BufferEncoding::Gzip),
            3 => Some(BufferEncoding::Secure),
            _ => None,
        }
    }
}

/// Limits that decoding of peer messages enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLimits {
    /// The most bytes a gzip member may inflate to.
    pub max_inflated_bytes: usize,
    /// The most RDF statements one operation body or snapshot batch may hold (counting each
    /// reification statement and each TID).
    pub max_statements: usize,
}

impl Default for WireLimits {
    /// 64 MiB inflated and a million statements: far beyond anything m-ld-js sends, small
    /// enough to keep a hostile message from exhausting memory.
    fn default() -> WireLimits {
        WireLimits {
            max_inflated_bytes: 64 << 20,
            max_statements: 1_000_000,
        }
    }
}

/// Encodes a value as JS `bufferFromJson` does: MessagePack, gzipped above the threshold.
pub fn encode_buffer(value: &rmpv::Value) -> Result<(Vec<u8>, Vec<BufferEncoding>), CoreError> {
    encode_packed(msgpack::encode(value))
}

/// [`encode_buffer`] of a value already packed as MessagePack.
pub fn encode_packed(packed: Vec<u8>) -> Result<(Vec<u8>, Vec<BufferEncoding>), CoreError> {
    if packed.len() > COMPRESS_THRESHOLD_BYTES {
        Ok((
            gzip(&packed)?,
            vec![BufferEncoding::Msgpack, BufferEncoding::Gzip],
        ))
    } else {
        Ok((packed, vec![BufferEncoding::Msgpack]))
    }
}

/// Gzips bytes (fastest level, no timestamp, Unix OS byte).
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, CoreError> {
    let mut encoder = GzBuilder::new()
        .operating_system(GZIP_OS_UNIX)
        .write(Vec::with_capacity(bytes.len() / 2), Compression::fast());
    encoder
        .write_all(bytes)
        .and_then(|_| encoder.finish())
        .map_err(|e| CoreError::BadOperation(format!("gzip failed: {e}")))
}

/// Inflates one gzip member, failing if it holds more than `limit` bytes.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, CoreError> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    GzDecoder::new(bytes)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| CoreError::BadOperation(format!("bad gzip data: {e}")))?;
    if out.len() > limit {
        return Err(CoreError::WireTooLarge(format!(
            "gzip data inflates to more than {limit} bytes"
        )));
    }
    Ok(out)
}

/// The MessagePack bytes of a buffer encoded as MessagePack, gzipped or not (the encodings
/// `[1]` and `[1, 2]`, all that m-ld-js and this engine write), for decoders that read the bytes
/// directly; `None` for any other encoding list (use [`decode_buffer`]).
pub fn msgpack_bytes<'a>(
    bytes: &'a [u8],
    encodings: &[u64],
    limits: &WireLimits,
) -> Result<Option<Cow<'a, [u8]>>, CoreError> {
    let (msgpack, gzip) = (BufferEncoding::Msgpack.code(), BufferEncoding::Gzip.code());
    Ok(match encodings {
        [m] if *m == msgpack => Some(Cow::Borrowed(bytes)),
        [m, g] if *m == msgpack && *g == gzip => {
            Some(Cow::Owned(gunzip(bytes, limits.max_inflated_bytes)?))
        }
        _ => None,
    })
}

/// Reads an `encoding` list: an array of wire codes.
pub fn encodings_from_value(value: &rmpv::Value) -> Result<Vec<u64>, CoreError> {
    let items = value
        .as_array()
        .ok_or_else(|| CoreError::BadOperation("encoding is not an array".into()))?;
    if items.len() > MAX_ENCODINGS {
        return Err(CoreError::BadOperation(format!(
            "{} encodings (at most {MAX_ENCODINGS})",
            items.len()
        )));
    }
    items
        .iter()
        .map(|item| {
            item.as_u64()
                .ok_or_else(|| CoreError::BadOperation(format!("bad encoding code {item}")))
        })
        .collect()
}

/// The `encoding` list value for a list of encodings.
pub fn encodings_to_value(encodings: &[BufferEncoding]) -> rmpv::Value {
    rmpv::Value::Array(
        encodings
            .iter()
            .map(|e| rmpv::Value::from(e.code()))
            .collect(),
    )
}

/// The decoding state: still bytes, or already a value.
enum Stage<'a> {
    Bytes(Cow<'a, [u8]>),
    Value(rmpv::Value),
}

/// Decodes a buffer by applying its encodings in reverse (JS `jsonFromBuffer`).
pub fn decode_buffer(
    bytes: &[u8],
    encodings: &[u64],
    limits: &WireLimits,
) -> Result<rmpv::Value, CoreError> {
    let mut stage = Stage::Bytes(Cow::Borrowed(bytes));
    for code in encodings.iter().rev() {
        let bytes = match stage {
            Stage::Bytes(bytes) => bytes,
            Stage::Value(_) => {
                return Err(CoreError::BadOperation(format!(
                    "encoding {code} applied to an already decoded value"
                )));
            }
        };
        stage = match BufferEncoding::from_code(*code) {
            Some(BufferEncoding::Json) => {
                let json: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|e| CoreError::BadOperation(format!("bad JSON: {e}")))?;
                Stage::Value(msgpack::from_json(&json))
            }
            Some(BufferEncoding::Msgpack) => Stage::Value(msgpack::decode(&bytes)?),
            Some(BufferEncoding::Gzip) => {
                Stage::Bytes(Cow::Owned(gunzip(&bytes, limits.max_inflated_bytes)?))
            }
            Some(BufferEncoding::Secure) | None => {
                return Err(CoreError::UnrecognisedEncoding(*code));
            }
        };
    }
    match stage {
        Stage::Value(value) => Ok(value),
        Stage::Bytes(_) => Err(CoreError::BadOperation(
            "encoding does not end in JSON or MessagePack".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> WireLimits {
        WireLimits::default()
    }

    #[test]
    fn small_values_are_plain_msgpack_and_large_ones_gzipped() {
        let small = rmpv::Value::from("x".repeat(100));
        let (bytes, enc) = encode_buffer(&small).unwrap();
        assert_eq!(enc, vec![BufferEncoding::Msgpack]);
        assert_eq!(decode_buffer(&bytes, &[1], &limits()).unwrap(), small);

        let large = rmpv::Value::from("x".repeat(2000));
        let (bytes, enc) = encode_buffer(&large).unwrap();
        assert_eq!(enc, vec![BufferEncoding::Msgpack, BufferEncoding::Gzip]);
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 0x08, 0x00]);
        assert_eq!(bytes[9], GZIP_OS_UNIX);
        assert!(bytes.len() < 200);
        assert_eq!(decode_buffer(&bytes, &[1, 2], &limits()).unwrap(), large);
    }

    #[test]
    fn the_threshold_is_exclusive() {
        // A str16 of n bytes packs to n + 3 bytes.
        let at = rmpv::Value::from("y".repeat(COMPRESS_THRESHOLD_BYTES - 3));
        assert_eq!(encode_buffer(&at).unwrap().1.len(), 1);
        let over = rmpv::Value::from("y".repeat(COMPRESS_THRESHOLD_BYTES - 2));
        assert_eq!(encode_buffer(&over).unwrap().1.len(), 2);
    }

    #[test]
    fn json_is_accepted_on_decode() {
        let v = decode_buffer(br#"[{}, {"@id": "fred", "age": 40}]"#, &[0], &limits()).unwrap();
        assert_eq!(v[1]["age"], rmpv::Value::from(40));
        assert!(decode_buffer(b"{nope", &[0], &limits()).is_err());
    }

    #[test]
    fn secure_and_unknown_codes_are_unrecognised() {
        for code in [3, 4, 99] {
            let err = decode_buffer(&[0xc0], &[1, code], &limits()).unwrap_err();
            assert!(matches!(err, CoreError::UnrecognisedEncoding(c) if c == code));
            assert_eq!(err.status(), 5001);
        }
    }

    #[test]
    fn a_list_must_end_in_a_value() {
        assert!(decode_buffer(&gzip(b"abc").unwrap(), &[2], &limits()).is_err());
        assert!(decode_buffer(&[0xc0], &[], &limits()).is_err());
        assert!(decode_buffer(&[0xc0], &[2, 1], &limits()).is_err());
        assert!(decode_buffer(&[0xc0], &[1, 1], &limits()).is_err());
    }

    #[test]
    fn gzip_bombs_are_refused() {
        // The best compression makes the strongest bomb (ours is the fastest, which also inflates
        // more than 200-fold here).
        let mut encoder = GzBuilder::new().write(Vec::new(), Compression::best());
        encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 2048);
        assert!(gzip(&vec![0u8; 1 << 20]).unwrap().len() < 8192);
        let tight = WireLimits {
            max_inflated_bytes: 1000,
            ..WireLimits::default()
        };
        let err = decode_buffer(&bomb, &[1, 2], &tight).unwrap_err();
        assert!(matches!(err, CoreError::WireTooLarge(_)), "{err}");
        assert_eq!(gunzip(&bomb, 1 << 20).unwrap().len(), 1 << 20);
        assert!(gunzip(&bomb[..bomb.len() - 4], 1 << 20).is_err());
        assert!(gunzip(b"not gzip", 100).is_err());
    }

    #[test]
    fn encoding_lists_parse() {
        let v = encodings_to_value(&[BufferEncoding::Msgpack, BufferEncoding::Gzip]);
        assert_eq!(encodings_from_value(&v).unwrap(), vec![1, 2]);
        assert!(encodings_from_value(&rmpv::Value::from(1)).is_err());
        assert!(encodings_from_value(&rmpv::Value::Array(vec![rmpv::Value::from(-1)])).is_err());
        assert!(encodings_from_value(&rmpv::Value::Array(vec![rmpv::Value::from(1); 9])).is_err());
    }
}

//! The `@ably/msgpack-js` 0.4.1 dialect of MessagePack, as m-ld-js uses it (docs/protocol.md §2.1).
//!
//! Owns the byte-level MessagePack encoding of [`rmpv::Value`]s and the mapping between
//! MessagePack values and JSON values as JavaScript sees them. It must not know anything about
//! clocks, operations or the dataset: callers build values and hand them over.
//!
//! # Encoding (byte-exact with the JS encoder)
//!
//! * Integers use their smallest form; non-negative ones always an *unsigned* form
//!   (fixint, `cc`, `cd`, `ce`, `cf`), negative ones a signed form (negative fixint, `d0`..`d3`).
//! * Floats (`F32` and `F64`) follow JavaScript `number` rules: an integral value in the range
//!   of a 64-bit integer is written as an integer (so `1.0` becomes `01`, and `-0.0` becomes `00`);
//!   anything else (fractions, NaN, infinities, integral values out of range) is a float64 `cb`.
//!   A float32 `ca` is never written.
//! * Strings: fixstr / `d9` / `da` / `db`; binary: `c4` / `c5` / `c6`.
//! * Arrays and maps: fix / 16 / 32 forms; map entries keep their order.
//! * Extensions: fixext for data of 1, 2, 4, 8 or 16 bytes, otherwise `c7` / `c8` / `c9`. JS
//!   only ever writes one: `undefined` is the fixext1 `d4 00 00` ([`undefined`]).
//! * Lengths beyond `u32::MAX` cannot be represented by MessagePack at all, and are clamped (so
//!   such a value encodes wrongly, just as it would fail in JS); the engine never produces one.
//!
//! # Decoding
//!
//! [`decode`] accepts everything MessagePack v5 allows (including float32 and all ext forms) and
//! rejects trailing bytes after the top-level value and the reserved marker `c1`, as the JS
//! decoder does. Integers decode to the matching signed or unsigned `rmpv` integer (so `d0 05`
//! reads as 5); floats keep their width. Bad UTF-8 in strings becomes U+FFFD, as in JS.
//!
//! # JSON mapping ([`from_json`], [`to_json`])
//!
//! * JSON numbers become integers when they are integral and fit an `i64`/`u64` (JS cannot tell
//!   `1.0` from `1`), otherwise float64. As in `JSON.parse`, an integer beyond ±(2^53 - 1) is
//!   first rounded to the nearest double. [`to_json`] maps integral floats in 64-bit range to
//!   integers the same way, but keeps 64-bit integers exact.
//! * [`to_json`] follows `JSON.stringify` for `undefined`: a map entry whose value is `undefined`
//!   is omitted, an `undefined` array element becomes `null`, and a top-level `undefined` is an
//!   error. It fails ([`CoreError::Msgpack`]) for binary values, other extension values, map keys
//!   that are not strings, strings that are not UTF-8, and non-finite floats: none of these has a
//!   JSON form that JS would produce for an operation body.

use rmpv::{Integer, Value};

use crate::CoreError;

/// Encodes a value in the `@ably/msgpack-js` dialect.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

/// Appends the `@ably/msgpack-js` encoding of a value to a buffer.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Nil => out.push(0xc0),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => write_integer(out, i),
        Value::F32(f) => write_f64(out, f64::from(*f)),
        Value::F64(f) => write_f64(out, *f),
        Value::String(s) => write_str_bytes(out, s.as_bytes()),
        Value::Binary(b) => write_bin(out, b),
        Value::Array(items) => {
            write_array_len(out, items.len());
            for item in items {
                encode_into(item, out);
            }
        }
        Value::Map(entries) => {
            write_map_len(out, entries.len());
            for (k, v) in entries {
                encode_into(k, out);
                encode_into(v, out);
            }
        }
        Value::Ext(ty, data) => write_ext(out, *ty, data),
    }
}

/// The deepest nesting of arrays and maps that [`decode`] accepts.
pub const MAX_DECODE_DEPTH: usize = 1024;

/// Decodes exactly one MessagePack value; trailing bytes, truncation, the reserved marker `c1`
/// and nesting deeper than [`MAX_DECODE_DEPTH`] are errors.
pub fn decode(bytes: &[u8]) -> Result<Value, CoreError> {
    let mut rd = Reader { bytes, pos: 0 };
    let value = rd.value(0)?;
    let rest = bytes.len() - rd.pos;
    if rest == 0 {
        Ok(value)
    } else {
        Err(CoreError::Msgpack(format!("{rest} trailing bytes")))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CoreError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| {
                CoreError::Msgpack(format!(
                    "truncated: {n} bytes wanted at offset {}",
                    self.pos
                ))
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CoreError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, CoreError> {
        Ok(self.array::<1>()?[0])
    }

    fn len(&mut self, width: usize) -> Result<usize, CoreError> {
        let n = match width {
            1 => u32::from(self.u8()?),
            2 => u32::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?),
        };
        usize::try_from(n).map_err(|_| CoreError::Msgpack(format!("length {n} too large")))
    }

    fn str(&mut self, len: usize) -> Result<Value, CoreError> {
        let raw = self.take(len)?;
        // Like JS (Buffer.toString('utf8')), bad UTF-8 becomes U+FFFD.
        Ok(Value::String(match std::str::from_utf8(raw) {
            Ok(s) => s.into(),
            Err(_) => String::from_utf8_lossy(raw).into(),
        }))
    }

    fn ext(&mut self, len: usize) -> Result<Value, CoreError> {
        let ty = i8::from_be_bytes(self.array()?);
        Ok(Value::Ext(ty, self.take(len)?.to_vec()))
    }

    fn items(&mut self, len: usize, depth: usize) -> Result<Vec<Value>, CoreError> {
        // Every element takes at least one byte, so a length beyond the input is truncation.
        if len > self.bytes.len() - self.pos {
            return Err(CoreError::Msgpack(format!("truncated: {len} elements")));
        }
        let mut items = Vec::with_capacity(len.min(1024));
        for _ in 0..len {
            items.push(self.value(depth + 1)?);
        }
        Ok(items)
    }

    fn entries(&mut self, len: usize, depth: usize) -> Result<Vec<(Value, Value)>, CoreError> {
        if len > (self.bytes.len() - self.pos) / 2 {
            return Err(CoreError::Msgpack(format!("truncated: {len} entries")));
        }
        let mut entries = Vec::with_capacity(len.min(1024));
        for _ in 0..len {
            let key = self.value(depth + 1)?;
            entries.push((key, self.value(depth + 1)?));
        }
        Ok(entries)
    }

    /// Reads one value. Containers recurse; everything else is read out of line, which keeps
    /// this frame small (debug builds give every temporary its own stack slot).
    fn value(&mut self, depth: usize) -> Result<Value, CoreError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(CoreError::Msgpack(format!(
                "nested deeper than {MAX_DECODE_DEPTH}"
            )));
        }
        let marker = self.u8()?;
        match marker {
            0x80..=0x8f => Ok(Value::Map(self.entries(usize::from(marker & 0x0f), depth)?)),
            0x90..=0x9f => Ok(Value::Array(self.items(usize::from(marker & 0x0f), depth)?)),
            0xdc | 0xdd => {
                let len = self.len(if marker == 0xdc { 2 } else { 4 })?;
                Ok(Value::Array(self.items(len, depth)?))
            }
            0xde | 0xdf => {
                let len = self.len(if marker == 0xde { 2 } else { 4 })?;
                Ok(Value::Map(self.entries(len, depth)?))
            }
            _ => self.scalar(marker),
        }
    }

    #[inline(never)]
    fn scalar(&mut self, marker: u8) -> Result<Value, CoreError> {
        Ok(match marker {
            0x00..=0x7f => Value::from(marker),
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Value::Nil,
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xc4..=0xc6 => {
                let len = self.len(1 << (marker - 0xc4))?;
                Value::Binary(self.take(len)?.to_vec())
            }
            0xc7..=0xc9 => {
                let len = self.len(1 << (marker - 0xc7))?;
                self.ext(len)?
            }
            0xca => Value::F32(f32::from_be_bytes(self.array()?)),
            0xcb => Value::F64(f64::from_be_bytes(self.array()?)),
            0xcc => Value::from(self.u8()?),
            0xcd => Value::from(u16::from_be_bytes(self.array()?)),
            0xce => Value::from(u32::from_be_bytes(self.array()?)),
            0xcf => Value::from(u64::from_be_bytes(self.array()?)),
            0xd0 => Value::from(i8::from_be_bytes(self.array()?)),
            0xd1 => Value::from(i16::from_be_bytes(self.array()?)),
            0xd2 => Value::from(i32::from_be_bytes(self.array()?)),
            0xd3 => Value::from(i64::from_be_bytes(self.array()?)),
            0xd4..=0xd8 => self.ext(1 << (marker - 0xd4))?,
            0xd9..=0xdb => {
                let len = self.len(1 << (marker - 0xd9))?;
                self.str(len)?
            }
            0xe0..=0xff => Value::from(i8::from_be_bytes([marker])),
            // 0xc1 is reserved; containers are handled by `value`.
            _ => {
                return Err(CoreError::Msgpack(format!(
                    "unexpected marker {marker:#04x}"
                )));
            }
        })
    }
}

/// The JS `undefined` value: fixext1 of type 0 with data byte 0 (`d4 00 00`).
pub fn undefined() -> Value {
    Value::Ext(0, vec![0])
}

/// Whether a value is the JS `undefined` ([`undefined`]).
pub fn is_undefined(v: &Value) -> bool {
    matches!(v, Value::Ext(0, data) if data.as_slice() == [0])
}

/// Appends an unsigned integer in its smallest unsigned form.
pub fn write_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.push(0xcc);
        out.push(n);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0xcd);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0xce);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a signed integer in its smallest form (unsigned forms for non-negative values).
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    if let Ok(u) = u64::try_from(n) {
        write_uint(out, u);
    } else if n >= -0x20 {
        out.extend_from_slice(&(n as i8).to_be_bytes());
    } else if let Ok(n) = i8::try_from(n) {
        out.push(0xd0);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = i16::try_from(n) {
        out.push(0xd1);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = i32::try_from(n) {
        out.push(0xd2);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a JS `number`: an integer form if it is integral and fits 64 bits, else float64.
pub fn write_f64(out: &mut Vec<u8>, f: f64) {
    match f64_as_integer(f) {
        Some(i) => write_integer(out, &i),
        None => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_be_bytes());
        }
    }
}

/// Appends a string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    write_str_bytes(out, s.as_bytes());
}

/// Appends an array header for `len` elements.
pub fn write_array_len(out: &mut Vec<u8>, len: usize) {
    write_container_len(out, len, 0x90, 0xdc, 0xdd);
}

/// Appends a map header for `len` entries.
pub fn write_map_len(out: &mut Vec<u8>, len: usize) {
    write_container_len(out, len, 0x80, 0xde, 0xdf);
}

/// Appends a binary value.
pub fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    let len = clamp_len(b.len());
    if let Ok(len) = u8::try_from(len) {
        out.push(0xc4);
        out.push(len);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xc5);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(b);
}

fn clamp_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn write_integer(out: &mut Vec<u8>, i: &Integer) {
    if let Some(u) = i.as_u64() {
        write_uint(out, u);
    } else if let Some(n) = i.as_i64() {
        write_int(out, n);
    }
}

fn write_str_bytes(out: &mut Vec<u8>, b: &[u8]) {
    let len = clamp_len(b.len());
    if len < 0x20 {
        out.push(0xa0 | len as u8);
    } else if let Ok(len) = u8::try_from(len) {
        out.push(0xd9);
        out.push(len);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(b);
}

fn write_container_len(out: &mut Vec<u8>, len: usize, fix: u8, m16: u8, m32: u8) {
    let len = clamp_len(len);
    if len < 0x10 {
        out.push(fix | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(m16);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

fn write_ext(out: &mut Vec<u8>, ty: i8, data: &[u8]) {
    let fixed = match data.len() {
        1 => Some(0xd4),
        2 => Some(0xd5),
        4 => Some(0xd6),
        8 => Some(0xd7),
        16 => Some(0xd8),
        _ => None,
    };
    if let Some(marker) = fixed {
        out.push(marker);
    } else {
        let len = clamp_len(data.len());
        if let Ok(len) = u8::try_from(len) {
            out.push(0xc7);
            out.push(len);
        } else if let Ok(len) = u16::try_from(len) {
            out.push(0xc8);
            out.extend_from_slice(&len.to_be_bytes());
        } else {
            out.push(0xc9);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(data);
}

/// JS `Number.MAX_SAFE_INTEGER`, 2^53 - 1.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// 2^64 and 2^63 as floats (exactly representable).
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The integer a JS encoder would write for this number, if any.
fn f64_as_integer(f: f64) -> Option<Integer> {
    if f.floor() != f {
        None // fractions and NaN
    } else if f >= 0.0 {
        // Includes -0.0. Integral and in range, so the cast is exact.
        (f < TWO_POW_64).then(|| Integer::from(f as u64))
    } else {
        (f >= -TWO_POW_63).then(|| Integer::from(f as i64))
    }
}

/// Converts a JSON value to the MessagePack value JS would encode for it.
///
/// Numbers that are integral and fit 64 bits become integers; object members keep their order.
pub fn from_json(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => {
            if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE_INTEGER) {
                Value::from(u)
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER) {
                Value::from(i)
            } else {
                // Beyond 2^53 JS holds the nearest double, and encodes that.
                let f = n.as_f64().unwrap_or(f64::NAN);
                f64_as_integer(f).map_or(Value::F64(f), Value::Integer)
            }
        }
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        J::Object(members) => Value::Map(
            members
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_json(v)))
                .collect(),
        ),
    }
}

/// Converts a MessagePack value to JSON as JS would see it (see the module docs for the rules
/// and the failing cases).
pub fn to_json(value: &Value) -> Result<serde_json::Value, CoreError> {
    if is_undefined(value) {
        return Err(no_json("undefined at top level"));
    }
    value_to_json(value)
}

fn no_json(what: &str) -> CoreError {
    CoreError::Msgpack(format!("no JSON form for {what}"))
}

fn float_to_json(f: f64) -> Result<serde_json::Value, CoreError> {
    match f64_as_integer(f) {
        Some(i) => integer_to_json(&i),
        None => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| no_json("a non-finite number")),
    }
}

fn integer_to_json(i: &Integer) -> Result<serde_json::Value, CoreError> {
    if let Some(u) = i.as_u64() {
        Ok(serde_json::Value::from(u))
    } else if let Some(n) = i.as_i64() {
        Ok(serde_json::Value::from(n))
    } else {
        Err(no_json("an integer out of range"))
    }
}

/// Containers recurse here; scalars are converted out of line to keep this frame small.
fn value_to_json(value: &Value) -> Result<serde_json::Value, CoreError> {
    match value {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(if is_undefined(item) {
                    serde_json::Value::Null
                } else {
                    value_to_json(item)?
                });
            }
            Ok(serde_json::Value::Array(out))
        }
        Value::Map(entries) => {
            let mut members = serde_json::Map::with_capacity(entries.len());
            for (k, v) in entries {
                let key = k.as_str().ok_or_else(|| no_json("a non-string map key"))?;
                if !is_undefined(v) {
                    members.insert(key.to_owned(), value_to_json(v)?);
                }
            }
            Ok(serde_json::Value::Object(members))
        }
        _ => scalar_to_json(value),
    }
}

#[inline(never)]
fn scalar_to_json(value: &Value) -> Result<serde_json::Value, CoreError> {
    use serde_json::Value as J;
    match value {
        Value::Nil => Ok(J::Null),
        Value::Boolean(b) => Ok(J::Bool(*b)),
        Value::Integer(i) => integer_to_json(i),
        Value::F32(f) => float_to_json(f64::from(*f)),
        Value::F64(f) => float_to_json(*f),
        Value::String(s) => s
            .as_str()
            .map(|s| J::String(s.to_owned()))
            .ok_or_else(|| no_json("a string that is not UTF-8")),
        Value::Binary(_) => Err(no_json("binary data")),
        Value::Ext(..) => Err(no_json("an extension value")),
        Value::Array(_) | Value::Map(_) => value_to_json(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn integers_use_smallest_unsigned_form() {
        let cases: &[(i64, &str)] = &[
            (0, "00"),
            (127, "7f"),
            (128, "cc80"),
            (255, "ccff"),
            (256, "cd0100"),
            (65535, "cdffff"),
            (65536, "ce00010000"),
            (4_294_967_296, "cf0000000100000000"),
            (-1, "ff"),
            (-32, "e0"),
            (-33, "d0df"),
            (-128, "d080"),
            (-129, "d1ff7f"),
            (-32769, "d2ffff7fff"),
            (-2_147_483_649, "d3ffffffff7fffffff"),
        ];
        for (n, want) in cases {
            assert_eq!(hex(&encode(&Value::from(*n))), *want, "{n}");
        }
    }

    #[test]
    fn floats_follow_js_number_rules() {
        assert_eq!(hex(&encode(&Value::F64(1.0))), "01");
        assert_eq!(hex(&encode(&Value::F64(-0.0))), "00");
        assert_eq!(hex(&encode(&Value::F32(2.0))), "02");
        assert_eq!(hex(&encode(&Value::F64(-40.0))), "d0d8");
        assert_eq!(hex(&encode(&Value::F64(1.8))), "cb3ffccccccccccccd");
        assert_eq!(hex(&encode(&Value::F32(0.5))), "cb3fe0000000000000");
        assert_eq!(hex(&encode(&Value::F64(f64::INFINITY)))[..2], *"cb");
        assert_eq!(hex(&encode(&Value::F64(1e20)))[..2], *"cb");
    }

    #[test]
    fn strings_and_containers_pick_their_forms() {
        assert_eq!(hex(&encode(&Value::from("a".repeat(31))))[..2], *"bf");
        assert_eq!(hex(&encode(&Value::from("a".repeat(32))))[..4], *"d920");
        assert_eq!(hex(&encode(&Value::from("a".repeat(256))))[..6], *"da0100");
        assert_eq!(hex(&encode(&Value::Binary(vec![1; 3]))), "c403010101");
        let arr16 = Value::Array(vec![Value::Nil; 16]);
        assert_eq!(hex(&encode(&arr16))[..6], *"dc0010");
        let map = Value::Map(vec![
            (Value::from("b"), Value::from(1)),
            (Value::from("a"), Value::from(2)),
        ]);
        assert_eq!(hex(&encode(&map)), "82a16201a16102");
        assert_eq!(hex(&encode(&undefined())), "d40000");
    }

    #[test]
    fn decode_rejects_trailing_bytes_and_accepts_undefined() {
        assert!(decode(&[0x90, 0x00]).is_err());
        assert!(decode(&[]).is_err());
        assert!(decode(&[0xc1]).is_err());
        assert!(decode(&[0x92, 0x01]).is_err());
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(decode(&[0xc4, 0x05, 0x01]).is_err());
        assert_eq!(decode(&[0xd0, 0x05]).ok(), Some(Value::from(5)));
        assert_eq!(
            decode(&[0xa2, 0xff, 0x41]).ok(),
            Some(Value::from("\u{fffd}A"))
        );
        let mut deep = vec![0x91; MAX_DECODE_DEPTH + 1];
        deep.push(0x90);
        assert!(decode(&deep).is_err());
        deep.drain(..2);
        assert!(decode(&deep).is_ok());
        assert!(is_undefined(
            &decode(&[0xd4, 0, 0]).ok().unwrap_or(Value::Nil)
        ));
        let f32 = decode(&[0xca, 0x3f, 0xc0, 0, 0]).ok();
        assert_eq!(f32, Some(Value::F32(1.5)));
    }

    #[test]
    fn deepest_values_round_trip_on_a_small_stack() {
        // 2 MiB is the default stack of spawned and tokio worker threads.
        let run = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
            let mut deep = vec![0x91; MAX_DECODE_DEPTH];
            deep.push(0x90);
            let value = decode(&deep).unwrap();
            let json = to_json(&value).unwrap();
            assert_eq!(encode(&from_json(&json)), deep);
        });
        assert!(run.unwrap().join().is_ok());
    }

    #[test]
    fn json_round_trip_and_undefined_rules() {
        let json = serde_json::json!({"z": 1, "a": [1.5, -2, "x", null, true], "n": 3.0});
        let v = from_json(&json);
        assert_eq!(v["n"], Value::from(3));
        // JSON.parse rounds 2^63 + 1000 to the double 2^63.
        let big = from_json(&serde_json::json!(9_223_372_036_854_776_808u64));
        assert_eq!(big, Value::from(9_223_372_036_854_775_808u64));
        let back = to_json(&v).ok();
        assert_eq!(
            back,
            Some(serde_json::json!({"z": 1, "a": [1.5, -2, "x", null, true], "n": 3}))
        );
        let with_undef = Value::Map(vec![
            (Value::from("u"), undefined()),
            (Value::from("a"), Value::Array(vec![undefined()])),
        ]);
        assert_eq!(
            to_json(&with_undef).ok(),
            Some(serde_json::json!({"a": [null]}))
        );
        assert!(to_json(&undefined()).is_err());
        assert!(to_json(&Value::Binary(vec![1])).is_err());
        assert!(to_json(&Value::Map(vec![(Value::from(1), Value::Nil)])).is_err());
        assert!(to_json(&Value::F64(f64::NAN)).is_err());
    }
}

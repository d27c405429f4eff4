//! The JavaScript number a MessagePack integer becomes in m-ld-js (docs/protocol.md §3.3).
//!
//! Every other JavaScript number rule is in `m_ld_vocab::js`, shared with json-rql.

use m_ld_vocab::js;

/// The JS number that a MessagePack integer decodes to, as `toFixed(0)` writes it: exact up to
/// 2^53, beyond that the nearest double.
pub fn js_integer_text(i: &rmpv::Integer) -> String {
    const MAX_SAFE: u64 = (1 << 53) - 1;
    if let Some(u) = i.as_u64() {
        if u <= MAX_SAFE {
            u.to_string()
        } else {
            js::to_fixed(u as f64, 0)
        }
    } else if let Some(n) = i.as_i64() {
        if n.unsigned_abs() <= MAX_SAFE {
            n.to_string()
        } else {
            js::to_fixed(n as f64, 0)
        }
    } else {
        "0".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integers_lose_precision_as_in_js() {
        assert_eq!(
            js_integer_text(&rmpv::Integer::from(5_000_000_000u64)),
            "5000000000"
        );
        assert_eq!(
            js_integer_text(&rmpv::Integer::from(u64::MAX)),
            "18446744073709551616"
        );
        assert_eq!(
            js_integer_text(&rmpv::Integer::from((1i64 << 53) + 1)),
            "9007199254740992"
        );
        assert_eq!(js_integer_text(&rmpv::Integer::from(-7)), "-7");
    }
}

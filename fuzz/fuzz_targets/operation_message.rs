//! Fuzzes `decode_operation_message` (docs/protocol.md §2.2: `{prev, enc, attr}` around an
//! `EncodedOperation`). Must never panic; what decodes must re-encode, and decode again to the
//! same message (the same triples and TIDs: the encoding groups triples by subject, so their
//! order may change).
#![no_main]

use libfuzzer_sys::fuzz_target;
use m_ld_core::operation::Operation;
use m_ld_core::wire::encoding::WireLimits;
use m_ld_core::wire::operation::{decode_operation_message, encode_operation_message};

const DOMAIN: &str = "test.m-ld.org";

fuzz_target!(|data: &[u8]| {
    // Small limits keep gzip bombs from slowing the search; the logic is the same.
    let limits = WireLimits {
        max_inflated_bytes: 1 << 20,
        max_statements: 10_000,
    };
    let Ok(msg) = decode_operation_message(data, DOMAIN, &limits) else {
        return;
    };
    let once = encode_operation_message(&msg, DOMAIN).expect("a decoded message re-encodes");
    let again = decode_operation_message(&once, DOMAIN, &WireLimits::default())
        .expect("a re-encoded message decodes");
    assert_eq!(again.prev, msg.prev);
    assert_eq!(normal(again.op), normal(msg.op), "decode(encode(m)) != m");
});

/// The operation with its triples, and each triple's TIDs, in a canonical order.
fn normal(mut op: Operation) -> Operation {
    for triples in [&mut op.deletes, &mut op.inserts] {
        for (_, tids) in triples.iter_mut() {
            tids.sort_by_key(|tid| format!("{tid:?}"));
        }
        triples.sort_by_key(|(triple, tids)| format!("{triple} {tids:?}"));
    }
    op
}

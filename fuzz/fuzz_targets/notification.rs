//! Fuzzes `Notification::decode` (stream items `{next}`, `{complete}`, `{error}` of snapshots and
//! rev-ups), then what a `next` carries, as a consumer would read it: a snapshot datum or an
//! operation message. Must never panic; notifications round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use m_ld_core::wire::encoding::WireLimits;
use m_ld_core::wire::notify::{Notification, SnapshotDatum};
use m_ld_core::wire::operation::decode_operation_message;

const DOMAIN: &str = "test.m-ld.org";

fuzz_target!(|data: &[u8]| {
    let Ok(notification) = Notification::decode(data) else {
        return;
    };
    let bytes = notification.encode();
    let again = Notification::decode(&bytes).expect("a re-encoded notification decodes");
    assert_eq!(again, notification);
    if let Notification::Next(inner) = notification {
        let limits = WireLimits {
            max_inflated_bytes: 1 << 20,
            max_statements: 10_000,
        };
        let _ = SnapshotDatum::decode(&inner, DOMAIN, &limits);
        let _ = decode_operation_message(&inner, DOMAIN, &limits);
    }
});

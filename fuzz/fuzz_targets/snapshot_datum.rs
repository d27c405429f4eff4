//! Fuzzes `SnapshotDatum::decode` (snapshot items: reified triple batches with TIDs, or latest
//! operations). Must never panic; what decodes must re-encode, and the re-encoding decode to the
//! same datum (the same triples and TIDs, in whatever order).
#![no_main]

use libfuzzer_sys::fuzz_target;
use m_ld_core::clock::Tid;
use m_ld_core::wire::encoding::WireLimits;
use m_ld_core::wire::notify::SnapshotDatum;

const DOMAIN: &str = "test.m-ld.org";

fuzz_target!(|data: &[u8]| {
    let limits = WireLimits {
        max_inflated_bytes: 1 << 20,
        max_statements: 10_000,
    };
    let Ok(datum) = SnapshotDatum::decode(data, DOMAIN, &limits) else {
        return;
    };
    let bytes = datum.encode(DOMAIN).expect("a decoded datum re-encodes");
    let again = SnapshotDatum::decode(&bytes, DOMAIN, &WireLimits::default())
        .expect("a re-encoded datum decodes");
    assert_eq!(normal(again), normal(datum), "decode(encode(d)) != d");
});

fn sort<T: std::fmt::Display>(triples: &mut [(T, Vec<Tid>)]) {
    for (_, tids) in triples.iter_mut() {
        tids.sort_by_key(|tid| format!("{tid:?}"));
    }
    triples.sort_by_key(|(triple, tids)| format!("{triple} {tids:?}"));
}

/// The datum with its triples, and each triple's TIDs, in a canonical order.
fn normal(datum: SnapshotDatum) -> SnapshotDatum {
    match datum {
        SnapshotDatum::Inserts(mut triples) => {
            sort(&mut triples);
            SnapshotDatum::Inserts(triples)
        }
        SnapshotDatum::Operation(mut op) => {
            sort(&mut op.deletes);
            sort(&mut op.inserts);
            SnapshotDatum::Operation(op)
        }
    }
}

//! Fuzzes the MessagePack reader under every wire decoder (`wire::msgpack::decode`, with the JS
//! `undefined` extension). Must never panic; re-encoding what it read is idempotent (compared as
//! bytes, since NaN != NaN).
#![no_main]

use libfuzzer_sys::fuzz_target;
use m_ld_core::wire::msgpack;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = msgpack::decode(data) else {
        return;
    };
    let once = msgpack::encode(&value);
    let again = msgpack::decode(&once).expect("re-encoded MessagePack decodes");
    assert_eq!(msgpack::encode(&again), once, "encoding is not idempotent");
});

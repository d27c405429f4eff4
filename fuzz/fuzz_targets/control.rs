//! Fuzzes the control-message decoders: `Request::decode` (snapshot and rev-up requests),
//! `Response::decode` and `Reply::decode` (ACKs and responses). Must never panic; what decodes
//! must re-encode to bytes that decode and re-encode to the same bytes. (Not `decode(encode(x))
//! == x`: a snapshot response without a clock is sent with the genesis clock `[]`, as m-ld-js
//! cannot read a missing one.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use m_ld_core::wire::control::{Reply, Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::decode(data) {
        let bytes = request.encode();
        let again = Request::decode(&bytes).expect("a re-encoded request decodes");
        assert_eq!(again.encode(), bytes);
    }
    if let Ok(response) = Response::decode(data) {
        let bytes = response.encode();
        let again = Response::decode(&bytes).expect("a re-encoded response decodes");
        assert_eq!(again.encode(), bytes);
    }
    if let Ok(reply) = Reply::decode(data) {
        let bytes = reply.encode();
        let again = Reply::decode(&bytes).expect("a re-encoded reply decodes");
        assert_eq!(again.encode(), bytes);
    }
});

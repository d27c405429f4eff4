//! Tree clocks, global clocks and transaction identities (TIDs), bit-exact with m-ld-js.

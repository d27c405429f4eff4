//! Replays clock and msgpack vectors produced by the real m-ld-js 0.10.0 engine
//! (`tests/data/clock/vectors.json`, made by `tests/data/clock/gen.js`) and payloads captured
//! from real m-ld-js traffic (`tests/data/clock/captures.json`), checking bit-exact agreement.
//! Also checks that bad clock forms are errors, never panics.

// Test helpers outside #[test] functions fail loudly on bad test data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::LazyLock;

use m_ld_core::CoreError;
use m_ld_core::clock::{GlobalClock, GwcValue, TickTree, Tid, TreeClock};
use m_ld_core::wire::msgpack;
use proptest::prelude::*;
use serde_json::{Value, json};

static VECTORS: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("data/clock/vectors.json")).expect("vectors.json parses")
});

static CAPTURES: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("data/clock/captures.json")).expect("captures.json parses")
});

fn list(key: &str) -> &'static [Value] {
    match &VECTORS[key] {
        Value::Array(items) => items,
        other => panic!("{key} is not an array: {other}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn clocks() -> Vec<TreeClock> {
    list("clocks")
        .iter()
        .map(|c| TreeClock::from_json(&c["json"]).expect("vector clock parses"))
        .collect()
}

fn opt_u64(v: &Value) -> Option<u64> {
    v.as_u64()
}

/// The phrase a Rust error must contain for a given JS error message.
fn rust_phrase(js_message: &str) -> &'static str {
    for phrase in [
        "Ambiguous target",
        "Trying to update from overlapping forked clock",
        "different process group",
        "Global clock is in the future",
    ] {
        if js_message.contains(phrase) {
            return phrase;
        }
    }
    panic!("no Rust counterpart known for JS error {js_message:?}")
}

fn check_error(expected: &Value, got: &CoreError, context: &str) {
    let message = got.to_string();
    if let Some(js) = expected.get("error").and_then(Value::as_str) {
        let phrase = rust_phrase(js);
        assert!(
            message.contains(phrase),
            "{context}: JS {js:?}, Rust {message:?}"
        );
    } else if expected.get("noId").is_some() {
        assert!(
            message.contains("lost its identity"),
            "{context}: JS gave an ID-less clock, Rust {message:?}"
        );
    } else {
        panic!("{context}: expected {expected}, Rust failed with {message:?}");
    }
}

fn check_clock_result(expected: &Value, got: Result<TreeClock, CoreError>, context: &str) {
    match got {
        Ok(clock) => assert_eq!(
            Some(&clock.to_json()),
            expected.get("clock"),
            "{context}: expected {expected}"
        ),
        Err(e) => check_error(expected, &e, context),
    }
}

fn check_gwc_result(expected: &Value, got: Result<GlobalClock, CoreError>, context: &str) {
    match got {
        Ok(gwc) => assert_eq!(
            Some(&gwc.to_json()),
            expected.get("gwc"),
            "{context}: expected {expected}"
        ),
        Err(e) => check_error(expected, &e, context),
    }
}

#[test]
fn clock_forms_hashes_and_ticks_match_js() {
    let records = list("clocks");
    assert!(records.len() > 300);
    let mut sha_hashed = 0;
    for (record, clock) in records.iter().zip(clocks()) {
        let ctx = record["json"].to_string();
        assert_eq!(clock.to_json(), record["json"], "{ctx}");
        assert_eq!(clock.to_string(), ctx);
        assert_eq!(clock.to_json_for_hash(), record["forHash"], "{ctx}");
        assert_eq!(hex(&clock.for_hash_bytes()), record["msgpack"], "{ctx}");
        let tid = clock.hash();
        assert_eq!(tid.to_string(), record["hash"], "{ctx}");
        assert_eq!(
            record["hash"].as_str().unwrap().parse::<Tid>().unwrap(),
            tid
        );
        if clock.for_hash_bytes().len() > 20 {
            sha_hashed += 1;
        }
        assert_eq!(Some(clock.ticks()), opt_u64(&record["ticks"]), "{ctx}");
        assert_eq!(
            clock.non_id_ticks(),
            opt_u64(&record["nonIdTicks"]),
            "{ctx}"
        );
        assert_eq!(Value::Bool(clock.is_zero_id()), record["isZeroId"], "{ctx}");
        assert_eq!(Value::Bool(clock.is_id()), record["isId"], "{ctx}");
        assert_eq!(
            Some(clock.deep_ticks()),
            opt_u64(&record["deepTicks"]),
            "{ctx}"
        );
        // The msgpack value form is the JSON form, and round-trips.
        let packed = clock.to_msgpack();
        assert_eq!(
            msgpack::encode(&packed),
            msgpack::encode(&msgpack::from_json(&record["json"]))
        );
        assert_eq!(TreeClock::from_msgpack(&packed).unwrap(), clock);
        let bytes = msgpack::encode(&packed);
        assert_eq!(
            TreeClock::from_msgpack(&msgpack::decode(&bytes).unwrap()).unwrap(),
            clock
        );
    }
    assert!(sha_hashed > 5, "too few SHA-1 hashed vectors");
}

#[test]
fn pair_comparisons_and_joins_match_js() {
    let clocks = clocks();
    let pairs = list("pairs");
    assert!(pairs.len() > 300);
    for pair in pairs {
        let a = &clocks[pair["a"].as_u64().unwrap() as usize];
        let b = &clocks[pair["b"].as_u64().unwrap() as usize];
        let ctx = format!("a={a} b={b}");
        assert_eq!(Value::Bool(a.any_lt(b)), pair["anyLt"], "anyLt {ctx}");
        assert_eq!(
            Value::Bool(a.any_non_id_lt(b)),
            pair["anyNonIdLt"],
            "anyNonIdLt {ctx}"
        );
        let expected_ticks = pair["getTicks"].as_u64();
        assert_eq!(a.get_ticks(b), expected_ticks, "getTicks {ctx}");
        if expected_ticks.is_none() {
            assert!(pair["getTicks"]["error"].is_string(), "getTicks {ctx}");
        }
        check_clock_result(&pair["update"], a.update(b), &format!("update {ctx}"));
        check_clock_result(
            &pair["tickedLike"],
            a.ticked_like(b),
            &format!("ticked(other) {ctx}"),
        );
    }
}

#[test]
fn ticked_to_and_forked_match_js() {
    let clocks = clocks();
    for v in list("tickedTo") {
        let c = &clocks[v["c"].as_u64().unwrap() as usize];
        let n = v["n"].as_u64().unwrap();
        check_clock_result(&v["result"], c.ticked_to(n), &format!("{c}.ticked({n})"));
        if n == c.ticks() + 1 {
            assert_eq!(c.ticked_to(n).unwrap(), c.ticked());
        }
    }
    for v in list("forked") {
        let c = &clocks[v["c"].as_u64().unwrap() as usize];
        let (left, right) = c.forked();
        assert_eq!(left.to_json(), v["left"], "{c}.forked().left");
        assert_eq!(right.to_json(), v["right"], "{c}.forked().right");
        // A fork is not an event.
        assert_eq!(left.hash(), c.hash());
        assert_eq!(right.hash(), c.hash());
        assert!(left.is_zero_id() && right.is_zero_id());
    }
}

#[test]
fn global_clocks_match_js() {
    let clocks = clocks();
    let vectors = list("gwc");
    assert!(vectors.len() > 100);
    let mut blocked = 0;
    for v in vectors {
        let gwc = GlobalClock::from_json(&v["gwc"]).unwrap();
        assert_eq!(gwc.to_json(), v["gwc"]);
        assert_eq!(gwc.to_string(), v["gwc"].to_string());
        assert_eq!(GlobalClock::from_msgpack(&gwc.to_msgpack()).unwrap(), gwc);
        let time = &clocks[v["time"].as_u64().unwrap() as usize];
        let ctx = format!("gwc={gwc} time={time}");
        let set = match v.get("setTid").and_then(Value::as_str) {
            None => gwc.set(time),
            Some("!blocked!") => {
                blocked += 1;
                gwc.block(time)
            }
            Some(tid) => gwc.set_tid(time, tid.parse().unwrap()),
        };
        check_gwc_result(&v["set"], set, &format!("set {ctx}"));
        assert_eq!(
            gwc.get_ticks(time),
            v["getTicks"].as_u64(),
            "getTicks {ctx}"
        );
        match (&v["tid"], gwc.value(time)) {
            (Value::String(js), Ok(value)) => {
                assert_eq!(value.to_string(), *js, "tid {ctx}");
                assert_eq!(gwc.is_blocked(time).unwrap(), js == "!blocked!");
                match value {
                    GwcValue::Tid(tid) => assert_eq!(gwc.tid(time).unwrap(), tid),
                    GwcValue::Blocked => assert!(gwc.tid(time).is_err()),
                }
            }
            (expected, Ok(value)) => panic!("tid {ctx}: JS {expected}, Rust {value}"),
            (expected, Err(e)) => check_error(expected, &e, &format!("tid {ctx}")),
        }
        let js_tids: Vec<&str> = v["tids"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let values: Vec<String> = gwc.values().iter().map(ToString::to_string).collect();
        assert_eq!(values, js_tids, "tids {ctx}");
        let tids: Vec<String> = gwc.tids().iter().map(Tid::to_string).collect();
        let unblocked: Vec<&str> = js_tids
            .iter()
            .copied()
            .filter(|t| *t != "!blocked!")
            .collect();
        assert_eq!(tids, unblocked, "tids {ctx}");
        assert_eq!(Value::Bool(gwc.any_lt(time)), v["anyLt"], "anyLt {ctx}");
        assert_eq!(
            Value::Bool(time.any_lt(&gwc)),
            v["timeAnyLt"],
            "time.anyLt {ctx}"
        );
        check_clock_result(
            &v["timeUpdate"],
            time.update(&gwc),
            &format!("time.update {ctx}"),
        );
    }
    assert!(blocked > 0);
}

#[test]
fn msgpack_encoding_matches_js() {
    for v in list("msgpack") {
        let bytes = unhex(v["hex"].as_str().unwrap());
        let value = msgpack::from_json(&v["json"]);
        assert_eq!(hex(&msgpack::encode(&value)), v["hex"], "{}", v["json"]);
        let decoded = msgpack::decode(&bytes).unwrap();
        assert_eq!(msgpack::encode(&decoded), bytes);
        assert_json_numbers_eq(&msgpack::to_json(&decoded).unwrap(), &v["json"]);
    }
}

/// JSON equality where numbers compare as JS doubles (JSON text of 2^63 is not exact).
fn assert_json_numbers_eq(got: &Value, want: &Value) {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => assert_eq!(a.as_f64(), b.as_f64(), "{a} vs {b}"),
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len());
            a.iter()
                .zip(b)
                .for_each(|(x, y)| assert_json_numbers_eq(x, y));
        }
        (Value::Object(a), Value::Object(b)) => {
            assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
            a.values()
                .zip(b.values())
                .for_each(|(x, y)| assert_json_numbers_eq(x, y));
        }
        _ => assert_eq!(got, want),
    }
}

/// Decodes an operation message payload to its EncodedOperation array.
fn encoded_operation(payload: &[u8]) -> rmpv::Value {
    let outer = msgpack::decode(payload).unwrap();
    assert_eq!(
        msgpack::encode(&outer),
        payload,
        "payload re-encodes byte-identically"
    );
    let enc = outer["enc"].as_slice().expect("enc is binary");
    let op = msgpack::decode(enc).unwrap();
    assert_eq!(msgpack::encode(&op), enc, "enc re-encodes byte-identically");
    op
}

#[test]
fn captured_operation_times_hash_to_captured_tids() {
    let ops = CAPTURES["ops"].as_array().unwrap();
    let mut checked = 0;
    for op in ops {
        let source = op["source"].as_str().unwrap();
        let encoded = encoded_operation(&unhex(op["payload"].as_str().unwrap()));
        let time = TreeClock::from_msgpack(&encoded[2]).unwrap();
        assert_eq!(time.to_json(), op["time"], "{source}");
        assert_eq!(
            msgpack::encode(&time.to_msgpack()),
            msgpack::encode(&encoded[2]),
            "{source}"
        );
        if let Some(tid) = op.get("tid") {
            assert_eq!(
                time.hash().to_string(),
                *tid,
                "{source}, seen in {}",
                op["tidSeenIn"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 10);
    // docs/protocol.md §3.6: the TID of [1,[6],4] is base64 of its own msgpack.
    let wilma = TreeClock::from_json(&json!([1, [6], 4])).unwrap();
    assert_eq!(wilma.hash().as_bytes(), [0x93, 0x01, 0x91, 0x06, 0x04]);
}

#[test]
fn captured_gwcs_parse_and_reencode() {
    let mut clocks = 0;
    for reply in CAPTURES["replies"].as_array().unwrap() {
        let source = reply["source"].as_str().unwrap();
        let payload = unhex(reply["payload"].as_str().unwrap());
        let outer = msgpack::decode(&payload).unwrap();
        assert_eq!(msgpack::encode(&outer), payload, "{source}");
        let body = msgpack::decode(outer["enc"].as_slice().unwrap()).unwrap();
        let gwc = GlobalClock::from_msgpack(&body["gwc"]).unwrap();
        assert_eq!(gwc.to_json(), reply["gwc"], "{source}");
        assert_eq!(
            msgpack::encode(&gwc.to_msgpack()),
            msgpack::encode(&body["gwc"]),
            "{source}"
        );
        // Snapshot responses also carry the new clone's forked clock.
        let clock = body
            .as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("clock")));
        if let Some((_, clock)) = clock.filter(|(_, c)| !msgpack::is_undefined(c)) {
            let clock = TreeClock::from_msgpack(clock).unwrap();
            assert!(clock.is_zero_id(), "{source}: a fresh fork");
            let packed = msgpack::encode(&body["clock"]);
            assert_eq!(msgpack::encode(&clock.to_msgpack()), packed);
            clocks += 1;
        }
    }
    assert!(clocks > 0);
}

#[test]
fn protocol_example_operation_reencodes_byte_identically() {
    // docs/protocol.md §2.2, the captured example (82 bytes).
    let payload = unhex(
        "83a47072657600a3656e63c43f9705019101c434928085a3406964a466726564a46e616d65a446726564\
         a6686569676874cb3ffccccccccccccda76d617272696564c3a3616765289101c0c0a461747472c0",
    );
    assert_eq!(payload.len(), 82);
    let op = encoded_operation(&payload);
    assert_eq!(op[0], rmpv::Value::from(5));
    assert_eq!(
        TreeClock::from_msgpack(&op[2]).unwrap().hash().to_string(),
        "kQE="
    );
    let update = msgpack::decode(op[3].as_slice().unwrap()).unwrap();
    assert_eq!(
        msgpack::to_json(&update).unwrap(),
        json!([{}, {"@id": "fred", "name": "Fred", "height": 1.8, "married": true, "age": 40}])
    );
    assert_eq!(msgpack::encode(&update), op[3].as_slice().unwrap());
}

#[test]
fn bad_clock_json_is_an_error() {
    for bad in [
        json!(null),
        json!(true),
        json!("[]"),
        json!({}),
        json!(-1),
        json!(1.5),
        json!(0),
        json!([[], []]),
        json!([1, [2], [3]]),
        json!([0, 0]),
        json!([1, 0, 0]),
        json!([-1]),
        json!([1.5]),
        json!([[1]]),
        json!(["1"]),
        json!([1, 2, 3, 4]),
        json!([null, [], 0]),
        json!([[], 0, 0]),
        json!([1, [], -1]),
        json!([2.5, [], 0]),
        json!([[[]], 0]),
    ] {
        match TreeClock::from_json(&bad) {
            Err(CoreError::BadClockJson(_)) => {}
            other => panic!("{bad}: expected BadClockJson, got {other:?}"),
        }
        let packed = msgpack::from_json(&bad);
        assert!(
            TreeClock::from_msgpack(&packed).is_err(),
            "{bad} as msgpack"
        );
    }
    // Integral floats are numbers to JS.
    assert_eq!(
        TreeClock::from_json(&json!([2.0, [], 1.0]))
            .unwrap()
            .to_json(),
        json!([2, [], 1])
    );
    assert!(TreeClock::from_msgpack(&rmpv::Value::Binary(vec![0x90])).is_err());
    assert!(TreeClock::from_msgpack(&msgpack::undefined()).is_err());
}

/// Arbitrary JSON trees biased towards clock-like shapes.
fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0u64..5).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9+/=!]{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn clock_parsing_never_panics(json in json_tree()) {
        if let Ok(clock) = TreeClock::from_json(&json) {
            // Whatever parses is a clock with one identity that survives the usual operations.
            prop_assert_eq!(TreeClock::from_json(&clock.to_json()).unwrap(), clock.clone());
            let _ = (clock.hash(), clock.ticked(), clock.forked(), clock.non_id_ticks());
            prop_assert!(clock.get_ticks(&clock).is_some());
        }
        if let Ok(gwc) = GlobalClock::from_json(&json) {
            prop_assert_eq!(GlobalClock::from_json(&gwc.to_json()).unwrap(), gwc);
        }
        let packed = msgpack::from_json(&json);
        let _ = TreeClock::from_msgpack(&packed);
        let _ = GlobalClock::from_msgpack(&packed);
        let bytes = msgpack::encode(&packed);
        prop_assert_eq!(msgpack::encode(&msgpack::decode(&bytes).unwrap()), bytes);
    }

    #[test]
    fn msgpack_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(value) = msgpack::decode(&bytes) {
            let _ = msgpack::to_json(&value);
            let _ = TreeClock::from_msgpack(&value);
            let _ = GlobalClock::from_msgpack(&value);
        }
    }

    #[test]
    fn random_clock_operations_keep_one_identity(ops in prop::collection::vec(0u8..4, 0..40)) {
        // Simulate two processes exchanging ticks; joins and hashes stay well-defined.
        let ticked = !ops.is_empty();
        let (mut a, mut b) = TreeClock::genesis().forked();
        let mut gwc = GlobalClock::genesis();
        for op in ops {
            match op {
                0 => a = a.ticked(),
                1 => b = b.ticked(),
                2 => a = a.update(&b).unwrap().ticked(),
                _ => b = b.update(&a).unwrap().ticked(),
            }
            prop_assert!(!a.any_lt(&a));
            prop_assert_eq!(a.get_ticks(&a), Some(a.ticks()));
            prop_assert_eq!(b.get_ticks(&a).map(|t| t <= a.ticks()), Some(true));
            if let Ok(next) = gwc.set(&a) {
                prop_assert_eq!(next.tid(&a).unwrap(), a.hash());
                gwc = next;
            }
        }
        // Every op ticks someone, and then the two identities hash apart.
        prop_assert_eq!(a.hash() != b.hash(), ticked);
    }
}

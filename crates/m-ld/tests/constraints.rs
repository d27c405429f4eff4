//! Configured data constraints across clones sharing a domain through an `InProcessDomain`:
//! conflicting values written during partitions resolve to the m-ld-js winner on every clone,
//! live and during rev-up, and random concurrent writes always converge to at most one value.

// Test helpers may panic: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use m_ld::core::store::MemoryStore;
use m_ld::{Follow, InProcessDomain, MeldClone, MeldConfig, MeldError, MeldUpdate};
use proptest::prelude::*;
use serde_json::{Value, json};

const DOMAIN: &str = "test.example.org";

fn config(id: &str, genesis: bool, constraints: &Value) -> MeldConfig {
    MeldConfig::from_json(&json!({
        "@id": id, "@domain": DOMAIN, "genesis": genesis, "constraints": constraints
    }))
    .unwrap()
}

fn single_valued() -> Value {
    json!([{"@type": "single-valued", "property": "name"}])
}

async fn start(
    hub: &InProcessDomain,
    id: &str,
    genesis: bool,
    store: MemoryStore,
    constraints: &Value,
) -> MeldClone {
    MeldClone::open_with_remotes(store, hub.remotes(id), config(id, genesis, constraints))
        .await
        .unwrap()
}

/// A genesis clone "c0" and `n - 1` more joined to it.
async fn colony(hub: &InProcessDomain, n: usize, constraints: &Value) -> Vec<MeldClone> {
    let mut clones = vec![start(hub, "c0", true, MemoryStore::new(), constraints).await];
    for i in 1..n {
        clones.push(
            start(
                hub,
                &format!("c{i}"),
                false,
                MemoryStore::new(),
                constraints,
            )
            .await,
        );
    }
    clones
}

fn dump(clone: &MeldClone) -> String {
    clone.read_state().unwrap().to_ntriples().unwrap()
}

/// Waits (bounded) until every clone holds the same data and none is outdated, for a few
/// consecutive looks (recoveries start asynchronously after a partition heals).
async fn converged(clones: &[&MeldClone]) -> String {
    let mut steady = 0;
    for _ in 0..1000 {
        let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
        let settled = clones.iter().all(|c| !c.status().unwrap().outdated);
        if settled && dumps.windows(2).all(|w| w[0] == w[1]) {
            steady += 1;
            if steady == 3 {
                return dumps[0].clone();
            }
        } else {
            steady = 0;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
    panic!("clones did not converge: {dumps:#?}");
}

/// The next update matching `want`, waiting (bounded) for it.
async fn updated(follow: &mut Follow, want: impl Fn(&MeldUpdate) -> bool) -> MeldUpdate {
    loop {
        let update = tokio::time::timeout(Duration::from_secs(10), follow.next())
            .await
            .expect("no matching update in time")
            .expect("update stream ended")
            .unwrap();
        if want(&update) {
            return update;
        }
    }
}

fn names(subjects: &[Value], id: &str) -> Vec<Value> {
    subjects
        .iter()
        .filter(|s| s["@id"] == id)
        .flat_map(|s| match &s["name"] {
            Value::Array(values) => values.clone(),
            Value::Null => vec![],
            value => vec![value.clone()],
        })
        .collect()
}

async fn name_of(clone: &MeldClone, id: &str) -> Option<Value> {
    clone.get(id).await.unwrap().map(|s| s["name"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_conflicting_values_resolve_to_the_maximum() {
    let hub = InProcessDomain::new();
    let clones = colony(&hub, 2, &single_valued()).await;
    let (a, b) = (&clones[0], &clones[1]);
    let mut b_updates = b.follow().unwrap();
    hub.partition("c1", true);
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    b.write(&json!({"@id": "fred", "name": "Flintstone"}))
        .await
        .unwrap();
    hub.partition("c1", false);
    // b sees its value replaced in one update.
    updated(&mut b_updates, |u| {
        names(&u.delete, "fred") == vec![json!("Flintstone")]
            && names(&u.insert, "fred") == vec![json!("Fred")]
    })
    .await;
    let data = converged(&[a, b]).await;
    assert_eq!(data.lines().count(), 1, "{data}");
    assert_eq!(name_of(a, "fred").await, Some(json!("Fred")));
    assert_eq!(name_of(b, "fred").await, Some(json!("Fred")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_conflicting_values_resolve_to_the_maximum() {
    let hub = InProcessDomain::new();
    let clones = colony(&hub, 5, &single_valued()).await;
    let mut follows: Vec<Follow> = clones.iter().map(|c| c.follow().unwrap()).collect();
    for i in 0..5 {
        hub.partition(&format!("c{i}"), true);
    }
    for (i, clone) in clones.iter().enumerate() {
        clone
            .write(&json!({"@id": "fred", "name": format!("Fred{i}")}))
            .await
            .unwrap();
    }
    for i in 0..5 {
        hub.partition(&format!("c{i}"), false);
    }
    // All but the last clone see their name squashed by "Fred4".
    for follow in &mut follows[..4] {
        updated(follow, |u| names(&u.insert, "fred") == vec![json!("Fred4")]).await;
    }
    let refs: Vec<&MeldClone> = clones.iter().collect();
    let data = converged(&refs).await;
    assert_eq!(data.lines().count(), 1, "{data}");
    for clone in &clones {
        assert_eq!(name_of(clone, "fred").await, Some(json!("Fred4")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_resolve_during_revup_without_changing_anyone_else() {
    let hub = InProcessDomain::new();
    let constraints = single_valued();
    let a = start(&hub, "a", true, MemoryStore::new(), &constraints).await;
    let b = start(&hub, "b", false, MemoryStore::new(), &constraints).await;
    let c_store = MemoryStore::new();
    let c = start(&hub, "c", false, c_store.clone(), &constraints).await;
    a.write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    converged(&[&a, &b, &c]).await;
    c.close().await.unwrap();

    // Conflicting values, resolved by a and b.
    hub.partition("b", true);
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    b.write(&json!({"@id": "fred", "name": "Flintstone"}))
        .await
        .unwrap();
    hub.partition("b", false);
    converged(&[&a, &b]).await;
    assert_eq!(name_of(&b, "fred").await, Some(json!("Fred")));

    // a changes its mind unilaterally.
    a.write(&json!({
        "@delete": {"@id": "fred", "name": "Fred"},
        "@insert": {"@id": "fred", "name": "Flintstone"}
    }))
    .await
    .unwrap();
    converged(&[&a, &b]).await;
    let mut a_updates = a.follow().unwrap();

    // c revs up through the conflict and resolves it itself on the way; its resolution must not
    // change anyone's state.
    let c = start(&hub, "c", false, c_store, &constraints).await;
    let data = converged(&[&a, &b, &c]).await;
    for clone in [&a, &b, &c] {
        assert_eq!(name_of(clone, "fred").await, Some(json!("Flintstone")));
    }
    assert_eq!(data.lines().count(), 2, "{data}");
    while let Some(update) = a_updates.try_next() {
        let update = update.unwrap();
        assert!(update.delete.is_empty(), "a saw {:?}", update.to_json());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_write_with_two_values_is_rejected() {
    let clone = MeldClone::new(config("a", true, &single_valued()))
        .await
        .unwrap();
    let err = clone
        .write(&json!({"@id": "fred", "name": ["Fred", "Flintstone"]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Multiple values"), "{err}");
    assert_eq!(err.status(), 5001);
    assert_eq!(clone.get("fred").await.unwrap(), None);
    clone
        .write(&json!({"@id": "fred", "name": "Fred", "age": 40}))
        .await
        .unwrap();
    let err = clone
        .write(&json!({"@id": "fred", "name": "Freddy"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Multiple values for http://test.example.org/fred"),
        "{err}"
    );
    // Other properties are unconstrained.
    clone
        .write(&json!({"@id": "fred", "age": 41}))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_constraints_are_configuration_errors() {
    let bad = MeldConfig::from_json(&json!({
        "@id": "a", "@domain": DOMAIN, "genesis": true,
        "constraints": [{"@type": "unique", "property": "name"}]
    }));
    assert!(matches!(bad, Err(MeldError::Config(_))));
    // A property that cannot expand fails when the clone starts.
    let mut config = config("a", true, &json!([]));
    config.constraints = vec![m_ld::ConstraintConfig::SingleValued {
        property: "@id".into(),
    }];
    assert!(MeldClone::new(config).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn property_shapes_constrain_counts_across_clones() {
    let hub = InProcessDomain::new();
    let shapes = json!([
        {"@type": "sh:PropertyShape", "sh:path": {"@vocab": "name"}, "sh:maxCount": 1},
        {"@type": "PropertyShape", "path": "species", "minCount": 1}
    ]);
    let clones = colony(&hub, 2, &shapes).await;
    let (a, b) = (&clones[0], &clones[1]);
    a.write(&json!({"@id": "fred", "species": "human", "age": 40}))
        .await
        .unwrap();
    converged(&[a, b]).await;
    let err = a
        .write(&json!({"@delete": {"@id": "fred", "species": "human"}}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Too few values for http://test.example.org/fred"),
        "{err}"
    );
    let err = a
        .write(&json!({"@id": "fred", "name": ["Fred", "Flintstone"]}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Too many values for http://test.example.org/fred"),
        "{err}"
    );

    hub.partition("c1", true);
    a.write(&json!({"@id": "fred", "name": "Flintstone"}))
        .await
        .unwrap();
    b.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    hub.partition("c1", false);
    converged(&[a, b]).await;
    assert_eq!(name_of(a, "fred").await, Some(json!("Fred")));

    // A full delete is allowed despite minCount, and stays deleted everywhere.
    a.delete("fred").await.unwrap();
    let data = converged(&[a, b]).await;
    assert!(data.is_empty(), "{data}");
}

/// One step of a random schedule.
#[derive(Debug, Clone)]
enum Step {
    /// Clone `0` sets subject `1`'s name to `2` (replacing any value it has).
    Write(usize, usize, String),
    /// Cuts clone `0` off (restoring any other), or restores it.
    Partition(usize, bool),
}

fn step(clones: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..clones, 0..2usize, "[a-cA-C\u{e9}\u{1f600}0-9]{1,3}")
            .prop_map(|(c, s, v)| Step::Write(c, s, v)),
        1 => (0..clones, any::<bool>()).prop_map(|(c, p)| Step::Partition(c, p)),
    ]
}

/// Sets a subject's name on one clone, replacing the values that clone has.
fn set_name(clone: &MeldClone, id: &str, value: &str) {
    clone
        .write_procedure(|state| {
            let current = state.read(&json!({"@describe": id}))?;
            let old = names(&current, id);
            state.write(&json!({
                "@delete": {"@id": id, "name": old},
                "@insert": {"@id": id, "name": value}
            }))?;
            Ok(())
        })
        .unwrap();
}

/// The JS `>` maximum of strings: by UTF-16 code units.
fn js_max(values: &[String]) -> String {
    values
        .iter()
        .max_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()))
        .cloned()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Each case runs a colony of clones: few cases unless `PROPTEST_CASES` asks for more (proptest
/// lets the variable override any configured count, so CI runs them all).
const COLONY_CASES: u32 = 12;

proptest! {
    #![proptest_config(ProptestConfig { cases: COLONY_CASES, ..ProptestConfig::default() })]

    /// Random writes and partitions (any clones, any time) on N clones: once healed, every clone
    /// holds the same data, with at most one name per subject.
    #[test]
    fn random_concurrent_writes_converge_to_one_value(
        (n, steps) in (2..=4usize).prop_flat_map(|n| (Just(n), prop::collection::vec(step(n), 1..16)))
    ) {
        runtime().block_on(async {
            let hub = InProcessDomain::new();
            let clones = colony(&hub, n, &single_valued()).await;
            for step in &steps {
                match step {
                    Step::Write(c, s, v) => set_name(&clones[*c], &format!("s{s}"), v),
                    // Any number at a time, healed in any order.
                    Step::Partition(c, p) => hub.partition(&format!("c{c}"), *p),
                }
                tokio::task::yield_now().await;
            }
            for i in 0..n {
                hub.partition(&format!("c{i}"), false);
            }
            let refs: Vec<&MeldClone> = clones.iter().collect();
            converged(&refs).await;
            for s in 0..2 {
                let id = format!("s{s}");
                let values = names(&clones[0].read(&json!({"@describe": id})).await.unwrap(), &id);
                prop_assert!(values.len() <= 1, "{id} has {values:?}");
            }
            Ok(())
        })?;
    }

    /// Every clone writes its own value while cut off: once healed, all hold the JS maximum.
    #[test]
    fn concurrent_first_values_resolve_to_the_js_maximum(
        values in prop::collection::vec("[a-zA-Z\u{e9}\u{ff21}\u{1f600}]{1,4}", 2..=4)
    ) {
        runtime().block_on(async {
            let hub = InProcessDomain::new();
            let clones = colony(&hub, values.len(), &single_valued()).await;
            for i in 0..clones.len() {
                hub.partition(&format!("c{i}"), true);
            }
            for (clone, value) in clones.iter().zip(&values) {
                clone.write(&json!({"@id": "fred", "name": value})).await.unwrap();
            }
            for i in 0..clones.len() {
                hub.partition(&format!("c{i}"), false);
            }
            let refs: Vec<&MeldClone> = clones.iter().collect();
            converged(&refs).await;
            for clone in &clones {
                prop_assert_eq!(name_of(clone, "fred").await, Some(json!(js_max(&values))));
            }
            Ok(())
        })?;
    }
}

// Shapes declared in the domain data (m-ld-js `ShapeConstrained.declare`).

const EXTENSIONS: &str = "http://m-ld.org/extensions";
const SH: &str = "http://www.w3.org/ns/shacl#";

/// What m-ld-js `ShapeConstrained.declare(0, PropertyShape.declare({path, maxCount}))` writes.
fn declare_max_count(path: &str, max: u64) -> Value {
    json!({
        "@id": EXTENSIONS,
        "@list": {"0": {
            "@id": "http://ext.m-ld.org/shacl/ShapeConstrained",
            "http://js.m-ld.org/#require": "@m-ld/m-ld/ext/shacl",
            "http://js.m-ld.org/#module": "@m-ld/m-ld/ext/shacl.js",
            "http://js.m-ld.org/#class": "ShapeConstrained",
            "http://m-ld.org/#controlled-shape": [{
                "@id": "nameShape",
                format!("{SH}path"): {"@vocab": path},
                format!("{SH}maxCount"): max,
                format!("{SH}targetClass"): []
            }]
        }}
    })
}

/// A later change to the declared shape's maximum.
fn set_max_count(old: u64, new: u64) -> Value {
    json!({
        "@delete": {"@id": "nameShape", format!("{SH}maxCount"): old},
        "@insert": {"@id": "nameShape", format!("{SH}maxCount"): new}
    })
}

fn assert_refused(err: &MeldError, what: &str) {
    assert_eq!(err.status(), 5011, "{err}");
    assert!(err.to_string().contains(what), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shapes_declared_in_the_genesis_write_constrain_later_writes() {
    let clone = MeldClone::new(config("a", true, &json!([]))).await.unwrap();
    // The declaring write itself is not checked against its shapes (as in m-ld-js).
    let mut genesis = declare_max_count("name", 1);
    genesis["@list"]["0"]["http://m-ld.org/#controlled-shape"][0]["@id"] = json!("nameShape");
    clone
        .write(&json!([genesis, {"@id": "fred", "name": ["Fred", "Flintstone"]}]))
        .await
        .unwrap();
    let err = clone
        .write(&json!({"@id": "wilma", "name": ["Wilma", "Flintstone"]}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Too many values for http://test.example.org/wilma"),
        "{err}"
    );
    assert_eq!(clone.get("wilma").await.unwrap(), None);
    clone
        .write(&json!({"@id": "wilma", "name": "Wilma"}))
        .await
        .unwrap();
    // Raising the maximum applies from the next write.
    clone.write(&set_max_count(1, 2)).await.unwrap();
    clone
        .write(&json!({"@id": "wilma", "name": "Flintstone"}))
        .await
        .unwrap();
    // Removing the extension from the list lifts the rule.
    clone
        .write(&json!({"@delete": {"@id": EXTENSIONS, "@list": {"0": "?"}}}))
        .await
        .unwrap();
    clone
        .write(&json!({"@id": "wilma", "name": "Pebbles"}))
        .await
        .unwrap();
    let names = names(&[clone.get("wilma").await.unwrap().unwrap()], "wilma");
    assert_eq!(names.len(), 3, "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shapes_declared_later_resolve_conflicts_on_every_clone() {
    let hub = InProcessDomain::new();
    let clones = colony(&hub, 2, &json!([])).await;
    let (a, b) = (&clones[0], &clones[1]);
    b.write(&declare_max_count("name", 1)).await.unwrap();
    converged(&[a, b]).await;
    // The declaration reached a: its local writes are checked.
    let err = a
        .write(&json!({"@id": "fred", "name": ["Fred", "Flintstone"]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Too many values for"), "{err}");

    let mut b_updates = b.follow().unwrap();
    hub.partition("c1", true);
    a.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    b.write(&json!({"@id": "fred", "name": "Flintstone"}))
        .await
        .unwrap();
    hub.partition("c1", false);
    updated(&mut b_updates, |u| {
        names(&u.delete, "fred") == vec![json!("Flintstone")]
            && names(&u.insert, "fred") == vec![json!("Fred")]
    })
    .await;
    converged(&[a, b]).await;
    assert_eq!(name_of(a, "fred").await, Some(json!("Fred")));
    assert_eq!(name_of(b, "fred").await, Some(json!("Fred")));

    // A third clone takes the shapes from its snapshot.
    let c = start(&hub, "c2", false, MemoryStore::new(), &json!([])).await;
    let err = c
        .write(&json!({"@id": "fred", "name": "Freddy"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Too many values for"), "{err}");

    // A changed maximum reaches every clone.
    a.write(&set_max_count(1, 2)).await.unwrap();
    converged(&[a, b, &c]).await;
    c.write(&json!({"@id": "fred", "name": "Freddy"}))
        .await
        .unwrap();
    let data = converged(&[a, b, &c]).await;
    assert_eq!(
        data.lines().filter(|l| l.contains("/fred>")).count(),
        2,
        "{data}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shape_declared_in_the_same_operation_as_conflicting_data_applies_afterwards() {
    // b declares a maximum while a concurrently writes a value: the shape is in force on both
    // once both have the declaration, and the conflict resolves the same way everywhere.
    let hub = InProcessDomain::new();
    let clones = colony(&hub, 2, &json!([])).await;
    let (a, b) = (&clones[0], &clones[1]);
    b.write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
    converged(&[a, b]).await;
    hub.partition("c1", true);
    a.write(&json!({"@id": "fred", "name": "Flintstone"}))
        .await
        .unwrap();
    b.write(&declare_max_count("name", 1)).await.unwrap();
    hub.partition("c1", false);
    let data = converged(&[a, b]).await;
    // b applied a's operation under the shape and resolved it; a then received the resolution.
    assert_eq!(name_of(a, "fred").await, Some(json!("Fred")), "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_declared_extensions_are_refused_locally() {
    let clone = MeldClone::new(config("a", true, &json!([]))).await.unwrap();
    let statutes = json!({
        "@id": EXTENSIONS,
        "@list": {"0": {
            "@id": "http://ext.m-ld.org/statutes/Statutory",
            "http://js.m-ld.org/#require": "@m-ld/m-ld/ext/statutes",
            "http://js.m-ld.org/#class": "Statutory"
        }}
    });
    let err = clone.write(&statutes).await.unwrap_err();
    assert_refused(&err, "http://ext.m-ld.org/statutes/Statutory");
    assert_refused(&err, "@m-ld/m-ld/ext/statutes");
    // Nothing was written, and the clone carries on.
    assert_eq!(dump(&clone), "");
    // A ShapeConstrained id without its module is not an extension this engine can load.
    let err = clone
        .write(&json!({"@id": EXTENSIONS, "@list": {"0": {
            "@id": "http://ext.m-ld.org/shacl/ShapeConstrained"
        }}}))
        .await
        .unwrap_err();
    assert_refused(&err, "ShapeConstrained");
    // Nor can it honour a second extension next to a supported one.
    clone.write(&declare_max_count("name", 1)).await.unwrap();
    let err = clone
        .write(&json!({"@id": EXTENSIONS, "@list": {"1": {
            "@id": "http://ext.example.org/mine",
            "http://js.m-ld.org/#module": "https://example.org/mine.js",
            "http://js.m-ld.org/#class": "Mine"
        }}}))
        .await
        .unwrap_err();
    assert_refused(&err, "https://example.org/mine.js");
    // An unreadable shape is refused too.
    let err = clone
        .write(&json!({"@id": "nameShape", format!("{SH}maxCount"): "lots"}))
        .await
        .unwrap_err();
    assert_refused(&err, "nameShape");
    clone
        .write(&json!({"@id": "fred", "name": "Fred"}))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_that_together_declare_an_unknown_extension_are_refused() {
    // Each write is fine where it is made: a turns a not-yet-listed extension subject into
    // another class, while b lists it. Together they declare an extension this engine lacks.
    let hub = InProcessDomain::new();
    let clones = colony(&hub, 2, &json!([])).await;
    let (a, b) = (&clones[0], &clones[1]);
    let ext = "http://ext.example.org/shapes";
    a.write(&json!({
        "@id": ext,
        "http://js.m-ld.org/#require": "@m-ld/m-ld/ext/shacl",
        "http://js.m-ld.org/#class": "ShapeConstrained"
    }))
    .await
    .unwrap();
    converged(&[a, b]).await;
    hub.partition("c1", true);
    a.write(&json!({
        "@delete": {"@id": ext, "http://js.m-ld.org/#class": "ShapeConstrained"},
        "@insert": {"@id": ext, "http://js.m-ld.org/#class": "Statutory"}
    }))
    .await
    .unwrap();
    b.write(&json!({"@id": EXTENSIONS, "@list": {"0": {"@id": ext}}}))
        .await
        .unwrap();
    hub.partition("c1", false);
    // Whichever clone first applies the other's write refuses the domain (and leaves it, so
    // the other may never receive the rest); a clone that does not refuse never holds both.
    let mut refusals = 0;
    for _ in 0..300 {
        refusals = [a, b].iter().filter(|c| c.status().is_err()).count();
        if refusals == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refusals > 0, "no clone refused the domain");
    for clone in [a, b] {
        match clone.read_state() {
            Err(e) => assert_refused(&e, ext),
            Ok(state) => {
                let data = state.to_ntriples().unwrap();
                assert!(
                    !(data.contains(EXTENSIONS) && data.contains("Statutory")),
                    "{data}"
                );
            }
        }
    }
}

/// One step of a random schedule with a declared shape.
#[derive(Debug, Clone)]
enum ShapeStep {
    /// Clone `0` adds value `1` to fred's names.
    Add(usize, String),
    /// Clone `0` sets the shape's maximum to `1` (declaring it if that clone has none).
    Max(usize, u64),
    /// Cuts clone `0` off (restoring any other), or restores it.
    Partition(usize, bool),
}

fn shape_step(clones: usize) -> impl Strategy<Value = ShapeStep> {
    prop_oneof![
        4 => (0..clones, "[a-cA-C\u{e9}0-9]{1,2}").prop_map(|(c, v)| ShapeStep::Add(c, v)),
        1 => (0..clones, 1..3u64).prop_map(|(c, m)| ShapeStep::Max(c, m)),
        2 => (0..clones, any::<bool>()).prop_map(|(c, p)| ShapeStep::Partition(c, p)),
    ]
}

/// Sets the declared maximum on one clone, replacing the values that clone has.
fn set_max(clone: &MeldClone, max: u64) {
    clone
        .write_procedure(|state| {
            let shape = state.read(&json!({"@describe": "nameShape"}))?;
            let old = shape
                .first()
                .map(|s| s[format!("{SH}maxCount")].clone())
                .filter(|v| !v.is_null());
            match old {
                None => state.write(&declare_max_count("name", max))?,
                Some(old) => state.write(&json!({
                    "@delete": {"@id": "nameShape", format!("{SH}maxCount"): old},
                    "@insert": {"@id": "nameShape", format!("{SH}maxCount"): max}
                }))?,
            };
            Ok(())
        })
        .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: COLONY_CASES, ..ProptestConfig::default() })]

    /// Every clone writes its own value while cut off, under a maximum of one declared in the
    /// data: once healed, all hold the m-ld-js maximum.
    #[test]
    fn concurrent_values_under_a_declared_shape_resolve_to_the_js_maximum(
        values in prop::collection::vec("[a-zA-Z\u{e9}\u{ff21}\u{1f600}]{1,4}", 2..=4)
    ) {
        runtime().block_on(async {
            let hub = InProcessDomain::new();
            let clones = colony(&hub, values.len(), &json!([])).await;
            clones[0].write(&declare_max_count("name", 1)).await.unwrap();
            let refs: Vec<&MeldClone> = clones.iter().collect();
            converged(&refs).await;
            for i in 0..clones.len() {
                hub.partition(&format!("c{i}"), true);
            }
            for (clone, value) in clones.iter().zip(&values) {
                clone.write(&json!({"@id": "fred", "name": value})).await.unwrap();
            }
            for i in 0..clones.len() {
                hub.partition(&format!("c{i}"), false);
            }
            converged(&refs).await;
            for clone in &clones {
                prop_assert_eq!(name_of(clone, "fred").await, Some(json!(js_max(&values))));
            }
            Ok(())
        })?;
    }

    /// Random value writes, shape declarations and changes, and partitions: once healed, every
    /// clone holds the same data, and the shape the data ends with is in force on every clone.
    #[test]
    fn random_writes_and_shape_changes_converge(
        (n, steps) in (2..=3usize)
            .prop_flat_map(|n| (Just(n), prop::collection::vec(shape_step(n), 1..14)))
    ) {
        runtime().block_on(async {
            let hub = InProcessDomain::new();
            let clones = colony(&hub, n, &json!([])).await;
            for step in &steps {
                match step {
                    ShapeStep::Add(c, v) => {
                        // A write beyond the maximum this clone knows is rejected: fine.
                        let _ = clones[*c].write(&json!({"@id": "fred", "name": v})).await;
                    }
                    ShapeStep::Max(c, m) => set_max(&clones[*c], *m),
                    ShapeStep::Partition(c, p) => {
                        if *p {
                            for i in (0..n).filter(|i| i != c) {
                                hub.partition(&format!("c{i}"), false);
                            }
                        }
                        hub.partition(&format!("c{c}"), *p);
                    }
                }
                tokio::task::yield_now().await;
            }
            for i in 0..n {
                hub.partition(&format!("c{i}"), false);
            }
            let refs: Vec<&MeldClone> = clones.iter().collect();
            converged(&refs).await;
            // The maximum the data ends with (concurrent ones merge to the greatest).
            let shape = clones[0].get("nameShape").await.unwrap();
            let max = shape.and_then(|s| match &s[format!("{SH}maxCount")] {
                Value::Array(v) => v.iter().filter_map(Value::as_u64).max(),
                v => v.as_u64(),
            });
            let count = name_of(&clones[0], "fred").await.map_or(0, |v| match v {
                Value::Array(v) => v.len(),
                _ => 1,
            });
            if let Some(max) = max {
                // One more value than allowed is rejected on every clone once it is full.
                if count >= max as usize {
                    for clone in &clones {
                        let err = clone
                            .write(&json!({"@id": "fred", "name": "zzz-one-too-many"}))
                            .await
                            .unwrap_err();
                        prop_assert!(err.to_string().contains("Too many values"), "{}", err);
                    }
                }
            }
            Ok(())
        })?;
    }
}

/// A store holding a genesis clone whose data already has `triples` (written beneath the
/// facade, as a store from elsewhere could be).
fn store_with(triples: &[(&str, &str, oxrdf::Term)]) -> MemoryStore {
    use m_ld::core::suset::{Patch, SuSet};
    let store = MemoryStore::new();
    let mut suset = SuSet::genesis(store.clone(), DOMAIN).unwrap();
    let inserts = triples
        .iter()
        .map(|(s, p, o)| {
            oxrdf::Triple::new(
                oxrdf::NamedNode::new_unchecked(*s),
                oxrdf::NamedNode::new_unchecked(*p),
                o.clone(),
            )
        })
        .collect();
    suset
        .transact(Patch {
            deletes: vec![],
            inserts,
        })
        .unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_clone_reads_declared_extensions_from_its_store() {
    use oxrdf::{Literal, NamedNode, Term};
    let iri = |s: &str| Term::NamedNode(NamedNode::new_unchecked(s));
    let lit = |s: &str| Term::Literal(Literal::new_simple_literal(s));
    let slot = "http://test.example.org/.well-known/genid/slot1";
    let pos = "http://m-ld.org/RdfLseq/?=3a_______________";
    let ext = "http://ext.m-ld.org/shacl/ShapeConstrained";
    let shape = "http://test.example.org/nameShape";
    let mut declared = vec![
        (EXTENSIONS, pos, iri(slot)),
        (slot, "http://json-rql.org/#item", iri(ext)),
        (
            ext,
            "http://js.m-ld.org/#require",
            lit("@m-ld/m-ld/ext/shacl"),
        ),
        (ext, "http://js.m-ld.org/#class", lit("ShapeConstrained")),
        (ext, "http://m-ld.org/#controlled-shape", iri(shape)),
        (
            shape,
            "http://www.w3.org/ns/shacl#path",
            iri("http://test.example.org/#name"),
        ),
        (
            shape,
            "http://www.w3.org/ns/shacl#maxCount",
            Term::Literal(Literal::from(1)),
        ),
    ];
    let clone = MeldClone::open(store_with(&declared), config("a", true, &json!([])))
        .await
        .unwrap();
    let err = clone
        .write(&json!({"@id": "fred", "name": ["Fred", "Flintstone"]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Too many values"), "{err}");
    clone.close().await.unwrap();

    // The same store with another class is refused when it opens.
    declared[3].2 = lit("Statutory");
    let err = MeldClone::open(store_with(&declared), config("a", true, &json!([])))
        .await
        .err()
        .expect("the store declares an extension this engine lacks");
    assert_refused(&err, ext);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_count_applies_both_bounds() {
    // PropertyShape.declare({path: "species", count: 1}) writes both counts.
    let clone = MeldClone::new(config("a", true, &json!([]))).await.unwrap();
    clone
        .write(&json!({
            "@id": EXTENSIONS,
            "@list": {"0": {
                "@id": "http://ext.m-ld.org/shacl/ShapeConstrained",
                "http://js.m-ld.org/#require": "@m-ld/m-ld/ext/shacl",
                "http://js.m-ld.org/#class": "ShapeConstrained",
                "http://m-ld.org/#controlled-shape": {
                    format!("{SH}path"): {"@vocab": "species"},
                    format!("{SH}name"): "Species",
                    format!("{SH}minCount"): 1,
                    format!("{SH}maxCount"): 1
                }
            }}
        }))
        .await
        .unwrap();
    clone
        .write(&json!({"@id": "fred", "species": "human", "age": 40}))
        .await
        .unwrap();
    let err = clone
        .write(&json!({"@delete": {"@id": "fred", "species": "human"}}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Too few values for http://test.example.org/fred"),
        "{err}"
    );
    let err = clone
        .write(&json!({"@id": "fred", "species": "dino"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Too many values"), "{err}");
    // Replacing is fine, and so is deleting the whole subject.
    clone
        .write(&json!({
            "@delete": {"@id": "fred", "species": "human"},
            "@insert": {"@id": "fred", "species": "dino"}
        }))
        .await
        .unwrap();
    clone.delete("fred").await.unwrap();
    assert_eq!(clone.get("fred").await.unwrap(), None);
}

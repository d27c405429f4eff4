//! A behaviour suite every [`Store`] backend must pass.
//!
//! Owns only checks of the [`Store`]/[`StoreSnapshot`] contract (ordering, prefix and range
//! bounds, batch semantics, snapshot isolation). Backends call [`check_store`] from their own
//! tests with a factory of empty stores; it returns a description of the first broken rule.

use super::{Batch, Entry, Store, StoreSnapshot};
use crate::CoreError;

/// Runs every contract check, each on a fresh store from `new_store`.
pub fn check_store<S: Store>(mut new_store: impl FnMut() -> S) -> Result<(), String> {
    empty_store_reads_nothing(&new_store())?;
    put_get_overwrite_delete(&new_store())?;
    later_batch_op_wins(&new_store())?;
    prefix_scan_is_ordered_and_bounded(&new_store())?;
    range_scan_bounds(&new_store())?;
    snapshot_is_isolated_from_later_writes(&new_store())?;
    Ok(())
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn fail<T>(rule: &str, detail: impl std::fmt::Debug) -> Result<T, String> {
    Err(format!("store contract broken: {rule}: {detail:?}"))
}

fn ok<T>(rule: &str, r: Result<T, CoreError>) -> Result<T, String> {
    r.map_err(|e| format!("store contract broken: {rule}: unexpected error {e}"))
}

fn collect<I: Iterator<Item = Result<Entry, CoreError>>>(
    rule: &str,
    it: I,
) -> Result<Pairs, String> {
    let mut out = Vec::new();
    for r in it {
        let (k, v) = ok(rule, r)?;
        out.push((k.to_vec(), v.to_vec()));
    }
    Ok(out)
}

fn put_all<S: Store>(store: &S, entries: &[(&[u8], &[u8])]) -> Result<(), String> {
    let mut batch = Batch::new();
    for (k, v) in entries {
        batch.put(k.to_vec(), v.to_vec());
    }
    ok("write", store.write(batch))
}

/// An empty store has no keys and accepts an empty batch.
pub fn empty_store_reads_nothing<S: Store>(store: &S) -> Result<(), String> {
    const RULE: &str = "empty store";
    ok(RULE, store.write(Batch::new()))?;
    let snap = store.snapshot();
    if let Some(v) = ok(RULE, snap.get(b"a"))? {
        return fail(RULE, v);
    }
    let all = collect(RULE, snap.scan_prefix(b""))?;
    if !all.is_empty() {
        return fail(RULE, all);
    }
    Ok(())
}

/// Values can be set, replaced and removed; deleting an absent key is a no-op.
pub fn put_get_overwrite_delete<S: Store>(store: &S) -> Result<(), String> {
    const RULE: &str = "put/get/overwrite/delete";
    put_all(store, &[(b"k1", b"v1"), (b"k2", b"")])?;
    let snap = store.snapshot();
    let got = ok(RULE, snap.get(b"k1"))?.map(|v| v.to_vec());
    if got.as_deref() != Some(&b"v1"[..]) {
        return fail(RULE, got);
    }
    let empty = ok(RULE, snap.get(b"k2"))?.map(|v| v.to_vec());
    if empty.as_deref() != Some(&b""[..]) {
        return fail("an empty value is a present value", empty);
    }
    put_all(store, &[(b"k1", b"v2")])?;
    let got = ok(RULE, store.snapshot().get(b"k1"))?.map(|v| v.to_vec());
    if got.as_deref() != Some(&b"v2"[..]) {
        return fail(RULE, got);
    }
    let mut batch = Batch::new();
    batch.delete(b"k1".to_vec());
    batch.delete(b"absent".to_vec());
    ok(RULE, store.write(batch))?;
    let snap = store.snapshot();
    if let Some(v) = ok(RULE, snap.get(b"k1"))? {
        return fail("deleted key is gone", v);
    }
    if ok(RULE, snap.get(b"k2"))?.is_none() {
        return fail("delete touches only its key", "k2 missing");
    }
    Ok(())
}

/// Within a batch, operations apply in order.
pub fn later_batch_op_wins<S: Store>(store: &S) -> Result<(), String> {
    const RULE: &str = "batch order";
    let mut batch = Batch::new();
    batch.put(b"a".to_vec(), b"1".to_vec());
    batch.delete(b"a".to_vec());
    batch.put(b"b".to_vec(), b"1".to_vec());
    batch.delete(b"b".to_vec());
    batch.put(b"b".to_vec(), b"2".to_vec());
    ok(RULE, store.write(batch))?;
    let snap = store.snapshot();
    if let Some(v) = ok(RULE, snap.get(b"a"))? {
        return fail(RULE, v);
    }
    let b = ok(RULE, snap.get(b"b"))?.map(|v| v.to_vec());
    if b.as_deref() != Some(&b"2"[..]) {
        return fail(RULE, b);
    }
    Ok(())
}

/// A prefix scan yields exactly the keys with that prefix, bytewise ascending, including keys
/// with `0xFF` bytes and the prefix itself.
pub fn prefix_scan_is_ordered_and_bounded<S: Store>(store: &S) -> Result<(), String> {
    const RULE: &str = "prefix scan";
    let keys: [&[u8]; 9] = [
        b"a",
        b"ab",
        b"ab\x00",
        b"ab\xff",
        b"ab\xff\xff",
        b"ac",
        b"b",
        b"\xff",
        b"\xff\xff\x01",
    ];
    // Insert in a scrambled order.
    for i in [4usize, 0, 7, 2, 8, 5, 1, 6, 3] {
        put_all(store, &[(keys[i], &[i as u8])])?;
    }
    let snap = store.snapshot();
    let ab = collect(RULE, snap.scan_prefix(b"ab"))?;
    let want: Vec<Vec<u8>> = keys[1..5].iter().map(|k| k.to_vec()).collect();
    let got: Vec<Vec<u8>> = ab.iter().map(|(k, _)| k.clone()).collect();
    if got != want {
        return fail(RULE, (got, want));
    }
    if ab
        .iter()
        .any(|(k, v)| keys.iter().position(|x| *x == &k[..]) != Some(v[0] as usize))
    {
        return fail("values follow their keys", ab);
    }
    let ff = collect(RULE, snap.scan_prefix(b"\xff"))?;
    if ff.len() != 2 {
        return fail("prefix of 0xFF bytes", ff);
    }
    let ff2 = collect(RULE, snap.scan_prefix(b"\xff\xff"))?;
    if ff2.len() != 1 {
        return fail("prefix of 0xFF bytes", ff2);
    }
    let all = collect(RULE, snap.scan_prefix(b""))?;
    let all_keys: Vec<Vec<u8>> = all.into_iter().map(|(k, _)| k).collect();
    let sorted: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
    if all_keys != sorted {
        return fail("empty prefix scans everything in order", all_keys);
    }
    let none = collect(RULE, snap.scan_prefix(b"abc"))?;
    if !none.is_empty() {
        return fail(RULE, none);
    }
    Ok(())
}

/// A range scan is `[start, end)`, or unbounded above when `end` is `None`.
pub fn range_scan_bounds<S: Store>(store: &S) -> Result<(), String> {
    const RULE: &str = "range scan";
    for i in 0u8..10 {
        put_all(store, &[(&[b'j', i], &[i])])?;
    }
    put_all(store, &[(b"k", b"")])?;
    let snap = store.snapshot();
    let mid = collect(RULE, snap.scan_range(&[b'j', 3], Some(&[b'j', 7])))?;
    let got: Vec<u8> = mid.iter().map(|(k, _)| k[1]).collect();
    if got != vec![3, 4, 5, 6] {
        return fail(RULE, got);
    }
    let tail = collect(RULE, snap.scan_range(&[b'j', 8], None))?;
    if tail.len() != 3 || tail[2].0 != b"k".to_vec() {
        return fail(RULE, tail);
    }
    let empty = collect(RULE, snap.scan_range(&[b'j', 7], Some(&[b'j', 7])))?;
    if !empty.is_empty() {
        return fail(RULE, empty);
    }
    let inverted = collect(RULE, snap.scan_range(&[b'j', 7], Some(&[b'j', 3])))?;
    if !inverted.is_empty() {
        return fail("an inverted range is empty", inverted);
    }
    Ok(())
}

/// A snapshot does not see writes made after it was taken, and survives them.
pub fn snapshot_is_isolated_from_later_writes<S: Store>(store: &S) -> Result<(), String> {
    const RULE: &str = "snapshot isolation";
    put_all(store, &[(b"x1", b"old"), (b"x2", b"old")])?;
    let before = store.snapshot();
    let mut batch = Batch::new();
    batch.put(b"x1".to_vec(), b"new".to_vec());
    batch.delete(b"x2".to_vec());
    batch.put(b"x3".to_vec(), b"new".to_vec());
    ok(RULE, store.write(batch))?;
    let old = collect(RULE, before.scan_prefix(b"x"))?;
    let want = vec![
        (b"x1".to_vec(), b"old".to_vec()),
        (b"x2".to_vec(), b"old".to_vec()),
    ];
    if old != want {
        return fail(RULE, old);
    }
    let after = collect(RULE, store.snapshot().scan_prefix(b"x"))?;
    let want = vec![
        (b"x1".to_vec(), b"new".to_vec()),
        (b"x3".to_vec(), b"new".to_vec()),
    ];
    if after != want {
        return fail(RULE, after);
    }
    Ok(())
}

#[cfg(test)]
mod memory_contract {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn memory_store_meets_the_contract() {
        check_store(MemoryStore::new).unwrap();
    }

    #[test]
    fn memory_store_clones_share_data() {
        let a = MemoryStore::new();
        let b = a.clone();
        put_all(&a, &[(b"k", b"v")]).unwrap();
        assert!(b.snapshot().get(b"k").unwrap().is_some());
        assert_eq!(b.len(), 1);
    }
}

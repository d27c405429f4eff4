//! A clone's SU-Set state on RocksStore survives closing and reopening: dataset, TIDs, journal,
//! clock and metadata all come back as they were.

use m_ld_core::CoreError;
use m_ld_core::suset::{Patch, SuSet};

use crate::common::{CloneDir, triple};

const DOMAIN: &str = "restart.m-ld.org";

#[test]
fn suset_state_survives_a_restart() {
    let dir = CloneDir::new();
    let (clock, gwc, journal) = {
        let store = dir.open();
        assert!(
            SuSet::open(store.clone()).unwrap().is_none(),
            "a new store is empty"
        );
        let mut suset = SuSet::genesis(store, DOMAIN).unwrap();
        suset
            .transact(Patch {
                deletes: vec![],
                inserts: vec![
                    triple("fred", "name", "Fred"),
                    triple("wilma", "name", "Wilma"),
                ],
            })
            .unwrap()
            .expect("a change");
        suset
            .transact(Patch {
                deletes: vec![triple("fred", "name", "Fred")],
                inserts: vec![triple("fred", "name", "Freddy")],
            })
            .unwrap()
            .expect("a change");
        (
            suset.clock().clone(),
            suset.gwc().clone(),
            suset.journal().unwrap(),
        )
    };
    assert_eq!(clock.ticks(), 2);

    let suset = SuSet::open(dir.open()).unwrap().expect("state found");
    assert_eq!(suset.domain(), DOMAIN);
    assert_eq!(suset.clock(), &clock);
    assert_eq!(suset.gwc(), &gwc);
    let state = suset.state();
    assert_eq!(state.len(), 2);
    assert!(state.contains(&triple("wilma", "name", "Wilma")).unwrap());
    assert!(state.contains(&triple("fred", "name", "Freddy")).unwrap());
    assert!(!state.contains(&triple("fred", "name", "Fred")).unwrap());
    let all: Vec<_> = state
        .triples(None, None, None)
        .collect::<Result<_, CoreError>>()
        .unwrap();
    assert_eq!(all.len(), 2);
    let reopened_journal = suset.journal().unwrap();
    assert_eq!(reopened_journal.len(), journal.len());
    assert_eq!(
        reopened_journal.iter().map(|e| e.tick).collect::<Vec<_>>(),
        journal.iter().map(|e| e.tick).collect::<Vec<_>>()
    );
    for (a, b) in reopened_journal.iter().zip(&journal) {
        assert_eq!(a.message, b.message);
    }
}

#[test]
fn writes_continue_after_a_restart() {
    let dir = CloneDir::new();
    {
        let mut suset = SuSet::genesis(dir.open(), DOMAIN).unwrap();
        suset
            .transact(Patch {
                deletes: vec![],
                inserts: vec![triple("a", "p", "1")],
            })
            .unwrap();
    }
    {
        let mut suset = SuSet::open(dir.open()).unwrap().expect("state found");
        suset
            .transact(Patch {
                deletes: vec![triple("a", "p", "1")],
                inserts: vec![triple("a", "p", "2")],
            })
            .unwrap();
        assert_eq!(suset.clock().ticks(), 2);
    }
    {
        let suset = SuSet::open(dir.open()).unwrap().expect("state found");
        assert_eq!(suset.clock().ticks(), 2);
        let state = suset.state();
        assert_eq!(state.len(), 1);
        assert!(state.contains(&triple("a", "p", "2")).unwrap());
    }
    // Genesis plus two transactions cannot create a second genesis in the same store.
    assert!(matches!(
        SuSet::genesis(dir.open(), DOMAIN),
        Err(CoreError::StoreNotEmpty)
    ));
}

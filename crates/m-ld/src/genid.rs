//! Generation of unique identifiers for skolem IRIs (`.well-known/genid/…`) and `@select` rows.
//!
//! Randomness lives here, at the facade edge, so the layers below stay deterministic. Ids look like
//! m-ld-js cuids: a `c`, a base-36 millisecond timestamp, a per-generator counter and random digits.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;

/// A generator of collision-resistant ids, unique per process and very likely across clones.
#[derive(Debug)]
pub(crate) struct GenId {
    counter: u32,
}

impl GenId {
    pub(crate) fn new() -> Self {
        GenId {
            counter: rand::rng().random(),
        }
    }

    /// The next id: 25 lowercase alphanumeric characters starting with `c`.
    pub(crate) fn next_id(&mut self) -> String {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.counter = self.counter.wrapping_add(1);
        let mut out = String::with_capacity(25);
        out.push('c');
        push_base36(&mut out, millis, 8);
        push_base36(&mut out, u64::from(self.counter) % 36u64.pow(4), 4);
        let mut rng = rand::rng();
        push_base36(&mut out, rng.random::<u64>() % 36u64.pow(12), 12);
        out
    }
}

fn push_base36(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 16];
    for d in digits[..width].iter_mut().rev() {
        *d = b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize];
        n /= 36;
    }
    out.extend(digits[..width].iter().map(|&b| b as char));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut g = GenId::new();
        let ids: HashSet<String> = (0..10_000).map(|_| g.next_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in &ids {
            assert_eq!(id.len(), 25);
            assert!(id.starts_with('c'));
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            );
        }
    }
}

//! List position identifiers ([`PosId`]) of m-ld's default list CRDT (docs/protocol.md §6.2,
//! m-ld-js `LseqDef`): parsing, formatting, ordering and generation between neighbours.
//!
//! Owns only the identifiers: pure functions, no I/O, no RDF. It must not know how lists are
//! stored (that is [`list`](crate::list)).
//!
//! A position identifier is a sequence of levels. Level `i` holds a position in
//! `[0, 36^(i+1))`, written in base 36 and left-padded with `0` to `i + 1` characters, followed by
//! a 16-character site (the clone id, cut or padded with `_`). The last level's position is never
//! 0. Identifiers order as strings, which is the lexicographic order of their `(pos, site)`
//! levels, a prefix sorting first.

use std::cmp::Ordering;
use std::fmt;

use crate::CoreError;

/// The radix of positions.
pub const RADIX: u32 = 36;
/// The length of a site, in characters.
pub const SITE_LENGTH: usize = 16;
/// The most levels an identifier may have (positions are held in 128 bits).
pub const MAX_LEVELS: usize = 24;
/// The skew of the allocation: new positions are placed at `1/2^SKEW` of a gap.
const SKEW: u32 = 3;

/// A list position identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PosId {
    levels: Vec<Level>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Level {
    pos: u128,
    site: String,
}

/// The positions of level `level`: `36^(level+1)`.
fn base(level: usize) -> u128 {
    u128::from(RADIX).pow(u32::try_from(level + 1).unwrap_or(u32::MAX))
}

/// The site of a clone: its id cut to [`SITE_LENGTH`] characters and right-padded with `_`.
pub fn site_of(clone_id: &str) -> String {
    let mut site: String = clone_id.chars().take(SITE_LENGTH).collect();
    let len = site.chars().count();
    site.extend(std::iter::repeat_n('_', SITE_LENGTH - len));
    site
}

fn bad(id: &str, why: &str) -> CoreError {
    CoreError::BadPosId(format!("{id:?}: {why}"))
}

fn format_pos(out: &mut String, pos: u128, width: usize) {
    let mut digits = Vec::with_capacity(width);
    let mut n = pos;
    while n > 0 {
        let d = (n % u128::from(RADIX)) as u32;
        digits.push(char::from_digit(d, RADIX).unwrap_or('0'));
        n /= u128::from(RADIX);
    }
    for _ in digits.len()..width {
        out.push('0');
    }
    out.extend(digits.iter().rev());
}

impl PosId {
    fn from_levels(levels: Vec<Level>) -> PosId {
        let mut text = String::with_capacity(levels.len() * (SITE_LENGTH + 4));
        for (i, level) in levels.iter().enumerate() {
            format_pos(&mut text, level.pos, i + 1);
            text.push_str(&level.site);
        }
        PosId { levels, text }
    }

    /// Parses an identifier, exactly as m-ld-js accepts it: each level's digits are lowercase
    /// base 36 of the level's width, each site is 16 characters, and the last position is not 0.
    pub fn parse(id: &str) -> Result<PosId, CoreError> {
        if id.is_empty() {
            return Err(bad(id, "empty"));
        }
        let chars: Vec<char> = id.chars().collect();
        let mut levels = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let width = levels.len() + 1;
            if width > MAX_LEVELS {
                return Err(bad(id, "too many levels"));
            }
            let site_start = start + width;
            if site_start + SITE_LENGTH > chars.len() {
                return Err(bad(id, "truncated level"));
            }
            let mut pos: u128 = 0;
            for &c in &chars[start..site_start] {
                let digit = match c {
                    '0'..='9' | 'a'..='z' => c.to_digit(RADIX),
                    _ => None,
                }
                .ok_or_else(|| bad(id, "position is not base-36"))?;
                pos = pos * u128::from(RADIX) + u128::from(digit);
            }
            let site: String = chars[site_start..site_start + SITE_LENGTH].iter().collect();
            levels.push(Level { pos, site });
            start = site_start + SITE_LENGTH;
        }
        if levels.last().is_none_or(|l| l.pos == 0) {
            return Err(bad(id, "the last position is 0"));
        }
        Ok(PosId {
            levels,
            text: id.to_string(),
        })
    }

    /// The identifier as text (its wire and storage form).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The number of levels.
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// `count` new identifiers in ascending order, strictly between `lower` and `upper` (`None`
    /// meaning the start or the end of the list), generated for `site` (see [`site_of`]).
    ///
    /// The allocation follows m-ld-js: a position a sixteenth of the way into the first gap
    /// found, several positions spread over an eighth of it, deeper levels when a gap is full.
    pub fn between(
        lower: Option<&PosId>,
        upper: Option<&PosId>,
        site: &str,
        count: usize,
    ) -> Result<Vec<PosId>, CoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let site = site_of(site);
        if let (Some(l), Some(u)) = (lower, upper)
            && l >= u
        {
            return Err(bad(
                &u.text,
                &format!("is not above the lower bound {:?}", l.text),
            ));
        }
        let lo = Bound::of(lower, 0);
        let hi = Bound::of(upper, u128::from(RADIX));
        let ids = between(&lo, &hi, &site, count, 0)?;
        Ok(ids.into_iter().map(|b| b.into_pos_id()).collect())
    }
}

impl fmt::Display for PosId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for PosId {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PosId::parse(s)
    }
}

impl PartialOrd for PosId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PosId {
    /// String order (JavaScript `<` on the identifiers, which are ASCII in practice).
    fn cmp(&self, other: &Self) -> Ordering {
        self.text.cmp(&other.text)
    }
}

/// An identifier or a bound during generation: a bound's site is `None` (the list's start is
/// `[{0, None}]`, its end `[{36, None}]`).
#[derive(Debug, Clone)]
struct Bound {
    levels: Vec<(u128, Option<String>)>,
}

impl Bound {
    fn of(id: Option<&PosId>, pos: u128) -> Bound {
        match id {
            Some(id) => Bound {
                levels: id
                    .levels
                    .iter()
                    .map(|l| (l.pos, Some(l.site.clone())))
                    .collect(),
            },
            None => Bound {
                levels: vec![(pos, None)],
            },
        }
    }

    fn pos(&self, level: usize) -> u128 {
        self.levels.get(level).map_or(0, |l| l.0)
    }

    fn site(&self, level: usize) -> Option<&str> {
        self.levels.get(level).and_then(|l| l.1.as_deref())
    }

    /// A copy of this bound's levels below `level`, padded with position 0 up to `level`, and
    /// then `{pos, site}` at `level`. Where this has no site (a bound, or padding), the site is
    /// `other`'s if their positions are equal there, else `site`. (m-ld-js always pads with
    /// `site`, which can place the result beyond `other`.)
    fn clone_with(&self, level: usize, pos: u128, site: &str, other: &Bound) -> Bound {
        let mut levels = Vec::with_capacity(level + 1);
        for i in 0..level {
            levels.push(match self.levels.get(i) {
                Some((p, Some(s))) => (*p, Some(s.clone())),
                // A bound's level, or a padding level: take the other bound's site where the
                // positions are equal, so the result still compares equal to it there.
                found => {
                    let p = found.map_or(0, |l| l.0);
                    let s = match other.levels.get(i) {
                        Some((q, Some(s))) if *q == p => s.clone(),
                        _ => site.to_string(),
                    };
                    (p, Some(s))
                }
            });
        }
        levels.push((pos, Some(site.to_string())));
        Bound { levels }
    }

    fn into_pos_id(self) -> PosId {
        PosId::from_levels(
            self.levels
                .into_iter()
                .map(|(pos, site)| Level {
                    pos,
                    site: site.unwrap_or_default(),
                })
                .collect(),
        )
    }
}

fn no_space() -> CoreError {
    CoreError::BadPosId("no space between positions".into())
}

/// Guards against runaway recursion in generation.
const MAX_DEPTH: usize = 64;

fn between(
    lo: &Bound,
    hi: &Bound,
    site: &str,
    count: usize,
    depth: usize,
) -> Result<Vec<Bound>, CoreError> {
    if depth > MAX_DEPTH {
        return Err(no_space());
    }
    let mut level = 0;
    while level < lo.levels.len() || level < hi.levels.len() {
        let (lp, up) = (lo.pos(level), hi.pos(level));
        match lp.cmp(&up) {
            Ordering::Greater => return Err(no_space()),
            Ordering::Equal => match (lo.site(level), hi.site(level)) {
                (None, None) => return Err(no_space()),
                (Some(ls), Some(us)) if ls > us => return Err(no_space()),
                (Some(ls), Some(us)) if ls < us => {
                    // Anything extending `lo` at a deeper level is below `hi`.
                    level += 1;
                    while lo.pos(level) >= base(level) - 1 {
                        level += 1;
                        if level >= MAX_LEVELS {
                            return Err(no_space());
                        }
                    }
                    return alloc(
                        lo,
                        level,
                        lo.pos(level),
                        base(level),
                        hi,
                        site,
                        count,
                        depth,
                    );
                }
                _ => {}
            },
            Ordering::Less if lp + 1 == up => {
                // No gap here: extend `lo` upwards or `hi` downwards at a deeper level.
                loop {
                    level += 1;
                    if level >= MAX_LEVELS {
                        return Err(no_space());
                    }
                    if lo.pos(level) < base(level) - 1 {
                        return alloc(
                            lo,
                            level,
                            lo.pos(level),
                            base(level),
                            hi,
                            site,
                            count,
                            depth,
                        );
                    } else if hi.pos(level) > 1 {
                        return alloc(hi, level, 0, hi.pos(level), hi, site, count, depth);
                    }
                }
            }
            Ordering::Less => return alloc(lo, level, lp, up, hi, site, count, depth),
        }
        level += 1;
    }
    Err(no_space())
}

#[allow(clippy::too_many_arguments)]
fn alloc(
    from: &Bound,
    level: usize,
    lower: u128,
    upper: u128,
    next: &Bound,
    site: &str,
    count: usize,
    depth: usize,
) -> Result<Vec<Bound>, CoreError> {
    if level >= MAX_LEVELS {
        return Err(no_space());
    }
    let mut ids: Vec<Bound> = alloc_integers(lower, upper, count)
        .into_iter()
        .map(|pos| from.clone_with(level, pos, site, next))
        .collect();
    if ids.is_empty() {
        return Err(no_space());
    }
    if ids.len() < count {
        let div = (count - ids.len()).div_ceil(ids.len());
        let mut i = 0;
        while i < ids.len() && ids.len() < count {
            let upper = ids.get(i + 1).unwrap_or(next).clone();
            let more = between(&ids[i], &upper, site, div, depth + 1)?;
            let n = more.len();
            ids.splice(i + 1..i + 1, more);
            i += n + 1;
        }
        ids.truncate(count);
    }
    Ok(ids)
}

/// Up to `count` positions strictly between `lower` and `upper`.
fn alloc_integers(lower: u128, upper: u128, count: usize) -> Vec<u128> {
    let Some(available) = upper.checked_sub(lower + 1) else {
        return Vec::new();
    };
    // m-ld-js: mid = available / 2^skew, spread = min(mid, available - mid), and the first
    // position is lower + floor(mid - spread / 2) + 1, i.e. lower + available / 2^(skew+1) + 1.
    let count_u = count as u128;
    let gap = if count > 1 {
        (available >> SKEW) / (count_u - 1)
    } else {
        0
    };
    let mut pos = lower + (available >> (SKEW + 1)) + 1;
    let mut out = Vec::with_capacity(count.min(64));
    while pos < upper && out.len() < count {
        out.push(pos);
        pos += gap.max(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "cloneA";
    const B: &str = "cloneB";

    fn ids(lower: Option<&PosId>, upper: Option<&PosId>, site: &str, n: usize) -> Vec<PosId> {
        PosId::between(lower, upper, site, n).unwrap()
    }

    #[test]
    fn sites_are_cut_and_padded() {
        assert_eq!(site_of("cloneA"), "cloneA__________");
        assert_eq!(site_of("abcdefghijklmnopqrstu"), "abcdefghijklmnop");
    }

    #[test]
    fn matches_the_m_ld_js_capture() {
        let two = ids(None, None, A, 2);
        let text: Vec<&str> = two.iter().map(PosId::as_str).collect();
        assert_eq!(text, ["3cloneA__________", "7cloneA__________"]);
        let mid = ids(Some(&two[0]), Some(&two[1]), B, 1);
        assert_eq!(mid[0].as_str(), "4cloneB__________");
        let head_a = ids(None, Some(&two[0]), A, 1);
        let head_b = ids(None, Some(&two[0]), B, 1);
        assert_eq!(head_a[0].as_str(), "1cloneA__________");
        assert_eq!(head_b[0].as_str(), "1cloneB__________");
        assert!(head_a[0] < head_b[0]);
    }

    #[test]
    fn three_items_spread() {
        let three = ids(None, None, A, 3);
        let pos: Vec<&str> = three.iter().map(|p| &p.as_str()[..1]).collect();
        assert_eq!(pos, ["3", "5", "7"]);
    }

    #[test]
    fn adjacent_positions_go_deeper() {
        let lo = PosId::parse("3cloneA__________").unwrap();
        let hi = PosId::parse("4cloneA__________").unwrap();
        let mid = ids(Some(&lo), Some(&hi), B, 1);
        assert_eq!(mid[0].depth(), 2);
        assert!(lo < mid[0] && mid[0] < hi);
        assert_eq!(PosId::parse(mid[0].as_str()).unwrap(), mid[0]);
    }

    #[test]
    fn same_position_different_sites() {
        let lo = PosId::parse("1cloneA__________").unwrap();
        let hi = PosId::parse("1cloneB__________").unwrap();
        let mid = ids(Some(&lo), Some(&hi), A, 3);
        assert!(mid.iter().all(|m| lo < *m && *m < hi));
    }

    #[test]
    fn parse_rejects_malformed_ids() {
        for bad in [
            "",
            "3",
            "0cloneA__________",
            "3cloneA_________",
            "3cloneA__________0",
            "3cloneA__________00cloneA__________",
            "AcloneA__________",
            "-cloneA__________",
            "3cloneA__________ 1cloneA__________",
        ] {
            assert!(PosId::parse(bad).is_err(), "{bad:?}");
        }
        let deep = "3cloneA__________0kcloneB__________";
        assert_eq!(PosId::parse(deep).unwrap().as_str(), deep);
        assert_eq!(PosId::parse(deep).unwrap().depth(), 2);
    }

    #[test]
    fn bounds_must_be_ordered() {
        let lo = PosId::parse("3cloneA__________").unwrap();
        assert!(PosId::between(Some(&lo), Some(&lo), A, 1).is_err());
        let hi = PosId::parse("1cloneA__________").unwrap();
        assert!(PosId::between(Some(&lo), Some(&hi), A, 1).is_err());
    }

    #[test]
    fn below_an_id_with_a_zero_first_level() {
        // "0…" heads arise from inserts before position 1.
        let hi = PosId::parse("0cloneZ__________01cloneZ__________").unwrap();
        for site in [A, "zzz"] {
            let got = ids(None, Some(&hi), site, 2);
            assert!(got.iter().all(|g| *g < hi), "{got:?}");
            assert!(got[0] < got[1]);
        }
    }

    /// A site of 1 to 20 characters from a small alphabet (so that sites often tie).
    fn site() -> impl Strategy<Value = String> {
        "[a-c_]{1,20}"
    }

    proptest! {
        #[test]
        fn generated_ids_are_well_formed_and_strictly_ordered(
            steps in prop::collection::vec((any::<prop::sample::Index>(), 1usize..6, site()), 1..60)
        ) {
            let mut list: Vec<PosId> = Vec::new();
            for (at, count, site) in steps {
                let i = at.index(list.len() + 1);
                let lower = i.checked_sub(1).map(|j| &list[j]);
                let upper = list.get(i);
                let new = PosId::between(lower, upper, &site, count).unwrap();
                prop_assert_eq!(new.len(), count);
                for id in &new {
                    prop_assert_eq!(&PosId::parse(id.as_str()).unwrap(), id);
                    prop_assert!(lower.is_none_or(|l| l < id));
                    prop_assert!(upper.is_none_or(|u| id < u));
                }
                for w in new.windows(2) {
                    prop_assert!(w[0] < w[1]);
                }
                list.splice(i..i, new);
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,60}") {
            if let Ok(id) = PosId::parse(&text) {
                prop_assert_eq!(id.as_str(), text.as_str());
            }
        }

        #[test]
        fn string_order_is_level_order(a in prop::collection::vec((0u128..36, "[a-c]{16}"), 1..4),
                                       b in prop::collection::vec((0u128..36, "[a-c]{16}"), 1..4)) {
            let make = |levels: Vec<(u128, String)>| {
                let mut levels: Vec<Level> =
                    levels.into_iter().map(|(pos, site)| Level { pos, site }).collect();
                if let Some(last) = levels.last_mut() { last.pos = last.pos.max(1); }
                PosId::from_levels(levels)
            };
            let (a, b) = (make(a), make(b));
            let structural = a.levels.iter().map(|l| (l.pos, &l.site))
                .cmp(b.levels.iter().map(|l| (l.pos, &l.site)));
            prop_assert_eq!(a.cmp(&b), structural);
            prop_assert_eq!(&PosId::parse(a.as_str()).unwrap(), &a);
        }
    }
}

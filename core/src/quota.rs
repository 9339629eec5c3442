//! `QuotaMap`: a bounded map whose entries each belong to a source (a peer, or `None` for this
//! node's own user) and expire. It holds what peers hand the node before it can use it — blocks
//! waiting for their parent, orphan transactions, relay addresses — so that no single peer can
//! fill it for everyone: a peer over its quota displaces only its own oldest entry, and a full
//! map makes room by dropping the oldest entry of the source that holds the most. A departed
//! peer's entries stay until they expire or are evicted like any other (its next connection is
//! another source with a quota of its own).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cmp::Reverse;

/// Who handed the node an entry: a peer (`Some(id)`), or this node's own user (`None`), whose
/// entries count towards the cap but not towards any peer's quota.
pub(crate) type Source = Option<u64>;

#[derive(Debug, Clone)]
struct Held<V> {
    value: V,
    source: Source,
    seq: u64,
    expires_at: u64,
}

/// Entries keyed by `K`, at most `cap` of them and `per_source_max` from any one peer.
#[derive(Debug, Clone)]
pub(crate) struct QuotaMap<K, V> {
    entries: BTreeMap<K, Held<V>>,
    /// Each source's entries by arrival, oldest first.
    by_source: BTreeMap<(Source, u64), K>,
    counts: BTreeMap<Source, usize>,
    cap: usize,
    per_source_max: usize,
    next_seq: u64,
}

impl<K: Ord + Clone, V> QuotaMap<K, V> {
    pub(crate) fn new(cap: usize, per_source_max: usize) -> Self {
        assert!(0 < per_source_max && per_source_max <= cap, "a quota is a share of the cap");
        Self {
            entries: BTreeMap::new(),
            by_source: BTreeMap::new(),
            counts: BTreeMap::new(),
            cap,
            per_source_max,
            next_seq: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, held)| (k, &held.value))
    }

    /// How many entries `source` holds.
    pub(crate) fn count_from(&self, source: Source) -> usize {
        self.counts.get(&source).copied().unwrap_or(0)
    }

    /// Holds `value` from `source` until `expires_at` (`u64::MAX`: until evicted). A peer at its
    /// quota first loses its own oldest entry; a full map then loses the oldest entry of the
    /// source holding the most. Returns false, changing nothing, if `key` is already held.
    pub(crate) fn insert(&mut self, key: K, value: V, source: Source, expires_at: u64) -> bool {
        if self.entries.contains_key(&key) {
            return false;
        }
        if source.is_some() && self.count_from(source) >= self.per_source_max {
            self.evict_oldest_of(source);
        }
        if self.entries.len() >= self.cap {
            // The source holding the most; between equals, the one whose oldest entry is oldest.
            let largest = self.counts.iter().max_by_key(|&(s, n)| (*n, Reverse(self.oldest_of(*s)))).map(|(s, _)| *s);
            self.evict_oldest_of(largest.expect("the map is full, so some source holds entries"));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_source.insert((source, seq), key.clone());
        *self.counts.entry(source).or_default() += 1;
        self.entries.insert(key, Held { value, source, seq, expires_at });
        assert!(self.entries.len() <= self.cap && self.by_source.len() == self.entries.len());
        true
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let held = self.entries.remove(key)?;
        self.by_source.remove(&(held.source, held.seq));
        let count = self.counts.get_mut(&held.source).expect("a held entry is counted");
        *count -= 1;
        if *count == 0 {
            self.counts.remove(&held.source);
        }
        Some(held.value)
    }

    /// The arrival number of `source`'s oldest entry.
    fn oldest_of(&self, source: Source) -> Option<u64> {
        self.by_source.range((source, 0)..=(source, u64::MAX)).next().map(|(&(_, seq), _)| seq)
    }

    fn evict_oldest_of(&mut self, source: Source) {
        let oldest = self.by_source.range((source, 0)..=(source, u64::MAX)).next().map(|(_, k)| k.clone());
        if let Some(key) = oldest {
            self.remove(&key);
        }
    }

    /// Drops every entry whose time is up at `now`.
    pub(crate) fn expire(&mut self, now: u64) {
        let expired: Vec<K> =
            self.entries.iter().filter(|(_, h)| h.expires_at <= now).map(|(k, _)| k.clone()).collect();
        for key in expired {
            self.remove(&key);
        }
    }

    /// Keys whose value matches `pred`, in key order.
    pub(crate) fn keys_where(&self, mut pred: impl FnMut(&V) -> bool) -> Vec<K> {
        self.entries.iter().filter(|(_, h)| pred(&h.value)).map(|(k, _)| k.clone()).collect()
    }

    /// The source of `key`'s entry.
    pub(crate) fn source_of(&self, key: &K) -> Option<Source> {
        self.entries.get(key).map(|h| h.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts `(key, source)` pairs at time 0 with expiry `key`, and returns the keys held.
    fn check(cap: usize, quota: usize, inserts: &[(u32, Source)], expected: &[u32]) {
        let mut map = QuotaMap::new(cap, quota);
        for &(key, source) in inserts {
            map.insert(key, (), source, u64::from(key));
        }
        let held: Vec<u32> = map.iter().map(|(k, _)| *k).collect();
        assert_eq!(held, expected, "cap {cap}, quota {quota}, inserts {inserts:?}");
    }

    #[test]
    fn quotas_and_the_cap() {
        // A peer over its quota loses its own oldest entry, never another's.
        check(10, 2, &[(1, Some(7)), (2, Some(7)), (3, Some(8)), (4, Some(7))], &[2, 3, 4]);
        // A full map drops the oldest entry of the source that holds the most.
        check(4, 3, &[(1, Some(7)), (2, Some(7)), (3, Some(7)), (4, Some(8)), (5, Some(9))], &[2, 3, 4, 5]);
        // Between sources holding as many, the one whose oldest entry is oldest.
        check(4, 2, &[(1, Some(8)), (2, Some(7)), (3, Some(8)), (4, Some(7)), (5, Some(9))], &[2, 3, 4, 5]);
        // The user's own entries are under no peer quota, only the cap.
        check(4, 1, &[(1, None), (2, None), (3, None), (4, Some(8)), (5, Some(8))], &[1, 2, 3, 5]);
        // A key already held stays with its first source.
        check(4, 1, &[(1, Some(7)), (1, Some(8)), (2, Some(8))], &[1, 2]);
    }

    #[test]
    fn expiry() {
        let mut map = QuotaMap::new(10, 5);
        for (key, source) in [(1, Some(7)), (2, Some(8)), (3, Some(7)), (4, None)] {
            map.insert(key, (), source, 100 + key);
        }
        map.expire(102);
        assert_eq!(map.iter().map(|(k, _)| *k).collect::<Vec<u64>>(), [3, 4]);
        assert_eq!((map.count_from(Some(7)), map.count_from(Some(8)), map.count_from(None)), (1, 0, 1));
    }
}

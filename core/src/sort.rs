//! Sorting in little code, for the lists that are not on a hot path.
//!
//! `core`'s `sort_by_key` compiles a sorter of 15 to 35 KiB of wasm for every element type
//! and key it is used with, and so does collecting into a `BTreeMap` or `BTreeSet` (which
//! sorts first). The page downloads each one. A heapsort is a few hundred bytes per use, sorts
//! in O(n log n) with no allocation whatever the input, and is fast enough for a wallet's
//! history or a view of the mempool. The hot paths (median time past, loading the UTXO set)
//! keep `core`'s sorts.

/// Sorts `items` ascending by `key`. Not stable: where the order of two items matters, `key`
/// must tell them apart.
pub(crate) fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    let len = items.len();
    for root in (0..len / 2).rev() {
        sift_down(items, root, len, &mut key);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end, &mut key);
    }
}

/// Restores the max-heap order of `items[..end]` below `root`, whose children are heaps.
fn sift_down<T, K: Ord>(items: &mut [T], mut root: usize, end: usize, key: &mut impl FnMut(&T) -> K) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && key(&items[child]) < key(&items[child + 1]) {
            child += 1;
        }
        if key(&items[root]) >= key(&items[child]) {
            return;
        }
        items.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_as_core_does(mut items in prop::collection::vec(any::<(u8, u16)>(), 0..300)) {
            let mut expected = items.clone();
            expected.sort();
            sort_by_key(&mut items, |&item| item);
            prop_assert_eq!(items, expected);
        }

        #[test]
        fn equal_keys_keep_every_item(items in prop::collection::vec(any::<(u8, u16)>(), 0..300)) {
            let mut sorted = items.clone();
            sort_by_key(&mut sorted, |&(key, _)| key);
            prop_assert!(sorted.windows(2).all(|pair| pair[0].0 <= pair[1].0));
            let (mut before, mut after) = (items, sorted);
            before.sort();
            after.sort();
            prop_assert_eq!(before, after);
        }
    }

    #[test]
    fn descending_and_reversed_keys() {
        let mut items: Vec<u32> = (0..1000).collect();
        sort_by_key(&mut items, |&n| core::cmp::Reverse(n));
        assert!(items.iter().rev().copied().eq(0..1000));
    }
}

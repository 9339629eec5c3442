//! `MuHash3072` against Bitcoin Core's test vectors, and the multiset laws as properties.
//!
//! Vectors: Bitcoin Core, `src/test/crypto_tests.cpp`, test case `muhash_tests` (unchanged
//! since MuHash landed in 2020–2021; read at bitcoin/bitcoin, `src/crypto/muhash.cpp` at commit
//! 06a4d404ab0c76712684eada43fcde29ee143b96), and `test/functional/test_framework/crypto/
//! muhash.py` (commit 284c42a3ceb98587895935139984c52e9958005d), `test_muhash`. Core prints a
//! `uint256` built with `uint256S` byte-reversed; `HexStr` of one is in byte order.

use super::num3072::{LIMBS, Num3072};
use super::*;
use crate::hex;
use alloc::string::String;
use alloc::vec::Vec;
use proptest::prelude::*;

/// Core's `FromInt(i)`: the 32 bytes `i, 0, 0, …`.
fn from_int(i: u8) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = i;
    bytes
}

fn set_of(items: &[u8]) -> MuHash3072 {
    let mut set = MuHash3072::new();
    for &i in items {
        set.insert(&from_int(i));
    }
    set
}

/// A `uint256` as Core displays it: the bytes reversed.
fn display_hex(hash: &[u8; 32]) -> String {
    let mut reversed = *hash;
    reversed.reverse();
    hex::encode(&reversed)
}

/// `acc = FromInt(0); acc *= FromInt(1); acc /= FromInt(2)`, and the same by `Insert` and
/// `Remove`; the functional tests' `test_muhash` checks the same value.
#[test]
fn core_vector_insert_insert_remove() {
    let expected = "10d312b100cbd32ada024a6646e40d3482fcff103668d2625f10002a607d5863";
    let mut acc = set_of(&[0, 1]);
    acc.remove(&from_int(2));
    assert_eq!(display_hex(&acc.finalize()), expected);

    let mut divided = set_of(&[0]);
    divided.combine(&set_of(&[1]));
    let mut removal = MuHash3072::new();
    removal.remove(&from_int(2));
    divided.combine(&removal);
    assert_eq!(display_hex(&divided.finalize()), expected);
}

/// `serchk = FromInt(1); serchk *= FromInt(2)` serializes as numerator then denominator (1);
/// the numerator is `ser_exp`'s first 384 bytes, which is what `to_bytes` gives. Core's string,
/// recomputed independently with the formulas of Core's `muhash.py` before it was pasted here.
#[test]
fn core_vector_serialization() {
    let ser_exp_numerator = concat!(
        "1fa093295ea30a6a3acdc7b3f770fa538eff537528e990e2910e40bbcfd7f6696b1256901929094694b56316",
        "de342f593303dd12ac43e06dce1be1ff8301c845beb15468fff0ef002dbf80c29f26e6452bccc91b5cb9437a",
        "d410d2a67ea847887fa3c6a6553309946880fe20db2c73fe0641adbd4e86edfee0d9f8cd0ee1230898873dc1",
        "3ed8ddcaf045c80faa082774279007a2253f8922ee3ef361d378a6af3ddaf180b190ac97e556888c36b3d1fb",
        "1c85aab9ccd46e3deaeb7b7cf5db067a7e9ff86b658cf3acd6662bbcce37232daa753c48b794356c020090c8",
        "31a8304416e2aa7ad633c0ddb2f11be1be316a81be7f7e472071c042cb68faef549c221ebff209273638b741",
        "aba5a81675c45a5fa92fea4ca821d7a324cb1e1a2ccd3b76c4228ec8066dad2a5df6e1bd0de45c7dd5de8070",
        "bdb46db6c554cf9aefc9b7b2bbf9f75b1864d9f95005314593905c0109b71f703d49944ae94477b51dac10a8",
        "16bb6d1c700bafabc8bd86fac8df24be519a2f2836b16392e18036cb13e48c5c",
    );
    let serchk = set_of(&[1, 2]);
    assert_eq!(serchk.denominator, Num3072::ONE);
    assert_eq!(hex::encode(&serchk.to_bytes()), ser_exp_numerator);
    // Deserialized, it finalizes as the original.
    let loaded = MuHash3072::from_bytes(&serchk.to_bytes()).expect("a normalized state");
    assert_eq!(loaded.finalize(), serchk.finalize());
}

/// Core's overflow vector: a numerator of 384 bytes of 0xff (above p), denominator 1, finalizes
/// as its value mod p. `from_bytes` refuses those bytes, so the state is built inside.
#[test]
fn core_vector_overflow() {
    let all_ones = [0xffu8; MUHASH_BYTES];
    let overflowing = MuHash3072 {
        numerator: Num3072::from_limbs_reduced(Num3072::from_le_bytes(&all_ones)),
        denominator: Num3072::ONE,
    };
    assert_eq!(
        hex::encode(&overflowing.finalize()),
        "3a31e6903aff0de9f62f9a9f7f8b861de76ce2cda09822b90014319ae5dc2271"
    );
    assert_eq!(MuHash3072::from_bytes(&all_ones).err(), Some(MuHashDecodeError::NotBelowModulus));
}

/// Core's loop: any order of the same multiplications and divisions finalizes alike, and
/// x·y / (y·x) is the empty set.
#[test]
fn core_order_and_cancel() {
    let empty = MuHash3072::new().finalize();
    for (x, y) in [(0u8, 0u8), (3, 9), (15, 1)] {
        let mut z = set_of(&[x, y]);
        let mut yx = set_of(&[y, x]);
        core::mem::swap(&mut yx.numerator, &mut yx.denominator);
        z.combine(&yx);
        assert_eq!(z.finalize(), empty);
    }
}

#[test]
fn from_bytes_refuses_p_and_zero() {
    let p = {
        let mut bytes = [0xffu8; MUHASH_BYTES];
        bytes[..8].copy_from_slice(&(u64::MAX - num3072::PRIME_DIFF + 1).to_le_bytes());
        bytes
    };
    assert_eq!(MuHash3072::from_bytes(&p).err(), Some(MuHashDecodeError::NotBelowModulus));
    assert_eq!(MuHash3072::from_bytes(&[0; MUHASH_BYTES]).err(), Some(MuHashDecodeError::Zero));
    let mut p_minus_1 = p;
    p_minus_1[0] -= 1;
    assert!(MuHash3072::from_bytes(&p_minus_1).is_ok());
    assert_eq!(
        MuHash3072::from_bytes(&MuHash3072::new().to_bytes()).map(|m| m.finalize()),
        Ok(MuHash3072::new().finalize())
    );
}

/// A few distinct byte strings as set elements.
fn elements() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..48), 0..8)
}

fn hash_of(items: &[Vec<u8>]) -> [u8; 32] {
    let mut set = MuHash3072::new();
    items.iter().for_each(|item| set.insert(item));
    set.finalize()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn add_then_remove_matches_rebuilt(base in elements(), added in elements(), removed_idx in proptest::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        let mut set = MuHash3072::new();
        base.iter().for_each(|item| set.insert(item));
        added.iter().for_each(|item| set.insert(item));
        let mut remaining: Vec<Vec<u8>> = base.iter().chain(&added).cloned().collect();
        for idx in removed_idx {
            if remaining.is_empty() {
                break;
            }
            let item = remaining.remove(idx.index(remaining.len()));
            set.remove(&item);
        }
        prop_assert_eq!(set.finalize(), hash_of(&remaining));
    }

    #[test]
    fn order_does_not_matter(items in elements(), seed in any::<u64>()) {
        let mut shuffled = items.clone();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(hash_of(&items), hash_of(&shuffled));
    }

    #[test]
    fn combine_is_union(a in elements(), b in elements(), b_removed in elements()) {
        let mut left = MuHash3072::new();
        a.iter().for_each(|item| left.insert(item));
        let mut right = MuHash3072::new();
        b.iter().for_each(|item| right.insert(item));
        b_removed.iter().for_each(|item| right.remove(item));
        left.combine(&right);
        let mut both = MuHash3072::new();
        a.iter().chain(&b).for_each(|item| both.insert(item));
        b_removed.iter().for_each(|item| both.remove(item));
        prop_assert_eq!(left.finalize(), both.finalize());
    }

    #[test]
    fn bytes_round_trip(items in elements(), removed in elements()) {
        let mut set = MuHash3072::new();
        items.iter().for_each(|item| set.insert(item));
        removed.iter().for_each(|item| set.remove(item));
        let loaded = MuHash3072::from_bytes(&set.to_bytes());
        prop_assert_eq!(loaded.as_ref().map(MuHash3072::finalize), Ok(set.finalize()));
        prop_assert_eq!(loaded.map(|m| m.to_bytes()), Ok(set.to_bytes()));
    }

    #[test]
    fn from_bytes_refuses_at_least_modulus(low in (u64::MAX - num3072::PRIME_DIFF + 1)..=u64::MAX) {
        let mut bytes = [0xffu8; MUHASH_BYTES];
        bytes[..8].copy_from_slice(&low.to_le_bytes());
        prop_assert_eq!(MuHash3072::from_bytes(&bytes).err(), Some(MuHashDecodeError::NotBelowModulus));
    }
}

/// The element is the ChaCha20 keystream of SHA-256 of the data, read little-endian.
#[test]
fn element_is_the_expanded_hash() {
    let limbs: [u64; LIMBS] = chacha20::keystream_limbs(&sha256(b"abc"));
    assert_eq!(element(b"abc"), Num3072::from_limbs_reduced(limbs));
}

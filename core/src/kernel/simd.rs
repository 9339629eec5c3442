//! The wasm SIMD128 engine: four nonces hashed at once, one per 32-bit lane, by the same
//! compression code as the scalar engine, and two such groups interleaved so the CPU has
//! independent work while one round waits on the last; the nonces left over at the end of a
//! range go to the scalar engine.

use super::header_hash::{Fixed, top_word_be};
use super::sha256::Word;
use super::{MiningJob, SearchResult, scan};
use core::arch::wasm32::{
    i8x16_shuffle, u32x4, u32x4_add, u32x4_le, u32x4_shl, u32x4_shr, u32x4_splat, v128, v128_any_true, v128_bitselect,
    v128_or, v128_xor,
};

/// Four words, one per lane.
#[derive(Clone, Copy, Debug)]
struct Lanes(v128);

impl Word for Lanes {
    #[inline(always)]
    fn splat(value: u32) -> Self {
        Self(u32x4_splat(value))
    }

    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Self(u32x4_add(self.0, other.0))
    }

    #[inline(always)]
    fn xor(self, other: Self) -> Self {
        Self(v128_xor(self.0, other.0))
    }

    #[inline(always)]
    fn rotr<const N: u32>(self) -> Self {
        Self(v128_or(u32x4_shr(self.0, N), u32x4_shl(self.0, 32 - N)))
    }

    #[inline(always)]
    fn shr<const N: u32>(self) -> Self {
        Self(u32x4_shr(self.0, N))
    }

    /// `bitselect(f, g, e)` takes `f` where `e` is set and `g` elsewhere: one instruction.
    #[inline(always)]
    fn ch(e: Self, f: Self, g: Self) -> Self {
        Self(v128_bitselect(f.0, g.0, e.0))
    }

    /// Where `a` and `c` differ the majority is `b`, else it is `a`.
    #[inline(always)]
    fn maj(a: Self, b: Self, c: Self) -> Self {
        Self(v128_bitselect(b.0, a.0, v128_xor(a.0, c.0)))
    }
}

/// Two groups of four lanes, hashed in step: about 5% faster in Chromium than one group, as
/// the rounds of one group fill the gaps in the other's chain of dependent instructions.
#[derive(Clone, Copy, Debug)]
struct Pair(Lanes, Lanes);

impl Word for Pair {
    #[inline(always)]
    fn splat(value: u32) -> Self {
        Self(Lanes::splat(value), Lanes::splat(value))
    }

    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Self(self.0.add(other.0), self.1.add(other.1))
    }

    #[inline(always)]
    fn xor(self, other: Self) -> Self {
        Self(self.0.xor(other.0), self.1.xor(other.1))
    }

    #[inline(always)]
    fn rotr<const N: u32>(self) -> Self {
        Self(self.0.rotr::<N>(), self.1.rotr::<N>())
    }

    #[inline(always)]
    fn shr<const N: u32>(self) -> Self {
        Self(self.0.shr::<N>(), self.1.shr::<N>())
    }

    #[inline(always)]
    fn ch(e: Self, f: Self, g: Self) -> Self {
        Self(Lanes::ch(e.0, f.0, g.0), Lanes::ch(e.1, f.1, g.1))
    }

    #[inline(always)]
    fn maj(a: Self, b: Self, c: Self) -> Self {
        Self(Lanes::maj(a.0, b.0, c.0), Lanes::maj(a.1, b.1, c.1))
    }
}

/// How many nonces one step of the SIMD loop hashes.
const STEP: u32 = 8;

/// Reverses the bytes of each lane.
#[inline(always)]
fn swap_bytes(v: v128) -> v128 {
    i8x16_shuffle::<3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12>(v, v)
}

/// The byte-swapped nonces `first..first + 4`, as the second block's word 3.
#[inline(always)]
fn nonce_words(first: u32) -> Lanes {
    Lanes(swap_bytes(u32x4(first, first + 1, first + 2, first + 3)))
}

pub(super) fn search(job: &MiningJob, first: u32, last: u32) -> SearchResult {
    let fixed: Fixed<Pair> = job.fixed.splat();
    let (first, last) = (u64::from(first), u64::from(last));
    let mut base = first;
    loop {
        base = skip_rejected(&fixed, job.target_top, base, last);
        // Either a hash from `base` on may meet the target, or fewer than `STEP` nonces are
        // left: the scalar engine settles which, on at most `STEP` nonces.
        if base > last {
            return SearchResult { nonce: None, hashes: last - first + 1 };
        }
        let end = last.min(base + u64::from(STEP) - 1);
        let found = scan(job, base as u32, end as u32, |nonce| top_word_be(&job.fixed, nonce.swap_bytes()));
        if found.nonce.is_some() || end == last {
            return SearchResult { nonce: found.nonce, hashes: base - first + found.hashes };
        }
        base = end + 1;
    }
}

/// Hashes `STEP` nonces at a time from `base` while every hash fails the early reject and
/// `STEP` nonces are left up to `last`; returns where it stopped.
fn skip_rejected(fixed: &Fixed<Pair>, target_top: u32, mut base: u64, last: u64) -> u64 {
    let target_top = u32x4_splat(target_top);
    while base + u64::from(STEP) - 1 <= last {
        let nonce = base as u32;
        let Pair(low, high) = top_word_be(fixed, Pair(nonce_words(nonce), nonce_words(nonce + 4)));
        let may_meet = v128_or(u32x4_le(swap_bytes(low.0), target_top), u32x4_le(swap_bytes(high.0), target_top));
        if v128_any_true(may_meet) {
            break;
        }
        base += u64::from(STEP);
    }
    base
}

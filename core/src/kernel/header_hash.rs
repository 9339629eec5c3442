//! SHA-256d of a header, specialised for a nonce search: only the nonce varies, so everything
//! before it is hashed once per job and each try pays only for what the nonce changes.
//!
//! The 80-byte header is two SHA-256 blocks. The first (version, previous hash, most of the
//! merkle root) gives the midstate. The second holds the merkle root's last 4 bytes, the time,
//! the bits and the nonce, then constant padding; its first three rounds, and the first two
//! words its schedule derives, do not depend on the nonce. The second SHA-256 hashes a fixed
//! 32-byte message whose padding is constant, and only its last state word is needed to reject
//! a hash early, which three rounds before the end are already enough to give.

use super::sha256::{IV, K, Word, block_words, compress, round, schedule_word};
use crate::header::HEADER_BYTES;

/// The padding word that follows a message: a single 1 bit.
const PADDING_START: u32 = 0x8000_0000;
/// The length word of the header's second block: 80 bytes, in bits.
pub(super) const HEADER_BITS: u32 = 640;
/// The length word of the second hash's block: 32 bytes, in bits.
pub(super) const DIGEST_BITS: u32 = 256;

/// What a job fixes, as words: the lanes of the SIMD kernel each hold the same value.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fixed<W> {
    /// The state after the header's first 64 bytes.
    midstate: [W; 8],
    /// The second block's first three words: the merkle root's last 4 bytes, time, bits.
    tail: [W; 3],
    /// The working variables after the three rounds that use only `tail`.
    vars_after_tail: [W; 8],
    /// Schedule words 16 and 17, which the nonce (word 3) does not reach.
    w16: W,
    w17: W,
}

impl Fixed<u32> {
    pub(super) fn new(header: &[u8; HEADER_BYTES]) -> Self {
        let first: &[u8; 64] = header[..64].try_into().expect("80 bytes hold 64");
        let midstate = compress(IV, block_words(first));
        let word = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
        let tail = [word(64), word(68), word(72)];
        let mut vars = midstate;
        for (i, &w) in tail.iter().enumerate() {
            vars = round(vars, K[i], w);
        }
        // w16 = σ1(w14) + w9 + σ0(w1) + w0 and w17 = σ1(w15) + w10 + σ0(w2) + w1, with w9, w10
        // and w14 zero.
        let w16 = tail[1].small_sigma0().add(tail[0]);
        let w17 = HEADER_BITS.small_sigma1().add(tail[2].small_sigma0()).add(tail[1]);
        Self { midstate, tail, vars_after_tail: vars, w16, w17 }
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn midstate(&self) -> [u32; 8] {
        self.midstate
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn tail(&self) -> [u32; 3] {
        self.tail
    }

    /// The same words, in every lane of `W`.
    #[cfg_attr(not(all(target_arch = "wasm32", target_feature = "simd128")), allow(dead_code))]
    pub(super) fn splat<W: Word>(&self) -> Fixed<W> {
        Fixed {
            midstate: self.midstate.map(W::splat),
            tail: self.tail.map(W::splat),
            vars_after_tail: self.vars_after_tail.map(W::splat),
            w16: W::splat(self.w16),
            w17: W::splat(self.w17),
        }
    }
}

/// Runs `$body` once for each listed index as straight-line code. A loop would keep the message
/// schedule in memory and the constant words unfolded; with constant indices both go away. (So
/// does a `copy_from_slice` into the schedule: its `memcpy` pinned it to memory and cost the
/// wasm kernel about 5% of its speed.)
macro_rules! unroll {
    ($i:ident in [$($n:literal)*] $body:block) => {
        $({
            let $i: usize = $n;
            $body
        })*
    };
}

/// The last state word of SHA-256d of the header with this nonce, in SHA-256's big-endian
/// order: byte-swapped, it is the most significant 32 bits of the hash read as a little-endian
/// number. `nonce_be` is the nonce as the second block's word 3, that is byte-swapped.
#[inline(always)]
pub(super) fn top_word_be<W: Word>(fixed: &Fixed<W>, nonce_be: W) -> W {
    let first = first_hash(fixed, nonce_be);
    let mut w = [W::splat(0); 64];
    unroll!(i in [0 1 2 3 4 5 6 7] {
        w[i] = first[i];
    });
    w[8] = W::splat(PADDING_START);
    w[15] = W::splat(DIGEST_BITS);
    unroll!(i in [16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
        48 49 50 51 52 53 54 55 56 57 58 59 60] {
        w[i] = schedule_word(&w, i);
    });
    // 61 of the 64 rounds: after them `e` is what the last three shift into `h`, the last word.
    let mut vars = IV.map(W::splat);
    unroll!(i in [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35
        36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60] {
        vars = round(vars, K[i], w[i]);
    });
    W::splat(IV[7]).add(vars[4])
}

/// The first SHA-256: the header's second block compressed into the midstate.
#[inline(always)]
fn first_hash<W: Word>(fixed: &Fixed<W>, nonce_be: W) -> [W; 8] {
    let mut w = [W::splat(0); 64];
    unroll!(i in [0 1 2] {
        w[i] = fixed.tail[i];
    });
    w[3] = nonce_be;
    w[4] = W::splat(PADDING_START);
    w[15] = W::splat(HEADER_BITS);
    w[16] = fixed.w16;
    w[17] = fixed.w17;
    unroll!(i in [18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50
        51 52 53 54 55 56 57 58 59 60 61 62 63] {
        w[i] = schedule_word(&w, i);
    });
    let mut vars = fixed.vars_after_tail;
    unroll!(i in [3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38
        39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63] {
        vars = round(vars, K[i], w[i]);
    });
    core::array::from_fn(|i| fixed.midstate[i].add(vars[i]))
}

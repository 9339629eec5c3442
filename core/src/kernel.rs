//! The mining kernel: for a job (a header and the target its hash must meet) and a range of
//! nonces, the first nonce that meets the target, or none, and how many hashes that took.
//!
//! It is pure and bounded, so a shell decides how to split the nonce space and when to stop: a
//! browser worker or a native thread calls [`search`] on batches small enough to notice a new
//! tip in time. The hashing is SHA-256d specialised for the nonce (`header_hash.rs`), run on
//! the fastest engine the build has: SHA-256 instructions through `sha2`'s compression
//! function natively, four nonces at once with SIMD128 in wasm, else one nonce at a time.
//! Whatever the engine, a hash that passes the cheap check on its top 32 bits is confirmed with
//! [`Header::block_hash`] and [`Target::is_met_by`], so the kernel's verdict is the consensus
//! one by construction.

mod header_hash;
#[cfg(not(target_arch = "wasm32"))]
mod native;
mod sha256;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd;

use crate::header::{HEADER_BYTES, Header};
use crate::target::{CompactTargetError, Target};
use header_hash::{Fixed, top_word_be};

/// Everything about a block template that stays the same while the nonce varies, computed once:
/// the state after the header's first 64 bytes (the midstate), the fixed words of the second
/// block, and the target.
#[derive(Clone, Debug)]
pub struct MiningJob {
    header: Header,
    target: Target,
    /// The target's most significant 32 bits, for the early reject.
    target_top: u32,
    fixed: Fixed<u32>,
}

impl MiningJob {
    /// A job for `header` at the target its `bits` encode, refusing what no hash can meet or
    /// consensus refuses.
    pub fn new(header: &Header) -> Result<Self, CompactTargetError> {
        Ok(Self::with_target(header, header.bits.to_target()?))
    }

    /// A job for `header` at any `target`, such as an easier one for measuring hash rate. The
    /// header's own nonce is ignored: [`search`] says which nonces to try.
    pub fn with_target(header: &Header, target: Target) -> Self {
        let bytes: [u8; HEADER_BYTES] = header.to_bytes();
        let target_bytes = target.to_u256().to_le_bytes();
        let target_top = u32::from_le_bytes([target_bytes[28], target_bytes[29], target_bytes[30], target_bytes[31]]);
        Self { header: *header, target, target_top, fixed: Fixed::new(&bytes) }
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// The early reject: a hash whose top 32 bits exceed the target's cannot meet it. `top_be`
    /// is SHA-256's last state word, which byte-swapped is the hash's most significant word.
    #[inline(always)]
    fn may_meet(&self, top_be: u32) -> bool {
        top_be.swap_bytes() <= self.target_top
    }

    /// The consensus check, for the rare hash that passes the early reject.
    fn meets(&self, nonce: u32) -> bool {
        self.target.is_met_by(Header { nonce, ..self.header }.block_hash())
    }
}

/// What one call to [`search`] found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SearchResult {
    /// The first nonce of the range whose header hash meets the target.
    pub nonce: Option<u32>,
    /// The nonces examined: up to and including the one found, else the whole range.
    pub hashes: u64,
}

/// The first nonce in `nonce_start .. nonce_start + count` whose header hash meets the job's
/// target. The range stops at `u32::MAX` rather than wrapping: extending the nonce space (an
/// extra nonce, the time) is the caller's choice, not the kernel's.
pub fn search(job: &MiningJob, nonce_start: u32, count: u32) -> SearchResult {
    search_with(Engine::BEST, job, nonce_start, count)
}

/// [`search`] on the portable engine, one nonce at a time, which wasm without SIMD128 runs:
/// exposed so that benchmarks can weigh it against the engine [`search`] picks.
pub fn search_portable(job: &MiningJob, nonce_start: u32, count: u32) -> SearchResult {
    search_with(Engine::Scalar, job, nonce_start, count)
}

/// Whether this build hashes four nonces at once with wasm's SIMD128, which the page reports;
/// natively the CPU's SHA instructions, when present, do the work instead.
pub fn simd_available() -> bool {
    cfg!(all(target_arch = "wasm32", target_feature = "simd128"))
}

/// The ways this build can hash, so tests can hold each to the same answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    /// One nonce at a time with the portable compression function.
    Scalar,
    /// `sha2`'s compression function, which uses the CPU's SHA instructions when it has them.
    #[cfg(not(target_arch = "wasm32"))]
    Sha2,
    /// Four nonces at once in wasm SIMD128 lanes.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    Simd,
}

impl Engine {
    /// Chosen by `core/benches/kernel.rs`.
    #[cfg(not(target_arch = "wasm32"))]
    const BEST: Self = Self::Sha2;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    const BEST: Self = Self::Simd;
    #[cfg(all(target_arch = "wasm32", not(target_feature = "simd128")))]
    const BEST: Self = Self::Scalar;

    #[cfg(test)]
    const ALL: &[Self] = &[
        Self::Scalar,
        #[cfg(not(target_arch = "wasm32"))]
        Self::Sha2,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Self::Simd,
    ];
}

fn search_with(engine: Engine, job: &MiningJob, nonce_start: u32, count: u32) -> SearchResult {
    let Some(last) = count.checked_sub(1).map(|n| nonce_start.saturating_add(n)) else {
        return SearchResult { nonce: None, hashes: 0 };
    };
    match engine {
        Engine::Scalar => scan(job, nonce_start, last, |nonce| top_word_be(&job.fixed, nonce.swap_bytes())),
        #[cfg(not(target_arch = "wasm32"))]
        Engine::Sha2 => native::search(job, nonce_start, last),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Engine::Simd => simd::search(job, nonce_start, last),
    }
}

/// Tries the nonces `first..=last` one at a time; `top_word_be` hashes one.
#[inline(always)]
fn scan(job: &MiningJob, first: u32, last: u32, mut top_word_be: impl FnMut(u32) -> u32) -> SearchResult {
    for nonce in first..=last {
        if job.may_meet(top_word_be(nonce)) && job.meets(nonce) {
            return SearchResult { nonce: Some(nonce), hashes: u64::from(nonce - first) + 1 };
        }
    }
    SearchResult { nonce: None, hashes: u64::from(last - first) + 1 }
}

#[cfg(test)]
#[path = "kernel_tests.rs"]
mod tests;

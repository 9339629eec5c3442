//! The SHA-256 compression function, written once over a `Word` that is either one `u32` (the
//! scalar kernel) or four of them side by side (the wasm SIMD kernel), so both run the same code.

/// The 64 round constants: the first 32 bits of the fractional parts of the cube roots of the
/// first 64 primes (FIPS 180-4, 4.2.2).
pub(super) const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// The initial hash value: the first 32 bits of the fractional parts of the square roots of the
/// first 8 primes (FIPS 180-4, 5.3.3).
pub(super) const IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// One 32-bit word per lane, with the few operations SHA-256 needs. Every method is
/// `#[inline(always)]` in the implementations so that a compression unrolls into straight-line
/// code in which constant words fold away.
pub(super) trait Word: Copy {
    fn splat(value: u32) -> Self;
    fn add(self, other: Self) -> Self;
    fn xor(self, other: Self) -> Self;
    fn rotr<const N: u32>(self) -> Self;
    fn shr<const N: u32>(self) -> Self;
    /// `(e & f) ^ (!e & g)`: for each bit, `f` where `e` is set, else `g`.
    fn ch(e: Self, f: Self, g: Self) -> Self;
    /// The majority of `a`, `b` and `c`, bit by bit.
    fn maj(a: Self, b: Self, c: Self) -> Self;

    #[inline(always)]
    fn big_sigma0(self) -> Self {
        self.rotr::<2>().xor(self.rotr::<13>()).xor(self.rotr::<22>())
    }

    #[inline(always)]
    fn big_sigma1(self) -> Self {
        self.rotr::<6>().xor(self.rotr::<11>()).xor(self.rotr::<25>())
    }

    #[inline(always)]
    fn small_sigma0(self) -> Self {
        self.rotr::<7>().xor(self.rotr::<18>()).xor(self.shr::<3>())
    }

    #[inline(always)]
    fn small_sigma1(self) -> Self {
        self.rotr::<17>().xor(self.rotr::<19>()).xor(self.shr::<10>())
    }
}

impl Word for u32 {
    #[inline(always)]
    fn splat(value: u32) -> Self {
        value
    }

    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }

    #[inline(always)]
    fn xor(self, other: Self) -> Self {
        self ^ other
    }

    #[inline(always)]
    fn rotr<const N: u32>(self) -> Self {
        self.rotate_right(N)
    }

    #[inline(always)]
    fn shr<const N: u32>(self) -> Self {
        self >> N
    }

    #[inline(always)]
    fn ch(e: Self, f: Self, g: Self) -> Self {
        g ^ (e & (f ^ g))
    }

    #[inline(always)]
    fn maj(a: Self, b: Self, c: Self) -> Self {
        (a & b) | (c & (a | b))
    }
}

/// One round: mixes the scheduled word `w` and the constant `k` into the working variables.
///
/// Inlined always only when optimising: unoptimised, the 122 unrolled rounds of the kernel would
/// put every temporary in one stack frame and overflow wasm's 1 MiB stack.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn round<W: Word>([a, b, c, d, e, f, g, h]: [W; 8], k: u32, w: W) -> [W; 8] {
    // `k + w` first, so that where `w` is a constant the two fold into one.
    let t1 = W::splat(k).add(w).add(h).add(e.big_sigma1()).add(W::ch(e, f, g));
    let t2 = a.big_sigma0().add(W::maj(a, b, c));
    [t1.add(t2), a, b, c, d.add(t1), e, f, g]
}

/// The message schedule's word `i >= 16` from the four earlier words it depends on; inlined
/// always only when optimising, as `round`.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn schedule_word<W: Word>(w: &[W; 64], i: usize) -> W {
    w[i - 2].small_sigma1().add(w[i - 7]).add(w[i - 15].small_sigma0()).add(w[i - 16])
}

/// The full compression of one 16-word block into `state` (FIPS 180-4, 6.2.2), once per job.
pub(super) fn compress<W: Word>(state: [W; 8], block: [W; 16]) -> [W; 8] {
    let mut w = [W::splat(0); 64];
    w[..16].copy_from_slice(&block);
    for i in 16..64 {
        w[i] = schedule_word(&w, i);
    }
    let mut vars = state;
    for i in 0..64 {
        vars = round(vars, K[i], w[i]);
    }
    core::array::from_fn(|i| state[i].add(vars[i]))
}

/// The 16 big-endian words of a 64-byte block.
pub(super) fn block_words(bytes: &[u8; 64]) -> [u32; 16] {
    core::array::from_fn(|i| u32::from_be_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]))
}

//! The inverse modulo p = 2^3072 − 1103717 of a `Num3072`, by Bernstein and Yang's safegcd
//! ("Fast constant-time gcd computation and modular inversion", 2019) in its variable-time
//! form, the way libsecp256k1 and Bitcoin Core compute it (see libsecp256k1's
//! `doc/safegcd_implementation.md`). Everything MuHash hashes is public, so variable time is fine.
//!
//! f and g start as p and x; each round works out, from their lowest 62 bits alone, a 2×2 matrix
//! doing 62 divsteps, and applies it to the full f and g and to d and e, which track f ≡ d·x
//! and g ≡ e·x (mod p). When g reaches 0, f is ±1 and ±d is the inverse. Numbers are signed
//! limbs of 62 bits, so a limb times a matrix entry fits an `i128` with room for the sums.

use super::num3072::{LIMBS, Num3072, PRIME_DIFF};

/// Bits of a signed limb, and divsteps per round.
const SIGNED_LIMB_BITS: u32 = 62;
/// Signed limbs of a number: 49 × 62 = 3038 bits, and the top one signed and wider.
const SIGNED_LIMBS: usize = 1 + 3072 / SIGNED_LIMB_BITS as usize;
const SIGNED_LIMB_MASK: u64 = (1 << SIGNED_LIMB_BITS) - 1;
/// p in signed limbs is −`PRIME_DIFF` in limb 0 plus 2^`MODULUS_TOP_BITS` in limb `MODULUS_TOP_LIMB`.
const MODULUS_TOP_LIMB: usize = 3072 / SIGNED_LIMB_BITS as usize;
const MODULUS_TOP_BITS: u32 = 3072 % SIGNED_LIMB_BITS;
/// Divsteps that always bring g to 0 for 3072-bit inputs: Bernstein and Yang's bound
/// ⌊(49·d + 80) / 17⌋ for d = 3072 bits, and the rounds of 62 that cover it.
const DIVSTEPS_MAX: usize = (49 * 3072 + 80) / 17;
const ROUNDS_MAX: usize = DIVSTEPS_MAX.div_ceil(SIGNED_LIMB_BITS as usize);
/// Bits of 1/f (mod 2^k) the round's inner loop works out by Newton's iteration: two steps
/// from the 3 bits any odd f gives for free.
const INVERSE_BITS: u32 = 12;

const _: () = assert!(SIGNED_LIMBS == 50 && MODULUS_TOP_LIMB == SIGNED_LIMBS - 1);
const _: () = assert!(MODULUS_TOP_BITS == 34);

/// 1/p (mod 2^62), which picks the multiple of p that makes d and e divisible by 2^62.
const MODULUS_INVERSE_62: u64 = inverse_mod_2_64(PRIME_DIFF.wrapping_neg()) & SIGNED_LIMB_MASK;

/// 1/x (mod 2^64) for odd x, by Newton's iteration (each step doubles the correct bits).
const fn inverse_mod_2_64(x: u64) -> u64 {
    let mut y = x; // correct to 3 bits: x·x ≡ 1 (mod 8) for odd x
    let mut step = 0;
    while step < 5 {
        y = y.wrapping_mul(2u64.wrapping_sub(x.wrapping_mul(y)));
        step += 1;
    }
    y
}

/// A number as signed limbs: the value is Σ limbs[i]·2^(62·i). After each update every limb but
/// the top one is in [0, 2^62).
type Signed = [i64; SIGNED_LIMBS];

/// The transition matrix of 62 divsteps, scaled by 2^62: [f, g] becomes [u·f + v·g, q·f + r·g] / 2^62.
#[derive(Clone, Copy)]
struct Matrix {
    u: i64,
    v: i64,
    q: i64,
    r: i64,
}

/// x⁻¹ mod p for x in [0, p); 0 gives 0 (it has no inverse, and MuHash never asks for it).
pub(crate) fn inverse(x: &Num3072) -> Num3072 {
    let mut f: Signed = [0; SIGNED_LIMBS];
    f[0] = -(PRIME_DIFF as i64);
    f[MODULUS_TOP_LIMB] = 1 << MODULUS_TOP_BITS;
    let mut g = to_signed(x);
    let mut d: Signed = [0; SIGNED_LIMBS];
    let mut e: Signed = [0; SIGNED_LIMBS];
    e[0] = 1;
    let mut len = SIGNED_LIMBS;
    let mut eta: i64 = -1;
    let mut done = false;
    for _ in 0..ROUNDS_MAX {
        let matrix;
        (eta, matrix) = divsteps_62(eta, f[0] as u64, g[0] as u64);
        update_fg(&mut f, &mut g, &matrix, len);
        update_de(&mut d, &mut e, &matrix);
        if g[..len].iter().all(|&limb| limb == 0) {
            done = true;
            break;
        }
        // Drop the top limbs once both f and g fit one limb less (top limb 0 or −1).
        let (f_top, g_top) = (f[len - 1], g[len - 1]);
        if len >= 2 && (f_top == 0 || f_top == -1) && (g_top == 0 || g_top == -1) {
            f[len - 2] = ((f[len - 2] as u64) | ((f_top as u64) << SIGNED_LIMB_BITS)) as i64;
            g[len - 2] = ((g[len - 2] as u64) | ((g_top as u64) << SIGNED_LIMB_BITS)) as i64;
            len -= 1;
        }
    }
    assert!(done, "safegcd reaches g = 0 within Bernstein and Yang's bound");
    // f is now ±1, and f ≡ d·x, so x⁻¹ = d·f.
    let f_negative = f[len - 1] < 0;
    from_signed(&normalize(d, f_negative))
}

/// The matrix of 62 divsteps from eta and the lowest bits of f (odd) and g, and the new eta.
/// Runs of zeros at the bottom of g are skipped at once; otherwise as many low bits of g as
/// the divsteps allow (at most `INVERSE_BITS`) are cancelled with one multiple of f.
fn divsteps_62(mut eta: i64, mut f: u64, mut g: u64) -> (i64, Matrix) {
    let (mut u, mut v, mut q, mut r) = (1u64, 0u64, 0u64, 1u64);
    let mut left = SIGNED_LIMB_BITS;
    loop {
        // A sentinel bit above `left` stops the count at the divsteps still to do.
        let zeros = (g | (u64::MAX << left)).trailing_zeros();
        g >>= zeros;
        u <<= zeros;
        v <<= zeros;
        eta -= i64::from(zeros);
        left -= zeros;
        if left == 0 {
            break;
        }
        // g is odd. With eta negative the divstep swaps: f, g become g, −f.
        if eta < 0 {
            eta = -eta;
            (f, g) = (g, f.wrapping_neg());
            (u, q) = (q, u.wrapping_neg());
            (v, r) = (r, v.wrapping_neg());
        }
        // Up to eta + 1 divsteps follow without a swap; each adds f to g or not, then halves.
        let bits = (eta as u64 + 1).min(u64::from(left)).min(u64::from(INVERSE_BITS)) as u32;
        let mask = u64::MAX >> (64 - bits);
        let w = g.wrapping_mul(neg_inverse_low_bits(f)) & mask;
        g = g.wrapping_add(f.wrapping_mul(w));
        q = q.wrapping_add(u.wrapping_mul(w));
        r = r.wrapping_add(v.wrapping_mul(w));
    }
    let matrix = Matrix { u: u as i64, v: v as i64, q: q as i64, r: r as i64 };
    (eta, matrix)
}

/// −1/f modulo 2^`INVERSE_BITS` for odd f.
fn neg_inverse_low_bits(f: u64) -> u64 {
    let mut y = f;
    y = y.wrapping_mul(2u64.wrapping_sub(f.wrapping_mul(y)));
    y = y.wrapping_mul(2u64.wrapping_sub(f.wrapping_mul(y)));
    y.wrapping_neg()
}

/// [f, g] ← matrix·[f, g] / 2^62 over the lowest `len` limbs (the rest are sign copies).
fn update_fg(f: &mut Signed, g: &mut Signed, t: &Matrix, len: usize) {
    let (u, v, q, r) = (i128::from(t.u), i128::from(t.v), i128::from(t.q), i128::from(t.r));
    let mut cf = u * i128::from(f[0]) + v * i128::from(g[0]);
    let mut cg = q * i128::from(f[0]) + r * i128::from(g[0]);
    debug_assert!(cf as u64 & SIGNED_LIMB_MASK == 0 && cg as u64 & SIGNED_LIMB_MASK == 0);
    cf >>= SIGNED_LIMB_BITS;
    cg >>= SIGNED_LIMB_BITS;
    for i in 1..len {
        cf += u * i128::from(f[i]) + v * i128::from(g[i]);
        cg += q * i128::from(f[i]) + r * i128::from(g[i]);
        f[i - 1] = (cf as u64 & SIGNED_LIMB_MASK) as i64;
        g[i - 1] = (cg as u64 & SIGNED_LIMB_MASK) as i64;
        cf >>= SIGNED_LIMB_BITS;
        cg >>= SIGNED_LIMB_BITS;
    }
    f[len - 1] = cf as i64;
    g[len - 1] = cg as i64;
}

/// [d, e] ← (matrix·[d, e] + p·[md, me]) / 2^62, with md and me chosen to make the division
/// exact and to keep d and e within (−2p, p).
fn update_de(d: &mut Signed, e: &mut Signed, t: &Matrix) {
    let (u, v, q, r) = (t.u, t.v, t.q, t.r);
    // Start from the matrix's columns for d or e negative, which lifts the result's range.
    let d_sign = d[SIGNED_LIMBS - 1] >> 63;
    let e_sign = e[SIGNED_LIMBS - 1] >> 63;
    let mut md = (u & d_sign) + (v & e_sign);
    let mut me = (q & d_sign) + (r & e_sign);
    let mut cd = i128::from(u) * i128::from(d[0]) + i128::from(v) * i128::from(e[0]);
    let mut ce = i128::from(q) * i128::from(d[0]) + i128::from(r) * i128::from(e[0]);
    // Then adjust md and me so that the low 62 bits of the sums with p·md and p·me are zero.
    md -= (MODULUS_INVERSE_62.wrapping_mul(cd as u64).wrapping_add(md as u64) & SIGNED_LIMB_MASK) as i64;
    me -= (MODULUS_INVERSE_62.wrapping_mul(ce as u64).wrapping_add(me as u64) & SIGNED_LIMB_MASK) as i64;
    // p's limb 0 is −PRIME_DIFF.
    cd -= i128::from(PRIME_DIFF) * i128::from(md);
    ce -= i128::from(PRIME_DIFF) * i128::from(me);
    debug_assert!(cd as u64 & SIGNED_LIMB_MASK == 0 && ce as u64 & SIGNED_LIMB_MASK == 0);
    cd >>= SIGNED_LIMB_BITS;
    ce >>= SIGNED_LIMB_BITS;
    for i in 1..SIGNED_LIMBS {
        cd += i128::from(u) * i128::from(d[i]) + i128::from(v) * i128::from(e[i]);
        ce += i128::from(q) * i128::from(d[i]) + i128::from(r) * i128::from(e[i]);
        if i == MODULUS_TOP_LIMB {
            cd += i128::from(md) << MODULUS_TOP_BITS;
            ce += i128::from(me) << MODULUS_TOP_BITS;
        }
        d[i - 1] = (cd as u64 & SIGNED_LIMB_MASK) as i64;
        e[i - 1] = (ce as u64 & SIGNED_LIMB_MASK) as i64;
        cd >>= SIGNED_LIMB_BITS;
        ce >>= SIGNED_LIMB_BITS;
    }
    d[SIGNED_LIMBS - 1] = cd as i64;
    e[SIGNED_LIMBS - 1] = ce as i64;
}

/// Carries every limb but the top one into [0, 2^62); the top one takes the sign.
fn carry(x: &mut Signed) {
    for i in 0..SIGNED_LIMBS - 1 {
        x[i + 1] += x[i] >> SIGNED_LIMB_BITS;
        x[i] &= SIGNED_LIMB_MASK as i64;
    }
}

/// Adds p (`sign` = 1) or subtracts it (`sign` = −1), carried.
fn add_modulus(x: &mut Signed, sign: i64) {
    x[0] -= sign * PRIME_DIFF as i64;
    x[MODULUS_TOP_LIMB] += sign << MODULUS_TOP_BITS;
    carry(x);
}

/// d (in (−2p, p)), negated if `negate`, brought into [0, p).
fn normalize(mut d: Signed, negate: bool) -> Signed {
    carry(&mut d);
    if negate {
        d.iter_mut().for_each(|limb| *limb = -*limb);
        carry(&mut d);
    }
    // Now in (−2p, 2p): at most two additions or one subtraction of p.
    for _ in 0..2 {
        if d[SIGNED_LIMBS - 1] < 0 {
            add_modulus(&mut d, 1);
        }
    }
    let mut less = d;
    add_modulus(&mut less, -1);
    if less[SIGNED_LIMBS - 1] >= 0 {
        d = less;
    }
    assert!(d[SIGNED_LIMBS - 1] >= 0, "a normalized inverse is not negative");
    d
}

/// x as signed limbs of 62 bits, each in [0, 2^62).
fn to_signed(x: &Num3072) -> Signed {
    let mut out: Signed = [0; SIGNED_LIMBS];
    let mut window: u128 = 0;
    let mut bits = 0u32;
    let mut next = 0;
    for &limb in x.limbs() {
        window |= u128::from(limb) << bits;
        bits += 64;
        while bits >= SIGNED_LIMB_BITS {
            out[next] = (window as u64 & SIGNED_LIMB_MASK) as i64;
            window >>= SIGNED_LIMB_BITS;
            bits -= SIGNED_LIMB_BITS;
            next += 1;
        }
    }
    out[next] = window as i64;
    out
}

/// The `Num3072` of signed limbs each in [0, 2^62) standing for a value in [0, p).
fn from_signed(x: &Signed) -> Num3072 {
    let mut limbs = [0u64; LIMBS];
    let mut window: u128 = 0;
    let mut bits = 0u32;
    let mut next = 0;
    for &limb in x {
        window |= u128::from(limb as u64) << bits;
        bits += SIGNED_LIMB_BITS;
        if bits >= 64 && next < LIMBS {
            limbs[next] = window as u64;
            window >>= 64;
            bits -= 64;
            next += 1;
        }
    }
    // The value is below p, so nothing is left above limb 47 and it is already reduced.
    Num3072::from_limbs_reduced(limbs)
}

#[cfg(test)]
mod tests {
    use super::super::num3072::tests::{Big, any_limbs};
    use super::*;
    use proptest::prelude::*;

    /// x^(p−2) by square and multiply: the slow inverse Fermat's little theorem gives.
    fn fermat_inverse(x: &Num3072) -> Num3072 {
        let mut exponent = [u64::MAX; LIMBS];
        exponent[0] = u64::MAX - PRIME_DIFF - 1; // p − 2
        let mut result = Num3072::ONE;
        for limb in exponent.iter().rev() {
            for bit in (0..64).rev() {
                result = result.mul(&result);
                if (limb >> bit) & 1 == 1 {
                    result = result.mul(x);
                }
            }
        }
        result
    }

    fn check(x: &Num3072) {
        let inv = inverse(x);
        assert_eq!(inv, fermat_inverse(x), "inverse of {:x?}", &x.limbs()[..2]);
        assert_eq!(x.mul(&inv), Num3072::ONE);
    }

    fn num(limbs: [u64; LIMBS]) -> Num3072 {
        Num3072::from_limbs_canonical(limbs).expect("below p")
    }

    #[test]
    fn modulus_inverse_is_bitcoin_cores() {
        // Bitcoin Core's MODULUS_INVERSE in src/crypto/muhash.cpp.
        assert_eq!(MODULUS_INVERSE_62, 0x70a1421da087d93);
        assert_eq!(ROUNDS_MAX, 143);
    }

    #[test]
    fn edge_values() {
        let mut p_minus_1 = [u64::MAX; LIMBS];
        p_minus_1[0] = u64::MAX - PRIME_DIFF;
        let mut top_bit = [0u64; LIMBS];
        top_bit[LIMBS - 1] = 1 << 63;
        let mut two = [0u64; LIMBS];
        two[0] = 2;
        let mut sparse = [0u64; LIMBS];
        sparse[0] = 1;
        sparse[24] = 1 << 17;
        sparse[47] = 1 << 40;
        let mut diff = [0u64; LIMBS];
        diff[0] = PRIME_DIFF;
        let mut spread = [0u64; LIMBS];
        spread[23] = u64::MAX;
        for limbs in [*Num3072::ONE.limbs(), p_minus_1, top_bit, two, sparse, diff, spread] {
            check(&num(limbs));
        }
        assert_eq!(inverse(&Num3072::ZERO), Num3072::ZERO);
    }

    #[test]
    fn signed_limbs_round_trip() {
        let mut limbs = [0x0123_4567_89ab_cdefu64; LIMBS];
        limbs[LIMBS - 1] = 0x7fff_ffff_ffff_ffff;
        let x = num(limbs);
        assert_eq!(from_signed(&to_signed(&x)), x);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn inverse_matches_fermat(limbs in any_limbs()) {
            let x = Num3072::from_limbs_reduced(limbs);
            prop_assume!(!x.is_zero());
            let inv = inverse(&x);
            prop_assert_eq!(&inv, &fermat_inverse(&x));
            let p = Big::modulus();
            let product = Big::from_limbs(x.limbs()).mul(&Big::from_limbs(inv.limbs())).rem(&p);
            prop_assert_eq!(product.to_limbs(), *Num3072::ONE.limbs());
        }
    }
}

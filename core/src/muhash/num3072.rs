//! `Num3072`: an integer modulo MuHash's prime p = 2^3072 − 1103717, kept fully reduced in 48
//! little-endian 64-bit limbs, with the one operation the hash needs often: multiplication.
//!
//! A product is a plain 96-limb schoolbook product (column by column, the low and high halves
//! of each 64×64-bit product summed apart so no carry chain runs through the whole column),
//! then reduced with p's special form: 2^3072 ≡ 1103717 (mod p), so the high half folds onto
//! the low half after one multiplication by a 21-bit constant. The inverse lives in
//! `inverse.rs`.

/// Limbs of a `Num3072`.
pub(crate) const LIMBS: usize = 48;
/// Bytes of a `Num3072`, little-endian.
pub(crate) const NUM3072_BYTES: usize = LIMBS * 8;
/// p = 2^3072 − `PRIME_DIFF`, the largest 3072-bit safe prime.
pub(crate) const PRIME_DIFF: u64 = 1_103_717;
/// Limbs of a full product before reduction.
const WIDE_LIMBS: usize = 2 * LIMBS;

const _: () = assert!(NUM3072_BYTES * 8 == 3072);
// The reduction multiplies 32-bit halves of limbs by PRIME_DIFF in a u64.
const _: () = assert!(PRIME_DIFF < 1 << 32);

/// An integer in [0, p), little-endian limbs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Num3072 {
    limbs: [u64; LIMBS],
}

impl Num3072 {
    #[cfg(test)]
    pub(crate) const ZERO: Self = Self { limbs: [0; LIMBS] };
    pub(crate) const ONE: Self = {
        let mut limbs = [0; LIMBS];
        limbs[0] = 1;
        Self { limbs }
    };

    /// The number `limbs` stand for, reduced modulo p (any 3072-bit value is below 2p).
    pub(crate) fn from_limbs_reduced(mut limbs: [u64; LIMBS]) -> Self {
        if is_at_least_modulus(&limbs) {
            subtract_modulus(&mut limbs);
        }
        Self { limbs }
    }

    /// The number `limbs` stand for, or `None` if it is not below p.
    pub(crate) fn from_limbs_canonical(limbs: [u64; LIMBS]) -> Option<Self> {
        (!is_at_least_modulus(&limbs)).then_some(Self { limbs })
    }

    pub(crate) fn from_le_bytes(bytes: &[u8; NUM3072_BYTES]) -> [u64; LIMBS] {
        let mut limbs = [0u64; LIMBS];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            *limb = u64::from_le_bytes(word);
        }
        limbs
    }

    pub(crate) fn to_le_bytes(&self) -> [u8; NUM3072_BYTES] {
        let mut bytes = [0u8; NUM3072_BYTES];
        for (chunk, limb) in bytes.chunks_exact_mut(8).zip(self.limbs) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        bytes
    }

    pub(crate) fn limbs(&self) -> &[u64; LIMBS] {
        &self.limbs
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&limb| limb == 0)
    }

    pub(crate) fn is_one(&self) -> bool {
        *self == Self::ONE
    }

    /// `self * other mod p`.
    pub(crate) fn mul(&self, other: &Self) -> Self {
        let wide = mul_wide(&self.limbs, &other.limbs);
        Self { limbs: reduce_wide(&wide) }
    }
}

/// Whether `limbs` is p or more: every limb but the lowest all ones, and the lowest at least
/// p's lowest limb, 2^64 − `PRIME_DIFF`.
fn is_at_least_modulus(limbs: &[u64; LIMBS]) -> bool {
    limbs[0] > u64::MAX - PRIME_DIFF && limbs[1..].iter().all(|&limb| limb == u64::MAX)
}

/// Subtracts p from a value in [p, 2^3072): adding `PRIME_DIFF` and dropping 2^3072.
fn subtract_modulus(limbs: &mut [u64; LIMBS]) {
    add_small(limbs, PRIME_DIFF);
}

/// Adds `small` to `limbs`, returning the carry out of the top limb.
fn add_small(limbs: &mut [u64; LIMBS], small: u64) -> bool {
    let mut carry = small;
    for limb in limbs.iter_mut() {
        let (sum, overflow) = limb.overflowing_add(carry);
        *limb = sum;
        if !overflow {
            return false;
        }
        carry = 1;
    }
    true
}

/// The full 96-limb product by one level of Karatsuba (the subtractive form, which keeps
/// every operand 24 limbs): with B = 2^1536, a = a0 + a1·B and b = b0 + b1·B,
/// a·b = a0·b0 + (a0·b0 + a1·b1 + (a0 − a1)·(b1 − b0))·B + a1·b1·B². Three half products
/// instead of four; the halves are schoolbook rows.
fn mul_wide(a: &[u64; LIMBS], b: &[u64; LIMBS]) -> [u64; WIDE_LIMBS] {
    let (a0, a1) = halves(a);
    let (b0, b1) = halves(b);
    let low = mul_half(a0, b0);
    let high = mul_half(a1, b1);
    let (a_diff, a_negative) = abs_diff(a0, a1);
    let (b_diff, b_negative) = abs_diff(b1, b0);
    let cross = mul_half(&a_diff, &b_diff);

    // middle = low + high ± cross = a0·b1 + a1·b0, below 2·B², so 48 limbs and a carry bit.
    let mut middle = low;
    let mut top = u64::from(add_into(&mut middle, &high));
    if a_negative == b_negative {
        top += u64::from(add_into(&mut middle, &cross));
    } else {
        top -= u64::from(sub_from(&mut middle, &cross));
    }

    let mut out = [0u64; WIDE_LIMBS];
    out[..LIMBS].copy_from_slice(&low);
    out[LIMBS..].copy_from_slice(&high);
    let carry = add_into(&mut out[HALF..HALF + LIMBS], &middle);
    // The product fits 96 limbs, so neither carry runs off the top.
    let spill_from = HALF + LIMBS;
    add_carry_at(&mut out[spill_from..], top + u64::from(carry));
    out
}

/// Limbs of each Karatsuba half.
const HALF: usize = LIMBS / 2;

fn halves(x: &[u64; LIMBS]) -> (&[u64; HALF], &[u64; HALF]) {
    let (low, high) = x.split_at(HALF);
    (low.try_into().expect("HALF limbs"), high.try_into().expect("HALF limbs"))
}

/// The schoolbook product of two halves, as fits the target: 64-bit limbs where a 64×64-bit
/// product is one instruction, 32-bit digits on wasm32, where a `u128` product is a call into
/// compiler-rt (`__multi3`) and 32×32-bit products in `u64` measure 1.4 times faster (node 20:
/// 6.4 µs a multiplication, against 8.8 µs with 64-bit limbs).
fn mul_half(a: &[u64; HALF], b: &[u64; HALF]) -> [u64; LIMBS] {
    if cfg!(target_arch = "wasm32") { mul_half_32(a, b) } else { mul_half_64(a, b) }
}

/// The schoolbook product of two halves, two rows at a time: rows i and i + 1 (limbs of `a`
/// times all of `b`) add into the same slot each step with carries of their own, so the two
/// carry chains overlap. Fixed-length loops the compiler unrolls.
fn mul_half_64(a: &[u64; HALF], b: &[u64; HALF]) -> [u64; LIMBS] {
    const _: () = assert!(HALF.is_multiple_of(2));
    let mut out = [0u64; LIMBS];
    for i in (0..HALF).step_by(2) {
        let (a_even, a_odd) = (u128::from(a[i]), u128::from(a[i + 1]));
        let row: &mut [u64; HALF + 2] = (&mut out[i..i + HALF + 2]).try_into().expect("two rows fit the product");
        let (mut carry_even, mut carry_odd) = (0u64, 0u64);
        let mut previous_b = 0u128;
        for (slot, &b_limb) in row.iter_mut().zip(b) {
            // Each sum is below 2^128: (2^64 − 1)² + 2·(2^64 − 1) = 2^128 − 1.
            let even = a_even * u128::from(b_limb) + u128::from(*slot) + u128::from(carry_even);
            let odd = a_odd * previous_b + u128::from(even as u64) + u128::from(carry_odd);
            *slot = odd as u64;
            carry_even = (even >> 64) as u64;
            carry_odd = (odd >> 64) as u64;
            previous_b = u128::from(b_limb);
        }
        // Slot i + HALF: the even row's carry and the odd row's last product.
        let odd = a_odd * previous_b + u128::from(carry_even) + u128::from(carry_odd);
        row[HALF] = odd as u64;
        row[HALF + 1] = (odd >> 64) as u64;
    }
    out
}

/// The schoolbook product of two halves in 32-bit digits, row by row with `u64` sums.
fn mul_half_32(a: &[u64; HALF], b: &[u64; HALF]) -> [u64; LIMBS] {
    const DIGITS: usize = 2 * HALF;
    let (a, b) = (to_digits(a), to_digits(b));
    let mut out = [0u32; 2 * DIGITS];
    for (i, &a_digit) in a.iter().enumerate() {
        let row: &mut [u32; DIGITS + 1] = (&mut out[i..i + DIGITS + 1]).try_into().expect("a row fits the product");
        let mut carry = 0u64;
        for (slot, &b_digit) in row.iter_mut().zip(&b) {
            // Below 2^64: (2^32 − 1)² + 2·(2^32 − 1) = 2^64 − 1.
            let t = u64::from(a_digit) * u64::from(b_digit) + u64::from(*slot) + carry;
            *slot = t as u32;
            carry = t >> 32;
        }
        row[DIGITS] = carry as u32;
    }
    let mut limbs = [0u64; LIMBS];
    for (limb, pair) in limbs.iter_mut().zip(out.chunks_exact(2)) {
        *limb = u64::from(pair[0]) | (u64::from(pair[1]) << 32);
    }
    limbs
}

fn to_digits(x: &[u64; HALF]) -> [u32; 2 * HALF] {
    let mut digits = [0u32; 2 * HALF];
    for (pair, &limb) in digits.chunks_exact_mut(2).zip(x) {
        pair[0] = limb as u32;
        pair[1] = (limb >> 32) as u32;
    }
    digits
}

/// |x − y| and whether x − y is negative.
fn abs_diff(x: &[u64; HALF], y: &[u64; HALF]) -> ([u64; HALF], bool) {
    let mut diff = *x;
    if sub_from(&mut diff, y) {
        let mut diff = *y;
        sub_from(&mut diff, x);
        (diff, true)
    } else {
        (diff, false)
    }
}

/// x += y over the length of x (y as long), returning the carry out.
fn add_into(x: &mut [u64], y: &[u64]) -> bool {
    let mut carry = false;
    for (xi, &yi) in x.iter_mut().zip(y) {
        let (sum, c1) = xi.overflowing_add(yi);
        let (sum, c2) = sum.overflowing_add(u64::from(carry));
        *xi = sum;
        carry = c1 | c2;
    }
    carry
}

/// x −= y over the length of x (y as long), returning the borrow out.
fn sub_from(x: &mut [u64], y: &[u64]) -> bool {
    let mut borrow = false;
    for (xi, &yi) in x.iter_mut().zip(y) {
        let (diff, b1) = xi.overflowing_sub(yi);
        let (diff, b2) = diff.overflowing_sub(u64::from(borrow));
        *xi = diff;
        borrow = b1 | b2;
    }
    borrow
}

/// x += small, carried up x; what would carry off its top is dropped (callers know it is 0).
fn add_carry_at(x: &mut [u64], small: u64) {
    let mut carry = small;
    for limb in x.iter_mut() {
        if carry == 0 {
            return;
        }
        let (sum, overflow) = limb.overflowing_add(carry);
        *limb = sum;
        carry = u64::from(overflow);
    }
}

/// `wide mod p`: the high half times 2^3072 ≡ `PRIME_DIFF` folds onto the low half, what
/// spills over 2^3072 folds once more, and a last subtraction brings the value below p.
fn reduce_wide(wide: &[u64; WIDE_LIMBS]) -> [u64; LIMBS] {
    let mut limbs = [0u64; LIMBS];
    let mut carry: u128 = 0;
    for (i, limb) in limbs.iter_mut().enumerate() {
        // high × PRIME_DIFF in two 32-bit halves, each product below 2^53: no `u128` product,
        // which wasm32 would call out for.
        let high = wide[LIMBS + i];
        let high_low = (high & u64::from(u32::MAX)) * PRIME_DIFF;
        let high_high = (high >> 32) * PRIME_DIFF;
        let sum = u128::from(wide[i]) + u128::from(high_low) + (u128::from(high_high) << 32) + carry;
        *limb = sum as u64;
        carry = sum >> 64;
    }
    // carry < PRIME_DIFF + 1, so carry × PRIME_DIFF < 2^42 fits a limb.
    let spill = (carry as u64) * PRIME_DIFF;
    if add_small(&mut limbs, spill) {
        // The value wrapped past 2^3072 again, so it is now tiny; fold the new 2^3072 once more.
        add_small(&mut limbs, PRIME_DIFF);
    }
    if is_at_least_modulus(&limbs) {
        subtract_modulus(&mut limbs);
    }
    limbs
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// A schoolbook big integer with 32-bit digits, little-endian, trimmed of top zeros: the
    /// slow, obvious reference the fast arithmetic is checked against.
    #[derive(Clone, PartialEq, Eq, Debug)]
    pub(crate) struct Big(Vec<u32>);

    impl Big {
        pub(crate) fn from_limbs(limbs: &[u64]) -> Self {
            let mut digits: Vec<u32> = limbs.iter().flat_map(|&l| [l as u32, (l >> 32) as u32]).collect();
            trim(&mut digits);
            Big(digits)
        }

        pub(crate) fn to_limbs(&self) -> [u64; LIMBS] {
            let mut limbs = [0u64; LIMBS];
            for (i, &digit) in self.0.iter().enumerate() {
                limbs[i / 2] |= u64::from(digit) << (32 * (i % 2));
            }
            limbs
        }

        pub(crate) fn modulus() -> Self {
            // 2^3072 − PRIME_DIFF: 96 digits of all ones, less (PRIME_DIFF − 1) in the lowest.
            let mut digits = vec![u32::MAX; 96];
            digits[0] = u32::MAX - (PRIME_DIFF as u32 - 1);
            Big(digits)
        }

        pub(crate) fn mul(&self, other: &Self) -> Self {
            let mut out = vec![0u32; self.0.len() + other.0.len() + 1];
            for (i, &x) in self.0.iter().enumerate() {
                let mut carry = 0u64;
                for (j, &y) in other.0.iter().enumerate() {
                    let t = u64::from(x) * u64::from(y) + u64::from(out[i + j]) + carry;
                    out[i + j] = t as u32;
                    carry = t >> 32;
                }
                out[i + other.0.len()] = carry as u32;
            }
            trim(&mut out);
            Big(out)
        }

        fn ge(&self, other: &Self) -> bool {
            if self.0.len() != other.0.len() {
                return self.0.len() > other.0.len();
            }
            for (x, y) in self.0.iter().rev().zip(other.0.iter().rev()) {
                if x != y {
                    return x > y;
                }
            }
            true
        }

        fn sub(&self, other: &Self) -> Self {
            let mut out = self.0.clone();
            let mut borrow = 0i64;
            for (i, digit) in out.iter_mut().enumerate() {
                let t = i64::from(*digit) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
                *digit = t.rem_euclid(1 << 32) as u32;
                borrow = i64::from(t < 0);
            }
            trim(&mut out);
            Big(out)
        }

        /// `self mod m`, by shift and subtract.
        pub(crate) fn rem(&self, m: &Self) -> Self {
            let mut r = Big(Vec::new());
            for i in (0..self.0.len() * 32).rev() {
                // r = 2r + bit i
                let mut carry = (self.0[i / 32] >> (i % 32)) & 1;
                for digit in r.0.iter_mut() {
                    let next = *digit >> 31;
                    *digit = (*digit << 1) | carry;
                    carry = next;
                }
                if carry != 0 {
                    r.0.push(carry);
                }
                if r.ge(m) {
                    r = r.sub(m);
                }
            }
            r
        }
    }

    fn trim(digits: &mut Vec<u32>) {
        while digits.last() == Some(&0) {
            digits.pop();
        }
    }

    /// Limbs with any bit pattern, biased towards the edges: all ones, zeros, and near p.
    pub(crate) fn any_limbs() -> impl Strategy<Value = [u64; LIMBS]> {
        let limb = prop_oneof![any::<u64>(), Just(0u64), Just(u64::MAX), (u64::MAX - 2 * PRIME_DIFF..=u64::MAX)];
        (proptest::collection::vec(limb, LIMBS), 0..4u8).prop_map(|(v, shape)| {
            let mut limbs: [u64; LIMBS] = v.try_into().expect("LIMBS limbs");
            match shape {
                // Near p: the top limbs all ones.
                0 => limbs[1..].iter_mut().for_each(|l| *l = u64::MAX),
                // Few bits.
                1 => limbs[2..].iter_mut().for_each(|l| *l = 0),
                _ => {}
            }
            limbs
        })
    }

    pub(crate) fn any_num() -> impl Strategy<Value = Num3072> {
        any_limbs().prop_map(Num3072::from_limbs_reduced)
    }

    #[test]
    fn modulus_is_the_reference_modulus() {
        let mut p = [u64::MAX; LIMBS];
        p[0] = u64::MAX - PRIME_DIFF + 1;
        assert_eq!(Big::from_limbs(&p), Big::modulus());
        assert!(is_at_least_modulus(&p));
        p[0] -= 1;
        assert!(!is_at_least_modulus(&p));
        assert!(Num3072::from_limbs_canonical(p).is_some());
    }

    #[test]
    fn edge_products() {
        let p_minus_1 = {
            let mut l = [u64::MAX; LIMBS];
            l[0] = u64::MAX - PRIME_DIFF;
            Num3072::from_limbs_canonical(l).expect("p - 1 < p")
        };
        // (p − 1)² = 1 (mod p).
        assert_eq!(p_minus_1.mul(&p_minus_1), Num3072::ONE);
        assert_eq!(p_minus_1.mul(&Num3072::ONE), p_minus_1);
        assert_eq!(p_minus_1.mul(&Num3072::ZERO), Num3072::ZERO);
        // 2^3072 − 1 reduces to PRIME_DIFF − 1.
        let mut expected = [0u64; LIMBS];
        expected[0] = PRIME_DIFF - 1;
        assert_eq!(Num3072::from_limbs_reduced([u64::MAX; LIMBS]).limbs, expected);
    }

    proptest! {
        #[test]
        fn mul_matches_schoolbook(a in any_limbs(), b in any_limbs()) {
            let (x, y) = (Num3072::from_limbs_reduced(a), Num3072::from_limbs_reduced(b));
            let p = Big::modulus();
            prop_assert_eq!(Big::from_limbs(&x.limbs), Big::from_limbs(&a).rem(&p));
            let expected = Big::from_limbs(&x.limbs).mul(&Big::from_limbs(&y.limbs)).rem(&p);
            prop_assert_eq!(Big::from_limbs(&x.mul(&y).limbs), expected);
        }

        #[test]
        fn half_products_agree(a in any_limbs(), b in any_limbs()) {
            let (a0, _) = halves(&a);
            let (_, b1) = halves(&b);
            prop_assert_eq!(mul_half_32(a0, b1), mul_half_64(a0, b1));
        }

        #[test]
        fn bytes_round_trip(a in any_num()) {
            prop_assert_eq!(Num3072::from_limbs_canonical(Num3072::from_le_bytes(&a.to_le_bytes())), Some(a));
        }
    }
}

//! Proof-of-work targets: `CompactTarget` (Bitcoin's `nBits`), `Target`, and `Work`.
//!
//! The compact form is a base-256 float: one exponent byte, a sign bit, and a 23-bit mantissa.
//! Decoding follows Bitcoin's `SetCompact` exactly, including which encodings count as
//! negative or overflowing; encoding follows `GetCompact`, which rounds down.

use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::BlockHash;
use crate::uint::U256;
use alloc::vec::Vec;
use core::fmt;
use core::ops::{Not as _, Shl as _, Shr as _};

/// A target in Bitcoin's 32-bit compact form, as it appears in a header's `bits` field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompactTarget(u32);

/// Why a compact target does not denote a usable target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactTargetError {
    /// The sign bit is set on a non-zero mantissa.
    Negative,
    /// The value does not fit in 256 bits.
    Overflow,
    /// The value is zero, which no hash can meet.
    Zero,
}

impl fmt::Display for CompactTargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Negative => "compact target is negative",
            Self::Overflow => "compact target overflows 256 bits",
            Self::Zero => "compact target is zero",
        })
    }
}

impl core::error::Error for CompactTargetError {}

const SIGN_BIT: u32 = 0x0080_0000;
const MANTISSA_MASK: u32 = 0x007f_ffff;

impl CompactTarget {
    pub const fn from_consensus(bits: u32) -> Self {
        Self(bits)
    }

    pub const fn to_consensus(self) -> u32 {
        self.0
    }

    /// The target this encodes, refusing what Bitcoin's proof-of-work check refuses:
    /// negative, overflowing or zero values.
    pub fn to_target(self) -> Result<Target, CompactTargetError> {
        let size = self.0 >> 24;
        let mut word = self.0 & MANTISSA_MASK;
        // As in Bitcoin, the sign and overflow checks look at the mantissa after a small
        // exponent has shifted bits out of it.
        let value = if size <= 3 {
            word >>= 8 * (3 - size);
            U256::from_u64(u64::from(word))
        } else {
            U256::from_u64(u64::from(word)).shl(8 * (size - 3))
        };
        if word != 0 && self.0 & SIGN_BIT != 0 {
            return Err(CompactTargetError::Negative);
        }
        if word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)) {
            return Err(CompactTargetError::Overflow);
        }
        if value.is_zero() {
            return Err(CompactTargetError::Zero);
        }
        Ok(Target(value))
    }
}

impl fmt::Debug for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactTarget({:#010x})", self.0)
    }
}

impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

impl Encode for CompactTarget {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.0.encode_to(out);
    }
}

impl Decode for CompactTarget {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.u32()?))
    }
}

/// A 256-bit proof-of-work target: a block's hash, read as a little-endian number, must not
/// exceed it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Target(U256);

impl Target {
    /// The largest possible target, met by every hash.
    pub const MAX: Self = Self(U256::MAX);

    pub const fn from_u256(value: U256) -> Self {
        Self(value)
    }

    pub const fn to_u256(self) -> U256 {
        self.0
    }

    /// Bitcoin's `GetCompact`: the compact form, rounding the mantissa down.
    pub fn to_compact(self) -> CompactTarget {
        let mut size = self.0.bits().div_ceil(8);
        let mut compact = if size <= 3 {
            (self.0.low_u64() << (8 * (3 - size))) as u32
        } else {
            self.0.shr(8 * (size - 3)).low_u64() as u32
        };
        if compact & SIGN_BIT != 0 {
            compact >>= 8;
            size += 1;
        }
        CompactTarget(compact | size << 24)
    }

    /// Whether `hash` meets this target.
    pub fn is_met_by(self, hash: BlockHash) -> bool {
        U256::from_le_bytes(hash.to_byte_array()) <= self.0
    }

    /// The expected number of hashes to meet this target: `2^256 / (target + 1)`.
    pub fn work(self) -> Work {
        // 2^256 / (t + 1) == (2^256 - 1 - t) / (t + 1) + 1, which stays within 256 bits.
        match self.0.checked_add(U256::ONE) {
            None => Work(U256::ONE),
            Some(divisor) => {
                let (quotient, _) = self.0.not().div_rem(divisor).expect("t + 1 is non-zero");
                Work(quotient.saturating_add(U256::ONE))
            }
        }
    }

    /// How much harder this target is than `easiest`, as a float for display.
    pub fn difficulty(self, easiest: Target) -> f64 {
        u256_to_f64(easiest.0) / u256_to_f64(self.0).max(1.0)
    }
}

impl fmt::LowerHex for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// Amount of proof of work: the expected number of hashes, summed along a chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Work(U256);

impl Work {
    pub const ZERO: Self = Self(U256::ZERO);

    pub const fn from_u256(value: U256) -> Self {
        Self(value)
    }

    pub const fn to_u256(self) -> U256 {
        self.0
    }

    /// Cumulative work; saturates, which no real chain can reach.
    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// `self − other`, or zero when `other` is more.
    pub fn saturating_sub(self, other: Self) -> Self {
        self.0.checked_sub(other.0).map_or(Self::ZERO, Self)
    }

    /// `self · n`, or the largest work when that does not fit.
    pub fn saturating_mul(self, n: u64) -> Self {
        match self.0.mul_u64(n) {
            (product, 0) => Self(product),
            _ => Self(U256::MAX),
        }
    }

    /// An approximation for display, such as hash-rate estimates.
    pub fn to_f64(self) -> f64 {
        u256_to_f64(self.0)
    }
}

impl Encode for Work {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_le_bytes());
    }
}

impl Decode for Work {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(U256::from_le_bytes(r.array()?)))
    }
}

fn u256_to_f64(value: U256) -> f64 {
    value.to_be_bytes().iter().fold(0.0, |acc, &b| acc * 256.0 + f64::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(bits: u32, expected: Result<&str, CompactTargetError>) {
        let got = CompactTarget::from_consensus(bits).to_target();
        let expected = expected.map(|hex| {
            Target(U256::from_be_bytes(crate::hex::decode_array(&alloc::format!("{hex:0>64}")).expect("test hex")))
        });
        assert_eq!(got, expected, "bits {bits:#010x}");
    }

    #[test]
    fn set_compact_cases_from_bitcoin_core() {
        // From Bitcoin Core's arith_uint256_tests (bignum_SetCompact).
        check(0, Err(CompactTargetError::Zero));
        check(0x00123456, Err(CompactTargetError::Zero));
        check(0x01003456, Err(CompactTargetError::Zero));
        check(0x02000056, Err(CompactTargetError::Zero));
        check(0x03000000, Err(CompactTargetError::Zero));
        check(0x04000000, Err(CompactTargetError::Zero));
        check(0x00923456, Err(CompactTargetError::Zero));
        check(0x01803456, Err(CompactTargetError::Zero));
        check(0x02800056, Err(CompactTargetError::Zero));
        check(0x03800000, Err(CompactTargetError::Zero));
        check(0x04800000, Err(CompactTargetError::Zero));
        check(0x01123456, Ok("12"));
        check(0x01fedcba, Err(CompactTargetError::Negative));
        check(0x02123456, Ok("1234"));
        check(0x03123456, Ok("123456"));
        check(0x04123456, Ok("12345600"));
        check(0x04923456, Err(CompactTargetError::Negative));
        check(0x05009234, Ok("92340000"));
        check(0x20123456, Ok("1234560000000000000000000000000000000000000000000000000000000000"));
        check(0xff123456, Err(CompactTargetError::Overflow));
        check(0x1d00ffff, Ok("00000000ffff0000000000000000000000000000000000000000000000000000"));
        // The overflow boundary: mantissas of one, two and three significant bytes.
        check(0x21000001, Ok("0001000000000000000000000000000000000000000000000000000000000000"));
        check(0x22000001, Ok("0100000000000000000000000000000000000000000000000000000000000000"));
        check(0x23000001, Err(CompactTargetError::Overflow));
        check(0x22000100, Err(CompactTargetError::Overflow));
        check(0x21000100, Ok("0100000000000000000000000000000000000000000000000000000000000000"));
        check(0x21010000, Err(CompactTargetError::Overflow));
        check(0x20010000, Ok("0100000000000000000000000000000000000000000000000000000000000000"));
    }

    #[test]
    fn get_compact_cases_from_bitcoin_core() {
        let cases: &[(&str, u32)] = &[
            ("12", 0x01120000),
            ("80", 0x02008000),
            ("1234", 0x02123400),
            ("123456", 0x03123456),
            ("12345600", 0x04123456),
            ("92340000", 0x05009234),
            ("1234560000000000000000000000000000000000000000000000000000000000", 0x20123456),
        ];
        for &(hex, bits) in cases {
            let value = U256::from_be_bytes(crate::hex::decode_array(&alloc::format!("{hex:0>64}")).expect("test hex"));
            assert_eq!(Target(value).to_compact(), CompactTarget(bits), "{hex}");
        }
    }

    #[test]
    fn work_is_expected_hashes() {
        assert_eq!(Target(U256::MAX).work(), Work(U256::ONE));
        assert_eq!(Target(U256::ONE.shl(255).overflowing_sub(U256::ONE).0).work(), Work(U256::from_u64(2)));
        // Bitcoin's genesis target: 0x100010001 hashes, as Core reports for block 0's chainwork.
        let genesis = CompactTarget(0x1d00ffff).to_target().expect("valid");
        assert_eq!(genesis.work(), Work(U256::from_u64(0x1_0001_0001)));
    }

    proptest! {
        #[test]
        fn work_is_monotonic(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let (a, b) = (Target(U256::from_le_bytes(a)), Target(U256::from_le_bytes(b)));
            // An easier target never needs more work.
            let (easier, harder) = if a <= b { (b, a) } else { (a, b) };
            prop_assert!(easier.work() <= harder.work());
        }

        #[test]
        fn compact_round_trip(bits in any::<u32>()) {
            if let Ok(target) = CompactTarget(bits).to_target() {
                // Canonical compacts come back unchanged; every compact decodes to the value its
                // canonical form decodes to.
                let canonical = target.to_compact();
                prop_assert_eq!(canonical.to_target(), Ok(target));
                prop_assert_eq!(canonical.to_target().expect("valid").to_compact(), canonical);
            }
        }

        #[test]
        fn to_compact_rounds_down(bytes in any::<[u8; 32]>(), shift in 0u32..256) {
            let value = Target(U256::from_le_bytes(bytes).shr(shift));
            match value.to_compact().to_target() {
                Ok(rounded) => {
                    prop_assert!(rounded <= value);
                    prop_assert_eq!(rounded.to_compact(), value.to_compact());
                }
                Err(error) => {
                    prop_assert_eq!(error, CompactTargetError::Zero);
                    prop_assert!(value.0.is_zero());
                }
            }
        }
    }
}

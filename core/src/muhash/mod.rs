//! `MuHash3072`: the multiset hash of Bitcoin Core's `src/crypto/muhash.{h,cpp}` (the
//! `gettxoutsetinfo muhash` of a UTXO set), bit for bit.
//!
//! An element is SHA-256 of its bytes, expanded by ChaCha20 (zero nonce) into a 3072-bit
//! number; a set is the product of its elements modulo p = 2^3072 − 1103717. Insertions
//! multiply a numerator and removals a denominator, so each costs one multiplication; the one
//! inverse is paid when the hash is finalized. The hash is SHA-256 of numerator/denominator as
//! 384 little-endian bytes. `num3072.rs` owns the arithmetic, `inverse.rs` the inverse,
//! `chacha20.rs` the expansion.

mod chacha20;
mod inverse;
mod num3072;
#[cfg(test)]
mod tests;

use crate::hash::sha256;
use core::fmt;
use num3072::{LIMBS, NUM3072_BYTES, Num3072};

/// Bytes of a stored MuHash state: its normalized value, one number below p, little-endian.
pub const MUHASH_BYTES: usize = NUM3072_BYTES;

/// A multiset of byte strings, hashed as Bitcoin Core's MuHash3072.
#[derive(Clone, Debug)]
pub struct MuHash3072 {
    numerator: Num3072,
    denominator: Num3072,
}

/// Why bytes are not a stored MuHash state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MuHashDecodeError {
    /// The value is p = 2^3072 − 1103717 or more, so it is not a normalized state.
    NotBelowModulus,
    /// The value is 0, which no multiset hashes to (its elements would have no inverse).
    Zero,
}

impl fmt::Display for MuHashDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotBelowModulus => write!(f, "muhash state is not below the modulus 2^3072 - 1103717"),
            Self::Zero => write!(f, "muhash state is zero"),
        }
    }
}

impl Default for MuHash3072 {
    fn default() -> Self {
        Self::new()
    }
}

impl MuHash3072 {
    /// The empty set.
    pub fn new() -> Self {
        Self { numerator: Num3072::ONE, denominator: Num3072::ONE }
    }

    /// Adds `data` to the set (Bitcoin Core's `Insert`).
    pub fn insert(&mut self, data: &[u8]) {
        self.numerator = self.numerator.mul(&element(data));
    }

    /// Takes `data` out of the set (Bitcoin Core's `Remove`). Removing what was never inserted
    /// is allowed: the set is a multiset with signed counts until the two balance.
    pub fn remove(&mut self, data: &[u8]) {
        self.denominator = self.denominator.mul(&element(data));
    }

    /// Adds every element of `other` to this set (Bitcoin Core's `operator*=`).
    pub fn combine(&mut self, other: &Self) {
        self.numerator = self.numerator.mul(&other.numerator);
        self.denominator = self.denominator.mul(&other.denominator);
    }

    /// The set's hash (Bitcoin Core's `Finalize`): SHA-256 of the normalized value.
    pub fn finalize(&self) -> [u8; 32] {
        sha256(&self.normalized().to_le_bytes())
    }

    /// The normalized value, numerator/denominator mod p, to store and load with `from_bytes`.
    pub fn to_bytes(&self) -> [u8; MUHASH_BYTES] {
        self.normalized().to_le_bytes()
    }

    /// The set whose normalized value `bytes` hold; refuses a value that `to_bytes` never gives.
    pub fn from_bytes(bytes: &[u8; MUHASH_BYTES]) -> Result<Self, MuHashDecodeError> {
        let value =
            Num3072::from_limbs_canonical(Num3072::from_le_bytes(bytes)).ok_or(MuHashDecodeError::NotBelowModulus)?;
        if value.is_zero() {
            return Err(MuHashDecodeError::Zero);
        }
        Ok(Self { numerator: value, denominator: Num3072::ONE })
    }

    /// numerator/denominator mod p; with nothing removed the denominator is 1 and no inverse is
    /// needed.
    fn normalized(&self) -> Num3072 {
        if self.denominator.is_one() {
            return self.numerator.clone();
        }
        self.numerator.mul(&inverse::inverse(&self.denominator))
    }
}

/// The number an element stands for: SHA-256 of `data`, expanded to 384 bytes of ChaCha20
/// keystream and read little-endian (Bitcoin Core's `MuHash3072::ToNum3072`).
fn element(data: &[u8]) -> Num3072 {
    let key = sha256(data);
    Num3072::from_limbs_reduced(chacha20::keystream_limbs::<LIMBS>(&key))
}

//! The one signature-validity rule: Ed25519 (RFC 8032) verified with `verify_strict`.
//!
//! `verify_strict` refuses what plain Ed25519 verification lets through: a non-canonical `S`
//! (at or above the group order), a public key or `R` of small order, and non-canonical point
//! encodings. Those are exactly the signatures a third party could forge by mangling an honest
//! one or that different libraries judge differently, so with this rule a valid signature has
//! one encoding and every node agrees on every verdict.

use core::fmt;
use ed25519_dalek::{Signer, SigningKey, Verifier as _, VerifyingKey};

/// Owner of an output: an Ed25519 public key, as 32 bytes (not checked until a spend).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PublicKey(pub [u8; 32]);

/// An Ed25519 signature, as 64 bytes (`R` then `S`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl Default for Signature {
    fn default() -> Self {
        Self([0; 64])
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PublicKey(")?;
        crate::hex::write(f, self.0.iter().copied())?;
        f.write_str(")")
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(")?;
        crate::hex::write(f, self.0.iter().copied())?;
        f.write_str(")")
    }
}

/// Why a signature is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The public key bytes are not the encoding of a curve point.
    MalformedPublicKey,
    /// The signature fails `verify_strict`.
    Invalid,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedPublicKey => "public key is not a valid curve point",
            Self::Invalid => "signature is invalid",
        })
    }
}

impl core::error::Error for SignatureError {}

/// Checks `signature` on `message` by `public_key` under tabchain's one rule.
pub fn verify_signature(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| SignatureError::MalformedPublicKey)?;
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    key.verify_strict(message, &signature).map_err(|_| SignatureError::Invalid)?;
    // verify_strict implies verify; checked here too so that a future change in the library
    // that loosened one but not the other cannot widen the rule unnoticed.
    key.verify(message, &signature).map_err(|_| SignatureError::Invalid)
}

/// An Ed25519 secret key (the 32-byte seed), given by the caller; core never makes one.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Deterministic Ed25519 signature (RFC 8032): no randomness needed.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_is_stricter_than_plain_verification() {
        // The identity as key and as R, with S = 0, passes the plain equation for any message.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut trivial = [0u8; 64];
        trivial[0] = 1;
        let message = b"any message at all";
        let key = VerifyingKey::from_bytes(&identity).expect("the identity is a point");
        let plain = key.verify(message, &ed25519_dalek::Signature::from_bytes(&trivial));
        assert!(plain.is_ok(), "plain verification accepts the trivial forgery");
        assert_eq!(verify_signature(&identity, message, &trivial), Err(SignatureError::Invalid));
    }

    #[test]
    fn sign_then_verify() {
        let key = SecretKey::from_bytes(&[7; 32]);
        let signature = key.sign(b"hello");
        assert_eq!(verify_signature(&key.public_key().0, b"hello", &signature.0), Ok(()));
        assert_eq!(verify_signature(&key.public_key().0, b"hellO", &signature.0), Err(SignatureError::Invalid));
    }
}

//! SHA-256 and SHA-256d, and the 32-byte hash newtypes (`BlockHash`, `Txid`, `MerkleRoot`,
//! `UtxoCommitment`).
//!
//! Hashes are stored in the byte order SHA-256 produces them, and displayed reversed, as
//! Bitcoin does, so a block hash with leading zero bits prints with leading zeros.

use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hex::{self, HexError};
use alloc::vec::Vec;
use sha2::{Digest, Sha256};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of SHA-256 of `data`, Bitcoin's hash for headers, transactions and merkle nodes.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256(&sha256(data))
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name([u8; 32]);

        impl $name {
            /// All zero bytes.
            pub const ZERO: Self = Self([0; 32]);

            /// Wraps bytes in the order SHA-256 produced them.
            pub const fn from_byte_array(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The bytes in the order SHA-256 produced them (not the display order).
            pub const fn to_byte_array(self) -> [u8; 32] {
                self.0
            }

            /// The bytes in the order SHA-256 produced them.
            pub const fn as_byte_array(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                hex::write(f, self.0.iter().rev().copied())
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl core::str::FromStr for $name {
            type Err = HexError;

            /// Parses the display form (reversed hex).
            fn from_str(s: &str) -> Result<Self, HexError> {
                let mut bytes = hex::decode_array::<32>(s)?;
                bytes.reverse();
                Ok(Self(bytes))
            }
        }

        impl Encode for $name {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }

        impl Decode for $name {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self(r.array()?))
            }
        }
    };
}

hash_newtype!(
    /// The SHA-256d of a block's 80-byte header.
    BlockHash
);
hash_newtype!(
    /// The SHA-256d of a transaction's canonical encoding.
    Txid
);
hash_newtype!(
    /// The root of the merkle tree over a block's txids.
    MerkleRoot
);
hash_newtype!(
    /// A UTXO set's MuHash3072 digest, as a coinbase commits to it (see `commitment`).
    UtxoCommitment
);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn sha256_known_answers() {
        // FIPS 180-2 "abc", and the empty string.
        assert_eq!(hex::encode(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex::encode(&sha256d(b"")), "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    }

    proptest::proptest! {
        #[test]
        fn encode_decode_and_display_round_trip(bytes in proptest::prelude::any::<[u8; 32]>()) {
            let txid = Txid::from_byte_array(bytes);
            proptest::prop_assert_eq!(crate::encode::decode::<Txid>(&crate::encode::encode(&txid)), Ok(txid));
            proptest::prop_assert_eq!(txid.to_string().parse::<Txid>(), Ok(txid));
        }
    }

    #[test]
    fn display_is_reversed_hex() {
        let mut bytes = [0; 32];
        bytes[31] = 0xab;
        let hash = BlockHash::from_byte_array(bytes);
        let shown = hash.to_string();
        assert!(shown.starts_with("ab00"));
        assert_eq!(shown.parse::<BlockHash>(), Ok(hash));
    }
}

//! SHA-256 and SHA-256d, and the 32-byte hash newtypes (`BlockHash`, `Txid`, `MerkleRoot`,
//! `UtxoCommitment`).
//!
//! Hashes are stored in the byte order SHA-256 produces them, and displayed reversed, as
//! Bitcoin does, so a block hash with leading zero bits prints with leading zeros.

use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hex::{self, HexError};
use alloc::vec::Vec;
use sha2::digest::generic_array::GenericArray;

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_INITIAL_STATE: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// SHA-256 of `data`. The padding is done here and each block compressed by `sha2::compress256`,
/// a plain function of `sha2`'s: the hashing runs as that crate was optimised (the page's wasm
/// builds `core` for size, `sha2` for speed), where `sha2`'s generic `Digest` would be compiled
/// into `core` (15% slower there).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut state = SHA256_INITIAL_STATE;
    let (blocks, rest) = data.as_chunks::<64>();
    compress(&mut state, blocks);
    // The rest, the 0x80 marker, zeros, and the length in bits as a big-endian u64: one block,
    // or two when the rest leaves no room for the marker and the length.
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    let bits = (data.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
    compress(&mut state, tail[..tail_len].as_chunks::<64>().0);
    let mut out = [0; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn compress(state: &mut [u32; 8], blocks: &[[u8; 64]]) {
    for block in blocks {
        sha2::compress256(state, core::slice::from_ref(GenericArray::from_slice(block)));
    }
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
        // FIPS 180-2's two-block message (56 bytes: the length no longer fits the first block).
        let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            hex::encode(&sha256(two_blocks)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        for len in [55, 56, 63, 64, 65, 119, 120, 128] {
            use sha2::Digest as _;
            let data = alloc::vec![0x61; len];
            assert_eq!(sha256(&data), <[u8; 32]>::from(sha2::Sha256::digest(&data)), "{len} bytes");
        }
    }

    proptest::proptest! {
        #[test]
        fn sha256_matches_sha2_at_every_length_around_the_block_boundaries(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)
        ) {
            use sha2::Digest as _;
            let expected: [u8; 32] = sha2::Sha256::digest(&data).into();
            proptest::prop_assert_eq!(sha256(&data), expected);
        }

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

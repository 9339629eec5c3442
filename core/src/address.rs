//! Addresses: an owner's public key as bech32m text with the network's prefix, so that a
//! mistyped address or one from another network is rejected, never paid.
//!
//! Layout: `hrp` ‖ `1` ‖ base-32 of (version 0, then the 32 key bytes) ‖ 6-character checksum,
//! for example `tab1q…` on tabchain's main network.

use crate::bech32::{self, Bech32Error};
use crate::signature::PublicKey;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The only address version defined: a bare Ed25519 public key.
pub const ADDRESS_VERSION: u8 = 0;

/// Why text is not an address of this network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// Not bech32m, or the checksum fails.
    Bech32(Bech32Error),
    /// A valid address, but for another network.
    WrongNetwork { expected: &'static str, found: String },
    /// A version this software does not know.
    UnknownVersion(u8),
    /// The payload is not a 32-byte key.
    WrongLength,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bech32(error) => write!(f, "not a valid address: {error}"),
            Self::WrongNetwork { expected, found } => {
                write!(f, "address is for network '{found}', expected '{expected}'")
            }
            Self::UnknownVersion(v) => write!(f, "unknown address version {v}"),
            Self::WrongLength => f.write_str("address does not hold a 32-byte key"),
        }
    }
}

impl core::error::Error for AddressError {}

/// Formats `owner` as an address with prefix `hrp`.
pub fn encode_address(hrp: &str, owner: &PublicKey) -> String {
    let mut data = Vec::with_capacity(53);
    data.push(ADDRESS_VERSION);
    data.extend(bech32::convert_bits(&owner.0, 8, 5, true).expect("bytes regroup into base 32"));
    bech32::encode(hrp, &data)
}

/// Parses an address that must carry the prefix `hrp`.
pub fn decode_address(hrp: &'static str, text: &str) -> Result<PublicKey, AddressError> {
    let (found, data) = bech32::decode(text.trim()).map_err(AddressError::Bech32)?;
    if found != hrp {
        return Err(AddressError::WrongNetwork { expected: hrp, found });
    }
    let (&version, payload) = data.split_first().ok_or(AddressError::WrongLength)?;
    if version != ADDRESS_VERSION {
        return Err(AddressError::UnknownVersion(version));
    }
    let bytes = bech32::convert_bits(payload, 5, 8, false).ok_or(AddressError::WrongLength)?;
    Ok(PublicKey(bytes.try_into().map_err(|_| AddressError::WrongLength)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pinned_vector() {
        // The key of secret seed [1; 32]; docs/protocol.md shows the same pair.
        let key =
            crate::hex::decode_array("8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c").expect("hex");
        let text = "tab1q32yw8ht5p8cetl2jmvknewjawt9xwzdlrk2pyxlnwjyqrdq0dawqtvfc3n";
        assert_eq!(encode_address("tab", &PublicKey(key)), text);
        assert_eq!(decode_address("tab", text), Ok(PublicKey(key)));
    }

    #[test]
    fn round_trip_and_network() {
        let owner = PublicKey([0xab; 32]);
        let text = encode_address("tab", &owner);
        assert!(text.starts_with("tab1q"), "{text}");
        assert_eq!(text.len(), 3 + 1 + 53 + 6);
        assert_eq!(decode_address("tab", &text), Ok(owner));
        assert_eq!(decode_address("tab", &text.to_uppercase()), Ok(owner));
        assert_eq!(
            decode_address("tabrt", &text),
            Err(AddressError::WrongNetwork { expected: "tabrt", found: "tab".into() })
        );
        let unknown_version = bech32::encode("tab", &[1, 0, 0]);
        assert_eq!(decode_address("tab", &unknown_version), Err(AddressError::UnknownVersion(1)));
        let short = bech32::encode("tab", &[0, 0, 0]);
        assert_eq!(decode_address("tab", &short), Err(AddressError::WrongLength));
    }

    proptest! {
        #[test]
        fn any_single_typo_is_rejected(key in any::<[u8; 32]>(), position in 4usize..63, replacement in 0usize..32) {
            let text = encode_address("tab", &PublicKey(key));
            let mut chars: Vec<char> = text.chars().collect();
            let new = char::from(b"qpzry9x8gf2tvdw0s3jn54khce6mua7l"[replacement]);
            prop_assume!(chars[position] != new);
            chars[position] = new;
            let typo: String = chars.into_iter().collect();
            prop_assert_eq!(decode_address("tab", &typo), Err(AddressError::Bech32(Bech32Error::BadChecksum)));
        }

        #[test]
        fn swapped_neighbours_are_rejected(key in any::<[u8; 32]>(), position in 4usize..62) {
            let text = encode_address("tab", &PublicKey(key));
            let mut chars: Vec<char> = text.chars().collect();
            prop_assume!(chars[position] != chars[position + 1]);
            chars.swap(position, position + 1);
            let typo: String = chars.into_iter().collect();
            prop_assert!(decode_address("tab", &typo).is_err());
        }
    }
}

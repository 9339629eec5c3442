//! Lowercase hexadecimal encoding and strict decoding, for displaying and parsing hashes, keys and raw bytes.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Why a string is not valid hexadecimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexError {
    /// Hex strings encode whole bytes, so their length must be even.
    OddLength { len: usize },
    /// A character outside `0-9a-fA-F`.
    InvalidChar { position: usize },
    /// The decoded bytes do not have the fixed length the type needs.
    WrongLength { expected: usize, actual: usize },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OddLength { len } => write!(f, "hex string has odd length {len}"),
            Self::InvalidChar { position } => write!(f, "invalid hex character at position {position}"),
            Self::WrongLength { expected, actual } => {
                write!(f, "expected {expected} bytes of hex, got {actual}")
            }
        }
    }
}

impl core::error::Error for HexError {}

/// Encodes bytes as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Writes bytes as lowercase hex into a formatter without allocating.
pub(crate) fn write(f: &mut fmt::Formatter<'_>, bytes: impl Iterator<Item = u8>) -> fmt::Result {
    bytes.into_iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// Decodes hex (either case) into bytes.
pub fn decode(s: &str) -> Result<Vec<u8>, HexError> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return Err(HexError::OddLength { len: s.len() });
    }
    let mut out = Vec::with_capacity(s.len() / 2);
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = nibble(pair[0]).ok_or(HexError::InvalidChar { position: 2 * i })?;
        let lo = nibble(pair[1]).ok_or(HexError::InvalidChar { position: 2 * i + 1 })?;
        out.push(hi << 4 | lo);
    }
    Ok(out)
}

/// Decodes hex into exactly `N` bytes.
pub fn decode_array<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let bytes = decode(s)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| HexError::WrongLength { expected: N, actual: bytes.len() })
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode("00ABff"), Ok(alloc::vec![0x00, 0xab, 0xff]));
        assert_eq!(decode("abc"), Err(HexError::OddLength { len: 3 }));
        assert_eq!(decode("0g"), Err(HexError::InvalidChar { position: 1 }));
        assert_eq!(decode_array::<2>("aabbcc"), Err(HexError::WrongLength { expected: 2, actual: 3 }));
    }
}

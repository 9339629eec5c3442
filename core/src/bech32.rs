//! Bech32m (BIP 350): a human-readable part, a separator `1`, and base-32 data with a six-
//! character checksum that detects any error in up to four characters.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32M_CONST: u32 = 0x2bc8_30a3;
const GENERATOR: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
/// The longest string BIP 173 allows.
pub const BECH32_CHARS_MAX: usize = 90;
const CHECKSUM_CHARS: usize = 6;

/// Why a string is not valid bech32m.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bech32Error {
    TooLong { len: usize },
    MixedCase,
    NoSeparator,
    EmptyHrp,
    InvalidHrpChar { position: usize },
    InvalidDataChar { position: usize },
    TooShortChecksum,
    BadChecksum,
}

impl fmt::Display for Bech32Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(f, "{len} characters, at most {BECH32_CHARS_MAX} allowed"),
            Self::MixedCase => f.write_str("mixes upper and lower case"),
            Self::NoSeparator => f.write_str("has no '1' separator"),
            Self::EmptyHrp => f.write_str("has nothing before the '1' separator"),
            Self::InvalidHrpChar { position } => write!(f, "invalid character at position {position}"),
            Self::InvalidDataChar { position } => write!(f, "invalid character at position {position}"),
            Self::TooShortChecksum => f.write_str("is too short to hold a checksum"),
            Self::BadChecksum => f.write_str("checksum does not match: the address is mistyped"),
        }
    }
}

impl core::error::Error for Bech32Error {}

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = (chk & 0x01ff_ffff) << 5 ^ u32::from(v);
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn hrp_expand(hrp: &[u8]) -> impl Iterator<Item = u8> + '_ {
    hrp.iter().map(|c| c >> 5).chain(core::iter::once(0)).chain(hrp.iter().map(|c| c & 31))
}

/// Encodes base-32 `data` under `hrp` (which must be lowercase ASCII 33..=126).
pub fn encode(hrp: &str, data: &[u8]) -> String {
    debug_assert!(data.iter().all(|&d| d < 32), "data is base 32");
    let hrp = hrp.as_bytes();
    let checksum = polymod(hrp_expand(hrp).chain(data.iter().copied()).chain([0; CHECKSUM_CHARS])) ^ BECH32M_CONST;
    let mut out = String::with_capacity(hrp.len() + 1 + data.len() + CHECKSUM_CHARS);
    out.extend(hrp.iter().map(|&c| char::from(c)));
    out.push('1');
    out.extend(data.iter().map(|&d| char::from(CHARSET[usize::from(d)])));
    out.extend((0..CHECKSUM_CHARS).map(|i| char::from(CHARSET[((checksum >> (5 * (5 - i))) & 31) as usize])));
    out
}

/// Decodes a bech32m string into its lowercase human-readable part and base-32 data.
pub fn decode(s: &str) -> Result<(String, Vec<u8>), Bech32Error> {
    let bytes = s.as_bytes();
    if bytes.len() > BECH32_CHARS_MAX {
        return Err(Bech32Error::TooLong { len: bytes.len() });
    }
    if let Some(position) = bytes.iter().position(|&c| !(33..=126).contains(&c)) {
        return Err(Bech32Error::InvalidHrpChar { position });
    }
    if bytes.iter().any(u8::is_ascii_lowercase) && bytes.iter().any(u8::is_ascii_uppercase) {
        return Err(Bech32Error::MixedCase);
    }
    let separator = bytes.iter().rposition(|&c| c == b'1').ok_or(Bech32Error::NoSeparator)?;
    if separator == 0 {
        return Err(Bech32Error::EmptyHrp);
    }
    if bytes.len() - separator - 1 < CHECKSUM_CHARS {
        return Err(Bech32Error::TooShortChecksum);
    }
    let hrp: Vec<u8> = bytes[..separator].iter().map(u8::to_ascii_lowercase).collect();
    let mut data = Vec::with_capacity(bytes.len() - separator - 1);
    for (offset, &c) in bytes[separator + 1..].iter().enumerate() {
        let value = CHARSET.iter().position(|&x| x == c.to_ascii_lowercase());
        data.push(value.ok_or(Bech32Error::InvalidDataChar { position: separator + 1 + offset })? as u8);
    }
    if polymod(hrp_expand(&hrp).chain(data.iter().copied())) != BECH32M_CONST {
        return Err(Bech32Error::BadChecksum);
    }
    data.truncate(data.len() - CHECKSUM_CHARS);
    let hrp = String::from_utf8(hrp).map_err(|_| Bech32Error::InvalidHrpChar { position: 0 })?;
    Ok((hrp, data))
}

/// Regroups bits from `from`-bit to `to`-bit values. With `pad`, a final partial group is
/// zero-padded; without, leftover bits must be fewer than `from` and all zero.
pub fn convert_bits(data: &[u8], from: u32, to: u32, pad: bool) -> Option<Vec<u8>> {
    let (mut acc, mut bits) = (0u32, 0u32);
    let max = (1u32 << to) - 1;
    let mut out = Vec::with_capacity(data.len() * from as usize / to as usize + 1);
    for &value in data {
        if u32::from(value) >> from != 0 {
            return None;
        }
        acc = (acc << from) | u32::from(value);
        bits += from;
        while bits >= to {
            bits -= to;
            out.push(((acc >> bits) & max) as u8);
        }
    }
    if pad {
        if bits > 0 {
            out.push(((acc << (to - bits)) & max) as u8);
        }
    } else if bits >= from || (acc << (to - bits)) & max != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip350_valid_strings() {
        for s in [
            "A1LQFN3A",
            "a1lqfn3a",
            "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
            "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
            "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
            "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
            "?1v759aa",
        ] {
            let (hrp, data) = decode(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(encode(&hrp, &data), s.to_ascii_lowercase());
        }
    }

    #[test]
    fn bip350_invalid_strings() {
        let check = |s: &str, expected: Bech32Error| assert_eq!(decode(s).map(|_| ()), Err(expected), "{s:?}");
        check("\x201xj0phk", Bech32Error::InvalidHrpChar { position: 0 });
        check("\x7f1g6xzxy", Bech32Error::InvalidHrpChar { position: 0 });
        check(
            "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
            Bech32Error::TooLong { len: 91 },
        );
        check("qyrz8wqd2c9m", Bech32Error::NoSeparator);
        check("1qyrz8wqd2c9m", Bech32Error::EmptyHrp);
        check("y1b0jsk6g", Bech32Error::InvalidDataChar { position: 2 });
        check("lt1igcx5c0", Bech32Error::InvalidDataChar { position: 3 });
        check("in1muywd", Bech32Error::TooShortChecksum);
        check("mm1crxm3i", Bech32Error::InvalidDataChar { position: 8 });
        check("au1s5cgom", Bech32Error::InvalidDataChar { position: 7 });
        check("M1VUXWEZ", Bech32Error::BadChecksum);
        check("16plkw9", Bech32Error::EmptyHrp);
        check("1p2gdwpf", Bech32Error::EmptyHrp);
        check("A1lqfn3a", Bech32Error::MixedCase);
    }

    #[test]
    fn convert_bits_strictness() {
        assert_eq!(convert_bits(&[0xff], 8, 5, true), Some(alloc::vec![31, 28]));
        assert_eq!(convert_bits(&[31, 28], 5, 8, false), Some(alloc::vec![0xff]));
        // Non-zero padding bits are refused.
        assert_eq!(convert_bits(&[31, 29], 5, 8, false), None);
        assert_eq!(convert_bits(&[32], 5, 8, false), None);
    }
}

//! `Amount`: a quantity of money in base units, with checked arithmetic and a hard cap.

use crate::encode::{Decode, DecodeError, Encode, Reader};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// Base units in one TAB.
pub const COIN: u64 = 100_000_000;
/// How many decimal places a TAB amount can have.
pub const DECIMALS: usize = 8;

/// An amount of money, never above [`Amount::MAX_MONEY`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

/// Why a number is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Above [`Amount::MAX_MONEY`], or an overflowing sum.
    TooLarge,
    /// A difference below zero.
    Negative,
    /// Text that is not a decimal number of TAB with at most eight decimals.
    Malformed,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "amount above the 21,000,000 TAB money supply",
            Self::Negative => "amount below zero",
            Self::Malformed => "amount must be a decimal number of TAB with at most 8 decimals",
        })
    }
}

impl core::error::Error for AmountError {}

impl Amount {
    pub const ZERO: Self = Self(0);
    pub const ONE_TAB: Self = Self(COIN);
    /// The total money supply can never exceed 21 million TAB, so no amount can either.
    pub const MAX_MONEY: Self = Self(21_000_000 * COIN);

    /// An amount of base units, refusing more than [`Amount::MAX_MONEY`].
    pub const fn from_units(units: u64) -> Result<Self, AmountError> {
        if units > Self::MAX_MONEY.0 {
            return Err(AmountError::TooLarge);
        }
        Ok(Self(units))
    }

    pub const fn to_units(self) -> u64 {
        self.0
    }

    pub fn checked_add(self, other: Self) -> Result<Self, AmountError> {
        let sum = self.0.checked_add(other.0).ok_or(AmountError::TooLarge)?;
        Self::from_units(sum)
    }

    pub fn checked_sub(self, other: Self) -> Result<Self, AmountError> {
        self.0.checked_sub(other.0).map(Self).ok_or(AmountError::Negative)
    }

    /// The sum of `amounts`, failing as soon as it passes [`Amount::MAX_MONEY`].
    pub fn checked_sum(amounts: impl IntoIterator<Item = Self>) -> Result<Self, AmountError> {
        amounts.into_iter().try_fold(Self::ZERO, Self::checked_add)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({} TAB)", self)
    }
}

/// Decimal TAB with trailing zeros removed: `12.5`, `0.00000001`, `3`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / COIN, self.0 % COIN);
        if frac == 0 {
            return write!(f, "{whole}");
        }
        let mut digits = [0u8; DECIMALS];
        let mut rest = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let len = DECIMALS - digits.iter().rev().take_while(|&&d| d == b'0').count();
        let frac = core::str::from_utf8(&digits[..len]).map_err(|_| fmt::Error)?;
        write!(f, "{whole}.{frac}")
    }
}

/// Parses decimal TAB (`"1.5"`, `"0.00000001"`, `"21000000"`).
impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, AmountError> {
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty())
            || !all_digits(whole)
            || !all_digits(frac)
            || frac.len() > DECIMALS
            || s.ends_with('.')
        {
            return Err(AmountError::Malformed);
        }
        if whole.len() > 8 {
            return Err(AmountError::TooLarge);
        }
        let parse = |part: &str| part.bytes().fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
        let frac_units = parse(frac) * 10u64.pow((DECIMALS - frac.len()) as u32);
        Self::from_units(parse(whole) * COIN + frac_units)
    }
}

impl Encode for Amount {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.0.encode_to(out);
    }
}

impl Decode for Amount {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_units(r.u64()?).map_err(|_| DecodeError::Invalid { what: "amount above MAX_MONEY" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn check(text: &str, expected: Result<u64, AmountError>) {
        assert_eq!(text.parse::<Amount>().map(Amount::to_units), expected, "{text:?}");
    }

    #[test]
    fn parsing() {
        check("1", Ok(COIN));
        check("1.5", Ok(150_000_000));
        check("0.00000001", Ok(1));
        check(".5", Ok(50_000_000));
        check("21000000", Ok(Amount::MAX_MONEY.to_units()));
        check("21000000.00000001", Err(AmountError::TooLarge));
        check("999999999999", Err(AmountError::TooLarge));
        check("0.000000001", Err(AmountError::Malformed));
        check("1.", Err(AmountError::Malformed));
        check("", Err(AmountError::Malformed));
        check("-1", Err(AmountError::Malformed));
        check("1e3", Err(AmountError::Malformed));
        check("1,5", Err(AmountError::Malformed));
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Amount::MAX_MONEY.checked_add(Amount(1)), Err(AmountError::TooLarge));
        assert_eq!(Amount(u64::MAX / 2 + 1).0.checked_add(u64::MAX / 2 + 1), None);
        assert_eq!(Amount::ZERO.checked_sub(Amount(1)), Err(AmountError::Negative));
        assert_eq!(Amount::checked_sum([Amount::MAX_MONEY, Amount(1)]), Err(AmountError::TooLarge));
        assert_eq!(Amount::from_units(u64::MAX), Err(AmountError::TooLarge));
    }

    #[test]
    fn decoding_refuses_more_than_max_money() {
        let bytes = (Amount::MAX_MONEY.to_units() + 1).to_le_bytes();
        assert_eq!(
            crate::encode::decode::<Amount>(&bytes),
            Err(DecodeError::Invalid { what: "amount above MAX_MONEY" })
        );
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(units in any::<u64>()) {
            let bytes = units.to_le_bytes();
            match crate::encode::decode::<Amount>(&bytes) {
                Ok(amount) => prop_assert_eq!(crate::encode::encode(&amount), bytes.to_vec()),
                Err(_) => prop_assert!(units > Amount::MAX_MONEY.to_units()),
            }
        }

        #[test]
        fn display_parse_round_trip(units in 0..=Amount::MAX_MONEY.to_units()) {
            let amount = Amount(units);
            prop_assert_eq!(amount.to_string().parse::<Amount>(), Ok(amount));
        }
    }
}

//! Bitcoin's difficulty rule: every 2016 blocks the target is scaled by how long the period
//! took, clamped to a factor of four either way, and capped at the proof-of-work limit.

use crate::target::{CompactTarget, CompactTargetError, Target};
use crate::uint::U256;

/// Parameters of the period-based retarget rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetargetParams {
    /// Blocks per period (2016 for Bitcoin).
    pub interval_blocks: u32,
    /// How long a period should take (two weeks for Bitcoin).
    pub timespan_s: u32,
    /// The easiest target allowed.
    pub pow_limit: Target,
}

/// Whether the block at `height` starts a new period, i.e. gets a recomputed target.
pub fn is_retarget_height(params: &RetargetParams, height: u64) -> bool {
    height.is_multiple_of(u64::from(params.interval_blocks))
}

/// Bitcoin's `CalculateNextWorkRequired`: the `bits` of the first block of a new period, from
/// the `bits` of the period's last block and the times of its first and last blocks. (Bitcoin
/// measures the span from the first to the last block of the period, 2015 intervals: an
/// off-by-one that is part of consensus.)
pub fn bitcoin_retarget(
    params: &RetargetParams,
    last_bits: CompactTarget,
    first_time: u32,
    last_time: u32,
) -> Result<CompactTarget, CompactTargetError> {
    let timespan = i64::from(params.timespan_s);
    let actual = (i64::from(last_time) - i64::from(first_time)).clamp(timespan / 4, timespan * 4);
    let last = last_bits.to_target()?.to_u256();
    let next = mul_div(last, actual as u64, timespan as u64).map_or(params.pow_limit, Target::from_u256);
    Ok(next.min(params.pow_limit).to_compact())
}

/// `value * mul / div` exactly, or `None` when the quotient does not fit in 256 bits.
pub(crate) fn mul_div(value: U256, mul: u64, div: u64) -> Option<U256> {
    assert!(div != 0, "divisor must be non-zero");
    let (low, carry) = value.mul_u64(mul);
    // Long division of the 320-bit product (carry, low) by a word, most significant first.
    let low_bytes = low.to_be_bytes();
    let mut remainder: u128 = 0;
    let mut quotient_top = 0;
    let mut quotient = [0u8; 32];
    for (i, word) in core::iter::once(carry)
        .chain(low_bytes.chunks_exact(8).map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes"))))
        .enumerate()
    {
        let current = (remainder << 64) | u128::from(word);
        let q = (current / u128::from(div)) as u64;
        remainder = current % u128::from(div);
        if i == 0 {
            quotient_top = q;
        } else {
            quotient[8 * (i - 1)..8 * i].copy_from_slice(&q.to_be_bytes());
        }
    }
    (quotient_top == 0).then(|| U256::from_be_bytes(quotient))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ops::Shr as _;
    use proptest::prelude::*;

    fn bitcoin() -> RetargetParams {
        RetargetParams {
            interval_blocks: 2016,
            timespan_s: 14 * 24 * 3600,
            pow_limit: CompactTarget::from_consensus(0x1d00ffff).to_target().expect("valid"),
        }
    }

    #[test]
    fn bitcoin_core_pow_tests() {
        // Bitcoin Core's pow_tests: get_next_work, get_next_work_pow_limit,
        // get_next_work_lower_limit_actual, get_next_work_upper_limit_actual.
        let p = bitcoin();
        let check = |bits: u32, first: u32, last: u32, expected: u32| {
            assert_eq!(
                bitcoin_retarget(&p, CompactTarget::from_consensus(bits), first, last),
                Ok(CompactTarget::from_consensus(expected))
            );
        };
        check(0x1d00ffff, 1261130161, 1262152739, 0x1d00d86a);
        check(0x1d00ffff, 1231006505, 1233061996, 0x1d00ffff);
        check(0x1c05a3f4, 1279008237, 1279297671, 0x1c0168fd);
        check(0x1c387f6f, 1263163443, 1269211443, 0x1d00e1fd);
    }

    #[test]
    fn mul_div_is_exact_beyond_256_bits() {
        assert_eq!(mul_div(U256::MAX, 4, 4), Some(U256::MAX));
        assert_eq!(mul_div(U256::MAX, 4, 2), None);
        assert_eq!(mul_div(U256::from_u64(10), 3, 4), Some(U256::from_u64(7)));
    }

    proptest! {
        #[test]
        fn retarget_stays_within_a_factor_of_four(bits in any::<u32>(), first in any::<u32>(), last in any::<u32>()) {
            let p = bitcoin();
            let bits = CompactTarget::from_consensus(bits);
            let Ok(old) = bits.to_target() else { return Ok(()) };
            prop_assume!(old <= p.pow_limit);
            // A quarter of a target below 4 is 0, which is no target: such a chain ends there
            // (as in Bitcoin Core, whose next block could then meet no target).
            prop_assume!(old.to_u256() >= U256::from_u64(4));
            let new = bitcoin_retarget(&p, bits, first, last).expect("valid bits").to_target().expect("valid result");
            prop_assert!(new <= p.pow_limit);
            let four_times = old.to_u256().checked_add(old.to_u256()).and_then(|x| x.checked_add(x)).expect("below 2^226");
            prop_assert!(new.to_u256() <= four_times);
            let quarter = Target::from_u256(old.to_u256().shr(2)).to_compact().to_target();
            if let Ok(quarter) = quarter {
                prop_assert!(new >= quarter);
            }
        }
    }
}

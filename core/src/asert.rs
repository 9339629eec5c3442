//! ASERT (`aserti3-2d`): the target of each block is the anchor's target scaled by
//! `2^((time_ahead_of_schedule) / half_life)`, in fixed-point integer arithmetic, so that
//! difficulty follows hash rate block by block, which tabchain needs as tabs come and go.
//!
//! This follows the Bitcoin Cash specification (November 2020) exactly, generic over target
//! spacing and half-life. The one generalisation: the reference needs the limit below 2^224 so
//! that `target * factor` fits 256 bits; here the product is kept in 320 bits, which gives the
//! same results below that limit and lets easy test networks use limits up to 2^256.

use crate::target::Target;
use crate::uint::U256;
use core::ops::{Shl as _, Shr as _};

/// Parameters of the ASERT rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsertParams {
    /// The intended time between blocks.
    pub target_spacing_s: i64,
    /// How far ahead of (behind) schedule the chain must be for the target to halve (double).
    pub half_life_s: i64,
    /// The easiest target allowed.
    pub pow_limit: Target,
}

/// The block the schedule is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsertAnchor {
    /// The anchor block's height.
    pub height: u64,
    /// The time of the anchor block's parent (for a genesis anchor: its time minus one spacing).
    pub parent_time: i64,
    /// The anchor block's target.
    pub target: Target,
}

/// The target required of the block after `prev`, where `prev` is at `prev_height` (at or
/// above the anchor) with time `prev_time`.
pub fn asert_next_target(params: &AsertParams, anchor: &AsertAnchor, prev_height: u64, prev_time: i64) -> Target {
    assert!(params.half_life_s > 0 && params.target_spacing_s > 0, "ASERT needs positive spacing and half-life");
    let height_diff = prev_height.checked_sub(anchor.height).expect("the previous block is at or above the anchor");
    let time_diff = i128::from(prev_time) - i128::from(anchor.parent_time);
    let ideal = i128::from(params.target_spacing_s) * (i128::from(height_diff) + 1);
    // Division truncates toward zero, as in the reference's C++.
    let exponent = ((time_diff - ideal) * 65536) / i128::from(params.half_life_s);
    // Floor, as the reference's arithmetic right shift.
    let shifts = (exponent >> 16) - 16;
    let frac = (exponent & 0xffff) as u128;
    let factor = 65536
        + ((195_766_423_245_049 * frac + 971_821_376 * frac * frac + 5127 * frac * frac * frac + (1 << 47)) >> 48);
    let (low, carry) = anchor.target.to_u256().mul_u64(factor as u64);
    let next = scale_by_power_of_two(low, carry, shifts);
    match next {
        None => params.pow_limit,
        Some(value) if value.is_zero() => Target::from_u256(U256::ONE),
        Some(value) => Target::from_u256(value).min(params.pow_limit),
    }
}

/// `(carry·2^256 + low) · 2^shifts`, or `None` when that is 2^256 or more.
fn scale_by_power_of_two(low: U256, carry: u64, shifts: i128) -> Option<U256> {
    if shifts >= 0 {
        let shifts = u32::try_from(shifts).ok().filter(|&s| s < 256);
        return match shifts {
            _ if carry == 0 && low.is_zero() => Some(U256::ZERO),
            Some(s) if carry == 0 && low.shl(s).shr(s) == low => Some(low.shl(s)),
            _ => None,
        };
    }
    let right = u32::try_from(-shifts).unwrap_or(u32::MAX);
    let from_low = low.shr(right);
    let from_carry = match right {
        0 => U256::ZERO,
        1..=255 => U256::from_u64(carry).shl(256 - right),
        256..=319 => U256::from_u64(carry >> (right - 256)),
        _ => U256::ZERO,
    };
    let carry_left = if right < 64 { carry >> right } else { 0 };
    (carry_left == 0).then(|| from_low.overflowing_add(from_carry).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::CompactTarget;

    fn params() -> AsertParams {
        AsertParams {
            target_spacing_s: 600,
            half_life_s: 172_800,
            pow_limit: CompactTarget::from_consensus(0x1d00ffff).to_target().expect("valid"),
        }
    }

    fn anchor(bits: u32) -> AsertAnchor {
        AsertAnchor {
            height: 1,
            parent_time: 0,
            target: CompactTarget::from_consensus(bits).to_target().expect("valid"),
        }
    }

    #[test]
    fn on_schedule_keeps_the_target() {
        let a = anchor(0x1a2b3c4d);
        assert_eq!(asert_next_target(&params(), &a, 1, 600).to_compact().to_consensus(), 0x1a2b3c4d);
        assert_eq!(asert_next_target(&params(), &a, 101, 600 * 101).to_compact().to_consensus(), 0x1a2b3c4d);
    }

    #[test]
    fn one_half_life_behind_doubles_and_ahead_halves() {
        let a = anchor(0x1a2b3c4d);
        let base = a.target.to_u256();
        let behind = asert_next_target(&params(), &a, 1, 600 + 172_800);
        assert_eq!(behind.to_u256(), base.shl(1));
        let ahead = asert_next_target(&params(), &a, 1, 600 - 172_800);
        assert_eq!(ahead.to_u256(), base.shr(1));
    }

    #[test]
    fn extremes_clamp_to_one_and_to_the_limit() {
        let p = params();
        let a = anchor(0x1d00ffff);
        assert_eq!(asert_next_target(&p, &a, 1, i64::from(u32::MAX)), p.pow_limit);
        assert_eq!(asert_next_target(&p, &a, 1_000_000_000, 0), Target::from_u256(U256::ONE));
        // An easy network whose limit is near 2^256 stays exact rather than overflowing.
        let easy = AsertParams { pow_limit: Target::MAX, ..p };
        let top = AsertAnchor { target: Target::from_u256(U256::ONE.shl(254)), ..a };
        assert_eq!(asert_next_target(&easy, &top, 1, 600 + 172_800).to_u256(), U256::ONE.shl(255));
        assert_eq!(asert_next_target(&easy, &top, 1, 600 + 2 * 172_800), Target::MAX);
    }
}

//! Header-chain checks that need no block bodies: proof of work and median-time-past.
//!
//! These are plain functions so that other tools (SPV clients, explorers, tests against real
//! Bitcoin headers) can call them without building a chain.

use crate::hash::BlockHash;
use crate::header::Header;
use crate::target::{CompactTargetError, Target};
use core::fmt;

/// How many recent headers the median-time-past is taken over.
pub const MEDIAN_TIME_SPAN: usize = 11;

/// Why a header fails the proof-of-work check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowError {
    /// `bits` does not encode a usable target.
    BadBits(CompactTargetError),
    /// `bits` encodes a target easier than the network allows.
    TargetAboveLimit,
    /// The header's hash does not meet its own target.
    HashAboveTarget,
}

impl fmt::Display for PowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadBits(error) => write!(f, "bad bits: {error}"),
            Self::TargetAboveLimit => f.write_str("target above the proof-of-work limit"),
            Self::HashAboveTarget => f.write_str("hash does not meet the target"),
        }
    }
}

impl core::error::Error for PowError {}

/// Bitcoin's `CheckProofOfWork`: `bits` is a valid target no easier than `pow_limit`, and the
/// header's hash meets it. Returns the target on success.
pub fn check_proof_of_work(header: &Header, pow_limit: Target) -> Result<Target, PowError> {
    check_proof_of_work_of(header, header.block_hash(), pow_limit)
}

/// `check_proof_of_work` for a header whose hash (`hash`) the caller already computed.
pub(crate) fn check_proof_of_work_of(header: &Header, hash: BlockHash, pow_limit: Target) -> Result<Target, PowError> {
    let target = header.bits.to_target().map_err(PowError::BadBits)?;
    if target > pow_limit {
        return Err(PowError::TargetAboveLimit);
    }
    if !target.is_met_by(hash) {
        return Err(PowError::HashAboveTarget);
    }
    Ok(target)
}

/// The median of the last (up to) [`MEDIAN_TIME_SPAN`] header times, `times` being oldest
/// first and ending with the newest; `None` for an empty slice. A new block's time must be
/// strictly greater than the median-time-past of its parent.
pub fn median_time_past(times: &[u32]) -> Option<u32> {
    let recent = &times[times.len().saturating_sub(MEDIAN_TIME_SPAN)..];
    let mut sorted = [0u32; MEDIAN_TIME_SPAN];
    let sorted = &mut sorted[..recent.len()];
    sorted.copy_from_slice(recent);
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(times: &[u32], expected: Option<u32>) {
        assert_eq!(median_time_past(times), expected, "{times:?}");
    }

    #[test]
    fn median_of_the_last_eleven() {
        check(&[], None);
        check(&[5], Some(5));
        check(&[3, 1], Some(3));
        check(&[10, 30, 20], Some(20));
        check(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], Some(6));
        // Only the newest eleven count: the leading 1000 is ignored.
        check(&[1000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], Some(6));
        // Out-of-order timestamps are sorted first.
        check(&[9, 1, 8, 2, 7, 3, 6, 4, 5, 0, 10], Some(5));
    }
}

//! A header in its context: the `bits` the difficulty rule requires after a parent, the
//! median time past a child must exceed, and the checks that need them.

use super::{BlockEntry, Chain, HeaderNode};
use crate::hash::BlockHash;
use crate::header::Header;
use crate::pow::{MEDIAN_TIME_SPAN, median_time_past};
use crate::target::CompactTarget;
use crate::validation::BlockError;

impl Chain {
    /// The `bits` a child of `parent` must carry: ASERT from the genesis anchor.
    pub fn required_bits(&self, parent: &BlockEntry) -> CompactTarget {
        self.bits_after(&self.headers[&parent.block_hash()])
    }

    /// The `bits` a child of the known header `parent` must carry.
    pub fn required_bits_after(&self, parent: &BlockHash) -> Option<CompactTarget> {
        self.headers.get(parent).map(|node| self.bits_after(node))
    }

    pub(super) fn bits_after(&self, parent: &HeaderNode) -> CompactTarget {
        let (height, time) = (parent.height, parent.header.time);
        self.params.asert_next_bits(height, time, parent.block_one_time).expect("a chain's network uses ASERT")
    }

    /// Median-time-past of `entry`: a child's time must be above it.
    pub fn median_time_past(&self, entry: &BlockEntry) -> u32 {
        self.median_time_past_of(&entry.block_hash())
    }

    pub(super) fn median_time_past_of(&self, hash: &BlockHash) -> u32 {
        let mut times = [0u32; MEDIAN_TIME_SPAN];
        let mut n = 0;
        let mut current = self.headers.get(hash);
        while let Some(node) = current.filter(|_| n < MEDIAN_TIME_SPAN) {
            times[MEDIAN_TIME_SPAN - 1 - n] = node.header.time;
            n += 1;
            current = (node.height > 0).then(|| &self.headers[&node.header.prev_blockhash]);
        }
        median_time_past(&times[MEDIAN_TIME_SPAN - n..]).expect("at least the header itself")
    }

    pub(super) fn check_header_context(
        &self,
        header: &Header,
        parent: &HeaderNode,
        now: u64,
    ) -> Result<(), BlockError> {
        let expected = self.bits_after(parent);
        if header.bits != expected {
            return Err(BlockError::WrongBits { expected, found: header.bits });
        }
        let mtp = self.median_time_past_of(&header.prev_blockhash);
        if header.time <= mtp {
            return Err(BlockError::TimeTooOld { time: header.time, median_time_past: mtp });
        }
        let latest_allowed = now.saturating_add(u64::from(self.params.future_time_limit_s));
        if u64::from(header.time) > latest_allowed {
            return Err(BlockError::TimeTooNew { time: header.time, latest_allowed });
        }
        Ok(())
    }
}

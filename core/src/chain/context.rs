//! A header in its context: what a child's checks need to know of its parent (`ParentContext`:
//! height, the time of block 1 on its branch, the latest times), the `bits` the difficulty rule
//! requires after it, the median time past a child must exceed, and `check_header_context`, the
//! one contextual check of a header, which the chain calls for every header it keeps and headers
//! presync (`node/presync.rs`) for headers it checks without keeping them.

use super::{BlockEntry, Chain, HeaderNode};
use crate::hash::BlockHash;
use crate::header::Header;
use crate::params::Params;
use crate::pow::{MEDIAN_TIME_SPAN, median_time_past};
use crate::target::CompactTarget;
use crate::validation::BlockError;

/// The times of a header and its ancestors, up to `MEDIAN_TIME_SPAN` of them, oldest first:
/// what median-time-past is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecentTimes {
    times: [u32; MEDIAN_TIME_SPAN],
    n: usize,
}

impl RecentTimes {
    /// The times once a child dated `time` is the newest: the oldest drops out past the span.
    fn then(mut self, time: u32) -> Self {
        if self.n == MEDIAN_TIME_SPAN {
            self.times.copy_within(1.., 0);
            self.n -= 1;
        }
        self.times[self.n] = time;
        self.n += 1;
        self
    }

    fn newest(&self) -> u32 {
        self.times[self.n - 1]
    }

    fn median(&self) -> u32 {
        median_time_past(&self.times[..self.n]).expect("at least the header itself")
    }
}

/// What the contextual checks of a child need to know of its parent: a constant-size summary of
/// the parent and its branch, so that a header can be checked without its ancestors at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParentContext {
    height: u32,
    /// The time of block 1 on the parent's branch, where ASERT measures the schedule from (0 for
    /// the genesis block, which has no schedule of its own).
    block_one_time: u32,
    /// The parent's time and its ancestors', for the median time past.
    recent_times: RecentTimes,
}

impl ParentContext {
    /// The context `child` (a header on this parent) gives its own children.
    pub(crate) fn child(&self, child: &Header) -> Self {
        Self {
            height: self.height + 1,
            block_one_time: block_one_time_of_child(self.height, self.block_one_time, child.time),
            recent_times: self.recent_times.then(child.time),
        }
    }

    /// The `bits` a child must carry: ASERT from its branch's block 1.
    fn required_bits(&self, params: &Params) -> CompactTarget {
        let time = self.recent_times.newest();
        params.asert_next_bits(self.height, time, self.block_one_time).expect("a chain's network uses ASERT")
    }
}

/// The time of block 1 on a child's branch: its own when it is block 1, else its parent's.
pub(crate) fn block_one_time_of_child(parent_height: u32, parent_block_one_time: u32, child_time: u32) -> u32 {
    if parent_height == 0 { child_time } else { parent_block_one_time }
}

/// The contextual rules of a header on `parent` (docs/protocol.md section 11, rules 8–10): the
/// `bits` the difficulty rule requires, a time above the parent's median time past and at most
/// the future-time limit past `now`. Proof of work is the caller's (it needs no parent).
pub(crate) fn check_header_context(
    params: &Params,
    header: &Header,
    parent: &ParentContext,
    now: u64,
) -> Result<(), BlockError> {
    let expected = parent.required_bits(params);
    if header.bits != expected {
        return Err(BlockError::WrongBits { expected, found: header.bits });
    }
    let mtp = parent.recent_times.median();
    if header.time <= mtp {
        return Err(BlockError::TimeTooOld { time: header.time, median_time_past: mtp });
    }
    let latest_allowed = now.saturating_add(u64::from(params.future_time_limit_s));
    if u64::from(header.time) > latest_allowed {
        return Err(BlockError::TimeTooNew { time: header.time, latest_allowed });
    }
    Ok(())
}

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
        self.parent_context(&entry.block_hash()).expect("a stored block's header is known").recent_times.median()
    }

    /// The known header `hash` as its children's checks see it: its height, its branch's block
    /// 1 time and the times of it and up to `MEDIAN_TIME_SPAN - 1` ancestors.
    pub(crate) fn parent_context(&self, hash: &BlockHash) -> Option<ParentContext> {
        let node = self.headers.get(hash)?;
        let mut times = [0u32; MEDIAN_TIME_SPAN];
        let mut n = 0;
        let mut current = Some(node);
        while let Some(ancestor) = current.filter(|_| n < MEDIAN_TIME_SPAN) {
            times[MEDIAN_TIME_SPAN - 1 - n] = ancestor.header.time;
            n += 1;
            current = (ancestor.height > 0).then(|| &self.headers[&ancestor.header.prev_blockhash]);
        }
        times.copy_within(MEDIAN_TIME_SPAN - n.., 0);
        let recent_times = RecentTimes { times, n };
        Some(ParentContext { height: node.height, block_one_time: node.block_one_time, recent_times })
    }

    /// The contextual rules of `header` on its known parent `parent_hash`.
    pub(super) fn check_header_context(
        &self,
        header: &Header,
        parent_hash: &BlockHash,
        now: u64,
    ) -> Result<(), BlockError> {
        let parent = self.parent_context(parent_hash).expect("the caller found the parent");
        check_header_context(&self.params, header, &parent, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_times_keep_the_newest_span_oldest_first() {
        let mut recent = RecentTimes { times: [100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], n: 1 };
        assert_eq!((recent.newest(), recent.median()), (100, 100));
        for time in 101..=115 {
            recent = recent.then(time);
        }
        assert_eq!(recent.n, MEDIAN_TIME_SPAN);
        assert_eq!(recent.times, [105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115]);
        assert_eq!((recent.newest(), recent.median()), (115, 110));
    }
}

//! What the node agrees to keep, beyond what the rules allow: proof of work makes junk costly,
//! not impossible, so a peer (or an API client) must not make a node store blocks and headers
//! that can never matter. A side block is kept only if its branch has at least the tip's work,
//! or it lies within `SIDE_BLOCK_DEPTH_MAX` of the tip (where forks between miners resolve), or
//! the node asked for it (sync fetches only blocks of the best header chain). A header is kept
//! only while its branch could still catch up with the tip and reaches the network's minimum
//! chain work (one threshold, `headers_work_threshold`; below it a syncing node presyncs), and
//! the headers off the best header chain and above the tip are capped. Refused items are not
//! remembered as invalid: they may matter later.

use crate::chain::Chain;
use crate::header::Header;
use crate::target::Work;
use crate::validation::BlockError;

/// Side blocks within this many heights below the tip are kept even with less work than it.
/// Rival tips of miners a few blocks apart resolve within this depth; a deeper low-work side
/// block is an orphaned fork nobody builds on, or junk.
pub const SIDE_BLOCK_DEPTH_MAX: u32 = 12;
/// A header is kept while its branch is behind the tip by at most the work of this many blocks
/// at the tip's target: about 24 minutes of 10-second blocks, far more than honest forks lag.
pub const HEADER_WORK_MARGIN_BLOCKS: u64 = 144;
/// Headers kept off the best header chain (forks, stale branches): a hard cap on the tree
/// beyond the best chain itself.
pub const SIDE_HEADERS_MAX: usize = 10_000;
/// Headers kept above the active tip. Sync fetches headers in windows of this many ahead of the
/// blocks, so a chain of cheap headers a peer cannot back with blocks costs a node at most
/// this many (about 4 MB), and an honest sync asks for the next window as blocks arrive.
pub const HEADERS_AHEAD_MAX: u32 = 20_000;

/// The work `header` would bring its branch to, if its parent is known and its bits valid.
fn branch_work(chain: &Chain, header: &Header) -> Option<Work> {
    let parent_work = chain.chain_work(&header.prev_blockhash)?;
    let target = header.bits.to_target().ok()?;
    Some(parent_work.saturating_add(target.work()))
}

/// Whether a block with `header` may be stored (the node did not ask for it). Blocks whose
/// parent or bits are unknown pass: the chain's own checks refuse them.
pub fn check_side_block(chain: &Chain, header: &Header) -> Result<(), BlockError> {
    let (Some(work), Some(parent)) = (branch_work(chain, header), chain.header(&header.prev_blockhash)) else {
        return Ok(());
    };
    let (height, tip_height) = (parent.height + 1, chain.height());
    if work >= chain.tip().chain_work || height + SIDE_BLOCK_DEPTH_MAX >= tip_height {
        return Ok(());
    }
    Err(BlockError::LowWorkSideBlock { height, tip_height })
}

/// The work a header brings its branch, as its `bits` claim (zero for bits that encode no
/// target: the chain's own checks refuse those).
pub(crate) fn header_work(header: &Header) -> Work {
    header.bits.to_target().map_or(Work::ZERO, |t| t.work())
}

/// The anti-DoS work threshold: the work a branch of headers must reach to be stored. It must
/// be able to catch up with the tip (be behind it by at most `HEADER_WORK_MARGIN_BLOCKS` blocks'
/// work at the tip's target), and it must reach the network's `minimum_chain_work`, below which
/// a syncing node first checks a chain without storing it (headers presync, `presync.rs`).
pub fn headers_work_threshold(chain: &Chain) -> Work {
    let tip = chain.tip();
    let margin = header_work(tip.header()).saturating_mul(HEADER_WORK_MARGIN_BLOCKS);
    tip.chain_work.saturating_sub(margin).max(chain.params().minimum_chain_work)
}

/// Whether the node is still syncing: its active chain has less than the network's minimum
/// chain work, so a low-work run of headers may be the start of the honest chain (presynced,
/// not refused).
pub fn is_syncing(chain: &Chain) -> bool {
    chain.tip().chain_work < chain.params().minimum_chain_work
}

/// Whether a run of headers, each the parent of the next as a peer sends them, may join the
/// header tree: the branch they reach must reach the work threshold (`headers_work_threshold`).
/// Judging the run by where it ends lets an honest longer branch in, whose first headers have
/// less work than the tip. Headers that do not link are left to the chain's own checks.
pub fn check_headers(chain: &Chain, headers: &[Header]) -> Result<(), BlockError> {
    let Some(first) = headers.first() else { return Ok(()) };
    let (Some(mut work), Some(parent)) = (chain.chain_work(&first.prev_blockhash), chain.header(&first.prev_blockhash))
    else {
        return Ok(());
    };
    for header in headers {
        work = work.saturating_add(header_work(header));
    }
    if work < headers_work_threshold(chain) {
        return Err(BlockError::LowWorkHeader { height: parent.height + 1 });
    }
    Ok(())
}

/// Whether `header` may join the header tree under its caps (after its run's work was judged):
/// at most `headers_ahead_max` (`HEADERS_AHEAD_MAX`, lower in tests) above the tip, and at most
/// `SIDE_HEADERS_MAX` off the best header chain.
pub fn check_header(chain: &Chain, header: &Header, headers_ahead_max: u32) -> Result<(), BlockError> {
    if chain.header(&header.block_hash()).is_some() {
        return Ok(());
    }
    let (Some(work), Some(parent)) = (branch_work(chain, header), chain.header(&header.prev_blockhash)) else {
        return Ok(());
    };
    let (height, tip_height) = (parent.height + 1, chain.height());
    if height > tip_height.saturating_add(headers_ahead_max) {
        return Err(BlockError::HeaderTooFarAhead { height, tip_height });
    }
    let best = chain.best_header();
    let best_work = chain.chain_work(&best.hash).expect("the best header is known");
    let off_best_chain = chain.n_headers().saturating_sub(best.height as usize + 1);
    if work <= best_work && off_best_chain >= SIDE_HEADERS_MAX {
        return Err(BlockError::HeaderTreeFull);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::MerkleRoot;
    use crate::message::{HEADERS_MAX, Message};
    use crate::node::tests::{disconnects, header_chain, ready_node};
    use crate::node::{DisconnectReason, Node};
    use crate::template::search_nonce;
    use crate::testkit::{Builder, NOW};

    /// A node holding `n` blocks, and the builder that made them.
    fn node_with_chain(n: usize) -> (Node, Builder) {
        let mut builder = Builder::new();
        builder.extend(n);
        let mut node = ready_node(&[1, 2], 0);
        for height in 1..=n as u32 {
            let hash = builder.chain.hash_at(height).expect("built");
            let block = builder.chain.entry(&hash).expect("in memory").block.clone();
            node.submit_block(block, NOW).expect("valid");
        }
        while node.poll_output().is_some() {}
        (node, builder)
    }

    #[test]
    fn a_deep_low_work_side_block_is_refused_unstored_and_its_sender_dropped() {
        let (mut node, mut builder) = node_with_chain(40);
        let stored = node.chain().n_blocks();
        let deep = builder.branch_on(builder.genesis(), 1).remove(0);
        assert_eq!(
            node.submit_block(deep.clone(), NOW),
            Err(BlockError::LowWorkSideBlock { height: 1, tip_height: 40 })
        );
        node.handle_message(1, &Message::Block(deep.clone()).to_bytes(), NOW);
        assert_eq!(
            disconnects(&mut node),
            [(1, DisconnectReason::InvalidBlock(BlockError::LowWorkSideBlock { height: 1, tip_height: 40 }))]
        );
        assert_eq!(node.chain().n_blocks(), stored, "nothing was stored");
        assert!(!node.chain().has_block(&deep.block_hash()));

        // A side block within the depth where forks resolve is kept.
        let near_parent = node.chain().hash_at(40 - SIDE_BLOCK_DEPTH_MAX).expect("active");
        let near = builder.branch_on(near_parent, 1).remove(0);
        node.submit_block(near.clone(), NOW).expect("a recent side block is kept");
        assert!(node.chain().has_block(&near.block_hash()) && !node.chain().is_active(&near.block_hash()));
    }

    #[test]
    fn a_flood_of_100_000_headers_from_genesis_leaves_memory_within_the_cap() {
        let (mut node, _) = node_with_chain(HEADER_WORK_MARGIN_BLOCKS as usize + 10);
        let genesis = node.chain().params().genesis_hash();
        let n_headers = node.chain().n_headers();
        let tip_height = node.chain().height();
        // Valid proof of work, more work than the node's chain: headers alone cannot tell it
        // from a better chain, but the node keeps only a window of them above its blocks.
        let flood = header_chain(&node, &genesis, 100_000);
        for (i, batch) in flood.chunks(HEADERS_MAX).enumerate() {
            node.handle_message(1, &Message::Headers(batch.to_vec()).to_bytes(), NOW + i as u64);
        }
        assert_eq!(node.chain().best_header().height, tip_height + HEADERS_AHEAD_MAX);
        assert_eq!(node.chain().n_headers(), n_headers + (tip_height + HEADERS_AHEAD_MAX) as usize);
        // Headers too far ahead are not misbehaviour; sending the next run unasked, on a header
        // never kept, is.
        let first_unkept_batch = (tip_height + HEADERS_AHEAD_MAX) as usize / HEADERS_MAX + 1;
        let parent = flood[first_unkept_batch * HEADERS_MAX - 1].block_hash();
        let unknown = BlockError::UnknownParent { parent };
        assert_eq!(disconnects(&mut node), [(1, DisconnectReason::InvalidHeaders(unknown))]);

        // A run of headers from genesis with less work than the tip is refused outright.
        let (mut node, _) = node_with_chain(HEADER_WORK_MARGIN_BLOCKS as usize + 10);
        let short = header_chain(&node, &genesis, 5);
        node.handle_message(2, &Message::Headers(short).to_bytes(), NOW);
        let refused = BlockError::LowWorkHeader { height: 1 };
        assert_eq!(disconnects(&mut node), [(2, DisconnectReason::InvalidHeaders(refused))]);
        assert_eq!(node.chain().n_headers(), n_headers);
    }

    #[test]
    fn headers_off_the_best_chain_are_capped() {
        let (node, _) = node_with_chain(3);
        let mut chain = node.chain().clone();
        let parent = chain.hash_at(2).expect("active");
        let mut time = chain.tip().header().time;
        let bits = chain.required_bits_after(&parent).expect("known");
        // Rivals of the tip: each as much work as it, none more, so all off the best chain.
        for i in 0..SIDE_HEADERS_MAX as u64 + 1 {
            time += 1;
            let root = MerkleRoot::from_byte_array(crate::hash::sha256(&i.to_le_bytes()));
            let header = Header { version: 1, prev_blockhash: parent, merkle_root: root, time, bits, nonce: 0 };
            let header = search_nonce(&header, 10_000).expect("regtest headers are nearly free");
            if (i as usize) < SIDE_HEADERS_MAX {
                check_header(&chain, &header, HEADERS_AHEAD_MAX).expect("room for rivals");
                chain.accept_header(header, u64::MAX).expect("valid");
            } else {
                assert_eq!(check_header(&chain, &header, HEADERS_AHEAD_MAX), Err(BlockError::HeaderTreeFull));
            }
        }
        assert_eq!(chain.n_headers(), 4 + SIDE_HEADERS_MAX);
        // A header with more work than the best is still taken.
        let best = chain.best_header().hash;
        let bits = chain.required_bits_after(&best).expect("known");
        let root = MerkleRoot::ZERO;
        let header = Header { version: 1, prev_blockhash: best, merkle_root: root, time: time + 1, bits, nonce: 0 };
        let header = search_nonce(&header, 10_000).expect("regtest headers are nearly free");
        assert_eq!(check_header(&chain, &header, HEADERS_AHEAD_MAX), Ok(()));
    }
}

//! A block of the active chain below the kept window, which a pruned node no longer holds,
//! fetched from elsewhere (a relay's API) and checked against the node's header chain before
//! anyone is shown it: it must be the block asked for, its hash the active header's at its
//! height, and its body must
//! pass `check_block` (the merkle root the header commits to, and every rule that needs no
//! chain). Only a block that passes becomes a `FetchedBlockView`, so a shell showing one can say
//! it was verified; anything else is a `FetchedBlockError`.

use crate::block::Block;
use crate::chain::Chain;
use crate::explorer::{BlockView, block_view};
use crate::hash::BlockHash;
use crate::validation::{BlockError, check_block};
use core::fmt;

/// What a `FetchedBlockView` was checked for, in words for the page.
pub const FETCHED_BLOCK_CHECKS: &str = "fetched from the relay and verified: its hash is this node's active header at its height, and its body matches that header";

/// Why a fetched block is not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchedBlockError {
    /// It is not the block asked for.
    NotAskedFor { asked: BlockHash, got: BlockHash },
    /// Its hash is not on this node's active header chain (another block, or a side branch).
    NotOnActiveChain { hash: BlockHash },
    /// Its body fails a check that needs no chain (it does not match its header, for one).
    Invalid { hash: BlockHash, error: BlockError },
}

impl fmt::Display for FetchedBlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAskedFor { asked, got } => {
                write!(f, "the block fetched, {got}, is not the block asked for, {asked}")
            }
            Self::NotOnActiveChain { hash } => {
                write!(f, "the fetched block {hash} is not on this node's active header chain")
            }
            Self::Invalid { hash, error } => write!(f, "the fetched block {hash} is damaged or forged: {error}"),
        }
    }
}

impl core::error::Error for FetchedBlockError {}

/// A fetched block that passed `check_fetched_block`.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedBlockView {
    /// The block, as the explorer shows blocks the node holds.
    pub block: BlockView,
    /// `FETCHED_BLOCK_CHECKS`: what it was checked for.
    pub verified: &'static str,
}

/// The hash of the active block named by `query` (a height, or a block hash) when the chain
/// knows its header but no longer holds its body: one to fetch and check.
pub fn pruned_block_hash(chain: &Chain, query: &str) -> Option<BlockHash> {
    let query = query.trim();
    let hash = match query.parse::<u32>() {
        Ok(height) => chain.hash_at(height)?,
        Err(_) => query.parse::<BlockHash>().ok().filter(|hash| chain.is_active(hash))?,
    };
    (chain.entry(&hash).is_none()).then_some(hash)
}

/// Checks that a `block` fetched as the one whose hash is `asked` is that block, on the active
/// header chain, with the body its header commits to; and views it.
pub fn check_fetched_block(
    chain: &Chain,
    asked: BlockHash,
    block: &Block,
) -> Result<FetchedBlockView, FetchedBlockError> {
    let hash = block.block_hash();
    if hash != asked {
        return Err(FetchedBlockError::NotAskedFor { asked, got: hash });
    }
    let height = chain
        .header(&hash)
        .map(|known| known.height)
        .filter(|&height| chain.hash_at(height) == Some(hash))
        .ok_or(FetchedBlockError::NotOnActiveChain { hash })?;
    check_block(block, chain.params()).map_err(|error| FetchedBlockError::Invalid { hash, error })?;
    let view = block_view(chain.params(), block, height, true, chain.height());
    Ok(FetchedBlockView { block: view, verified: FETCHED_BLOCK_CHECKS })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::ACTIVE_BLOCKS_KEPT;
    use crate::testkit::{Builder, NOW};
    use alloc::string::ToString;

    /// A chain past its kept window, and its first block, which it no longer holds.
    fn pruned() -> (Builder, Block) {
        let mut b = Builder::new();
        let first = b.block_on(b.genesis(), alloc::vec![], crate::amount::Amount::ZERO);
        b.chain.accept_block(first.clone(), NOW).expect("valid");
        b.extend(ACTIVE_BLOCKS_KEPT as usize + 5);
        (b, first)
    }

    #[test]
    fn a_pruned_block_is_found_checked_and_viewed_as_a_held_one_would_be() {
        let (b, first) = pruned();
        let hash = first.block_hash();
        assert_eq!(pruned_block_hash(&b.chain, "1"), Some(hash));
        assert_eq!(pruned_block_hash(&b.chain, &hash.to_string()), Some(hash));
        assert_eq!(pruned_block_hash(&b.chain, &b.chain.height().to_string()), None, "the tip is held");
        assert_eq!(pruned_block_hash(&b.chain, "99999999"), None);
        let view = check_fetched_block(&b.chain, hash, &first).expect("the active block at height 1");
        assert_eq!(view.verified, FETCHED_BLOCK_CHECKS);
        // The same fields the explorer gives for a block the node holds.
        let tip = b.chain.tip();
        let fetched = check_fetched_block(&b.chain, tip.block_hash(), &tip.block).expect("the tip is active").block;
        assert_eq!(fetched, block_view(b.chain.params(), &tip.block, tip.height, true, b.chain.height()));
        assert_eq!((view.block.height, view.block.confirmations), (1, b.chain.height()));
    }

    #[test]
    fn a_block_off_the_header_chain_or_with_another_body_is_refused() {
        let (mut b, first) = pruned();
        let side = b.block_on(b.genesis(), alloc::vec![], crate::amount::Amount::ZERO);
        let side_hash = side.block_hash();
        let refused = check_fetched_block(&b.chain, side_hash, &side);
        assert_eq!(refused, Err(FetchedBlockError::NotOnActiveChain { hash: side_hash }));
        let asked = first.block_hash();
        let refused = check_fetched_block(&b.chain, asked, &side);
        assert_eq!(refused, Err(FetchedBlockError::NotAskedFor { asked, got: side_hash }));
        // The header of block 1 with another coinbase: the body does not match the header.
        let mut forged = first.clone();
        forged.txs[0] = side.txs[0].clone();
        let hash = first.block_hash();
        let error = check_fetched_block(&b.chain, hash, &forged).expect_err("refused");
        assert_eq!(error, FetchedBlockError::Invalid { hash, error: BlockError::MerkleMismatch });
    }
}

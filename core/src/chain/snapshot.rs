//! The chain's side of snapshot sync: the UTXO set as it was after an older block of the active
//! chain, rebuilt for peers by rolling back from the tip through the undo data kept in memory
//! (`SnapshotOverlay`), and a fresh chain moved onto a verified snapshot (`adopt_snapshot`).
//!
//! A snapshot is taken at a *base* block; the block after it commits, in its coinbase, to the
//! set hash of the UTXO set after the base (`commitment::block_commitment`). A set whose hash
//! equals that commitment, and whose base+1 block matches its header on the best header chain,
//! is the set every node that validated from genesis holds at the base.

use super::{BlockEntry, Chain, ChainUpdate, Reverse};
use crate::block::Block;
use crate::commitment::block_commitment;
use crate::hash::BlockHash;
use crate::transaction::OutPoint;
use crate::utxo::{Coin, CoinStore, UtxoSet, apply_disconnect};
use crate::validation::{BlockError, check_block, connect_block};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;

/// The coins that differ between the UTXO set at the tip and the set after an older active
/// block (`base`): for each outpoint, its coin at the base, or `None` where it did not exist
/// there. Built by disconnecting, in an overlay, every block above the base; it holds the
/// outputs and undo data of at most those blocks, so it is bounded by the blocks kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotOverlay {
    pub base: BlockHash,
    pub base_height: u32,
    /// The tip the overlay was rolled back from: stale once the tip moves.
    pub tip: BlockHash,
    changes: BTreeMap<OutPoint, Option<Coin>>,
}

/// Why a chain cannot roll back to a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackError {
    /// The base is not a block of the active chain.
    NotActive,
    /// A block above the base has no undo data in memory (it is deeper than `ACTIVE_BLOCKS_KEPT`).
    TooDeep,
}

impl CoinStore for BTreeMap<OutPoint, Option<Coin>> {
    type Error = Infallible;

    fn put(&mut self, outpoint: OutPoint, coin: Coin) -> Result<(), Infallible> {
        self.insert(outpoint, Some(coin));
        Ok(())
    }

    fn delete(&mut self, outpoint: &OutPoint) -> Result<(), Infallible> {
        self.insert(*outpoint, None);
        Ok(())
    }
}

impl SnapshotOverlay {
    /// Up to `max` coins of the set at the base after `after`, in outpoint order, and whether
    /// they are the last ones. `utxos` must be the set at `self.tip`.
    pub fn coins_after(&self, utxos: &UtxoSet, after: Option<&OutPoint>, max: usize) -> (Vec<(OutPoint, Coin)>, bool) {
        use core::ops::Bound;
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut tip_coins = utxos.iter_after(after).peekable();
        let mut changed = self.changes.range((start, Bound::Unbounded)).peekable();
        let mut coins = Vec::new();
        loop {
            // Merge the two ordered streams; where both hold an outpoint, the overlay wins.
            let next = match (tip_coins.peek(), changed.peek()) {
                (None, None) => return (coins, true),
                (Some((op, _)), Some((changed_op, _))) if *op == *changed_op => {
                    tip_coins.next();
                    let (op, coin) = changed.next().expect("peeked");
                    coin.map(|coin| (*op, coin))
                }
                (Some((op, _)), Some((changed_op, _))) if *changed_op < *op => {
                    let (op, coin) = changed.next().expect("peeked");
                    coin.map(|coin| (*op, coin))
                }
                (Some(_), _) => tip_coins.next().map(|(op, coin)| (*op, *coin)),
                (None, Some(_)) => {
                    let (op, coin) = changed.next().expect("peeked");
                    coin.map(|coin| (*op, coin))
                }
            };
            if let Some(coin) = next {
                if coins.len() == max {
                    return (coins, false);
                }
                coins.push(coin);
            }
        }
    }

    /// How many outpoints the overlay holds (for bounding caches and for tests).
    pub fn n_changes(&self) -> usize {
        self.changes.len()
    }
}

/// Why a snapshot cannot be adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdoptError {
    /// Only a chain still at genesis adopts a snapshot.
    NotFresh,
    /// The base is not a known header with a known child `next`.
    NotOnHeaderChain,
    /// The block after the base commits to another set hash than the snapshot's.
    CommitmentMismatch { committed: Option<[u8; 32]>, computed: [u8; 32] },
    /// The block after the base breaks a rule (its copy, or the block itself).
    InvalidNext(BlockError),
}

impl fmt::Display for AdoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFresh => f.write_str("only a chain at genesis adopts a snapshot"),
            Self::NotOnHeaderChain => f.write_str("the snapshot's base and next block are not known headers"),
            Self::CommitmentMismatch { committed: Some(committed), computed } => write!(
                f,
                "the snapshot's set hash {} is not the {} its next block commits to",
                crate::hex::encode(computed),
                crate::hex::encode(committed)
            ),
            Self::CommitmentMismatch { committed: None, .. } => f.write_str("the next block commits to no set hash"),
            Self::InvalidNext(error) => write!(f, "the block after the snapshot is invalid: {error}"),
        }
    }
}

impl Chain {
    /// The header of the best header chain at `height`, if it reaches that high.
    pub fn best_header_at(&self, height: u32) -> Option<BlockHash> {
        self.ancestor_at(self.best_header().hash, height)
    }

    /// The UTXO set after the active block `base`, as an overlay on the tip's set.
    pub fn snapshot_overlay(&self, base: &BlockHash) -> Result<SnapshotOverlay, RollbackError> {
        if !self.is_active(base) {
            return Err(RollbackError::NotActive);
        }
        let base_height = self.headers[base].height;
        if base_height + 1 < self.kept_from_height {
            return Err(RollbackError::TooDeep);
        }
        let mut changes = BTreeMap::new();
        for height in (base_height + 1..=self.height()).rev() {
            let entry = &self.entries[&self.active[height as usize]];
            let undo = entry.undo.as_ref().ok_or(RollbackError::TooDeep)?;
            let Ok(()) = apply_disconnect(&entry.block, undo, &mut changes);
        }
        Ok(SnapshotOverlay { base: *base, base_height, tip: self.tip_hash(), changes })
    }

    /// Moves a chain still at genesis onto a snapshot: `utxos`, the set after block `base` of
    /// the header chain, checked against the commitment in `next` (the block after `base`),
    /// which is then checked and connected with every rule. The active chain becomes the
    /// headers from genesis to `base` (whose blocks this chain never holds: a reorg below
    /// `base + 1` is too deep, as for a pruned chain) and `next`, in memory with its undo data.
    /// On any error the chain is unchanged.
    pub fn adopt_snapshot(&mut self, base: BlockHash, utxos: UtxoSet, next: Block) -> Result<ChainUpdate, AdoptError> {
        if self.height() != 0 {
            return Err(AdoptError::NotFresh);
        }
        let next_hash = next.block_hash();
        let (Some(base_node), Some(next_node)) = (self.headers.get(&base), self.headers.get(&next_hash)) else {
            return Err(AdoptError::NotOnHeaderChain);
        };
        if base_node.invalid || next_node.invalid || next.header.prev_blockhash != base {
            return Err(AdoptError::NotOnHeaderChain);
        }
        let (base_height, chain_work) = (base_node.height, next_node.chain_work);
        check_block(&next, &self.params).map_err(AdoptError::InvalidNext)?;
        let computed = utxos.commitment();
        let committed = block_commitment(&next);
        if committed != Some(computed) {
            return Err(AdoptError::CommitmentMismatch { committed, computed });
        }
        let mut utxos = utxos;
        let undo = connect_block(&next, base_height + 1, &mut utxos, &self.params).map_err(AdoptError::InvalidNext)?;
        let mut active = Vec::with_capacity(base_height as usize + 2);
        let mut hash = base;
        while hash != BlockHash::ZERO {
            active.push(hash);
            hash = self.headers[&hash].header.prev_blockhash;
        }
        active.reverse();
        assert_eq!(active.len() as u32, base_height + 1, "a header chain reaches genesis");
        active.push(next_hash);
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry =
            BlockEntry { block: next, height: base_height + 1, chain_work, undo: Some(undo), invalid: false, seq };
        self.entries.clear();
        self.entries_by_height.clear();
        self.candidates.clear();
        self.entries.insert(next_hash, entry);
        self.entries_by_height.insert((base_height + 1, next_hash));
        self.candidates.insert((chain_work, Reverse(seq), next_hash));
        self.active = active;
        self.kept_from_height = base_height + 1;
        self.utxos = utxos;
        Ok(ChainUpdate { connected: alloc::vec![next_hash], ..ChainUpdate::default() })
    }
}

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
use crate::hash::{BlockHash, UtxoCommitment};
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
    CommitmentMismatch { committed: Option<UtxoCommitment>, computed: UtxoCommitment },
    /// The block after the base breaks a rule (its copy, or the block itself).
    InvalidNext(BlockError),
}

impl fmt::Display for AdoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFresh => f.write_str("only a chain at genesis adopts a snapshot"),
            Self::NotOnHeaderChain => f.write_str("the snapshot's base and next block are not known headers"),
            Self::CommitmentMismatch { committed: Some(committed), computed } => {
                write!(f, "the snapshot's set hash {computed} is not the {committed} its next block commits to")
            }
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
        // The next block's commitment, computed once for the new tip (as after any new tip).
        self.utxos.refresh_commitment();
        Ok(ChainUpdate { connected: alloc::vec![next_hash], ..ChainUpdate::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::testkit::{Builder, NOW, miner, spend};
    use crate::transaction::TxOut;
    use proptest::prelude::*;

    /// Builds `n` blocks; in each, `spends[i]` of the miner's spendable coins are each split in
    /// two (the second half spent again within the block when `chain_in_block`). Returns the
    /// builder and the UTXO set after each height.
    fn chain_with_payments(spends: &[usize], chain_in_block: bool) -> (Builder, Vec<UtxoSet>) {
        let mut builder = Builder::new();
        let mut sets = alloc::vec![builder.chain.utxos().clone()];
        let genesis = builder.genesis();
        let owner = miner().public_key();
        let mut spendable: Vec<(OutPoint, Amount)> = Vec::new();
        for (i, &n_spends) in spends.iter().enumerate() {
            let mut txs = Vec::new();
            for _ in 0..n_spends.min(spendable.len()) {
                let (outpoint, amount) = spendable.remove(0);
                let half = Amount::from_units(amount.to_units() / 2).expect("in range");
                let tx = spend(
                    &[outpoint],
                    alloc::vec![TxOut { amount: half, owner }, TxOut { amount: half, owner }],
                    genesis,
                );
                let txid = tx.txid();
                spendable.push((OutPoint { txid, vout: 0 }, half));
                if chain_in_block {
                    let again =
                        spend(&[OutPoint { txid, vout: 1 }], alloc::vec![TxOut { amount: half, owner }], genesis);
                    spendable.push((OutPoint { txid: again.txid(), vout: 0 }, half));
                    txs.push(tx);
                    txs.push(again);
                } else {
                    spendable.push((OutPoint { txid, vout: 1 }, half));
                    txs.push(tx);
                }
            }
            let block = builder.block_on(builder.chain.tip_hash(), txs, Amount::ZERO);
            builder.chain.accept_block(block, NOW).expect("valid");
            sets.push(builder.chain.utxos().clone());
            // Coinbases mature after `coinbase_maturity` blocks.
            let maturity = builder.chain.params().coinbase_maturity as usize;
            if i + 1 > maturity {
                spendable.push(builder.coinbase_coin((i + 1 - maturity) as u32));
            }
        }
        (builder, sets)
    }

    /// Every coin of the overlay's set, read `page` coins at a time as a peer asks for them.
    fn served(chain: &Chain, overlay: &SnapshotOverlay, page: usize) -> Vec<(OutPoint, Coin)> {
        let mut coins: Vec<(OutPoint, Coin)> = Vec::new();
        loop {
            let after = coins.last().map(|(outpoint, _)| *outpoint);
            let (chunk, last) = overlay.coins_after(chain.utxos(), after.as_ref(), page);
            assert!(chunk.len() <= page);
            coins.extend(chunk);
            if last {
                return coins;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// The set served at a base, read in pages of any size, is exactly the set the chain
        /// held when that base was its tip.
        #[test]
        fn the_set_served_at_a_base_is_the_set_held_when_it_was_the_tip(
            spends in prop::collection::vec(0usize..4, 12..30),
            chain_in_block in any::<bool>(),
            base_pick in any::<prop::sample::Index>(),
            page in 1usize..8,
        ) {
            let (builder, sets) = chain_with_payments(&spends, chain_in_block);
            let chain = &builder.chain;
            let base_height = base_pick.index(chain.height() as usize + 1) as u32;
            let base = chain.hash_at(base_height).expect("on the chain");
            let overlay = chain.snapshot_overlay(&base).expect("every block is in memory");
            let expected: Vec<(OutPoint, Coin)> = sets[base_height as usize].iter().map(|(o, c)| (*o, *c)).collect();
            prop_assert_eq!(served(chain, &overlay, page), expected);
        }
    }

    #[test]
    fn a_rollback_needs_an_active_base_with_undo_data_above_it() {
        let mut builder = Builder::new();
        builder.extend(3);
        let side = builder.branch_on(builder.genesis(), 1);
        builder.chain.accept_block(side[0].clone(), NOW).expect("a side block");
        assert_eq!(builder.chain.snapshot_overlay(&side[0].block_hash()), Err(RollbackError::NotActive));
        let tip = builder.chain.tip_hash();
        let at_tip = builder.chain.snapshot_overlay(&tip).expect("nothing to roll back");
        assert_eq!(at_tip.n_changes(), 0);
    }

    #[test]
    fn adopting_refuses_a_set_that_does_not_match_and_a_chain_past_genesis() {
        let (builder, sets) = chain_with_payments(&[0; 14].map(|_| 1), false);
        let base_height = 12;
        let base = builder.chain.hash_at(base_height).expect("on the chain");
        let next =
            builder.chain.entry(&builder.chain.hash_at(base_height + 1).expect("on")).expect("kept").block.clone();
        // A fresh chain that knows the headers.
        let mut fresh = Chain::new(*builder.chain.params());
        for height in 1..=builder.chain.height() {
            let hash = builder.chain.hash_at(height).expect("on the chain");
            fresh.accept_header(builder.chain.headers[&hash].header, NOW).expect("valid header");
        }
        let good = sets[base_height as usize].clone();
        let mut tampered: Vec<(OutPoint, Coin)> = good.iter().map(|(o, c)| (*o, *c)).collect();
        tampered.pop();
        let tampered: UtxoSet = tampered.into_iter().collect();
        let before = fresh.clone();
        let refused = fresh.adopt_snapshot(base, tampered.clone(), next.clone());
        assert_eq!(
            refused,
            Err(AdoptError::CommitmentMismatch { committed: Some(good.commitment()), computed: tampered.commitment() })
        );
        assert_eq!((fresh.tip_hash(), fresh.utxos()), (before.tip_hash(), before.utxos()), "unchanged");
        let update = fresh.adopt_snapshot(base, good, next.clone()).expect("the honest set");
        assert_eq!(update.connected, [next.block_hash()]);
        assert_eq!(fresh.utxos(), &sets[base_height as usize + 1]);
        assert_eq!((fresh.height(), fresh.kept_from_height()), (base_height + 1, base_height + 1));
        assert!(fresh.has_block(&base), "blocks below count as stored by the shell");
        assert_eq!(fresh.adopt_snapshot(base, UtxoSet::default(), next), Err(AdoptError::NotFresh));
    }
}

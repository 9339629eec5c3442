//! The fee view: what the mempool asks of a new payment, in the spirit of mempool.space's fee
//! tiers — the rate that gets into the next block, one that gets in within about six, and the
//! least the pool takes — and the projected next block (its transactions and fee-rate range).
//! Blocks are projected by the template's own rule (`Mempool::block_order`), each the room a
//! template leaves for transactions (`TEMPLATE_TX_BYTES_MAX`), filled in that order.

use super::MempoolTxView;
use crate::{Mempool, MempoolEntry, TEMPLATE_TX_BYTES_MAX};
use alloc::vec::Vec;

/// The tiers' horizons in blocks: the next block, and within about six.
pub const FEE_TIER_BLOCKS: [u32; 2] = [1, 6];
/// Blocks projected to price the tiers: one beyond the farthest horizon, to see whether it is
/// contested.
const PROJECTED_BLOCKS_MAX: usize = 6 + 1;
const _: () = assert!(FEE_TIER_BLOCKS[1] as usize + 1 == PROJECTED_BLOCKS_MAX);
/// Transactions of the projected next block listed in its view (the best-paying first).
pub const PROJECTED_BLOCK_LIST_MAX: usize = super::MEMPOOL_LIST_MAX;

/// One fee tier: the rate (base units per 1000 bytes) a payment offers to be mined within
/// `blocks` blocks, or, for "minimum" (`blocks` null), to enter the pool at all.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeTierView {
    /// "next_block", "within_6_blocks" or "minimum".
    pub tier: &'static str,
    pub blocks: Option<u32>,
    pub fee_rate_units_per_kb: u64,
}

/// The block a miner would assemble from the pool now.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedBlockView {
    pub txs: usize,
    pub bytes: usize,
    pub fee_units: u64,
    /// The lowest and highest fee rate in it (null when it is empty).
    pub fee_rate_min: Option<u64>,
    pub fee_rate_max: Option<u64>,
    /// Its transactions in the order the block takes them, at most `PROJECTED_BLOCK_LIST_MAX`.
    pub top: Vec<MempoolTxView>,
}

/// The fee tiers, cheapest last, and the projected next block.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeesView {
    pub tiers: Vec<FeeTierView>,
    pub next_block: ProjectedBlockView,
    /// How many blocks the pool fills, counted up to 7 (7: at least that many).
    pub blocks_projected: usize,
}

/// The fee tiers and projected next block of `mempool`.
pub fn fees(mempool: &Mempool) -> FeesView {
    fees_in_blocks_of(mempool, TEMPLATE_TX_BYTES_MAX)
}

/// `fees` with blocks of `block_bytes` of transactions (tests use small ones).
pub(crate) fn fees_in_blocks_of(mempool: &Mempool, block_bytes: usize) -> FeesView {
    let blocks = project(&mempool.block_order(block_bytes * PROJECTED_BLOCKS_MAX), block_bytes);
    let minimum = mempool.entry_fee_rate(crate::wallet::PAYMENT_BYTES).0;
    // Getting into block k means outbidding the lowest rate in it when more waits behind it
    // (ties go to the earlier transaction); otherwise the minimum is enough.
    let within = |k: u32| {
        let k = k as usize;
        let contested = blocks.len() > k;
        let lowest = blocks.get(k - 1).and_then(|b| b.iter().map(|e| e.fee_rate().0).min());
        match lowest {
            Some(lowest) if contested => lowest.saturating_add(1).max(minimum),
            _ => minimum,
        }
    };
    let later = within(FEE_TIER_BLOCKS[1]);
    let tiers = alloc::vec![
        FeeTierView {
            tier: "next_block",
            blocks: Some(FEE_TIER_BLOCKS[0]),
            fee_rate_units_per_kb: within(1).max(later)
        },
        FeeTierView { tier: "within_6_blocks", blocks: Some(FEE_TIER_BLOCKS[1]), fee_rate_units_per_kb: later },
        FeeTierView { tier: "minimum", blocks: None, fee_rate_units_per_kb: minimum },
    ];
    FeesView {
        tiers,
        next_block: block_view(blocks.first().map_or(&[], Vec::as_slice)),
        blocks_projected: blocks.len(),
    }
}

/// `order` cut into consecutive blocks of at most `block_bytes`, at most `PROJECTED_BLOCKS_MAX`.
fn project<'a>(order: &[&'a MempoolEntry], block_bytes: usize) -> Vec<Vec<&'a MempoolEntry>> {
    let mut blocks: Vec<Vec<&MempoolEntry>> = Vec::new();
    let mut bytes = 0;
    for &entry in order {
        if blocks.is_empty() || bytes + entry.size_bytes > block_bytes {
            if blocks.len() == PROJECTED_BLOCKS_MAX {
                break;
            }
            blocks.push(Vec::new());
            bytes = 0;
        }
        bytes += entry.size_bytes;
        blocks.last_mut().expect("pushed above").push(entry);
    }
    blocks
}

fn block_view(block: &[&MempoolEntry]) -> ProjectedBlockView {
    let rates = || block.iter().map(|e| e.fee_rate().0);
    ProjectedBlockView {
        txs: block.len(),
        bytes: block.iter().map(|e| e.size_bytes).sum(),
        fee_units: block.iter().map(|e| e.fee.to_units()).sum(),
        fee_rate_min: rates().min(),
        fee_rate_max: rates().max(),
        top: block.iter().take(PROJECTED_BLOCK_LIST_MAX).map(|e| super::mempool_tx_view(e)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use crate::{MIN_RELAY_FEE_RATE, OutPoint, Transaction, TxOut};
    use alloc::string::ToString;
    use alloc::vec;

    /// A pool of payments to self, one per mature coin, paying `fees` units each.
    fn pool_paying(fees: &[u64]) -> (Mempool, Vec<Transaction>) {
        let mut b = Builder::new();
        b.extend(fees.len() + b.chain.params().coinbase_maturity as usize);
        let genesis = b.genesis();
        let mut pool = Mempool::default();
        let mut txs = Vec::new();
        for (n, &fee) in fees.iter().enumerate() {
            let (coin, value): (OutPoint, _) = b.coinbase_coin(n as u32 + 1);
            let out =
                TxOut { amount: value.checked_sub(units(fee)).expect("fee below value"), owner: miner().public_key() };
            let tx = spend(&[coin], vec![out], genesis);
            pool.accept(tx.clone(), &b.chain, NOW).expect("valid");
            txs.push(tx);
        }
        (pool, txs)
    }

    /// `fees` for blocks that hold `per_block` of these transactions (all the same size):
    /// the tiers' rates, and the next block's transaction count and rate range.
    fn check(fees: &[u64], per_block: usize, tiers: [u64; 3], next: (usize, Option<u64>, Option<u64>)) {
        let (pool, txs) = pool_paying(fees);
        let size = txs.first().map_or(100, Transaction::size_bytes);
        let view = fees_in_blocks_of(&pool, size * per_block);
        let rates: Vec<u64> = view.tiers.iter().map(|t| t.fee_rate_units_per_kb).collect();
        assert_eq!(rates, tiers, "{fees:?} in blocks of {per_block}");
        let n = &view.next_block;
        assert_eq!((n.txs, n.fee_rate_min, n.fee_rate_max), next, "{fees:?} in blocks of {per_block}");
    }

    #[test]
    fn tiers_outbid_the_last_transaction_of_a_contested_block() {
        let min = MIN_RELAY_FEE_RATE.0;
        let (_, txs) = pool_paying(&[1000]);
        let rate = |fee: u64| fee * 1000 / txs[0].size_bytes() as u64;
        // An empty pool: every tier is the minimum.
        check(&[], 1, [min, min, min], (0, None, None));
        // Room for all: no block is contested.
        check(&[1000, 2000, 3000], 3, [min, min, min], (3, Some(rate(1000)), Some(rate(3000))));
        // Blocks of one, three waiting: the next block takes the best, outbid it by one unit;
        // six blocks take all three, so the minimum is enough.
        check(&[1000, 2000, 3000], 1, [rate(3000) + 1, min, min], (1, Some(rate(3000)), Some(rate(3000))));
        // Blocks of one, eight waiting: the sixth block is contested too.
        let eight = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000];
        check(&eight, 1, [rate(8000) + 1, rate(3000) + 1, min], (1, Some(rate(8000)), Some(rate(8000))));
    }

    #[test]
    fn the_projected_block_lists_its_transactions_best_paying_first() {
        let (pool, txs) = pool_paying(&[1500, 4000, 2500]);
        let view = fees(&pool);
        let listed: Vec<&str> = view.next_block.top.iter().map(|t| t.txid.as_str()).collect();
        let expected = [&txs[1], &txs[2], &txs[0]].map(|tx| tx.txid().to_string());
        assert_eq!(listed, expected.iter().map(alloc::string::String::as_str).collect::<Vec<_>>());
        assert_eq!(view.next_block.fee_units, 8000);
        assert_eq!(view.blocks_projected, 1);
        assert_eq!(view.tiers.iter().map(|t| t.tier).collect::<Vec<_>>(), ["next_block", "within_6_blocks", "minimum"]);
    }
}

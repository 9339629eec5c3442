//! Addresses: what each transaction of a block received and spent per address (`address_txs`,
//! the one definition both the tab's walk over its chain and the relay's index use), which
//! coinbase heights are still immature, and the one builder of the address view.

use super::{ADDRESS_HISTORY_MAX, AddressView, HistoryView, LookupError, block_spent_coins};
use crate::{Amount, Block, Chain, Mempool, OutPoint, Params, PublicKey, TxOut, Txid, decode_address, encode_address};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::RangeInclusive;

/// What one confirmed transaction did to one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressTx {
    pub owner: PublicKey,
    pub txid: Txid,
    pub height: u32,
    /// The transaction's place in its block (0 for the coinbase).
    pub position: u32,
    /// Units the transaction's outputs pay the address.
    pub received_units: u64,
    /// Units of the address's coins the transaction's inputs spend.
    pub sent_units: u64,
}

/// An address's balances, in units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressBalance {
    /// Unspent and spendable in the next block.
    pub confirmed_units: u64,
    /// Unspent coinbase outputs not yet mature at the next block.
    pub immature_units: u64,
    /// Paid to the address by pooled transactions.
    pub pending_units: u64,
}

/// Every (address, transaction) pair of `block`, at `height`, where the transaction pays the
/// address or spends its coins, in block order and by owner within a transaction. `spent` holds
/// the coins the block's inputs spend (`block_spent_coins`). An output of zero units to an
/// address that spends nothing leaves no row.
pub fn address_txs(block: &Block, height: u32, spent: &BTreeMap<OutPoint, TxOut>) -> Vec<AddressTx> {
    let mut rows = Vec::new();
    for (position, tx) in block.txs.iter().enumerate() {
        let mut by_owner: BTreeMap<PublicKey, (u64, u64)> = BTreeMap::new();
        for output in &tx.outputs {
            let entry = by_owner.entry(output.owner).or_default();
            entry.0 = entry.0.saturating_add(output.amount.to_units());
        }
        for input in tx.inputs.iter().filter(|i| !i.prev_out.is_coinbase_marker()) {
            if let Some(coin) = spent.get(&input.prev_out) {
                let entry = by_owner.entry(coin.owner).or_default();
                entry.1 = entry.1.saturating_add(coin.amount.to_units());
            }
        }
        let txid = tx.txid();
        rows.extend(by_owner.into_iter().filter(|(_, (received, sent))| *received > 0 || *sent > 0).map(
            |(owner, (received_units, sent_units))| AddressTx {
                owner,
                txid,
                height,
                position: position as u32,
                received_units,
                sent_units,
            },
        ));
    }
    rows
}

/// The heights whose coinbase outputs cannot yet be spent in the block after `tip_height`
/// (`Coin::is_mature_at` of the next height): the last `coinbase_maturity - 1` blocks. The
/// genesis coinbase is never spendable (it is in no UTXO set), so height 0 is never counted.
pub fn immature_coinbase_heights(params: &Params, tip_height: u32) -> RangeInclusive<u32> {
    let first = (tip_height + 2).saturating_sub(params.coinbase_maturity).max(1);
    first..=tip_height
}

/// Units pooled transactions pay `owner`: a walk over the mempool, bounded by its size.
pub fn pending_units(mempool: &Mempool, owner: &PublicKey) -> u64 {
    mempool.iter().flat_map(|e| e.tx.outputs.iter()).filter(|o| o.owner == *owner).map(|o| o.amount.to_units()).sum()
}

/// An address of `params`' network, as its owner's key.
pub fn parse_address(params: &Params, text: &str) -> Result<PublicKey, LookupError> {
    decode_address(params.address_hrp, text.trim()).map_err(|e| LookupError::BadQuery(e.to_string()))
}

/// The view of `owner`'s address with `history` (newest first) as seen from `tip_height`:
/// the one builder of address views. `next` is the cursor of the following page, if any.
pub fn address_view(
    params: &Params,
    owner: &PublicKey,
    balance: AddressBalance,
    history: &[AddressTx],
    tip_height: u32,
    next: Option<String>,
) -> AddressView {
    AddressView {
        address: encode_address(params.address_hrp, owner),
        confirmed_units: balance.confirmed_units,
        immature_units: balance.immature_units,
        pending_units: balance.pending_units,
        confirmed: Amount::from_units(balance.confirmed_units).map(|a| a.to_string()).unwrap_or_default(),
        history: history
            .iter()
            .map(|row| HistoryView {
                txid: row.txid.to_string(),
                height: Some(row.height),
                confirmations: (tip_height + 1).saturating_sub(row.height),
                received_units: row.received_units,
                sent_units: row.sent_units,
            })
            .collect(),
        next,
    }
}

/// Balances and history of an address from a `Chain` in memory (the tab's): balances from the
/// UTXO set and the mempool, the newest `ADDRESS_HISTORY_MAX` transactions from the active
/// blocks still in memory.
pub fn address(chain: &Chain, mempool: &Mempool, text: &str) -> Result<AddressView, LookupError> {
    let params = chain.params();
    let owner = parse_address(params, text)?;
    let next_height = chain.height() + 1;
    let mut balance = AddressBalance { pending_units: pending_units(mempool, &owner), ..AddressBalance::default() };
    for (_, coin) in chain.utxos().iter().filter(|(_, c)| c.output.owner == owner) {
        if coin.is_mature_at(next_height, params.coinbase_maturity) {
            balance.confirmed_units += coin.output.amount.to_units();
        } else {
            balance.immature_units += coin.output.amount.to_units();
        }
    }
    let mut history = Vec::new();
    for height in (chain.kept_from_height().max(1)..=chain.height()).rev() {
        let Some(entry) = chain.hash_at(height).and_then(|hash| chain.entry(&hash)) else { continue };
        let Some(undo) = chain.undo(&entry.block_hash()) else { continue };
        let rows = address_txs(&entry.block, height, &block_spent_coins(&entry.block, undo));
        history.extend(rows.into_iter().rev().filter(|row| row.owner == owner));
        if history.len() >= ADDRESS_HISTORY_MAX {
            break;
        }
    }
    history.truncate(ADDRESS_HISTORY_MAX);
    Ok(address_view(params, &owner, balance, &history, chain.height(), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Builder, miner};
    use crate::{Coin, Params};

    #[test]
    fn immature_heights_are_exactly_those_whose_coinbase_is_not_mature_at_the_next_height() {
        let params = Params::regtest();
        for tip in [0u32, 1, 5, 8, 9, 10, 11, 30] {
            let expected: Vec<u32> = (1..=tip)
                .filter(|&height| {
                    let output = TxOut { amount: Amount::ZERO, owner: PublicKey::default() };
                    let coin = Coin { output, height, is_coinbase: true };
                    !coin.is_mature_at(tip + 1, params.coinbase_maturity)
                })
                .collect();
            let heights: Vec<u32> = immature_coinbase_heights(&params, tip).collect();
            assert_eq!(heights, expected, "tip {tip}");
        }
    }

    #[test]
    fn the_chain_walk_matches_the_utxo_balance_and_lists_coinbases_newest_first() {
        let mut b = Builder::new();
        b.extend(13);
        let text = encode_address("tabrt", &miner().public_key());
        let view = address(&b.chain, &Mempool::default(), &text).expect("valid address");
        let heights: Vec<Option<u32>> = view.history.iter().map(|h| h.height).collect();
        assert_eq!(heights, (1..=13).rev().map(Some).collect::<Vec<_>>());
        let subsidy = b.chain.params().subsidy_initial.to_units();
        assert_eq!((view.confirmed_units, view.immature_units), (4 * subsidy, 9 * subsidy));
        assert_eq!(view.next, None);
    }
}

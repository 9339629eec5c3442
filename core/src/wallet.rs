//! A single-key wallet over a `Chain` and a `Mempool`: balance, coin selection, signed
//! payments with change, and history. The key comes from the caller; the wallet never makes one.
//!
//! The wallet keeps an index of its own coins and transactions on the active chain, updated
//! block by block (`apply`), and rebuilt from the chain after a reorg (`rescan`). Unconfirmed
//! activity is read from the mempool when asked. History of blocks no longer in memory cannot
//! be read again from the chain: a shell stores it (`confirmed_below`, with the node's
//! checkpoint) and hands it back (`resume`).

use crate::address::{AddressError, decode_address, encode_address};
use crate::amount::Amount;
use crate::block::Block;
use crate::chain::{Chain, ChainUpdate};
use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::{BlockHash, Txid};
use crate::limits::TX_INPUTS_MAX;
use crate::mempool::{DUST_AMOUNT_MIN, FeeRate, Mempool};
use crate::sighash::signed_transaction;
use crate::signature::{PublicKey, SecretKey};
use crate::transaction::{OutPoint, TXIN_BYTES, TXOUT_BYTES, Transaction, TxOut};
use crate::utxo::Coin;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

/// Money by how soon it can be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    /// Confirmed, mature, and not being spent by a pending transaction.
    pub confirmed: Amount,
    /// Coinbase rewards still waiting for maturity.
    pub immature: Amount,
    /// Incoming (and change) in unconfirmed transactions.
    pub pending: Amount,
}

/// One transaction that pays to or spends from the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletTx {
    pub txid: Txid,
    /// Height of the block that holds it; `None` while in the mempool.
    pub height: Option<u32>,
    /// Paid to the wallet's key.
    pub received: Amount,
    /// Taken from the wallet's coins.
    pub sent: Amount,
    pub is_coinbase: bool,
}

/// Bytes of a confirmed `WalletTx` as stored: txid, height, received, sent, coinbase flag.
pub const WALLET_TX_BYTES: usize = 32 + 4 + 8 + 8 + 1;

/// A confirmed transaction as a shell stores it (an unconfirmed one is never stored).
impl Encode for WalletTx {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.txid.encode_to(out);
        self.height.expect("only confirmed history is stored").encode_to(out);
        self.received.encode_to(out);
        self.sent.encode_to(out);
        u8::from(self.is_coinbase).encode_to(out);
    }
}

impl Decode for WalletTx {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let txid = Txid::decode_from(r)?;
        let height = Some(r.u32()?);
        let (received, sent) = (Amount::decode_from(r)?, Amount::decode_from(r)?);
        let is_coinbase = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(DecodeError::Invalid { what: "wallet coinbase flag" }),
        };
        Ok(Self { txid, height, received, sent, is_coinbase })
    }
}

impl WalletTx {
    /// Confirmations at chain height `tip_height` (0 while unconfirmed).
    pub fn confirmations(&self, tip_height: u32) -> u32 {
        self.height.map_or(0, |h| tip_height + 1 - h)
    }
}

/// Why a payment cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalletError {
    BadAddress(AddressError),
    /// Below `DUST_AMOUNT_MIN`: nodes would not relay it.
    DustAmount {
        amount: Amount,
    },
    InsufficientFunds {
        available: Amount,
        needed: Amount,
    },
    /// The coins needed are more than one transaction may spend.
    TooManyInputs,
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAddress(e) => e.fmt(f),
            Self::DustAmount { amount } => {
                write!(f, "amount {amount} TAB is below the smallest payment, {DUST_AMOUNT_MIN} TAB")
            }
            Self::InsufficientFunds { available, needed } => {
                write!(f, "insufficient funds: {available} TAB spendable, {needed} TAB needed with the fee")
            }
            Self::TooManyInputs => f.write_str("the payment needs more coins than one transaction can spend"),
        }
    }
}

impl core::error::Error for WalletError {}

/// A wallet of one key.
#[derive(Debug, Clone)]
pub struct Wallet {
    key: SecretKey,
    owner: PublicKey,
    /// The wallet's unspent coins on the active chain.
    coins: BTreeMap<OutPoint, Coin>,
    /// The wallet's confirmed transactions.
    history: BTreeMap<Txid, WalletTx>,
}

impl Wallet {
    /// A wallet for `key`, indexed from `chain`.
    pub fn new(key: SecretKey, chain: &Chain) -> Self {
        let owner = key.public_key();
        let mut wallet = Self { key, owner, coins: BTreeMap::new(), history: BTreeMap::new() };
        wallet.rescan(chain);
        wallet
    }

    /// A wallet for `key`, indexed from `chain`, with the `stored` history of blocks the chain
    /// no longer holds in memory (what `confirmed_below` gave when it was stored). Stored entries
    /// at or above the chain's kept window are ignored: those blocks are read again.
    pub fn resume(key: SecretKey, chain: &Chain, stored: impl IntoIterator<Item = WalletTx>) -> Self {
        let mut wallet = Self::new(key, chain);
        let kept_from = chain.kept_from_height();
        for tx in stored {
            if tx.height.is_some_and(|h| h < kept_from) {
                wallet.history.entry(tx.txid).or_insert(tx);
            }
        }
        wallet
    }

    /// The confirmed history below `height`, by txid: at heights below the chain's kept window,
    /// what no block in memory can tell again.
    pub fn confirmed_below(&self, height: u32) -> impl Iterator<Item = &WalletTx> {
        self.history.values().filter(move |tx| tx.height.is_some_and(|h| h < height))
    }

    /// How many confirmed transactions the history holds.
    pub fn n_confirmed(&self) -> usize {
        self.history.len()
    }

    pub fn owner(&self) -> PublicKey {
        self.owner
    }

    pub fn secret_key(&self) -> &SecretKey {
        &self.key
    }

    pub fn address(&self, chain: &Chain) -> alloc::string::String {
        encode_address(chain.params().address_hrp, &self.owner)
    }

    /// Rebuilds the index: the coins from the UTXO set, the history from the blocks in memory
    /// (older history is the shell's to keep).
    pub fn rescan(&mut self, chain: &Chain) {
        self.history.clear();
        self.reload_coins(chain);
        for height in chain.kept_from_height().max(1)..=chain.height() {
            let hash = chain.hash_at(height).expect("height within the active chain");
            self.record(chain, &hash);
        }
    }

    fn reload_coins(&mut self, chain: &Chain) {
        let owned = chain.utxos().iter().filter(|(_, coin)| coin.output.owner == self.owner);
        self.coins.clear();
        self.coins.extend(owned.map(|(outpoint, coin)| (*outpoint, *coin)));
    }

    /// Follows the chain after `update`: incrementally when blocks were only added; after a
    /// reorg, history above the fork goes, the new branch is recorded, and the coins are read
    /// again from the UTXO set.
    pub fn apply(&mut self, chain: &Chain, update: &ChainUpdate) {
        if update.disconnected.is_empty() {
            for hash in &update.connected {
                if let Some(entry) = chain.entry(hash) {
                    self.connect(&entry.block, entry.height);
                }
            }
            return;
        }
        let fork_height = chain.height() - update.connected.len() as u32;
        self.history.retain(|_, tx| tx.height.is_some_and(|h| h <= fork_height));
        for hash in &update.connected {
            self.record(chain, hash);
        }
        self.reload_coins(chain);
    }

    /// Records the transactions of the active block `hash` that touch the wallet, telling what
    /// they sent from the coins the block's undo data says they spent.
    fn record(&mut self, chain: &Chain, hash: &BlockHash) {
        let (Some(entry), Some(undo)) = (chain.entry(hash), chain.undo(hash)) else { return };
        let mut spent = BTreeMap::new();
        spent.extend(undo.spent.iter().copied());
        for tx in &entry.block.txs {
            let sent = Amount::checked_sum(
                tx.inputs
                    .iter()
                    .filter_map(|input| spent.get(&input.prev_out))
                    .filter(|coin| coin.output.owner == self.owner)
                    .map(|coin| coin.output.amount),
            )
            .expect("within the money supply");
            self.note(tx, entry.height, sent);
        }
    }

    /// Adds `tx` to the history if it moved the wallet's money.
    fn note(&mut self, tx: &Transaction, height: u32, sent: Amount) {
        let received = Amount::checked_sum(tx.outputs.iter().filter(|o| o.owner == self.owner).map(|o| o.amount))
            .expect("within the money supply");
        if sent != Amount::ZERO || received != Amount::ZERO {
            let txid = tx.txid();
            let record = WalletTx { txid, height: Some(height), received, sent, is_coinbase: tx.is_coinbase() };
            self.history.insert(txid, record);
        }
    }

    /// Connects `block` on top of the wallet's view: spends and receives coins, notes history.
    fn connect(&mut self, block: &Block, height: u32) {
        for tx in &block.txs {
            let txid = tx.txid();
            let mut sent = Amount::ZERO;
            for input in &tx.inputs {
                if let Some(coin) = self.coins.remove(&input.prev_out) {
                    sent = sent.checked_add(coin.output.amount).expect("within the money supply");
                }
            }
            for (vout, output) in tx.outputs.iter().enumerate().filter(|(_, o)| o.owner == self.owner) {
                let coin = Coin { output: *output, height, is_coinbase: tx.is_coinbase() };
                self.coins.insert(OutPoint { txid, vout: vout as u32 }, coin);
            }
            self.note(tx, height, sent);
        }
    }

    fn is_mature(&self, coin: &Coin, chain: &Chain) -> bool {
        coin.is_mature_at(chain.height() + 1, chain.params().coinbase_maturity)
    }

    /// Money by how soon it can be spent.
    pub fn balance(&self, chain: &Chain, mempool: &Mempool) -> Balance {
        let mut balance = Balance::default();
        for (outpoint, coin) in &self.coins {
            let bucket = if !self.is_mature(coin, chain) {
                &mut balance.immature
            } else if mempool.spender(outpoint).is_none() {
                &mut balance.confirmed
            } else {
                continue;
            };
            *bucket = bucket.checked_add(coin.output.amount).expect("within the money supply");
        }
        for (_, output) in self.pending_outputs(mempool) {
            balance.pending = balance.pending.checked_add(output.amount).expect("within the money supply");
        }
        balance
    }

    /// Outputs to the wallet in pooled transactions, not yet spent by another pooled one.
    fn pending_outputs<'a>(&'a self, mempool: &'a Mempool) -> impl Iterator<Item = (OutPoint, TxOut)> + 'a {
        mempool.iter().flat_map(move |entry| {
            let txid = entry.tx.txid();
            entry.tx.outputs.iter().enumerate().filter_map(move |(vout, output)| {
                let outpoint = OutPoint { txid, vout: vout as u32 };
                (output.owner == self.owner && mempool.spender(&outpoint).is_none()).then_some((outpoint, *output))
            })
        })
    }

    /// Coins a payment may use: confirmed mature ones first (largest first), then the
    /// wallet's unconfirmed change and incoming outputs.
    fn spendable(&self, chain: &Chain, mempool: &Mempool) -> Vec<(OutPoint, Amount)> {
        let mut confirmed: Vec<(OutPoint, Amount)> = self
            .coins
            .iter()
            .filter(|(op, coin)| self.is_mature(coin, chain) && mempool.spender(op).is_none())
            .map(|(op, coin)| (*op, coin.output.amount))
            .collect();
        crate::sort::sort_by_key(&mut confirmed, |&(op, amount)| (core::cmp::Reverse(amount), op));
        confirmed.extend(self.pending_outputs(mempool).map(|(op, output)| (op, output.amount)));
        confirmed
    }

    /// Builds and signs a payment of `amount` to the address `to`, with change back to the
    /// wallet and a fee of `fee_rate`.
    pub fn pay_to_address(
        &self,
        chain: &Chain,
        mempool: &Mempool,
        to: &str,
        amount: Amount,
        fee_rate: FeeRate,
    ) -> Result<Transaction, WalletError> {
        let recipient = decode_address(chain.params().address_hrp, to).map_err(WalletError::BadAddress)?;
        self.build_payment(chain, mempool, recipient, amount, fee_rate)
    }

    /// Builds and signs a payment of `amount` to `recipient`.
    pub fn build_payment(
        &self,
        chain: &Chain,
        mempool: &Mempool,
        recipient: PublicKey,
        amount: Amount,
        fee_rate: FeeRate,
    ) -> Result<Transaction, WalletError> {
        let plan = self.plan_payment(chain, mempool, amount, fee_rate)?;
        let mut outputs = alloc::vec![TxOut { amount, owner: recipient }];
        if let Some(change) = plan.change {
            outputs.push(TxOut { amount: change, owner: self.owner });
        }
        Ok(signed_transaction(&plan.inputs, outputs, &self.key, chain.params().genesis_hash()))
    }

    /// The fee a payment of `amount` at `fee_rate` would pay now (the coins it would spend
    /// decide its size), or why it cannot be made: what the send form shows before sending.
    pub fn payment_fee(
        &self,
        chain: &Chain,
        mempool: &Mempool,
        amount: Amount,
        fee_rate: FeeRate,
    ) -> Result<Amount, WalletError> {
        Ok(self.plan_payment(chain, mempool, amount, fee_rate)?.fee)
    }

    /// The coins a payment of `amount` spends, its change (none when it would be dust) and its
    /// fee: the one coin selection behind `build_payment` and `payment_fee`.
    fn plan_payment(
        &self,
        chain: &Chain,
        mempool: &Mempool,
        amount: Amount,
        fee_rate: FeeRate,
    ) -> Result<PaymentPlan, WalletError> {
        if amount < DUST_AMOUNT_MIN {
            return Err(WalletError::DustAmount { amount });
        }
        let coins = self.spendable(chain, mempool);
        let available = Amount::checked_sum(coins.iter().map(|&(_, a)| a)).expect("within the money supply");
        let (mut chosen, mut total) = (Vec::new(), Amount::ZERO);
        for &(outpoint, value) in &coins {
            chosen.push(outpoint);
            total = total.checked_add(value).expect("within the money supply");
            let fee_with_change = fee_rate.fee_for(tx_size(chosen.len(), 2));
            let needed = amount.checked_add(fee_with_change).unwrap_or(Amount::MAX_MONEY);
            if total >= needed {
                break;
            }
        }
        if chosen.len() > TX_INPUTS_MAX {
            return Err(WalletError::TooManyInputs);
        }
        let fee_with_change = fee_rate.fee_for(tx_size(chosen.len(), 2));
        let fee_alone = fee_rate.fee_for(tx_size(chosen.len(), 1));
        let needed_alone = amount.checked_add(fee_alone).unwrap_or(Amount::MAX_MONEY);
        if total < needed_alone {
            let needed = amount.checked_add(fee_with_change).unwrap_or(Amount::MAX_MONEY);
            return Err(WalletError::InsufficientFunds { available, needed });
        }
        let rest = total.checked_sub(amount).expect("total covers the amount and a fee");
        let change = rest.checked_sub(fee_with_change).ok().filter(|c| *c >= DUST_AMOUNT_MIN);
        // Without change, whatever is left over goes to the miner.
        let fee = change.map_or(rest, |_| fee_with_change);
        Ok(PaymentPlan { inputs: chosen, change, fee })
    }

    /// The wallet's transactions, newest first: pending ones, then confirmed by height.
    pub fn history(&self, mempool: &Mempool) -> Vec<WalletTx> {
        let mut pending: Vec<WalletTx> =
            mempool.iter().filter_map(|entry| self.pending_record(&entry.tx, mempool)).collect();
        pending.reverse();
        let mut confirmed: Vec<WalletTx> = self.history.values().cloned().collect();
        crate::sort::sort_by_key(&mut confirmed, |tx| (core::cmp::Reverse(tx.height), tx.txid));
        pending.extend(confirmed);
        pending
    }

    fn pending_record(&self, tx: &Transaction, mempool: &Mempool) -> Option<WalletTx> {
        let mut sent = Amount::ZERO;
        for input in &tx.inputs {
            let mine =
                self.coins.get(&input.prev_out).map(|c| c.output).or_else(|| mempool.output(&input.prev_out).copied());
            if let Some(output) = mine.filter(|o| o.owner == self.owner) {
                sent = sent.checked_add(output.amount).ok()?;
            }
        }
        let received =
            Amount::checked_sum(tx.outputs.iter().filter(|o| o.owner == self.owner).map(|o| o.amount)).ok()?;
        (sent != Amount::ZERO || received != Amount::ZERO).then(|| WalletTx {
            txid: tx.txid(),
            height: None,
            received,
            sent,
            is_coinbase: false,
        })
    }
}

/// The size of the commonest payment, one coin in and change back: what the fee view prices
/// (`explorer::fees`) when it asks what the pool takes.
pub(crate) const PAYMENT_BYTES: usize = tx_size(1, 2);

/// What a payment spends and gives back, before it is signed.
struct PaymentPlan {
    inputs: Vec<OutPoint>,
    change: Option<Amount>,
    fee: Amount,
}

/// Encoded size of a transaction with `n_inputs` inputs and `n_outputs` outputs.
const fn tx_size(n_inputs: usize, n_outputs: usize) -> usize {
    use crate::encode::compact_size_len;
    4 + compact_size_len(n_inputs as u64)
        + n_inputs * TXIN_BYTES
        + compact_size_len(n_outputs as u64)
        + n_outputs * TXOUT_BYTES
}

#[cfg(test)]
#[path = "wallet_tests.rs"]
mod tests;

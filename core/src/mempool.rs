//! The mempool: valid unconfirmed transactions waiting for a block, ordered by fee rate and
//! capped in size, plus a small pool of orphans whose parents have not arrived yet.
//!
//! Checks run cheapest first: structure, dust, conflicts, inputs, fee and room in the pool all
//! come before any signature is verified, so a transaction that fails a cheap rule costs no
//! signature check. Orphans are held per source (`QuotaMap`): one peer holds at most
//! `ORPHAN_TXS_PER_PEER_MAX` of them, and each waits at most `ORPHAN_TTL_S`.
//!
//! Admission is first-seen: a transaction that spends an output some pooled transaction already
//! spends is refused. When the pool is over `MEMPOOL_BYTES_MAX`, the lowest fee rate goes first,
//! together with its descendants (which could not be mined without it).

use crate::amount::Amount;
use crate::block::Block;
use crate::chain::{Chain, ChainUpdate};
use crate::hash::Txid;
use crate::limits::TX_BYTES_MAX;
use crate::quota::{QuotaMap, Source};
use crate::sighash::{TxDigest, verify_input};
use crate::signature::SignatureError;
use crate::transaction::{OutPoint, Transaction, TxOut};
use crate::validation::{TxError, check_transaction};
use alloc::collections::{BTreeMap, BTreeSet, BinaryHeap};
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::fmt;

/// The most bytes of transactions the pool holds.
pub const MEMPOOL_BYTES_MAX: usize = 8 * 1024 * 1024;
/// The lowest fee rate relayed and mined, in base units per 1000 bytes (one unit per byte).
pub const MIN_RELAY_FEE_RATE: FeeRate = FeeRate(1000);
/// Outputs below this are refused by policy: they would cost more to spend than they hold.
pub const DUST_AMOUNT_MIN: Amount = match Amount::from_units(1000) {
    Ok(amount) => amount,
    Err(_) => panic!("dust limit is a valid amount"),
};
/// The most orphan transactions held.
pub const ORPHAN_TXS_MAX: usize = 100;
/// The most orphan transactions held from any one peer (the user's own are under the global
/// cap only).
pub const ORPHAN_TXS_PER_PEER_MAX: usize = 25;
/// How long an orphan waits for its parent, in seconds.
pub const ORPHAN_TTL_S: u64 = 600;

const _: () = assert!(ORPHAN_TXS_PER_PEER_MAX * 4 <= ORPHAN_TXS_MAX, "four peers cannot fill the orphan pool");

const _: () = assert!(TX_BYTES_MAX < MEMPOOL_BYTES_MAX, "the pool can hold any valid transaction");

/// A fee rate in base units per 1000 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct FeeRate(pub u64);

impl FeeRate {
    /// The rate of paying `fee` for `size_bytes`, rounded down.
    pub fn of(fee: Amount, size_bytes: usize) -> Self {
        Self(fee.to_units().saturating_mul(1000) / size_bytes.max(1) as u64)
    }

    /// The fee this rate asks for `size_bytes`, rounded up.
    pub fn fee_for(self, size_bytes: usize) -> Amount {
        let units = (self.0.saturating_mul(size_bytes as u64)).div_ceil(1000);
        Amount::from_units(units).unwrap_or(Amount::MAX_MONEY)
    }
}

impl fmt::Display for FeeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} units/kB", self.0)
    }
}

/// Why a transaction is not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MempoolError {
    AlreadyKnown,
    /// Coinbases only come in blocks.
    Coinbase,
    TooLarge {
        size_bytes: usize,
    },
    Invalid(TxError),
    /// Spends an output that a pooled transaction already spends (first seen wins).
    Conflict {
        outpoint: OutPoint,
        with: Txid,
    },
    /// An input is neither in the chain's UTXO set nor made by a pooled transaction: held as
    /// an orphan until its parent arrives (or refused if it cannot be held).
    MissingInputs {
        held_as_orphan: bool,
    },
    FeeTooLow {
        fee_rate: FeeRate,
        min: FeeRate,
    },
    Dust {
        vout: usize,
    },
    /// The pool is full of transactions paying a higher rate.
    PoolFull,
}

impl fmt::Display for MempoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyKnown => f.write_str("transaction already known"),
            Self::Coinbase => f.write_str("a coinbase cannot be relayed"),
            Self::TooLarge { size_bytes } => write!(f, "transaction of {size_bytes} bytes, at most {TX_BYTES_MAX}"),
            Self::Invalid(e) => write!(f, "invalid transaction: {e}"),
            Self::Conflict { outpoint, with } => {
                write!(f, "output {}:{} already spent by pooled transaction {with}", outpoint.txid, outpoint.vout)
            }
            Self::MissingInputs { held_as_orphan: true } => {
                f.write_str("unknown inputs: held until its parent arrives")
            }
            Self::MissingInputs { held_as_orphan: false } => f.write_str("unknown inputs"),
            Self::FeeTooLow { fee_rate, min } => write!(f, "fee rate {fee_rate} below the minimum {min}"),
            Self::Dust { vout } => write!(f, "output {vout} is below the dust limit of {DUST_AMOUNT_MIN} TAB"),
            Self::PoolFull => f.write_str("mempool full of transactions paying more"),
        }
    }
}

impl core::error::Error for MempoolError {}

/// A pooled transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MempoolEntry {
    pub tx: Transaction,
    pub fee: Amount,
    pub size_bytes: usize,
    /// Order of arrival.
    seq: u64,
}

impl MempoolEntry {
    pub fn fee_rate(&self) -> FeeRate {
        FeeRate::of(self.fee, self.size_bytes)
    }
}

/// Unconfirmed transactions.
#[derive(Debug, Clone)]
pub struct Mempool {
    max_bytes: usize,
    entries: BTreeMap<Txid, MempoolEntry>,
    /// Which pooled transaction spends each outpoint.
    spends: BTreeMap<OutPoint, Txid>,
    /// Pooled transactions by ascending fee rate (then newest first), for eviction.
    by_fee_rate: BTreeSet<(FeeRate, Reverse<u64>, Txid)>,
    total_bytes: usize,
    /// Transactions waiting for a parent, by the peer that sent them.
    orphans: QuotaMap<Txid, Transaction>,
    next_seq: u64,
    /// Signatures verified so far, so tests can see that a cheap refusal verified none.
    #[cfg(test)]
    signature_checks: core::cell::Cell<usize>,
}

impl Default for Mempool {
    fn default() -> Self {
        Self::with_max_bytes(MEMPOOL_BYTES_MAX)
    }
}

impl Mempool {
    /// An empty pool holding at most `max_bytes` (at least one largest transaction).
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        Self {
            max_bytes: max_bytes.max(TX_BYTES_MAX),
            entries: BTreeMap::new(),
            spends: BTreeMap::new(),
            by_fee_rate: BTreeSet::new(),
            total_bytes: 0,
            orphans: QuotaMap::new(ORPHAN_TXS_MAX, ORPHAN_TXS_PER_PEER_MAX),
            next_seq: 0,
            #[cfg(test)]
            signature_checks: core::cell::Cell::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    pub fn get(&self, txid: &Txid) -> Option<&MempoolEntry> {
        self.entries.get(txid)
    }

    pub fn contains(&self, txid: &Txid) -> bool {
        self.entries.contains_key(txid) || self.orphans.contains_key(txid)
    }

    /// Pooled transactions in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &MempoolEntry> {
        let mut entries: Vec<&MempoolEntry> = self.entries.values().collect();
        crate::sort::sort_by_key(&mut entries, |e| e.seq);
        entries.into_iter()
    }

    /// The pooled transaction spending `outpoint`, if any.
    pub fn spender(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spends.get(outpoint).copied()
    }

    /// An output made by a pooled transaction.
    pub fn output(&self, outpoint: &OutPoint) -> Option<&TxOut> {
        self.entries.get(&outpoint.txid)?.tx.outputs.get(outpoint.vout as usize)
    }

    pub fn n_orphans(&self) -> usize {
        self.orphans.len()
    }

    /// Orphans held from `peer`.
    pub fn n_orphans_from(&self, peer: u64) -> usize {
        self.orphans.count_from(Some(peer))
    }

    /// Admits `tx`, from this node's user, if valid on top of `chain` and the pool, then any
    /// orphans it unblocks. Returns the txids admitted (`tx` first).
    pub fn accept(&mut self, tx: Transaction, chain: &Chain, now: u64) -> Result<Vec<Txid>, MempoolError> {
        self.accept_from(tx, chain, now, None)
    }

    /// `accept` for a transaction from `source` (a peer, or `None` for the user): if it is an
    /// orphan, it counts towards that peer's orphan quota.
    pub fn accept_from(
        &mut self,
        tx: Transaction,
        chain: &Chain,
        now: u64,
        source: Option<u64>,
    ) -> Result<Vec<Txid>, MempoolError> {
        let txid = tx.txid();
        self.admit(tx, txid, chain, now, source)?;
        let mut admitted = alloc::vec![txid];
        let mut i = 0;
        while i < admitted.len() {
            let parent = admitted[i];
            for child in self.orphans.keys_where(|o| spends_from(o, parent)) {
                let source = self.orphans.source_of(&child).expect("listed above");
                let orphan = self.orphans.remove(&child).expect("listed above");
                if self.admit(orphan, child, chain, now, source).is_ok() {
                    admitted.push(child);
                }
            }
            i += 1;
        }
        Ok(admitted)
    }

    fn admit(
        &mut self,
        tx: Transaction,
        txid: Txid,
        chain: &Chain,
        now: u64,
        source: Source,
    ) -> Result<(), MempoolError> {
        if self.entries.contains_key(&txid) {
            return Err(MempoolError::AlreadyKnown);
        }
        let fee = self.check(&tx, chain).map_err(|error| match error {
            MempoolError::MissingInputs { .. } => {
                MempoolError::MissingInputs { held_as_orphan: self.hold_orphan(&tx, txid, now, source) }
            }
            other => other,
        })?;
        self.insert(tx, txid, fee);
        self.trim();
        if self.entries.contains_key(&txid) { Ok(()) } else { Err(MempoolError::PoolFull) }
    }

    /// Every admission rule, cheapest first; returns the fee.
    fn check(&self, tx: &Transaction, chain: &Chain) -> Result<Amount, MempoolError> {
        if tx.is_coinbase() {
            return Err(MempoolError::Coinbase);
        }
        let size_bytes = tx.size_bytes();
        if size_bytes > TX_BYTES_MAX {
            return Err(MempoolError::TooLarge { size_bytes });
        }
        check_transaction(tx).map_err(MempoolError::Invalid)?;
        if let Some(vout) = tx.outputs.iter().position(|o| o.amount < DUST_AMOUNT_MIN) {
            return Err(MempoolError::Dust { vout });
        }
        let next_height = chain.height() + 1;
        let mut inputs = Amount::ZERO;
        let mut spent = Vec::with_capacity(tx.inputs.len());
        for input in &tx.inputs {
            let outpoint = input.prev_out;
            if let Some(&with) = self.spends.get(&outpoint) {
                return Err(MempoolError::Conflict { outpoint, with });
            }
            let output = match (chain.utxos().get(&outpoint), self.output(&outpoint)) {
                (Some(coin), _) => {
                    if !coin.is_mature_at(next_height, chain.params().coinbase_maturity) {
                        let confirmations = next_height - coin.height;
                        return Err(MempoolError::Invalid(TxError::ImmatureCoinbase { outpoint, confirmations }));
                    }
                    coin.output
                }
                (None, Some(output)) => *output,
                (None, None) => return Err(MempoolError::MissingInputs { held_as_orphan: false }),
            };
            inputs = inputs.checked_add(output.amount).map_err(|_| MempoolError::Invalid(TxError::AmountOverflow))?;
            spent.push(output);
        }
        let outputs = Amount::checked_sum(tx.outputs.iter().map(|o| o.amount)).expect("check_transaction: in range");
        let fee = inputs
            .checked_sub(outputs)
            .map_err(|_| MempoolError::Invalid(TxError::OutputsExceedInputs { inputs, outputs }))?;
        let fee_rate = FeeRate::of(fee, size_bytes);
        if fee_rate < MIN_RELAY_FEE_RATE {
            return Err(MempoolError::FeeTooLow { fee_rate, min: MIN_RELAY_FEE_RATE });
        }
        if self.would_be_evicted(fee_rate, size_bytes) {
            return Err(MempoolError::PoolFull);
        }
        self.verify_signatures(tx, &spent, chain)?;
        Ok(fee)
    }

    /// Whether a transaction paying `fee_rate` would be the first evicted to make room for its
    /// own `size_bytes` (ties go to the newest), so admitting it is wasted work.
    fn would_be_evicted(&self, fee_rate: FeeRate, size_bytes: usize) -> bool {
        self.total_bytes + size_bytes > self.max_bytes
            && self.by_fee_rate.first().is_none_or(|&(lowest, _, _)| fee_rate <= lowest)
    }

    /// The expensive rule, run last: each input signed by the owner of the output it spends.
    fn verify_signatures(&self, tx: &Transaction, spent: &[TxOut], chain: &Chain) -> Result<(), MempoolError> {
        let genesis = chain.params().genesis_hash();
        let digest = TxDigest::of(tx);
        for (input_idx, output) in spent.iter().enumerate() {
            #[cfg(test)]
            self.signature_checks.set(self.signature_checks.get() + 1);
            verify_input(tx, &digest, input_idx, &output.owner.0, genesis)
                .map_err(|error: SignatureError| MempoolError::Invalid(TxError::BadSignature { input_idx, error }))?;
        }
        Ok(())
    }

    fn insert(&mut self, tx: Transaction, txid: Txid, fee: Amount) {
        let entry = MempoolEntry { size_bytes: tx.size_bytes(), tx, fee, seq: self.next_seq };
        self.next_seq += 1;
        for input in &entry.tx.inputs {
            self.spends.insert(input.prev_out, txid);
        }
        self.total_bytes += entry.size_bytes;
        self.by_fee_rate.insert((entry.fee_rate(), Reverse(entry.seq), txid));
        self.entries.insert(txid, entry);
    }

    /// Keeps an orphan from `source` for later: a peer at its quota loses its own oldest
    /// orphan, a full pool the oldest of the peer holding the most.
    fn hold_orphan(&mut self, tx: &Transaction, txid: Txid, now: u64, source: Source) -> bool {
        tx.size_bytes() <= TX_BYTES_MAX
            && self.orphans.insert(txid, tx.clone(), source, now.saturating_add(ORPHAN_TTL_S))
    }

    /// Drops orphans that waited `ORPHAN_TTL_S`.
    pub fn expire_orphans(&mut self, now: u64) {
        self.orphans.expire(now);
    }

    /// Evicts the lowest fee rates (with descendants) until the pool fits.
    fn trim(&mut self) {
        while self.total_bytes > self.max_bytes {
            let &(_, _, lowest) = self.by_fee_rate.first().expect("over the cap, so not empty");
            self.remove_with_descendants(lowest);
        }
    }

    /// Removes `txid` and every pooled transaction that spends its outputs, transitively.
    /// Returns what was removed.
    pub fn remove_with_descendants(&mut self, txid: Txid) -> Vec<Transaction> {
        let mut removed = Vec::new();
        let mut pending = alloc::vec![txid];
        while let Some(id) = pending.pop() {
            let Some(entry) = self.entries.remove(&id) else { continue };
            for input in &entry.tx.inputs {
                self.spends.remove(&input.prev_out);
            }
            self.total_bytes -= entry.size_bytes;
            self.by_fee_rate.remove(&(entry.fee_rate(), Reverse(entry.seq), id));
            for vout in 0..entry.tx.outputs.len() as u32 {
                pending.extend(self.spends.get(&OutPoint { txid: id, vout }).copied());
            }
            removed.push(entry.tx);
        }
        removed
    }

    /// Brings the pool in line with the chain after `update`: confirmed transactions leave,
    /// and so do those that conflict with a block; after a reorg, the disconnected blocks'
    /// transactions come back and every pooled transaction is checked again against the new
    /// chain. `disconnected_blocks` are the blocks of `update.disconnected`, in that order.
    pub fn apply_chain_update(&mut self, chain: &Chain, update: &ChainUpdate, disconnected_blocks: &[Block], now: u64) {
        if update.disconnected.is_empty() {
            for hash in &update.connected {
                let block = &chain.entry(hash).expect("connected blocks are stored").block;
                self.remove_confirmed(block);
            }
            return;
        }
        // Oldest disconnected block first, parents before children within each block, then the
        // pool in arrival order: every transaction is re-admitted against the new chain.
        let mut txs: Vec<Transaction> =
            disconnected_blocks.iter().rev().flat_map(|b| b.txs.iter().skip(1).cloned()).collect();
        txs.extend(self.iter().map(|e| e.tx.clone()));
        self.entries.clear();
        self.spends.clear();
        self.by_fee_rate.clear();
        self.total_bytes = 0;
        for tx in txs {
            let txid = tx.txid();
            if let (Ok(fee), false) = (self.check(&tx, chain), self.entries.contains_key(&txid)) {
                self.insert(tx, txid, fee);
            }
        }
        self.trim();
        self.expire_orphans(now);
    }

    fn remove_confirmed(&mut self, block: &Block) {
        for tx in block.txs.iter().skip(1) {
            let txid = tx.txid();
            if let Some(entry) = self.entries.remove(&txid) {
                // Confirmed: its children stay, now spending a confirmed output.
                for input in &entry.tx.inputs {
                    self.spends.remove(&input.prev_out);
                }
                self.total_bytes -= entry.size_bytes;
                self.by_fee_rate.remove(&(entry.fee_rate(), Reverse(entry.seq), txid));
            }
            for input in &tx.inputs {
                if let Some(conflict) = self.spends.get(&input.prev_out).copied() {
                    self.remove_with_descendants(conflict);
                }
            }
            self.orphans.remove(&txid);
        }
    }

    /// The transactions for a new block of at most `max_bytes` of transactions: highest fee
    /// rate first, each only after its pooled parents. Returns them with their total fee.
    pub fn select_for_block(&self, max_bytes: usize) -> (Vec<Transaction>, Amount) {
        let chosen = self.block_order(max_bytes);
        let fees = Amount::checked_sum(chosen.iter().map(|e| e.fee)).expect("pooled fees are within the money supply");
        (chosen.into_iter().map(|e| e.tx.clone()).collect(), fees)
    }

    /// The pooled entries that fill at most `max_bytes`, in the order a block takes them:
    /// highest fee rate first (the earliest among equals), each only after its pooled parents.
    /// The one rule behind both the block template and the fee view's projected blocks.
    pub fn block_order(&self, max_bytes: usize) -> Vec<&MempoolEntry> {
        let mut waiting_on: BTreeMap<Txid, usize> = BTreeMap::new();
        let mut ready = BinaryHeap::new();
        for (txid, entry) in &self.entries {
            let parents = entry.tx.inputs.iter().filter(|i| self.entries.contains_key(&i.prev_out.txid)).count();
            if parents == 0 {
                ready.push((entry.fee_rate(), Reverse(entry.seq), *txid));
            } else {
                waiting_on.insert(*txid, parents);
            }
        }
        let (mut chosen, mut bytes) = (Vec::new(), 0);
        while let Some((_, _, txid)) = ready.pop() {
            let entry = &self.entries[&txid];
            if bytes + entry.size_bytes > max_bytes {
                continue; // Its descendants stay waiting: they cannot come without it.
            }
            bytes += entry.size_bytes;
            chosen.push(entry);
            for vout in 0..entry.tx.outputs.len() as u32 {
                let Some(child) = self.spends.get(&OutPoint { txid, vout }) else { continue };
                let count = waiting_on.get_mut(child).expect("a pooled child waits on its parents");
                *count -= 1;
                if *count == 0 {
                    let child_entry = &self.entries[child];
                    ready.push((child_entry.fee_rate(), Reverse(child_entry.seq), *child));
                }
            }
        }
        chosen
    }

    /// The lowest fee rate at which a new transaction of `size_bytes` enters the pool: the
    /// relay minimum, or, when it would push the pool over its cap, one unit above the lowest
    /// rate pooled (a transaction at or below it would be the one evicted).
    pub fn entry_fee_rate(&self, size_bytes: usize) -> FeeRate {
        match self.by_fee_rate.first() {
            Some(&(lowest, _, _)) if self.total_bytes + size_bytes > self.max_bytes => {
                FeeRate(lowest.0.saturating_add(1)).max(MIN_RELAY_FEE_RATE)
            }
            _ => MIN_RELAY_FEE_RATE,
        }
    }
}

fn spends_from(tx: &Transaction, parent: Txid) -> bool {
    tx.inputs.iter().any(|i| i.prev_out.txid == parent)
}

#[cfg(test)]
#[path = "mempool_tests.rs"]
mod tests;

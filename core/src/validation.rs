//! Block and transaction validity: the checks that need no chain (`check_block`), and
//! connecting a block to the UTXO set (`connect_block`: coinbase height, UTXO commitment,
//! spends, fees) or disconnecting it (`disconnect_block`).
//!
//! Every rule returns a typed error. Connecting is all-or-nothing: the block is validated against
//! a view of the set and the set changes only if every rule passes.

use crate::amount::Amount;
use crate::block::Block;
use crate::commitment::{UTXO_COMMITMENT_FROM_HEIGHT, coinbase_commitment};
use crate::encode::DecodeError;
use crate::hash::{BlockHash, Txid, UtxoCommitment};
use crate::limits::BLOCK_BYTES_MAX;
use crate::merkle::MerkleError;
use crate::params::Params;
use crate::pow::{PowError, check_proof_of_work};
use crate::sighash::{TxDigest, verify_input};
use crate::signature::SignatureError;
use crate::target::CompactTarget;
use crate::transaction::{OutPoint, Transaction};
use crate::utxo::{BlockUndo, Coin, UtxoSet, apply_connect, apply_disconnect};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use core::fmt;

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockError {
    /// The bytes are not a block.
    Decode(DecodeError),
    /// The parent is not a block this node has; the block is not stored.
    UnknownParent {
        parent: BlockHash,
    },
    /// The parent (or an ancestor) is invalid.
    InvalidParent {
        parent: BlockHash,
    },
    /// This very block was found invalid before.
    KnownInvalid {
        hash: BlockHash,
    },
    Pow(PowError),
    /// `bits` differs from what the difficulty rule requires after the parent.
    WrongBits {
        expected: CompactTarget,
        found: CompactTarget,
    },
    /// Time not above the parent's median-time-past.
    TimeTooOld {
        time: u32,
        median_time_past: u32,
    },
    /// Time too far past the validating node's clock. Not a property of the block: the same
    /// block is accepted once the clock catches up, so it is never remembered as invalid.
    TimeTooNew {
        time: u32,
        latest_allowed: u64,
    },
    TooLarge {
        size_bytes: usize,
    },
    /// The first transaction is not a coinbase.
    FirstNotCoinbase,
    /// A transaction after the first is a coinbase.
    ExtraCoinbase {
        tx_idx: usize,
    },
    /// The coinbase commits to another height.
    CoinbaseHeight {
        expected: u32,
        found: u32,
    },
    /// The coinbase commits to another UTXO set than the one the parent left (see `commitment`).
    UtxoCommitment {
        expected: UtxoCommitment,
        found: UtxoCommitment,
    },
    /// The coinbase pays more than subsidy plus fees.
    CoinbaseTooLarge {
        paid: Amount,
        allowed: Amount,
    },
    /// The header's merkle root is not the root of the transactions.
    MerkleMismatch,
    /// The transactions repeat in a way that hides behind the same root (CVE-2012-2459).
    MerkleMutated,
    DuplicateTxid {
        txid: Txid,
    },
    /// Two transactions of the block spend the same output.
    DoubleSpendInBlock {
        outpoint: OutPoint,
    },
    /// A transaction of the block is invalid.
    Tx {
        tx_idx: usize,
        error: TxError,
    },
    /// Not a rule of the chain but of what a node keeps: a block on a branch with less work
    /// than the active tip, deeper than `SIDE_BLOCK_DEPTH_MAX` below it, that the node did not
    /// ask for.
    LowWorkSideBlock {
        height: u32,
        tip_height: u32,
    },
    /// Likewise: a header whose branch has less work than the tip by more than the margin
    /// (`HEADER_WORK_MARGIN_BLOCKS`), so it cannot catch up.
    LowWorkHeader {
        height: u32,
    },
    /// Likewise: the header tree holds `SIDE_HEADERS_MAX` headers off the best header chain.
    HeaderTreeFull,
    /// Likewise, for now: the header is more than `HEADERS_AHEAD_MAX` above the active tip;
    /// it is asked for again once blocks catch up.
    HeaderTooFarAhead {
        height: u32,
        tip_height: u32,
    },
}

/// Why a transaction is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxError {
    /// An input spends an output that does not exist or is already spent.
    MissingInput {
        outpoint: OutPoint,
    },
    /// The same output is spent twice by this transaction.
    DuplicateInput {
        outpoint: OutPoint,
    },
    /// An input uses the coinbase marker outside a coinbase.
    CoinbaseMarkerInput {
        input_idx: usize,
    },
    /// A coinbase output spent before `coinbase_maturity` blocks.
    ImmatureCoinbase {
        outpoint: OutPoint,
        confirmations: u32,
    },
    BadSignature {
        input_idx: usize,
        error: SignatureError,
    },
    /// Outputs sum to more than inputs.
    OutputsExceedInputs {
        inputs: Amount,
        outputs: Amount,
    },
    /// A sum passes `MAX_MONEY`.
    AmountOverflow,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "undecodable block: {e}"),
            Self::UnknownParent { parent } => write!(f, "unknown parent {parent}"),
            Self::InvalidParent { parent } => write!(f, "parent {parent} is invalid"),
            Self::KnownInvalid { hash } => write!(f, "block {hash} was found invalid before"),
            Self::Pow(e) => write!(f, "proof of work: {e}"),
            Self::WrongBits { expected, found } => write!(f, "bits {found}, expected {expected}"),
            Self::TimeTooOld { time, median_time_past } => {
                write!(f, "time {time} not after median-time-past {median_time_past}")
            }
            Self::TimeTooNew { time, latest_allowed } => {
                write!(f, "time {time} too far in the future (latest allowed {latest_allowed})")
            }
            Self::TooLarge { size_bytes } => write!(f, "block of {size_bytes} bytes, at most {BLOCK_BYTES_MAX}"),
            Self::FirstNotCoinbase => f.write_str("first transaction is not a coinbase"),
            Self::ExtraCoinbase { tx_idx } => write!(f, "transaction {tx_idx} is a second coinbase"),
            Self::CoinbaseHeight { expected, found } => {
                write!(f, "coinbase commits to height {found}, expected {expected}")
            }
            Self::UtxoCommitment { expected, found } => {
                write!(f, "coinbase commits to UTXO set {found}, but the parent left {expected}")
            }
            Self::CoinbaseTooLarge { paid, allowed } => {
                write!(f, "coinbase pays {paid} TAB, at most {allowed} TAB allowed")
            }
            Self::MerkleMismatch => f.write_str("merkle root does not match the transactions"),
            Self::MerkleMutated => f.write_str("mutated transaction list (CVE-2012-2459)"),
            Self::DuplicateTxid { txid } => write!(f, "duplicate transaction {txid}"),
            Self::DoubleSpendInBlock { outpoint } => {
                write!(f, "output {}:{} spent twice in the block", outpoint.txid, outpoint.vout)
            }
            Self::Tx { tx_idx, error } => write!(f, "transaction {tx_idx}: {error}"),
            Self::LowWorkSideBlock { height, tip_height } => {
                write!(f, "a side block at height {height} with less work than the tip at {tip_height}: not kept")
            }
            Self::LowWorkHeader { height } => {
                write!(f, "a header at height {height} on a branch too far behind the tip to catch up: not kept")
            }
            Self::HeaderTreeFull => f.write_str("too many headers off the best chain: not kept"),
            Self::HeaderTooFarAhead { height, tip_height } => {
                write!(f, "a header at height {height}, too far above the tip at {tip_height}: not kept yet")
            }
        }
    }
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingInput { outpoint } => {
                write!(f, "input {}:{} does not exist or is spent", outpoint.txid, outpoint.vout)
            }
            Self::DuplicateInput { outpoint } => {
                write!(f, "input {}:{} spent twice", outpoint.txid, outpoint.vout)
            }
            Self::CoinbaseMarkerInput { input_idx } => write!(f, "input {input_idx} uses the coinbase marker"),
            Self::ImmatureCoinbase { outpoint, confirmations } => write!(
                f,
                "input {}:{} spends a coinbase with {confirmations} confirmations",
                outpoint.txid, outpoint.vout
            ),
            Self::BadSignature { input_idx, error } => write!(f, "input {input_idx}: {error}"),
            Self::OutputsExceedInputs { inputs, outputs } => {
                write!(f, "outputs {outputs} TAB exceed inputs {inputs} TAB")
            }
            Self::AmountOverflow => f.write_str("amounts sum past the money supply"),
        }
    }
}

impl core::error::Error for BlockError {}
impl core::error::Error for TxError {}

impl BlockError {
    /// Whether the same block hash could still turn out valid: the error concerns this copy
    /// of the block (mutated transactions, bad encoding) or the node's clock, not the header.
    /// Such blocks are never remembered as invalid.
    pub fn may_be_valid_later(&self) -> bool {
        matches!(
            self,
            Self::Decode(_)
                | Self::TooLarge { .. }
                | Self::MerkleMismatch
                | Self::MerkleMutated
                | Self::TimeTooNew { .. }
                | Self::UnknownParent { .. }
                | Self::LowWorkSideBlock { .. }
                | Self::LowWorkHeader { .. }
                | Self::HeaderTreeFull
                | Self::HeaderTooFarAhead { .. }
        )
    }
}

/// Checks that need only the transaction: no duplicate inputs, no coinbase marker outside a
/// coinbase, output sum in range.
pub fn check_transaction(tx: &Transaction) -> Result<(), TxError> {
    let mut seen = BTreeSet::new();
    for (input_idx, input) in tx.inputs.iter().enumerate() {
        if input.prev_out.is_coinbase_marker() && !tx.is_coinbase() {
            return Err(TxError::CoinbaseMarkerInput { input_idx });
        }
        if !seen.insert(input.prev_out) {
            return Err(TxError::DuplicateInput { outpoint: input.prev_out });
        }
    }
    Amount::checked_sum(tx.outputs.iter().map(|o| o.amount)).map_err(|_| TxError::AmountOverflow)?;
    Ok(())
}

/// Checks that need only the block and the network: proof of work, merkle root, size,
/// coinbase placement, unique txids, each transaction's own checks.
pub fn check_block(block: &Block, params: &Params) -> Result<(), BlockError> {
    check_proof_of_work(&block.header, params.pow_limit).map_err(BlockError::Pow)?;
    // First whether the body is the one the header commits to: if not, the errors below would
    // describe a corrupted copy, not the block.
    let txids = block.txids();
    match crate::merkle::merkle_root(&txids) {
        Ok(root) if root == block.header.merkle_root => {}
        Ok(_) | Err(MerkleError::Empty) => return Err(BlockError::MerkleMismatch),
        Err(MerkleError::Mutated) => return Err(BlockError::MerkleMutated),
    }
    let size_bytes = block.size_bytes();
    if size_bytes > BLOCK_BYTES_MAX {
        return Err(BlockError::TooLarge { size_bytes });
    }
    if !block.txs.first().is_some_and(Transaction::is_coinbase) {
        return Err(BlockError::FirstNotCoinbase);
    }
    if let Some(tx_idx) = block.txs.iter().skip(1).position(Transaction::is_coinbase) {
        return Err(BlockError::ExtraCoinbase { tx_idx: tx_idx + 1 });
    }
    let mut unique = BTreeSet::new();
    if let Some(&txid) = txids.iter().find(|&&txid| !unique.insert(txid)) {
        return Err(BlockError::DuplicateTxid { txid });
    }
    for (tx_idx, tx) in block.txs.iter().enumerate() {
        check_transaction(tx).map_err(|error| BlockError::Tx { tx_idx, error })?;
    }
    Ok(())
}

/// Validates `block` at `height` against `utxos` and applies it, returning the undo data. On
/// any error `utxos` is unchanged. Assumes `check_block` passed.
pub fn connect_block(
    block: &Block,
    height: u32,
    utxos: &mut UtxoSet,
    params: &Params,
) -> Result<BlockUndo, BlockError> {
    let coinbase_height = block.txs[0].coinbase_height().expect("check_block: first is a coinbase");
    if coinbase_height != height {
        return Err(BlockError::CoinbaseHeight { expected: height, found: coinbase_height });
    }
    if height >= UTXO_COMMITMENT_FROM_HEIGHT {
        let expected = utxos.commitment();
        let found = coinbase_commitment(&block.txs[0]).expect("check_block: first is a coinbase");
        if found != expected {
            return Err(BlockError::UtxoCommitment { expected, found });
        }
    }
    let genesis = params.genesis_hash();
    let mut view =
        View { base: &*utxos, created: BTreeMap::new(), spent: BTreeMap::new(), spent_created: BTreeSet::new() };
    let mut fees = Amount::ZERO;
    for (tx_idx, tx) in block.txs.iter().enumerate().skip(1) {
        let fee = view.spend_inputs(tx, tx_idx, height, params, genesis)?;
        fees = fees.checked_add(fee).map_err(|_| BlockError::Tx { tx_idx, error: TxError::AmountOverflow })?;
        view.create_outputs(tx, height);
    }
    let allowed = params.subsidy(height).checked_add(fees).expect("subsidy + fees <= MAX_MONEY");
    let paid = Amount::checked_sum(block.txs[0].outputs.iter().map(|o| o.amount)).expect("check_transaction: in range");
    if paid > allowed {
        return Err(BlockError::CoinbaseTooLarge { paid, allowed });
    }
    let undo = view.undo();
    let Ok(()) = apply_connect(block, height, &undo, utxos);
    Ok(undo)
}

/// Reverses `connect_block`: removes the block's outputs and restores the coins it spent.
pub fn disconnect_block(block: &Block, undo: &BlockUndo, utxos: &mut UtxoSet) {
    let Ok(()) = apply_disconnect(block, undo, utxos);
}

/// A block's spending on top of the UTXO set, which changes only once the whole block is valid.
struct View<'a> {
    base: &'a UtxoSet,
    /// Outputs created by earlier transactions of this block and not yet spent.
    created: BTreeMap<OutPoint, Coin>,
    /// Coins of the base set spent by this block, in order of spending.
    spent: BTreeMap<OutPoint, (usize, Coin)>,
    /// Outputs created and then spent within this block.
    spent_created: BTreeSet<OutPoint>,
}

impl View<'_> {
    /// Spends every input of `tx`, checking existence, maturity and signatures; returns the fee.
    fn spend_inputs(
        &mut self,
        tx: &Transaction,
        tx_idx: usize,
        height: u32,
        params: &Params,
        genesis: BlockHash,
    ) -> Result<Amount, BlockError> {
        let tx_error = |error| BlockError::Tx { tx_idx, error };
        let digest = TxDigest::of(tx);
        let mut inputs = Amount::ZERO;
        for (input_idx, input) in tx.inputs.iter().enumerate() {
            let outpoint = input.prev_out;
            let coin = self.take(&outpoint)?.ok_or(tx_error(TxError::MissingInput { outpoint }))?;
            if !coin.is_mature_at(height, params.coinbase_maturity) {
                let confirmations = height - coin.height;
                return Err(tx_error(TxError::ImmatureCoinbase { outpoint, confirmations }));
            }
            verify_input(tx, &digest, input_idx, &coin.output.owner.0, genesis)
                .map_err(|error| tx_error(TxError::BadSignature { input_idx, error }))?;
            inputs = inputs.checked_add(coin.output.amount).map_err(|_| tx_error(TxError::AmountOverflow))?;
        }
        let outputs =
            Amount::checked_sum(tx.outputs.iter().map(|o| o.amount)).map_err(|_| tx_error(TxError::AmountOverflow))?;
        inputs.checked_sub(outputs).map_err(|_| tx_error(TxError::OutputsExceedInputs { inputs, outputs }))
    }

    /// Takes a coin from this block's outputs or the base set; `Err` if this block already
    /// spent it, `Ok(None)` if it never existed.
    fn take(&mut self, outpoint: &OutPoint) -> Result<Option<Coin>, BlockError> {
        if let Some(coin) = self.created.remove(outpoint) {
            self.spent_created.insert(*outpoint);
            return Ok(Some(coin));
        }
        if self.spent.contains_key(outpoint) || self.spent_created.contains(outpoint) {
            return Err(BlockError::DoubleSpendInBlock { outpoint: *outpoint });
        }
        let Some(&coin) = self.base.get(outpoint) else { return Ok(None) };
        self.spent.insert(*outpoint, (self.spent.len(), coin));
        Ok(Some(coin))
    }

    fn create_outputs(&mut self, tx: &Transaction, height: u32) {
        let txid = tx.txid();
        for (vout, output) in tx.outputs.iter().enumerate() {
            let coin = Coin { output: *output, height, is_coinbase: tx.is_coinbase() };
            self.created.insert(OutPoint { txid, vout: vout as u32 }, coin);
        }
    }

    /// The coins of the base set this block spent, in the order it spent them: `take` numbers
    /// them 0, 1, … as it spends them, so each goes straight to its place, with no sort.
    fn undo(self) -> BlockUndo {
        let mut spent = vec![None; self.spent.len()];
        for (outpoint, (order, coin)) in self.spent {
            spent[order] = Some((outpoint, coin));
        }
        BlockUndo { spent: spent.into_iter().map(|place| place.expect("take numbers the spent coins 0..n")).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::hash::Txid;
    use crate::signature::PublicKey;
    use crate::transaction::TxOut;
    use alloc::vec::Vec;

    #[test]
    fn undo_lists_the_spent_coins_in_spending_order_not_outpoint_order() {
        let outpoint = |n: u8| OutPoint { txid: Txid::from_byte_array([n; 32]), vout: 0 };
        let coin = |n: u8| Coin {
            output: TxOut { amount: Amount::from_units(u64::from(n)).expect("small"), owner: PublicKey([n; 32]) },
            height: 1,
            is_coinbase: false,
        };
        let base: UtxoSet = [1, 2, 3].into_iter().map(|n| (outpoint(n), coin(n))).collect();
        let mut view =
            View { base: &base, created: BTreeMap::new(), spent: BTreeMap::new(), spent_created: BTreeSet::new() };
        for n in [3, 1, 2] {
            assert_eq!(view.take(&outpoint(n)), Ok(Some(coin(n))));
        }
        assert_eq!(view.take(&outpoint(1)), Err(BlockError::DoubleSpendInBlock { outpoint: outpoint(1) }));
        let spent: Vec<(OutPoint, Coin)> = [3, 1, 2].into_iter().map(|n| (outpoint(n), coin(n))).collect();
        assert_eq!(view.undo().spent, spent);
    }
}

//! The node's checkpoint: what a pruned shell stores instead of every change set it was handed.
//! It is the chain's records (`Chain::checkpoint_records`: the active headers, the kept blocks
//! with their undo data, the coins and the tip) followed by the wallet's records: its confirmed
//! history below the kept window, which no block in memory can tell again, tagged with the
//! wallet's public key. `NodeResume` reads a checkpoint back, then the change sets stored after
//! it, into a node (`finish`), without validating again what the node validated before storing.

use super::{Node, Output};
use crate::chain::{
    CHECKPOINT_RECORD_BYTES_MAX, CHECKPOINT_VERSION, ChainResume, CheckpointCursor, CheckpointMoved, ResumeError,
};
use crate::encode::{Decode, DecodeError, Encode, Reader, decode, write_compact_size};
use crate::params::Params;
use crate::signature::{PublicKey, SecretKey};
use crate::wallet::{WALLET_TX_BYTES, Wallet, WalletTx};
use alloc::vec::Vec;
use core::cmp::Reverse;

/// First byte of a wallet record. A chain record starts with its format version
/// (`CHECKPOINT_VERSION`), so a wallet record is told apart by a first byte no chain version
/// takes.
pub const WALLET_RECORD_TAG: u8 = 0xf0;
/// Version of the wallet record format.
pub const WALLET_RECORD_VERSION: u8 = 1;
/// Confirmed history entries below the kept window a checkpoint stores, the newest first
/// (about 5 MB at `WALLET_TX_BYTES` each): the wallet's history is the user's, so the cap is far
/// above what a person's wallet holds, and is there only so that nothing grows without bound.
pub const WALLET_HISTORY_STORED_MAX: usize = 100_000;
/// History entries in one wallet record, so that it is about as large as a chain record.
const WALLET_TXS_PER_RECORD: usize = CHECKPOINT_RECORD_BYTES_MAX / WALLET_TX_BYTES;

const _: () = assert!(WALLET_RECORD_TAG > CHECKPOINT_VERSION, "wallet records must not look like chain records");

/// One wallet record, decoded: part of the confirmed history of the wallet of `owner`.
#[derive(Debug)]
struct WalletRecord {
    owner: PublicKey,
    txs: Vec<WalletTx>,
}

impl Decode for WalletRecord {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.u8()? != WALLET_RECORD_TAG {
            return Err(DecodeError::Invalid { what: "wallet record tag" });
        }
        if r.u8()? != WALLET_RECORD_VERSION {
            return Err(DecodeError::Invalid { what: "wallet record version" });
        }
        let owner = PublicKey(r.array()?);
        Ok(Self { owner, txs: r.list("wallet history", WALLET_TXS_PER_RECORD, WALLET_TX_BYTES)? })
    }
}

/// The wallet's confirmed history below `kept_from` as records, the newest first, at most
/// `WALLET_HISTORY_STORED_MAX` entries.
fn wallet_records(wallet: &Wallet, kept_from: u32) -> Vec<Vec<u8>> {
    let mut txs: Vec<&WalletTx> = wallet.confirmed_below(kept_from).collect();
    crate::sort::sort_by_key(&mut txs, |tx| (Reverse(tx.height), tx.txid));
    txs.truncate(WALLET_HISTORY_STORED_MAX);
    let owner = wallet.owner();
    txs.chunks(WALLET_TXS_PER_RECORD)
        .map(|chunk| {
            let mut record = Vec::with_capacity(2 + 32 + 5 + chunk.len() * WALLET_TX_BYTES);
            record.push(WALLET_RECORD_TAG);
            record.push(WALLET_RECORD_VERSION);
            owner.0.encode_to(&mut record);
            write_compact_size(&mut record, chunk.len() as u64);
            for tx in chunk {
                tx.encode_to(&mut record);
            }
            record
        })
        .collect()
}

/// Where a node's checkpoint being taken has got to: the chain's records, then the wallet's.
#[derive(Debug, Clone)]
pub struct NodeCheckpoint {
    chain: CheckpointCursor,
    /// The wallet's records, the last first, once the chain's are all out.
    wallet: Option<Vec<Vec<u8>>>,
}

impl Node {
    /// A cursor for a checkpoint of the node as it stands, its records handed out one at a time
    /// by `next_checkpoint_record`. `None` while a change set is still to be emitted or polled: a
    /// checkpoint covers exactly the sets handed out so far, so that a shell which replaces its
    /// journal with it never replays a set the checkpoint already holds, nor loses one it does not.
    pub fn checkpoint(&self) -> Option<NodeCheckpoint> {
        if !self.unpersisted.is_empty() || self.outputs.iter().any(|o| matches!(o, Output::Persist(_))) {
            return None;
        }
        Some(NodeCheckpoint { chain: self.chain.checkpoint_cursor(), wallet: None })
    }

    /// Whether the chain moved since `cursor` began (`Chain::checkpoint_moved`): the checkpoint
    /// is to be taken again, not a failure of the store.
    pub fn checkpoint_moved(&self, cursor: &NodeCheckpoint) -> bool {
        self.chain.checkpoint_moved(&cursor.chain)
    }

    /// The next record of the checkpoint `cursor` is taking, in the order
    /// `NodeResume::push_record` takes them: the chain's, then the wallet's; `None` after the
    /// last. Fails if the chain moved since the checkpoint began.
    pub fn next_checkpoint_record(&self, cursor: &mut NodeCheckpoint) -> Result<Option<Vec<u8>>, CheckpointMoved> {
        if cursor.wallet.is_none() {
            if let Some(record) = self.chain.next_checkpoint_record(&mut cursor.chain)? {
                return Ok(Some(record));
            }
            let mut records = match &self.wallet {
                Some(wallet) => wallet_records(wallet, self.chain.kept_from_height()),
                None => Vec::new(),
            };
            records.reverse();
            cursor.wallet = Some(records);
        }
        Ok(cursor.wallet.as_mut().and_then(Vec::pop))
    }

    /// The whole checkpoint at once (see `checkpoint`).
    pub fn checkpoint_records(&self) -> Option<Vec<Vec<u8>>> {
        let mut cursor = self.checkpoint()?;
        let mut records = Vec::new();
        while let Some(record) = self.next_checkpoint_record(&mut cursor).expect("the node does not move meanwhile") {
            records.push(record);
        }
        Some(records)
    }
}

/// A node being resumed from a checkpoint (`Node::checkpoint_records`) and the change sets
/// stored after it: push the records, apply the sets, then `finish`.
#[derive(Debug)]
pub struct NodeResume {
    chain: ChainResume,
    /// Stored wallet history, of whichever key it was stored for.
    wallet_records: Vec<WalletRecord>,
    n_wallet_txs: usize,
}

impl NodeResume {
    /// Starts from the genesis block of `params`; with no record pushed, the change sets applied
    /// are the whole journal from genesis.
    pub fn new(params: Params) -> Self {
        Self { chain: ChainResume::new(params), wallet_records: Vec::new(), n_wallet_txs: 0 }
    }

    /// Applies one checkpoint record, the chain's or the wallet's.
    pub fn push_record(&mut self, bytes: &[u8]) -> Result<(), ResumeError> {
        if bytes.first() != Some(&WALLET_RECORD_TAG) {
            return self.chain.push_record(bytes);
        }
        let mut record: WalletRecord =
            decode(bytes).map_err(|error| ResumeError::Corrupt { what: "wallet record", error })?;
        record.txs.truncate(WALLET_HISTORY_STORED_MAX.saturating_sub(self.n_wallet_txs));
        self.n_wallet_txs += record.txs.len();
        self.wallet_records.push(record);
        Ok(())
    }

    /// Replays one change set stored after the checkpoint (`ChainResume::apply_change_set`).
    pub fn apply_change_set(&mut self, bytes: &[u8]) -> Result<(), ResumeError> {
        self.chain.apply_change_set(bytes)
    }

    /// The resumed node, with the wallet of `key` when given: its history below the kept window
    /// is the stored one if it was stored for the same key (another key's is ignored, and that
    /// wallet's older history is then unknown), the rest is read from the chain.
    pub fn finish(self, user_agent: &str, key: Option<SecretKey>) -> Result<Node, ResumeError> {
        let mut node = Node::resume(user_agent, self.chain.finish()?);
        if let Some(key) = key {
            let owner = key.public_key();
            let stored = self.wallet_records.into_iter().filter(|r| r.owner == owner).flat_map(|r| r.txs);
            node.wallet = Some(Wallet::resume(key, &node.chain, stored));
        }
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::chain::ACTIVE_BLOCKS_KEPT;
    use crate::encode::encode;
    use crate::mempool::FeeRate;
    use crate::testkit::{Builder, NOW, miner};

    /// A regtest node whose wallet (the miner's key) mined a chain past the kept window and paid
    /// another key in a block that is below the window by the end.
    fn pruned_node() -> (Node, Vec<Vec<u8>>) {
        let mut b = Builder::new();
        b.extend(b.chain.params().coinbase_maturity as usize + 2);
        let mut node = Node::resume("test", b.chain.clone());
        node.set_wallet(miner());
        let other = SecretKey::from_bytes(&[2; 32]).public_key();
        let wallet = node.wallet().expect("set");
        let payment =
            wallet.build_payment(node.chain(), node.mempool(), other, Amount::ONE_TAB, FeeRate(2000)).expect("funded");
        node.submit_transaction(payment, NOW).expect("valid");
        let mut sets = Vec::new();
        for _ in 0..ACTIVE_BLOCKS_KEPT + 30 {
            // Blocks ten seconds apart, as the testkit's are.
            let now = u64::from(node.chain().tip().header().time) + 10;
            let block = crate::testkit::mine(node.block_template(miner().public_key(), 0, now));
            node.submit_block(block, now).expect("valid");
            while let Some(output) = node.poll_output() {
                if let Output::Persist(set) = output {
                    sets.push(encode(&set));
                }
            }
        }
        assert!(node.chain().kept_from_height() > 20, "the payment's block is below the window");
        (node, sets)
    }

    fn history(node: &Node) -> Vec<WalletTx> {
        node.wallet().expect("a wallet").history(node.mempool())
    }

    fn resume(records: &[Vec<u8>], sets: &[Vec<u8>], key: SecretKey) -> Result<Node, ResumeError> {
        let mut resume = NodeResume::new(Params::regtest());
        records.iter().try_for_each(|r| resume.push_record(r))?;
        sets.iter().try_for_each(|s| resume.apply_change_set(s))?;
        resume.finish("resumed", Some(key))
    }

    #[test]
    fn the_wallet_history_below_the_kept_window_survives_a_checkpoint() {
        let (node, _) = pruned_node();
        let records = node.checkpoint_records().expect("every set was polled");
        assert!(records.iter().any(|r| r[0] == WALLET_RECORD_TAG), "the wallet's old history is stored");
        let resumed = resume(&records, &[], miner()).expect("resumes");
        assert_eq!(resumed.chain().tip_hash(), node.chain().tip_hash());
        assert_eq!(resumed.chain().utxos(), node.chain().utxos());
        let full = history(&node);
        assert_eq!(full.len() as u32, node.chain().height() + 1, "a coinbase per block, and the payment");
        assert!(full.iter().any(|tx| tx.sent != Amount::ZERO && tx.height < Some(20)), "the payment, below the window");
        assert_eq!(history(&resumed), full);

        // Without the wallet's records only the kept window's history is known.
        let chain_only: Vec<Vec<u8>> = records.iter().filter(|r| r[0] != WALLET_RECORD_TAG).cloned().collect();
        let forgetful = resume(&chain_only, &[], miner()).expect("resumes");
        let window = node.chain().height() + 1 - node.chain().kept_from_height();
        assert_eq!(history(&forgetful).len() as u32, window, "a coinbase per block in memory");
    }

    #[test]
    fn another_keys_stored_history_is_ignored() {
        let (node, _) = pruned_node();
        let records = node.checkpoint_records().expect("every set was polled");
        let stranger = SecretKey::from_bytes(&[3; 32]);
        let owner = stranger.public_key();
        let resumed = resume(&records, &[], stranger).expect("resumes");
        assert_eq!(resumed.wallet().expect("a wallet").owner(), owner);
        assert!(history(&resumed).is_empty(), "the miner's history is not the stranger's");
    }

    #[test]
    fn a_checkpoint_waits_for_change_sets_to_be_polled_and_sets_after_it_replay() {
        let (mut node, _) = pruned_node();
        let checkpoint = node.checkpoint_records().expect("every set was polled");
        let now = u64::from(node.chain().tip().header().time) + 10;
        let block = crate::testkit::mine(node.block_template(miner().public_key(), 1, now));
        node.submit_block(block, now).expect("valid");
        assert_eq!(node.checkpoint_records(), None, "a change set waits to be polled");
        let mut sets = Vec::new();
        while let Some(output) = node.poll_output() {
            if let Output::Persist(set) = output {
                sets.push(encode(&set));
            }
        }
        let resumed = resume(&checkpoint, &sets, miner()).expect("resumes");
        assert_eq!(resumed.chain().tip_hash(), node.chain().tip_hash());
        assert_eq!(history(&resumed), history(&node));
        // Replaying a set the checkpoint holds is refused, naming the step.
        let latest = node.checkpoint_records().expect("polled");
        let error = resume(&latest, &sets, miner()).expect_err("a set replayed twice");
        assert!(matches!(error, ResumeError::StepOutOfPlace { .. }), "{error}");
    }

    #[test]
    fn a_damaged_wallet_record_is_refused() {
        let (node, _) = pruned_node();
        let mut records = node.checkpoint_records().expect("every set was polled");
        let wallet = records.iter().position(|r| r[0] == WALLET_RECORD_TAG).expect("a wallet record");
        records[wallet][1] = WALLET_RECORD_VERSION + 1;
        let error = resume(&records, &[], miner()).expect_err("refused");
        let version = DecodeError::Invalid { what: "wallet record version" };
        assert_eq!(error, ResumeError::Corrupt { what: "wallet record", error: version });
    }
}

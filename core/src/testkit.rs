//! Test helpers shared by the unit tests: a regtest chain builder, signed spends, amounts.

use crate::amount::Amount;
use crate::block::Block;
use crate::chain::Chain;
use crate::hash::{BlockHash, MerkleRoot, UtxoCommitment};
use crate::params::Params;

use crate::signature::SecretKey;
use crate::template::{assemble_block, coinbase, search_nonce};
use crate::transaction::{OutPoint, Transaction, TxOut};
use alloc::vec;
use alloc::vec::Vec;

/// Far enough ahead that no test block is "too new".
pub const NOW: u64 = 4_000_000_000;

pub fn miner() -> SecretKey {
    SecretKey::from_bytes(&[1; 32])
}

pub fn units(n: u64) -> Amount {
    Amount::from_units(n).expect("small amount")
}

/// Builds blocks for tests on regtest, where nearly every nonce meets the target.
pub struct Builder {
    pub chain: Chain,
    /// Distinguishes coinbases of sibling blocks at the same height.
    pub extra_nonce: u64,
}

impl Builder {
    pub fn new() -> Self {
        Self { chain: Chain::new(Params::regtest()), extra_nonce: 0 }
    }

    pub fn genesis(&self) -> BlockHash {
        self.chain.params().genesis_hash()
    }

    /// A valid block on `parent` with `txs`, the coinbase claiming subsidy plus `fees`. On a
    /// parent whose UTXO set the chain can no longer rebuild (below the blocks kept in memory),
    /// the coinbase commits to zeros: such a block can be stored but never connected.
    pub fn block_on(&mut self, parent: BlockHash, txs: Vec<Transaction>, fees: Amount) -> Block {
        let known = self.chain.header(&parent).expect("parent known");
        self.extra_nonce += 1;
        let time = known.header.time + 10;
        let height = known.height + 1;
        let value = self.chain.params().subsidy(height).checked_add(fees).expect("in range");
        let commitment = self.chain.utxo_commitment_after(&parent).unwrap_or(UtxoCommitment::ZERO);
        let cb = coinbase(height, value, miner().public_key(), self.extra_nonce, commitment);
        let bits = self.chain.required_bits_after(&parent).expect("parent known");
        mine(assemble_block(parent, bits, time, cb, txs).expect("not mutated"))
    }

    /// Mines and accepts `n` empty blocks on the tip.
    pub fn extend(&mut self, n: usize) -> Vec<BlockHash> {
        (0..n)
            .map(|_| {
                let block = self.block_on(self.chain.tip_hash(), vec![], Amount::ZERO);
                let hash = block.block_hash();
                self.chain.accept_block(block, NOW).expect("valid block");
                hash
            })
            .collect()
    }

    /// A chain of `n` empty blocks on `parent`, not yet accepted.
    pub fn branch_on(&mut self, parent: BlockHash, n: usize) -> Vec<Block> {
        let mut scratch = Builder { chain: self.chain.clone(), extra_nonce: self.extra_nonce + 1_000_000 };
        let mut blocks = Vec::new();
        let mut tip = parent;
        for _ in 0..n {
            let block = scratch.block_on(tip, vec![], Amount::ZERO);
            tip = block.block_hash();
            scratch.chain.accept_block(block.clone(), NOW).expect("valid on the scratch chain");
            blocks.push(block);
        }
        self.extra_nonce = scratch.extra_nonce;
        blocks
    }

    /// The outpoint and amount of the coinbase at `height` of the active chain.
    pub fn coinbase_coin(&self, height: u32) -> (OutPoint, Amount) {
        let hash = self.chain.hash_at(height).expect("height on chain");
        let cb = &self.chain.entry(&hash).expect("stored").block.txs[0];
        (OutPoint { txid: cb.txid(), vout: 0 }, cb.outputs[0].amount)
    }

    /// A spendable (mature) coinbase coin: mines enough blocks first.
    pub fn mature_coin(&mut self) -> (OutPoint, Amount) {
        self.extend(self.chain.params().coinbase_maturity as usize + 1);
        self.coinbase_coin(1)
    }
}

/// Re-mines `block` after its header changed.
pub fn mine(mut block: Block) -> Block {
    block.header = search_nonce(&block.header, 10_000).expect("regtest blocks are nearly free");
    block
}

pub fn reroot(mut block: Block) -> Block {
    block.header.merkle_root = block.compute_merkle_root().unwrap_or(MerkleRoot::ZERO);
    mine(block)
}

/// A transaction spending `inputs` (all owned by the miner) to `outputs`, signed.
pub fn spend(inputs: &[OutPoint], outputs: Vec<TxOut>, genesis: BlockHash) -> Transaction {
    crate::sighash::signed_transaction(inputs, outputs, &miner(), genesis)
}

pub fn pay(amount: Amount) -> TxOut {
    TxOut { amount, owner: SecretKey::from_bytes(&[2; 32]).public_key() }
}

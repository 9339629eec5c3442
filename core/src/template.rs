//! Assembling blocks: the coinbase, the header over a list of transactions, and a plain nonce
//! search (the fast mining kernel lives apart from this).

use crate::amount::Amount;
use crate::block::Block;
use crate::chain::{BlockEntry, Chain};
use crate::commitment::{COMMITMENT_OFFSET, with_commitment};
use crate::hash::{BlockHash, UtxoCommitment};
use crate::header::Header;
use crate::signature::{PublicKey, Signature};
use crate::target::CompactTarget;
use crate::transaction::{OutPoint, Transaction, TxIn, TxOut};
use alloc::vec::Vec;

/// The coinbase of the block at `height`, paying `value` to `owner` and committing to the UTXO
/// set its parent left (`commitment`). `extra_nonce` fills the first eight bytes of the free
/// signature slot, so miners sharing a key and a height still search distinct headers.
pub fn coinbase(
    height: u32,
    value: Amount,
    owner: PublicKey,
    extra_nonce: u64,
    commitment: UtxoCommitment,
) -> Transaction {
    let mut data = [0u8; 64];
    data[..8].copy_from_slice(&extra_nonce.to_le_bytes());
    let coinbase = Transaction {
        version: Transaction::VERSION,
        inputs: alloc::vec![TxIn { prev_out: OutPoint::coinbase(height), signature: Signature(data) }],
        outputs: alloc::vec![TxOut { amount: value, owner }],
    };
    with_commitment(coinbase, commitment)
}

/// Where a coinbase's free slot carries its miner's tag: after the extra nonce (bytes 0..8) and
/// before the UTXO commitment (`COMMITMENT_OFFSET`).
const COINBASE_TAG_OFFSET: usize = 8;
/// The longest tag: the bytes between the extra nonce and the commitment.
pub const COINBASE_TAG_BYTES_MAX: usize = COMMITMENT_OFFSET - COINBASE_TAG_OFFSET;
const _: () = assert!(COINBASE_TAG_BYTES_MAX >= "tabchain-relay".len(), "the shells' names fit");

/// Writes `tag` (cut to `COINBASE_TAG_BYTES_MAX` bytes) into `block`'s coinbase between the
/// extra nonce and the commitment, and sets the merkle root again: the software that mined it,
/// as Bitcoin's pools tag their coinbases, so that a block tree can tell a tab's blocks from a
/// native miner's. No rule reads it, and nothing stops a miner from writing anything there.
pub fn tag_coinbase(block: &mut Block, tag: &[u8]) -> Option<()> {
    let data = &mut block.txs.first_mut()?.inputs.first_mut()?.signature.0;
    let n = tag.len().min(COINBASE_TAG_BYTES_MAX);
    data[COINBASE_TAG_OFFSET..COINBASE_TAG_OFFSET + n].copy_from_slice(&tag[..n]);
    block.header.merkle_root = block.compute_merkle_root().ok()?;
    Some(())
}

/// The tag `tag_coinbase` wrote into `coinbase`: its bytes up to the first zero, when they are
/// printable ASCII and not empty.
pub fn coinbase_tag(coinbase: &Transaction) -> Option<alloc::string::String> {
    let data = &coinbase.inputs.first()?.signature.0[COINBASE_TAG_OFFSET..COMMITMENT_OFFSET];
    let tag = &data[..data.iter().position(|&b| b == 0).unwrap_or(data.len())];
    let printable = !tag.is_empty() && tag.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    printable.then(|| tag.iter().map(|&b| char::from(b)).collect())
}

/// A block on `parent` with `coinbase` first and then `txs`, its merkle root filled in and
/// nonce zero. Refuses (returns `None`) a list whose merkle tree would be mutated.
pub fn assemble_block(
    parent: BlockHash,
    bits: CompactTarget,
    time: u32,
    coinbase: Transaction,
    txs: Vec<Transaction>,
) -> Option<Block> {
    let mut all = Vec::with_capacity(1 + txs.len());
    all.push(coinbase);
    all.extend(txs);
    let mut block = Block {
        header: Header {
            version: 1,
            prev_blockhash: parent,
            merkle_root: crate::hash::MerkleRoot::ZERO,
            time,
            bits,
            nonce: 0,
        },
        txs: all,
    };
    block.header.merkle_root = block.compute_merkle_root().ok()?;
    Some(block)
}

/// An unmined child of the stored block `parent`: its coinbase pays `owner` the subsidy plus
/// `fees` (with `extra_nonce`), then `txs`; `bits` as the difficulty rule requires; dated
/// `time`. `None` when the transactions would make a mutated merkle tree.
pub fn child_block(
    chain: &Chain,
    parent: &BlockEntry,
    owner: PublicKey,
    extra_nonce: u64,
    time: u32,
    txs: Vec<Transaction>,
    fees: Amount,
) -> Option<Block> {
    child_block_of(chain, &parent.block_hash(), owner, extra_nonce, time, txs, fees)
}

/// `child_block` for a parent known by its hash (whose body may be evicted from memory).
/// `None` also when `parent` is not a known header, or the UTXO set it left cannot be rebuilt
/// (see `Chain::utxo_commitment_after`).
pub fn child_block_of(
    chain: &Chain,
    parent: &BlockHash,
    owner: PublicKey,
    extra_nonce: u64,
    time: u32,
    txs: Vec<Transaction>,
    fees: Amount,
) -> Option<Block> {
    let height = chain.header(parent)?.height + 1;
    let value = chain.params().subsidy(height).checked_add(fees).ok()?;
    let cb = coinbase(height, value, owner, extra_nonce, chain.utxo_commitment_after(parent)?);
    assemble_block(*parent, chain.required_bits_after(parent)?, time, cb, txs)
}

/// Tries nonces from `header.nonce` on, at most `tries` of them; returns the header with the
/// first nonce that meets its target.
pub fn search_nonce(header: &Header, tries: u32) -> Option<Header> {
    let target = header.bits.to_target().ok()?;
    (0..tries)
        .map(|i| Header { nonce: header.nonce.wrapping_add(i), ..*header })
        .find(|h| target.is_met_by(h.block_hash()))
}

//! Change sets: what a shell must store, and the way back from what it stored to a node. The
//! node gathers new blocks and chain steps as they happen (`Unpersisted`) and emits them in
//! bounded, versioned sets; `restore_blocks` reads stored sets back.

use crate::block::Block;
use crate::chain::Chain;
use crate::encode::{Decode, DecodeError, Encode, Reader, decode, write_list};
use crate::hash::BlockHash;
use crate::header::HEADER_BYTES;
use crate::utxo::BlockUndo;
use alloc::vec::Vec;
use core::fmt;

/// Blocks in one change set; more are split over several sets.
pub const CHANGE_SET_BLOCKS_MAX: usize = super::sync::PENDING_BLOCKS_MAX + 1;
/// Chain steps in one change set; more are split over several sets.
pub const CHANGE_SET_OPS_MAX: usize = 1024;
/// Version of the change-set format.
pub const CHANGE_SET_VERSION: u8 = 1;
/// Smallest encoding of a chain step (kind and hash), for bounding decoded lists.
const CHAIN_OP_BYTES_MIN: usize = 33;

/// What a shell must store, to be written atomically: new blocks (parents first), then the
/// changes to the active chain with their undo data (so a shell may keep a UTXO set on disk),
/// and the tip after them. Replaying the stored blocks alone rebuilds the node
/// (`Node::restore`); the wallet's only state is its key, which the shell keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    pub blocks: Vec<Block>,
    pub ops: Vec<ChainOp>,
    pub tip: BlockHash,
    pub height: u32,
}

/// One step of the active chain, in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOp {
    /// The block joined the active chain; `undo` lists the coins it spent.
    Connect { hash: BlockHash, undo: BlockUndo },
    /// The block (the tip at that moment) left the active chain.
    Disconnect { hash: BlockHash },
}

/// Why stored change sets cannot rebuild a node: the store is corrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreError {
    /// Stored set `index` (counting from 0 in the order given) does not decode.
    CorruptChangeSet { index: usize, error: DecodeError },
    /// A stored block breaks the rules.
    InvalidBlock(crate::validation::BlockError),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CorruptChangeSet { index, error } => write!(f, "stored change set {index} is corrupt: {error}"),
            Self::InvalidBlock(error) => write!(f, "a stored block is invalid: {error}"),
        }
    }
}

/// The blocks of stored change sets (each the encoding of one `Persist` output, in the order
/// they came), parents first, ready for `Node::restore`.
pub fn restore_blocks<'a>(sets: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<Block>, RestoreError> {
    let mut blocks = Vec::new();
    for (index, bytes) in sets.into_iter().enumerate() {
        let set: ChangeSet = decode(bytes).map_err(|error| RestoreError::CorruptChangeSet { index, error })?;
        blocks.extend(set.blocks);
    }
    Ok(blocks)
}

/// What changed since the last change set was emitted.
#[derive(Debug)]
pub(crate) struct Unpersisted {
    blocks: Vec<Block>,
    ops: Vec<ChainOp>,
    /// The tip the last emitted set left the store at.
    persisted_tip: BlockHash,
}

impl Unpersisted {
    pub(crate) fn new(tip: BlockHash) -> Self {
        Self { blocks: Vec::new(), ops: Vec::new(), persisted_tip: tip }
    }

    /// Whether nothing changed since the last set was emitted.
    pub(crate) fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.ops.is_empty()
    }

    pub(crate) fn push_block(&mut self, block: Block) {
        self.blocks.push(block);
    }

    pub(crate) fn push_op(&mut self, op: ChainOp) {
        self.ops.push(op);
    }

    /// Takes what changed as change sets: usually one; when large, the blocks first and then
    /// the chain steps, each set naming the tip as of its own last step.
    pub(crate) fn take_sets(&mut self, chain: &Chain) -> Vec<ChangeSet> {
        if self.blocks.is_empty() && self.ops.is_empty() {
            return Vec::new();
        }
        let blocks = core::mem::take(&mut self.blocks);
        let ops = core::mem::take(&mut self.ops);
        let persisted_tip = core::mem::replace(&mut self.persisted_tip, chain.tip_hash());
        if blocks.len() <= CHANGE_SET_BLOCKS_MAX && ops.len() <= CHANGE_SET_OPS_MAX {
            return alloc::vec![ChangeSet { blocks, ops, tip: chain.tip_hash(), height: chain.height() }];
        }
        let mut sets = Vec::new();
        let mut tip = persisted_tip;
        let mut height = chain.header(&persisted_tip).expect("persisted tip is known").height;
        for chunk in blocks.chunks(CHANGE_SET_BLOCKS_MAX) {
            sets.push(ChangeSet { blocks: chunk.to_vec(), ops: Vec::new(), tip, height });
        }
        for chunk in ops.chunks(CHANGE_SET_OPS_MAX) {
            (tip, height) = match chunk.last().expect("chunks are non-empty") {
                ChainOp::Connect { hash, .. } => (*hash, chain.header(hash).expect("connected").height),
                ChainOp::Disconnect { hash } => {
                    let known = chain.header(hash).expect("disconnected blocks stay known");
                    (known.header.prev_blockhash, known.height - 1)
                }
            };
            sets.push(ChangeSet { blocks: Vec::new(), ops: chunk.to_vec(), tip, height });
        }
        sets
    }
}

impl Encode for ChangeSet {
    fn encode_to(&self, out: &mut Vec<u8>) {
        CHANGE_SET_VERSION.encode_to(out);
        write_list(out, &self.blocks);
        write_list(out, &self.ops);
        self.tip.encode_to(out);
        self.height.encode_to(out);
    }
}

impl Decode for ChangeSet {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.u8()? != CHANGE_SET_VERSION {
            return Err(DecodeError::Invalid { what: "change set version" });
        }
        let blocks = r.list("change set blocks", CHANGE_SET_BLOCKS_MAX, HEADER_BYTES + 1)?;
        let ops = r.list("change set chain steps", CHANGE_SET_OPS_MAX, CHAIN_OP_BYTES_MIN)?;
        Ok(Self { blocks, ops, tip: BlockHash::decode_from(r)?, height: r.u32()? })
    }
}

impl Encode for ChainOp {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Connect { hash, undo } => {
                out.push(0);
                hash.encode_to(out);
                undo.encode_to(out);
            }
            Self::Disconnect { hash } => {
                out.push(1);
                hash.encode_to(out);
            }
        }
    }
}

impl Decode for ChainOp {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Connect { hash: BlockHash::decode_from(r)?, undo: BlockUndo::decode_from(r)? }),
            1 => Ok(Self::Disconnect { hash: BlockHash::decode_from(r)? }),
            _ => Err(DecodeError::Invalid { what: "chain step kind" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encode;
    use crate::node::Node;
    use crate::params::Params;
    use crate::testkit::{Builder, NOW};

    /// Replays sets into a node as a shell restoring from its store would.
    fn restore(sets: &[ChangeSet]) -> Node {
        let stored: Vec<Vec<u8>> = sets.iter().map(encode).collect();
        let blocks = restore_blocks(stored.iter().map(Vec::as_slice)).expect("sets decode");
        Node::restore(Params::regtest(), "restored", blocks).expect("stored blocks are valid")
    }

    #[test]
    fn a_small_change_is_one_set_naming_the_new_tip() {
        let mut builder = Builder::new();
        let mut unpersisted = Unpersisted::new(builder.chain.tip_hash());
        let block = builder.block_on(builder.genesis(), alloc::vec![], crate::amount::Amount::ZERO);
        let hash = block.block_hash();
        let update = builder.chain.accept_block(block.clone(), NOW).expect("valid");
        unpersisted.push_block(block);
        let undo = builder.chain.undo(&hash).expect("connected").clone();
        unpersisted.push_op(ChainOp::Connect { hash: update.connected[0], undo });
        let sets = unpersisted.take_sets(&builder.chain);
        assert_eq!(sets.len(), 1);
        assert_eq!((sets[0].tip, sets[0].height), (hash, 1));
        assert!(unpersisted.take_sets(&builder.chain).is_empty(), "nothing is emitted twice");
        assert_eq!(restore(&sets).chain().tip_hash(), hash);
    }

    #[test]
    fn a_large_change_is_split_in_bounded_sets_that_restore_exactly() {
        let mut builder = Builder::new();
        let genesis = builder.genesis();
        let mut unpersisted = Unpersisted::new(genesis);
        let n = CHANGE_SET_BLOCKS_MAX * 2 + 3;
        for block in builder.branch_on(genesis, n) {
            let hash = block.block_hash();
            builder.chain.accept_block(block.clone(), NOW).expect("valid");
            unpersisted.push_block(block);
            let undo = builder.chain.undo(&hash).expect("connected").clone();
            unpersisted.push_op(ChainOp::Connect { hash, undo });
        }
        // Push the steps past their own cap too, with disconnects and reconnects of the tip.
        let tip = builder.chain.tip_hash();
        let undo = builder.chain.undo(&tip).expect("connected").clone();
        for _ in 0..CHANGE_SET_OPS_MAX / 2 {
            unpersisted.push_op(ChainOp::Disconnect { hash: tip });
            unpersisted.push_op(ChainOp::Connect { hash: tip, undo: undo.clone() });
        }
        let sets = unpersisted.take_sets(&builder.chain);

        let block_sets: Vec<&ChangeSet> = sets.iter().filter(|s| !s.blocks.is_empty()).collect();
        let op_sets: Vec<&ChangeSet> = sets.iter().filter(|s| !s.ops.is_empty()).collect();
        assert_eq!(block_sets.len(), 3, "{n} blocks in sets of {CHANGE_SET_BLOCKS_MAX}");
        assert_eq!(op_sets.len(), 2, "{} steps in sets of {CHANGE_SET_OPS_MAX}", n + CHANGE_SET_OPS_MAX);
        assert_eq!(block_sets.len() + op_sets.len(), sets.len(), "no set mixes blocks and steps");
        assert!(sets.iter().all(|s| s.blocks.len() <= CHANGE_SET_BLOCKS_MAX && s.ops.len() <= CHANGE_SET_OPS_MAX));
        // Block-only sets leave the stored tip where it was; each step set names its own last step.
        assert!(block_sets.iter().all(|s| (s.tip, s.height) == (genesis, 0)));
        // The first step set holds the n connects and 891 steps of the pairs: it ends on a disconnect.
        let below_tip = builder.chain.hash_at(n as u32 - 1).expect("on the chain");
        assert_eq!((op_sets[0].tip, op_sets[0].height as usize), (below_tip, n - 1));
        assert_eq!((op_sets[1].tip, op_sets[1].height as usize), (tip, n));
        for set in &sets {
            assert_eq!(&decode::<ChangeSet>(&encode(set)).expect("round trip"), set);
        }
        let node = restore(&sets);
        assert_eq!((node.chain().tip_hash(), node.chain().height() as usize), (tip, n));
        assert_eq!(node.chain().utxos(), builder.chain.utxos());
    }

    #[test]
    fn a_corrupt_stored_set_is_named_by_its_position() {
        let set = ChangeSet { blocks: Vec::new(), ops: Vec::new(), tip: BlockHash::ZERO, height: 0 };
        let good = encode(&set);
        let mut wrong_version = good.clone();
        wrong_version[0] = CHANGE_SET_VERSION + 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let cases: [(&[u8], DecodeError); 2] = [
            (&wrong_version, DecodeError::Invalid { what: "change set version" }),
            (&trailing, DecodeError::TrailingBytes { count: 1 }),
        ];
        for (bad, error) in cases {
            let stored = [good.as_slice(), bad];
            assert_eq!(restore_blocks(stored), Err(RestoreError::CorruptChangeSet { index: 1, error }));
        }
    }
}

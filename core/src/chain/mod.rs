//! `Chain`: the tree of stored blocks, the active (most-work) chain through it, and the UTXO
//! set at its tip. Accepting a block may move the tip along any branch: a reorg of any depth
//! disconnects to the fork point and connects the new branch, and is returned as a value.
//!
//! Only blocks whose parent is stored are stored, so every stored block's ancestry is complete.
//! Memory does not grow with the chain beyond its header index: the bodies and undo data of
//! active blocks more than `ACTIVE_BLOCKS_KEPT` below the tip are dropped (the shell keeps them,
//! and serves them from its store), and a reorg can reach no deeper than the blocks kept.
//! The best chain is the valid one with the most cumulative work; between equal work, the first
//! seen wins. A branch that turns out invalid midway is marked invalid from that block on, and
//! the node settles on the best chain that is still valid.

use crate::block::Block;
use crate::hash::{BlockHash, UtxoCommitment};
use crate::header::Header;
use crate::params::{DifficultyRule, Params};
use crate::pow::check_proof_of_work;
use crate::target::Work;
use crate::utxo::{BlockUndo, UtxoSet};
use crate::validation::{BlockError, check_block, connect_block, disconnect_block};

mod context;
mod header_store;
mod resume;
mod snapshot;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
pub(crate) use context::{ParentContext, check_header_context};
use core::cmp::Reverse;
use header_store::HeaderStore;
pub use resume::{
    CHECKPOINT_RECORD_BYTES_MAX, CHECKPOINT_VERSION, ChainResume, CheckpointCursor, CheckpointMoved, ResumeError,
    StoredTip,
};
pub use snapshot::{AdoptError, RollbackError, SnapshotOverlay};

/// The tip of the header chain with the most work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BestHeader {
    pub hash: BlockHash,
    pub height: u32,
}

/// A header the chain knows, with its height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownHeader {
    pub header: Header,
    pub height: u32,
}

/// What accepting a block changed in the active chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainUpdate {
    /// Blocks taken off the active chain, the old tip first.
    pub disconnected: Vec<BlockHash>,
    /// Blocks added to the active chain, in chain order.
    pub connected: Vec<BlockHash>,
    /// Stored blocks found invalid while connecting, with the reason.
    pub invalid: Vec<(BlockHash, BlockError)>,
    /// Stored chains with more work left aside, because reaching them would disconnect blocks
    /// no longer kept in memory (deeper than `ACTIVE_BLOCKS_KEPT`): their tips.
    pub too_deep: Vec<BlockHash>,
}

impl ChainUpdate {
    /// How many blocks a reorg took off the old chain; 0 when the tip only advanced.
    pub fn reorg_depth(&self) -> usize {
        self.disconnected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.disconnected.is_empty() && self.connected.is_empty() && self.invalid.is_empty() && self.too_deep.is_empty()
    }
}

/// A stored block and what the chain knows of it.
#[derive(Debug, Clone)]
pub struct BlockEntry {
    pub block: Block,
    pub height: u32,
    /// Work of the chain from genesis up to and including this block.
    pub chain_work: Work,
    /// Undo data while the block is on the active chain.
    undo: Option<BlockUndo>,
    invalid: bool,
    /// Order of arrival, for the first-seen tie-break.
    seq: u64,
}

impl BlockEntry {
    pub fn header(&self) -> &Header {
        &self.block.header
    }

    pub fn block_hash(&self) -> BlockHash {
        self.block.header.block_hash()
    }

    pub fn is_invalid(&self) -> bool {
        self.invalid
    }
}

/// A header with valid proof of work and context, whether or not its block is stored.
#[derive(Debug, Clone)]
struct HeaderNode {
    header: Header,
    height: u32,
    chain_work: Work,
    invalid: bool,
    seq: u64,
    /// The time of block 1 on this header's branch, where ASERT measures the schedule from
    /// (0 for the genesis block, which has no schedule of its own).
    block_one_time: u32,
}

/// Ordering of candidate tips: most work first, then first seen.
type Candidate = (Work, Reverse<u64>, BlockHash);

/// Blocks of the active chain, counting back from the tip, whose bodies and undo data stay in
/// memory: the deepest reorg a node can follow. 1,024 blocks are about 2.8 hours of 10-second
/// blocks, far past any reorg honest hash rate produces; a deeper one needs an attacker who
/// out-mined the network for hours, and a node then keeps its chain (see docs/protocol.md).
pub const ACTIVE_BLOCKS_KEPT: u32 = 1024;

/// Hashes in a block locator: the newest ten one by one, then doubling steps back to genesis.
pub const LOCATOR_DENSE: u32 = 10;

/// The block tree, active chain and UTXO set of one network.
#[derive(Debug, Clone)]
pub struct Chain {
    params: Params,
    /// Every header known valid so far, stored blocks' included.
    headers: HeaderStore,
    /// The leaves of the valid header tree (valid headers without a valid child), ordered so the
    /// last is the best header chain's tip: the most-work valid header is always a leaf, and
    /// keeping only leaves keeps this small however long the chain.
    header_tips: BTreeSet<Candidate>,
    /// Blocks in memory: the active chain's last `ACTIVE_BLOCKS_KEPT` and side branches above.
    entries: BTreeMap<BlockHash, BlockEntry>,
    /// The same blocks by height, for eviction.
    entries_by_height: BTreeSet<(u32, BlockHash)>,
    /// Active blocks below this height are evicted from memory (and stored by the shell).
    kept_from_height: u32,
    /// Every stored block not known to be invalid, ordered so the last is the best tip.
    candidates: BTreeSet<Candidate>,
    /// The active chain: `active[h]` is the block at height `h`.
    active: Vec<BlockHash>,
    utxos: UtxoSet,
    next_seq: u64,
}

impl Chain {
    /// A chain holding only the genesis block of `params`, which must be a tabchain network
    /// (a full genesis block and ASERT difficulty; Bitcoin's parameters serve header checks only).
    pub fn new(params: Params) -> Self {
        let genesis = params.genesis_block().expect("a chain needs a network with a full genesis block");
        assert!(matches!(params.difficulty, DifficultyRule::Asert(_)), "a chain needs an ASERT network");
        let hash = genesis.block_hash();
        let work = genesis.header.bits.to_target().expect("genesis bits are valid").work();
        let node = HeaderNode {
            header: genesis.header,
            height: 0,
            chain_work: work,
            invalid: false,
            seq: 0,
            block_one_time: 0,
        };
        let entry = BlockEntry {
            block: genesis,
            height: 0,
            chain_work: work,
            undo: Some(BlockUndo::default()),
            invalid: false,
            seq: 0,
        };
        let mut chain = Self {
            params,
            headers: HeaderStore::default(),
            header_tips: BTreeSet::from([(work, Reverse(0), hash)]),
            entries: BTreeMap::new(),
            entries_by_height: BTreeSet::from([(0, hash)]),
            kept_from_height: 0,
            candidates: BTreeSet::new(),
            active: alloc::vec![hash],
            utxos: UtxoSet::default(),
            next_seq: 1,
        };
        chain.headers.insert(hash, node);
        chain.candidates.insert((work, Reverse(0), hash));
        chain.utxos.refresh_commitment();
        chain.entries.insert(hash, entry);
        chain
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn tip(&self) -> &BlockEntry {
        let hash = self.active.last().expect("the active chain holds at least genesis");
        &self.entries[hash]
    }

    pub fn tip_hash(&self) -> BlockHash {
        *self.active.last().expect("the active chain holds at least genesis")
    }

    pub fn height(&self) -> u32 {
        (self.active.len() - 1) as u32
    }

    pub fn utxos(&self) -> &UtxoSet {
        &self.utxos
    }

    /// A block in memory: the active chain's last `ACTIVE_BLOCKS_KEPT`, and side branches.
    pub fn entry(&self, hash: &BlockHash) -> Option<&BlockEntry> {
        self.entries.get(hash)
    }

    /// Whether the block is stored, in memory or (evicted) by the shell.
    pub fn has_block(&self, hash: &BlockHash) -> bool {
        self.entries.contains_key(hash)
            || self.headers.get(hash).is_some_and(|n| n.height < self.kept_from_height && self.is_active(hash))
    }

    /// The lowest height whose active block is still in memory.
    pub fn kept_from_height(&self) -> u32 {
        self.kept_from_height
    }

    /// The active chain's block hash at `height`.
    pub fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.active.get(height as usize).copied()
    }

    pub fn is_active(&self, hash: &BlockHash) -> bool {
        self.headers.get(hash).is_some_and(|n| self.hash_at(n.height) == Some(*hash))
    }

    /// How many blocks are stored, on any branch, in memory or evicted.
    pub fn n_blocks(&self) -> usize {
        // Every active block below `kept_from_height` is evicted; everything else is in memory.
        self.kept_from_height as usize + self.entries.len()
    }

    /// How many blocks are in memory.
    pub fn n_blocks_in_memory(&self) -> usize {
        self.entries.len()
    }

    /// Every stored block at or above `min_height`, on any branch, lowest first (for a view of
    /// recent forks).
    pub fn blocks_since(&self, min_height: u32) -> Vec<&BlockEntry> {
        let mut recent: Vec<&BlockEntry> = self.entries.values().filter(|e| e.height >= min_height).collect();
        crate::sort::sort_by_key(&mut recent, |e| (e.height, e.seq));
        recent
    }

    /// Validates and stores `block`, then moves to the best valid chain. `now` is the node's
    /// clock in Unix seconds. `Err` means the block is invalid and the active chain did not
    /// change (a block whose body failed is remembered as invalid; one that failed only
    /// `may_be_valid_later` checks is not stored at all). `Ok` reports the net change, which
    /// may list this or other blocks as found invalid along the way.
    pub fn accept_block(&mut self, block: Block, now: u64) -> Result<ChainUpdate, BlockError> {
        // Evicting before, not after, keeps every block the last update names in memory until
        // the caller has read it (a reorg may connect more than `ACTIVE_BLOCKS_KEPT` blocks).
        self.evict_old_blocks();
        let hash = block.block_hash();
        if let Some(node) = self.headers.get(&hash) {
            if node.invalid {
                return Err(BlockError::KnownInvalid { hash });
            }
            if self.has_block(&hash) {
                return Ok(ChainUpdate::default());
            }
        }
        check_block(&block, &self.params)?;
        let parent_hash = block.header.prev_blockhash;
        if !self.has_block(&parent_hash) {
            return Err(BlockError::UnknownParent { parent: parent_hash });
        }
        self.accept_header(block.header, now)?;
        let node = &self.headers[&hash];
        let (height, chain_work) = (node.height, node.chain_work);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.insert(hash, BlockEntry { block, height, chain_work, undo: None, invalid: false, seq });
        self.entries_by_height.insert((height, hash));
        self.candidates.insert((chain_work, Reverse(seq), hash));
        let update = self.activate_best_chain();
        match update.invalid.iter().find(|(h, _)| *h == hash) {
            Some((_, error)) if update.connected.is_empty() && update.disconnected.is_empty() => Err(error.clone()),
            _ => Ok(update),
        }
    }

    /// Validates a header (proof of work, parent known, bits, time) and remembers it, so that
    /// its block can be fetched. Returns whether it was new. Headers-first sync calls this for
    /// headers whose blocks are not here yet; `accept_block` calls it for every block.
    pub fn accept_header(&mut self, header: Header, now: u64) -> Result<bool, BlockError> {
        let hash = header.block_hash();
        if let Some(node) = self.headers.get(&hash) {
            return if node.invalid { Err(BlockError::KnownInvalid { hash }) } else { Ok(false) };
        }
        let target = check_proof_of_work(&header, self.params.pow_limit).map_err(BlockError::Pow)?;
        let parent_hash = header.prev_blockhash;
        let parent = self.headers.get(&parent_hash).ok_or(BlockError::UnknownParent { parent: parent_hash })?;
        if parent.invalid {
            return Err(BlockError::InvalidParent { parent: parent_hash });
        }
        self.check_header_context(&header, &parent_hash, now)?;
        self.insert_header(header, hash, target.work());
        Ok(true)
    }

    /// Remembers a header whose parent is known and valid, as a leaf of the header tree.
    fn insert_header(&mut self, header: Header, hash: BlockHash, work: Work) -> &HeaderNode {
        let parent_hash = header.prev_blockhash;
        let parent = &self.headers[&parent_hash];
        let (height, chain_work) = (parent.height + 1, parent.chain_work.saturating_add(work));
        let seq = self.next_seq;
        self.next_seq += 1;
        let block_one_time = context::block_one_time_of_child(parent.height, parent.block_one_time, header.time);
        // The parent is no longer a leaf of the header tree.
        self.header_tips.remove(&(parent.chain_work, Reverse(parent.seq), parent_hash));
        self.header_tips.insert((chain_work, Reverse(seq), hash));
        let node = HeaderNode { header, height, chain_work, invalid: false, seq, block_one_time };
        self.headers.insert(hash, node)
    }

    /// The tip of the valid header chain with the most work.
    pub fn best_header(&self) -> BestHeader {
        let &(_, _, hash) = self.header_tips.last().expect("genesis is always a valid header");
        BestHeader { hash, height: self.headers[&hash].height }
    }

    /// How many headers are known (on every branch, with or without their blocks).
    pub fn n_headers(&self) -> usize {
        self.headers.len()
    }

    /// The work of the chain from genesis up to and including the known header `hash`.
    pub fn chain_work(&self, hash: &BlockHash) -> Option<Work> {
        self.headers.get(hash).map(|n| n.chain_work)
    }

    /// The known, not invalid, header with this hash.
    pub fn header(&self, hash: &BlockHash) -> Option<KnownHeader> {
        self.headers.get(hash).filter(|n| !n.invalid).map(|n| KnownHeader { header: n.header, height: n.height })
    }

    /// The headers without a stored block from `end` down to its nearest stored ancestor,
    /// newest first (nothing for a header that is not known, or is invalid).
    fn missing_down_from(&self, end: BlockHash) -> impl Iterator<Item = BlockHash> + '_ {
        let mut next = Some(end);
        core::iter::from_fn(move || {
            let hash = next.take().filter(|hash| !self.has_block(hash))?;
            next = Some(self.header(&hash)?.header.prev_blockhash);
            Some(hash)
        })
    }

    /// The blocks not stored on the branch that ends at the known header `end`, oldest first;
    /// `None` when more than `max` are missing.
    pub fn missing_blocks_to(&self, end: &BlockHash, max: usize) -> Option<Vec<BlockHash>> {
        let mut missing: Vec<BlockHash> = self.missing_down_from(*end).take(max.saturating_add(1)).collect();
        if missing.len() > max {
            return None;
        }
        missing.reverse();
        Some(missing)
    }

    /// Up to `max` blocks of the best header chain that are not stored, oldest first: what
    /// headers-first sync downloads next.
    pub fn missing_blocks(&self, max: usize) -> Vec<BlockHash> {
        let mut missing: Vec<BlockHash> = self.missing_down_from(self.best_header().hash).collect();
        missing.reverse();
        missing.truncate(max);
        missing
    }

    /// A block locator for the active chain: the newest hashes one by one, then exponentially
    /// sparser, ending with genesis; at most `LOCATOR_HASHES_MAX` hashes.
    pub fn locator(&self) -> Vec<BlockHash> {
        let mut locator = Vec::new();
        let (mut height, mut step) = (self.height(), 1);
        loop {
            locator.push(self.active[height as usize]);
            if height == 0 || locator.len() == crate::message::LOCATOR_HASHES_MAX - 1 {
                break;
            }
            if locator.len() >= LOCATOR_DENSE as usize {
                step *= 2;
            }
            height = height.saturating_sub(step);
        }
        if *locator.last().expect("non-empty") != self.active[0] {
            locator.push(self.active[0]);
        }
        locator
    }

    /// Up to `max` headers of the active chain after the first `locator` hash on it (after
    /// genesis when none is).
    pub fn headers_after(&self, locator: &[BlockHash], max: usize) -> Vec<Header> {
        let start = locator.iter().find(|h| self.is_active(h)).map_or(0, |h| self.headers[h].height);
        let end = (start as usize + 1 + max).min(self.active.len());
        self.active[start as usize + 1..end].iter().map(|h| self.headers[h].header).collect()
    }

    /// What a child of the stored block `parent` must commit to: the commitment of the UTXO set
    /// `parent` leaves. For the tip it is the set's own (cached); for another block the set is
    /// rebuilt on a copy, disconnecting to the fork and connecting `parent`'s branch, which
    /// costs a copy of the set: miners build on the tip, tests and attackers elsewhere. `None`
    /// when `parent` is not stored in memory, lies below the blocks kept, or its branch is
    /// invalid.
    pub fn utxo_commitment_after(&self, parent: &BlockHash) -> Option<UtxoCommitment> {
        if *parent == self.tip_hash() {
            return Some(self.utxos.commitment());
        }
        let parent_height = self.entries.get(parent)?.height;
        let branch = self.branch_from_active(*parent);
        let fork_height = parent_height - branch.len() as u32;
        if fork_height + 1 < self.kept_from_height {
            return None;
        }
        let mut utxos = self.utxos.clone();
        for hash in self.active[fork_height as usize + 1..].iter().rev() {
            let entry = &self.entries[hash];
            disconnect_block(&entry.block, entry.undo.as_ref()?, &mut utxos);
        }
        for hash in branch.iter().rev() {
            let entry = self.entries.get(hash)?;
            connect_block(&entry.block, entry.height, &mut utxos, &self.params).ok()?;
        }
        Some(utxos.commitment())
    }

    /// The undo data of an active block in memory.
    pub fn undo(&self, hash: &BlockHash) -> Option<&BlockUndo> {
        self.entries.get(hash)?.undo.as_ref()
    }

    /// Moves the active chain to the best valid candidate, marking blocks that fail to connect
    /// (and their descendants) invalid and trying again until the best candidate is the tip.
    fn activate_best_chain(&mut self) -> ChainUpdate {
        let old_tip = self.tip_hash();
        let mut invalid = Vec::new();
        let mut too_deep = Vec::new();
        loop {
            let &(_, _, best) = self.candidates.last().expect("the active tip is always a candidate");
            if best == self.tip_hash() {
                break;
            }
            let branch = self.branch_from_active(best);
            let fork_height = self.headers[&branch[branch.len() - 1]].height - 1;
            if fork_height + 1 < self.kept_from_height {
                // Its blocks stay stored; the chain cannot reach them without undo data.
                let entry = &self.entries[&best];
                self.candidates.remove(&(entry.chain_work, Reverse(entry.seq), best));
                too_deep.push(best);
                continue;
            }
            while self.height() > fork_height {
                self.disconnect_tip();
            }
            for &hash in branch.iter().rev() {
                if let Err(error) = self.connect_next(hash) {
                    self.mark_invalid(hash);
                    invalid.push((hash, error));
                    break;
                }
            }
        }
        // The next block's commitment, computed once for the new tip.
        self.utxos.refresh_commitment();
        // Report the net change: a failed branch may have been connected and disconnected again.
        let disconnected = self.branch_from_active(old_tip);
        let fork_height = self.headers[&old_tip].height - disconnected.len() as u32;
        let connected = self.active[fork_height as usize + 1..].to_vec();
        ChainUpdate { disconnected, connected, invalid, too_deep }
    }

    /// The blocks from `tip` back to (not including) the active chain, `tip` first.
    fn branch_from_active(&self, tip: BlockHash) -> Vec<BlockHash> {
        let mut branch = Vec::new();
        let mut hash = tip;
        while !self.is_active(&hash) {
            branch.push(hash);
            hash = self.headers[&hash].header.prev_blockhash;
        }
        branch
    }

    fn disconnect_tip(&mut self) -> BlockHash {
        let hash = self.active.pop().expect("never disconnects genesis");
        assert!(!self.active.is_empty(), "never disconnects genesis");
        let entry = self.entries.get_mut(&hash).expect("active blocks are stored");
        let undo = entry.undo.take().expect("active blocks have undo data");
        disconnect_block(&entry.block, &undo, &mut self.utxos);
        hash
    }

    fn connect_next(&mut self, hash: BlockHash) -> Result<(), BlockError> {
        let entry = self.entries.get_mut(&hash).expect("branch blocks are stored");
        assert_eq!(entry.height as usize, self.active.len(), "connects on top of the tip");
        let undo = connect_block(&entry.block, entry.height, &mut self.utxos, &self.params)?;
        entry.undo = Some(undo);
        self.active.push(hash);
        Ok(())
    }

    /// Drops from memory the active blocks more than `ACTIVE_BLOCKS_KEPT` below the tip (still
    /// stored, by the shell) and side-branch blocks below them (no longer stored: a reorg could
    /// not reach them).
    fn evict_old_blocks(&mut self) {
        let keep_from = self.height().saturating_sub(ACTIVE_BLOCKS_KEPT);
        if keep_from <= self.kept_from_height {
            return;
        }
        self.kept_from_height = keep_from;
        let old: Vec<(u32, BlockHash)> =
            self.entries_by_height.range(..(keep_from, BlockHash::ZERO)).copied().collect();
        for (height, hash) in old {
            self.entries_by_height.remove(&(height, hash));
            let entry = self.entries.remove(&hash).expect("indexed by height");
            self.candidates.remove(&(entry.chain_work, Reverse(entry.seq), hash));
        }
    }

    /// Marks `hash` and every known descendant, header or block, invalid; its parent becomes a
    /// leaf of the valid header tree again when no valid child is left.
    ///
    /// Every valid descendant lies on the path from some valid leaf down to `hash`, so the leaves
    /// find them without a map of children (which would cost memory for every header ever seen):
    /// each leaf above `hash` walks down to `hash`'s height. Invalid descendants need no visit,
    /// since everything above an invalid header is invalid already.
    fn mark_invalid(&mut self, hash: BlockHash) {
        let node = &self.headers[&hash];
        let (height, parent_hash) = (node.height, node.header.prev_blockhash);
        let mut marked = alloc::vec![hash];
        for &(_, _, leaf) in &self.header_tips {
            if self.ancestor_at(leaf, height) == Some(hash) {
                let mut h = leaf;
                while h != hash {
                    marked.push(h);
                    h = self.headers[&h].header.prev_blockhash;
                }
            }
        }
        for h in marked {
            let node = self.headers.get_mut(&h).expect("known header");
            if node.invalid {
                continue;
            }
            node.invalid = true;
            self.header_tips.remove(&(node.chain_work, Reverse(node.seq), h));
            if let Some(entry) = self.entries.get_mut(&h) {
                entry.invalid = true;
                self.candidates.remove(&(entry.chain_work, Reverse(entry.seq), h));
            }
        }
        let Some(parent) = self.headers.get(&parent_hash).filter(|p| !p.invalid) else { return };
        let has_valid_child = self.header_tips.iter().any(|&(_, _, leaf)| {
            self.ancestor_at(leaf, parent.height + 1)
                .is_some_and(|child| self.headers[&child].header.prev_blockhash == parent_hash)
        });
        if !has_valid_child {
            self.header_tips.insert((parent.chain_work, Reverse(parent.seq), parent_hash));
        }
    }

    /// The ancestor of the known header `from` at `height` (itself at its own height); `None`
    /// when `from` is below `height`.
    fn ancestor_at(&self, from: BlockHash, height: u32) -> Option<BlockHash> {
        let mut hash = from;
        loop {
            let node = self.headers.get(&hash)?;
            if node.height < height {
                return None;
            }
            if node.height == height {
                return Some(hash);
            }
            hash = node.header.prev_blockhash;
        }
    }
}

#[cfg(test)]
mod tests;

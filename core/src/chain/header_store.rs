//! `HeaderStore`: every header the chain knows, kept compactly for a chain of millions. Headers
//! are never forgotten, so they live in an append-only arena of fixed-size chunks (no copy and
//! no doubled allocation as the chain grows), and a map from hash to slot finds them.
//!
//! This is the chain's largest cost per block: a map from hash to the whole node costs about
//! 250 bytes a header once the tree's nodes are two-thirds full (random hashes), where a slot
//! index costs about 50 and the arena holds the node itself with no slack.

use super::HeaderNode;
use crate::hash::BlockHash;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Nodes in one chunk of the arena: about 544 KiB, so a chunk is a small step in memory and the
/// arena never reallocates what it holds.
const CHUNK_NODES: usize = 4096;

/// Where a header's node sits in the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot(u32);

impl Slot {
    fn chunk(self) -> usize {
        self.0 as usize / CHUNK_NODES
    }

    fn offset(self) -> usize {
        self.0 as usize % CHUNK_NODES
    }
}

/// The known headers, by hash.
#[derive(Debug, Clone, Default)]
pub(super) struct HeaderStore {
    slots: BTreeMap<BlockHash, Slot>,
    /// Full chunks, then the one being filled (its capacity is `CHUNK_NODES` from the start).
    chunks: Vec<Vec<HeaderNode>>,
}

impl HeaderStore {
    pub(super) fn get(&self, hash: &BlockHash) -> Option<&HeaderNode> {
        let slot = *self.slots.get(hash)?;
        Some(&self.chunks[slot.chunk()][slot.offset()])
    }

    pub(super) fn get_mut(&mut self, hash: &BlockHash) -> Option<&mut HeaderNode> {
        let slot = *self.slots.get(hash)?;
        Some(&mut self.chunks[slot.chunk()][slot.offset()])
    }

    pub(super) fn contains_key(&self, hash: &BlockHash) -> bool {
        self.slots.contains_key(hash)
    }

    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The node of `hash`, stored first if the hash is new (a known hash keeps its node).
    pub(super) fn insert(&mut self, hash: BlockHash, node: HeaderNode) -> &HeaderNode {
        let slot = match self.slots.get(&hash) {
            Some(&slot) => slot,
            None => {
                let slot = Slot(u32::try_from(self.slots.len()).expect("fewer than 2^32 headers"));
                if self.chunks.last().is_none_or(|chunk| chunk.len() == CHUNK_NODES) {
                    self.chunks.push(Vec::with_capacity(CHUNK_NODES));
                }
                self.chunks.last_mut().expect("a chunk with room").push(node);
                self.slots.insert(hash, slot);
                slot
            }
        };
        &self.chunks[slot.chunk()][slot.offset()]
    }
}

impl core::ops::Index<&BlockHash> for HeaderStore {
    type Output = HeaderNode;

    fn index(&self, hash: &BlockHash) -> &HeaderNode {
        self.get(hash).expect("a known header")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Work;

    fn node(height: u32) -> HeaderNode {
        let header = crate::params::Params::regtest().genesis_block().expect("regtest has a genesis block").header;
        HeaderNode { header, height, chain_work: Work::ZERO, invalid: false, seq: u64::from(height), block_one_time: 0 }
    }

    #[test]
    fn headers_across_chunks_are_found_by_hash_and_a_known_hash_keeps_its_node() {
        let mut store = HeaderStore::default();
        let hash = |i: u32| {
            BlockHash::from_byte_array({
                let mut bytes = [0; 32];
                bytes[..4].copy_from_slice(&i.to_le_bytes());
                bytes
            })
        };
        let n = 2 * CHUNK_NODES as u32 + 3;
        for i in 0..n {
            store.insert(hash(i), node(i));
        }
        assert_eq!(store.len(), n as usize);
        assert_eq!(store.chunks.len(), 3);
        assert!((0..n).all(|i| store[&hash(i)].height == i));
        assert_eq!(store.insert(hash(7), node(99)).height, 7, "the first node stays");
        store.get_mut(&hash(n - 1)).expect("known").invalid = true;
        assert!(store[&hash(n - 1)].invalid);
        assert!(store.get(&hash(n)).is_none() && !store.contains_key(&hash(n)));
    }
}

//! Merkle trees over txids, built the Bitcoin way, with the CVE-2012-2459 mutation detected,
//! and inclusion proofs.
//!
//! Bitcoin pairs hashes level by level and, when a level has an odd count, pairs the last hash
//! with itself. So `[a, b, c]` and `[a, b, c, c]` have the same root: a block whose trailing
//! transactions repeat could share a hash with a valid block. Such a list is "mutated" and
//! refused here, which is what lets a node tell a corrupted copy from the real block.

use crate::encode::{Decode, DecodeError, Encode, Reader, write_list};
use crate::hash::{MerkleRoot, Txid, sha256d};
use alloc::vec::Vec;
use core::fmt;

/// The deepest tree a proof may describe: 2^32 leaves, more than any block can hold.
pub const MERKLE_DEPTH_MAX: usize = 32;

/// Why a list of txids has no valid merkle root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerkleError {
    /// A tree needs at least one leaf.
    Empty,
    /// Two hashes paired at some level are equal (CVE-2012-2459).
    Mutated,
}

impl fmt::Display for MerkleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "merkle tree has no leaves",
            Self::Mutated => "merkle tree is mutated: duplicate hashes are paired (CVE-2012-2459)",
        })
    }
}

impl core::error::Error for MerkleError {}

fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut both = [0u8; 64];
    both[..32].copy_from_slice(left);
    both[32..].copy_from_slice(right);
    sha256d(&both)
}

/// The merkle root of `txids`, refusing an empty or mutated list.
pub fn merkle_root(txids: &[Txid]) -> Result<MerkleRoot, MerkleError> {
    let mut level: Vec<[u8; 32]> = txids.iter().map(|txid| txid.to_byte_array()).collect();
    if level.is_empty() {
        return Err(MerkleError::Empty);
    }
    let mut mutated = false;
    while level.len() > 1 {
        mutated |= level.chunks_exact(2).any(|pair| pair[0] == pair[1]);
        level = next_level(&level);
    }
    if mutated {
        return Err(MerkleError::Mutated);
    }
    Ok(MerkleRoot::from_byte_array(level[0]))
}

fn next_level(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
    level.chunks(2).map(|pair| hash_pair(&pair[0], pair.get(1).unwrap_or(&pair[0]))).collect()
}

/// Proof that a txid is the `tx_idx`-th leaf of a tree with `n_txs` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleProof {
    pub tx_idx: u32,
    pub n_txs: u32,
    /// Sibling hashes from the leaf level up.
    pub branch: Vec<[u8; 32]>,
}

impl MerkleProof {
    /// Builds the proof for leaf `tx_idx`, or `None` when out of range.
    pub fn build(txids: &[Txid], tx_idx: usize) -> Option<Self> {
        if tx_idx >= txids.len() {
            return None;
        }
        let mut level: Vec<[u8; 32]> = txids.iter().map(|txid| txid.to_byte_array()).collect();
        let mut idx = tx_idx;
        let mut branch = Vec::new();
        while level.len() > 1 {
            let sibling = (idx ^ 1).min(level.len() - 1);
            branch.push(level[sibling]);
            level = next_level(&level);
            idx /= 2;
        }
        Some(Self { tx_idx: u32::try_from(tx_idx).ok()?, n_txs: u32::try_from(txids.len()).ok()?, branch })
    }

    /// Whether `txid` at this proof's position leads to `root`. The branch must have exactly the
    /// depth of a tree with `n_txs` leaves, so a proof cannot pass off an inner node as a leaf.
    pub fn verify(&self, txid: Txid, root: MerkleRoot) -> bool {
        if self.tx_idx >= self.n_txs || self.branch.len() != tree_depth(self.n_txs) {
            return false;
        }
        let mut hash = txid.to_byte_array();
        let (mut idx, mut width) = (self.tx_idx, self.n_txs);
        for sibling in &self.branch {
            let is_last_odd = idx == width - 1 && width % 2 == 1;
            if is_last_odd && *sibling != hash {
                return false;
            }
            hash = if idx % 2 == 0 { hash_pair(&hash, sibling) } else { hash_pair(sibling, &hash) };
            idx /= 2;
            width = width.div_ceil(2);
        }
        hash == root.to_byte_array()
    }
}

fn tree_depth(n_leaves: u32) -> usize {
    let mut depth = 0;
    let mut width = n_leaves;
    while width > 1 {
        width = width.div_ceil(2);
        depth += 1;
    }
    depth
}

impl Encode for MerkleProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.tx_idx.encode_to(out);
        self.n_txs.encode_to(out);
        write_list(out, &self.branch);
    }
}

impl Decode for MerkleProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { tx_idx: r.u32()?, n_txs: r.u32()?, branch: r.list("merkle branch hashes", MERKLE_DEPTH_MAX, 32)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{decode, encode};
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn txid(n: u8) -> Txid {
        Txid::from_byte_array(sha256d(&[n]))
    }

    #[test]
    fn single_leaf_is_its_own_root() {
        assert_eq!(merkle_root(&[txid(1)]), Ok(MerkleRoot::from_byte_array(txid(1).to_byte_array())));
        assert_eq!(merkle_root(&[]), Err(MerkleError::Empty));
    }

    #[test]
    fn bitcoin_block_100000() {
        // Block 100000's four transactions and its merkle root, as published by the Bitcoin network.
        let txids: Vec<Txid> = [
            "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
            "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
            "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
            "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
        ]
        .iter()
        .map(|s| s.parse().expect("hex"))
        .collect();
        let root = merkle_root(&txids).expect("valid");
        assert_eq!(root.to_string(), "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766");
    }

    #[test]
    fn duplicated_trailing_txids_are_mutations() {
        let (a, b, c) = (txid(1), txid(2), txid(3));
        let honest = merkle_root(&[a, b, c]).expect("valid");
        // The mutated list really does have the same root, which is the attack.
        let mut level: Vec<[u8; 32]> = [a, b, c, c].iter().map(|t| t.to_byte_array()).collect();
        while level.len() > 1 {
            level = next_level(&level);
        }
        assert_eq!(level[0], honest.to_byte_array());
        assert_eq!(merkle_root(&[a, b, c, c]), Err(MerkleError::Mutated));
        assert_eq!(merkle_root(&[a, a]), Err(MerkleError::Mutated));
        let (d, e, f) = (txid(4), txid(5), txid(6));
        assert_eq!(merkle_root(&[a, b, c, d, e, e]), Err(MerkleError::Mutated));
        // The last pair repeated: the mutation shows at the second level.
        assert_eq!(merkle_root(&[a, b, c, d, e, f, e, f]), Err(MerkleError::Mutated));
        // A repeat that Bitcoin's pairing does not hide changes the root instead; the
        // duplicate-txid rule refuses it.
        assert_ne!(merkle_root(&[a, b, c, d, c, d]), merkle_root(&[a, b, c, d]));
    }

    #[test]
    fn proofs_reject_wrong_positions_and_depths() {
        let txids: Vec<Txid> = (0..5).map(txid).collect();
        let root = merkle_root(&txids).expect("valid");
        let proof = MerkleProof::build(&txids, 4).expect("in range");
        assert!(proof.verify(txids[4], root));
        assert!(!proof.verify(txids[3], root));
        assert!(!MerkleProof { tx_idx: 3, ..proof.clone() }.verify(txids[4], root));
        assert!(!MerkleProof { n_txs: 9, ..proof.clone() }.verify(txids[4], root));
        let mut short = proof.clone();
        short.branch.pop();
        assert!(!short.verify(txids[4], root));
        assert_eq!(MerkleProof::build(&txids, 5), None);
        assert_eq!(decode::<MerkleProof>(&encode(&proof)), Ok(proof));
    }

    proptest! {
        #[test]
        fn every_leaf_has_a_verifying_proof(n in 1u8..40) {
            let txids: Vec<Txid> = (0..n).map(txid).collect();
            let root = merkle_root(&txids).expect("distinct leaves");
            for i in 0..txids.len() {
                let proof = MerkleProof::build(&txids, i).expect("in range");
                prop_assert!(proof.verify(txids[i], root));
                prop_assert_eq!(decode::<MerkleProof>(&encode(&proof)), Ok(proof));
            }
        }
    }
}

//! TEMPORARY STUB (snapshot branch): stands in for the lead's UTXO-set commitments until they
//! land on `main`; dropped when `main` is merged. The real module commits the MuHash3072 set
//! hash in bytes 32..64 of the coinbase input's signature slot; this stub keeps the names and
//! the slot, and hashes the whole set (slow, for tests only).

use crate::block::Block;
use crate::encode::Encode;
use crate::utxo::UtxoSet;
use alloc::vec::Vec;

/// What `block`'s coinbase commits to: the set hash of the UTXO set after its parent. `None`
/// for a block without a coinbase at height ≥ 1 (genesis).
pub fn block_commitment(block: &Block) -> Option<[u8; 32]> {
    let coinbase = block.txs.first()?;
    if coinbase.coinbase_height()? == 0 {
        return None;
    }
    let slot = &coinbase.inputs[0].signature.0;
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&slot[32..64]);
    Some(hash)
}

impl UtxoSet {
    /// STUB: SHA-256 of the coins in order (the real one is MuHash3072, cached).
    pub fn commitment(&self) -> [u8; 32] {
        let mut bytes = Vec::new();
        for (outpoint, coin) in self.iter() {
            outpoint.encode_to(&mut bytes);
            coin.encode_to(&mut bytes);
        }
        crate::hash::sha256(&bytes)
    }
}

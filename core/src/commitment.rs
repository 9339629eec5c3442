//! The UTXO-set commitment: every block after genesis commits, in its coinbase, to the set hash
//! of the UTXO set its parent left behind. This file owns the rule's three facts: the bytes a
//! coin contributes (`coin_element`), the set hash over them (`UtxoSetHash`, MuHash3072), and
//! where a coinbase carries the digest (`block_commitment`, `with_commitment`).
//!
//! MuHash3072 is Bitcoin Core's multiset hash (`gettxoutsetinfo muhash`): order-independent and
//! incremental (a coin joining multiplies, a coin leaving divides), with the security of the
//! discrete logarithm in a 3072-bit group, so no choice of coins finds a collision the way a
//! sum of hashes falls to Wagner's generalized birthday attack. docs/protocol.md §4.3 has the
//! arithmetic and why it was chosen.

use crate::block::Block;
use crate::encode::Encode;
use crate::hash::UtxoCommitment;
use crate::muhash::{MUHASH_BYTES, MuHash3072, MuHashDecodeError};
use crate::transaction::{OutPoint, Transaction};
use crate::utxo::Coin;
use alloc::vec::Vec;

/// The first height whose blocks carry a commitment: every block after genesis.
pub const UTXO_COMMITMENT_FROM_HEIGHT: u32 = 1;

/// Where in a coinbase's free 64-byte signature slot the commitment sits: bytes 32..64 (bytes
/// 0..8 are the miner's extra nonce, 8..32 stay free).
pub const COMMITMENT_OFFSET: usize = 32;

/// Bytes of a coin's element: outpoint (txid 32, vout 4) then coin (amount 8, owner 32, height 4,
/// coinbase flag 1), each as the wire encodes it.
pub const COIN_ELEMENT_BYTES: usize = 36 + 40 + 4 + 1;

/// The bytes one unspent coin contributes to the set hash (and to the store's checksum).
pub fn coin_element(outpoint: &OutPoint, coin: &Coin) -> [u8; COIN_ELEMENT_BYTES] {
    let mut bytes = Vec::with_capacity(COIN_ELEMENT_BYTES);
    outpoint.encode_to(&mut bytes);
    coin.encode_to(&mut bytes);
    bytes.try_into().expect("an outpoint and a coin encode to COIN_ELEMENT_BYTES")
}

/// The MuHash3072 of a set of coins, kept up to date coin by coin.
#[derive(Clone, Debug, Default)]
pub struct UtxoSetHash(MuHash3072);

impl UtxoSetHash {
    pub fn add(&mut self, outpoint: &OutPoint, coin: &Coin) {
        self.0.insert(&coin_element(outpoint, coin));
    }

    pub fn remove(&mut self, outpoint: &OutPoint, coin: &Coin) {
        self.0.remove(&coin_element(outpoint, coin));
    }

    /// The digest a coinbase commits to. It costs a modular inverse: callers cache it.
    pub fn commitment(&self) -> UtxoCommitment {
        UtxoCommitment::from_byte_array(self.0.finalize())
    }

    /// The state, normalized, for a shell to store with its tip.
    pub fn to_bytes(&self) -> [u8; MUHASH_BYTES] {
        self.0.to_bytes()
    }

    pub fn from_bytes(bytes: &[u8; MUHASH_BYTES]) -> Result<Self, MuHashDecodeError> {
        MuHash3072::from_bytes(bytes).map(Self)
    }
}

/// What `block`'s coinbase commits to, if its first transaction is a coinbase.
pub fn block_commitment(block: &Block) -> Option<UtxoCommitment> {
    block.txs.first().and_then(coinbase_commitment)
}

/// What a coinbase commits to: bytes 32..64 of its free slot.
pub fn coinbase_commitment(coinbase: &Transaction) -> Option<UtxoCommitment> {
    if !coinbase.is_coinbase() {
        return None;
    }
    let slot = &coinbase.inputs[0].signature.0;
    let bytes = slot[COMMITMENT_OFFSET..COMMITMENT_OFFSET + 32].try_into().expect("32 bytes");
    Some(UtxoCommitment::from_byte_array(bytes))
}

/// `coinbase` carrying `commitment` in its free slot.
pub fn with_commitment(mut coinbase: Transaction, commitment: UtxoCommitment) -> Transaction {
    if let Some(input) = coinbase.inputs.first_mut() {
        input.signature.0[COMMITMENT_OFFSET..COMMITMENT_OFFSET + 32].copy_from_slice(&commitment.to_byte_array());
    }
    coinbase
}

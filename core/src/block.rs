//! `Block`: a header and its transactions, the coinbase first.

use crate::encode::{self, Decode, DecodeError, Encode, Reader, compact_size_len, write_list};
use crate::hash::{BlockHash, MerkleRoot, Txid};
use crate::header::{HEADER_BYTES, Header};
use crate::limits::{BLOCK_BYTES_MAX, BLOCK_TXS_MAX};
use crate::merkle::{MerkleError, merkle_root};
use crate::transaction::{TX_BYTES_MIN, Transaction};
use alloc::vec::Vec;

/// A block: the header that carries the proof of work, and the transactions it commits to.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Block {
    pub header: Header,
    /// The coinbase first, then the rest; never empty.
    pub txs: Vec<Transaction>,
}

impl Block {
    pub fn block_hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    pub fn txids(&self) -> Vec<Txid> {
        self.txs.iter().map(Transaction::txid).collect()
    }

    /// The merkle root of the transactions, refusing a mutated list (CVE-2012-2459).
    pub fn compute_merkle_root(&self) -> Result<MerkleRoot, MerkleError> {
        merkle_root(&self.txids())
    }

    /// The encoded size in bytes, without encoding.
    pub fn size_bytes(&self) -> usize {
        HEADER_BYTES
            + compact_size_len(self.txs.len() as u64)
            + self.txs.iter().map(Transaction::size_bytes).sum::<usize>()
    }

    /// Decodes a block, refusing more than [`BLOCK_BYTES_MAX`] bytes before reading any.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        encode::decode_bounded(bytes, BLOCK_BYTES_MAX, "block bytes")
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        write_list(out, &self.txs);
    }
}

impl Decode for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = Header::decode_from(r)?;
        let txs: Vec<Transaction> = r.list("block transactions", BLOCK_TXS_MAX, TX_BYTES_MIN)?;
        if txs.is_empty() {
            return Err(DecodeError::Invalid { what: "block without transactions" });
        }
        Ok(Self { header, txs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{decode, encode};
    use crate::transaction::tests::any_tx;
    use proptest::prelude::*;

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        let bytes = alloc::vec![0u8; BLOCK_BYTES_MAX + 1];
        assert_eq!(
            Block::from_bytes(&bytes),
            Err(DecodeError::TooMany {
                what: "block bytes",
                count: BLOCK_BYTES_MAX as u64 + 1,
                max: BLOCK_BYTES_MAX as u64
            })
        );
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(txs in prop::collection::vec(any_tx(), 1..6), nonce in any::<u32>()) {
            let header = crate::params::Params::regtest().genesis_header();
            let block = Block { header: Header { nonce, ..header }, txs };
            let bytes = encode(&block);
            prop_assert_eq!(bytes.len(), block.size_bytes());
            let back: Block = decode(&bytes).expect("round trip");
            prop_assert_eq!(encode(&back), bytes);
            prop_assert_eq!(back, block);
        }
    }
}

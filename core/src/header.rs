//! `Header`: a block header in exactly Bitcoin's 80-byte layout, and its hash.

use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::{BlockHash, MerkleRoot, sha256d};
use crate::target::CompactTarget;
use alloc::vec::Vec;

/// The encoded size of a header, in bytes.
pub const HEADER_BYTES: usize = 80;

/// A block header: the 80 bytes that proof of work is computed over.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Header {
    /// Block version; tabchain blocks use 1.
    pub version: i32,
    /// Hash of the previous block's header; all zeros for a genesis block.
    pub prev_blockhash: BlockHash,
    /// Root of the merkle tree over the block's txids.
    pub merkle_root: MerkleRoot,
    /// Seconds since the Unix epoch, as the miner claims it.
    pub time: u32,
    /// The target this block's hash must meet.
    pub bits: CompactTarget,
    /// Free field the miner varies to search for a hash that meets the target.
    pub nonce: u32,
}

impl Header {
    /// The 80 bytes: version, prev hash, merkle root, time, bits, nonce, little-endian.
    pub fn to_bytes(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0; HEADER_BYTES];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(self.prev_blockhash.as_byte_array());
        out[36..68].copy_from_slice(self.merkle_root.as_byte_array());
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_consensus().to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Parses exactly 80 bytes.
    pub fn from_bytes(bytes: &[u8; HEADER_BYTES]) -> Self {
        let mut r = Reader::new(bytes);
        Self::decode_from(&mut r).expect("80 bytes always hold a header")
    }

    /// SHA-256d of the 80 bytes.
    pub fn block_hash(&self) -> BlockHash {
        BlockHash::from_byte_array(sha256d(&self.to_bytes()))
    }
}

impl Encode for Header {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decode for Header {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            version: r.i32()?,
            prev_blockhash: BlockHash::decode_from(r)?,
            merkle_root: MerkleRoot::decode_from(r)?,
            time: r.u32()?,
            bits: CompactTarget::decode_from(r)?,
            nonce: r.u32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{decode, encode};
    use alloc::string::ToString;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encode_decode_round_trip(bytes in any::<[u8; 32]>(), more in any::<[u8; 32]>(), fields in any::<(i32, u32, u32, u32)>()) {
            let header = Header {
                version: fields.0,
                prev_blockhash: BlockHash::from_byte_array(bytes),
                merkle_root: MerkleRoot::from_byte_array(more),
                time: fields.1,
                bits: CompactTarget::from_consensus(fields.2),
                nonce: fields.3,
            };
            let encoded = encode(&header);
            prop_assert_eq!(encoded.len(), HEADER_BYTES);
            prop_assert_eq!(decode::<Header>(&encoded), Ok(header));
            prop_assert_eq!(Header::from_bytes(&header.to_bytes()), header);
        }
    }

    const BITCOIN_GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    #[test]
    fn bitcoin_genesis_header() {
        let bytes = crate::hex::decode(BITCOIN_GENESIS).expect("hex");
        let header: Header = decode(&bytes).expect("80 bytes");
        assert_eq!(header.version, 1);
        assert_eq!(header.time, 1231006505);
        assert_eq!(header.bits, CompactTarget::from_consensus(0x1d00ffff));
        assert_eq!(header.nonce, 2083236893);
        assert_eq!(header.merkle_root.to_string(), "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
        assert_eq!(header.block_hash().to_string(), "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
        assert_eq!(encode(&header), bytes);
        assert_eq!(decode::<Header>(&bytes[..79]), Err(DecodeError::UnexpectedEnd { needed: 4, remaining: 3 }));
    }
}

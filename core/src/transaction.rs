//! Transactions: `OutPoint`, `TxIn`, `TxOut`, `Transaction`, and the txid.
//!
//! There are no scripts: an output names its owner's Ed25519 public key and an input carries
//! one signature by that key (see `sighash` for what it covers). The txid is the SHA-256d of
//! the whole canonical encoding, signatures included; since the encoding is canonical and
//! `verify_strict` admits one encoding per signature, nobody but the keyholder can produce a
//! different valid transaction with the same effect, so txids are not malleable.
//!
//! A coinbase has exactly one input, whose outpoint is `(Txid::ZERO, height)`: it commits to
//! the block height, so no two coinbases share a txid, and its signature slot carries free
//! miner data (an extra nonce).

use crate::amount::Amount;
use crate::encode::{self, Decode, DecodeError, Encode, Reader, compact_size_len, write_list};
use crate::hash::{Txid, sha256d};
use crate::limits::{TX_INPUTS_MAX, TX_OUTPUTS_MAX};
use crate::signature::{PublicKey, Signature};
use alloc::vec::Vec;

/// Encoded size of an outpoint.
pub const OUTPOINT_BYTES: usize = 32 + 4;
/// Encoded size of an input: outpoint and signature.
pub const TXIN_BYTES: usize = OUTPOINT_BYTES + 64;
/// Encoded size of an output: amount and public key.
pub const TXOUT_BYTES: usize = 8 + 32;
/// The smallest possible encoded transaction: one input and one output.
pub const TX_BYTES_MIN: usize = 4 + 1 + TXIN_BYTES + 1 + TXOUT_BYTES;

/// A reference to one output of an earlier transaction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct OutPoint {
    pub txid: Txid,
    /// Index of the output in that transaction (for a coinbase input: the block height).
    pub vout: u32,
}

impl OutPoint {
    /// The outpoint of the coinbase input of the block at `height`.
    pub const fn coinbase(height: u32) -> Self {
        Self { txid: Txid::ZERO, vout: height }
    }

    /// Whether this is the marker a coinbase input uses; it refers to no real output.
    pub fn is_coinbase_marker(&self) -> bool {
        self.txid == Txid::ZERO
    }
}

/// A spend of one earlier output.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TxIn {
    pub prev_out: OutPoint,
    /// The owner's signature of this transaction (see `sighash`); free data in a coinbase.
    pub signature: Signature,
}

/// A new coin: an amount and who may spend it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TxOut {
    pub amount: Amount,
    pub owner: PublicKey,
}

/// A transfer: spends `inputs` and creates `outputs`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Transaction {
    /// Format version; 1 today.
    pub version: u32,
    /// At least one, at most `TX_INPUTS_MAX`.
    pub inputs: Vec<TxIn>,
    /// At least one, at most `TX_OUTPUTS_MAX`.
    pub outputs: Vec<TxOut>,
}

impl Transaction {
    pub const VERSION: u32 = 1;

    /// SHA-256d of the canonical encoding.
    pub fn txid(&self) -> Txid {
        Txid::from_byte_array(sha256d(&encode::encode(self)))
    }

    /// Whether this is a coinbase (one input with the coinbase marker). Only a block's first
    /// transaction may be one.
    pub fn is_coinbase(&self) -> bool {
        matches!(self.inputs.as_slice(), [input] if input.prev_out.is_coinbase_marker())
    }

    /// The height a coinbase commits to.
    pub fn coinbase_height(&self) -> Option<u32> {
        self.is_coinbase().then(|| self.inputs[0].prev_out.vout)
    }

    /// The encoded size in bytes, without encoding.
    pub fn size_bytes(&self) -> usize {
        4 + compact_size_len(self.inputs.len() as u64)
            + self.inputs.len() * TXIN_BYTES
            + compact_size_len(self.outputs.len() as u64)
            + self.outputs.len() * TXOUT_BYTES
    }
}

impl Encode for OutPoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.txid.encode_to(out);
        self.vout.encode_to(out);
    }
}

impl Decode for OutPoint {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { txid: Txid::decode_from(r)?, vout: r.u32()? })
    }
}

impl Encode for TxIn {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.prev_out.encode_to(out);
        out.extend_from_slice(&self.signature.0);
    }
}

impl Decode for TxIn {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { prev_out: OutPoint::decode_from(r)?, signature: Signature(r.array()?) })
    }
}

impl Encode for TxOut {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.amount.encode_to(out);
        out.extend_from_slice(&self.owner.0);
    }
}

impl Decode for TxOut {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { amount: Amount::decode_from(r)?, owner: PublicKey(r.array()?) })
    }
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.version.encode_to(out);
        write_list(out, &self.inputs);
        write_list(out, &self.outputs);
    }
}

impl Decode for Transaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u32()?;
        let inputs: Vec<TxIn> = r.list("transaction inputs", TX_INPUTS_MAX, TXIN_BYTES)?;
        let outputs: Vec<TxOut> = r.list("transaction outputs", TX_OUTPUTS_MAX, TXOUT_BYTES)?;
        if inputs.is_empty() {
            return Err(DecodeError::Invalid { what: "transaction without inputs" });
        }
        if outputs.is_empty() {
            return Err(DecodeError::Invalid { what: "transaction without outputs" });
        }
        Ok(Self { version, inputs, outputs })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::encode::{decode, encode};
    use alloc::vec;
    use proptest::prelude::*;

    pub(crate) fn any_tx() -> impl Strategy<Value = Transaction> {
        let outpoint = (any::<[u8; 32]>(), any::<u32>())
            .prop_map(|(txid, vout)| OutPoint { txid: Txid::from_byte_array(txid), vout });
        let input = (outpoint, any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(prev_out, r, s)| {
            let mut sig = [0; 64];
            sig[..32].copy_from_slice(&r);
            sig[32..].copy_from_slice(&s);
            TxIn { prev_out, signature: Signature(sig) }
        });
        let output = (0..=Amount::MAX_MONEY.to_units(), any::<[u8; 32]>()).prop_map(|(units, key)| TxOut {
            amount: Amount::from_units(units).expect("in range"),
            owner: PublicKey(key),
        });
        (any::<u32>(), prop::collection::vec(input, 1..5), prop::collection::vec(output, 1..5))
            .prop_map(|(version, inputs, outputs)| Transaction { version, inputs, outputs })
    }

    #[test]
    fn coinbase_marker_and_height() {
        let tx = Transaction {
            version: 1,
            inputs: vec![TxIn { prev_out: OutPoint::coinbase(42), signature: Signature::default() }],
            outputs: vec![TxOut { amount: Amount::ONE_TAB, owner: PublicKey([7; 32]) }],
        };
        assert!(tx.is_coinbase());
        assert_eq!(tx.coinbase_height(), Some(42));
        assert_eq!(tx.size_bytes(), TX_BYTES_MIN);
        assert_eq!(encode(&tx).len(), TX_BYTES_MIN);
        let two_inputs = Transaction { inputs: vec![tx.inputs[0]; 2], ..tx.clone() };
        assert!(!two_inputs.is_coinbase());
    }

    #[test]
    fn empty_lists_and_oversized_counts_are_refused() {
        let mut bytes = vec![1, 0, 0, 0, 0, 1];
        bytes.extend_from_slice(&[0; TXOUT_BYTES]);
        assert_eq!(decode::<Transaction>(&bytes), Err(DecodeError::Invalid { what: "transaction without inputs" }));
        // A count one above the limit is refused before any input is read.
        let mut bytes = vec![1, 0, 0, 0];
        crate::encode::write_compact_size(&mut bytes, TX_INPUTS_MAX as u64 + 1);
        assert_eq!(
            decode::<Transaction>(&bytes),
            Err(DecodeError::TooMany {
                what: "transaction inputs",
                count: TX_INPUTS_MAX as u64 + 1,
                max: TX_INPUTS_MAX as u64
            })
        );
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(tx in any_tx()) {
            let bytes = encode(&tx);
            prop_assert_eq!(bytes.len(), tx.size_bytes());
            let back: Transaction = decode(&bytes).expect("round trip");
            prop_assert_eq!(encode(&back), bytes);
            prop_assert_eq!(back, tx);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_round_trip_when_accepted(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(tx) = decode::<Transaction>(&bytes) {
                prop_assert_eq!(encode(&tx), bytes);
            }
        }
    }
}

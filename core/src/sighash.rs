//! What an input's signature covers, and signing and checking inputs.
//!
//! The message input `i` signs is the 32-byte
//! `SHA-256d("tabchain/sighash/v2" ‖ genesis hash ‖ i (u32 LE) ‖ digest)`, where `digest` is
//! `SHA-256d` of the transaction without signatures (the version, every input's outpoint and
//! every output, in the canonical encoding). So a signature covers all inputs, all outputs and
//! the network: a relayed transaction can be neither altered nor replayed on another network.
//!
//! The digest is computed once per transaction (`TxDigest`), so checking every input costs one
//! pass over the transaction plus a fixed 87 bytes per input, not a pass per input: the largest
//! transaction costs what its size costs, like BIP 143 in Bitcoin.

use crate::encode::{Encode, write_compact_size};
use crate::hash::{BlockHash, sha256d};
use crate::signature::{SecretKey, Signature, SignatureError, verify_signature};
use crate::transaction::{OutPoint, Transaction, TxIn, TxOut};
use alloc::vec::Vec;

/// Domain-separation tag: no other tabchain hash starts with these bytes.
pub const SIGHASH_TAG: &[u8] = b"tabchain/sighash/v2";

/// `SHA-256d` of a transaction without its signatures: the part of every input's message that
/// does not depend on the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxDigest([u8; 32]);

impl TxDigest {
    pub fn of(tx: &Transaction) -> Self {
        let mut unsigned = Vec::with_capacity(tx.size_bytes());
        tx.version.encode_to(&mut unsigned);
        write_compact_size(&mut unsigned, tx.inputs.len() as u64);
        for input in &tx.inputs {
            input.prev_out.encode_to(&mut unsigned);
        }
        write_compact_size(&mut unsigned, tx.outputs.len() as u64);
        for output in &tx.outputs {
            output.encode_to(&mut unsigned);
        }
        Self(sha256d(&unsigned))
    }

    /// The 32-byte message that input `input_idx` signs on the network whose genesis is `genesis`.
    pub fn sighash(&self, input_idx: u32, genesis: BlockHash) -> [u8; 32] {
        let mut message = [0u8; SIGHASH_MESSAGE_BYTES];
        let (tag, rest) = message.split_at_mut(SIGHASH_TAG.len());
        tag.copy_from_slice(SIGHASH_TAG);
        let (network, rest) = rest.split_at_mut(32);
        network.copy_from_slice(genesis.as_byte_array());
        let (index, digest) = rest.split_at_mut(4);
        index.copy_from_slice(&input_idx.to_le_bytes());
        digest.copy_from_slice(&self.0);
        sha256d(&message)
    }
}

/// Bytes hashed per input: tag, genesis hash, input index, transaction digest.
const SIGHASH_MESSAGE_BYTES: usize = SIGHASH_TAG.len() + 32 + 4 + 32;

/// The 32-byte message that input `input_idx` signs on the network whose genesis is `genesis`
/// (one input; for several, take the `TxDigest` once).
pub fn sighash(tx: &Transaction, input_idx: u32, genesis: BlockHash) -> [u8; 32] {
    TxDigest::of(tx).sighash(input_idx, genesis)
}

/// Signs input `input_idx` of `tx` with `key`, in place.
pub fn sign_input(tx: &mut Transaction, input_idx: usize, key: &SecretKey, genesis: BlockHash) {
    let idx = u32::try_from(input_idx).expect("input index fits in u32 (TX_INPUTS_MAX)");
    let message = sighash(tx, idx, genesis);
    tx.inputs[input_idx].signature = key.sign(&message);
}

/// A version-1 transaction spending `inputs`, all owned by `key`, to `outputs`, every input
/// signed for the network whose genesis is `genesis`.
pub fn signed_transaction(
    inputs: &[OutPoint],
    outputs: Vec<TxOut>,
    key: &SecretKey,
    genesis: BlockHash,
) -> Transaction {
    let inputs = inputs.iter().map(|&prev_out| TxIn { prev_out, signature: Signature::default() }).collect();
    let mut tx = Transaction { version: Transaction::VERSION, inputs, outputs };
    let digest = TxDigest::of(&tx);
    for (idx, input) in (0u32..).zip(tx.inputs.iter_mut()) {
        input.signature = key.sign(&digest.sighash(idx, genesis));
    }
    tx
}

/// Checks that input `input_idx` of `tx`, whose digest is `digest`, is signed by `owner` for
/// this network.
pub fn verify_input(
    tx: &Transaction,
    digest: &TxDigest,
    input_idx: usize,
    owner: &[u8; 32],
    genesis: BlockHash,
) -> Result<(), SignatureError> {
    let idx = u32::try_from(input_idx).map_err(|_| SignatureError::Invalid)?;
    let input = tx.inputs.get(input_idx).ok_or(SignatureError::Invalid)?;
    verify_signature(owner, &digest.sighash(idx, genesis), &input.signature.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::hash::Txid;
    use crate::signature::{PublicKey, Signature};
    use crate::transaction::{OutPoint, TxIn, TxOut};
    use alloc::vec;

    fn verify(tx: &Transaction, idx: usize, owner: &[u8; 32], genesis: BlockHash) -> Result<(), SignatureError> {
        verify_input(tx, &TxDigest::of(tx), idx, owner, genesis)
    }

    fn signed_tx(key: &SecretKey, genesis: BlockHash) -> Transaction {
        let prev = |n: u8| OutPoint { txid: Txid::from_byte_array([n; 32]), vout: u32::from(n) };
        let mut tx = Transaction {
            version: 1,
            inputs: vec![
                TxIn { prev_out: prev(1), signature: Signature::default() },
                TxIn { prev_out: prev(2), signature: Signature::default() },
            ],
            outputs: vec![
                TxOut { amount: Amount::ONE_TAB, owner: PublicKey([9; 32]) },
                TxOut { amount: Amount::from_units(5).expect("small"), owner: key.public_key() },
            ],
        };
        sign_input(&mut tx, 0, key, genesis);
        sign_input(&mut tx, 1, key, genesis);
        tx
    }

    #[test]
    fn signature_covers_inputs_outputs_and_network() {
        let key = SecretKey::from_bytes(&[3; 32]);
        let owner = key.public_key().0;
        let genesis = BlockHash::from_byte_array([1; 32]);
        let tx = signed_tx(&key, genesis);
        assert_eq!(verify(&tx, 0, &owner, genesis), Ok(()));
        assert_eq!(verify(&tx, 1, &owner, genesis), Ok(()));

        // Each alteration breaks every signature.
        let mut altered = Vec::new();
        let mut t = tx.clone();
        t.outputs[0].amount = Amount::from_units(2 * Amount::ONE_TAB.to_units()).expect("small");
        altered.push(("output amount", t));
        let mut t = tx.clone();
        t.outputs[0].owner = PublicKey([8; 32]);
        altered.push(("output owner", t));
        let mut t = tx.clone();
        t.outputs.pop();
        altered.push(("dropped output", t));
        let mut t = tx.clone();
        t.inputs[1].prev_out.vout += 1;
        altered.push(("other input", t));
        let mut t = tx.clone();
        t.version = 2;
        altered.push(("version", t));
        for (what, t) in &altered {
            for i in 0..t.inputs.len() {
                assert_eq!(verify(t, i, &owner, genesis), Err(SignatureError::Invalid), "{what}, input {i}");
            }
        }
        // Another network, another input position, another key.
        let other_net = BlockHash::from_byte_array([2; 32]);
        assert_eq!(verify(&tx, 0, &owner, other_net), Err(SignatureError::Invalid));
        let mut swapped = tx.clone();
        swapped.inputs.swap(0, 1);
        swapped.inputs[0].prev_out = tx.inputs[0].prev_out;
        swapped.inputs[1].prev_out = tx.inputs[1].prev_out;
        assert_eq!(verify(&swapped, 0, &owner, genesis), Err(SignatureError::Invalid));
        let stranger = SecretKey::from_bytes(&[4; 32]).public_key().0;
        assert_eq!(verify(&tx, 0, &stranger, genesis), Err(SignatureError::Invalid));
        assert_eq!(verify(&tx, 2, &owner, genesis), Err(SignatureError::Invalid));
    }

    /// The message of version 1, which hashed the whole transaction again for every input.
    fn sighash_v1(tx: &Transaction, input_idx: u32, genesis: BlockHash) -> [u8; 32] {
        let mut message = Vec::new();
        message.extend_from_slice(b"tabchain/sighash/v1");
        genesis.encode_to(&mut message);
        input_idx.encode_to(&mut message);
        tx.version.encode_to(&mut message);
        write_compact_size(&mut message, tx.inputs.len() as u64);
        tx.inputs.iter().for_each(|i| i.prev_out.encode_to(&mut message));
        write_compact_size(&mut message, tx.outputs.len() as u64);
        tx.outputs.iter().for_each(|o| o.encode_to(&mut message));
        sha256d(&message)
    }

    #[test]
    fn a_signature_over_the_version_1_message_is_refused() {
        let key = SecretKey::from_bytes(&[3; 32]);
        let genesis = BlockHash::from_byte_array([1; 32]);
        let mut tx = signed_tx(&key, genesis);
        tx.inputs[0].signature = key.sign(&sighash_v1(&tx, 0, genesis));
        assert_eq!(verify(&tx, 0, &key.public_key().0, genesis), Err(SignatureError::Invalid));
        assert_eq!(verify(&tx, 1, &key.public_key().0, genesis), Ok(()));
    }

    #[test]
    fn each_input_hashes_a_fixed_87_bytes_over_the_digest_and_the_vector_holds() {
        assert_eq!(SIGHASH_MESSAGE_BYTES, 87);
        let genesis = BlockHash::from_byte_array([1; 32]);
        let mut tx = signed_tx(&SecretKey::from_bytes(&[3; 32]), genesis);
        tx.outputs[1].owner = PublicKey([7; 32]);
        // The vector in docs/protocol.md §4.1.
        assert_eq!(crate::hex::encode(&TxDigest::of(&tx).0), DIGEST_VECTOR);
        assert_eq!(crate::hex::encode(&sighash(&tx, 1, genesis)), SIGHASH_VECTOR);
    }

    const DIGEST_VECTOR: &str = "620c2baf6bcf66fe6f251456cc3805e403703130485a01bdc270edefdaa1f5f6";
    const SIGHASH_VECTOR: &str = "d25223f13fc60a82ab5508150973ebdb7af8eac37128dc61d1c2b2f924ac9a5e";
}

//! What an input's signature covers, and signing and checking inputs.
//!
//! The message signed for input `i` is the 32-byte SHA-256d of
//! `"tabchain/sighash/v1" ‖ genesis hash ‖ i (u32 LE) ‖ the transaction without signatures`,
//! where the transaction without signatures is the version, every input's outpoint and every
//! output, in the canonical encoding. So a signature covers all inputs, all outputs and the
//! network: a relayed transaction can be neither altered nor replayed on another network.

use crate::encode::{Encode, write_compact_size};
use crate::hash::{BlockHash, sha256d};
use crate::signature::{SecretKey, Signature, SignatureError, verify_signature};
use crate::transaction::{OutPoint, Transaction, TxIn, TxOut};
use alloc::vec::Vec;

/// Domain-separation tag: no other tabchain hash starts with these bytes.
pub const SIGHASH_TAG: &[u8] = b"tabchain/sighash/v1";

/// The 32-byte message that input `input_idx` signs on the network whose genesis is `genesis`.
pub fn sighash(tx: &Transaction, input_idx: u32, genesis: BlockHash) -> [u8; 32] {
    let mut message = Vec::with_capacity(SIGHASH_TAG.len() + 32 + 4 + tx.size_bytes());
    message.extend_from_slice(SIGHASH_TAG);
    genesis.encode_to(&mut message);
    input_idx.encode_to(&mut message);
    tx.version.encode_to(&mut message);
    write_compact_size(&mut message, tx.inputs.len() as u64);
    for input in &tx.inputs {
        input.prev_out.encode_to(&mut message);
    }
    write_compact_size(&mut message, tx.outputs.len() as u64);
    for output in &tx.outputs {
        output.encode_to(&mut message);
    }
    sha256d(&message)
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
    for i in 0..tx.inputs.len() {
        sign_input(&mut tx, i, key, genesis);
    }
    tx
}

/// Checks that input `input_idx` of `tx` is signed by `owner` for this network.
pub fn verify_input(
    tx: &Transaction,
    input_idx: usize,
    owner: &[u8; 32],
    genesis: BlockHash,
) -> Result<(), SignatureError> {
    let idx = u32::try_from(input_idx).map_err(|_| SignatureError::Invalid)?;
    let input = tx.inputs.get(input_idx).ok_or(SignatureError::Invalid)?;
    verify_signature(owner, &sighash(tx, idx, genesis), &input.signature.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::hash::Txid;
    use crate::signature::{PublicKey, Signature};
    use crate::transaction::{OutPoint, TxIn, TxOut};
    use alloc::vec;

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
        assert_eq!(verify_input(&tx, 0, &owner, genesis), Ok(()));
        assert_eq!(verify_input(&tx, 1, &owner, genesis), Ok(()));

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
                assert_eq!(verify_input(t, i, &owner, genesis), Err(SignatureError::Invalid), "{what}, input {i}");
            }
        }
        // Another network, another input position, another key.
        let other_net = BlockHash::from_byte_array([2; 32]);
        assert_eq!(verify_input(&tx, 0, &owner, other_net), Err(SignatureError::Invalid));
        let mut swapped = tx.clone();
        swapped.inputs.swap(0, 1);
        swapped.inputs[0].prev_out = tx.inputs[0].prev_out;
        swapped.inputs[1].prev_out = tx.inputs[1].prev_out;
        assert_eq!(verify_input(&swapped, 0, &owner, genesis), Err(SignatureError::Invalid));
        let stranger = SecretKey::from_bytes(&[4; 32]).public_key().0;
        assert_eq!(verify_input(&tx, 0, &stranger, genesis), Err(SignatureError::Invalid));
        assert_eq!(verify_input(&tx, 2, &owner, genesis), Err(SignatureError::Invalid));
    }
}

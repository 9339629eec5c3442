//! A confirmed transaction that a node holds no block for (below a snapshot it joined by, or
//! below the blocks a pruned tab keeps), proven against the node's own header chain: the relay
//! hands over the transaction, the hash of its block and a merkle inclusion proof, and the node
//! checks that the block is on its active header chain and that the proof leads from the txid to
//! that header's merkle root. Only then does a wallet show the entry, marked as proven; what it
//! received is read from the proven transaction itself, not taken from the relay.

use crate::amount::Amount;
use crate::block::Block;
use crate::chain::Chain;
use crate::encode::{decode, encode};
use crate::explorer::tx_from_hex;
use crate::hash::{BlockHash, Txid};
use crate::hex;
use crate::merkle::MerkleProof;
use crate::signature::PublicKey;
use crate::transaction::Transaction;
use alloc::string::{String, ToString};
use core::fmt;

/// What a `ProvenTxView` was checked for, in words for the page.
pub const PROVEN_TX_CHECKS: &str =
    "proven: its block is on this node's active header chain and a merkle proof leads from it to that header";

/// A transaction, the block said to hold it, and the proof of its place there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxProof {
    pub block: BlockHash,
    pub tx: Transaction,
    pub proof: MerkleProof,
}

/// A `TxProof` as the relay's API serves it (`GET /api/tx/{txid}/proof`): hashes in display
/// order, the transaction and the proof (`MerkleProof`'s encoding) in hex.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxProofView {
    pub txid: String,
    pub block: String,
    pub height: u32,
    pub tx_hex: String,
    pub proof_hex: String,
}

/// The proof that `block`'s transaction at `position` is in it; `None` past its last.
pub fn tx_proof_view(block: &Block, height: u32, position: usize) -> Option<TxProofView> {
    let tx = block.txs.get(position)?;
    let proof = MerkleProof::build(&block.txids(), position)?;
    Some(TxProofView {
        txid: tx.txid().to_string(),
        block: block.block_hash().to_string(),
        height,
        tx_hex: hex::encode(&encode(tx)),
        proof_hex: hex::encode(&encode(&proof)),
    })
}

impl TxProof {
    /// A proof handed in as the API serves it; `Err` names the part that does not decode.
    pub fn from_hex(block: &str, tx_hex: &str, proof_hex: &str) -> Result<Self, TxProofError> {
        let block = block.parse().map_err(|_| TxProofError::Undecodable { what: "block hash" })?;
        let tx = tx_from_hex(tx_hex).map_err(|_| TxProofError::Undecodable { what: "transaction" })?;
        let proof = hex::decode(proof_hex)
            .ok()
            .and_then(|bytes| decode(&bytes).ok())
            .ok_or(TxProofError::Undecodable { what: "merkle proof" })?;
        Ok(Self { block, tx, proof })
    }
}

/// Why a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxProofError {
    /// A part of the proof handed in is not valid hex of its kind.
    Undecodable { what: &'static str },
    /// The block is not on this node's active header chain.
    NotOnActiveChain { block: BlockHash },
    /// The proof does not lead from the transaction to that block's merkle root.
    NotInBlock { txid: Txid, block: BlockHash },
}

impl fmt::Display for TxProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undecodable { what } => write!(f, "the proof's {what} does not decode"),
            Self::NotOnActiveChain { block } => {
                write!(f, "block {block} is not on this node's active header chain")
            }
            Self::NotInBlock { txid, block } => {
                write!(f, "the proof does not place transaction {txid} in block {block}")
            }
        }
    }
}

impl core::error::Error for TxProofError {}

/// A proven transaction as a wallet's history shows it.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenTxView {
    pub txid: String,
    pub block: String,
    pub height: u32,
    pub confirmations: u32,
    /// What the proven transaction pays `owner`, read from the transaction itself.
    pub received_units: u64,
    /// The same in TAB, as the wallet's history shows amounts.
    pub received: String,
    /// `PROVEN_TX_CHECKS`.
    pub verified: &'static str,
}

/// Checks `proof` against `chain`'s active header chain, and what it paid `owner`.
pub fn check_tx_proof(chain: &Chain, proof: &TxProof, owner: &PublicKey) -> Result<ProvenTxView, TxProofError> {
    let TxProof { block, tx, proof } = proof;
    let header = chain
        .header(block)
        .filter(|_| chain.is_active(block))
        .ok_or(TxProofError::NotOnActiveChain { block: *block })?;
    let txid = tx.txid();
    if !proof.verify(txid, header.header.merkle_root) {
        return Err(TxProofError::NotInBlock { txid, block: *block });
    }
    let received: u64 = tx.outputs.iter().filter(|o| o.owner == *owner).map(|o| o.amount.to_units()).sum();
    let received_tab = Amount::from_units(received).map_or_else(|_| received.to_string(), |a| a.to_string());
    Ok(ProvenTxView {
        txid: txid.to_string(),
        block: block.to_string(),
        height: header.height,
        confirmations: chain.height() - header.height + 1,
        received_units: received,
        received: received_tab,
        verified: PROVEN_TX_CHECKS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    /// A chain whose block 3 holds a payment to `payee`, and that payment's proof.
    fn paid() -> (Builder, TxProof, PublicKey) {
        let mut b = Builder::new();
        let (coin, value) = b.mature_coin();
        let payee = crate::signature::SecretKey::from_bytes(&[5; 32]).public_key();
        let fee = units(1000);
        let outputs =
            alloc::vec![crate::transaction::TxOut { amount: value.checked_sub(fee).expect("small fee"), owner: payee }];
        let tx = spend(&[coin], outputs, b.genesis());
        let block = b.block_on(b.chain.tip_hash(), alloc::vec![tx.clone()], fee);
        let hash = block.block_hash();
        let proof = MerkleProof::build(&block.txids(), 1).expect("in range");
        b.chain.accept_block(block, NOW).expect("valid");
        b.extend(2);
        (b, TxProof { block: hash, tx, proof }, payee)
    }

    #[test]
    fn a_proven_payment_shows_what_it_paid_from_the_transaction_itself() {
        let (b, proof, payee) = paid();
        let view = check_tx_proof(&b.chain, &proof, &payee).expect("proven");
        assert_eq!(view.txid, proof.tx.txid().to_string());
        assert_eq!(view.confirmations, 3);
        assert_eq!(Amount::from_units(view.received_units).expect("in range"), proof.tx.outputs[0].amount);
        assert_eq!(view.verified, PROVEN_TX_CHECKS);
    }

    #[test]
    fn the_served_form_round_trips_and_undecodable_parts_are_named() {
        let (b, proof, payee) = paid();
        let block = b.chain.entry(&proof.block).expect("kept").block.clone();
        let view = tx_proof_view(&block, 3, 1).expect("in range");
        let parsed = TxProof::from_hex(&view.block, &view.tx_hex, &view.proof_hex).expect("decodes");
        assert_eq!(parsed, proof);
        assert!(check_tx_proof(&b.chain, &parsed, &payee).is_ok());
        assert_eq!(tx_proof_view(&block, 3, 2), None);
        let bad = TxProof::from_hex(&view.block, &view.tx_hex, "00");
        assert_eq!(bad, Err(TxProofError::Undecodable { what: "merkle proof" }));
        let bad = TxProof::from_hex("zz", &view.tx_hex, &view.proof_hex);
        assert_eq!(bad, Err(TxProofError::Undecodable { what: "block hash" }));
    }

    #[test]
    fn a_proof_for_another_transaction_or_block_is_refused() {
        let (b, proof, payee) = paid();
        let mut other_tx = proof.clone();
        other_tx.tx.outputs[0].amount = Amount::from_units(1).expect("small");
        let txid = other_tx.tx.txid();
        assert_eq!(
            check_tx_proof(&b.chain, &other_tx, &payee),
            Err(TxProofError::NotInBlock { txid, block: proof.block })
        );
        let elsewhere = TxProof { block: b.chain.tip_hash(), ..proof.clone() };
        let txid = proof.tx.txid();
        let block = elsewhere.block;
        assert_eq!(check_tx_proof(&b.chain, &elsewhere, &payee), Err(TxProofError::NotInBlock { txid, block }));
        let unknown = TxProof { block: BlockHash::from_byte_array([4; 32]), ..proof };
        let block = unknown.block;
        assert_eq!(check_tx_proof(&b.chain, &unknown, &payee), Err(TxProofError::NotOnActiveChain { block }));
    }
}

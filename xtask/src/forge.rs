//! Blocks made up front for the browser tests and benchmarks: for the end-to-end test "a tab
//! never accepts a block the relay would reject", one valid block on regtest's genesis and a set
//! that each break one consensus rule; for the sync benchmark, a long valid regtest chain. Both
//! are written as JSON for the Playwright scripts. For the scale benchmark, a long chain whose
//! blocks each carry one signed payment ([`payment_chain`]).

use std::path::Path;

use anyhow::Context as _;
use serde_json::json;
use tabchain_core::{
    Amount, Block, BlockHash, Chain, CompactTarget, OutPoint, Params, SecretKey, TxOut, UtxoCommitment, assemble_block,
    child_block, coinbase, encode, hex, search_nonce, signed_transaction,
};

/// Nonces tried to meet (or, for the bad-proof case, to miss) a target.
const NONCE_TRIES: u32 = 1 << 24;
/// How far past the clock the "too new" block is dated: well beyond any network's limit.
const TOO_NEW_S: u32 = 3 * 3600;

fn mined(block: Block) -> Block {
    let header = search_nonce(&block.header, NONCE_TRIES).expect("regtest targets are easy");
    Block { header, ..block }
}

/// Recomputes the merkle root (after the transactions changed) and mines again.
fn rerooted(mut block: Block) -> Block {
    block.header.merkle_root = block.compute_merkle_root().expect("not a mutated list");
    mined(block)
}

/// A forged block: what is wrong with it, the words the refusal must contain, and its bytes.
pub(crate) struct ForgedBlock {
    pub name: &'static str,
    /// Part of the rule's message (`BlockError`'s text), which the relay's 400 and the tab's
    /// refusal both carry; `None` for bytes that are not a block.
    pub reason: Option<&'static str>,
    pub bytes: Vec<u8>,
}

/// The valid block 1, and each case of an invalid one.
pub(crate) fn forged_blocks(now: u32) -> (Block, Vec<ForgedBlock>) {
    let chain = Chain::new(Params::regtest());
    let genesis = chain.tip();
    let key = SecretKey::from_bytes(&[9; 32]);
    let owner = key.public_key();
    let subsidy = chain.params().subsidy(1);
    let template = |extra: u64, time: u32| {
        child_block(&chain, genesis, owner, extra, time, vec![], Amount::ZERO).expect("one coinbase")
    };
    let valid = mined(template(0, now));
    let mut cases: Vec<(&'static str, &'static str, Block)> = Vec::new();

    let mut bad_pow = template(1, now);
    let target = bad_pow.header.bits.to_target().expect("valid bits");
    bad_pow.header = (0..NONCE_TRIES)
        .map(|nonce| tabchain_core::Header { nonce, ..bad_pow.header })
        .find(|h| !target.is_met_by(h.block_hash()))
        .expect("half of all hashes miss regtest's target");
    cases.push(("proof of work above the target", "proof of work", bad_pow));

    let mut wrong_bits = template(2, now);
    wrong_bits.header.bits = CompactTarget::from_consensus(0x2000ffff);
    cases.push(("bits other than the difficulty rule's", "bits", mined(wrong_bits)));

    let genesis_time = genesis.header().time;
    let too_old = mined(template(3, genesis_time));
    cases.push(("time not after the median of the last blocks", "not after median-time-past", too_old));
    let too_new = mined(template(4, now + TOO_NEW_S));
    cases.push(("time too far ahead of the clock", "too far in the future", too_new));

    let mut merkle = template(5, now);
    merkle.header.merkle_root = tabchain_core::MerkleRoot::from_byte_array([7; 32]);
    cases.push(("merkle root that does not match the transactions", "merkle root does not match", mined(merkle)));

    let mut overpaid = template(6, now);
    overpaid.txs[0].outputs[0].amount = subsidy.checked_add(Amount::from_units(1).expect("1 unit")).expect("small");
    cases.push(("coinbase paying more than the subsidy", "coinbase pays", rerooted(overpaid)));

    let commitment = chain.utxos().commitment();
    let mut wrong_height = template(7, now);
    wrong_height.txs[0] = coinbase(2, subsidy, owner, 7, commitment);
    cases.push(("coinbase committing to the wrong height", "coinbase commits to height", rerooted(wrong_height)));

    let mut wrong_set = template(12, now);
    wrong_set.txs[0] = coinbase(1, subsidy, owner, 12, UtxoCommitment::from_byte_array([0xc0; 32]));
    cases.push(("coinbase committing to another UTXO set", "commits to UTXO set", rerooted(wrong_set)));

    let mut two_coinbases = template(8, now);
    two_coinbases.txs.push(coinbase(1, subsidy, owner, 80, commitment));
    cases.push(("a second coinbase", "is a second coinbase", rerooted(two_coinbases)));

    let missing = OutPoint { txid: tabchain_core::Txid::from_byte_array([3; 32]), vout: 0 };
    let phantom = |value: u64| {
        signed_transaction(
            &[missing],
            vec![TxOut { amount: Amount::from_units(value).expect("small"), owner }],
            &key,
            chain.params().genesis_hash(),
        )
    };
    let mut spends_nothing = template(9, now);
    spends_nothing.txs.push(phantom(1_000));
    let spends_nothing = rerooted(spends_nothing);
    cases.push(("a transaction spending a coin that does not exist", "does not exist or is spent", spends_nothing));

    let first = coinbase(1, subsidy, owner, 10, commitment);
    let pair = [phantom(2_000), phantom(3_000)];
    let mut mutated = assemble_block(genesis.block_hash(), valid.header.bits, now, first, pair.to_vec())
        .expect("an odd list is not mutated");
    // Bitcoin's CVE-2012-2459: repeating the last transaction of an odd level keeps the root.
    mutated.txs.push(mutated.txs[2].clone());
    let mutated = mined(mutated);
    cases.push(("a duplicated transaction under an unchanged merkle root", "mutated transaction list", mutated));

    let mut orphan = template(11, now);
    orphan.header.prev_blockhash = BlockHash::from_byte_array([5; 32]);
    cases.push(("a parent nobody has", "unknown parent", mined(orphan)));

    let mut forged: Vec<ForgedBlock> = cases
        .into_iter()
        .map(|(name, reason, block)| ForgedBlock { name, reason: Some(reason), bytes: encode(&block) })
        .collect();
    let mut truncated = encode(&valid);
    truncated.truncate(truncated.len() - 1);
    forged.push(ForgedBlock { name: "bytes that end mid-block", reason: None, bytes: truncated });
    (valid, forged)
}

/// Writes `forged-blocks.json` into `dir`: `{genesis, valid, invalid: [{name, reason, hex}]}`.
pub(crate) fn write_forged_blocks(dir: &Path, now: u32) -> anyhow::Result<std::path::PathBuf> {
    let (valid, invalid) = forged_blocks(now);
    let doc = json!({
        "genesis": Params::regtest().genesis_hash().to_string(),
        "valid": { "hash": valid.block_hash().to_string(), "hex": hex::encode(&encode(&valid)) },
        "invalid": invalid
            .iter()
            .map(|f| json!({ "name": f.name, "reason": f.reason, "hex": hex::encode(&f.bytes) }))
            .collect::<Vec<_>>(),
    });
    std::fs::create_dir_all(dir)?;
    let path = dir.join("forged-blocks.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc)?).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A valid regtest chain of `n` blocks after genesis, dated at the target spacing from
/// genesis on (so well in the past), as the hex of each block in order.
pub(crate) fn valid_chain(n: u32) -> Vec<String> {
    let mut chain = Chain::new(Params::regtest());
    let owner = SecretKey::from_bytes(&[10; 32]).public_key();
    let spacing = u32::try_from(tabchain_core::TABCHAIN_SPACING_S).expect("a small positive spacing");
    let mut blocks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let tip = chain.tip();
        let time = tip.header().time + spacing;
        let block =
            mined(child_block(&chain, tip, owner, u64::from(i), time, vec![], Amount::ZERO).expect("one coinbase"));
        blocks.push(hex::encode(&encode(&block)));
        chain.accept_block(block, u64::from(time)).expect("a valid child of the tip");
    }
    blocks
}

/// The key that mines every block of [`payment_chain`] and gets the change of its payments.
pub(crate) fn payment_chain_miner() -> SecretKey {
    SecretKey::from_bytes(&[11; 32])
}

/// The fresh key paid in the block at `height` of [`payment_chain`].
pub(crate) fn payment_chain_payee(height: u32) -> SecretKey {
    let mut seed = [12; 32];
    seed[..4].copy_from_slice(&height.to_le_bytes());
    SecretKey::from_bytes(&seed)
}

/// Units each payment of [`payment_chain`] leaves to its block's miner as a fee.
const PAYMENT_FEE_UNITS: u64 = 1_000;

/// A valid regtest chain of `n` blocks after genesis, dated at the target spacing from genesis
/// on, handed to `each` in order. Every block past the first `coinbase_maturity` carries one
/// payment: the coinbase of the block `coinbase_maturity` below it (just mature), spent with one
/// signature to a fresh address (half) and back to the miner (the rest, less a fee).
pub(crate) fn payment_chain(n: u32, mut each: impl FnMut(&Block) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let mut chain = Chain::new(Params::regtest());
    let key = payment_chain_miner();
    let miner = key.public_key();
    let genesis = chain.params().genesis_hash();
    let maturity = chain.params().coinbase_maturity;
    let spacing = u32::try_from(tabchain_core::TABCHAIN_SPACING_S).expect("a small positive spacing");
    let fee = Amount::from_units(PAYMENT_FEE_UNITS).expect("a small fee");
    // The coinbase of each block so far (outpoint and value), by height - 1.
    let mut coinbases: Vec<(OutPoint, Amount)> = Vec::with_capacity(n as usize);
    for i in 0..n {
        let height = i + 1;
        let (txs, fees) = match height.checked_sub(maturity) {
            Some(source) if source >= 1 => {
                let (outpoint, value) = coinbases[source as usize - 1];
                let paid = Amount::from_units(value.to_units() / 2).expect("below the coin's value");
                let change = value.checked_sub(paid).and_then(|rest| rest.checked_sub(fee)).expect("a fee below half");
                let outputs = vec![
                    TxOut { amount: paid, owner: payment_chain_payee(height).public_key() },
                    TxOut { amount: change, owner: miner },
                ];
                (vec![signed_transaction(&[outpoint], outputs, &key, genesis)], fee)
            }
            _ => (vec![], Amount::ZERO),
        };
        let tip = chain.tip();
        let time = tip.header().time + spacing;
        let block = mined(child_block(&chain, tip, miner, u64::from(i), time, txs, fees).context("a block template")?);
        let coinbase = &block.txs[0];
        coinbases.push((OutPoint { txid: coinbase.txid(), vout: 0 }, coinbase.outputs[0].amount));
        each(&block)?;
        chain.accept_block(block, u64::from(time)).map_err(|e| anyhow::anyhow!("forged block {height}: {e}"))?;
        anyhow::ensure!(chain.height() == height, "forged block {height} did not extend the chain");
    }
    Ok(())
}

/// Writes `chain-<n>.json` (the hex of each block of `valid_chain(n)`) into `dir`.
pub(crate) fn write_valid_chain(dir: &Path, n: u32) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("chain-{n}.json"));
    std::fs::write(&path, serde_json::to_vec(&valid_chain(n))?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each forged block breaks the rules (core refuses it) and the control block does not, so
    /// the end-to-end test cannot pass by accident.
    #[test]
    fn every_forged_block_is_invalid_and_the_control_is_valid() {
        let now = Params::regtest().genesis_header().time + 100_000;
        let (valid, invalid) = forged_blocks(now);
        let accept = |bytes: &[u8]| {
            let mut chain = Chain::new(Params::regtest());
            Block::from_bytes(bytes).map_err(|e| e.to_string()).and_then(|block| {
                chain.accept_block(block, u64::from(now)).map_err(|e| e.to_string())?;
                if chain.height() == 1 { Ok(()) } else { Err("not connected".to_owned()) }
            })
        };
        assert_eq!(accept(&encode(&valid)), Ok(()));
        for forged in &invalid {
            let verdict = accept(&forged.bytes);
            let name = forged.name;
            let refusal = verdict.expect_err(name);
            if let Some(reason) = forged.reason {
                assert!(refusal.contains(reason), "{name} was refused for another reason: {refusal}");
            }
        }
        assert!(invalid.len() >= 13);
    }

    /// The payment chain is valid (forging checks each block) and its blocks carry a payment
    /// from just past the coinbase maturity on.
    #[test]
    fn payment_chain_pays_from_maturity_on() {
        let maturity = Params::regtest().coinbase_maturity;
        let mut n_txs = Vec::new();
        payment_chain(maturity + 5, |block| {
            n_txs.push(block.txs.len());
            Ok(())
        })
        .expect("a valid chain");
        let expected: Vec<usize> = (1..=maturity + 5).map(|h| if h > maturity { 2 } else { 1 }).collect();
        assert_eq!(n_txs, expected);
    }
}

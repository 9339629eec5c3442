//! What a hostile client sends, forged cheaply on regtest: blocks and headers that break a
//! storage rule (a low-work side block padded to 200 kB, a run of headers off genesis that can
//! never catch up), and transactions that break a mempool rule (a bad signature on a real coin,
//! inputs nobody has). The relay's integration tests and `tabchain-hostile` build them here.

use tabchain_core::{
    Amount, Block, Chain, Header, MerkleRoot, OutPoint, Params, SecretKey, Signature, Transaction, TxIn, TxOut, Txid,
    assemble_block, coinbase, search_nonce, sha256d,
};

/// Inputs per padding transaction: two such transactions make about 200 kB.
pub const PADDING_INPUTS: usize = 999;
/// Padding transactions in a padded side block.
const PADDING_TXS: u8 = 2;
/// Nonces tried per forged header; a regtest target is met within a few.
const NONCE_TRIES: u32 = 1 << 24;
/// Seconds between forged headers: the target spacing, so their bits stay at the genesis target.
const HEADER_SPACING_S: u32 = 10;
/// What a forged transaction pays: far above dust, far below any coinbase.
const FORGED_OUTPUT_UNITS: u64 = 100_000;

/// A key nobody holds, that forged outputs pay to.
fn nobody() -> tabchain_core::PublicKey {
    SecretKey::from_bytes(&[8; 32]).public_key()
}

/// A low-work sibling of genesis (`n` tells siblings apart) padded to about 200 kB with
/// transactions spending coins that do not exist (never checked: a deep low-work side block is
/// refused before its spends are).
pub fn padded_sibling(params: &Params, n: u64) -> Block {
    let genesis = params.genesis_header();
    let padding = (0..PADDING_TXS)
        .map(|t| Transaction {
            version: Transaction::VERSION,
            inputs: (0..PADDING_INPUTS as u32)
                .map(|vout| TxIn {
                    prev_out: OutPoint {
                        txid: Txid::from_byte_array([t + 1; 32]),
                        vout: vout.wrapping_add((n as u32).wrapping_mul(10_000)),
                    },
                    signature: Signature([7; 64]),
                })
                .collect(),
            outputs: vec![TxOut { amount: Amount::from_units(1).expect("small"), owner: nobody() }],
        })
        .collect();
    let cb = coinbase(1, params.subsidy(1), nobody(), n, Chain::new(*params).utxos().commitment());
    let block = assemble_block(genesis.block_hash(), genesis.bits, genesis.time + HEADER_SPACING_S, cb, padding)
        .expect("distinct transactions");
    Block { header: search_nonce(&block.header, NONCE_TRIES).expect("regtest is easy"), ..block }
}

/// `count` headers from genesis, each a spacing after its parent at the target the rules ask:
/// valid work, but on a chain longer than a few hundred blocks they can never catch up with the
/// tip. `seed` makes runs distinct. Only regtest's target is easy enough to forge them.
pub fn low_work_headers(params: &Params, count: usize, seed: u64, now: u64) -> Vec<Header> {
    let mut chain = Chain::new(*params);
    let mut parent = params.genesis_header();
    let mut run = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let prev = parent.block_hash();
        let bits = chain.required_bits_after(&prev).expect("the parent was accepted");
        let mut tag = [0u8; 16];
        tag[..8].copy_from_slice(&seed.to_le_bytes());
        tag[8..].copy_from_slice(&i.to_le_bytes());
        let unmined = Header {
            version: 1,
            prev_blockhash: prev,
            merkle_root: MerkleRoot::from_byte_array(sha256d(&tag)),
            time: parent.time + HEADER_SPACING_S,
            bits,
            nonce: 0,
        };
        let header = search_nonce(&unmined, NONCE_TRIES).expect("regtest is easy");
        chain.accept_header(header, now).expect("a header on schedule from genesis is valid");
        run.push(header);
        parent = header;
    }
    run
}

/// A transaction spending `coin` with a signature that cannot be right: consensus-invalid once
/// the coin exists, an orphan if it does not.
pub fn bad_signature_tx(coin: OutPoint) -> Transaction {
    Transaction {
        version: Transaction::VERSION,
        inputs: vec![TxIn { prev_out: coin, signature: Signature([9; 64]) }],
        outputs: vec![TxOut { amount: Amount::from_units(FORGED_OUTPUT_UNITS).expect("small"), owner: nobody() }],
    }
}

/// A transaction whose input nobody has (`n` tells them apart): an orphan to whoever gets it.
pub fn orphan_tx(seed: u64, n: u64) -> Transaction {
    let mut tag = [0u8; 16];
    tag[..8].copy_from_slice(&seed.to_le_bytes());
    tag[8..].copy_from_slice(&n.to_le_bytes());
    bad_signature_tx(OutPoint { txid: Txid::from_byte_array(sha256d(&tag)), vout: 0 })
}

//! One test per bug of the original article's Python blockchain, each showing that tabchain
//! refuses what that code accepted (or does what it failed to do).

use tabchain_core::{
    Amount, Block, BlockError, BlockHash, COIN, Chain, Mempool, MempoolError, OutPoint, Params, PublicKey, SecretKey,
    Signature, SignatureError, Transaction, TxError, TxIn, TxOut, child_block, search_nonce, signed_transaction,
};

const NOW: u64 = 4_000_000_000;

fn key() -> SecretKey {
    SecretKey::from_bytes(&[42; 32])
}

fn units(n: u64) -> Amount {
    Amount::from_units(n).expect("small")
}

/// A block on `parent` holding `txs`, whose coinbase claims subsidy plus `fees`.
fn block_on(chain: &Chain, parent: BlockHash, txs: Vec<Transaction>, fees: Amount, extra_nonce: u64) -> Block {
    let entry = chain.entry(&parent).expect("parent stored");
    let time = entry.header().time + 10;
    let block = child_block(chain, entry, key().public_key(), extra_nonce, time, txs, fees).expect("not mutated");
    Block { header: search_nonce(&block.header, 1 << 20).expect("regtest is easy"), ..block }
}

/// A chain where `key()` owns a mature 50 TAB coin; returns it.
fn funded_chain() -> (Chain, OutPoint) {
    let mut chain = Chain::new(Params::regtest());
    for i in 0..=chain.params().coinbase_maturity {
        let block = block_on(&chain, chain.tip_hash(), vec![], Amount::ZERO, u64::from(i));
        chain.accept_block(block, NOW).expect("valid");
    }
    let first = chain.entry(&chain.hash_at(1).expect("h")).expect("stored").block.txs[0].txid();
    (chain, OutPoint { txid: first, vout: 0 })
}

fn signed(inputs: &[OutPoint], outputs: Vec<TxOut>, genesis: BlockHash) -> Transaction {
    signed_transaction(inputs, outputs, &key(), genesis)
}

fn to(owner: u8, amount: Amount) -> TxOut {
    TxOut { amount, owner: PublicKey(SecretKey::from_bytes(&[owner; 32]).public_key().0) }
}

#[test]
fn a_fake_coinbase_input_cannot_mint_coins() {
    let (mut chain, _) = funded_chain();
    let fake = Transaction {
        version: 1,
        inputs: vec![TxIn { prev_out: OutPoint::coinbase(chain.height() + 1), signature: Signature::default() }],
        outputs: vec![to(1, units(1_000 * COIN))],
    };
    // As a second transaction it is an extra coinbase; in the mempool it is refused outright.
    let block = block_on(&chain, chain.tip_hash(), vec![fake.clone()], Amount::ZERO, 1);
    assert_eq!(chain.accept_block(block, NOW), Err(BlockError::ExtraCoinbase { tx_idx: 1 }));
    assert_eq!(Mempool::default().accept(fake, &chain, NOW), Err(MempoolError::Coinbase));
}

#[test]
fn signatures_cover_the_outputs() {
    let (mut chain, coin) = funded_chain();
    let genesis = chain.params().genesis_hash();
    let mut tx = signed(&[coin], vec![to(1, units(50 * COIN - 1000))], genesis);
    tx.outputs[0].owner = PublicKey(SecretKey::from_bytes(&[66; 32]).public_key().0); // redirected by a relay
    let bad_signature = TxError::BadSignature { input_idx: 0, error: SignatureError::Invalid };
    assert_eq!(Mempool::default().accept(tx.clone(), &chain, NOW), Err(MempoolError::Invalid(bad_signature.clone())));
    let block = block_on(&chain, chain.tip_hash(), vec![tx], units(1000), 1);
    assert_eq!(chain.accept_block(block, NOW), Err(BlockError::Tx { tx_idx: 1, error: bad_signature }));
}

#[test]
fn an_input_cannot_be_spent_twice_in_one_transaction() {
    let (mut chain, coin) = funded_chain();
    let tx = signed(&[coin, coin], vec![to(1, units(100 * COIN - 1000))], chain.params().genesis_hash());
    assert_eq!(
        Mempool::default().accept(tx.clone(), &chain, NOW),
        Err(MempoolError::Invalid(TxError::DuplicateInput { outpoint: coin }))
    );
    let block = block_on(&chain, chain.tip_hash(), vec![tx], Amount::ZERO, 1);
    assert_eq!(
        chain.accept_block(block, NOW),
        Err(BlockError::Tx { tx_idx: 1, error: TxError::DuplicateInput { outpoint: coin } })
    );
}

#[test]
fn an_output_cannot_be_spent_twice_in_one_block() {
    let (mut chain, coin) = funded_chain();
    let genesis = chain.params().genesis_hash();
    let a = signed(&[coin], vec![to(1, units(49 * COIN))], genesis);
    let b = signed(&[coin], vec![to(2, units(49 * COIN))], genesis);
    // The mempool keeps the first seen and names it to the second.
    let mut pool = Mempool::default();
    assert_eq!(pool.accept(a.clone(), &chain, NOW), Ok(vec![a.txid()]));
    assert_eq!(pool.accept(b.clone(), &chain, NOW), Err(MempoolError::Conflict { outpoint: coin, with: a.txid() }));
    let block = block_on(&chain, chain.tip_hash(), vec![a, b], units(2 * COIN), 1);
    assert_eq!(chain.accept_block(block, NOW), Err(BlockError::DoubleSpendInBlock { outpoint: coin }));
}

#[test]
fn identical_outputs_stay_separate_coins() {
    let (mut chain, coin) = funded_chain();
    let genesis = chain.params().genesis_hash();
    let same = to(1, units(20 * COIN));
    let tx = signed(&[coin], vec![same, same], genesis);
    let txid = tx.txid();
    let block = block_on(&chain, chain.tip_hash(), vec![tx], units(10 * COIN), 1);
    chain.accept_block(block, NOW).expect("valid");
    let first = chain.utxos().get(&OutPoint { txid, vout: 0 }).expect("first output");
    let second = chain.utxos().get(&OutPoint { txid, vout: 1 }).expect("second output");
    assert_eq!((first.output, second.output), (same, same));
}

#[test]
fn a_fork_switch_goes_as_deep_as_the_fork() {
    let mut chain = Chain::new(Params::regtest());
    let genesis = chain.tip_hash();
    let mut main = Vec::new();
    for i in 0..5 {
        let block = block_on(&chain, chain.tip_hash(), vec![], Amount::ZERO, i);
        main.push(block.block_hash());
        chain.accept_block(block, NOW).expect("valid");
    }
    // A branch from genesis, six blocks long: switching means undoing all five.
    let mut parent = genesis;
    let mut last = None;
    for i in 0..6 {
        let block = block_on(&chain, parent, vec![], Amount::ZERO, 100 + i);
        parent = block.block_hash();
        last = Some(chain.accept_block(block, NOW).expect("valid"));
    }
    let update = last.expect("six blocks");
    assert_eq!(update.reorg_depth(), 5);
    assert_eq!(update.connected.len(), 6);
    assert_eq!(chain.tip_hash(), parent);
    assert!(main.iter().all(|h| !chain.is_active(h)));
}

#[test]
fn a_peers_block_removes_exactly_the_confirmed_transactions_from_the_mempool() {
    let mut chain = Chain::new(Params::regtest());
    for i in 0..=chain.params().coinbase_maturity + 1 {
        let block = block_on(&chain, chain.tip_hash(), vec![], Amount::ZERO, u64::from(i));
        chain.accept_block(block, NOW).expect("valid");
    }
    let genesis = chain.params().genesis_hash();
    let coin =
        |h: u32| OutPoint { txid: chain.entry(&chain.hash_at(h).expect("h")).expect("s").block.txs[0].txid(), vout: 0 };
    let confirmed = signed(&[coin(1)], vec![to(1, units(49 * COIN))], genesis);
    let waiting = signed(&[coin(2)], vec![to(2, units(49 * COIN))], genesis);
    let mut pool = Mempool::default();
    assert_eq!(pool.accept(confirmed.clone(), &chain, NOW), Ok(vec![confirmed.txid()]));
    assert_eq!(pool.accept(waiting.clone(), &chain, NOW), Ok(vec![waiting.txid()]));
    let block = block_on(&chain, chain.tip_hash(), vec![confirmed.clone()], units(COIN), 99);
    let update = chain.accept_block(block, NOW).expect("valid");
    pool.apply_chain_update(&chain, &update, &[], NOW);
    assert!(!pool.contains(&confirmed.txid()));
    assert!(pool.contains(&waiting.txid()), "the unconfirmed transaction stays");
}

//! Tests of the mempool: admission rules, orphans, block and reorg clean-up, eviction, templates.

use super::*;
use crate::hash::UtxoCommitment;
use crate::signature::SecretKey;
use crate::template::{assemble_block, coinbase};
use crate::testkit::*;
use alloc::vec;

/// A builder with `n` mature coinbase coins, and those coins.
fn funded(n: usize) -> (Builder, Vec<(OutPoint, Amount)>) {
    let mut b = Builder::new();
    b.extend(n + b.chain.params().coinbase_maturity as usize);
    let coins = (1..=n as u32).map(|h| b.coinbase_coin(h)).collect();
    (b, coins)
}

/// Spends `coin` back to the miner (so the output is spendable by `spend`) leaving `fee`.
fn to_self(coin: (OutPoint, Amount), fee: u64, genesis: crate::hash::BlockHash) -> Transaction {
    let value = coin.1.checked_sub(units(fee)).expect("fee below value");
    spend(&[coin.0], vec![TxOut { amount: value, owner: miner().public_key() }], genesis)
}

fn child_of(parent: &Transaction, fee: u64, genesis: crate::hash::BlockHash) -> Transaction {
    to_self((OutPoint { txid: parent.txid(), vout: 0 }, parent.outputs[0].amount), fee, genesis)
}

#[test]
fn admission_rules() {
    let (b, coins) = funded(2);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let tx = to_self(coins[0], 1000, g);
    assert_eq!(pool.accept(tx.clone(), &b.chain, NOW), Ok(vec![tx.txid()]));
    assert_eq!(pool.accept(tx.clone(), &b.chain, NOW), Err(MempoolError::AlreadyKnown));

    let rival = to_self(coins[0], 2000, g);
    assert_eq!(
        pool.accept(rival, &b.chain, NOW),
        Err(MempoolError::Conflict { outpoint: coins[0].0, with: tx.txid() })
    );

    let cheap = to_self(coins[1], 10, g);
    let size_bytes = cheap.size_bytes();
    assert_eq!(
        pool.accept(cheap, &b.chain, NOW),
        Err(MempoolError::FeeTooLow { fee_rate: FeeRate::of(units(10), size_bytes), min: MIN_RELAY_FEE_RATE })
    );

    let dust = spend(&[coins[1].0], vec![pay(units(999)), pay(coins[1].1.checked_sub(units(5999)).expect("small"))], g);
    assert_eq!(pool.accept(dust, &b.chain, NOW), Err(MempoolError::Dust { vout: 0 }));

    let cb = coinbase(b.chain.height() + 1, units(1), miner().public_key(), 0, UtxoCommitment::ZERO);
    assert_eq!(pool.accept(cb, &b.chain, NOW), Err(MempoolError::Coinbase));

    let (young, young_value) = b.coinbase_coin(b.chain.height());
    let immature = to_self((young, young_value), 1000, g);
    assert_eq!(
        pool.accept(immature, &b.chain, NOW),
        Err(MempoolError::Invalid(TxError::ImmatureCoinbase { outpoint: young, confirmations: 1 }))
    );

    let mut forged = to_self(coins[1], 1000, g);
    forged.outputs[0].owner = SecretKey::from_bytes(&[9; 32]).public_key();
    assert_eq!(
        pool.accept(forged, &b.chain, NOW),
        Err(MempoolError::Invalid(TxError::BadSignature { input_idx: 0, error: SignatureError::Invalid }))
    );

    let inflating = spend(&[coins[1].0], vec![pay(coins[1].1), pay(units(5000))], g);
    assert!(matches!(
        pool.accept(inflating, &b.chain, NOW),
        Err(MempoolError::Invalid(TxError::OutputsExceedInputs { .. }))
    ));
    assert_eq!(pool.len(), 1);
}

#[test]
fn orphans_wait_for_their_parent_then_expire() {
    let (b, coins) = funded(2);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let parent = to_self(coins[0], 1000, g);
    let child = child_of(&parent, 1000, g);
    assert_eq!(pool.accept(child.clone(), &b.chain, NOW), Err(MempoolError::MissingInputs { held_as_orphan: true }));
    assert_eq!((pool.len(), pool.n_orphans()), (0, 1));
    assert_eq!(pool.accept(parent.clone(), &b.chain, NOW), Ok(vec![parent.txid(), child.txid()]));
    assert_eq!((pool.len(), pool.n_orphans()), (2, 0));

    let other_parent = to_self(coins[1], 1000, g);
    let late_child = child_of(&other_parent, 1000, g);
    let _ = pool.accept(late_child, &b.chain, NOW);
    pool.expire_orphans(NOW + ORPHAN_TTL_S);
    assert_eq!(pool.n_orphans(), 0);
    assert_eq!(pool.accept(other_parent.clone(), &b.chain, NOW), Ok(vec![other_parent.txid()]));
}

#[test]
fn the_orphan_pool_is_capped() {
    let (b, coins) = funded(1);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let mut parent = to_self(coins[0], 1000, g);
    for _ in 0..ORPHAN_TXS_MAX + 5 {
        let child = child_of(&parent, 1000, g);
        let _ = pool.accept(child.clone(), &b.chain, NOW);
        parent = child;
    }
    assert_eq!(pool.n_orphans(), ORPHAN_TXS_MAX);
}

#[test]
fn a_block_removes_what_it_confirms_and_what_conflicts_with_it() {
    let (mut b, coins) = funded(3);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let confirmed = to_self(coins[0], 1000, g);
    let child = child_of(&confirmed, 1000, g);
    let unrelated = to_self(coins[1], 1000, g);
    let loser = to_self(coins[2], 1000, g);
    let loser_child = child_of(&loser, 1000, g);
    for tx in [&confirmed, &child, &unrelated, &loser, &loser_child] {
        pool.accept(tx.clone(), &b.chain, NOW).expect("valid");
    }
    // A peer's block confirms `confirmed` and a rival spend of `loser`'s coin.
    let winner = to_self(coins[2], 3000, g);
    let tip = b.chain.tip_hash();
    let block = b.block_on(tip, vec![confirmed.clone(), winner], units(4000));
    let update = b.chain.accept_block(block, NOW).expect("valid");
    pool.apply_chain_update(&b.chain, &update, &[], NOW);
    // The original Python code removed the wrong transactions here; the pool must keep exactly
    // the unconfirmed, unconflicted ones.
    assert!(!pool.contains(&confirmed.txid()));
    assert!(pool.contains(&child.txid()), "a child of a confirmed transaction stays");
    assert!(pool.contains(&unrelated.txid()));
    assert!(!pool.contains(&loser.txid()) && !pool.contains(&loser_child.txid()), "conflicts leave with descendants");
    assert_eq!(pool.len(), 2);
}

#[test]
fn a_reorg_brings_disconnected_transactions_back() {
    let (mut b, coins) = funded(1);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let tx = to_self(coins[0], 1000, g);
    let fork = b.chain.tip_hash();
    let side = b.branch_on(fork, 2);
    let block = b.block_on(fork, vec![tx.clone()], units(1000));
    let disconnected_block = block.clone();
    let update = b.chain.accept_block(block, NOW).expect("valid");
    pool.apply_chain_update(&b.chain, &update, &[], NOW);
    assert!(pool.is_empty());
    let _ = b.chain.accept_block(side[0].clone(), NOW);
    let update = b.chain.accept_block(side[1].clone(), NOW).expect("valid");
    assert_eq!(update.disconnected, vec![disconnected_block.block_hash()]);
    pool.apply_chain_update(&b.chain, &update, &[disconnected_block], NOW);
    assert!(pool.contains(&tx.txid()));
}

#[test]
fn a_full_pool_evicts_the_lowest_fee_rate_with_descendants() {
    let (b, coins) = funded(4);
    let g = b.genesis();
    let low = to_self(coins[0], 1000, g);
    let low_child = child_of(&low, 5000, g);
    let mid = to_self(coins[1], 2000, g);
    let high = to_self(coins[2], 9000, g);
    let size = low.size_bytes();
    let mut pool = Mempool::with_max_bytes(0);
    pool.max_bytes = 3 * size; // below any real limit, to exercise eviction cheaply
    for tx in [&low, &low_child, &mid] {
        pool.accept(tx.clone(), &b.chain, NOW).expect("fits");
    }
    assert_eq!(pool.accept(high.clone(), &b.chain, NOW), Ok(vec![high.txid()]));
    assert!(!pool.contains(&low.txid()) && !pool.contains(&low_child.txid()));
    assert!(pool.contains(&mid.txid()) && pool.contains(&high.txid()));
    assert_eq!(pool.total_bytes(), 2 * size);
    let lowest = to_self(coins[3], 500, g);
    pool.accept(lowest.clone(), &b.chain, NOW).expect("fits: there is room for a third");
    let lower_still = child_of(&lowest, 150, g);
    assert_eq!(pool.accept(lower_still, &b.chain, NOW), Err(MempoolError::PoolFull));
}

#[test]
fn templates_put_high_fee_rates_and_parents_first_and_connect() {
    let (mut b, coins) = funded(3);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let cheap_parent = to_self(coins[0], 1000, g);
    let rich_child = child_of(&cheap_parent, 50_000, g);
    let middle = to_self(coins[1], 20_000, g);
    let rich = to_self(coins[2], 30_000, g);
    for tx in [&rich_child, &cheap_parent, &middle, &rich] {
        let _ = pool.accept(tx.clone(), &b.chain, NOW);
    }
    assert_eq!(pool.len(), 4);
    let (txs, fees) = pool.select_for_block(crate::limits::BLOCK_BYTES_MAX);
    let order: Vec<Txid> = txs.iter().map(Transaction::txid).collect();
    assert_eq!(order, vec![rich.txid(), middle.txid(), cheap_parent.txid(), rich_child.txid()]);
    assert_eq!(fees, units(101_000));
    // Room for one: the highest rate alone; the child never comes without its parent.
    let (one, _) = pool.select_for_block(rich.size_bytes());
    assert_eq!(one, vec![rich.clone()]);

    // What the pool accepted, block validation accepts in a template.
    let tip = b.chain.tip_hash();
    let entry = b.chain.tip();
    let height = entry.height + 1;
    let value = b.chain.params().subsidy(height).checked_add(fees).expect("in range");
    let cb = coinbase(height, value, miner().public_key(), 1, b.chain.utxos().commitment());
    let block = mine(
        assemble_block(tip, b.chain.required_bits(entry), entry.header().time + 10, cb, txs).expect("distinct txids"),
    );
    let update = b.chain.accept_block(block, NOW).expect("a template of pooled transactions is valid");
    pool.apply_chain_update(&b.chain, &update, &[], NOW);
    assert!(pool.is_empty());
}

/// `n` distinct orphans: a chain of descendants of `coin`'s spend, none of whose parents the
/// pool has.
fn orphan_chain(coin: (OutPoint, Amount), n: usize, g: crate::hash::BlockHash) -> Vec<Transaction> {
    let mut parent = to_self(coin, 1000, g);
    (0..n)
        .map(|_| {
            parent = child_of(&parent, 1000, g);
            parent.clone()
        })
        .collect()
}

#[test]
fn a_peer_over_its_orphan_quota_displaces_only_its_own_and_orphans_expire() {
    let (b, coins) = funded(2);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let flood = orphan_chain(coins[0], ORPHAN_TXS_PER_PEER_MAX + 5, g);
    let honest = orphan_chain(coins[1], 1, g).remove(0);
    pool.accept_from(honest.clone(), &b.chain, NOW, Some(2)).expect_err("an orphan");
    for tx in &flood {
        assert_eq!(
            pool.accept_from(tx.clone(), &b.chain, NOW + 1, Some(1)),
            Err(MempoolError::MissingInputs { held_as_orphan: true })
        );
    }
    assert_eq!((pool.n_orphans_from(1), pool.n_orphans_from(2)), (ORPHAN_TXS_PER_PEER_MAX, 1));
    assert!(pool.contains(&honest.txid()), "another peer's orphan stays");
    assert!(!pool.contains(&flood[4].txid()) && pool.contains(&flood[5].txid()), "the flooder's oldest went");
    // The user's own orphans are under the global cap only.
    let mine = orphan_chain(coins[1], ORPHAN_TXS_PER_PEER_MAX + 1, g);
    for tx in &mine[1..] {
        let _ = pool.accept(tx.clone(), &b.chain, NOW + 1);
    }
    assert_eq!(pool.n_orphans(), 2 * ORPHAN_TXS_PER_PEER_MAX + 1);
    pool.expire_orphans(NOW + ORPHAN_TTL_S - 1);
    assert_eq!(pool.n_orphans_from(2), 1, "still within its time");
    pool.expire_orphans(NOW + ORPHAN_TTL_S);
    assert_eq!((pool.n_orphans_from(1), pool.n_orphans_from(2)), (ORPHAN_TXS_PER_PEER_MAX, 0));
    pool.expire_orphans(NOW + 1 + ORPHAN_TTL_S);
    assert_eq!(pool.n_orphans(), 0);
}

#[test]
fn peers_filling_the_orphan_pool_leave_room_for_the_next() {
    let (b, coins) = funded(5);
    let g = b.genesis();
    let mut pool = Mempool::default();
    let n_full = ORPHAN_TXS_MAX / ORPHAN_TXS_PER_PEER_MAX;
    for (peer, &coin) in coins[..n_full].iter().enumerate() {
        for tx in orphan_chain(coin, ORPHAN_TXS_PER_PEER_MAX, g) {
            let _ = pool.accept_from(tx, &b.chain, NOW, Some(peer as u64));
        }
    }
    assert_eq!(pool.n_orphans(), ORPHAN_TXS_MAX);
    let late = orphan_chain(coins[n_full], 1, g).remove(0);
    assert_eq!(
        pool.accept_from(late.clone(), &b.chain, NOW, Some(99)),
        Err(MempoolError::MissingInputs { held_as_orphan: true })
    );
    assert!(pool.contains(&late.txid()));
    assert_eq!((pool.n_orphans(), pool.n_orphans_from(0)), (ORPHAN_TXS_MAX, ORPHAN_TXS_PER_PEER_MAX - 1));
}

#[test]
fn a_cheap_refusal_verifies_no_signature() {
    let (b, coins) = funded(3);
    let g = b.genesis();
    let forge = |mut tx: Transaction| {
        tx.outputs[0].owner = SecretKey::from_bytes(&[9; 32]).public_key();
        tx
    };
    let mut pool = Mempool::default();
    let pooled = to_self(coins[0], 1000, g);
    pool.accept(pooled.clone(), &b.chain, NOW).expect("valid");
    assert_eq!(pool.signature_checks.get(), 1);
    let cheap = forge(to_self(coins[1], 10, g));
    let size_bytes = cheap.size_bytes();
    let cases = [
        (cheap, MempoolError::FeeTooLow { fee_rate: FeeRate::of(units(10), size_bytes), min: MIN_RELAY_FEE_RATE }),
        (forge(to_self(coins[0], 2000, g)), MempoolError::Conflict { outpoint: coins[0].0, with: pooled.txid() }),
    ];
    for (tx, error) in cases {
        assert_eq!(pool.accept(tx, &b.chain, NOW), Err(error));
    }
    pool.max_bytes = pool.total_bytes() + 1; // full for anything paying no more than `pooled`
    assert_eq!(pool.accept(forge(to_self(coins[1], 1000, g)), &b.chain, NOW), Err(MempoolError::PoolFull));
    assert_eq!(pool.signature_checks.get(), 1, "no cheap refusal reached a signature");
    let paying = forge(to_self(coins[2], 5000, g));
    assert_eq!(
        pool.accept(paying, &b.chain, NOW),
        Err(MempoolError::Invalid(TxError::BadSignature { input_idx: 0, error: SignatureError::Invalid }))
    );
    assert_eq!(pool.signature_checks.get(), 2, "a transaction passing every cheap rule is verified");
}

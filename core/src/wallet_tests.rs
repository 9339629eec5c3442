//! Tests of the wallet: balances, payments between two wallets, errors, reorgs.

use super::*;
use crate::address::AddressError;
use crate::bech32::Bech32Error;
use crate::testkit::*;
use alloc::string::String;

const RATE: FeeRate = FeeRate(2000);

/// A chain where the miner's key has `n` mature coinbases, and wallets for the miner and a
/// second key.
fn setup(n: usize) -> (Builder, Wallet, Wallet) {
    let mut b = Builder::new();
    b.extend(n + b.chain.params().coinbase_maturity as usize);
    let miner_wallet = Wallet::new(miner(), &b.chain);
    let other = Wallet::new(SecretKey::from_bytes(&[2; 32]), &b.chain);
    (b, miner_wallet, other)
}

fn mine_pool(b: &mut Builder, pool: &mut Mempool, wallets: &mut [&mut Wallet]) {
    let (txs, fees) = pool.select_for_block(crate::limits::BLOCK_BYTES_MAX);
    let tip = b.chain.tip_hash();
    let block = b.block_on(tip, txs, fees);
    let update = b.chain.accept_block(block, NOW).expect("valid");
    pool.apply_chain_update(&b.chain, &update, &[], NOW);
    for w in wallets {
        w.apply(&b.chain, &update);
    }
}

#[test]
fn balance_splits_confirmed_and_immature() {
    let (b, miner_wallet, other) = setup(2);
    let pool = Mempool::default();
    let maturity = u64::from(b.chain.params().coinbase_maturity);
    let subsidy = b.chain.params().subsidy(1).to_units();
    let balance = miner_wallet.balance(&b.chain, &pool);
    // Heights 1..=12 mined; the next block is 13, so coinbases at heights <= 3 are mature.
    assert_eq!(balance.confirmed, units(3 * subsidy));
    assert_eq!(balance.immature, units((2 + maturity - 3) * subsidy));
    assert_eq!(balance.pending, Amount::ZERO);
    assert_eq!(other.balance(&b.chain, &pool), Balance::default());
}

#[test]
fn a_payment_moves_money_between_wallets() {
    let (mut b, mut alice, mut bob) = setup(2);
    let mut pool = Mempool::default();
    let before = alice.balance(&b.chain, &pool);
    let amount = units(7 * crate::amount::COIN);
    let bob_address = bob.address(&b.chain);
    assert!(bob_address.starts_with("tabrt1"));
    let tx = alice.pay_to_address(&b.chain, &pool, &bob_address, amount, RATE).expect("funded");
    assert_eq!(tx.outputs.len(), 2, "payment and change");
    pool.accept(tx.clone(), &b.chain, NOW).expect("the wallet's payment is valid");

    let fee = RATE.fee_for(tx.size_bytes());
    let pending_alice = alice.balance(&b.chain, &pool);
    assert_eq!(
        pending_alice.confirmed,
        before.confirmed.checked_sub(units(50 * crate::amount::COIN)).expect("one coin spent")
    );
    assert_eq!(
        pending_alice.pending,
        units(50 * crate::amount::COIN - 7 * crate::amount::COIN).checked_sub(fee).expect("change")
    );
    assert_eq!(bob.balance(&b.chain, &pool).pending, amount);
    let history = bob.history(&pool);
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].height, history[0].received), (None, amount));

    mine_pool(&mut b, &mut pool, &mut [&mut alice, &mut bob]);
    assert_eq!(bob.balance(&b.chain, &pool).confirmed, amount);
    let history = bob.history(&pool);
    assert_eq!(history[0].confirmations(b.chain.height()), 1);
    let sent = alice.history(&pool).into_iter().find(|t| t.txid == tx.txid()).expect("in alice's history");
    assert_eq!(sent.sent, units(50 * crate::amount::COIN));
    // Bob can spend what he received once it is confirmed.
    let back = bob.build_payment(&b.chain, &pool, alice.owner(), units(crate::amount::COIN), RATE).expect("funded");
    pool.accept(back, &b.chain, NOW).expect("valid");
}

#[test]
fn unconfirmed_change_can_be_spent_again() {
    let (b, alice, bob) = setup(0);
    assert_eq!(alice.spendable(&b.chain, &Mempool::default()).len(), 1, "one mature coin");
    let mut pool = Mempool::default();
    let first =
        alice.build_payment(&b.chain, &pool, bob.owner(), units(10 * crate::amount::COIN), RATE).expect("funded");
    pool.accept(first.clone(), &b.chain, NOW).expect("valid");
    let second = alice
        .build_payment(&b.chain, &pool, bob.owner(), units(10 * crate::amount::COIN), RATE)
        .expect("change is spendable");
    assert_eq!(second.inputs[0].prev_out.txid, first.txid());
    pool.accept(second, &b.chain, NOW).expect("valid");
}

#[test]
fn payment_errors() {
    let (b, alice, bob) = setup(1);
    let pool = Mempool::default();
    let available = alice.balance(&b.chain, &pool).confirmed;
    let too_much = available;
    let err = alice.build_payment(&b.chain, &pool, bob.owner(), too_much, RATE).expect_err("the fee does not fit");
    assert!(matches!(err, WalletError::InsufficientFunds { available: a, .. } if a == available), "{err}");
    assert_eq!(
        alice.build_payment(&b.chain, &pool, bob.owner(), units(999), RATE),
        Err(WalletError::DustAmount { amount: units(999) })
    );
    let mut typo: Vec<char> = bob.address(&b.chain).chars().collect();
    typo[10] = if typo[10] == 'q' { 'p' } else { 'q' };
    let typo: String = typo.into_iter().collect();
    assert_eq!(
        alice.pay_to_address(&b.chain, &pool, &typo, units(crate::amount::COIN), RATE),
        Err(WalletError::BadAddress(AddressError::Bech32(Bech32Error::BadChecksum)))
    );
    let mainnet = crate::address::encode_address("tab", &bob.owner());
    assert!(matches!(
        alice.pay_to_address(&b.chain, &pool, &mainnet, units(crate::amount::COIN), RATE),
        Err(WalletError::BadAddress(AddressError::WrongNetwork { .. }))
    ));
    // Paying everything (two coins) minus the exact fee, without change, works.
    let fee = RATE.fee_for(tx_size(2, 1));
    let all = alice
        .build_payment(&b.chain, &pool, bob.owner(), available.checked_sub(fee).expect("fee"), RATE)
        .expect("exact");
    assert_eq!(all.outputs.len(), 1);
}

#[test]
fn the_quoted_fee_is_the_fee_the_payment_pays() {
    let (b, alice, bob) = setup(3);
    let pool = Mempool::default();
    let available = alice.balance(&b.chain, &pool).confirmed;
    let exact_fee = RATE.fee_for(tx_size(alice.spendable(&b.chain, &pool).len(), 1));
    let all_but_fee = available.checked_sub(exact_fee).expect("fee");
    // One coin with change, two coins with change, and everything without change (a leftover
    // below dust goes to the fee).
    let almost_all = all_but_fee.checked_sub(units(500)).expect("fee");
    for amount in [units(crate::amount::COIN), units(crate::amount::COIN * 60), all_but_fee, almost_all] {
        let tx = alice.build_payment(&b.chain, &pool, bob.owner(), amount, RATE).expect("funded");
        let spent = Amount::checked_sum(
            tx.inputs.iter().map(|i| b.chain.utxos().get(&i.prev_out).expect("confirmed coin").output.amount),
        )
        .expect("in range");
        let paid = Amount::checked_sum(tx.outputs.iter().map(|o| o.amount)).expect("in range");
        let fee = spent.checked_sub(paid).expect("inputs cover outputs");
        assert_eq!(alice.payment_fee(&b.chain, &pool, amount, RATE), Ok(fee), "{amount}");
        assert!(fee >= RATE.fee_for(tx.size_bytes()), "{amount}: {fee} pays the rate");
    }
    assert!(matches!(alice.payment_fee(&b.chain, &pool, available, RATE), Err(WalletError::InsufficientFunds { .. })));
}

#[test]
fn a_reorg_returns_a_payment_to_pending() {
    let (mut b, mut alice, mut bob) = setup(1);
    let mut pool = Mempool::default();
    let fork = b.chain.tip_hash();
    let side = b.branch_on(fork, 2);
    let tx = alice.build_payment(&b.chain, &pool, bob.owner(), units(crate::amount::COIN), RATE).expect("funded");
    pool.accept(tx.clone(), &b.chain, NOW).expect("valid");
    mine_pool(&mut b, &mut pool, &mut [&mut alice, &mut bob]);
    assert_eq!(bob.balance(&b.chain, &pool).confirmed, units(crate::amount::COIN));
    let paid_block = b.chain.tip().block.clone();

    let _ = b.chain.accept_block(side[0].clone(), NOW);
    let update = b.chain.accept_block(side[1].clone(), NOW).expect("valid");
    assert_eq!(update.reorg_depth(), 1);
    pool.apply_chain_update(&b.chain, &update, &[paid_block], NOW);
    bob.apply(&b.chain, &update);
    alice.apply(&b.chain, &update);
    let balance = bob.balance(&b.chain, &pool);
    assert_eq!((balance.confirmed, balance.pending), (Amount::ZERO, units(crate::amount::COIN)));
    assert_eq!(bob.history(&pool)[0].height, None);
}

//! Properties over random payment workloads: what the mempool admits, block validation accepts
//! in a template; connecting a block and disconnecting it leaves the UTXO set as it was; and
//! every payment the wallet builds is admitted.

use proptest::prelude::*;
use tabchain_core::{
    Amount, Block, COIN, Chain, FeeRate, Mempool, Params, SecretKey, Wallet, child_block, connect_block,
    disconnect_block, search_nonce,
};

const NOW: u64 = 4_000_000_000;
const N_KEYS: usize = 4;

fn keys() -> Vec<SecretKey> {
    (1..=N_KEYS as u8).map(|i| SecretKey::from_bytes(&[i; 32])).collect()
}

/// The next block on the tip with `txs`, paying the coinbase to key `miner`.
fn next_block(chain: &Chain, txs: Vec<tabchain_core::Transaction>, fees: Amount, miner: usize) -> Block {
    let tip = chain.tip();
    let (owner, time) = (keys()[miner].public_key(), tip.header().time + 10);
    let block = child_block(chain, tip, owner, u64::from(tip.height + 1), time, txs, fees).expect("distinct");
    Block { header: search_nonce(&block.header, 1 << 20).expect("easy"), ..block }
}

/// A chain where every key has three mature coinbase coins.
fn funded() -> Chain {
    let mut chain = Chain::new(Params::regtest());
    for i in 0..3 * N_KEYS + chain.params().coinbase_maturity as usize {
        let block = next_block(&chain, vec![], Amount::ZERO, i % N_KEYS);
        chain.accept_block(block, NOW).expect("valid");
    }
    chain
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn admitted_transactions_make_valid_blocks_and_blocks_undo_exactly(
        payments in prop::collection::vec((0..N_KEYS, 0..N_KEYS, 1_000u64..20 * COIN, 1_000u64..50_000), 1..16),
        rounds in 1usize..3,
    ) {
        let mut chain = funded();
        let keys = keys();
        let mut pool = Mempool::default();
        let mut admitted = 0;
        for round in 0..rounds {
            let wallets: Vec<Wallet> = keys.iter().map(|k| Wallet::new(k.clone(), &chain)).collect();
            for &(payer, payee, amount, rate) in &payments {
                let amount = Amount::from_units(amount).expect("small");
                let built = wallets[payer].build_payment(&chain, &pool, keys[payee].public_key(), amount, FeeRate(rate));
                if let Ok(tx) = built {
                    // Whatever the wallet builds, the mempool admits, and nothing else with it.
                    let txid = tx.txid();
                    prop_assert_eq!(pool.accept(tx, &chain, NOW), Ok(vec![txid]));
                    admitted += 1;
                }
            }
            let (txs, fees) = pool.select_for_block(tabchain_core::BLOCK_BYTES_MAX - 1000);
            let block = next_block(&chain, txs, fees, round % N_KEYS);

            let mut utxos = chain.utxos().clone();
            let before = utxos.clone();
            let undo = connect_block(&block, chain.height() + 1, &mut utxos, chain.params()).expect("template connects");
            disconnect_block(&block, &undo, &mut utxos);
            prop_assert_eq!(&utxos, &before);

            let update = chain.accept_block(block, NOW).expect("a template of admitted transactions is valid");
            pool.apply_chain_update(&chain, &update, &[], NOW);
            prop_assert!(pool.is_empty(), "everything fit in one block");
        }
        prop_assert!(admitted > 0, "the workload made payments");
    }
}

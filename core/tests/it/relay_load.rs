//! Honest relaying never looks like a flood: a burst of transactions from one user crosses a
//! small network in batched announcements, and no node drops another for it.

use crate::sim::Sim;
use tabchain_core::{Amount, INV_ITEMS_MAX, OutPoint, Params, Transaction, TxOut, Txid, signed_transaction};

/// Transactions submitted, and the nodes they must reach.
const N_TXS: usize = 2000;
const N_NODES: usize = 5;
/// Outputs of each fan-out transaction, which turns one mature coinbase into many coins.
const FAN_OUT: usize = 500;

fn pay(sim: &Sim, from: usize, inputs: &[OutPoint], outputs: Vec<TxOut>) -> Transaction {
    signed_transaction(inputs, outputs, &sim.nodes[from].key, Params::regtest().genesis_hash())
}

/// Node 0 mines mature coinbases and splits them into `N_TXS` confirmed coins of its own.
fn coins_of_node_0(sim: &mut Sim) -> Vec<(OutPoint, Amount)> {
    let maturity = Params::regtest().coinbase_maturity as usize;
    let n_fan_outs = N_TXS.div_ceil(FAN_OUT);
    let coinbases: Vec<_> = (0..n_fan_outs + maturity).map(|_| sim.mine(0)).collect();
    let owner = sim.nodes[0].key.public_key();
    let mut coins = Vec::new();
    for block in &coinbases[..n_fan_outs] {
        let coinbase = &block.txs[0];
        let each = Amount::from_units((coinbase.outputs[0].amount.to_units() - 100_000) / FAN_OUT as u64).expect("ok");
        let outputs = vec![TxOut { amount: each, owner }; FAN_OUT];
        let fan_out = pay(sim, 0, &[OutPoint { txid: coinbase.txid(), vout: 0 }], outputs);
        coins.extend((0..FAN_OUT as u32).map(|vout| (OutPoint { txid: fan_out.txid(), vout }, each)));
        sim.submit(0, fan_out);
    }
    sim.mine(0);
    sim.run_for(10);
    coins
}

#[test]
fn two_thousand_transactions_in_two_seconds_reach_every_node_and_nobody_is_dropped() {
    let mut sim = Sim::new(11, &[None; N_NODES]);
    sim.full_mesh();
    sim.run_for(2); // the handshakes
    let coins = coins_of_node_0(&mut sim);
    let height = sim.nodes[0].node.chain().height();
    assert!(sim.nodes.iter().all(|n| n.node.chain().height() == height), "every node has the coins");
    let txs: Vec<Transaction> = coins[..N_TXS]
        .iter()
        .enumerate()
        .map(|(i, &(coin, amount))| {
            let to = sim.nodes[1 + i % (N_NODES - 1)].key.public_key();
            let value = amount.checked_sub(Amount::from_units(1000).expect("ok")).expect("above the fee");
            pay(&sim, 0, &[coin], vec![TxOut { amount: value, owner: to }])
        })
        .collect();
    let invs_before = sim.sent_by_tag.get(&3).copied().unwrap_or(0);
    for half in txs.chunks(N_TXS / 2) {
        for tx in half {
            sim.submit(0, tx.clone());
        }
        sim.run_for(1);
    }
    sim.run_for(30);
    let txids: Vec<Txid> = txs.iter().map(Transaction::txid).collect();
    for (i, n) in sim.nodes.iter().enumerate() {
        let missing = txids.iter().filter(|t| n.node.mempool().get(t).is_none()).count();
        assert_eq!((n.node.mempool().len(), missing), (N_TXS, 0), "node {i}");
    }
    assert_eq!(sim.disconnects, Vec::<(usize, usize, String)>::new(), "no node dropped another");
    // One `inv` per transaction per link would be 40,000. Batched, each link carries one per full
    // batch and at most one more per tick that queued anything (the burst spans two ticks).
    let invs = sim.sent_by_tag.get(&3).copied().unwrap_or(0) - invs_before;
    let links = N_NODES * (N_NODES - 1);
    assert!(
        invs <= links * (N_TXS / INV_ITEMS_MAX + 2),
        "{invs} inv messages for {N_TXS} transactions over {links} directed links"
    );
}

//! Snapshot sync in the simulator: a fresh node joining by snapshot ends with exactly the UTXO
//! set of a node that validated every block; a peer serving a tampered set is caught and
//! dropped, and another peer's set adopted; commitments stay right across a reorg deeper than
//! `SNAPSHOT_DEPTH`, and a node that went through it serves a set that verifies.

use crate::sim::{Sim, Tamper};
use tabchain_core::commitment::block_commitment;
use tabchain_core::{
    Amount, COIN, Chain, Coin, DisconnectReason, Event, FeeRate, Node, OutPoint, Params, SNAPSHOT_DEPTH,
    SNAPSHOT_INTERVAL, SNAPSHOT_MIN_HEIGHT, Txid, explorer,
};

/// Runs the network until node `miner` is at least at `height`, with node `payer` paying node
/// `payee` now and then, so the set holds more than coinbases.
fn grow_to(sim: &mut Sim, miner: usize, height: u32, payer: usize, payee: usize) {
    let mut round = 0;
    while sim.nodes[miner].node.chain().height() < height {
        sim.run_for(60);
        round += 1;
        if round % 3 == 0 {
            let to = sim.nodes[payee].key.public_key();
            let n = &sim.nodes[payer].node;
            let wallet = n.wallet().expect("wallet");
            let amount = Amount::from_units(COIN / 10).expect("small");
            if let Ok(tx) = wallet.build_payment(n.chain(), n.mempool(), to, amount, FeeRate(3000)) {
                sim.submit(payer, tx);
            }
        }
    }
}

/// The base of the snapshot node `i` adopted, from its events; fails if it adopted none.
fn adopted_base(sim: &Sim, i: usize) -> u32 {
    let adopted: Vec<u32> = sim.nodes[i]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::SnapshotAdopted { base_height, .. } => Some(*base_height),
            _ => None,
        })
        .collect();
    assert_eq!(adopted.len(), 1, "node {i} adopted exactly one snapshot");
    adopted[0]
}

/// What a node that joined by snapshot must show: it adopted one base at a snapshot height,
/// never held or stored a block below it, never showed a tip below it, and agrees with `honest`
/// on the tip and on every coin.
fn assert_joined_by_snapshot(sim: &Sim, joiner: usize, honest: usize) {
    let base = adopted_base(sim, joiner);
    assert!(base > 0 && base.is_multiple_of(SNAPSHOT_INTERVAL), "base {base}");
    let node = &sim.nodes[joiner].node;
    assert_eq!(node.chain().kept_from_height(), base + 1, "no block at or below the base is held");
    let stored_heights = sim.nodes[joiner]
        .stored
        .iter()
        .flat_map(|set| &set.blocks)
        .map(|b| node.chain().header(&b.block_hash()).map_or(u32::MAX, |known| known.height));
    assert!(stored_heights.clone().all(|h| h > base), "stored only blocks above the base");
    let shown: Vec<u32> = sim.nodes[joiner]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::TipChanged { height, .. } => Some(*height),
            _ => None,
        })
        .collect();
    assert!(shown.iter().all(|&h| h > base), "no tip below the verified base was ever shown: {shown:?}");
    assert_eq!(node.chain().tip_hash(), sim.nodes[honest].node.chain().tip_hash());
    assert_eq!(node.chain().utxos(), sim.nodes[honest].node.chain().utxos(), "exactly the same coins");
    assert!(node.snapshot_progress().is_none());
    assert_eq!(explorer::status(node).snapshot, None);
}

#[test]
fn a_node_joining_by_snapshot_ends_with_the_set_of_a_node_that_validated_every_block() {
    let mut sim = Sim::new(31, &[Some(10.0), None, None]);
    sim.latency_ms = (10, 80);
    sim.connect(0, 1);
    grow_to(&mut sim, 0, SNAPSHOT_MIN_HEIGHT + 150, 0, 1);
    sim.nodes[2].node.set_snapshot_sync(true);
    sim.connect(2, 0);
    sim.connect(2, 1);
    sim.run_for(5);
    let progress = sim.nodes[2].node.snapshot_progress();
    assert!(progress.is_some() || sim.nodes[2].node.chain().height() > 0, "the download began at once");
    assert!(sim.settle(600), "tips {:?}", sim.tips());
    assert_joined_by_snapshot(&sim, 2, 1);
    let payments = sim.nodes[1].node.chain().utxos().iter().filter(|(_, c)| !c.is_coinbase).count();
    assert!(payments > 5, "the set holds payments, not only coinbases ({payments})");
    sim.assert_money_conserved();
    assert!(sim.disconnects.is_empty(), "{:?}", sim.disconnects);
}

/// A network where node 0 serves tampered sets and is the joiner's first choice (the lowest
/// peer id), node 1 mines and serves honest ones, node 2 joins by snapshot.
fn join_past_a_tamperer(tamper: Tamper) -> Sim {
    let mut sim = Sim::new(47, &[None, Some(10.0), None]);
    sim.latency_ms = (10, 80);
    sim.connect(0, 1);
    grow_to(&mut sim, 1, SNAPSHOT_MIN_HEIGHT + 40, 1, 0);
    sim.tampers.insert(0, tamper);
    sim.nodes[2].node.set_snapshot_sync(true);
    sim.connect(2, 0);
    sim.connect(2, 1);
    assert!(sim.settle(600), "tips {:?}", sim.tips());
    sim
}

fn add_coin(coins: &mut Vec<(OutPoint, Coin)>) {
    let mut coin = coins[0].1;
    coin.output.amount = Amount::from_units(COIN).expect("in range");
    coins.push((OutPoint { txid: Txid::from_byte_array([0xff; 32]), vout: 0 }, coin));
}

fn remove_coin(coins: &mut Vec<(OutPoint, Coin)>) {
    coins.remove(coins.len() / 2);
}

#[allow(clippy::ptr_arg, reason = "every tamper has the one signature `Tamper`, some add or remove coins")]
fn change_amount(coins: &mut Vec<(OutPoint, Coin)>) {
    let amount = &mut coins[0].1.output.amount;
    *amount = amount.checked_add(Amount::from_units(1).expect("in range")).expect("in range");
}

#[test]
fn a_peer_serving_a_tampered_snapshot_is_dropped_and_another_peer_is_used() {
    let cases: [(&str, Tamper); 3] =
        [("a coin added", add_coin), ("a coin removed", remove_coin), ("an amount changed", change_amount)];
    for (what, tamper) in cases {
        let sim = join_past_a_tamperer(tamper);
        let base = adopted_base(&sim, 2);
        let expected = DisconnectReason::BadSnapshot { base_height: base }.to_string();
        let dropped: Vec<&(usize, usize, String)> = sim.disconnects.iter().filter(|d| d.0 == 2).collect();
        assert_eq!(dropped, [&(2, 0, expected)], "{what}: the tamperer, and only it, dropped for its set");
        assert_joined_by_snapshot(&sim, 2, 1);
    }
}

/// Checks every block of `node`'s active chain in memory against a chain that connects the same
/// blocks from genesis: each commits to the set after its parent.
fn assert_commitments_match_a_replay(node: &Node) {
    let chain = node.chain();
    assert_eq!(chain.kept_from_height(), 0, "the whole chain is in memory");
    let mut replay = Chain::new(Params::regtest());
    for height in 1..=chain.height() {
        let block = chain.entry(&chain.hash_at(height).expect("active")).expect("in memory").block.clone();
        assert_eq!(block_commitment(&block), Some(replay.utxos().commitment()), "block {height}");
        replay.accept_block(block, u64::MAX).expect("valid");
    }
    assert_eq!(replay.utxos(), chain.utxos());
}

#[test]
fn commitments_stay_right_across_a_reorg_deeper_than_the_snapshot_depth() {
    let mut sim = Sim::new(53, &[None, None, None, None]);
    sim.latency_ms = (5, 40);
    sim.connect(0, 1);
    sim.connect(1, 2);
    for _ in 0..30 {
        sim.mine(0);
        sim.run_for(10);
    }
    sim.partition(&[0]);
    // Side A (node 0) mines a branch longer than the snapshot depth; side B (nodes 1 and 2)
    // mines a longer one, with more work.
    let deep = SNAPSHOT_DEPTH as usize + 20;
    for _ in 0..deep {
        sim.mine(0);
        sim.run_for(10);
    }
    for _ in 0..deep + 130 {
        sim.mine(1);
        sim.run_for(9);
    }
    sim.heal();
    sim.run_for(900);
    let tips = sim.tips();
    assert!(tips[..3].iter().all(|t| *t == tips[1]), "node 3 is not connected yet; tips {tips:?}");
    assert!(sim.max_reorg_depth(0) > SNAPSHOT_DEPTH as usize, "node 0 reorged {} blocks", sim.max_reorg_depth(0));
    assert_commitments_match_a_replay(&sim.nodes[0].node);
    // A fresh node joins through node 0 alone, which rolls its reorged chain back to the base.
    sim.nodes[3].node.set_snapshot_sync(true);
    sim.connect(3, 0);
    let converged = sim.run_until_converged(600);
    assert!(
        converged,
        "progress {:?}, best {:?}, disconnects {:?}",
        sim.nodes[3].node.snapshot_progress(),
        sim.nodes[3].node.chain().best_header(),
        sim.disconnects
    );
    assert_joined_by_snapshot(&sim, 3, 0);
    assert_eq!(sim.nodes[3].node.chain().utxos(), sim.nodes[1].node.chain().utxos());
}

/// Seeds the randomized snapshot scenario runs with; `TABCHAIN_SIM_SEEDS=N` runs 1..=N.
fn seeds() -> Vec<u64> {
    match std::env::var("TABCHAIN_SIM_SEEDS").ok().and_then(|n| n.parse().ok()) {
        Some(n) => (1..=n).collect(),
        None => vec![1, 2],
    }
}

#[test]
fn joining_by_snapshot_survives_dropped_links_and_a_moving_tip() {
    for seed in seeds() {
        let mut sim = Sim::new(seed, &[Some(10.0), Some(30.0), None, None]);
        sim.latency_ms = (10, 300);
        sim.connect(0, 1);
        sim.connect(1, 2);
        grow_to(&mut sim, 0, SNAPSHOT_MIN_HEIGHT + 60, 0, 2);
        sim.nodes[3].node.set_snapshot_sync(true);
        sim.drop_per_s = 0.05;
        for peer in 0..3 {
            sim.connect(3, peer);
        }
        sim.run_for(600);
        sim.drop_per_s = 0.0;
        assert!(sim.settle(600), "seed {seed}: tips {:?}", sim.tips());
        assert_joined_by_snapshot(&sim, 3, 2);
        sim.assert_money_conserved();
    }
}

//! Nodes exchanging blocks and transactions through relays: gossip, initial sync, peering.

use crate::support::{RelayConfig, TestRelay, eventually, mine, start_node};
use std::time::Duration;
use tabchain_core::{Amount, COIN, FeeRate, SecretKey};
use tabchain_relay::driver::now;

const CONVERGE: Duration = Duration::from_secs(20);

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_exchange_blocks_and_transactions_through_one_relay() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let url = relay.ws_url();
    let nodes: Vec<_> = (1..=4u8).map(|n| start_node(std::slice::from_ref(&url), Some(key(n)))).collect();
    assert!(eventually(CONVERGE, || relay.driver.n_peers() == 4).await, "all four connected");

    // Node 0 mines enough for a mature coin; everyone follows.
    for i in 0..12 {
        mine(&nodes[0], key(1).public_key(), i);
    }
    let tip = nodes[0].read(|n| n.chain().tip_hash());
    assert!(
        eventually(CONVERGE, || nodes.iter().all(|d| d.read(|n| n.chain().tip_hash()) == tip)).await,
        "blocks reached every node"
    );
    assert_eq!(relay.driver.read(|n| n.chain().tip_hash()), tip);

    // A payment from node 0's wallet to node 1's key reaches every mempool, then a block.
    let tx = nodes[0].read(|n| {
        let wallet = n.wallet().expect("wallet");
        wallet.build_payment(
            n.chain(),
            n.mempool(),
            key(2).public_key(),
            Amount::from_units(5 * COIN).expect("small"),
            FeeRate(2000),
        )
    });
    let tx = tx.expect("funded");
    let txid = nodes[0].with_node(|n| n.submit_transaction(tx, now())).expect("valid");
    assert!(
        eventually(CONVERGE, || nodes.iter().all(|d| d.read(|n| n.mempool().contains(&txid)))).await,
        "the payment was relayed"
    );
    mine(&nodes[3], key(4).public_key(), 99);
    let confirmed = |d: &tabchain_relay::driver::Driver| {
        d.read(|n| {
            n.wallet().is_some_and(|w| w.history(n.mempool()).iter().any(|t| t.txid == txid && t.height.is_some()))
        })
    };
    assert!(
        eventually(CONVERGE, || confirmed(&nodes[1]) && confirmed(&nodes[0])).await,
        "payer and payee see it confirmed"
    );
    let balance = nodes[1].read(|n| n.wallet().expect("wallet").balance(n.chain(), n.mempool()));
    assert_eq!(balance.confirmed, Amount::from_units(5 * COIN).expect("small"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_node_syncs_a_long_chain() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    for i in 0..2_500 {
        mine(&relay.driver, key(9).public_key(), i);
    }
    let tip = relay.driver.read(|n| n.chain().tip_hash());
    let fresh = start_node(&[relay.ws_url()], None);
    assert!(
        eventually(Duration::from_secs(60), || fresh.read(|n| n.chain().tip_hash()) == tip).await,
        "synced to height {} of 2500",
        fresh.read(|n| n.chain().height())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peered_relays_converge_and_carry_blocks_across() {
    let a = TestRelay::start(RelayConfig::default()).await;
    let b = TestRelay::start(RelayConfig { peers: vec![a.ws_url()], ..Default::default() }).await;
    assert!(eventually(CONVERGE, || a.driver.n_peers() == 1 && b.driver.n_peers() == 1).await, "relays peered");
    let on_a = start_node(&[a.ws_url()], None);
    let on_b = start_node(&[b.ws_url()], None);
    for i in 0..5 {
        mine(&on_a, key(1).public_key(), i);
    }
    for i in 0..8 {
        mine(&b.driver, key(2).public_key(), 100 + i);
    }
    let converged = || {
        let tips: Vec<_> =
            [&a.driver, &b.driver, &on_a, &on_b].iter().map(|d| d.read(|n| n.chain().tip_hash())).collect();
        tips.iter().all(|t| *t == tips[0])
    };
    assert!(eventually(CONVERGE, converged).await, "everyone on one chain");
    mine(&on_a, key(1).public_key(), 50);
    let tip = on_a.read(|n| n.chain().tip_hash());
    assert!(
        eventually(CONVERGE, || on_b.read(|n| n.chain().tip_hash()) == tip).await,
        "a block from relay A's node reached relay B's node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_headless_node_binary_mines_into_the_relay() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let data = relay.dir.path().join("node-data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tabchain"))
        .args(["node", "--network", "regtest", "--mine", "--threads", "1", "--connect", &relay.ws_url()])
        .arg("--data")
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start tabchain node");
    let mined = eventually(CONVERGE, || relay.height() >= 3).await;
    let stdout = child.stdout.take().expect("piped");
    child.kill().expect("stop the node");
    let _ = child.wait();
    assert!(mined, "the node's blocks reached the relay (height {})", relay.height());
    assert!(data.join("miner.key").exists(), "the miner's key is kept in its data folder");
    let progress = std::io::read_to_string(stdout).unwrap_or_default();
    assert!(progress.contains("height") && progress.contains("peers"), "a progress line: {progress:?}");
}

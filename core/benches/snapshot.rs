//! The native side of snapshot sync (issue 13), run by `cargo xtask bench`: a fresh core `Node`
//! joins a node holding a chain of 10,000 and of 100,000 blocks (each after coinbase maturity
//! carrying a signed payment, so the set holds coinbases, payments and change), in one process
//! with messages handed across directly: no sockets, so these are the node's own costs. It
//! reports headers per second, the snapshot's megabytes per second (download, chunk checks and
//! the set hash kept chunk by chunk), the whole join to the tip, and what verifying a set that
//! size costs on its own. Writes `target/bench/snapshot.json`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tabchain_core::{
    Amount, COIN, Event, FeeRate, Node, Output, Params, PeerId, SNAPSHOT_DEPTH, SecretKey, UtxoSet, encode,
    search_nonce,
};

/// The node clock while validating: far past every block's time.
const NOW: u64 = u64::MAX / 4;
/// Chain lengths measured.
const SIZES: [u32; 2] = [10_000, 100_000];
/// Encoded bytes of one coin in a snapshot chunk (outpoint and coin).
const COIN_BYTES: f64 = 81.0;
const SERVER: PeerId = 0;
const JOINER: PeerId = 1;

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

/// A node holding `n` blocks on schedule from genesis, paying another key in every block once
/// its coinbases mature.
fn server_with_chain(n: u32) -> Node {
    let params = Params::regtest();
    let mut node = Node::new(params, "bench-server");
    let miner = key(1);
    node.set_wallet(miner.clone());
    let payee = key(2).public_key();
    let genesis_time = u64::from(params.genesis_header().time);
    for i in 1..=n {
        let time = genesis_time + u64::from(i) * 10;
        if i > params.coinbase_maturity + 1 {
            let wallet = node.wallet().expect("a wallet");
            let amount = Amount::from_units(COIN / 100).expect("small");
            if let Ok(tx) = wallet.build_payment(node.chain(), node.mempool(), payee, amount, FeeRate(2000)) {
                node.submit_transaction(tx, time).expect("a valid payment");
            }
        }
        let template = node.block_template(miner.public_key(), u64::from(i), time);
        let header = search_nonce(&template.header, 1 << 20).expect("regtest is easy");
        node.submit_block(tabchain_core::Block { header, ..template }, NOW).expect("valid");
        while node.poll_output().is_some() {}
    }
    node
}

/// What the join took, phase by phase.
struct Join {
    headers: Duration,
    snapshot: Duration,
    to_tip: Duration,
    coins: usize,
    base_height: u32,
}

/// Connects a fresh snapshot-syncing node to `server` and hands messages across until it is at
/// the server's tip.
fn join(server: &mut Node) -> Join {
    let params = *server.chain().params();
    let target = server.chain().height();
    let mut joiner = Node::new(params, "bench-joiner");
    joiner.set_snapshot_sync(true);
    let mut now = NOW;
    server.handle_peer_connected(JOINER, now);
    joiner.handle_peer_connected(SERVER, now);
    let started = Instant::now();
    let (mut headers, mut snapshot) = (None, None);
    let (mut coins, mut base_height) = (0, 0);
    let mut wire: VecDeque<(PeerId, Vec<u8>)> = VecDeque::new();
    while joiner.chain().height() < target {
        for (from, node) in [(SERVER, &mut *server), (JOINER, &mut joiner)] {
            while let Some(output) = node.poll_output() {
                match output {
                    Output::Send { peer: _, message } => wire.push_back((from, encode(&message))),
                    Output::Event(Event::SnapshotAdopted { coins: n, base_height: b, .. }) => {
                        snapshot = Some(started.elapsed());
                        (coins, base_height) = (n, b);
                    }
                    _ => {}
                }
            }
        }
        if headers.is_none() && joiner.chain().best_header().height == target {
            headers = Some(started.elapsed());
        }
        match wire.pop_front() {
            Some((SERVER, bytes)) => joiner.handle_message(SERVER, &bytes, now),
            Some((_, bytes)) => server.handle_message(JOINER, &bytes, now),
            None => {
                now += 1;
                joiner.handle_tick(now);
                server.handle_tick(now);
            }
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the join did not finish");
    }
    let headers = headers.expect("headers before the tip");
    let snapshot = snapshot.expect("joined by snapshot") - headers;
    Join { headers, snapshot, to_tip: started.elapsed(), coins, base_height }
}

fn main() {
    println!("tabchain-core snapshot sync, native, in one process (release build)");
    let mut json: Vec<String> = Vec::new();
    for n in SIZES {
        let built = Instant::now();
        let mut server = server_with_chain(n);
        let build_s = built.elapsed().as_secs_f64();
        let result = join(&mut server);
        let headers_per_s = f64::from(n) / result.headers.as_secs_f64();
        let megabytes = result.coins as f64 * COIN_BYTES / 1e6;
        let mb_per_s = megabytes / result.snapshot.as_secs_f64();
        // Verifying alone: the set hash of every coin of the set at the tip, and its digest.
        let coins: Vec<_> = server.chain().utxos().iter().map(|(o, c)| (*o, *c)).collect();
        let verify_started = Instant::now();
        let rebuilt: UtxoSet = coins.into_iter().collect();
        std::hint::black_box(rebuilt.commitment());
        let verify = verify_started.elapsed();
        println!("  {n} blocks (built in {build_s:.1} s), {} coins at base {}:", result.coins, result.base_height);
        println!(
            "    headers                          {:.2} s, {headers_per_s:.0} headers/s",
            result.headers.as_secs_f64()
        );
        println!(
            "    snapshot download and checks     {:.2} s, {megabytes:.1} MB at {mb_per_s:.1} MB/s",
            result.snapshot.as_secs_f64()
        );
        println!(
            "    to the tip ({} blocks validated)  {:.2} s in all",
            n - result.base_height,
            result.to_tip.as_secs_f64()
        );
        println!("    verifying a set of {} coins alone {:.0} ms", rebuilt.len(), verify.as_secs_f64() * 1e3);
        for (key, value) in [
            ("headers_per_s", headers_per_s),
            ("snapshot_mb_per_s", mb_per_s),
            ("snapshot_mb", megabytes),
            ("join_s", result.to_tip.as_secs_f64()),
            ("verify_ms", verify.as_secs_f64() * 1e3),
        ] {
            json.push(format!("  \"{key}_{n}\": {value:.3}"));
        }
        assert!(n - result.base_height >= SNAPSHOT_DEPTH);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    std::fs::write(dir.join("snapshot.json"), format!("{{\n{}\n}}\n", json.join(",\n"))).expect("write snapshot.json");
    println!("wrote target/bench/snapshot.json");
}

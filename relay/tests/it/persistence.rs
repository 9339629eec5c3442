//! The chain on disk: a restart resumes at the same tip, and `kill -9` at any moment loses no
//! block acknowledged as stored and never leaves a database that cannot be opened.

use crate::support::{RawClient, RelayConfig, TempDir, TestRelay, mine};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use tabchain_core::{BlockHash, Header, InvItem, Message, Params, SecretKey};
use tabchain_relay::driver::Driver;
use tabchain_relay::limits::Limits;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_the_same_data_keeps_the_tip() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    for i in 0..40 {
        mine(&relay.driver, SecretKey::from_bytes(&[3; 32]).public_key(), i);
    }
    let tip = relay.driver.read(|n| n.chain().tip_hash());
    let utxos = relay.driver.read(|n| n.chain().utxos().clone());
    let chain: Vec<Header> = relay.driver.read(|n| {
        let chain = n.chain();
        (1..=40).map(|h| *chain.entry(&chain.hash_at(h).expect("h")).expect("stored").header()).collect()
    });
    let data = relay.data.clone();
    let dir = relay.stop().await;
    let again = TestRelay::start(RelayConfig { data: Some(data), ..Default::default() }).await;
    assert_eq!(again.driver.read(|n| n.chain().tip_hash()), tip);
    assert_eq!(again.driver.read(|n| n.chain().utxos().clone()), utxos);

    // A peer that announces the whole chain: the restarted relay greets it at height 40 and asks
    // it for no block, since it already stores them all.
    let (hello_height, requested) = announce_chain(&again, &chain).await;
    assert_eq!(hello_height, 40, "the restarted relay had its chain before any peer");
    assert_eq!(requested, Vec::<BlockHash>::new(), "nothing was re-downloaded");
    assert_eq!(again.height(), 40);
    drop(dir);

    // The same announcement to a relay without the data does ask for the blocks: the check above
    // sees a download when there is one.
    let fresh = TestRelay::start(RelayConfig::default()).await;
    let (hello_height, requested) = announce_chain(&fresh, &chain).await;
    assert_eq!(hello_height, 0);
    let hashes: Vec<BlockHash> = chain.iter().map(Header::block_hash).collect();
    assert!(!requested.is_empty() && hashes.starts_with(&requested), "fresh relay asked for {requested:?}");
}

/// Connects to `relay` as a peer, sends it `headers` and a ping, and returns the height it
/// said hello with and every block it asked for before answering the ping (it answers in order,
/// so a request the headers caused comes first).
async fn announce_chain(relay: &TestRelay, headers: &[Header]) -> (u32, Vec<BlockHash>) {
    let mut peer = RawClient::connect(&relay.ws_url()).await;
    peer.hello(None).await;
    peer.send(&Message::Headers(headers.to_vec())).await;
    peer.send(&Message::Ping { nonce: 7 }).await;
    let (mut hello_height, mut requested) = (None, Vec::new());
    loop {
        match peer.recv().await.expect("the relay answers the ping") {
            Message::Hello { best_height, .. } => hello_height = Some(best_height),
            Message::GetData(items) => requested.extend(items.iter().filter_map(|item| match item {
                InvItem::Block(hash) => Some(*hash),
                InvItem::Tx(_) => None,
            })),
            Message::Pong { nonce: 7 } => break,
            _ => {}
        }
    }
    (hello_height.expect("the relay said hello first"), requested)
}

/// Free loopback port for a child process.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[test]
fn kill_minus_nine_during_block_writes_never_loses_an_acknowledged_block() {
    let dir = TempDir::new();
    let data = dir.path().join("data");
    std::fs::create_dir_all(dir.path().join("www")).expect("www");
    let mut acknowledged: Vec<BlockHash> = Vec::new();
    for round in 0..8u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tabchain"))
            .args(["serve", "--network", "regtest", "--mine", "--threads", "1", "--listen"])
            .arg(format!("127.0.0.1:{}", free_port()))
            .arg("--data")
            .arg(&data)
            .arg("--www")
            .arg(dir.path().join("www"))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the relay binary");
        // Read its log for a while: every "mined a block" line was written before it was printed.
        let stderr = child.stderr.take().expect("piped");
        let lines = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .filter(|l| l.contains("mined a block"))
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(700 + 150 * round));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let mined = lines.join().expect("log reader");
        for line in mined {
            let hash =
                line.split("hash=").nth(1).and_then(|h| h.split_whitespace().next()).expect("hash in the log line");
            acknowledged.push(hash.parse().expect("a block hash"));
        }
        // Whatever the moment of the kill, the database opens and holds every acknowledged block.
        let driver = Driver::open(Params::regtest(), Some(&data), Limits::default(), "check")
            .expect("the store opens after kill -9");
        driver.read(|node| {
            for hash in &acknowledged {
                assert!(node.chain().entry(hash).is_some(), "round {round}: acknowledged block {hash} lost");
            }
        });
        drop(driver);
    }
    assert!(acknowledged.len() >= 8, "the relay mined while being killed ({} blocks)", acknowledged.len());
}

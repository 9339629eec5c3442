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
                assert!(node.chain().has_block(hash), "round {round}: acknowledged block {hash} lost");
            }
        });
        drop(driver);
    }
    assert!(acknowledged.len() >= 8, "the relay mined while being killed ({} blocks)", acknowledged.len());
}

/// A relay's data directory holding `n` mined blocks, with the tip and coins it had.
async fn stored_chain(n: u64) -> (TempDir, std::path::PathBuf, BlockHash, tabchain_core::UtxoSet) {
    let relay = TestRelay::start(RelayConfig::default()).await;
    for i in 0..n {
        mine(&relay.driver, SecretKey::from_bytes(&[3; 32]).public_key(), i);
    }
    let tip = relay.driver.read(|n| n.chain().tip_hash());
    let utxos = relay.driver.read(|n| n.chain().utxos().clone());
    let data = relay.data.clone();
    (relay.stop().await, data, tip, utxos)
}

fn open(data: &std::path::Path) -> anyhow::Result<std::sync::Arc<Driver>> {
    Driver::open(Params::regtest(), Some(data), Limits::default(), "check")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_longer_than_memory_resumes_with_its_coins_and_serves_evicted_blocks() {
    let blocks = u64::from(tabchain_core::ACTIVE_BLOCKS_KEPT) + 60;
    let (_dir, data, tip, utxos) = stored_chain(blocks).await;
    let driver = open(&data).expect("resumes");
    driver.read(|node| {
        let chain = node.chain();
        assert_eq!((chain.tip_hash(), u64::from(chain.height())), (tip, blocks));
        assert_eq!(chain.utxos(), &utxos);
        assert_eq!(chain.n_blocks_in_memory(), tabchain_core::ACTIVE_BLOCKS_KEPT as usize + 1);
        let old = chain.hash_at(5).expect("on the chain");
        assert!(chain.has_block(&old) && chain.entry(&old).is_none(), "block 5 is stored, not in memory");
    });
    // And it goes on: a new block connects on the resumed tip.
    mine(&driver, SecretKey::from_bytes(&[4; 32]).public_key(), 99);
    assert_eq!(u64::from(driver.read(|n| n.chain().height())), blocks + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_is_stored_so_that_the_restart_resumes_on_the_new_branch() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let other = Driver::open(Params::regtest(), None, Limits::default(), "other").expect("in memory");
    for i in 0..30 {
        let block = mine(&relay.driver, SecretKey::from_bytes(&[3; 32]).public_key(), i);
        if i < 27 {
            other.with_node(|n| n.submit_block(block, tabchain_relay::driver::now())).expect("valid");
        }
    }
    let branch: Vec<tabchain_core::Block> =
        (0..5).map(|i| mine(&other, SecretKey::from_bytes(&[6; 32]).public_key(), 100 + i)).collect();
    for block in branch {
        let _ = relay.driver.with_node(|n| n.submit_block(block, tabchain_relay::driver::now()));
    }
    let tip = other.read(|n| n.chain().tip_hash());
    assert_eq!(relay.driver.read(|n| n.chain().tip_hash()), tip, "the relay reorged to the longer branch");
    let utxos = other.read(|n| n.chain().utxos().clone());
    let data = relay.data.clone();
    let _dir = relay.stop().await;
    let driver = open(&data).expect("resumes after a reorg");
    assert_eq!(driver.read(|n| n.chain().tip_hash()), tip);
    assert_eq!(driver.read(|n| n.chain().utxos().clone()), utxos);
}

const UTXOS_TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("utxos");
const ACTIVE_TABLE: redb::TableDefinition<u32, &[u8]> = redb::TableDefinition::new("active");

/// Changes the stored database behind the relay's back.
fn damage(data: &std::path::Path, f: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Database::open(data.join("chain.redb")).expect("the database opens");
    let txn = db.begin_write().expect("write");
    f(&txn);
    txn.commit().expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_store_is_named_in_one_sentence_and_reindex_repairs_it() {
    let (_dir, data, tip, utxos) = stored_chain(40).await;
    // A coin's amount changed on disk.
    damage(&data, |txn| {
        use redb::ReadableTable as _;
        let mut table = txn.open_table(UTXOS_TABLE).expect("utxos");
        let (key, mut value) = {
            let (k, v) = table.first().expect("read").expect("a coin");
            (k.value().to_vec(), v.value().to_vec())
        };
        value[0] ^= 1;
        table.insert(key.as_slice(), value.as_slice()).expect("write");
    });
    let error = format!("{:#}", open(&data).expect_err("a damaged store is refused"));
    assert!(error.contains("is damaged") && error.contains("checksum"), "{error}");
    assert!(error.contains("tabchain reindex --data"), "the sentence says how to repair: {error}");

    let report = tabchain_relay::store::reindex(&data, Params::regtest()).expect("reindex");
    assert_eq!((report.blocks, report.refused, report.unreadable, report.height), (40, 0, 0, 40));
    let driver = open(&data).expect("a reindexed store resumes");
    assert_eq!(driver.read(|n| n.chain().tip_hash()), tip);
    assert_eq!(driver.read(|n| n.chain().utxos().clone()), utxos);
    drop(driver);

    // A header lost from the middle of the active chain.
    damage(&data, |txn| {
        txn.open_table(ACTIVE_TABLE).expect("active").remove(17).expect("remove");
    });
    let error = format!("{:#}", open(&data).expect_err("a damaged store is refused"));
    assert!(error.contains("is damaged") && error.contains("no header is stored at height 17"), "{error}");
}

#[test]
fn the_binary_refuses_a_damaged_store_with_its_sentence_and_reindexes_it() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let (dir, data, _, _) = runtime.block_on(stored_chain(12));
    drop(runtime);
    damage(&data, |txn| {
        txn.open_table(ACTIVE_TABLE).expect("active").remove(3).expect("remove");
    });
    std::fs::create_dir_all(dir.path().join("www")).expect("www");
    let serve = Command::new(env!("CARGO_BIN_EXE_tabchain"))
        .args(["serve", "--network", "regtest", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--www")
        .arg(dir.path().join("www"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run the relay");
    assert!(!serve.status.success(), "a damaged store stops the relay");
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert!(stderr.contains("is damaged") && stderr.contains("tabchain reindex"), "{stderr}");

    let reindex = Command::new(env!("CARGO_BIN_EXE_tabchain"))
        .args(["reindex", "--network", "regtest", "--data"])
        .arg(&data)
        .output()
        .expect("run reindex");
    let stdout = String::from_utf8_lossy(&reindex.stdout);
    assert!(reindex.status.success(), "{stdout} {}", String::from_utf8_lossy(&reindex.stderr));
    assert!(stdout.contains("12 blocks validated, 0 refused, 0 unreadable; height 12"), "{stdout}");
    assert!(open(&data).is_ok(), "the reindexed store resumes");
}

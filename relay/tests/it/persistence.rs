//! The chain on disk: a restart resumes at the same tip, and `kill -9` at any moment loses no
//! block acknowledged as stored and never leaves a database that cannot be opened.

use crate::support::{RelayConfig, TempDir, TestRelay, mine};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use tabchain_core::{BlockHash, Params, SecretKey};
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
    let data = relay.data.clone();
    let dir = relay.stop().await;
    let again = TestRelay::start(RelayConfig { data: Some(data), ..Default::default() }).await;
    assert_eq!(again.driver.read(|n| n.chain().tip_hash()), tip);
    assert_eq!(again.driver.read(|n| n.chain().utxos().clone()), utxos);
    assert_eq!(again.driver.n_peers(), 0, "nothing was re-downloaded");
    drop(dir);
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

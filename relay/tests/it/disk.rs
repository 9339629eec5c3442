//! A full disk: the relay refuses new blocks with 503, keeps serving reads, says so in its
//! metrics, holds what the network sends in memory, and writes it all once space returns.

use crate::support::{TempDir, TestRelay, eventually, get, post};
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tabchain_core::{Block, Params, SecretKey, encode, hex, search_nonce};
use tabchain_relay::driver::{Driver, now};
use tabchain_relay::limits::Limits;
use tabchain_relay::store::{Opener, Store};

/// A database file on a disk that can fill up: while `full`, the file cannot grow (growing it or
/// writing past its end fails with `StorageFull`, as ENOSPC does), while space it already has
/// can still be written, as on a real disk.
#[derive(Debug)]
struct FillableDisk {
    file: redb::backends::FileBackend,
    full: Arc<AtomicBool>,
}

fn no_space() -> io::Error {
    io::Error::from(io::ErrorKind::StorageFull)
}

impl redb::StorageBackend for FillableDisk {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        if self.full.load(Ordering::SeqCst) && len > self.file.len()? {
            return Err(no_space());
        }
        self.file.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        if self.full.load(Ordering::SeqCst) && offset + data.len() as u64 > self.file.len()? {
            return Err(no_space());
        }
        self.file.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.file.query_lock_range(start, end)
    }
}

fn fillable(data: &Path, full: Arc<AtomicBool>) -> Opener {
    let path = data.join("chain.redb");
    Arc::new(move || {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
        let disk = FillableDisk { file: redb::backends::FileBackend::new(file)?, full: full.clone() };
        redb::Builder::new().create_with_backend(disk)
    })
}

/// A valid block on `driver`'s tip, not yet submitted.
fn next_block(driver: &Driver, extra_nonce: u64) -> Block {
    let owner = SecretKey::from_bytes(&[3; 32]).public_key();
    let on_schedule = driver.read(|node| u64::from(node.chain().tip().header().time) + 10).min(now());
    let template = driver.read(|node| node.block_template(owner, extra_nonce, on_schedule));
    Block { header: search_nonce(&template.header, 1 << 24).expect("regtest is easy"), ..template }
}

fn block_body(block: &Block) -> String {
    format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(block)))
}

fn metric(text: &str, name: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("no {name}"));
    line.split(' ').nth(1).and_then(|v| v.parse().ok()).expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_blocks_keeps_serving_reads_and_writes_everything_once_space_returns() {
    let dir = TempDir::new();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let full = Arc::new(AtomicBool::new(false));
    let store = Store::open_with(&data, &Params::regtest(), fillable(&data, full.clone())).expect("store");
    let driver = Driver::with_store(Params::regtest(), store, &data, Limits::default(), "disk").expect("driver");
    tokio::spawn(driver.clone().run_ticker());
    let relay = TestRelay::serve(driver.clone(), dir, data.clone()).await;

    for i in 0..3 {
        assert_eq!(post(relay.addr, "/api/block", &block_body(&next_block(&driver, i))).await.status, 200);
    }
    full.store(true, Ordering::SeqCst);
    // Blocks are submitted until one needs more room than the file has.
    let mut refused = None;
    for i in 3..3000 {
        let response = post(relay.addr, "/api/block", &block_body(&next_block(&driver, i))).await;
        if response.status != 200 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("the file filled up");
    assert_eq!(refused.status, 503);
    assert_eq!(refused.json()["error"], "the relay's disk is full: no block is stored until space returns");
    let held_tip = driver.read(|n| (n.chain().height(), n.chain().tip_hash()));

    // Reads go on, from the reopened store; the metrics say the disk is full.
    let block = get(relay.addr, "/api/blocks/2", "").await;
    assert_eq!((block.status, block.json()["height"].as_u64()), (200, Some(2)));
    assert_eq!(get(relay.addr, "/api/status", "").await.status, 200);
    let metrics = String::from_utf8(get(relay.addr, "/metrics", "").await.body).expect("text");
    assert_eq!(metric(&metrics, "tabchain_store_disk_full"), 1.0);
    assert_eq!(metric(&metrics, "tabchain_store_out_of_space_total"), 1.0);
    assert!(metric(&metrics, "tabchain_store_backlog_sets") >= 1.0);
    // Another submission is refused before it reaches the node.
    let again = post(relay.addr, "/api/block", &block_body(&next_block(&driver, 9_000))).await;
    assert_eq!(again.status, 503);
    assert_eq!(driver.read(|n| (n.chain().height(), n.chain().tip_hash())), held_tip);
    // A block from the network is still followed, and held in memory behind the first.
    let from_network = next_block(&driver, 9_001);
    driver.with_node(|n| n.submit_block(from_network, now())).expect("valid");
    assert_eq!(driver.backlog_len(), 2);
    let tip = driver.read(|n| n.chain().tip_hash());

    // Space returns: within a tick or two everything held is written, and blocks are taken again.
    full.store(false, Ordering::SeqCst);
    assert!(eventually(Duration::from_secs(10), || !driver.disk_full()).await, "the backlog was written");
    let metrics = String::from_utf8(get(relay.addr, "/metrics", "").await.body).expect("text");
    assert_eq!(metric(&metrics, "tabchain_store_disk_full"), 0.0);
    assert_eq!(driver.failure(), None);
    assert_eq!(driver.read(|n| n.chain().tip_hash()), tip);
    let data = relay.data.clone();
    drop(driver);
    let _dir = relay.stop().await;

    // Nothing was lost: the store resumes at the tip that was held in memory.
    let reopened = Driver::open(Params::regtest(), Some(&data), Limits::default(), "check").expect("resumes");
    assert_eq!(reopened.read(|n| n.chain().tip_hash()), tip);
}

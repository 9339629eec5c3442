//! The native miner: threads searching nonces of the node's block template with core's mining
//! kernel (midstate, SHA instructions), restarting when the tip changes, submitting what they
//! find. Each thread mines its own extra nonce, so threads never search the same header.

use crate::driver::{Driver, now};
use crate::metrics::Metrics;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tabchain_core::{Block, MiningJob, PublicKey, search};

/// Nonces tried between checks for a new tip: small enough to react within ~100 ms.
const BATCH_NONCES: u32 = 50_000;
/// How often a template is rebuilt even without a new tip (to pick up transactions and time).
const TEMPLATE_REFRESH: Duration = Duration::from_secs(5);

/// Hashes tried so far, for hash-rate reports.
#[derive(Debug, Default)]
pub struct MinerStats {
    pub hashes: AtomicU64,
    pub blocks: AtomicU64,
}

/// Starts `threads` mining threads paying to `owner`; they run until `stop` is set. Fails if
/// the system refuses a thread (those already started stop with `stop`).
pub fn start(
    driver: Arc<Driver>,
    owner: PublicKey,
    threads: usize,
    stop: Arc<AtomicBool>,
) -> std::io::Result<Arc<MinerStats>> {
    let stats = Arc::new(MinerStats::default());
    for thread in 0..threads.max(1) {
        let (driver, stats, stop_thread) = (driver.clone(), stats.clone(), stop.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("miner-{thread}"))
            .spawn(move || mine(&driver, owner, thread as u64, &stats, &stop_thread));
        if let Err(error) = spawned {
            stop.store(true, Ordering::Relaxed);
            return Err(error);
        }
    }
    Ok(stats)
}

fn mine(driver: &Driver, owner: PublicKey, thread: u64, stats: &MinerStats, stop: &AtomicBool) {
    let mut tip = driver.tip_watch();
    let mut extra_nonce = thread << 48;
    while !stop.load(Ordering::Relaxed) && !driver.is_shut_down() {
        extra_nonce += 1;
        let template = driver.read(|node| node.block_template(owner, extra_nonce, now()));
        let Ok(job) = MiningJob::new(&template.header) else { return };
        let started = Instant::now();
        tip.mark_unchanged();
        let mut nonce = 0u32;
        let found = loop {
            if stop.load(Ordering::Relaxed) || tip.has_changed().unwrap_or(true) || started.elapsed() > TEMPLATE_REFRESH
            {
                break None;
            }
            let result = search(&job, nonce, BATCH_NONCES);
            stats.hashes.fetch_add(result.hashes, Ordering::Relaxed);
            if result.nonce.is_some() {
                break result.nonce;
            }
            match nonce.checked_add(BATCH_NONCES) {
                Some(next) => nonce = next,
                None => break None, // nonce space exhausted: a new extra nonce
            }
        };
        if let Some(nonce) = found {
            let header = tabchain_core::Header { nonce, ..template.header };
            let block = Block { header, ..template };
            match driver.with_node(|node| node.submit_block(block, now())) {
                Ok(_) => {
                    stats.blocks.fetch_add(1, Ordering::Relaxed);
                    Metrics::inc(&driver.metrics.blocks_mined);
                    tracing::info!(hash = %header.block_hash(), "mined a block");
                }
                Err(error) => {
                    // Stale, or dated too far ahead of the clock on an easy network: wait a
                    // moment rather than spin.
                    tracing::debug!("mined block refused: {error}");
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }
}

//! Assembling a running node from options: the relay (`tabchain serve`) and the headless node
//! (`tabchain node`). Tests start the same things in-process.

use crate::discovery::{self, DiscoveryOptions};
use crate::driver::Driver;
use crate::limits::Limits;
use crate::{client, miner, serve};
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
pub use tabchain_core::Network;
use tabchain_core::{SecretKey, encode_address, hex};
use tokio::net::TcpListener;

/// What a relay or node runs with.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub network: Network,
    pub data: Option<PathBuf>,
    /// WebSocket URLs of relays to stay connected to.
    pub peers: Vec<String>,
    /// Mining threads; 0 mines nothing.
    pub mine_threads: usize,
    pub limits: Limits,
}

/// A node started in-process.
#[derive(Debug)]
pub struct Started {
    pub driver: Arc<Driver>,
    pub miner: Option<Arc<miner::MinerStats>>,
    pub stop_mining: Arc<AtomicBool>,
}

/// Opens the node, connects to its peers and starts its miner.
pub fn start_node(options: &NodeOptions, user_agent: &str) -> anyhow::Result<Started> {
    let driver = Driver::open(options.network.params(), options.data.as_deref(), options.limits.clone(), user_agent)?;
    tokio::spawn(driver.clone().run_ticker());
    for url in &options.peers {
        tokio::spawn(client::keep_connected(driver.clone(), url.clone()));
    }
    let stop_mining = Arc::new(AtomicBool::new(false));
    let miner = if options.mine_threads > 0 {
        let key = miner_key(options.data.as_deref())?;
        let address = driver.read(|node| encode_address(node.chain().params().address_hrp, &key.public_key()));
        tracing::info!(%address, threads = options.mine_threads, "mining");
        let stats = miner::start(driver.clone(), key.public_key(), options.mine_threads, stop_mining.clone())
            .context("cannot start the mining threads")?;
        Some(stats)
    } else {
        None
    };
    Ok(Started { driver, miner, stop_mining })
}

/// The key mined blocks pay to: kept in `data/miner.key`, or fresh each run without `--data`.
pub fn miner_key(data: Option<&Path>) -> anyhow::Result<SecretKey> {
    let fresh = || -> anyhow::Result<[u8; 32]> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        Ok(seed)
    };
    let Some(dir) = data else { return Ok(SecretKey::from_bytes(&fresh()?)) };
    let path = dir.join("miner.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let seed = hex::decode_array::<32>(text.trim())
            .with_context(|| format!("{} is not a 32-byte hex key", path.display()))?;
        return Ok(SecretKey::from_bytes(&seed));
    }
    std::fs::create_dir_all(dir)?;
    let seed = fresh()?;
    std::fs::write(&path, hex::encode(&seed)).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(SecretKey::from_bytes(&seed))
}

/// Runs the relay: the node plus the HTTP server on `listener`, until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    www: serve::Site,
    options: NodeOptions,
    discovery: DiscoveryOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // A missing folder stops the relay before it says it serves anything.
    www.check()?;
    let started = start_node(&options, concat!("tabchain-relay/", env!("CARGO_PKG_VERSION")))?;
    tokio::spawn(discovery::run(started.driver.clone(), discovery));
    let addr: SocketAddr = listener.local_addr()?;
    let driver = started.driver.clone();
    let stopped = {
        let driver = driver.clone();
        async move {
            tokio::select! {
                () = shutdown => {}
                () = driver.stopped() => {}
            }
        }
    };
    println!("tabchain: serving {} at http://{addr}/", www.describe());
    serve::run(listener, www, started.driver, stopped).await.context("server stopped")?;
    failed(&driver)
}

/// The driver's own failure (the store), as the error a relay or node exits with.
pub fn failed(driver: &Driver) -> anyhow::Result<()> {
    match driver.failure() {
        Some(reason) => Err(anyhow::anyhow!("{reason}")),
        None => Ok(()),
    }
}

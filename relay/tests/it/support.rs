//! Shared test helpers: temporary folders, relays and nodes started in-process on loopback,
//! the hostile module's raw protocol client and raw HTTP as tests use them, and mining on
//! regtest. Every wait is bounded.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tabchain_core::{Block, Message, Params, PublicKey, SecretKey, search_nonce};
use tabchain_relay::app::{self, Network, NodeOptions};
use tabchain_relay::discovery::{self, DiscoveryOptions, OUTBOUND_DIALLED_MAX};
use tabchain_relay::driver::{Driver, now};
use tabchain_relay::hostile::http_client;
use tabchain_relay::hostile::ws_client::{Closed, ConnectError, WsClient};
use tabchain_relay::limits::Limits;
use tokio::net::TcpListener;

/// Bound on every network step, so a hung server fails the test instead of hanging CI.
pub use tabchain_relay::hostile::ws_client::STEP_TIMEOUT;
/// Where test clients connect from.
const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

pub const INDEX_HTML: &str = "<!doctype html><title>test page</title>";
/// The wasm magic number and version: what a real module starts with.
pub const WASM_BYTES: &[u8] = b"\0asm\x01\0\0\0";

/// A fresh folder under the system temp dir, removed at the end of the test.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tabchain-relay-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Options of a test relay.
#[derive(Debug, Default, Clone)]
pub struct RelayConfig {
    pub limits: Option<Limits>,
    pub peers: Vec<String>,
    /// Reuse this folder (for restarts) instead of a fresh one.
    pub data: Option<PathBuf>,
    /// Take part in discovery: advertise `ws_url()` and dial gossiped relays.
    pub discover: bool,
}

/// A relay in this process (regtest, no data directory) serving `site`, for tests of the page
/// alone; it runs until the test's runtime ends.
pub async fn serve_site(site: tabchain_relay::serve::Site) -> SocketAddr {
    let options = NodeOptions {
        network: Network::Regtest,
        data: None,
        peers: Vec::new(),
        mine_threads: 0,
        limits: Limits::default(),
    };
    let started = app::start_node(&options, "test-relay").expect("start the relay's node");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(
        async move { tabchain_relay::serve::run(listener, site, started.driver, std::future::pending()).await },
    );
    addr
}

/// A relay running in this process, on regtest, with a `www/` of fixtures.
pub struct TestRelay {
    pub addr: SocketAddr,
    pub driver: Arc<Driver>,
    pub dir: TempDir,
    pub data: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl TestRelay {
    pub async fn start(config: RelayConfig) -> Self {
        let dir = TempDir::new();
        let data = config.data.clone().unwrap_or_else(|| dir.path().join("data"));
        let options = NodeOptions {
            network: Network::Regtest,
            data: Some(data.clone()),
            peers: config.peers.clone(),
            mine_threads: 0,
            limits: config.limits.clone().unwrap_or_default(),
        };
        let started = app::start_node(&options, "test-relay").expect("start the relay's node");
        let relay = Self::serve(started.driver, dir, data).await;
        if config.discover {
            let discovery = DiscoveryOptions {
                public_url: Some(relay.ws_url()),
                configured: config.peers.clone(),
                outbound_max: OUTBOUND_DIALLED_MAX,
                ice_servers: Vec::new(),
            };
            tokio::spawn(discovery::run(relay.driver.clone(), discovery));
        }
        relay
    }

    /// Serves the API and `/ws` of a node already started (its ticker running) whose data
    /// directory is `data`.
    pub async fn serve(driver: Arc<Driver>, dir: TempDir, data: PathBuf) -> Self {
        let www = dir.path().join("www");
        std::fs::create_dir_all(www.join("pkg")).expect("create www");
        std::fs::write(www.join("index.html"), INDEX_HTML).expect("write index.html");
        std::fs::write(www.join("main.js"), "export {};\n").expect("write main.js");
        std::fs::write(www.join("pkg/dummy.wasm"), WASM_BYTES).expect("write dummy.wasm");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = driver.clone();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            tabchain_relay::serve::run(listener, www, served, shutdown).await.expect("server runs");
        });
        Self { addr, driver, dir, data, shutdown: Some(tx), server }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Stops the relay and waits until its store is closed.
    pub async fn stop(mut self) -> TempDir {
        self.driver.shutdown();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(STEP_TIMEOUT, &mut self.server).await;
        self.server.abort();
        let closed = eventually(STEP_TIMEOUT, || Arc::strong_count(&self.driver) == 1).await;
        assert!(closed, "every task let go of the node");
        self.dir
    }

    pub fn height(&self) -> u32 {
        self.driver.read(|n| n.chain().height())
    }
}

/// A headless node in this process, following `urls`.
pub fn start_node(urls: &[String], key: Option<SecretKey>) -> Arc<Driver> {
    let options = NodeOptions {
        network: Network::Regtest,
        data: None,
        peers: urls.to_vec(),
        mine_threads: 0,
        limits: Limits::default(),
    };
    let started = app::start_node(&options, "test-node").expect("start node");
    if let Some(key) = key {
        started.driver.with_node(|node| node.set_wallet(key));
    }
    started.driver
}

/// Mines one block on `driver`'s tip, paying `owner`, dated ten seconds after its parent (the
/// target spacing, so difficulty stays put however fast tests mine, and clear of the limit on
/// future times while the chain is younger than the wall clock).
pub fn mine(driver: &Driver, owner: PublicKey, extra_nonce: u64) -> Block {
    let on_schedule = driver.read(|node| u64::from(node.chain().tip().header().time) + 10).min(now());
    let template = driver.read(|node| node.block_template(owner, extra_nonce, on_schedule));
    let header = search_nonce(&template.header, 1 << 24).expect("regtest is easy");
    let block = Block { header, ..template };
    driver.with_node(|node| node.submit_block(block.clone(), now())).expect("own template is valid");
    block
}

/// Mines `n` blocks on `driver`'s tip and returns them as inventory, for asking a relay for all
/// of them at once.
pub fn mine_inventory(driver: &Driver, n: u32) -> Vec<tabchain_core::InvItem> {
    let start = driver.read(|node| node.chain().height()) + 1;
    for i in 0..n {
        mine(driver, SecretKey::from_bytes(&[5; 32]).public_key(), u64::from(i));
    }
    driver.read(|node| {
        (start..start + n).map(|h| tabchain_core::InvItem::Block(node.chain().hash_at(h).expect("mined"))).collect()
    })
}

/// Polls `condition` every 50 ms for at most `limit`.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition()
}

/// A raw protocol client, for speaking (and misbehaving) frame by frame: the hostile module's,
/// from 127.0.0.1, with a failure to connect failing the test.
pub struct RawClient(WsClient);

impl std::ops::Deref for RawClient {
    type Target = WsClient;
    fn deref(&self) -> &WsClient {
        &self.0
    }
}

impl std::ops::DerefMut for RawClient {
    fn deref_mut(&mut self) -> &mut WsClient {
        &mut self.0
    }
}

/// The listen address in a `ws://ADDR/ws` URL.
fn ws_addr(url: &str) -> SocketAddr {
    let addr = url.strip_prefix("ws://").and_then(|rest| rest.strip_suffix("/ws")).expect("a ws://ADDR/ws URL");
    addr.parse().expect("a socket address")
}

impl RawClient {
    pub async fn connect(url: &str) -> Self {
        Self::connect_with(url, &[]).await.unwrap_or_else(|status| panic!("the upgrade was refused with {status}"))
    }

    /// Connects with extra request headers (e.g. `Origin`); returns the HTTP error status if refused.
    pub async fn connect_with(url: &str, headers: &[(&'static str, &str)]) -> Result<Self, u16> {
        match WsClient::connect(ws_addr(url), LOOPBACK, headers).await {
            Ok(client) => Ok(Self(client)),
            Err(ConnectError::Status(status)) => Err(status),
            Err(other) => panic!("unexpected connection error {other}"),
        }
    }

    /// Says hello on regtest (or on `genesis`'s network).
    pub async fn hello(&mut self, genesis: Option<tabchain_core::BlockHash>) {
        self.0.hello(genesis.unwrap_or_else(|| Params::regtest().genesis_hash())).await;
    }

    /// The next protocol message, or `None` when the socket closes (or nothing comes in time).
    pub async fn recv(&mut self) -> Option<Message> {
        self.0.recv(STEP_TIMEOUT).await
    }

    /// Reads until the socket closes; returns the close code, if the server sent one.
    pub async fn close_code(&mut self, within: Duration) -> Option<u16> {
        match self.0.closed(within).await {
            Closed::Code(code) => Some(code),
            Closed::NoCode => None,
            Closed::Open => panic!("the socket did not close within {within:?}"),
        }
    }
}

pub use tabchain_relay::hostile::http_client::Response;

/// Sends one GET with `Connection: close` and reads the whole response.
pub async fn get(addr: SocketAddr, path: &str, extra_headers: &str) -> Response {
    request(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}Connection: close\r\n\r\n")).await
}

/// Sends one POST with `body`.
pub async fn post(addr: SocketAddr, path: &str, body: &str) -> Response {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    request(addr, &(head + body)).await
}

pub async fn request(addr: SocketAddr, raw_request: &str) -> Response {
    http_client::request(LOOPBACK, addr, raw_request).await.unwrap_or_else(|error| panic!("no response: {error}"))
}

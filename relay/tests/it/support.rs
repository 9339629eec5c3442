//! Shared test helpers: temporary folders, relays and nodes started in-process on loopback,
//! a raw protocol client, raw HTTP, and mining on regtest. Every wait is bounded.

use futures_util::{SinkExt as _, StreamExt as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tabchain_core::{Block, Message, Params, PublicKey, SecretKey, search_nonce};
use tabchain_relay::app::{self, Network, NodeOptions};
use tabchain_relay::discovery::{self, DiscoveryOptions, OUTBOUND_DIALLED_MAX};
use tabchain_relay::driver::{Driver, now};
use tabchain_relay::limits::Limits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest as _};

/// Bound on every network step, so a hung server fails the test instead of hanging CI.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response a test reads.
const RESPONSE_BYTES_MAX: u64 = 8 << 20;

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

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A raw protocol client, for speaking (and misbehaving) frame by frame.
pub struct RawClient {
    pub socket: Socket,
}

impl RawClient {
    pub async fn connect(url: &str) -> Self {
        let socket = tokio::time::timeout(STEP_TIMEOUT, tokio_tungstenite::connect_async(url))
            .await
            .expect("in time")
            .expect("connect")
            .0;
        Self { socket }
    }

    /// Connects with extra request headers (e.g. `Origin`); returns the HTTP error status if refused.
    pub async fn connect_with(url: &str, headers: &[(&'static str, &str)]) -> Result<Self, u16> {
        let mut request = url.into_client_request().expect("a valid URL");
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().expect("header value"));
        }
        match tokio::time::timeout(STEP_TIMEOUT, tokio_tungstenite::connect_async(request)).await.expect("in time") {
            Ok((socket, _)) => Ok(Self { socket }),
            Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(other) => panic!("unexpected connection error {other}"),
        }
    }

    pub async fn send(&mut self, message: &Message) {
        self.send_raw(message.to_bytes()).await;
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        let _ = self.socket.send(tungstenite::Message::Binary(bytes.into())).await;
    }

    /// Says hello on regtest (or on `genesis`'s network).
    pub async fn hello(&mut self, genesis: Option<tabchain_core::BlockHash>) {
        let hello = Message::Hello {
            protocol_version: tabchain_core::PROTOCOL_VERSION,
            genesis: genesis.unwrap_or_else(|| Params::regtest().genesis_hash()),
            best_height: 0,
            user_agent: "raw-test-client".into(),
        };
        self.send(&hello).await;
    }

    /// The next protocol message, or `None` when the socket closes (or nothing comes in time).
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            match tokio::time::timeout(STEP_TIMEOUT, self.socket.next()).await.ok()?? {
                Ok(tungstenite::Message::Binary(bytes)) => return Message::from_bytes(&bytes).ok(),
                Ok(tungstenite::Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Reads until the socket closes; returns the close code, if the server sent one.
    pub async fn close_code(&mut self, within: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => panic!("the socket did not close within {within:?}"),
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(tungstenite::Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Whether the relay still answers: a ping gets its pong.
    pub async fn is_served(&mut self) -> bool {
        self.send(&Message::Ping { nonce: 77 }).await;
        loop {
            match self.recv().await {
                Some(Message::Pong { nonce: 77 }) => return true,
                Some(_) => {}
                None => return false,
            }
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

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
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(raw_request.as_bytes()).await.expect("send request");
        let mut raw = Vec::new();
        stream.take(RESPONSE_BYTES_MAX).read_to_end(&mut raw).await.expect("read response");
        raw
    };
    let raw = tokio::time::timeout(STEP_TIMEOUT, exchange).await.expect("response within the timeout");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Response {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("ascii headers");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("status code");
    let headers = lines
        .map(|line| {
            let (key, value) = line.split_once(':').expect("header `key: value`");
            (key.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut response = Response { status, headers, body: raw[split + 4..].to_vec() };
    if response.header("transfer-encoding") == Some("chunked") {
        response.body = dechunk(&response.body);
    }
    response
}

/// Undoes HTTP/1.1 chunked transfer encoding (no trailers expected).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_hex = std::str::from_utf8(&raw[..line_end]).expect("ascii chunk size");
        let size = usize::from_str_radix(size_hex.trim(), 16).expect("hex chunk size");
        if size == 0 {
            return body;
        }
        let start = line_end + 2;
        body.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}

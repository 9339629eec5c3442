//! Benchmarks of the relay, run by `cargo xtask bench`: block announcement fan-out to 1,000
//! clients (p50, p99, the first client's latency, and the relay's CPU time per block), sustained
//! relayed messages per second, memory per idle connection (10,000 of them), and sync throughput
//! of a fresh native node, and what the side-branch attack adds to a relay's memory and disk (300
//! padded low-work siblings of genesis against a 1,000-block chain). The relay runs as its own
//! process (the `tabchain` binary), so its clients, here, never share its runtime, and its
//! memory and CPU time can be read from `/proc`. Prints a table and writes
//! `target/bench/relay.json`; `cargo bench -p tabchain-relay --bench relay -- fanout` runs only
//! the parts named (`fanout`, `idle`, `sync`, `side-blocks`) and writes no file.

use futures_util::{SinkExt as _, StreamExt as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tabchain_core::{Block, Message, Node, Params, SecretKey, encode, hex, search_nonce};
use tabchain_relay::app::{self, Network, NodeOptions};
use tabchain_relay::driver::Driver;
use tabchain_relay::hostile::{forged, http_client};
use tabchain_relay::limits::Limits;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;

const FANOUT_CLIENTS: usize = 1_000;
const FANOUT_BLOCKS: usize = 50;
const IDLE_CONNECTIONS: usize = 10_000;
const SYNC_BLOCKS: u32 = 10_000;
/// The side-branch attack as issue 12 measured it: a 1,000-block chain, 300 padded siblings.
const ATTACK_CHAIN_BLOCKS: u32 = 1_000;
const ATTACK_SIBLINGS: u64 = 300;
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// The read buffer of each benchmark client. tungstenite zeroes its whole read buffer on every
/// read (128 KiB by default), which for a thousand clients each reading a 40-byte `inv` cost the
/// clients' process more CPU than the relay spends, on the cores the relay runs on.
const CLIENT_READ_BUFFER_BYTES: usize = 4096;

/// CPU time process `pid` has used, user and system, over all its threads (ended ones too).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th,
    // stime the 13th, in clock ticks.
    let after_comm = &stat[stat.rfind(')').expect("comm") + 2..];
    let ticks: u64 = after_comm.split(' ').skip(11).take(2).map(|t| t.parse::<u64>().expect("ticks")).sum();
    Duration::from_secs_f64(ticks as f64 / CLOCK_TICKS_PER_S)
}

/// `/proc`'s unit of CPU time (`USER_HZ`), 100 on every Linux architecture tabchain builds for.
const CLOCK_TICKS_PER_S: f64 = 100.0;

struct RelayProcess {
    child: Child,
    url: String,
    addr: std::net::SocketAddr,
    _dir: PathBuf,
}

impl RelayProcess {
    fn start(data: Option<PathBuf>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let dir = std::env::temp_dir().join(format!("tabchain-bench-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("www")).expect("www");
        let child = Command::new(env!("CARGO_BIN_EXE_tabchain"))
            .args(["serve", "--network", "regtest", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--max-connections-per-ip", "20000", "--max-messages-per-s", "100000", "--message-burst", "100000"])
            .args(["--max-api-requests-per-s", "100000", "--api-request-burst", "100000"])
            .arg("--data")
            .arg(data.unwrap_or_else(|| dir.join("data")))
            .arg("--www")
            .arg(dir.join("www"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the relay");
        let url = format!("ws://127.0.0.1:{port}/ws");
        let deadline = Instant::now() + STEP_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "relay did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, url, addr: ([127, 0, 0, 1], port).into(), _dir: dir }
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS")
    }

    fn cpu_time(&self) -> Duration {
        cpu_time(self.child.id())
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect_hello(url: &str) -> Socket {
    let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER_BYTES);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await.expect("connect");
    let hello = Message::Hello {
        protocol_version: tabchain_core::PROTOCOL_VERSION,
        genesis: Params::regtest().genesis_hash(),
        best_height: 0,
        user_agent: "bench".into(),
    };
    socket.send(tungstenite::Message::Binary(hello.to_bytes().into())).await.expect("hello");
    socket
}

/// Blocks of a fresh regtest chain, each ten seconds after its parent.
fn build_chain(n: u32) -> Vec<Block> {
    let mut node = Node::new(Params::regtest(), "bench-builder");
    let owner = SecretKey::from_bytes(&[1; 32]).public_key();
    (0..n)
        .map(|i| {
            let parent_time = u64::from(node.chain().tip().header().time);
            let template = node.block_template(owner, u64::from(i), parent_time + 10);
            let block = Block { header: search_nonce(&template.header, 1 << 24).expect("easy"), ..template };
            node.submit_block(block.clone(), u64::MAX / 2).expect("valid");
            block
        })
        .collect()
}

/// A fresh data folder holding a regtest chain of `n` blocks, built in-process.
fn data_with_chain(name: &str, n: u32) -> PathBuf {
    let data = std::env::temp_dir().join(format!("tabchain-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let source = Driver::open(Params::regtest(), Some(&data), Limits::default(), "builder").expect("store");
    for block in build_chain(n) {
        source.with_node(|node| node.submit_block(block, u64::MAX / 2)).expect("valid");
    }
    data
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Report(Vec<(String, f64)>);

impl Report {
    fn add(&mut self, label: &str, shown: String, key: &str, value: f64) {
        println!("  {label:<58} {shown}");
        self.0.push((key.into(), value));
    }
}

/// One block's fan-out: from the miner's send to the first and to every client's receipt.
struct BlockFanout {
    first: Duration,
    all: Vec<Duration>,
}

async fn fanout(report: &mut Report) {
    let relay = RelayProcess::start(None);
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    for _ in 0..FANOUT_CLIENTS {
        let mut socket = connect_hello(&relay.url).await;
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                if let tungstenite::Message::Binary(bytes) = frame
                    && let Ok(Message::Inv(items)) = Message::from_bytes(&bytes)
                {
                    for item in items {
                        if let tabchain_core::InvItem::Block(_) = item {
                            let _ = tx.send(Instant::now());
                        }
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let blocks = build_chain(FANOUT_BLOCKS as u32);
    let mut miner = connect_hello(&relay.url).await;
    let mut fanouts = Vec::with_capacity(FANOUT_BLOCKS);
    let (started, cpu_before) = (Instant::now(), relay.cpu_time());
    for block in &blocks {
        let sent = Instant::now();
        miner
            .send(tungstenite::Message::Binary(Message::Block(block.clone()).to_bytes().into()))
            .await
            .expect("send block");
        let mut all = Vec::with_capacity(FANOUT_CLIENTS);
        for _ in 0..FANOUT_CLIENTS {
            let at = tokio::time::timeout(STEP_TIMEOUT, rx.recv()).await.expect("announcement in time").expect("open");
            all.push(at - sent);
        }
        fanouts.push(BlockFanout { first: all.iter().copied().min().expect("clients"), all });
    }
    let (total, relay_cpu) = (started.elapsed(), relay.cpu_time() - cpu_before);
    let mut latencies: Vec<Duration> = fanouts.iter().flat_map(|f| f.all.iter().copied()).collect();
    latencies.sort();
    let mut firsts: Vec<Duration> = fanouts.iter().map(|f| f.first).collect();
    firsts.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (p50, p99, first_p50) =
        (ms(percentile(&latencies, 0.5)), ms(percentile(&latencies, 0.99)), ms(percentile(&firsts, 0.5)));
    report.add(
        &format!("block announcement to {FANOUT_CLIENTS} clients: p50 / p99"),
        format!("{p50:.1} ms / {p99:.1} ms (goal p99 < 50 ms)"),
        "fanout_p99_ms",
        p99,
    );
    report.0.push(("fanout_p50_ms".into(), p50));
    report.add(
        "  of which to the first client (p50 over blocks)",
        format!("{first_p50:.1} ms"),
        "fanout_first_p50_ms",
        first_p50,
    );
    let cpu_per_block = ms(relay_cpu) / FANOUT_BLOCKS as f64;
    report.add(
        &format!("relay CPU time per block announced to {FANOUT_CLIENTS}"),
        format!("{cpu_per_block:.1} ms"),
        "fanout_relay_cpu_ms_per_block",
        cpu_per_block,
    );
    let rate = (FANOUT_BLOCKS * FANOUT_CLIENTS) as f64 / total.as_secs_f64();
    report.add(
        "sustained relayed messages (announcements delivered)",
        format!("{rate:.0} msg/s"),
        "relayed_msgs_per_s",
        rate,
    );
}

async fn idle(report: &mut Report) {
    let relay = RelayProcess::start(None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = relay.rss_kib();
    let mut sockets = Vec::with_capacity(IDLE_CONNECTIONS);
    for _ in 0..IDLE_CONNECTIONS {
        sockets.push(connect_hello(&relay.url).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = relay.rss_kib();
    let per = (after.saturating_sub(before)) as f64 * 1024.0 / IDLE_CONNECTIONS as f64;
    report.add(
        &format!("memory of {IDLE_CONNECTIONS} idle connections"),
        format!("{:.1} MB total, {:.1} KB each (goal < 150 MB)", (after - before) as f64 / 1024.0, per / 1024.0),
        "idle_connection_bytes",
        per,
    );
    report.0.push(("idle_10k_connections_mb".into(), (after - before) as f64 / 1024.0));
    drop(sockets);
}

async fn sync(report: &mut Report) {
    // A relay holding a long chain, built in-process into its data folder.
    let data = data_with_chain("sync", SYNC_BLOCKS);
    let relay = RelayProcess::start(Some(data.clone()));
    let options = NodeOptions {
        network: Network::Regtest,
        data: None,
        peers: vec![relay.url.clone()],
        mine_threads: 0,
        limits: Limits::default(),
    };
    let (started, cpu_before) = (Instant::now(), cpu_time(std::process::id()));
    let node: Arc<Driver> = app::start_node(&options, "bench-sync").expect("node").driver;
    let deadline = started + Duration::from_secs(600);
    while node.read(|n| n.chain().height()) < SYNC_BLOCKS {
        assert!(Instant::now() < deadline, "sync did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (took, node_cpu) = (started.elapsed(), cpu_time(std::process::id()) - cpu_before);
    let rate = f64::from(SYNC_BLOCKS) / took.as_secs_f64();
    report.add(
        &format!("fresh native node syncing {SYNC_BLOCKS} blocks"),
        format!("{:.1} s, {rate:.0} blocks/s", took.as_secs_f64()),
        "sync_blocks_per_s",
        rate,
    );
    // The node runs in this process, which does nothing else meanwhile but poll its height.
    let cpu_per_block = node_cpu.as_secs_f64() * 1e6 / f64::from(SYNC_BLOCKS);
    report.add(
        "  the node's CPU time per block synced",
        format!("{cpu_per_block:.0} µs"),
        "sync_node_cpu_us_per_block",
        cpu_per_block,
    );
    node.shutdown();
    let _ = std::fs::remove_dir_all(&data);
}

/// Bytes of the files in `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).expect("data dir").map(|e| e.expect("entry").metadata().expect("metadata").len()).sum()
}

/// A relay's tip, from its API.
async fn relay_tip(relay: &RelayProcess) -> String {
    let status = http_client::get(LOOPBACK, relay.addr, "/api/status", "").await.expect("status");
    status.json()["tip"].as_str().expect("a tip").to_owned()
}

const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// The side-branch attack on a relay process: what 300 padded low-work siblings of genesis, each
/// answered 400 and stored nowhere, add to its RSS and its data folder (goal: at most 20 MB and
/// 5 MB), and that its tip does not move.
async fn side_blocks(report: &mut Report) {
    let data = data_with_chain("attack", ATTACK_CHAIN_BLOCKS);
    let relay = RelayProcess::start(Some(data.clone()));
    let tip = relay_tip(&relay).await;
    let (rss_before, disk_before) = (relay.rss_kib(), dir_bytes(&data));
    let params = Params::regtest();
    let mut rss_peak = rss_before;
    for n in 0..ATTACK_SIBLINGS {
        let block = forged::padded_sibling(&params, n);
        let body = format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&block)));
        let response = http_client::post(LOOPBACK, relay.addr, "/api/block", &body).await.expect("an answer");
        assert_eq!(response.status, 400, "sibling {n} was not refused");
        rss_peak = rss_peak.max(relay.rss_kib());
    }
    assert_eq!(relay_tip(&relay).await, tip, "the tip moved");
    let rss_growth = (relay.rss_kib().saturating_sub(rss_before)) as f64 / 1024.0;
    let peak_growth = (rss_peak - rss_before) as f64 / 1024.0;
    let disk_growth = dir_bytes(&data).saturating_sub(disk_before) as f64 / 1e6;
    report.add(
        &format!("{ATTACK_SIBLINGS} padded side blocks (200 kB each): RSS growth"),
        format!("{rss_growth:.1} MiB (peak {peak_growth:.1} MiB; goal ≤ 20 MB)"),
        "side_block_attack_rss_growth_mib",
        rss_growth,
    );
    report.add(
        "  disk growth",
        format!("{disk_growth:.3} MB (goal ≤ 5 MB)"),
        "side_block_attack_disk_growth_mb",
        disk_growth,
    );
    drop(relay);
    let _ = std::fs::remove_dir_all(&data);
}

/// The benchmark's parts, by the name that selects them on the command line.
const PARTS: [&str; 4] = ["fanout", "idle", "sync", "side-blocks"];

fn main() {
    // `cargo bench` passes `--bench`; any other argument names a part to run.
    let chosen: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if let Some(unknown) = chosen.iter().find(|c| !PARTS.contains(&c.as_str())) {
        panic!("no benchmark part {unknown:?}: the parts are {PARTS:?}");
    }
    let runs = |part: &str| chosen.is_empty() || chosen.iter().any(|c| c == part);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!("tabchain-relay benchmarks (relay in its own process, clients in this one, loopback)");
    let mut report = Report(Vec::new());
    runtime.block_on(async {
        if runs("fanout") {
            fanout(&mut report).await;
        }
        if runs("idle") {
            idle(&mut report).await;
        }
        if runs("sync") {
            sync(&mut report).await;
        }
        if runs("side-blocks") {
            side_blocks(&mut report).await;
        }
    });
    if !chosen.is_empty() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let body: Vec<String> = report.0.iter().map(|(k, v)| format!("  \"{k}\": {v:.3}")).collect();
    std::fs::write(dir.join("relay.json"), format!("{{\n{}\n}}\n", body.join(",\n"))).expect("write relay.json");
    println!("wrote target/bench/relay.json");
}

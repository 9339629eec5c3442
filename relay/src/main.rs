//! The `tabchain` binary: parses the command line, sets up logging and hands over to the
//! library ([`tabchain_relay::app`]). Kept short on purpose.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tabchain_relay::app::{self, Network, NodeOptions};
use tabchain_relay::discovery::{self, DiscoveryOptions};
use tabchain_relay::limits::{self, Limits};
use tabchain_relay::open_files;
use tabchain_relay::serve;
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "tabchain",
    version,
    about = "tabchain: the relay (a validating full node serving browser tabs) and a headless node",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `serve`'s options, so that `tabchain --listen ADDR` serves too.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the relay: serve the page, the WebSocket endpoint and the API (the default).
    Serve(Box<ServeArgs>),
    /// Run a headless full node (and miner) connected to a relay.
    Node(NodeArgs),
    /// Rebuild the chain store in DATA from its stored blocks, validating each again from
    /// genesis (after the relay reported a damaged store, or to convert an older layout).
    Reindex(ReindexArgs),
}

#[derive(Debug, Args)]
struct ReindexArgs {
    /// Folder holding the chain database.
    #[arg(long, env = "TABCHAIN_DATA", default_value = "data")]
    data: PathBuf,
    /// Network the database belongs to.
    #[arg(long, env = "TABCHAIN_NETWORK", default_value_t = Network::Tabchain, value_parser = parse_network)]
    network: Network,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TABCHAIN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve the web app from this folder (index.html and the wasm bundles in pkg/ and
    /// pkg-scalar/), for development, instead of the page built into this binary.
    #[arg(long, env = "TABCHAIN_WWW")]
    www: Option<PathBuf>,
    /// Also serve the development pages under /dev/ (header hasher, miner self-tests and bench).
    #[arg(long)]
    dev: bool,
    #[command(flatten)]
    node: CommonArgs,
    /// Origins allowed to open /ws (repeatable; `*` for any). Default: the page's own origin.
    #[arg(long = "allow-origin", env = "TABCHAIN_ALLOW_ORIGIN", value_delimiter = ',')]
    allow_origins: Vec<String>,
    /// Largest WebSocket message accepted, in bytes; larger ones close the socket with 1009.
    #[arg(long, env = "TABCHAIN_MAX_MESSAGE_BYTES", default_value_t = limits::WS_MESSAGE_BYTES_MAX)]
    max_message_bytes: usize,
    /// Messages per second a connection may send, sustained.
    #[arg(long, env = "TABCHAIN_MAX_MESSAGES_PER_S", default_value_t = limits::MESSAGES_PER_S_MAX)]
    max_messages_per_s: u32,
    /// Messages a connection may send in one burst.
    #[arg(long, env = "TABCHAIN_MESSAGE_BURST", default_value_t = limits::MESSAGE_BURST_MAX)]
    message_burst: u32,
    /// Connections accepted from one IP address.
    #[arg(long, env = "TABCHAIN_MAX_CONNECTIONS_PER_IP", default_value_t = limits::CONNECTIONS_PER_IP_MAX)]
    max_connections_per_ip: usize,
    /// Connections accepted in all.
    #[arg(long, env = "TABCHAIN_MAX_CONNECTIONS", default_value_t = limits::CONNECTIONS_MAX)]
    max_connections: usize,
    /// Plain HTTP connections (page, API) open at once from one IP address.
    #[arg(long, env = "TABCHAIN_MAX_HTTP_CONNECTIONS_PER_IP", default_value_t = limits::HTTP_CONNECTIONS_PER_IP_MAX)]
    max_http_connections_per_ip: usize,
    /// Plain HTTP connections open at once in all.
    #[arg(long, env = "TABCHAIN_MAX_HTTP_CONNECTIONS", default_value_t = limits::HTTP_CONNECTIONS_MAX)]
    max_http_connections: usize,
    /// Bytes queued for a client that does not read before it is dropped.
    #[arg(long, env = "TABCHAIN_SEND_QUEUE_BYTES", default_value_t = limits::SEND_QUEUE_BYTES_MAX)]
    send_queue_bytes: usize,
    /// Bytes queued for all clients together; when they are full, the client with the fullest
    /// queue is dropped to make room.
    #[arg(long, env = "TABCHAIN_MAX_QUEUED_BYTES", default_value_t = limits::QUEUED_BYTES_TOTAL_MAX)]
    max_queued_bytes: usize,
    /// Host headers served besides the listen address and localhost/127.0.0.1 with the listen
    /// port, as HOST[:PORT] (repeatable; a HOST alone also matches it with the listen port; `*`
    /// serves any Host and gives up the DNS-rebinding defence). Others get 421.
    #[arg(long = "allow-host", env = "TABCHAIN_ALLOW_HOST", value_delimiter = ',', value_name = "HOST[:PORT]")]
    allow_hosts: Vec<String>,
    /// Seconds a client has to send a request's line and headers (or to start its next request on
    /// an idle connection) before the connection is closed.
    #[arg(long, env = "TABCHAIN_HEADER_READ_TIMEOUT_S", default_value_t = limits::HEADER_READ_TIMEOUT.as_secs())]
    header_read_timeout_s: u64,
    /// Seconds an API request may take, its body included, before it is answered with 408.
    #[arg(long, env = "TABCHAIN_API_REQUEST_TIMEOUT_S", default_value_t = limits::API_REQUEST_TIMEOUT.as_secs())]
    api_request_timeout_s: u64,
    /// Largest API request body, in bytes (default: the largest valid block as hex, in JSON); larger get 413.
    #[arg(long, env = "TABCHAIN_MAX_API_BODY_BYTES", default_value_t = limits::API_BODY_BYTES_MAX)]
    max_api_body_bytes: usize,
    /// API requests per second one client address (IPv6: its /64) may make, sustained; more get 429.
    #[arg(long, env = "TABCHAIN_MAX_API_REQUESTS_PER_S", default_value_t = limits::API_REQUESTS_PER_S_MAX,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_api_requests_per_s: u32,
    /// API requests one client address may make in one burst.
    #[arg(long, env = "TABCHAIN_API_REQUEST_BURST", default_value_t = limits::API_REQUEST_BURST_MAX,
          value_parser = clap::value_parser!(u32).range(1..))]
    api_request_burst: u32,
    /// API requests answered at once, from all clients; more get 503.
    #[arg(long, env = "TABCHAIN_MAX_API_REQUESTS_IN_FLIGHT", default_value_t = limits::API_REQUESTS_IN_FLIGHT_MAX)]
    max_api_requests_in_flight: usize,
    /// This relay's WebSocket URL as others reach it (ws:// or wss://…/ws), advertised to peers
    /// so that relays find it; without it the relay advertises nothing of itself.
    #[arg(long, env = "TABCHAIN_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// Relays dialled at once from the addresses peers gossip (one per address group), besides
    /// the --peer ones; 0 dials none.
    #[arg(long, env = "TABCHAIN_OUTBOUND", default_value_t = discovery::OUTBOUND_DIALLED_MAX)]
    outbound: usize,
    /// A STUN or TURN server URL tabs use to link directly over WebRTC, e.g.
    /// stun:stun.example.org:3478 (repeatable; none are needed on one machine or a LAN).
    #[arg(long = "ice-server", env = "TABCHAIN_ICE_SERVERS", value_delimiter = ',', value_parser = parse_ice_server)]
    ice_servers: Vec<String>,
}

#[derive(Debug, Args)]
struct NodeArgs {
    /// The relay to follow, e.g. ws://127.0.0.1:8080/ws (repeatable).
    #[arg(long, required = true)]
    connect: Vec<String>,
    #[command(flatten)]
    node: CommonArgs,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// Folder for the chain database and the miner's key; created if absent.
    #[arg(long, env = "TABCHAIN_DATA", default_value = "data")]
    data: PathBuf,
    /// Network to run.
    #[arg(long, env = "TABCHAIN_NETWORK", default_value_t = Network::Tabchain, value_parser = parse_network)]
    network: Network,
    /// Another relay to stay connected to, e.g. ws://other-host:8080/ws (repeatable).
    #[arg(long = "peer", env = "TABCHAIN_PEERS", value_delimiter = ',')]
    peers: Vec<String>,
    /// Mine (paying to the key in DATA/miner.key).
    #[arg(long)]
    mine: bool,
    /// Mining threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

impl CommonArgs {
    fn options(&self, extra_peers: &[String], limits: Limits) -> NodeOptions {
        NodeOptions {
            network: self.network,
            data: Some(self.data.clone()),
            peers: self.peers.iter().chain(extra_peers).cloned().collect(),
            mine_threads: if self.mine { self.threads.max(1) } else { 0 },
            limits,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => serve(*args).await,
        None => serve(cli.serve).await,
        Some(Command::Node(args)) => node(args).await,
        Some(Command::Reindex(args)) => reindex(&args),
    }
}

fn reindex(args: &ReindexArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let report = tabchain_relay::store::reindex(&args.data, args.network.params())?;
    println!(
        "reindexed {}: {} blocks validated, {} refused, {} unreadable; height {} ({:.1} s)",
        args.data.display(),
        report.blocks,
        report.refused,
        report.unreadable,
        report.height,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let limits = Limits {
        ws_message_bytes_max: args.max_message_bytes,
        messages_per_s_max: args.max_messages_per_s,
        message_burst_max: args.message_burst,
        connections_per_ip_max: args.max_connections_per_ip,
        connections_max: args.max_connections,
        http_connections_per_ip_max: args.max_http_connections_per_ip.max(1),
        http_connections_max: args.max_http_connections.max(1),
        send_queue_bytes_max: args.send_queue_bytes.max(args.max_message_bytes),
        queued_bytes_total_max: args.max_queued_bytes.max(args.send_queue_bytes).max(args.max_message_bytes),
        header_read_timeout: Duration::from_secs(args.header_read_timeout_s.max(1)),
        api_request_timeout: Duration::from_secs(args.api_request_timeout_s.max(1)),
        api_body_bytes_max: args.max_api_body_bytes,
        api_requests_per_s_max: args.max_api_requests_per_s,
        api_request_burst_max: args.api_request_burst,
        api_requests_in_flight_max: args.max_api_requests_in_flight.max(1),
        allowed_hosts: args.allow_hosts.clone(),
        allowed_origins: args.allow_origins.clone(),
    };
    match open_files::raise_to_hard_limit() {
        Ok(available) => {
            if let Some(warning) = open_files::shortfall(available, &limits) {
                tracing::warn!("{warning}");
            }
        }
        Err(error) => tracing::warn!("cannot raise the open-file limit: {error}"),
    }
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    // The built-in page says the same in the startup line (`Site::describe`).
    if let Some(www) = args.www.as_ref().filter(|www| !www.join("pkg").is_dir()) {
        tracing::warn!("{} has no pkg/ folder: build the wasm bundles with `cargo xtask build`", www.display());
    }
    let site = serve::Site { www: args.www.clone(), dev: args.dev };
    let discovery = DiscoveryOptions {
        public_url: args.public_url.clone(),
        configured: args.node.peers.clone(),
        outbound_max: args.outbound,
        ice_servers: args.ice_servers.clone(),
    };
    app::serve(listener, site, args.node.options(&[], limits), discovery, shutdown_signal()).await
}

async fn node(args: NodeArgs) -> anyhow::Result<()> {
    let options = args.node.options(&args.connect, Limits::default());
    let started = app::start_node(&options, concat!("tabchain-node/", env!("CARGO_PKG_VERSION")))?;
    let mut last_hashes = 0;
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            () = shutdown_signal() => return Ok(()),
            () = started.driver.stopped() => return app::failed(&started.driver),
            _ = interval.tick() => {}
        }
        let hashes = started.miner.as_ref().map_or(0, |m| m.hashes.load(std::sync::atomic::Ordering::Relaxed));
        let rate = (hashes - last_hashes) as f64 / 5.0;
        last_hashes = hashes;
        let (height, tip) = started.driver.read(|n| (n.chain().height(), n.chain().tip_hash()));
        println!("height {height} | peers {} | hash rate {:.2} MH/s | tip {tip}", started.driver.n_peers(), rate / 1e6);
    }
}

/// A network by its one name (`tabchain_core::Network`).
/// A `--public-url`: a ws:// or wss:// URL with a host, short enough to gossip.
fn parse_public_url(url: &str) -> Result<String, String> {
    let scheme_ok = url.starts_with("ws://") || url.starts_with("wss://");
    if !scheme_ok || tabchain_relay::address_group::AddressGroup::of_url(url).is_none() {
        return Err("expected a ws:// or wss:// URL with a host, like wss://relay.example.org/ws".into());
    }
    if url.len() > tabchain_core::ADDR_BYTES_MAX {
        return Err(format!("longer than the {} bytes an address may have", tabchain_core::ADDR_BYTES_MAX));
    }
    Ok(url.to_owned())
}

/// An `--ice-server`: a stun:, stuns:, turn: or turns: URL, short enough to hand to a page.
fn parse_ice_server(url: &str) -> Result<String, String> {
    let known = ["stun:", "stuns:", "turn:", "turns:"].iter().any(|scheme| url.starts_with(scheme));
    if !known || url.len() > tabchain_core::ADDR_BYTES_MAX || url.chars().any(char::is_whitespace) {
        return Err("expected a stun:, stuns:, turn: or turns: URL, like stun:stun.example.org:3478".into());
    }
    Ok(url.to_owned())
}

fn parse_network(name: &str) -> Result<Network, String> {
    name.parse().map_err(|e: tabchain_core::UnknownNetwork| e.to_string())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_url_must_be_a_websocket_url_with_a_host_short_enough_to_gossip() {
        assert_eq!(parse_public_url("wss://relay.example.org/ws"), Ok("wss://relay.example.org/ws".into()));
        let not_ws = parse_public_url("https://relay.example.org/ws").expect_err("not ws");
        assert_eq!(not_ws, "expected a ws:// or wss:// URL with a host, like wss://relay.example.org/ws");
        assert!(parse_public_url("ws:///ws").is_err(), "no host");
        let long = format!("wss://{}.org/ws", "a".repeat(tabchain_core::ADDR_BYTES_MAX));
        assert_eq!(parse_public_url(&long), Err("longer than the 256 bytes an address may have".into()));
    }

    #[test]
    fn an_ice_server_is_a_stun_or_turn_url() {
        assert_eq!(parse_ice_server("stun:stun.example.org:3478"), Ok("stun:stun.example.org:3478".into()));
        assert_eq!(parse_ice_server("turns:turn.example.org"), Ok("turns:turn.example.org".into()));
        for bad in ["https://stun.example.org", "stun:a b", ""] {
            assert!(parse_ice_server(bad).is_err(), "{bad:?}");
        }
    }
}

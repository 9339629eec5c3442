//! `tabchain-hostile`: mounts every attack of `tabchain_relay::hostile` on a relay in turn, for
//! a while, printing one JSON line per attack. `cargo xtask soak` runs it beside honest nodes;
//! it is no part of the relay.

use clap::Parser;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tabchain_relay::app::Network;
use tabchain_relay::hostile::{self, Target};

/// Attacks mounted at most per second of the run (each takes longer than that anyway).
const ATTACKS_PER_S_MAX: u64 = 10;

#[derive(Debug, Parser)]
#[command(name = "tabchain-hostile", about = "mounts the relay's known attacks on a relay, in a loop")]
struct Args {
    /// The relay's listen address.
    #[arg(long)]
    target: SocketAddr,
    /// The loopback address to attack from (not one honest clients use).
    #[arg(long, default_value = "127.0.0.2")]
    source: IpAddr,
    /// How long to keep attacking.
    #[arg(long)]
    seconds: u64,
    /// Milliseconds between two attacks.
    #[arg(long, default_value_t = 1000)]
    pause_ms: u64,
    /// Tells this run's forged blocks and transactions apart from another's.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The relay's network (only regtest makes the forged headers cheap).
    #[arg(long, default_value_t = Network::Regtest, value_parser = |name: &str| name.parse::<Network>().map_err(|e| e.to_string()))]
    network: Network,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let target = Target { addr: args.target, source: args.source, params: args.network.params(), seed: args.seed };
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let mut stdout = std::io::stdout();
    hostile::run(&target, until, Duration::from_millis(args.pause_ms), args.seconds * ATTACKS_PER_S_MAX, |outcome| {
        // A reader that went away ends the run at the next line; nothing else to do about it.
        let _ = writeln!(stdout, "{}", outcome.to_json()).and_then(|()| stdout.flush());
    })
    .await;
}

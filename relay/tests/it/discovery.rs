//! Relays finding each other through `addrs` gossip: a line of relays becomes a mesh, and a
//! gossiped relay that misbehaves is banned, not dialled again.

use crate::support::{RawClient, RelayConfig, TestRelay, eventually, mine};
use futures_util::SinkExt as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tabchain_core::{Message, SecretKey};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite;

/// Long enough for a few handshakes, gossip rounds and dials (one a second) on a loaded machine.
const FIND: Duration = Duration::from_secs(20);

fn relay_with(peers: Vec<String>) -> RelayConfig {
    RelayConfig { peers, discover: true, ..RelayConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_relays_in_a_line_find_each_other_and_a_block_crosses_the_line() {
    let d = TestRelay::start(relay_with(vec![])).await;
    let c = TestRelay::start(relay_with(vec![d.ws_url()])).await;
    let b = TestRelay::start(relay_with(vec![c.ws_url()])).await;
    let a = TestRelay::start(relay_with(vec![b.ws_url()])).await;
    let far = [c.ws_url(), d.ws_url()];
    let dials_far = || a.driver.peers().iter().any(|p| !p.inbound && far.contains(&p.addr));
    assert!(eventually(FIND, dials_far).await, "A dialled C or D: {:?}", a.driver.peers());
    assert!(a.driver.read(|n| far.iter().all(|url| n.known_addrs().any(|known| known == url))), "A heard of both");
    let dialled: Vec<String> = a.driver.discovery.book(|book| book.dialled().map(str::to_owned).collect());
    assert_eq!(dialled.len(), 1, "loopback is one address group, so one dialled relay: {dialled:?}");

    let block = mine(&a.driver, SecretKey::from_bytes(&[4; 32]).public_key(), 1);
    let reached = || [&b, &c, &d].iter().all(|r| r.driver.read(|n| n.chain().tip_hash()) == block.block_hash());
    assert!(eventually(FIND, reached).await, "A's block reached every relay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gossiped_relay_that_sends_junk_is_banned_and_not_dialled_again() {
    // The hostile relay: accepts WebSocket connections and answers with an undecodable frame.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hostile = format!("ws://{}/ws", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await {
                    let _ = socket.send(tungstenite::Message::Binary(vec![0xff, 0xff, 0xff].into())).await;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            });
        }
    });
    let relay = TestRelay::start(relay_with(vec![])).await;
    let mut gossip = RawClient::connect(&relay.ws_url()).await;
    gossip.hello(None).await;
    gossip.send(&Message::Addrs(vec![hostile.clone()])).await;

    let banned = || relay.driver.discovery.book(|book| book.is_banned(&hostile, Instant::now()));
    assert!(eventually(FIND, banned).await, "the junk-sending relay was banned");
    let dials = accepted.load(Ordering::SeqCst);
    assert_eq!(dials, 1);
    tokio::time::sleep(3 * tabchain_relay::discovery::DIAL_INTERVAL).await;
    assert_eq!(accepted.load(Ordering::SeqCst), dials, "not dialled again while banned");
    assert!(relay.driver.peers().iter().all(|p| p.addr != hostile), "and not connected");
}

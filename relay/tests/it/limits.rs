//! Every client limit, exercised: after each abuse the relay still serves a well-behaved client.

use crate::support::{RawClient, RelayConfig, TestRelay, mine_inventory};
use std::time::Duration;
use tabchain_core::{Block, Header, Message, Params, SecretKey};
use tabchain_relay::limits::Limits;

async fn still_serves(relay: &TestRelay) {
    let mut good = RawClient::connect(&relay.ws_url()).await;
    good.hello(None).await;
    assert!(good.is_served().await, "a well-behaved client is still served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_message_closes_with_1009() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let mut client = RawClient::connect(&relay.ws_url()).await;
    client.hello(None).await;
    client.send_raw(vec![8; tabchain_core::MESSAGE_BYTES_MAX + 1]).await;
    assert_eq!(client.close_code(Duration::from_secs(10)).await, Some(1009));
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_cut_off() {
    let limits = Limits { messages_per_s_max: 50, message_burst_max: 100, ..Limits::default() };
    let relay = TestRelay::start(RelayConfig { limits: Some(limits), ..Default::default() }).await;
    let mut client = RawClient::connect(&relay.ws_url()).await;
    client.hello(None).await;
    // Far past the burst plus what the rate refills while a loaded machine sends them.
    for nonce in 0..3_000 {
        client.send(&Message::Ping { nonce }).await;
    }
    assert_eq!(client.close_code(Duration::from_secs(10)).await, Some(1008));
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped() {
    let limits = Limits { send_queue_bytes_max: 300_000, ..Limits::default() };
    let relay = TestRelay::start(RelayConfig { limits: Some(limits), ..Default::default() }).await;
    let hashes = mine_inventory(&relay.driver, 200);
    let mut client = RawClient::connect(&relay.ws_url()).await;
    client.hello(None).await;
    // Ask for every block again and again, and never read: the relay must not buffer it all.
    let before = relay.driver.n_peers();
    for _ in 0..300 {
        client.send(&Message::GetData(hashes.clone())).await;
        if relay.driver.n_peers() < before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(relay.driver.n_peers() < before, "the slow reader was dropped");
    assert!(relay.driver.metrics.disconnects_slow.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_is_closed() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let mut silent = RawClient::connect(&relay.ws_url()).await;
    // The node's handshake timeout is 10 s; the relay closes within a tick after it.
    assert_eq!(silent.close_code(Duration::from_secs(tabchain_core::HANDSHAKE_TIMEOUT_S + 8)).await, Some(1008));
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_are_checked_on_upgrade() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let url = relay.ws_url();
    let own = format!("http://{}", relay.addr);
    assert!(RawClient::connect_with(&url, &[("origin", own.as_str())]).await.is_ok(), "same origin");
    assert_eq!(RawClient::connect_with(&url, &[("origin", "http://evil.example")]).await.err(), Some(403));
    assert!(RawClient::connect_with(&url, &[]).await.is_ok(), "no Origin: not a browser");
    let open = TestRelay::start(RelayConfig {
        limits: Some(Limits { allowed_origins: vec!["*".into()], ..Limits::default() }),
        ..Default::default()
    })
    .await;
    assert!(RawClient::connect_with(&open.ws_url(), &[("origin", "http://evil.example")]).await.is_ok());
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_hold() {
    let limits = Limits { connections_per_ip_max: 3, ..Limits::default() };
    let relay = TestRelay::start(RelayConfig { limits: Some(limits), ..Default::default() }).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(RawClient::connect(&relay.ws_url()).await);
    }
    assert_eq!(RawClient::connect_with(&relay.ws_url(), &[]).await.err(), Some(503));
    drop(held);
    let freed = crate::support::eventually(Duration::from_secs(5), || relay.driver.n_peers() == 0).await;
    assert!(freed);
    tokio::time::sleep(Duration::from_millis(200)).await;
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_network_and_invalid_blocks_get_the_client_dropped() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let mut other_net = RawClient::connect(&relay.ws_url()).await;
    other_net.hello(Some(Params::tabchain().genesis_hash())).await;
    assert_eq!(other_net.close_code(Duration::from_secs(10)).await, Some(1008));

    let mut junk = RawClient::connect(&relay.ws_url()).await;
    junk.hello(None).await;
    junk.send_raw(vec![0xde, 0xad]).await;
    assert_eq!(junk.close_code(Duration::from_secs(10)).await, Some(1008));

    let mut text = RawClient::connect(&relay.ws_url()).await;
    assert!(text.send_text("hi").await, "sent");
    assert_eq!(text.close_code(Duration::from_secs(10)).await, Some(1003));

    let template = relay
        .driver
        .read(|n| n.block_template(SecretKey::from_bytes(&[1; 32]).public_key(), 1, tabchain_relay::driver::now()));
    let target = template.header.bits.to_target().expect("valid");
    let bad_nonce = (0..)
        .find(|&n| !target.is_met_by(Header { nonce: n, ..template.header }.block_hash()))
        .expect("a failing nonce");
    let bad = Block { header: Header { nonce: bad_nonce, ..template.header }, ..template };
    let mut cheat = RawClient::connect(&relay.ws_url()).await;
    cheat.hello(None).await;
    cheat.send(&Message::Block(bad)).await;
    assert_eq!(cheat.close_code(Duration::from_secs(10)).await, Some(1008));
    assert_eq!(relay.height(), 0, "the invalid block changed nothing");
    still_serves(&relay).await;
}

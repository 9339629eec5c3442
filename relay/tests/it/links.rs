//! The relay pairing tabs for direct links (`getlinks`, `links`, `signal`): it offers and passes
//! set-up data only between peers that asked, and drops a peer that floods signals while the
//! others stay served.

use crate::support::{RawClient, RelayConfig, TestRelay};
use std::time::Duration;
use tabchain_core::{MISBEHAVIOUR_THRESHOLD, Message, POLICY_VIOLATION_SCORE, SIGNALS_PER_RECEIVER_MAX};

/// A client past its handshake, with the relay's own greeting and address request read.
async fn greeted(relay: &TestRelay) -> RawClient {
    let mut client = RawClient::connect(&relay.ws_url()).await;
    client.hello(None).await;
    client
}

/// The next `links` or `signal` the client receives, skipping everything else.
async fn next_link_message(client: &mut RawClient) -> Option<Message> {
    loop {
        let message = client.recv().await?;
        if matches!(message, Message::Links { .. } | Message::Signal { .. }) {
            return Some(message);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_flood_drops_its_sender_and_the_tab_it_targets_gets_only_the_budget() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let (mut a, mut b, mut bystander) = (greeted(&relay).await, greeted(&relay).await, greeted(&relay).await);
    a.send(&Message::GetLinks).await;
    let Some(Message::Links { you: a_id, peers }) = next_link_message(&mut a).await else { panic!("no links for A") };
    assert!(peers.is_empty(), "nobody else asked yet: {peers:?}");
    b.send(&Message::GetLinks).await;
    let Some(Message::Links { you: b_id, peers }) = next_link_message(&mut b).await else { panic!("no links for B") };
    assert_eq!(peers, [a_id], "B is offered A, who asked; not the bystander");

    let floods = SIGNALS_PER_RECEIVER_MAX + MISBEHAVIOUR_THRESHOLD / POLICY_VIOLATION_SCORE;
    for _ in 0..floods {
        a.send(&Message::Signal { peer: b_id, payload: b"{\"type\":\"offer\"}".to_vec() }).await;
    }
    assert_eq!(a.close_code(Duration::from_secs(10)).await, Some(1008), "A is dropped for misbehaving");
    for _ in 0..SIGNALS_PER_RECEIVER_MAX {
        let signal = next_link_message(&mut b).await;
        assert_eq!(signal, Some(Message::Signal { peer: a_id, payload: b"{\"type\":\"offer\"}".to_vec() }));
    }
    assert!(b.is_served().await, "B stays connected");
    assert!(bystander.is_served().await, "so does the bystander");
}

//! Tests of the node's API and handshake, and helpers the other parts' tests share.

use super::*;
use crate::hash::MerkleRoot;
use crate::header::Header;
use crate::template::search_nonce;
use crate::testkit::NOW;

/// A regtest node with `peers` connected and greeted at `NOW`, each claiming `best_height`;
/// the outputs so far are drained.
pub(crate) fn ready_node(peers: &[PeerId], best_height: u32) -> Node {
    ready_node_on(Params::regtest(), peers, best_height)
}

/// `ready_node` on a network of `params` (regtest with another minimum chain work, say).
pub(crate) fn ready_node_on(params: Params, peers: &[PeerId], best_height: u32) -> Node {
    let mut node = Node::new(params, "test");
    for &peer in peers {
        node.handle_peer_connected(peer, NOW);
        let hello = hello(&node, best_height);
        node.handle_message(peer, &hello.to_bytes(), NOW);
    }
    while node.poll_output().is_some() {}
    node
}

pub(crate) fn hello(node: &Node, best_height: u32) -> Message {
    Message::Hello {
        protocol_version: PROTOCOL_VERSION,
        genesis: node.chain().params().genesis_hash(),
        best_height,
        user_agent: "peer".into(),
    }
}

/// `n` headers with valid proof of work in a row on the known header `parent`, one spacing
/// apart: on regtest, on schedule, every one has the easiest target, so no chain is needed to
/// make them.
pub(crate) fn header_chain(node: &Node, parent: &BlockHash, n: usize) -> Vec<Header> {
    let chain = node.chain();
    assert_eq!(chain.params().network, crate::params::Network::Regtest);
    assert_eq!(chain.required_bits_after(parent), Some(Params::regtest().genesis_header().bits), "on schedule");
    headers_on(&chain.header(parent).expect("known").header, n)
}

/// `n` regtest headers in a row on `parent`, one spacing apart, each with the genesis bits
/// (those of a regtest chain on schedule).
pub(crate) fn headers_on(parent: &Header, n: usize) -> Vec<Header> {
    let bits = Params::regtest().genesis_header().bits;
    let (mut prev, mut time) = (parent.block_hash(), parent.time);
    (0..n)
        .map(|i| {
            time += 10;
            let root = MerkleRoot::from_byte_array([(i % 251) as u8; 32]);
            let header = Header { version: 1, prev_blockhash: prev, merkle_root: root, time, bits, nonce: 0 };
            let header = search_nonce(&header, 10_000).expect("regtest headers are nearly free");
            prev = header.block_hash();
            header
        })
        .collect()
}

/// Drains the outputs, returning the messages sent to `peer` and dropping the rest.
pub(crate) fn sent_to(node: &mut Node, peer: PeerId) -> Vec<Message> {
    let mut sent = Vec::new();
    let mut others = VecDeque::new();
    while let Some(output) = node.poll_output() {
        match output {
            Output::Send { peer: to, message } if to == peer => sent.push(message),
            other => others.push_back(other),
        }
    }
    node.outputs = others;
    sent
}

/// Drains the outputs, returning the disconnects.
pub(crate) fn disconnects(node: &mut Node) -> Vec<(PeerId, DisconnectReason)> {
    core::iter::from_fn(|| node.poll_output())
        .filter_map(|o| match o {
            Output::Disconnect { peer, reason } => Some((peer, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_handshake_refuses_what_it_must_with_the_reason() {
    let genesis = BlockHash::from_byte_array([5; 32]);
    let cases = [
        (
            Message::Hello { protocol_version: 99, genesis, best_height: 0, user_agent: String::new() },
            DisconnectReason::WrongVersion { theirs: 99 },
        ),
        (
            Message::Hello { protocol_version: PROTOCOL_VERSION, genesis, best_height: 0, user_agent: String::new() },
            DisconnectReason::WrongNetwork { genesis },
        ),
        (Message::Ping { nonce: 1 }, DisconnectReason::NoHello),
    ];
    for (first, reason) in cases {
        let mut node = Node::new(Params::regtest(), "test");
        node.handle_peer_connected(1, NOW);
        node.handle_message(1, &first.to_bytes(), NOW);
        assert_eq!(disconnects(&mut node), [(1, reason)]);
        assert_eq!(node.peers().count(), 0);
    }
    let mut node = ready_node(&[1], 0);
    node.handle_message(1, &hello(&node, 0).to_bytes(), NOW);
    assert_eq!(disconnects(&mut node), [(1, DisconnectReason::DuplicateHello)]);
}

#[test]
fn silence_is_punished_after_the_handshake_and_ping_timeouts() {
    let mut node = Node::new(Params::regtest(), "test");
    node.handle_peer_connected(1, NOW);
    node.handle_tick(NOW);
    // The periodic sync is due every few seconds; the handshake deadline is the next one.
    assert_eq!(node.poll_timeout(NOW), NOW + SYNC_INTERVAL_S.min(HANDSHAKE_TIMEOUT_S));
    node.handle_tick(NOW + HANDSHAKE_TIMEOUT_S - 1);
    assert!(disconnects(&mut node).is_empty(), "still within the handshake timeout");
    node.handle_tick(NOW + HANDSHAKE_TIMEOUT_S);
    assert_eq!(disconnects(&mut node), [(1, DisconnectReason::NoHello)]);

    let mut node = ready_node(&[1], 0);
    node.handle_tick(NOW + PING_INTERVAL_S);
    assert_eq!(sent_to(&mut node, 1), [Message::Ping { nonce: 1 }]);
    node.handle_tick(NOW + PING_INTERVAL_S + PING_TIMEOUT_S - 1);
    assert!(disconnects(&mut node).is_empty(), "still within the ping timeout");
    node.handle_tick(NOW + PING_INTERVAL_S + PING_TIMEOUT_S);
    assert_eq!(disconnects(&mut node), [(1, DisconnectReason::PingTimeout)]);
}

#[test]
fn a_peer_over_its_message_budget_is_dropped_for_flooding() {
    let mut node = Node::new(Params::regtest(), "test");
    node.set_message_rate_limit(RateLimit { per_s: 1, burst: 3 });
    node.handle_peer_connected(1, NOW);
    node.handle_message(1, &hello(&node, 0).to_bytes(), NOW);
    let ping = Message::Ping { nonce: 1 }.to_bytes();
    node.handle_message(1, &ping, NOW);
    node.handle_message(1, &ping, NOW);
    assert!(disconnects(&mut node).is_empty(), "within the burst");
    node.handle_message(1, &ping, NOW);
    assert_eq!(disconnects(&mut node), [(1, DisconnectReason::Flood)]);
}

#[test]
fn a_reorg_is_remembered_as_a_branch_switch() {
    let mut builder = crate::testkit::Builder::new();
    let genesis = builder.genesis();
    let short = builder.branch_on(genesis, 1);
    let long = builder.branch_on(genesis, 2);
    let mut node = Node::new(Params::regtest(), "test");
    node.submit_block(short[0].clone(), NOW).expect("valid");
    assert_eq!(node.branch_switches().count(), 0, "advancing the tip is no switch");
    for block in &long {
        node.submit_block(block.clone(), NOW).expect("valid");
    }
    let switches: Vec<BranchSwitch> = node.branch_switches().copied().collect();
    assert_eq!(switches, [BranchSwitch { first_connected: long[0].block_hash(), depth: 1 }]);
}

//! The node's defences against one peer crowding out the others or making it work for nothing,
//! each mounted as an attack with the exact outcome asserted: quotas and expiry for pending
//! blocks, orphans and addresses; rejected transactions not validated again (until the tip moves);
//! a transaction downloaded from one announcer at a time; `getdata`
//! de-duplicated and bounded; the misbehaviour score; batched announcements; answers to our own
//! requests free of the rate limit.

use super::tests::{disconnects, ready_node, sent_to};
use super::*;
use crate::amount::Amount;
use crate::mempool::{ORPHAN_TTL_S, ORPHAN_TXS_PER_PEER_MAX};
use crate::message::INV_ITEMS_MAX;
use crate::testkit::{Builder, NOW, miner, spend, units};
use crate::transaction::{OutPoint, TxOut};
use alloc::format;
use alloc::vec;

fn send(node: &mut Node, peer: PeerId, message: Message) {
    node.handle_message(peer, &message.to_bytes(), NOW);
}

/// A node that knows the headers of `n` blocks it does not have (told by the first of `peers`),
/// and those blocks.
fn knowing_headers_of(n: usize, peers: &[PeerId]) -> (Node, Vec<Block>) {
    let mut builder = Builder::new();
    let blocks = builder.branch_on(builder.genesis(), n);
    let mut node = ready_node(peers, n as u32);
    send(&mut node, peers[0], Message::Headers(blocks.iter().map(|b| b.header).collect()));
    while node.poll_output().is_some() {}
    (node, blocks)
}

/// A node with `peers` ready and `n` mature coinbase coins of the test miner, and those coins.
fn funded_node(peers: &[PeerId], n: usize) -> (Node, Vec<(OutPoint, Amount)>) {
    let mut builder = Builder::new();
    builder.extend(n + builder.chain.params().coinbase_maturity as usize);
    let mut node = ready_node(peers, 0);
    for height in 1..=builder.chain.height() {
        let hash = builder.chain.hash_at(height).expect("on the chain");
        let block = builder.chain.entry(&hash).expect("recent, so in memory").block.clone();
        node.submit_block(block, NOW).expect("valid");
    }
    while node.poll_output().is_some() {}
    (node, (1..=n as u32).map(|h| builder.coinbase_coin(h)).collect())
}

/// Spends `coin` back to the miner, leaving `fee`.
fn to_self(coin: (OutPoint, Amount), fee: u64) -> Transaction {
    let value = coin.1.checked_sub(units(fee)).expect("fee below value");
    spend(&[coin.0], vec![TxOut { amount: value, owner: miner().public_key() }], Params::regtest().genesis_hash())
}

/// `n` transactions, each spending the one before, the first spending `coin`'s spend: orphans
/// to a pool that lacks that spend.
fn orphans(coin: (OutPoint, Amount), n: usize) -> Vec<Transaction> {
    let mut parent = to_self(coin, 1000);
    (0..n)
        .map(|_| {
            parent = to_self((OutPoint { txid: parent.txid(), vout: 0 }, parent.outputs[0].amount), 1000);
            parent.clone()
        })
        .collect()
}

fn n_rejected(node: &mut Node) -> usize {
    core::iter::from_fn(|| node.poll_output()).filter(|o| matches!(o, Output::Event(Event::TxRejected { .. }))).count()
}

#[test]
fn a_peer_over_its_pending_block_quota_displaces_only_its_own_and_pending_blocks_expire() {
    let quota = PENDING_BLOCKS_PER_PEER_MAX;
    let (mut node, blocks) = knowing_headers_of(2 * quota + 10, &[1, 2, 3]);
    // Block 0 never comes, so every later block waits for its parent.
    for block in &blocks[1..=quota + 8] {
        send(&mut node, 1, Message::Block(block.clone()));
    }
    assert_eq!(node.pending_blocks.count_from(Some(1)), quota, "capped at its quota");
    let pending = |node: &Node, i: usize| node.pending_blocks.contains_key(&blocks[i].block_hash());
    assert!(!pending(&node, 8) && pending(&node, 9), "peer 1's oldest went first");
    for block in &blocks[quota + 9..=2 * quota + 8] {
        send(&mut node, 2, Message::Block(block.clone()));
    }
    assert_eq!(node.downloads().pending, PENDING_BLOCKS_MAX, "two peers at their quota fill it");
    send(&mut node, 3, Message::Block(blocks[2 * quota + 9].clone()));
    let counts: Vec<usize> = [1, 2, 3].iter().map(|&p| node.pending_blocks.count_from(Some(p))).collect();
    assert_eq!(counts, [quota - 1, quota, 1], "a third peer still gets in, at the oldest's cost");
    assert!(!pending(&node, 9));
    node.handle_tick(NOW + PENDING_BLOCK_TTL_S - 1);
    assert_eq!(node.downloads().pending, PENDING_BLOCKS_MAX);
    node.handle_tick(NOW + PENDING_BLOCK_TTL_S);
    assert_eq!(node.downloads().pending, 0, "expired");
}

#[test]
fn a_peer_over_its_address_quota_displaces_only_its_own_and_addresses_expire() {
    let n_peers = ADDRS_KNOWN_MAX / ADDRS_PER_PEER_MAX;
    let peers: Vec<PeerId> = (1..=n_peers as PeerId + 1).collect();
    let mut node = ready_node(&peers, 0);
    let addrs = |peer: PeerId, range: core::ops::Range<usize>| {
        Message::Addrs(range.map(|i| format!("wss://{peer}-{i}.example/ws")).collect())
    };
    for round in 0..3 {
        send(&mut node, 1, addrs(1, round * ADDRS_PER_PEER_MAX..(round + 1) * ADDRS_PER_PEER_MAX));
    }
    assert_eq!(node.addrs.count_from(Some(1)), ADDRS_PER_PEER_MAX, "capped at its quota");
    assert!(node.known_addrs().all(|a| a.starts_with("wss://1-") && a["wss://1-".len()..].starts_with('2')));
    for &peer in &peers[1..n_peers] {
        send(&mut node, peer, addrs(peer, 0..ADDRS_PER_PEER_MAX));
    }
    assert_eq!(node.known_addrs().count(), ADDRS_KNOWN_MAX, "full");
    let late = peers[n_peers];
    send(&mut node, late, addrs(late, 0..1));
    node.add_addr("wss://own.example/ws");
    assert_eq!(node.known_addrs().count(), ADDRS_KNOWN_MAX);
    assert_eq!((node.addrs.count_from(Some(late)), node.addrs.count_from(None)), (1, 1), "both still get in");
    let evicted_from: Vec<usize> = [1, 2, 3].iter().map(|&p| node.addrs.count_from(Some(p))).collect();
    assert_eq!(evicted_from, [ADDRS_PER_PEER_MAX - 1, ADDRS_PER_PEER_MAX - 1, ADDRS_PER_PEER_MAX], "oldest first");
    node.handle_tick(NOW + ADDR_TTL_S - 1);
    assert_eq!(node.known_addrs().count(), ADDRS_KNOWN_MAX);
    node.handle_tick(NOW + ADDR_TTL_S);
    assert_eq!(node.known_addrs().collect::<Vec<_>>(), ["wss://own.example/ws"], "peers' expired, our own stays");
}

#[test]
fn a_peer_over_its_orphan_quota_displaces_only_its_own_and_orphans_expire() {
    let (mut node, coins) = funded_node(&[1, 2], 2);
    for tx in orphans(coins[0], ORPHAN_TXS_PER_PEER_MAX + 3) {
        send(&mut node, 1, Message::Tx(tx));
    }
    let other = orphans(coins[1], 1).remove(0);
    send(&mut node, 2, Message::Tx(other.clone()));
    assert_eq!((node.mempool.n_orphans_from(1), node.mempool.n_orphans_from(2)), (ORPHAN_TXS_PER_PEER_MAX, 1));
    assert!(node.mempool.contains(&other.txid()));
    assert!(disconnects(&mut node).is_empty(), "orphans are no misbehaviour");
    node.handle_tick(NOW + ORPHAN_TTL_S - 1);
    assert_eq!(node.mempool.n_orphans(), ORPHAN_TXS_PER_PEER_MAX + 1);
    node.handle_tick(NOW + ORPHAN_TTL_S);
    assert_eq!(node.mempool.n_orphans(), 0, "expired");
}

#[test]
fn a_rejected_transaction_is_not_validated_again_and_its_unasked_resend_scores() {
    let (mut node, coins) = funded_node(&[1], 1);
    let cheap = to_self(coins[0], 10);
    send(&mut node, 1, Message::Tx(cheap.clone()));
    assert_eq!((n_rejected(&mut node), node.peers[&1].misbehaviour), (1, POLICY_VIOLATION_SCORE));
    send(&mut node, 1, Message::Tx(cheap.clone()));
    assert_eq!((n_rejected(&mut node), node.peers[&1].misbehaviour), (0, 2 * POLICY_VIOLATION_SCORE));
    send(&mut node, 1, Message::Inv(vec![InvItem::Tx(cheap.txid())]));
    assert_eq!(sent_to(&mut node, 1), [], "not fetched either");
    // The user's own submission is always checked.
    assert!(matches!(node.submit_transaction(cheap, NOW), Err(MempoolError::FeeTooLow { .. })));
}

#[test]
fn a_premature_spend_is_refused_unpunished_at_one_tip_and_fetched_again_at_the_next() {
    let mut builder = Builder::new();
    let maturity = builder.chain.params().coinbase_maturity;
    builder.extend(maturity as usize - 1);
    let mut node = ready_node(&[1], 0);
    let block_at = |builder: &Builder, height: u32| {
        let hash = builder.chain.hash_at(height).expect("on the chain");
        builder.chain.entry(&hash).expect("recent, so in memory").block.clone()
    };
    for height in 1..=builder.chain.height() {
        node.submit_block(block_at(&builder, height), NOW).expect("valid");
    }
    while node.poll_output().is_some() {}
    // Block 1's coinbase one block short of maturity: refused, and not fetched again at this tip;
    // the peer, which may be a block ahead of us, is neither dropped nor scored.
    let early = to_self(builder.coinbase_coin(1), 1000);
    let announced = Message::Inv(vec![InvItem::Tx(early.txid())]);
    send(&mut node, 1, Message::Tx(early.clone()));
    assert_eq!(n_rejected(&mut node), 1);
    assert_eq!(node.peers[&1].misbehaviour, 0);
    send(&mut node, 1, announced.clone());
    assert_eq!(sent_to(&mut node, 1), []);
    // At the next tip the coin is mature: the same announcement is fetched, and the transaction
    // admitted.
    builder.extend(1);
    node.submit_block(block_at(&builder, maturity), NOW).expect("valid");
    while node.poll_output().is_some() {}
    // A minute on, so the peer's message budget is full again.
    let later = NOW + 60;
    node.handle_message(1, &announced.to_bytes(), later);
    assert_eq!(sent_to(&mut node, 1), [Message::GetData(vec![InvItem::Tx(early.txid())])]);
    node.handle_message(1, &Message::Tx(early.clone()).to_bytes(), later);
    assert!(node.mempool().contains(&early.txid()));
}

#[test]
fn a_transaction_announced_by_several_peers_is_downloaded_from_one_at_a_time() {
    let (mut node, coins) = funded_node(&[1, 2, 3], 2);
    let asked = |node: &mut Node, peer: PeerId| -> Vec<InvItem> {
        sent_to(node, peer)
            .into_iter()
            .flat_map(|m| match m {
                Message::GetData(items) => items,
                _ => vec![],
            })
            .collect()
    };
    let tx = to_self(coins[0], 1000);
    let item = InvItem::Tx(tx.txid());
    for peer in [1, 2, 3] {
        send(&mut node, peer, Message::Inv(vec![item]));
    }
    assert_eq!([asked(&mut node, 1), asked(&mut node, 2), asked(&mut node, 3)], [vec![item], vec![], vec![]]);
    // Peer 1 lacks it: the next announcer is asked.
    send(&mut node, 1, Message::NotFound(vec![item]));
    assert_eq!(asked(&mut node, 2), [item]);
    // Peer 2 stays silent: at the timeout, the last.
    node.handle_tick(NOW + TX_REQUEST_TIMEOUT_S - 1);
    assert_eq!(asked(&mut node, 3), []);
    node.handle_tick(NOW + TX_REQUEST_TIMEOUT_S);
    assert_eq!(asked(&mut node, 3), [item]);
    node.handle_message(3, &Message::Tx(tx.clone()).to_bytes(), NOW + TX_REQUEST_TIMEOUT_S);
    assert!(node.mempool().contains(&tx.txid()));

    // An announcer that goes away hands the request on at once.
    let other = InvItem::Tx(to_self(coins[1], 1000).txid());
    let later = NOW + 2 * TX_REQUEST_TIMEOUT_S;
    for peer in [1, 2] {
        node.handle_message(peer, &Message::Inv(vec![other]).to_bytes(), later);
    }
    assert_eq!([asked(&mut node, 1), asked(&mut node, 2)], [vec![other], vec![]]);
    node.handle_peer_disconnected(1);
    assert_eq!(asked(&mut node, 2), [other]);
}

#[test]
fn a_peer_sending_transactions_no_honest_node_relays_is_dropped_at_the_threshold() {
    let n = (MISBEHAVIOUR_THRESHOLD / POLICY_VIOLATION_SCORE) as usize;
    let (mut node, coins) = funded_node(&[1], n);
    for &coin in &coins[..n - 1] {
        send(&mut node, 1, Message::Tx(to_self(coin, 10)));
    }
    assert!(disconnects(&mut node).is_empty(), "{} refusals are tolerated", n - 1);
    send(&mut node, 1, Message::Tx(to_self(coins[n - 1], 10)));
    assert_eq!(disconnects(&mut node), [(1, DisconnectReason::Misbehaving { score: MISBEHAVIOUR_THRESHOLD })]);
}

#[test]
fn getdata_answers_each_item_once() {
    let mut node = ready_node(&[1], 0);
    let genesis = InvItem::Block(node.chain().tip_hash());
    let missing = InvItem::Tx(Txid::from_byte_array([8; 32]));
    send(&mut node, 1, Message::GetData(vec![genesis, missing, genesis, missing, genesis]));
    let genesis_block = node.chain().tip().block.clone();
    assert_eq!(sent_to(&mut node, 1), [Message::Block(genesis_block), Message::NotFound(vec![missing])]);
}

#[test]
fn getdata_answers_at_most_its_byte_budget_and_notfound_for_the_rest() {
    let mut builder = Builder::new();
    let n_kept = crate::chain::ACTIVE_BLOCKS_KEPT as usize;
    let n_over = GETDATA_REPLY_BYTES_MAX / BLOCK_BYTES_MAX + 1;
    let blocks: Vec<Block> = (0..n_kept + n_over + 8)
        .map(|_| {
            let block = builder.block_on(builder.chain.tip_hash(), vec![], Amount::ZERO);
            builder.chain.accept_block(block.clone(), NOW).expect("valid");
            block
        })
        .collect();
    let mut node = Node::restore(Params::regtest(), "test", blocks.clone()).expect("valid");
    node.handle_peer_connected(1, NOW);
    let hello = Message::Hello {
        protocol_version: PROTOCOL_VERSION,
        genesis: node.chain().params().genesis_hash(),
        best_height: 0,
        user_agent: "peer".into(),
    };
    send(&mut node, 1, hello);
    while node.poll_output().is_some() {}
    // Blocks evicted from memory count as `BLOCK_BYTES_MAX` each, so the last does not fit.
    let asked: Vec<BlockHash> = blocks[..n_over].iter().map(Block::block_hash).collect();
    assert!(asked.iter().all(|h| node.chain().entry(h).is_none()), "evicted");
    send(&mut node, 1, Message::GetData(asked.iter().map(|&h| InvItem::Block(h)).collect()));
    let outputs: Vec<Output> = core::iter::from_fn(|| node.poll_output()).collect();
    let expected: Vec<Output> = asked[..n_over - 1]
        .iter()
        .map(|&hash| Output::SendStoredBlock { peer: 1, hash })
        .chain([Output::Send { peer: 1, message: Message::NotFound(vec![InvItem::Block(asked[n_over - 1])]) }])
        .collect();
    assert_eq!(outputs, expected);
}

#[test]
fn announcements_go_out_batched_at_the_next_tick_or_second_or_when_an_inv_is_full() {
    let (mut node, coins) = funded_node(&[1, 2], 4);
    let txids: Vec<InvItem> = coins[..3]
        .iter()
        .map(|&coin| InvItem::Tx(node.submit_transaction(to_self(coin, 1000), NOW).expect("valid")))
        .collect();
    assert_eq!(sent_to(&mut node, 1), [], "nothing before the batch");
    assert_eq!(node.poll_timeout(NOW), NOW + 1);
    node.handle_tick(NOW + 1);
    assert_eq!(sent_to(&mut node, 1), [Message::Inv(txids.clone())]);
    assert_eq!(sent_to(&mut node, 2), [Message::Inv(txids)]);
    // A busy node need not wait for its tick: the first input of a later second sends the batch.
    let txid = node.submit_transaction(to_self(coins[3], 1000), NOW + 1).expect("valid");
    node.handle_message(2, &Message::Ping { nonce: 1 }.to_bytes(), NOW + 1);
    assert_eq!(sent_to(&mut node, 1), [], "same second");
    node.handle_message(2, &Message::Ping { nonce: 2 }.to_bytes(), NOW + 2);
    assert_eq!(sent_to(&mut node, 1), [Message::Inv(vec![InvItem::Tx(txid)])]);

    let items: Vec<InvItem> = (0..=INV_ITEMS_MAX as u32)
        .map(|i| {
            let mut bytes = [0; 32];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            InvItem::Tx(Txid::from_byte_array(bytes))
        })
        .collect();
    for &item in &items {
        node.announce(item);
    }
    assert_eq!(sent_to(&mut node, 1), [Message::Inv(items[..INV_ITEMS_MAX].to_vec())], "a full inv at once");
    node.handle_tick(NOW + 3);
    assert_eq!(sent_to(&mut node, 1), [Message::Inv(items[INV_ITEMS_MAX..].to_vec())]);
}

#[test]
fn answers_to_our_requests_never_count_against_the_rate_limit() {
    let (mut node, coins) = funded_node(&[1], 2);
    node.set_message_rate_limit(RateLimit { per_s: 1, burst: 2 });
    let txs: Vec<Transaction> = coins.iter().map(|&coin| to_self(coin, 1000)).collect();
    let absent = InvItem::Tx(Txid::from_byte_array([3; 32]));
    let mut announced: Vec<InvItem> = txs.iter().map(|tx| InvItem::Tx(tx.txid())).collect();
    announced.push(absent);
    send(&mut node, 1, Message::Inv(announced.clone())); // one token left
    assert_eq!(sent_to(&mut node, 1), [Message::GetData(announced)]);
    for tx in &txs {
        send(&mut node, 1, Message::Tx(tx.clone()));
    }
    send(&mut node, 1, Message::NotFound(vec![absent]));
    assert!(disconnects(&mut node).is_empty(), "answers are free");
    assert_eq!(node.mempool().len(), 2);
    send(&mut node, 1, Message::NotFound(vec![absent])); // already answered: the last token
    assert!(disconnects(&mut node).is_empty());
    send(&mut node, 1, Message::Ping { nonce: 1 });
    assert_eq!(disconnects(&mut node), [(1, DisconnectReason::Flood)]);
}

#[test]
fn a_greeted_peer_is_asked_for_addresses_and_small_news_goes_on_to_two_other_peers_once() {
    let mut node = Node::new(Params::regtest(), "test");
    node.handle_peer_connected(1, NOW);
    let hello = Message::Hello {
        protocol_version: crate::message::PROTOCOL_VERSION,
        genesis: node.chain().params().genesis_hash(),
        best_height: 0,
        user_agent: "peer".into(),
    };
    send(&mut node, 1, hello);
    assert!(sent_to(&mut node, 1).contains(&Message::GetAddrs), "asked once the handshake is done");

    let mut node = ready_node(&[1, 2, 3, 4], 0);
    let news = Message::Addrs(vec!["wss://new.example/ws".into(), "wss://other.example/ws".into()]);
    send(&mut node, 1, news.clone());
    let told: Vec<PeerId> = [1, 2, 3, 4].into_iter().filter(|&p| sent_to(&mut node, p) == [news.clone()]).collect();
    assert_eq!(told.len(), ADDRS_FORWARD_PEERS, "told to two peers: {told:?}");
    assert!(!told.contains(&1), "not back to its source");
    send(&mut node, 2, news);
    assert!((1..=4).all(|p| sent_to(&mut node, p).is_empty()), "known addresses are not news");

    let answer: Vec<String> = (0..=ADDRS_FORWARD_BATCH_MAX).map(|i| format!("wss://{i}.example/ws")).collect();
    send(&mut node, 3, Message::Addrs(answer));
    assert_eq!(node.known_addrs().count(), 2 + ADDRS_FORWARD_BATCH_MAX + 1, "remembered");
    assert!((1..=4).all(|p| sent_to(&mut node, p).is_empty()), "an answer to getaddrs is not passed on");
}

#[test]
fn only_slowness_and_a_late_hello_are_not_misbehaviour() {
    assert!(!DisconnectReason::Stalling.is_misbehaviour());
    assert!(!DisconnectReason::PingTimeout.is_misbehaviour());
    assert!(DisconnectReason::Flood.is_misbehaviour());
    assert!(!DisconnectReason::NoHello.is_misbehaviour(), "a busy page can greet late");
    assert!(
        DisconnectReason::WrongNetwork { genesis: crate::hash::BlockHash::from_byte_array([0; 32]) }.is_misbehaviour()
    );
    assert!(DisconnectReason::Misbehaving { score: 100 }.is_misbehaviour());
}

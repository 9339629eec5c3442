//! Snapshot sync at the node, message by message: the download asked of one peer, every
//! malformed chunk refused with its reason, a tampered set (a coin added, removed or changed)
//! caught by the next block's commitment, another peer asked, an honest set adopted, and the
//! serving side's refusals.

use super::tests::{ready_node, sent_to};
use super::*;
use crate::chain::SnapshotOverlay;
use crate::testkit::{Builder, NOW};
use crate::transaction::OutPoint;
use crate::utxo::Coin;

type Dropped = (PeerId, DisconnectReason);

const HEIGHT: u32 = SNAPSHOT_MIN_HEIGHT + 5;

/// A chain `HEIGHT` blocks long, a fresh node with snapshot sync that has its headers from
/// peers 1 and 2, and the base it asked peer 1 for.
struct Joining {
    builder: Builder,
    node: Node,
    base: BlockHash,
    base_height: u32,
}

impl Joining {
    fn new() -> Self {
        let mut builder = Builder::new();
        builder.extend(HEIGHT as usize);
        let mut node = ready_node(&[1, 2], HEIGHT);
        node.set_snapshot_sync(true);
        let headers: Vec<_> = (1..=HEIGHT)
            .map(|h| builder.chain.header(&builder.chain.hash_at(h).expect("on")).expect("known").header)
            .collect();
        node.handle_message(2, &Message::Headers(Vec::new()).to_bytes(), NOW);
        node.handle_message(1, &Message::Headers(headers).to_bytes(), NOW);
        let base_height = snapshot_base_height(HEIGHT);
        let base = builder.chain.hash_at(base_height).expect("on the chain");
        let mut joining = Self { builder, node, base, base_height };
        assert_eq!(joining.asked(1), [Message::GetSnapshot { base, after: None }]);
        joining
    }

    /// Drains the outputs: the peers dropped, and the snapshot requests and `getdata`s sent to
    /// each peer.
    fn drain(&mut self) -> (Vec<Dropped>, Vec<(PeerId, Message)>) {
        let (mut dropped, mut asked) = (Vec::new(), Vec::new());
        while let Some(output) = self.node.poll_output() {
            match output {
                Output::Disconnect { peer, reason } => dropped.push((peer, reason)),
                Output::Send { peer, message: m @ (Message::GetSnapshot { .. } | Message::GetData(_)) } => {
                    asked.push((peer, m))
                }
                _ => {}
            }
        }
        (dropped, asked)
    }

    /// The snapshot messages sent to `peer` since the last call.
    fn asked(&mut self, peer: PeerId) -> Vec<Message> {
        sent_to(&mut self.node, peer)
            .into_iter()
            .filter(|m| matches!(m, Message::GetSnapshot { .. } | Message::GetData(_)))
            .collect()
    }

    fn overlay(&self) -> SnapshotOverlay {
        self.builder.chain.snapshot_overlay(&self.base).expect("in memory")
    }

    /// The honest set at the base.
    fn coins(&self) -> Vec<(OutPoint, Coin)> {
        self.overlay().coins_after(self.builder.chain.utxos(), None, usize::MAX).0
    }

    fn send(&mut self, peer: PeerId, message: Message) {
        self.node.handle_message(peer, &message.to_bytes(), NOW);
    }

    fn next_block(&self) -> Block {
        let hash = self.builder.chain.hash_at(self.base_height + 1).expect("on the chain");
        self.builder.chain.entry(&hash).expect("kept").block.clone()
    }

    /// Serves `coins` as the whole set from `peer`, then the block after the base.
    fn serve(&mut self, peer: PeerId, coins: Vec<(OutPoint, Coin)>) {
        self.send(peer, Message::Snapshot { base: self.base, coins, last: true });
        let next = self.next_block();
        assert_eq!(self.asked(peer), [Message::GetData(alloc::vec![InvItem::Block(next.block_hash())])]);
        self.send(peer, Message::Block(next));
    }
}

#[test]
fn an_honest_set_is_adopted_and_the_shell_told_to_store_the_new_state() {
    let mut j = Joining::new();
    let coins = j.coins();
    let (first, rest) = coins.split_at(coins.len() / 2);
    j.send(1, Message::Snapshot { base: j.base, coins: first.to_vec(), last: false });
    let after = first.last().map(|(o, _)| *o);
    assert_eq!(j.asked(1), [Message::GetSnapshot { base: j.base, after }]);
    let progress = j.node.snapshot_progress().expect("downloading");
    assert_eq!((progress.coins, progress.chunks, progress.verifying), (first.len(), 1, false));
    assert_eq!(j.node.chain().height(), 0, "nothing shown before it is verified");
    j.serve(1, rest.to_vec());
    let tip = j.builder.chain.hash_at(j.base_height + 1).expect("on");
    assert_eq!((j.node.chain().tip_hash(), j.node.chain().height()), (tip, j.base_height + 1));
    let at_tip = j.builder.chain.snapshot_overlay(&tip).expect("in memory");
    let expected = at_tip.coins_after(j.builder.chain.utxos(), None, usize::MAX).0;
    let held: Vec<(OutPoint, Coin)> = j.node.chain().utxos().iter().map(|(o, c)| (*o, *c)).collect();
    assert_eq!(held, expected, "exactly the set the honest chain held at that height");
    let outputs: Vec<Output> = core::iter::from_fn(|| j.node.poll_output()).collect();
    let events: Vec<Event> = outputs
        .iter()
        .cloned()
        .filter_map(|o| match o {
            Output::Event(event @ (Event::SnapshotAdopted { .. } | Event::TipChanged { .. })) => Some(event),
            Output::Persist(set) => panic!("no change set before the whole state is stored: {set:?}"),
            _ => None,
        })
        .collect();
    let adopted = Event::SnapshotAdopted {
        base: j.base,
        base_height: j.base_height,
        tip,
        height: j.base_height + 1,
        coins: coins.len(),
    };
    assert_eq!(events.first(), Some(&adopted), "adoption first, then the tip: {events:?}");
    assert!(matches!(events[1], Event::TipChanged { hash, .. } if hash == tip));
    assert!(j.node.snapshot_progress().is_none());
    // Block sync goes on from the snapshot: the rest of the chain is asked for, from the base up.
    let after_base = j.builder.chain.hash_at(j.base_height + 2).expect("on");
    let asked_next = outputs.iter().any(|o| {
        matches!(o, Output::Send { message: Message::GetData(items), .. } if items.contains(&InvItem::Block(after_base)))
    });
    assert!(asked_next, "the block after the adopted tip is asked for");

    // What the shell stores on adoption, a checkpoint, resumes the same node, which goes on.
    let records = j.node.checkpoint_records().expect("nothing left to persist");
    let mut resume = NodeResume::new(Params::regtest());
    for record in &records {
        resume.push_record(record).expect("a checkpoint of an adopted snapshot resumes");
    }
    let mut resumed = resume.finish("resumed", None).expect("complete");
    assert_eq!((resumed.chain().tip_hash(), resumed.chain().utxos()), (tip, j.node.chain().utxos()));
    assert_eq!(resumed.chain().kept_from_height(), j.base_height + 1);
    let after = j.builder.chain.entry(&after_base).expect("kept").block.clone();
    resumed.submit_block(after, NOW).expect("the next block connects on the resumed snapshot");
    assert_eq!(resumed.chain().tip_hash(), after_base);
}

#[test]
fn each_malformed_chunk_gets_its_sender_dropped_with_the_reason_and_another_peer_asked() {
    type Tweak = fn(&mut Joining, &mut Vec<(OutPoint, Coin)>, &mut BlockHash, &mut bool) -> SnapshotChunkError;
    let cases: [(&str, Tweak); 4] = [
        ("wrong base", |j, _, base, _| {
            *base = j.builder.chain.hash_at(j.base_height - 1).expect("on");
            SnapshotChunkError::WrongBase { asked: j.base, sent: *base }
        }),
        ("out of order", |_, coins, _, _| {
            coins.swap(0, 1);
            SnapshotChunkError::Unordered { outpoint: coins[1].0 }
        }),
        ("a coin above the base", |j, coins, _, _| {
            coins[0].1.height = j.base_height + 1;
            SnapshotChunkError::CoinAboveBase { outpoint: coins[0].0, height: j.base_height + 1 }
        }),
        ("empty but not last", |_, coins, _, last| {
            coins.clear();
            *last = false;
            SnapshotChunkError::Empty
        }),
    ];
    for (what, tweak) in cases {
        let mut j = Joining::new();
        let (mut coins, mut base, mut last) = (j.coins(), j.base, true);
        let error = tweak(&mut j, &mut coins, &mut base, &mut last);
        j.send(1, Message::Snapshot { base, coins, last });
        let (dropped, asked) = j.drain();
        assert_eq!(dropped, [(1, DisconnectReason::BadSnapshotChunk(error))], "{what}");
        assert_eq!(asked, [(2, Message::GetSnapshot { base: j.base, after: None })], "{what}: peer 2 asked next");
    }
}

#[test]
fn a_set_larger_than_the_bound_is_refused() {
    let mut j = Joining::new();
    let coins = j.coins();
    j.node.snapshots.coins_max = coins.len() - 1;
    j.send(1, Message::Snapshot { base: j.base, coins: coins.clone(), last: true });
    let reason = DisconnectReason::BadSnapshotChunk(SnapshotChunkError::TooManyCoins { max: coins.len() - 1 });
    assert_eq!(j.drain().0, [(1, reason)]);
}

#[test]
fn a_tampered_set_is_caught_by_the_next_blocks_commitment() {
    type Tamper = fn(&mut Vec<(OutPoint, Coin)>);
    let cases: [(&str, Tamper); 3] = [
        ("a coin added", |coins| {
            let mut extra = coins[0];
            extra.0.vout = 7;
            coins.insert(1, extra);
        }),
        ("a coin removed", |coins| {
            coins.remove(1);
        }),
        ("an amount changed", |coins| {
            let amount = &mut coins[0].1.output.amount;
            *amount = amount.checked_sub(crate::amount::Amount::from_units(1).expect("one")).expect("positive");
        }),
    ];
    for (what, tamper) in cases {
        let mut j = Joining::new();
        let mut coins = j.coins();
        tamper(&mut coins);
        j.serve(1, coins);
        let reason = DisconnectReason::BadSnapshot { base_height: j.base_height };
        let (dropped, asked) = j.drain();
        assert_eq!(dropped, [(1, reason)], "{what}");
        assert_eq!(j.node.chain().height(), 0, "{what}: nothing adopted");
        assert_eq!(asked, [(2, Message::GetSnapshot { base: j.base, after: None })], "{what}: peer 2 asked next");
        let honest = j.coins();
        j.serve(2, honest);
        assert_eq!(j.node.chain().height(), j.base_height + 1, "{what}: peer 2's set adopted");
    }
}

#[test]
fn a_peer_that_cannot_serve_is_passed_over_and_when_none_can_blocks_are_synced() {
    let mut j = Joining::new();
    j.send(1, Message::SnapshotUnavailable { base: j.base });
    assert_eq!(j.asked(2), [Message::GetSnapshot { base: j.base, after: None }]);
    j.send(2, Message::SnapshotUnavailable { base: j.base });
    assert!(j.node.snapshot_progress().is_none(), "given up");
    let asked: Vec<Message> = j.asked(1).into_iter().chain(j.asked(2)).collect();
    assert!(asked.iter().any(|m| matches!(m, Message::GetData(_))), "blocks from genesis: {asked:?}");
}

#[test]
fn a_chunk_not_arriving_in_time_is_a_stall() {
    let mut j = Joining::new();
    assert!(j.node.poll_timeout(NOW) <= NOW + SNAPSHOT_REQUEST_TIMEOUT_S);
    j.node.handle_tick(NOW + SNAPSHOT_REQUEST_TIMEOUT_S - 1);
    assert_eq!(j.drain().0, []);
    j.node.handle_tick(NOW + SNAPSHOT_REQUEST_TIMEOUT_S);
    let (dropped, asked) = j.drain();
    assert_eq!(dropped, [(1, DisconnectReason::Stalling)]);
    assert_eq!(asked, [(2, Message::GetSnapshot { base: j.base, after: None })], "peer 2 asked next");
}

#[test]
fn an_unasked_chunk_is_ignored() {
    let mut j = Joining::new();
    let coins = j.coins();
    j.send(2, Message::Snapshot { base: j.base, coins, last: true });
    assert_eq!(j.drain().0, []);
    assert_eq!(j.node.snapshot_progress().map(|p| (p.peer, p.coins)), Some((Some(1), 0)));
}

#[test]
fn a_server_answers_only_the_bases_it_serves() {
    let mut builder = Builder::new();
    let height = SNAPSHOT_DEPTH + 2 * SNAPSHOT_INTERVAL + 3;
    builder.extend(height as usize);
    let mut server = Node::resume("server", builder.chain.clone());
    server.handle_peer_connected(9, NOW);
    server.handle_message(9, &super::tests::hello(&server, 0).to_bytes(), NOW);
    let _ = sent_to(&mut server, 9);
    let served = |h: u32| is_served_base(h, height);
    for base_height in [0, 1, SNAPSHOT_INTERVAL, 2 * SNAPSHOT_INTERVAL, 3 * SNAPSHOT_INTERVAL, height] {
        let base = builder.chain.hash_at(base_height).expect("on the chain");
        server.handle_message(9, &Message::GetSnapshot { base, after: None }.to_bytes(), NOW);
        let answer = sent_to(&mut server, 9);
        match &answer[..] {
            [Message::Snapshot { base: b, coins, last: true }] if served(base_height) => {
                assert_eq!(*b, base);
                assert_eq!(coins.len(), base_height as usize, "one coinbase per block above genesis");
                assert!(coins.iter().all(|(_, c)| c.height <= base_height));
            }
            [Message::SnapshotUnavailable { base: b }] if !served(base_height) => assert_eq!(*b, base),
            other => panic!("base {base_height}: {other:?}"),
        }
    }
    let unknown = BlockHash::from_byte_array([7; 32]);
    server.handle_message(9, &Message::GetSnapshot { base: unknown, after: None }.to_bytes(), NOW);
    assert_eq!(sent_to(&mut server, 9), [Message::SnapshotUnavailable { base: unknown }]);
    assert!(server.snapshots.served.len() <= SNAPSHOT_SERVED_BASES as usize);
}

#[test]
fn a_download_moves_to_a_new_base_when_the_best_header_moves_past_the_served_window() {
    let mut j = Joining::new();
    let old_base = j.base;
    // The tip moves on by more than the served window: the old base is no longer served.
    let more = (SNAPSHOT_SERVED_BASES * SNAPSHOT_INTERVAL) as usize;
    j.builder.extend(more);
    let height = HEIGHT + more as u32;
    let headers: Vec<_> = (HEIGHT + 1..=height)
        .map(|h| j.builder.chain.header(&j.builder.chain.hash_at(h).expect("on")).expect("known").header)
        .collect();
    j.send(1, Message::Headers(headers));
    j.base_height = snapshot_base_height(height);
    j.base = j.builder.chain.hash_at(j.base_height).expect("on the chain");
    assert_ne!(j.base, old_base);
    let (_, asked) = j.drain();
    assert_eq!(asked, [(1, Message::GetSnapshot { base: j.base, after: None })], "asked again for the new base");
    // The old request's late answer is ignored, not refused; the new one is adopted.
    j.send(1, Message::Snapshot { base: old_base, coins: Vec::new(), last: true });
    assert_eq!(j.drain().0, []);
    let coins = j.coins();
    j.serve(1, coins);
    assert_eq!(j.node.chain().height(), j.base_height + 1);
}

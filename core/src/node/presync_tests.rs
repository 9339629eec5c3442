//! Headers presync mounted against a syncing node, each with its exact outcome: a flood of
//! valid low-work headers stores nothing and drops no one; an honest chain is presynced,
//! redownloaded and synced to the same tip as without presync, also across the headers'
//! window; a redownload that differs from the presync is caught at a commitment; a presync
//! longer than its cap is dropped; a node that is not syncing refuses low-work runs as before.

use super::*;
use crate::amount::Amount;
use crate::block::Block;
use crate::message::{InvItem, Message};
use crate::node::Output;
use crate::node::sync::HEADERS_REQUEST_TIMEOUT_S;
use crate::node::tests::{disconnects, header_chain, headers_on, hello, sent_to};
use crate::testkit::{Builder, NOW};
use alloc::collections::BTreeMap;

/// The peer every test syncs from.
const PEER: PeerId = 1;

/// Regtest whose minimum chain work is `work`.
fn regtest_with_minimum(work: Work) -> Params {
    let mut params = Params::regtest();
    params.minimum_chain_work = work;
    params
}

/// A node of `params` greeted by `PEER`, which claims `best_height`: its first `getheaders`
/// waits in its outputs.
fn syncing_node(params: Params, best_height: u32) -> Node {
    syncing_node_holding(params, Vec::new(), best_height)
}

/// `syncing_node`, holding `blocks` before it meets `PEER`.
fn syncing_node_holding(params: Params, blocks: Vec<Block>, best_height: u32) -> Node {
    let mut node = Node::new(params, "test");
    for block in blocks {
        node.submit_block(block, NOW).expect("valid");
    }
    while node.poll_output().is_some() {}
    node.handle_peer_connected(PEER, NOW);
    let hello = hello(&node, best_height);
    node.handle_message(PEER, &hello.to_bytes(), NOW);
    node
}

fn send(node: &mut Node, message: Message) {
    node.handle_message(PEER, &message.to_bytes(), NOW);
}

/// The first hash of every locator the node sent `PEER`: where it asked to continue from.
fn asked_from(node: &mut Node) -> Vec<BlockHash> {
    sent_to(node, PEER)
        .into_iter()
        .filter_map(|m| match m {
            Message::GetHeaders { locator } => Some(locator[0]),
            _ => None,
        })
        .collect()
}

/// A regtest chain as a peer serves it: its headers by locator and, when it has them, its
/// blocks by hash.
struct Honest {
    /// `headers[h]` is the header at height `h`, genesis first.
    headers: Vec<Header>,
    heights: BTreeMap<BlockHash, u32>,
    blocks: BTreeMap<BlockHash, Block>,
}

/// The blocks of the shared chain: enough for three presync runs.
const SHARED_BLOCKS: usize = 5_000;

impl Honest {
    fn of_headers(headers: Vec<Header>, blocks: BTreeMap<BlockHash, Block>) -> Self {
        let heights = headers.iter().enumerate().map(|(h, header)| (header.block_hash(), h as u32)).collect();
        Self { headers, heights, blocks }
    }

    /// `n` headers on genesis, without blocks.
    fn headers_only(n: usize) -> Self {
        let genesis = Params::regtest().genesis_header();
        let headers = core::iter::once(genesis).chain(headers_on(&genesis, n)).collect();
        Self::of_headers(headers, BTreeMap::new())
    }

    /// `SHARED_BLOCKS` blocks on genesis, built once for every test that needs blocks.
    fn shared() -> &'static Self {
        static SHARED: std::sync::OnceLock<Honest> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| {
            let mut builder = Builder::new();
            let mut headers = alloc::vec![builder.chain.params().genesis_header()];
            let mut blocks = BTreeMap::new();
            for _ in 0..SHARED_BLOCKS {
                let block = builder.block_on(builder.chain.tip_hash(), alloc::vec![], Amount::ZERO);
                builder.chain.accept_block(block.clone(), NOW).expect("valid");
                headers.push(block.header);
                blocks.insert(block.block_hash(), block);
            }
            Self::of_headers(headers, blocks)
        })
    }

    /// This chain's headers up to `height`, then `n` other headers.
    fn fork(&self, height: u32, n: usize) -> Self {
        let mut headers = self.headers[..=height as usize].to_vec();
        headers.extend(headers_on(&headers[height as usize], n));
        Self::of_headers(headers, BTreeMap::new())
    }

    fn hash_at(&self, height: u32) -> BlockHash {
        self.headers[height as usize].block_hash()
    }

    fn tip_hash(&self) -> BlockHash {
        self.headers.last().expect("genesis at least").block_hash()
    }

    fn work_at(&self, height: u32) -> Work {
        self.headers[..=height as usize].iter().fold(Work::ZERO, |work, h| work.saturating_add(header_work(h)))
    }

    /// The blocks from height 1 to `to`.
    fn blocks_to(&self, to: u32) -> Vec<Block> {
        (1..=to).map(|h| self.blocks[&self.hash_at(h)].clone()).collect()
    }

    fn headers(&self, from: u32, to: u32) -> Vec<Header> {
        self.headers[from as usize..=to as usize].to_vec()
    }

    /// What a node answers to `getheaders`: up to `HEADERS_MAX` headers after the first
    /// locator hash it has (after genesis if none).
    fn headers_after(&self, locator: &[BlockHash]) -> Vec<Header> {
        let from = locator.iter().find_map(|hash| self.heights.get(hash)).map_or(0, |&h| h as usize);
        self.headers[from + 1..].iter().take(HEADERS_MAX).copied().collect()
    }
}

/// `honest` playing `PEER`: answers the node's `getheaders` and (when `blocks`) `getdata`
/// until it asks nothing more; `getdata` left unanswered waits for a later call.
struct Serving<'a> {
    honest: &'a Honest,
    held: Vec<Message>,
    /// The height of each locator's first hash, in the order asked.
    asked_from: Vec<u32>,
    /// The node's outputs other than what it sent `PEER`.
    outputs: Vec<Output>,
}

impl<'a> Serving<'a> {
    fn new(honest: &'a Honest) -> Self {
        Self { honest, held: Vec::new(), asked_from: Vec::new(), outputs: Vec::new() }
    }

    fn serve(&mut self, node: &mut Node, blocks: bool) {
        loop {
            let mut answers = Vec::new();
            if blocks {
                for message in core::mem::take(&mut self.held) {
                    answers.extend(self.answer(message));
                }
            }
            while let Some(output) = node.poll_output() {
                let message = match output {
                    Output::Send { peer: PEER, message } => message,
                    other => {
                        self.outputs.push(other);
                        continue;
                    }
                };
                match message {
                    Message::GetData(_) if !blocks => self.held.push(message),
                    message => answers.extend(self.answer(message)),
                }
            }
            if answers.is_empty() {
                return;
            }
            for answer in answers {
                send(node, answer);
            }
        }
    }

    fn answer(&mut self, message: Message) -> Vec<Message> {
        match message {
            Message::GetHeaders { locator } => {
                self.asked_from.push(self.honest.heights.get(&locator[0]).copied().unwrap_or(u32::MAX));
                alloc::vec![Message::Headers(self.honest.headers_after(&locator))]
            }
            Message::GetData(items) => items
                .into_iter()
                .filter_map(|item| match item {
                    InvItem::Block(hash) => self.honest.blocks.get(&hash).cloned().map(Message::Block),
                    InvItem::Tx(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn disconnects(&self) -> Vec<(PeerId, DisconnectReason)> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                Output::Disconnect { peer, reason } => Some((*peer, reason.clone())),
                _ => None,
            })
            .collect()
    }

    /// The heights of the presync progress events, in order.
    fn presync_heights(&self) -> Vec<u32> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                Output::Event(Event::PresyncProgress { height, .. }) => Some(*height),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_flood_of_30_000_headers_below_the_minimum_work_stores_nothing_and_drops_no_one() {
    let genesis = Params::regtest().genesis_hash();
    let one_block = header_work(&Params::regtest().genesis_header());
    let mut node = syncing_node(regtest_with_minimum(one_block.saturating_mul(1_000_000)), 30_000);
    let flood = header_chain(&node, &genesis, 30_000);
    assert_eq!(asked_from(&mut node), [genesis]);
    for run in flood.chunks(HEADERS_MAX) {
        send(&mut node, Message::Headers(run.to_vec()));
        let last = run.last().expect("a full run").block_hash();
        assert_eq!(asked_from(&mut node), [last], "asked for the next run, from the last header checked");
    }
    assert_eq!(node.chain().n_headers(), 1, "genesis only");
    assert_eq!(node.chain().best_header().height, 0);
    let presync = node.peers[&PEER].presync.as_ref().expect("presyncing");
    assert_eq!(presync.tip.height, 30_000);
    assert_eq!(presync.commitments.len(), 30_000 / PRESYNC_COMMITMENT_INTERVAL as usize);
    assert_eq!(presync.commitment_at(30_000), Some(flood[29_999].block_hash()));

    // The peer's chain ends there, below the minimum work: dropped, and the peer, which may
    // just be behind, stays.
    send(&mut node, Message::Headers(Vec::new()));
    assert!(node.peers[&PEER].presync.is_none());
    assert_eq!(disconnects(&mut node), []);
    assert_eq!(node.chain().n_headers(), 1);
    // Not asked again by the periodic sync, only once it announces a block.
    node.handle_tick(NOW + HEADERS_REQUEST_TIMEOUT_S);
    assert_eq!(asked_from(&mut node), []);
    send(&mut node, Message::Inv(alloc::vec![InvItem::Block(BlockHash::from_byte_array([7; 32]))]));
    assert_eq!(asked_from(&mut node), [genesis]);
}

#[test]
fn an_honest_chain_that_reaches_the_minimum_work_is_presynced_redownloaded_and_synced() {
    let honest = Honest::shared();
    let mut with_presync = syncing_node(regtest_with_minimum(honest.work_at(4_500)), 5_000);
    let mut serving = Serving::new(honest);
    serving.serve(&mut with_presync, true);
    assert_eq!(serving.disconnects(), []);
    assert_eq!(serving.presync_heights(), [2_000, 4_000, 5_000], "checked, not stored");
    // Presync from genesis to 5,000; redownload from genesis, stored up to each commitment,
    // until the branch reaches the minimum work at 4,500 (the rest taken as an ordinary run).
    assert_eq!(serving.asked_from, [0, 2_000, 4_000, 0, 2_000, 4_000]);
    let first_stored = serving.outputs.iter().position(
        |o| matches!(o, Output::Event(Event::SyncProgress { best_header_height, .. }) if *best_header_height > 0),
    );
    let last_presync = serving.outputs.iter().rposition(|o| matches!(o, Output::Event(Event::PresyncProgress { .. })));
    assert!(last_presync < first_stored, "nothing stored before the presync ended");
    assert_eq!(with_presync.chain().tip_hash(), honest.tip_hash());
    assert_eq!(with_presync.chain().n_blocks(), SHARED_BLOCKS + 1);
    assert!(with_presync.peers[&PEER].presync.is_none(), "left once stored");

    // The same as without presync.
    let mut without = syncing_node(Params::regtest(), 5_000);
    let mut serving = Serving::new(honest);
    serving.serve(&mut without, true);
    assert_eq!(serving.presync_heights(), []);
    assert_eq!(without.chain().tip_hash(), with_presync.chain().tip_hash());
    assert_eq!(without.chain().n_headers(), with_presync.chain().n_headers());
}

#[test]
fn a_redownload_that_differs_from_the_presync_is_caught_at_a_commitment_and_only_the_proven_prefix_kept() {
    let presynced = Honest::headers_only(4_000);
    let other = presynced.fork(3_000, 1_000);
    let mut node = syncing_node(regtest_with_minimum(presynced.work_at(4_000)), 4_000);
    assert_eq!(asked_from(&mut node), [presynced.hash_at(0)]);
    send(&mut node, Message::Headers(presynced.headers(1, 2_000)));
    assert_eq!(asked_from(&mut node), [presynced.hash_at(2_000)]);
    send(&mut node, Message::Headers(presynced.headers(2_001, 4_000)));
    assert_eq!(node.chain().n_headers(), 1);

    // The redownload, from genesis, serves another chain of the same length: the same up to
    // 3,000, so the commitment at 2,000 matches and the presync's last header does not.
    let mut serving = Serving::new(&other);
    serving.serve(&mut node, false);
    assert_eq!(serving.asked_from, [0, 2_000]);
    assert_eq!(serving.disconnects(), [(PEER, DisconnectReason::PresyncMismatch { height: 4_000 })]);
    assert_eq!(node.chain().n_headers(), 2_001, "genesis and the headers proven by the commitment at 2,000");
    assert_eq!(node.chain().best_header().hash, presynced.hash_at(2_000));
}

#[test]
fn a_redownload_pauses_at_the_headers_window_and_resumes_mid_interval_as_blocks_arrive() {
    let honest = Honest::shared();
    // The node holds 500 blocks and keeps 2,500 headers above them, so its window ends
    // mid-interval, at 3,000.
    let mut node = syncing_node_holding(regtest_with_minimum(honest.work_at(4_500)), honest.blocks_to(500), 5_000);
    node.headers_ahead_max = 2_500;
    let mut serving = Serving::new(honest);
    serving.serve(&mut node, false);
    // Presync from 500 to 4,500; redownload from 500, stored to the commitment at 2,000 (not
    // to 2,500: unproven yet), then from 2,000 up to the window.
    assert_eq!(serving.asked_from, [500, 2_500, 500, 2_000]);
    assert_eq!(node.chain().best_header().height, 3_000, "stopped at the window");
    let stored = node.peers[&PEER].presync.as_ref().and_then(|p| p.redownloaded).expect("still redownloading");
    assert_eq!(stored, HeaderAt { hash: honest.hash_at(3_000), height: 3_000 });

    // Blocks arrive; once they are within half the window, the redownload resumes from 3,000
    // (mid-interval) and goes on, proven by the commitment at 4,000 and the presync's last
    // header, pausing wherever the window stops it again while the blocks catch up.
    serving.asked_from.clear();
    serving.serve(&mut node, true);
    assert_eq!(serving.disconnects(), []);
    assert_eq!(serving.asked_from[0], 3_000);
    assert!(serving.asked_from.is_sorted(), "each ask continues from the last header stored");
    assert_eq!(node.chain().tip_hash(), honest.tip_hash());
    assert_eq!(node.chain().n_headers(), SHARED_BLOCKS + 1);
    assert!(node.peers[&PEER].presync.is_none());
}

#[test]
fn a_presync_longer_than_its_cap_gets_the_peer_dropped_with_nothing_stored() {
    let genesis = Params::regtest().genesis_hash();
    let one_block = header_work(&Params::regtest().genesis_header());
    let mut node = syncing_node(regtest_with_minimum(one_block.saturating_mul(1_000_000)), 4_000);
    node.presync_headers_max = 3_000;
    let headers = header_chain(&node, &genesis, 4_000);
    send(&mut node, Message::Headers(headers[..2_000].to_vec()));
    assert_eq!(disconnects(&mut node), []);
    send(&mut node, Message::Headers(headers[2_000..].to_vec()));
    assert_eq!(disconnects(&mut node), [(PEER, DisconnectReason::PresyncTooLong { height: 3_001 })]);
    assert_eq!(node.chain().n_headers(), 1);
}

#[test]
fn a_node_that_is_not_syncing_refuses_a_run_below_the_minimum_work_as_low_work() {
    // 160 blocks, more than the minimum work of 150: a run of 100 headers from genesis could
    // catch up within the margin (it passes the tip's work less 144 blocks'), but stays below
    // the minimum work.
    let honest = Honest::shared();
    let mut node = syncing_node_holding(regtest_with_minimum(honest.work_at(150)), honest.blocks_to(160), 0);
    while node.poll_output().is_some() {}
    let genesis = Params::regtest().genesis_hash();
    let run = header_chain(&node, &genesis, 100);
    send(&mut node, Message::Headers(run));
    let refused = BlockError::LowWorkHeader { height: 1 };
    assert_eq!(disconnects(&mut node), [(PEER, DisconnectReason::InvalidHeaders(refused))]);
    assert_eq!(node.chain().n_headers(), 161);
}

#[test]
fn the_commitments_never_take_more_than_their_bound() {
    let genesis = Params::regtest().genesis_hash();
    let start = HeaderAt { hash: genesis, height: 0 };
    let context = Builder::new().chain.parent_context(&genesis).expect("genesis");
    let mut presync = Presync::new(start, Work::ZERO, context);
    for _ in 0..PRESYNC_COMMITMENTS_MAX {
        presync.commit(genesis);
    }
    assert_eq!(presync.commitments.capacity(), PRESYNC_COMMITMENTS_MAX);
}

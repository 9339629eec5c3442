//! Headers-first sync and the block download scheduler. A peer that is ahead is asked for
//! headers (with a block locator); a run whose branch reaches the work threshold is checked and
//! remembered, a lower one presynced while the node syncs (`presync.rs`) or refused; the blocks
//! of the best header chain are then fetched from ready peers, a bounded number at a time per
//! peer, in batches, each request with a timeout. Blocks that arrive before their parent wait
//! for it, a bounded number of them for a bounded time, each peer's under a quota.

use super::output::{DisconnectReason, Event};
use super::{Node, PeerId};
use crate::block::Block;
use crate::hash::BlockHash;
use crate::header::Header;
use crate::message::{HEADERS_MAX, INV_ITEMS_MAX, InvItem, LOCATOR_HASHES_MAX, Message};
use crate::validation::BlockError;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Seconds a requested block may take to arrive before the peer counts as stalling.
pub const BLOCK_REQUEST_TIMEOUT_S: u64 = 30;
/// Seconds before an unanswered `getheaders` may be repeated.
pub const HEADERS_REQUEST_TIMEOUT_S: u64 = 30;
/// Seconds between checks for peers ahead of us.
pub const SYNC_INTERVAL_S: u64 = 5;
/// Blocks requested from one peer at a time.
pub const BLOCKS_IN_FLIGHT_PER_PEER_MAX: usize = 32;
/// Fewest blocks asked for in one `getdata` while more are missing.
pub const REQUEST_BATCH_MIN: usize = 8;
/// The most blocks a peer's own best branch may lack for the node to fetch it from that peer
/// when the best header chain cannot be downloaded (`request_peer_branches`); it bounds the
/// walk down each such branch.
pub const PEER_BRANCH_BLOCKS_MAX: usize = 1024;
/// Downloaded blocks held while their parent is still on its way.
pub const PENDING_BLOCKS_MAX: usize = 64;
/// Of those, the most held from one peer: past it the peer's own oldest goes (and is asked for
/// again when its turn comes). Its whole in-flight share fits, so an honest peer answering out
/// of order loses nothing.
pub const PENDING_BLOCKS_PER_PEER_MAX: usize = BLOCKS_IN_FLIGHT_PER_PEER_MAX;
/// Seconds a block waits for its parent before it is dropped (and may be asked for again).
pub const PENDING_BLOCK_TTL_S: u64 = 4 * BLOCK_REQUEST_TIMEOUT_S;

const _: () = assert!(INV_ITEMS_MAX >= BLOCKS_IN_FLIGHT_PER_PEER_MAX, "one getdata can ask a peer's whole share");
const _: () = assert!(REQUEST_BATCH_MIN <= BLOCKS_IN_FLIGHT_PER_PEER_MAX, "a batch fits in a peer's share");
const _: () = assert!(PENDING_BLOCKS_PER_PEER_MAX < PENDING_BLOCKS_MAX, "one peer cannot fill the pending blocks");

/// A block asked of a peer, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockRequest {
    pub(crate) peer: PeerId,
    pub(crate) asked_at: u64,
}

/// A header by hash and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderAt {
    pub(crate) hash: BlockHash,
    pub(crate) height: u32,
}

/// Why a run of headers was stored only in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStop {
    /// A header is too far past the node's clock: it and the rest wait for a later request.
    TimeTooNew,
    /// The headers reached `HEADERS_AHEAD_MAX` above the tip: the rest waits for the blocks.
    WindowFull,
}

/// What `store_headers` did with a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredRun {
    /// The last header stored or already known.
    pub(crate) last: Option<HeaderAt>,
    pub(crate) stop: Option<RunStop>,
}

/// How far the block download has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Downloads {
    /// Blocks requested and not yet arrived.
    pub in_flight: usize,
    /// Blocks arrived before their parent.
    pub pending: usize,
}

impl Node {
    /// Asks `peer` for the headers after the best one we know, or after where its presync
    /// stands.
    pub(super) fn ask_headers(&mut self, peer: PeerId, now: u64) {
        let mut locator = self.chain.locator();
        let best = self.chain.best_header().hash;
        if best != self.chain.tip_hash() {
            // Continue from headers already fetched, not only from the blocks held.
            locator.insert(0, best);
        }
        if let Some(state) = self.peers.get_mut(&peer) {
            if let Some(presync) = &state.presync {
                locator.insert(0, presync.asks_from());
            }
            state.headers_asked_at = Some(now);
        }
        locator.truncate(LOCATOR_HASHES_MAX);
        self.send(peer, Message::GetHeaders { locator });
    }

    /// Asks every ready peer that claims more than our best header for headers, unless a
    /// request to it is still young.
    pub(super) fn sync_with_peers_ahead(&mut self, now: u64) {
        let best = self.chain.best_header().height;
        let ahead: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.ready && p.best_height > best && !p.low_work_chain)
            .filter(|(_, p)| p.headers_asked_at.is_none_or(|at| now >= at + HEADERS_REQUEST_TIMEOUT_S))
            .map(|(id, _)| *id)
            .collect();
        for peer in ahead {
            self.ask_headers(peer, now);
        }
    }

    /// A `headers` answer: the continuation of the peer's presync, or a new run, taken when its
    /// branch reaches the work threshold, presynced when it does not and the node is syncing,
    /// refused otherwise (`store_policy`, `presync`).
    pub(super) fn on_headers(&mut self, peer: PeerId, headers: Vec<Header>, now: u64) {
        let full = headers.len() == HEADERS_MAX;
        let state = self.peer_mut(peer);
        state.headers_asked_at = None;
        match state.presync.take() {
            Some(presync) if presync.continues(&headers) => self.continue_presync(peer, presync, headers, full, now),
            // Anything else ends the presync: the peer moved to another chain.
            _ => self.on_new_run(peer, headers, full, now),
        }
    }

    /// A run of headers that continues no presync (`full`: it was as long as a message allows).
    pub(super) fn on_new_run(&mut self, peer: PeerId, headers: Vec<Header>, full: bool, now: u64) {
        match super::store_policy::check_headers(&self.chain, &headers) {
            Ok(()) => match self.store_headers(peer, &headers, now) {
                Ok(stored) => self.after_run(peer, full, stored, now),
                Err(error) => self.disconnect(peer, DisconnectReason::InvalidHeaders(error)),
            },
            Err(BlockError::LowWorkHeader { .. }) if super::store_policy::is_syncing(&self.chain) => {
                self.start_presync(peer, headers, full, now);
            }
            Err(error) => self.disconnect(peer, DisconnectReason::InvalidHeaders(error)),
        }
    }

    /// After a stored run: the next one asked for when this one was full (unless the headers'
    /// window is full: asked again as blocks arrive), and blocks of the new headers.
    fn after_run(&mut self, peer: PeerId, full: bool, stored: StoredRun, now: u64) {
        if full && stored.stop != Some(RunStop::WindowFull) {
            self.ask_headers(peer, now);
        }
        if let Some(last) = stored.last {
            self.note_best_known(peer, &last.hash);
        }
        self.request_blocks(now);
        self.report_sync();
    }

    /// Remembers that `peer` has the block `hash` (and so its branch), if that branch has more
    /// work than the one it was known to have. Returns whether it did and the branch has more
    /// work than the tip: then the peer may be the one to fetch it from.
    pub(super) fn note_best_known(&mut self, peer: PeerId, hash: &BlockHash) -> bool {
        let Some(work) = self.chain.chain_work(hash) else { return false };
        let Some(state) = self.peers.get(&peer) else { return false };
        let known_work = state.best_known.and_then(|known| self.chain.chain_work(&known));
        if known_work.is_some_and(|known_work| work <= known_work) {
            return false;
        }
        self.peer_mut(peer).best_known = Some(*hash);
        work > self.chain.tip().chain_work
    }

    /// Checks and stores headers one by one, each the parent of the next: the chain's rules and
    /// the store policy's caps (not the run's work: the caller judged it). Returns the last one
    /// stored (or known) and why it stopped early; a header the rules refuse is an error.
    pub(super) fn store_headers(
        &mut self,
        peer: PeerId,
        headers: &[Header],
        now: u64,
    ) -> Result<StoredRun, BlockError> {
        let mut stored = StoredRun { last: None, stop: None };
        for header in headers {
            let hash = header.block_hash();
            let state = self.peer_mut(peer);
            state.known.insert(InvItem::Block(hash));
            // Its headers are of its active chain: it has their blocks now.
            state.lacks.remove(&InvItem::Block(hash));
            // A node that may sync by snapshot needs every header to the tip before it picks
            // the base; its blocks would never catch up with a window.
            let window = if self.may_snapshot() { u32::MAX } else { self.headers_ahead_max };
            let checked = super::store_policy::check_header(&self.chain, header, window);
            match checked.and_then(|()| self.chain.accept_header(*header, now)) {
                Ok(_) => {
                    let height = self.chain.header(&hash).expect("just accepted").height;
                    stored.last = Some(HeaderAt { hash, height });
                }
                Err(BlockError::TimeTooNew { .. }) => {
                    stored.stop = Some(RunStop::TimeTooNew);
                    break;
                }
                Err(BlockError::HeaderTooFarAhead { .. }) => {
                    // Asked for again once the blocks catch up (`on_block`).
                    self.headers_paused = true;
                    stored.stop = Some(RunStop::WindowFull);
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        if let Some(last) = stored.last {
            self.peer_mut(peer).note_height(last.height);
        }
        Ok(stored)
    }

    /// Asks ready peers that have them for the next missing blocks of the best header chain.
    pub(super) fn request_blocks(&mut self, now: u64) {
        if self.step_snapshot(now) {
            return;
        }
        let best = self.chain.best_header().hash;
        if best != self.download_for {
            // Walk the header chain once per new best header, not once per block received.
            self.download = self.chain.missing_blocks(usize::MAX).into();
            self.download_for = best;
        }
        while self.download.front().is_some_and(|h| self.chain.has_block(h)) {
            self.download.pop_front();
        }
        let capacity = self.peers.len() * BLOCKS_IN_FLIGHT_PER_PEER_MAX;
        let window = capacity + self.in_flight.len() + self.pending_blocks.len();
        let candidates: Vec<BlockHash> = self.download.iter().take(window).copied().collect();
        let few_left = candidates.len() < REQUEST_BATCH_MIN;
        let mut requests: BTreeMap<PeerId, Vec<InvItem>> = BTreeMap::new();
        for hash in candidates {
            if self.in_flight.contains_key(&hash)
                || self.pending_blocks.contains_key(&hash)
                || self.chain.has_block(&hash)
            {
                continue;
            }
            let Some(peer) = self.download_peer(&hash, few_left, &requests) else { continue };
            self.in_flight.insert(hash, BlockRequest { peer, asked_at: now });
            requests.entry(peer).or_default().push(InvItem::Block(hash));
        }
        if requests.is_empty() && self.in_flight.is_empty() {
            self.request_peer_branches(now);
        }
        for (peer, items) in requests {
            self.send(peer, Message::GetData(items));
        }
    }

    /// When nothing of the best header chain can be asked for (every peer lacks its next block,
    /// or none claims it) and nothing is on its way: the blocks toward each peer's own best
    /// branch (`Peer::best_known`) that has more work than the tip and lacks at most
    /// `PEER_BRANCH_BLOCKS_MAX` blocks, oldest first, up to its share. Sync follows the best
    /// header chain only; a best header whose announcer left without its block (a rival of
    /// equal or more work, first seen) would otherwise keep the node on its old tip while a
    /// better branch is on offer. Bitcoin Core downloads towards each peer's best known block
    /// in the same way.
    fn request_peer_branches(&mut self, now: u64) {
        let tip_work = self.chain.tip().chain_work;
        let better = |best: &BlockHash| self.chain.chain_work(best).is_some_and(|work| work > tip_work);
        let branches: Vec<(PeerId, BlockHash)> = self
            .peers
            .iter()
            .filter(|(_, p)| p.ready)
            .filter_map(|(&id, p)| p.best_known.filter(better).map(|best| (id, best)))
            .collect();
        for (peer, best) in branches {
            let Some(missing) = self.chain.missing_blocks_to(&best, PEER_BRANCH_BLOCKS_MAX) else { continue };
            let lacks = &self.peers[&peer].lacks;
            let asked: Vec<BlockHash> = missing
                .into_iter()
                .take_while(|hash| !lacks.contains(&InvItem::Block(*hash)))
                .filter(|hash| !self.in_flight.contains_key(hash) && !self.pending_blocks.contains_key(hash))
                .take(BLOCKS_IN_FLIGHT_PER_PEER_MAX)
                .collect();
            if asked.is_empty() {
                continue;
            }
            for &hash in &asked {
                self.in_flight.insert(hash, BlockRequest { peer, asked_at: now });
            }
            let items = asked.into_iter().map(InvItem::Block).collect();
            self.send(peer, Message::GetData(items));
        }
    }

    /// The peer to ask for `hash`: one known to have the block if any, else one that claims its
    /// height and has not said it lacks it; the least loaded first. Peers are asked in batches,
    /// so one with only a few free slots waits until more free up (unless few blocks are left).
    fn download_peer(
        &self,
        hash: &BlockHash,
        few_left: bool,
        requests: &BTreeMap<PeerId, Vec<InvItem>>,
    ) -> Option<PeerId> {
        let height = self.chain.header(hash).map_or(0, |known| known.height);
        let item = InvItem::Block(*hash);
        let load = |id: &PeerId| self.in_flight.values().filter(|r| r.peer == *id).count();
        self.peers
            .iter()
            .filter(|(id, p)| p.ready && !p.lacks.contains(&item) && load(id) < BLOCKS_IN_FLIGHT_PER_PEER_MAX)
            .filter(|(id, _)| {
                few_left || requests.contains_key(id) || BLOCKS_IN_FLIGHT_PER_PEER_MAX - load(id) >= REQUEST_BATCH_MIN
            })
            .filter(|(_, p)| p.known.contains(&item) || p.best_height >= height)
            .min_by_key(|(id, p)| (!p.known.contains(&item), load(id)))
            .map(|(id, _)| *id)
    }

    pub(super) fn on_block(&mut self, peer: PeerId, block: Block, now: u64) {
        let hash = block.block_hash();
        if self.is_snapshot_block(&hash) {
            self.peer_mut(peer).known.insert(InvItem::Block(hash));
            self.on_snapshot_block(peer, block, now);
            return self.request_blocks(now);
        }
        let requested = self.in_flight.remove(&hash).is_some();
        self.peer_mut(peer).known.insert(InvItem::Block(hash));
        self.process_block(block, Some(peer), requested, now);
        self.note_best_known(peer, &hash);
        let headers_ahead = self.chain.best_header().height.saturating_sub(self.chain.height());
        if self.headers_paused && headers_ahead < self.headers_ahead_max / 2 {
            // The blocks caught up with the headers' window: ask peers ahead for the next one.
            self.headers_paused = false;
            self.sync_with_peers_ahead(now);
        }
        self.request_blocks(now);
    }

    /// Accepts a block and then any pending children it unblocks. A block whose parent is
    /// missing waits (when its header is known) or makes us ask the sender for headers.
    /// Pending blocks count as asked for: their headers were kept, so their branch may matter.
    pub(super) fn process_block(&mut self, block: Block, peer: Option<PeerId>, requested: bool, now: u64) {
        let mut queue = alloc::vec![(block, peer, requested)];
        while let Some((block, from, requested)) = queue.pop() {
            let hash = block.block_hash();
            match self.accept_and_follow(block.clone(), from, requested, now) {
                Ok(_) => {
                    let children = self.pending_blocks.keys_where(|b| b.header.prev_blockhash == hash);
                    let unblocked = children.into_iter().filter_map(|h| self.pending_blocks.remove(&h));
                    queue.extend(unblocked.map(|b| (b, None, true)));
                }
                Err(BlockError::UnknownParent { .. }) if self.chain.header(&hash).is_some() => {
                    // Under the sender's quota; the oldest of the fullest sender goes when full.
                    self.pending_blocks.insert(hash, block, from, now.saturating_add(PENDING_BLOCK_TTL_S));
                }
                Err(BlockError::UnknownParent { .. }) => {
                    if let Some(peer) = from {
                        self.ask_headers(peer, now);
                    }
                }
                Err(BlockError::TimeTooNew { .. }) => {}
                Err(reason) => {
                    self.event(Event::BlockRejected { hash, reason: reason.clone(), peer: from });
                    if let Some(peer) = from {
                        self.disconnect(peer, DisconnectReason::InvalidBlock(reason));
                    }
                }
            }
        }
    }

    /// Peers whose requested blocks are overdue.
    pub(super) fn stalling_peers(&self, now: u64) -> Vec<PeerId> {
        self.in_flight.values().filter(|r| now >= r.asked_at + BLOCK_REQUEST_TIMEOUT_S).map(|r| r.peer).collect()
    }

    pub(super) fn report_sync(&mut self) {
        let event =
            Event::SyncProgress { height: self.chain.height(), best_header_height: self.chain.best_header().height };
        self.event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Output;
    use crate::node::tests::{ready_node, sent_to};
    use crate::testkit::{Builder, NOW};

    /// A node that knows the headers of `n` blocks it does not have, from ready peers `peers`.
    fn behind_by(n: usize, peers: &[PeerId]) -> (Node, Vec<Block>) {
        let mut builder = Builder::new();
        let blocks = builder.branch_on(builder.genesis(), n);
        let mut node = ready_node(peers, n as u32);
        let headers = blocks.iter().map(|b| b.header).collect();
        node.on_headers(peers[0], headers, NOW);
        (node, blocks)
    }

    fn asked_blocks(node: &mut Node, peer: PeerId) -> Vec<BlockHash> {
        sent_to(node, peer)
            .into_iter()
            .filter_map(|m| match m {
                Message::GetData(items) => Some(items),
                _ => None,
            })
            .flatten()
            .map(|item| match item {
                InvItem::Block(hash) => hash,
                InvItem::Tx(_) => panic!("only blocks are asked for"),
            })
            .collect()
    }

    #[test]
    fn headers_lead_to_block_requests_split_between_peers_up_to_their_share() {
        let (mut node, blocks) = behind_by(100, &[1, 2]);
        let to_1 = asked_blocks(&mut node, 1);
        let to_2 = asked_blocks(&mut node, 2);
        assert_eq!(to_1.len(), BLOCKS_IN_FLIGHT_PER_PEER_MAX);
        assert_eq!(to_2.len(), BLOCKS_IN_FLIGHT_PER_PEER_MAX);
        let mut asked: Vec<BlockHash> = to_1.into_iter().chain(to_2).collect();
        asked.sort();
        let mut first: Vec<BlockHash> =
            blocks[..2 * BLOCKS_IN_FLIGHT_PER_PEER_MAX].iter().map(Block::block_hash).collect();
        first.sort();
        assert_eq!(asked, first, "the oldest missing blocks, each asked once");
        assert_eq!(node.downloads(), Downloads { in_flight: 2 * BLOCKS_IN_FLIGHT_PER_PEER_MAX, pending: 0 });
    }

    #[test]
    fn a_block_before_its_parent_waits_and_connects_after_it() {
        let (mut node, blocks) = behind_by(3, &[1]);
        let _ = asked_blocks(&mut node, 1);
        node.on_block(1, blocks[1].clone(), NOW);
        assert_eq!(node.downloads().pending, 1);
        assert_eq!(node.chain().height(), 0);
        node.on_block(1, blocks[0].clone(), NOW);
        node.on_block(1, blocks[2].clone(), NOW);
        assert_eq!(node.chain().height(), 3);
        assert_eq!(node.downloads(), Downloads { in_flight: 0, pending: 0 });
    }

    #[test]
    fn a_peer_that_does_not_deliver_in_time_is_stalling() {
        let (mut node, _) = behind_by(3, &[1]);
        assert!(node.stalling_peers(NOW + BLOCK_REQUEST_TIMEOUT_S - 1).is_empty());
        node.handle_tick(NOW + BLOCK_REQUEST_TIMEOUT_S);
        let dropped: Vec<Output> =
            core::iter::from_fn(|| node.poll_output()).filter(|o| matches!(o, Output::Disconnect { .. })).collect();
        assert_eq!(dropped, [Output::Disconnect { peer: 1, reason: DisconnectReason::Stalling }]);
    }

    #[test]
    fn blocks_of_a_departed_peer_are_asked_again_with_a_fresh_timeout() {
        let (mut node, blocks) = behind_by(1, &[1, 2]);
        let _ = asked_blocks(&mut node, 1);
        let later = NOW + BLOCK_REQUEST_TIMEOUT_S - 1;
        node.handle_tick(later);
        node.handle_peer_disconnected(1);
        assert_eq!(asked_blocks(&mut node, 2), [blocks[0].block_hash()]);
        node.handle_tick(later + 1);
        assert!(node.stalling_peers(later + 1).is_empty(), "peer 2 was just asked; it is not stalling");
        assert_eq!(node.peers().count(), 1);
    }

    /// A node holding a chain of 3 blocks, with peers 1 and 2 ready, and two rival blocks on
    /// its tip: `first` and `second`, each worth as much as the other.
    fn rivals_on_a_tip() -> (Node, Block, Block) {
        let mut builder = Builder::new();
        let base = builder.extend(3);
        let mut node = ready_node(&[1, 2], 3);
        for hash in &base {
            let block = builder.chain.entry(hash).expect("stored").block.clone();
            node.submit_block(block, NOW).expect("a valid block on the tip");
        }
        let tip = *base.last().expect("three blocks");
        let first = builder.branch_on(tip, 1).remove(0);
        let second = builder.branch_on(tip, 1).remove(0);
        while node.poll_output().is_some() {}
        (node, first, second)
    }

    #[test]
    fn a_rival_of_a_best_header_that_never_comes_is_fetched_from_its_announcer() {
        let (mut node, first, second) = rivals_on_a_tip();
        // Peer 1 announces `first` and leaves without sending it: its header stays the best one
        // (first seen), with no block behind it anyone has.
        node.on_headers(1, alloc::vec![first.header], NOW);
        assert_eq!(asked_blocks(&mut node, 1), [first.block_hash()]);
        node.handle_peer_disconnected(1);
        node.on_not_found(2, &[InvItem::Block(first.block_hash())], NOW);
        // Peer 2 mined `second`: as much work as the best header, more than the tip.
        node.on_headers(2, alloc::vec![second.header], NOW);
        assert_eq!(node.chain().best_header().hash, first.block_hash(), "the first seen of equal work stays best");
        assert_eq!(asked_blocks(&mut node, 2), [second.block_hash()], "fetched from its announcer at once");
        node.on_block(2, second.clone(), NOW);
        assert_eq!(node.chain().tip_hash(), second.block_hash());
    }

    #[test]
    fn a_rival_announced_again_by_inv_is_fetched_once_the_best_chain_cannot_be() {
        let (mut node, first, second) = rivals_on_a_tip();
        node.on_headers(1, alloc::vec![first.header], NOW);
        node.on_headers(2, alloc::vec![second.header], NOW);
        let _ = (asked_blocks(&mut node, 1), asked_blocks(&mut node, 2));
        node.handle_peer_disconnected(1);
        node.handle_peer_disconnected(2);
        // Peer 3 holds `second`: its header is known, so its inv asks for no headers.
        node.handle_peer_connected(3, NOW);
        node.handle_message(3, &crate::node::tests::hello(&node, 4).to_bytes(), NOW);
        let _ = sent_to(&mut node, 3);
        node.on_inv(3, alloc::vec![InvItem::Block(second.block_hash())], NOW);
        assert_eq!(asked_blocks(&mut node, 3), [first.block_hash()], "the best header chain first");
        node.on_not_found(3, &[InvItem::Block(first.block_hash())], NOW);
        assert_eq!(asked_blocks(&mut node, 3), [second.block_hash()]);
    }

    #[test]
    fn no_peer_branch_is_fetched_without_more_work_than_the_tip_or_past_its_length() {
        let (mut node, _, _) = rivals_on_a_tip();
        let mut builder = Builder::new();
        // More work than the tip, and more blocks missing than the walk goes down.
        let long = builder.branch_on(builder.genesis(), PEER_BRANCH_BLOCKS_MAX + 1);
        node.on_headers(2, long.iter().map(|b| b.header).collect(), NOW);
        let _ = asked_blocks(&mut node, 2);
        node.in_flight.clear();
        node.request_peer_branches(NOW);
        assert_eq!(asked_blocks(&mut node, 2), Vec::<BlockHash>::new(), "a branch too long to walk waits");
        // As much work as the tip, no more.
        let short = builder.branch_on(builder.genesis(), 3);
        node.handle_peer_disconnected(2);
        node.handle_peer_connected(2, NOW);
        node.handle_message(2, &crate::node::tests::hello(&node, 0).to_bytes(), NOW);
        node.on_headers(2, short.iter().map(|b| b.header).collect(), NOW);
        let _ = asked_blocks(&mut node, 2);
        node.in_flight.clear();
        node.request_peer_branches(NOW);
        assert_eq!(asked_blocks(&mut node, 2), Vec::<BlockHash>::new(), "a branch no better than the tip waits");
    }

    #[test]
    fn a_block_a_peer_lacked_is_asked_of_it_again_once_it_announces_it() {
        let (mut node, blocks) = behind_by(1, &[1]);
        let first = blocks[0].block_hash();
        assert_eq!(asked_blocks(&mut node, 1), [first]);
        node.on_not_found(1, &[InvItem::Block(first)], NOW);
        assert_eq!(asked_blocks(&mut node, 1), Vec::<BlockHash>::new(), "not asked of a peer that lacks it");
        node.on_inv(1, alloc::vec![InvItem::Block(first)], NOW);
        node.handle_tick(NOW + 1);
        assert_eq!(asked_blocks(&mut node, 1), [first], "asked again once it has it");
    }

    #[test]
    fn a_block_the_peer_lacks_is_asked_of_another() {
        let (mut node, blocks) = behind_by(1, &[1, 2]);
        let first = blocks[0].block_hash();
        let asked_of_1 = asked_blocks(&mut node, 1);
        let asked_of_2 = asked_blocks(&mut node, 2);
        let (lacking, other) = if asked_of_1 == [first] { (1, 2) } else { (2, 1) };
        assert_eq!(if lacking == 1 { asked_of_2.len() } else { asked_of_1.len() }, 0, "asked of one peer only");
        node.on_not_found(lacking, &[InvItem::Block(first)], NOW);
        assert_eq!(asked_blocks(&mut node, other), [first]);
    }
}

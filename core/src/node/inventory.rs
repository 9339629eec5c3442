//! Inventory relay: announcing new blocks and transactions (`inv`, batched per peer) to the
//! peers not known to have them, answering `getdata` (each item once, within a byte budget) and
//! `notfound`, admitting transactions from peers and the user (scoring peers that send what no
//! honest node relays), and remembering peer addresses to share, each peer's under a quota.

use super::output::{DisconnectReason, Event, Output};
use super::peer::POLICY_VIOLATION_SCORE;
use super::sync::BLOCKS_IN_FLIGHT_PER_PEER_MAX;
use super::tx_requests::TxAsk;
use super::{Node, PeerId};
use crate::hash::Txid;
use crate::limits::BLOCK_BYTES_MAX;
use crate::mempool::MempoolError;
use crate::message::{ADDR_BYTES_MAX, ADDRS_MAX, INV_ITEMS_MAX, InvItem, Message};
use crate::transaction::Transaction;
use crate::validation::TxError;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

/// Peer addresses remembered.
pub const ADDRS_KNOWN_MAX: usize = 1000;
/// Of those, the most remembered from one peer: past it the peer's own oldest goes.
pub const ADDRS_PER_PEER_MAX: usize = ADDRS_MAX;
/// Seconds a peer's address is remembered (this node's own, from `add_addr`, never expire).
pub const ADDR_TTL_S: u64 = 24 * 60 * 60;
/// An `addrs` message of at most this many addresses is a peer passing on what it just learned
/// (a larger one answers a `getaddrs`): its fresh addresses are passed on in turn.
pub const ADDRS_FORWARD_BATCH_MAX: usize = 10;
/// Peers each such batch is passed on to: enough for a new relay's address to spread through a
/// connected network, few enough that a peer inventing addresses gains little amplification.
pub const ADDRS_FORWARD_PEERS: usize = 2;
/// Transactions remembered as rejected at the current tip, so they are not fetched or validated
/// again until it moves.
pub const REJECTED_TXS_MAX: usize = 1000;
/// Bytes of blocks and transactions sent in answer to one `getdata` (an evicted block, whose
/// size the node does not know, counts as `BLOCK_BYTES_MAX`); what does not fit is answered
/// with `notfound`. A request for a peer's whole share of blocks always fits.
pub const GETDATA_REPLY_BYTES_MAX: usize = BLOCKS_IN_FLIGHT_PER_PEER_MAX * BLOCK_BYTES_MAX;

const _: () = assert!(ADDRS_PER_PEER_MAX * 4 <= ADDRS_KNOWN_MAX, "four peers cannot fill the address book");

impl Node {
    /// Queues `item` for the next `inv` to every ready peer not known to have it: the batch goes
    /// at the next tick, or with the first input of a later second; a queue that reaches
    /// `INV_ITEMS_MAX` goes out at once.
    pub(super) fn announce(&mut self, item: InvItem) {
        let mut full = Vec::new();
        for (&id, peer) in self.peers.iter_mut().filter(|(_, p)| p.ready) {
            if peer.known.insert(item) {
                self.inv_batch_since.get_or_insert(self.clock);
                peer.inv_queue.push(item);
                if peer.inv_queue.len() == INV_ITEMS_MAX {
                    full.push((id, core::mem::take(&mut peer.inv_queue)));
                }
            }
        }
        for (peer, items) in full {
            self.send(peer, Message::Inv(items));
        }
    }

    /// Sends every peer its queued announcements as one `inv`.
    pub(super) fn flush_announcements(&mut self) {
        let batches: Vec<(PeerId, Vec<InvItem>)> = self
            .peers
            .iter_mut()
            .filter(|(_, p)| !p.inv_queue.is_empty())
            .map(|(&id, p)| (id, core::mem::take(&mut p.inv_queue)))
            .collect();
        self.inv_batch_since = None;
        for (peer, items) in batches {
            self.send(peer, Message::Inv(items));
        }
    }

    pub(super) fn on_inv(&mut self, peer: PeerId, items: Vec<InvItem>, now: u64) {
        let mut wanted = Vec::new();
        let mut unknown_block = false;
        let mut better_branch = false;
        for item in items {
            let state = self.peer_mut(peer);
            state.known.insert(item);
            // It has the item now, whatever it said before.
            state.lacks.remove(&item);
            match item {
                InvItem::Block(hash) => match self.chain.header(&hash) {
                    Some(known) => {
                        self.peer_mut(peer).note_height(known.height);
                        better_branch |= self.note_best_known(peer, &hash);
                    }
                    None => unknown_block = true,
                },
                InvItem::Tx(txid) => {
                    if !self.mempool.contains(&txid)
                        && !self.rejected_txs.contains(&item)
                        && self.tx_requests.announced(txid, peer, now)
                    {
                        wanted.push(item);
                    }
                }
            }
        }
        if unknown_block {
            // Something new: a chain that ended below the work needed may have grown.
            self.peer_mut(peer).low_work_chain = false;
        }
        let asked = self.peer_mut(peer).headers_asked_at;
        if unknown_block && asked.is_none_or(|at| now >= at + super::sync::HEADERS_REQUEST_TIMEOUT_S) {
            self.ask_headers(peer, now);
        }
        if better_branch {
            // The peer may now be the one to fetch a branch from (`request_peer_branches`).
            self.request_blocks(now);
        }
        if !wanted.is_empty() {
            let state = self.peer_mut(peer);
            for &item in &wanted {
                state.asked_txs.insert(item);
            }
            self.send(peer, Message::GetData(wanted));
        }
    }

    /// Answers each distinct item once, up to `GETDATA_REPLY_BYTES_MAX`; `notfound` for what we
    /// lack and for what does not fit.
    pub(super) fn on_get_data(&mut self, peer: PeerId, items: Vec<InvItem>) {
        let mut not_found = Vec::new();
        let mut seen = BTreeSet::new();
        let mut budget = GETDATA_REPLY_BYTES_MAX;
        for item in items.into_iter().filter(|item| seen.insert(*item)) {
            let answer =
                match item {
                    InvItem::Block(hash) if self.chain.entry(&hash).is_none() && self.chain.is_active(&hash) => {
                        // Evicted from memory: the shell sends it from its store.
                        Some((BLOCK_BYTES_MAX, Output::SendStoredBlock { peer, hash }))
                    }
                    InvItem::Block(hash) => self.chain.entry(&hash).filter(|e| !e.is_invalid()).map(|e| {
                        (e.block.size_bytes(), Output::Send { peer, message: Message::Block(e.block.clone()) })
                    }),
                    InvItem::Tx(txid) => self
                        .mempool
                        .get(&txid)
                        .map(|e| (e.size_bytes, Output::Send { peer, message: Message::Tx(e.tx.clone()) })),
                };
            match answer {
                Some((size_bytes, output)) if size_bytes <= budget => {
                    budget -= size_bytes;
                    self.peer_mut(peer).known.insert(item);
                    self.outputs.push_back(output);
                }
                _ => not_found.push(item),
            }
        }
        if !not_found.is_empty() {
            self.send(peer, Message::NotFound(not_found));
        }
    }

    pub(super) fn on_not_found(&mut self, peer: PeerId, items: &[InvItem], now: u64) {
        for item in items {
            let state = self.peer_mut(peer);
            state.lacks.insert(*item);
            state.asked_txs.remove(item);
            match *item {
                InvItem::Block(hash) => {
                    if self.in_flight.get(&hash).is_some_and(|r| r.peer == peer) {
                        self.in_flight.remove(&hash);
                    }
                }
                InvItem::Tx(txid) => {
                    if let Some(ask) = self.tx_requests.not_found(txid, peer, now) {
                        self.ask_tx(ask);
                    }
                }
            }
        }
        self.request_blocks(now);
    }

    /// Asks the next announcer for a transaction the one asked did not send (`TxRequests`).
    pub(super) fn ask_tx(&mut self, ask: TxAsk) {
        let item = InvItem::Tx(ask.txid);
        if self.mempool.contains(&ask.txid) || self.rejected_txs.contains(&item) {
            self.tx_requests.received(&ask.txid);
            return;
        }
        let Some(state) = self.peers.get_mut(&ask.peer) else { return };
        state.asked_txs.insert(item);
        self.send(ask.peer, Message::GetData(alloc::vec![item]));
    }

    /// `gone` disconnected: the transactions it was asked for go to their next announcers.
    pub(super) fn ask_next_announcers(&mut self, gone: PeerId) {
        for ask in self.tx_requests.peer_gone(gone, self.clock) {
            self.ask_tx(ask);
        }
    }

    /// A transaction from a peer. One refused before is not validated again (and sending it
    /// unasked scores as misbehaviour); a consensus-invalid one drops the peer; one no node
    /// following our policy would relay scores.
    pub(super) fn on_tx(&mut self, peer: PeerId, tx: Transaction, now: u64) {
        let txid = tx.txid();
        let item = InvItem::Tx(txid);
        self.tx_requests.received(&txid);
        let state = self.peer_mut(peer);
        let asked = state.asked_txs.remove(&item);
        state.known.insert(item);
        if self.rejected_txs.contains(&item) {
            if !asked {
                self.misbehaving(peer, POLICY_VIOLATION_SCORE);
            }
            return;
        }
        match self.accept_tx(tx, Some(peer), now) {
            // Valid at a tip a block or more ahead of ours, which an honest peer may have (Bitcoin
            // Core's premature spend, unpunished too): refused until our tip moves.
            Err(MempoolError::Invalid(TxError::ImmatureCoinbase { .. })) => {}
            Err(reason @ (MempoolError::Invalid(_) | MempoolError::Coinbase | MempoolError::TooLarge { .. })) => {
                self.disconnect(peer, DisconnectReason::InvalidTx(reason));
            }
            Err(MempoolError::FeeTooLow { .. } | MempoolError::Dust { .. }) => {
                self.misbehaving(peer, POLICY_VIOLATION_SCORE);
            }
            _ => {}
        }
    }

    /// Admits a transaction from `source` (a peer, or `None` for the user) to the mempool and
    /// announces it and any orphans it frees. A refusal other than missing inputs is remembered,
    /// however the transaction came.
    pub(super) fn accept_tx(
        &mut self,
        tx: Transaction,
        source: Option<PeerId>,
        now: u64,
    ) -> Result<Txid, MempoolError> {
        let txid = tx.txid();
        match self.mempool.accept_from(tx, &self.chain, now, source) {
            Ok(admitted) => {
                for id in admitted {
                    self.event(Event::TxAccepted { txid: id });
                    self.announce(InvItem::Tx(id));
                }
                Ok(txid)
            }
            Err(MempoolError::AlreadyKnown) => Ok(txid),
            Err(reason) => {
                if !matches!(reason, MempoolError::MissingInputs { .. }) {
                    self.rejected_txs.insert(InvItem::Tx(txid));
                }
                self.event(Event::TxRejected { txid, reason: reason.clone() });
                Err(reason)
            }
        }
    }

    pub(super) fn on_get_addrs(&mut self, peer: PeerId) {
        let addrs = self.addrs.iter().take(ADDRS_MAX).map(|(addr, _)| addr.clone()).collect();
        self.send(peer, Message::Addrs(addrs));
    }

    /// Remembers plausible relay addresses (`ws://` or `wss://`, bounded) from `source`: a peer's
    /// for `ADDR_TTL_S` and under its quota, this node's own for good. A small batch from a peer
    /// is news: the addresses new to this node are passed on (`forward_addrs`).
    pub(super) fn on_addrs(&mut self, source: Option<PeerId>, addrs: Vec<String>, now: u64) {
        let expires_at = if source.is_some() { now.saturating_add(ADDR_TTL_S) } else { u64::MAX };
        let is_news = addrs.len() <= ADDRS_FORWARD_BATCH_MAX;
        let mut fresh = Vec::new();
        for addr in addrs {
            let plausible = (addr.starts_with("ws://") || addr.starts_with("wss://")) && addr.len() <= ADDR_BYTES_MAX;
            if plausible && self.addrs.insert(addr.clone(), (), source, expires_at) {
                fresh.push(addr);
            }
        }
        if let Some(source) = source.filter(|_| is_news && !fresh.is_empty()) {
            self.forward_addrs(source, fresh);
        }
    }

    /// Passes addresses new to this node on to `ADDRS_FORWARD_PEERS` ready peers other than
    /// `source`: those whose id, hashed with the first address, is lowest, so different news
    /// takes different paths without the node needing randomness.
    fn forward_addrs(&mut self, source: PeerId, fresh: Vec<String>) {
        let rank = |peer: PeerId| {
            let mut data = fresh[0].as_bytes().to_vec();
            data.extend_from_slice(&peer.to_le_bytes());
            crate::hash::sha256(&data)
        };
        let mut peers: Vec<([u8; 32], PeerId)> =
            self.peers.iter().filter(|(id, p)| p.ready && **id != source).map(|(&id, _)| (rank(id), id)).collect();
        crate::sort::sort_by_key(&mut peers, |&ranked| ranked);
        for (_, peer) in peers.into_iter().take(ADDRS_FORWARD_PEERS) {
            self.send(peer, Message::Addrs(fresh.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::BlockHash;
    use crate::node::tests::{ready_node, sent_to};
    use crate::testkit::NOW;

    #[test]
    fn an_item_is_announced_once_to_each_peer_that_lacks_it() {
        let mut node = ready_node(&[1, 2], 0);
        let item = InvItem::Tx(Txid::from_byte_array([9; 32]));
        node.peer_mut(2).known.insert(item);
        node.announce(item);
        node.announce(item);
        node.flush_announcements();
        assert_eq!(sent_to(&mut node, 1), [Message::Inv(alloc::vec![item])]);
        assert_eq!(sent_to(&mut node, 2), []);
    }

    #[test]
    fn getdata_answers_what_we_have_and_notfound_for_the_rest() {
        let mut node = ready_node(&[1], 0);
        let genesis = node.chain().tip_hash();
        let missing = InvItem::Block(BlockHash::from_byte_array([7; 32]));
        let tx = InvItem::Tx(Txid::from_byte_array([8; 32]));
        node.on_get_data(1, alloc::vec![InvItem::Block(genesis), missing, tx]);
        let genesis_block = node.chain().tip().block.clone();
        assert_eq!(sent_to(&mut node, 1), [Message::Block(genesis_block), Message::NotFound(alloc::vec![missing, tx])]);
    }

    #[test]
    fn an_inv_asks_for_unknown_transactions_only_and_headers_for_unknown_blocks() {
        let mut node = ready_node(&[1], 0);
        let fresh = InvItem::Tx(Txid::from_byte_array([1; 32]));
        let rejected = InvItem::Tx(Txid::from_byte_array([2; 32]));
        node.rejected_txs.insert(rejected);
        let unknown_block = InvItem::Block(BlockHash::from_byte_array([3; 32]));
        node.on_inv(1, alloc::vec![fresh, rejected, unknown_block], NOW);
        let sent = sent_to(&mut node, 1);
        assert!(matches!(sent[0], Message::GetHeaders { .. }), "{sent:?}");
        assert_eq!(sent[1], Message::GetData(alloc::vec![fresh]));
        assert_eq!(sent.len(), 2);
    }

    #[test]
    fn only_plausible_addresses_are_kept_up_to_the_cap() {
        let mut node = ready_node(&[], 0);
        let long = alloc::format!("ws://{}", "a".repeat(ADDR_BYTES_MAX));
        node.on_addrs(Some(1), alloc::vec!["ws://a.example/ws".into(), "http://b.example".into(), long], NOW);
        assert_eq!(node.known_addrs().collect::<Vec<_>>(), ["ws://a.example/ws"]);
        for peer in 0..2 * ADDRS_KNOWN_MAX / ADDRS_PER_PEER_MAX {
            let addrs = (0..ADDRS_PER_PEER_MAX).map(|i| alloc::format!("wss://{peer}-{i}.example/ws")).collect();
            node.on_addrs(Some(peer as PeerId), addrs, NOW);
        }
        assert_eq!(node.known_addrs().count(), ADDRS_KNOWN_MAX);
    }
}

//! Inventory relay: announcing new blocks and transactions (`inv`) to the peers not known to
//! have them, answering `getdata` and `notfound`, admitting transactions from peers and the
//! user, and remembering peer addresses to share.

use super::output::{DisconnectReason, Event, Output};
use super::{Node, PeerId};
use crate::hash::Txid;
use crate::mempool::MempoolError;
use crate::message::{ADDR_BYTES_MAX, ADDRS_MAX, InvItem, Message};
use crate::transaction::Transaction;
use alloc::string::String;
use alloc::vec::Vec;

/// Peer addresses remembered.
pub const ADDRS_KNOWN_MAX: usize = 1000;
/// Transactions remembered as rejected, so they are not fetched again.
pub const REJECTED_TXS_MAX: usize = 1000;

impl Node {
    /// Sends `inv` for `item` to every ready peer not known to have it.
    pub(super) fn announce(&mut self, item: InvItem) {
        let targets: Vec<PeerId> = self
            .peers
            .iter_mut()
            .filter(|(_, p)| p.ready)
            .filter_map(|(id, p)| p.known.insert(item).then_some(*id))
            .collect();
        for peer in targets {
            self.send(peer, Message::Inv(alloc::vec![item]));
        }
    }

    pub(super) fn on_inv(&mut self, peer: PeerId, items: Vec<InvItem>, now: u64) {
        let mut wanted = Vec::new();
        let mut unknown_block = false;
        for item in items {
            self.peer_mut(peer).known.insert(item);
            match item {
                InvItem::Block(hash) => match self.chain.header(&hash) {
                    Some(known) => self.peer_mut(peer).note_height(known.height),
                    None => unknown_block = true,
                },
                InvItem::Tx(txid) => {
                    if !self.mempool.contains(&txid) && !self.rejected_txs.contains(&item) {
                        wanted.push(item);
                    }
                }
            }
        }
        let asked = self.peer_mut(peer).headers_asked_at;
        if unknown_block && asked.is_none_or(|at| now >= at + super::sync::HEADERS_REQUEST_TIMEOUT_S) {
            self.ask_headers(peer, now);
        }
        if !wanted.is_empty() {
            self.send(peer, Message::GetData(wanted));
        }
    }

    pub(super) fn on_get_data(&mut self, peer: PeerId, items: Vec<InvItem>) {
        let mut not_found = Vec::new();
        for item in items {
            let message = match item {
                InvItem::Block(hash) if self.chain.entry(&hash).is_none() && self.chain.is_active(&hash) => {
                    // Evicted from memory: the shell sends it from its store.
                    self.peer_mut(peer).known.insert(item);
                    self.outputs.push_back(Output::SendStoredBlock { peer, hash });
                    continue;
                }
                InvItem::Block(hash) => {
                    self.chain.entry(&hash).filter(|e| !e.is_invalid()).map(|e| Message::Block(e.block.clone()))
                }
                InvItem::Tx(txid) => self.mempool.get(&txid).map(|e| Message::Tx(e.tx.clone())),
            };
            match message {
                Some(message) => {
                    self.peer_mut(peer).known.insert(item);
                    self.send(peer, message);
                }
                None => not_found.push(item),
            }
        }
        if !not_found.is_empty() {
            self.send(peer, Message::NotFound(not_found));
        }
    }

    pub(super) fn on_not_found(&mut self, peer: PeerId, items: &[InvItem], now: u64) {
        for item in items {
            self.peer_mut(peer).lacks.insert(*item);
            if let InvItem::Block(hash) = item
                && self.in_flight.get(hash).is_some_and(|r| r.peer == peer)
            {
                self.in_flight.remove(hash);
            }
        }
        self.request_blocks(now);
    }

    pub(super) fn on_tx(&mut self, peer: PeerId, tx: Transaction, now: u64) {
        self.peer_mut(peer).known.insert(InvItem::Tx(tx.txid()));
        if let Err(reason) = self.accept_tx(tx, now)
            && matches!(reason, MempoolError::Invalid(_) | MempoolError::Coinbase | MempoolError::TooLarge { .. })
        {
            self.disconnect(peer, DisconnectReason::InvalidTx(reason));
        }
    }

    /// Admits a transaction to the mempool and announces it and any orphans it frees.
    pub(super) fn accept_tx(&mut self, tx: Transaction, now: u64) -> Result<Txid, MempoolError> {
        let txid = tx.txid();
        match self.mempool.accept(tx, &self.chain, now) {
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
        let addrs = self.addrs.iter().take(ADDRS_MAX).cloned().collect();
        self.send(peer, Message::Addrs(addrs));
    }

    /// Remembers plausible relay addresses (`ws://` or `wss://`, bounded), up to the cap.
    pub(super) fn on_addrs(&mut self, addrs: Vec<String>) {
        for addr in addrs {
            let plausible = (addr.starts_with("ws://") || addr.starts_with("wss://")) && addr.len() <= ADDR_BYTES_MAX;
            if plausible && self.addrs.len() < ADDRS_KNOWN_MAX {
                self.addrs.insert(addr);
            }
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
        assert_eq!(
            sent_to(&mut node, 1),
            [Message::Block(genesis_block), Message::NotFound(alloc::vec![missing, tx])]
        );
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
        node.on_addrs(alloc::vec!["ws://a.example/ws".into(), "http://b.example".into(), long]);
        assert_eq!(node.known_addrs().collect::<Vec<_>>(), ["ws://a.example/ws"]);
        node.on_addrs((0..2 * ADDRS_KNOWN_MAX).map(|i| alloc::format!("wss://{i}.example/ws")).collect());
        assert_eq!(node.known_addrs().count(), ADDRS_KNOWN_MAX);
    }
}

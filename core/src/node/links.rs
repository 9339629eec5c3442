//! Direct links between tabs, arranged through a relay (protocol version 2). A tab that wants
//! direct peers sends its relay `getlinks`; the relay answers `links` with other peers that
//! asked too, and passes `signal`s (WebRTC offers and answers, opaque here) between two such
//! peers. The relay is a `LinkRole::Broker`; a tab's node is a `LinkRole::Endpoint`, which hands
//! what the relay tells it to its shell as events and sends what the shell asks.
//!
//! A relay forwards only between peers that both asked for links, so a peer cannot make it send
//! anything to one that did not; and each sender has a budget per minute, in all and towards
//! each receiver, so it cannot make it spam one that did. A peer over its budget has its signal
//! dropped and earns misbehaviour points.

use super::output::Event;
use super::peer::POLICY_VIOLATION_SCORE;
use super::{Node, PeerId};
use crate::message::{LINKS_MAX, Message};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Seconds of one signal budget window.
pub const SIGNAL_WINDOW_S: u64 = 60;
/// Signals one peer may have forwarded per window, in all: a few link set-ups a minute.
pub const SIGNALS_PER_WINDOW_MAX: u32 = 32;
/// Signals one peer may have forwarded to one receiver per window: an offer or an answer, and a
/// retry or two.
pub const SIGNALS_PER_RECEIVER_MAX: u32 = 4;

/// What a node does with link requests and signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkRole {
    /// A relay: answers `getlinks` and forwards signals between peers that asked for links.
    #[default]
    Broker,
    /// A tab: hands `links` and `signal`s from its peers to its shell (`Event::LinkOffer`,
    /// `Event::Signal`) and answers `getlinks` with nobody.
    Endpoint,
}

/// A peer's signal budget in the current window.
#[derive(Debug, Clone, Default)]
pub(crate) struct SignalBudget {
    /// Whether the peer asked for links (and may be offered to others, and signalled).
    pub(crate) wants_links: bool,
    window_start: u64,
    sent: u32,
    /// Signals sent to each receiver in this window.
    per_receiver: BTreeMap<PeerId, u32>,
}

impl SignalBudget {
    /// Spends one signal towards `to` at `now`, if the budget allows.
    fn take(&mut self, to: PeerId, now: u64) -> bool {
        if now >= self.window_start.saturating_add(SIGNAL_WINDOW_S) {
            self.window_start = now;
            self.sent = 0;
            self.per_receiver.clear();
        }
        let to_receiver = self.per_receiver.get(&to).copied().unwrap_or(0);
        if self.sent >= SIGNALS_PER_WINDOW_MAX || to_receiver >= SIGNALS_PER_RECEIVER_MAX {
            return false;
        }
        self.sent += 1;
        self.per_receiver.insert(to, to_receiver + 1);
        true
    }
}

impl Node {
    /// Sets what this node does with link requests and signals (a relay's node is a broker).
    pub fn set_link_role(&mut self, role: LinkRole) {
        self.link_role = role;
    }

    /// Asks `via` (a relay) for peers to link with; its `links` answer comes as
    /// `Event::LinkOffer`.
    pub fn ask_links(&mut self, via: PeerId) {
        if self.peers.get(&via).is_some_and(|p| p.ready) {
            self.send(via, Message::GetLinks);
        }
    }

    /// Sends link set-up data for `peer` (an id from `Event::LinkOffer`) through `via`.
    pub fn signal(&mut self, via: PeerId, peer: u64, payload: Vec<u8>) {
        if self.peers.get(&via).is_some_and(|p| p.ready) {
            self.send(via, Message::Signal { peer, payload });
        }
    }

    pub(super) fn on_get_links(&mut self, peer: PeerId) {
        if self.link_role == LinkRole::Endpoint {
            return self.send(peer, Message::Links { you: peer, peers: Vec::new() });
        }
        self.peer_mut(peer).signals.wants_links = true;
        // The others that asked, in an order that differs per asker and over time, so that
        // askers spread over them without the node needing randomness.
        let salt = self.clock;
        let rank = |other: PeerId| {
            let mut data = [0u8; 24];
            data[..8].copy_from_slice(&peer.to_le_bytes());
            data[8..16].copy_from_slice(&other.to_le_bytes());
            data[16..].copy_from_slice(&salt.to_le_bytes());
            crate::hash::sha256(&data)
        };
        let mut others: Vec<([u8; 32], PeerId)> = self
            .peers
            .iter()
            .filter(|(id, p)| **id != peer && p.ready && p.signals.wants_links)
            .map(|(&id, _)| (rank(id), id))
            .collect();
        crate::sort::sort_by_key(&mut others, |&ranked| ranked);
        let others = others.into_iter().take(LINKS_MAX).map(|(_, id)| id).collect();
        self.send(peer, Message::Links { you: peer, peers: others });
    }

    pub(super) fn on_links(&mut self, peer: PeerId, you: u64, peers: Vec<u64>) {
        if self.link_role == LinkRole::Endpoint {
            self.event(Event::LinkOffer { via: peer, you, peers });
        }
    }

    pub(super) fn on_signal(&mut self, from: PeerId, to: u64, payload: Vec<u8>, now: u64) {
        if self.link_role == LinkRole::Endpoint {
            return self.event(Event::Signal { via: from, peer: to, payload });
        }
        let sender_asked = self.peers[&from].signals.wants_links;
        let receiver_asked = self.peers.get(&to).is_some_and(|p| p.ready && p.signals.wants_links);
        if !sender_asked || to == from {
            return self.misbehaving(from, POLICY_VIOLATION_SCORE);
        }
        if !self.peer_mut(from).signals.take(to, now) {
            return self.misbehaving(from, POLICY_VIOLATION_SCORE);
        }
        if receiver_asked {
            self.send(to, Message::Signal { peer: from, payload });
        }
        // A receiver that left (or never asked) loses nothing: the sender's set-up times out.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::MISBEHAVIOUR_THRESHOLD;
    use crate::node::output::DisconnectReason;
    use crate::node::tests::{disconnects, ready_node, sent_to};
    use crate::testkit::NOW;

    fn send(node: &mut Node, peer: PeerId, message: Message) {
        node.handle_message(peer, &message.to_bytes(), NOW);
    }

    fn signal(to: u64) -> Message {
        Message::Signal { peer: to, payload: b"offer".to_vec() }
    }

    #[test]
    fn a_relay_offers_peers_that_asked_and_passes_signals_only_between_them() {
        let mut node = ready_node(&[1, 2, 3], 0);
        send(&mut node, 1, Message::GetLinks);
        assert_eq!(sent_to(&mut node, 1), [Message::Links { you: 1, peers: alloc::vec![] }], "nobody else asked yet");
        send(&mut node, 2, Message::GetLinks);
        assert_eq!(sent_to(&mut node, 2), [Message::Links { you: 2, peers: alloc::vec![1] }], "3 did not ask");
        send(&mut node, 2, signal(1));
        assert_eq!(sent_to(&mut node, 1), [Message::Signal { peer: 2, payload: b"offer".to_vec() }]);
        send(&mut node, 1, signal(3));
        assert!(sent_to(&mut node, 3).is_empty(), "3 did not ask for links: nothing reaches it");
        send(&mut node, 3, signal(1));
        assert!(sent_to(&mut node, 1).is_empty(), "a peer that did not ask cannot signal");
        assert_eq!(node.peers[&3].misbehaviour, POLICY_VIOLATION_SCORE);
    }

    #[test]
    fn a_signal_flood_is_cut_at_the_budget_and_its_sender_dropped() {
        let mut node = ready_node(&[1, 2], 0);
        send(&mut node, 1, Message::GetLinks);
        send(&mut node, 2, Message::GetLinks);
        let _ = (sent_to(&mut node, 1), sent_to(&mut node, 2));
        let over = (MISBEHAVIOUR_THRESHOLD / POLICY_VIOLATION_SCORE) as usize;
        for _ in 0..SIGNALS_PER_RECEIVER_MAX as usize + over {
            send(&mut node, 1, signal(2));
        }
        let forwarded = sent_to(&mut node, 2).into_iter().filter(|m| matches!(m, Message::Signal { .. })).count();
        assert_eq!(forwarded, SIGNALS_PER_RECEIVER_MAX as usize, "the receiver got only the budget");
        assert_eq!(disconnects(&mut node), [(1, DisconnectReason::Misbehaving { score: MISBEHAVIOUR_THRESHOLD })]);
        assert_eq!(node.peers().count(), 1, "the receiver stays");
    }

    #[test]
    fn the_budget_renews_each_window() {
        let mut budget = SignalBudget::default();
        assert!((0..SIGNALS_PER_RECEIVER_MAX).all(|_| budget.take(7, NOW)));
        assert!(!budget.take(7, NOW + SIGNAL_WINDOW_S - 1));
        assert!(budget.take(8, NOW), "another receiver has its own share");
        assert!(budget.take(7, NOW + SIGNAL_WINDOW_S));
        let mut budget = SignalBudget::default();
        let receivers = SIGNALS_PER_WINDOW_MAX as u64 / u64::from(SIGNALS_PER_RECEIVER_MAX);
        assert!((0..receivers).all(|to| (0..SIGNALS_PER_RECEIVER_MAX).all(|_| budget.take(to, NOW))));
        assert!(!budget.take(receivers, NOW), "the sender's whole budget is spent");
    }

    #[test]
    fn a_tab_hands_offers_and_signals_to_its_shell() {
        let mut node = ready_node(&[1], 0);
        node.set_link_role(LinkRole::Endpoint);
        node.ask_links(1);
        assert_eq!(sent_to(&mut node, 1), [Message::GetLinks]);
        send(&mut node, 1, Message::Links { you: 4, peers: alloc::vec![5] });
        send(&mut node, 1, Message::Signal { peer: 5, payload: b"answer".to_vec() });
        let events: Vec<Event> = core::iter::from_fn(|| node.poll_output())
            .filter_map(|o| match o {
                crate::node::Output::Event(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(
            events,
            [
                Event::LinkOffer { via: 1, you: 4, peers: alloc::vec![5] },
                Event::Signal { via: 1, peer: 5, payload: b"answer".to_vec() }
            ]
        );
        node.signal(1, 5, b"offer".to_vec());
        assert_eq!(sent_to(&mut node, 1), [Message::Signal { peer: 5, payload: b"offer".to_vec() }]);
    }
}

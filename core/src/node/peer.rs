//! What the node keeps per peer: whether it said hello, the height it claims, what it is known
//! to have (so nothing is announced twice) or to lack, the transactions asked of it, the
//! announcements waiting for the next batch, its outstanding ping, its message budget (a token
//! bucket), its misbehaviour score, and its headers presync if any.

use super::presync::Presync;
use crate::message::InvItem;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Items remembered per peer as known to it, so nothing is announced twice.
pub const KNOWN_INV_MAX: usize = 4096;
/// Messages a peer may send in a burst, and per second sustained.
pub const MESSAGE_BURST_MAX: u64 = 2000;
pub const MESSAGES_PER_S_MAX: u64 = 200;
/// Misbehaviour points at which a peer is disconnected.
pub const MISBEHAVIOUR_THRESHOLD: u32 = 100;
/// Points for a transaction no node following our policy relays (fee too low, dust), and for
/// an unasked re-send of a transaction already refused: ten of them and the peer is dropped.
pub const POLICY_VIOLATION_SCORE: u32 = 10;

const _: () = assert!(POLICY_VIOLATION_SCORE < MISBEHAVIOUR_THRESHOLD, "one policy refusal is forgiven");

/// A bounded set of items, oldest forgotten first.
#[derive(Debug)]
pub(crate) struct KnownSet {
    /// Each item with its arrival number.
    items: BTreeMap<InvItem, u64>,
    order: BTreeMap<u64, InvItem>,
    next_seq: u64,
    cap: usize,
}

impl KnownSet {
    pub(crate) fn with_cap(cap: usize) -> Self {
        Self { items: BTreeMap::new(), order: BTreeMap::new(), next_seq: 0, cap }
    }

    /// Remembers `item`; returns whether it was new.
    pub(crate) fn insert(&mut self, item: InvItem) -> bool {
        if self.items.contains_key(&item) {
            return false;
        }
        self.items.insert(item, self.next_seq);
        self.order.insert(self.next_seq, item);
        self.next_seq += 1;
        if self.order.len() > self.cap {
            let (_, oldest) = self.order.pop_first().expect("over the cap, so not empty");
            self.items.remove(&oldest);
        }
        true
    }

    /// Forgets `item`; returns whether it was there.
    pub(crate) fn remove(&mut self, item: &InvItem) -> bool {
        let Some(seq) = self.items.remove(item) else { return false };
        self.order.remove(&seq);
        true
    }

    pub(crate) fn contains(&self, item: &InvItem) -> bool {
        self.items.contains_key(item)
    }

    /// Forgets every item.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.order.clear();
    }
}

/// How many messages a peer may send: `per_s` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_s: u64,
    pub burst: u64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_s: MESSAGES_PER_S_MAX, burst: MESSAGE_BURST_MAX }
    }
}

/// A peer's message budget: refilled at the limit's rate, capped at its burst.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    tokens: u64,
    refilled_at: u64,
}

impl TokenBucket {
    pub(crate) fn full(limit: RateLimit, now: u64) -> Self {
        Self { tokens: limit.burst, refilled_at: now }
    }

    /// Spends one token; false when the bucket is empty (the peer floods).
    pub(crate) fn take(&mut self, limit: RateLimit, now: u64) -> bool {
        let refill = now.saturating_sub(self.refilled_at).saturating_mul(limit.per_s);
        self.tokens = self.tokens.saturating_add(refill).min(limit.burst);
        self.refilled_at = now;
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// A ping sent and not yet answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingPing {
    pub(crate) nonce: u64,
    pub(crate) sent_at: u64,
}

/// One connection's state.
#[derive(Debug)]
pub(crate) struct Peer {
    /// Said a valid `hello`.
    pub(crate) ready: bool,
    pub(crate) connected_at: u64,
    /// The highest block the peer claimed or was seen to have.
    pub(crate) best_height: u32,
    /// The header with the most work the peer showed it has the block of (its headers, an
    /// announcement of a known block, a block it sent): where the node fetches from it when the
    /// best header chain cannot be downloaded (`Node::request_peer_branches`).
    pub(crate) best_known: Option<crate::hash::BlockHash>,
    /// Items the peer has, or was sent: never announced to it again.
    pub(crate) known: KnownSet,
    /// Items the peer answered `notfound` for: not asked of it again until it announces them
    /// (or sends their headers).
    pub(crate) lacks: KnownSet,
    /// Transactions asked of the peer and not yet answered: their answer (`tx` or `notfound`)
    /// does not count against its message budget.
    pub(crate) asked_txs: KnownSet,
    /// Announcements for the next `inv` to the peer (at most `INV_ITEMS_MAX`).
    pub(crate) inv_queue: Vec<InvItem>,
    /// Points for misbehaviour short of a disconnect; at `MISBEHAVIOUR_THRESHOLD` it goes.
    pub(crate) misbehaviour: u32,
    pub(crate) ping: Option<PendingPing>,
    pub(crate) last_ping_at: u64,
    /// Seconds the last ping took to be answered.
    pub(crate) rtt_s: Option<u64>,
    pub(crate) budget: TokenBucket,
    /// When we last asked for headers, until they arrive.
    pub(crate) headers_asked_at: Option<u64>,
    /// Whether it asked for direct links, and its signal budget (`links`).
    pub(crate) signals: super::links::SignalBudget,
    /// The peer's header chain being checked without being stored, while the node syncs (at
    /// most one per peer, dropped with the peer; `presync.rs` bounds its size).
    pub(crate) presync: Option<Presync>,
    /// The peer's chain ended below the work the node needs (a presync that ended short): it is
    /// not asked for headers again until it announces a block.
    pub(crate) low_work_chain: bool,
}

impl Peer {
    pub(crate) fn new(now: u64, limit: RateLimit) -> Self {
        Self {
            ready: false,
            connected_at: now,
            best_height: 0,
            best_known: None,
            known: KnownSet::with_cap(KNOWN_INV_MAX),
            lacks: KnownSet::with_cap(KNOWN_INV_MAX),
            asked_txs: KnownSet::with_cap(KNOWN_INV_MAX),
            inv_queue: Vec::new(),
            misbehaviour: 0,
            ping: None,
            last_ping_at: now,
            rtt_s: None,
            budget: TokenBucket::full(limit, now),
            headers_asked_at: None,
            signals: super::links::SignalBudget::default(),
            presync: None,
            low_work_chain: false,
        }
    }

    /// Raises what the peer is known to have to at least `height`.
    pub(crate) fn note_height(&mut self, height: u32) {
        self.best_height = self.best_height.max(height);
    }

    /// Clears the ping `nonce` answers, recording the round trip.
    pub(crate) fn on_pong(&mut self, nonce: u64, now: u64) {
        if let Some(ping) = self.ping.filter(|ping| ping.nonce == nonce) {
            self.rtt_s = Some(now.saturating_sub(ping.sent_at));
            self.ping = None;
        }
    }
}

/// A connected peer as a shell may show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PeerView {
    pub id: super::PeerId,
    /// Said a valid `hello`.
    pub ready: bool,
    pub best_height: u32,
    pub connected_at: u64,
    /// Seconds the last ping took, once one was answered.
    pub rtt_s: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Txid;

    fn item(n: u8) -> InvItem {
        InvItem::Tx(Txid::from_byte_array([n; 32]))
    }

    #[test]
    fn known_set_forgets_the_oldest_past_its_cap() {
        let mut set = KnownSet::with_cap(3);
        for n in 0..5 {
            assert!(set.insert(item(n)), "item {n} is new");
        }
        assert!(!set.insert(item(4)), "a known item is not new");
        let kept: alloc::vec::Vec<bool> = (0..5).map(|n| set.contains(&item(n))).collect();
        assert_eq!(kept, [false, false, true, true, true]);
        assert!(set.remove(&item(3)) && !set.remove(&item(3)), "removed once");
        assert!(set.insert(item(5)) && set.insert(item(6)), "a removal frees room");
        let kept: alloc::vec::Vec<bool> = (2..7).map(|n| set.contains(&item(n))).collect();
        assert_eq!(kept, [false, false, true, true, true]);
    }

    #[test]
    fn token_bucket_allows_the_burst_then_the_rate() {
        let limit = RateLimit { per_s: 2, burst: 3 };
        let mut bucket = TokenBucket::full(limit, 100);
        let burst: alloc::vec::Vec<bool> = (0..4).map(|_| bucket.take(limit, 100)).collect();
        assert_eq!(burst, [true, true, true, false]);
        // One second refills `per_s` tokens, never more than the burst.
        assert!(bucket.take(limit, 101));
        assert!(bucket.take(limit, 101));
        assert!(!bucket.take(limit, 101));
        assert!(bucket.take(limit, 1_000));
        let after_long_idle = (0..3).filter(|_| bucket.take(limit, 1_000)).count();
        assert_eq!(after_long_idle, 2, "the burst caps the refill (one token was spent already)");
    }

    #[test]
    fn pong_clears_only_its_own_ping_and_records_the_round_trip() {
        let mut peer = Peer::new(10, RateLimit::default());
        peer.ping = Some(PendingPing { nonce: 7, sent_at: 20 });
        peer.on_pong(8, 21);
        assert_eq!(peer.ping, Some(PendingPing { nonce: 7, sent_at: 20 }), "a stray pong changes nothing");
        assert_eq!(peer.rtt_s, None);
        peer.on_pong(7, 23);
        assert_eq!(peer.ping, None);
        assert_eq!(peer.rtt_s, Some(3));
    }

    #[test]
    fn note_height_only_raises() {
        let mut peer = Peer::new(0, RateLimit::default());
        peer.note_height(10);
        peer.note_height(4);
        assert_eq!(peer.best_height, 10);
    }
}

//! The registry of connected peers as the shell sees them: each peer's bounded send queue, the
//! signal that ends its connection, and the WebSocket close codes the relay sends. The driver
//! removes a peer in exactly one way (`PeerRegistry::remove`), whatever the reason. Queued bytes
//! are counted per peer and over all peers (`QueuedBytes`), each under its own cap; when a frame
//! does not fit under the total, the fullest peer is dropped to make room, or, if that is the
//! peer the frame is for, the frame is refused and that peer dropped.

use crate::queued_bytes::QueuedBytes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tabchain_core::PeerId;
use tokio::sync::{Notify, mpsc};

/// WebSocket close codes the relay uses.
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const POLICY: u16 = 1008;
    pub const UNSUPPORTED: u16 = 1003;
    pub const TOO_BIG: u16 = 1009;
}

/// Characters of a close reason sent (the WebSocket limit is 123 bytes).
const CLOSE_REASON_CHARS_MAX: usize = 100;

/// What a connection task writes to its socket.
#[derive(Debug)]
pub enum Outbound {
    Frame(Vec<u8>),
    Close { code: u16, reason: String },
}

/// How a peer leaves the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// We end the connection and tell the peer why (if its queue has room for the close frame).
    Close { code: u16, reason: String },
    /// The peer does not read: its queue is full, so nothing more is queued.
    NotReading,
    /// The connection already ended.
    Ended,
}

/// A connected peer as the driver sees it.
#[derive(Debug)]
struct PeerHandle {
    addr: String,
    inbound: bool,
    tx: mpsc::Sender<Outbound>,
    queued_bytes: QueuedBytes,
    kill: Arc<Notify>,
    abandon: Arc<Notify>,
}

/// What a connection task needs from `register`.
#[derive(Debug)]
pub struct PeerLink {
    pub id: PeerId,
    pub rx: mpsc::Receiver<Outbound>,
    pub queued_bytes: QueuedBytes,
    /// Ends the connection.
    pub kill: Arc<Notify>,
    /// Tells the writer to throw the queue away unwritten: the peer was dropped for not reading.
    pub abandon: Arc<Notify>,
}

/// A peer as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerInfo {
    pub id: PeerId,
    pub addr: String,
    pub inbound: bool,
    /// The height it claims, once it completed the handshake.
    pub best_height: Option<u32>,
}

/// Whether a frame was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// The queue is over its frame or byte cap: the peer is not reading.
    Full,
    /// Queued, after dropping this peer, the fullest, to make room under the cap on bytes queued
    /// for all peers together: it is out of the registry, and the node must be told.
    QueuedDropping(PeerId),
    /// The frame does not fit under that cap, and no other peer holds more than this one: the
    /// frame is refused and this peer is to be dropped, as one that does not read.
    OverTotal,
    /// No such peer (it left already).
    Gone,
}

/// Connected peers and their queues.
#[derive(Debug)]
pub struct PeerRegistry {
    peers: BTreeMap<PeerId, PeerHandle>,
    next_id: PeerId,
    queue_frames_max: usize,
    queue_bytes_max: usize,
    /// Bytes queued for all peers, and its cap.
    queued_total: Arc<AtomicUsize>,
    queued_total_max: usize,
}

impl PeerRegistry {
    pub fn new(queue_frames_max: usize, queue_bytes_max: usize, queued_total_max: usize) -> Self {
        let queued_total = Arc::new(AtomicUsize::new(0));
        Self { peers: BTreeMap::new(), next_id: 1, queue_frames_max, queue_bytes_max, queued_total, queued_total_max }
    }

    /// Bytes queued for the peers in the registry.
    pub fn queued_total(&self) -> usize {
        self.queued_total.load(Ordering::Relaxed)
    }

    /// Adds a peer with an empty queue.
    pub fn register(&mut self, addr: String, inbound: bool) -> PeerLink {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = mpsc::channel(self.queue_frames_max);
        let queued_bytes = QueuedBytes::new(self.queued_total.clone());
        let (kill, abandon) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let handle = PeerHandle {
            addr,
            inbound,
            tx,
            queued_bytes: queued_bytes.clone(),
            kill: kill.clone(),
            abandon: abandon.clone(),
        };
        self.peers.insert(id, handle);
        PeerLink { id, rx, queued_bytes, kill, abandon }
    }

    /// The URL an outbound peer was dialled at; `None` for an inbound or unknown peer.
    pub fn outbound_addr(&self, peer: PeerId) -> Option<&str> {
        self.peers.get(&peer).filter(|handle| !handle.inbound).map(|handle| handle.addr.as_str())
    }

    /// Queues a frame for `peer` within its caps, making room under the total by dropping the
    /// fullest peer if it holds more than `peer` (and at least the frame's size, so that it is
    /// enough).
    pub fn enqueue(&mut self, peer: PeerId, bytes: Vec<u8>) -> Enqueued {
        let Some(handle) = self.peers.get(&peer) else { return Enqueued::Gone };
        let own = handle.queued_bytes.peer();
        let len = bytes.len();
        // Full in bytes or in frames: checked before anyone is dropped to make room for it.
        if own + len > self.queue_bytes_max || handle.tx.capacity() == 0 {
            return Enqueued::Full;
        }
        let mut dropped = None;
        if self.queued_total() + len > self.queued_total_max {
            match self.fullest() {
                Some((fullest, held)) if fullest != peer && held > own && held >= len => {
                    self.remove(fullest, &Removal::NotReading);
                    dropped = Some(fullest);
                }
                _ => return Enqueued::OverTotal,
            }
        }
        let Some(handle) = self.peers.get(&peer) else { return Enqueued::Gone };
        // Counted before it is queued, so the writer never releases bytes not yet added.
        handle.queued_bytes.add(len);
        let refused = match handle.tx.try_send(Outbound::Frame(bytes)) {
            Ok(()) => return dropped.map_or(Enqueued::Queued, Enqueued::QueuedDropping),
            Err(mpsc::error::TrySendError::Full(_)) => Enqueued::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Enqueued::Gone,
        };
        handle.queued_bytes.release(len);
        // Only a connection ending meanwhile refuses it now; the peer dropped for room is gone
        // all the same, and the caller must still hear of it.
        dropped.map_or(refused, Enqueued::QueuedDropping)
    }

    /// The peer holding the most queued bytes, and how many. Only looked for when the total is
    /// full, which a relay whose peers read never reaches.
    fn fullest(&self) -> Option<(PeerId, usize)> {
        self.peers.iter().map(|(id, h)| (*id, h.queued_bytes.peer())).max_by_key(|(_, held)| *held)
    }

    /// Removes `peer` and ends its connection; returns whether it was registered.
    pub fn remove(&mut self, peer: PeerId, removal: &Removal) -> bool {
        let Some(handle) = self.peers.remove(&peer) else { return false };
        if let Removal::Close { code, reason } = removal {
            let reason = reason.chars().take(CLOSE_REASON_CHARS_MAX).collect();
            // A full queue means the peer is not reading; it would not read the reason either.
            let _ = handle.tx.try_send(Outbound::Close { code: *code, reason });
        }
        if *removal == Removal::NotReading {
            // Its queue is thrown away, not written: the memory is free for the others now.
            handle.queued_bytes.leave_total();
            handle.abandon.notify_one();
        }
        handle.kill.notify_one();
        true
    }

    pub fn ids(&self) -> Vec<PeerId> {
        self.peers.keys().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Every peer with the height the node knows for it (`heights`).
    pub fn info(&self, heights: &BTreeMap<PeerId, u32>) -> Vec<PeerInfo> {
        self.peers
            .iter()
            .map(|(id, p)| PeerInfo {
                id: *id,
                addr: p.addr.clone(),
                inbound: p.inbound,
                best_height: heights.get(id).copied(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_is_capped_in_frames_and_bytes() {
        let mut registry = PeerRegistry::new(2, 10, 100);
        let link = registry.register("a".into(), true);
        assert_eq!(registry.enqueue(link.id, vec![0; 6]), Enqueued::Queued);
        assert_eq!(registry.enqueue(link.id, vec![0; 5]), Enqueued::Full, "over the byte cap");
        assert_eq!(registry.enqueue(link.id, vec![0; 4]), Enqueued::Queued);
        assert_eq!(registry.enqueue(link.id, vec![0; 0]), Enqueued::Full, "over the frame cap");
        assert_eq!((link.queued_bytes.peer(), registry.queued_total()), (10, 10));
        assert_eq!(registry.enqueue(99, vec![0]), Enqueued::Gone);
    }

    #[test]
    fn the_fullest_peer_makes_room_under_the_total() {
        // Each queue may hold 8 bytes, all of them together 12.
        let mut registry = PeerRegistry::new(10, 8, 12);
        let (a, b) = (registry.register("a".into(), true), registry.register("b".into(), true));
        assert_eq!(registry.enqueue(a.id, vec![0; 7]), Enqueued::Queued);
        assert_eq!(registry.enqueue(b.id, vec![0; 3]), Enqueued::Queued);
        // 14 bytes would not fit: a, which holds the most, is dropped; b, under its caps, is served.
        assert_eq!(registry.enqueue(b.id, vec![0; 4]), Enqueued::QueuedDropping(a.id));
        assert_eq!(registry.ids(), [b.id]);
        assert_eq!((b.queued_bytes.peer(), registry.queued_total()), (7, 7), "a's 7 bytes left the total");
        a.queued_bytes.release(7);
        assert_eq!(registry.queued_total(), 7, "and are not taken out twice when thrown away");
    }

    #[test]
    fn the_fullest_peer_gets_no_more_over_the_total() {
        // Each queue may hold 10 bytes, all of them together 12.
        let mut registry = PeerRegistry::new(10, 10, 12);
        let (a, b) = (registry.register("a".into(), true), registry.register("b".into(), true));
        assert_eq!(registry.enqueue(a.id, vec![0; 7]), Enqueued::Queued);
        assert_eq!(registry.enqueue(b.id, vec![0; 3]), Enqueued::Queued);
        assert_eq!(registry.enqueue(a.id, vec![0; 1]), Enqueued::Queued, "11 bytes fit");
        assert_eq!(registry.enqueue(a.id, vec![0; 2]), Enqueued::OverTotal, "a is the fullest");
        // b's frame does not fit either, but a holds more than b: a makes room.
        assert_eq!(registry.enqueue(b.id, vec![0; 4]), Enqueued::QueuedDropping(a.id));
        assert_eq!((registry.ids(), registry.queued_total()), (vec![b.id], 7));
        // A frame larger than the fullest queue is refused: dropping b would not make room.
        let c = registry.register("c".into(), true);
        assert_eq!(registry.enqueue(c.id, vec![0; 8]), Enqueued::OverTotal);
        assert_eq!(registry.queued_total(), 7);
    }

    #[test]
    fn a_refused_frame_is_not_counted() {
        let mut registry = PeerRegistry::new(1, 100, 100);
        let mut link = registry.register("a".into(), true);
        assert_eq!(registry.enqueue(link.id, vec![0; 4]), Enqueued::Queued);
        assert_eq!(registry.enqueue(link.id, vec![0; 4]), Enqueued::Full, "over the frame cap");
        assert_eq!(registry.queued_total(), 4);
        link.rx.close();
        assert!(link.rx.try_recv().is_ok(), "the queued frame is still there");
        assert_eq!(registry.enqueue(link.id, vec![0; 4]), Enqueued::Gone);
        assert_eq!(registry.queued_total(), 4, "only the frame that was queued");
    }

    #[test]
    fn removal_sends_the_close_reason_once_and_ends_the_connection() {
        let mut registry = PeerRegistry::new(4, 100, 100);
        let mut link = registry.register("a".into(), true);
        let close = Removal::Close { code: close_code::POLICY, reason: "x".repeat(300) };
        assert!(registry.remove(link.id, &close));
        assert!(!registry.remove(link.id, &close), "only once");
        match link.rx.try_recv() {
            Ok(Outbound::Close { code, reason }) => {
                assert_eq!((code, reason.len()), (close_code::POLICY, CLOSE_REASON_CHARS_MAX));
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
        assert!(registry.is_empty());
        let ended = registry.register("b".into(), false);
        assert!(registry.remove(ended.id, &Removal::Ended));
        let mut rx = ended.rx;
        assert!(rx.try_recv().is_err(), "nothing is sent to a connection that ended");
    }
}

//! The memory the relay's send queues hold: bytes queued for each peer, and their total over the
//! peers in the registry, which `PeerRegistry` keeps under a relay-wide cap. A frame's bytes are
//! added before it is queued and released by whoever takes it off the queue (written or thrown
//! away), so no count goes below zero. A peer dropped for not reading leaves the total at once:
//! its connection throws its queue away without writing it (`PeerLink::abandon`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One peer's queued bytes, and the total it counts in.
#[derive(Debug, Clone)]
pub struct QueuedBytes {
    peer: Arc<Mutex<PeerBytes>>,
    total: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct PeerBytes {
    queued: usize,
    /// Whether `queued` is part of the total (until the peer leaves the registry not reading).
    in_total: bool,
}

impl QueuedBytes {
    /// An empty queue counted in `total`.
    pub fn new(total: Arc<AtomicUsize>) -> Self {
        Self { peer: Arc::new(Mutex::new(PeerBytes { queued: 0, in_total: true })), total }
    }

    fn lock(&self) -> MutexGuard<'_, PeerBytes> {
        self.peer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes queued for this peer.
    pub fn peer(&self) -> usize {
        self.lock().queued
    }

    /// Counts a frame about to be queued.
    pub fn add(&self, len: usize) {
        let mut bytes = self.lock();
        bytes.queued += len;
        if bytes.in_total {
            self.total.fetch_add(len, Ordering::Relaxed);
        }
    }

    /// Gives back a frame's bytes once it left the queue.
    pub fn release(&self, len: usize) {
        let mut bytes = self.lock();
        assert!(bytes.queued >= len, "released {len} bytes of {} queued", bytes.queued);
        bytes.queued -= len;
        if bytes.in_total {
            self.total.fetch_sub(len, Ordering::Relaxed);
        }
    }

    /// Takes this peer's bytes out of the total: it was dropped and its queue is thrown away.
    pub fn leave_total(&self) {
        let mut bytes = self.lock();
        if bytes.in_total {
            bytes.in_total = false;
            self.total.fetch_sub(bytes.queued, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_counts_each_peer_until_it_leaves() {
        let total = Arc::new(AtomicUsize::new(0));
        let (a, b) = (QueuedBytes::new(total.clone()), QueuedBytes::new(total.clone()));
        a.add(7);
        b.add(5);
        a.release(2);
        assert_eq!((a.peer(), b.peer(), total.load(Ordering::Relaxed)), (5, 5, 10));
        a.leave_total();
        assert_eq!(total.load(Ordering::Relaxed), 5, "a's bytes left the total at once");
        a.release(5);
        a.leave_total();
        assert_eq!((a.peer(), total.load(Ordering::Relaxed)), (0, 5), "and are not released from it twice");
    }
}

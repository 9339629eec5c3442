//! Which peer each wanted transaction is being fetched from, and which others announced it: a
//! transaction is downloaded from one announcer at a time, not once per announcer. The next is
//! asked when the one asked answers `notfound`, goes away, or stays silent for
//! `TX_REQUEST_TIMEOUT_S`.

use super::PeerId;
use crate::hash::Txid;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Seconds a peer has to send a transaction it was asked for before another announcer is asked.
pub const TX_REQUEST_TIMEOUT_S: u64 = 10;
/// Other announcers remembered per transaction, to ask in turn.
pub const TX_ANNOUNCERS_MAX: usize = 8;
/// Transactions tracked at once. Past it, an announced transaction is asked for from its
/// announcer untracked, as if none were in flight: never more memory, at worst a duplicate download.
pub const TX_REQUESTS_MAX: usize = 10_000;

#[derive(Debug)]
struct TxRequest {
    asked: PeerId,
    asked_at: u64,
    /// Announcers not asked yet, the first announcer first.
    others: Vec<PeerId>,
}

/// A transaction to ask `peer` for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxAsk {
    pub txid: Txid,
    pub peer: PeerId,
}

#[derive(Debug, Default)]
pub(crate) struct TxRequests {
    requests: BTreeMap<Txid, TxRequest>,
}

impl TxRequests {
    /// `peer` announced `txid`, which the node wants: whether to ask `peer` for it now. Not
    /// while another peer is being asked: `peer` is remembered to ask next.
    pub(crate) fn announced(&mut self, txid: Txid, peer: PeerId, now: u64) -> bool {
        if let Some(request) = self.requests.get_mut(&txid) {
            if request.asked != peer && !request.others.contains(&peer) && request.others.len() < TX_ANNOUNCERS_MAX {
                request.others.push(peer);
            }
            return false;
        }
        if self.requests.len() < TX_REQUESTS_MAX {
            self.requests.insert(txid, TxRequest { asked: peer, asked_at: now, others: Vec::new() });
        }
        true
    }

    /// `txid` came, from whichever peer: nobody more is asked.
    pub(crate) fn received(&mut self, txid: &Txid) {
        self.requests.remove(txid);
    }

    /// `peer` answered `notfound` for `txid`: the next announcer to ask, if any.
    pub(crate) fn not_found(&mut self, txid: Txid, peer: PeerId, now: u64) -> Option<TxAsk> {
        let request = self.requests.get_mut(&txid)?;
        if request.asked != peer {
            request.others.retain(|&p| p != peer);
            return None;
        }
        self.ask_next(txid, now)
    }

    /// `peer` went away: for each transaction it was being asked for, the next announcer.
    pub(crate) fn peer_gone(&mut self, peer: PeerId, now: u64) -> Vec<TxAsk> {
        let mut orphaned = Vec::new();
        for (&txid, request) in &mut self.requests {
            request.others.retain(|&p| p != peer);
            if request.asked == peer {
                orphaned.push(txid);
            }
        }
        orphaned.into_iter().filter_map(|txid| self.ask_next(txid, now)).collect()
    }

    /// Requests unanswered for `TX_REQUEST_TIMEOUT_S`: the next announcer of each.
    pub(crate) fn expire(&mut self, now: u64) -> Vec<TxAsk> {
        let late: Vec<Txid> = self
            .requests
            .iter()
            .filter(|(_, r)| now >= r.asked_at + TX_REQUEST_TIMEOUT_S)
            .map(|(&txid, _)| txid)
            .collect();
        late.into_iter().filter_map(|txid| self.ask_next(txid, now)).collect()
    }

    /// When the oldest request times out.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.requests.values().map(|r| r.asked_at + TX_REQUEST_TIMEOUT_S).min()
    }

    /// Moves `txid`'s request to its next announcer, or forgets it when none is left.
    fn ask_next(&mut self, txid: Txid, now: u64) -> Option<TxAsk> {
        let request = self.requests.get_mut(&txid)?;
        if request.others.is_empty() {
            self.requests.remove(&txid);
            return None;
        }
        request.asked = request.others.remove(0);
        request.asked_at = now;
        Some(TxAsk { txid, peer: request.asked })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.requests.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txid(n: u8) -> Txid {
        Txid::from_byte_array([n; 32])
    }

    #[test]
    fn one_announcer_is_asked_at_a_time_and_the_next_on_notfound_departure_or_silence() {
        let mut requests = TxRequests::default();
        let t = txid(1);
        assert!(requests.announced(t, 1, 0));
        assert!(!requests.announced(t, 2, 0));
        assert!(!requests.announced(t, 3, 0));
        assert!(!requests.announced(t, 2, 0), "remembered once");
        assert_eq!(requests.not_found(t, 1, 1), Some(TxAsk { txid: t, peer: 2 }));
        assert_eq!(requests.peer_gone(2, 2), [TxAsk { txid: t, peer: 3 }]);
        assert_eq!(requests.expire(2 + TX_REQUEST_TIMEOUT_S - 1), []);
        assert_eq!(requests.next_deadline(), Some(2 + TX_REQUEST_TIMEOUT_S));
        assert_eq!(requests.expire(2 + TX_REQUEST_TIMEOUT_S), [], "nobody left: forgotten");
        assert_eq!(requests.len(), 0);
        assert!(requests.announced(t, 4, 20), "asked afresh");
    }

    #[test]
    fn a_received_transaction_is_asked_for_no_more_and_departed_announcers_are_skipped() {
        let mut requests = TxRequests::default();
        let t = txid(1);
        requests.announced(t, 1, 0);
        requests.announced(t, 2, 0);
        requests.announced(t, 3, 0);
        assert_eq!(requests.peer_gone(2, 0), [], "peer 2 was not being asked");
        assert_eq!(requests.not_found(t, 3, 0), None, "nor peer 3");
        assert_eq!(requests.not_found(t, 1, 0), None, "both left the list");
        assert_eq!(requests.len(), 0);
        requests.announced(t, 1, 0);
        requests.announced(t, 2, 0);
        requests.received(&t);
        assert_eq!(requests.peer_gone(1, 0), []);
        assert_eq!(requests.next_deadline(), None);
    }

    #[test]
    fn announcers_and_requests_are_bounded() {
        let mut requests = TxRequests::default();
        for peer in 0..(TX_ANNOUNCERS_MAX as PeerId + 5) {
            requests.announced(txid(1), peer, 0);
        }
        assert_eq!(requests.requests[&txid(1)].others.len(), TX_ANNOUNCERS_MAX);
        for n in 0..TX_REQUESTS_MAX {
            let mut bytes = [0; 32];
            bytes[..8].copy_from_slice(&(n as u64 + 1).to_le_bytes());
            requests.announced(Txid::from_byte_array(bytes), 1, 0);
        }
        assert_eq!(requests.len(), TX_REQUESTS_MAX);
        assert!(requests.announced(txid(0xff), 1, 0), "past the cap, asked untracked");
        assert!(requests.announced(txid(0xff), 2, 0), "and asked again from the next");
        assert_eq!(requests.len(), TX_REQUESTS_MAX);
    }
}

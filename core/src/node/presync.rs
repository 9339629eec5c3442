//! Headers presync (Bitcoin's PRESYNC and REDOWNLOAD, `headerssync.cpp`): how a node that is
//! still syncing (its chain has less than the network's `minimum_chain_work`) follows a peer's
//! header chain that has not yet shown enough work, without storing it.
//!
//! A run of headers whose branch stays below the work threshold (`store_policy::
//! headers_work_threshold`) starts a presync for its peer, while the node syncs: each header is
//! checked with every rule a stored header meets (proof of work, the ASERT bits, median time past,
//! not too new) against a constant-size summary of the chain so far, and forgotten; only the hash
//! at every `PRESYNC_COMMITMENT_INTERVAL`th height is kept. Once the chain's work reaches the
//! threshold, the node asks the peer for the same headers again from where the presync started
//! and stores each redownloaded header only once it is proven to be the presynced chain: a header
//! hash commits to all its ancestors, so a matching commitment (or the presync's last header)
//! proves every header below it, and a branch whose own work reaches the threshold needs no
//! proof. A redownloaded header that differs from a commitment gets the peer dropped
//! (`PresyncMismatch`). A chain that ends below the threshold is dropped, unstored, and its peer
//! (which may just be behind) is not asked again until it announces a block.

use super::output::{DisconnectReason, Event};
use super::store_policy::{header_work, headers_work_threshold};
use super::sync::HeaderAt;
use super::{Node, PeerId};
use crate::chain::{ParentContext, check_header_context};
use crate::hash::BlockHash;
use crate::header::Header;
use crate::message::HEADERS_MAX;
use crate::params::Params;
use crate::pow::check_proof_of_work_of;
use crate::target::Work;
use crate::validation::BlockError;
use alloc::vec::Vec;

/// Heights between two kept hashes of a presynced chain. At most `HEADERS_MAX`, so every full
/// redownloaded run reaches a commitment and is stored at least up to it (wherever it starts);
/// exactly `HEADERS_MAX`, so a run that starts at a commitment is stored whole.
pub const PRESYNC_COMMITMENT_INTERVAL: u32 = HEADERS_MAX as u32;
/// Headers one presync may check before its peer is dropped (`PresyncTooLong`): 2^24 headers
/// are 5.3 years of 10-second blocks. An honest presync ends where the network's chain reaches
/// `minimum_chain_work`, which a release sets to the work at its release height, so this holds
/// while releases come within five years of the network's start (and a release may raise it);
/// a chain this long that still lacks that work is not the network's. It bounds a peer's
/// presync memory (`PRESYNC_COMMITMENTS_MAX`) and the node's work on one presync (2^24 header
/// checks, each a double SHA-256 and an ASERT step).
pub const PRESYNC_HEADERS_MAX: u32 = 1 << 24;
/// Hashes one presync keeps: one per `PRESYNC_COMMITMENT_INTERVAL` of its at most
/// `PRESYNC_HEADERS_MAX` headers, 8,389 hashes or 268 KiB. With its fixed part (under 256
/// bytes), that is the most a peer's presync holds, and a peer has at most one.
pub const PRESYNC_COMMITMENTS_MAX: usize = PRESYNC_HEADERS_MAX.div_ceil(PRESYNC_COMMITMENT_INTERVAL) as usize;

const _: () = assert!(PRESYNC_COMMITMENT_INTERVAL as usize <= HEADERS_MAX, "a full run reaches a commitment");
const _: () = assert!(PRESYNC_COMMITMENTS_MAX * 32 <= 300 * 1024, "a presync stays within 300 KiB");
const _: () = assert!(core::mem::size_of::<Presync>() <= 256, "a presync's fixed part is a constant summary");

/// One peer's presync: where its chain starts, the summary of its last checked header, the
/// kept hashes, and, once the chain has enough work, how far its redownload has been stored.
#[derive(Debug)]
pub(crate) struct Presync {
    /// The stored header the peer's chain grows from.
    start: HeaderAt,
    /// The last header checked.
    tip: HeaderAt,
    /// The chain work up to and including `tip`.
    tip_work: Work,
    /// What `tip`'s child is checked against.
    tip_context: ParentContext,
    /// The hash at each height in `(start.height, tip.height]` that is a multiple of
    /// `PRESYNC_COMMITMENT_INTERVAL`, lowest first.
    commitments: Vec<BlockHash>,
    /// `None` while checking; once the chain reached the threshold, the last redownloaded header
    /// stored (`start` until the first is).
    redownloaded: Option<HeaderAt>,
}

/// Where a presync run stopped short of its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckedRun {
    /// Every header of the run was checked.
    Whole,
    /// A header is too far past the node's clock: it and the rest wait for a later request.
    TimeTooNew,
}

/// How a redownloaded run compares with the presynced chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RedownloadCheck {
    /// The leading headers proven to be the presynced chain (or of enough work): storable.
    proven: usize,
    outcome: RedownloadOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RedownloadOutcome {
    /// No proof beyond `proven` yet: the next run continues from the last stored header.
    Partial,
    /// The proven headers reach the presync's last header, or a branch with the threshold's
    /// work: the rest of the run, if any, is an ordinary run.
    Complete,
    /// The header at `height` differs from the presynced chain's.
    Mismatch { height: u32 },
    /// A header does not follow the one before it.
    Broken { parent: BlockHash },
}

impl Presync {
    fn new(start: HeaderAt, start_work: Work, start_context: ParentContext) -> Self {
        Self {
            start,
            tip: start,
            tip_work: start_work,
            tip_context: start_context,
            commitments: Vec::new(),
            redownloaded: None,
        }
    }

    /// The header the node asks the peer to continue from: the last one checked, or the last
    /// one stored once redownloading.
    pub(crate) fn asks_from(&self) -> BlockHash {
        self.redownloaded.unwrap_or(self.tip).hash
    }

    /// Whether `headers` answer this presync's last request: they follow `asks_from` (an empty
    /// answer says the peer has nothing beyond it).
    pub(crate) fn continues(&self, headers: &[Header]) -> bool {
        headers.first().is_none_or(|first| first.prev_blockhash == self.asks_from())
    }

    /// Checks a run following `tip` with every rule a stored header meets, advancing `tip` and
    /// keeping the commitments; `headers_max` caps the headers checked in all.
    fn check_run(
        &mut self,
        params: &Params,
        headers: &[Header],
        now: u64,
        headers_max: u32,
    ) -> Result<CheckedRun, DisconnectReason> {
        for header in headers {
            if header.prev_blockhash != self.tip.hash {
                let unlinked = BlockError::UnknownParent { parent: header.prev_blockhash };
                return Err(DisconnectReason::InvalidHeaders(unlinked));
            }
            if self.tip.height - self.start.height >= headers_max {
                return Err(DisconnectReason::PresyncTooLong { height: self.tip.height + 1 });
            }
            let hash = header.block_hash();
            let target = check_proof_of_work_of(header, hash, params.pow_limit)
                .map_err(|error| DisconnectReason::InvalidHeaders(BlockError::Pow(error)))?;
            match check_header_context(params, header, &self.tip_context, now) {
                Ok(()) => {}
                Err(BlockError::TimeTooNew { .. }) => return Ok(CheckedRun::TimeTooNew),
                Err(error) => return Err(DisconnectReason::InvalidHeaders(error)),
            }
            self.tip_context = self.tip_context.child(header);
            self.tip = HeaderAt { hash, height: self.tip.height + 1 };
            self.tip_work = self.tip_work.saturating_add(target.work());
            if self.tip.height.is_multiple_of(PRESYNC_COMMITMENT_INTERVAL) {
                self.commit(hash);
            }
        }
        Ok(CheckedRun::Whole)
    }

    fn commit(&mut self, hash: BlockHash) {
        let n = self.commitments.len();
        assert!(n < PRESYNC_COMMITMENTS_MAX, "the headers cap bounds the commitments");
        if n == self.commitments.capacity() {
            // Doubling, never past the cap: the bound holds for the vector's memory too.
            self.commitments.reserve_exact(n.clamp(1, PRESYNC_COMMITMENTS_MAX - n));
        }
        self.commitments.push(hash);
    }

    /// The kept hash at `height`, if one is kept there.
    fn commitment_at(&self, height: u32) -> Option<BlockHash> {
        if !height.is_multiple_of(PRESYNC_COMMITMENT_INTERVAL) || height <= self.start.height {
            return None;
        }
        let first = (self.start.height / PRESYNC_COMMITMENT_INTERVAL + 1) * PRESYNC_COMMITMENT_INTERVAL;
        self.commitments.get(((height - first) / PRESYNC_COMMITMENT_INTERVAL) as usize).copied()
    }

    /// Compares a redownloaded run, following the last stored header (whose chain work is
    /// `from_work`), with the presynced chain: its headers are proven up to the last one that
    /// matches a commitment, or the presync's last header, or brings the branch to `threshold`.
    fn check_redownload(&self, headers: &[Header], from_work: Work, threshold: Work) -> RedownloadCheck {
        let from = self.redownloaded.expect("redownloading");
        let (mut prev, mut height, mut work) = (from.hash, from.height, from_work);
        let mut proven = 0;
        for (i, header) in headers.iter().enumerate() {
            if header.prev_blockhash != prev {
                return RedownloadCheck {
                    proven,
                    outcome: RedownloadOutcome::Broken { parent: header.prev_blockhash },
                };
            }
            prev = header.block_hash();
            height += 1;
            work = work.saturating_add(header_work(header));
            let expected = if height == self.tip.height { Some(self.tip.hash) } else { self.commitment_at(height) };
            match expected {
                Some(expected) if expected != prev => {
                    return RedownloadCheck { proven, outcome: RedownloadOutcome::Mismatch { height } };
                }
                Some(_) => proven = i + 1,
                None => {}
            }
            if height == self.tip.height || work >= threshold {
                return RedownloadCheck { proven: i + 1, outcome: RedownloadOutcome::Complete };
            }
        }
        RedownloadCheck { proven, outcome: RedownloadOutcome::Partial }
    }
}

impl Node {
    /// A run of headers that links to a stored header but stays below the work threshold, from
    /// `peer` while the node syncs: the start of a presync.
    pub(super) fn start_presync(&mut self, peer: PeerId, headers: Vec<Header>, full: bool, now: u64) {
        let parent = headers.first().expect("a run below the threshold has headers").prev_blockhash;
        let known = self.chain.header(&parent).expect("the run links to a stored header");
        let work = self.chain.chain_work(&parent).expect("known");
        let context = self.chain.parent_context(&parent).expect("known");
        let presync = Presync::new(HeaderAt { hash: parent, height: known.height }, work, context);
        self.continue_presync(peer, presync, headers, full, now);
    }

    /// A run answering `peer`'s presync (checked, or redownloaded and stored once proven).
    pub(super) fn continue_presync(
        &mut self,
        peer: PeerId,
        mut presync: Presync,
        headers: Vec<Header>,
        full: bool,
        now: u64,
    ) {
        if presync.redownloaded.is_some() {
            return self.redownload(peer, presync, headers, full, now);
        }
        let checked = match presync.check_run(self.chain.params(), &headers, now, self.presync_headers_max) {
            Ok(checked) => checked,
            Err(reason) => return self.disconnect(peer, reason),
        };
        self.peer_mut(peer).note_height(presync.tip.height);
        self.event(Event::PresyncProgress { height: presync.tip.height, work: presync.tip_work });
        if presync.tip_work >= headers_work_threshold(&self.chain) {
            // Enough work: the same headers again, from the start, to store.
            presync.redownloaded = Some(presync.start);
            self.peer_mut(peer).presync = Some(presync);
            self.ask_headers(peer, now);
        } else if checked == CheckedRun::TimeTooNew {
            // The periodic sync asks again from the last header checked.
            self.peer_mut(peer).presync = Some(presync);
        } else if full {
            self.peer_mut(peer).presync = Some(presync);
            self.ask_headers(peer, now);
        } else {
            // The peer's chain ends below the threshold: nothing kept, and the peer (which may
            // just be behind) not asked again until it announces a block.
            self.peer_mut(peer).low_work_chain = true;
        }
    }

    /// A redownloaded run: stored up to what is proven, the peer dropped on a mismatch, the
    /// presync left once complete (the rest of the run taken as an ordinary run).
    fn redownload(&mut self, peer: PeerId, mut presync: Presync, headers: Vec<Header>, full: bool, now: u64) {
        let from = presync.redownloaded.expect("redownloading");
        let from_work = self.chain.chain_work(&from.hash).expect("redownloaded headers are stored");
        let check = presync.check_redownload(&headers, from_work, headers_work_threshold(&self.chain));
        // Proven headers skip the run's work check: presync showed their chain's work.
        let stored = match self.store_headers(peer, &headers[..check.proven], now) {
            Ok(stored) => stored,
            Err(error) => return self.disconnect(peer, DisconnectReason::InvalidHeaders(error)),
        };
        presync.redownloaded = stored.last.or(presync.redownloaded);
        match check.outcome {
            RedownloadOutcome::Mismatch { height } => {
                self.disconnect(peer, DisconnectReason::PresyncMismatch { height });
            }
            RedownloadOutcome::Broken { parent } => {
                self.disconnect(peer, DisconnectReason::InvalidHeaders(BlockError::UnknownParent { parent }));
            }
            _ if stored.stop.is_some() => {
                // Paused at the headers' window (asked again as blocks arrive), or too new.
                self.peer_mut(peer).presync = Some(presync);
            }
            RedownloadOutcome::Complete => {
                // Stored up to where no proof is needed: the rest is an ordinary run.
                let rest = headers[check.proven..].to_vec();
                return self.on_new_run(peer, rest, full, now);
            }
            RedownloadOutcome::Partial if full => {
                self.peer_mut(peer).presync = Some(presync);
                self.ask_headers(peer, now);
            }
            RedownloadOutcome::Partial => {
                // The peer no longer has the chain it presynced: what was proven stays stored.
                self.peer_mut(peer).low_work_chain = true;
            }
        }
        self.request_blocks(now);
        self.report_sync();
    }
}

#[cfg(test)]
#[path = "presync_tests.rs"]
mod tests;

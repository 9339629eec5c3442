//! Snapshot sync: a fresh node joins a long chain by downloading the UTXO set at a recent
//! *base* block instead of every block since genesis, and serving that set to others.
//!
//! Requesting (only with `Node::set_snapshot_sync`, only while the active chain is at genesis
//! and the best header is at least `SNAPSHOT_MIN_HEIGHT`): once no headers request is open,
//! the node picks the base (`snapshot_base_height`), asks one peer for the set in chunks
//! (`getsnapshot`/`snapshot`, in outpoint order, one request at a time, each with a timeout),
//! checks each chunk, then fetches the block after the base. The set is adopted only if its
//! hash equals that block's commitment and the block passes every rule on it
//! (`Chain::adopt_snapshot`); otherwise the peer is dropped (`BadSnapshot`) and another one is
//! asked. Until then the node's chain stays at genesis: nothing downloaded is shown.
//!
//! Serving (every node): the set after any of the newest `SNAPSHOT_SERVED_BASES` snapshot
//! heights at least `SNAPSHOT_DEPTH` below the tip, rolled back from the tip through the undo
//! data in memory (`Chain::snapshot_overlay`), cached per base until the tip moves.

use super::output::{DisconnectReason, Event};
use super::sync::BlockRequest;
use super::{Node, PeerId};
use crate::block::Block;
use crate::chain::{ACTIVE_BLOCKS_KEPT, AdoptError, SnapshotOverlay};
use crate::hash::BlockHash;
use crate::limits::{BLOCK_BYTES_MAX, TX_OUTPUTS_MAX};
use crate::message::{InvItem, Message, SNAPSHOT_CHUNK_COINS_MAX};
use crate::transaction::OutPoint;
use crate::utxo::{Coin, UtxoSet};
use crate::validation::check_block;
use crate::wallet::Wallet;
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::fmt;

/// Blocks a snapshot's base lies at least below the best header: 360 blocks, one hour of
/// 10-second blocks. What a snapshot-synced node trusts is that the most-work chain below the
/// base was valid; to make it take an invalid set an attacker must out-mine the honest network
/// for this many blocks (and keep every honest peer from it).
pub const SNAPSHOT_DEPTH: u32 = 360;
/// Snapshot bases are heights that are multiples of this (20 minutes of blocks), so that
/// every peer serves the same few sets and caches them; a node that joins validates between
/// `SNAPSHOT_DEPTH` and `SNAPSHOT_DEPTH + SNAPSHOT_INTERVAL` blocks after the base itself.
pub const SNAPSHOT_INTERVAL: u32 = 120;
/// How many of the newest bases a node serves: a download that started on a base may go on
/// while the tip moves another `(SNAPSHOT_SERVED_BASES - 1) × SNAPSHOT_INTERVAL` blocks (40
/// minutes). Each served base may hold one cached rollback.
pub const SNAPSHOT_SERVED_BASES: u32 = 3;
/// The best header height from which a fresh node syncs by snapshot: below it, its base would
/// be under one interval high and downloading every block costs little more.
pub const SNAPSHOT_MIN_HEIGHT: u32 = SNAPSHOT_DEPTH + SNAPSHOT_INTERVAL;
/// The most coins a snapshot in progress holds, whatever the chain below its base could hold
/// (`base height × BLOCK_OUTPUTS_MAX`, the other bound): 16.8 million coins, about 1.4 GB
/// decoded, far beyond what a tab can keep, so a peer cannot make a node hold more than that.
pub const SNAPSHOT_COINS_MAX: usize = 1 << 24;
/// Outputs one block can create: every transaction's outputs, the block being full of them.
pub const BLOCK_OUTPUTS_MAX: usize = BLOCK_BYTES_MAX / crate::transaction::TXOUT_BYTES;
/// Seconds a requested snapshot chunk may take before the peer counts as stalling.
pub const SNAPSHOT_REQUEST_TIMEOUT_S: u64 = super::sync::BLOCK_REQUEST_TIMEOUT_S;

const _: () = assert!(
    SNAPSHOT_DEPTH + SNAPSHOT_SERVED_BASES * SNAPSHOT_INTERVAL < ACTIVE_BLOCKS_KEPT,
    "a server keeps the undo data of every block above the oldest base it serves"
);
const _: () = assert!(SNAPSHOT_MIN_HEIGHT >= SNAPSHOT_DEPTH + SNAPSHOT_INTERVAL, "a base is above genesis");
const _: () = assert!(BLOCK_OUTPUTS_MAX >= TX_OUTPUTS_MAX, "a block holds at least one largest transaction's outputs");

/// The snapshot height for a best header at `best_height`: the highest multiple of
/// `SNAPSHOT_INTERVAL` at least `SNAPSHOT_DEPTH` below it. Above 0 from `SNAPSHOT_MIN_HEIGHT`.
pub fn snapshot_base_height(best_height: u32) -> u32 {
    best_height.saturating_sub(SNAPSHOT_DEPTH) / SNAPSHOT_INTERVAL * SNAPSHOT_INTERVAL
}

/// Whether a node whose tip is at `tip_height` serves the set after height `base_height`.
pub fn is_served_base(base_height: u32, tip_height: u32) -> bool {
    base_height > 0
        && base_height.is_multiple_of(SNAPSHOT_INTERVAL)
        && base_height + SNAPSHOT_DEPTH <= tip_height
        && tip_height < base_height + SNAPSHOT_DEPTH + SNAPSHOT_SERVED_BASES * SNAPSHOT_INTERVAL
}

/// Why a snapshot chunk is malformed (its sender is dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotChunkError {
    /// The chunk is for another base than the one asked for.
    WrongBase { asked: BlockHash, sent: BlockHash },
    /// A coin does not come strictly after the one before it (or after the cursor asked from).
    Unordered { outpoint: OutPoint },
    /// A coin was created above the base: it cannot be in the set after the base.
    CoinAboveBase { outpoint: OutPoint, height: u32 },
    /// An empty chunk that is not the last: it would stall the download.
    Empty,
    /// The set would hold more coins than the chain below the base could have made, or than
    /// `SNAPSHOT_COINS_MAX`.
    TooManyCoins { max: usize },
}

impl fmt::Display for SnapshotChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongBase { asked, sent } => write!(f, "a chunk for base {sent}, asked for {asked}"),
            Self::Unordered { outpoint } => write!(f, "coin {}:{} is out of order", outpoint.txid, outpoint.vout),
            Self::CoinAboveBase { outpoint, height } => {
                write!(f, "coin {}:{} was created at height {height}, above the base", outpoint.txid, outpoint.vout)
            }
            Self::Empty => f.write_str("an empty chunk that is not the last"),
            Self::TooManyCoins { max } => write!(f, "more than {max} coins"),
        }
    }
}

/// How far a snapshot download has got, for the status view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotProgress {
    pub base: BlockHash,
    pub base_height: u32,
    /// The peer serving it, if one is asked right now.
    pub peer: Option<PeerId>,
    pub coins: usize,
    pub chunks: u32,
    /// Every chunk arrived; the block after the base is awaited to verify the set.
    pub verifying: bool,
}

/// A snapshot being downloaded from one peer.
#[derive(Debug)]
struct Download {
    base: BlockHash,
    base_height: u32,
    /// The block after the base on the best header chain, whose coinbase commits to the set.
    next: BlockHash,
    /// The peer asked, and when it was last asked; `None` between peers.
    peer: Option<PeerId>,
    asked_at: u64,
    /// The coins so far, as the set they will become: each joins its map, checksum and set
    /// hash as its chunk arrives, so adopting builds and hashes nothing again (a whole set at
    /// once would hold a tab's page for seconds, about 7 µs a coin in wasm, and hold the coins
    /// twice in memory that never shrinks).
    coins: UtxoSet,
    /// The last coin received: the next chunk starts after it.
    last: Option<OutPoint>,
    n_chunks: u32,
    complete: bool,
    /// Peers that answered that they cannot serve this base (bounded by the peers connected).
    unavailable: BTreeSet<PeerId>,
}

impl Download {
    /// Forgets what the last peer sent: coins from different peers are never mixed, so a bad
    /// set always has one culprit.
    fn reset(&mut self) {
        self.peer = None;
        self.coins = UtxoSet::default();
        self.last = None;
        self.n_chunks = 0;
        self.complete = false;
    }
}

/// The node's snapshot state: whether it may sync by snapshot, the download, and the served
/// sets.
#[derive(Debug)]
pub(crate) struct Snapshots {
    enabled: bool,
    /// Coins a download may hold: `SNAPSHOT_COINS_MAX`, lower in tests.
    pub(super) coins_max: usize,
    /// No peer could serve a snapshot (or its next block was invalid): sync block by block.
    given_up: bool,
    download: Option<Download>,
    /// The base of a download given up for a newer one (the best header moved): a chunk for it
    /// may still be on its way from an honest peer, and is ignored rather than refused.
    stale_base: Option<BlockHash>,
    /// Rollbacks served, at most one per served base (`SNAPSHOT_SERVED_BASES`).
    pub(super) served: Vec<SnapshotOverlay>,
}

impl Default for Snapshots {
    fn default() -> Self {
        Self {
            enabled: false,
            coins_max: SNAPSHOT_COINS_MAX,
            given_up: false,
            download: None,
            stale_base: None,
            served: Vec::new(),
        }
    }
}

impl Node {
    /// Lets this node, while its chain is at genesis, join by snapshot (the tab does; a relay,
    /// which serves old blocks from its store, syncs every block). Off by default.
    pub fn set_snapshot_sync(&mut self, enabled: bool) {
        self.snapshots.enabled = enabled;
    }

    /// The snapshot download in progress, if any.
    pub fn snapshot_progress(&self) -> Option<SnapshotProgress> {
        let download = self.snapshots.download.as_ref()?;
        Some(SnapshotProgress {
            base: download.base,
            base_height: download.base_height,
            peer: download.peer,
            coins: download.coins.len(),
            chunks: download.n_chunks,
            verifying: download.complete,
        })
    }

    /// Whether the node may still sync by snapshot: enabled, at genesis, not given up.
    pub(super) fn may_snapshot(&self) -> bool {
        self.snapshots.enabled && !self.snapshots.given_up && self.chain.height() == 0
    }

    /// Drives snapshot sync; returns whether it holds the block download back (it does while
    /// the node may sync by snapshot and the best header is high enough).
    pub(super) fn step_snapshot(&mut self, now: u64) -> bool {
        let best = self.chain.best_header().height;
        if !self.may_snapshot() || best < SNAPSHOT_MIN_HEIGHT {
            self.snapshots.download = None;
            return false;
        }
        let headers_coming = |at: Option<u64>| at.is_some_and(|at| now < at + super::sync::HEADERS_REQUEST_TIMEOUT_S);
        if self.peers.values().any(|p| p.ready && headers_coming(p.headers_asked_at)) {
            // Headers are still coming: the base is chosen from the best header once they stop.
            return true;
        }
        self.choose_base();
        let Some(download) = &self.snapshots.download else { return true };
        match download.peer {
            Some(peer) if download.complete && !self.in_flight.contains_key(&download.next) => {
                let next = download.next;
                self.in_flight.insert(next, BlockRequest { peer, asked_at: now });
                self.send(peer, Message::GetData(alloc::vec![InvItem::Block(next)]));
            }
            Some(_) => {}
            None => self.ask_snapshot_peer(now),
        }
        true
    }

    /// Keeps the download's base while it is still on the best header chain and served,
    /// otherwise starts over on the current one.
    fn choose_base(&mut self) {
        let best = self.chain.best_header().height;
        if let Some(download) = &self.snapshots.download {
            let on_best = self.chain.best_header_at(download.base_height) == Some(download.base);
            if on_best && is_served_base(download.base_height, best) {
                return;
            }
        }
        if let Some(stale) = &self.snapshots.download {
            self.snapshots.stale_base = Some(stale.base);
        }
        let base_height = snapshot_base_height(best);
        let (Some(base), Some(next)) =
            (self.chain.best_header_at(base_height), self.chain.best_header_at(base_height + 1))
        else {
            return;
        };
        self.snapshots.download = Some(Download {
            base,
            base_height,
            next,
            peer: None,
            asked_at: 0,
            coins: UtxoSet::default(),
            last: None,
            n_chunks: 0,
            complete: false,
            unavailable: BTreeSet::new(),
        });
    }

    /// Asks the first ready peer that claims a tip high enough to serve the base, and has not
    /// said it cannot, for the first chunk; gives up on snapshots when every ready peer said so.
    fn ask_snapshot_peer(&mut self, now: u64) {
        let download = self.snapshots.download.as_mut().expect("the caller checked");
        let ready: Vec<(PeerId, u32)> =
            self.peers.iter().filter(|(_, p)| p.ready).map(|(&id, p)| (id, p.best_height)).collect();
        let candidate = ready.iter().find(|(id, height)| {
            !download.unavailable.contains(id) && *height >= download.base_height + SNAPSHOT_DEPTH
        });
        match candidate {
            Some(&(peer, _)) => {
                download.peer = Some(peer);
                download.asked_at = now;
                let base = download.base;
                self.send(peer, Message::GetSnapshot { base, after: None });
            }
            None if !ready.is_empty() && ready.iter().all(|(id, _)| download.unavailable.contains(id)) => {
                self.give_up_snapshot();
            }
            None => {}
        }
    }

    /// Syncs block by block from now on.
    fn give_up_snapshot(&mut self) {
        self.snapshots.given_up = true;
        self.snapshots.download = None;
        self.request_blocks(self.clock);
    }

    /// Whether `peer` was asked for a snapshot chunk (so its answer is free of its budget).
    pub(super) fn asked_snapshot_of(&self, peer: PeerId) -> bool {
        self.snapshots.download.as_ref().is_some_and(|d| d.peer == Some(peer) && !d.complete)
    }

    /// The snapshot peer, if its chunk is overdue.
    pub(super) fn stalling_snapshot_peer(&self, now: u64) -> Option<PeerId> {
        let download = self.snapshots.download.as_ref().filter(|d| !d.complete)?;
        download.peer.filter(|_| now >= download.asked_at + SNAPSHOT_REQUEST_TIMEOUT_S)
    }

    /// When the snapshot peer's chunk is due.
    pub(super) fn snapshot_deadline(&self) -> Option<u64> {
        let download = self.snapshots.download.as_ref().filter(|d| !d.complete && d.peer.is_some())?;
        Some(download.asked_at + SNAPSHOT_REQUEST_TIMEOUT_S)
    }

    /// A peer left: what it sent of a snapshot is dropped, and another peer is asked.
    pub(super) fn snapshot_peer_gone(&mut self, peer: PeerId) {
        if let Some(download) = self.snapshots.download.as_mut() {
            download.unavailable.remove(&peer);
            if download.peer == Some(peer) {
                download.reset();
            }
        }
    }

    /// A chunk of a snapshot: checked, kept, and the next one asked for; after the last, the
    /// block after the base. An unasked chunk is ignored (it counted against the rate limit).
    pub(super) fn on_snapshot(
        &mut self,
        peer: PeerId,
        base: BlockHash,
        coins: Vec<(OutPoint, Coin)>,
        last: bool,
        now: u64,
    ) {
        if !self.asked_snapshot_of(peer) || self.snapshots.stale_base == Some(base) {
            return;
        }
        let download = self.snapshots.download.as_mut().expect("asked_snapshot_of");
        if let Err(error) = check_chunk(download, self.snapshots.coins_max, base, &coins, last) {
            download.reset();
            self.disconnect(peer, DisconnectReason::BadSnapshotChunk(error));
            return self.request_blocks(now);
        }
        for (outpoint, coin) in coins {
            download.coins.insert(outpoint, coin);
            download.last = Some(outpoint);
        }
        download.n_chunks += 1;
        download.asked_at = now;
        if last {
            download.complete = true;
        } else {
            let after = download.last;
            let base = download.base;
            self.send(peer, Message::GetSnapshot { base, after });
        }
        self.request_blocks(now);
    }

    /// A peer cannot serve the base asked: another is asked.
    pub(super) fn on_snapshot_unavailable(&mut self, peer: PeerId, base: BlockHash, now: u64) {
        let Some(download) = self.snapshots.download.as_mut() else { return };
        if download.peer == Some(peer) && download.base == base && !download.complete {
            download.reset();
            download.unavailable.insert(peer);
            self.request_blocks(now);
        }
    }

    /// Whether `hash` is the block a complete snapshot waits for.
    pub(super) fn is_snapshot_block(&self, hash: &BlockHash) -> bool {
        self.snapshots.download.as_ref().is_some_and(|d| d.complete && d.next == *hash)
    }

    /// The block after the base: verifies the snapshot against it and adopts it, or drops the
    /// peer that served it.
    pub(super) fn on_snapshot_block(&mut self, peer: PeerId, block: Block, now: u64) {
        self.in_flight.remove(&block.block_hash());
        let mut download = self.snapshots.download.take().expect("is_snapshot_block");
        if let Err(error) = check_block(&block, self.chain.params()) {
            // This copy is not the block its header commits to; the set is unverified.
            download.reset();
            self.snapshots.download = Some(download);
            self.disconnect(peer, DisconnectReason::InvalidBlock(error));
            return self.request_blocks(now);
        }
        let server = download.peer.expect("a complete download has its peer");
        let n_coins = download.coins.len();
        let utxos = core::mem::take(&mut download.coins);
        match self.chain.adopt_snapshot(download.base, utxos, block) {
            Ok(update) => self.after_adoption(&download, &update, n_coins, now),
            Err(AdoptError::CommitmentMismatch { .. }) => {
                let base_height = download.base_height;
                download.reset();
                self.snapshots.download = Some(download);
                self.disconnect(server, DisconnectReason::BadSnapshot { base_height });
                self.request_blocks(now);
            }
            Err(AdoptError::InvalidNext(error)) => {
                // The set matched the commitment, but the block breaks a rule: the header chain
                // is invalid there, which only block-by-block sync can sort out.
                self.disconnect(peer, DisconnectReason::InvalidBlock(error));
                self.give_up_snapshot();
            }
            Err(AdoptError::NotFresh | AdoptError::NotOnHeaderChain) => self.request_blocks(now),
        }
    }

    /// The chain now stands on the snapshot: the wallet is indexed again, the shell told to
    /// store the whole new state, and change sets start from it.
    fn after_adoption(&mut self, download: &Download, update: &crate::chain::ChainUpdate, n_coins: usize, now: u64) {
        // Change sets not yet emitted describe the chain before the snapshot: the shell stores
        // the whole new state instead (`Event::SnapshotAdopted`), and later sets build on it.
        self.unpersisted = super::change_set::Unpersisted::new(self.chain.tip_hash());
        self.event(Event::SnapshotAdopted {
            base: download.base,
            base_height: download.base_height,
            tip: self.chain.tip_hash(),
            height: self.chain.height(),
            coins: n_coins,
        });
        let wallet = self.wallet.take();
        self.follow_update(update, now);
        self.wallet = wallet.map(|w| Wallet::new(w.secret_key().clone(), &self.chain));
        self.download_for = BlockHash::ZERO;
    }

    /// A peer's request for a snapshot chunk: answered from the cached rollback of that base
    /// (made again when the tip moved), or with `nosnapshot`.
    pub(super) fn on_get_snapshot(&mut self, peer: PeerId, base: BlockHash, after: Option<OutPoint>) {
        let tip = self.chain.tip_hash();
        let served = self.chain.header(&base).is_some_and(|known| is_served_base(known.height, self.chain.height()));
        let cached = self.snapshots.served.iter().position(|o| o.base == base && o.tip == tip);
        let index = match (served, cached) {
            (false, _) => None,
            (true, Some(index)) => Some(index),
            (true, None) => match self.chain.snapshot_overlay(&base) {
                Ok(overlay) => {
                    // Drop stale rollbacks and any of this base; keep one per served base.
                    self.snapshots.served.retain(|o| o.tip == tip && o.base != base);
                    if self.snapshots.served.len() >= SNAPSHOT_SERVED_BASES as usize {
                        self.snapshots.served.remove(0);
                    }
                    self.snapshots.served.push(overlay);
                    Some(self.snapshots.served.len() - 1)
                }
                Err(_) => None,
            },
        };
        let message = match index {
            Some(index) => {
                let overlay = &self.snapshots.served[index];
                let (coins, last) = overlay.coins_after(self.chain.utxos(), after.as_ref(), SNAPSHOT_CHUNK_COINS_MAX);
                Message::Snapshot { base, coins, last }
            }
            None => Message::SnapshotUnavailable { base },
        };
        self.send(peer, message);
    }
}

/// Checks a chunk against the download so far: its base, strictly increasing outpoints after
/// the last coin held, coins no younger than the base, not empty unless last, within the bound.
fn check_chunk(
    download: &Download,
    coins_max: usize,
    base: BlockHash,
    coins: &[(OutPoint, Coin)],
    last: bool,
) -> Result<(), SnapshotChunkError> {
    if base != download.base {
        return Err(SnapshotChunkError::WrongBase { asked: download.base, sent: base });
    }
    if coins.is_empty() && !last {
        return Err(SnapshotChunkError::Empty);
    }
    let max = coins_max.min((download.base_height as usize).saturating_mul(BLOCK_OUTPUTS_MAX));
    if download.coins.len() + coins.len() > max {
        return Err(SnapshotChunkError::TooManyCoins { max });
    }
    let mut previous = download.last;
    for (outpoint, coin) in coins {
        if previous.is_some_and(|p| p >= *outpoint) {
            return Err(SnapshotChunkError::Unordered { outpoint: *outpoint });
        }
        if coin.height > download.base_height {
            return Err(SnapshotChunkError::CoinAboveBase { outpoint: *outpoint, height: coin.height });
        }
        previous = Some(*outpoint);
    }
    Ok(())
}

//! `Node`: the full node as a sans-IO state machine. Shells feed it inputs (`handle_*`,
//! `submit_*`) with the current time, and drain what it wants done with `poll_output`: messages
//! to send, peers to disconnect, events for the user interface, change sets to persist. It never
//! touches a socket, a clock or a disk.
//!
//! This file holds the API and the handshake, pings and dispatch; the rest lives beside it:
//! `peer` (per-peer state), `sync` (headers-first sync and block downloads), `presync` (header
//! chains checked without being stored while the node syncs), `store_policy` (what the node
//! agrees to keep), `inventory` (announcements, `getdata`, transactions, addresses), `links`
//! (tabs paired for direct links through a relay), `tx_requests` (which announcer each wanted
//! transaction is fetched from), `change_set` (what shells store),
//! `checkpoint` (what a pruned shell stores instead, and `NodeResume`, the way back) and
//! `output` (what `poll_output` returns).

mod change_set;
mod checkpoint;
mod inventory;
mod links;
mod output;
mod peer;
mod presync;
mod snapshot;
mod store_policy;
mod sync;
mod tx_requests;

pub use change_set::{
    CHANGE_SET_BLOCKS_MAX, CHANGE_SET_OPS_MAX, CHANGE_SET_VERSION, ChainOp, ChangeSet, RestoreError, restore_blocks,
};
pub use checkpoint::{NodeCheckpoint, NodeResume, WALLET_HISTORY_STORED_MAX, WALLET_RECORD_TAG, WALLET_RECORD_VERSION};
pub use inventory::{
    ADDR_TTL_S, ADDRS_FORWARD_BATCH_MAX, ADDRS_FORWARD_PEERS, ADDRS_KNOWN_MAX, ADDRS_PER_PEER_MAX,
    GETDATA_REPLY_BYTES_MAX, REJECTED_TXS_MAX,
};
pub use links::{LinkRole, SIGNAL_WINDOW_S, SIGNALS_PER_RECEIVER_MAX, SIGNALS_PER_WINDOW_MAX};
pub use output::{DisconnectReason, Event, Output};
pub use peer::{
    KNOWN_INV_MAX, MESSAGE_BURST_MAX, MESSAGES_PER_S_MAX, MISBEHAVIOUR_THRESHOLD, POLICY_VIOLATION_SCORE, PeerView,
    RateLimit,
};
pub use presync::{PRESYNC_COMMITMENT_INTERVAL, PRESYNC_COMMITMENTS_MAX, PRESYNC_HEADERS_MAX};
pub use snapshot::{
    BLOCK_OUTPUTS_MAX, SNAPSHOT_COINS_MAX, SNAPSHOT_DEPTH, SNAPSHOT_INTERVAL, SNAPSHOT_MIN_HEIGHT,
    SNAPSHOT_REQUEST_TIMEOUT_S, SNAPSHOT_SERVED_BASES, SnapshotChunkError, SnapshotProgress, is_served_base,
    snapshot_base_height,
};
pub use store_policy::{HEADER_WORK_MARGIN_BLOCKS, HEADERS_AHEAD_MAX, SIDE_BLOCK_DEPTH_MAX, SIDE_HEADERS_MAX};
pub use sync::{
    BLOCK_REQUEST_TIMEOUT_S, BLOCKS_IN_FLIGHT_PER_PEER_MAX, Downloads, HEADERS_REQUEST_TIMEOUT_S, PENDING_BLOCK_TTL_S,
    PENDING_BLOCKS_MAX, PENDING_BLOCKS_PER_PEER_MAX, REQUEST_BATCH_MIN, SYNC_INTERVAL_S,
};
pub use tx_requests::{TX_ANNOUNCERS_MAX, TX_REQUEST_TIMEOUT_S, TX_REQUESTS_MAX};

use crate::block::Block;
use crate::chain::{Chain, ChainUpdate};
use crate::hash::{BlockHash, Txid};
use crate::header::HEADER_BYTES;
use crate::limits::BLOCK_BYTES_MAX;
use crate::mempool::{Mempool, MempoolError};
use crate::message::{HEADERS_MAX, InvItem, Message, PROTOCOL_VERSION, USER_AGENT_BYTES_MAX};
use crate::params::Params;
use crate::quota::QuotaMap;
use crate::signature::{PublicKey, SecretKey};
use crate::template::{child_block, tag_coinbase};
use crate::transaction::Transaction;
use crate::validation::BlockError;
use crate::wallet::Wallet;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use change_set::Unpersisted;
use peer::{KnownSet, Peer, PendingPing};
use sync::BlockRequest;

/// A shell's name for a connection.
pub type PeerId = u64;

/// Seconds a new peer has to send `hello`.
pub const HANDSHAKE_TIMEOUT_S: u64 = 10;
/// Seconds between pings to an otherwise quiet peer.
pub const PING_INTERVAL_S: u64 = 20;
/// Seconds a ping may go unanswered.
pub const PING_TIMEOUT_S: u64 = 40;
/// Branch switches remembered for the block-tree view.
pub const BRANCH_SWITCHES_MAX: usize = 64;
/// Room kept for the coinbase in a template.
const TEMPLATE_COINBASE_BYTES_MAX: usize = crate::transaction::TX_BYTES_MIN + 9;
/// Room for pooled transactions in a template: a block less its header, the transaction
/// count's CompactSize and the coinbase. The fee view projects blocks of this size.
pub const TEMPLATE_TX_BYTES_MAX: usize = BLOCK_BYTES_MAX - HEADER_BYTES - 3 - TEMPLATE_COINBASE_BYTES_MAX;

/// A reorg as the block-tree view marks it: the first block of the branch the node switched
/// to, and how many blocks of the old branch it replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchSwitch {
    pub first_connected: BlockHash,
    pub depth: usize,
}

/// The full node.
#[derive(Debug)]
pub struct Node {
    chain: Chain,
    mempool: Mempool,
    wallet: Option<Wallet>,
    peers: BTreeMap<PeerId, Peer>,
    outputs: VecDeque<Output>,
    /// Blocks requested, from whom, when.
    in_flight: BTreeMap<BlockHash, BlockRequest>,
    /// Downloaded blocks whose parent is not stored yet, by the peer that sent them.
    pending_blocks: QuotaMap<BlockHash, Block>,
    /// Blocks of the best header chain still to fetch, oldest first, as of `download_for`.
    download: VecDeque<BlockHash>,
    download_for: BlockHash,
    rejected_txs: KnownSet,
    /// Wanted transactions: the announcer each is being fetched from, and the others.
    tx_requests: tx_requests::TxRequests,
    /// When the oldest announcement waiting in a peer's `inv_queue` was queued.
    inv_batch_since: Option<u64>,
    /// Relay addresses to share, by the peer that told us (`None`: this node's own).
    addrs: QuotaMap<String, ()>,
    user_agent: String,
    next_nonce: u64,
    last_sync_at: u64,
    unpersisted: Unpersisted,
    rate_limit: RateLimit,
    /// The latest reorgs, oldest first.
    switches: VecDeque<BranchSwitch>,
    /// The latest time any input carried, for inputs that carry none (a closed connection).
    clock: u64,
    /// Headers stopped at `HEADERS_AHEAD_MAX` above the tip; asked for again as blocks arrive.
    headers_paused: bool,
    /// What the node does with link requests and signals (a relay brokers, a tab is an end).
    link_role: LinkRole,
    /// Headers kept above the active tip: `HEADERS_AHEAD_MAX`, lower in tests.
    headers_ahead_max: u32,
    /// Headers one presync may check: `PRESYNC_HEADERS_MAX`, lower in tests.
    presync_headers_max: u32,
    /// Snapshot sync: the download of a fresh node, the sets served to others.
    snapshots: snapshot::Snapshots,
}

impl Node {
    /// A node holding only the genesis block of `params`.
    pub fn new(params: Params, user_agent: &str) -> Self {
        let chain = Chain::new(params);
        let genesis = chain.tip_hash();
        Self {
            chain,
            mempool: Mempool::default(),
            wallet: None,
            peers: BTreeMap::new(),
            outputs: VecDeque::new(),
            in_flight: BTreeMap::new(),
            pending_blocks: QuotaMap::new(PENDING_BLOCKS_MAX, PENDING_BLOCKS_PER_PEER_MAX),
            download: VecDeque::new(),
            download_for: genesis,
            rejected_txs: KnownSet::with_cap(REJECTED_TXS_MAX),
            tx_requests: tx_requests::TxRequests::default(),
            inv_batch_since: None,
            addrs: QuotaMap::new(ADDRS_KNOWN_MAX, ADDRS_PER_PEER_MAX),
            user_agent: user_agent.chars().take(USER_AGENT_BYTES_MAX / 4).collect(),
            next_nonce: 0,
            last_sync_at: 0,
            unpersisted: Unpersisted::new(genesis),
            rate_limit: RateLimit::default(),
            switches: VecDeque::new(),
            clock: 0,
            headers_paused: false,
            link_role: LinkRole::Broker,
            headers_ahead_max: HEADERS_AHEAD_MAX,
            presync_headers_max: PRESYNC_HEADERS_MAX,
            snapshots: snapshot::Snapshots::default(),
        }
    }

    /// Rebuilds a node from stored blocks, parents first. Fails on a block the rules refuse,
    /// which means the store is corrupt.
    pub fn restore(
        params: Params,
        user_agent: &str,
        blocks: impl IntoIterator<Item = Block>,
    ) -> Result<Self, BlockError> {
        let mut node = Self::new(params, user_agent);
        for block in blocks {
            // Stored blocks were valid when stored; their time is not checked against a clock.
            node.chain.accept_block(block, u64::MAX)?;
        }
        node.unpersisted = Unpersisted::new(node.chain.tip_hash());
        Ok(node)
    }

    /// A node around a chain resumed from storage (`ChainResume`), with an empty mempool and
    /// no peers; everything the chain holds counts as stored.
    pub fn resume(user_agent: &str, chain: Chain) -> Self {
        let mut node = Self::new(*chain.params(), user_agent);
        node.download_for = chain.tip_hash();
        node.unpersisted = Unpersisted::new(chain.tip_hash());
        node.chain = chain;
        node
    }

    /// Rebuilds a node from stored change sets, each the encoding of one `Output::Persist`, in
    /// the order they came. Fails, naming the culprit, when the store is corrupt.
    pub fn restore_from_change_sets<'a>(
        params: Params,
        user_agent: &str,
        sets: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, RestoreError> {
        let blocks = restore_blocks(sets)?;
        Self::restore(params, user_agent, blocks).map_err(RestoreError::InvalidBlock)
    }

    /// Sets how many messages a peer may send before it is disconnected for flooding (default:
    /// `MESSAGES_PER_S_MAX` per second, bursts of `MESSAGE_BURST_MAX`). Answers to this node's
    /// own requests never count.
    pub fn set_message_rate_limit(&mut self, limit: RateLimit) {
        self.rate_limit = RateLimit { per_s: limit.per_s.max(1), burst: limit.burst.max(1) };
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    pub fn wallet(&self) -> Option<&Wallet> {
        self.wallet.as_ref()
    }

    /// Attaches a wallet for `key`, indexed from the chain.
    pub fn set_wallet(&mut self, key: SecretKey) {
        self.wallet = Some(Wallet::new(key, &self.chain));
    }

    /// Every connected peer, ready or still greeting.
    pub fn peers(&self) -> impl Iterator<Item = PeerView> + '_ {
        self.peers.iter().map(|(&id, p)| PeerView {
            id,
            ready: p.ready,
            best_height: p.best_height,
            connected_at: p.connected_at,
            rtt_s: p.rtt_s,
        })
    }

    /// Peers that completed the handshake.
    pub fn n_ready_peers(&self) -> usize {
        self.peers.values().filter(|p| p.ready).count()
    }

    pub fn downloads(&self) -> Downloads {
        Downloads { in_flight: self.in_flight.len(), pending: self.pending_blocks.len() }
    }

    pub fn known_addrs(&self) -> impl Iterator<Item = &str> {
        self.addrs.iter().map(|(addr, _)| addr.as_str())
    }

    /// The latest reorgs (at most `BRANCH_SWITCHES_MAX`), oldest first.
    pub fn branch_switches(&self) -> impl DoubleEndedIterator<Item = &BranchSwitch> {
        self.switches.iter()
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_tick` should next be called: the earliest handshake, ping or request
    /// deadline, the next periodic sync, or the next second when announcements wait for their
    /// batch. Never earlier than `now + 1`: time is in seconds.
    pub fn poll_timeout(&self, now: u64) -> u64 {
        if self.peers.values().any(|p| !p.inv_queue.is_empty()) {
            return now + 1;
        }
        let peer_deadlines = self.peers.values().map(|p| match (p.ready, p.ping) {
            (false, _) => p.connected_at + HANDSHAKE_TIMEOUT_S,
            (true, Some(ping)) => ping.sent_at + PING_TIMEOUT_S,
            (true, None) => p.last_ping_at + PING_INTERVAL_S,
        });
        let requests = self.in_flight.values().map(|r| r.asked_at + BLOCK_REQUEST_TIMEOUT_S);
        let sync = core::iter::once(self.last_sync_at + SYNC_INTERVAL_S);
        peer_deadlines
            .chain(requests)
            .chain(self.tx_requests.next_deadline())
            .chain(sync)
            .chain(self.snapshot_deadline())
            .min()
            .unwrap_or(u64::MAX)
            .max(now + 1)
    }

    fn send(&mut self, peer: PeerId, message: Message) {
        self.outputs.push_back(Output::Send { peer, message });
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn disconnect(&mut self, peer: PeerId, reason: DisconnectReason) {
        if self.forget_peer(peer) {
            self.outputs.push_back(Output::Disconnect { peer, reason });
        }
    }

    /// Drops `peer`'s state; its block and snapshot requests and the transactions it was asked
    /// for go to others. Returns whether it was connected.
    fn forget_peer(&mut self, peer: PeerId) -> bool {
        let connected = self.peers.remove(&peer).is_some();
        self.in_flight.retain(|_, r| r.peer != peer);
        self.snapshot_peer_gone(peer);
        self.ask_next_announcers(peer);
        connected
    }

    /// A connected peer's state; callers have checked that it is connected.
    fn peer_mut(&mut self, peer: PeerId) -> &mut Peer {
        self.peers.get_mut(&peer).expect("the caller checked that the peer is connected")
    }

    /// A connection opened (either way): greet the peer.
    pub fn handle_peer_connected(&mut self, peer: PeerId, now: u64) {
        self.advance_clock(now);
        self.peers.insert(peer, Peer::new(now, self.rate_limit));
        let hello = Message::Hello {
            protocol_version: PROTOCOL_VERSION,
            genesis: self.chain.params().genesis_hash(),
            best_height: self.chain.height(),
            user_agent: self.user_agent.clone(),
        };
        self.send(peer, hello);
    }

    /// A connection closed: its requests go to other peers.
    pub fn handle_peer_disconnected(&mut self, peer: PeerId) {
        self.forget_peer(peer);
        // Re-requested blocks get a full timeout from the latest time seen, not from 0 (which
        // would make their new peer look stalled at the next tick).
        self.request_blocks(self.clock);
    }

    fn advance_clock(&mut self, now: u64) {
        self.clock = self.clock.max(now);
    }

    /// A frame from `peer`.
    pub fn handle_message(&mut self, peer: PeerId, bytes: &[u8], now: u64) {
        if !self.peers.contains_key(&peer) {
            return;
        }
        self.advance_clock(now);
        match Message::from_bytes(bytes) {
            // Answers to our own requests do not count against the peer's rate limit: a sync
            // receives thousands of blocks in a row.
            Ok(message) if self.was_requested(peer, &message) || self.take_token(peer, now) => {
                self.dispatch(peer, message, now);
            }
            Ok(_) => {}
            Err(error) => self.disconnect(peer, DisconnectReason::Undecodable(error)),
        }
        self.end_input(now);
    }

    /// After an input: sends announcements that have waited since an earlier second (so a busy
    /// node batches per second without waiting for its tick) and emits change sets.
    fn end_input(&mut self, now: u64) {
        if self.inv_batch_since.is_some_and(|since| since < now) {
            self.flush_announcements();
        }
        self.flush_persist();
    }

    /// Whether `message` answers one of our requests to `peer`: a block or transaction we asked
    /// it for, headers, or `notfound` for something we asked it for. Each request excuses one
    /// answer: handling the answer clears the request.
    fn was_requested(&self, peer: PeerId, message: &Message) -> bool {
        let state = &self.peers[&peer];
        let asked = |item: &InvItem| match item {
            InvItem::Block(hash) => self.in_flight.get(hash).is_some_and(|r| r.peer == peer),
            InvItem::Tx(_) => state.asked_txs.contains(item),
        };
        match message {
            Message::Block(block) => asked(&InvItem::Block(block.block_hash())),
            Message::Tx(tx) => asked(&InvItem::Tx(tx.txid())),
            Message::NotFound(items) => items.iter().any(asked),
            Message::Headers(_) => state.headers_asked_at.is_some(),
            Message::Snapshot { .. } | Message::SnapshotUnavailable { .. } => self.asked_snapshot_of(peer),
            _ => false,
        }
    }

    /// Adds `score` to the peer's misbehaviour; at `MISBEHAVIOUR_THRESHOLD` it is dropped.
    fn misbehaving(&mut self, peer: PeerId, score: u32) {
        let state = self.peer_mut(peer);
        state.misbehaviour = state.misbehaviour.saturating_add(score);
        let score = state.misbehaviour;
        if score >= MISBEHAVIOUR_THRESHOLD {
            self.disconnect(peer, DisconnectReason::Misbehaving { score });
        }
    }

    /// Spends one of the peer's message tokens, or drops it for flooding.
    fn take_token(&mut self, peer: PeerId, now: u64) -> bool {
        let limit = self.rate_limit;
        if self.peer_mut(peer).budget.take(limit, now) {
            return true;
        }
        self.disconnect(peer, DisconnectReason::Flood);
        false
    }

    fn dispatch(&mut self, peer: PeerId, message: Message, now: u64) {
        let ready = self.peers[&peer].ready;
        match message {
            Message::Hello { protocol_version, genesis, best_height, .. } => {
                self.on_hello(peer, protocol_version, genesis, best_height, now)
            }
            _ if !ready => self.disconnect(peer, DisconnectReason::NoHello),
            Message::Ping { nonce } => self.send(peer, Message::Pong { nonce }),
            Message::Pong { nonce } => self.peer_mut(peer).on_pong(nonce, now),
            Message::Inv(items) => self.on_inv(peer, items, now),
            Message::GetData(items) => self.on_get_data(peer, items),
            Message::NotFound(items) => self.on_not_found(peer, &items, now),
            Message::GetHeaders { locator } => {
                let headers = self.chain.headers_after(&locator, HEADERS_MAX);
                self.send(peer, Message::Headers(headers));
            }
            Message::Headers(headers) => self.on_headers(peer, headers, now),
            Message::Block(block) => self.on_block(peer, block, now),
            Message::Tx(tx) => self.on_tx(peer, tx, now),
            Message::GetAddrs => self.on_get_addrs(peer),
            Message::Addrs(addrs) => self.on_addrs(Some(peer), addrs, now),
            Message::GetLinks => self.on_get_links(peer),
            Message::Links { you, peers } => self.on_links(peer, you, peers),
            Message::Signal { peer: other, payload } => self.on_signal(peer, other, payload, now),
            Message::GetSnapshot { base, after } => self.on_get_snapshot(peer, base, after),
            Message::Snapshot { base, coins, last } => self.on_snapshot(peer, base, coins, last, now),
            Message::SnapshotUnavailable { base } => self.on_snapshot_unavailable(peer, base, now),
        }
    }

    fn on_hello(&mut self, peer: PeerId, version: u32, genesis: BlockHash, best_height: u32, now: u64) {
        if self.peers[&peer].ready {
            return self.disconnect(peer, DisconnectReason::DuplicateHello);
        }
        if version != PROTOCOL_VERSION {
            return self.disconnect(peer, DisconnectReason::WrongVersion { theirs: version });
        }
        if genesis != self.chain.params().genesis_hash() {
            return self.disconnect(peer, DisconnectReason::WrongNetwork { genesis });
        }
        let state = self.peer_mut(peer);
        state.ready = true;
        state.best_height = best_height;
        self.event(Event::PeerReady { peer, best_height });
        // Each side asks once for the relays the other knows: how relays find each other.
        self.send(peer, Message::GetAddrs);
        if best_height > self.chain.best_header().height {
            self.ask_headers(peer, now);
        }
    }

    /// Time passes: handshake, ping and request timeouts, periodic sync, the batch of
    /// announcements, and the expiry of orphans, pending blocks and addresses.
    pub fn handle_tick(&mut self, now: u64) {
        self.advance_clock(now);
        let mut drop = Vec::new();
        let mut pings = Vec::new();
        for (&id, peer) in &mut self.peers {
            if !peer.ready && now >= peer.connected_at + HANDSHAKE_TIMEOUT_S {
                drop.push((id, DisconnectReason::NoHello));
            } else if peer.ping.is_some_and(|ping| now >= ping.sent_at + PING_TIMEOUT_S) {
                drop.push((id, DisconnectReason::PingTimeout));
            } else if peer.ready && peer.ping.is_none() && now >= peer.last_ping_at + PING_INTERVAL_S {
                self.next_nonce += 1;
                peer.ping = Some(PendingPing { nonce: self.next_nonce, sent_at: now });
                peer.last_ping_at = now;
                pings.push((id, self.next_nonce));
            }
        }
        drop.extend(self.stalling_peers(now).into_iter().map(|peer| (peer, DisconnectReason::Stalling)));
        drop.extend(self.stalling_snapshot_peer(now).map(|peer| (peer, DisconnectReason::Stalling)));
        for (peer, reason) in drop {
            self.disconnect(peer, reason);
        }
        for (peer, nonce) in pings {
            self.send(peer, Message::Ping { nonce });
        }
        if now >= self.last_sync_at + SYNC_INTERVAL_S {
            self.last_sync_at = now;
            self.sync_with_peers_ahead(now);
        }
        self.mempool.expire_orphans(now);
        for ask in self.tx_requests.expire(now) {
            self.ask_tx(ask);
        }
        self.pending_blocks.expire(now);
        self.addrs.expire(now);
        self.request_blocks(now);
        self.flush_announcements();
        self.flush_persist();
    }

    /// A block mined by this node's miner (or submitted by its user). Returns what changed, or
    /// why it was refused.
    pub fn submit_block(&mut self, block: Block, now: u64) -> Result<ChainUpdate, BlockError> {
        self.advance_clock(now);
        let result = self.accept_and_follow(block, None, false, now);
        self.end_input(now);
        result
    }

    /// A transaction from this node's user (the wallet). Relayed if admitted.
    pub fn submit_transaction(&mut self, tx: Transaction, now: u64) -> Result<Txid, MempoolError> {
        self.advance_clock(now);
        let result = self.accept_tx(tx, None, now);
        self.end_input(now);
        result
    }

    /// Remembers an address to share with peers (for example this node's own public URL),
    /// under no peer's quota and with no expiry.
    pub fn add_addr(&mut self, addr: &str) {
        self.on_addrs(None, alloc::vec![addr.into()], self.clock);
    }

    /// A block for this node's miner: the tip's child, paying subsidy and fees to `owner`.
    pub fn block_template(&self, owner: PublicKey, extra_nonce: u64, now: u64) -> Block {
        let tip = self.chain.tip();
        let (txs, fees) = self.mempool.select_for_block(TEMPLATE_TX_BYTES_MAX);
        let time = now.clamp(u64::from(self.chain.median_time_past(tip)) + 1, u64::from(u32::MAX)) as u32;
        let mut block = child_block(&self.chain, tip, owner, extra_nonce, time, txs, fees)
            .expect("pooled transactions have distinct txids and fees within the money supply");
        // The software's name, without its version: "tabchain-web", "tabchain-node", …
        let software = self.user_agent.split('/').next().unwrap_or_default();
        tag_coinbase(&mut block, software.as_bytes()).expect("a template has a coinbase and an unmutated tree");
        block
    }

    /// Accepts a block into the chain and brings the mempool, wallet, events, persistence and
    /// announcements up to date. A block the node did not ask for (`requested`) must also pass
    /// the side-block policy (`store_policy`).
    fn accept_and_follow(
        &mut self,
        block: Block,
        from: Option<PeerId>,
        requested: bool,
        now: u64,
    ) -> Result<ChainUpdate, BlockError> {
        if !requested {
            store_policy::check_side_block(&self.chain, &block.header)?;
        }
        let hash = block.block_hash();
        let was_stored = self.chain.has_block(&hash);
        let update = self.chain.accept_block(block, now)?;
        if !was_stored && let Some(entry) = self.chain.entry(&hash) {
            self.unpersisted.push_block(entry.block.clone());
        }
        for (bad, reason) in &update.invalid {
            self.event(Event::BlockRejected { hash: *bad, reason: reason.clone(), peer: from });
        }
        if !update.connected.is_empty() || !update.disconnected.is_empty() {
            for &hash in &update.disconnected {
                self.unpersisted.push_op(ChainOp::Disconnect { hash });
            }
            for &hash in &update.connected {
                let undo = self.chain.undo(&hash).expect("connected blocks have undo data").clone();
                self.unpersisted.push_op(ChainOp::Connect { hash, undo });
            }
            self.follow_update(&update, now);
        }
        Ok(update)
    }

    fn follow_update(&mut self, update: &ChainUpdate, now: u64) {
        let disconnected: Vec<Block> = update
            .disconnected
            .iter()
            .map(|h| self.chain.entry(h).expect("disconnected blocks stay stored").block.clone())
            .collect();
        self.mempool.apply_chain_update(&self.chain, update, &disconnected, now);
        // A transaction refused at the old tip may be valid at the new one (a coinbase it spends
        // matured, its lock time passed, a conflicting one went back out), as Bitcoin Core
        // forgets its recent rejects at each new tip.
        self.rejected_txs.clear();
        if let Some(wallet) = self.wallet.as_mut() {
            wallet.apply(&self.chain, update);
        }
        if let Some(&first_connected) = update.connected.first()
            && update.reorg_depth() > 0
        {
            if self.switches.len() == BRANCH_SWITCHES_MAX {
                self.switches.pop_front();
            }
            self.switches.push_back(BranchSwitch { first_connected, depth: update.reorg_depth() });
        }
        let tip = self.chain.tip_hash();
        self.event(Event::TipChanged {
            hash: tip,
            height: self.chain.height(),
            reorg_depth: update.reorg_depth(),
            connected: update.connected.len(),
            first_connected: update.connected.first().copied(),
        });
        self.announce(InvItem::Block(tip));
        // A new tip is announced at once, with whatever else waited for the batch.
        self.flush_announcements();
        self.report_sync();
    }

    /// Emits what changed since the last flush as change sets.
    fn flush_persist(&mut self) {
        for set in self.unpersisted.take_sets(&self.chain) {
            self.outputs.push_back(Output::Persist(set));
        }
    }
}

#[cfg(test)]
mod defence_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
pub(crate) mod tests;

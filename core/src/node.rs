//! `Node`: the full node as a sans-IO state machine. Shells feed it inputs (`handle_*`,
//! `submit_*`) with the current time, and drain what it wants done with `poll_output`: messages
//! to send, peers to disconnect, events for the user interface, change sets to persist. It never
//! touches a socket, a clock or a disk.
//!
//! Sync is headers-first: a peer that is ahead is asked for headers (with a block locator), the
//! headers are checked and remembered, and the blocks of the best header chain are fetched from
//! peers, a bounded number at a time, with a timeout. New blocks and transactions are announced
//! with `inv` to the peers not known to have them. A peer that sends invalid or undecodable data,
//! floods, or stalls is disconnected.

use crate::block::Block;
use crate::chain::{Chain, ChainUpdate};
use crate::encode::{Decode, DecodeError, Encode, Reader, write_list};
use crate::hash::{BlockHash, Txid};
use crate::header::{HEADER_BYTES, Header};
use crate::limits::BLOCK_BYTES_MAX;
use crate::mempool::{Mempool, MempoolError};
use crate::message::{ADDR_BYTES_MAX, ADDRS_MAX, HEADERS_MAX, INV_ITEMS_MAX, InvItem, Message, PROTOCOL_VERSION};
use crate::params::Params;
use crate::signature::PublicKey;
use crate::template::child_block;
use crate::transaction::Transaction;
use crate::utxo::BlockUndo;
use crate::validation::BlockError;
use crate::wallet::Wallet;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A shell's name for a connection.
pub type PeerId = u64;

/// Seconds a new peer has to send `hello`.
pub const HANDSHAKE_TIMEOUT_S: u64 = 10;
/// Seconds between pings to an otherwise quiet peer.
pub const PING_INTERVAL_S: u64 = 20;
/// Seconds a ping may go unanswered.
pub const PING_TIMEOUT_S: u64 = 40;
/// Seconds a requested block may take to arrive before the peer counts as stalling.
pub const BLOCK_REQUEST_TIMEOUT_S: u64 = 30;
/// Seconds before an unanswered `getheaders` may be repeated.
pub const HEADERS_REQUEST_TIMEOUT_S: u64 = 30;
/// Seconds between checks for peers ahead of us.
pub const SYNC_INTERVAL_S: u64 = 5;
/// Blocks requested from one peer at a time.
pub const BLOCKS_IN_FLIGHT_PER_PEER_MAX: usize = 32;
/// Fewest blocks asked for in one `getdata` while more are missing.
pub const REQUEST_BATCH_MIN: usize = 8;
/// Downloaded blocks held while their parent is still on its way.
pub const PENDING_BLOCKS_MAX: usize = 64;
/// Items remembered per peer as known to it, so nothing is announced twice.
pub const KNOWN_INV_MAX: usize = 4096;
/// Messages a peer may send in a burst, and per second sustained.
pub const MESSAGE_BURST_MAX: u64 = 2000;
pub const MESSAGES_PER_S_MAX: u64 = 200;
/// Peer addresses remembered.
pub const ADDRS_KNOWN_MAX: usize = 1000;
/// Transactions remembered as rejected, so they are not fetched again.
pub const REJECTED_TXS_MAX: usize = 1000;
/// Blocks in one change set; more are split over several sets.
pub const CHANGE_SET_BLOCKS_MAX: usize = PENDING_BLOCKS_MAX + 1;
/// Chain steps in one change set; more are split over several sets.
pub const CHANGE_SET_OPS_MAX: usize = 1024;
/// Version of the change-set format.
pub const CHANGE_SET_VERSION: u8 = 1;

/// Why the node drops a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    Undecodable(DecodeError),
    WrongVersion {
        theirs: u32,
    },
    WrongNetwork {
        genesis: BlockHash,
    },
    /// Any message before `hello`, or none within the handshake timeout.
    NoHello,
    DuplicateHello,
    InvalidBlock(BlockError),
    InvalidHeaders(BlockError),
    InvalidTx(MempoolError),
    /// More messages than the rate limit.
    Flood,
    /// Requested blocks did not arrive in time.
    Stalling,
    /// A ping went unanswered.
    PingTimeout,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undecodable(e) => write!(f, "undecodable message: {e}"),
            Self::WrongVersion { theirs } => write!(f, "protocol version {theirs}, expected {PROTOCOL_VERSION}"),
            Self::WrongNetwork { genesis } => write!(f, "peer is on another network (genesis {genesis})"),
            Self::NoHello => f.write_str("no hello"),
            Self::DuplicateHello => f.write_str("second hello"),
            Self::InvalidBlock(e) => write!(f, "invalid block: {e}"),
            Self::InvalidHeaders(e) => write!(f, "invalid headers: {e}"),
            Self::InvalidTx(e) => write!(f, "invalid transaction: {e}"),
            Self::Flood => f.write_str("message flood"),
            Self::Stalling => f.write_str("requested blocks did not arrive"),
            Self::PingTimeout => f.write_str("ping timeout"),
        }
    }
}

/// What the user interface may want to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    PeerReady {
        peer: PeerId,
        best_height: u32,
    },
    /// The active chain changed; `reorg_depth` blocks of the old one were replaced.
    TipChanged {
        hash: BlockHash,
        height: u32,
        reorg_depth: usize,
        connected: usize,
        /// The first block this change connected: after a reorg, where the node switched
        /// branches (its parent is the last block both chains share).
        first_connected: Option<BlockHash>,
    },
    BlockRejected {
        hash: BlockHash,
        reason: BlockError,
        peer: Option<PeerId>,
    },
    TxAccepted {
        txid: Txid,
    },
    TxRejected {
        txid: Txid,
        reason: MempoolError,
    },
    /// Blocks held versus the best header known.
    SyncProgress {
        height: u32,
        best_header_height: u32,
    },
}

/// What a shell must store, to be written atomically: new blocks (parents first), then the
/// changes to the active chain with their undo data (so a shell may keep a UTXO set on disk),
/// and the tip after them. Replaying the stored blocks alone rebuilds the node
/// (`Node::restore`); the wallet's only state is its key, which the shell keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    pub blocks: Vec<Block>,
    pub ops: Vec<ChainOp>,
    pub tip: BlockHash,
    pub height: u32,
}

/// One step of the active chain, in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOp {
    /// The block joined the active chain; `undo` lists the coins it spent.
    Connect { hash: BlockHash, undo: BlockUndo },
    /// The block (the tip at that moment) left the active chain.
    Disconnect { hash: BlockHash },
}

/// Something the node wants its shell to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send { peer: PeerId, message: Message },
    Disconnect { peer: PeerId, reason: DisconnectReason },
    Event(Event),
    Persist(ChangeSet),
}

/// A bounded set of items, oldest forgotten first.
#[derive(Debug)]
struct KnownSet {
    items: BTreeSet<InvItem>,
    order: VecDeque<InvItem>,
    cap: usize,
}

impl KnownSet {
    fn with_cap(cap: usize) -> Self {
        Self { items: BTreeSet::new(), order: VecDeque::new(), cap }
    }

    fn insert(&mut self, item: InvItem) -> bool {
        if !self.items.insert(item) {
            return false;
        }
        self.order.push_back(item);
        if self.order.len() > self.cap {
            let oldest = self.order.pop_front().expect("over the cap, so not empty");
            self.items.remove(&oldest);
        }
        true
    }
}

#[derive(Debug)]
struct Peer {
    ready: bool,
    connected_at: u64,
    best_height: u32,
    known: KnownSet,
    ping: Option<(u64, u64)>,
    last_ping_at: u64,
    tokens: u64,
    tokens_at: u64,
    headers_asked_at: Option<u64>,
    /// Items the peer answered `notfound` for.
    lacks: KnownSet,
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
    in_flight: BTreeMap<BlockHash, (PeerId, u64)>,
    /// Downloaded blocks whose parent is not stored yet.
    pending_blocks: BTreeMap<BlockHash, Block>,
    /// Blocks of the best header chain still to fetch, oldest first, as of `download_for`.
    download: VecDeque<BlockHash>,
    download_for: BlockHash,
    rejected_txs: KnownSet,
    addrs: BTreeSet<String>,
    user_agent: String,
    next_nonce: u64,
    last_sync_at: u64,
    unpersisted: Vec<Block>,
    unpersisted_ops: Vec<ChainOp>,
    /// Messages per second and burst a peer may send (answers to requests excepted).
    rate_limit: (u64, u64),
    persisted_tip: BlockHash,
}

impl Node {
    /// A node holding only the genesis block of `params`.
    pub fn new(params: Params, user_agent: &str) -> Self {
        let chain = Chain::new(params);
        let persisted_tip = chain.tip_hash();
        Self {
            chain,
            mempool: Mempool::default(),
            wallet: None,
            peers: BTreeMap::new(),
            outputs: VecDeque::new(),
            in_flight: BTreeMap::new(),
            pending_blocks: BTreeMap::new(),
            download: VecDeque::new(),
            download_for: persisted_tip,
            rejected_txs: KnownSet::with_cap(REJECTED_TXS_MAX),
            addrs: BTreeSet::new(),
            user_agent: user_agent.chars().take(crate::message::USER_AGENT_BYTES_MAX / 4).collect(),
            next_nonce: 0,
            last_sync_at: 0,
            unpersisted: Vec::new(),
            unpersisted_ops: Vec::new(),
            rate_limit: (MESSAGES_PER_S_MAX, MESSAGE_BURST_MAX),
            persisted_tip,
        }
    }

    /// Rebuilds a node from stored change sets: every block, parents first. Fails on a block
    /// the rules refuse, which means the store is corrupt.
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
        node.persisted_tip = node.chain.tip_hash();
        Ok(node)
    }

    /// Sets how many messages per second, and in a burst, a peer may send before it is
    /// disconnected for flooding (defaults: `MESSAGES_PER_S_MAX`, `MESSAGE_BURST_MAX`). Answers
    /// to this node's own requests never count.
    pub fn set_message_rate_limit(&mut self, per_s: u64, burst: u64) {
        self.rate_limit = (per_s.max(1), burst.max(1));
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
    pub fn set_wallet(&mut self, key: crate::signature::SecretKey) {
        self.wallet = Some(Wallet::new(key, &self.chain));
    }

    pub fn peer_ids(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.peers.keys().copied()
    }

    /// Best height each ready peer claims.
    pub fn peer_heights(&self) -> impl Iterator<Item = (PeerId, u32)> + '_ {
        self.peers.iter().filter(|(_, p)| p.ready).map(|(id, p)| (*id, p.best_height))
    }

    /// Blocks requested and not yet arrived, and blocks arrived before their parent.
    pub fn blocks_downloading(&self) -> (usize, usize) {
        (self.in_flight.len(), self.pending_blocks.len())
    }

    pub fn known_addrs(&self) -> impl Iterator<Item = &str> {
        self.addrs.iter().map(String::as_str)
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_tick` should next be called: the earliest handshake, ping or request
    /// deadline, or the next periodic sync. Never earlier than `now + 1`: time is in seconds.
    pub fn poll_timeout(&self, now: u64) -> u64 {
        let peer_deadlines = self.peers.values().map(|p| match (p.ready, p.ping) {
            (false, _) => p.connected_at + HANDSHAKE_TIMEOUT_S,
            (true, Some((_, sent))) => sent + PING_TIMEOUT_S,
            (true, None) => p.last_ping_at + PING_INTERVAL_S,
        });
        let requests = self.in_flight.values().map(|(_, at)| at + BLOCK_REQUEST_TIMEOUT_S);
        let sync = core::iter::once(self.last_sync_at + SYNC_INTERVAL_S);
        peer_deadlines.chain(requests).chain(sync).min().unwrap_or(u64::MAX).max(now + 1)
    }

    fn send(&mut self, peer: PeerId, message: Message) {
        self.outputs.push_back(Output::Send { peer, message });
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn disconnect(&mut self, peer: PeerId, reason: DisconnectReason) {
        if self.peers.remove(&peer).is_some() {
            self.in_flight.retain(|_, (p, _)| *p != peer);
            self.outputs.push_back(Output::Disconnect { peer, reason });
        }
    }

    /// A connection opened (either way): greet the peer.
    pub fn handle_peer_connected(&mut self, peer: PeerId, now: u64) {
        let state = Peer {
            ready: false,
            connected_at: now,
            best_height: 0,
            known: KnownSet::with_cap(KNOWN_INV_MAX),
            ping: None,
            last_ping_at: now,
            tokens: self.rate_limit.1,
            tokens_at: now,
            headers_asked_at: None,
            lacks: KnownSet::with_cap(KNOWN_INV_MAX),
        };
        self.peers.insert(peer, state);
        let hello = Message::Hello {
            protocol_version: PROTOCOL_VERSION,
            genesis: self.chain.params().genesis_hash(),
            best_height: self.chain.height(),
            user_agent: self.user_agent.clone(),
        };
        self.send(peer, hello);
    }

    /// A connection closed.
    pub fn handle_peer_disconnected(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
        self.in_flight.retain(|_, (p, _)| *p != peer);
        self.request_blocks(0);
    }

    /// A frame from `peer`.
    pub fn handle_message(&mut self, peer: PeerId, bytes: &[u8], now: u64) {
        if !self.peers.contains_key(&peer) {
            return;
        }
        match Message::from_bytes(bytes) {
            // Answers to our own requests do not count against the peer's rate limit: a sync
            // receives thousands of blocks in a row.
            Ok(message) if self.was_requested(peer, &message) || self.take_token(peer, now) => {
                self.dispatch(peer, message, now);
            }
            Ok(_) => {}
            Err(error) => self.disconnect(peer, DisconnectReason::Undecodable(error)),
        }
        self.flush_persist();
    }

    fn was_requested(&self, peer: PeerId, message: &Message) -> bool {
        match message {
            Message::Block(block) => self.in_flight.get(&block.block_hash()).is_some_and(|(p, _)| *p == peer),
            Message::Headers(_) => self.peers[&peer].headers_asked_at.is_some(),
            _ => false,
        }
    }

    fn take_token(&mut self, peer: PeerId, now: u64) -> bool {
        let state = self.peers.get_mut(&peer).expect("checked by the caller");
        let (per_s, burst) = self.rate_limit;
        let refill = now.saturating_sub(state.tokens_at).saturating_mul(per_s);
        state.tokens = state.tokens.saturating_add(refill).min(burst);
        state.tokens_at = now;
        if state.tokens == 0 {
            self.disconnect(peer, DisconnectReason::Flood);
            return false;
        }
        state.tokens -= 1;
        true
    }

    fn dispatch(&mut self, peer: PeerId, message: Message, now: u64) {
        let ready = self.peers[&peer].ready;
        match message {
            Message::Hello { protocol_version, genesis, best_height, .. } => {
                self.on_hello(peer, protocol_version, genesis, best_height, now)
            }
            _ if !ready => self.disconnect(peer, DisconnectReason::NoHello),
            Message::Ping { nonce } => self.send(peer, Message::Pong { nonce }),
            Message::Pong { nonce } => self.on_pong(peer, nonce),
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
            Message::GetAddrs => {
                let addrs = self.addrs.iter().take(ADDRS_MAX).cloned().collect();
                self.send(peer, Message::Addrs(addrs));
            }
            Message::Addrs(addrs) => self.on_addrs(addrs),
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
        let state = self.peers.get_mut(&peer).expect("checked by the caller");
        state.ready = true;
        state.best_height = best_height;
        self.event(Event::PeerReady { peer, best_height });
        if best_height > self.chain.best_header().1 {
            self.ask_headers(peer, now);
        }
    }

    fn on_pong(&mut self, peer: PeerId, nonce: u64) {
        let state = self.peers.get_mut(&peer).expect("checked by the caller");
        if state.ping.is_some_and(|(sent, _)| sent == nonce) {
            state.ping = None;
        }
    }

    /// Raises what `peer` is known to have to at least `height`.
    fn note_height(&mut self, peer: PeerId, height: u32) {
        if let Some(state) = self.peers.get_mut(&peer) {
            state.best_height = state.best_height.max(height);
        }
    }

    fn ask_headers(&mut self, peer: PeerId, now: u64) {
        let mut locator = self.chain.locator();
        let (best, _) = self.chain.best_header();
        if best != self.chain.tip_hash() {
            // Continue from headers already fetched, not only from the blocks held.
            locator.insert(0, best);
            locator.truncate(crate::message::LOCATOR_HASHES_MAX);
        }
        if let Some(state) = self.peers.get_mut(&peer) {
            state.headers_asked_at = Some(now);
        }
        self.send(peer, Message::GetHeaders { locator });
    }

    fn on_inv(&mut self, peer: PeerId, items: Vec<InvItem>, now: u64) {
        let mut wanted = Vec::new();
        let mut unknown_block = false;
        for item in items {
            self.peers.get_mut(&peer).expect("checked by the caller").known.insert(item);
            match item {
                InvItem::Block(hash) => match self.chain.header(&hash) {
                    Some((_, height)) => self.note_height(peer, height),
                    None => unknown_block = true,
                },
                InvItem::Tx(txid) => {
                    if !self.mempool.contains(&txid) && !self.rejected_txs.items.contains(&InvItem::Tx(txid)) {
                        wanted.push(item);
                    }
                }
            }
        }
        let asked = self.peers[&peer].headers_asked_at;
        if unknown_block && asked.is_none_or(|at| now >= at + HEADERS_REQUEST_TIMEOUT_S) {
            self.ask_headers(peer, now);
        }
        if !wanted.is_empty() {
            self.send(peer, Message::GetData(wanted));
        }
    }

    fn on_get_data(&mut self, peer: PeerId, items: Vec<InvItem>) {
        let mut not_found = Vec::new();
        for item in items {
            let message = match item {
                InvItem::Block(hash) => {
                    self.chain.entry(&hash).filter(|e| !e.is_invalid()).map(|e| Message::Block(e.block.clone()))
                }
                InvItem::Tx(txid) => self.mempool.get(&txid).map(|e| Message::Tx(e.tx.clone())),
            };
            match message {
                Some(message) => {
                    self.peers.get_mut(&peer).expect("checked by the caller").known.insert(item);
                    self.send(peer, message);
                }
                None => not_found.push(item),
            }
        }
        if !not_found.is_empty() {
            self.send(peer, Message::NotFound(not_found));
        }
    }

    fn on_not_found(&mut self, peer: PeerId, items: &[InvItem], now: u64) {
        for item in items {
            self.peers.get_mut(&peer).expect("checked by the caller").lacks.insert(*item);
            if let InvItem::Block(hash) = item
                && self.in_flight.get(hash).is_some_and(|(p, _)| *p == peer)
            {
                self.in_flight.remove(hash);
            }
        }
        self.request_blocks(now);
    }

    fn on_headers(&mut self, peer: PeerId, headers: Vec<Header>, now: u64) {
        let n = headers.len();
        let mut last_height = None;
        for header in headers {
            self.peers.get_mut(&peer).expect("checked by the caller").known.insert(InvItem::Block(header.block_hash()));
            match self.chain.accept_header(header, now) {
                Ok(_) => last_height = self.chain.header(&header.block_hash()).map(|(_, h)| h),
                Err(BlockError::TimeTooNew { .. }) => break,
                Err(error) => return self.disconnect(peer, DisconnectReason::InvalidHeaders(error)),
            }
        }
        self.peers.get_mut(&peer).expect("checked by the caller").headers_asked_at = None;
        if let Some(height) = last_height {
            self.note_height(peer, height);
        }
        if n == HEADERS_MAX {
            self.ask_headers(peer, now);
        }
        self.request_blocks(now);
        self.report_sync();
    }

    /// Asks ready peers that have them for the next missing blocks of the best header chain.
    fn request_blocks(&mut self, now: u64) {
        let (best, _) = self.chain.best_header();
        if best != self.download_for {
            // Walk the header chain once per new best header, not once per block received.
            self.download = self.chain.missing_blocks(usize::MAX).into();
            self.download_for = best;
        }
        while self.download.front().is_some_and(|h| self.chain.entry(h).is_some()) {
            self.download.pop_front();
        }
        let capacity = self.peers.len() * BLOCKS_IN_FLIGHT_PER_PEER_MAX;
        let window = capacity + self.in_flight.len() + self.pending_blocks.len();
        let candidates: Vec<BlockHash> = self.download.iter().take(window).copied().collect();
        let few_left = candidates.len() < REQUEST_BATCH_MIN;
        let mut requests: BTreeMap<PeerId, Vec<InvItem>> = BTreeMap::new();
        for hash in candidates {
            if self.in_flight.contains_key(&hash)
                || self.pending_blocks.contains_key(&hash)
                || self.chain.entry(&hash).is_some()
            {
                continue;
            }
            let height = self.chain.header(&hash).map_or(0, |(_, h)| h);
            let item = InvItem::Block(hash);
            let load = |id: &PeerId| self.in_flight.values().filter(|(p, _)| p == id).count();
            // Prefer peers known to have the block; else any peer that claims the height and has
            // not said it lacks the block.
            let peer = self
                .peers
                .iter()
                .filter(|(id, p)| p.ready && !p.lacks.items.contains(&item) && load(id) < BLOCKS_IN_FLIGHT_PER_PEER_MAX)
                // Ask in batches: a peer with only a few free slots waits until more free up.
                .filter(|(id, _)| {
                    few_left
                        || requests.contains_key(id)
                        || BLOCKS_IN_FLIGHT_PER_PEER_MAX - load(id) >= REQUEST_BATCH_MIN
                })
                .filter(|(_, p)| p.known.items.contains(&item) || p.best_height >= height)
                .min_by_key(|(id, p)| (!p.known.items.contains(&item), load(id)))
                .map(|(id, _)| *id);
            let Some(peer) = peer else { continue };
            self.in_flight.insert(hash, (peer, now));
            requests.entry(peer).or_default().push(InvItem::Block(hash));
        }
        for (peer, items) in requests {
            self.send(peer, Message::GetData(items));
        }
    }

    fn on_block(&mut self, peer: PeerId, block: Block, now: u64) {
        let hash = block.block_hash();
        self.in_flight.remove(&hash);
        self.peers.get_mut(&peer).expect("checked by the caller").known.insert(InvItem::Block(hash));
        self.process_block(block, Some(peer), now);
        self.request_blocks(now);
    }

    /// A block mined by this node's miner. Returns what changed, or why it was refused.
    pub fn submit_block(&mut self, block: Block, now: u64) -> Result<ChainUpdate, BlockError> {
        let result = self.accept_and_follow(block, None, now);
        self.flush_persist();
        result
    }

    fn process_block(&mut self, block: Block, peer: Option<PeerId>, now: u64) {
        let mut queue = alloc::vec![(block, peer)];
        while let Some((block, from)) = queue.pop() {
            let hash = block.block_hash();
            match self.accept_and_follow(block.clone(), from, now) {
                Ok(_) => {
                    let children: Vec<BlockHash> = self
                        .pending_blocks
                        .iter()
                        .filter(|(_, b)| b.header.prev_blockhash == hash)
                        .map(|(h, _)| *h)
                        .collect();
                    queue
                        .extend(children.into_iter().filter_map(|h| self.pending_blocks.remove(&h)).map(|b| (b, None)));
                }
                Err(BlockError::UnknownParent { .. }) if self.chain.header(&hash).is_some() => {
                    if self.pending_blocks.len() < PENDING_BLOCKS_MAX {
                        self.pending_blocks.insert(hash, block);
                    }
                }
                Err(BlockError::UnknownParent { .. }) => {
                    if let Some(peer) = from {
                        self.ask_headers(peer, now);
                    }
                }
                Err(BlockError::TimeTooNew { .. }) => {}
                Err(reason) => {
                    self.event(Event::BlockRejected { hash, reason: reason.clone(), peer: from });
                    if let Some(peer) = from {
                        self.disconnect(peer, DisconnectReason::InvalidBlock(reason));
                    }
                }
            }
        }
    }

    /// Accepts a block into the chain and brings the mempool, wallet, events, persistence and
    /// announcements up to date.
    fn accept_and_follow(&mut self, block: Block, from: Option<PeerId>, now: u64) -> Result<ChainUpdate, BlockError> {
        let hash = block.block_hash();
        let was_stored = self.chain.entry(&hash).is_some();
        let update = self.chain.accept_block(block, now)?;
        if !was_stored && let Some(entry) = self.chain.entry(&hash) {
            self.unpersisted.push(entry.block.clone());
        }
        for (bad, reason) in &update.invalid {
            self.event(Event::BlockRejected { hash: *bad, reason: reason.clone(), peer: from });
        }
        if !update.connected.is_empty() || !update.disconnected.is_empty() {
            for &hash in &update.disconnected {
                self.unpersisted_ops.push(ChainOp::Disconnect { hash });
            }
            for &hash in &update.connected {
                let undo = self.chain.undo(&hash).expect("connected blocks have undo data").clone();
                self.unpersisted_ops.push(ChainOp::Connect { hash, undo });
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
        if let Some(wallet) = self.wallet.as_mut() {
            wallet.apply(&self.chain, update);
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
        self.report_sync();
    }

    fn report_sync(&mut self) {
        let event = Event::SyncProgress { height: self.chain.height(), best_header_height: self.chain.best_header().1 };
        self.event(event);
    }

    /// Sends `inv` for `item` to every ready peer not known to have it.
    fn announce(&mut self, item: InvItem) {
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

    fn on_tx(&mut self, peer: PeerId, tx: Transaction, now: u64) {
        self.peers.get_mut(&peer).expect("checked by the caller").known.insert(InvItem::Tx(tx.txid()));
        if let Err(reason) = self.accept_tx(tx, now)
            && matches!(reason, MempoolError::Invalid(_) | MempoolError::Coinbase | MempoolError::TooLarge { .. })
        {
            self.disconnect(peer, DisconnectReason::InvalidTx(reason));
        }
    }

    /// A transaction from this node's user (the wallet). Relayed if admitted.
    pub fn submit_transaction(&mut self, tx: Transaction, now: u64) -> Result<Txid, MempoolError> {
        let txid = tx.txid();
        self.accept_tx(tx, now).map(|()| txid)
    }

    fn accept_tx(&mut self, tx: Transaction, now: u64) -> Result<(), MempoolError> {
        let txid = tx.txid();
        match self.mempool.accept(tx, &self.chain, now) {
            Ok(admitted) => {
                for id in admitted {
                    self.event(Event::TxAccepted { txid: id });
                    self.announce(InvItem::Tx(id));
                }
                Ok(())
            }
            Err(MempoolError::AlreadyKnown) => Ok(()),
            Err(reason) => {
                if !matches!(reason, MempoolError::MissingInputs { .. }) {
                    self.rejected_txs.insert(InvItem::Tx(txid));
                }
                self.event(Event::TxRejected { txid, reason: reason.clone() });
                Err(reason)
            }
        }
    }

    fn on_addrs(&mut self, addrs: Vec<String>) {
        for addr in addrs {
            let plausible = (addr.starts_with("ws://") || addr.starts_with("wss://")) && addr.len() <= ADDR_BYTES_MAX;
            if plausible && self.addrs.len() < ADDRS_KNOWN_MAX {
                self.addrs.insert(addr);
            }
        }
    }

    /// Remembers an address to share with peers (for example this node's own public URL).
    pub fn add_addr(&mut self, addr: &str) {
        self.on_addrs(alloc::vec![addr.into()]);
    }

    /// Time passes: handshake, ping and request timeouts, periodic sync, orphan expiry.
    pub fn handle_tick(&mut self, now: u64) {
        let mut drop = Vec::new();
        let mut pings = Vec::new();
        for (&id, peer) in &mut self.peers {
            if !peer.ready && now >= peer.connected_at + HANDSHAKE_TIMEOUT_S {
                drop.push((id, DisconnectReason::NoHello));
            } else if peer.ping.is_some_and(|(_, sent)| now >= sent + PING_TIMEOUT_S) {
                drop.push((id, DisconnectReason::PingTimeout));
            } else if peer.ready && peer.ping.is_none() && now >= peer.last_ping_at + PING_INTERVAL_S {
                self.next_nonce += 1;
                peer.ping = Some((self.next_nonce, now));
                peer.last_ping_at = now;
                pings.push((id, self.next_nonce));
            }
        }
        for (peer, at) in self.in_flight.values() {
            if now >= at + BLOCK_REQUEST_TIMEOUT_S {
                drop.push((*peer, DisconnectReason::Stalling));
            }
        }
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
        self.request_blocks(now);
        self.flush_persist();
    }

    fn sync_with_peers_ahead(&mut self, now: u64) {
        let best = self.chain.best_header().1;
        let ahead: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.ready && p.best_height > best)
            .filter(|(_, p)| p.headers_asked_at.is_none_or(|at| now >= at + HEADERS_REQUEST_TIMEOUT_S))
            .map(|(id, _)| *id)
            .collect();
        for peer in ahead {
            self.ask_headers(peer, now);
        }
    }

    /// A block for this node's miner: the tip's child, paying subsidy and fees to `owner`.
    pub fn block_template(&self, owner: PublicKey, extra_nonce: u64, now: u64) -> Block {
        let tip = self.chain.tip();
        let room = BLOCK_BYTES_MAX - HEADER_BYTES - 3 - TEMPLATE_COINBASE_BYTES_MAX;
        let (txs, fees) = self.mempool.select_for_block(room);
        let time = now.clamp(u64::from(self.chain.median_time_past(tip)) + 1, u64::from(u32::MAX)) as u32;
        child_block(&self.chain, tip, owner, extra_nonce, time, txs, fees)
            .expect("pooled transactions have distinct txids and fees within the money supply")
    }

    /// Emits what changed since the last flush: usually one change set; when large, the blocks
    /// first and then the chain steps, each set naming the tip as of its own last step.
    fn flush_persist(&mut self) {
        if self.unpersisted.is_empty() && self.unpersisted_ops.is_empty() {
            return;
        }
        let blocks = core::mem::take(&mut self.unpersisted);
        let ops = core::mem::take(&mut self.unpersisted_ops);
        if blocks.len() <= CHANGE_SET_BLOCKS_MAX && ops.len() <= CHANGE_SET_OPS_MAX {
            let (tip, height) = (self.chain.tip_hash(), self.chain.height());
            self.outputs.push_back(Output::Persist(ChangeSet { blocks, ops, tip, height }));
        } else {
            let (mut tip, mut height) = self
                .chain
                .header(&self.persisted_tip)
                .map(|(_, h)| (self.persisted_tip, h))
                .expect("persisted tip is known");
            for chunk in blocks.chunks(CHANGE_SET_BLOCKS_MAX) {
                self.outputs.push_back(Output::Persist(ChangeSet {
                    blocks: chunk.to_vec(),
                    ops: Vec::new(),
                    tip,
                    height,
                }));
            }
            for chunk in ops.chunks(CHANGE_SET_OPS_MAX) {
                (tip, height) = match chunk.last().expect("chunks are non-empty") {
                    ChainOp::Connect { hash, .. } => (*hash, self.chain.header(hash).expect("connected").1),
                    ChainOp::Disconnect { hash } => {
                        let (header, h) = self.chain.header(hash).expect("disconnected blocks stay known");
                        (header.prev_blockhash, h - 1)
                    }
                };
                self.outputs.push_back(Output::Persist(ChangeSet {
                    blocks: Vec::new(),
                    ops: chunk.to_vec(),
                    tip,
                    height,
                }));
            }
        }
        self.persisted_tip = self.chain.tip_hash();
    }
}

/// Room kept for the coinbase in a template.
const TEMPLATE_COINBASE_BYTES_MAX: usize = crate::transaction::TX_BYTES_MIN + 9;

impl Encode for ChangeSet {
    fn encode_to(&self, out: &mut Vec<u8>) {
        CHANGE_SET_VERSION.encode_to(out);
        write_list(out, &self.blocks);
        write_list(out, &self.ops);
        self.tip.encode_to(out);
        self.height.encode_to(out);
    }
}

impl Decode for ChangeSet {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.u8()? != CHANGE_SET_VERSION {
            return Err(DecodeError::Invalid { what: "change set version" });
        }
        let blocks = r.list("change set blocks", CHANGE_SET_BLOCKS_MAX, HEADER_BYTES + 1)?;
        let ops = r.list("change set chain steps", CHANGE_SET_OPS_MAX, 33)?;
        Ok(Self { blocks, ops, tip: BlockHash::decode_from(r)?, height: r.u32()? })
    }
}

impl Encode for ChainOp {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Connect { hash, undo } => {
                out.push(0);
                hash.encode_to(out);
                undo.encode_to(out);
            }
            Self::Disconnect { hash } => {
                out.push(1);
                hash.encode_to(out);
            }
        }
    }
}

impl Decode for ChainOp {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Connect { hash: BlockHash::decode_from(r)?, undo: BlockUndo::decode_from(r)? }),
            1 => Ok(Self::Disconnect { hash: BlockHash::decode_from(r)? }),
            _ => Err(DecodeError::Invalid { what: "chain step kind" }),
        }
    }
}

const _: () = assert!(INV_ITEMS_MAX >= BLOCKS_IN_FLIGHT_PER_PEER_MAX, "one getdata can ask a peer's whole share");

//! `Driver`: the native shell around `core`'s sans-IO `Node`. It owns the node behind a mutex,
//! the peer registry (`peers`) and the store; every input goes through `with_node`, which then
//! carries out the node's outputs: frames to queues, disconnects, persistence, events to the log
//! and to miners. A store that fails stops the driver, and the error is handed to whoever runs
//! it (`failure`), never turned into an exit here.
//!
//! Lock order is always node, then peers; neither is held across an `.await`.

use crate::admission::Admission;
use crate::backlog::{Backlog, Persisted, Retried};
use crate::discovery::Discovery;
use crate::limits::{Limits, SEND_QUEUE_FRAMES_MAX};
use crate::metrics::Metrics;
use crate::peers::{Enqueued, PeerInfo, PeerLink, PeerRegistry, Removal, close_code};
use crate::store::{LoadError, Store};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use tabchain_core::{
    Block, BlockHash, DisconnectReason, Event, InvItem, Message, Node, Output, Params, PeerId, RateLimit,
};
use tokio::sync::watch;

/// The native node.
#[derive(Debug)]
pub struct Driver {
    node: Mutex<Node>,
    peers: Mutex<PeerRegistry>,
    /// On disk with a data directory, else in memory: either way the API reads the chain from it.
    store: Store,
    /// The network, for views built outside the node's lock.
    params: Params,
    /// WebSocket peers, under `connections_per_ip_max` and `connections_max`.
    pub admission: Arc<Admission>,
    /// Plain HTTP connections, under `http_connections_per_ip_max` and `http_connections_max`.
    pub http_admission: Arc<Admission>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// The active tip's height, bumped on every change, for miners to restart their work.
    tip_tx: watch::Sender<u32>,
    /// Set once, when the node shuts down; background tasks end on it.
    shutdown_tx: watch::Sender<bool>,
    /// Why the driver stopped on its own (the store failed), if it did.
    failure: OnceLock<String>,
    /// Change sets waiting for room on a full disk.
    backlog: Mutex<Backlog>,
    /// Which gossiped relays are dialled, and which not to dial again (bans on misbehaviour).
    pub discovery: Discovery,
}

/// The longest the driver waits between ticks, in seconds.
const TICK_INTERVAL_MAX_S: u64 = 1;

/// The node's clock: Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Driver {
    /// A node for `params`, restored from `data_dir` when given (created if absent); without
    /// one, the node stores its chain in memory.
    pub fn open(
        params: Params,
        data_dir: Option<&Path>,
        limits: Limits,
        user_agent: &str,
    ) -> anyhow::Result<Arc<Self>> {
        match data_dir {
            None => Self::new(Node::new(params, user_agent), Store::in_memory(&params)?, params, limits),
            Some(dir) => Self::with_store(params, Store::open(dir, &params)?, dir, limits, user_agent),
        }
    }

    /// A node for `params` resumed from `store`, the store of the data directory `dir`.
    pub fn with_store(
        params: Params,
        store: Store,
        dir: &Path,
        limits: Limits,
        user_agent: &str,
    ) -> anyhow::Result<Arc<Self>> {
        let node = resume(&store, dir, params, user_agent)?;
        Self::new(node, store, params, limits)
    }

    fn new(mut node: Node, store: Store, params: Params, limits: Limits) -> anyhow::Result<Arc<Self>> {
        node.set_message_rate_limit(RateLimit {
            per_s: u64::from(limits.messages_per_s_max),
            burst: u64::from(limits.message_burst_max),
        });
        let height = node.chain().height();
        Ok(Arc::new(Self {
            node: Mutex::new(node),
            peers: Mutex::new(PeerRegistry::new(
                SEND_QUEUE_FRAMES_MAX,
                limits.send_queue_bytes_max,
                limits.queued_bytes_total_max,
            )),
            store,
            params,
            admission: Admission::new(limits.connections_per_ip_max, limits.connections_max),
            http_admission: Admission::new(limits.http_connections_per_ip_max, limits.http_connections_max),
            metrics: Arc::default(),
            limits,
            tip_tx: watch::channel(height).0,
            shutdown_tx: watch::channel(false).0,
            failure: OnceLock::new(),
            backlog: Mutex::new(Backlog::default()),
            discovery: Discovery::default(),
        }))
    }

    fn lock_node(&self) -> MutexGuard<'_, Node> {
        self.node.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_peers(&self) -> MutexGuard<'_, PeerRegistry> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the node, then carries out everything it asked for.
    pub fn with_node<R>(&self, f: impl FnOnce(&mut Node) -> R) -> R {
        let mut node = self.lock_node();
        let result = f(&mut node);
        self.dispatch(&mut node);
        result
    }

    /// Reads the node without giving it input.
    pub fn read<R>(&self, f: impl FnOnce(&Node) -> R) -> R {
        f(&self.lock_node())
    }

    /// The store, which the API reads without the node's lock (`chain_index`).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Watches the tip height (changes on every new tip).
    pub fn tip_watch(&self) -> watch::Receiver<u32> {
        self.tip_tx.subscribe()
    }

    fn dispatch(&self, node: &mut Node) {
        while let Some(output) = node.poll_output() {
            match output {
                Output::Send { peer, message } => self.queue(node, peer, message.to_bytes()),
                Output::Disconnect { peer, reason } => {
                    tracing::info!(peer, %reason, "disconnecting peer");
                    let counter = match reason {
                        DisconnectReason::Flood => &self.metrics.disconnects_rate,
                        _ => &self.metrics.disconnects_misbehaving,
                    };
                    Metrics::inc(counter);
                    if reason.is_misbehaviour() {
                        let url = self.lock_peers().outbound_addr(peer).map(str::to_owned);
                        if let Some(url) = url {
                            tracing::info!(%url, "not dialling this relay again for a day");
                            self.discovery.book(|book| book.ban(&url, std::time::Instant::now()));
                        }
                    }
                    let removal = Removal::Close { code: close_code::POLICY, reason: reason.to_string() };
                    self.remove_locked(node, peer, &removal);
                }
                Output::SendStoredBlock { peer, hash } => {
                    let message = match self.stored_block(&hash) {
                        Some(block) => Message::Block(block),
                        None => Message::NotFound(vec![InvItem::Block(hash)]),
                    };
                    self.queue(node, peer, message.to_bytes());
                }
                Output::Event(event) => self.on_event(&event),
                Output::Persist(set) => self.persist(&set),
            }
        }
    }

    /// Commits a change set, or holds it while the disk is full (`Backlog`). After any other
    /// failure nothing more is written: earlier sets are committed, so nothing acknowledged is
    /// lost, but memory and disk would diverge. The driver stops and the relay restarts from disk.
    fn persist(&self, set: &tabchain_core::ChangeSet) {
        if self.failure.get().is_some() {
            return;
        }
        let persisted = blocking(|| self.lock_backlog().persist(&self.store, set));
        match persisted {
            Persisted::Written | Persisted::Held { first: false } => {}
            Persisted::Held { first: true } => {
                Metrics::inc(&self.metrics.store_out_of_space);
                tracing::error!(
                    "the disk is full: new blocks and transactions are refused, and the chain waits in memory (up to {} MiB) until space returns",
                    crate::backlog::BACKLOG_BYTES_MAX >> 20
                );
            }
            Persisted::Failed(reason) => self.fail(format!("cannot store the chain: {reason}")),
        }
    }

    /// Writes what waited for a full disk, once it has room.
    fn retry_backlog(&self) {
        if self.failure.get().is_some() || !self.disk_full() {
            return;
        }
        let retried = blocking(|| self.lock_backlog().retry(&self.store));
        match retried {
            Retried::Cleared { written } => {
                tracing::info!(written, "the disk has room again: wrote the change sets held in memory");
            }
            Retried::Idle | Retried::StillFull { .. } => {}
            Retried::Failed(reason) => self.fail(format!("cannot store the chain: {reason}")),
        }
    }

    fn fail(&self, reason: String) {
        tracing::error!("{reason}; stopping");
        let _ = self.failure.set(reason);
        self.shutdown_tx.send_replace(true);
    }

    fn lock_backlog(&self) -> MutexGuard<'_, Backlog> {
        self.backlog.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the disk was full at the last write: submissions are then refused.
    pub fn disk_full(&self) -> bool {
        self.lock_backlog().is_holding()
    }

    /// Change sets waiting for room on the disk.
    pub fn backlog_len(&self) -> usize {
        self.lock_backlog().len()
    }

    /// A block evicted from the node's memory, read back from the store.
    fn stored_block(&self, hash: &BlockHash) -> Option<Block> {
        match blocking(|| self.store.block(hash)) {
            Ok(block) => block,
            Err(error) => {
                tracing::error!(%hash, "cannot read a stored block: {error:#}");
                None
            }
        }
    }

    fn on_event(&self, event: &Event) {
        match event {
            Event::TipChanged { hash, height, reorg_depth, .. } => {
                if *reorg_depth > 0 {
                    tracing::info!(%hash, height, reorg_depth, "reorg");
                } else {
                    tracing::debug!(%hash, height, "new tip");
                }
                self.tip_tx.send_replace(*height);
            }
            // Anyone can send an invalid block (its sender is dropped, a submitter answered 400):
            // information, not a warning for the operator.
            Event::BlockRejected { hash, reason, peer } => tracing::info!(%hash, %reason, ?peer, "block rejected"),
            Event::TxRejected { txid, reason } => tracing::debug!(%txid, %reason, "transaction rejected"),
            _ => {}
        }
    }

    /// Queues a frame for `peer`; a peer whose queue is full is not reading and is dropped.
    fn queue(&self, node: &mut Node, peer: PeerId, bytes: Vec<u8>) {
        let len = bytes.len() as u64;
        let enqueued = self.lock_peers().enqueue(peer, bytes);
        match enqueued {
            Enqueued::Queued => {
                Metrics::inc(&self.metrics.messages_out);
                Metrics::add(&self.metrics.bytes_out, len);
            }
            Enqueued::QueuedDropping(fullest) => {
                Metrics::inc(&self.metrics.messages_out);
                Metrics::add(&self.metrics.bytes_out, len);
                tracing::info!(peer = fullest, "dropping the fullest peer to make room in the send queues");
                Metrics::inc(&self.metrics.disconnects_slow);
                Metrics::inc(&self.metrics.disconnects_memory);
                node.handle_peer_disconnected(fullest);
            }
            Enqueued::Full | Enqueued::OverTotal => {
                tracing::info!(peer, ?enqueued, "dropping a peer that does not read");
                Metrics::inc(&self.metrics.disconnects_slow);
                if enqueued == Enqueued::OverTotal {
                    Metrics::inc(&self.metrics.disconnects_memory);
                }
                self.remove_locked(node, peer, &Removal::NotReading);
            }
            Enqueued::Gone => {}
        }
    }

    /// The one way a peer leaves: out of the registry, its connection ended, and the node told
    /// (a no-op when the node itself dropped the peer).
    fn remove_locked(&self, node: &mut Node, peer: PeerId, removal: &Removal) {
        if self.lock_peers().remove(peer, removal) {
            node.handle_peer_disconnected(peer);
        }
    }

    /// Removes a peer from the shell's side (oversize, unsupported frames, shutdown, or its
    /// connection ended) and carries out what the node then wants.
    pub fn remove_peer(&self, peer: PeerId, removal: &Removal) {
        let mut node = self.lock_node();
        self.remove_locked(&mut node, peer, removal);
        self.dispatch(&mut node);
    }

    /// Registers a new connection and greets the peer. After shutdown the link comes back
    /// already ended.
    pub fn register_peer(&self, addr: String, inbound: bool) -> PeerLink {
        let mut node = self.lock_node();
        let link = self.lock_peers().register(addr, inbound);
        if self.is_shut_down() {
            self.remove_locked(
                &mut node,
                link.id,
                &Removal::Close { code: close_code::NORMAL, reason: "shutting down".into() },
            );
            return link;
        }
        node.handle_peer_connected(link.id, now());
        self.dispatch(&mut node);
        link
    }

    pub fn peers(&self) -> Vec<PeerInfo> {
        let node = self.lock_node();
        let heights: BTreeMap<PeerId, u32> = node.peers().filter(|p| p.ready).map(|p| (p.id, p.best_height)).collect();
        self.lock_peers().info(&heights)
    }

    pub fn n_peers(&self) -> usize {
        self.lock_peers().len()
    }

    /// Bytes queued for all peers, under `Limits::queued_bytes_total_max`.
    pub fn queued_bytes_total(&self) -> usize {
        self.lock_peers().queued_total()
    }

    /// Ticks the node whenever it asks to be, until shutdown.
    pub async fn run_ticker(self: Arc<Self>) {
        loop {
            let due = self.read(|node| node.poll_timeout(now()));
            // At least a tick a second: the node sends its announcements in batches on ticks.
            let wait = due.saturating_sub(now()).clamp(1, TICK_INTERVAL_MAX_S);
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(wait)) => {}
                () = self.stopped() => return,
            }
            self.with_node(|node| node.handle_tick(now()));
            self.retry_backlog();
        }
    }

    /// Stops the node: closes every connection and ends the background tasks, after which the
    /// last reference can be dropped (closing the store).
    pub fn shutdown(&self) {
        self.shutdown_tx.send_replace(true);
        let ids = self.lock_peers().ids();
        let removal = Removal::Close { code: close_code::NORMAL, reason: "shutting down".into() };
        for id in ids {
            self.remove_peer(id, &removal);
        }
    }

    pub fn is_shut_down(&self) -> bool {
        *self.shutdown_tx.borrow()
    }

    /// Completes once the driver stopped: `shutdown` was called, or the store failed.
    pub async fn stopped(&self) {
        let mut rx = self.shutdown_tx.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    /// Why the driver stopped on its own, if it did: the relay then exits with this error.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }
}

/// Resumes the node from the store without validating its blocks again. A store whose pieces
/// do not fit is refused with one sentence saying so and how to repair it.
fn resume(store: &Store, dir: &Path, params: Params, user_agent: &str) -> anyhow::Result<Node> {
    let started = std::time::Instant::now();
    let resumed = store.load(params).map_err(|error| match error {
        LoadError::Damaged(reason) => damaged_store(dir, &reason),
        LoadError::Io(error) => error.context(format!("cannot read the chain store in {}", dir.display())),
    })?;
    let chain = resumed.finish().map_err(|e| damaged_store(dir, &e))?;
    let node = Node::resume(user_agent, chain);
    let chain = node.chain();
    tracing::info!(
        height = chain.height(),
        coins = chain.utxos().len(),
        ms = started.elapsed().as_millis() as u64,
        "resumed the chain from {}",
        dir.display()
    );
    Ok(node)
}

/// The one sentence a damaged store stops the relay with: what is wrong, and the repair.
fn damaged_store(dir: &Path, reason: &dyn std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "the chain store in {dir} is damaged ({reason}); run `tabchain reindex --data {dir}` to rebuild it from its stored blocks",
        dir = dir.display()
    )
}

/// Runs a blocking call (a database commit waits for the disk) without stalling the other tasks
/// of a multi-threaded runtime: they move to another worker meanwhile.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread { tokio::task::block_in_place(f) } else { f() }
}

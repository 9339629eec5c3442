//! `Driver`: the native shell around `core`'s sans-IO `Node`. It owns the node behind a mutex,
//! the registry of connected peers with their bounded send queues, and the store; every input
//! goes through `with_node`, which then carries out the node's outputs: frames to queues,
//! disconnects, persistence, events to the log and to miners.
//!
//! Lock order is always node, then peers; neither is held across an `.await`.

use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::store::Store;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tabchain_core::{Event, Node, Output, Params, PeerId};
use tokio::sync::{Notify, mpsc, watch};

/// What a connection task writes to its socket.
#[derive(Debug)]
pub enum Outbound {
    Frame(Vec<u8>),
    Close { code: u16, reason: String },
}

/// WebSocket close codes the relay uses.
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const POLICY: u16 = 1008;
    pub const UNSUPPORTED: u16 = 1003;
    pub const TOO_BIG: u16 = 1009;
}

/// A connected peer as the driver sees it.
#[derive(Debug)]
struct PeerHandle {
    addr: String,
    inbound: bool,
    tx: mpsc::Sender<Outbound>,
    queued_bytes: Arc<AtomicUsize>,
    kill: Arc<Notify>,
}

/// What a connection task needs from `register_peer`.
#[derive(Debug)]
pub struct PeerLink {
    pub id: PeerId,
    pub rx: mpsc::Receiver<Outbound>,
    pub queued_bytes: Arc<AtomicUsize>,
    pub kill: Arc<Notify>,
}

/// A peer as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerInfo {
    pub id: PeerId,
    pub addr: String,
    pub inbound: bool,
    pub best_height: Option<u32>,
}

/// The native node.
#[derive(Debug)]
pub struct Driver {
    node: Mutex<Node>,
    peers: Mutex<BTreeMap<PeerId, PeerHandle>>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    store: Option<Store>,
    next_peer: AtomicU64,
    pub metrics: Metrics,
    pub limits: Limits,
    /// The active tip's height, bumped on every change, for miners to restart their work.
    tip_tx: watch::Sender<u32>,
    /// Set once, when the node shuts down; background tasks end on it.
    shutdown_tx: watch::Sender<bool>,
}

/// The node's clock: Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Driver {
    /// A node for `params`, restored from `data_dir` when given (created if absent).
    pub fn open(
        params: Params,
        data_dir: Option<&Path>,
        limits: Limits,
        user_agent: &str,
    ) -> anyhow::Result<Arc<Self>> {
        let (node, store) = match data_dir {
            None => (Node::new(params, user_agent), None),
            Some(dir) => {
                let store = Store::open(dir, &params)?;
                let loaded = store.load()?;
                let n_blocks = loaded.blocks.len();
                let node = Node::restore(params, user_agent, loaded.blocks).map_err(|e| {
                    anyhow::anyhow!("the stored chain is invalid ({e}); remove {} to start over", dir.display())
                })?;
                if loaded.tip.is_some_and(|tip| tip != node.chain().tip_hash()) {
                    tracing::warn!("stored tip differs from the replayed one; using the replayed chain");
                }
                let stored: BTreeMap<_, _> = store.utxos()?.into_iter().collect();
                let replayed: BTreeMap<_, _> = node.chain().utxos().iter().map(|(o, c)| (*o, *c)).collect();
                if stored != replayed {
                    tracing::warn!("stored UTXO table differs from the replayed chain; rewriting it");
                    store.rewrite_utxos(node.chain().utxos())?;
                }
                tracing::info!(
                    blocks = n_blocks,
                    height = node.chain().height(),
                    "restored the chain from {}",
                    dir.display()
                );
                (node, Some(store))
            }
        };
        let mut node = node;
        node.set_message_rate_limit(u64::from(limits.messages_per_s_max), u64::from(limits.message_burst_max));
        let height = node.chain().height();
        Ok(Arc::new(Self {
            node: Mutex::new(node),
            peers: Mutex::new(BTreeMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            store,
            next_peer: AtomicU64::new(1),
            metrics: Metrics::default(),
            limits,
            tip_tx: watch::channel(height).0,
            shutdown_tx: watch::channel(false).0,
        }))
    }

    fn lock_node(&self) -> MutexGuard<'_, Node> {
        self.node.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_peers(&self) -> MutexGuard<'_, BTreeMap<PeerId, PeerHandle>> {
        self.peers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
                        tabchain_core::DisconnectReason::Flood => &self.metrics.disconnects_rate,
                        _ => &self.metrics.disconnects_misbehaving,
                    };
                    Metrics::inc(counter);
                    self.close(peer, close_code::POLICY, &reason.to_string());
                }
                Output::Event(event) => self.on_event(&event),
                Output::Persist(set) => {
                    if let Some(store) = &self.store
                        && let Err(error) = blocking(|| store.apply(&set))
                    {
                        // Nothing acknowledged is lost (earlier sets are committed), but going on
                        // would let memory and disk diverge: stop, and resume from disk on restart.
                        tracing::error!("cannot persist the chain: {error:#}; stopping");
                        std::process::exit(2);
                    }
                }
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
            Event::BlockRejected { hash, reason, peer } => tracing::warn!(%hash, %reason, ?peer, "block rejected"),
            Event::TxRejected { txid, reason } => tracing::debug!(%txid, %reason, "transaction rejected"),
            _ => {}
        }
    }

    /// Queues a frame for `peer`; a peer whose queue is full is not reading and is dropped.
    fn queue(&self, node: &mut Node, peer: PeerId, bytes: Vec<u8>) {
        let len = bytes.len();
        let mut peers = self.lock_peers();
        let Some(handle) = peers.get(&peer) else { return };
        let fits = handle.queued_bytes.load(Ordering::Relaxed) + len <= self.limits.send_queue_bytes_max;
        if fits && handle.tx.try_send(Outbound::Frame(bytes)).is_ok() {
            handle.queued_bytes.fetch_add(len, Ordering::Relaxed);
            Metrics::inc(&self.metrics.messages_out);
            Metrics::add(&self.metrics.bytes_out, len as u64);
            return;
        }
        tracing::info!(peer, "dropping a peer that does not read");
        Metrics::inc(&self.metrics.disconnects_slow);
        let handle = peers.remove(&peer).expect("present above");
        handle.kill.notify_one();
        drop(peers);
        node.handle_peer_disconnected(peer);
    }

    /// Sends a close frame (if there is room) and ends the peer's connection.
    fn close(&self, peer: PeerId, code: u16, reason: &str) {
        if let Some(handle) = self.lock_peers().remove(&peer) {
            let _ = handle.tx.try_send(Outbound::Close { code, reason: reason.chars().take(100).collect() });
            handle.kill.notify_one();
        }
    }

    /// Ends a connection from the shell's side (oversize, rate, protocol) and tells the node.
    pub fn close_peer(&self, peer: PeerId, code: u16, reason: &str) {
        let mut node = self.lock_node();
        let known = self.lock_peers().contains_key(&peer);
        self.close(peer, code, reason);
        if known {
            node.handle_peer_disconnected(peer);
            self.dispatch(&mut node);
        }
    }

    /// Admits a connection from `ip` under the caps, or says why not.
    pub fn admit(&self, ip: IpAddr) -> Result<(), &'static str> {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let total: usize = per_ip.values().sum();
        if total >= self.limits.connections_max {
            return Err("too many connections");
        }
        let count = per_ip.entry(ip).or_default();
        if *count >= self.limits.connections_per_ip_max {
            return Err("too many connections from this address");
        }
        *count += 1;
        Ok(())
    }

    /// Releases what `admit` took.
    pub fn release(&self, ip: IpAddr) {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = per_ip.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&ip);
            }
        }
    }

    /// Registers a new connection and greets the peer.
    pub fn register_peer(&self, addr: String, inbound: bool) -> PeerLink {
        let id = self.next_peer.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(crate::limits::SEND_QUEUE_FRAMES_MAX);
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let kill = Arc::new(Notify::new());
        let handle = PeerHandle { addr, inbound, tx, queued_bytes: queued_bytes.clone(), kill: kill.clone() };
        let mut node = self.lock_node();
        if self.is_shut_down() {
            kill.notify_one();
            return PeerLink { id, rx, queued_bytes, kill };
        }
        self.lock_peers().insert(id, handle);
        node.handle_peer_connected(id, now());
        self.dispatch(&mut node);
        PeerLink { id, rx, queued_bytes, kill }
    }

    /// A connection ended; tells the node unless it already dropped the peer.
    pub fn unregister_peer(&self, id: PeerId) {
        let mut node = self.lock_node();
        if self.lock_peers().remove(&id).is_some() {
            node.handle_peer_disconnected(id);
            self.dispatch(&mut node);
        }
    }

    pub fn peers(&self) -> Vec<PeerInfo> {
        let node = self.lock_node();
        let heights: BTreeMap<PeerId, u32> = node.peer_heights().collect();
        self.lock_peers()
            .iter()
            .map(|(id, p)| PeerInfo {
                id: *id,
                addr: p.addr.clone(),
                inbound: p.inbound,
                best_height: heights.get(id).copied(),
            })
            .collect()
    }

    pub fn n_peers(&self) -> usize {
        self.lock_peers().len()
    }

    /// Ticks the node whenever it asks to be, until shutdown.
    pub async fn run_ticker(self: Arc<Self>) {
        loop {
            let due = self.read(|node| node.poll_timeout(now()));
            let wait = due.saturating_sub(now()).clamp(1, 5);
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(wait)) => {}
                () = self.shut_down() => return,
            }
            self.with_node(|node| node.handle_tick(now()));
        }
    }

    /// Stops the node: closes every connection and ends the background tasks, after which the
    /// last reference can be dropped (closing the store).
    pub fn shutdown(&self) {
        self.shutdown_tx.send_replace(true);
        let ids: Vec<PeerId> = self.lock_peers().keys().copied().collect();
        for id in ids {
            self.close_peer(id, close_code::NORMAL, "shutting down");
        }
    }

    pub fn is_shut_down(&self) -> bool {
        *self.shutdown_tx.borrow()
    }

    /// Completes once `shutdown` was called.
    pub async fn shut_down(&self) {
        let mut rx = self.shutdown_tx.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// Runs a blocking call (a database commit waits for the disk) without stalling the other tasks
/// of a multi-threaded runtime: they move to another worker meanwhile.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread { tokio::task::block_in_place(f) } else { f() }
}

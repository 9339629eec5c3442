//! A deterministic many-node simulator: `Node`s on an in-memory network with a virtual clock,
//! a seeded random source, per-link latency (order kept per link, as a WebSocket keeps it),
//! connection drops, partitions and heals, and simulated miners at different rates.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use tabchain_core::{
    Amount, Block, BlockHash, ChangeSet, Coin, Event, InvItem, Message, Node, OutPoint, Output, Params, PeerId,
    SecretKey, Transaction, search_nonce,
};

/// How a dishonest node alters the coins of the last `snapshot` chunk it serves.
pub type Tamper = fn(&mut Vec<(OutPoint, Coin)>);

/// SplitMix64: small, seedable, good enough for scheduling.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponentially distributed with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// The simulated clock starts at regtest's genesis time plus a little.
pub const START_S: u64 = 1_767_225_600 + 60;

pub struct SimNode {
    pub node: Node,
    pub key: SecretKey,
    /// Mean seconds between blocks this node finds; `None` if it does not mine.
    pub mean_block_s: Option<f64>,
    next_block_ms: u64,
    extra_nonce: u64,
    /// What the node asked to persist, in order.
    pub stored: Vec<ChangeSet>,
    pub events: Vec<Event>,
}

enum Delivery {
    Message { from: usize, to: usize, bytes: Vec<u8> },
}

pub struct Sim {
    pub nodes: Vec<SimNode>,
    pub now_ms: u64,
    pub rng: Rng,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    pending: BTreeMap<usize, Delivery>,
    seq: u64,
    /// Connected pairs (a < b).
    links: BTreeSet<(usize, usize)>,
    /// Every pair meant to be connected, for heals and reconnects.
    topology: BTreeSet<(usize, usize)>,
    /// Pairs kept apart by a partition.
    blocked: BTreeSet<(usize, usize)>,
    /// Last delivery time per directed link, to keep per-link order.
    link_clock: BTreeMap<(usize, usize), u64>,
    pub latency_ms: (u64, u64),
    /// Chance per second that some link drops (and reconnects a few seconds later).
    pub drop_per_s: f64,
    /// Whether messages on one link may overtake each other (a WebSocket never does this; it
    /// stresses the node's handling of replies that arrive out of order).
    pub reorder: bool,
    reconnects: Vec<(u64, usize, usize)>,
    next_tick_ms: u64,
    pub disconnects: Vec<(usize, usize, String)>,
    /// Messages sent, by tag (their first byte).
    pub sent_by_tag: BTreeMap<u8, usize>,
    /// Nodes that serve tampered snapshots, and how.
    pub tampers: BTreeMap<usize, Tamper>,
}

fn pair(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

impl Sim {
    /// `n` nodes on regtest; `miners[i]` is node i's mean seconds between blocks.
    pub fn new(seed: u64, miners: &[Option<f64>]) -> Self {
        let mut rng = Rng::new(seed);
        let nodes = miners
            .iter()
            .enumerate()
            .map(|(i, &mean)| {
                let mut seed_bytes = [0u8; 32];
                seed_bytes[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
                let key = SecretKey::from_bytes(&seed_bytes);
                let mut node = Node::new(Params::regtest(), &format!("sim/{i}"));
                node.set_wallet(key.clone());
                let next_block_ms = mean.map_or(u64::MAX, |m| START_S * 1000 + (rng.exponential(m) * 1000.0) as u64);
                SimNode {
                    node,
                    key,
                    mean_block_s: mean,
                    next_block_ms,
                    extra_nonce: 0,
                    stored: Vec::new(),
                    events: Vec::new(),
                }
            })
            .collect();
        Self {
            nodes,
            now_ms: START_S * 1000,
            rng,
            queue: BinaryHeap::new(),
            pending: BTreeMap::new(),
            seq: 0,
            links: BTreeSet::new(),
            topology: BTreeSet::new(),
            blocked: BTreeSet::new(),
            link_clock: BTreeMap::new(),
            latency_ms: (20, 250),
            drop_per_s: 0.0,
            reorder: false,
            reconnects: Vec::new(),
            next_tick_ms: START_S * 1000,
            disconnects: Vec::new(),
            sent_by_tag: BTreeMap::new(),
            tampers: BTreeMap::new(),
        }
    }

    pub fn now_s(&self) -> u64 {
        self.now_ms / 1000
    }

    /// Connects every pair.
    pub fn full_mesh(&mut self) {
        for a in 0..self.nodes.len() {
            for b in a + 1..self.nodes.len() {
                self.connect(a, b);
            }
        }
    }

    pub fn connect(&mut self, a: usize, b: usize) {
        self.topology.insert(pair(a, b));
        if self.blocked.contains(&pair(a, b)) || !self.links.insert(pair(a, b)) {
            return;
        }
        let now = self.now_s();
        self.nodes[a].node.handle_peer_connected(b as PeerId, now);
        self.nodes[b].node.handle_peer_connected(a as PeerId, now);
        self.drain(a);
        self.drain(b);
    }

    fn cut(&mut self, a: usize, b: usize) {
        if self.links.remove(&pair(a, b)) {
            self.nodes[a].node.handle_peer_disconnected(b as PeerId);
            self.nodes[b].node.handle_peer_disconnected(a as PeerId);
            self.drain(a);
            self.drain(b);
        }
    }

    /// Splits the nodes into two sides: every link across is cut and stays cut until `heal`.
    pub fn partition(&mut self, side_a: &[usize]) {
        let links: Vec<(usize, usize)> = self.topology.iter().copied().collect();
        for (a, b) in links {
            if side_a.contains(&a) != side_a.contains(&b) {
                self.blocked.insert((a, b));
                self.cut(a, b);
            }
        }
    }

    pub fn heal(&mut self) {
        let blocked: Vec<(usize, usize)> = std::mem::take(&mut self.blocked).into_iter().collect();
        for (a, b) in blocked {
            self.connect(a, b);
        }
    }

    /// Sets node `i`'s mining rate (mean seconds per block), or stops it.
    pub fn set_miner(&mut self, i: usize, mean: Option<f64>) {
        self.nodes[i].mean_block_s = mean;
        self.nodes[i].next_block_ms =
            mean.map_or(u64::MAX, |m| self.now_ms + (self.rng.exponential(m) * 1000.0) as u64 + 1);
    }

    /// Carries out node `i`'s outputs.
    fn drain(&mut self, i: usize) {
        while let Some(output) = self.nodes[i].node.poll_output() {
            match output {
                Output::Send { peer, message } => {
                    let message = match (message, self.tampers.get(&i)) {
                        (Message::Snapshot { base, mut coins, last: true }, Some(tamper)) => {
                            tamper(&mut coins);
                            Message::Snapshot { base, coins, last: true }
                        }
                        (message, _) => message,
                    };
                    self.enqueue(i, peer as usize, message.to_bytes());
                }
                Output::Disconnect { peer, reason } => {
                    self.disconnects.push((i, peer as usize, reason.to_string()));
                    // The node already forgot the peer; the other side learns the socket closed.
                    if self.links.remove(&pair(i, peer as usize)) {
                        self.nodes[peer as usize].node.handle_peer_disconnected(i as PeerId);
                        let at = self.now_ms + 3000;
                        self.reconnects.push((at, i, peer as usize));
                    }
                }
                Output::SendStoredBlock { peer, hash } => {
                    // The node's store is its change sets: it serves evicted blocks from them.
                    let stored =
                        self.nodes[i].stored.iter().flat_map(|set| &set.blocks).find(|b| b.block_hash() == hash);
                    let message = match stored {
                        Some(block) => Message::Block(block.clone()),
                        None => Message::NotFound(vec![InvItem::Block(hash)]),
                    };
                    self.enqueue(i, peer as usize, message.to_bytes());
                }
                Output::Event(event) => self.nodes[i].events.push(event),
                Output::Persist(set) => self.nodes[i].stored.push(set),
            }
        }
    }

    fn enqueue(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if !self.links.contains(&pair(from, to)) {
            return;
        }
        *self.sent_by_tag.entry(bytes[0]).or_default() += 1;
        let latency = self.rng.range(self.latency_ms.0, self.latency_ms.1);
        let last = if self.reorder { 0 } else { self.link_clock.get(&(from, to)).copied().unwrap_or(0) };
        let at = (self.now_ms + latency).max(last);
        self.link_clock.insert((from, to), at);
        self.seq += 1;
        self.pending.insert(self.seq as usize, Delivery::Message { from, to, bytes });
        self.queue.push(Reverse((at, self.seq, self.seq as usize)));
    }

    /// Runs the network for `seconds` of virtual time.
    pub fn run_for(&mut self, seconds: u64) {
        let end = self.now_ms + seconds * 1000;
        loop {
            let next_message = self.queue.peek().map_or(u64::MAX, |Reverse((at, _, _))| *at);
            let next_block = self.nodes.iter().map(|n| n.next_block_ms).min().unwrap_or(u64::MAX);
            let next = next_message.min(next_block).min(self.next_tick_ms);
            if next > end {
                self.now_ms = end;
                return;
            }
            self.now_ms = next;
            if next == self.next_tick_ms {
                self.tick();
            } else if next == next_message {
                let Reverse((_, _, id)) = self.queue.pop().expect("peeked");
                let Delivery::Message { from, to, bytes } = self.pending.remove(&id).expect("queued");
                if self.links.contains(&pair(from, to)) {
                    let now = self.now_s();
                    self.nodes[to].node.handle_message(from as PeerId, &bytes, now);
                    self.drain(to);
                }
            } else {
                let miner = self.nodes.iter().position(|n| n.next_block_ms == next).expect("a miner is due");
                self.mine(miner);
            }
        }
    }

    fn tick(&mut self) {
        self.next_tick_ms += 1000;
        let now = self.now_s();
        for i in 0..self.nodes.len() {
            // Tick a node only when it asked to be: this exercises `poll_timeout`.
            if self.nodes[i].node.poll_timeout(now - 1) <= now {
                self.nodes[i].node.handle_tick(now);
                self.drain(i);
            }
        }
        let due: Vec<(u64, usize, usize)> = self.reconnects.iter().filter(|r| r.0 <= self.now_ms).copied().collect();
        self.reconnects.retain(|r| r.0 > self.now_ms);
        for (_, a, b) in due {
            self.connect(a, b);
        }
        if self.drop_per_s > 0.0 && self.rng.unit() < self.drop_per_s && !self.links.is_empty() {
            let k = self.rng.range(0, self.links.len() as u64 - 1) as usize;
            let (a, b) = *self.links.iter().nth(k).expect("k < len");
            self.cut(a, b);
            let at = self.now_ms + self.rng.range(1000, 8000);
            self.reconnects.push((at, a, b));
        }
    }

    /// Node `i` finds a block on its tip.
    pub fn mine(&mut self, i: usize) -> Block {
        let now = self.now_s();
        let sim_node = &mut self.nodes[i];
        sim_node.extra_nonce += 1;
        let owner = sim_node.key.public_key();
        let template = sim_node.node.block_template(owner, sim_node.extra_nonce, now);
        let header = search_nonce(&template.header, 1 << 20).expect("regtest targets are easy");
        let block = Block { header, ..template };
        sim_node.node.submit_block(block.clone(), now).expect("a node's own template is valid");
        if let Some(mean) = sim_node.mean_block_s {
            sim_node.next_block_ms = self.now_ms + (self.rng.exponential(mean) * 1000.0) as u64 + 1;
        }
        self.drain(i);
        block
    }

    /// Submits a transaction to node `i` (as its user would).
    pub fn submit(&mut self, i: usize, tx: Transaction) {
        let now = self.now_s();
        self.nodes[i].node.submit_transaction(tx, now).expect("the test's transaction is valid");
        self.drain(i);
    }

    pub fn tips(&self) -> Vec<BlockHash> {
        self.nodes.iter().map(|n| n.node.chain().tip_hash()).collect()
    }

    /// Every node's unspent total equals the subsidy of its chain (genesis's is unspendable and
    /// not counted): no coins made or lost anywhere.
    pub fn assert_money_conserved(&self) {
        for (i, n) in self.nodes.iter().enumerate() {
            let chain = n.node.chain();
            let issued = (1..=chain.height()).map(|h| chain.params().subsidy(h).to_units()).sum::<u64>();
            assert_eq!(
                chain.utxos().total_value(),
                Amount::from_units(issued).expect("in range"),
                "node {i} at height {}",
                chain.height()
            );
        }
    }

    /// Stops every miner, lets messages settle, then has node 0 mine one last block: two tips
    /// of equal work are a legitimate tie (first seen wins), which only a next block breaks.
    /// Returns whether every node then agrees within `max_s` seconds.
    pub fn settle(&mut self, max_s: u64) -> bool {
        for i in 0..self.nodes.len() {
            self.set_miner(i, None);
        }
        self.run_for(60);
        self.mine(0);
        self.run_until_converged(max_s)
    }

    /// Runs until every node has the same tip (checking at most `max_s` seconds).
    pub fn run_until_converged(&mut self, max_s: u64) -> bool {
        for _ in 0..max_s {
            self.run_for(1);
            let tips = self.tips();
            if tips.iter().all(|t| *t == tips[0]) && self.queue.is_empty() {
                return true;
            }
        }
        false
    }

    pub fn max_reorg_depth(&self, i: usize) -> usize {
        self.nodes[i]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::TipChanged { reorg_depth, .. } => Some(*reorg_depth),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

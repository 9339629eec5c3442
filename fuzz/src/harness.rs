//! The `node` target's driver: a regtest `Node` fed a sequence of `Action`s (peers connecting
//! and leaving, messages built from parts of a shared world of real blocks and transactions or
//! from raw bytes, time passing, blocks and transactions submitted by the user), with the
//! node's invariants asserted after every step.
//!
//! The world is what the fuzzer's peers know: every block they mined (valid ones also kept in a
//! `Chain` of their own, so that any branch can be extended and served) and every transaction
//! they signed. Regtest blocks are nearly free to mine (`search_nonce` meets the target in a
//! few tries), so an iteration stays fast.

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Arbitrary;
use tabchain_core::{
    ADDRS_KNOWN_MAX, Amount, BLOCKS_IN_FLIGHT_PER_PEER_MAX, BRANCH_SWITCHES_MAX, Block, BlockHash, Chain,
    CompactTarget, HEADERS_MAX, Header, InvItem, MEMPOOL_BYTES_MAX, MESSAGE_BYTES_MAX, Message, Node, ORPHAN_TXS_MAX,
    OutPoint, Output, PENDING_BLOCKS_MAX, PROTOCOL_VERSION, Params, PeerId, SecretKey, Transaction, TxOut, Txid, Work,
    assemble_block, coinbase, decode, search_nonce, signed_transaction,
};

/// Peer ids the fuzzer uses (`peer % PEERS`).
pub const PEERS: u8 = 4;
/// Actions taken from one input; the rest is ignored, to keep iterations short.
pub const ACTIONS_MAX: usize = 64;
/// Blocks one `Grow` mines at most.
const GROW_BLOCKS_MAX: u8 = 16;
/// Transactions put in one block, inputs and outputs of one transaction, at most.
const BLOCK_TXS_PICKED_MAX: usize = 8;
const TX_INPUTS_PICKED_MAX: usize = 3;
const TX_OUTPUTS_MAX: u8 = 3;
/// Requests remembered per peer for `Answer`.
const ASKED_MAX: usize = 8;
/// Blocks the world has mined before the actions start: twice coinbase maturity, so that
/// about half its coins can be spent from the first action.
pub const PROLOGUE_BLOCKS: usize = 20;
/// Nonces tried to meet (or miss) a regtest target.
const NONCE_TRIES: u32 = 10_000;
/// The node's clock starts this long after the regtest genesis block, so that blocks dated on
/// schedule are not "too new" for a while.
const CLOCK_START_AFTER_GENESIS_S: u64 = 100_000;

/// One fuzz input: how many of the world's prologue blocks the node's user submits first
/// (`PROLOGUE_BLOCKS - node_blocks % (PROLOGUE_BLOCKS + 1)`), then what happens.
#[derive(Arbitrary, Debug)]
pub struct Input {
    pub node_blocks: u8,
    pub actions: Vec<Action>,
}

/// One thing that happens to the node.
#[derive(Arbitrary, Debug)]
pub enum Action {
    /// A connection opens; with `greet`, the peer then says `hello` with the world's height.
    Connect {
        peer: u8,
        greet: bool,
    },
    Disconnect {
        peer: u8,
    },
    /// A message built from parts of the world.
    Send {
        peer: u8,
        part: Part,
    },
    /// A frame of any bytes.
    Raw {
        peer: u8,
        bytes: Vec<u8>,
    },
    /// The peer answers what the node last asked it (blocks, transactions, headers), from the
    /// world, as an honest peer would.
    Answer {
        peer: u8,
    },
    /// The peer sends, unasked, up to `n` blocks of the branch ending at the picked stored
    /// block, oldest first.
    Relay {
        peer: u8,
        to: u16,
        n: u8,
    },
    Tick {
        advance_s: u8,
    },
    /// Ten minutes pass, then a tick: orphan expiry, ping and request timeouts.
    Wait,
    /// The peers' world mines `n` empty blocks on its best tip (not shown to the node).
    Grow {
        n: u8,
    },
    /// The peers' world mines `n` empty blocks on the block `depth` below its best tip (not
    /// shown to the node): a competing branch, for reorgs.
    Fork {
        depth: u8,
        n: u8,
    },
    /// The peers' world mines one block (not shown to the node).
    Mine(BlockRecipe),
    /// The node's user submits a block.
    SubmitBlock(BlockRecipe),
    /// The peers' world signs a transaction (not shown to the node).
    MakeTx(TxRecipe),
    /// The node's user submits a transaction.
    SubmitTx(TxRecipe),
}

/// A message, its contents picked from the world. A pick `i` is `i % len` of a list, except 0,
/// which is its newest element.
#[derive(Arbitrary, Debug)]
pub enum Part {
    Hello {
        version: Option<u32>,
        other_genesis: bool,
        best_height: u16,
    },
    Ping(u64),
    /// A pong; `answer` echoes the node's last ping to this peer.
    Pong {
        answer: bool,
        nonce: u64,
    },
    Inv(Vec<Item>),
    GetData(Vec<Item>),
    NotFound(Vec<Item>),
    GetHeaders {
        locator: Vec<u16>,
    },
    /// `n` headers of one branch ending at the picked stored block, oldest first.
    Headers {
        to: u16,
        n: u8,
    },
    Block(u16),
    Tx(u16),
    /// A block mined on the spot.
    NewBlock(BlockRecipe),
    /// A transaction signed on the spot.
    NewTx(TxRecipe),
    GetAddrs,
    Addrs(Vec<String>),
    GetLinks,
    Links {
        you: u64,
        peers: Vec<u64>,
    },
    /// Link set-up data for peer `to` (another of the world's peers, or none).
    Signal {
        to: u8,
        payload: Vec<u8>,
    },
}

#[derive(Arbitrary, Debug)]
pub enum Item {
    Block(u16),
    Tx(u16),
    UnknownBlock(u8),
    UnknownTx(u8),
}

/// A block on a stored block of the world: some of the world's transactions, a coinbase
/// claiming subsidy and fees less `unclaimed` units (or one unit too many), and maybe a flaw.
#[derive(Arbitrary, Debug)]
pub struct BlockRecipe {
    parent: u16,
    txs: Vec<u16>,
    unclaimed: u16,
    overclaim: bool,
    time_step: u8,
    flaw: Option<Flaw>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
#[repr(u8)]
pub enum Flaw {
    MerkleRoot,
    /// A nonce that misses the target.
    Unmined,
    /// Easier bits than the rule asks.
    Bits,
    /// Dated at or before the median time past.
    Early,
    /// The coinbase again, after itself.
    DuplicateCoinbase,
    /// A coinbase committing to another UTXO set than its parent left.
    Commitment,
}

/// A transaction spending the picked coins (the world's unspent or any output of its
/// transactions) to one of the world's two keys, paying `fee` × 10 units.
#[derive(Arbitrary, Debug)]
pub struct TxRecipe {
    coins: Vec<u16>,
    outputs: u8,
    fee: u16,
    to_second_key: bool,
    /// Signed by the key that does not own the first coin.
    wrong_key: bool,
}

fn stats_wanted() -> bool {
    static WANTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WANTED.get_or_init(|| std::env::var_os("TABCHAIN_FUZZ_STATS").is_some())
}

/// `list[i % len]`, or the newest element for 0.
fn pick<T>(list: &[T], i: u16) -> Option<&T> {
    match (list.len(), i) {
        (0, _) => None,
        (len, 0) => list.get(len - 1),
        (len, i) => list.get(usize::from(i) % len),
    }
}

fn units(n: u64) -> Amount {
    Amount::from_units(n).unwrap_or(Amount::MAX_MONEY)
}

/// What the fuzzer's peers know.
#[derive(Clone)]
struct World {
    chain: Chain,
    keys: [SecretKey; 2],
    /// Stored (valid) blocks, genesis first, in the order stored.
    stored: Vec<BlockHash>,
    /// Every block made, valid or not.
    blocks: Vec<Block>,
    txs: Vec<Transaction>,
    tx_index: BTreeMap<Txid, usize>,
    extra_nonce: u64,
}

impl World {
    fn new() -> Self {
        let chain = Chain::new(Params::regtest());
        let genesis = chain.params().genesis_block().expect("regtest has a genesis block");
        Self {
            stored: vec![chain.tip_hash()],
            chain,
            keys: [SecretKey::from_bytes(&[1; 32]), SecretKey::from_bytes(&[2; 32])],
            blocks: vec![genesis],
            txs: Vec::new(),
            tx_index: BTreeMap::new(),
            extra_nonce: 0,
        }
    }

    /// A world that has mined `PROLOGUE_BLOCKS` empty blocks on genesis (so that the first
    /// coinbases are mature), made once and cloned for each input.
    fn with_prologue() -> Self {
        static PROLOGUE: std::sync::OnceLock<World> = std::sync::OnceLock::new();
        PROLOGUE
            .get_or_init(|| {
                let mut world = World::new();
                for _ in 0..PROLOGUE_BLOCKS {
                    world.grow(None, 0);
                }
                assert_eq!(world.chain.height() as usize, PROLOGUE_BLOCKS, "regtest blocks are nearly free");
                world
            })
            .clone()
    }

    fn genesis(&self) -> BlockHash {
        self.stored[0]
    }

    fn block(&self, hash: &BlockHash) -> Option<&Block> {
        self.chain.entry(hash).map(|e| &e.block).or_else(|| self.blocks.iter().find(|b| b.block_hash() == *hash))
    }

    /// The amount of `outpoint` if the world knows the output.
    fn amount(&self, outpoint: &OutPoint) -> Option<Amount> {
        if let Some(coin) = self.chain.utxos().get(outpoint) {
            return Some(coin.output.amount);
        }
        let tx = &self.txs[*self.tx_index.get(&outpoint.txid)?];
        tx.outputs.get(usize::try_from(outpoint.vout).ok()?).map(|o| o.amount)
    }

    fn fee(&self, tx: &Transaction) -> Amount {
        let inputs = tx.inputs.iter().map(|i| self.amount(&i.prev_out).unwrap_or(Amount::ZERO));
        let outputs = tx.outputs.iter().map(|o| o.amount);
        let sum = |amounts: &mut dyn Iterator<Item = Amount>| Amount::checked_sum(amounts).unwrap_or(Amount::ZERO);
        sum(&mut { inputs }).checked_sub(sum(&mut { outputs })).unwrap_or(Amount::ZERO)
    }

    /// Makes a block by `recipe` on the picked stored block, stores it if valid, and returns it.
    /// `None` when no block can be made (a mutated merkle tree, no nonce found).
    fn make_block(&mut self, recipe: &BlockRecipe) -> Option<Block> {
        let parent_hash = *pick(&self.stored, recipe.parent)?;
        self.make_block_on(parent_hash, recipe)
    }

    fn make_block_on(&mut self, parent_hash: BlockHash, recipe: &BlockRecipe) -> Option<Block> {
        let parent = self.chain.entry(&parent_hash)?;
        let height = parent.height + 1;
        let txs: Vec<Transaction> =
            recipe.txs.iter().take(BLOCK_TXS_PICKED_MAX).filter_map(|&i| pick(&self.txs, i).cloned()).collect();
        let fees = Amount::checked_sum(txs.iter().map(|tx| self.fee(tx))).unwrap_or(Amount::ZERO);
        let due = self.chain.params().subsidy(height).checked_add(fees).unwrap_or(Amount::MAX_MONEY);
        let claim = match recipe.overclaim {
            true => due.checked_add(units(1)).unwrap_or(due),
            false => due.checked_sub(units(u64::from(recipe.unclaimed))).unwrap_or(Amount::ZERO),
        };
        let mtp = self.chain.median_time_past(parent);
        let mut time = mtp.max(parent.header().time).saturating_add(1).saturating_add(u32::from(recipe.time_step));
        let mut bits = self.chain.required_bits(parent);
        match recipe.flaw {
            Some(Flaw::Early) => time = mtp,
            Some(Flaw::Bits) => bits = CompactTarget::from_consensus(0x2100ffff),
            _ => {}
        }
        self.extra_nonce += 1;
        let commitment = match recipe.flaw {
            Some(Flaw::Commitment) => tabchain_core::UtxoCommitment::from_byte_array([0xc0; 32]),
            // Unknown below the blocks kept: such a block is stored, never connected.
            _ => self.chain.utxo_commitment_after(&parent_hash).unwrap_or(tabchain_core::UtxoCommitment::ZERO),
        };
        let cb = coinbase(height, claim, self.keys[0].public_key(), self.extra_nonce, commitment);
        let mut block = assemble_block(parent_hash, bits, time, cb, txs)?;
        if let Some(Flaw::DuplicateCoinbase) = recipe.flaw {
            block.txs.push(block.txs[0].clone());
        }
        if let Some(Flaw::MerkleRoot) = recipe.flaw {
            block.header.merkle_root = tabchain_core::MerkleRoot::ZERO;
        }
        block.header = match recipe.flaw {
            Some(Flaw::Unmined) => unmined(&block.header)?,
            _ => search_nonce(&block.header, NONCE_TRIES)?,
        };
        self.store(block.clone());
        Some(block)
    }

    /// Mines `n % GROW_BLOCKS_MAX + 1` empty blocks in a row, on `parent` or the best tip.
    fn grow(&mut self, parent: Option<BlockHash>, n: u8) {
        let mut parent = parent.unwrap_or(self.chain.tip_hash());
        let recipe = BlockRecipe { parent: 0, txs: vec![], unclaimed: 0, overclaim: false, time_step: 9, flaw: None };
        for _ in 0..(n % GROW_BLOCKS_MAX + 1) {
            let Some(block) = self.make_block_on(parent, &recipe) else { return };
            parent = block.block_hash();
        }
    }

    fn store(&mut self, block: Block) {
        let hash = block.block_hash();
        let was_stored = self.chain.entry(&hash).is_some();
        // The world's clock is "always late enough": its blocks are never too new for it.
        let _ = self.chain.accept_block(block.clone(), u64::MAX);
        if !was_stored && self.chain.entry(&hash).is_some_and(|e| !e.is_invalid()) {
            self.stored.push(hash);
        }
        self.blocks.push(block);
    }

    /// Coins the world may spend: its chain's unspent outputs owned by its keys, then every
    /// output of its transactions (spent or not, confirmed or not).
    fn coins(&self) -> Vec<(OutPoint, TxOut)> {
        let owners = [self.keys[0].public_key(), self.keys[1].public_key()];
        let unspent = self.chain.utxos().iter().filter(|(_, c)| owners.contains(&c.output.owner));
        let mut unspent: Vec<(u32, OutPoint, TxOut)> = unspent.map(|(op, c)| (c.height, *op, c.output)).collect();
        // Newest first, so that the oldest (mature) coin is the default pick when no
        // transaction has been made yet.
        unspent.sort_by_key(|(height, op, _)| (std::cmp::Reverse(*height), *op));
        let mut coins: Vec<(OutPoint, TxOut)> = unspent.into_iter().map(|(_, op, o)| (op, o)).collect();
        for tx in &self.txs {
            let txid = tx.txid();
            coins.extend(tx.outputs.iter().enumerate().map(|(vout, o)| (OutPoint { txid, vout: vout as u32 }, *o)));
        }
        coins
    }

    fn make_tx(&mut self, recipe: &TxRecipe) -> Option<Transaction> {
        let coins = self.coins();
        let mut spent: Vec<(OutPoint, TxOut)> = Vec::new();
        for &i in recipe.coins.iter().take(TX_INPUTS_PICKED_MAX) {
            // Each coin once: a duplicate input is refused before anything else is checked.
            if let Some(coin) = pick(&coins, i)
                && !spent.iter().any(|(op, _)| *op == coin.0)
            {
                spent.push(*coin);
            }
        }
        let (_, first) = spent.first()?;
        let owner_idx = usize::from(first.owner != self.keys[0].public_key());
        let key = self.keys[owner_idx ^ usize::from(recipe.wrong_key)].clone();
        let total = Amount::checked_sum(spent.iter().map(|(_, o)| o.amount)).ok()?;
        let rest = total.checked_sub(units(u64::from(recipe.fee) * 10)).unwrap_or(Amount::ZERO);
        let n_outputs = u64::from(1 + recipe.outputs % TX_OUTPUTS_MAX);
        let to = self.keys[usize::from(recipe.to_second_key)].public_key();
        let share = rest.to_units() / n_outputs;
        let outputs = (0..n_outputs)
            .map(|i| {
                let amount = if i + 1 == n_outputs { rest.to_units() - share * (n_outputs - 1) } else { share };
                TxOut { amount: units(amount), owner: to }
            })
            .collect();
        let outpoints: Vec<OutPoint> = spent.iter().map(|(op, _)| *op).collect();
        let tx = signed_transaction(&outpoints, outputs, &key, self.genesis());
        self.tx_index.entry(tx.txid()).or_insert(self.txs.len());
        self.txs.push(tx.clone());
        Some(tx)
    }

    fn item(&self, item: &Item) -> Option<InvItem> {
        Some(match item {
            Item::Block(i) => InvItem::Block(pick(&self.blocks, *i)?.block_hash()),
            Item::Tx(i) => InvItem::Tx(pick(&self.txs, *i)?.txid()),
            Item::UnknownBlock(b) => InvItem::Block(BlockHash::from_byte_array([*b; 32])),
            Item::UnknownTx(b) => InvItem::Tx(Txid::from_byte_array([*b; 32])),
        })
    }

    /// Up to `n` headers of the branch ending at `to`, oldest first.
    fn headers(&self, to: BlockHash, n: u8) -> Vec<Header> {
        let mut headers = Vec::new();
        let mut at = self.chain.entry(&to);
        while let Some(entry) = at
            && headers.len() < usize::from(n)
            && entry.height > 0
        {
            headers.push(*entry.header());
            at = self.chain.entry(&entry.header().prev_blockhash);
        }
        headers.reverse();
        headers
    }

    fn message(&mut self, part: &Part) -> Option<Message> {
        let items = |world: &Self, items: &[Item]| items.iter().filter_map(|i| world.item(i)).collect::<Vec<_>>();
        Some(match part {
            Part::Hello { version, other_genesis, best_height } => Message::Hello {
                protocol_version: version.unwrap_or(PROTOCOL_VERSION),
                genesis: if *other_genesis { Params::tabchain().genesis_hash() } else { self.genesis() },
                best_height: u32::from(*best_height),
                user_agent: "fuzz".into(),
            },
            Part::Ping(nonce) => Message::Ping { nonce: *nonce },
            Part::Pong { nonce, .. } => Message::Pong { nonce: *nonce },
            Part::Inv(list) => Message::Inv(items(self, list)),
            Part::GetData(list) => Message::GetData(items(self, list)),
            Part::NotFound(list) => Message::NotFound(items(self, list)),
            Part::GetHeaders { locator } => Message::GetHeaders {
                locator: locator.iter().filter_map(|&i| pick(&self.stored, i).copied()).collect(),
            },
            Part::Headers { to, n } => Message::Headers(self.headers(*pick(&self.stored, *to)?, *n)),
            Part::Block(i) => Message::Block(pick(&self.blocks, *i)?.clone()),
            Part::Tx(i) => Message::Tx(pick(&self.txs, *i)?.clone()),
            Part::NewBlock(recipe) => Message::Block(self.make_block(recipe)?),
            Part::NewTx(recipe) => Message::Tx(self.make_tx(recipe)?),
            Part::GetAddrs => Message::GetAddrs,
            Part::Addrs(addrs) => Message::Addrs(addrs.clone()),
            Part::GetLinks => Message::GetLinks,
            Part::Links { you, peers } => Message::Links { you: *you, peers: peers.clone() },
            Part::Signal { to, payload } => Message::Signal { peer: u64::from(*to), payload: payload.clone() },
        })
    }

    /// What an honest peer sends back for `request`.
    fn answer(&self, request: &Message) -> Vec<Message> {
        match request {
            Message::GetHeaders { locator } => vec![Message::Headers(self.chain.headers_after(locator, HEADERS_MAX))],
            Message::GetData(items) => {
                let mut missing = Vec::new();
                let mut answers = Vec::new();
                for item in items {
                    let found = match item {
                        InvItem::Block(hash) => self.block(hash).cloned().map(Message::Block),
                        InvItem::Tx(txid) => self.tx_index.get(txid).map(|&i| Message::Tx(self.txs[i].clone())),
                    };
                    match found {
                        Some(message) => answers.push(message),
                        None => missing.push(*item),
                    }
                }
                if !missing.is_empty() {
                    answers.push(Message::NotFound(missing));
                }
                answers
            }
            _ => Vec::new(),
        }
    }
}

/// The header with a nonce that misses its target, if one is found.
fn unmined(header: &Header) -> Option<Header> {
    let target = header.bits.to_target().ok()?;
    (0..NONCE_TRIES)
        .map(|i| Header { nonce: header.nonce.wrapping_add(i), ..*header })
        .find(|h| !target.is_met_by(h.block_hash()))
}

/// The node under test, the world its peers share, and what the harness saw of its outputs.
pub struct Harness {
    node: Node,
    world: World,
    now: u64,
    /// Connections open as the shell sees them.
    open: BTreeSet<PeerId>,
    /// The node's last ping nonce to each peer.
    pings: BTreeMap<PeerId, u64>,
    /// The node's latest requests to each peer (`getdata`, `getheaders`).
    asked: BTreeMap<PeerId, Vec<Message>>,
    /// Every change set the node emitted, encoded, in order: what a shell would have stored.
    stored: Vec<Vec<u8>>,
    tip_work: Work,
    /// The tip whose money was last checked.
    money_checked_at: BlockHash,
}

impl Harness {
    pub fn new() -> Self {
        let world = World::with_prologue();
        let mut node = Node::new(Params::regtest(), "fuzz");
        node.set_wallet(world.keys[0].clone());
        let now = u64::from(node.chain().tip().header().time) + CLOCK_START_AFTER_GENESIS_S;
        let tip_work = node.chain().tip().chain_work;
        let money_checked_at = node.chain().tip_hash();
        Self {
            node,
            world,
            now,
            open: BTreeSet::new(),
            pings: BTreeMap::new(),
            asked: BTreeMap::new(),
            stored: Vec::new(),
            tip_work,
            money_checked_at,
        }
    }

    /// Runs the actions (at most `ACTIONS_MAX`), checking every invariant after each, and at
    /// the end that what the node asked to store rebuilds it.
    pub fn run(input: &Input) {
        let harness = Self::run_to_end(input);
        if stats_wanted() {
            harness.print_stats();
        }
    }

    fn run_to_end(input: &Input) -> Self {
        let mut harness = Self::new();
        let prologue = harness.world.stored[1..].to_vec();
        // 0, where inputs run out, gives the node every prologue block: spends are then valid.
        let n_blocks = PROLOGUE_BLOCKS - usize::from(input.node_blocks) % (PROLOGUE_BLOCKS + 1);
        for hash in prologue.iter().take(n_blocks) {
            let block = harness.world.block(hash).expect("stored in the world").clone();
            harness.node.submit_block(block, harness.now).expect("the prologue's blocks are valid");
        }
        harness.check();
        for action in input.actions.iter().take(ACTIONS_MAX) {
            harness.step(action);
            harness.check();
        }
        harness.check_restore();
        harness
    }

    /// One line on how far the input got, for judging the harness's reach
    /// (`TABCHAIN_FUZZ_STATS=1` with `-runs=0` over a corpus).
    fn print_stats(&self) {
        let chain = self.node.chain();
        eprintln!(
            "stats: height {} blocks {} world-blocks {} mempool {} orphans {} ready-peers {} switches {} change-sets {}",
            chain.height(),
            chain.n_blocks(),
            self.world.blocks.len(),
            self.node.mempool().len(),
            self.node.mempool().n_orphans(),
            self.node.n_ready_peers(),
            self.node.branch_switches().count(),
            self.stored.len(),
        );
    }

    fn deliver(&mut self, peer: PeerId, message: &Message) {
        self.node.handle_message(peer, &message.to_bytes(), self.now);
    }

    fn connect(&mut self, peer: PeerId, greet: bool) {
        if self.open.insert(peer) {
            self.node.handle_peer_connected(peer, self.now);
        }
        if greet {
            let hello = Message::Hello {
                protocol_version: PROTOCOL_VERSION,
                genesis: self.world.genesis(),
                best_height: self.world.chain.height(),
                user_agent: "fuzz".into(),
            };
            self.deliver(peer, &hello);
        }
    }

    fn relay(&mut self, peer: PeerId, to: u16, n: u8) {
        let Some(&to) = pick(&self.world.stored, to) else { return };
        for header in self.world.headers(to, n) {
            let block = self.world.block(&header.block_hash()).expect("stored in the world").clone();
            self.deliver(peer, &Message::Block(block));
        }
    }

    fn answer(&mut self, peer: PeerId) {
        for request in self.asked.remove(&peer).unwrap_or_default() {
            for answer in self.world.answer(&request) {
                self.deliver(peer, &answer);
            }
        }
    }

    pub fn step(&mut self, action: &Action) {
        let id = |peer: &u8| PeerId::from(*peer % PEERS);
        match action {
            Action::Connect { peer, greet } => self.connect(id(peer), *greet),
            Action::Relay { peer, to, n } => self.relay(id(peer), *to, *n),
            Action::Disconnect { peer } => {
                if self.open.remove(&id(peer)) {
                    self.node.handle_peer_disconnected(id(peer));
                }
            }
            Action::Send { peer, part } => {
                let message = match part {
                    Part::Pong { answer: true, .. } => {
                        Some(Message::Pong { nonce: self.pings.get(&id(peer)).copied().unwrap_or(0) })
                    }
                    part => self.world.message(part),
                };
                if let Some(message) = message {
                    self.deliver(id(peer), &message);
                }
            }
            Action::Raw { peer, bytes } => self.node.handle_message(id(peer), bytes, self.now),
            Action::Answer { peer } => self.answer(id(peer)),
            Action::Tick { advance_s } => {
                self.now += u64::from(*advance_s);
                self.node.handle_tick(self.now);
            }
            Action::Wait => {
                self.now += 600;
                self.node.handle_tick(self.now);
            }
            Action::Grow { n } => self.world.grow(None, *n),
            Action::Fork { depth, n } => {
                let height = self.world.chain.height().saturating_sub(u32::from(*depth));
                self.world.grow(self.world.chain.hash_at(height), *n);
            }
            Action::Mine(recipe) => {
                self.world.make_block(recipe);
            }
            Action::SubmitBlock(recipe) => {
                if let Some(block) = self.world.make_block(recipe) {
                    let _ = self.node.submit_block(block, self.now);
                }
            }
            Action::MakeTx(recipe) => {
                self.world.make_tx(recipe);
            }
            Action::SubmitTx(recipe) => {
                if let Some(tx) = self.world.make_tx(recipe) {
                    let _ = self.node.submit_transaction(tx, self.now);
                }
            }
        }
    }

    /// Drains the node's outputs, checking each, then checks the node's state.
    pub fn check(&mut self) {
        self.check_outputs();
        self.check_peers_and_caps();
        self.check_chain();
        self.check_mempool();
    }

    fn check_outputs(&mut self) {
        let open_before = self.open.clone();
        while let Some(output) = self.node.poll_output() {
            match output {
                Output::Send { peer, message } => {
                    assert!(open_before.contains(&peer), "sent {} to peer {peer}, not connected", message.kind());
                    let bytes = message.to_bytes();
                    assert!(
                        bytes.len() <= MESSAGE_BYTES_MAX,
                        "the node sent a {}-byte {}",
                        bytes.len(),
                        message.kind()
                    );
                    assert_eq!(
                        Message::from_bytes(&bytes).as_ref(),
                        Ok(&message),
                        "the node's {} decodes",
                        message.kind()
                    );
                    self.remember_sent(peer, message);
                }
                Output::SendStoredBlock { peer, hash } => {
                    assert!(open_before.contains(&peer), "a stored block for peer {peer}, not connected");
                    assert!(self.node.chain().is_active(&hash), "only active blocks are served from the store");
                }
                Output::Disconnect { peer, .. } => {
                    assert!(self.open.remove(&peer), "disconnected peer {peer}, not connected");
                }
                Output::Persist(set) => {
                    let bytes = tabchain_core::encode(&set);
                    assert_eq!(decode(&bytes).as_ref(), Ok(&set), "a change set decodes");
                    self.stored.push(bytes);
                }
                Output::Event(_) => {}
            }
        }
    }

    fn remember_sent(&mut self, peer: PeerId, message: Message) {
        match message {
            Message::Ping { nonce } => {
                self.pings.insert(peer, nonce);
            }
            Message::GetData(_) | Message::GetHeaders { .. } => {
                let asked = self.asked.entry(peer).or_default();
                if asked.len() == ASKED_MAX {
                    asked.remove(0);
                }
                asked.push(message);
            }
            _ => {}
        }
    }

    fn check_peers_and_caps(&self) {
        let peers: BTreeSet<PeerId> = self.node.peers().map(|p| p.id).collect();
        assert_eq!(peers, self.open, "the node's peers are exactly the open connections");
        let node = &self.node;
        let mempool_bytes = node.mempool().total_bytes();
        assert!(mempool_bytes <= MEMPOOL_BYTES_MAX, "mempool holds {mempool_bytes} bytes");
        assert!(node.mempool().n_orphans() <= ORPHAN_TXS_MAX, "{} orphans", node.mempool().n_orphans());
        let n_addrs = node.known_addrs().count();
        assert!(n_addrs <= ADDRS_KNOWN_MAX, "{n_addrs} known addresses");
        let downloads = node.downloads();
        assert!(downloads.pending <= PENDING_BLOCKS_MAX, "{} blocks pending", downloads.pending);
        let in_flight_max = BLOCKS_IN_FLIGHT_PER_PEER_MAX * peers.len();
        assert!(
            downloads.in_flight <= in_flight_max,
            "{} blocks in flight, {} peers",
            downloads.in_flight,
            peers.len()
        );
        assert!(node.branch_switches().count() <= BRANCH_SWITCHES_MAX, "branch switches");
    }

    /// The tip's work never decreases and is the most of any stored block on a branch not
    /// known invalid; the unspent total is the subsidy of the active chain less what its
    /// coinbases left unclaimed.
    fn check_chain(&mut self) {
        let chain = self.node.chain();
        let tip = chain.tip();
        assert!(tip.chain_work >= self.tip_work, "the tip's chain work decreased");
        self.tip_work = tip.chain_work;
        let mut valid_branch: BTreeSet<BlockHash> = BTreeSet::new();
        for entry in chain.blocks_since(0) {
            let parent_ok = entry.height == 0 || valid_branch.contains(&entry.header().prev_blockhash);
            if parent_ok && !entry.is_invalid() {
                valid_branch.insert(entry.block_hash());
                assert!(
                    entry.chain_work <= tip.chain_work,
                    "stored block {} at height {} has more work than the tip at height {}",
                    entry.block_hash(),
                    entry.height,
                    tip.height
                );
            }
        }
        if self.money_checked_at != chain.tip_hash() {
            assert_money_conserved(chain);
            self.money_checked_at = chain.tip_hash();
        }
    }

    /// Every pooled transaction spends unspent coins or outputs of other pooled transactions,
    /// no output twice, and its recorded fee is its inputs less its outputs.
    fn check_mempool(&self) {
        let chain = self.node.chain();
        let pool = self.node.mempool();
        let mut spent = BTreeSet::new();
        for entry in pool.iter() {
            let mut inputs = Amount::ZERO;
            for input in &entry.tx.inputs {
                assert!(spent.insert(input.prev_out), "two pooled transactions spend {:?}", input.prev_out);
                let amount = match chain.utxos().get(&input.prev_out) {
                    Some(coin) => coin.output.amount,
                    None => pool.output(&input.prev_out).expect("a pooled input is unspent or pooled").amount,
                };
                inputs = inputs.checked_add(amount).expect("inputs within the money supply");
            }
            let outputs = Amount::checked_sum(entry.tx.outputs.iter().map(|o| o.amount)).expect("outputs in range");
            assert_eq!(inputs.checked_sub(outputs), Ok(entry.fee), "pooled fee of {}", entry.tx.txid());
            assert_eq!(entry.size_bytes, entry.tx.size_bytes(), "pooled size");
        }
    }

    /// The change sets the node emitted rebuild a node with the same tip and unspent set.
    fn check_restore(&self) {
        let sets = self.stored.iter().map(Vec::as_slice);
        let restored = Node::restore_from_change_sets(Params::regtest(), "fuzz", sets)
            .expect("what the node asked to store rebuilds it");
        let (chain, again) = (self.node.chain(), restored.chain());
        assert_eq!(again.tip_hash(), chain.tip_hash(), "restored tip");
        assert_eq!(again.utxos(), chain.utxos(), "restored unspent set");
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// The unspent total equals the subsidy of the active chain (after genesis, whose coinbase is
/// unspendable) less what its coinbases left unclaimed, and no coinbase claims more than its
/// subsidy and fees: `core/tests/it/sim.rs`'s `assert_money_conserved`, for coinbases that may
/// claim less than they could.
pub fn assert_money_conserved(chain: &Chain) {
    let mut subsidy_total: u64 = 0;
    let mut unclaimed_total: u64 = 0;
    for height in 1..=chain.height() {
        let hash = chain.hash_at(height).expect("height on the active chain");
        let block = &chain.entry(&hash).expect("active blocks are stored").block;
        let undo = chain.undo(&hash).expect("active blocks have undo data");
        let spent: u64 = undo.spent.iter().map(|(_, coin)| coin.output.amount.to_units()).sum();
        // Outputs a later transaction of the same block spends are in no undo data: count
        // only what the block's transactions leave unspent.
        let mut created: BTreeMap<OutPoint, u64> = BTreeMap::new();
        for tx in &block.txs[1..] {
            for input in &tx.inputs {
                created.remove(&input.prev_out);
            }
            let txid = tx.txid();
            for (vout, output) in tx.outputs.iter().enumerate() {
                created.insert(OutPoint { txid, vout: vout as u32 }, output.amount.to_units());
            }
        }
        let created: u64 = created.values().sum();
        let claimed: u64 = block.txs[0].outputs.iter().map(|o| o.amount.to_units()).sum();
        let fees = spent.checked_sub(created).expect("a block's transactions create no more than they spend");
        let subsidy = chain.params().subsidy(height).to_units();
        let due = subsidy + fees;
        assert!(claimed <= due, "block {hash} at height {height} claims {claimed}, due {due}");
        subsidy_total += subsidy;
        unclaimed_total += due - claimed;
    }
    let expected = subsidy_total.checked_sub(unclaimed_total).expect("unclaimed within subsidy");
    assert_eq!(chain.utxos().total_value().to_units(), expected, "unspent total at height {}", chain.height());
}

#[cfg(test)]
mod seeds;

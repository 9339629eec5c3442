//! The full node in the tab: core's `Node` behind a JavaScript-facing handle. The page's driver
//! (`www/node.js`) owns the WebSocket and the clock: it feeds frames and ticks in and carries the
//! outputs (`poll`) out. Mining goes through `template` and `submit_nonce`.

use js_sys::{Array, Object, Reflect, Uint8Array};
use tabchain_core::{
    Amount, BLOCK_BYTES_MAX, Block, BlockHash, ChangeSet, Event, FeeRate, Node, Output, Params, SecretKey, decode,
    encode, encode_address, hex,
};

use tabchain_core::explorer;
use wasm_bindgen::prelude::*;

/// Wallet history rows handed to the page.
const HISTORY_ROWS_MAX: usize = 50;
/// Branch switches remembered for the fork view.
const SWITCHES_KEPT_MAX: usize = 64;

/// A node, its wallet, the block template being mined, and where the node switched branches.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TabNode {
    node: Node,
    template: Option<Block>,
    /// First block of each branch the node reorganized onto, with the reorg's depth.
    switches: Vec<(BlockHash, u32)>,
}

/// An explorer view as a JavaScript value (serialized JSON, parsed by the page).
fn to_js<T: serde::Serialize>(view: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(view).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("explorer view is not JSON"))
}

fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

#[wasm_bindgen]
impl TabNode {
    /// A node on `network` ("tabchain" or "regtest") whose wallet holds the 32-byte secret
    /// `seed_hex` (from the page's `crypto.getRandomValues`, kept by the page).
    #[wasm_bindgen(constructor)]
    pub fn new(network: &str, seed_hex: &str) -> Result<TabNode, JsError> {
        let params = match network {
            "tabchain" => Params::tabchain(),
            "regtest" => Params::regtest(),
            other => return Err(JsError::new(&format!("unknown network {other:?}"))),
        };
        let seed = hex::decode_array::<32>(seed_hex).map_err(|e| JsError::new(&e.to_string()))?;
        let mut node = Node::new(params, concat!("tabchain-web/", env!("CARGO_PKG_VERSION")));
        node.set_wallet(SecretKey::from_bytes(&seed));
        Ok(TabNode { node, template: None, switches: Vec::new() })
    }

    /// A node rebuilt from the change sets the page stored (each the bytes of one `persist`
    /// output, in the order they came), with the wallet of `seed_hex`. Fails, changing nothing,
    /// when a stored set is corrupt or a stored block breaks the rules.
    pub fn restore(network: &str, seed_hex: &str, sets: Array) -> Result<TabNode, JsError> {
        let mut tab = TabNode::new(network, seed_hex)?;
        let params = *tab.node.chain().params();
        let mut blocks = Vec::new();
        for (i, bytes) in sets.iter().enumerate() {
            let bytes = Uint8Array::new(&bytes).to_vec();
            let set: ChangeSet =
                decode(&bytes).map_err(|e| JsError::new(&format!("stored change set {i} is corrupt: {e}")))?;
            blocks.extend(set.blocks);
        }
        let node = Node::restore(params, concat!("tabchain-web/", env!("CARGO_PKG_VERSION")), blocks)
            .map_err(|e| JsError::new(&format!("a stored block is invalid: {e}")))?;
        let key = tab.node.wallet().expect("new sets a wallet").secret_key().clone();
        tab.node = node;
        tab.node.set_wallet(key);
        Ok(tab)
    }

    pub fn peer_connected(&mut self, peer: f64, now: f64) {
        self.node.handle_peer_connected(peer as u64, now as u64);
    }

    pub fn peer_disconnected(&mut self, peer: f64) {
        self.node.handle_peer_disconnected(peer as u64);
    }

    pub fn message(&mut self, peer: f64, bytes: &[u8], now: f64) {
        self.node.handle_message(peer as u64, bytes, now as u64);
    }

    pub fn tick(&mut self, now: f64) {
        self.node.handle_tick(now as u64);
    }

    /// When `tick` should next be called (Unix seconds).
    pub fn next_tick(&self, now: f64) -> f64 {
        self.node.poll_timeout(now as u64) as f64
    }

    /// Everything the node wants done, as plain objects: `{type: "send", peer, bytes}`,
    /// `{type: "disconnect", peer, reason}`, `{type: "tip", height, hash, reorg_depth}`,
    /// `{type: "sync", height, best_header_height}`, `{type: "tx", txid, accepted, reason}`,
    /// `{type: "rejected", hash, reason}`, `{type: "persist", bytes}`.
    pub fn poll(&mut self) -> Array {
        let outputs = Array::new();
        while let Some(output) = self.node.poll_output() {
            let object = Object::new();
            match output {
                Output::Send { peer, message } => {
                    set(&object, "type", "send");
                    set(&object, "peer", peer as f64);
                    set(&object, "bytes", Uint8Array::from(message.to_bytes().as_slice()));
                }
                Output::Disconnect { peer, reason } => {
                    set(&object, "type", "disconnect");
                    set(&object, "peer", peer as f64);
                    set(&object, "reason", reason.to_string());
                }
                Output::Persist(set_) => {
                    set(&object, "type", "persist");
                    set(&object, "bytes", Uint8Array::from(encode(&set_).as_slice()));
                }
                Output::Event(event) => {
                    if let Event::TipChanged { reorg_depth: depth @ 1.., first_connected: Some(hash), .. } = event {
                        if self.switches.len() == SWITCHES_KEPT_MAX {
                            self.switches.remove(0);
                        }
                        self.switches.push((hash, depth as u32));
                    }
                    event_object(&object, event)
                }
            }
            outputs.push(&object);
        }
        outputs
    }

    /// A fresh block template paying this wallet; returns its 80-byte header as hex.
    pub fn template(&mut self, extra_nonce: f64, now: f64) -> Result<String, JsError> {
        let owner = self.node.wallet().ok_or_else(|| JsError::new("no wallet"))?.owner();
        let block = self.node.block_template(owner, extra_nonce as u64, now as u64);
        let header = hex::encode(&block.header.to_bytes());
        self.template = Some(block);
        Ok(header)
    }

    /// Submits the current template with `nonce`; returns whether the node accepted it.
    pub fn submit_nonce(&mut self, nonce: u32, now: f64) -> bool {
        let Some(mut block) = self.template.take() else { return false };
        block.header.nonce = nonce;
        self.node.submit_block(block, now as u64).is_ok()
    }

    /// A whole block from outside (pasted as hex, or a test's), validated exactly as one from a
    /// peer; returns its hash, or why it was refused (the chain is then unchanged).
    pub fn submit_block(&mut self, block_hex: &str, now: f64) -> Result<String, JsError> {
        if block_hex.len() > 2 * BLOCK_BYTES_MAX {
            return Err(JsError::new(&format!("not a block: larger than {BLOCK_BYTES_MAX} bytes")));
        }
        let bytes = hex::decode(block_hex.trim()).map_err(|e| JsError::new(&format!("not hex: {e}")))?;
        let block = Block::from_bytes(&bytes).map_err(|e| JsError::new(&format!("not a block: {e}")))?;
        let hash = block.block_hash();
        self.node.submit_block(block, now as u64).map_err(|e| JsError::new(&format!("rejected: {e}")))?;
        Ok(hash.to_string())
    }

    /// Builds, signs and submits a payment of `amount` (decimal TAB) to `address` at
    /// `fee_rate` (base units per 1000 bytes); returns the txid, or why not (bad address, dust,
    /// insufficient funds, refused by the mempool).
    pub fn pay(&mut self, address: &str, amount: &str, fee_rate: f64, now: f64) -> Result<String, JsError> {
        let amount: Amount =
            amount.trim().parse().map_err(|e: tabchain_core::AmountError| JsError::new(&e.to_string()))?;
        let wallet = self.node.wallet().ok_or_else(|| JsError::new("no wallet"))?;
        let tx = wallet
            .pay_to_address(self.node.chain(), self.node.mempool(), address, amount, FeeRate(fee_rate as u64))
            .map_err(|e| JsError::new(&e.to_string()))?;
        let txid = self.node.submit_transaction(tx, now as u64).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(txid.to_string())
    }

    /// The wallet's transactions, newest first: `{txid, height, confirmations, received, sent}`
    /// (amounts in decimal TAB; `height` null while unconfirmed).
    pub fn history(&self) -> Array {
        let out = Array::new();
        let Some(wallet) = self.node.wallet() else { return out };
        let tip = self.node.chain().height();
        for tx in wallet.history(self.node.mempool()).into_iter().take(HISTORY_ROWS_MAX) {
            let object = Object::new();
            set(&object, "txid", tx.txid.to_string());
            set(&object, "height", tx.height.map_or(JsValue::NULL, JsValue::from));
            set(&object, "confirmations", tx.confirmations(tip));
            set(&object, "received", tx.received.to_string());
            set(&object, "sent", tx.sent.to_string());
            set(&object, "coinbase", tx.is_coinbase);
            out.push(&object);
        }
        out
    }

    /// The stored blocks of the last `depth` heights, on every branch, lowest first:
    /// `{hash, height, prev, active, invalid, mined_by, mine, txs, time, switched_here}`, where
    /// `switched_here` is the depth of the reorg that made this block the start of the active
    /// branch (0 if none did).
    pub fn block_tree(&self, depth: u32) -> Array {
        let chain = self.node.chain();
        let own = self.node.wallet().map(|w| w.owner());
        let out = Array::new();
        for entry in chain.blocks_since(chain.height().saturating_sub(depth)) {
            let object = Object::new();
            let hash = entry.block_hash();
            let miner = entry.block.txs[0].outputs[0].owner;
            set(&object, "hash", hash.to_string());
            set(&object, "height", entry.height);
            set(&object, "prev", entry.header().prev_blockhash.to_string());
            set(&object, "active", chain.is_active(&hash));
            set(&object, "invalid", entry.is_invalid());
            set(&object, "mined_by", encode_address(chain.params().address_hrp, &miner));
            set(&object, "mine", Some(miner) == own);
            set(&object, "txs", entry.block.txs.len() as u32);
            set(&object, "time", entry.header().time);
            let switched = self.switches.iter().rev().find(|(h, _)| *h == hash).map_or(0, |(_, depth)| *depth);
            set(&object, "switched_here", switched);
            out.push(&object);
        }
        out
    }

    /// The explorer's search box: a height, block hash, txid or address, as
    /// `{kind: "block" | "tx" | "address", view}` (the views of the relay's API).
    pub fn search(&self, query: &str) -> Result<JsValue, JsError> {
        let found = explorer::search(self.node.chain(), self.node.mempool(), query)
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&found)
    }

    /// The active chain's newest blocks, the tip first.
    pub fn recent_blocks(&self) -> Result<JsValue, JsError> {
        to_js(&explorer::recent_blocks(self.node.chain()))
    }

    /// The mempool's size and best-paying transactions.
    pub fn mempool(&self) -> Result<JsValue, JsError> {
        to_js(&explorer::mempool(self.node.mempool()))
    }

    /// A snapshot for the page.
    pub fn status(&self) -> Object {
        let chain = self.node.chain();
        let object = Object::new();
        set(&object, "height", chain.height());
        set(&object, "tip", chain.tip_hash().to_string());
        set(&object, "genesis", chain.params().genesis_hash().to_string());
        set(&object, "best_header_height", chain.best_header().1);
        set(&object, "peers", self.node.peer_heights().count() as u32);
        set(&object, "mempool_txs", self.node.mempool().len() as u32);
        set(&object, "difficulty", explorer::difficulty(chain, chain.tip()));
        set(&object, "network_hashrate", explorer::network_hashrate(chain));
        // Hashes one block takes on average at the tip's target, for "expected time to a block".
        let block_work = chain.tip().header().bits.to_target().map_or(0.0, |t| t.work().to_f64());
        set(&object, "block_work", block_work);
        if let Some(wallet) = self.node.wallet() {
            let balance = wallet.balance(chain, self.node.mempool());
            set(&object, "address", encode_address(chain.params().address_hrp, &wallet.owner()));
            set(&object, "confirmed", balance.confirmed.to_string());
            set(&object, "immature", balance.immature.to_string());
            set(&object, "pending", balance.pending.to_string());
        }
        object
    }
}

fn event_object(object: &Object, event: Event) {
    match event {
        Event::TipChanged { hash, height, reorg_depth, .. } => {
            set(object, "type", "tip");
            set(object, "hash", hash.to_string());
            set(object, "height", height);
            set(object, "reorg_depth", reorg_depth as u32);
        }
        Event::SyncProgress { height, best_header_height } => {
            set(object, "type", "sync");
            set(object, "height", height);
            set(object, "best_header_height", best_header_height);
        }
        Event::TxAccepted { txid } => {
            set(object, "type", "tx");
            set(object, "txid", txid.to_string());
            set(object, "accepted", true);
        }
        Event::TxRejected { txid, reason } => {
            set(object, "type", "tx");
            set(object, "txid", txid.to_string());
            set(object, "accepted", false);
            set(object, "reason", reason.to_string());
        }
        Event::BlockRejected { hash, reason, .. } => {
            set(object, "type", "rejected");
            set(object, "hash", hash.to_string());
            set(object, "reason", reason.to_string());
        }
        Event::PeerReady { peer, best_height } => {
            set(object, "type", "peer");
            set(object, "peer", peer as f64);
            set(object, "best_height", best_height);
        }
    }
}

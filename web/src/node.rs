//! The full node in the tab: core's `Node` behind a JavaScript-facing handle. The page's driver
//! (`www/node.js`) owns the WebSocket and the clock: it feeds frames and ticks in and carries the
//! outputs (`poll`) out. Mining goes through `template` and `submit_nonce`. Every value handed to
//! the page is one of core's serde views (`www/protocol.js` documents their shapes).

use crate::resume::TabCheckpoint;
use js_sys::Array;
use js_sys::Uint8Array;
use serde::Serialize;
use tabchain_core::explorer;
use tabchain_core::{
    Amount, Block, BlockHash, FeeRate, InvItem, LinkRole, MESSAGE_BYTES_MAX, Message, Network, Node, Output,
    SIGNAL_BYTES_MAX, SecretKey, check_fetched_block, hex, pruned_block_hash,
};
use wasm_bindgen::prelude::*;

/// Wallet history rows handed to the page.
const HISTORY_ROWS_MAX: usize = 50;
pub(crate) const USER_AGENT: &str = concat!("tabchain-web/", env!("CARGO_PKG_VERSION"));

/// A node, its wallet, and the block template being mined.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TabNode {
    node: Node,
    template: Option<Block>,
}

/// A core value as the plain JavaScript object the page reads: maps as objects, bytes as
/// `Uint8Array`, `None` as `null`.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    let serializer =
        serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true).serialize_missing_as_null(true);
    value.serialize(&serializer).map_err(|e| JsError::new(&e.to_string()))
}

pub(crate) fn error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A node on the network named `network` (`Network`'s names) whose wallet holds the 32-byte
/// secret `seed_hex`.
fn node_with_wallet(network: &str, seed_hex: &str) -> Result<(Node, SecretKey), JsError> {
    let network: Network = network.parse().map_err(error)?;
    let seed = hex::decode_array::<32>(seed_hex).map_err(error)?;
    Ok((Node::new(network.params(), USER_AGENT), SecretKey::from_bytes(&seed)))
}

impl TabNode {
    /// The handle around a node, new or resumed from storage (`TabResume::finish`): a tab is an
    /// end of direct links, never a broker of them, and joins a long chain by snapshot while it
    /// is at genesis (the page checkpoints on `snapshot_adopted`).
    pub(crate) fn from_node(mut node: Node) -> Self {
        node.set_link_role(LinkRole::Endpoint);
        node.set_snapshot_sync(true);
        Self { node, template: None }
    }
}

#[wasm_bindgen]
impl TabNode {
    /// A node on `network` ("tabchain" or "regtest") whose wallet holds the 32-byte secret
    /// `seed_hex` (from the page's `crypto.getRandomValues`, kept by the page).
    #[wasm_bindgen(constructor)]
    pub fn new(network: &str, seed_hex: &str) -> Result<TabNode, JsError> {
        let (mut node, key) = node_with_wallet(network, seed_hex)?;
        node.set_wallet(key);
        Ok(TabNode::from_node(node))
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

    /// Asks the relay `via` for tabs to link with directly (the answer comes as a `link_offer`).
    pub fn ask_links(&mut self, via: f64) {
        self.node.ask_links(via as u64);
    }

    /// Sends WebRTC set-up data to `peer` (an id from a `link_offer`) through the relay `via`;
    /// throws if it is over `SIGNAL_BYTES_MAX`.
    pub fn signal(&mut self, via: f64, peer: f64, payload: &[u8]) -> Result<(), JsError> {
        if payload.len() > SIGNAL_BYTES_MAX {
            return Err(JsError::new(&format!("link set-up data over {SIGNAL_BYTES_MAX} bytes")));
        }
        self.node.signal(via as u64, peer as u64, payload.to_vec());
        Ok(())
    }

    pub fn tick(&mut self, now: f64) {
        self.node.handle_tick(now as u64);
    }

    /// When `tick` should next be called (Unix seconds).
    pub fn next_tick(&self, now: f64) -> f64 {
        self.node.poll_timeout(now as u64) as f64
    }

    /// Everything the node wants done, as plain objects (`Output`'s serde form).
    pub fn poll(&mut self) -> Result<Array, JsError> {
        let outputs = Array::new();
        while let Some(output) = self.node.poll_output() {
            let output = match output {
                // The tab keeps no block the node evicted from memory: it says so.
                Output::SendStoredBlock { peer, hash } => {
                    Output::Send { peer, message: Message::NotFound(vec![InvItem::Block(hash)]) }
                }
                other => other,
            };
            outputs.push(&to_js(&output)?);
        }
        Ok(outputs)
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
        let block = explorer::block_from_hex(block_hex).map_err(error)?;
        let hash = block.block_hash();
        self.node.submit_block(block, now as u64).map_err(|e| JsError::new(&format!("rejected: {e}")))?;
        Ok(hash.to_string())
    }

    /// Builds, signs and submits a payment of `amount` (decimal TAB) to `address` at
    /// `fee_rate` (base units per 1000 bytes); returns the txid, or why not (bad address, dust,
    /// insufficient funds, refused by the mempool).
    pub fn pay(&mut self, address: &str, amount: &str, fee_rate: f64, now: f64) -> Result<String, JsError> {
        let amount: Amount = amount.trim().parse().map_err(error)?;
        let wallet = self.node.wallet().ok_or_else(|| JsError::new("no wallet"))?;
        let tx = wallet
            .pay_to_address(self.node.chain(), self.node.mempool(), address, amount, FeeRate(fee_rate as u64))
            .map_err(error)?;
        let txid = self.node.submit_transaction(tx, now as u64).map_err(error)?;
        Ok(txid.to_string())
    }

    /// The fee a payment of `amount` (decimal TAB) at `fee_rate` (base units per 1000 bytes)
    /// would pay now, as decimal TAB; throws why it cannot be made (dust, insufficient funds).
    pub fn payment_fee(&self, amount: &str, fee_rate: f64) -> Result<String, JsError> {
        let amount: Amount = amount.trim().parse().map_err(error)?;
        let wallet = self.node.wallet().ok_or_else(|| JsError::new("no wallet"))?;
        let fee = wallet
            .payment_fee(self.node.chain(), self.node.mempool(), amount, FeeRate(fee_rate as u64))
            .map_err(error)?;
        Ok(fee.to_string())
    }

    /// The fee tiers and the projected next block (`explorer::FeesView`).
    pub fn fees(&self) -> Result<JsValue, JsError> {
        to_js(&explorer::fees(self.node.mempool()))
    }

    /// The active chain's last `n` blocks' times, intervals and difficulty
    /// (`explorer::BlockTimingView`), lowest first.
    pub fn block_timing(&self, n: u32) -> Result<JsValue, JsError> {
        to_js(&explorer::block_timing(self.node.chain(), n))
    }

    /// The time the network aims for between blocks (seconds), which ASERT steers towards.
    pub fn target_spacing_s(&self) -> f64 {
        self.node.chain().params().target_spacing_s()
    }

    /// The wallet's newest transactions (`explorer::WalletTxView`), newest first.
    pub fn history(&self) -> Result<JsValue, JsError> {
        to_js(&explorer::wallet_history(&self.node, HISTORY_ROWS_MAX))
    }

    /// How many confirmed transactions the wallet's history holds in all (`history` hands out
    /// the newest `HISTORY_ROWS_MAX`, pending ones first).
    pub fn history_len(&self) -> usize {
        self.node.wallet().map_or(0, |wallet| wallet.n_confirmed())
    }

    /// The stored blocks of the last `depth` heights on every branch (`explorer::TreeBlockView`),
    /// lowest first.
    pub fn block_tree(&self, depth: u32) -> Result<JsValue, JsError> {
        let own = self.node.wallet().map(|w| w.owner());
        to_js(&explorer::block_tree(&self.node, depth, own))
    }

    /// The explorer's search box: a height, block hash, txid or address, as
    /// `{kind: "block" | "tx" | "address", view}` (the views of the relay's API).
    pub fn search(&self, query: &str) -> Result<JsValue, JsError> {
        to_js(&explorer::search(self.node.chain(), self.node.mempool(), query).map_err(error)?)
    }

    /// The active chain's newest blocks, the tip first.
    pub fn recent_blocks(&self) -> Result<JsValue, JsError> {
        to_js(&explorer::recent_blocks(self.node.chain()))
    }

    /// The mempool's size and best-paying transactions.
    pub fn mempool(&self) -> Result<JsValue, JsError> {
        to_js(&explorer::mempool(self.node.mempool()))
    }

    /// Begins a checkpoint of the node's state, for the page to store in place of every change set
    /// handed out so far; take its records with `checkpoint_record`. Call it right after `poll`,
    /// before any other input: it fails while a change set is still to be handed out.
    pub fn checkpoint(&self) -> Result<TabCheckpoint, JsError> {
        let cursor =
            self.node.checkpoint().ok_or_else(|| JsError::new("a change set is still to be handed out: poll first"))?;
        Ok(TabCheckpoint { cursor })
    }

    /// The next record of `checkpoint` as a new `Uint8Array`; `undefined` after the last. A
    /// checkpoint of a node whose chain moved since it began fails rather than mixing two states
    /// (`checkpoint_moved` tells that apart from other failures).
    pub fn checkpoint_record(&self, checkpoint: &mut TabCheckpoint) -> Result<Option<Uint8Array>, JsError> {
        let record =
            self.node.next_checkpoint_record(&mut checkpoint.cursor).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(record.map(|bytes| Uint8Array::from(bytes.as_slice())))
    }

    /// Whether the node's chain moved since `checkpoint` began (a block was submitted while it
    /// was being taken): its records would not fit together, so the shell takes it again.
    pub fn checkpoint_moved(&self, checkpoint: &TabCheckpoint) -> bool {
        self.node.checkpoint_moved(&checkpoint.cursor)
    }

    /// The hash of the active block named by `query` (a height or a block hash) whose header
    /// this node knows but whose body it no longer holds, to fetch from the relay; `undefined`
    /// otherwise.
    pub fn pruned_block(&self, query: &str) -> Option<String> {
        pruned_block_hash(self.node.chain(), query).map(|hash| hash.to_string())
    }

    /// The block `hash` (from `pruned_block`), fetched as hex, checked against this node's
    /// active header chain (`check_fetched_block`), as `{block, verified}`; throws why it cannot
    /// be shown.
    pub fn fetched_block(&self, hash: &str, block_hex: &str) -> Result<JsValue, JsError> {
        let asked: BlockHash = hash.parse().map_err(error)?;
        let block = explorer::block_from_hex(block_hex).map_err(error)?;
        to_js(&check_fetched_block(self.node.chain(), asked, &block).map_err(error)?)
    }

    /// A wallet history entry below the blocks this node holds, as the relay serves its proof
    /// (`GET /api/tx/{txid}/proof`: block hash, transaction hex, proof hex), checked against this
    /// node's active header chain (`check_tx_proof`), as a `ProvenTxView` whose amount received
    /// is read from the proven transaction; throws why it cannot be shown as proven.
    pub fn proven_tx(&self, block: &str, tx_hex: &str, proof_hex: &str) -> Result<JsValue, JsError> {
        let owner = self.node.wallet().ok_or_else(|| JsError::new("no wallet"))?.owner();
        let proof = explorer::TxProof::from_hex(block, tx_hex, proof_hex).map_err(error)?;
        to_js(&explorer::check_tx_proof(self.node.chain(), &proof, &owner).map_err(error)?)
    }

    /// The lowest height whose block this node holds: the wallet's history below it (a snapshot
    /// it joined by, or blocks it pruned) comes from the relay, proven (`proven_tx`).
    pub fn held_from_height(&self) -> u32 {
        self.node.chain().kept_from_height()
    }

    /// The largest protocol message, in bytes (`MESSAGE_BYTES_MAX`): a longer frame from a direct
    /// link is refused before it is copied into wasm memory.
    pub fn message_bytes_max(&self) -> usize {
        MESSAGE_BYTES_MAX
    }

    /// The connected peers (`PeerView`: id, ready, best height, when connected, ping time).
    pub fn peers(&self) -> Result<JsValue, JsError> {
        to_js(&self.node.peers().collect::<Vec<_>>())
    }

    /// The node's status with its wallet (`explorer::StatusView`).
    pub fn status(&self) -> Result<JsValue, JsError> {
        to_js(&explorer::status(&self.node))
    }
}

//! The HTTP API under `/api`: JSON views of the node's chain, mempool and peers, and submitting
//! a transaction. Bad parameters get 400, unknown objects 404, both as `{"error": "..."}`.
//! `openapi.json` documents it; `docs` renders that document without any network access.

use crate::driver::{Driver, PeerInfo, now};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use tabchain_core::{
    Amount, BlockEntry, BlockHash, Chain, Node, OutPoint, Transaction, TxOut, Txid, decode, decode_address,
    encode_address, hex,
};

/// Blocks the network hash rate is estimated over.
const HASHRATE_WINDOW_BLOCKS: u32 = 60;
/// History entries returned for an address.
const ADDRESS_HISTORY_MAX: usize = 100;
/// Pooled transactions listed by `/api/mempool`.
const MEMPOOL_LIST_MAX: usize = 100;
/// Blocks listed by `/api/blocks`.
const RECENT_BLOCKS_MAX: u32 = 50;

pub fn router() -> Router<Arc<Driver>> {
    Router::new()
        .route("/status", get(status))
        .route("/blocks", get(recent_blocks))
        .route("/blocks/{id}", get(block))
        .route("/tx", post(submit_tx))
        .route("/tx/{txid}", get(tx))
        .route("/address/{address}", get(address))
        .route("/mempool", get(mempool))
        .route("/peers", get(peers))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
}

/// An API error: a status and a reason, sent as JSON.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

fn bad_request(reason: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, reason.into())
}

fn not_found(reason: impl Into<String>) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, reason.into())
}

#[derive(Serialize)]
struct Status {
    network: &'static str,
    height: u32,
    tip: String,
    difficulty: f64,
    network_hashrate: f64,
    peers: usize,
    mempool_txs: usize,
    mempool_bytes: usize,
    best_header_height: u32,
}

async fn status(State(driver): State<Arc<Driver>>) -> Json<Status> {
    let peers = driver.n_peers();
    Json(driver.read(|node| {
        let chain = node.chain();
        let tip = chain.tip();
        Status {
            network: chain.params().address_hrp,
            height: chain.height(),
            tip: chain.tip_hash().to_string(),
            difficulty: difficulty(chain, tip),
            network_hashrate: network_hashrate(chain),
            peers,
            mempool_txs: node.mempool().len(),
            mempool_bytes: node.mempool().total_bytes(),
            best_header_height: chain.best_header().1,
        }
    }))
}

fn difficulty(chain: &Chain, entry: &BlockEntry) -> f64 {
    entry.header().bits.to_target().map_or(0.0, |t| t.difficulty(chain.params().pow_limit))
}

/// Expected hashes per second over the last blocks: work done divided by the time it took.
fn network_hashrate(chain: &Chain) -> f64 {
    let tip = chain.tip();
    let start_height = tip.height.saturating_sub(HASHRATE_WINDOW_BLOCKS);
    let Some(start) = chain.hash_at(start_height).and_then(|h| chain.entry(&h)) else { return 0.0 };
    let seconds = f64::from(tip.header().time.saturating_sub(start.header().time));
    let work = tip.chain_work.to_f64() - start.chain_work.to_f64();
    if seconds > 0.0 { work / seconds } else { 0.0 }
}

#[derive(Serialize)]
struct BlockJson {
    hash: String,
    height: u32,
    active: bool,
    confirmations: u32,
    version: i32,
    prev_hash: String,
    merkle_root: String,
    time: u32,
    bits: String,
    target: String,
    nonce: u32,
    difficulty: f64,
    size_bytes: usize,
    txids: Vec<String>,
}

fn block_json(chain: &Chain, entry: &BlockEntry) -> BlockJson {
    let header = entry.header();
    let active = chain.is_active(&entry.block_hash());
    BlockJson {
        hash: entry.block_hash().to_string(),
        height: entry.height,
        active,
        confirmations: if active { chain.height() + 1 - entry.height } else { 0 },
        version: header.version,
        prev_hash: header.prev_blockhash.to_string(),
        merkle_root: header.merkle_root.to_string(),
        time: header.time,
        bits: header.bits.to_string(),
        target: header.bits.to_target().map(|t| format!("{t:064x}")).unwrap_or_default(),
        nonce: header.nonce,
        difficulty: difficulty(chain, entry),
        size_bytes: entry.block.size_bytes(),
        txids: entry.block.txs.iter().map(|tx| tx.txid().to_string()).collect(),
    }
}

async fn block(State(driver): State<Arc<Driver>>, Path(id): Path<String>) -> Result<Json<BlockJson>, ApiError> {
    driver.read(|node| {
        let chain = node.chain();
        let hash = if let Ok(height) = id.parse::<u32>() {
            chain.hash_at(height).ok_or_else(|| not_found(format!("no block at height {height}")))?
        } else {
            id.parse::<BlockHash>().map_err(|e| bad_request(format!("not a height or block hash: {e}")))?
        };
        let entry = chain.entry(&hash).ok_or_else(|| not_found(format!("unknown block {hash}")))?;
        Ok(Json(block_json(chain, entry)))
    })
}

async fn recent_blocks(State(driver): State<Arc<Driver>>) -> Json<Vec<BlockJson>> {
    Json(driver.read(|node| {
        let chain = node.chain();
        let low = chain.height().saturating_sub(RECENT_BLOCKS_MAX - 1);
        (low..=chain.height())
            .rev()
            .filter_map(|h| chain.hash_at(h).and_then(|hash| chain.entry(&hash)))
            .map(|entry| block_json(chain, entry))
            .collect()
    }))
}

#[derive(Serialize)]
struct OutputJson {
    amount: String,
    amount_units: u64,
    address: String,
}

#[derive(Serialize)]
struct InputJson {
    txid: String,
    vout: u32,
    coinbase: bool,
}

#[derive(Serialize)]
struct TxJson {
    txid: String,
    status: &'static str,
    block: Option<String>,
    height: Option<u32>,
    confirmations: u32,
    fee_units: Option<u64>,
    size_bytes: usize,
    inputs: Vec<InputJson>,
    outputs: Vec<OutputJson>,
}

fn output_json(chain: &Chain, output: &TxOut) -> OutputJson {
    OutputJson {
        amount: output.amount.to_string(),
        amount_units: output.amount.to_units(),
        address: encode_address(chain.params().address_hrp, &output.owner),
    }
}

fn tx_json(chain: &Chain, tx: &Transaction, placed: Option<(BlockHash, u32)>, fee: Option<Amount>) -> TxJson {
    TxJson {
        txid: tx.txid().to_string(),
        status: if placed.is_some() { "confirmed" } else { "mempool" },
        block: placed.map(|(hash, _)| hash.to_string()),
        height: placed.map(|(_, height)| height),
        confirmations: placed.map_or(0, |(_, height)| chain.height() + 1 - height),
        fee_units: fee.map(Amount::to_units),
        size_bytes: tx.size_bytes(),
        inputs: tx
            .inputs
            .iter()
            .map(|i| InputJson {
                txid: i.prev_out.txid.to_string(),
                vout: i.prev_out.vout,
                coinbase: i.prev_out.is_coinbase_marker(),
            })
            .collect(),
        outputs: tx.outputs.iter().map(|o| output_json(chain, o)).collect(),
    }
}

/// Finds a confirmed transaction by walking the active chain from the tip.
fn find_confirmed(chain: &Chain, txid: &Txid) -> Option<(Transaction, BlockHash, u32)> {
    (0..=chain.height()).rev().find_map(|height| {
        let hash = chain.hash_at(height)?;
        let tx = chain.entry(&hash)?.block.txs.iter().find(|tx| tx.txid() == *txid)?.clone();
        Some((tx, hash, height))
    })
}

async fn tx(State(driver): State<Arc<Driver>>, Path(txid): Path<String>) -> Result<Json<TxJson>, ApiError> {
    let txid: Txid = txid.parse().map_err(|e| bad_request(format!("not a txid: {e}")))?;
    driver.read(|node| {
        let chain = node.chain();
        if let Some(entry) = node.mempool().get(&txid) {
            return Ok(Json(tx_json(chain, &entry.tx, None, Some(entry.fee))));
        }
        let (tx, hash, height) =
            find_confirmed(chain, &txid).ok_or_else(|| not_found(format!("unknown transaction {txid}")))?;
        Ok(Json(tx_json(chain, &tx, Some((hash, height)), None)))
    })
}

#[derive(serde::Deserialize)]
struct SubmitTx {
    hex: String,
}

async fn submit_tx(
    State(driver): State<Arc<Driver>>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Accepts `{"hex": "..."}` or the bare hex.
    let text = std::str::from_utf8(&body).map_err(|_| bad_request("body is not UTF-8"))?.trim();
    let hex_text = match serde_json::from_str::<SubmitTx>(text) {
        Ok(json) => json.hex,
        Err(_) => text.trim_matches('"').to_owned(),
    };
    if hex_text.len() > 2 * tabchain_core::TX_BYTES_MAX {
        return Err(bad_request("transaction larger than TX_BYTES_MAX"));
    }
    let bytes = hex::decode(&hex_text).map_err(|e| bad_request(format!("not hex: {e}")))?;
    let tx: Transaction = decode(&bytes).map_err(|e| bad_request(format!("not a transaction: {e}")))?;
    let result = driver.with_node(|node| node.submit_transaction(tx, now()));
    match result {
        Ok(txid) => Ok(Json(serde_json::json!({ "txid": txid.to_string() }))),
        Err(reason) => Err(bad_request(format!("rejected: {reason}"))),
    }
}

#[derive(Serialize)]
struct AddressJson {
    address: String,
    confirmed_units: u64,
    immature_units: u64,
    pending_units: u64,
    confirmed: String,
    history: Vec<HistoryJson>,
}

#[derive(Serialize)]
struct HistoryJson {
    txid: String,
    height: Option<u32>,
    confirmations: u32,
    received_units: u64,
    sent_units: u64,
}

async fn address(State(driver): State<Arc<Driver>>, Path(text): Path<String>) -> Result<Json<AddressJson>, ApiError> {
    driver.read(|node| {
        let chain = node.chain();
        let owner = decode_address(chain.params().address_hrp, &text).map_err(|e| bad_request(e.to_string()))?;
        Ok(Json(address_json(node, owner, &text)))
    })
}

fn address_json(node: &Node, owner: tabchain_core::PublicKey, text: &str) -> AddressJson {
    let chain = node.chain();
    let maturity = chain.params().coinbase_maturity;
    let (mut confirmed, mut immature) = (0u64, 0u64);
    for (_, coin) in chain.utxos().iter().filter(|(_, c)| c.output.owner == owner) {
        if coin.is_coinbase && chain.height() + 1 - coin.height < maturity {
            immature += coin.output.amount.to_units();
        } else {
            confirmed += coin.output.amount.to_units();
        }
    }
    let pending = node
        .mempool()
        .iter()
        .flat_map(|e| e.tx.outputs.iter())
        .filter(|o| o.owner == owner)
        .map(|o| o.amount.to_units())
        .sum();
    let mut history = Vec::new();
    let mut received_by_outpoint: std::collections::HashMap<OutPoint, u64> = std::collections::HashMap::new();
    for height in 0..=chain.height() {
        let Some(entry) = chain.hash_at(height).and_then(|h| chain.entry(&h)) else { continue };
        for tx in &entry.block.txs {
            let txid = tx.txid();
            let sent: u64 = tx.inputs.iter().filter_map(|i| received_by_outpoint.remove(&i.prev_out)).sum();
            let mut received = 0;
            for (vout, output) in tx.outputs.iter().enumerate().filter(|(_, o)| o.owner == owner) {
                received += output.amount.to_units();
                received_by_outpoint.insert(OutPoint { txid, vout: vout as u32 }, output.amount.to_units());
            }
            if sent > 0 || received > 0 {
                history.push(HistoryJson {
                    txid: txid.to_string(),
                    height: Some(height),
                    confirmations: chain.height() + 1 - height,
                    received_units: received,
                    sent_units: sent,
                });
            }
        }
    }
    history.reverse();
    history.truncate(ADDRESS_HISTORY_MAX);
    AddressJson {
        address: text.to_owned(),
        confirmed_units: confirmed,
        immature_units: immature,
        pending_units: pending,
        confirmed: Amount::from_units(confirmed).map(|a| a.to_string()).unwrap_or_default(),
        history,
    }
}

#[derive(Serialize)]
struct MempoolJson {
    txs: usize,
    bytes: usize,
    top: Vec<MempoolTxJson>,
}

#[derive(Serialize)]
struct MempoolTxJson {
    txid: String,
    fee_units: u64,
    size_bytes: usize,
    fee_rate_units_per_kb: u64,
}

async fn mempool(State(driver): State<Arc<Driver>>) -> Json<MempoolJson> {
    Json(driver.read(|node| {
        let pool = node.mempool();
        let mut top: Vec<MempoolTxJson> = pool
            .iter()
            .map(|e| MempoolTxJson {
                txid: e.tx.txid().to_string(),
                fee_units: e.fee.to_units(),
                size_bytes: e.size_bytes,
                fee_rate_units_per_kb: e.fee_rate().0,
            })
            .collect();
        top.sort_by_key(|t| std::cmp::Reverse(t.fee_rate_units_per_kb));
        top.truncate(MEMPOOL_LIST_MAX);
        MempoolJson { txs: pool.len(), bytes: pool.total_bytes(), top }
    }))
}

async fn peers(State(driver): State<Arc<Driver>>) -> Json<Vec<PeerInfo>> {
    Json(driver.peers())
}

const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("api-docs.html"))
}

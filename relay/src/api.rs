//! The HTTP API under `/api`: JSON views of the node's chain, mempool and peers, and submitting
//! a transaction. Bad parameters get 400, unknown objects 404, both as `{"error": "..."}`;
//! submissions are JSON only (415 otherwise). `http_limits` adds the limits around it.
//! `openapi.json` documents it (as `openapi::document` gives it for the relay's network); `docs`
//! renders that document without any network access.
//!
//! Blocks, confirmed transactions and addresses are read from the store's indexes
//! (`chain_index`) in one redb read transaction, without the node's lock; only the mempool's
//! part of a lookup takes the lock, for work bounded by the mempool's size, and only after the
//! store was read.

use crate::api_params::{self, ParamChecks};
use crate::chain_index::{HistoryCursor, IndexRead};
use crate::driver::{Driver, now};
use crate::peers::PeerInfo;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::BTreeMap;
use std::sync::Arc;
use tabchain_core::explorer::{
    self, AddressView, BlockId, BlockView, LookupError, MempoolView, RECENT_BLOCKS_MAX, StatusView, TxPlacement,
    TxProofView, TxView,
};
use tabchain_core::{OutPoint, Params, Transaction, TxOut, Txid, encode, hex};

/// History rows an address page lists when `?limit=` is not given (as many as the tab shows).
pub const ADDRESS_HISTORY_PAGE_DEFAULT: usize = explorer::ADDRESS_HISTORY_MAX;
/// The most history rows one address page lists (`?limit=`); openapi.json states the same.
pub const ADDRESS_HISTORY_PAGE_MAX: usize = 500;
const _: () = assert!(ADDRESS_HISTORY_PAGE_DEFAULT <= ADDRESS_HISTORY_PAGE_MAX);

pub fn router(network: &Params) -> Router<Arc<Driver>> {
    let document = crate::openapi::document(network);
    let params = ParamChecks::from_openapi(&document).expect("openapi.json gives every path parameter a schema");
    let document = Bytes::from(document);
    Router::new()
        .route("/status", get(status))
        .route("/blocks", get(recent_blocks))
        .route("/blocks/{id}", get(block))
        .route("/blocks/{id}/hex", get(block_hex))
        .route("/block", post(submit_block))
        .route("/tx", post(submit_tx))
        .route("/tx/{txid}", get(tx))
        .route("/tx/{txid}/proof", get(tx_proof))
        .route("/address/{address}", get(address))
        .route("/mempool", get(mempool))
        .route("/peers", get(peers))
        .route("/openapi.json", get(move || openapi(document.clone())))
        .route("/docs", get(docs))
        .route_layer(axum::middleware::from_fn_with_state(Arc::new(params), api_params::check))
}

/// An API error: a status and a reason, sent as JSON.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self(status, reason.into())
    }
}

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

/// A store that cannot be read is the relay's fault: 500, with the details in the log only.
impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        tracing::error!("cannot read the store: {error:#}");
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the store".into())
    }
}

/// Runs `read` in one redb read transaction on tokio's blocking pool. Each lookup is a few
/// B-tree descents, usually in redb's cache, but a miss waits on the disk, which may be busy
/// with the driver's commits: on the blocking pool that wait stalls no async worker (which also
/// carries the peers' WebSockets). `http_limits` caps the API's requests in flight, so this
/// takes few threads.
async fn read_store<R: Send + 'static>(
    driver: &Arc<Driver>,
    read: impl FnOnce(&IndexRead, &Params) -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    let driver = driver.clone();
    let task =
        tokio::task::spawn_blocking(move || read(&IndexRead::begin(driver.store().db()?.as_ref())?, driver.params()));
    task.await.map_err(|e| ApiError::from(anyhow::anyhow!("a store read ended: {e}")))?
}

async fn status(State(driver): State<Arc<Driver>>) -> Json<StatusView> {
    let mut view = driver.read(explorer::status);
    view.time = Some(now());
    view.ice_servers = driver.discovery.ice_servers().to_vec();
    Json(view)
}

fn lookup_error(error: LookupError) -> ApiError {
    match error {
        LookupError::BadQuery(reason) => bad_request(reason),
        LookupError::NotFound(reason) => not_found(reason),
    }
}

async fn block(State(driver): State<Arc<Driver>>, Path(id): Path<String>) -> Result<Json<BlockView>, ApiError> {
    let id = BlockId::parse(&id).map_err(lookup_error)?;
    read_store(&driver, move |read, params| stored_block_view(read, params, id)).await.map(Json)
}

/// A stored block by height (active chain) or hash (any branch).
fn stored_block_view(read: &IndexRead, params: &Params, id: BlockId) -> Result<BlockView, ApiError> {
    let hash = match id {
        BlockId::Height(height) => read.active_hash(height)?.ok_or_else(|| lookup_error(id.not_found()))?,
        BlockId::Hash(hash) => hash,
    };
    let block = read.block(params, &hash)?.ok_or_else(|| lookup_error(id.not_found()))?;
    let height =
        block.txs[0].coinbase_height().ok_or_else(|| anyhow::anyhow!("stored block {hash} has no coinbase"))?;
    let active = read.active_hash(height)? == Some(hash);
    Ok(explorer::block_view(params, &block, height, active, read.tip_height()?))
}

/// A block's raw encoding as `{"hex": "..."}`, by height (active chain) or hash (any branch),
/// from the store: what a pruned tab fetches to show a block it no longer holds (it checks the
/// block against its own headers before showing it).
async fn block_hex(
    State(driver): State<Arc<Driver>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = BlockId::parse(&id).map_err(lookup_error)?;
    let hex = read_store(&driver, move |read, params| {
        let hash = match id {
            BlockId::Height(height) => read.active_hash(height)?.ok_or_else(|| lookup_error(id.not_found()))?,
            BlockId::Hash(hash) => hash,
        };
        let block = read.block(params, &hash)?.ok_or_else(|| lookup_error(id.not_found()))?;
        Ok(hex::encode(&encode(&block)))
    });
    Ok(Json(serde_json::json!({ "hex": hex.await? })))
}

async fn recent_blocks(State(driver): State<Arc<Driver>>) -> Result<Json<Vec<BlockView>>, ApiError> {
    let views = read_store(&driver, |read, params| {
        let tip = read.tip_height()?;
        let low = tip.saturating_sub(RECENT_BLOCKS_MAX - 1);
        (low..=tip).rev().map(|height| stored_block_view(read, params, BlockId::Height(height))).collect()
    });
    views.await.map(Json)
}

async fn tx(State(driver): State<Arc<Driver>>, Path(txid): Path<String>) -> Result<Json<TxView>, ApiError> {
    let txid: Txid = txid.parse().map_err(|e| bad_request(format!("not a txid: {e}")))?;
    if let Some(view) = read_store(&driver, move |read, params| confirmed_tx_view(read, params, &txid)).await? {
        return Ok(Json(view));
    }
    if let Some((tx, spent)) = driver.read(|node| pooled_tx(node, &txid)) {
        return Ok(Json(explorer::tx_view(driver.params(), &tx, None, |outpoint| spent.get(outpoint).copied())));
    }
    // Neither confirmed nor pooled, or mined in between: a block that took the transaction out
    // of the mempool was committed before the node's lock was let go, so a second read sees it.
    match read_store(&driver, move |read, params| confirmed_tx_view(read, params, &txid)).await? {
        Some(view) => Ok(Json(view)),
        None => Err(not_found(format!("unknown transaction {txid}"))),
    }
}

/// A confirmed transaction with the merkle proof of its place in its block (`TxProofView`), for
/// a tab that holds no body of that block: it checks the proof against its own header chain.
async fn tx_proof(State(driver): State<Arc<Driver>>, Path(txid): Path<String>) -> Result<Json<TxProofView>, ApiError> {
    let txid: Txid = txid.parse().map_err(|e| bad_request(format!("not a txid: {e}")))?;
    let view = read_store(&driver, move |read, params| {
        let Some(place) = read.tx_place(&txid)? else { return Ok(None) };
        let missing = || anyhow::anyhow!("indexed transaction {txid} at {place:?} is not stored");
        let hash = read.active_hash(place.height)?.ok_or_else(missing)?;
        let block = read.block(params, &hash)?.ok_or_else(missing)?;
        Ok(explorer::tx_proof_view(&block, place.height, place.position as usize)
            .filter(|view| view.txid == txid.to_string()))
    });
    view.await?.map(Json).ok_or_else(|| not_found(format!("no confirmed transaction {txid}")))
}

/// A transaction of the active chain: its place from the txid index, its block from the store,
/// and the coins it spends from the block's undo data and its own earlier outputs.
fn confirmed_tx_view(read: &IndexRead, params: &Params, txid: &Txid) -> Result<Option<TxView>, ApiError> {
    let Some(place) = read.tx_place(txid)? else { return Ok(None) };
    let missing = || anyhow::anyhow!("indexed transaction {txid} at {place:?} is not stored");
    let hash = read.active_hash(place.height)?.ok_or_else(missing)?;
    let block = read.block(params, &hash)?.ok_or_else(missing)?;
    let tx = block.txs.get(place.position as usize).filter(|tx| tx.txid() == *txid).ok_or_else(missing)?;
    let undo = read.undo(params, &hash)?.ok_or_else(|| anyhow::anyhow!("no undo data for active block {hash}"))?;
    let spent = explorer::block_spent_coins(&block, &undo);
    let placement = TxPlacement { block: hash, height: place.height, tip_height: read.tip_height()? };
    Ok(Some(explorer::tx_view(params, tx, Some(&placement), |outpoint| spent.get(outpoint).copied())))
}

/// A pooled transaction and the coins it spends (from the UTXO set or other pooled
/// transactions): O(inputs × log n) under the node's lock.
fn pooled_tx(node: &tabchain_core::Node, txid: &Txid) -> Option<(Transaction, BTreeMap<OutPoint, TxOut>)> {
    let entry = node.mempool().get(txid)?;
    let spent = entry
        .tx
        .inputs
        .iter()
        .filter_map(|input| {
            let outpoint = input.prev_out;
            let coin = node.chain().utxos().get(&outpoint).map(|coin| coin.output);
            coin.or_else(|| node.mempool().output(&outpoint).copied()).map(|output| (outpoint, output))
        })
        .collect();
    Some((entry.tx.clone(), spent))
}

/// A submission's body: `hex` and nothing else, as openapi.json states.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HexBody {
    hex: String,
}

/// A submission's hex (core bounds and decodes it), from a JSON body `{"hex": "..."}` sent as
/// `Content-Type: application/json`. Requiring that type means a form on another site cannot
/// submit through a visitor's browser (a cross-site JSON post needs a CORS preflight, which the
/// relay does not answer): anything else gets 415, a body over the limit 413, bad JSON 400.
struct HexJson(String);

impl<S: Send + Sync> FromRequest<S> for HexJson {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<HexBody>::from_request(request, state).await {
            Ok(axum::Json(body)) => Ok(Self(body.hex)),
            Err(rejection) => Err(body_error(&rejection)),
        }
    }
}

fn body_error(rejection: &JsonRejection) -> ApiError {
    let status = match rejection {
        JsonRejection::MissingJsonContentType(_) | JsonRejection::BytesRejection(_) => rejection.status(),
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError(status, rejection.body_text())
}

/// A whole block from outside (a miner, a test), validated exactly as one from a peer.
async fn submit_block(
    State(driver): State<Arc<Driver>>,
    HexJson(hex): HexJson,
) -> Result<Json<serde_json::Value>, ApiError> {
    let block = explorer::block_from_hex(&hex).map_err(|e| bad_request(e.to_string()))?;
    let hash = block.block_hash();
    if driver.disk_full() {
        return Err(disk_full());
    }
    match driver.with_node(|node| node.submit_block(block, now())) {
        // Held in memory, not committed: not acknowledged.
        Ok(_) if driver.disk_full() => Err(disk_full()),
        Ok(_) => Ok(Json(serde_json::json!({ "hash": hash.to_string() }))),
        Err(reason) => Err(bad_request(format!("rejected: {reason}"))),
    }
}

/// A block submitted while the relay's disk is full: it cannot be stored, so it is not taken.
fn disk_full() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the relay's disk is full: no block is stored until space returns")
}

async fn submit_tx(
    State(driver): State<Arc<Driver>>,
    HexJson(hex): HexJson,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tx = explorer::tx_from_hex(&hex).map_err(|e| bad_request(e.to_string()))?;
    let result = driver.with_node(|node| node.submit_transaction(tx, now()));
    match result {
        Ok(txid) => Ok(Json(serde_json::json!({ "txid": txid.to_string() }))),
        Err(reason) => Err(bad_request(format!("rejected: {reason}"))),
    }
}

/// `?limit=` and `?before=` of an address's history page.
#[derive(Debug, serde::Deserialize)]
struct HistoryQuery {
    limit: Option<usize>,
    before: Option<String>,
}

async fn address(
    State(driver): State<Arc<Driver>>,
    Path(text): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<AddressView>, ApiError> {
    let Query(query) = query.map_err(|rejection| bad_request(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(ADDRESS_HISTORY_PAGE_DEFAULT);
    if !(1..=ADDRESS_HISTORY_PAGE_MAX).contains(&limit) {
        return Err(bad_request(format!("limit must be from 1 to {ADDRESS_HISTORY_PAGE_MAX}, not {limit}")));
    }
    let before: Option<HistoryCursor> = match &query.before {
        Some(text) => Some(text.parse().map_err(|e| bad_request(format!("before: {e}")))?),
        None => None,
    };
    let owner = explorer::parse_address(driver.params(), &text).map_err(lookup_error)?;
    let (mut balance, page, tip) = read_store(&driver, move |read, params| {
        let tip = read.tip_height()?;
        Ok((read.balance(params, &owner, tip)?, read.history(&owner, before, limit)?, tip))
    })
    .await?;
    balance.pending_units = driver.read(|node| explorer::pending_units(node.mempool(), &owner));
    let next = page.next.map(|cursor| cursor.to_string());
    Ok(Json(explorer::address_view(driver.params(), &owner, balance, &page.rows, tip, next)))
}

async fn mempool(State(driver): State<Arc<Driver>>) -> Json<MempoolView> {
    Json(driver.read(|node| explorer::mempool(node.mempool())))
}

async fn peers(State(driver): State<Arc<Driver>>) -> Json<Vec<PeerInfo>> {
    Json(driver.peers())
}

/// The document `router` was built with (`openapi::document`).
async fn openapi(document: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document).into_response()
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("api-docs.html"))
}

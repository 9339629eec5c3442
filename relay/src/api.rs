//! The HTTP API under `/api`: JSON views of the node's chain, mempool and peers, and submitting
//! a transaction. Bad parameters get 400, unknown objects 404, both as `{"error": "..."}`;
//! submissions are JSON only (415 otherwise). `http_limits` adds the limits around it.
//! `openapi.json` documents it; `docs` renders that document without any network access.

use crate::api_params::{self, ParamChecks};
use crate::driver::{Driver, now};
use crate::peers::PeerInfo;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use tabchain_core::explorer::{self, AddressView, BlockView, LookupError, MempoolView, StatusView, TxView};
use tabchain_core::{BlockHash, Txid, encode, hex};

pub fn router() -> Router<Arc<Driver>> {
    let params = ParamChecks::from_openapi(OPENAPI).expect("openapi.json gives every path parameter a schema");
    Router::new()
        .route("/status", get(status))
        .route("/blocks", get(recent_blocks))
        .route("/blocks/{id}", get(block))
        .route("/blocks/{id}/hex", get(block_hex))
        .route("/block", post(submit_block))
        .route("/tx", post(submit_tx))
        .route("/tx/{txid}", get(tx))
        .route("/address/{address}", get(address))
        .route("/mempool", get(mempool))
        .route("/peers", get(peers))
        .route("/openapi.json", get(openapi))
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

async fn status(State(driver): State<Arc<Driver>>) -> Json<StatusView> {
    let mut view = driver.read(explorer::status);
    view.time = Some(now());
    Json(view)
}

fn lookup_error(error: LookupError) -> ApiError {
    match error {
        LookupError::BadQuery(reason) => bad_request(reason),
        LookupError::NotFound(reason) => not_found(reason),
    }
}

async fn block(State(driver): State<Arc<Driver>>, Path(id): Path<String>) -> Result<Json<BlockView>, ApiError> {
    driver.read(|node| explorer::block(node.chain(), &id)).map(Json).map_err(lookup_error)
}

/// A block's raw encoding as `{"hex": "..."}`, by height (active chain) or hash, from memory or
/// the store: what a pruned tab fetches to show a block it no longer holds (it checks the block
/// against its own headers).
async fn block_hex(
    State(driver): State<Arc<Driver>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let hash = match id.parse::<u32>() {
        Ok(height) => driver
            .read(|node| node.chain().hash_at(height))
            .ok_or_else(|| not_found(format!("no block at height {height}")))?,
        Err(_) => id.parse::<BlockHash>().map_err(|e| bad_request(format!("not a height or block hash: {e}")))?,
    };
    let in_memory = driver.read(|node| node.chain().entry(&hash).map(|entry| encode(&entry.block)));
    let bytes = match in_memory {
        Some(bytes) => bytes,
        None => driver
            .stored_block(&hash)
            .map(|block| encode(&block))
            .ok_or_else(|| not_found(format!("unknown block {hash}")))?,
    };
    Ok(Json(serde_json::json!({ "hex": hex::encode(&bytes) })))
}

async fn recent_blocks(State(driver): State<Arc<Driver>>) -> Json<Vec<BlockView>> {
    Json(driver.read(|node| explorer::recent_blocks(node.chain())))
}

async fn tx(State(driver): State<Arc<Driver>>, Path(txid): Path<String>) -> Result<Json<TxView>, ApiError> {
    let txid: Txid = txid.parse().map_err(|e| bad_request(format!("not a txid: {e}")))?;
    driver.read(|node| explorer::tx(node.chain(), node.mempool(), &txid)).map(Json).map_err(lookup_error)
}

#[derive(serde::Deserialize)]
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
    match driver.with_node(|node| node.submit_block(block, now())) {
        Ok(_) => Ok(Json(serde_json::json!({ "hash": hash.to_string() }))),
        Err(reason) => Err(bad_request(format!("rejected: {reason}"))),
    }
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

async fn address(State(driver): State<Arc<Driver>>, Path(text): Path<String>) -> Result<Json<AddressView>, ApiError> {
    driver.read(|node| explorer::address(node.chain(), node.mempool(), &text)).map(Json).map_err(lookup_error)
}

async fn mempool(State(driver): State<Arc<Driver>>) -> Json<MempoolView> {
    Json(driver.read(|node| explorer::mempool(node.mempool())))
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

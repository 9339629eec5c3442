//! The relay's HTTP surface: the page (`www/`, gzip, the MIME types browsers insist on for
//! `.wasm` and modules), the WebSocket endpoint `/ws`, the JSON API under `/api` (inside its
//! limits, `http_limits`), Prometheus metrics at `/metrics`, and `/healthz`; every route behind
//! the `Host` allowlist (`hosts`), on connections served by `accept`.

use crate::driver::Driver;
use crate::hosts::{self, AllowedHosts};
use crate::{accept, api, http_limits, ws};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The whole router. Responses carry `Cache-Control: no-cache` so a browser revalidates the
/// wasm module after every rebuild instead of running a stale one against new glue.
pub fn router(www_dir: &Path, driver: Arc<Driver>) -> Router {
    let api = http_limits::guard(api::router(), &driver.limits);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ws", get(ws::upgrade))
        .nest("/api", api)
        .fallback_service(ServeDir::new(www_dir))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .layer(CompressionLayer::new().gzip(true))
        .layer(TraceLayer::new_for_http())
        .with_state(driver)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn metrics(State(driver): State<Arc<Driver>>) -> impl IntoResponse {
    let peers = driver.n_peers() as f64;
    let gauges = driver.read(|node| {
        let chain = node.chain();
        [
            ("tabchain_height", "height of the active chain", f64::from(chain.height())),
            ("tabchain_best_header_height", "height of the best header known", f64::from(chain.best_header().height)),
            ("tabchain_blocks_stored", "blocks stored on every branch", chain.n_blocks() as f64),
            ("tabchain_utxos", "unspent outputs", chain.utxos().len() as f64),
            ("tabchain_mempool_txs", "transactions in the mempool", node.mempool().len() as f64),
            ("tabchain_mempool_bytes", "bytes of transactions in the mempool", node.mempool().total_bytes() as f64),
            ("tabchain_peers", "connected peers", peers),
        ]
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], driver.metrics.render(&gauges))
}

/// Serves on `listener` until `shutdown` completes. Fails at once if `www_dir` is not a folder,
/// rather than answering every request with 404.
pub async fn run(
    listener: TcpListener,
    www_dir: PathBuf,
    driver: Arc<Driver>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    if !www_dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("www folder {} is not a folder", www_dir.display()),
        ));
    }
    // Every route, `/ws` included, answers only to this relay's own names (DNS rebinding).
    let allowed = Arc::new(AllowedHosts::new(listener.local_addr()?, &driver.limits.allowed_hosts));
    let header_read_timeout = driver.limits.header_read_timeout;
    let app = router(&www_dir, driver).layer(axum::middleware::from_fn_with_state(allowed, hosts::check));
    accept::serve(listener, app, header_read_timeout, shutdown).await
}

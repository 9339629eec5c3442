//! The relay's HTTP surface: the page (built into the binary, `page`, or a folder on disk with
//! `--www`, gzip, the MIME types browsers insist on for `.wasm` and modules), the WebSocket
//! endpoint `/ws`, the JSON API under `/api` (inside its limits, `http_limits`), Prometheus
//! metrics at `/metrics`, and `/healthz`; every route behind the `Host` allowlist (`hosts`), on
//! connections served by `accept`. The development pages under `www/dev/` are served only when
//! asked for (`tabchain serve --dev`).

use crate::driver::Driver;
use crate::hosts::{self, AllowedHosts};
use crate::{accept, api, http_limits, page, ws};
use axum::Router;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::compression::predicate::{DefaultPredicate, Predicate as _};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

/// Where the web app comes from, and whether its development pages (`dev/`) are served.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// A folder to serve from disk (`--www`, for development); `None` serves the page built
    /// into the binary (`page`).
    pub www: Option<PathBuf>,
    /// Serve `/dev/…` (the header hasher, the miner's self-tests and benchmark); without it
    /// those paths answer 404, so users' pages never offer them.
    pub dev: bool,
}

impl Site {
    /// What is served, for the startup line: the folder, or the built-in page.
    pub fn describe(&self) -> String {
        match &self.www {
            Some(dir) => dir.display().to_string(),
            None if page::is_built() => "the built-in page".to_owned(),
            None => "the built-in page (without its wasm bundles: `cargo xtask build` builds them)".to_owned(),
        }
    }

    /// Fails if the site's folder is not a folder, rather than answering every request with 404.
    pub fn check(&self) -> io::Result<()> {
        match &self.www {
            Some(dir) if !dir.is_dir() => {
                Err(io::Error::new(io::ErrorKind::NotFound, format!("www folder {} is not a folder", dir.display())))
            }
            _ => Ok(()),
        }
    }
}

/// The web app in `dir` alone, without its development pages.
impl From<PathBuf> for Site {
    fn from(dir: PathBuf) -> Self {
        Self { www: Some(dir), dev: false }
    }
}

/// How hard the compression layer works on what it compresses per request: the API's answers
/// and a `--www` folder's files (the built-in page is compressed once, at build time). Gzip's
/// fastest level: per request, CPU time matters more than the last bytes. At the default level,
/// compressing the 1 MB wasm bundle on each load took the page's start from about 210 ms to
/// 310 ms on the 2-core development machine.
const COMPRESSION_LEVEL: CompressionLevel = CompressionLevel::Fastest;

/// The whole router. Responses carry `Cache-Control: no-cache` so a browser revalidates the
/// wasm module after every rebuild instead of running a stale one against new glue.
pub fn router(site: &Site, driver: Arc<Driver>) -> Router {
    let api = http_limits::guard(api::router(driver.params()), &driver.limits);
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ws", get(ws::upgrade))
        .nest("/api", api);
    let router = match &site.www {
        Some(dir) => router.fallback_service(ServeDir::new(dir)),
        None => router.fallback(page::serve),
    };
    let router = if site.dev { router } else { router.layer(middleware::from_fn(hide_dev_pages)) };
    router
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(COMPRESSION_LEVEL)
                .compress_when(DefaultPredicate::new().and(not_built_in)),
        )
        // A 5xx here is a refusal a client can provoke (503 over the requests in flight, on a
        // full disk, or for a page not built) or an error already logged where it happened: at
        // debug, not tower-http's default error level, so a flood cannot fill the log.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)))
        .with_state(driver)
}

/// Whether a response is not one of the built-in page's, which `page` sends in the coding it
/// chose, under an `ETag` naming that coding (a `304` included): the compression layer leaves
/// those alone and compresses the rest (the API, a `--www` folder's files).
fn not_built_in(
    _: StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    !headers.contains_key(header::ETAG)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Answers 404 for the development pages, however the path is spelled.
async fn hide_dev_pages(request: Request, next: Next) -> Response {
    if is_dev_path(request.uri().path()) { StatusCode::NOT_FOUND.into_response() } else { next.run(request).await }
}

/// Whether `path` names `dev/` or something in it, read as `ServeDir` (and `page`) read it.
fn is_dev_path(path: &str) -> bool {
    path_segments(path).first().is_some_and(|segment| segment == b"dev")
}

/// The segments of a URL path as `ServeDir` reads them: percent-decoded, empty and `.` segments
/// skipped (`..` is left for the caller to refuse).
pub(crate) fn path_segments(path: &str) -> Vec<Vec<u8>> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) if bytes[i] == b'%' => {
                decoded.push(byte);
                i += 3;
            }
            _ => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    decoded
        .split(|&b| b == b'/')
        .filter(|segment| !segment.is_empty() && *segment != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

async fn metrics(State(driver): State<Arc<Driver>>) -> impl IntoResponse {
    let peers = driver.n_peers() as f64;
    let (disk_full, backlog) = (driver.disk_full(), driver.backlog_len());
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
            (
                "tabchain_store_disk_full",
                "1 while the disk is full and submissions are refused",
                f64::from(u8::from(disk_full)),
            ),
            ("tabchain_store_backlog_sets", "change sets waiting in memory for room on the disk", backlog as f64),
        ]
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], driver.metrics.render(&gauges))
}

/// Serves on `listener` until `shutdown` completes. Fails at once if the site's folder is not a
/// folder (`Site::check`).
pub async fn run(
    listener: TcpListener,
    site: impl Into<Site>,
    driver: Arc<Driver>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let site = site.into();
    site.check()?;
    // Every route, `/ws` included, answers only to this relay's own names (DNS rebinding).
    let allowed = Arc::new(AllowedHosts::new(listener.local_addr()?, &driver.limits.allowed_hosts));
    let http = accept::HttpOptions {
        header_read_timeout: driver.limits.header_read_timeout,
        admission: driver.http_admission.clone(),
        metrics: driver.metrics.clone(),
    };
    let app = router(&site, driver).layer(axum::middleware::from_fn_with_state(allowed, hosts::check));
    accept::serve(listener, app, http, shutdown).await
}

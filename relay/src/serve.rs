//! Serving the web app: the static `www/` folder at `/` (gzip-compressed,
//! with the MIME types a browser insists on for `.wasm` and ES modules) and a
//! `GET /healthz` probe. Owns the HTTP router and the accept loop, not the
//! command line.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Builds the router that serves `www_dir` at `/` and `/healthz`.
///
/// Responses carry `Cache-Control: no-cache` so a browser revalidates the
/// wasm module after every rebuild instead of running a stale one against
/// new JavaScript glue.
pub fn router(www_dir: &Path) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .fallback_service(ServeDir::new(www_dir))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .layer(CompressionLayer::new().gzip(true))
        .layer(TraceLayer::new_for_http())
}

async fn healthz() -> &'static str {
    "ok"
}

/// Serves `www_dir` on `listener` until `shutdown` completes.
///
/// Fails at once if `www_dir` is not a folder, rather than answering every
/// request with 404.
pub async fn run(
    listener: TcpListener,
    www_dir: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    if !www_dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("www folder {} is not a folder", www_dir.display()),
        ));
    }
    axum::serve(listener, router(&www_dir)).with_graceful_shutdown(shutdown).await
}

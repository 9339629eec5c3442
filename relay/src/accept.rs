//! Accepting and serving HTTP connections: the loop `axum::serve` runs, but with hyper's HTTP/1.1
//! connection configured so that a client sending its request line and headers slowly, or nothing
//! at all (slowloris, a half-open connection), is closed after `Limits::header_read_timeout`.
//! `axum::serve` gives hyper no timer, so hyper enforces no header timeout there, and
//! hyper-util's `auto` builder reads the HTTP/2 preface with no timeout at all; browsers speak
//! HTTP/1.1 to a plain `http://` origin, so HTTP/2 with prior knowledge is not served. A
//! connection over the per-address or total cap (`HttpOptions::admission`) is closed as it is
//! accepted, so that one client cannot hold the relay's file descriptors.

use crate::admission::{Admission, Slot};
use crate::metrics::Metrics;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt as _;

/// Pause after an accept error that is not about one connection (out of file descriptors), so
/// the loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// How connections are admitted and served.
#[derive(Debug)]
pub struct HttpOptions {
    /// See `Limits::header_read_timeout`.
    pub header_read_timeout: Duration,
    /// Open connections per address and in all; an upgraded connection gives its place back.
    pub admission: Arc<Admission>,
    /// Where refusals are counted.
    pub metrics: Arc<Metrics>,
}

/// Serves `app` on every connection `listener` accepts and `options` admits until `shutdown`
/// completes; then asks each open connection to finish its request and close, and waits for
/// them. Upgraded connections (WebSockets) are no longer HTTP and do not delay the return.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection holds a receiver; `closed` completes when the last one is dropped.
    let (open_tx, open_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, addr) = match accepted {
            Ok(pair) => pair,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                tracing::error!("accept failed: {error}");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let slot = match options.admission.admit(addr.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                Metrics::inc(&options.metrics.http_connections_refused);
                tracing::debug!(%addr, "connection closed: {refusal}");
                drop(stream);
                continue;
            }
        };
        let connection = Connection { app: app.clone(), addr, header_read_timeout: options.header_read_timeout, slot };
        tokio::spawn(connection.run(stream, stop_rx.clone(), open_rx.clone()));
    }
    stop_tx.send_replace(true);
    drop(open_rx);
    open_tx.closed().await;
    Ok(())
}

/// Errors about one connection (it went away before we took it), not about the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// One accepted connection and what serving it needs.
struct Connection {
    app: Router,
    addr: SocketAddr,
    header_read_timeout: Duration,
    /// Its place under the caps, given back when the connection ends or is upgraded.
    slot: Slot,
}

impl Connection {
    async fn run(self, stream: TcpStream, mut stop: watch::Receiver<bool>, open: watch::Receiver<()>) {
        // Protocol frames are small and latency matters (announcements, block requests): without
        // TCP_NODELAY, Nagle's algorithm and delayed ACKs stall them by tens of milliseconds.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {error}");
        }
        let Self { app, addr, header_read_timeout, slot } = self;
        let service = app.map_request(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(addr));
            request
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut connection = std::pin::pin!(connection.with_upgrades());
        let stopping = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        let result = tokio::select! {
            result = connection.as_mut() => result,
            () = stopping => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(error) = result {
            tracing::debug!(%addr, "connection ended: {error}");
        }
        drop(slot);
        drop(open);
    }
}

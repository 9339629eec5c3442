//! The `/ws` endpoint: checks the caps and the Origin before upgrading, then hands the socket to
//! `connection::run` with the message-size limits set so that an oversize message is refused
//! without being buffered.

use crate::admission::Slot;
use crate::connection::{self, Incoming};
use crate::driver::Driver;
use crate::peers::Outbound;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_tungstenite::tungstenite;

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(driver): State<Arc<Driver>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !origin_allowed(&headers, &driver.limits.allowed_origins) {
        crate::metrics::Metrics::inc(&driver.metrics.connections_refused);
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let slot = match driver.admission.admit(addr.ip()) {
        Ok(slot) => slot,
        Err(why) => {
            crate::metrics::Metrics::inc(&driver.metrics.connections_refused);
            return (StatusCode::SERVICE_UNAVAILABLE, why.to_string()).into_response();
        }
    };
    crate::metrics::Metrics::inc(&driver.metrics.connections_accepted);
    let limit = driver.limits.ws_message_bytes_max;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(crate::limits::WS_READ_BUFFER_BYTES)
        .write_buffer_size(crate::limits::WS_WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| serve_socket(socket, driver, addr, slot))
}

/// Serves one upgraded socket; `slot` is its place under the connection caps, given back when
/// this returns (or, if the upgrade fails, when the callback holding it is dropped).
async fn serve_socket(socket: WebSocket, driver: Arc<Driver>, addr: SocketAddr, slot: Slot) {
    let link = driver.register_peer(addr.to_string(), true);
    let (sink, stream) = socket.split();
    let incoming = stream.map(|frame| match frame {
        Ok(Message::Binary(bytes)) => Incoming::Binary(bytes.to_vec()),
        Ok(Message::Text(_)) => Incoming::Text,
        Ok(Message::Ping(_) | Message::Pong(_)) => Incoming::Control,
        Ok(Message::Close(_)) => Incoming::Closed,
        Err(error) => match error.into_inner().downcast_ref::<tungstenite::Error>() {
            Some(tungstenite::Error::Capacity(_)) => Incoming::TooBig,
            _ => Incoming::Closed,
        },
    });
    let outgoing = sink.with(|out: Outbound| {
        futures_util::future::ready(Ok::<_, axum::Error>(match out {
            Outbound::Frame(bytes) => Message::Binary(bytes.into()),
            Outbound::Close { code, reason } => Message::Close(Some(CloseFrame { code, reason: reason.into() })),
        }))
    });
    connection::run(driver, link, Box::pin(incoming), Box::pin(outgoing)).await;
    drop(slot);
}

/// Whether the upgrade's `Origin` may connect: no `Origin` (not a browser), `*`, an allowed
/// origin, or (by default) the page's own origin — the one whose host is this request's `Host`.
/// Comparing with `Host` is safe only because `hosts::check` let through no `Host` but the
/// relay's own names: otherwise a DNS-rebound page would name itself in both.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return true };
    if allowed.iter().any(|a| a == "*" || a == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    allowed.is_empty() && host.is_some() && origin_host == host
}

//! Outbound connections: to another relay (`--peer`) or, for `tabchain node`, to the relay it
//! follows. Reconnects with exponential backoff for as long as the process runs.

use crate::connection::{self, Incoming};
use crate::driver::Driver;
use crate::limits::{WS_READ_BUFFER_BYTES, WS_WRITE_BUFFER_BYTES};
use crate::peers::Outbound;
use futures_util::{SinkExt as _, StreamExt as _};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

/// First and longest wait between reconnection attempts.
pub const RECONNECT_DELAY_MIN: Duration = Duration::from_millis(500);
pub const RECONNECT_DELAY_MAX: Duration = Duration::from_secs(30);

/// Keeps a connection to `url` open, reconnecting after failures.
pub async fn keep_connected(driver: Arc<Driver>, url: String) {
    let mut delay = RECONNECT_DELAY_MIN;
    while !driver.is_shut_down() {
        tokio::select! {
            result = connect_once(&driver, &url) => match result {
                Ok(()) => delay = RECONNECT_DELAY_MIN,
                Err(error) => tracing::warn!(%url, "cannot connect: {error}"),
            },
            () = driver.stopped() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = driver.stopped() => return,
        }
        delay = (delay * 2).min(RECONNECT_DELAY_MAX);
    }
}

/// One connection to `url`, until it ends.
pub async fn connect_once(driver: &Arc<Driver>, url: &str) -> Result<(), tungstenite::Error> {
    let limit = driver.limits.ws_message_bytes_max;
    // The same buffers as an accepted connection's (`ws.rs`): tungstenite zeroes the whole read
    // buffer before every read, which at its default of 128 KiB costs more than a small frame.
    let config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit))
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(WS_WRITE_BUFFER_BYTES);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    tracing::info!(%url, "connected");
    let link = driver.register_peer(url.to_owned(), false);
    let (sink, stream) = socket.split();
    let incoming = stream.map(|frame| match frame {
        Ok(Message::Binary(bytes)) => Incoming::Binary(bytes.to_vec()),
        Ok(Message::Text(_)) => Incoming::Text,
        Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => Incoming::Control,
        Ok(Message::Close(_)) => Incoming::Closed,
        Err(tungstenite::Error::Capacity(_)) => Incoming::TooBig,
        Err(_) => Incoming::Closed,
    });
    let outgoing = sink.with(|out: Outbound| {
        futures_util::future::ready(Ok::<_, tungstenite::Error>(match out {
            Outbound::Frame(bytes) => Message::Binary(bytes.into()),
            Outbound::Close { code, reason } => {
                Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() }))
            }
        }))
    });
    connection::run(driver.clone(), link, Box::pin(incoming), Box::pin(outgoing)).await;
    tracing::info!(%url, "disconnected");
    Ok(())
}

//! One peer connection, server side or client side alike: frames in go to the node (which
//! enforces the message rate limit, exempting answers to its own requests), frames the node
//! queues go out (each within a write timeout, its bytes given back to the queue counts once
//! written or thrown away; all of them thrown away at once when the peer was dropped for not
//! reading), and either side ending ends both.

use crate::driver::{Driver, now};
use crate::limits::{CLOSE_LINGER, WRITE_TIMEOUT};
use crate::metrics::Metrics;
use crate::peers::{Outbound, PeerLink, Removal, close_code};
use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use std::sync::Arc;

/// A frame from the socket, reduced to what the relay distinguishes.
#[derive(Debug)]
pub enum Incoming {
    Binary(Vec<u8>),
    /// Text frames are not part of the protocol.
    Text,
    /// Larger than the message limit: the socket refused it without buffering it.
    TooBig,
    /// Ping, pong: handled by the WebSocket layer.
    Control,
    /// The peer closed, or the socket failed.
    Closed,
}

/// Runs a registered connection until it ends, then removes it.
pub async fn run<In, Out>(driver: Arc<Driver>, link: PeerLink, mut incoming: In, outgoing: Out)
where
    In: Stream<Item = Incoming> + Unpin + Send + 'static,
    Out: Sink<Outbound> + Unpin + Send + 'static,
{
    let PeerLink { id, mut rx, queued_bytes, kill, abandon } = link;
    let writer = tokio::spawn(async move {
        let mut outgoing = outgoing;
        while let Some(out) = rx.recv().await {
            let (len, closing) = match &out {
                Outbound::Frame(bytes) => (bytes.len(), false),
                Outbound::Close { .. } => (0, true),
            };
            let sent = tokio::select! {
                sent = tokio::time::timeout(WRITE_TIMEOUT, outgoing.send(out)) => matches!(sent, Ok(Ok(()))),
                () = abandon.notified() => false,
            };
            queued_bytes.release(len);
            if closing || !sent {
                break;
            }
        }
        // Frames left unwritten give their bytes back to the relay-wide count.
        rx.close();
        while let Ok(out) = rx.try_recv() {
            if let Outbound::Frame(bytes) = out {
                queued_bytes.release(bytes.len());
            }
        }
        let _ = tokio::time::timeout(WRITE_TIMEOUT, outgoing.close()).await;
    });
    loop {
        let frame = tokio::select! {
            () = kill.notified() => break,
            frame = incoming.next() => frame.unwrap_or(Incoming::Closed),
        };
        match frame {
            Incoming::Binary(bytes) => {
                Metrics::inc(&driver.metrics.messages_in);
                Metrics::add(&driver.metrics.bytes_in, bytes.len() as u64);
                driver.with_node(|node| node.handle_message(id, &bytes, now()));
            }
            Incoming::Text => {
                let reason = "binary frames only".into();
                driver.remove_peer(id, &Removal::Close { code: close_code::UNSUPPORTED, reason });
                break;
            }
            Incoming::TooBig => {
                Metrics::inc(&driver.metrics.disconnects_oversize);
                let reason = "message too big".into();
                driver.remove_peer(id, &Removal::Close { code: close_code::TOO_BIG, reason });
                break;
            }
            Incoming::Control => {}
            Incoming::Closed => break,
        }
    }
    driver.remove_peer(id, &Removal::Ended);
    // Keep reading, and discarding, while the close frame goes out and until the peer answers
    // it or `CLOSE_LINGER` passes: a socket closed with unread data is reset by the kernel,
    // and the reset makes the peer lose the close frame and its reason.
    let linger = async { while !matches!(incoming.next().await, None | Some(Incoming::Closed)) {} };
    let _ = tokio::join!(tokio::time::timeout(WRITE_TIMEOUT, writer), tokio::time::timeout(CLOSE_LINGER, linger));
}

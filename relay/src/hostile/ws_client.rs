//! A raw protocol client for speaking (and misbehaving) frame by frame over `/ws`, from a chosen
//! loopback source address, with every wait bounded. Nothing it is told fails by a panic: a
//! relay that is down or refuses the upgrade is an error value, a closed socket a [`Closed`].

use futures_util::{SinkExt as _, StreamExt as _};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tabchain_core::{BlockHash, Message, PROTOCOL_VERSION};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest as _};

/// Bound on connecting, the upgrade, and each read for an answer.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection could not be opened.
#[derive(Debug)]
pub enum ConnectError {
    /// Nothing listens (the relay is down or restarting).
    Down(std::io::Error),
    /// The relay refused the upgrade with this HTTP status.
    Status(u16),
    /// Anything else (a timeout, a broken handshake), in words.
    Other(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Down(error) => write!(f, "the relay is down: {error}"),
            Self::Status(status) => write!(f, "the upgrade was refused with {status}"),
            Self::Other(what) => write!(f, "{what}"),
        }
    }
}

/// How a socket ended, read until it closed or a time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The relay sent a close frame with this code.
    Code(u16),
    /// The connection ended without a close frame (or one without a code).
    NoCode,
    /// Still open when the time ran out.
    Open,
}

/// Opens a TCP connection to `addr` from `source` (any loopback address, so that a hostile
/// client is counted apart from honest ones on the same machine).
pub async fn tcp_from(source: IpAddr, addr: SocketAddr) -> Result<TcpStream, ConnectError> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| ConnectError::Other(format!("no socket: {e}")))?;
    socket.bind(SocketAddr::new(source, 0)).map_err(|e| ConnectError::Other(format!("cannot bind {source}: {e}")))?;
    match tokio::time::timeout(STEP_TIMEOUT, socket.connect(addr)).await {
        Err(_) => Err(ConnectError::Other(format!("no connection to {addr} within {STEP_TIMEOUT:?}"))),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => Err(ConnectError::Down(error)),
        Ok(Err(error)) => Err(ConnectError::Other(format!("cannot connect to {addr}: {error}"))),
        Ok(Ok(stream)) => Ok(stream),
    }
}

/// One WebSocket connection to a relay's `/ws`.
#[derive(Debug)]
pub struct WsClient {
    pub socket: WebSocketStream<TcpStream>,
    /// How the relay closed the connection, when `recv` read its close frame already.
    closed_with: Option<Closed>,
}

impl WsClient {
    /// Connects from `source` with extra request headers (e.g. `Origin`).
    pub async fn connect(
        addr: SocketAddr,
        source: IpAddr,
        headers: &[(&'static str, &str)],
    ) -> Result<Self, ConnectError> {
        let stream = tcp_from(source, addr).await?;
        let mut request = format!("ws://{addr}/ws").into_client_request().expect("a valid URL");
        for (name, value) in headers {
            let value = value.parse().map_err(|e| ConnectError::Other(format!("header {name}: {e}")))?;
            request.headers_mut().insert(*name, value);
        }
        match tokio::time::timeout(STEP_TIMEOUT, tokio_tungstenite::client_async(request, stream)).await {
            Err(_) => Err(ConnectError::Other(format!("no upgrade within {STEP_TIMEOUT:?}"))),
            Ok(Err(tungstenite::Error::Http(response))) => Err(ConnectError::Status(response.status().as_u16())),
            Ok(Err(error)) => Err(ConnectError::Other(format!("the upgrade failed: {error}"))),
            Ok(Ok((socket, _))) => Ok(Self { socket, closed_with: None }),
        }
    }

    /// Sends a protocol message; false if the socket would not take it.
    pub async fn send(&mut self, message: &Message) -> bool {
        self.send_raw(message.to_bytes()).await
    }

    /// Sends `bytes` as one binary frame, whatever they hold.
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> bool {
        self.socket.send(tungstenite::Message::Binary(bytes.into())).await.is_ok()
    }

    /// Sends a text frame, which the protocol does not use.
    pub async fn send_text(&mut self, text: &str) -> bool {
        self.socket.send(tungstenite::Message::Text(text.into())).await.is_ok()
    }

    /// Says hello on the network whose genesis is `genesis`.
    pub async fn hello(&mut self, genesis: BlockHash) -> bool {
        let hello = Message::Hello {
            protocol_version: PROTOCOL_VERSION,
            genesis,
            best_height: 0,
            user_agent: "raw-client".into(),
        };
        self.send(&hello).await
    }

    /// The next protocol message within `within`, or `None` when the socket closes or nothing
    /// comes in time.
    pub async fn recv(&mut self, within: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await.ok()?? {
                Ok(tungstenite::Message::Binary(bytes)) => return Message::from_bytes(&bytes).ok(),
                Ok(tungstenite::Message::Close(frame)) => {
                    self.closed_with = Some(frame.map_or(Closed::NoCode, |f| Closed::Code(u16::from(f.code))));
                    return None;
                }
                Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Reads (and drops) what comes until the socket closes or `within` passes.
    pub async fn closed(&mut self, within: Duration) -> Closed {
        if let Some(closed) = self.closed_with.take() {
            return closed;
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Closed::Open,
                Ok(None) | Ok(Some(Err(_))) => return Closed::NoCode,
                Ok(Some(Ok(tungstenite::Message::Close(frame)))) => {
                    return frame.map_or(Closed::NoCode, |f| Closed::Code(u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Whether the relay still serves this connection: a ping gets its pong.
    pub async fn is_served(&mut self) -> bool {
        const NONCE: u64 = 77;
        if !self.send(&Message::Ping { nonce: NONCE }).await {
            return false;
        }
        loop {
            match self.recv(STEP_TIMEOUT).await {
                Some(Message::Pong { nonce: NONCE }) => return true,
                Some(_) => {}
                None => return false,
            }
        }
    }
}

//! The attacks of `docs/reliability.md` that a client can mount on a running relay from outside,
//! each as one function that mounts it once and says whether the relay's defence held: junk,
//! oversize and text frames, a wrong network, a message flood, a connection flood, padded
//! low-work side blocks (over the API and over `/ws`), a flood of low-work headers, transactions
//! with bad signatures or missing inputs, slowloris, a foreign `Host`, junk submissions.

use super::forged::{bad_signature_tx, low_work_headers, orphan_tx, padded_sibling};
use super::http_client::{self, RequestError, Response};
use super::ws_client::{Closed, ConnectError, WsClient, tcp_from};
use super::{Held, Miss, Target};
use crate::limits::{CONNECTIONS_PER_IP_MAX, HEADER_READ_TIMEOUT};
use crate::peers::close_code;
use std::time::{Duration, Instant};
use tabchain_core::{HEADERS_MAX, MESSAGE_BURST_MAX, MESSAGE_BYTES_MAX, Message, OutPoint, Params, Txid, encode, hex};
use tokio::io::AsyncWriteExt as _;

/// How long the relay has to close a connection it should drop.
const CLOSE_WITHIN: Duration = Duration::from_secs(15);
/// Messages in a flood: three bursts, far past what the rate refills while they are sent.
/// Unasked pongs, which get no answer: a flood of pings would fill the attacker's own send
/// queue with pongs first, and be dropped as a client that does not read.
const FLOOD_MESSAGES: u64 = 3 * MESSAGE_BURST_MAX;
/// Transactions with a bad signature sent at most, each spending a coin of a recent block.
const BAD_TXS_MAX: usize = 50;
/// Orphan transactions sent: four times a peer's orphan quota.
const ORPHAN_TXS: u64 = 4 * tabchain_core::ORPHAN_TXS_PER_PEER_MAX as u64;
/// Slowloris: one more header byte every this long, at most `SLOWLORIS_BYTES` of them.
const SLOWLORIS_BYTE_INTERVAL: Duration = Duration::from_millis(100);
const SLOWLORIS_BYTES: usize = 400;
/// A slowloris connection must be closed within this many header timeouts.
const SLOWLORIS_TIMEOUTS_MAX: u32 = 3;

/// One kind of attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attack {
    JunkFrame,
    OversizeFrame,
    TextFrame,
    WrongNetwork,
    MessageFlood,
    ConnectionFlood,
    SideBlockPost,
    SideBlockWs,
    HeaderFlood,
    BadSignatureTxs,
    OrphanTxs,
    Slowloris,
    ForeignHost,
    JunkSubmissions,
}

impl Attack {
    /// Every attack, in the order a loop mounts them.
    pub const ALL: [Attack; 14] = [
        Attack::JunkFrame,
        Attack::OversizeFrame,
        Attack::TextFrame,
        Attack::WrongNetwork,
        Attack::MessageFlood,
        Attack::ConnectionFlood,
        Attack::SideBlockPost,
        Attack::SideBlockWs,
        Attack::HeaderFlood,
        Attack::BadSignatureTxs,
        Attack::OrphanTxs,
        Attack::Slowloris,
        Attack::ForeignHost,
        Attack::JunkSubmissions,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Attack::JunkFrame => "junk frame",
            Attack::OversizeFrame => "oversize frame",
            Attack::TextFrame => "text frame",
            Attack::WrongNetwork => "wrong network",
            Attack::MessageFlood => "message flood",
            Attack::ConnectionFlood => "connection flood",
            Attack::SideBlockPost => "low-work side block, POST",
            Attack::SideBlockWs => "low-work side block, ws",
            Attack::HeaderFlood => "low-work header flood",
            Attack::BadSignatureTxs => "bad-signature txs",
            Attack::OrphanTxs => "orphan tx flood",
            Attack::Slowloris => "slowloris",
            Attack::ForeignHost => "foreign Host",
            Attack::JunkSubmissions => "junk submissions",
        }
    }

    /// Mounts the attack once; `n` tells forged items of different rounds apart.
    pub(super) async fn mount(self, target: &Target, n: u64) -> Result<Held, Miss> {
        match self {
            Attack::JunkFrame => frame_after_hello(target, vec![0xde, 0xad], close_code::POLICY).await,
            Attack::OversizeFrame => {
                frame_after_hello(target, vec![8; MESSAGE_BYTES_MAX + 1], close_code::TOO_BIG).await
            }
            Attack::TextFrame => text_frame(target).await,
            Attack::WrongNetwork => wrong_network(target).await,
            Attack::MessageFlood => message_flood(target).await,
            Attack::ConnectionFlood => connection_flood(target).await,
            Attack::SideBlockPost => side_block_post(target, n).await,
            Attack::SideBlockWs => {
                let block = padded_sibling(&target.params, target.seed.wrapping_add(n));
                messages_closed(target, vec![Message::Block(block)], close_code::POLICY).await
            }
            Attack::HeaderFlood => header_flood(target, n).await,
            Attack::BadSignatureTxs => bad_signature_txs(target).await,
            Attack::OrphanTxs => orphan_txs(target, n).await,
            Attack::Slowloris => slowloris(target).await,
            Attack::ForeignHost => foreign_host(target).await,
            Attack::JunkSubmissions => junk_submissions(target).await,
        }
    }
}

fn connect_miss(error: ConnectError) -> Miss {
    match error {
        ConnectError::Down(_) => Miss::Down(error.to_string()),
        other => Miss::Failed(other.to_string()),
    }
}

fn request_miss(error: RequestError) -> Miss {
    match error {
        RequestError::Connect(error) => connect_miss(error),
        broken => Miss::Failed(broken.to_string()),
    }
}

async fn open(target: &Target) -> Result<WsClient, Miss> {
    WsClient::connect(target.addr, target.source, &[]).await.map_err(connect_miss)
}

async fn hello(target: &Target) -> Result<WsClient, Miss> {
    let mut client = open(target).await?;
    client.hello(target.params.genesis_hash()).await;
    Ok(client)
}

/// Waits for the relay to close `client` with `code`. A close without a code is the relay
/// going down if nothing listens any more, and a failure otherwise.
async fn expect_close(target: &Target, mut client: WsClient, code: u16) -> Result<Held, Miss> {
    match client.closed(CLOSE_WITHIN).await {
        Closed::Code(got) if got == code => Ok(Held::dropped(format!("closed with {code}"))),
        Closed::Code(got) => Err(Miss::Failed(format!("closed with {got}, not {code}"))),
        Closed::Open => Err(Miss::Failed(format!("still open after {CLOSE_WITHIN:?}"))),
        Closed::NoCode => match tcp_from(target.source, target.addr).await {
            Err(ConnectError::Down(error)) => Err(Miss::Down(format!("the relay went down: {error}"))),
            _ => Err(Miss::Failed(format!("closed without the code {code}"))),
        },
    }
}

async fn frame_after_hello(target: &Target, bytes: Vec<u8>, code: u16) -> Result<Held, Miss> {
    let mut client = hello(target).await?;
    client.send_raw(bytes).await;
    expect_close(target, client, code).await
}

async fn text_frame(target: &Target) -> Result<Held, Miss> {
    let mut client = open(target).await?;
    client.send_text("hi").await;
    expect_close(target, client, close_code::UNSUPPORTED).await
}

async fn wrong_network(target: &Target) -> Result<Held, Miss> {
    let mut client = open(target).await?;
    let other = if target.params.genesis_hash() == Params::tabchain().genesis_hash() {
        Params::regtest()
    } else {
        Params::tabchain()
    };
    client.hello(other.genesis_hash()).await;
    expect_close(target, client, close_code::POLICY).await
}

async fn message_flood(target: &Target) -> Result<Held, Miss> {
    let mut client = hello(target).await?;
    for nonce in 0..FLOOD_MESSAGES {
        if !client.send(&Message::Pong { nonce }).await {
            break;
        }
    }
    expect_close(target, client, close_code::POLICY).await
}

/// Sends `messages` after the hello and waits for the close `code`.
async fn messages_closed(target: &Target, messages: Vec<Message>, code: u16) -> Result<Held, Miss> {
    let mut client = hello(target).await?;
    for message in &messages {
        if !client.send(message).await {
            break;
        }
    }
    expect_close(target, client, code).await
}

/// Connections from one address until one is refused: it must be refused with 503 by the time
/// the per-address cap is reached.
async fn connection_flood(target: &Target) -> Result<Held, Miss> {
    let mut held = Vec::with_capacity(CONNECTIONS_PER_IP_MAX);
    for _ in 0..=CONNECTIONS_PER_IP_MAX {
        match WsClient::connect(target.addr, target.source, &[]).await {
            Ok(client) => held.push(client),
            Err(ConnectError::Status(503)) => {
                return Ok(Held::refused(format!("refused with 503 after {} connections", held.len())));
            }
            Err(error) => return Err(connect_miss(error)),
        }
    }
    Err(Miss::Failed(format!("{} connections from one address were all admitted", held.len())))
}

async fn side_block_post(target: &Target, n: u64) -> Result<Held, Miss> {
    let block = padded_sibling(&target.params, target.seed.wrapping_add(n));
    let body = format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&block)));
    let response = http_client::post(target.source, target.addr, "/api/block", &body).await.map_err(request_miss)?;
    expect_status(&response, 400)
}

fn expect_status(response: &Response, status: u16) -> Result<Held, Miss> {
    let reason = response.json()["error"].as_str().unwrap_or_default().to_owned();
    if response.status == status {
        Ok(Held::refused(format!("{status} {reason}")))
    } else {
        Err(Miss::Failed(format!("answered {} {reason}, not {status}", response.status)))
    }
}

/// A full headers message of low-work headers from genesis: refused (the peer dropped) where
/// the run cannot catch up with the tip, held under the cap on headers off the best chain
/// while the honest chain is young; either way the relay serves on.
async fn header_flood(target: &Target, n: u64) -> Result<Held, Miss> {
    let run = low_work_headers(&target.params, HEADERS_MAX, target.seed.wrapping_add(n), crate::driver::now());
    survives_or_drops(target, vec![Message::Headers(run)], "taken under the cap on side headers").await
}

/// Sends `messages` and accepts either outcome a defence may choose: the peer dropped with
/// 1008, or the messages absorbed (within a quota) and the peer still served.
async fn survives_or_drops(target: &Target, messages: Vec<Message>, absorbed: &str) -> Result<Held, Miss> {
    let mut client = hello(target).await?;
    for message in &messages {
        if !client.send(message).await {
            break;
        }
    }
    if client.is_served().await {
        return Ok(Held::refused(absorbed.to_owned()));
    }
    expect_close(target, client, close_code::POLICY).await
}

/// Transactions spending the coins of recent blocks with signatures that cannot be right: the
/// first whose coin exists gets the sender dropped.
async fn bad_signature_txs(target: &Target) -> Result<Held, Miss> {
    let response = http_client::get(target.source, target.addr, "/api/blocks", "").await.map_err(request_miss)?;
    let txids: Vec<Txid> = response
        .json()
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|block| block["txids"].as_array().cloned().unwrap_or_default())
        .filter_map(|txid| txid.as_str()?.parse().ok())
        .take(BAD_TXS_MAX)
        .collect();
    let txs = txids.into_iter().map(|txid| Message::Tx(bad_signature_tx(OutPoint { txid, vout: 0 }))).collect();
    messages_closed(target, txs, close_code::POLICY).await
}

async fn orphan_txs(target: &Target, n: u64) -> Result<Held, Miss> {
    let seed = target.seed.wrapping_add(n).wrapping_mul(ORPHAN_TXS);
    let txs = (0..ORPHAN_TXS).map(|i| Message::Tx(orphan_tx(seed, i))).collect();
    survives_or_drops(target, txs, "held to the orphan quota").await
}

/// A request line and a header, then one more header byte every 100 ms: the relay must close
/// the connection within a few header timeouts.
async fn slowloris(target: &Target) -> Result<Held, Miss> {
    let mut stream = tcp_from(target.source, target.addr).await.map_err(connect_miss)?;
    let started = Instant::now();
    let head = format!("GET /api/status HTTP/1.1\r\nHost: {}\r\nX-Slow: ", target.addr);
    let limit = HEADER_READ_TIMEOUT * SLOWLORIS_TIMEOUTS_MAX;
    if stream.write_all(head.as_bytes()).await.is_err() {
        return Err(Miss::Failed("the connection closed before the first header".into()));
    }
    for _ in 0..SLOWLORIS_BYTES {
        tokio::time::sleep(SLOWLORIS_BYTE_INTERVAL).await;
        if stream.write_all(b"a").await.is_err() || started.elapsed() > limit {
            break;
        }
    }
    let lasted = started.elapsed();
    if lasted > limit {
        return Err(Miss::Failed(format!("a trickling client was still connected after {lasted:?}")));
    }
    Ok(Held::dropped(format!("closed after {:.1} s", lasted.as_secs_f64())))
}

async fn foreign_host(target: &Target) -> Result<Held, Miss> {
    let raw = "GET /api/status HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    let response = http_client::request(target.source, target.addr, raw).await.map_err(request_miss)?;
    expect_status(&response, 421)
}

/// A transaction that is not hex (400), and one posted as a form (415).
async fn junk_submissions(target: &Target) -> Result<Held, Miss> {
    let junk =
        http_client::post(target.source, target.addr, "/api/tx", "{\"hex\": \"zz\"}").await.map_err(request_miss)?;
    expect_status(&junk, 400)?;
    let form = format!(
        "POST /api/tx HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhex=00",
        target.addr
    );
    let response = http_client::request(target.source, target.addr, &form).await.map_err(request_miss)?;
    expect_status(&response, 415).map(|held| Held::refused(format!("400 and {}", held.detail)))
}

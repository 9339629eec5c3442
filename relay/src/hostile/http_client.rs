//! Raw HTTP/1.1 over a TCP socket: a request written byte for byte as given (so it can be
//! malformed, trickled or never finished), and the response read whole and parsed, chunked or
//! not. Every wait is bounded; a broken answer is an error value, not a panic.

use super::ws_client::{ConnectError, STEP_TIMEOUT, tcp_from};
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The largest response read.
const RESPONSE_BYTES_MAX: u64 = 8 << 20;

/// A response as read off the socket.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Why a request got no response.
#[derive(Debug)]
pub enum RequestError {
    Connect(ConnectError),
    /// The exchange failed or did not finish in time, or the answer was not HTTP.
    Broken(String),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(error) => write!(f, "{error}"),
            Self::Broken(what) => write!(f, "{what}"),
        }
    }
}

/// One GET with `Connection: close`, read whole.
pub async fn get(source: IpAddr, addr: SocketAddr, path: &str, extra_headers: &str) -> Result<Response, RequestError> {
    request(source, addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}Connection: close\r\n\r\n"))
        .await
}

/// One POST of a JSON `body`, read whole.
pub async fn post(source: IpAddr, addr: SocketAddr, path: &str, body: &str) -> Result<Response, RequestError> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    request(source, addr, &(head + body)).await
}

/// Writes `raw_request` as it is and reads the response until the server closes.
pub async fn request(source: IpAddr, addr: SocketAddr, raw_request: &str) -> Result<Response, RequestError> {
    let mut stream = tcp_from(source, addr).await.map_err(RequestError::Connect)?;
    let exchange = async {
        stream.write_all(raw_request.as_bytes()).await?;
        let mut raw = Vec::new();
        (&mut stream).take(RESPONSE_BYTES_MAX).read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    match tokio::time::timeout(STEP_TIMEOUT, exchange).await {
        Err(_) => Err(RequestError::Broken(format!("no whole response within {STEP_TIMEOUT:?}"))),
        Ok(Err(error)) => Err(RequestError::Broken(format!("the exchange failed: {error}"))),
        Ok(Ok(raw)) => parse(&raw).ok_or_else(|| RequestError::Broken(format!("not an HTTP response: {raw:?}"))),
    }
}

/// A response's status line, headers and body (dechunked).
fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .map(|line| line.split_once(':').map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned())))
        .collect::<Option<Vec<_>>>()?;
    let mut response = Response { status, headers, body: raw[split + 4..].to_vec() };
    if response.header("transfer-encoding") == Some("chunked") {
        response.body = dechunk(&response.body)?;
    }
    Some(response)
}

/// Undoes HTTP/1.1 chunked transfer encoding (no trailers expected).
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).ok()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        let start = line_end + 2;
        body.extend_from_slice(raw.get(start..start + size)?);
        raw = raw.get(start + size + 2..)?;
    }
}

//! The relay's one integration-test binary: starts the real server on an
//! ephemeral loopback port and talks raw HTTP/1.1 to it, so the checks see
//! exactly the bytes a browser would.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Bound on every network step, so a hung server fails the test instead of
/// hanging CI.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response a test reads; the fixtures are far smaller.
const RESPONSE_BYTES_MAX: u64 = 1 << 20;

const INDEX_HTML: &str = "<!doctype html><title>test page</title>";
/// The wasm magic number and version: what a real module starts with.
const WASM_BYTES: &[u8] = b"\0asm\x01\0\0\0";

/// A fresh folder under the system temp dir holding the fixtures, removed
/// when the test ends.
struct TempWww(PathBuf);

impl TempWww {
    fn new() -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tabchain-relay-{}-{n}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).expect("create temp www");
        std::fs::write(dir.join("index.html"), INDEX_HTML).expect("write index.html");
        std::fs::write(dir.join("main.js"), "export {};\n").expect("write main.js");
        std::fs::write(dir.join("pkg/dummy.wasm"), WASM_BYTES).expect("write dummy.wasm");
        TempWww(dir)
    }
}

impl Drop for TempWww {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the server on 127.0.0.1:0 and returns its address; the server
/// task ends with the test's runtime.
async fn start(www: &Path) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let www = www.to_path_buf();
    tokio::spawn(tabchain_relay::serve::run(listener, www, std::future::pending()));
    addr
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// Sends one GET with `Connection: close` and reads the whole response.
async fn get(addr: std::net::SocketAddr, path: &str, extra_headers: &str) -> Response {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}Connection: close\r\n\r\n");
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send request");
        let mut raw = Vec::new();
        stream.take(RESPONSE_BYTES_MAX).read_to_end(&mut raw).await.expect("read response");
        raw
    };
    let raw = tokio::time::timeout(STEP_TIMEOUT, exchange).await.expect("response within the timeout");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Response {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("ascii headers");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("status code");
    let headers = lines
        .map(|line| {
            let (key, value) = line.split_once(':').expect("header `key: value`");
            (key.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut response = Response { status, headers, body: raw[split + 4..].to_vec() };
    if response.header("transfer-encoding") == Some("chunked") {
        response.body = dechunk(&response.body);
    }
    response
}

/// Undoes HTTP/1.1 chunked transfer encoding (no trailers expected).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_hex = std::str::from_utf8(&raw[..line_end]).expect("ascii chunk size");
        let size = usize::from_str_radix(size_hex.trim(), 16).expect("hex chunk size");
        if size == 0 {
            return body;
        }
        let start = line_end + 2;
        body.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}

#[tokio::test]
async fn serves_index_wasm_js_and_healthz() {
    let www = TempWww::new();
    let addr = start(&www.0).await;

    let index = get(addr, "/", "").await;
    assert_eq!(index.status, 200);
    assert!(index.header("content-type").expect("content-type").starts_with("text/html"));
    assert_eq!(index.body, INDEX_HTML.as_bytes());

    let wasm = get(addr, "/pkg/dummy.wasm", "").await;
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.body, WASM_BYTES);

    let js = get(addr, "/main.js", "").await;
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), Some("text/javascript"));

    let health = get(addr, "/healthz", "").await;
    assert_eq!((health.status, health.body.as_slice()), (200, b"ok".as_slice()));

    let missing = get(addr, "/no-such-file", "").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn compresses_with_gzip_when_asked() {
    let www = TempWww::new();
    // Large enough that the compression layer does not skip it as tiny.
    std::fs::write(www.0.join("big.js"), "export const x = 1;\n".repeat(200)).expect("write big.js");
    let addr = start(&www.0).await;

    let js = get(addr, "/big.js", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-encoding"), Some("gzip"));
    assert_eq!(&js.body[..2], &[0x1f, 0x8b], "gzip magic");
}

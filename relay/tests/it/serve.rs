//! The page: static files with the right types, gzip, `/healthz`.

use crate::support::{INDEX_HTML, TestRelay, WASM_BYTES, get};

#[tokio::test]
async fn serves_index_wasm_js_and_healthz() {
    let relay = TestRelay::start(Default::default()).await;
    let addr = relay.addr;

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
    let relay = TestRelay::start(Default::default()).await;
    // Large enough that the compression layer does not skip it as tiny.
    std::fs::write(relay.dir.path().join("www/big.js"), "export const x = 1;\n".repeat(200)).expect("write big.js");
    let addr = relay.addr;

    let js = get(addr, "/big.js", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-encoding"), Some("gzip"));
    assert_eq!(&js.body[..2], &[0x1f, 0x8b], "gzip magic");
}

//! The HTTP surface under attack: slow headers and bodies, oversize and cross-site bodies, request
//! floods, foreign `Host` names (DNS rebinding), broken-off WebSocket handshakes and clients that
//! stop reading. Each test mounts the attack, checks the exact refusal, and then that a
//! well-behaved client is still served.

use crate::api_schema::{assert_documented, document};
use crate::support::{RawClient, RelayConfig, TestRelay, eventually, get, mine, mine_inventory, post, request};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tabchain_core::{Message, Params, SecretKey, encode_address};
use tabchain_relay::api_params::{Location, ParamChecks};
use tabchain_relay::limits::{API_BODY_BYTES_MAX, Limits};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

async fn relay_with(limits: Limits) -> TestRelay {
    TestRelay::start(RelayConfig { limits: Some(limits), ..Default::default() }).await
}

/// The schema the relay serves.
async fn still_serves(relay: &TestRelay) {
    assert_eq!(get(relay.addr, "/api/status", "").await.status, 200, "the API still answers");
    let mut good = RawClient::connect(&relay.ws_url()).await;
    good.hello(None).await;
    assert!(good.is_served().await, "a well-behaved peer is still served");
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
async fn read_until_closed(stream: &mut tokio::net::tcp::OwnedReadHalf, within: Duration) -> (Vec<u8>, Instant) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => panic!("the connection was still open after {within:?}"),
            Ok(Ok(0) | Err(_)) => return (received, Instant::now()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_or_absent_headers_are_cut_off_at_the_header_timeout() {
    let timeout = Duration::from_secs(1);
    let relay = relay_with(Limits { header_read_timeout: timeout, ..Limits::default() }).await;

    // Slowloris: a request line and one header, then one more header byte every 100 ms.
    let started = Instant::now();
    let (mut reader, mut writer) = TcpStream::connect(relay.addr).await.expect("connect").into_split();
    writer.write_all(format!("GET /api/status HTTP/1.1\r\nHost: {}\r\n", relay.addr).as_bytes()).await.expect("send");
    let trickle = tokio::spawn(async move {
        for byte in b"X-Slow: ".iter().chain([b'a'; 200].iter()).cycle().take(400) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
    });
    let (_, closed) = read_until_closed(&mut reader, Duration::from_secs(5)).await;
    let lasted = closed - started;
    trickle.abort();
    assert!(lasted >= timeout && lasted < timeout * 3, "a trickling client was closed after {lasted:?}");

    // A connection that sends nothing at all.
    let started = Instant::now();
    let (mut reader, _writer) = TcpStream::connect(relay.addr).await.expect("connect").into_split();
    let (received, closed) = read_until_closed(&mut reader, Duration::from_secs(5)).await;
    let lasted = closed - started;
    assert!(lasted >= timeout && lasted < timeout * 3, "a silent client was closed after {lasted:?}");
    assert!(!received.starts_with(b"HTTP/1.1 200"), "no request, no answer");

    // An idle keep-alive connection after one answered request.
    let (mut reader, mut writer) = TcpStream::connect(relay.addr).await.expect("connect").into_split();
    writer.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", relay.addr).as_bytes()).await.expect("send");
    let started = Instant::now();
    let (received, closed) = read_until_closed(&mut reader, Duration::from_secs(5)).await;
    assert!(received.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&received));
    assert!(closed - started < timeout * 3, "an idle connection was closed after {:?}", closed - started);
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_gets_408() {
    let timeout = Duration::from_secs(1);
    let relay = relay_with(Limits { api_request_timeout: timeout, ..Limits::default() }).await;
    let head = format!(
        "POST /api/tx HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"hex\": \"00",
        relay.addr
    );
    let started = Instant::now();
    let answer = request(relay.addr, &head).await;
    let lasted = started.elapsed();
    assert_eq!(answer.status, 408);
    assert_eq!(answer.json()["error"], "the request took too long");
    assert_documented("post", "/tx", &answer);
    assert!(lasted >= timeout && lasted < timeout * 3, "answered after {lasted:?}");
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_largest_block_get_413_and_the_largest_block_fits() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    // Announced too large: refused from the header alone, before any body byte is sent.
    let head = format!(
        "POST /api/block HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        relay.addr,
        API_BODY_BYTES_MAX + 1
    );
    let oversize = request(relay.addr, &head).await;
    assert_eq!(oversize.status, 413);
    assert_documented("post", "/block", &oversize);
    assert!(oversize.json()["error"].as_str().expect("reason").contains("too large"), "{}", oversize.json());
    // The hex of a block of the largest valid size passes the body limit and reaches core, which
    // says what is wrong with these zeros.
    let largest = format!("{{\"hex\": \"{}\"}}", "00".repeat(tabchain_core::BLOCK_BYTES_MAX));
    assert!(largest.len() <= API_BODY_BYTES_MAX);
    let answer = post(relay.addr, "/api/block", &largest).await;
    assert_eq!(answer.status, 400, "{}", answer.json());
    assert_eq!(relay.height(), 0);
    still_serves(&relay).await;
}

/// A POST of `body` to `path` as `content_type` (none if empty).
async fn post_as(relay: &TestRelay, path: &str, content_type: &str, body: &str) -> crate::support::Response {
    let content_type =
        if content_type.is_empty() { String::new() } else { format!("Content-Type: {content_type}\r\n") };
    let raw = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        relay.addr,
        body.len()
    );
    request(relay.addr, &raw).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_must_be_json_so_other_sites_cannot_post_them() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let json = r#"{"hex": "00"}"#;
    for path in ["/api/tx", "/api/block"] {
        // What an HTML form on another site can send without a CORS preflight.
        for (content_type, body) in [
            ("text/plain", json),
            ("application/x-www-form-urlencoded", "hex=00"),
            ("multipart/form-data; boundary=x", "--x--"),
            ("", json),
        ] {
            let answer = post_as(&relay, path, content_type, body).await;
            assert_eq!(answer.status, 415, "{path} as {content_type:?}");
            assert_documented("post", path.trim_start_matches("/api"), &answer);
            assert!(answer.json()["error"].as_str().expect("reason").contains("application/json"));
        }
        // JSON that is not `{"hex": ...}` is a bad request; the right shape reaches core.
        assert_eq!(post_as(&relay, path, "application/json", "00").await.status, 400, "bare hex");
        assert_eq!(post_as(&relay, path, "application/json", r#"{"hx": "00"}"#).await.status, 400);
        let answer = post_as(&relay, path, "application/json; charset=utf-8", json).await;
        assert_eq!(answer.status, 400);
        assert!(answer.json()["error"].as_str().expect("reason").starts_with("not a "), "{}", answer.json());
    }
    assert_eq!(relay.driver.read(|n| n.mempool().len()), 0);
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_request_rate_gets_429() {
    let limits = Limits { api_requests_per_s_max: 1, api_request_burst_max: 3, ..Limits::default() };
    let relay = relay_with(limits).await;
    for _ in 0..3 {
        assert_eq!(get(relay.addr, "/api/status", "").await.status, 200, "within the burst");
    }
    let refused = get(relay.addr, "/api/mempool", "").await;
    assert_eq!(refused.status, 429);
    assert!(refused.json()["error"].as_str().expect("reason").starts_with("too many requests"));
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_documented("get", "/mempool", &refused);
    assert_eq!(post(relay.addr, "/api/tx", r#"{"hex": "00"}"#).await.status, 429, "posts count too");
    // The page, metrics and health are not API requests.
    assert_eq!(get(relay.addr, "/healthz", "").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(relay.addr, "/api/status", "").await.status, 200, "the budget refills");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_in_flight_cap_get_503() {
    // The rate limit is out of the way: the polling below may take many tries on a busy machine.
    let limits = Limits {
        api_requests_in_flight_max: 1,
        api_request_timeout: Duration::from_secs(60),
        api_requests_per_s_max: 10_000,
        api_request_burst_max: 10_000,
        ..Limits::default()
    };
    let relay = relay_with(limits).await;
    // One request in flight: its body never comes.
    let hold = || async {
        let mut held = TcpStream::connect(relay.addr).await.expect("connect");
        let head = format!(
            "POST /api/tx HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
            relay.addr
        );
        held.write_all(head.as_bytes()).await.expect("send");
        held
    };
    let mut held = hold().await;
    // Once the relay has read the held request's head, the next one is refused. A poll that is
    // itself in flight when that head arrives gets the held request refused instead (an answer
    // on its connection, on a busy machine): then it is sent again.
    let deadline = Instant::now() + Duration::from_secs(20);
    let refused = loop {
        let answer = get(relay.addr, "/api/status", "").await;
        if answer.status != 200 || Instant::now() > deadline {
            break answer;
        }
        let mut byte = [0u8; 1];
        if !matches!(held.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            held = hold().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused.status, 503);
    assert_eq!(refused.json()["error"], "too many requests in flight; retry shortly");
    assert_documented("get", "/status", &refused);
    drop(held);
    let served = async {
        loop {
            if get(relay.addr, "/api/status", "").await.status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), served).await.expect("the place comes back");
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_host_names_get_421_on_every_route_which_stops_dns_rebinding() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let port = relay.addr.port();
    let evil = format!("evil.example:{port}");
    for path in ["/", "/healthz", "/metrics", "/api/status", "/api/openapi.json"] {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: {evil}\r\nConnection: close\r\n\r\n");
        let answer = request(relay.addr, &raw).await;
        assert_eq!(answer.status, 421, "{path}");
        assert_eq!(answer.json()["error"], "host not allowed");
        if let Some(template) = path.strip_prefix("/api").filter(|t| *t != "/openapi.json") {
            assert_documented("get", template, &answer);
        }
    }
    // The rebinding attack on /ws: the page's own origin, under the attacker's name, passed the
    // same-origin check before, since it compares Origin with Host.
    let url = relay.ws_url();
    let rebound = [("host", evil.as_str()), ("origin", &format!("http://{evil}"))];
    assert_eq!(RawClient::connect_with(&url, &rebound).await.err(), Some(421));
    assert_eq!(RawClient::connect_with(&url, &[("host", evil.as_str())]).await.err(), Some(421), "native client too");
    let post_raw = format!(
        "POST /api/tx HTTP/1.1\r\nHost: {evil}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    assert_eq!(request(relay.addr, &post_raw).await.status, 421);
    // The relay's own names are served.
    for host in [relay.addr.to_string(), format!("localhost:{port}"), format!("LOCALHOST:{port}")] {
        let raw = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        assert_eq!(request(relay.addr, &raw).await.status, 200, "{host}");
    }
    assert!(RawClient::connect_with(&url, &[("host", &format!("localhost:{port}"))]).await.is_ok());
    // A name given with --allow-host.
    let named = relay_with(Limits { allowed_hosts: vec!["relay.example".into()], ..Limits::default() }).await;
    let raw =
        format!("GET /api/status HTTP/1.1\r\nHost: relay.example:{}\r\nConnection: close\r\n\r\n", named.addr.port());
    assert_eq!(request(named.addr, &raw).await.status, 200);
    let own = format!("http://relay.example:{}", named.addr.port());
    let host = format!("relay.example:{}", named.addr.port());
    assert!(RawClient::connect_with(&named.ws_url(), &[("host", &host), ("origin", &own)]).await.is_ok());
    still_serves(&relay).await;
}

/// A WebSocket upgrade request from a raw socket, with `key_header` (empty for none); `close`
/// asks the relay to close the connection after answering.
fn upgrade_request(relay: &TestRelay, version: &str, key_header: &str, close: bool) -> String {
    let connection = if close { "Upgrade, close" } else { "Upgrade" };
    format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: {connection}\r\n{key_header}Sec-WebSocket-Version: {version}\r\n\r\n",
        relay.addr
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_broken_off_upgrades_give_their_connection_slot_back() {
    let cap = 2;
    let relay = relay_with(Limits { connections_per_ip_max: cap, ..Limits::default() }).await;
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    // Handshakes the upgrade refuses: no key, an unknown version.
    for _ in 0..cap + 2 {
        assert_eq!(request(relay.addr, &upgrade_request(&relay, "13", "", true)).await.status, 400, "no key");
        assert_eq!(request(relay.addr, &upgrade_request(&relay, "8", key, true)).await.status, 400, "version 8");
    }
    // Handshakes admitted under the cap, then broken off by the client (reset) before it reads
    // the answer: the upgrade fails or ends at once, and its slot must come back either way.
    let accepted = || relay.driver.metrics.connections_accepted.load(Ordering::Relaxed);
    for attempt in 1..=(cap as u64 + 3) {
        let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
        stream.write_all(upgrade_request(&relay, "13", key, false).as_bytes()).await.expect("send");
        assert!(eventually(Duration::from_secs(5), || accepted() == attempt).await, "attempt {attempt} was admitted");
        stream.set_zero_linger().expect("linger");
        drop(stream);
        assert!(eventually(Duration::from_secs(5), || relay.driver.admission.open() == 0).await, "slot {attempt} back");
    }
    assert_eq!(relay.driver.metrics.connections_refused.load(Ordering::Relaxed), 0, "none was over the cap");
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_stop_reading_cannot_queue_more_than_the_total_cap() {
    // Each queue may hold 4 MB but all of them together only 100 kB, so that is the cap that bites,
    // and it bites the fullest queue: a non-reader's, not the reader's.
    let total_max = 100_000;
    let limits = Limits { queued_bytes_total_max: total_max, ..Limits::default() };
    let relay = relay_with(limits).await;
    let hashes = mine_inventory(&relay.driver, 200);
    let mut reader = RawClient::connect(&relay.ws_url()).await;
    reader.hello(None).await;
    let mut clients = Vec::new();
    for _ in 0..2 {
        let mut client = RawClient::connect(&relay.ws_url()).await;
        client.hello(None).await;
        clients.push(client);
    }
    assert!(eventually(Duration::from_secs(5), || relay.driver.n_peers() == 3).await, "all three registered");
    // Both ask for every block again and again and never read.
    let mut most_queued = 0;
    for _ in 0..300 {
        for client in &mut clients {
            client.send(&Message::GetData(hashes.clone())).await;
        }
        most_queued = most_queued.max(relay.driver.queued_bytes_total());
        if relay.driver.n_peers() < 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(relay.driver.n_peers() < 3, "a client that does not read was dropped");
    let metrics = relay.driver.metrics.render(&[]);
    assert!(relay.driver.metrics.disconnects_memory.load(Ordering::Relaxed) >= 1, "by the total cap: {metrics}");
    assert!(most_queued <= total_max, "at most {total_max} bytes queued, saw {most_queued}");
    assert!(reader.is_served().await, "the client that reads was not the one dropped");
    drop(clients);
    let drained = eventually(Duration::from_secs(15), || relay.driver.queued_bytes_total() == 0).await;
    assert!(drained, "the dropped clients' queues are given back: {}", relay.driver.queued_bytes_total());
    still_serves(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parameters_take_exactly_the_forms_the_schema_states() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let key = SecretKey::from_bytes(&[9; 32]);
    let block = mine(&relay.driver, key.public_key(), 0);
    mine(&relay.driver, key.public_key(), 1);
    let (hash, txid) = (block.block_hash().to_string(), block.txs[0].txid().to_string());
    let address = encode_address("tabrt", &key.public_key());
    let mut bad_checksum = address.clone();
    let last = bad_checksum.pop().expect("a character");
    bad_checksum.push(if last == 'q' { 'p' } else { 'q' });
    let unknown = "ab".repeat(32);
    // All decimal digits, yet a hash: 64 characters are never read as a height (genesis's parent).
    let zeros = "0".repeat(64);
    // (path template, parameter, value, status): the schema's parameter checks accept exactly
    // the values that do not get 400, but for the last row, whose form is right and checksum
    // wrong: no pattern can tell, the document's `tabchain-address` format says so.
    let cases: Vec<(&str, &str, String, u16)> = vec![
        ("/blocks/{id}", "id", "0".into(), 200),
        ("/blocks/{id}", "id", "2".into(), 200),
        ("/blocks/{id}", "id", "3".into(), 404),
        ("/blocks/{id}", "id", "4294967295".into(), 404),
        ("/blocks/{id}", "id", "4294967296".into(), 400),
        ("/blocks/{id}", "id", "007".into(), 400),
        ("/blocks/{id}", "id", "+1".into(), 400),
        ("/blocks/{id}", "id", "-1".into(), 400),
        ("/blocks/{id}", "id", hash.clone(), 200),
        ("/blocks/{id}", "id", unknown.clone(), 404),
        ("/blocks/{id}", "id", zeros, 404),
        ("/blocks/{id}", "id", hash.to_uppercase(), 400),
        ("/blocks/{id}", "id", hash[..63].to_owned(), 400),
        ("/blocks/{id}", "id", format!("{hash}0"), 400),
        ("/tx/{txid}", "txid", txid.clone(), 200),
        ("/tx/{txid}", "txid", unknown.clone(), 404),
        ("/tx/{txid}", "txid", txid.to_uppercase(), 400),
        ("/tx/{txid}", "txid", "xyz".into(), 400),
        ("/tx/{txid}", "txid", "0".into(), 400),
        ("/address/{address}", "address", address.clone(), 200),
        ("/address/{address}", "address", address.to_uppercase(), 400),
        ("/address/{address}", "address", "tabrt1".into(), 400),
        ("/address/{address}", "address", format!("{address}q"), 400),
        // Another network's: the document a regtest relay serves states regtest's prefix.
        ("/address/{address}", "address", encode_address("tab", &key.public_key()), 400),
        ("/address/{address}", "address", bad_checksum, 400),
    ];
    // The other operations' successes and bad bodies are documented too, and every operation
    // documents the refusals every API request can get.
    for path in ["/status", "/blocks", "/mempool", "/peers"] {
        let answer = get(relay.addr, &format!("/api{path}"), "").await;
        assert_eq!(answer.status, 200, "{path}");
        assert_documented("get", path, &answer);
    }
    for path in ["/tx", "/block"] {
        let answer = post(relay.addr, &format!("/api{path}"), r#"{"hex": "zz"}"#).await;
        assert_eq!(answer.status, 400, "{path}");
        assert_documented("post", path, &answer);
    }
    let spec = document();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            for status in ["408", "421", "429", "503"] {
                assert!(operation["responses"][status].is_object(), "{method} {path} documents {status}");
            }
        }
    }
    let semantic = 1;
    let checks = ParamChecks::from_openapi(&tabchain_relay::openapi::document(&Params::regtest())).expect("compiles");
    for (i, (template, name, value, status)) in cases.iter().enumerate() {
        let path = format!("/api{}", template.replace(&format!("{{{name}}}"), value));
        let answer = get(relay.addr, &path, "").await;
        assert_eq!(answer.status, *status, "{path}: {}", String::from_utf8_lossy(&answer.body));
        assert_documented("get", template, &answer);
        let schema_accepts = checks.get(template, Location::Path, name).expect("documented").check.accepts(value);
        let form_only = i >= cases.len() - semantic;
        assert_eq!(schema_accepts, *status != 400 || form_only, "{path}: the schema and the handler disagree");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_connections_over_the_per_address_cap_are_closed_as_accepted_and_upgrades_give_their_place_back() {
    let cap = 3;
    let relay = relay_with(Limits { http_connections_per_ip_max: cap, ..Limits::default() }).await;
    let open = || relay.driver.http_admission.open();
    // Idle connections hold their places (for the header timeout).
    let mut held = Vec::new();
    for _ in 0..cap {
        held.push(TcpStream::connect(relay.addr).await.expect("connect"));
    }
    assert!(eventually(Duration::from_secs(5), || open() == cap).await, "{} open", open());
    // One more is closed as it is accepted, its request unanswered.
    let (mut reader, mut writer) = TcpStream::connect(relay.addr).await.expect("connect").into_split();
    let _ = writer.write_all(format!("GET /api/status HTTP/1.1\r\nHost: {}\r\n\r\n", relay.addr).as_bytes()).await;
    let (received, _) = read_until_closed(&mut reader, Duration::from_secs(5)).await;
    assert_eq!(String::from_utf8_lossy(&received), "", "a connection over the cap was answered");
    assert_eq!(relay.driver.metrics.http_connections_refused.load(Ordering::Relaxed), 1);
    // A place given back is taken again.
    drop(held.pop());
    assert!(eventually(Duration::from_secs(5), || open() == cap - 1).await, "{} open", open());
    assert_eq!(get(relay.addr, "/api/status", "").await.status, 200);
    // WebSocket peers are capped by their own admission: an upgraded connection gives its HTTP
    // place back, so more peers than the HTTP cap connect from one address.
    drop(held);
    let mut peers = Vec::new();
    for _ in 0..=cap {
        let mut peer = RawClient::connect(&relay.ws_url()).await;
        peer.hello(None).await;
        assert!(peer.is_served().await);
        peers.push(peer);
    }
    assert!(eventually(Duration::from_secs(5), || open() == 0).await, "{} open with {} peers", open(), peers.len());
    still_serves(&relay).await;
}

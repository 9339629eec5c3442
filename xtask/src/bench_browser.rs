//! The miner benchmark in a real browser: builds the bundles, starts a relay serving `www/`,
//! drives headless Chromium through chromedriver (WebDriver over plain HTTP) to `bench.html`,
//! and puts its figures beside the native ones (`target/bench/kernel.json`) in
//! `target/bench/miner.json`, with a table of ratios.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::cmd::{self, say};
use crate::toolchain::{self, native_cargo};
use crate::{tools, wasm};

/// How long the page may take to finish all its measurements.
const BENCH_TIMEOUT: Duration = Duration::from_secs(180);
/// Seconds each browser measurement runs.
const SECONDS_PER_MEASUREMENT: u32 = 4;

/// Kills a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nothing listens on port {port} after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// One WebDriver call: `method path` with a JSON body; returns the response's `value`.
fn webdriver(port: u16, method: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let body = body.to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // Read the head, then exactly Content-Length bytes: chromedriver may keep the socket open.
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            bail!("WebDriver closed the connection mid-response");
        }
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .context("WebDriver response without Content-Length")?;
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload)?;
    let parsed: Value = serde_json::from_slice(&payload)
        .with_context(|| format!("WebDriver said: {}", String::from_utf8_lossy(&payload)))?;
    Ok(parsed["value"].clone())
}

pub(crate) fn miner(root: &Path) -> anyhow::Result<()> {
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    let chromedriver = tools::ensure_chromedriver()?;
    wasm::build_bundle(root, &wasm_toolchain, &bindgen)?;
    say("building the relay to serve the page");
    cmd::run(native_cargo().current_dir(root).args(["build", "--release", "-p", "tabchain-relay"]))?;

    let data = std::env::temp_dir().join(format!("tabchain-bench-miner-{}", std::process::id()));
    let http_port = free_port()?;
    let relay = Guard(
        Command::new(toolchain::target_dir(root).join("release/tabchain"))
            .args(["serve", "--network", "regtest", "--listen", &format!("127.0.0.1:{http_port}")])
            .arg("--www")
            .arg(root.join("www"))
            .arg("--data")
            .arg(&data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start the relay")?,
    );
    let driver_port = free_port()?;
    let driver = Guard(
        Command::new(&chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver")?,
    );
    wait_for_port(http_port)?;
    wait_for_port(driver_port)?;
    let result = run_page(driver_port, http_port);
    drop(driver);
    drop(relay);
    let _ = std::fs::remove_dir_all(&data);
    report(root, &result?)
}

fn run_page(driver_port: u16, http_port: u16) -> anyhow::Result<Value> {
    let chromium = cmd::find_program("chromium").context("Chromium is not installed (apt-get install chromium)")?;
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
    ];
    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "goog:chromeOptions": { "binary": chromium, "args": args }
    }}});
    let session = webdriver(driver_port, "POST", "/session", &capabilities)?;
    let id = session["sessionId"].as_str().context("no WebDriver session")?.to_owned();
    let url = format!("http://127.0.0.1:{http_port}/bench.html?seconds={SECONDS_PER_MEASUREMENT}");
    say(format!("measuring in headless Chromium: {url}"));
    webdriver(driver_port, "POST", &format!("/session/{id}/url"), &json!({ "url": url }))?;
    let deadline = Instant::now() + BENCH_TIMEOUT;
    let result = loop {
        let value = webdriver(
            driver_port,
            "POST",
            &format!("/session/{id}/execute/sync"),
            &json!({ "script": "return window.benchResult ?? null", "args": [] }),
        )?;
        if !value.is_null() {
            break value;
        }
        if Instant::now() > deadline {
            bail!("the benchmark page did not finish within {BENCH_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let _ = webdriver(driver_port, "DELETE", &format!("/session/{id}"), &json!({}));
    if let Some(error) = result.get("error") {
        bail!("the benchmark page failed: {error}");
    }
    Ok(result)
}

fn report(root: &Path, browser: &Value) -> anyhow::Result<()> {
    let dir = toolchain::target_dir(root).join("bench");
    let native: Value = std::fs::read_to_string(dir.join("kernel.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .context("target/bench/kernel.json is missing: run the kernel bench first (cargo xtask bench does)")?;
    let number = |v: &Value, key: &str| v[key].as_f64().unwrap_or(0.0);
    let sha2 = number(&native, "native_sha2_hps");
    let kernel = number(&native, "native_kernel_hps");
    let rows = [
        ("native sha2, plain SHA-256d", sha2),
        ("native kernel, one thread", kernel),
        ("browser kernel, one worker", number(browser, "browser_worker_hps")),
        ("browser kernel, all workers", number(browser, "browser_workers_hps")),
        ("browser portable kernel, one worker", number(browser, "browser_portable_worker_hps")),
        ("browser sha2 plain, one worker", number(browser, "browser_sha2_worker_hps")),
    ];
    println!("  {:<40} {:>10} {:>12} {:>14}", "", "MH/s", "x sha2", "x kernel");
    for (label, hps) in rows {
        println!("  {label:<40} {:>10.2} {:>12.2} {:>14.2}", hps / 1e6, hps / sha2.max(1.0), hps / kernel.max(1.0));
    }
    let n = number(browser, "n_workers");
    let scaling = number(browser, "browser_workers_hps") / number(browser, "browser_worker_hps").max(1.0);
    println!("  {n} workers scale {scaling:.2}x one worker (goal >= 0.9 x {n}); SIMD: {}", browser["simd"]);
    let mut merged = native.as_object().cloned().unwrap_or_default();
    merged.extend(browser.as_object().cloned().unwrap_or_default());
    std::fs::write(dir.join("miner.json"), serde_json::to_string_pretty(&merged)? + "\n")?;
    say("wrote target/bench/miner.json");
    Ok(())
}

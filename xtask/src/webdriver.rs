//! Driving headless Chromium through chromedriver (WebDriver over plain HTTP) against a relay
//! serving `www/`: used by the browser benchmark and the browser self-tests.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::cmd::{self, say};
use crate::toolchain;
use crate::{tools, wasm};

/// Kills a child process when dropped.
pub(crate) struct Guard(Child);

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
pub(crate) fn webdriver(port: u16, method: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
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

fn spawn_relay(command: &[std::ffi::OsString]) -> anyhow::Result<Guard> {
    let child = Command::new(&command[0])
        .args(&command[1..])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start the relay")?;
    Ok(Guard(child))
}

/// A relay serving `www/` (with fresh bundles) and a chromedriver, both stopped when dropped.
pub(crate) struct Browser {
    pub(crate) http_port: u16,
    pub(crate) driver_port: u16,
    _relay: Guard,
    _driver: Guard,
    data: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

impl Browser {
    /// Builds the bundles and the relay (`release` or not), then starts the relay and
    /// chromedriver.
    pub(crate) fn start(root: &Path, release: bool) -> anyhow::Result<Self> {
        let wasm_toolchain = toolchain::ensure_wasm(root)?;
        let bindgen = tools::ensure_bindgen(root)?;
        let chromedriver = tools::ensure_chromedriver()?;
        wasm::build_bundle(root, &wasm_toolchain, &bindgen)?;
        let relay_binary = toolchain::build_relay(root, release)?;
        let data = std::env::temp_dir().join(format!("tabchain-browser-{}-{}", std::process::id(), free_port()?));
        let http_port = free_port()?;
        let relay_command: Vec<std::ffi::OsString> = vec![
            relay_binary.into(),
            "serve".into(),
            "--network".into(),
            "regtest".into(),
            "--listen".into(),
            format!("127.0.0.1:{http_port}").into(),
            "--www".into(),
            root.join("www").into(),
            "--data".into(),
            data.clone().into(),
        ];
        let relay = spawn_relay(&relay_command)?;
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
        Ok(Self { http_port, driver_port, _relay: relay, _driver: driver, data })
    }

    /// Opens `page` (a path with query) in a fresh headless session and waits until the
    /// JavaScript expression `done` is neither null nor undefined; returns its value.
    pub(crate) fn run_page(&self, page: &str, done: &str, timeout: Duration) -> anyhow::Result<Value> {
        self.session()?.open(page, done, timeout)
    }

    /// A headless browser session (one tab), closed when dropped.
    pub(crate) fn session(&self) -> anyhow::Result<Session> {
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
            "--window-size=1200,2400",
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "goog:chromeOptions": { "binary": chromium, "args": args }
        }}});
        let session = webdriver(self.driver_port, "POST", "/session", &capabilities)?;
        let id = session["sessionId"].as_str().context("no WebDriver session")?.to_owned();
        Ok(Session { id, driver_port: self.driver_port, http_port: self.http_port })
    }
}

/// One browser tab under WebDriver.
pub(crate) struct Session {
    id: String,
    driver_port: u16,
    http_port: u16,
}

impl Session {
    /// Navigates to `page` and waits until the expression `done` is neither null nor undefined;
    /// returns its value (failing if it has an `error` field).
    pub(crate) fn open(&self, page: &str, done: &str, timeout: Duration) -> anyhow::Result<Value> {
        let url = format!("http://127.0.0.1:{}/{page}", self.http_port);
        say(format!("opening {url} in headless Chromium"));
        webdriver(self.driver_port, "POST", &format!("/session/{}/url", self.id), &json!({ "url": url }))?;
        self.wait(done, timeout).with_context(|| format!("on {page}"))
    }

    /// Waits, on the current page, until the expression `done` is neither null nor undefined;
    /// returns its value (failing if it has an `error` field).
    pub(crate) fn wait(&self, done: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        let result = loop {
            let value = webdriver(
                self.driver_port,
                "POST",
                &format!("/session/{}/execute/sync", self.id),
                &json!({ "script": format!("return ({done}) ?? null"), "args": [] }),
            )?;
            if !value.is_null() {
                break value;
            }
            if Instant::now() > deadline {
                bail!("`{done}` was still null after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        if let Some(error) = result.get("error") {
            bail!("the page reported: {error}");
        }
        Ok(result)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = webdriver(self.driver_port, "DELETE", &format!("/session/{}", self.id), &json!({}));
    }
}

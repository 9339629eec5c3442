//! Running the Playwright scripts of `e2e/` (the end-to-end tests, the page benchmark, and the
//! development pages: the miner's self-tests and benchmark): the npm package, fresh wasm
//! bundles, the relay binary, and a `node` command in `e2e/` that knows where they and Debian's
//! Chromium are (`TABCHAIN_BIN`, `TABCHAIN_WWW`, `TABCHAIN_CHROMIUM`). This is the one way
//! xtask drives a browser; chromedriver serves only `wasm-bindgen-test-runner`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::cmd;
use crate::toolchain::{self, Toolchain};
use crate::tools::{self, Bindgen};
use crate::wasm;

/// Prepares everything a script needs and returns `node` ready to run one (add the arguments).
/// `release` picks the relay's build profile: debug for tests, release for benchmarks.
pub(crate) fn node_command(
    root: &Path,
    wasm_toolchain: &Toolchain,
    bindgen: &Bindgen,
    release: bool,
) -> anyhow::Result<Command> {
    let node = tools::ensure_e2e_packages(root)?;
    wasm::build_bundle(root, wasm_toolchain, bindgen)?;
    // After the bundles, so that the relay's built-in page holds them (`builtin.test.mjs`).
    let relay = toolchain::build_relay(root, release)?;
    let chromium = cmd::find_program("chromium").context("Chromium is not installed (apt-get install chromium)")?;
    let mut command = Command::new(node);
    command
        .current_dir(root.join("e2e"))
        .env("TABCHAIN_BIN", relay)
        .env("TABCHAIN_WWW", root.join("www"))
        .env("TABCHAIN_CHROMIUM", chromium);
    Ok(command)
}

/// Opens `page` (a path under `www/` with its query, such as `dev/selftest.html`) in headless
/// Chromium against a relay serving the development pages, waits up to `timeout` for the page
/// to set the global `result`, and returns its value. Fails if the page never set it, or set
/// it to an object with an `error` field.
pub(crate) fn run_dev_page(
    root: &Path,
    wasm_toolchain: &Toolchain,
    bindgen: &Bindgen,
    release: bool,
    page: &str,
    result: &str,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let mut node = node_command(root, wasm_toolchain, bindgen, release)?;
    let out = toolchain::target_dir(root).join("e2e").join(format!("{result}.json"));
    std::fs::create_dir_all(out.parent().expect("a file in target/e2e"))?;
    let _ = std::fs::remove_file(&out);
    cmd::run(
        node.arg("dev-page.mjs")
            .env("TABCHAIN_PAGE", page)
            .env("TABCHAIN_PAGE_RESULT", result)
            .env("TABCHAIN_PAGE_OUT", &out)
            .env("TABCHAIN_PAGE_TIMEOUT_MS", timeout.as_millis().to_string()),
    )?;
    let text = std::fs::read_to_string(&out).with_context(|| format!("{page} reported nothing"))?;
    let value: Value = serde_json::from_str(&text).with_context(|| format!("{page} reported {text}"))?;
    if let Some(error) = value.get("error") {
        bail!("{page}: {error}");
    }
    Ok(value)
}

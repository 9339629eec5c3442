//! The page's benchmarks in headless Chromium, both through Playwright:
//!
//! - the node (`e2e/bench/node.bench.mjs`): wasm size, page load to node started and in sync,
//!   and a fresh tab syncing a long chain against a native node syncing the same chain in the
//!   same run; writes `target/bench/page.json`;
//! - the miner (`www/dev/bench.html`): its figures put beside the native ones
//!   (`target/bench/kernel.json`) in `target/bench/miner.json`, with a table of ratios;
//! - block propagation among ten tabs (`e2e/bench/propagation.bench.mjs`), through the relay and
//!   over direct WebRTC links with the relay gone; writes `target/bench/propagation.json`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use crate::cmd::{self, say};
use crate::{forge, playwright, toolchain, tools};

/// Blocks in the chain the sync is measured on.
const SYNC_BLOCKS: u32 = 10_000;
/// How long the miner page may take to finish all its measurements.
const MINER_BENCH_TIMEOUT: Duration = Duration::from_secs(180);
/// Seconds each of the miner page's measurements runs.
const SECONDS_PER_MEASUREMENT: u32 = 4;

pub(crate) fn page(root: &Path) -> anyhow::Result<()> {
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    let mut node = playwright::node_command(root, &wasm_toolchain, &bindgen, true)?;
    let dir = toolchain::target_dir(root).join("bench");
    say(format!("mining a {SYNC_BLOCKS}-block regtest chain to sync"));
    let chain = forge::write_valid_chain(&dir, SYNC_BLOCKS)?;
    cmd::run(
        node.arg("bench/node.bench.mjs")
            .env("TABCHAIN_BENCH_CHAIN", chain)
            .env("TABCHAIN_BENCH_OUT", dir.join("page.json")),
    )?;
    say("wrote target/bench/page.json");
    Ok(())
}

pub(crate) fn propagation(root: &Path) -> anyhow::Result<()> {
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    let mut node = playwright::node_command(root, &wasm_toolchain, &bindgen, true)?;
    let out = toolchain::target_dir(root).join("bench").join("propagation.json");
    std::fs::create_dir_all(out.parent().expect("a file in target/bench"))?;
    node.arg("bench/propagation.bench.mjs").env("TABCHAIN_BENCH_OUT", &out);
    // WebRTC between the tabs: every packet stays on loopback.
    cmd::run(&mut crate::netns::loopback_only(node))?;
    say("wrote target/bench/propagation.json");
    Ok(())
}

pub(crate) fn miner(root: &Path) -> anyhow::Result<()> {
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    let page = format!("dev/bench.html?seconds={SECONDS_PER_MEASUREMENT}");
    let result =
        playwright::run_dev_page(root, &wasm_toolchain, &bindgen, true, &page, "benchResult", MINER_BENCH_TIMEOUT)?;
    report(root, &result)
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
    println!(
        "  a new job replaces a running one in {:.1} ms (goal < 100 ms)",
        number(browser, "browser_job_switch_ms")
    );
    let mut merged = native.as_object().cloned().unwrap_or_default();
    merged.extend(browser.as_object().cloned().unwrap_or_default());
    std::fs::write(dir.join("miner.json"), serde_json::to_string_pretty(&merged)? + "\n")?;
    say("wrote target/bench/miner.json");
    Ok(())
}

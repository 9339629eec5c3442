//! The page's node benchmark (`e2e/bench/node.bench.mjs`, Playwright over headless Chromium):
//! wasm size, page load to node started and in sync, and a fresh tab syncing a long chain
//! against a native node syncing the same chain in the same run. Writes
//! `target/bench/page.json`.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, say};
use crate::toolchain::{self, native_cargo};
use crate::{forge, tools, wasm};

/// Blocks in the chain the sync is measured on.
const SYNC_BLOCKS: u32 = 10_000;

pub(crate) fn page(root: &Path) -> anyhow::Result<()> {
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    let node = tools::ensure_e2e_packages(root)?;
    wasm::build_bundle(root, &wasm_toolchain, &bindgen)?;
    cmd::run(native_cargo().current_dir(root).args(["build", "--release", "-p", "tabchain-relay"]))?;
    let target = toolchain::target_dir(root);
    let dir = target.join("bench");
    say(format!("mining a {SYNC_BLOCKS}-block regtest chain to sync"));
    let chain = forge::write_valid_chain(&dir, SYNC_BLOCKS)?;
    let chromium = cmd::find_program("chromium").unwrap_or_else(|| "/usr/bin/chromium".into());
    cmd::run(
        Command::new(node)
            .arg("bench/node.bench.mjs")
            .current_dir(root.join("e2e"))
            .env("TABCHAIN_BIN", target.join("release").join("tabchain"))
            .env("TABCHAIN_WWW", root.join("www"))
            .env("TABCHAIN_CHROMIUM", chromium)
            .env("TABCHAIN_BENCH_CHAIN", chain)
            .env("TABCHAIN_BENCH_OUT", dir.join("page.json")),
    )?;
    say("wrote target/bench/page.json");
    Ok(())
}

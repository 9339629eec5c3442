//! The page's node benchmark (`e2e/bench/node.bench.mjs`, Playwright over headless Chromium):
//! wasm size, page load to node started and in sync, and a fresh tab syncing a long chain
//! against a native node syncing the same chain in the same run. Writes
//! `target/bench/page.json`.

use std::path::Path;

use crate::cmd::{self, say};
use crate::{forge, playwright, toolchain, tools};

/// Blocks in the chain the sync is measured on.
const SYNC_BLOCKS: u32 = 10_000;

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

//! `cargo xtask run`: makes sure the toolchains are there, builds the wasm
//! bundles into `www/pkg` and `www/pkg-scalar` and the relay in release
//! (`cargo xtask build` stops there; that relay has the page built in), then
//! starts the relay serving `www/` from disk (`--www`, so edits show on reload)
//! until Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, say};
use crate::{toolchain, tools, wasm};

/// Where the relay listens unless told otherwise.
const LISTEN_DEFAULT: &str = "127.0.0.1:8080";

/// Builds both wasm bundles and the release relay; returns the relay's binary.
pub(crate) fn build(root: &Path) -> anyhow::Result<PathBuf> {
    say("checking the wasm toolchain");
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    wasm::build_bundle(root, &wasm_toolchain, &bindgen)?;
    // After the bundles: the relay embeds `www/` as it is when compiled (`relay/page/`).
    toolchain::build_relay(root, true)
}

pub(crate) fn run(root: &Path, listen: Option<&str>) -> anyhow::Result<()> {
    let listen = listen
        .map_or_else(|| std::env::var("TABCHAIN_LISTEN").unwrap_or_else(|_| LISTEN_DEFAULT.to_owned()), str::to_owned);
    let relay = build(root)?;
    say(format!("starting the relay: open http://{listen}/ (Ctrl-C stops it)"));
    cmd::run(Command::new(relay).args(["serve", "--listen"]).arg(&listen).arg("--www").arg(root.join("www")))
}

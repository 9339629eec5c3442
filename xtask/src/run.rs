//! `cargo xtask run`: makes sure the toolchains are there, builds the wasm
//! bundle into `www/pkg`, then builds and starts the relay serving `www/`
//! until Ctrl-C.

use std::path::Path;

use crate::cmd::{self, say};
use crate::toolchain::{self, native_cargo};
use crate::{tools, wasm};

/// Where the relay listens unless told otherwise.
const LISTEN_DEFAULT: &str = "127.0.0.1:8080";

pub(crate) fn run(root: &Path, listen: Option<&str>) -> anyhow::Result<()> {
    let listen = listen
        .map_or_else(|| std::env::var("TABCHAIN_LISTEN").unwrap_or_else(|_| LISTEN_DEFAULT.to_owned()), str::to_owned);
    say("checking the wasm toolchain");
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    wasm::build_bundle(root, &wasm_toolchain, &bindgen)?;
    say(format!("building and starting the relay: open http://{listen}/ (Ctrl-C stops it)"));
    let www = root.join("www");
    cmd::run(
        native_cargo()
            .current_dir(root)
            .args(["run", "--release", "-p", "tabchain-relay", "--", "serve", "--listen"])
            .arg(&listen)
            .arg("--www")
            .arg(&www),
    )
}

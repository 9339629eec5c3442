//! Running the Playwright scripts of `e2e/` (the end-to-end tests and the page benchmark): the
//! npm package, fresh wasm bundles, the relay binary, and a `node` command in `e2e/` that knows
//! where they and Debian's Chromium are (`TABCHAIN_BIN`, `TABCHAIN_WWW`, `TABCHAIN_CHROMIUM`).

use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

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

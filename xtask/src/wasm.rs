//! Building the page's wasm bundle: `web` compiled to wasm32 in release, then
//! `wasm-bindgen --target web` writing the module and its ES-module glue into
//! `www/pkg`, where `www/main.js` imports it.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, say};
use crate::toolchain::{Toolchain, WASM_TARGET};
use crate::tools::Bindgen;

pub(crate) fn build_bundle(root: &Path, toolchain: &Toolchain, bindgen: &Bindgen) -> anyhow::Result<()> {
    say(format!("building web (wasm32, {})", toolchain.label()));
    cmd::run(&mut toolchain.cargo(
        root,
        &["build", "--release", "-p", "tabchain-web"],
        WASM_TARGET,
        "std,panic_abort",
    ))?;
    let module = toolchain.target_dir(root).join(WASM_TARGET).join("release/tabchain_web.wasm");
    say("generating JavaScript bindings into www/pkg");
    cmd::run(
        Command::new(&bindgen.bindgen).args(["--target", "web", "--out-dir"]).arg(root.join("www/pkg")).arg(module),
    )
}

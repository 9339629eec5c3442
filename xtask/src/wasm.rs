//! Building the page's wasm bundles: `web` compiled to wasm32 in the workspace's `wasm-release`
//! profile (one codegen unit under full LTO; see `Cargo.toml`), then
//! `wasm-bindgen --target web` writing the module and its ES-module glue. Two builds: `www/pkg`
//! with SIMD128 (the workspace's `.cargo/config.toml` enables it for wasm32), which every
//! current browser runs, and `www/pkg-scalar` without it, which the page falls back to when
//! the browser cannot validate SIMD (the miner then hashes one nonce at a time, and says so).

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, say};
use crate::toolchain::{Toolchain, WASM_TARGET};
use crate::tools::Bindgen;

/// The cargo profile of the bundles, and the folder under `target/wasm32-unknown-unknown/` it
/// writes to.
const PROFILE: &str = "wasm-release";

/// Flags that turn SIMD off again for the fallback build (they replace the config's flags).
const SCALAR_RUSTFLAGS: &str = "-C target-feature=-simd128";

pub(crate) fn build_bundle(root: &Path, toolchain: &Toolchain, bindgen: &Bindgen) -> anyhow::Result<()> {
    let simd_dir = toolchain.target_dir(root);
    build_variant(root, toolchain, bindgen, "pkg", &simd_dir, None)?;
    let scalar_dir = toolchain.target_dir(root).join("wasm-scalar");
    build_variant(root, toolchain, bindgen, "pkg-scalar", &scalar_dir, Some(SCALAR_RUSTFLAGS))
}

fn build_variant(
    root: &Path,
    toolchain: &Toolchain,
    bindgen: &Bindgen,
    out: &str,
    target_dir: &Path,
    rustflags: Option<&str>,
) -> anyhow::Result<()> {
    let simd = if rustflags.is_some() { "without SIMD" } else { "with SIMD128" };
    say(format!("building web (wasm32 {simd}, {})", toolchain.label()));
    let mut build =
        toolchain.cargo(root, &["build", "--profile", PROFILE, "-p", "tabchain-web"], WASM_TARGET, "std,panic_abort");
    // A folder per variant, so the two sets of flags never rebuild each other.
    build.env("CARGO_TARGET_DIR", target_dir);
    if let Some(flags) = rustflags {
        build.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", flags);
    }
    cmd::run(&mut build)?;
    let module = target_dir.join(WASM_TARGET).join(PROFILE).join("tabchain_web.wasm");
    say(format!("generating JavaScript bindings into www/{out}"));
    // Without the name section (function names, about 120 KiB the page would download for
    // nothing but named frames in a wasm stack trace; a panic's message and place still show).
    cmd::run(
        Command::new(&bindgen.bindgen)
            .args(["--target", "web", "--remove-name-section", "--out-dir"])
            .arg(root.join("www").join(out))
            .arg(module),
    )
}

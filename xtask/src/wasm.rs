//! Building the page's wasm bundles: `web` (the node) and `web/miner` (the mining workers'
//! kernel) compiled to wasm32 in the workspace's `wasm-release` profile (one codegen unit under
//! full LTO; see `Cargo.toml`), then `wasm-bindgen --target web` writing each module and its
//! ES-module glue. Two builds of both: `www/pkg` with SIMD128 (the workspace's
//! `.cargo/config.toml` enables it for wasm32), which every current browser runs, and
//! `www/pkg-scalar` without it, which the page falls back to when the browser cannot validate
//! SIMD (the miner then hashes one nonce at a time, and says so).

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, say};
use crate::toolchain::{Toolchain, WASM_TARGET};
use crate::tools::Bindgen;

/// The cargo profile of the bundles, and the folder under `target/wasm32-unknown-unknown/` it
/// writes to.
const PROFILE: &str = "wasm-release";

/// Flags for the fallback build (they replace the config's flags): SIMD off again, and LLVM's
/// inlining threshold lowered from level 3's 250 to 150. Without SIMD every 32-byte copy takes
/// twice the instructions, which made this build 37 KiB larger than the SIMD one (1,021 KiB,
/// 336 KiB gzipped); at 150 it is 987 KiB, 323 KiB gzipped, under the same budget. The SIMD
/// build, which nearly every browser runs, keeps the default: at 150 a fresh tab took 1.89 s
/// instead of 1.65 s over 100,000 headers (one run each, on a machine that was noisy).
const SCALAR_RUSTFLAGS: &str = "-C target-feature=-simd128 -C llvm-args=-inline-threshold=150";

/// The packages built, by the name of the module each writes (`<name>.wasm`, and the
/// `<name>.js` glue wasm-bindgen writes beside `<name>_bg.wasm`).
const BUNDLES: [(&str, &str); 2] = [("tabchain-web", "tabchain_web"), ("tabchain-web-miner", "tabchain_web_miner")];

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
    let mut args = vec!["build", "--profile", PROFILE];
    args.extend(BUNDLES.iter().flat_map(|&(package, _)| ["-p", package]));
    let mut build = toolchain.cargo(root, &args, WASM_TARGET, "std,panic_abort");
    // A folder per variant, so the two sets of flags never rebuild each other.
    build.env("CARGO_TARGET_DIR", target_dir);
    if let Some(flags) = rustflags {
        build.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", flags);
    }
    cmd::run(&mut build)?;
    say(format!("generating JavaScript bindings into www/{out}"));
    for (_, module) in BUNDLES {
        let module = target_dir.join(WASM_TARGET).join(PROFILE).join(format!("{module}.wasm"));
        // Without the name section (function names, about 120 KiB the page would download for
        // nothing but named frames in a wasm stack trace; a panic's message and place still
        // show).
        cmd::run(
            Command::new(&bindgen.bindgen)
                .args(["--target", "web", "--remove-name-section", "--out-dir"])
                .arg(root.join("www").join(out))
                .arg(module),
        )?;
    }
    Ok(())
}

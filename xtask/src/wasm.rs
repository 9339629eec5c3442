//! Building the page's wasm bundles: `web` compiled to wasm32 in the workspace's `wasm-release`
//! profile (optimised for size but for the hot code; see `Cargo.toml`), then
//! `wasm-bindgen --target web` writing the module and its ES-module glue. Two builds: `www/pkg`
//! with SIMD128 (the workspace's `.cargo/config.toml` enables it for wasm32), which every
//! current browser runs, and `www/pkg-scalar` without it, which the page falls back to when
//! the browser cannot validate SIMD (the miner then hashes one nonce at a time, and says so).
//! Each module then goes through binaryen's `wasm-opt -O1` (Debian's `binaryen`, installed when
//! missing; skipped, with a line saying so, where it cannot be): 3% smaller raw and gzipped. Its
//! size levels (`-Os`, `-Oz`) shrink the raw module more but make it gzip about 8% larger.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, say};
use crate::toolchain::{Toolchain, WASM_TARGET};
use crate::tools::Bindgen;

/// The cargo profile of the bundles, and the folder under `target/wasm32-unknown-unknown/` it
/// writes to.
const PROFILE: &str = "wasm-release";

/// Flags that turn SIMD off again for the fallback build (they replace the config's flags).
const SCALAR_RUSTFLAGS: &str = "-C target-feature=-simd128";

/// The wasm features rustc's wasm32 target emits (besides SIMD128), which `wasm-opt` must be
/// told of; it refuses a module using one it was not.
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

pub(crate) fn build_bundle(root: &Path, toolchain: &Toolchain, bindgen: &Bindgen) -> anyhow::Result<()> {
    let wasm_opt = ensure_wasm_opt();
    let simd_dir = toolchain.target_dir(root);
    build_variant(root, toolchain, bindgen, "pkg", &simd_dir, None)?;
    optimise(wasm_opt.as_deref(), &root.join("www/pkg/tabchain_web_bg.wasm"), true)?;
    let scalar_dir = toolchain.target_dir(root).join("wasm-scalar");
    build_variant(root, toolchain, bindgen, "pkg-scalar", &scalar_dir, Some(SCALAR_RUSTFLAGS))?;
    optimise(wasm_opt.as_deref(), &root.join("www/pkg-scalar/tabchain_web_bg.wasm"), false)
}

/// `wasm-opt`, installing Debian's `binaryen` if it is missing; `None` (said once) where it
/// cannot be had: the bundles then work the same, 3% larger.
fn ensure_wasm_opt() -> Option<PathBuf> {
    if let Some(found) = cmd::find_program("wasm-opt") {
        return Some(found);
    }
    let installed = crate::apt::install(&["binaryen"], "wasm-opt is not installed (Debian: binaryen)");
    match installed.ok().and_then(|()| cmd::find_program("wasm-opt")) {
        Some(found) => Some(found),
        None => {
            say("wasm-opt is not available: the wasm bundles are left as rustc and wasm-bindgen wrote them");
            None
        }
    }
}

/// Runs `wasm-opt -O1` over `module` in place (with SIMD128 allowed only for the SIMD bundle, so
/// that one slipping into the scalar bundle fails the build).
fn optimise(wasm_opt: Option<&Path>, module: &Path, simd: bool) -> anyhow::Result<()> {
    let Some(wasm_opt) = wasm_opt else { return Ok(()) };
    say(format!("wasm-opt -O1 {}", module.display()));
    let mut command = Command::new(wasm_opt);
    command.arg("-O1").args(WASM_OPT_FEATURES);
    if simd {
        command.arg("--enable-simd");
    }
    cmd::run(command.arg(module).arg("-o").arg(module))
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

//! Finding, and if need be installing, the tools around the compiler: the
//! `wasm-bindgen` CLI (whose version must equal the `wasm-bindgen` crate's
//! exactly, or the generated glue does not fit the module) with its test
//! runner, and headless Chromium with chromedriver for the wasm tests.
//!
//! Environment variables that override the search:
//! - `TABCHAIN_WASM_BINDGEN`: the `wasm-bindgen` binary to use; its version
//!   must still match, and `wasm-bindgen-test-runner` must sit beside it.
//! - `CHROMEDRIVER`: the chromedriver to drive (default: the one on `PATH`).
//! - `TABCHAIN_NO_INSTALL=1`: install nothing; fail naming what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::cmd::{self, find_program, say};
use crate::toolchain::native_cargo;
use crate::{apt, manifest};

/// The `wasm-bindgen` CLI and its test runner, of the pinned version.
#[derive(Debug)]
pub(crate) struct Bindgen {
    pub(crate) bindgen: PathBuf,
    pub(crate) test_runner: PathBuf,
}

/// The pinned `wasm-bindgen` CLI, installed with `cargo install` if missing.
pub(crate) fn ensure_bindgen(root: &Path) -> anyhow::Result<Bindgen> {
    let version = manifest::wasm_bindgen_version(root)?;
    if let Some(chosen) = std::env::var_os("TABCHAIN_WASM_BINDGEN") {
        return matching_bindgen(Path::new(&chosen), &version)
            .with_context(|| format!("TABCHAIN_WASM_BINDGEN is not wasm-bindgen {version} with its test runner"));
    }
    let installed = cargo_home().join("bin/wasm-bindgen");
    let candidates = find_program("wasm-bindgen").into_iter().chain([installed.clone()]);
    for candidate in candidates {
        if let Some(found) = matching_bindgen(&candidate, &version) {
            return Ok(found);
        }
    }
    if std::env::var_os("TABCHAIN_NO_INSTALL").is_some_and(|v| v == "1") {
        bail!("wasm-bindgen {version} is missing: `cargo install wasm-bindgen-cli --version {version}`");
    }
    say(format!("installing wasm-bindgen-cli {version} (takes a few minutes, once)"));
    cmd::run(native_cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))?;
    matching_bindgen(&installed, &version)
        .with_context(|| format!("installed wasm-bindgen-cli {version}, yet {} is not it", installed.display()))
}

/// `bindgen` with its test runner, if it reports exactly `version`.
fn matching_bindgen(bindgen: &Path, version: &str) -> Option<Bindgen> {
    let reported = cmd::probe(Command::new(bindgen).arg("--version"))?;
    if reported.split_whitespace().nth(1) != Some(version) {
        return None;
    }
    let test_runner = bindgen.with_file_name("wasm-bindgen-test-runner");
    cmd::is_executable(&test_runner).then(|| Bindgen { bindgen: bindgen.to_path_buf(), test_runner })
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"), PathBuf::from)
}

/// The chromedriver that drives headless Chromium for the wasm tests,
/// installing Debian's `chromium` and `chromium-driver` if either is missing.
pub(crate) fn ensure_chromedriver() -> anyhow::Result<PathBuf> {
    if let Some(chosen) = std::env::var_os("CHROMEDRIVER") {
        return Ok(PathBuf::from(chosen));
    }
    if let Some(found) = chromedriver_with_browser() {
        return Ok(found);
    }
    apt::install(
        &["chromium", "chromium-driver"],
        "the wasm tests need Chromium and chromedriver (Debian: chromium chromium-driver); \
         install them, or point CHROMEDRIVER at a chromedriver, and run again",
    )?;
    chromedriver_with_browser().context("installed chromium-driver, yet chromedriver is not on PATH")
}

fn chromedriver_with_browser() -> Option<PathBuf> {
    const BROWSERS: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let driver = find_program("chromedriver")?;
    BROWSERS.iter().any(|name| find_program(name).is_some()).then_some(driver)
}

/// The end-to-end tests' npm packages (`e2e/package-lock.json`: `playwright-core`, which drives
/// Debian's Chromium and downloads no browser, and `axe-core`, the accessibility audit the tests
/// inject into the page), installed with `npm ci` when one is missing.
/// Returns the `node` that runs the tests.
pub(crate) fn ensure_e2e_packages(root: &Path) -> anyhow::Result<PathBuf> {
    let node = find_program("node").context("Node.js is not installed; the end-to-end tests need it (and npm)")?;
    let e2e = root.join("e2e");
    let installed =
        ["playwright-core", "axe-core"].iter().all(|p| e2e.join("node_modules").join(p).join("package.json").is_file());
    if installed {
        return Ok(node);
    }
    if std::env::var_os("TABCHAIN_NO_INSTALL").is_some_and(|v| v == "1") {
        bail!("the end-to-end tests' packages are missing: `npm ci` in {}", e2e.display());
    }
    let npm = find_program("npm").context("npm is not installed; the end-to-end tests need it")?;
    say("installing the end-to-end tests' packages (npm ci: playwright-core, axe-core)");
    cmd::run(Command::new(npm).args(["ci", "--no-audit", "--no-fund"]).current_dir(&e2e))?;
    Ok(node)
}

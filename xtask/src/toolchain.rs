//! Finding, and if need be installing, a Rust toolchain that can build for
//! targets other than the host: `wasm32-unknown-unknown` for the page and a
//! target with no `std` at all for the no_std proof of `core`.
//!
//! Two kinds are used, tried in this order:
//! 1. rustup's toolchain, when it already has the target's standard library
//!    (or `rustup target add` gets it within [`RUSTUP_ADD_TIMEOUT`]);
//! 2. Debian's `rustc-web` packages (a stable rustc with the library sources
//!    in `rust-web-src`), which build the standard library from source with
//!    `-Zbuild-std`, unlocked by `RUSTC_BOOTSTRAP=1`. They get their own
//!    target folder (`target/debian`) so the two compilers never invalidate
//!    each other's artifacts. When they are already installed they are used
//!    before trying `rustup target add`, which can hang for its full time
//!    limit on a machine without access to rustup's servers.
//!
//! Environment variables that override the search:
//! - `TABCHAIN_WASM_TOOLCHAIN=rustup|debian` picks the kind, skipping detection.
//! - `TABCHAIN_WASM_CARGO`, `TABCHAIN_WASM_RUSTC`: the cargo and rustc of the
//!   build-std toolchain (default `/usr/bin/cargo`, `/usr/bin/rustc`).
//! - `TABCHAIN_NO_INSTALL=1`: install nothing; fail naming what is missing.
//! - `CARGO_TARGET_DIR` is honoured; the build-std folder goes inside it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::cmd::{self, say};
use crate::{apt, manifest};

/// The page's target.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Targets without `std`, any of which proves `core` needs none. The first is
/// the one built with the Debian toolchain.
pub(crate) const NO_STD_TARGETS: [&str; 2] = ["wasm32v1-none", "thumbv7em-none-eabi"];
/// How long `rustup target add` may take before the Debian toolchain is used.
const RUSTUP_ADD_TIMEOUT: Duration = Duration::from_secs(20);
/// What provides the build-std toolchain on Debian.
const DEBIAN_PACKAGES: [&str; 5] = ["rustc-web", "cargo-web", "rust-web-src", "rust-web-llvm", "lld-22"];

/// A Rust toolchain able to build for some target other than the host.
#[derive(Debug)]
pub(crate) enum Toolchain {
    /// rustup's, with the target's standard library already installed.
    Rustup,
    /// A stable toolchain that builds the standard library from source.
    BuildStd { cargo: PathBuf, rustc: PathBuf },
}

impl Toolchain {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Toolchain::Rustup => "rustup toolchain",
            Toolchain::BuildStd { .. } => "Debian toolchain",
        }
    }

    /// `cargo <args> --target <target>`, building `std_crates` from source
    /// (e.g. `std,panic_abort`) when this toolchain has no prebuilt ones.
    pub(crate) fn cargo(&self, root: &Path, args: &[&str], target: &str, std_crates: &str) -> Command {
        let mut command = match self {
            Toolchain::Rustup => native_cargo(),
            Toolchain::BuildStd { cargo, rustc } => {
                let mut command = Command::new(cargo);
                command
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("RUSTC", rustc)
                    .env("RUSTDOC", rustc.with_file_name("rustdoc"))
                    .env("CARGO_TARGET_DIR", self.target_dir(root))
                    .env_remove("RUSTUP_TOOLCHAIN");
                command
            }
        };
        command.args(args).args(["--target", target]);
        if let Toolchain::BuildStd { .. } = self {
            command.arg(format!("-Zbuild-std={std_crates}"));
        }
        command
    }

    /// Where this toolchain's `cargo` puts its artifacts.
    pub(crate) fn target_dir(&self, root: &Path) -> PathBuf {
        match self {
            Toolchain::Rustup => target_dir(root),
            Toolchain::BuildStd { .. } => target_dir(root).join("debian"),
        }
    }
}

/// The cargo that runs this task (rustup's), for native builds.
pub(crate) fn native_cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds the relay (`release` or debug) to serve the page in browser tests and benchmarks;
/// returns its binary.
pub(crate) fn build_relay(root: &Path, release: bool) -> anyhow::Result<PathBuf> {
    say("building the relay to serve the page");
    let mut build = native_cargo();
    build.current_dir(root).args(["build", "-p", "tabchain-relay"]);
    if release {
        build.arg("--release");
    }
    cmd::run(&mut build)?;
    Ok(target_dir(root).join(if release { "release" } else { "debug" }).join("tabchain"))
}

/// The workspace's target folder.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// A toolchain that builds for [`WASM_TARGET`], installing one if needed.
pub(crate) fn ensure_wasm(root: &Path) -> anyhow::Result<Toolchain> {
    match std::env::var("TABCHAIN_WASM_TOOLCHAIN").ok().as_deref() {
        Some("rustup") => return Ok(Toolchain::Rustup),
        Some("debian") => return ensure_build_std(root),
        Some(other) => bail!("TABCHAIN_WASM_TOOLCHAIN is {other:?}; use `rustup` or `debian`"),
        None => {}
    }
    if rustup_has_target(WASM_TARGET) {
        return Ok(Toolchain::Rustup);
    }
    if let Some(toolchain) = usable_build_std(root)? {
        return Ok(toolchain);
    }
    if rustup_add_target(WASM_TARGET)? {
        return Ok(Toolchain::Rustup);
    }
    ensure_build_std(root)
}

/// A toolchain and a target without `std` for the no_std proof of `core`:
/// rustup's when it already has such a target, else the build-std one.
pub(crate) fn ensure_no_std(root: &Path) -> anyhow::Result<(Toolchain, &'static str)> {
    let forced_debian = std::env::var("TABCHAIN_WASM_TOOLCHAIN").ok().as_deref() == Some("debian");
    if !forced_debian && let Some(target) = NO_STD_TARGETS.into_iter().find(|t| rustup_has_target(t)) {
        return Ok((Toolchain::Rustup, target));
    }
    Ok((ensure_build_std(root)?, NO_STD_TARGETS[0]))
}

fn rustup_has_target(target: &str) -> bool {
    cmd::probe(Command::new("rustup").args(["target", "list", "--installed"]))
        .is_some_and(|installed| installed.lines().any(|line| line.trim() == target))
}

/// Tries `rustup target add`, giving up after [`RUSTUP_ADD_TIMEOUT`].
fn rustup_add_target(target: &str) -> anyhow::Result<bool> {
    if cmd::find_program("rustup").is_none() {
        return Ok(false);
    }
    say(format!("trying `rustup target add {target}`"));
    let mut add = Command::new("rustup");
    add.args(["target", "add", target]);
    match cmd::run_with_timeout(&mut add, RUSTUP_ADD_TIMEOUT)? {
        Some(status) if status.success() => Ok(true),
        Some(status) => {
            say(format!("rustup could not add {target} ({status})"));
            Ok(false)
        }
        None => {
            say("rustup did not finish in time; using Debian's toolchain instead");
            Ok(false)
        }
    }
}

/// The build-std toolchain, installing Debian's packages if it is missing.
fn ensure_build_std(root: &Path) -> anyhow::Result<Toolchain> {
    if let Some(toolchain) = usable_build_std(root)? {
        return Ok(toolchain);
    }
    let packages = DEBIAN_PACKAGES.join(" ");
    apt::install(
        &DEBIAN_PACKAGES,
        &format!(
            "building for wasm needs rustup with the {WASM_TARGET} target \
             (`rustup target add {WASM_TARGET}`) or Debian's packages {packages}; \
             install one of them and run again"
        ),
    )?;
    usable_build_std(root)?.with_context(|| format!("installed {packages}, yet the toolchain is still unusable"))
}

/// The build-std toolchain if it is installed, recent enough for the
/// workspace, and has the standard library's sources and a wasm linker.
fn usable_build_std(root: &Path) -> anyhow::Result<Option<Toolchain>> {
    let path = |var: &str, default: &str| std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    let cargo = path("TABCHAIN_WASM_CARGO", "/usr/bin/cargo");
    let rustc = path("TABCHAIN_WASM_RUSTC", "/usr/bin/rustc");
    let wanted = manifest::rust_version(root)?;
    let version = |program: &Path| {
        cmd::probe(Command::new(program).arg("--version"))
            .and_then(|line| line.split_whitespace().nth(1).and_then(manifest::major_minor))
    };
    let recent = |program: &Path| version(program).is_some_and(|found| found >= wanted);
    if !recent(&rustc) || !recent(&cargo) {
        return Ok(None);
    }
    let has_sources = cmd::probe(Command::new(&rustc).args(["--print", "sysroot"]))
        .is_some_and(|sysroot| Path::new(&sysroot).join("lib/rustlib/src/rust/library/Cargo.lock").is_file());
    let has_linker = cmd::find_program("rust-lld").is_some();
    Ok((has_sources && has_linker).then_some(Toolchain::BuildStd { cargo, rustc }))
}

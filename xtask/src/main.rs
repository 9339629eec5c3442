//! `cargo xtask`: the project's automation, in Rust rather than shell.
//!
//! - `cargo xtask run [--listen ADDR]` builds the wasm bundles into `www/pkg`
//!   and `www/pkg-scalar` and serves the page with the relay.
//! - `cargo xtask test` runs every check CI runs: native tests, the no_std
//!   build of `core`, the wasm tests, the miner's self-tests and the end-to-end
//!   tests in headless Chromium.
//! - `cargo xtask bench` runs the benchmarks.
//! - `cargo xtask build` builds what `run` serves (both wasm bundles and the
//!   relay, in release) without starting anything.
//! - `cargo xtask fuzz [TARGET] [--seconds N]` runs the fuzz targets of `fuzz/`.
//! - `cargo xtask soak [--minutes N] [--seed S]` runs the soak: nodes, tabs, attacks and relay
//!   kills for N minutes, then checks that nothing acknowledged was lost.
//!
//! Each task installs what it needs (see [`toolchain`] for what, how, and the
//! environment variables that override it) and never asks a question, so it
//! runs the same on a laptop and under CI with no stdin.

mod apt;
mod bench;
mod bench_page;
mod bench_scale;
mod cmd;
mod forge;
mod fuzz;
mod manifest;
mod netns;
mod playwright;
mod run;
mod soak;
mod test;
mod toolchain;
mod tools;
mod wasm;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  run [--listen ADDR]   build the wasm bundles and serve the page (default 127.0.0.1:8080)
  test [FILTER]         run all tests (native, no_std build, wasm and end to end in headless
                        Chromium), or only the steps whose name contains FILTER
  bench [FILTER]        run the benchmarks (those whose name contains FILTER)
  build                 build both wasm bundles and the relay (release) without starting anything
  fuzz [TARGET] [--seconds N]
                        fuzz each target (or one) for N seconds (default 60); `fuzz seeds`
                        rewrites the seed corpora in fuzz/corpus
  soak [--minutes N] [--seed S]
                        a relay, native nodes and tabs mining and paying for N minutes (default 60)
                        under attack and relay kills; fails if anything acknowledged is lost";

/// Prints a failure as one `xtask: error:` line with its causes, not as
/// `Error: …` plus a backtrace (which `RUST_BACKTRACE` would add): the
/// message is for whoever runs the task, not about xtask's own code.
fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("run") => run::run(&root, parse_listen(&args[1..])?.as_deref()),
        Some("test") => match &args[1..] {
            [] => test::test(&root, None),
            [filter] => test::test(&root, Some(filter)),
            more => bail!("unexpected arguments {more:?}\n\n{USAGE}"),
        },
        Some("bench") => bench::bench(&root, args.get(1).map(String::as_str)),
        Some("build") => match &args[1..] {
            [] => run::build(&root).map(|_| ()),
            more => bail!("`build` takes no arguments, got {more:?}\n\n{USAGE}"),
        },
        Some("fuzz") => fuzz::fuzz(&root, &args[1..]),
        Some("soak") => soak::soak(&root, &args[1..]),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
        None => bail!("no task given\n\n{USAGE}"),
    }
}

/// The workspace root: the parent of this crate's folder.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ sits inside the workspace root").to_path_buf()
}

fn parse_listen(args: &[String]) -> anyhow::Result<Option<String>> {
    match args {
        [] => Ok(None),
        [flag, addr] if flag == "--listen" => Ok(Some(addr.clone())),
        [flag] if flag.starts_with("--listen=") => Ok(flag.strip_prefix("--listen=").map(str::to_owned)),
        _ => bail!("`run` takes only `--listen ADDR`, got {args:?}\n\n{USAGE}"),
    }
}

//! `cargo xtask bench`: runs each benchmark in [`BENCHES`] in turn.
//!
//! A benchmark is a plain function that builds what it needs, measures, and
//! prints its own result line; adding one means writing the function and
//! listing it here.

use std::path::Path;

use crate::cmd::{self, say};
use crate::toolchain::native_cargo;

/// One benchmark: a name to print and the function that runs it.
struct Bench {
    name: &'static str,
    run: fn(&Path) -> anyhow::Result<()>,
}

/// Every benchmark, in the order they run.
const BENCHES: &[Bench] = &[
    Bench { name: "core: connect, validate, reorg", run: core_node },
    Bench { name: "core: mining kernel", run: core_kernel },
    Bench { name: "core: muhash, the UTXO set hash", run: core_muhash },
    Bench { name: "core: snapshot sync, native, at 10k and 100k blocks", run: core_snapshot },
    Bench { name: "miner in headless Chromium vs native", run: crate::bench_page::miner },
    Bench { name: "page: wasm size, load, sync in a tab vs native", run: crate::bench_page::page },
    Bench { name: "propagation: a block to ten tabs, star and mesh", run: crate::bench_page::propagation },
    Bench { name: "relay: fan-out, idle connections, sync", run: relay },
    Bench { name: "scale: relay and tab at 10k and 100k blocks", run: crate::bench_scale::scale },
];

/// `core/benches/kernel.rs`: native hash rates; writes `target/bench/kernel.json`.
fn core_kernel(root: &Path) -> anyhow::Result<()> {
    cargo_bench(root, "tabchain-core", "kernel")
}

/// `core/benches/muhash.rs`: ns per insert, multiplication and finalize; writes
/// `target/bench/muhash.json`.
fn core_muhash(root: &Path) -> anyhow::Result<()> {
    cargo_bench(root, "tabchain-core", "muhash")
}

/// `core/benches/snapshot.rs`: a fresh node joining by snapshot, phase by phase; writes
/// `target/bench/snapshot.json`.
fn core_snapshot(root: &Path) -> anyhow::Result<()> {
    cargo_bench(root, "tabchain-core", "snapshot")
}

/// `relay/benches/relay.rs`: prints its table and writes `target/bench/relay.json`.
fn relay(root: &Path) -> anyhow::Result<()> {
    cargo_bench(root, "tabchain-relay", "relay")
}

/// `core/benches/node.rs`: prints its table and writes `target/bench/core.json`.
fn core_node(root: &Path) -> anyhow::Result<()> {
    cargo_bench(root, "tabchain-core", "node")
}

/// `cargo bench -p PACKAGE --bench NAME`, natively.
fn cargo_bench(root: &Path, package: &str, name: &str) -> anyhow::Result<()> {
    cmd::run(native_cargo().current_dir(root).args(["bench", "-p", package, "--bench", name]))
}

pub(crate) fn bench(root: &Path, filter: Option<&str>) -> anyhow::Result<()> {
    for bench in BENCHES.iter().filter(|b| filter.is_none_or(|f| b.name.contains(f))) {
        say(format!("bench {}", bench.name));
        (bench.run)(root)?;
    }
    Ok(())
}

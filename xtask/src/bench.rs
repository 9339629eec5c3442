//! `cargo xtask bench`: runs each benchmark in [`BENCHES`] in turn.
//!
//! A benchmark is a plain function that builds what it needs, measures, and
//! prints its own result line; adding one means writing the function and
//! listing it here.

use std::path::Path;

use crate::cmd::say;

/// One benchmark: a name to print and the function that runs it.
struct Bench {
    name: &'static str,
    run: fn(&Path) -> anyhow::Result<()>,
}

/// Every benchmark, in the order they run. None exist yet.
const BENCHES: &[Bench] = &[];

pub(crate) fn bench(root: &Path) -> anyhow::Result<()> {
    if BENCHES.is_empty() {
        say("no benchmarks exist yet");
        return Ok(());
    }
    for bench in BENCHES {
        say(format!("bench {}", bench.name));
        (bench.run)(root)?;
    }
    Ok(())
}

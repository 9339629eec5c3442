//! `cargo xtask test`: every check CI runs, each a step that passes or fails
//! on its own, with a summary at the end and a non-zero exit if any failed.
//!
//! 1. native tests: `cargo test --workspace` with rustup's toolchain;
//! 2. the no_std proof: `tabchain-core` built for a target with no `std`;
//! 3. the wasm tests of `web` (`web/tests/browser.rs`) in headless Chromium,
//!    which check that wasm reaches the same verdicts as native;
//! 4. the page's bundle (`www/pkg`) builds, as `cargo xtask run` builds it;
//! 5. the miner's worker pool self-tests (`www/dev/selftest.html`) in headless Chromium,
//!    through Playwright;
//! 6. the end-to-end tests of the page's node (`e2e/`), Playwright over Debian's Chromium;
//! 7. the fuzz crate's tests, and every fuzz target (`fuzz/`) run once over its seed corpus.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};

use crate::cmd::{self, say};
use crate::toolchain::{self, Toolchain, WASM_TARGET, native_cargo};
use crate::tools::{self, Bindgen};
use crate::wasm;

/// What the wasm steps need, found (or installed) once up front.
struct Tools {
    wasm: Toolchain,
    bindgen: Bindgen,
    chromedriver: std::path::PathBuf,
}

struct Step {
    name: &'static str,
    run: fn(&Path, &anyhow::Result<Tools>) -> anyhow::Result<()>,
}

const STEPS: [Step; 7] = [
    Step { name: "native tests", run: native_tests },
    Step { name: "no_std build of tabchain-core", run: no_std_build },
    Step { name: "wasm tests in headless Chromium", run: browser_tests },
    Step { name: "wasm bundle for the page", run: bundle },
    Step { name: "miner workers in headless Chromium", run: miner_selftest },
    Step { name: "the page's node end to end (Playwright)", run: end_to_end },
    Step { name: "fuzz corpora", run: |root, _| crate::fuzz::corpora(root) },
];

pub(crate) fn test(root: &Path, filter: Option<&str>) -> anyhow::Result<()> {
    say("checking toolchains (wasm, wasm-bindgen, Chromium)");
    let tools = ensure_tools(root);
    if let Err(err) = &tools {
        say(format!("toolchains unavailable, the wasm steps will fail: {err:#}"));
    }
    let mut results: Vec<(&str, Duration, anyhow::Result<()>)> = Vec::new();
    for step in STEPS.iter().filter(|step| filter.is_none_or(|f| step.name.contains(f))) {
        say(format!("step: {}", step.name));
        let started = Instant::now();
        let result = (step.run)(root, &tools);
        results.push((step.name, started.elapsed(), result));
    }
    summarize(&results)
}

fn ensure_tools(root: &Path) -> anyhow::Result<Tools> {
    Ok(Tools {
        wasm: toolchain::ensure_wasm(root)?,
        bindgen: tools::ensure_bindgen(root)?,
        chromedriver: tools::ensure_chromedriver()?,
    })
}

/// The tools, or the reason they are missing as this step's failure.
fn need(tools: &anyhow::Result<Tools>) -> anyhow::Result<&Tools> {
    tools.as_ref().map_err(|err| anyhow!("toolchains unavailable: {err:#}"))
}

fn native_tests(root: &Path, _: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    cmd::run(native_cargo().current_dir(root).args(["test", "--workspace"]))
}

fn no_std_build(root: &Path, _: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    let (toolchain, target) = toolchain::ensure_no_std(root)?;
    say(format!("building tabchain-core for {target} ({})", toolchain.label()));
    let args = ["build", "-p", "tabchain-core"];
    cmd::run(toolchain.cargo(root, &args, target, "core,alloc").current_dir(root))
}

fn browser_tests(root: &Path, tools: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    let tools = need(tools)?;
    // `--tests`: unit and integration tests, not doctests, which would need
    // a browser harness of their own.
    let args = ["test", "-p", "tabchain-web", "--tests"];
    cmd::run(
        tools
            .wasm
            .cargo(root, &args, WASM_TARGET, "std,panic_abort")
            .current_dir(root)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &tools.bindgen.test_runner)
            .env("CHROMEDRIVER", &tools.chromedriver),
    )
}

fn bundle(root: &Path, tools: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    let tools = need(tools)?;
    wasm::build_bundle(root, &tools.wasm, &tools.bindgen)
}

/// How long the miner self-tests may take in all.
const SELFTEST_TIMEOUT: Duration = Duration::from_secs(120);

/// `www/dev/selftest.html`: the worker pool, job replacement, both bundles, in a real browser
/// (Playwright, like the end-to-end tests).
fn miner_selftest(root: &Path, tools: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    let tools = need(tools)?;
    let result = crate::playwright::run_dev_page(
        root,
        &tools.wasm,
        &tools.bindgen,
        false,
        "dev/selftest.html",
        "selftestResult",
        SELFTEST_TIMEOUT,
    )?;
    let (lines, verdict) = selftest_report(&result);
    for line in lines {
        println!("{line}");
    }
    verdict
}

/// The lines to print for the page's `{passed: [name], failed: ["name: why"]}`, one per test and
/// a count, and whether the step passes: nothing failed, and something ran.
fn selftest_report(result: &serde_json::Value) -> (Vec<String>, anyhow::Result<()>) {
    let names = |key: &str| -> Vec<String> {
        result[key].as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or("?").to_owned()).collect()
    };
    let (passed, failed) = (names("passed"), names("failed"));
    let mut lines: Vec<String> = passed.iter().map(|name| format!("test www::{name} ... ok")).collect();
    lines.extend(failed.iter().map(|failure| format!("test www::{failure} ... FAILED")));
    lines.push(format!("browser self-tests: {} passed, {} failed", passed.len(), failed.len()));
    let verdict = if !failed.is_empty() {
        Err(anyhow!("browser self-tests failed: {failed:?}"))
    } else if passed.is_empty() {
        Err(anyhow!("no browser self-test ran"))
    } else {
        Ok(())
    };
    (lines, verdict)
}

/// Blocks of the valid chain the end-to-end tests can load into a relay: long enough that a fresh
/// tab joins it by snapshot (core's `SNAPSHOT_MIN_HEIGHT`, 480) with blocks left to validate.
const E2E_CHAIN_BLOCKS: u32 = 600;

/// The page's node end to end (`e2e/tests/*.test.mjs`): Playwright drives Debian's Chromium,
/// one browser context per peer, each test against a relay of its own on a free port, all of it
/// in a network namespace with only loopback (`netns`).
fn end_to_end(root: &Path, tools: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    let tools = need(tools)?;
    let mut node = crate::playwright::node_command(root, &tools.wasm, &tools.bindgen, false)?;
    let artifacts = toolchain::target_dir(root).join("e2e");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let forged = crate::forge::write_forged_blocks(&artifacts, u32::try_from(now)?)?;
    let chain = crate::forge::write_valid_chain(&artifacts, E2E_CHAIN_BLOCKS)?;
    // `TABCHAIN_E2E_TESTS=storage,pruning` runs only those files of `e2e/tests/`.
    let files: Vec<String> = match std::env::var("TABCHAIN_E2E_TESTS") {
        Ok(names) => names.split(',').map(|name| format!("tests/{}.test.mjs", name.trim())).collect(),
        Err(_) => vec!["tests/".to_owned()],
    };
    node.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(&files)
        .env("TABCHAIN_E2E_ARTIFACTS", &artifacts)
        .env("TABCHAIN_E2E_FORGED", forged)
        .env("TABCHAIN_E2E_CHAIN", chain);
    // Tabs link over WebRTC: keep every packet on loopback.
    cmd::run(&mut crate::netns::loopback_only(node))?;
    say(format!("screenshots of the page saved in {}", artifacts.display()));
    Ok(())
}

fn summarize(results: &[(&str, Duration, anyhow::Result<()>)]) -> anyhow::Result<()> {
    say("summary");
    for (name, took, result) in results {
        let seconds = took.as_secs_f32();
        match result {
            Ok(()) => println!("  ok      {name} ({seconds:.1} s)"),
            Err(err) => println!("  FAILED  {name} ({seconds:.1} s): {err:#}"),
        }
    }
    let failed = results.iter().filter(|(_, _, result)| result.is_err()).count();
    println!("steps: {} passed, {failed} failed", results.len() - failed);
    if failed > 0 {
        bail!("{failed} of {} steps failed", results.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::selftest_report;

    fn check(result: serde_json::Value, lines: &[&str], passes: bool) {
        let (got, verdict) = selftest_report(&result);
        assert_eq!(got, lines);
        assert_eq!(verdict.is_ok(), passes, "{verdict:?}");
    }

    #[test]
    fn selftest_report_prints_each_test_and_fails_on_a_failure_or_nothing() {
        check(
            json!({"passed": ["finds", "replaces"], "failed": []}),
            &["test www::finds ... ok", "test www::replaces ... ok", "browser self-tests: 2 passed, 0 failed"],
            true,
        );
        check(
            json!({"passed": ["finds"], "failed": ["replaces: timed out"]}),
            &[
                "test www::finds ... ok",
                "test www::replaces: timed out ... FAILED",
                "browser self-tests: 1 passed, 1 failed",
            ],
            false,
        );
        check(json!({"passed": [], "failed": []}), &["browser self-tests: 0 passed, 0 failed"], false);
        check(json!({}), &["browser self-tests: 0 passed, 0 failed"], false);
    }
}

//! `cargo xtask test`: every check CI runs, each a step that passes or fails
//! on its own, with a summary at the end and a non-zero exit if any failed.
//!
//! 1. native tests: `cargo test --workspace` with rustup's toolchain;
//! 2. the no_std proof: `tabchain-core` built for a target with no `std`;
//! 3. the wasm tests of `web` (`web/tests/browser.rs`) in headless Chromium,
//!    which check that wasm reaches the same verdicts as native;
//! 4. the page's bundle (`www/pkg`) builds, as `cargo xtask run` builds it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};

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

const STEPS: [Step; 6] = [
    Step { name: "native tests", run: native_tests },
    Step { name: "no_std build of tabchain-core", run: no_std_build },
    Step { name: "wasm tests in headless Chromium", run: browser_tests },
    Step { name: "wasm bundle for the page", run: bundle },
    Step { name: "miner workers in headless Chromium", run: miner_selftest },
    Step { name: "the page's node syncs and mines with the relay", run: tab_node },
];

pub(crate) fn test(root: &Path) -> anyhow::Result<()> {
    say("checking toolchains (wasm, wasm-bindgen, Chromium)");
    let tools = ensure_tools(root);
    if let Err(err) = &tools {
        say(format!("toolchains unavailable, the wasm steps will fail: {err:#}"));
    }
    let mut results: Vec<(&str, Duration, anyhow::Result<()>)> = Vec::new();
    for step in &STEPS {
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

/// `www/selftest.html`: the worker pool, job replacement, both bundles, in a real browser.
fn miner_selftest(root: &Path, tools: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    need(tools)?;
    let browser = crate::webdriver::Browser::start(root, false)?;
    let result = browser.run_page("selftest.html", "window.selftestResult", Duration::from_secs(120))?;
    let passed = result["passed"].as_array().map_or(0, Vec::len);
    let failed = result["failed"].as_array().cloned().unwrap_or_default();
    for name in result["passed"].as_array().into_iter().flatten() {
        println!("test www::{} ... ok", name.as_str().unwrap_or("?"));
    }
    for failure in &failed {
        println!("test www::{failure} ... FAILED");
    }
    println!("browser self-tests: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() || passed == 0 {
        bail!("browser self-tests failed: {failed:?}");
    }
    Ok(())
}

/// The page itself in headless Chromium: its node connects to the relay, syncs, mines blocks
/// in workers, and the relay accepts them (its tip becomes the tab's).
fn tab_node(root: &Path, tools: &anyhow::Result<Tools>) -> anyhow::Result<()> {
    need(tools)?;
    let mut browser = crate::webdriver::Browser::start(root, false)?;
    // A synchronous request keeps the check a single expression.
    let relay_tip = "(() => { const x = new XMLHttpRequest(); x.open('GET', '/api/status', false); x.send(); \
                     return JSON.parse(x.responseText).tip; })()";
    let done = format!(
        "(() => {{ const s = window.tabchain?.status(); \
         return s && s.blocks_found >= 2 && s.state === 'in sync' && s.tip === {relay_tip} ? s : null; }})()"
    );
    let session = browser.session()?;
    let status = session.open("index.html", &done, Duration::from_secs(120))?;
    println!(
        "test www::tab_node_syncs_mines_and_the_relay_accepts ... ok (height {}, {} blocks found, {} workers)",
        status["height"], status["blocks_found"], status["workers"]
    );
    // A reload restores, from IndexedDB and before any sync, everything whose write had
    // committed (writes are asynchronous: the height is read once none is pending).
    let committed = session.wait(
        "window.tabchain.pendingWrites === 0 ? window.tabchain.status().height : null",
        Duration::from_secs(60),
    )?;
    let height = committed.as_u64().unwrap_or(0);
    let restored = session.open("index.html", "window.tabchain?.restoredHeight", Duration::from_secs(60))?;
    let restored = restored.as_u64().unwrap_or(0);
    if restored < height {
        bail!("after a reload the tab restored height {restored}, below the {height} it had");
    }
    println!("test www::a_reload_restores_the_chain_from_indexeddb ... ok (restored height {restored})");

    // A second tab (its own browser profile, so its own node and wallet) receives a payment.
    let other = browser.session()?;
    let address = other.open("index.html", "window.tabchain?.status().address", Duration::from_secs(60))?;
    other.wait("(window.tabchain.setWorkers(0), true)", Duration::from_secs(10))?;
    let address = address.as_str().context("an address")?.to_owned();
    session.wait("(s => s.confirmed !== '0' ? s : null)(window.tabchain.status())", Duration::from_secs(120))?;
    let pay = format!(
        "(() => {{ try {{ return window.tabchain.pay('{address}', '1', 2000); }} \
         catch (e) {{ return {{ error: String(e?.message ?? e) }}; }} }})()"
    );
    let txid = session.wait(&pay, Duration::from_secs(10))?;
    let txid = txid.as_str().context("a txid")?.to_owned();
    let confirmed_in = |received: &str| {
        format!("window.tabchain.history().find(t => t.txid === '{txid}' && t.height !== null && ({received})) ?? null")
    };
    session.wait(&confirmed_in("true"), Duration::from_secs(120))?;
    other.wait(&confirmed_in("t.received === '1'"), Duration::from_secs(120))?;
    println!("test www::a_tab_pays_another_and_both_see_it_confirmed ... ok ({txid})");

    // The relay dies and comes back: both tabs reconnect and end on the relay's tip.
    browser.restart_relay()?;
    let synced = format!(
        "(s => s.state === 'in sync' && s.peers > 0 && s.tip === {relay_tip} ? s : null)(window.tabchain.status())"
    );
    session.wait(&synced, Duration::from_secs(120))?;
    other.wait(&synced, Duration::from_secs(120))?;
    println!("test www::tabs_reconnect_after_the_relay_restarts ... ok");

    // Importing a key backup gives the tab that key's wallet: seed 01×32 is the key of the
    // address docs/protocol.md shows (here with the regtest prefix).
    let seed = "01".repeat(32);
    other.wait(
        &format!(
            "window.__imported ?? (import('./identity.js').then(m => {{ \
             m.setSeed(window.tabchainIdentity.id, '{seed}'); window.__imported = true; }}), null)"
        ),
        Duration::from_secs(10),
    )?;
    let address = other.open("index.html", "window.tabchain?.status().address", Duration::from_secs(60))?;
    let expected = "tabrt1q32yw8ht5p8cetl2jmvknewjawt9xwzdlrk2pyxlnwjyqrdq0dawq";
    if !address.as_str().is_some_and(|a| a.starts_with(expected)) {
        bail!("after importing the key the tab's address is {address}, not {expected}…");
    }
    println!("test www::an_imported_key_becomes_the_tabs_wallet ... ok");

    // Closing a tab does not strand its coins: a tab opened later picks up its node and wallet
    // (while it is open, a new tab gets its own).
    let first = session.current_tab()?;
    let first_address = session.wait("window.tabchain.status().address", Duration::from_secs(10))?;
    let second = session.new_tab()?;
    let second_address = session.open("index.html", "window.tabchain?.status().address", Duration::from_secs(60))?;
    if second_address == first_address {
        bail!("a second open tab shared the first tab's wallet");
    }
    session.switch_to(&first)?;
    session.close_tab()?;
    session.switch_to(&second)?;
    session.new_tab()?;
    let adopted = session.open(
        "index.html",
        "window.tabchainIdentity?.adopted && window.tabchain?.status().address",
        Duration::from_secs(60),
    )?;
    if adopted != first_address {
        bail!("the new tab picked up {adopted}, not the closed tab's wallet {first_address}");
    }
    println!("test www::a_new_tab_picks_up_a_closed_tabs_wallet ... ok");

    let shots = crate::toolchain::target_dir(root).join("e2e");
    session.screenshot(&shots.join("tab-node.png"))?;
    other.screenshot(&shots.join("second-tab.png"))?;
    say(format!("screenshots of the page saved in {}", shots.display()));
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

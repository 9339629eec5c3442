//! `cargo xtask bench scale` (issue 11): how the relay and a tab hold up as the chain grows.
//!
//! For each size (10,000 and 100,000 blocks; `TABCHAIN_SCALE_SIZES=10000` narrows it) a regtest
//! chain with one signed payment per block ([`forge::payment_chain`]) is forged once and cached
//! as `target/bench/scale-chain-N.bin`. `e2e/bench/scale.bench.mjs` then measures, per size:
//! the relay's ingest of every block through `POST /api/block`, its memory, disk, restart and
//! lookup times; and a fresh tab's sync from it, its reload, memory, IndexedDB use and longest
//! main-thread task (for the sizes in `TABCHAIN_SCALE_TAB_SIZES`, by default those up to 100,000).
//! This module prints one table with a column per size and the growth factor from the smallest
//! to the largest, and writes `target/bench/scale.json`.

use std::io::{BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tabchain_core::{Block, Params, encode, encode_address};

use crate::cmd::{self, say};
use crate::{forge, playwright, toolchain, tools};

/// Sizes run when `TABCHAIN_SCALE_SIZES` is not set.
const SIZES_DEFAULT: [u32; 2] = [10_000, 100_000];
/// The largest size whose tab part runs when `TABCHAIN_SCALE_TAB_SIZES` is not set: a tab
/// syncs under a thousand blocks a second, so a million blocks would take most of an hour.
const TAB_SIZE_MAX_DEFAULT: u32 = 100_000;
/// The largest chain this benchmark forges (a million blocks is about 400 MB on disk).
const SIZE_MAX: u32 = 1_000_000;
/// First bytes of a cached chain; the version changes whenever the forged chain would.
const CHAIN_FILE_MAGIC: &[u8; 8] = b"TCSCALE3";

/// One figure of the table: its key in the script's output, a label, and how to show it.
struct Figure {
    key: &'static str,
    label: &'static str,
    unit: Unit,
}

#[derive(Clone, Copy)]
enum Unit {
    PerSecond,
    Seconds,
    Millis,
    Bytes,
}

const FIGURES: &[Figure] = &[
    Figure { key: "block_bytes_mean", label: "block size, mean", unit: Unit::Bytes },
    Figure { key: "relay_ingest_blocks_per_s", label: "relay: ingest by POST /api/block", unit: Unit::PerSecond },
    Figure { key: "relay_ingest_s", label: "relay: ingest, total", unit: Unit::Seconds },
    Figure { key: "relay_rss_bytes", label: "relay: RSS after ingest", unit: Unit::Bytes },
    Figure { key: "relay_rss_peak_bytes", label: "relay: peak RSS during ingest", unit: Unit::Bytes },
    Figure { key: "relay_disk_bytes", label: "relay: data dir on disk", unit: Unit::Bytes },
    Figure { key: "relay_status_ms", label: "relay: GET /api/status, median", unit: Unit::Millis },
    Figure { key: "relay_missed_tx_ms", label: "relay: missed txid lookup, median", unit: Unit::Millis },
    Figure { key: "relay_address_ms", label: "relay: miner address lookup, median", unit: Unit::Millis },
    Figure { key: "relay_payee_ms", label: "relay: payee address lookup, median", unit: Unit::Millis },
    Figure { key: "relay_restart_s", label: "relay: SIGKILL to status at tip", unit: Unit::Seconds },
    Figure { key: "relay_rss_restarted_bytes", label: "relay: RSS after restart", unit: Unit::Bytes },
    Figure { key: "tab_headers_s", label: "tab: fresh tab, headers", unit: Unit::Seconds },
    Figure { key: "tab_headers_per_s", label: "tab: headers rate", unit: Unit::PerSecond },
    Figure { key: "tab_snapshot_s", label: "tab: snapshot download, checks, set hash", unit: Unit::Seconds },
    Figure { key: "tab_snapshot_bytes", label: "tab: snapshot size (coins × 81 B)", unit: Unit::Bytes },
    Figure { key: "tab_snapshot_mb_per_s", label: "tab: snapshot rate, MB/s", unit: Unit::PerSecond },
    Figure { key: "tab_sync_s", label: "tab: fresh tab to tip", unit: Unit::Seconds },
    Figure { key: "tab_sync_longest_task_ms", label: "tab: longest main-thread task, sync", unit: Unit::Millis },
    Figure { key: "tab_sync_blocks_per_s", label: "tab: sync rate", unit: Unit::PerSecond },
    Figure { key: "tab_sync_stored_s", label: "tab: fresh tab to tip, all stored", unit: Unit::Seconds },
    Figure { key: "tab_js_heap_bytes", label: "tab: JS heap used after sync", unit: Unit::Bytes },
    Figure { key: "tab_wasm_memory_bytes", label: "tab: wasm memory after sync", unit: Unit::Bytes },
    Figure { key: "tab_storage_bytes", label: "tab: storage estimate (IndexedDB)", unit: Unit::Bytes },
    Figure { key: "tab_stored_bytes", label: "tab: checkpoint + journal stored", unit: Unit::Bytes },
    Figure { key: "tab_reload_started_s", label: "tab: reload to node started", unit: Unit::Seconds },
    Figure { key: "tab_reload_in_sync_s", label: "tab: reload to in sync at tip", unit: Unit::Seconds },
    Figure { key: "tab_reload_longest_task_ms", label: "tab: longest main-thread task, reload", unit: Unit::Millis },
    Figure { key: "tab_reload_js_heap_bytes", label: "tab: JS heap used after reload", unit: Unit::Bytes },
    Figure { key: "tab_reload_wasm_memory_bytes", label: "tab: wasm memory after reload", unit: Unit::Bytes },
];

pub(crate) fn scale(root: &Path) -> anyhow::Result<()> {
    let sizes = sizes_from_env("TABCHAIN_SCALE_SIZES", &SIZES_DEFAULT)?;
    let tab_default: Vec<u32> = sizes.iter().copied().filter(|&n| n <= TAB_SIZE_MAX_DEFAULT).collect();
    let tab_sizes = sizes_from_env("TABCHAIN_SCALE_TAB_SIZES", &tab_default)?;
    let dir = toolchain::target_dir(root).join("bench");
    let hrp = Params::regtest().address_hrp;
    let mut chains = Vec::new();
    for &n in &sizes {
        // The tip's payee: an address with history that is still in the relay's memory.
        let payee = encode_address(hrp, &forge::payment_chain_payee(n).public_key());
        let path = cached_chain(&dir, n)?;
        let magic = std::str::from_utf8(CHAIN_FILE_MAGIC)?;
        chains
            .push(json!({ "blocks": n, "path": path, "payee": payee, "tab": tab_sizes.contains(&n), "magic": magic }));
    }
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    let mut node = playwright::node_command(root, &wasm_toolchain, &bindgen, true)?;
    let raw = dir.join("scale-raw.json");
    let _ = std::fs::remove_file(&raw);
    let miner = encode_address(hrp, &forge::payment_chain_miner().public_key());
    cmd::run(
        node.arg("bench/scale.bench.mjs")
            .env("TABCHAIN_SCALE_CHAINS", serde_json::to_string(&chains)?)
            .env("TABCHAIN_SCALE_MINER", miner)
            .env("TABCHAIN_SCALE_OUT", &raw),
    )?;
    let runs: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&raw).context("the scale script wrote nothing")?)?;
    print_table(&runs);
    let doc = json!({ "sizes": runs, "growth": growth(&runs) });
    std::fs::write(dir.join("scale.json"), serde_json::to_string_pretty(&doc)? + "\n")?;
    say("wrote target/bench/scale.json");
    Ok(())
}

/// The sizes listed in `var` (comma-separated block counts), or `default`.
fn sizes_from_env(var: &str, default: &[u32]) -> anyhow::Result<Vec<u32>> {
    match std::env::var(var) {
        Ok(text) => parse_sizes(&text).with_context(|| format!("{var}={text:?}")),
        Err(_) => Ok(default.to_vec()),
    }
}

fn parse_sizes(text: &str) -> anyhow::Result<Vec<u32>> {
    let mut sizes = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let n: u32 = word.replace('_', "").parse().with_context(|| format!("{word:?} is not a block count"))?;
        if n == 0 || n > SIZE_MAX {
            bail!("{n} blocks is outside 1..={SIZE_MAX}");
        }
        sizes.push(n);
    }
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

/// `scale-chain-N.bin` in `dir`, forged unless a complete one is already there.
fn cached_chain(dir: &Path, n: u32) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("scale-chain-{n}.bin"));
    if read_chain_header(&path).is_ok_and(|count| count == n) {
        say(format!("reusing {}", path.display()));
        return Ok(path);
    }
    say(format!("forging a {n}-block regtest chain with a payment in each block into {}", path.display()));
    std::fs::create_dir_all(dir)?;
    let partial = path.with_extension("bin.partial");
    let mut out = BufWriter::new(std::fs::File::create(&partial)?);
    out.write_all(CHAIN_FILE_MAGIC)?;
    out.write_all(&n.to_le_bytes())?;
    forge::payment_chain(n, |block: &Block| {
        let bytes = encode(block);
        out.write_all(&u32::try_from(bytes.len()).expect("a block is under 4 GB").to_le_bytes())?;
        out.write_all(&bytes)?;
        Ok(())
    })?;
    out.into_inner().context("flushing the chain file")?.sync_all()?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// The block count of a cached chain file: the magic, then the count (u32 LE), then each block
/// as its length (u32 LE) and bytes.
fn read_chain_header(path: &Path) -> anyhow::Result<u32> {
    let mut head = [0; 12];
    std::fs::File::open(path)?.read_exact(&mut head)?;
    anyhow::ensure!(&head[..8] == CHAIN_FILE_MAGIC, "not a scale chain of this version");
    Ok(u32::from_le_bytes(head[8..].try_into().expect("four bytes")))
}

/// For each figure, its value at the largest size over its value at the smallest.
fn growth(runs: &[Value]) -> Value {
    let (Some(first), Some(last)) = (runs.first(), runs.last()) else { return json!({}) };
    if runs.len() < 2 {
        return json!({});
    }
    let factors = FIGURES.iter().filter_map(|figure| {
        let (a, b) = (first[figure.key].as_f64()?, last[figure.key].as_f64()?);
        (a > 0.0).then(|| (figure.key.to_owned(), json!(b / a)))
    });
    Value::Object(factors.collect())
}

fn print_table(runs: &[Value]) {
    let growth = growth(runs);
    let label_width = FIGURES.iter().map(|f| f.label.len()).max().unwrap_or(0);
    let mut header = format!("  {:<label_width$}", "");
    for run in runs {
        header += &format!(" {:>14}", format!("{} blocks", run["blocks"]));
    }
    println!("{header} {:>9}", if runs.len() > 1 { "growth" } else { "" });
    for figure in FIGURES {
        let mut line = format!("  {:<label_width$}", figure.label);
        for run in runs {
            line += &format!(" {:>14}", shown(figure.unit, &run[figure.key]));
        }
        if let Some(factor) = growth[figure.key].as_f64() {
            line += &format!(" {:>8.2}x", factor);
        }
        println!("{line}");
    }
    for run in runs {
        if let Some(error) = run["tab_error"].as_str() {
            println!("  tab part at {} blocks: {error}", run["blocks"]);
        }
    }
}

/// A figure as the table shows it; `-` when it was not measured.
fn shown(unit: Unit, value: &Value) -> String {
    let Some(x) = value.as_f64() else { return "-".to_owned() };
    match unit {
        Unit::PerSecond => format!("{x:.0}/s"),
        Unit::Seconds => format!("{x:.2} s"),
        Unit::Millis if x >= 100.0 => format!("{x:.0} ms"),
        Unit::Millis => format!("{x:.2} ms"),
        Unit::Bytes if x >= 1024.0 * 1024.0 => format!("{:.1} MiB", x / (1024.0 * 1024.0)),
        Unit::Bytes if x >= 1024.0 => format!("{:.1} KiB", x / 1024.0),
        Unit::Bytes => format!("{x:.0} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_sorted_and_bounded() {
        let check = |text: &str, expected: Option<&[u32]>| {
            assert_eq!(parse_sizes(text).ok().as_deref(), expected, "{text:?}");
        };
        check("10000", Some(&[10_000]));
        check("100_000, 10000", Some(&[10_000, 100_000]));
        check("10000,10000,", Some(&[10_000]));
        check("", Some(&[]));
        check("0", None);
        check("1000001", None);
        check("ten", None);
    }

    #[test]
    fn growth_divides_largest_by_smallest_where_both_are_measured() {
        let runs = [
            json!({ "blocks": 10, "relay_ingest_s": 2.0, "tab_sync_s": 1.0, "relay_disk_bytes": 0.0 }),
            json!({ "blocks": 100, "relay_ingest_s": 30.0, "tab_sync_s": null, "relay_disk_bytes": 5.0 }),
        ];
        assert_eq!(growth(&runs), json!({ "relay_ingest_s": 15.0 }));
        assert_eq!(growth(&runs[..1]), json!({}));
        assert_eq!(growth(&[]), json!({}));
    }

    #[test]
    fn a_cached_chain_is_reused_only_when_complete() {
        let dir = std::env::temp_dir().join(format!("tabchain-scale-test-{}", std::process::id()));
        let path = cached_chain(&dir, 12).expect("forged");
        assert_eq!(read_chain_header(&path).ok(), Some(12));
        let bytes = std::fs::read(&path).expect("written");
        std::fs::write(&path, &bytes[..4]).expect("truncated");
        assert!(read_chain_header(&path).is_err());
        assert_eq!(read_chain_header(&cached_chain(&dir, 12).expect("forged again")).ok(), Some(12));
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}

//! `cargo xtask soak --minutes N [--seed S]` (issue 12): a regtest relay, two native nodes
//! mining, three tabs (two mining) paying each other and the nodes, `tabchain-hostile` mounting
//! the known attacks on the relay all along, and the relay killed with SIGKILL and restarted on
//! the same data and port at random moments. Then mining stops, the nodes settle, and every block
//! and payment that was acknowledged is looked up again.
//!
//! This module makes the plan (every random choice, from the seed: kill times, payments, the
//! native miners' keys) into `target/bench/soak-plan.json`, runs `e2e/soak.mjs` with it, and
//! judges what the script reports: the run fails if the nodes disagree on the tip, anything
//! acknowledged was lost, a defence did not hold, a tab threw, or memory grew past its bound
//! after the warm-up. It prints a table and writes `target/bench/soak.json`.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tabchain_core::{Params, SecretKey, encode_address, hex};

use crate::cmd::{self, say};
use crate::{playwright, toolchain, tools};

/// Minutes a soak runs when `--minutes` is not given.
const MINUTES_DEFAULT: u64 = 60;
/// The longest soak this task agrees to run.
const MINUTES_MAX: u64 = 24 * 60;
/// Mining workers of each tab: two mine with one worker each (two cores are shared by two
/// native miners, the tabs, the relay and the attacker), the third only pays and is paid.
const TAB_WORKERS: [u32; 3] = [1, 1, 0];
/// Native nodes (`tabchain node --mine --threads 1`).
const NATIVE_NODES: usize = 2;
/// The warm-up, after which memory is the baseline: this long, or a third of a shorter soak.
const WARM_UP_S_MAX: u64 = 120;
/// Relay kills come this many seconds apart, drawn uniformly; a short soak draws from a smaller
/// window so that it still kills the relay `KILLS_MIN` times.
const KILL_INTERVAL_S_MIN: u64 = 120;
const KILL_INTERVAL_S_MAX: u64 = 360;
const KILLS_MIN: u64 = 2;
/// A payment every this many seconds, from the tabs in turn, once the first coins can be mature.
const PAY_INTERVAL_S: u64 = 10;
const PAY_FROM_S: u64 = 20;
/// Amounts paid, in TAB.
const PAY_AMOUNTS: [&str; 4] = ["0.1", "0.25", "0.5", "1"];
/// How often the relay's RSS and the tabs' memory are sampled.
const RELAY_SAMPLE_EVERY_S: u64 = 5;
const TAB_SAMPLE_EVERY_S: u64 = 30;
/// After the soak: mining goes on until every payment is confirmed, at most this long; then the
/// nodes have this long to agree on one tip.
const DRAIN_S_MAX: u64 = 120;
const SETTLE_S_MAX: u64 = 120;
/// How much the relay's RSS may grow from the end of the warm-up to the end of the soak. Its
/// memory grows with the header index and the coins (a few hundred bytes a block, and a soak
/// makes a few thousand) and redb's cache is 4 MiB: anything near this bound is a leak.
const RELAY_RSS_GROWTH_MAX_BYTES: i64 = 64 << 20;
/// How much a tab's JS heap and wasm memory together may grow over the same span.
const TAB_MEMORY_GROWTH_MAX_BYTES: i64 = 64 << 20;

pub(crate) fn soak(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let options = parse_args(args)?;
    let plan = plan(options.minutes * 60, options.seed);
    let wasm_toolchain = toolchain::ensure_wasm(root)?;
    let bindgen = tools::ensure_bindgen(root)?;
    let mut node = playwright::node_command(root, &wasm_toolchain, &bindgen, true)?;
    let dir = toolchain::target_dir(root).join("bench");
    std::fs::create_dir_all(&dir)?;
    let raw_path = dir.join("soak-raw.json");
    let _ = std::fs::remove_file(&raw_path);
    let plan_path = dir.join("soak-plan.json");
    std::fs::write(&plan_path, serde_json::to_string_pretty(&plan)? + "\n")?;
    say(format!("soaking for {} min with seed {}", options.minutes, options.seed));
    node.arg("soak.mjs")
        .env("TABCHAIN_HOSTILE_BIN", toolchain::target_dir(root).join("release").join("tabchain-hostile"))
        .env("TABCHAIN_SOAK_PLAN", &plan_path)
        .env("TABCHAIN_SOAK_OUT", &raw_path);
    // In a network namespace of its own, as the end-to-end tests: nothing leaves the machine,
    // and the tabs can link directly to each other (WebRTC), as they would on a network.
    let run = cmd::run(&mut crate::netns::loopback_only(node));
    // What the script wrote even when it failed midway, for the post-mortem; its failure first.
    let text = std::fs::read_to_string(&raw_path);
    run?;
    let raw: Value = serde_json::from_str(&text.context("the soak script wrote nothing")?)?;
    let report = judge(&raw);
    print_report(&report);
    std::fs::write(dir.join("soak.json"), serde_json::to_string_pretty(&report)? + "\n")?;
    say("wrote target/bench/soak.json");
    let failures = report["failures"].as_array().map_or(0, Vec::len);
    if failures > 0 {
        bail!("the soak failed: {}", report["failures"]);
    }
    Ok(())
}

struct Options {
    minutes: u64,
    seed: u64,
}

fn parse_args(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options { minutes: MINUTES_DEFAULT, seed: 1 };
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words.next().with_context(|| format!("`{flag}` needs a value"))?;
        let number: u64 = value.parse().with_context(|| format!("`{flag} {value}`: not a whole number"))?;
        match flag.as_str() {
            "--minutes" => options.minutes = number,
            "--seed" => options.seed = number,
            other => bail!("`soak` takes `--minutes N` and `--seed S`, not `{other}`"),
        }
    }
    if options.minutes == 0 || options.minutes > MINUTES_MAX {
        bail!("--minutes must be from 1 to {MINUTES_MAX}");
    }
    Ok(options)
}

/// SplitMix64: a small seeded generator, so that a seed names one run's choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// Seconds between kills for a soak of `seconds`: the usual window, or a smaller one that still
/// fits `KILLS_MIN` kills.
fn kill_window(seconds: u64) -> (u64, u64) {
    let high = KILL_INTERVAL_S_MAX.min(seconds / (KILLS_MIN + 1)).max(1);
    (KILL_INTERVAL_S_MIN.min(high / 2).max(1), high)
}

/// Every choice of a run of `seconds`, from `seed`.
fn plan(seconds: u64, seed: u64) -> Value {
    let mut rng = Rng(seed);
    let warm_up_s = WARM_UP_S_MAX.min(seconds / 3);
    let (low, high) = kill_window(seconds);
    let mut kills = Vec::new();
    let mut at = rng.between(low, high);
    while at < seconds {
        kills.push(at);
        at += rng.between(low, high);
    }
    let hrp = Params::regtest().address_hrp;
    let nodes: Vec<Value> = (0..NATIVE_NODES)
        .map(|_| {
            let seed: [u8; 32] = std::array::from_fn(|_| rng.next() as u8);
            json!({ "key": hex::encode(&seed), "address": encode_address(hrp, &SecretKey::from_bytes(&seed).public_key()) })
        })
        .collect();
    let payees = TAB_WORKERS.len() + NATIVE_NODES;
    let payments: Vec<Value> = (PAY_FROM_S..seconds)
        .step_by(PAY_INTERVAL_S as usize)
        .enumerate()
        .map(|(i, at_s)| {
            let from = i % TAB_WORKERS.len();
            // Anyone but the payer: the other tabs, then the nodes.
            let pick = (from + 1 + rng.between(0, payees as u64 - 2) as usize) % payees;
            let to = if pick < TAB_WORKERS.len() {
                json!({ "tab": pick })
            } else {
                json!({ "node": pick - TAB_WORKERS.len() })
            };
            let amount = PAY_AMOUNTS[rng.between(0, PAY_AMOUNTS.len() as u64 - 1) as usize];
            json!({ "at_s": at_s, "from": from, "to": to, "amount": amount })
        })
        .collect();
    json!({
        "seconds": seconds,
        "seed": seed,
        "warm_up_s": warm_up_s,
        "hostile_from_s": warm_up_s / 2,
        "kills_at_s": kills,
        "payments": payments,
        "tabs": TAB_WORKERS.iter().map(|w| json!({ "workers": w })).collect::<Vec<_>>(),
        "nodes": nodes,
        "relay_sample_every_s": RELAY_SAMPLE_EVERY_S,
        "tab_sample_every_s": TAB_SAMPLE_EVERY_S,
        "drain_s_max": DRAIN_S_MAX,
        "settle_s_max": SETTLE_S_MAX,
    })
}

/// The first sample at or after the warm-up and the last one, of `samples` with their time at
/// `t_s` and their figure from `bytes`.
fn span(samples: &[&Value], warm_up_s: f64, bytes: impl Fn(&Value) -> i64) -> Option<(i64, i64)> {
    let start = samples.iter().find(|s| s["t_s"].as_f64().is_some_and(|t| t >= warm_up_s))?;
    let end = samples.last()?;
    Some((bytes(start), bytes(end)))
}

fn int(value: &Value) -> i64 {
    value.as_i64().or_else(|| value.as_f64().map(|x| x as i64)).unwrap_or(0)
}

/// Whether the attack `outcome` overlaps a relay kill (from its SIGKILL until it served again).
fn during_a_kill(outcome: &Value, restarts: &[Value]) -> bool {
    let (start, end) = (int(&outcome["started_ms"]), int(&outcome["ended_ms"]));
    restarts.iter().any(|r| {
        let killed = int(&r["at_ms"]);
        start <= killed + int(&r["down_ms"]) && end >= killed
    })
}

/// Counts by attack: mounted, held, relay down, interrupted by a kill, failed, disconnects; and
/// the failures not explained by a kill.
fn attack_table(raw: &Value) -> (Value, Vec<String>) {
    let restarts = raw["restarts"].as_array().cloned().unwrap_or_default();
    let mut table = serde_json::Map::new();
    let mut failures = Vec::new();
    for outcome in raw["attacks"].as_array().into_iter().flatten() {
        let name = outcome["attack"].as_str().unwrap_or("?").to_owned();
        let row = table.entry(name.clone()).or_insert_with(
            || json!({ "mounted": 0, "held": 0, "down": 0, "interrupted": 0, "failed": 0, "disconnects": 0 }),
        );
        let verdict = match outcome["verdict"].as_str() {
            Some("failed") if during_a_kill(outcome, &restarts) => "interrupted",
            Some(verdict @ ("held" | "down" | "failed")) => verdict,
            _ => "failed",
        };
        if verdict == "failed" {
            failures.push(format!("{name}: {}", outcome["detail"].as_str().unwrap_or("?")));
        }
        for key in ["mounted", verdict] {
            row[key] = json!(int(&row[key]) + 1);
        }
        row["disconnects"] = json!(int(&row["disconnects"]) + int(&outcome["disconnects"]));
    }
    (Value::Object(table), failures)
}

/// Memory at the end of the warm-up and at the end of the soak: the relay's RSS (across
/// restarts) and each tab's JS heap plus wasm memory, with the growth and its bound.
fn memory_rows(raw: &Value, failures: &mut Vec<String>) -> Vec<Value> {
    let warm_up_s = raw["plan"]["warm_up_s"].as_f64().unwrap_or(0.0);
    let relay: Vec<&Value> = raw["relay_rss"].as_array().into_iter().flatten().collect();
    let mut rows =
        vec![("relay RSS".to_owned(), span(&relay, warm_up_s, |s| int(&s["rss_bytes"])), RELAY_RSS_GROWTH_MAX_BYTES)];
    for tab in 0..raw["plan"]["tabs"].as_array().map_or(0, Vec::len) {
        let samples: Vec<&Value> =
            raw["tab_memory"].as_array().into_iter().flatten().filter(|s| int(&s["tab"]) == tab as i64).collect();
        let figures = span(&samples, warm_up_s, |s| int(&s["heap_bytes"]) + int(&s["wasm_bytes"]));
        rows.push((format!("tab {tab} JS heap + wasm"), figures, TAB_MEMORY_GROWTH_MAX_BYTES));
    }
    rows.into_iter()
        .map(|(what, figures, bound)| {
            let Some((start, end)) = figures else {
                failures.push(format!("{what}: not sampled after the warm-up"));
                return json!({ "what": what });
            };
            if end - start > bound {
                failures.push(format!("{what} grew by {} bytes after the warm-up (bound {bound})", end - start));
            }
            json!({ "what": what, "start_bytes": start, "end_bytes": end, "growth_bytes": end - start, "bound_bytes": bound })
        })
        .collect()
}

/// The report: counts, memory, attacks, and every reason the run failed.
fn judge(raw: &Value) -> Value {
    let list = |key: &str| raw[key].as_array().cloned().unwrap_or_default();
    let (blocks, txs, restarts) = (list("blocks"), list("txs"), list("restarts"));
    let mut failures = Vec::new();
    if raw["final"]["agreed"] != json!(true) {
        failures.push(format!("the nodes did not agree on one tip: {}", raw["final"]));
    }
    let lost_blocks: Vec<&Value> = blocks.iter().filter(|b| b["status"] != json!(200)).collect();
    for block in &lost_blocks {
        failures
            .push(format!("acknowledged block {} at {} is gone ({})", block["hash"], block["height"], block["status"]));
    }
    let lost_on_kill: Vec<&Value> =
        restarts.iter().filter(|r| !r["tip"].is_null() && r["tip_status"] != json!(200)).collect();
    for restart in &lost_on_kill {
        failures.push(format!(
            "the tip acknowledged before the kill at {} s was not stored: {}",
            restart["at_s"], restart["tip"]
        ));
    }
    let confirmed = |tx: &&Value| !tx["confirmed_during"].is_null();
    let lost_txs: Vec<&Value> = txs.iter().filter(confirmed).filter(|tx| tx["final"] != json!("confirmed")).collect();
    for tx in &lost_txs {
        failures.push(format!("payment {} was confirmed, and is now {}", tx["txid"], tx["final"]));
    }
    // Not a loss (it never confirmed), but worth a look: the payer's own view says why.
    let unconfirmed: Vec<Value> = txs
        .iter()
        .filter(|tx| tx["final"] != json!("confirmed"))
        .map(|tx| json!({ "txid": tx["txid"], "paid_at_s": tx["at_s"], "payer": tx["payer"], "payer_says": tx["payer_says"] }))
        .collect();
    for error in list("page_errors") {
        failures.push(format!("tab {} threw: {}", error["tab"], error["message"]));
    }
    let (attacks, attack_failures) = attack_table(raw);
    failures.extend(attack_failures);
    let memory = memory_rows(raw, &mut failures);
    let down_ms: Vec<i64> = restarts.iter().map(|r| int(&r["down_ms"])).collect();
    json!({
        "seconds": raw["plan"]["seconds"],
        "seed": raw["plan"]["seed"],
        "blocks_acknowledged": blocks.len(),
        "blocks_active_at_end": blocks.iter().filter(|b| b["active"] == json!(true)).count(),
        "blocks_on_side_branches": blocks.iter().filter(|b| b["active"] == json!(false)).count(),
        "blocks_lost": lost_blocks.len(),
        "final_height": raw["final"]["relay"]["height"],
        "txs_acknowledged": txs.len(),
        "txs_confirmed_during_soak": txs.iter().filter(confirmed).count(),
        "txs_lost": lost_txs.len(),
        "txs_unconfirmed_at_end": unconfirmed.len(),
        "unconfirmed": unconfirmed,
        "payments_refused": list("refused_payments").len(),
        "drained": raw["drained"],
        "relay_kills": restarts.len(),
        "tips_lost_on_kill": lost_on_kill.len(),
        "restart_ms_max": down_ms.iter().copied().max(),
        "attacks_mounted": attacks.as_object().map_or(0, |t| t.values().map(|r| int(&r["mounted"])).sum::<i64>()),
        "hostile_disconnects": attacks.as_object().map_or(0, |t| t.values().map(|r| int(&r["disconnects"])).sum::<i64>()),
        "attacks": attacks,
        "memory": memory,
        "final": raw["final"],
        "failures": failures,
    })
}

fn mib(bytes: &Value) -> String {
    bytes.as_f64().map_or_else(|| "-".to_owned(), |b| format!("{:.1} MiB", b / (1024.0 * 1024.0)))
}

fn print_report(report: &Value) {
    let n = |key: &str| report[key].to_string();
    println!("  soak of {} s, seed {}", n("seconds"), n("seed"));
    let rows = [
        ("blocks acknowledged by the relay", n("blocks_acknowledged")),
        ("  on the active chain at the end", n("blocks_active_at_end")),
        ("  on side branches (less work)", n("blocks_on_side_branches")),
        ("  lost", n("blocks_lost")),
        ("final height, every node", n("final_height")),
        ("payments acknowledged by tabs", n("txs_acknowledged")),
        ("  confirmed during the soak", n("txs_confirmed_during_soak")),
        ("  lost after confirming", n("txs_lost")),
        ("  unconfirmed at the end", n("txs_unconfirmed_at_end")),
        ("payments refused by the wallet", n("payments_refused")),
        ("relay kills (SIGKILL, restart)", n("relay_kills")),
        ("  acknowledged tip lost by a kill", n("tips_lost_on_kill")),
        ("  longest restart, ms", n("restart_ms_max")),
        ("hostile attacks mounted", n("attacks_mounted")),
        ("hostile clients disconnected", n("hostile_disconnects")),
    ];
    for (label, value) in rows {
        println!("  {label:<40} {value:>10}");
    }
    println!("\n  {:<28} {:>14} {:>14} {:>12} {:>10}", "memory", "after warm-up", "at end", "growth", "bound");
    for row in report["memory"].as_array().into_iter().flatten() {
        println!(
            "  {:<28} {:>14} {:>14} {:>12} {:>10}",
            row["what"].as_str().unwrap_or("?"),
            mib(&row["start_bytes"]),
            mib(&row["end_bytes"]),
            mib(&row["growth_bytes"]),
            mib(&row["bound_bytes"])
        );
    }
    println!(
        "\n  {:<28} {:>8} {:>6} {:>6} {:>12} {:>7} {:>12}",
        "attack", "mounted", "held", "down", "interrupted", "failed", "disconnects"
    );
    for (name, row) in report["attacks"].as_object().into_iter().flatten() {
        let cell = |key: &str| row[key].to_string();
        println!(
            "  {name:<28} {:>8} {:>6} {:>6} {:>12} {:>7} {:>12}",
            cell("mounted"),
            cell("held"),
            cell("down"),
            cell("interrupted"),
            cell("failed"),
            cell("disconnects")
        );
    }
    for tx in report["unconfirmed"].as_array().into_iter().flatten() {
        println!("\n  unconfirmed at the end: {tx}");
    }
    let failures = report["failures"].as_array().cloned().unwrap_or_default();
    if failures.is_empty() {
        println!(
            "\n  verdict: every node agrees, nothing acknowledged was lost, every defence held, memory within bounds"
        );
    } else {
        println!("\n  verdict: FAILED");
        for failure in failures {
            println!("    - {}", failure.as_str().unwrap_or("?"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_soak_still_kills_the_relay_and_the_plan_follows_the_seed() {
        let check = |seconds: u64, kills_min: usize| {
            let plan = plan(seconds, 7);
            let kills = plan["kills_at_s"].as_array().expect("kills");
            assert!(kills.len() >= kills_min, "{seconds} s: {kills:?}");
            assert!(kills.iter().all(|k| k.as_u64().is_some_and(|k| k < seconds)));
            assert_eq!(plan, super::plan(seconds, 7), "the same seed, the same plan");
        };
        check(180, 2);
        check(3600, 9);
        assert_eq!(kill_window(3600), (KILL_INTERVAL_S_MIN, KILL_INTERVAL_S_MAX));
        assert_eq!(kill_window(180), (30, 60));
        assert_ne!(plan(180, 1)["nodes"], plan(180, 2)["nodes"]);
    }

    #[test]
    fn payments_go_from_a_tab_to_anyone_else() {
        let plan = plan(600, 3);
        for payment in plan["payments"].as_array().expect("payments") {
            assert_ne!(payment["to"], json!({ "tab": payment["from"] }), "{payment}");
        }
    }

    #[test]
    fn a_failed_attack_during_a_kill_is_interrupted_and_otherwise_fails_the_run() {
        let raw = json!({
            "restarts": [{ "at_ms": 1000, "down_ms": 500 }],
            "attacks": [
                { "attack": "junk frame", "verdict": "held", "disconnects": 1, "started_ms": 0, "ended_ms": 10 },
                { "attack": "junk frame", "verdict": "failed", "detail": "x", "started_ms": 900, "ended_ms": 1100 },
                { "attack": "slowloris", "verdict": "failed", "detail": "open", "started_ms": 2000, "ended_ms": 3000 },
                { "attack": "slowloris", "verdict": "down", "started_ms": 1200, "ended_ms": 1300 },
            ],
        });
        let (table, failures) = attack_table(&raw);
        assert_eq!(
            table["junk frame"],
            json!({ "mounted": 2, "held": 1, "down": 0, "interrupted": 1, "failed": 0, "disconnects": 1 })
        );
        assert_eq!(
            table["slowloris"],
            json!({ "mounted": 2, "held": 0, "down": 1, "interrupted": 0, "failed": 1, "disconnects": 0 })
        );
        assert_eq!(failures, ["slowloris: open"]);
    }

    #[test]
    fn memory_is_judged_from_the_end_of_the_warm_up_to_the_end() {
        let raw = json!({
            "plan": { "warm_up_s": 60, "tabs": [{}] },
            "relay_rss": [{ "t_s": 10, "rss_bytes": 1 }, { "t_s": 61, "rss_bytes": 100 }, { "t_s": 170, "rss_bytes": 150 }],
            "tab_memory": [{ "t_s": 0, "tab": 0, "heap_bytes": 1, "wasm_bytes": 1 }, { "t_s": 90, "tab": 0, "heap_bytes": 10, "wasm_bytes": TAB_MEMORY_GROWTH_MAX_BYTES + 11 }],
        });
        let mut failures = Vec::new();
        let rows = memory_rows(&raw, &mut failures);
        assert_eq!(rows[0]["growth_bytes"], 50);
        assert_eq!(rows[1]["growth_bytes"], 0, "one tab sample after the warm-up: no growth to see");
        assert!(failures.is_empty(), "{failures:?}");
        let grown = json!({ "plan": raw["plan"], "relay_rss": [{ "t_s": 60, "rss_bytes": 0 }, { "t_s": 90, "rss_bytes": RELAY_RSS_GROWTH_MAX_BYTES + 1 }], "tab_memory": [] });
        let mut failures = Vec::new();
        memory_rows(&grown, &mut failures);
        assert_eq!(failures.len(), 2, "{failures:?}");
    }
}

// `cargo xtask soak` (issue 12): a relay, native nodes and tabs mining and paying each other for
// a while, hostile clients attacking the relay all along, and the relay killed with SIGKILL and
// restarted on the same data and port at the moments the plan says; then mining stops, the
// nodes settle, and everything acknowledged is looked up again.
//
// xtask hands the plan (a JSON file at TABCHAIN_SOAK_PLAN: durations, kill times, payments, tabs, the native
// nodes' keys and addresses; every random choice is xtask's, from its seed) and reads what this
// script writes to TABCHAIN_SOAK_OUT: facts only (samples, what was acknowledged, what the
// lookups at the end answered, the hostile clients' outcomes). xtask judges them.
//
// "Acknowledged": a block the relay reported as its tip (`/api/status`) or among its recent
// blocks (`/api/blocks`); a transaction a tab's node accepted (`window.tabchain.pay` returned its
// txid).

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PAGE_PROBE_SCRIPT, procBytes, tabMemory } from "./measure.mjs";
import { Relay, Tab, launchBrowser } from "./support.mjs";

/** One pass of the main loop: status poll, samples, kills and payments that are due. */
const LOOP_MS = 1000;
/** Unconfirmed transactions looked up on the relay per pass (the API is cheap, not free). */
const TX_LOOKUPS_PER_PASS = 5;
/** Passes between two reads of the relay's recent blocks (50 blocks each). */
const RECENT_BLOCKS_EVERY_PASSES = 5;
/** The soak's own lookups come from 127.0.0.1 in bulk at the end: lift the per-address rate. */
const API_LIMITS = ["--max-api-requests-per-s", "100000", "--api-request-burst", "100000"];
/** The fee rate tabs pay at (units per byte; the page's "normal"). */
const FEE_RATE = 2000;
/** How long a stopped child process may take to exit before it is killed. */
const EXIT_WAIT_MS = 10_000;
/** Blocks the last miner mines alone at the end, and how long it may take. */
const TIE_BREAK_BLOCKS = 2;
const TIE_BREAK_S_MAX = 120;
/** What a native node prints every 5 s. */
const NODE_STATUS = /^height (\d+) \| peers (\d+) \|.* \| tip ([0-9a-f]{64})$/;

const plan = JSON.parse(readFileSync(process.env.TABCHAIN_SOAK_PLAN, "utf8"));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => console.log(`  soak: ${line}`);
const started = performance.now();
const elapsedS = () => (performance.now() - started) / 1000;

/** A child process stopped with `signal`, waited for (and killed if it lingers). */
async function stopProcess(child, signal = "SIGTERM") {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  if ((await Promise.race([exited.then(() => true), sleep(EXIT_WAIT_MS).then(() => false)])) === false) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** A native node (`tabchain node`) following the relay, its data in its own folder. */
class NativeNode {
  constructor(index, relay, { key, address }) {
    this.index = index;
    this.relay = relay;
    this.address = address;
    this.dataDir = mkdtempSync(join(tmpdir(), "tabchain-soak-node-"));
    writeFileSync(join(this.dataDir, "miner.key"), key);
    this.last = null;
  }

  start(mine) {
    const args = ["node", "--network", "regtest", "--connect", `ws://127.0.0.1:${this.relay.port}/ws`, "--data", this.dataDir];
    if (mine) args.push("--mine", "--threads", "1");
    this.process = spawn(process.env.TABCHAIN_BIN, args, { env: { ...process.env, RUST_LOG: "warn" }, stdio: ["ignore", "pipe", "inherit"] });
    this.startedAtS = elapsedS();
    createInterface({ input: this.process.stdout }).on("line", (line) => {
      const match = line.match(NODE_STATUS);
      if (match) this.last = { height: Number(match[1]), peers: Number(match[2]), tip: match[3], at_s: elapsedS() };
    });
  }

  /** Mining stops: the node restarts on its data without `--mine`. */
  async restartWithoutMining() {
    await stopProcess(this.process);
    this.last = null;
    this.start(false);
  }
}

/** What the relay acknowledged, and what its transactions' lookups said during the run. */
class Ledger {
  constructor() {
    this.blocks = new Map(); // hash -> {height, at_s}
    this.tip = null;
    this.txs = new Map(); // txid -> {from, to, amount, at_s, confirmed: {height, block, at_s} | null}
    this.refusedPayments = [];
  }

  block(hash, height) {
    if (!this.blocks.has(hash)) this.blocks.set(hash, { height, at_s: elapsedS() });
  }
}

async function api(relay, path) {
  try {
    const response = await fetch(`${relay.url}/api${path}`);
    return { status: response.status, body: response.ok ? await response.json() : null };
  } catch {
    return { status: 0, body: null };
  }
}

async function pollRelay(relay, ledger, pass) {
  const status = (await api(relay, "/status")).body;
  if (status) {
    ledger.block(status.tip, status.height);
    ledger.tip = { hash: status.tip, height: status.height };
  }
  if (pass % RECENT_BLOCKS_EVERY_PASSES === 0) {
    for (const block of (await api(relay, "/blocks")).body ?? []) ledger.block(block.hash, block.height);
  }
}

/** Looks up to `max` transactions not yet seen confirmed; notes those that now are. */
async function checkTxs(relay, ledger, max) {
  const open = [...ledger.txs.entries()].filter(([, tx]) => !tx.confirmed).slice(0, max);
  for (const [txid, tx] of open) {
    const { body } = await api(relay, `/tx/${txid}`);
    if (body?.status === "confirmed") tx.confirmed = { height: body.height, block: body.block, at_s: elapsedS() };
  }
  return open.length;
}

async function pay(tabs, nodes, ledger, payment) {
  const from = tabs[payment.from];
  const address = payment.to.tab !== undefined ? tabs[payment.to.tab].address : nodes[payment.to.node].address;
  const result = await from.page.evaluate(
    ({ address, amount, feeRate }) => {
      try {
        return { txid: window.tabchain.pay(address, amount, feeRate) };
      } catch (error) {
        return { error: String(error?.message ?? error) };
      }
    },
    { address, amount: payment.amount, feeRate: FEE_RATE },
  );
  // The payer's view when it paid: a payment from a tab still syncing may spend a coin that a
  // reorg then takes away.
  const payer = await from.status().then(({ height, state }) => ({ height, state }));
  if (result.txid) ledger.txs.set(result.txid, { ...payment, at_s: elapsedS(), payer, confirmed: null });
  else ledger.refusedPayments.push({ ...payment, reason: result.error });
}

/** The relay's RSS now (it may be between a kill and its restart). */
function relaySample(relay) {
  try {
    return { t_s: elapsedS(), pid: relay.process.pid, rss_bytes: procBytes(relay.process.pid, "VmRSS") };
  } catch {
    return null;
  }
}

async function tabSample(tab, index) {
  const { heap, wasm } = await tabMemory(tab.page, tab.cdp);
  return { t_s: elapsedS(), tab: index, heap_bytes: heap, wasm_bytes: wasm };
}

/** SIGKILL, restart on the same data and port, and look the last acknowledged tip up at once. */
async function killRelay(relay, ledger) {
  const tip = ledger.tip;
  const [at_s, at_ms] = [elapsedS(), Date.now()];
  await relay.killAndRestart();
  const down_ms = (elapsedS() - at_s) * 1000;
  const lookup = tip ? await api(relay, `/blocks/${tip.hash}`) : { status: 0 };
  log(`killed the relay at ${at_s.toFixed(0)} s, serving again after ${down_ms.toFixed(0)} ms; last tip ${tip ? `${tip.height} ${lookup.status === 200 ? "kept" : "LOST"}` : "none"}`);
  return { at_s, at_ms, down_ms, tip, tip_status: lookup.status };
}

function startHostile(relay, out, seconds) {
  const args = ["--target", `127.0.0.1:${relay.port}`, "--seconds", String(Math.max(1, Math.round(seconds))), "--seed", String(plan.seed)];
  const child = spawn(process.env.TABCHAIN_HOSTILE_BIN, args, { stdio: ["ignore", "pipe", "inherit"] });
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      out.push(JSON.parse(line));
    } catch {
      out.push({ attack: "?", verdict: "failed", detail: `unreadable line: ${line}` });
    }
  });
  return child;
}

/** The soak proper: mining, payments, samples, kills and attacks until `plan.seconds`. */
async function soak({ relay, tabs, nodes, ledger, out }) {
  const kills = [...plan.kills_at_s];
  const payments = [...plan.payments];
  let [nextRelaySample, nextTabSample] = [0, 0];
  let hostile = null;
  for (let pass = 0; elapsedS() < plan.seconds; pass++) {
    const passStart = performance.now();
    await pollRelay(relay, ledger, pass);
    if (!hostile && elapsedS() >= plan.hostile_from_s) hostile = startHostile(relay, out.attacks, plan.seconds - elapsedS());
    if (kills.length && elapsedS() >= kills[0]) {
      kills.shift();
      out.restarts.push(await killRelay(relay, ledger));
    }
    while (payments.length && elapsedS() >= payments[0].at_s) await pay(tabs, nodes, ledger, payments.shift());
    await checkTxs(relay, ledger, TX_LOOKUPS_PER_PASS);
    if (elapsedS() >= nextRelaySample) {
      const sample = relaySample(relay);
      if (sample) out.relay_rss.push(sample);
      nextRelaySample = elapsedS() + plan.relay_sample_every_s;
    }
    if (elapsedS() >= nextTabSample) {
      for (const [i, tab] of tabs.entries()) out.tab_memory.push(await tabSample(tab, i));
      nextTabSample = elapsedS() + plan.tab_sample_every_s;
    }
    await sleep(Math.max(0, LOOP_MS - (performance.now() - passStart)));
  }
  // The end of the soak proper: the samples the memory verdicts compare with the warm-up's.
  const sample = relaySample(relay);
  if (sample) out.relay_rss.push(sample);
  for (const [i, tab] of tabs.entries()) out.tab_memory.push(await tabSample(tab, i));
  await stopProcess(hostile);
}

/** Mining goes on until every acknowledged transaction is confirmed on the relay (or time runs out). */
async function drain(relay, ledger) {
  const deadline = elapsedS() + plan.drain_s_max;
  while (elapsedS() < deadline) {
    await pollRelay(relay, ledger, 0);
    if ((await checkTxs(relay, ledger, Number.MAX_SAFE_INTEGER)) === 0) return true;
    await sleep(LOOP_MS);
  }
  return false;
}

/**
 * Stops every miner but the first native node, lets it mine `TIE_BREAK_BLOCKS` more, then stops
 * it. Two blocks of equal work at the tip are a tie every node keeps as it first saw it (as
 * Bitcoin does), and with every miner stopped at once nothing would ever break it: the last
 * miner standing does.
 */
async function stopMining(relay, tabs, nodes) {
  const [last, ...others] = nodes;
  for (const tab of tabs) await tab.setWorkers(0);
  for (const node of others) await node.restartWithoutMining();
  const from = (await api(relay, "/status")).body?.height ?? 0;
  const deadline = elapsedS() + TIE_BREAK_S_MAX;
  while (elapsedS() < deadline && ((await api(relay, "/status")).body?.height ?? 0) < from + TIE_BREAK_BLOCKS) await sleep(LOOP_MS);
  await last.restartWithoutMining();
}

/** Every node's tip, once all agree with the relay's (or time runs out). */
async function settle(relay, tabs, nodes) {
  const deadline = elapsedS() + plan.settle_s_max;
  let tips;
  for (;;) {
    const relayTip = (await api(relay, "/status")).body;
    const tabTips = await Promise.all(tabs.map((tab) => tab.status().catch((error) => ({ error: error.message }))));
    tips = {
      relay: relayTip ? { tip: relayTip.tip, height: relayTip.height } : null,
      tabs: tabTips.map((s) => ({ tip: s.tip ?? null, height: s.height ?? null, state: s.state ?? s.error, peers: s.peers ?? null })),
      nodes: nodes.map((node) => (node.last && node.last.at_s > node.startedAtS ? { tip: node.last.tip, height: node.last.height, peers: node.last.peers } : null)),
    };
    const all = [...tips.tabs, ...tips.nodes];
    if (relayTip && all.every((t) => t?.tip === relayTip.tip && (t.state === undefined || t.state === "in sync"))) return { ...tips, agreed: true };
    if (elapsedS() >= deadline) return { ...tips, agreed: false };
    await sleep(LOOP_MS);
  }
}

/** What the relay answers now for every acknowledged block and transaction. */
async function lookUpEverything(relay, ledger, tabs) {
  const blocks = [];
  for (const [hash, seen] of ledger.blocks) {
    const { status, body } = await api(relay, `/blocks/${hash}`);
    blocks.push({ hash, height: seen.height, status, active: body?.active ?? null });
  }
  const txs = [];
  for (const [txid, tx] of ledger.txs) {
    const { status, body } = await api(relay, `/tx/${txid}`);
    // What the paying tab's own node says of a payment the relay does not hold confirmed.
    const payerSays = body?.status === "confirmed" ? null : await tabs[tx.from].page.evaluate((txid) => window.tabchain.node.search(txid)?.view?.status ?? "unknown", txid).catch((error) => error.message);
    txs.push({ txid, from: tx.from, to: tx.to, amount: tx.amount, at_s: tx.at_s, payer: tx.payer, confirmed_during: tx.confirmed, status, final: body?.status ?? null, height: body?.height ?? null, payer_says: payerSays });
  }
  return { blocks, txs };
}

const out = { plan, restarts: [], attacks: [], relay_rss: [], tab_memory: [], page_errors: [] };
const relay = await Relay.start(API_LIMITS);
const nodes = plan.nodes.map((node, i) => new NativeNode(i, relay, node));
const browser = await launchBrowser();
const ledger = new Ledger();
try {
  for (const node of nodes) node.start(true);
  const tabs = [];
  for (const spec of plan.tabs) {
    const tab = await Tab.open(browser, relay, { workers: spec.workers, initScript: PAGE_PROBE_SCRIPT });
    tab.cdp = await tab.context.newCDPSession(tab.page);
    tab.address = (await tab.status()).address;
    tabs.push(tab);
  }
  log(`relay on port ${relay.port}, ${nodes.length} native nodes, ${tabs.length} tabs; soaking for ${plan.seconds} s`);
  await soak({ relay, tabs, nodes, ledger, out });
  log(`soak over at ${elapsedS().toFixed(0)} s: draining the mempool (${ledger.txs.size} payments)`);
  out.drained = await drain(relay, ledger);
  await stopMining(relay, tabs, nodes);
  log("mining stopped; waiting for every node to agree");
  out.final = await settle(relay, tabs, nodes);
  Object.assign(out, await lookUpEverything(relay, ledger, tabs));
  out.refused_payments = ledger.refusedPayments;
  out.page_errors = tabs.flatMap((tab, i) => tab.errors.map((message) => ({ tab: i, message })));
  out.seconds_total = elapsedS();
} finally {
  writeFileSync(process.env.TABCHAIN_SOAK_OUT, `${JSON.stringify(out, null, 2)}\n`);
  await browser.close().catch(() => {});
  for (const node of nodes) {
    await stopProcess(node.process);
    rmSync(node.dataDir, { recursive: true, force: true });
  }
  await relay.stop();
}

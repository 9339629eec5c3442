// `cargo xtask bench scale` (issue 11): the relay and a tab on long chains. For each chain in
// TABCHAIN_SCALE_CHAINS (`[{blocks, path, payee, tab}]`, each a file `cargo xtask` forged: the
// magic "TCSCALE1", a u32 LE count, then each block as a u32 LE length and its bytes):
//
// - relay: a fresh release relay on regtest ingests every block through `POST /api/block`, one
//   request at a time (a miner's path; each answer comes after the block is validated and
//   committed to redb); then its RSS (VmRSS, and VmHWM as the peak), its data folder's
//   allocated size, the median time of `/api/status` (the floor of any request), of a missed
//   txid lookup and of two address lookups (the miner's, with a coinbase in every block, and
//   the tip's payee, with one payment); then a SIGKILL and the time until a new process answers
//   `/api/status` at the tip;
// - tab (when `tab` is set): a fresh tab syncing from that relay, its JS heap (CDP
//   `Runtime.getHeapUsage` after a collection), wasm memory (the `WebAssembly.Memory` the page
//   instantiated, caught by an init script), storage (`navigator.storage.estimate()`); then a
//   reload to node started and to in sync, with the longest main-thread task in between (a
//   `longtask` PerformanceObserver the init script registers before the page runs).
//
// Writes a JSON array, one object of figures per chain, to TABCHAIN_SCALE_OUT.

import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PAGE_PROBE_SCRIPT, procBytes, tabMemory } from "../measure.mjs";
import { Relay, launchBrowser } from "../support.mjs";

const LOOKUPS = 101;
const RESTART_TIMEOUT_MS = 15 * 60_000;
const TAB_TIMEOUT_MS = Number(process.env.TABCHAIN_SCALE_TAB_TIMEOUT_S ?? 900) * 1000;
const API_LIMITS = ["--max-api-requests-per-s", "1000000", "--api-request-burst", "1000000"];
const ABSENT_TXID = "ab".repeat(32);

const chains = JSON.parse(process.env.TABCHAIN_SCALE_CHAINS);
const miner = process.env.TABCHAIN_SCALE_MINER;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => console.log(`  ${line}`);

/** The blocks of a chain file (starting with `magic`, which xtask names), as Buffers. */
function readChain(path, expected, magic) {
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 8).toString("latin1") !== magic) throw new Error(`${path} is not a ${magic} scale chain`);
  const count = bytes.readUInt32LE(8);
  if (count !== expected) throw new Error(`${path} holds ${count} blocks, not ${expected}`);
  const blocks = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    const length = bytes.readUInt32LE(at);
    blocks.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return blocks;
}

/** Bytes allocated on disk under `dir`, as `du` counts them. */
function diskBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? diskBytes(path) : statSync(path).blocks * 512;
  }
  return total;
}

/** Median milliseconds of `LOOKUPS` sequential GETs of `path`, each answering `status`. */
async function lookupMs(relay, path, status) {
  const times = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const start = performance.now();
    const response = await fetch(`${relay.url}/api${path}`);
    await response.arrayBuffer();
    times.push(performance.now() - start);
    if (response.status !== status) throw new Error(`GET ${path} answered ${response.status}, expected ${status}`);
  }
  return median(times);
}

/** SIGKILL, then the same binary on the same port and data; seconds until it reports `height`. */
async function restartSeconds(relay, height) {
  await relay.kill();
  const args = ["serve", "--network", "regtest", "--listen", `127.0.0.1:${relay.port}`, "--www", process.env.TABCHAIN_WWW, "--data", relay.dataDir, ...relay.extraArgs];
  const start = performance.now();
  relay.process = spawn(process.env.TABCHAIN_BIN, args, { env: { ...process.env, RUST_LOG: "warn" }, stdio: ["ignore", "ignore", "inherit"] });
  const deadline = Date.now() + RESTART_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (relay.process.exitCode !== null) throw new Error(`the restarted relay exited (${relay.process.exitCode})`);
    const status = await fetch(`${relay.url}/api/status`).then((r) => (r.ok ? r.json() : null), () => null);
    if (status?.height === height) return (performance.now() - start) / 1000;
    await sleep(5);
  }
  throw new Error(`the restarted relay did not reach height ${height} in ${RESTART_TIMEOUT_MS / 1000} s`);
}

async function relayPart(relay, chain, blocks, out) {
  const start = performance.now();
  for (const [i, block] of blocks.entries()) {
    const { status, body } = await relay.submitBlock(block.toString("hex"));
    if (status !== 200) throw new Error(`the relay refused block ${i + 1}: ${JSON.stringify(body)}`);
    if ((i + 1) % 10_000 === 0) log(`ingested ${i + 1} blocks, ${((i + 1) / ((performance.now() - start) / 1000)).toFixed(0)} blocks/s`);
  }
  out.relay_ingest_s = (performance.now() - start) / 1000;
  out.relay_ingest_blocks_per_s = blocks.length / out.relay_ingest_s;
  const status = await relay.status();
  if (status.height !== blocks.length) throw new Error(`the relay is at height ${status.height}, not ${blocks.length}`);
  out.relay_rss_bytes = procBytes(relay.process.pid, "VmRSS");
  out.relay_rss_peak_bytes = procBytes(relay.process.pid, "VmHWM");
  out.relay_disk_bytes = diskBytes(relay.dataDir);
  out.relay_status_ms = await lookupMs(relay, "/status", 200);
  out.relay_missed_tx_ms = await lookupMs(relay, `/tx/${ABSENT_TXID}`, 404);
  out.relay_address_ms = await lookupMs(relay, `/address/${miner}`, 200);
  out.relay_payee_ms = await lookupMs(relay, `/address/${chain.payee}`, 200);
  out.relay_restart_s = await restartSeconds(relay, blocks.length);
  out.relay_rss_restarted_bytes = procBytes(relay.process.pid, "VmRSS");
  log(`relay: ${out.relay_ingest_blocks_per_s.toFixed(0)} blocks/s ingest, restart ${out.relay_restart_s.toFixed(2)} s`);
}

const inSyncAt = (height) => {
  const status = window.tabchain?.status();
  return status?.state === "in sync" && status.height >= height;
};

async function tabPart(browser, relay, height, out) {
  const context = await browser.newContext();
  await context.addInitScript(PAGE_PROBE_SCRIPT);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const wait = { timeout: TAB_TIMEOUT_MS, polling: 100 };
  try {
    const start = performance.now();
    await page.goto(`${relay.url}/index.html?workers=0`);
    // Phase by phase: the headers, then (on a chain long enough) the snapshot, then the blocks.
    await page.waitForFunction((h) => window.tabchain?.status().best_header_height >= h, height, wait);
    out.tab_headers_s = (performance.now() - start) / 1000;
    out.tab_headers_per_s = height / out.tab_headers_s;
    await page.waitForFunction((h) => window.tabchain.snapshotAdopted || window.tabchain.status().height >= h, height, wait);
    const adopted = await page.evaluate(() => window.tabchain.snapshotAdopted);
    if (adopted) {
      out.tab_snapshot_s = (performance.now() - start) / 1000 - out.tab_headers_s;
      out.tab_snapshot_bytes = adopted.coins * 81;
      out.tab_snapshot_mb_per_s = out.tab_snapshot_bytes / 1e6 / out.tab_snapshot_s;
    }
    await page.waitForFunction((h) => window.tabchain?.status().height >= h, height, wait);
    out.tab_sync_s = (performance.now() - start) / 1000;
    out.tab_sync_longest_task_ms = await page.evaluate(() => window.__probe.longestTaskMs);
    out.tab_sync_blocks_per_s = height / out.tab_sync_s;
    await page.waitForFunction(() => window.tabchain.pendingWrites === 0, null, wait);
    out.tab_sync_stored_s = (performance.now() - start) / 1000;
    const synced = await tabMemory(page, cdp);
    [out.tab_js_heap_bytes, out.tab_wasm_memory_bytes, out.tab_storage_bytes] = [synced.heap, synced.wasm, synced.storage];
    // What the tab itself keeps; the browser's estimate adds what its database has not compacted yet.
    out.tab_stored_bytes = await page.evaluate(() => window.tabchain.checkpointBytes + window.tabchain.journalBytes);
    log(`tab: synced in ${out.tab_sync_s.toFixed(1)} s`);

    const reload = performance.now();
    await page.reload({ timeout: TAB_TIMEOUT_MS });
    await page.waitForFunction(() => window.tabchainStartedMs, null, wait);
    out.tab_reload_started_s = (performance.now() - reload) / 1000;
    await page.waitForFunction(inSyncAt, height, wait);
    out.tab_reload_in_sync_s = (performance.now() - reload) / 1000;
    out.tab_reload_longest_task_ms = await page.evaluate(() => window.__probe.longestTaskMs);
    out.tab_reload_long_tasks = await page.evaluate(() => window.__probe.longTasks);
    const reloaded = await tabMemory(page, cdp);
    [out.tab_reload_js_heap_bytes, out.tab_reload_wasm_memory_bytes] = [reloaded.heap, reloaded.wasm];
    log(`tab: reloaded in ${out.tab_reload_in_sync_s.toFixed(1)} s`);
  } finally {
    await context.close();
  }
}

const runs = [];
const browser = await launchBrowser();
try {
  for (const chain of chains) {
    const blocks = readChain(chain.path, chain.blocks, chain.magic);
    const out = { blocks: chain.blocks, block_bytes_mean: blocks.reduce((sum, b) => sum + b.length, 0) / blocks.length };
    log(`${chain.blocks} blocks, ${out.block_bytes_mean.toFixed(0)} bytes each on average`);
    const relay = await Relay.start(API_LIMITS);
    try {
      await relayPart(relay, chain, blocks, out);
      if (chain.tab) {
        // A tab that misses its deadline costs only its own figures.
        await tabPart(browser, relay, chain.blocks, out).catch((error) => {
          out.tab_error = error.message.split("\n")[0];
        });
      }
    } finally {
      await relay.stop();
    }
    runs.push(out);
    writeFileSync(process.env.TABCHAIN_SCALE_OUT, `${JSON.stringify(runs, null, 2)}\n`);
  }
} finally {
  await browser.close();
}

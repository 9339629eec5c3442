// `cargo xtask bench` for the page's node in headless Chromium: the wasm bundle's size (raw and
// gzipped), page load to node started and to in sync, and the initial sync of a long chain into
// a fresh tab against a native node (a second relay peered to the first) syncing the same chain
// in the same run. Prints a table and writes the figures as JSON to TABCHAIN_BENCH_OUT.

import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Relay, eventually, launchBrowser } from "../support.mjs";

const PAGE_LOADS = 9;
const chain = JSON.parse(readFileSync(process.env.TABCHAIN_BENCH_CHAIN, "utf8"));
const www = process.env.TABCHAIN_WWW;
const out = {};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The node's module (what a page load waits for), and the mining workers' beside it.
for (const bundle of ["pkg", "pkg-scalar"]) {
  for (const [module, key] of [["tabchain_web", "wasm"], ["tabchain_web_miner", "miner_wasm"]]) {
    const wasm = join(www, bundle, `${module}_bg.wasm`);
    out[`${bundle}_${key}_bytes`] = statSync(wasm).size;
    out[`${bundle}_${key}_gzip_bytes`] = gzipSync(readFileSync(wasm), { level: 9 }).length;
  }
}

// The chain goes in through the API as fast as the relay validates it, not at a client's rate.
// The page is the one built into the binary, served as an installed relay serves it (each file
// compressed once, at build time), not the source tree's, which `--www` compresses per request.
const relay = await Relay.start(["--max-api-requests-per-s", "100000", "--api-request-burst", "100000"], { builtIn: true });
const browser = await launchBrowser();
try {
  // Page load, each in a fresh context (an empty store, so nothing to restore), not mining.
  const started = [];
  const synced = [];
  /** Each `tabchain:*` mark of main.js (the way to the node's start), per load. */
  const marks = {};
  for (let i = 0; i < PAGE_LOADS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${relay.url}/index.html?workers=0`);
    started.push(await (await page.waitForFunction(() => window.tabchainStartedMs)).jsonValue());
    const steps = await page.evaluate(() => performance.getEntriesByType("mark").filter((m) => m.name.startsWith("tabchain:")).map((m) => [m.name.slice(9), m.startTime]));
    for (const [name, ms] of steps) (marks[name] ??= []).push(ms);
    synced.push(await (await page.waitForFunction(() => window.tabchain.status().state === "in sync" && performance.now())).jsonValue());
    await context.close();
  }
  out.page_load_to_node_started_ms = median(started);
  out.page_load_steps_ms = Object.fromEntries(Object.entries(marks).map(([name, ms]) => [name, median(ms)]));
  out.page_load_to_in_sync_ms = median(synced);

  // The chain goes into the relay through its API, block by block.
  for (const hex of chain) {
    const { status, body } = await relay.submitBlock(hex);
    if (status !== 200) throw new Error(`the relay refused a bench block: ${JSON.stringify(body)}`);
  }
  const height = chain.length;

  // A native node: a second relay peered to the first, from an empty store.
  const native = await Relay.start(["--peer", `ws://127.0.0.1:${relay.port}/ws`]);
  const nativeStart = performance.now();
  await eventually("the native node to sync", async () => (await native.status()).height >= height, 600_000);
  out.native_sync_s = (performance.now() - nativeStart) / 1000;
  await native.stop();

  // A fresh tab: from page load to the relay's tip, everything validated and stored.
  const context = await browser.newContext();
  const page = await context.newPage();
  const tabStart = performance.now();
  await page.goto(`${relay.url}/index.html?workers=0`);
  await page.waitForFunction((h) => window.tabchain?.status().height >= h, height, { timeout: 600_000, polling: 100 });
  out.tab_sync_s = (performance.now() - tabStart) / 1000;
  await page.waitForFunction(() => window.tabchain.pendingWrites === 0, null, { timeout: 600_000 });
  out.tab_sync_stored_s = (performance.now() - tabStart) / 1000;
  await context.close();
  out.sync_blocks = height;
} finally {
  await browser.close();
  await relay.stop();
}

const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
console.log(`  wasm bundle (SIMD)            ${kb(out.pkg_wasm_bytes)} raw, ${kb(out.pkg_wasm_gzip_bytes)} gzipped`);
console.log(`  wasm bundle (scalar)          ${kb(out["pkg-scalar_wasm_bytes"])} raw, ${kb(out["pkg-scalar_wasm_gzip_bytes"])} gzipped`);
console.log(`  miners' wasm (SIMD / scalar)  ${kb(out.pkg_miner_wasm_bytes)} / ${kb(out["pkg-scalar_miner_wasm_bytes"])} raw, ${kb(out.pkg_miner_wasm_gzip_bytes)} / ${kb(out["pkg-scalar_miner_wasm_gzip_bytes"])} gzipped`);
console.log(`  page load to node started     ${out.page_load_to_node_started_ms.toFixed(0)} ms (median of ${PAGE_LOADS})`);
console.log(`    on the way, medians         ${Object.entries(out.page_load_steps_ms).map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`).join(", ")}`);
console.log(`  page load to in sync          ${out.page_load_to_in_sync_ms.toFixed(0)} ms (empty chain)`);
for (const [label, seconds] of [["native node", out.native_sync_s], ["fresh tab", out.tab_sync_s], ["fresh tab, all stored", out.tab_sync_stored_s]]) {
  console.log(`  sync ${out.sync_blocks} blocks, ${label.padEnd(22)} ${seconds.toFixed(2)} s, ${(out.sync_blocks / seconds).toFixed(0)} blocks/s`);
}
writeFileSync(process.env.TABCHAIN_BENCH_OUT, `${JSON.stringify(out, null, 2)}\n`);

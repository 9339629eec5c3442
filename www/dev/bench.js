// Measures the browser miner (used by `cargo xtask bench`, readable by hand too): the kernel in
// one worker and in N workers, the portable (scalar) kernel and plain sha2 in one worker.
// Results land in `window.benchResult` and in the table.

import { MinerPool } from "../miner.js";
import { BITCOIN_GENESIS_HEADER } from "./genesis.js";

// Bitcoin's genesis header with an impossible target, so every nonce is hashed.
const HEADER = BITCOIN_GENESIS_HEADER;
const NEVER = "0".repeat(64);
const params = new URLSearchParams(location.search);
const SECONDS = Number(params.get("seconds") ?? 3);
const N = Number(params.get("workers") ?? navigator.hardwareConcurrency ?? 2);

async function measure(workers, mode) {
  const pool = new MinerPool(workers);
  await pool.ready;
  pool.start({ headerHex: HEADER, targetHex: NEVER, mode });
  await new Promise((r) => setTimeout(r, 500)); // warm up, let batch sizes settle
  pool.takeRate();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const rate = pool.takeRate();
  const simd = pool.simd;
  pool.stop();
  await pool.resize(0);
  return { rate, simd };
}

// How long a new job takes to replace a running one: from `start` of a job whose first hashes
// meet its target to that job's first found nonce, averaged over a few replacements.
async function cancellationMs(workers) {
  let resolveFound;
  const pool = new MinerPool(workers, { onFound: () => resolveFound?.() });
  await pool.ready;
  const samples = [];
  for (let i = 0; i < 5; i++) {
    pool.start({ headerHex: HEADER, targetHex: NEVER });
    await new Promise((r) => setTimeout(r, 400));
    const found = new Promise((resolve) => (resolveFound = resolve));
    const started = performance.now();
    pool.start({ headerHex: HEADER, targetHex: "f".repeat(64) });
    await found;
    samples.push(performance.now() - started);
  }
  pool.stop();
  await pool.resize(0);
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

function row(label, value) {
  const tr = document.createElement("tr");
  tr.innerHTML = `<td>${label}</td><td>${value}</td>`;
  document.getElementById("results").append(tr);
}

try {
  const one = await measure(1, "kernel");
  row("kernel, 1 worker", `${(one.rate / 1e6).toFixed(2)} MH/s (SIMD: ${one.simd})`);
  const many = await measure(N, "kernel");
  row(`kernel, ${N} workers`, `${(many.rate / 1e6).toFixed(2)} MH/s`);
  const portable = await measure(1, "portable");
  row("portable kernel, 1 worker", `${(portable.rate / 1e6).toFixed(2)} MH/s`);
  const plain = await measure(1, "plain");
  row("plain sha2 in wasm, 1 worker", `${(plain.rate / 1e6).toFixed(2)} MH/s`);
  const cancel = await cancellationMs(N);
  row(`new job replaces a running one (${N} workers)`, `${cancel.toFixed(1)} ms`);
  window.benchResult = {
    browser_worker_hps: one.rate,
    browser_workers_hps: many.rate,
    browser_portable_worker_hps: portable.rate,
    browser_sha2_worker_hps: plain.rate,
    n_workers: N,
    browser_job_switch_ms: cancel,
    simd: one.simd,
  };
  document.getElementById("status").textContent = "done";
} catch (error) {
  window.benchResult = { error: String(error?.message ?? error) };
  document.getElementById("status").textContent = `failed: ${window.benchResult.error}`;
}

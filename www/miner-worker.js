// A mining worker (module worker): hashes the nonce range of the job it is given, in batches of
// about 50 ms, reporting hashes after each batch and yielding to its message queue between
// batches, so a new job or a stop takes effect within one batch.

import { MINER_MODULE, loadWasm } from "./wasm-loader.js";

const BATCH_TARGET_MS = 50;
const BATCH_MIN = 4096;

let wasm;
let current = null; // { id, miner, next, end, batch, mode }

// Yields to the event loop without the 4 ms clamp of setTimeout.
const channel = new MessageChannel();
const yieldNow = () => new Promise((resolve) => {
  channel.port1.onmessage = () => resolve();
  channel.port2.postMessage(0);
});

async function run(job) {
  while (current === job && job.next < job.end) {
    const count = Math.min(job.batch, job.end - job.next);
    const started = performance.now();
    let outcome;
    if (job.mode === "plain") {
      wasm.hash_plain(job.headerHex, count);
      outcome = { nonce: -1, hashes: count };
    } else {
      const result = job.mode === "portable" ? job.miner.search_portable(job.next, count) : job.miner.search(job.next, count);
      outcome = { nonce: result.nonce, hashes: result.hashes };
      result.free();
    }
    const elapsed = performance.now() - started;
    job.next += count;
    // Aim each batch at ~50 ms: fast reports and cancellation, negligible overhead.
    job.batch = Math.max(BATCH_MIN, Math.min(1 << 24, Math.round(count * (BATCH_TARGET_MS / Math.max(elapsed, 1)))));
    self.postMessage({ type: "progress", id: job.id, hashes: outcome.hashes, ms: elapsed });
    if (outcome.nonce >= 0) {
      self.postMessage({ type: "found", id: job.id, nonce: outcome.nonce });
      current = null;
      return;
    }
    await yieldNow();
  }
  if (current === job) {
    self.postMessage({ type: "exhausted", id: job.id });
    current = null;
  }
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === "init") {
      wasm = await loadWasm(new URL(msg.base), MINER_MODULE);
      self.postMessage({ type: "ready", simd: wasm.miner_simd() });
    } else if (msg.type === "job") {
      if (current?.miner) current.miner.free();
      const miner = msg.mode === "plain" ? null : new wasm.Miner(msg.headerHex, msg.targetHex ?? undefined);
      current = { id: msg.id, miner, headerHex: msg.headerHex, next: msg.start, end: msg.start + msg.count, batch: BATCH_MIN * 16, mode: msg.mode ?? "kernel" };
      run(current);
    } else if (msg.type === "stop") {
      current = null;
    }
  } catch (error) {
    self.postMessage({ type: "error", message: String(error?.message ?? error) });
  }
};

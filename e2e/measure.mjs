// Measuring what a run costs: a process's memory from /proc (the relay's RSS), and a page's
// JS heap, wasm memory and storage, with its longest main-thread task. The scale benchmark and
// the soak read them the same way.

import { readFileSync } from "node:fs";

/** A field of /proc/PID/status in bytes (VmRSS, VmHWM). */
export function procBytes(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]) * 1024;
}

// Runs before the page's scripts on every load: the longest task since this load began, and the
// wasm memories the page instantiates.
export const PAGE_PROBE_SCRIPT = `
  window.__probe = { longestTaskMs: 0, longTasks: 0, memories: [] };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.__probe.longTasks += 1;
      window.__probe.longestTaskMs = Math.max(window.__probe.longestTaskMs, entry.duration);
    }
  }).observe({ type: "longtask", buffered: true });
  const keep = (result) => {
    const exports = (result.instance ?? result).exports;
    if (exports?.memory instanceof WebAssembly.Memory) window.__probe.memories.push(exports.memory);
    return result;
  };
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = (...args) => original.apply(WebAssembly, args).then(keep);
  }
`;

/** JS heap used (after a full collection), wasm memory and storage of the page. */
export async function tabMemory(page, cdp) {
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  const { wasm, storage } = await page.evaluate(async () => ({
    wasm: window.__probe.memories.reduce((sum, memory) => sum + memory.buffer.byteLength, 0),
    storage: await navigator.storage.estimate(),
  }));
  return { heap: usedSize, wasm, storage: storage.usageDetails?.indexedDB ?? storage.usage };
}


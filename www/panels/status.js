// The node panel: state, version, height, tip, peers, difficulty, the network's hash rate,
// genesis and which mining kernel this browser runs.

import { byId } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */

/** A hash rate with its unit. */
export function rate(hashesPerSecond) {
  const units = [["GH/s", 1e9], ["MH/s", 1e6], ["kH/s", 1e3]];
  const [unit, scale] = units.find(([, scale]) => hashesPerSecond >= scale) ?? ["H/s", 1];
  return `${(hashesPerSecond / scale).toFixed(2)} ${unit}`;
}

/** @param {PanelContext} context */
export function mount({ wasm, driver }) {
  byId("version").textContent = wasm.version();
  byId("genesis").textContent = wasm.genesis_hash();
  byId("miner-kernel").textContent = wasm.miner_simd()
    ? "SIMD128, four nonces at a time"
    : "scalar fallback: this browser has no WebAssembly SIMD, mining is slower";
  driver.on("status", (/** @type {Status} */ status) => {
    byId("status").textContent = status.state === "syncing" ? `syncing ${status.height} / ${status.best_header_height}` : status.state;
    const dot = { "in sync": "dot-good", stopped: "dot-bad" }[status.state] ?? "dot-idle";
    byId("status-dot").className = `dot ${dot}`;
    byId("height").textContent = status.height;
    byId("tip").textContent = status.tip;
    byId("genesis").textContent = status.genesis;
    byId("peers").textContent = status.peers;
    byId("difficulty").textContent = status.difficulty.toPrecision(4);
    byId("net-hashrate").textContent = rate(status.network_hashrate);
  });
}

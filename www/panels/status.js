// The node panel: its state with the sync's progress and speed (or a snapshot's download), height, peers (and of which
// kind), the network's hash rate, difficulty and tip; below the fold, version, genesis and which
// mining kernel this browser runs.

import { byId, rate, replaceKeepingFocus, shortHash } from "./dom.js";
import { simdSupported } from "../wasm-loader.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */

/** The window over which the sync's speed is measured. */
const SYNC_RATE_WINDOW_MS = 5000;

/** What the status line says for `status`. */
function stateText(/** @type {Status} */ status) {
  if (status.state === "syncing") return `syncing ${status.height} / ${status.best_header_height}`;
  if (status.state === "connecting") return status.peers === 0 && status.height > 0 ? "connecting (offline)" : "connecting";
  return status.state;
}

/** Blocks per second over the last `SYNC_RATE_WINDOW_MS`, from the heights it is fed. */
function syncSpeed() {
  const samples = [];
  return (height) => {
    const now = performance.now();
    samples.push({ now, height });
    while (samples.length > 2 && now - samples[0].now > SYNC_RATE_WINDOW_MS) samples.shift();
    const first = samples[0];
    const seconds = (now - first.now) / 1000;
    return seconds >= 1 ? Math.max(0, height - first.height) / seconds : 0;
  };
}

function peerKinds(/** @type {Status} */ status) {
  const kinds = [status.relay ? "relay" : null, status.tabs ? `${status.tabs} tab${status.tabs === 1 ? "" : "s"} here` : null, status.direct ? `${status.direct} elsewhere` : null];
  return kinds.filter(Boolean).join(", ");
}

/** @param {PanelContext} context */
export function mount({ wasm, driver }) {
  byId("version").textContent = wasm.version();
  // The workers load the SIMD build exactly where the browser validates SIMD.
  byId("miner-kernel").textContent = simdSupported()
    ? "SIMD128, four nonces at a time"
    : "scalar fallback: this browser has no WebAssembly SIMD, mining is slower";
  const speed = syncSpeed();
  let tipShown = null;
  let genesisShown = null;
  driver.on("status", (/** @type {Status} */ status) => {
    byId("status").textContent = stateText(status);
    const dot = { "in sync": "dot-good", stopped: "dot-bad" }[status.state] ?? "dot-idle";
    byId("status-dot").className = `dot ${dot}`;
    const blocksPerS = speed(status.height);
    const behind = Math.max(0, status.best_header_height - status.height);
    const progress = byId("sync-progress");
    progress.max = Math.max(1, status.best_header_height);
    progress.value = status.height;
    const snapshot = status.snapshot;
    byId("sync-label").textContent = snapshot
      ? snapshot.verifying
        ? `verifying a snapshot of ${snapshot.coins} coins at height ${snapshot.base_height}`
        : `joining by snapshot at height ${snapshot.base_height}: ${snapshot.coins} coins in ${snapshot.chunks} chunks so far`
      : status.state === "syncing"
      ? `syncing: ${behind} block${behind === 1 ? "" : "s"} to go (${Math.floor((100 * status.height) / Math.max(1, status.best_header_height))} %)`
      : status.state === "in sync" ? "in sync with its peers" : status.state === "stopped" ? "stopped" : "looking for peers";
    byId("sync-rate").textContent = status.state === "syncing" ? `${blocksPerS.toFixed(1)} blocks/s` : "";
    byId("height").textContent = status.height;
    byId("peers").textContent = status.peers;
    byId("peer-kinds").textContent = peerKinds(status) ? `(${peerKinds(status)})` : "";
    byId("difficulty").textContent = status.difficulty.toPrecision(4);
    byId("net-hashrate").textContent = rate(status.network_hashrate);
    if (tipShown !== status.tip) {
      tipShown = status.tip;
      replaceKeepingFocus(byId("tip"), shortHash(status.tip, { label: "tip block hash", href: `#block/${status.tip}` }));
    }
    if (genesisShown !== status.genesis) {
      genesisShown = status.genesis;
      byId("genesis").replaceChildren(shortHash(status.genesis, { label: "genesis block hash" }));
    }
  });
}

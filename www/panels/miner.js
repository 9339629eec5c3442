// The miner's part of the node panel: this tab's hash rate, the expected time to a block, blocks
// found, the number of workers, and pausing while the tab is hidden.

import { byId, duration, rate } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */

/** @param {PanelContext} context */
export function mount({ driver }) {
  const cores = navigator.hardwareConcurrency || 2;
  const select = byId("workers");
  for (let n = 0; n <= cores; n++) select.add(new Option(n === 0 ? "0 (paused)" : String(n), String(n)));
  select.value = String(driver.workersAsked);
  select.addEventListener("change", () => driver.setWorkers(Number(select.value)));

  const pause = byId("pause-hidden");
  pause.checked = localStorage.getItem("tabchain-pause-hidden") === "1";
  pause.addEventListener("change", () => localStorage.setItem("tabchain-pause-hidden", pause.checked ? "1" : "0"));
  document.addEventListener("visibilitychange", () => {
    if (!pause.checked) return;
    driver.setWorkers(document.hidden ? 0 : Number(select.value));
  });

  driver.on("status", (/** @type {Status} */ status) => {
    byId("hashrate").textContent = status.workers > 0 ? rate(status.hash_rate) : "paused";
    byId("expected").textContent = status.hash_rate > 0 && status.workers > 0
      ? `${duration(status.block_work / status.hash_rate)} at this tab's rate` +
        (status.network_hashrate > 0 ? `; the network: ${duration(status.block_work / status.network_hashrate)}` : "")
      : "— (not mining)";
    byId("found").textContent = status.blocks_found;
  });
}

// The miner panel: this tab's hash rate, the number of workers, the expected time to a block,
// blocks found, and pausing while the tab is hidden.

import { byId } from "./dom.js";
import { rate } from "./status.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */

function duration(seconds) {
  if (seconds < 1) return "under a second";
  if (seconds < 120) return `about ${Math.round(seconds)} s`;
  if (seconds < 7200) return `about ${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `about ${Math.round(seconds / 3600)} h`;
  return `about ${Math.round(seconds / 86400)} days`;
}

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
    byId("hashrate").textContent = rate(status.hash_rate);
    byId("expected").textContent = status.hash_rate > 0 ? duration(status.block_work / status.hash_rate) : "— (not mining)";
    byId("found").textContent = status.blocks_found;
  });
}

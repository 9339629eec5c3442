// The page's notices about this tab's situation, in words: offline (the relay unreachable, with
// the next try and what still works), and other tabs of this browser open (each its own node).
// Failures that stop the node (storage, a crash, a clock far off) are `main.js`'s banners.

import { byId } from "./dom.js";
import { pathToNetwork } from "./peers.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */

function offlineText(/** @type {Status} */ status) {
  const seconds = Math.max(0, Math.ceil((status.relay_retry_at - Date.now()) / 1000));
  const why = navigator.onLine === false ? "This browser is offline" : "The relay cannot be reached";
  const next = seconds > 0 ? `next try in ${seconds} s` : "trying again now";
  const meanwhile = status.tabs + status.direct > 0
    ? `Meanwhile ${pathToNetwork(status).replace(/^the relay is unreachable: /, "")}.`
    : "Mining goes on; blocks found meanwhile reach the network once a link is back.";
  return `${why} (${next}). ${meanwhile}`;
}

function tabsText(/** @type {Status} */ status) {
  const n = status.tabs;
  return `${n} other tab${n === 1 ? "" : "s"} of this browser ${n === 1 ? "is" : "are"} open. Each tab is a node of its own, ` +
    "with its own copy of the chain, its own wallet and key, and its own miner: they link to each other directly, " +
    "and this computer's hash rate is shared between them. Close a tab and the next one opened picks up its wallet.";
}

/** @param {PanelContext} context */
export function mount({ driver }) {
  driver.on("status", (/** @type {Status} */ status) => {
    const offline = byId("offline");
    const isOffline = status.state !== "stopped" && !status.relay && status.relay_retry_at !== null;
    offline.hidden = !isOffline;
    if (isOffline) offline.textContent = offlineText(status);
    const note = byId("tabs-note");
    note.hidden = status.tabs === 0;
    if (status.tabs > 0) note.textContent = tabsText(status);
  });
}

// The fork view: every block this tab holds from the last heights, on every branch; the active
// chain bright, side branches dim, ★ on blocks this tab mined, ⇄ where the node switched.

import { byId, el } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").TreeBlock} TreeBlock */

const FORK_VIEW_HEIGHTS = 12;

/** @param {TreeBlock} b */
function chip(b) {
  const classes = ["b", b.active ? "" : "side", b.invalid ? "bad" : "", b.mine ? "mine" : "", b.switched_here ? "switch" : ""];
  return el("a", {
    href: `#block/${b.hash}`,
    className: classes.filter(Boolean).join(" "),
    textContent: `${b.switched_here ? "⇄ " : ""}${b.mine ? "★ " : ""}${b.hash.slice(0, 10)}… ← ${b.prev.slice(0, 6)}`,
    title: `mined by ${b.mined_by}, ${b.txs} transaction${b.txs === 1 ? "" : "s"}` +
      (b.switched_here ? `; this node switched to this branch here (a reorg of ${b.switched_here})` : ""),
  });
}

/** @param {PanelContext} context */
export function mount({ driver }) {
  driver.on("status", () => {
    /** @type {TreeBlock[]} */
    const blocks = driver.blockTree(FORK_VIEW_HEIGHTS);
    const byHeight = new Map();
    for (const b of blocks) byHeight.set(b.height, [...(byHeight.get(b.height) ?? []), b]);
    const rows = [...byHeight.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([height, list]) => el("div", { className: "row" }, el("span", { className: "h", textContent: `#${height}` }), ...list.map(chip)));
    byId("forks").replaceChildren(...rows);
  });
}

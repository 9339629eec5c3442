// The peers panel: every link this tab's node has — the relay, and the tabs of this browser
// linked directly — with the height each claims, how long the link has been up and its round
// trip; and, in words, whether the tab still reaches the network when the relay is gone.

import { byId, el, replaceKeepingFocus } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").PeerRow} PeerRow */
/** @typedef {import("../protocol.js").Status} Status */

const KIND = { relay: "relay", tab: "tab in this browser", direct: "tab elsewhere (WebRTC)" };

/** A duration in its largest whole unit: "42 s", "3 min", "2 h". */
function age(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/** What the links mean for this tab, in one sentence. */
export function pathToNetwork(/** @type {Status} */ status) {
  const parts = [];
  if (status.tabs > 0) parts.push(`${status.tabs} tab${status.tabs === 1 ? "" : "s"} of this browser`);
  if (status.direct > 0) parts.push(`${status.direct} tab${status.direct === 1 ? "" : "s"} elsewhere`);
  const direct = parts.join(" and ");
  if (status.relay && direct) return `linked to the relay and directly to ${direct}`;
  if (status.relay) return "linked to the relay";
  if (direct) return `the relay is unreachable: blocks and payments still flow directly with ${direct}, and reach the rest of the network when the relay is back`;
  return "no link: waiting for the relay";
}

/** @param {PanelContext} context */
export function mount({ driver }) {
  driver.on("status", (/** @type {Status} */ status) => {
    byId("links").textContent = pathToNetwork(status);
    const now = Date.now();
    const rows = driver.peers().map((/** @type {PeerRow} */ p) =>
      el(
        "tr",
        {},
        el("td", { textContent: KIND[p.kind] }),
        el("td", { className: "mono", textContent: p.height ?? (p.ready ? "—" : "greeting…") }),
        el("td", { className: "mono", textContent: age(now - p.since) }),
        el("td", { className: "mono", textContent: p.rtt_ms === null ? "—" : `${Math.round(p.rtt_ms)} ms` }),
      ),
    );
    replaceKeepingFocus(byId("peer-list"), ...rows);
  });
}

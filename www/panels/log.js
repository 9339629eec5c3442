// The log panel: the newest lines the driver and the other panels log, newest first.

import { byId, el } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */

const LOG_LINES_MAX = 50;

/** @param {PanelContext} context */
export function mount({ driver }) {
  const list = byId("log");
  driver.on("log", (line) => {
    list.prepend(el("li", { textContent: `${new Date().toLocaleTimeString()}  ${line}` }));
    while (list.children.length > LOG_LINES_MAX) list.lastChild.remove();
  });
}

// The explorer pages, drawn from this tab's own node (not the relay): recent blocks, a block
// (header fields, its hash against the target, its transactions), a transaction (the coins it
// spends, its outputs, fee, confirmations), an address, and the mempool with the projected next
// block. Pages are addressed by
// the location hash (#block/<height or hash>, #tx/<txid>, #address/<address>, #mempool), so
// links and the browser's back button work.
//
// A block of the active chain below the node's kept window (its header known, its body pruned)
// is fetched from the relay (`/api/blocks/{hash}/hex`) and shown only once the node has checked
// it against its header chain (`TabNode.fetched_block`), marked as fetched and verified.

import { apiJson } from "../api.js";
import { byId, el, replaceKeepingFocus } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */

const UNITS_PER_TAB = 100_000_000;
const link = (route, text) => el("a", { href: `#${route}`, textContent: text, className: "mono" });
const short = (hash) => `${hash.slice(0, 16)}…`;
/** Base units as TAB, exactly (integer arithmetic; no float rounding), like core's `Amount`. */
const tab = (units) => {
  const fraction = String(units % UNITS_PER_TAB).padStart(8, "0").replace(/0+$/, "");
  return `${Math.floor(units / UNITS_PER_TAB)}${fraction ? `.${fraction}` : ""} TAB`;
};
/** A time as people read it: the time of day when it is today, else the date too. */
const when = (seconds) => {
  const date = new Date(seconds * 1000);
  return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
};

function facts(rows) {
  const list = el("dl", { className: "facts" });
  for (const [name, value] of rows) {
    const dd = el("dd", { className: "mono hash" });
    dd.append(value instanceof Node ? value : String(value));
    list.append(el("dt", { textContent: name }), dd);
  }
  return list;
}

function table(head, rows) {
  const thead = el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { textContent: h, scope: "col" }))));
  const body = el("tbody");
  for (const row of rows) {
    body.append(el("tr", {}, ...row.map((cell) => el("td", {}, cell instanceof Node ? cell : String(cell)))));
  }
  return el("table", { className: "history mono" }, thead, body);
}

function recentPage(node) {
  const blocks = node.recent_blocks();
  return [
    el("h3", { textContent: "Recent blocks" }),
    table(
      ["height", "hash", "txs", "mined by", "time"],
      blocks.map((b) => [link(`block/${b.hash}`, String(b.height)), link(`block/${b.hash}`, short(b.hash)), b.txids.length, short(b.mined_by), when(b.time)]),
    ),
  ];
}

function blockPage(b) {
  // The hash is a number that must not exceed the target: shown one above the other, the
  // leading zeros say how far below it landed.
  const pow = el("div", { className: "pow mono" },
    el("div", {}, el("span", { textContent: "hash   " }), b.hash),
    el("div", {}, el("span", { textContent: "target " }), b.target));
  return [
    el("h3", { textContent: `Block ${b.height}${b.active ? "" : " (side branch)"}` }),
    facts([
      ["Hash", b.hash],
      ["Confirmations", b.active ? b.confirmations : "0 — not on the active chain"],
      ["Previous", link(`block/${b.prev_hash}`, b.prev_hash)],
      ["Merkle root", b.merkle_root],
      ["Time", `${when(b.time)} (${b.time})`],
      ["Bits", b.bits],
      ["Nonce", b.nonce],
      ["Difficulty", b.difficulty.toPrecision(6)],
      ["Size", `${b.size_bytes} bytes`],
      ["Mined by", link(`address/${b.mined_by}`, b.mined_by)],
      ["Proof of work", pow],
    ]),
    el("h3", { textContent: `${b.txids.length} transaction${b.txids.length === 1 ? "" : "s"}` }),
    el("ol", { className: "mono txlist" }, ...b.txids.map((txid) => el("li", {}, link(`tx/${txid}`, txid)))),
  ];
}

function txPage(t) {
  const inputs = t.inputs.map((i) =>
    i.coinbase
      ? ["coinbase (new coins)", "", ""]
      : [link(`tx/${i.txid}`, `${short(i.txid)}:${i.vout}`), i.spends ? link(`address/${i.spends.address}`, short(i.spends.address)) : "?", i.spends ? `${i.spends.amount} TAB` : "?"],
  );
  const outputs = t.outputs.map((o, n) => [String(n), link(`address/${o.address}`, o.address), `${o.amount} TAB`]);
  return [
    el("h3", { textContent: "Transaction" }),
    facts([
      ["Txid", t.txid],
      ["Status", t.status === "confirmed" ? `confirmed, ${t.confirmations} confirmation${t.confirmations === 1 ? "" : "s"}` : "in the mempool, unconfirmed"],
      ["Block", t.block ? link(`block/${t.block}`, `${t.height} · ${short(t.block)}`) : "—"],
      ["Fee", t.fee_units === null ? "none (coinbase)" : `${tab(t.fee_units)} (${Math.round((t.fee_units * 1000) / t.size_bytes)} units/kB)`],
      ["Size", `${t.size_bytes} bytes`],
    ]),
    el("h3", { textContent: "Inputs" }),
    table(["spends", "from", "amount"], inputs),
    el("h3", { textContent: "Outputs" }),
    table(["#", "to", "amount"], outputs),
  ];
}

function addressPage(a) {
  return [
    el("h3", { textContent: "Address" }),
    facts([
      ["Address", a.address],
      ["Confirmed", tab(a.confirmed_units)],
      ["Immature", tab(a.immature_units)],
      ["Pending", tab(a.pending_units)],
    ]),
    el("h3", { textContent: "History" }),
    table(
      ["transaction", "height", "received", "sent"],
      a.history.map((h) => [link(`tx/${h.txid}`, short(h.txid)), h.height ?? "pending", tab(h.received_units), tab(h.sent_units)]),
    ),
  ];
}

/** The mempool and the block a miner would make from it now (core's `fees` view). */
function mempoolPage(m, /** @type {import("../protocol.js").Fees} */ fees) {
  const next = fees.next_block;
  const perByte = (unitsPerKb) => `${unitsPerKb / 1000} units/byte`;
  return [
    el("h3", { textContent: `Mempool: ${m.txs} transaction${m.txs === 1 ? "" : "s"}, ${m.bytes} bytes` }),
    el("p", {
      id: "next-block",
      textContent: next.txs === 0
        ? "Projected next block: empty (only its coinbase)."
        : `Projected next block: ${next.txs} transaction${next.txs === 1 ? "" : "s"}, ${next.bytes} bytes, ` +
          `fee rates ${perByte(next.fee_rate_min)} to ${perByte(next.fee_rate_max)}, ${tab(next.fee_units)} in fees` +
          (fees.blocks_projected > 1 ? `; the mempool fills ${fees.blocks_projected >= 7 ? "7 or more" : fees.blocks_projected} blocks.` : "."),
    }),
    el("p", { textContent: `Fee tiers: ${fees.tiers.map((t) => `${t.tier.replaceAll("_", " ")} ${perByte(t.fee_rate_units_per_kb)}`).join(" · ")}` }),
    el("h3", { textContent: "Next block (projected)" }),
    table(
      ["transaction", "fee", "size", "units/kB"],
      next.top.map((t) => [link(`tx/${t.txid}`, short(t.txid)), tab(t.fee_units), t.size_bytes, t.fee_rate_units_per_kb]),
    ),
    el("h3", { textContent: "Best-paying in the mempool" }),
    table(
      ["transaction", "fee", "size", "units/kB"],
      m.top.map((t) => [link(`tx/${t.txid}`, short(t.txid)), tab(t.fee_units), t.size_bytes, t.fee_rate_units_per_kb]),
    ),
  ];
}

/** The last block fetched that checked out (its hash and hex), so that redrawing on a new tip
 * fetches nothing. */
let lastFetched = { hash: null, hex: null };

/** A pruned block's page: fetched from the relay, checked by the node (each time), then drawn. */
async function fetchedBlockPage(node, hash) {
  let hex = lastFetched.hash === hash ? lastFetched.hex : null;
  if (hex === null) {
    hex = (await apiJson(`./api/blocks/${hash}/hex`)).hex;
  }
  const { block, verified } = node.fetched_block(hash, hex); // throws unless it checks out
  lastFetched = { hash, hex };
  return [el("p", { id: "fetched-verified", className: "result ok", textContent: `✓ ${verified}` }), ...blockPage(block)];
}

/**
 * The page for `route` (a location hash without `#`), drawn from `node` (a wasm `TabNode`);
 * a promise of it for a pruned block, fetched first.
 */
function explorerPage(node, route) {
  const [kind, id] = route.split("/", 2).map(decodeURIComponent);
  try {
    if (kind === "mempool") return mempoolPage(node.mempool(), node.fees());
    const pruned = kind === "block" && id ? node.pruned_block(id) : undefined;
    if (pruned !== undefined) {
      return fetchedBlockPage(node, pruned).catch((error) => [
        el("p", { className: "result error", textContent: `${id}: not shown, ${error?.message ?? error}` }),
      ]);
    }
    if (["block", "tx", "address"].includes(kind) && id) {
      const found = node.search(id);
      if (found.kind === "block") return blockPage(found.view);
      if (found.kind === "tx") return txPage(found.view);
      return addressPage(found.view);
    }
    return recentPage(node);
  } catch (error) {
    return [el("p", { className: "result error", textContent: `${id ?? route}: ${error?.message ?? error}` })];
  }
}

/** Whether `route` (a location hash without `#`) is an explorer page, not an anchor elsewhere. */
const isRoute = (route) => route === "" || route === "mempool" || /^(block|tx|address)\/./.test(route);

/** The route a search box query leads to, or throws why the node has nothing by that name. */
function routeFor(node, query) {
  const q = query.trim();
  if (q === "") return "";
  if (q.toLowerCase() === "mempool") return "mempool";
  const pruned = node.pruned_block(q);
  if (pruned !== undefined) return `block/${pruned}`;
  const found = node.search(q);
  return `${found.kind}/${found.kind === "block" ? found.view.hash : q}`;
}

/** @param {PanelContext} context */
export function mount({ driver }) {
  let drawn = 0; // the latest draw wins over a slower fetch started before it
  const draw = async () => {
    const id = (drawn += 1);
    const page = explorerPage(driver.node, location.hash.slice(1));
    if (page instanceof Promise) byId("explorer-page").replaceChildren(el("p", { textContent: "fetching the block from the relay…" }));
    const children = await page;
    if (id === drawn) replaceKeepingFocus(byId("explorer-page"), ...children);
  };
  byId("search").addEventListener("submit", (event) => {
    event.preventDefault();
    try {
      const route = routeFor(driver.node, byId("search-q").value);
      byId("search-error").textContent = "";
      if (location.hash.slice(1) === route) draw();
      else location.hash = route;
      byId("explorer-title").scrollIntoView({ block: "start" });
      byId("explorer-title").focus({ preventScroll: true });
    } catch (error) {
      byId("search-error").textContent = error?.message ?? String(error);
    }
  });
  window.addEventListener("hashchange", () => {
    if (!isRoute(location.hash.slice(1))) return; // an anchor elsewhere on the page
    draw();
    if (location.hash) byId("explorer-title").scrollIntoView({ block: "start" });
  });
  // The first page is drawn in a task of its own, once the node has started: it is below the
  // fold, and its first date loads the browser's locale data (some 15 ms on a slow machine).
  setTimeout(() => {
    if (isRoute(location.hash.slice(1))) draw();
    else byId("explorer-page").replaceChildren(...recentPage(driver.node));
  }, 0);
  // The recent list and the mempool move with the chain; a block or tx page stays put except
  // for its confirmations, so every page is redrawn on a new tip.
  driver.on("status", (_, { tipChanged }) => tipChanged && isRoute(location.hash.slice(1)) && draw());
}

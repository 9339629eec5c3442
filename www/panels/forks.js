// The block tree: a live SVG drawing of every block this tab holds from the last heights, on
// every branch. Heights run left to right; the active chain is the top row, drawn solid with
// green links; side branches below it, dashed. Each block is coloured and marked by who mined
// it (★ this tab, ◆ another tab, ■ a native miner, ● untagged: its coinbase's tag, core's
// `miner_tag`), "⇄ n" marks where the node switched branches in a reorg of n blocks, and each
// block links to its explorer page.
//
// Blocks and links are keyed by hash and moved, added or removed in place, so a redraw touches
// only what changed: blocks arriving ten a second cost a few attributes each, not a new drawing,
// and it is redrawn at most at the driver's report rate (four times a second).

import { byId, svgEl } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").TreeBlock} TreeBlock */

const COLUMN_PX = 48;
const ROW_PX = 34;
const BLOCK_W = 36;
const BLOCK_H = 22;
/** Room above the top row for reorg marks, and below the last for heights. */
const TOP_PX = 22;
const BOTTOM_PX = 18;
const LEFT_PX = 6;
/** Heights drawn: as many as fit the card, within these. */
const HEIGHTS_MIN = 6;
const HEIGHTS_MAX = 60;
/** Side-branch rows drawn at most (more branches share the last). */
const LANES_MAX = 6;

/** Who mined `b`: the class and glyph the drawing and its legend use. */
export function minedBy(/** @type {TreeBlock} */ b) {
  if (b.mine) return { kind: "by-me", glyph: "★", words: "this tab" };
  if (b.miner_tag?.startsWith("tabchain-web")) return { kind: "by-tab", glyph: "◆", words: "another tab" };
  if (b.miner_tag) return { kind: "by-native", glyph: "■", words: `a native miner (${b.miner_tag})` };
  return { kind: "by-unknown", glyph: "●", words: "an untagged miner" };
}

/**
 * Rows for `blocks` (lowest first): the active chain on row 0; a side block on its parent's row
 * when free, else on the first free row below.
 */
function layout(blocks) {
  const row = new Map();
  const taken = new Set();
  const ordered = [...blocks].sort((a, b) => a.height - b.height || Number(b.active) - Number(a.active));
  for (const b of ordered) {
    let lane = 0;
    if (!b.active) {
      const parentLane = row.get(b.prev);
      lane = parentLane > 0 && !taken.has(`${parentLane}:${b.height}`) ? parentLane : 1;
      while (lane < LANES_MAX && taken.has(`${lane}:${b.height}`)) lane += 1;
    }
    row.set(b.hash, lane);
    taken.add(`${lane}:${b.height}`);
  }
  return row;
}

/** The drawing's state: one `<a>` per block and one path per link, by the child's hash. */
class TreeDrawing {
  constructor(svg) {
    this.svg = svg;
    this.edges = svgEl("g", { class: "edges" });
    this.blocks = svgEl("g", { class: "blocks" });
    this.heights = svgEl("g", { class: "heights" });
    svg.append(this.edges, this.heights, this.blocks);
    /** @type {Map<string, {a: SVGElement, title: SVGElement, mark: SVGElement, key: string}>} */
    this.shown = new Map();
    /** @type {Map<string, SVGElement>} */
    this.links = new Map();
    this.firstDraw = true;
  }

  /** Draws `blocks` (a `block_tree`), touching only what changed since the last call. */
  draw(blocks) {
    if (blocks.length === 0) return;
    const lowest = Math.min(...blocks.map((b) => b.height));
    const highest = Math.max(...blocks.map((b) => b.height));
    const rows = layout(blocks);
    const nLanes = Math.max(...rows.values()) + 1;
    const x = (b) => LEFT_PX + (b.height - lowest) * COLUMN_PX;
    const y = (b) => TOP_PX + rows.get(b.hash) * ROW_PX;
    const width = LEFT_PX * 2 + (highest - lowest) * COLUMN_PX + BLOCK_W;
    const height = TOP_PX + nLanes * ROW_PX + BOTTOM_PX - (ROW_PX - BLOCK_H);
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);

    const byHash = new Map(blocks.map((b) => [b.hash, b]));
    for (const [hash, shown] of this.shown) {
      if (!byHash.has(hash)) {
        shown.a.remove();
        this.shown.delete(hash);
      }
    }
    for (const [hash, path] of this.links) {
      if (!byHash.has(hash) || !byHash.has(byHash.get(hash).prev)) {
        path.remove();
        this.links.delete(hash);
      }
    }
    for (const b of blocks) {
      this.#block(b, x(b), y(b));
      const parent = byHash.get(b.prev);
      if (parent) this.#link(b, x(parent) + BLOCK_W, y(parent) + BLOCK_H / 2, x(b), y(b) + BLOCK_H / 2);
    }
    this.#heights(lowest, highest, TOP_PX + nLanes * ROW_PX - (ROW_PX - BLOCK_H) + 12, (h) => LEFT_PX + (h - lowest) * COLUMN_PX + BLOCK_W / 2);
    this.firstDraw = false;
  }

  #block(/** @type {TreeBlock} */ b, x, y) {
    const who = minedBy(b);
    const classes = ["block", b.active ? "active" : "side", who.kind, b.invalid ? "invalid" : ""].filter(Boolean).join(" ");
    const words = `block ${b.height}, mined by ${who.words}, ${b.txs} transaction${b.txs === 1 ? "" : "s"}` +
      `${b.active ? ", on the active chain" : ", on a side branch"}${b.invalid ? ", invalid" : ""}` +
      (b.switched_here ? `; the node switched to this branch here, a reorg of ${b.switched_here} block${b.switched_here === 1 ? "" : "s"}` : "");
    const key = `${classes}|${x}|${y}|${words}`;
    let shown = this.shown.get(b.hash);
    if (shown?.key === key) return;
    if (!shown) {
      const a = svgEl("a", { href: `#block/${b.hash}`, "data-hash": b.hash });
      const title = svgEl("title");
      const rect = svgEl("rect", { width: BLOCK_W, height: BLOCK_H, rx: 4 });
      const glyph = svgEl("text", { x: BLOCK_W / 2, y: BLOCK_H / 2 });
      const mark = svgEl("text", { class: "reorg-mark", x: BLOCK_W / 2, y: -6 });
      a.append(title, rect, glyph, mark);
      if (!this.firstDraw) a.classList.add("new");
      this.blocks.append(a);
      shown = { a, title, mark, key: "" };
      this.shown.set(b.hash, shown);
    }
    shown.key = key;
    shown.a.setAttribute("class", `${classes}${shown.a.classList.contains("new") ? " new" : ""}`);
    shown.a.setAttribute("transform", `translate(${x} ${y})`);
    shown.a.setAttribute("aria-label", words);
    shown.title.textContent = `${words}\n${b.hash}`;
    shown.a.querySelector("text:not(.reorg-mark)").textContent = b.invalid ? "✕" : who.glyph;
    shown.mark.textContent = b.switched_here ? `⇄ ${b.switched_here}` : "";
  }

  #link(/** @type {TreeBlock} */ b, x1, y1, x2, y2) {
    let path = this.links.get(b.hash);
    if (!path) {
      path = svgEl("path");
      this.links.set(b.hash, path);
      this.edges.append(path);
    }
    const mid = (x1 + x2) / 2;
    path.setAttribute("d", `M${x1} ${y1}C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}`);
    path.setAttribute("class", b.active ? "edge active" : "edge");
  }

  #heights(lowest, highest, y, xOf) {
    const key = `${lowest}|${highest}|${y}`;
    if (this.heightsKey === key) return;
    this.heightsKey = key;
    const every = String(highest).length > 5 ? 2 : 1;
    const labels = [];
    for (let h = highest; h >= lowest; h -= every) labels.push(svgEl("text", { class: "height", x: xOf(h), y }, String(h)));
    this.heights.replaceChildren(...labels);
  }
}

/** @param {PanelContext} context */
export function mount({ driver }) {
  const svg = byId("forks");
  const drawing = new TreeDrawing(svg);
  const scroller = svg.parentElement;
  const heightsShown = () => Math.min(HEIGHTS_MAX, Math.max(HEIGHTS_MIN, Math.floor((scroller.clientWidth - BLOCK_W) / COLUMN_PX) + 1));
  const redraw = () => {
    /** @type {TreeBlock[]} */
    const blocks = driver.blockTree(heightsShown() - 1);
    drawing.draw(blocks);
    const sides = blocks.filter((b) => !b.active).length;
    const reorgs = blocks.filter((b) => b.switched_here > 0);
    byId("tree-summary").textContent = `${blocks.length} blocks drawn, ${sides} on side branches` +
      (reorgs.length ? `; reorgs: ${reorgs.map((b) => `${b.switched_here} at height ${b.height}`).join(", ")}` : "; no reorg in view") + ".";
  };
  // Every report (at most four a second), not only on a new tip: a side block changes no tip.
  driver.on("status", redraw);
  window.addEventListener("resize", redraw);
}

// Charts over time, hand-drawn SVG from the tab's own data: this tab's and the network's
// estimated hash rate over the last 10 minutes (sampled from the driver's reports), and the last
// 100 blocks' intervals with their difficulty and the target spacing (core's `block_timing`),
// where ASERT can be seen raising the difficulty after fast blocks and lowering it after slow
// ones. Each chart has a text summary for screen readers.

import { byId, duration, rate, svgEl } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */
/** @typedef {import("../protocol.js").BlockTiming} BlockTiming */

const HASHRATE_WINDOW_MS = 10 * 60 * 1000;
/** One hash-rate sample a second at most: 600 over the window. */
const SAMPLE_INTERVAL_MS = 1000;
const TIMING_BLOCKS = 100;
/** The block chart is redrawn at most this often (a sync brings many tips a second). */
const TIMING_REDRAW_MS = 1000;
const CHART_H = 118;
const PAD = { top: 14, bottom: 14, left: 4, right: 4 };

/** The chart's drawing width: its width on the page, so that text is not stretched. */
const widthOf = (svg) => Math.max(120, Math.round(svg.clientWidth || 400));

/** A polyline's `d` for `points` ([x, y] in chart units). */
const pathOf = (points) => points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)} ${y.toFixed(1)}`).join("");

function label(x, y, text, anchor = "start") {
  return svgEl("text", { class: "axis", x, y, "text-anchor": anchor }, text);
}

function drawHashrate(svg, samples) {
  const w = widthOf(svg);
  const now = performance.now();
  const max = Math.max(1, ...samples.map((s) => Math.max(s.own, s.net))) * 1.15;
  const xOf = (t) => PAD.left + ((t - (now - HASHRATE_WINDOW_MS)) / HASHRATE_WINDOW_MS) * (w - PAD.left - PAD.right);
  const yOf = (v) => CHART_H - PAD.bottom - (v / max) * (CHART_H - PAD.top - PAD.bottom);
  svg.setAttribute("viewBox", `0 0 ${w} ${CHART_H}`);
  svg.replaceChildren(
    svgEl("line", { class: "grid", x1: 0, x2: w, y1: yOf(0), y2: yOf(0) }),
    svgEl("path", { class: "net", d: pathOf(samples.map((s) => [xOf(s.t), yOf(s.net)])) }),
    svgEl("path", { class: "own", d: pathOf(samples.map((s) => [xOf(s.t), yOf(s.own)])) }),
    label(PAD.left + 2, 11, rate(max / 1.15)),
    label(PAD.left + 2, CHART_H - 3, "10 min ago"),
    label(w - PAD.right - 2, CHART_H - 3, "now", "end"),
  );
  const last = samples.at(-1);
  byId("chart-hashrate-desc").textContent = last
    ? `This tab mines at ${rate(last.own)}; the network's estimated hash rate is ${rate(last.net)}.`
    : "No samples yet.";
}

function drawBlocks(svg, /** @type {BlockTiming[]} */ timing, targetS) {
  const w = widthOf(svg);
  svg.setAttribute("viewBox", `0 0 ${w} ${CHART_H}`);
  if (timing.length === 0) {
    svg.replaceChildren(label(w / 2, CHART_H / 2, "no blocks yet", "middle"));
    return;
  }
  const intervals = timing.map((t) => Math.max(0, t.interval_s));
  const sorted = [...intervals].sort((a, b) => a - b);
  // Scale to the 95th percentile (and at least three target spacings): one stalled block should
  // not flatten the rest; taller bars are cut at the top.
  const maxS = Math.max(targetS * 3, sorted[Math.floor(sorted.length * 0.95)] ?? 1, 1);
  const plotH = CHART_H - PAD.top - PAD.bottom;
  const step = (w - PAD.left - PAD.right) / TIMING_BLOCKS;
  const xOf = (i) => PAD.left + (TIMING_BLOCKS - timing.length + i) * step;
  const yOf = (s) => CHART_H - PAD.bottom - (Math.min(s, maxS) / maxS) * plotH;
  const bars = timing.map((t, i) =>
    svgEl("rect", { class: intervals[i] > targetS * 2 ? "bar late" : "bar", x: xOf(i) + 0.5, y: yOf(intervals[i]), width: Math.max(1, step - 1), height: CHART_H - PAD.bottom - yOf(intervals[i]) }));
  const diffs = timing.map((t) => t.difficulty);
  const [dMin, dMax] = [Math.min(...diffs), Math.max(...diffs)];
  const span = dMax - dMin || dMax || 1;
  const dY = (d) => CHART_H - PAD.bottom - ((d - dMin) / span) * plotH * 0.9 - plotH * 0.05;
  svg.replaceChildren(
    ...bars,
    svgEl("line", { class: "target", x1: 0, x2: w, y1: yOf(targetS), y2: yOf(targetS) }),
    svgEl("path", { class: "diff", d: pathOf(timing.map((t, i) => [xOf(i) + step / 2, dY(t.difficulty)])) }),
    label(PAD.left + 2, 11, `${Math.round(maxS)} s`),
    label(w - PAD.right - 2, 11, `difficulty ${dMax.toPrecision(3)}`, "end"),
    label(PAD.left + 2, CHART_H - 3, `#${timing[0].height}`),
    label(w - PAD.right - 2, CHART_H - 3, `#${timing.at(-1).height}`, "end"),
  );
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  byId("chart-blocks-desc").textContent = `The last ${timing.length} blocks came ${duration(mean)} apart on average (target ${targetS} s); ` +
    `difficulty went from ${timing[0].difficulty.toPrecision(3)} to ${timing.at(-1).difficulty.toPrecision(3)}.`;
}

/** @param {PanelContext} context */
export function mount({ driver }) {
  const samples = [];
  let lastSample = -Infinity;
  let lastTiming = -Infinity;
  let timingDue = true;
  const targetS = driver.node.target_spacing_s();
  const drawTiming = () => {
    timingDue = false;
    lastTiming = performance.now();
    drawBlocks(byId("chart-blocks"), driver.blockTiming(TIMING_BLOCKS), targetS);
  };
  driver.on("status", (/** @type {Status} */ status, { tipChanged }) => {
    const now = performance.now();
    if (now - lastSample >= SAMPLE_INTERVAL_MS) {
      lastSample = now;
      samples.push({ t: now, own: status.workers > 0 ? status.hash_rate : 0, net: status.network_hashrate });
      while (samples.length > 0 && samples[0].t < now - HASHRATE_WINDOW_MS) samples.shift();
      drawHashrate(byId("chart-hashrate"), samples);
    }
    timingDue ||= tipChanged;
    if (timingDue && now - lastTiming >= TIMING_REDRAW_MS) drawTiming();
  });
  window.addEventListener("resize", () => {
    drawHashrate(byId("chart-hashrate"), samples);
    drawTiming();
  });
}

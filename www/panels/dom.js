// The few DOM helpers the panels share: elements by id, new elements (HTML and SVG), a shortened
// hash with its full value on hover or focus and a copy button, and copying to the clipboard.

/** The element with `id` (the page's ids are its contract with the panels and the tests). */
export const byId = (id) => document.getElementById(id);

/** A new `tag` element with `props` assigned and `children` appended (null ones skipped). */
export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

const SVG_NS = "http://www.w3.org/2000/svg";

/** A new SVG `tag` element with `attributes` set (SVG takes attributes, not properties). */
export const svgEl = (tag, attributes = {}, ...children) => {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

/** How long "Copied" shows on a copy button. */
const COPIED_SHOWN_MS = 1500;

/** Copies `text`, saying so on `button` for a moment (or that the browser refused). */
export async function copyText(text, button) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy";
  }
  setTimeout(() => (button.textContent = label), COPIED_SHOWN_MS);
}

/** `value` cut to its first `head` and last `tail` characters. */
export const shorten = (value, head = 8, tail = 6) =>
  value.length > head + tail + 1 ? `${value.slice(0, head)}…${value.slice(-tail)}` : value;

/** What can hold keyboard focus inside a redrawn part of the page. */
const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

/**
 * Replaces the children of `holder`, as `replaceChildren` does, but a keyboard user whose
 * focus was inside stays at the same place: the control at the same position among the new
 * ones. Parts redrawn on every block (the tip, the explorer's page) would otherwise drop the
 * focus to the top of the page each time.
 */
export function replaceKeepingFocus(holder, ...children) {
  const before = [...holder.querySelectorAll(FOCUSABLE)].indexOf(document.activeElement);
  holder.replaceChildren(...children);
  if (before >= 0) holder.querySelectorAll(FOCUSABLE)[before]?.focus({ preventScroll: true });
}

/**
 * A hash (or address) shortened, its full value shown on hover or keyboard focus and given to
 * screen readers as its description, with a copy button unless `copy` is false (labelled with
 * `label`); a link when `href` is given.
 */
export function shortHash(value, { label = "hash", href = null, copy = true } = {}) {
  const text = shorten(value);
  const shown = href ? el("a", { href, textContent: text }) : el("code", { textContent: text, tabIndex: 0 });
  // The full value as its description (read out after the short text), so that the name
  // stays the text shown.
  shown.title = value;
  const full = el("span", { className: "full", textContent: value });
  full.setAttribute("aria-hidden", "true");
  const parts = [shown, full];
  if (copy) {
    const button = el("button", { type: "button", className: "copy", textContent: "Copy" });
    button.setAttribute("aria-label", `Copy the ${label}`);
    button.addEventListener("click", () => copyText(value, button));
    parts.push(button);
  }
  return el("span", { className: "short" }, ...parts);
}

/** A hash rate with its unit. */
export function rate(hashesPerSecond) {
  const units = [["GH/s", 1e9], ["MH/s", 1e6], ["kH/s", 1e3]];
  const [unit, scale] = units.find(([, scale]) => hashesPerSecond >= scale) ?? ["H/s", 1];
  return `${(hashesPerSecond / scale).toFixed(2)} ${unit}`;
}

/** A duration in words: "under a second", "about 42 s", "about 3 min", … */
export function duration(seconds) {
  if (seconds < 1) return "under a second";
  if (seconds < 120) return `about ${Math.round(seconds)} s`;
  if (seconds < 7200) return `about ${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `about ${Math.round(seconds / 3600)} h`;
  return `about ${Math.round(seconds / 86400)} days`;
}

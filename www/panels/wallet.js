// The wallet panel: address (text and QR code), balances, the send form and the history; and
// its backup: the key as a file or 24 words, import of either, and the reminder shown while a
// wallet with coins has no backup. Imports report in the backup's own result element.

import { byId, el } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */
/** @typedef {import("../protocol.js").HistoryRow} HistoryRow */

/** How long "Copied" shows on the copy button. */
const COPIED_SHOWN_MS = 1500;

/** The key in a backup file: the `key:` line of an exported file, or the whole text. */
const keyInFile = (text) => text.match(/key:\s*([0-9a-fA-F]{64})/)?.[1] ?? text.trim();

/** @param {PanelContext} context */
export function mount(context) {
  const backup = mountBackup(context);
  mountSend(context);
  mountCopy(context);
  context.driver.on("status", (/** @type {Status} */ status) => {
    if (status.address && byId("address").textContent !== status.address) {
      byId("address").textContent = status.address;
      byId("address-qr").innerHTML = context.wasm.qr_svg(status.address); // our own SVG, from our own address
    }
    byId("backup-reminder").hidden = backup.done() || status.confirmed === "0";
    byId("confirmed").textContent = `${status.confirmed} TAB`;
    byId("immature").textContent = `${status.immature} TAB`;
    byId("pending").textContent = `${status.pending} TAB`;
    const rows = context.driver.history();
    byId("history").replaceChildren(...rows.map(historyRow));
    const all = context.driver.historyLength();
    byId("history-count").textContent = all > rows.length ? `the newest ${rows.length} rows; ${all} confirmed transactions in all` : "";
  });
}

/** @param {HistoryRow} tx */
function historyRow(tx) {
  const cells = [`${tx.txid.slice(0, 16)}…${tx.coinbase ? " (mined)" : ""}`, tx.received, tx.sent, tx.height === null ? "pending" : tx.confirmations];
  return el("tr", {}, ...cells.map((text) => el("td", { textContent: String(text) })));
}

/** @param {PanelContext} context */
function mountSend({ driver }) {
  byId("send").addEventListener("submit", (event) => {
    event.preventDefault();
    const result = byId("send-result");
    try {
      const txid = driver.pay(byId("send-to").value.trim(), byId("send-amount").value.trim(), Number(byId("send-fee").value));
      result.textContent = `sent: ${txid}`;
      driver.log(`payment ${txid.slice(0, 16)}… submitted`);
    } catch (error) {
      result.textContent = `not sent: ${error?.message ?? error}`;
    }
  });
}

/** @param {PanelContext} context */
function mountCopy({ driver }) {
  const button = byId("copy-address");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(driver.status().address);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
    setTimeout(() => (button.textContent = "Copy"), COPIED_SHOWN_MS);
  });
}

/**
 * The key backup; returns `{done}`, whether this key was backed up (in this browser).
 * @param {PanelContext} context
 */
function mountBackup({ wasm, driver, identity, setSeed }) {
  const flag = `tabchain-backed-up-${identity.id}`;
  const done = () => localStorage.getItem(flag) === identity.seed;
  const markDone = () => {
    localStorage.setItem(flag, identity.seed);
    byId("backup-reminder").hidden = true;
  };
  const result = byId("backup-result");
  /** Replaces the key and reloads with it (`then` runs first), or says why not. */
  const restore = (readKey, then = () => {}) => {
    try {
      setSeed(readKey());
      then();
      location.reload();
    } catch (error) {
      result.textContent = `not imported: ${error?.message ?? error}`;
    }
  };
  byId("key-words-show").addEventListener("click", () => {
    const box = byId("key-words");
    box.hidden = !box.hidden;
    box.textContent = box.hidden ? "" : wasm.key_to_words(identity.seed);
    byId("key-words-show").textContent = box.hidden ? "Show backup words" : "Hide words";
    if (!box.hidden) markDone();
  });
  byId("key-words-import").addEventListener("submit", (event) => {
    event.preventDefault();
    restore(() => wasm.words_to_key(byId("key-words-input").value), markDone);
  });
  byId("key-export").addEventListener("click", () => {
    markDone();
    const address = driver.status().address;
    const text = `tabchain wallet key\naddress: ${address}\nkey: ${identity.seed}\nwords: ${wasm.key_to_words(identity.seed)}\n` +
      "Anyone with this key can spend the coins. Keep it private.\n";
    const link = el("a", {
      href: URL.createObjectURL(new Blob([text], { type: "text/plain" })),
      download: `tabchain-key-${address.slice(0, 16)}.txt`,
    });
    link.click();
    URL.revokeObjectURL(link.href);
  });
  byId("key-import").addEventListener("change", async (event) => {
    const input = event.target;
    const file = input.files?.[0];
    if (!file) return;
    const text = await file.text(); // read once
    input.value = ""; // so that choosing the same file again is a change
    restore(() => keyInFile(text));
  });
  return { done };
}

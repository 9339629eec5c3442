// The wallet panel: address (text and QR code), balances, the send form with its fee tiers
// (core's, from the mempool: each with its rate and the fee this payment would pay) and the
// history; and its backup: the key as a file or 24 words, import of either, and the reminder
// shown while a wallet with coins has no backup. Imports report in the backup's own result element.

import { byId, copyText, el, replaceKeepingFocus, shortHash } from "./dom.js";

/** @typedef {import("../protocol.js").PanelContext} PanelContext */
/** @typedef {import("../protocol.js").Status} Status */
/** @typedef {import("../protocol.js").HistoryRow} HistoryRow */

/** The tiers' names in the form, by core's `FeeTierView.tier`. */
const TIER_NAMES = { next_block: "Next block", within_6_blocks: "Within ~6 blocks", minimum: "Minimum" };
/** The tier chosen until the user picks another. */
const TIER_DEFAULT = "next_block";

/** The key in a backup file: the `key:` line of an exported file, or the whole text. */
const keyInFile = (text) => text.match(/key:\s*([0-9a-fA-F]{64})/)?.[1] ?? text.trim();

/** @param {PanelContext} context */
export function mount(context) {
  const backup = mountBackup(context);
  const tiers = mountSend(context);
  mountCopy(context);
  let addressShown = null;
  let mempoolSeen = null;
  context.driver.on("status", (/** @type {Status} */ status, { tipChanged }) => {
    if (status.address && addressShown !== status.address) {
      addressShown = status.address;
      byId("address").replaceChildren(shortHash(status.address, { label: "address", copy: false }));
      byId("address-qr").innerHTML = context.wasm.qr_svg(status.address); // our own SVG, from our own address
    }
    const mempool = `${status.mempool_txs}/${status.mempool_bytes}`;
    if (tipChanged || mempool !== mempoolSeen) {
      mempoolSeen = mempool;
      tiers.refresh();
    }
    byId("backup-reminder").hidden = backup.done() || status.confirmed === "0";
    byId("confirmed").textContent = `${status.confirmed} TAB`;
    byId("immature").textContent = `${status.immature} TAB`;
    byId("pending").textContent = `${status.pending} TAB`;
    const rows = context.driver.history();
    replaceKeepingFocus(byId("history"), ...rows.map(historyRow), ...context.driver.provenHistory.map(provenRow));
    const all = context.driver.historyLength();
    byId("history-count").textContent = all > rows.length ? `the newest ${rows.length} rows; ${all} confirmed transactions in all` : "";
  });
}

/** @param {HistoryRow} tx */
function historyRow(tx) {
  const cells = [`${tx.txid.slice(0, 16)}…${tx.coinbase ? " (mined)" : ""}`, tx.received, tx.sent, tx.height === null ? "pending" : tx.confirmations];
  return el("tr", {}, ...cells.map((text) => el("td", { textContent: String(text) })));
}

/**
 * An entry below the blocks this node holds, proven against its headers: what it received is
 * read from the proven transaction; what it spent is not proven, so it is not shown.
 * @param {import("../protocol.js").ProvenTx} tx
 */
function provenRow(tx) {
  const txid = el("td", { textContent: `${tx.txid.slice(0, 16)}… ✓ proven`, title: tx.verified });
  const cells = [tx.received, "—", tx.confirmations].map((text) => el("td", { textContent: String(text) }));
  return el("tr", { className: "proven" }, txid, ...cells);
}

/**
 * The fee tiers as radio buttons, each showing its rate and what this payment would pay at it;
 * returns `{refresh}`, to call when the mempool or the chain moved.
 * @param {PanelContext} context
 */
function mountTiers({ driver }) {
  const box = byId("send-fee");
  let chosen = TIER_DEFAULT;
  /** @type {Map<string, {input: HTMLInputElement, detail: HTMLElement}>} */
  const shown = new Map();
  let rates = new Map();
  const refresh = () => {
    /** @type {import("../protocol.js").Fees} */
    const fees = driver.fees();
    rates = new Map(fees.tiers.map((t) => [t.tier, t.fee_rate_units_per_kb]));
    const amount = byId("send-amount").value.trim();
    for (const tier of fees.tiers) {
      let row = shown.get(tier.tier);
      if (!row) {
        const id = `fee-${tier.tier}`;
        const input = el("input", { type: "radio", name: "fee", id, value: tier.tier, checked: tier.tier === chosen });
        input.addEventListener("change", () => (chosen = tier.tier));
        const detail = el("span");
        box.append(el("div", { className: "tier" }, input, el("label", { htmlFor: id }, el("b", { textContent: TIER_NAMES[tier.tier] ?? tier.tier }), detail)));
        row = { input, detail };
        shown.set(tier.tier, row);
      }
      const perByte = `${(tier.fee_rate_units_per_kb / 1000).toFixed(3).replace(/\.?0+$/, "")} units/byte`;
      let fee = "";
      if (amount !== "") {
        try {
          fee = ` · fee ${driver.paymentFee(amount, tier.fee_rate_units_per_kb)} TAB`;
        } catch {
          fee = ""; // the send button says why, if the user sends
        }
      }
      row.detail.textContent = `${perByte}${fee}`;
      row.input.dataset.rate = String(tier.fee_rate_units_per_kb);
    }
    const next = fees.next_block;
    byId("fee-hint").textContent = next.txs === 0
      ? "The mempool is empty: the minimum gets into the next block."
      : `Next block: ${next.txs} transaction${next.txs === 1 ? "" : "s"} paying ${next.fee_rate_min / 1000}–${next.fee_rate_max / 1000} units/byte` +
        (fees.blocks_projected > 1 ? `; the mempool fills ${fees.blocks_projected >= 7 ? "7 or more" : fees.blocks_projected} blocks.` : ".");
  };
  byId("send-amount").addEventListener("input", refresh);
  refresh();
  return { refresh, rate: () => rates.get(chosen) ?? rates.get("minimum") };
}

/** @param {PanelContext} context */
function mountSend(context) {
  const { driver } = context;
  const tiers = mountTiers(context);
  byId("send").addEventListener("submit", (event) => {
    event.preventDefault();
    const result = byId("send-result");
    try {
      const txid = driver.pay(byId("send-to").value.trim(), byId("send-amount").value.trim(), tiers.rate());
      result.textContent = `sent: ${txid}`;
      driver.log(`payment ${txid.slice(0, 16)}… submitted`);
    } catch (error) {
      result.textContent = `not sent: ${error?.message ?? error}`;
    }
    tiers.refresh();
  });
  return tiers;
}

/** @param {PanelContext} context */
function mountCopy({ driver }) {
  const button = byId("copy-address");
  button.addEventListener("click", () => copyText(driver.status().address, button));
}

/**
 * The key backup; returns `{done}`, whether this key was backed up (in this browser).
 * @param {PanelContext} context
 */
function mountBackup({ wasm, driver, identity, setSeed }) {
  const flag = `tabchain-backed-up-${identity.id}`;
  const done = () => localStorage.getItem(flag) === identity.seed;
  /** Notes that the key `seed` (this tab's, or the one it is being replaced with) is backed up. */
  const markDone = (seed = identity.seed) => {
    localStorage.setItem(flag, seed.toLowerCase());
    byId("backup-reminder").hidden = true;
  };
  const result = byId("backup-result");
  /** Replaces the key and reloads with it, or says why not. A restored key came from a backup. */
  const restore = (readKey) => {
    try {
      const seed = readKey();
      setSeed(seed);
      markDone(seed);
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
    restore(() => wasm.words_to_key(byId("key-words-input").value));
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

// The page's views, read from the tab's own node: the explorer's block, transaction, address
// and mempool pages, the QR code, the block tree, and the layout on a phone. Screenshots of each
// go to the artifacts directory.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Tab, artifacts, withNetwork } from "../support.mjs";

/**
 * Looks `query` up with the search box; returns the explorer page's text once it is redrawn
 * (the page moves to its route on the next `hashchange`), or at once when the search failed.
 * Only for a tab that is not mining: a new tip redraws the page too.
 */
const search = async (tab, query) => {
  await tab.page.evaluate(() => document.getElementById("explorer-page").firstElementChild?.setAttribute("data-drawn-before", ""));
  await tab.page.fill("#search-q", query);
  await tab.page.click("#search button[type=submit]");
  await tab.waitFor(`the page for ${query}`, () =>
    document.getElementById("search-error").textContent !== "" || !document.querySelector("#explorer-page > [data-drawn-before]"));
  return tab.page.locator("#explorer-page").textContent();
};

/** The explorer page's text once its heading starts with `heading`. */
const explorerText = (tab, heading) =>
  tab.waitFor(`the ${heading} page`, (heading) => {
    const page = document.getElementById("explorer-page");
    return page?.querySelector("h3")?.textContent.startsWith(heading) && page.textContent;
  }, heading);

/** Stops the tab's miner and waits until everything it found is stored and at the relay. */
async function holdStill(tab) {
  await tab.setWorkers(0);
  const still = await tab.waitFor("the miner to stop", () => window.tabchain.status().workers === 0 && window.tabchain.pendingWrites === 0 && window.tabchain.status());
  return tab.syncedWithRelay(still.height);
}

test("the explorer pages, QR code and fork view show the tab's own chain", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 1 });
    await tab.waitFor("coins to spend", () => window.tabchain.status().confirmed !== "0");
    const me = await holdStill(tab);
    const shots = artifacts();
    const view = (query) => tab.page.evaluate((query) => window.tabchain.node.search(query).view, query);

    // A payment nobody mines yet: every coin it spends and makes, its size and fee rate, as the
    // node has them.
    const txid = await tab.page.evaluate((to) => window.tabchain.pay(to, "2", 2000), me.address);
    let page = await search(tab, txid);
    const tx = await view(txid);
    assert.ok(page.includes(`Txid${txid}Statusin the mempool, unconfirmed`), page);
    assert.ok(page.includes(`Size${tx.size_bytes} bytes`), page);
    assert.ok(page.includes(`(${Math.round((tx.fee_units * 1000) / tx.size_bytes)} units/kB)`), page);
    for (const input of tx.inputs) assert.ok(page.includes(`${input.spends.amount} TAB`), `input ${input.txid} missing`);
    for (const [n, output] of tx.outputs.entries()) assert.ok(page.includes(`${n}${output.address}${output.amount} TAB`), `output ${n} missing`);
    assert.ok(tx.outputs.some((o) => o.address === me.address && o.amount === "2"), "the payment's output is not in the view");
    await tab.page.locator("#explorer-page").screenshot({ path: join(shots, "explorer-tx.png") });

    // The mempool lists it, and a failed search leaves that page as it was.
    await tab.page.click(".explorer-nav a[href='#mempool']");
    const mempool = await tab.page.evaluate(() => window.tabchain.node.mempool());
    const mempoolText = await explorerText(tab, "Mempool");
    assert.equal(mempool.txs, 1);
    assert.ok(mempoolText.startsWith(`Mempool: 1 transaction, ${mempool.bytes} bytes`), mempoolText);
    assert.ok(mempoolText.includes(txid.slice(0, 16)), "the payment is not listed");
    assert.equal(await search(tab, "f".repeat(64)), mempoolText, "a failed search keeps the page");
    assert.match(await tab.page.locator("#search-error").textContent(), /no block or transaction/);

    await tab.setWorkers(1);
    await tab.waitFor("the payment confirmed", (txid) => window.tabchain.node.search(txid).view.status === "confirmed", txid);
    const status = await holdStill(tab);

    // Block 1 as the tab shows it is block 1 as the relay has it.
    page = await search(tab, "1");
    const atRelay = await (await fetch(`${relay.url}/api/blocks/1`)).json();
    assert.match(page, /^Block 1/);
    for (const [name, value] of [["Hash", atRelay.hash], ["Merkle root", atRelay.merkle_root], ["Nonce", atRelay.nonce], ["Mined by", atRelay.mined_by]]) {
      assert.ok(page.includes(`${name}${value}`), `${name} ${value} is not on the block page`);
    }
    assert.ok(page.includes(`Confirmations${status.height}Previous`), page);
    const pow = await tab.page.locator("#explorer-page .pow").textContent();
    assert.equal(pow.replace(/\s+/g, " "), `hash ${atRelay.hash}target ${atRelay.target}`);
    await tab.page.locator("#explorer-page").screenshot({ path: join(shots, "explorer-block.png") });
    // Links lead on: from the block to its coinbase transaction.
    await tab.page.locator("#explorer-page .txlist a").first().click();
    await tab.waitFor("the coinbase's page", (txid) => document.getElementById("explorer-page").textContent.includes(`Txid${txid}`), atRelay.txids[0]);
    assert.match(await tab.page.locator("#explorer-page").textContent(), /coinbase \(new coins\)/);

    // The address page shows the wallet's balances and the payment.
    page = await search(tab, me.address);
    assert.ok(page.includes(`Address${me.address}Confirmed${status.confirmed} TABImmature${status.immature} TABPending${status.pending} TAB`), page);
    // (Its history lists the newest rows only, which a mining tab fills with coinbases.)
    const history = (await view(me.address)).history;
    assert.equal(await tab.page.locator("#explorer-page tbody tr").count(), history.length);
    for (const row of history) assert.ok(page.includes(`${row.txid.slice(0, 16)}…${row.height ?? "pending"}`), `row ${row.txid} missing`);

    // The recent blocks start at the tip.
    await tab.page.click(".explorer-nav a[href='#']");
    const recent = await explorerText(tab, "Recent blocks");
    assert.ok(recent.includes(`time${status.height}${status.tip.slice(0, 16)}…`), recent);

    // The QR code is drawn; the block tree draws every recent block as a link to its page, the
    // tip (this tab's) rightmost on the active row, marked ★.
    const qr = await tab.page.locator("#address-qr svg path").getAttribute("d");
    assert.ok(qr && qr.length > 100, "no QR code for the address");
    const tree = await tab.page.evaluate(() => window.tabchain.blockTree(5));
    await tab.waitFor("the block tree", (hashes) => hashes.every((h) => document.querySelector(`#forks a[href="#block/${h}"]`)), tree.map((b) => b.hash));
    const tipBlock = tab.page.locator(`#forks a[href="#block/${status.tip}"]`);
    assert.match(await tipBlock.getAttribute("class"), /^block active by-me( new)?$/);
    assert.equal(await tipBlock.locator("text").first().textContent(), "★");
    assert.match(await tipBlock.getAttribute("aria-label"), new RegExp(`^block ${status.height}, mined by this tab, `));
    await tab.page.locator("#forks").screenshot({ path: join(shots, "fork-view.png") });
    await tab.page.screenshot({ path: join(shots, "page.png"), fullPage: true });
    assert.deepEqual(tab.errors, []);

    // A page is addressed by its location: a fresh load of #mempool opens it.
    await tab.page.goto(`${relay.url}/index.html?workers=0#mempool`);
    const reloaded = await explorerText(tab, "Mempool");
    const empty = await tab.page.evaluate(() => window.tabchain.node.mempool());
    assert.ok(reloaded.startsWith(`Mempool: ${empty.txs} transaction${empty.txs === 1 ? "" : "s"}, ${empty.bytes} bytes`), reloaded);
  });
});

test("the page reads on a phone: nothing is wider than the screen", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const phone = { width: 390, height: 844 };
    const tab = await Tab.open(browser, relay, { workers: 1, viewport: phone });
    await tab.waitFor("a few blocks", () => window.tabchain.status().blocks_found >= 3);
    await tab.page.fill("#search-q", "1");
    await tab.page.click("#search button[type=submit]");
    const overflow = await tab.page.evaluate(() => {
      const wide = [...document.querySelectorAll("body *")].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1);
      return { scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5).map((el) => `${el.tagName}#${el.id}.${el.className?.baseVal ?? el.className}`) };
  });
  assert.ok(overflow.scroll <= phone.width, `the page scrolls sideways (${overflow.scroll} px): ${overflow.wide.join(", ")}`);
  await tab.page.screenshot({ path: join(artifacts(), "phone.png"), fullPage: true });
  await tab.page.locator("section[aria-labelledby=wallet-title]").screenshot({ path: join(artifacts(), "phone-wallet.png") });
  });
});

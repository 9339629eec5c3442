// The page's views, read from the tab's own node: the explorer's block, transaction, address
// and mempool pages, the QR code, the fork view, and the layout on a phone. Screenshots of each
// go to the artifacts directory.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Tab, artifacts, withNetwork } from "../support.mjs";

const search = async (tab, query) => {
  await tab.page.fill("#search-q", query);
  await tab.page.click("#search button[type=submit]");
  return tab.page.locator("#explorer-page").textContent();
};

test("the explorer pages, QR code and fork view show the tab's own chain", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 1 });
    await tab.waitFor("coins to spend", () => window.tabchain.status().confirmed !== "0");
    const me = await tab.status();
    const txid = await tab.page.evaluate((to) => window.tabchain.pay(to, "2", 2000), me.address);
    const shots = artifacts();

    let page = await search(tab, txid);
    assert.match(page, /Transaction/);
    assert.match(page, /Fee/);
    assert.match(page, new RegExp(txid));
    await tab.page.locator("#explorer-page").screenshot({ path: join(shots, "explorer-tx.png") });
    await tab.waitFor("the payment confirmed", (txid) => window.tabchain.node.search(txid).view.status === "confirmed", txid);

    page = await search(tab, "1");
    assert.match(page, /Block 1/);
    assert.match(page, /Proof of work/);
    const pow = await tab.page.locator("#explorer-page .pow").textContent();
    assert.match(pow, /hash\s+[0-9a-f]{64}\s*target\s+[0-9a-f]{64}/);
    await tab.page.locator("#explorer-page").screenshot({ path: join(shots, "explorer-block.png") });
    // Links lead on: from the block to its coinbase transaction.
    await tab.page.locator("#explorer-page .txlist a").first().click();
    await tab.waitFor("the coinbase's page", () => document.getElementById("explorer-page").textContent.includes("coinbase"));

    page = await search(tab, me.address);
    assert.match(page, /Address/);
    assert.match(page, /History/);
    await tab.page.goto(`${relay.url}/index.html?workers=0#mempool`);
    await tab.waitFor("the mempool page", () => document.getElementById("explorer-page")?.textContent.includes("Mempool"));
    const mempoolPage = await tab.page.locator("#explorer-page").textContent();
    assert.equal(await search(tab, "f".repeat(64)), mempoolPage, "a failed search keeps the page");
    assert.match(await tab.page.locator("#search-error").textContent(), /no block or transaction/);

    const qr = await tab.page.locator("#address-qr svg path").getAttribute("d");
    assert.ok(qr && qr.length > 100, "no QR code for the address");
    await tab.page.locator("#forks").screenshot({ path: join(shots, "fork-view.png") });
    await tab.page.screenshot({ path: join(shots, "page.png"), fullPage: true });
    assert.deepEqual(tab.errors, []);
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
      return { scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5).map((el) => `${el.tagName}#${el.id}.${el.className}`) };
  });
  assert.ok(overflow.scroll <= phone.width, `the page scrolls sideways (${overflow.scroll} px): ${overflow.wide.join(", ")}`);
  await tab.page.screenshot({ path: join(artifacts(), "phone.png"), fullPage: true });
  await tab.page.locator("section[aria-labelledby=wallet-title]").screenshot({ path: join(artifacts(), "phone-wallet.png") });
  });
});

// The tabs and their relay: after the relay crashes and comes back every tab reconnects and
// converges; a page that cannot reach the relay's API at start-up, or finds it busy, waits and
// starts; and a tab never accepts a block the relay rejects.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Tab, eventually, forgedBlocksPath, withNetwork } from "../support.mjs";

test("the relay is killed and restarted, and all tabs reconnect and converge", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tabs = [await Tab.open(browser, relay, { workers: 1 }), await Tab.open(browser, relay, { workers: 0 })];
    await tabs[0].waitFor("a few blocks", () => window.tabchain.status().blocks_found >= 3);
    await relay.killAndRestart();
    // The miner keeps mining through the outage; everything it found reaches the relay.
    await tabs[0].waitFor("more blocks after the restart", () => window.tabchain.status().blocks_found >= 6);
    await tabs[0].setWorkers(0);
    const minHeight = (await tabs[0].status()).height;
    for (const tab of tabs) {
      const status = await tab.syncedWithRelay(minHeight);
      assert.ok(status.peers > 0);
    }
  });
});

test("a page that cannot reach the relay's API at start-up, then finds it busy, waits and starts", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let asked = 0;
    let noticeSeen;
    const seen = new Promise((resolve) => {
      noticeSeen = resolve;
    });
    await page.route("**/api/status", async (route) => {
      asked += 1;
      if (asked === 1) return route.abort("connectionrefused");
      if (asked === 2) {
        // Held until the test has read the notice the first failure left.
        await seen;
        const body = JSON.stringify({ error: "too many requests from this address; retry in 1 s" });
        return route.fulfill({ status: 429, headers: { "retry-after": "1" }, contentType: "application/json", body });
      }
      return route.continue();
    });
    const tab = new Tab(context, page, relay);
    await page.goto(`${relay.url}/index.html?workers=0`);
    const notice = await tab.waitFor("the retry notice", () => {
      const text = document.getElementById("status").textContent;
      return text.startsWith("cannot reach the relay") && text;
    });
    assert.match(notice, /^cannot reach the relay; trying again (in 1 s|now)$/);
    noticeSeen();
    await tab.waitFor("the node to start", () => window.tabchain?.status() ?? null);
    assert.ok(asked >= 3, `the status was asked ${asked} times`);
    assert.deepEqual(tab.errors, []);
  });
});

test("a tab never accepts a block the relay would reject", async () => {
  const forged = JSON.parse(readFileSync(forgedBlocksPath(), "utf8"));
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 0 });
    await tab.syncedWithRelay();
    assert.equal((await tab.status()).tip, forged.genesis);
    for (const { name, reason, hex } of forged.invalid) {
      const atRelay = await relay.submitBlock(hex);
      assert.equal(atRelay.status, 400, `the relay accepted ${name}`);
      if (reason) assert.match(JSON.stringify(atRelay.body), new RegExp(reason), `the relay's reason for ${name}`);
      const inTab = await tab.page.evaluate((hex) => {
        try {
          return { accepted: window.tabchain.submitBlock(hex) };
        } catch (error) {
          return { refused: String(error?.message ?? error) };
        }
      }, hex);
      assert.ok(inTab.refused, `the tab accepted ${name}`);
      if (reason) assert.match(inTab.refused, new RegExp(reason), `the tab's reason for ${name}`);
      const status = await tab.status();
      assert.equal(status.tip, forged.genesis, `${name} moved the tab's tip`);
      assert.equal((await relay.status()).tip, forged.genesis, `${name} moved the relay's tip`);
    }
    // The same path accepts a valid block, so the refusals above are the rules at work, and the
    // tab's block reaches the relay.
    const hash = await tab.page.evaluate((hex) => window.tabchain.submitBlock(hex), forged.valid.hex);
    assert.equal(hash, forged.valid.hash);
    await eventually("the relay to take the tab's valid block", async () => (await relay.status()).tip === hash);
    assert.deepEqual(tab.errors, []);
  });
});

// Tabs of one browser linked directly (`www/tab-mesh.js`): with the relay gone they keep mining
// together, each tab's blocks reaching the others over `BroadcastChannel`; a tab that sends
// junk is dropped without disturbing the others; and when the relay is back all converge.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Tab, eventually, withNetwork } from "../support.mjs";

const directLinks = (n) => window.tabchain.peers().filter((p) => p.kind === "tab" && p.ready).length === n;

test("tabs of one browser mine together over direct links while the relay is down", async () => {
  await withNetwork(async ({ relay, browser }) => {
    // Each tab starts its mining worker while the relay serves the page's files, then pauses it:
    // a paused worker stays loaded, so the tab can mine again with the relay gone.
    const first = await Tab.open(browser, relay, { workers: 1 });
    const tabs = [first, await Tab.besides(first, { workers: 1 }), await Tab.besides(first, { workers: 1 })];
    await Promise.all(tabs.map((tab) => tab.waitFor("its worker", () => window.tabchain.status().simd !== null)));
    await Promise.all(tabs.map((tab) => tab.setWorkers(0)));
    // Three miners stopped at once may leave rival tips of equal work, each kept where it was
    // seen first: one more block from one tab settles them.
    const before = (await first.status()).blocks_found;
    await first.setWorkers(1);
    await first.waitFor("one more block", (n) => window.tabchain.status().blocks_found > n, before);
    await first.setWorkers(0);
    await Promise.all(tabs.map((tab) => tab.syncedWithRelay()));
    await Promise.all(tabs.map((tab) => tab.waitFor("direct links to the two other tabs", directLinks, 2)));

    await relay.kill();
    await Promise.all(tabs.map((tab) => tab.waitFor("the relay link to close", () => !window.tabchain.status().relay)));
    const startHeight = (await tabs[0].status()).height;
    // One miner at a time, so that there is no fork: each tab's blocks must reach the other two.
    for (const [i, tab] of tabs.entries()) {
      const found = (await tab.status()).blocks_found;
      await tab.setWorkers(1);
      await tab.waitFor(`tab ${i} to find a block`, (n) => window.tabchain.status().blocks_found > n, found);
      await tab.setWorkers(0);
      const tip = await tab.waitFor("its miner to stop", () => window.tabchain.status().workers === 0 && window.tabchain.status().tip);
      await Promise.all(tabs.map((other) => other.waitFor(`tab ${i}'s block in every tab`, (t) => window.tabchain.status().tip === t, tip)));
    }
    const statuses = await Promise.all(tabs.map((tab) => tab.status()));
    assert.ok(statuses.every((s) => s.height >= startHeight + 3 && !s.relay && s.tabs === 2), JSON.stringify(statuses.map((s) => [s.height, s.relay, s.tabs])));
    await tabs[1].waitFor("the page to say the tab still reaches the others", () =>
      /relay is unreachable: blocks and payments still flow directly with 2 tabs of this browser, and/.test(document.getElementById("links").textContent));
    // Tabs of one browser link over the channel only, not over WebRTC as well.
    await Promise.all(tabs.map((tab) => tab.waitFor("no WebRTC link to a tab of its own browser", () => window.tabchain.status().direct === 0)));
    await tabs[1].waitFor("the peers list: two tabs of this browser", () => {
      const rows = [...document.querySelectorAll("#peer-list tr")].map((tr) => tr.textContent);
      return rows.length === 2 && rows.every((row) => row.startsWith("tab in this browser"));
    });

    // A page that sends junk to tab 0 on the channel, as a tab would: tab 0 drops it, and only it.
    const tabId = await tabs[0].page.evaluate(() => window.tabchain.mesh.tabId);
    await tabs[2].page.evaluate((to) => {
      const channel = new BroadcastChannel("tabchain-mesh-regtest");
      channel.postMessage({ kind: "frame", from: "hostile", to, bytes: new Uint8Array([0xff, 0xff, 0xff]) });
    }, tabId);
    await tabs[0].waitFor("the hostile tab dropped", () => [...document.querySelectorAll("#log li")].some((li) => /tab \d+ dropped: undecodable/.test(li.textContent)));
    assert.equal((await tabs[0].status()).tabs, 2, "the two honest tabs stay linked");

    await relay.killAndRestart();
    const tip = statuses[0].tip;
    await eventually("the relay to take the tabs' chain", async () => (await relay.status())?.tip === tip);
    await Promise.all(tabs.map((tab) => tab.waitFor("the relay link back", () => window.tabchain.status().relay)));
  });
});

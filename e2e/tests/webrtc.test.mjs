// Tabs in two browsers (two profiles) link directly over WebRTC, set up through the relay's
// signalling; a third that sends junk down its channels is dropped by both, and dropped by the
// relay when it floods signals, the others unaffected; with the relay killed, a payment from one to the other travels the direct link and
// confirms in both, on one tip. `cargo xtask test` runs this inside a network namespace of its
// own (`xtask/src/netns.rs`: loopback and a veth pair that leads nowhere), so no packet leaves.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Tab, withNetwork } from "../support.mjs";

const hasCoins = () => window.tabchain.status().confirmed !== "0";
/** What a tab's WebRTC mesh holds, and its log, for a failure's message. */
const rtcState = () => ({
  links: [...window.tabchain.rtc.byRemote.values()].map((l) => [l.remote, l.peer, l.pc.connectionState, l.pc.signalingState, l.channel?.readyState]),
  unlinked: [...window.tabchain.rtc.unlinkedUntil.entries()],
  peers: window.tabchain.peers(),
  log: [...document.querySelectorAll("#log li")].map((li) => li.textContent).slice(0, 12),
});
const directlyLinked = () => window.tabchain.peers().some((p) => p.kind === "direct" && p.ready);
/** The explorer's status of transaction `txid` in this tab ("mempool", "confirmed"), null if unknown. */
const txStatus = ([txid, status]) => {
  try {
    return window.tabchain.node.search(txid).view.status === status;
  } catch {
    return false; // not seen yet
  }
};

test("two browsers link over WebRTC and a payment confirms across the link with the relay gone", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const a = await Tab.open(browser, relay, { workers: 1 });
    const b = await Tab.open(browser, relay, { workers: 0 });
    await a.waitFor("A's first mature coins", hasCoins);
    await a.setWorkers(0);
    await Promise.all([a, b].map((tab) => tab.syncedWithRelay()));
    const linked = (tab, what) => tab.waitFor(what, directlyLinked).catch(async (error) => {
      const state = await Promise.all([a, b].map((t) => t.page.evaluate(rtcState)));
      throw new Error(`${error.message}\nA, B: ${JSON.stringify(state)}`);
    });
    await linked(a, "a WebRTC link to B");
    await linked(b, "a WebRTC link to A");

    // A hostile tab links to both, then sends junk down its data channels: each drops it, alone.
    const hostile = await Tab.open(browser, relay, { workers: 0 });
    await hostile.waitFor("links to A and B", () => window.tabchain.status().direct === 2).catch(async (error) => {
      const state = await Promise.all([a, b, hostile].map((tab) => tab.page.evaluate(rtcState)));
      throw new Error(`${error.message}\nA, B, hostile: ${JSON.stringify(state)}`);
    });
    await hostile.page.evaluate(() => {
      for (const link of window.tabchain.rtc.byPeer.values()) link.channel.send(new Uint8Array([0xff, 0xff, 0xff]));
    });
    const droppedJunk = () => [...document.querySelectorAll("#log li")].some((li) => /direct peer \d+ dropped: undecodable/.test(li.textContent));
    await a.waitFor("A to drop the hostile tab", droppedJunk);
    await b.waitFor("B to drop the hostile tab", droppedJunk);
    // Then it floods the relay with signals: the relay drops it; A and B keep their relay link.
    await hostile.page.evaluate(() => {
      // Through the driver's own path for signals, as the page's WebRTC code sends them.
      for (let i = 0; i < 40; i++) window.tabchain.rtc.hooks.signal(424242, new Uint8Array(64));
    });
    await hostile.waitFor("the relay to drop the flooding tab", () => !window.tabchain.status().relay);
    for (const tab of [a, b]) assert.ok((await tab.status()).relay, "the honest tabs keep their relay link");
    await hostile.close();
    await a.waitFor("A still linked to B alone", () => window.tabchain.status().direct === 1);
    await b.waitFor("B still linked to A alone", () => window.tabchain.status().direct === 1);
    await b.waitFor("B's peers list to show the direct link", () =>
      [...document.querySelectorAll("#peer-list tr")].some((tr) => tr.textContent.startsWith("tab elsewhere (WebRTC)")));

    await relay.kill();
    await Promise.all([a, b].map((tab) => tab.waitFor("the relay link to close", () => !window.tabchain.status().relay)));
    const addressB = (await b.status()).address;
    const txid = await a.page.evaluate((to) => window.tabchain.pay(to, "2.5", 2000), addressB);
    await b.waitFor("the payment in B's mempool, over the direct link", txStatus, [txid, "mempool"]);
    const found = (await a.status()).blocks_found;
    await a.setWorkers(1);
    await a.waitFor("A's next block", (n) => window.tabchain.status().blocks_found > n, found);
    await a.setWorkers(0);
    await b.waitFor("the payment confirmed in B", txStatus, [txid, "confirmed"]);
    await b.waitFor("B's balance", () => window.tabchain.status().confirmed === "2.5");
    const tipA = await a.waitFor("A's miner to stop", () => window.tabchain.status().workers === 0 && window.tabchain.status().tip);
    await b.waitFor("one tip", (tip) => window.tabchain.status().tip === tip, tipA);
    assert.match(await b.page.locator("#links").textContent(), /relay is unreachable: blocks and payments still flow directly with 1 tab elsewhere/);
  });
});

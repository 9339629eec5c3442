// Relays finding each other through address gossip: four relays started in a line, each told
// only of the next, end with the first dialling one of the far two, and a block mined by a tab
// on the first relay reaches a tab on the last.

import { test } from "node:test";
import { Relay, Tab, eventually, launchBrowser } from "../support.mjs";

test("four relays in a line find each other and a block from A's tab reaches D's tab", async () => {
  const relays = [];
  const browser = await launchBrowser();
  try {
    // D first, then each new relay peered with the one before: A–B, B–C, C–D.
    for (let i = 0; i < 4; i++) {
      const next = relays[0];
      const args = (port) => ["--public-url", `ws://127.0.0.1:${port}/ws`, ...(next ? ["--peer", next.wsUrl] : [])];
      relays.unshift(await Relay.start(args));
    }
    const [a, , c, d] = relays;
    await eventually("A dialling C or D", async () =>
      (await a.peers()).some((p) => !p.inbound && [c.wsUrl, d.wsUrl].includes(p.addr)));

    const miner = await Tab.open(browser, a, { workers: 1 });
    const watcher = await Tab.open(browser, d, { workers: 0 });
    await miner.waitFor("a block found on A's side", () => window.tabchain.status().blocks_found >= 1);
    await miner.setWorkers(0);
    const tip = await miner.waitFor("the miner to stop", () => window.tabchain.status().workers === 0 && window.tabchain.status().tip);
    await watcher.waitFor("A's tip in D's tab", (t) => window.tabchain.status().tip === t, tip);
  } finally {
    await browser.close();
    for (const relay of relays) await relay.stop();
  }
});

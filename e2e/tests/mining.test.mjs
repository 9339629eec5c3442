// Tabs mining together: several tabs end on one chain, and a fork between two tabs resolves
// to one chain in every tab (the loser's fork view marks where it switched).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Tab, eventually, withNetwork } from "../support.mjs";

/**
 * Stops every tab's miner and waits until all of them, and the relay, share one tip. Tabs that
 * stop on rival tips of equal work would each keep the one they saw first (as in Bitcoin), so
 * the first tab stops a second after the others: its branch then has the most work.
 */
async function converged(relay, tabs) {
  await Promise.all(tabs.slice(1).map((tab) => tab.setWorkers(0)));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await tabs[0].setWorkers(0);
  let seen = "";
  const agreed = await eventually("every tab on the relay's tip", async () => {
    const relayStatus = await relay.status();
    const statuses = await Promise.all(tabs.map((tab) => tab.status()));
    seen = [relayStatus, ...statuses].map((s) => `${s.height} ${s.tip.slice(0, 12)} ${s.state ?? "relay"} peers ${s.peers}`).join("; ");
    return statuses.every((s) => s.tip === relayStatus.tip && s.state === "in sync") ? statuses : null;
  }).catch((error) => {
    throw new Error(`${error.message}; relay and tabs: ${seen}`);
  });
  return agreed;
}

/**
 * Starts recording, in the page, every tip change of `tab`'s node as `{height, reorg_depth,
 * from}`, `from` being the height of the tip it replaced.
 */
async function recordTips(tab) {
  await tab.page.evaluate(() => {
    window.tips = [];
    let height = window.tabchain.status().height;
    window.tabchain.on("tip", (tip) => {
      window.tips.push({ height: tip.height, reorg_depth: tip.reorg_depth, from: height });
      height = tip.height;
    });
  });
}

test("three tabs mine and converge on one tip", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tabs = [];
    for (let i = 0; i < 3; i++) tabs.push(await Tab.open(browser, relay, { workers: 0 }));
    await Promise.all(tabs.map((tab) => tab.syncedWithRelay()));
    await Promise.all(tabs.map(recordTips));
    // All three start at once, on the same tip.
    await Promise.all(tabs.map((tab) => tab.setWorkers(1)));
    await Promise.all(tabs.map((tab) => tab.waitFor("a block found by this tab", () => window.tabchain.status().blocks_found >= 2)));
    const statuses = await converged(relay, tabs);
    assert.equal(new Set(statuses.map((s) => s.tip)).size, 1);
    // Every block a tab mined is still stored, and each one off the agreed chain was taken off
    // by a reorg the tab went through: one that disconnected the blocks from its height up.
    // (Which tab's blocks win is a race; that the losers' blocks left only by reorgs is not.)
    for (const [i, tab] of tabs.entries()) {
      const { tree, tips, found } = await tab.page.evaluate((depth) => ({
        tree: window.tabchain.blockTree(depth),
        tips: window.tips,
        found: window.tabchain.status().blocks_found,
      }), statuses[0].height);
      const mine = tree.filter((b) => b.mine);
      assert.equal(mine.length, found, `tab ${i} found ${found} blocks but holds ${mine.length}`);
      for (const block of mine.filter((b) => !b.active)) {
        const reorg = tips.find((t) => t.reorg_depth > 0 && t.from - t.reorg_depth < block.height && block.height <= t.from);
        assert.ok(reorg, `tab ${i}'s block ${block.height} ${block.hash.slice(0, 12)} is off the agreed chain, yet no reorg of tab ${i} disconnected it`);
      }
    }
  });
});

test("two tabs mining at once fork, and the fork resolves to one chain in every tab", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const a = await Tab.open(browser, relay, { workers: 1 });
    const b = await Tab.open(browser, relay, { workers: 1 });
    await a.waitFor("A's miner", () => window.tabchain.status().blocks_found >= 1);
    await b.waitFor("B's miner", () => window.tabchain.status().blocks_found >= 1);
    // With the relay down the two tabs cannot hear each other: each mines a branch of its own.
    await relay.kill();
    const found = await Promise.all([a, b].map((tab) => tab.status().then((s) => s.blocks_found)));
    await a.waitFor("A's branch", (n) => window.tabchain.status().blocks_found >= n + 2, found[0]);
    await b.waitFor("B's branch", (n) => window.tabchain.status().blocks_found >= n + 2, found[1]);
    await b.setWorkers(0);
    const heightB = await b.waitFor("B's miner to stop", () => window.tabchain.status().workers === 0 && window.tabchain.status().height);
    await a.waitFor("A's branch longer than B's", (h) => window.tabchain.status().height >= h + 3, heightB);
    await a.setWorkers(0);
    const [tipA, tipB] = [(await a.status()).tip, (await b.status()).tip];
    assert.notEqual(tipA, tipB, "the tabs did not fork");

    // The log keeps only its newest lines, and a long winning branch logs many: record every
    // line it shows from here on.
    await b.page.evaluate(() => {
      window.logLines = [];
      new MutationObserver((changes) => {
        for (const change of changes) for (const line of change.addedNodes) window.logLines.push(line.textContent);
      }).observe(document.getElementById("log"), { childList: true });
    });
    await relay.killAndRestart();
    // A's branch has more work: the relay and B take it; B's blocks become a side branch.
    const statuses = await converged(relay, [a, b]);
    assert.equal(statuses[0].tip, statuses[1].tip);
    assert.equal(statuses[1].tip, tipA, "B did not switch to the branch with more work");
    const tree = await b.page.evaluate((depth) => window.tabchain.blockTree(depth), statuses[1].height);
    assert.ok(tree.some((block) => !block.active && block.mine), "B's own blocks are not kept as a side branch");
    assert.ok(tree.some((block) => block.active && block.switched_here > 0), "B's fork view does not mark where it switched");
    const logged = await b.page.evaluate(() => window.logLines);
    assert.ok(logged.some((line) => /reorg of \d+/.test(line)), "B's log never showed the reorg");
  });
});

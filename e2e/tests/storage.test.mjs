// The tab never runs ahead of its store: once an IndexedDB write fails, no later change set is
// written, the miner stops, payments and block submissions are refused with the reason, and
// the page offers to rebuild from peers, which brings the node back with the same wallet. A
// checkpoint is written a record per task with the node's inputs held meanwhile; a block
// submitted while it is being taken starts it again rather than failing the store, and more
// inputs meanwhile than it may hold back put it off.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Tab, forgedBlocksPath, validChainPath, withNetwork } from "../support.mjs";

const STOPPED = /^this tab's node stopped after a storage failure \(test: the disk is full\); rebuild from peers first$/;

test("after a failed write the node stops: no later write, no mining, no payment or block, a rebuild offer", async () => {
  const forged = JSON.parse(readFileSync(forgedBlocksPath(), "utf8"));
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 1 });
    await tab.waitFor("coins to spend", () => window.tabchain.status().confirmed !== "0");
    // From now on every IndexedDB write fails, as on a full disk; count the attempts.
    await tab.page.evaluate(() => {
      window.writesAttempted = 0;
      IDBObjectStore.prototype.add = function () {
        window.writesAttempted += 1;
        throw new DOMException("test: the disk is full", "QuotaExceededError");
      };
    });
    await tab.waitFor("the rebuild offer", () => document.querySelector("#fatal #rebuild") !== null);
    const stopped = await tab.waitFor("the node to stop", () => window.tabchain.status().state === "stopped" && window.tabchain.status());
    assert.equal(stopped.workers, 0, "the miner still runs");
    // What the relay holds by now, it keeps; blocks the tab found and never sent are lost to it.
    const atRelay = await relay.status();
    assert.match(await tab.page.locator("#fatal").textContent(), /Storage failed: test: the disk is full/);
    assert.match(await tab.page.locator("#status").textContent(), /^stopped/);

    // A payment through the form and a valid block (a side branch here) are both refused.
    await tab.page.fill("#send-to", stopped.address);
    await tab.page.fill("#send-amount", "1");
    await tab.page.click("#send button[type=submit]");
    const sent = await tab.page.locator("#send-result").textContent();
    assert.match(sent.replace(/^not sent: /, ""), STOPPED, `the form said: ${sent}`);
    const submitted = await tab.page.evaluate((hex) => {
      try {
        return { accepted: window.tabchain.submitBlock(hex) };
      } catch (error) {
        return { refused: String(error?.message ?? error) };
      }
    }, forged.valid.hex);
    assert.match(submitted.refused ?? `accepted ${submitted.accepted}`, STOPPED);

    // Nothing moves and nothing more is written: the failed write was the last one tried.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await tab.page.evaluate(() => ({ status: window.tabchain.status(), writes: window.writesAttempted }));
    assert.equal(after.writes, 1, "writes were attempted after the failed one");
    assert.equal(after.status.height, stopped.height);
    assert.equal(after.status.tip, stopped.tip);
    assert.equal(after.status.blocks_found, stopped.blocks_found);
    assert.equal(after.status.mempool_txs, stopped.mempool_txs);

    // Rebuilding drops the store and syncs again from the relay (all the relay has), with the
    // same wallet.
    await Promise.all([tab.page.waitForEvent("load"), tab.page.click("#rebuild")]);
    await tab.waitFor("the rebuilt node", () => window.tabchain?.status() ?? null);
    assert.equal(await tab.page.evaluate(() => window.tabchain.restoredHeight), 0);
    await tab.setWorkers(0);
    const rebuilt = await tab.syncedWithRelay();
    assert.equal(rebuilt.address, stopped.address);
    assert.ok(rebuilt.height >= atRelay.height, `rebuilt to ${rebuilt.height}, the relay had ${atRelay.height}`);
  });
});

/** A tab, not mining, synced to `blocks` (given to the relay first), each change set stored. */
async function storedTab(relay, browser, blocks) {
  for (const hex of blocks) assert.equal((await relay.submitBlock(hex)).status, 200);
  const tab = await Tab.open(browser, relay, { workers: 0 });
  await tab.syncedWithRelay(blocks.length);
  await tab.waitFor("every change set stored", () => window.tabchain.pendingWrites === 0);
  return tab;
}

test("a checkpoint spans several tasks; a block submitted while it is taken starts it again, and the reload finds that block", async () => {
  const chain = JSON.parse(readFileSync(validChainPath(), "utf8"));
  const height = 20;
  await withNetwork(async ({ relay, browser }) => {
    const tab = await storedTab(relay, browser, chain.slice(0, height));
    // In one task: the checkpoint begins (its first record is stored, the rest follow in later
    // tasks), and a block comes through the one input that answers at once.
    const during = await tab.page.evaluate((hex) => {
      const driver = window.tabchain;
      driver.requestCheckpoint();
      const holding = driver.held !== null;
      return { holding, hash: driver.submitBlock(hex) };
    }, chain[height]);
    assert.equal(during.holding, true, "the checkpoint was taken within one task");
    assert.match(during.hash, /^[0-9a-f]{64}$/);
    await tab.waitFor("the checkpoint", () => window.tabchain.checkpoints === 1 && window.tabchain.pendingWrites === 0 && window.tabchain.held === null);
    const after = await tab.page.evaluate(() => ({ restarts: window.tabchain.checkpointRestarts, stopped: window.tabchain.stoppedBy, status: window.tabchain.status() }));
    assert.equal(after.restarts, 1);
    assert.equal(after.stopped, null);
    assert.equal(after.status.height, height + 1);
    assert.equal(after.status.tip, during.hash);
    assert.match(await tab.page.locator("#log").textContent(), /checkpoint started again: a block came while it was being taken/);

    // The stored checkpoint is of the chain with that block, and the journal is empty.
    await tab.load(0);
    assert.equal(await tab.page.evaluate(() => window.tabchain.restoredHeight), height + 1);
    assert.equal((await tab.status()).tip, during.hash);
    assert.match(await tab.page.locator("#log").textContent(), /resumed from \d+ checkpoint records and 0 change sets/);
    assert.deepEqual(tab.errors, []);
  });
});

test("a checkpoint holds back a bounded number of inputs: a flood while it is taken puts it off, and it is taken once they are handled", async () => {
  const chain = JSON.parse(readFileSync(validChainPath(), "utf8"));
  const height = 20;
  // `CHECKPOINT_HELD_INPUTS_MAX` in node.js, and one more.
  const flood = 4096 + 1;
  await withNetwork(async ({ relay, browser }) => {
    const tab = await storedTab(relay, browser, chain.slice(0, height));
    // In one task: the checkpoint begins, and the relay's socket delivers a flood of messages
    // (each an empty `headers`: tag 7, no headers), which the checkpoint holds back.
    const during = await tab.page.evaluate((n) => {
      const driver = window.tabchain;
      driver.requestCheckpoint();
      const holding = driver.held !== null;
      const frame = new Uint8Array([7, 0]).buffer;
      for (let i = 0; i < n; i++) driver.socket.onmessage(new MessageEvent("message", { data: frame }));
      return { holding, held: driver.held?.length };
    }, flood);
    assert.equal(during.holding, true, "the checkpoint was taken within one task");
    assert.equal(during.held, flood, "held until the one past the cap");
    await tab.waitFor("the checkpoint", () => window.tabchain.checkpoints === 1 && window.tabchain.pendingWrites === 0 && window.tabchain.held === null);
    const after = await tab.page.evaluate(() => ({ putOff: window.tabchain.checkpointsPutOff, restarts: window.tabchain.checkpointRestarts, stopped: window.tabchain.stoppedBy, status: window.tabchain.status() }));
    assert.deepEqual([after.putOff, after.restarts, after.stopped], [1, 0, null]);
    assert.equal(after.status.height, height);
    assert.match(await tab.page.locator("#log").textContent(), /checkpoint put off: 4097 inputs, 0\.0 MiB of messages, came while it was being taken/);

    // What was stored is the checkpoint taken afterwards: a reload resumes from it alone.
    await tab.load(0);
    assert.equal(await tab.page.evaluate(() => window.tabchain.restoredHeight), height);
    assert.match(await tab.page.locator("#log").textContent(), /resumed from \d+ checkpoint records and 0 change sets/);
    assert.deepEqual(tab.errors, []);
  });
});
